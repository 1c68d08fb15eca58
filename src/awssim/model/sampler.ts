// Once per simulated second: the timeline point, the CloudWatch samples and the attribute history
// that lagged GetQueueAttributes answers read. Also the run's counters that feed them.

import type { Rng } from '../engine/rng.ts';
import type { Account } from './account.ts';
import {
  CloudWatchView,
  emptyAggregate,
  type LambdaMetricName,
  type Publication,
  type SeriesKey,
  type SqsMetricName,
} from './cloudwatch.ts';
import type { SimFunction } from './lambda.ts';
import type { TimelinePoint } from './metrics.ts';
import type { ModelParams } from './params.ts';
import type { SimQueue } from './queue.ts';

/** Counters of one second (reset by the sampler) and of the whole run. */
export interface EventCounts {
  arrivals: number;
  deleted: number;
  invocations: number;
  throttles: number;
  errors: number;
  coldStarts: number;
  dlqMoves: number;
}

const zero = (): EventCounts => ({
  arrivals: 0,
  deleted: 0,
  invocations: 0,
  throttles: 0,
  errors: 0,
  coldStarts: 0,
  dlqMoves: 0,
});

/** Events counted per second and over the run. */
export class EventCounter {
  #second = zero();
  readonly #run = zero();

  /** Adds `n` events of one kind. */
  add(kind: keyof EventCounts, n = 1): void {
    this.#second[kind] += n;
    this.#run[kind] += n;
  }
  /** Totals since the start. */
  get run(): Readonly<EventCounts> {
    return this.#run;
  }
  /** The current second's counts, and a fresh second. */
  takeSecond(): EventCounts {
    const s = this.#second;
    this.#second = zero();
    return s;
  }
}

type Counts3 = [visible: number, inFlight: number, delayed: number];

/** Exact queue counts per second, kept as long as the attribute lag needs them. */
export class AttributeHistory {
  readonly #byQueue = new Map<string, { at: number; counts: Counts3 }[]>();
  readonly #lagMs: number;

  constructor(lagMs: number) {
    this.#lagMs = lagMs;
  }

  record(q: SimQueue, now: number): void {
    if (this.#lagMs <= 0) return;
    const snaps = this.#byQueue.get(q.name) ?? [];
    snaps.push({ at: now, counts: [q.visible, q.inFlight, q.delayed.length] });
    const keep = Math.ceil(this.#lagMs / 1000) + 2;
    if (snaps.length > keep) snaps.splice(0, snaps.length - keep);
    this.#byQueue.set(q.name, snaps);
  }

  /** The counts `lagMs` ago (the oldest kept when the history is shorter), or `current`. */
  lagged(q: SimQueue, now: number, current: Counts3): Counts3 {
    if (this.#lagMs <= 0) return current;
    const snaps = this.#byQueue.get(q.name) ?? [];
    const want = now - this.#lagMs;
    let v = snaps[0]?.counts ?? current;
    for (let i = snaps.length - 1; i >= 0; i--) {
      const s = snaps[i] as { at: number; counts: Counts3 };
      if (s.at <= want) {
        v = s.counts;
        break;
      }
    }
    return v;
  }
}

/** What the sampler reads besides the account. */
export interface SamplerInputs {
  /** Sum of the target concurrency of enabled mappings. */
  pollers(): number;
}

/** The per-second sampler: timeline, CloudWatch view, attribute history. */
export class Sampler {
  readonly #timeline: TimelinePoint[] = [];
  readonly cloudWatch = new CloudWatchView();
  readonly attributes: AttributeHistory;
  readonly #account: Account;
  readonly #params: ModelParams;
  readonly #counter: EventCounter;
  readonly #publishRng: Rng;
  readonly #inputs: SamplerInputs;
  /** Per queue: [sent, received, deleted] totals at the previous sample. */
  readonly #previousQueueTotals = new Map<string, [number, number, number]>();
  /** Per function: [invocations, errors, throttles] totals at the previous sample. */
  readonly #previousFunctionTotals = new Map<string, [number, number, number]>();
  /** Per queue: the last second it was active (sent, visible, in flight or delayed), epoch ms. */
  readonly #lastActiveAt = new Map<string, number>();
  /** Per queue: when it last woke after `cloudWatchIdleMs` idle, epoch ms. */
  readonly #wokeAt = new Map<string, number>();
  readonly #publication: Publication;

  constructor(
    account: Account,
    params: ModelParams,
    counter: EventCounter,
    publishRng: Rng,
    inputs: SamplerInputs,
  ) {
    this.#account = account;
    this.#params = params;
    this.#counter = counter;
    this.#publishRng = publishRng;
    this.#inputs = inputs;
    this.attributes = new AttributeHistory(params.attributeLagMs);
    this.#publication = {
      delayMs: () => this.#publishRng.uniform(params.cloudWatchDelayMs.min, params.cloudWatchDelayMs.max),
      // AWS: after 6 idle hours a queue's metrics can be up to 15 minutes late. The minutes of the
      // first `cloudWatchWakeDelayMs` after a wake are held back until that long after they end.
      notBefore: (key, minute) => {
        if (key.namespace !== 'AWS/SQS') return 0;
        const woke = this.#wokeAt.get(key.dimension.value);
        if (woke === undefined || woke > minute + 60_000 || minute >= woke + params.cloudWatchWakeDelayMs)
          return 0;
        return minute + 60_000 + params.cloudWatchWakeDelayMs;
      },
    };
  }

  /** One point per simulated second so far. */
  get timeline(): readonly TimelinePoint[] {
    return this.#timeline;
  }

  /** Samples second `k` (ending at `now`); closes the CloudWatch minute on each full minute. */
  sample(k: number, now: number): void {
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    let dlqDepth = 0;
    const queues = [...this.#account.queuesByName.values()];
    const dlqs = new Set<string>();
    for (const q of queues) {
      const r = q.redrive;
      if (r) dlqs.add(r.deadLetterTargetArn);
    }
    for (const q of queues) {
      q.promote(now);
      if (dlqs.has(q.arn)) dlqDepth += q.visible + q.inFlight + q.delayed.length;
      else {
        visible += q.visible;
        inFlight += q.inFlight;
        delayed += q.delayed.length;
      }
      this.#sampleQueue(q, now);
      this.attributes.record(q, now);
    }
    let concurrency = 0;
    let reserved = 0;
    for (const f of this.#account.functionsByName.values()) {
      concurrency += f.running;
      if (f.reserved !== undefined) reserved += f.reserved;
      this.#sampleFunction(f);
    }
    this.#timeline.push({
      t: k,
      visible,
      inFlight,
      delayed,
      dlqDepth,
      concurrency,
      reserved,
      pollers: this.#inputs.pollers(),
      ...this.#counter.takeSecond(),
    });
    if (k % 60 === 0) this.cloudWatch.closeMinute(now - 60_000, this.#publication);
  }

  #sampleQueue(q: SimQueue, now: number): void {
    const oldest = q.oldestVisibleSentAt();
    const prev = this.#previousQueueTotals.get(q.name) ?? [0, 0, 0];
    const sent = q.sentTotal - prev[0];
    const values = {
      NumberOfMessagesSent: sent,
      NumberOfMessagesReceived: q.receivedTotal - prev[1],
      NumberOfMessagesDeleted: q.deletedTotal - prev[2],
      ApproximateNumberOfMessagesVisible: q.visible,
      ApproximateNumberOfMessagesNotVisible: q.inFlight,
      ApproximateNumberOfMessagesDelayed: q.delayed.length,
      ApproximateAgeOfOldestMessage: oldest === undefined ? 0 : Math.floor((now - oldest) / 1000),
    } satisfies Record<SqsMetricName, number>;
    for (const [metric, v] of Object.entries(values))
      this.cloudWatch.add(series('AWS/SQS', metric, 'QueueName', q.name), v);
    this.#previousQueueTotals.set(q.name, [q.sentTotal, q.receivedTotal, q.deletedTotal]);
    if (sent > 0 || q.visible > 0 || q.inFlight > 0 || q.delayed.length > 0) {
      const last = this.#lastActiveAt.get(q.name) ?? q.createdAt;
      if (now - last >= this.#params.cloudWatchIdleMs) this.#wokeAt.set(q.name, now);
      this.#lastActiveAt.set(q.name, now);
    }
  }

  #sampleFunction(f: SimFunction): void {
    const prev = this.#previousFunctionTotals.get(f.name) ?? [0, 0, 0];
    const values = {
      Invocations: f.invocations - prev[0],
      Errors: f.errors - prev[1],
      Throttles: f.throttles - prev[2],
      ConcurrentExecutions: f.running,
    } satisfies Omit<Record<LambdaMetricName, number>, 'Duration'>;
    for (const [metric, v] of Object.entries(values))
      this.cloudWatch.add(series('AWS/Lambda', metric, 'FunctionName', f.name), v);
    if (f.durations.n > 0) {
      this.cloudWatch.add(series('AWS/Lambda', 'Duration', 'FunctionName', f.name), f.durations);
      f.durations = emptyAggregate();
    }
    this.#previousFunctionTotals.set(f.name, [f.invocations, f.errors, f.throttles]);
  }
}

/** The series of one metric of one queue or function. */
export const series = (
  namespace: SeriesKey['namespace'],
  metric: string,
  name: SeriesKey['dimension']['name'],
  value: string,
): SeriesKey => ({ namespace, metric, dimension: { name, value } });
