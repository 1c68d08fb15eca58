// The operator's CloudWatch client: a queue's backlog (and, where a policy wants it, the function's
// own metrics) from AWS/SQS and AWS/Lambda one-minute datapoints, read with one GetMetricData call
// through the same instrumented, classified, counted path as every other AWS call (sdk.ts).
import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import type { CloudWatchPort, QueueMetrics } from './ports.ts';
import { type CallDeps, instrumented } from './sdk.ts';

/** One one-minute datapoint of the visible count: start of its minute (epoch ms) and its value. */
export interface VisibleDatapoint {
  timestamp: number;
  value: number;
}

/**
 * A queue's backlog as CloudWatch publishes it: each count is the newest published one-minute
 * Average (minutes old), and `datapoints` is the visible series of the window, oldest first, for
 * policies that combine it themselves (`metrics.source: CloudWatch`).
 */
export interface CloudWatchQueueMetrics extends QueueMetrics {
  datapoints: VisibleDatapoint[];
  /** Start of the newest published minute, epoch ms; undefined when nothing is published yet. */
  newestMinute: number | undefined;
}

/** What the function itself reports, over the window (undefined where nothing is published). */
export interface FunctionCloudWatchMetrics {
  /** Highest ConcurrentExecutions in the newest published minute. */
  concurrentExecutions: number | undefined;
  /** Invocations, Throttles and Errors summed over the window. */
  invocations: number;
  throttles: number;
  errors: number;
  /** Average Duration over the window, ms. */
  durationMs: number | undefined;
  observedAt: number;
}

/** A function's mean Duration as CloudWatch has published it (functionDuration). */
export interface FunctionDuration {
  /** Mean Duration per invocation, ms; undefined when no invocation is published in the window. */
  durationMs: number | undefined;
  /** Start of the period the mean is over, epoch ms. */
  periodStart: number | undefined;
  observedAt: number;
}

/** A queue name from its name, URL or ARN (CloudWatch's QueueName dimension). */
export function queueNameOf(nameUrlOrArn: string): string {
  const trimmed = nameUrlOrArn.replace(/\/+$/, '');
  return trimmed.split(/[/:]/).at(-1) ?? trimmed;
}

const MINUTE = 60_000;

/** Reads queue and function metrics from CloudWatch (one GetMetricData call each). */
export class CloudWatchMetricsReader implements CloudWatchPort {
  readonly #cloudWatch: CloudWatchClient;
  readonly #deps: CallDeps & { now: () => number };
  readonly #windowSeconds: number;

  /**
   * `windowSeconds`: how far back to read (default 300, the original operator's window; CloudWatch
   * publishes each minute one to two minutes late, up to 15 after a queue idled for 6 hours).
   */
  constructor(cloudWatch: CloudWatchClient, deps: CallDeps & { now: () => number; windowSeconds?: number }) {
    this.#cloudWatch = cloudWatch;
    this.#deps = deps;
    this.#windowSeconds = deps.windowSeconds ?? 300;
  }

  async #read(
    queries: { id: string; namespace: string; metric: string; dimension: [string, string]; stat: string }[],
    signal: AbortSignal | undefined,
    periodSeconds = 60,
  ): Promise<{ at: number; byId: Map<string, MetricDataResult> }> {
    const at = this.#deps.now();
    // The last full window of minutes, and the minute in progress (never published before it ends).
    const start = Math.floor((at - this.#windowSeconds * 1000) / MINUTE) * MINUTE;
    const out = await instrumented(
      this.#deps,
      'cloudwatch',
      'GetMetricData',
      (abortSignal) =>
        this.#cloudWatch.send(
          new GetMetricDataCommand({
            StartTime: new Date(start),
            EndTime: new Date(at),
            ScanBy: 'TimestampAscending',
            MetricDataQueries: queries.map((q) => ({
              Id: q.id,
              MetricStat: {
                Metric: {
                  Namespace: q.namespace,
                  MetricName: q.metric,
                  Dimensions: [{ Name: q.dimension[0], Value: q.dimension[1] }],
                },
                Period: periodSeconds,
                Stat: q.stat,
              },
            })),
          }),
          { abortSignal },
        ),
      undefined,
      signal,
    );
    const byId = new Map<string, MetricDataResult>();
    for (const r of out.MetricDataResults ?? []) if (r.Id !== undefined) byId.set(r.Id, r);
    return { at, byId };
  }

  /**
   * The queue's backlog from AWS/SQS ApproximateNumberOfMessagesVisible, NotVisible and Delayed.
   * Accepts the queue's name, URL or ARN. Throws a classified `AwsError` (errors.ts).
   */
  async queueMetrics(queue: string, signal?: AbortSignal): Promise<CloudWatchQueueMetrics> {
    const name = queueNameOf(queue);
    const q = (id: string, metric: string) => ({
      id,
      namespace: 'AWS/SQS',
      metric,
      dimension: ['QueueName', name] as [string, string],
      stat: 'Average',
    });
    const { at, byId } = await this.#read(
      [
        q('visible', 'ApproximateNumberOfMessagesVisible'),
        q('inFlight', 'ApproximateNumberOfMessagesNotVisible'),
        q('delayed', 'ApproximateNumberOfMessagesDelayed'),
      ],
      signal,
    );
    const series = (id: string) => {
      const r = byId.get(id);
      const stamps = r?.Timestamps ?? [];
      return stamps
        .map((t, i) => ({ timestamp: t.getTime(), value: Number(r?.Values?.[i] ?? 0) }))
        .sort((a, b) => a.timestamp - b.timestamp);
    };
    const visible = series('visible');
    const newest = (id: string) => Math.round(series(id).at(-1)?.value ?? 0);
    return {
      visible: Math.round(visible.at(-1)?.value ?? 0),
      inFlight: newest('inFlight'),
      delayed: newest('delayed'),
      observedAt: at,
      datapoints: visible,
      newestMinute: visible.at(-1)?.timestamp,
    };
  }

  /**
   * The function's mean invocation Duration over the window: one query of the Average with a period
   * as long as the window, so CloudWatch weighs every invocation published in it alike (a busy
   * minute more than a quiet one) and one metric is billed ($0.01 per 1,000 reads). Undefined while
   * nothing is published, as for a function nothing invoked lately.
   */
  async functionDuration(functionName: string, signal?: AbortSignal): Promise<FunctionDuration> {
    const { at, byId } = await this.#read(
      [
        {
          id: 'duration',
          namespace: 'AWS/Lambda',
          metric: 'Duration',
          dimension: ['FunctionName', functionName],
          stat: 'Average',
        },
      ],
      signal,
      this.#windowSeconds,
    );
    const r = byId.get('duration');
    let newest: { t: number; v: number } | undefined;
    (r?.Timestamps ?? []).forEach((t, i) => {
      const v = Number(r?.Values?.[i]);
      if (Number.isFinite(v) && v > 0 && (newest === undefined || t.getTime() > newest.t))
        newest = { t: t.getTime(), v };
    });
    return { durationMs: newest?.v, periodStart: newest?.t, observedAt: at };
  }

  /** The function's own AWS/Lambda metrics over the window. */
  async functionMetrics(functionName: string, signal?: AbortSignal): Promise<FunctionCloudWatchMetrics> {
    const f = (id: string, metric: string, stat: string) => ({
      id,
      namespace: 'AWS/Lambda',
      metric,
      dimension: ['FunctionName', functionName] as [string, string],
      stat,
    });
    const { at, byId } = await this.#read(
      [
        f('concurrent', 'ConcurrentExecutions', 'Maximum'),
        f('invocations', 'Invocations', 'Sum'),
        f('throttles', 'Throttles', 'Sum'),
        f('errors', 'Errors', 'Sum'),
        f('durationSum', 'Duration', 'Sum'),
        f('durationCount', 'Duration', 'SampleCount'),
      ],
      signal,
    );
    const values = (id: string) => (byId.get(id)?.Values ?? []).map(Number);
    const total = (id: string) => values(id).reduce((a, b) => a + b, 0);
    const concurrent = byId.get('concurrent');
    const newestAt = (concurrent?.Timestamps ?? []).reduce(
      (best, t, i) => (best === undefined || t.getTime() > best.t ? { t: t.getTime(), i } : best),
      undefined as { t: number; i: number } | undefined,
    );
    const count = total('durationCount');
    return {
      concurrentExecutions: newestAt === undefined ? undefined : Number(concurrent?.Values?.[newestAt.i]),
      invocations: total('invocations'),
      throttles: total('throttles'),
      errors: total('errors'),
      durationMs: count > 0 ? total('durationSum') / count : undefined,
      observedAt: at,
    };
  }
}
