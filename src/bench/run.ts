// The virtual-time driver: runs one strategy against one workload in awssim. For policy strategies
// each poll does what the operator's reconciler does (read the queue and the function, decide() with
// the history round-tripped through JSON, clamp, write only on change) — the same code, not a copy
// of its rules. Shared by `npm run simulate` (what-if) and `npm run bench`.
import type { LambdaConcurrencyScalerSpec } from '../api/v1alpha1/index.ts';
import { maxConcurrency } from '../api/v1alpha1/index.ts';
import { capFor } from '../aws/ports.ts';
import {
  AwsApiError,
  createSimulation,
  defaultBehaviour,
  type FunctionBehaviour,
  type Scenario,
  type Simulation,
  type TimelinePoint,
  type TrafficSpec,
} from '../awssim/index.ts';
import {
  type Datapoint,
  decide,
  initialPolicyState,
  type PolicyConfig,
  type QueueMetrics,
  resolvePolicyConfig,
  restorePolicyState,
} from '../policy/index.ts';
import { measure, type RunMetrics } from './metrics.ts';
import type { OracleStrategy, PolicyStrategy, Strategy } from './strategy.ts';
import { behaviourAt, expectedArrivals, throughputPerUnit } from './truth.ts';
import type { Workload } from './workload.ts';

/** One scaling action that reached the function. */
export interface Action {
  /** Seconds since the start. */
  t: number;
  from: number | null;
  to: number;
  reason: string;
}

export interface RunOptions {
  workload: Workload;
  strategy: Strategy;
  seed: number;
  /** Simulated length, seconds (default: the workload's). */
  durationSeconds?: number;
  /** A message slower than this (sent → deleted) violates the SLO. */
  sloSeconds: number;
  /** Bounds used to cap the demand curve (the scaler's min and max). */
  bounds: { min: number; max: number };
}

/** Everything one run produced: the metrics, the actions and a decimated timeline for charts. */
export interface RunResult {
  strategy: string;
  seed: number;
  durationSeconds: number;
  metrics: RunMetrics;
  actions: Action[];
  /** Polling interval of the strategy, seconds (0 for static). */
  intervalSeconds: number;
  timeline: readonly TimelinePoint[];
  /** Concurrency the load needed each second (true arrival rate / throughput, within bounds). */
  need: Float64Array;
}

/** AWS's documented CloudWatch behaviour that awssim does not model: after 6 h idle, 15 min late. */
const COLD_IDLE_S = 6 * 3600;
const COLD_DELAY_S = 15 * 60;
/** How often the reconciler re-lists event source mappings (its default `eventSourceRefreshMs`). */
const ESM_REFRESH_MS = 300_000;
/**
 * The oracle's defaults: the busy fraction it sizes for — none held back, since it knows the next
 * minute's arrivals and the backlog term absorbs the randomness — and how fast it drains a backlog.
 */
export const ORACLE_UTILIZATION = 1;
export const ORACLE_DRAIN_SECONDS = 30;

/** Runs one strategy against one workload with one seed, in virtual time. */
export async function runOnce(o: RunOptions): Promise<RunResult> {
  const durationSeconds = o.durationSeconds ?? o.workload.durationSeconds;
  const scenario = withInitialReserved(o.workload, initialReserved(o.strategy, o.bounds.min));
  const sim = createSimulation({
    scenario,
    seed: o.seed,
    clock: 'virtual',
    params: { sloMs: [o.sloSeconds * 1000] },
  });
  const { queue, fn } = o.workload;
  const calls = new Map<string, number>();
  const count = (op: string, outcome = 'ok') => {
    const k = `${op} ${outcome}`;
    calls.set(k, (calls.get(k) ?? 0) + 1);
  };
  const actions: Action[] = [];
  const put = (now: number, from: number | null, to: number, reason: string): boolean => {
    try {
      sim.putFunctionConcurrency(fn, to);
      count('lambda:PutFunctionConcurrency');
      actions.push({ t: (now - sim.world.origin) / 1000, from, to, reason });
      return true;
    } catch (e) {
      if (!(e instanceof AwsApiError)) throw e;
      count('lambda:PutFunctionConcurrency', e.code);
      return false;
    }
  };
  for (const c of o.workload.changes) sim.schedule(c.at * 1000, () => sim.setBehaviour(fn, c.behaviour));

  let intervalSeconds = 0;
  const s = o.strategy;
  if (s.kind === 'policy') {
    const config = s.config ?? resolvePolicyConfig(s.spec);
    intervalSeconds = config.pollingIntervalSeconds;
    const cold = coldCloudWatch(sim);
    const poll = policyPoll(sim, s, config, queue, fn, count, put, cold);
    sim.every(intervalSeconds * 1000, poll, phaseMs(o.seed, intervalSeconds));
  } else if (s.kind === 'oracle') {
    intervalSeconds = s.intervalSeconds ?? 10;
    sim.every(intervalSeconds * 1000, oraclePoll(sim, s, o, count, put), 1000);
  } else if (s.capEventSource === true) {
    // Set once before the first message, as a user would configure it; not counted as a call.
    const caps = eventSourceMappings(sim, queue, fn, () => {});
    caps.refresh(sim.world.origin);
    caps.set(s.concurrency);
  }
  await sim.runUntil(durationSeconds * 1000);
  const report = sim.report();
  const timeline = sim.timeline();
  const { need, overMaxSeconds } = demand(o.workload, scenario, timeline, o.bounds);
  const metrics = measure({
    report,
    sent: sim.world.queues.get(queue)?.sentTotal ?? report.messages.sent,
    truth: sim.queueTruth(queue),
    slowerThanSlo: sim.countSlowerThan(o.sloSeconds * 1000),
    fn,
    timeline,
    need,
    overMaxSeconds,
    actions,
    calls,
    intervalSeconds,
    sloSeconds: o.sloSeconds,
    max: o.bounds.max,
    batchSize: o.workload.batchSize,
    throughput: (t) =>
      throughputPerUnit(behaviourAt(o.workload, baseBehaviour(scenario, fn), t), o.workload.batchSize),
  });
  return {
    strategy: s.label,
    seed: o.seed,
    durationSeconds,
    metrics,
    actions,
    intervalSeconds,
    timeline,
    need,
  };
}

/** Deterministic phase of the first poll, so a 300 s period does not always align with the load. */
function phaseMs(seed: number, intervalSeconds: number): number {
  const x = Math.imul(seed + 1, 2_654_435_761) >>> 0;
  return 1000 + (x % Math.max(1, intervalSeconds)) * 1000;
}

function initialReserved(s: Strategy, min: number): number {
  return s.kind === 'static' ? s.concurrency : min;
}

/** The scenario with the function's reserved concurrency at the start of the run. */
function withInitialReserved(w: Workload, reserved: number): Scenario {
  return {
    ...w.scenario,
    functions: w.scenario.functions.map((f) =>
      f.name === w.fn ? { ...f, reservedConcurrency: reserved } : f,
    ),
  };
}

function baseBehaviour(sc: Scenario, fn: string): FunctionBehaviour {
  const f = sc.functions.find((x) => x.name === fn);
  return {
    duration: f?.duration ?? defaultBehaviour.duration,
    per: f?.per ?? defaultBehaviour.per,
    coldStart: f?.coldStart ?? defaultBehaviour.coldStart,
    errorRate: f?.errorRate ?? defaultBehaviour.errorRate,
  };
}

type Count = (op: string, outcome?: string) => void;
/** Puts the reserved concurrency; false when the API refused (the reconciler would retry later). */
type Put = (now: number, from: number | null, to: number, reason: string) => boolean;

/** One reconcile of src/controller/reconciler.ts against the simulation: gather → decide → apply. */
function policyPoll(
  sim: Simulation,
  s: PolicyStrategy,
  config: PolicyConfig,
  queue: string,
  fn: string,
  count: Count,
  put: Put,
  cold: (points: Datapoint[], now: number) => Datapoint[],
): (now: number) => void {
  const spec: LambdaConcurrencyScalerSpec = s.spec;
  // The history travels as JSON, as it does through status.policyState.
  let stored = JSON.stringify(initialPolicyState());
  let lastApplied: number | null = null;
  const fromCloudWatch = config.metrics.source === 'CloudWatch';
  // The reconciler lists the function's event source mappings on its first poll and then every
  // 5 minutes (the link check), keeping the queue's mapping's BatchSize for decide() and, with
  // eventSourceMapping.manageMaximumConcurrency, each mapping's MaximumConcurrency.
  const mappings = eventSourceMappings(sim, queue, fn, count);
  const caps = spec.eventSourceMapping?.manageMaximumConcurrency === true ? mappings : null;
  return (now) => {
    const reserved = sim.getFunctionConcurrency(fn) ?? null;
    count(s.calls === 'original' ? 'lambda:GetFunctionConcurrency' : 'lambda:GetFunction');
    if (s.calls !== 'original') mappings.refresh(now);
    const batchSize = mappings.batchSize();
    let metrics: QueueMetrics;
    if (s.calls === 'original') {
      metrics = { visible: 0, inFlight: 0, delayed: 0, observedAt: now };
    } else {
      const a = sim.queueAttributes(queue);
      count('sqs:GetQueueAttributes');
      metrics = { visible: a.visible, inFlight: a.inFlight, delayed: a.delayed, observedAt: now };
    }
    if (fromCloudWatch) {
      const windowMs = config.metrics.cloudWatchWindowSeconds * 1000;
      const since = now - sim.world.origin - windowMs - 60_000;
      const points = sim
        .cloudWatch(queue, 'ApproximateNumberOfMessagesVisible', { startMs: Math.max(0, since) })
        .map((d) => ({ timestamp: d.timestamp, value: d.average }));
      count('cloudwatch:GetMetricData');
      metrics.datapoints = cold(points, now);
    }
    const { decision, nextState } = decide(
      {
        spec,
        config,
        metrics,
        currentConcurrency: reserved,
        lastApplied,
        ...(batchSize === undefined ? {} : { batchSize }),
      },
      restorePolicyState(JSON.parse(stored)),
      now,
    );
    stored = JSON.stringify(nextState);
    if (decision.desired === null) {
      if (reserved !== null) caps?.set(reserved);
      return;
    }
    // The reconciler clamps into the spec's bounds once more, whatever the policy said.
    const desired = Math.min(
      config.maxConcurrency ?? maxConcurrency(spec),
      Math.max(config.minConcurrency, Math.round(decision.desired)),
    );
    if (apply(now, reserved, desired, decision.reason, put, caps)) lastApplied = desired;
  };
}

/** The event source mappings from one queue to one function, as the reconciler lists and caps them. */
interface Mappings {
  /** Lists the mappings on the first call and again once 5 minutes have passed (the link check). */
  refresh(now: number): void;
  /** The queue's mapping's BatchSize, once listed. */
  batchSize(): number | undefined;
  /** The reconciler's #setCaps: MaximumConcurrency = capFor(reserved) on every mapping, only on change. */
  set(reserved: number): boolean;
}

function eventSourceMappings(sim: Simulation, queue: string, fn: string, count: Count): Mappings {
  const queueArn = sim.world.queues.get(queue)?.arn;
  let listed: {
    at: number;
    batchSize: number | undefined;
    caps: { uuid: string; maximumConcurrency: number | undefined }[];
  } | null = null;
  return {
    refresh(now) {
      if (listed !== null && now - listed.at < ESM_REFRESH_MS) return;
      count('lambda:ListEventSourceMappings');
      const esms = [...sim.world.esms.values()].filter(
        (e) => e.functionName === fn && e.queueArn === queueArn,
      );
      listed = {
        at: now,
        batchSize: esms[0]?.batchSize,
        caps: esms.map((e) => ({ uuid: e.uuid, maximumConcurrency: e.maximumConcurrency })),
      };
    },
    batchSize: () => listed?.batchSize,
    set(reserved) {
      const cap = capFor(reserved);
      for (const m of listed?.caps ?? []) {
        if (m.maximumConcurrency === cap) continue;
        try {
          sim.updateEventSourceMaximumConcurrency(m.uuid, cap);
          count('lambda:UpdateEventSourceMapping');
          m.maximumConcurrency = cap;
        } catch (e) {
          if (!(e instanceof AwsApiError)) throw e;
          count('lambda:UpdateEventSourceMapping', e.code);
          return false;
        }
      }
      return true;
    },
  };
}

/**
 * Puts `desired` when it differs from `reserved`; with `caps`, keeps "cap ≤ reserved" at every
 * write as the reconciler does: lowers the cap before lowering reserved, raises it after raising
 * reserved (and re-asserts it when nothing changes). True when `desired` was put.
 */
function apply(
  now: number,
  reserved: number | null,
  desired: number,
  reason: string,
  put: Put,
  caps: Mappings | null,
): boolean {
  if (desired === reserved) {
    caps?.set(desired);
    return false;
  }
  const up = reserved === null || desired > reserved;
  if (caps !== null && !up && !caps.set(desired)) return false;
  if (!put(now, reserved, desired, reason)) return false;
  if (up) caps?.set(desired);
  return true;
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
  return (points, now) => {
    const tl = sim.timeline();
    for (; scanned < tl.length; scanned++) {
      const p = tl[scanned] as TimelinePoint;
      const active = p.arrivals > 0 || p.visible > 0 || p.inFlight > 0 || p.delayed > 0;
      if (!active) continue;
      if (p.t - idleFrom >= COLD_IDLE_S) wakes.push(sim.world.origin + p.t * 1000);
      idleFrom = p.t;
    }
    return points.filter((d) => {
      const wake = wakes.findLast((w) => w <= d.timestamp + 60_000);
      if (wake === undefined || d.timestamp >= wake + COLD_DELAY_S * 1000) return true;
      return now >= d.timestamp + 60_000 + COLD_DELAY_S * 1000;
    });
  };
}

/**
 * The oracle: sizes for next minute's true arrivals plus draining the true backlog, and keeps the
 * mapping's MaximumConcurrency at its reserved concurrency exactly as the operator's cap does (the
 * same `apply` and `Mappings`), so the mapping pulls no batch it would then throttle.
 */
function oraclePoll(sim: Simulation, s: OracleStrategy, o: RunOptions, count: Count, put: Put) {
  const w = o.workload;
  const specs = (w.scenario.traffic[w.queue] ?? []) as readonly TrafficSpec[];
  const base = baseBehaviour(w.scenario, w.fn);
  const util = s.utilization ?? ORACLE_UTILIZATION;
  const drain = s.drainSeconds ?? ORACLE_DRAIN_SECONDS;
  const caps = eventSourceMappings(sim, w.queue, w.fn, count);
  return (now: number): void => {
    caps.refresh(now);
    const t = (now - sim.world.origin) / 1000;
    const rate = expectedArrivals(specs, t, t + 60) / 60;
    const mu = throughputPerUnit(behaviourAt(w, base, t), w.batchSize);
    const q = sim.queueTruth(w.queue);
    const running = sim.runningConcurrency(w.fn);
    const backlog = Math.max(0, q.visible + q.inFlight - running * w.batchSize);
    const need = Math.ceil((rate + backlog / drain) / (mu * util));
    const desired = Math.min(s.max, Math.max(s.min, need));
    apply(now, sim.world.fn(w.fn).reserved ?? null, desired, 'Oracle', put, caps);
  };
}

/**
 * Concurrency the load needed each second: 60 s mean of true arrivals / throughput, within bounds;
 * and the seconds in which that mean was more than the maximum processes.
 */
function demand(
  w: Workload,
  sc: Scenario,
  tl: readonly TimelinePoint[],
  bounds: { min: number; max: number },
): { need: Float64Array; overMaxSeconds: number } {
  const base = baseBehaviour(sc, w.fn);
  const need = new Float64Array(tl.length);
  let overMaxSeconds = 0;
  let sum = 0;
  for (let i = 0; i < tl.length; i++) {
    const p = tl[i] as TimelinePoint;
    sum += p.arrivals;
    if (i >= 60) sum -= (tl[i - 60] as TimelinePoint).arrivals;
    const rate = sum / Math.min(60, i + 1);
    const mu = throughputPerUnit(behaviourAt(w, base, p.t), w.batchSize);
    if (rate > bounds.max * mu) overMaxSeconds++;
    need[i] = Math.min(bounds.max, Math.max(bounds.min, Math.ceil(rate / mu)));
  }
  return { need, overMaxSeconds };
}
