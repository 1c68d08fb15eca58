// Reads the backlog a policy scales on out of one poll's metrics, according to `spec.metrics`:
// which counts are included, and whether the visible count comes from the queue or CloudWatch.
import type { MetricsConfig } from './config.ts';
import type { Datapoint, MetricsError, QueueMetrics } from './types.ts';

/** The backlog of one poll, or why there is none. */
export type Backlog =
  | { ok: true; backlog: number; visible: number; inFlight: number; delayed: number; observedAt: number }
  | { ok: false; error: string };

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

/** The backlog to scale on: visible, plus in-flight and delayed if the spec says so. */
export function readBacklog(
  metrics: QueueMetrics | MetricsError,
  config: MetricsConfig,
  now: number,
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
  const backlog = count(
    visible + (config.includeInFlight ? inFlight : 0) + (config.includeDelayed ? delayed : 0),
  );
  return { ok: true, backlog, visible, inFlight, delayed, observedAt: metrics.observedAt };
}
