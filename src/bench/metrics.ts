// Scores one run: SLO violations, latency, throttles, DLQ moves, capacity held, how far the
// capacity strayed from the load's need, how often it moved, how fast it reacted, and what the
// strategy's AWS calls cost. Definitions are in bench/README.md.
import type { SimulationReport } from '../awssim/index.ts';
import type { CapacityBound } from './reference.ts';
import type { Action, Target, TargetPoint } from './run.ts';

/** Prices per request (AWS-FACTS.md): SQS $0.40 per million, GetMetricData $0.01 per 1,000 metrics. */
const PRICE: Record<string, number> = {
  'sqs:GetQueueAttributes': 0.4 / 1e6,
  'cloudwatch:GetMetricData': 0.01 / 1000,
};
const HOURS_PER_MONTH = 730;

/**
 * The concurrency a strategy holds for the function at one second: its reserved concurrency, or,
 * for a mapping actuator (no reservation), what the mapping holds (TargetPoint.mappingHeld).
 */
export function held(p: TargetPoint): number {
  return p.reserved + p.mappingHeld;
}

/** The value the strategy sets at one second: reserved concurrency, or the mapping's (TargetPoint.mappingSet). */
export function setting(p: TargetPoint): number {
  return p.reserved + p.mappingSet;
}

export interface RunMetrics {
  sent: number;
  deleted: number;
  /**
   * Deleted slower than the SLO, moved to the DLQ, or still waiting at the end and older than the
   * SLO, as a percentage of messages sent.
   */
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
  /**
   * Reserved concurrency held from the account pool, unit-hours; for a function without one, what
   * its mapping holds instead (its MaximumConcurrency, or its provisioned pollers' concurrency).
   */
  capacityHours: number;
  /** The reference's lower bound on capacity-hours for this trace (reference.ts). */
  boundCapacityHours: number;
  /** Messages no strategy within the bounds gets processed within the SLO on this trace. */
  boundOverSlo: number;
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
  /** The strategy's AWS API cost over a 730 h month, USD (the account's, for a single scaler). */
  costPerMonth: number;
}

export interface MeasureInput {
  report: SimulationReport;
  target: Target;
  /** Messages the target's queue moved to its dead-letter queue. */
  dlqMoves: number;
  timeline: readonly TargetPoint[];
  need: Float64Array;
  overMaxSeconds: number;
  actions: readonly Action[];
  /** awssim's API counts to charge to this scaler (the account's, when it is the only one). */
  calls: SimulationReport['apiCalls'];
  intervalSeconds: number;
  max: number;
  /** Messages one unit processes per second at second t (truth). */
  throughput: (t: number) => number;
  bound: CapacityBound;
}

/** awssim's counts as `service:Operation outcome` → n, with their total and monthly price. */
export function flattenCalls(
  calls: SimulationReport['apiCalls'],
  hours: number,
): { apiCalls: Record<string, number>; total: number; costPerMonth: number } {
  const apiCalls: Record<string, number> = {};
  let cost = 0;
  let total = 0;
  for (const [op, outcomes] of Object.entries(calls))
    for (const [outcome, n] of Object.entries(outcomes)) {
      apiCalls[`${op} ${outcome}`] = n;
      total += n;
      cost += n * (PRICE[op] ?? 0);
    }
  return { apiCalls, total, costPerMonth: hours > 0 ? (cost / hours) * HOURS_PER_MONTH : 0 };
}

export function measure(m: MeasureInput): RunMetrics {
  const r = m.report;
  const hours = r.elapsedMs / 3_600_000;
  const t = m.target;
  const latency = r.latencyByQueue[t.queue];
  const sent = m.timeline.reduce((a, p) => a + p.arrivals, 0);
  // Messages still waiting at the end count too, as far as they must be older than the SLO: all
  // but as many as arrived in its last SLO seconds.
  const last = m.timeline.at(-1);
  const leftover = last === undefined ? 0 : last.visible + last.inFlight + last.delayed;
  const recent = m.timeline.slice(-t.sloSeconds).reduce((a, p) => a + p.arrivals, 0);
  const overSlo =
    (latency?.overMs[String(t.sloSeconds * 1000)] ?? 0) + m.dlqMoves + Math.max(0, leftover - recent);
  let under = 0;
  let over = 0;
  for (let i = 0; i < m.timeline.length; i++) {
    const reserved = held(m.timeline[i] as TargetPoint);
    const need = m.need[i] as number;
    if (need > reserved) under += need - reserved;
    else over += reserved - need;
  }
  const mappingSeconds = m.timeline.reduce((a, p) => a + p.mappingHeld, 0);
  const calls = flattenCalls(m.calls, hours);
  const reaction = reactions(m);
  const fn = r.functions[t.fn];
  return {
    sent,
    deleted: latency?.count ?? 0,
    pctOverSlo: sent === 0 ? 0 : (100 * overSlo) / sent,
    overSlo,
    p50Seconds: (latency?.p50Ms ?? 0) / 1000,
    p99Seconds: (latency?.p99Ms ?? 0) / 1000,
    maxSeconds: (latency?.maxMs ?? 0) / 1000,
    throttles: fn?.throttles ?? 0,
    errors: fn?.errors ?? 0,
    invocations: fn?.invocations ?? 0,
    dlqMoves: m.dlqMoves,
    overMaxSeconds: m.overMaxSeconds,
    leftover,
    capacityHours: ((r.reservedConcurrencySeconds[t.fn] ?? 0) + mappingSeconds) / 3600,
    boundCapacityHours: m.bound.capacityHours,
    boundOverSlo: m.bound.unavoidableOverSlo,
    underHours: under / 3600,
    overHours: over / 3600,
    actions: m.actions.length,
    actionsPerHour: hours > 0 ? m.actions.length / hours : 0,
    demandChangesPerHour: hours > 0 ? demandChanges(m.need) / hours : 0,
    episodes: reaction.episodes,
    worstReactionSeconds: reaction.worst,
    apiCalls: calls.apiCalls,
    apiCallsPerHour: hours > 0 ? calls.total / hours : 0,
    costPerMonth: calls.costPerMonth,
  };
}

/** The account as a whole: its pool, how a squeeze was shared, and its control-plane budget. */
export interface AccountMetrics {
  /** The account's concurrency limit and the unreserved floor AWS keeps. */
  limit: number;
  unreservedMin: number;
  /** The least unreserved concurrency in any second (limit − Σ reserved of the scalers' functions). */
  minUnreserved: number;
  /** Seconds in which the scalers together needed more than the limit minus the floor. */
  squeezeSeconds: number;
  /**
   * Jain's index of min(1, reserved / need) over the scalers that needed more than their minimum,
   * averaged over the squeeze seconds (1: shared in proportion to need); null without a squeeze.
   */
  fairness: number | null;
  /** Lambda control-plane calls (all but GetFunction) per second, mean, and as % of AWS's budget. */
  controlPlanePerSecond: number;
  budgetPct: number;
  /** Calls refused with TooManyRequestsException / Throttling. */
  throttledCalls: number;
  /** Reconciles that failed and were retried with backoff, by error code (operator only). */
  failures: Record<string, number>;
  sent: number;
  overSlo: number;
  pctOverSlo: number;
  capacityHours: number;
  boundCapacityHours: number;
  /** Messages no strategy gets processed within the SLO, the account's limit taken into account. */
  boundOverSlo: number;
  apiCalls: Record<string, number>;
  apiCallsPerHour: number;
  costPerMonth: number;
}

export interface AccountInput {
  report: SimulationReport;
  targets: readonly { metrics: RunMetrics; timeline: readonly TargetPoint[]; need: Float64Array }[];
  limit: number;
  unreservedMin: number;
  /** AWS's control-plane budget of the account, requests per second. */
  controlPlaneRps: number;
  failures: ReadonlyMap<string, number>;
  /** The account-level bound on unavoidable violations (reference.ts `accountUnavoidable`). */
  unavoidable: number;
}

export function measureAccount(a: AccountInput): AccountMetrics {
  const hours = a.report.elapsedMs / 3_600_000;
  const seconds = Math.min(...a.targets.map((t) => t.timeline.length));
  let minUnreserved = a.limit;
  let squeezeSeconds = 0;
  let fairnessSum = 0;
  for (let i = 0; i < seconds; i++) {
    let reserved = 0;
    let need = 0;
    const shares: number[] = [];
    for (const t of a.targets) {
      const p = t.timeline[i] as TargetPoint;
      const n = t.need[i] as number;
      reserved += p.reserved;
      need += n;
      shares.push(n > 0 ? Math.min(1, p.reserved / n) : 1);
    }
    minUnreserved = Math.min(minUnreserved, a.limit - reserved);
    if (a.targets.length > 1 && need > a.limit - a.unreservedMin) {
      squeezeSeconds++;
      fairnessSum += jain(shares);
    }
  }
  const calls = flattenCalls(a.report.apiCalls, hours);
  let controlPlane = 0;
  let throttled = 0;
  for (const [op, outcomes] of Object.entries(a.report.apiCalls))
    for (const [outcome, n] of Object.entries(outcomes)) {
      if (op.startsWith('lambda:') && op !== 'lambda:GetFunction') controlPlane += n;
      if (/TooManyRequests|Throttl/.test(outcome)) throttled += n;
    }
  const elapsed = a.report.elapsedMs / 1000;
  const sum = (f: (m: RunMetrics) => number) => a.targets.reduce((x, t) => x + f(t.metrics), 0);
  const sent = sum((m) => m.sent);
  const overSlo = sum((m) => m.overSlo);
  return {
    limit: a.limit,
    unreservedMin: a.unreservedMin,
    minUnreserved,
    squeezeSeconds,
    fairness: squeezeSeconds === 0 ? null : fairnessSum / squeezeSeconds,
    controlPlanePerSecond: elapsed > 0 ? controlPlane / elapsed : 0,
    budgetPct: elapsed > 0 ? (100 * controlPlane) / (elapsed * a.controlPlaneRps) : 0,
    throttledCalls: throttled,
    failures: Object.fromEntries(a.failures),
    sent,
    overSlo,
    pctOverSlo: sent === 0 ? 0 : (100 * overSlo) / sent,
    capacityHours: sum((m) => m.capacityHours),
    boundCapacityHours: sum((m) => m.boundCapacityHours),
    boundOverSlo: Math.max(
      a.unavoidable,
      sum((m) => m.boundOverSlo),
    ),
    apiCalls: calls.apiCalls,
    apiCallsPerHour: hours > 0 ? calls.total / hours : 0,
    costPerMonth: calls.costPerMonth,
  };
}

/** Jain's fairness index: 1 when all are equal, 1/n when one has everything. */
export function jain(xs: readonly number[]): number {
  const s = xs.reduce((a, x) => a + x, 0);
  const q = xs.reduce((a, x) => a + x * x, 0);
  return q === 0 ? 1 : (s * s) / (xs.length * q);
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
  const batch = m.target.batchSize;
  let episodes = 0;
  let worst: number | null = 0;
  let i = 0;
  while (i < tl.length) {
    const p = tl[i] as TargetPoint;
    const mu = m.throughput(p.t);
    const threshold = Math.max(1, held(p)) * mu * (m.target.sloSeconds / 2);
    const waiting = Math.max(0, p.visible + p.inFlight - p.concurrency * batch);
    if (!(waiting > threshold && held(p) < m.max)) {
      i++;
      continue;
    }
    const start = p.t;
    let end = tl.length;
    let calm = 0;
    for (let j = i + 1; j < tl.length; j++) {
      const q = tl[j] as TargetPoint;
      const w = Math.max(0, q.visible + q.inFlight - q.concurrency * batch);
      calm = w <= threshold / 2 ? calm + 1 : 0;
      if (calm >= 60) {
        end = j;
        break;
      }
    }
    episodes++;
    const raise = m.actions.find(
      (a) =>
        a.t >= start - m.intervalSeconds && a.t <= (tl[end - 1]?.t ?? start) && (a.to ?? 0) > (a.from ?? 0),
    );
    if (raise === undefined) worst = null;
    else if (worst !== null) worst = Math.max(worst, Math.max(0, raise.t - start));
    i = end + 1;
  }
  return { episodes, worst: episodes === 0 ? null : worst };
}

/**
 * One scenario's scalers as one: counts, capacity and bounds add up; percentages are recomputed;
 * latency percentiles and the slowest reaction are the worst scaler's. A single scaler's are its own.
 */
export function combine(ms: readonly RunMetrics[]): RunMetrics {
  const first = ms[0];
  if (first === undefined) throw new Error('nothing to combine');
  if (ms.length === 1) return first;
  const sum = (f: (m: RunMetrics) => number) => ms.reduce((a, m) => a + f(m), 0);
  const max = (f: (m: RunMetrics) => number) => Math.max(...ms.map(f));
  const sent = sum((m) => m.sent);
  const overSlo = sum((m) => m.overSlo);
  const reactionsKnown = ms.filter((m) => m.episodes > 0);
  return {
    sent,
    deleted: sum((m) => m.deleted),
    pctOverSlo: sent === 0 ? 0 : (100 * overSlo) / sent,
    overSlo,
    p50Seconds: max((m) => m.p50Seconds),
    p99Seconds: max((m) => m.p99Seconds),
    maxSeconds: max((m) => m.maxSeconds),
    throttles: sum((m) => m.throttles),
    errors: sum((m) => m.errors),
    invocations: sum((m) => m.invocations),
    dlqMoves: sum((m) => m.dlqMoves),
    overMaxSeconds: max((m) => m.overMaxSeconds),
    leftover: sum((m) => m.leftover),
    capacityHours: sum((m) => m.capacityHours),
    boundCapacityHours: sum((m) => m.boundCapacityHours),
    boundOverSlo: sum((m) => m.boundOverSlo),
    underHours: sum((m) => m.underHours),
    overHours: sum((m) => m.overHours),
    actions: sum((m) => m.actions),
    actionsPerHour: sum((m) => m.actionsPerHour),
    demandChangesPerHour: sum((m) => m.demandChangesPerHour),
    episodes: sum((m) => m.episodes),
    worstReactionSeconds: reactionsKnown.some((m) => m.worstReactionSeconds === null)
      ? null
      : reactionsKnown.length === 0
        ? null
        : Math.max(...reactionsKnown.map((m) => m.worstReactionSeconds as number)),
    apiCalls: first.apiCalls,
    apiCallsPerHour: first.apiCallsPerHour,
    costPerMonth: first.costPerMonth,
  };
}
