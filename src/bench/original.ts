// A model of another program: the original operator this project replaces. Every 300 s it reads
// the SUM of the queue's CloudWatch visible-count datapoints of the last 300 s and the function's
// reserved concurrency, steps by its own rule (originalOperatorConfig in src/policy) and writes.
// It is not this operator: this operator is measured through its own reconciler (operator.ts).
import type { LambdaConcurrencyScalerSpec } from '../api/v1alpha1/index.ts';
import { maxConcurrency } from '../api/v1alpha1/index.ts';
import { AwsApiError, type Simulation, type TimelinePoint } from '../awssim/index.ts';
import {
  type Datapoint,
  decide,
  initialPolicyState,
  originalOperatorConfig,
  restorePolicyState,
} from '../policy/index.ts';

/** AWS's documented CloudWatch behaviour that awssim does not model: after 6 h idle, 15 min late. */
const COLD_IDLE_S = 6 * 3600;
const COLD_DELAY_S = 15 * 60;

export interface OriginalOptions {
  spec: LambdaConcurrencyScalerSpec;
  queue: string;
  fn: string;
  /** First poll, ms since the start. */
  firstAtMs: number;
}

/** Schedules the original operator's polls of one scaler on the simulation. */
export function startOriginalOperator(sim: Simulation, o: OriginalOptions): void {
  const config = originalOperatorConfig(o.spec);
  const cold = coldCloudWatch(sim);
  let stored = JSON.stringify(initialPolicyState());
  let lastApplied: number | null = null;
  const poll = (now: number): void => {
    let reserved: number | null;
    let points: Datapoint[];
    try {
      reserved = sim.getFunctionConcurrency(o.fn) ?? null;
      const windowMs = config.metrics.cloudWatchWindowSeconds * 1000;
      const since = sim.elapsedMs() - windowMs - 60_000;
      points = sim
        .getMetricData(o.queue, 'ApproximateNumberOfMessagesVisible', { startMs: Math.max(0, since) })
        .map((d) => ({ timestamp: d.timestamp, value: d.average }));
    } catch (e) {
      if (e instanceof AwsApiError) return;
      throw e;
    }
    const { decision, nextState } = decide(
      {
        spec: o.spec,
        config,
        metrics: { visible: 0, inFlight: 0, delayed: 0, observedAt: now, datapoints: cold(points, now) },
        currentConcurrency: reserved,
        lastApplied,
      },
      restorePolicyState(JSON.parse(stored)),
      now,
    );
    stored = JSON.stringify(nextState);
    if (decision.desired === null) return;
    // The original clamps into its bounds and writes whenever the value differs.
    const desired = Math.min(
      config.maxConcurrency ?? maxConcurrency(o.spec),
      Math.max(config.minConcurrency, Math.round(decision.desired)),
    );
    if (desired === reserved) return;
    try {
      sim.putFunctionConcurrency(o.fn, desired);
      lastApplied = desired;
    } catch (e) {
      if (!(e instanceof AwsApiError)) throw e;
    }
  };
  sim.every(config.pollingIntervalSeconds * 1000, poll, o.firstAtMs);
}

/**
 * AWS: after a queue has been idle for 6 hours its CloudWatch metrics can be up to 15 minutes late.
 * awssim publishes every minute 1–2 minutes late; this holds back the datapoints of the first 15
 * minutes after such an idle spell until 15 minutes after their minute ends.
 */
function coldCloudWatch(sim: Simulation): (points: Datapoint[], now: number) => Datapoint[] {
  const wakes: number[] = [];
  let scanned = 0;
  let idleFrom = 0;
  const origin = sim.now() - sim.elapsedMs();
  return (points, now) => {
    const tl = sim.timeline();
    for (; scanned < tl.length; scanned++) {
      const p = tl[scanned] as TimelinePoint;
      const active = p.arrivals > 0 || p.visible > 0 || p.inFlight > 0 || p.delayed > 0;
      if (!active) continue;
      if (p.t - idleFrom >= COLD_IDLE_S) wakes.push(origin + p.t * 1000);
      idleFrom = p.t;
    }
    return points.filter((d) => {
      const wake = wakes.findLast((w) => w <= d.timestamp + 60_000);
      if (wake === undefined || d.timestamp >= wake + COLD_DELAY_S * 1000) return true;
      return now >= d.timestamp + 60_000 + COLD_DELAY_S * 1000;
    });
  };
}
