// Scores one run: SLO violations, latency, throttles, DLQ moves, capacity held, how far the
// capacity strayed from the load's need, how often it moved, how fast it reacted, and what the
// strategy's AWS calls cost. Definitions are in bench/README.md.
import type { SimulationReport, TimelinePoint } from '../awssim/index.ts';
import type { Action } from './run.ts';

/** Prices per request (AWS-FACTS.md): SQS $0.40 per million, GetMetricData $0.01 per 1,000 metrics. */
const PRICE: Record<string, number> = {
  'sqs:GetQueueAttributes': 0.4 / 1e6,
  'cloudwatch:GetMetricData': 0.01 / 1000,
};
const HOURS_PER_MONTH = 730;

export interface RunMetrics {
  sent: number;
  deleted: number;
  /** Deleted slower than the SLO, plus moved to the DLQ, as a percentage of messages sent. */
  pctOverSlo: number;
  overSlo: number;
  p50Seconds: number;
  p99Seconds: number;
  maxSeconds: number;
  throttles: number;
  /** Failed invocations (function errors and timeouts): their messages return after the visibility timeout. */
  errors: number;
  invocations: number;
  dlqMoves: number;
  /** Seconds in which the 60 s mean of arrivals was more than the maximum concurrency processes. */
  overMaxSeconds: number;
  /** Messages neither deleted nor dead-lettered at the end. */
  leftover: number;
  /** Reserved concurrency held from the account pool, unit-hours. */
  capacityHours: number;
  /** ∫ max(0, need − reserved) dt and ∫ max(0, reserved − need) dt, unit-hours. */
  underHours: number;
  overHours: number;
  actions: number;
  actionsPerHour: number;
  /** Minutes whose mean need differs from the previous minute's by ≥ 10% and ≥ 1 unit, per hour. */
  demandChangesPerHour: number;
  /** Backlog episodes (see reaction) and the slowest first scale-up, seconds; null if one never came. */
  episodes: number;
  worstReactionSeconds: number | null;
  apiCalls: Record<string, number>;
  apiCallsPerHour: number;
  /** The strategy's AWS API cost for one scaler over a 730 h month, USD. */
  costPerMonth: number;
}

export interface MeasureInput {
  report: SimulationReport;
  /** Messages sent to the scaled queue (the report's total also counts DLQ arrivals). */
  sent: number;
  truth: { visible: number; inFlight: number; delayed: number };
  slowerThanSlo: number;
  fn: string;
  timeline: readonly TimelinePoint[];
  need: Float64Array;
  overMaxSeconds: number;
  actions: readonly Action[];
  calls: ReadonlyMap<string, number>;
  intervalSeconds: number;
  sloSeconds: number;
  max: number;
  batchSize: number;
  /** Messages one unit processes per second at second t (truth). */
  throughput: (t: number) => number;
}

export function measure(m: MeasureInput): RunMetrics {
  const r = m.report;
  const hours = r.elapsedMs / 3_600_000;
  const sent = m.sent;
  const overSlo = m.slowerThanSlo + r.messages.dlqMoves;
  let under = 0;
  let over = 0;
  for (let i = 0; i < m.timeline.length; i++) {
    const reserved = (m.timeline[i] as TimelinePoint).reserved;
    const need = m.need[i] as number;
    if (need > reserved) under += need - reserved;
    else over += reserved - need;
  }
  const apiCalls: Record<string, number> = {};
  let cost = 0;
  let total = 0;
  for (const [k, n] of m.calls) {
    apiCalls[k] = n;
    total += n;
    cost += n * (PRICE[k.split(' ')[0] ?? ''] ?? 0);
  }
  const reaction = reactions(m);
  return {
    sent,
    deleted: r.messages.deleted,
    pctOverSlo: sent === 0 ? 0 : (100 * overSlo) / sent,
    overSlo,
    p50Seconds: r.latency.p50Ms / 1000,
    p99Seconds: r.latency.p99Ms / 1000,
    maxSeconds: r.latency.maxMs / 1000,
    throttles: r.throttles,
    errors: r.functions[m.fn]?.errors ?? 0,
    invocations: r.functions[m.fn]?.invocations ?? 0,
    dlqMoves: r.messages.dlqMoves,
    overMaxSeconds: m.overMaxSeconds,
    leftover: m.truth.visible + m.truth.inFlight + m.truth.delayed,
    capacityHours: (r.reservedConcurrencySeconds[m.fn] ?? 0) / 3600,
    underHours: under / 3600,
    overHours: over / 3600,
    actions: m.actions.length,
    actionsPerHour: hours > 0 ? m.actions.length / hours : 0,
    demandChangesPerHour: hours > 0 ? demandChanges(m.need) / hours : 0,
    episodes: reaction.episodes,
    worstReactionSeconds: reaction.worst,
    apiCalls,
    apiCallsPerHour: hours > 0 ? total / hours : 0,
    costPerMonth: hours > 0 ? (cost / hours) * HOURS_PER_MONTH : 0,
  };
}

function demandChanges(need: Float64Array): number {
  let changes = 0;
  let prev: number | undefined;
  for (let i = 0; i + 60 <= need.length; i += 60) {
    let s = 0;
    for (let j = i; j < i + 60; j++) s += need[j] as number;
    const mean = s / 60;
    if (prev !== undefined && Math.abs(mean - prev) >= Math.max(1, 0.1 * prev)) changes++;
    prev = mean;
  }
  return changes;
}

/**
 * Scale-up reaction. A backlog episode begins when the messages waiting for a function (visible plus
 * in flight beyond what running invocations hold) exceed what the reserved concurrency drains in
 * half the SLO, while it is below the maximum; it ends after 60 s below half that. The reaction is
 * the time from the crossing to the first raise of reserved concurrency (one made up to one polling
 * interval before the crossing counts as 0 s).
 */
function reactions(m: MeasureInput): { episodes: number; worst: number | null } {
  const tl = m.timeline;
  const batch = m.batchSize;
  let episodes = 0;
  let worst: number | null = 0;
  let i = 0;
  while (i < tl.length) {
    const p = tl[i] as TimelinePoint;
    const mu = m.throughput(p.t);
    const threshold = Math.max(1, p.reserved) * mu * (m.sloSeconds / 2);
    const waiting = Math.max(0, p.visible + p.inFlight - p.concurrency * batch);
    if (!(waiting > threshold && p.reserved < m.max)) {
      i++;
      continue;
    }
    const start = p.t;
    let end = tl.length;
    let calm = 0;
    for (let j = i + 1; j < tl.length; j++) {
      const q = tl[j] as TimelinePoint;
      const w = Math.max(0, q.visible + q.inFlight - q.concurrency * batch);
      calm = w <= threshold / 2 ? calm + 1 : 0;
      if (calm >= 60) {
        end = j;
        break;
      }
    }
    episodes++;
    const raise = m.actions.find(
      (a) => a.t >= start - m.intervalSeconds && a.t <= (tl[end - 1]?.t ?? start) && a.to > (a.from ?? 0),
    );
    if (raise === undefined) worst = null;
    else if (worst !== null) worst = Math.max(worst, Math.max(0, raise.t - start));
    i = end + 1;
  }
  return { episodes, worst: episodes === 0 ? null : worst };
}
