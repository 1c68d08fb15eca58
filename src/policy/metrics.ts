// Reads the backlog a policy scales on out of one poll's metrics, according to `spec.metrics`:
// which counts are included, and whether the visible count comes from the queue or CloudWatch.
import type { MetricsConfig } from './config.ts';
import type { Datapoint, MetricsError, QueueMetrics } from './types.ts';

/** The backlog of one poll, or why there is none. */
export type Backlog =
  | {
      ok: true;
      backlog: number;
      visible: number;
      inFlight: number;
      delayed: number;
      /** In-flight messages beyond reserved × batch size (0 when either is unknown). */
      overpulled: number;
      observedAt: number;
    }
  | { ok: false; error: string };

/** What tells served from overpulled in-flight messages: the reservation and the batch size. */
export interface OverpullInput {
  /** Reserved concurrency observed now; null when the function has none. */
  reserved: number | null;
  /** The event source mapping's BatchSize, if known. */
  batchSize: number | undefined;
}

/** True when a poll failed to read metrics. */
export function isMetricsError(m: QueueMetrics | MetricsError): m is MetricsError {
  return 'error' in m;
}

/** A count as the engine reads it: not a number or negative → 0; finite, however large. */
const count = (n: number) => (Number.isFinite(n) && n > 0 ? Math.min(n, Number.MAX_SAFE_INTEGER) : 0);

/**
 * Combines CloudWatch datapoints of the last `windowSeconds` before `now`. `Average` is what a
 * user means; `Sum` is the original operator's bug. No datapoints: Average has no answer, Sum is 0
 * (which is what the original then acted on).
 */
export function cloudWatchVisible(
  datapoints: readonly Datapoint[],
  statistic: 'Average' | 'Sum',
  windowSeconds: number,
  now: number,
): number | null {
  const since = now - windowSeconds * 1000;
  const values = datapoints
    .filter((d) => d.timestamp >= since && d.timestamp <= now)
    .map((d) => count(d.value));
  const sum = values.reduce((a, b) => a + b, 0);
  if (statistic === 'Sum') return sum;
  return values.length === 0 ? null : sum / values.length;
}

/**
 * In-flight messages the reserved concurrency cannot be processing: at most `reserved` batches of
 * `batchSize` run at once, so anything in flight beyond that was pulled by the event source mapping
 * and throttled, and waits invisibly for its visibility timeout. 0 without a reservation or batch
 * size (nothing to compare with). It under-counts while the function is not full (throttled
 * batches can hide in the unused part of reserved × batchSize) and when the mapping batches fewer
 * messages than BatchSize; it never counts a message a running invocation holds.
 */
export function overpulledMessages(inFlight: number, o: OverpullInput): number {
  const { reserved, batchSize } = o;
  if (reserved === null || !Number.isFinite(reserved) || reserved < 0) return 0;
  if (batchSize === undefined || !Number.isFinite(batchSize) || batchSize < 1) return 0;
  return count(inFlight - Math.round(reserved) * Math.floor(batchSize));
}

/**
 * The backlog to scale on: visible, plus delayed if the spec says so, plus in flight — all of it
 * with `includeInFlight`, else only the overpulled part with `includeOverpulled`.
 */
export function readBacklog(
  metrics: QueueMetrics | MetricsError,
  config: MetricsConfig,
  now: number,
  overpull: OverpullInput = { reserved: null, batchSize: undefined },
): Backlog {
  if (isMetricsError(metrics)) return { ok: false, error: metrics.error };
  let visible = count(metrics.visible);
  if (config.source === 'CloudWatch') {
    const fromCloudWatch = cloudWatchVisible(
      metrics.datapoints ?? [],
      config.cloudWatchStatistic,
      config.cloudWatchWindowSeconds,
      now,
    );
    if (fromCloudWatch === null) {
      return { ok: false, error: `no CloudWatch datapoints in the last ${config.cloudWatchWindowSeconds}s` };
    }
    visible = fromCloudWatch;
  }
  const inFlight = count(metrics.inFlight);
  const delayed = count(metrics.delayed);
  const overpulled = overpulledMessages(inFlight, overpull);
  const fromInFlight = config.includeInFlight ? inFlight : config.includeOverpulled ? overpulled : 0;
  const backlog = count(visible + fromInFlight + (config.includeDelayed ? delayed : 0));
  return { ok: true, backlog, visible, inFlight, delayed, overpulled, observedAt: metrics.observedAt };
}
