// A CloudWatch-like view of the AWS/SQS metrics: one-minute datapoints that become readable only
// once "published", one to two minutes after their minute ends, as AWS documents.

/** The AWS/SQS metric names the view serves. */
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

/** A published one-minute datapoint. */
export interface Datapoint {
  /** Start of the minute, epoch ms. */
  readonly timestamp: number;
  readonly sum: number;
  readonly average: number;
  readonly maximum: number;
  readonly minimum: number;
  readonly sampleCount: number;
  /** When the datapoint became readable, epoch ms. */
  readonly publishedAt: number;
}

interface Acc {
  sum: number;
  max: number;
  min: number;
  n: number;
}

const newAcc = (): Acc => ({ sum: 0, max: Number.NEGATIVE_INFINITY, min: Number.POSITIVE_INFINITY, n: 0 });

/** Per-queue metric store fed once per simulated second. */
export class CloudWatchView {
  readonly #current = new Map<string, { minute: number; accs: Map<SqsMetricName, Acc> }>();
  readonly #published = new Map<string, Map<SqsMetricName, Datapoint[]>>();

  /** Adds one per-second sample (`counter` metrics are summed, gauges sampled) at time `t`. */
  sample(queue: string, t: number, values: Record<SqsMetricName, number>, publishDelay: () => number): void {
    const minute = Math.floor((t - 1) / 60_000) * 60_000;
    let cur = this.#current.get(queue);
    if (cur && cur.minute !== minute) {
      this.#close(queue, cur.minute, cur.accs, cur.minute + 60_000 + publishDelay());
      cur = undefined;
    }
    if (!cur) {
      cur = { minute, accs: new Map() };
      this.#current.set(queue, cur);
    }
    for (const name of sqsMetricNames) {
      let a = cur.accs.get(name);
      if (!a) {
        a = newAcc();
        cur.accs.set(name, a);
      }
      const v = values[name];
      a.sum += v;
      a.n++;
      if (v > a.max) a.max = v;
      if (v < a.min) a.min = v;
    }
  }

  #close(queue: string, minute: number, accs: Map<SqsMetricName, Acc>, publishedAt: number): void {
    let m = this.#published.get(queue);
    if (!m) {
      m = new Map();
      this.#published.set(queue, m);
    }
    for (const [name, a] of accs) {
      const counter = name.startsWith('NumberOf');
      const list = m.get(name) ?? [];
      list.push({
        timestamp: minute,
        sum: a.sum,
        average: counter ? a.sum : a.sum / a.n,
        maximum: a.max,
        minimum: a.min,
        sampleCount: a.n,
        publishedAt,
      });
      m.set(name, list);
    }
  }

  /** Datapoints of `metric` for `queue` published by `now`, with timestamps in [start, end). */
  read(
    queue: string,
    metric: SqsMetricName,
    now: number,
    start = 0,
    end = Number.POSITIVE_INFINITY,
  ): Datapoint[] {
    const list = this.#published.get(queue)?.get(metric) ?? [];
    return list.filter((d) => d.publishedAt <= now && d.timestamp >= start && d.timestamp < end);
  }
}
