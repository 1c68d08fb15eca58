// CloudWatch as the simulated account publishes it: AWS/SQS metrics per queue and AWS/Lambda metrics
// per function in one-minute datapoints that become readable one to two minutes after their minute
// ends (15 minutes after a queue wakes from 6 idle hours), and GetMetricData/GetMetricStatistics
// over them in the model's terms (epoch ms; the wire layer speaks the protocols).

import { AwsApiError } from './errors.ts';

/** The AWS/SQS metric names served (dimension QueueName). */
export const sqsMetricNames = [
  'NumberOfMessagesSent',
  'NumberOfMessagesReceived',
  'NumberOfMessagesDeleted',
  'ApproximateNumberOfMessagesVisible',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'ApproximateAgeOfOldestMessage',
] as const;

/** One of the AWS/SQS metric names. */
export type SqsMetricName = (typeof sqsMetricNames)[number];

/** The AWS/Lambda metric names served (dimension FunctionName). */
export const lambdaMetricNames = [
  'Invocations',
  'Errors',
  'Throttles',
  'ConcurrentExecutions',
  'Duration',
] as const;

/** One of the AWS/Lambda metric names. */
export type LambdaMetricName = (typeof lambdaMetricNames)[number];

/** Where a series lives: namespace, metric and its one dimension. */
export interface SeriesKey {
  readonly namespace: 'AWS/SQS' | 'AWS/Lambda';
  readonly metric: string;
  readonly dimension: { readonly name: 'QueueName' | 'FunctionName'; readonly value: string };
}

/** A published datapoint (one minute, or a longer period when read with one). */
export interface Datapoint {
  /** Start of the period, epoch ms. */
  readonly timestamp: number;
  readonly sum: number;
  readonly average: number;
  readonly maximum: number;
  readonly minimum: number;
  readonly sampleCount: number;
  /** When the (last minute of the) datapoint became readable, epoch ms. */
  readonly publishedAt: number;
}

/** The statistics served. */
export const statistics = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'] as const;
export type Statistic = (typeof statistics)[number];

/** Unit CloudWatch reports for a metric. */
export function unitOf(metric: string): 'Count' | 'Seconds' | 'Milliseconds' {
  if (metric === 'ApproximateAgeOfOldestMessage') return 'Seconds';
  if (metric === 'Duration') return 'Milliseconds';
  return 'Count';
}

/** Counters report their per-minute sum as the average too (one sample per minute). */
const isCounter = (metric: string): boolean =>
  metric.startsWith('NumberOf') || metric === 'Invocations' || metric === 'Errors' || metric === 'Throttles';

/** An aggregate of samples. */
export interface Aggregate {
  sum: number;
  max: number;
  min: number;
  n: number;
}
export const emptyAggregate = (): Aggregate => ({
  sum: 0,
  max: Number.NEGATIVE_INFINITY,
  min: Number.POSITIVE_INFINITY,
  n: 0,
});

const keyOf = (k: SeriesKey): string => `${k.namespace}|${k.metric}|${k.dimension.name}|${k.dimension.value}`;

/** When datapoints become readable. */
export interface Publication {
  /** Delay after a minute ends (AWS: 1–2 minutes), drawn per series and minute. */
  delayMs(): number;
  /** For the datapoint of `minute` of `series`: the earliest it may be published (wake-up lateness), or 0. */
  notBefore(series: SeriesKey, minute: number): number;
}

/** The metric store: open minutes fed by the sampler, published minutes read by the API. */
export class CloudWatchView {
  readonly #open = new Map<string, { key: SeriesKey; acc: Aggregate }>();
  readonly #published = new Map<string, Datapoint[]>();

  /** Adds one sample (or an aggregate of several) to the open minute of a series. */
  add(key: SeriesKey, value: number | Aggregate): void {
    const k = keyOf(key);
    let o = this.#open.get(k);
    if (!o) {
      o = { key, acc: emptyAggregate() };
      this.#open.set(k, o);
    }
    const a = o.acc;
    if (typeof value === 'number') {
      a.sum += value;
      a.n++;
      if (value > a.max) a.max = value;
      if (value < a.min) a.min = value;
    } else if (value.n > 0) {
      a.sum += value.sum;
      a.n += value.n;
      if (value.max > a.max) a.max = value.max;
      if (value.min < a.min) a.min = value.min;
    }
  }

  /** Closes the minute starting at `minute`: every series with samples gets a datapoint. */
  closeMinute(minute: number, publication: Publication): void {
    for (const [k, o] of this.#open) {
      const a = o.acc;
      if (a.n === 0) continue;
      const counter = isCounter(o.key.metric);
      const normal = minute + 60_000 + publication.delayMs();
      const list = this.#published.get(k) ?? [];
      list.push({
        timestamp: minute,
        sum: a.sum,
        average: counter ? a.sum : a.sum / a.n,
        maximum: a.max,
        minimum: a.min,
        sampleCount: a.n,
        publishedAt: Math.max(normal, publication.notBefore(o.key, minute)),
      });
      this.#published.set(k, list);
    }
    this.#open.clear();
  }

  /** One-minute datapoints of a series published by `now`, with timestamps in [start, end). */
  read(key: SeriesKey, now: number, start = 0, end = Number.POSITIVE_INFINITY): Datapoint[] {
    const list = this.#published.get(keyOf(key)) ?? [];
    return list.filter((d) => d.publishedAt <= now && d.timestamp >= start && d.timestamp < end);
  }

  /** Datapoints over `periodMs` buckets (multiples of a minute, aligned to `start`), ascending. */
  readPeriods(key: SeriesKey, now: number, start: number, end: number, periodMs: number): Datapoint[] {
    const counter = isCounter(key.metric);
    const buckets = new Map<number, { acc: Aggregate; publishedAt: number }>();
    for (const d of this.read(key, now, start, end)) {
      const at = start + Math.floor((d.timestamp - start) / periodMs) * periodMs;
      let b = buckets.get(at);
      if (!b) {
        b = { acc: emptyAggregate(), publishedAt: 0 };
        buckets.set(at, b);
      }
      b.acc.sum += d.sum;
      b.acc.n += d.sampleCount;
      b.acc.max = Math.max(b.acc.max, d.maximum);
      b.acc.min = Math.min(b.acc.min, d.minimum);
      b.publishedAt = Math.max(b.publishedAt, d.publishedAt);
    }
    return [...buckets]
      .sort(([a], [b]) => a - b)
      .map(([timestamp, { acc, publishedAt }]) => ({
        timestamp,
        sum: acc.sum,
        average: counter ? acc.sum : acc.sum / acc.n,
        maximum: acc.max,
        minimum: acc.min,
        sampleCount: acc.n,
        publishedAt,
      }));
  }
}

/** The value of one statistic of a datapoint. */
export function statisticOf(d: Datapoint, s: Statistic): number {
  switch (s) {
    case 'SampleCount':
      return d.sampleCount;
    case 'Average':
      return d.average;
    case 'Sum':
      return d.sum;
    case 'Minimum':
      return d.minimum;
    case 'Maximum':
      return d.maximum;
  }
}

/** CloudWatch's errors (codes and statuses from the CloudWatch API model). */
export const cloudWatchErrors = {
  invalidParameterValue: (message: string) => new AwsApiError('InvalidParameterValueException', 400, message),
  missingParameter: (name: string) =>
    new AwsApiError('MissingRequiredParameterException', 400, `The parameter ${name} is required.`),
  invalidParameterCombination: (message: string) =>
    new AwsApiError('InvalidParameterCombinationException', 400, message),
  invalidAction: (action: string) =>
    new AwsApiError('InvalidAction', 400, `Could not find operation ${action} for version 2010-08-01`),
  throttled: () => new AwsApiError('Throttling', 400, 'Rate exceeded'),
  internal: () =>
    new AwsApiError('InternalServiceFault', 500, 'An internal error occurred (simulated fault).'),
} as const;

/** The query codes (`awsQueryError`) of CloudWatch's error shapes, for awsQuery and query-compatible JSON. */
export const CLOUDWATCH_QUERY_CODES: Record<string, string> = {
  InvalidParameterValueException: 'InvalidParameterValue',
  MissingRequiredParameterException: 'MissingParameter',
  InvalidParameterCombinationException: 'InvalidParameterCombination',
  InternalServiceFault: 'InternalServiceError',
  InvalidNextToken: 'InvalidNextToken',
};

/** A GetMetricData query in model terms. */
export interface MetricDataQuery {
  readonly id: string;
  readonly label?: string;
  readonly returnData?: boolean;
  readonly expression?: string;
  readonly metricStat?: {
    readonly namespace?: string;
    readonly metricName?: string;
    readonly dimensions: readonly { readonly name: string; readonly value: string }[];
    readonly period?: number;
    readonly stat?: string;
  };
}

/** One GetMetricData result. */
export interface MetricDataResult {
  readonly id: string;
  readonly label: string;
  readonly timestamps: number[];
  readonly values: number[];
  readonly statusCode: 'Complete';
}

const checkTimes = (start: number | undefined, end: number | undefined): { start: number; end: number } => {
  if (start === undefined || !Number.isFinite(start)) throw cloudWatchErrors.missingParameter('StartTime');
  if (end === undefined || !Number.isFinite(end)) throw cloudWatchErrors.missingParameter('EndTime');
  if (end <= start)
    throw cloudWatchErrors.invalidParameterValue(
      'The parameter StartTime must be less than the parameter EndTime.',
    );
  return { start, end };
};

/** "Start time less than 15 days ago - Round down to the nearest whole minute" (GetMetricData). */
const alignedToMinute = (t: { start: number; end: number }): { start: number; end: number } => ({
  start: Math.floor(t.start / 60_000) * 60_000,
  end: t.end,
});

const checkPeriod = (period: number | undefined, name: string): number => {
  if (period === undefined) throw cloudWatchErrors.missingParameter(name);
  if (!Number.isInteger(period) || period < 1)
    throw cloudWatchErrors.invalidParameterValue(`The parameter ${name} must be a positive integer.`);
  // AWS/ namespaces publish at standard (one-minute) resolution.
  if (period % 60 !== 0)
    throw cloudWatchErrors.invalidParameterValue(`The parameter ${name} must be a multiple of 60.`);
  return period * 1000;
};

const seriesOf = (
  namespace: string | undefined,
  metric: string | undefined,
  dimensions: readonly { readonly name: string; readonly value: string }[],
): SeriesKey | undefined => {
  const d = dimensions[0];
  if (dimensions.length !== 1 || !d || !metric) return undefined;
  if (namespace === 'AWS/SQS' && d.name === 'QueueName')
    return { namespace, metric, dimension: { name: 'QueueName', value: d.value } };
  if (namespace === 'AWS/Lambda' && d.name === 'FunctionName')
    return { namespace, metric, dimension: { name: 'FunctionName', value: d.value } };
  return undefined;
};

const asStatistic = (s: string | undefined, name: string): Statistic => {
  if (s === undefined) throw cloudWatchErrors.missingParameter(name);
  if (!(statistics as readonly string[]).includes(s))
    throw cloudWatchErrors.invalidParameterValue(
      `awssim serves the statistics ${statistics.join(', ')}; ${name} "${s}" is not one of them.`,
    );
  return s as Statistic;
};

/** GetMetricData over the store: one result per query that returns data, timestamps by `scanBy`. */
export function getMetricData(
  view: CloudWatchView,
  now: number,
  input: {
    readonly queries: readonly MetricDataQuery[];
    readonly start?: number;
    readonly end?: number;
    readonly scanBy?: string;
  },
): MetricDataResult[] {
  const { start, end } = alignedToMinute(checkTimes(input.start, input.end));
  if (input.queries.length === 0) throw cloudWatchErrors.missingParameter('MetricDataQueries');
  if (input.queries.length > 500)
    throw cloudWatchErrors.invalidParameterValue(
      'The collection MetricDataQueries must not have a size greater than 500.',
    );
  const ascending = input.scanBy === 'TimestampAscending';
  const out: MetricDataResult[] = [];
  for (const q of input.queries) {
    if (q.expression !== undefined)
      throw cloudWatchErrors.invalidParameterValue('awssim does not evaluate metric math expressions.');
    const ms = q.metricStat;
    if (!ms)
      throw cloudWatchErrors.invalidParameterValue(`The query ${q.id} needs MetricStat or Expression.`);
    const periodMs = checkPeriod(ms.period, 'MetricStat.Period');
    const stat = asStatistic(ms.stat, 'MetricStat.Stat');
    if (q.returnData === false) continue;
    const key = seriesOf(ms.namespace, ms.metricName, ms.dimensions);
    const points = key ? view.readPeriods(key, now, start, end, periodMs) : [];
    if (!ascending) points.reverse();
    out.push({
      id: q.id,
      label: q.label ?? ms.metricName ?? q.id,
      timestamps: points.map((p) => p.timestamp),
      values: points.map((p) => statisticOf(p, stat)),
      statusCode: 'Complete',
    });
  }
  return out;
}

/** GetMetricStatistics over the store: ascending datapoints with the asked statistics. */
export function getMetricStatistics(
  view: CloudWatchView,
  now: number,
  input: {
    readonly namespace?: string;
    readonly metricName?: string;
    readonly dimensions: readonly { readonly name: string; readonly value: string }[];
    readonly start?: number;
    readonly end?: number;
    readonly period?: number;
    readonly statistics: readonly string[];
    readonly extendedStatistics: readonly string[];
  },
): {
  label: string;
  datapoints: { timestamp: number; unit: string; values: Partial<Record<Statistic, number>> }[];
} {
  if (!input.namespace) throw cloudWatchErrors.missingParameter('Namespace');
  if (!input.metricName) throw cloudWatchErrors.missingParameter('MetricName');
  const { start, end } = alignedToMinute(checkTimes(input.start, input.end));
  const periodMs = checkPeriod(input.period, 'Period');
  if (input.statistics.length === 0 && input.extendedStatistics.length === 0)
    throw cloudWatchErrors.missingParameter('Statistics');
  if (input.extendedStatistics.length > 0)
    throw cloudWatchErrors.invalidParameterValue(
      'awssim does not compute extended statistics (percentiles).',
    );
  const stats = input.statistics.map((s) => asStatistic(s, 'Statistics'));
  const requested = Math.ceil((end - start) / periodMs);
  if (requested > 1440)
    throw cloudWatchErrors.invalidParameterCombination(
      `You have requested up to ${requested} datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.`,
    );
  const key = seriesOf(input.namespace, input.metricName, input.dimensions);
  const points = key ? view.readPeriods(key, now, start, end, periodMs) : [];
  return {
    label: input.metricName,
    datapoints: points.map((p) => ({
      timestamp: p.timestamp,
      unit: unitOf(input.metricName as string),
      values: Object.fromEntries(stats.map((s) => [s, statisticOf(p, s)])) as Partial<
        Record<Statistic, number>
      >,
    })),
  };
}
