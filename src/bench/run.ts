// One run in virtual time: an account of queues, functions and mappings in awssim, one strategy
// driving every scaler of it (the operator's own reconciler, the original operator's model, a
// fixed value or the clairvoyant reference), and the per-scaler and account measurements.
// Shared by `npm run simulate` (what-if) and `npm run bench`.
import {
  Actuator,
  actuatorOf,
  INVOKES_PER_POLLER,
  type LambdaConcurrencyScalerSpec,
  maxConcurrency,
} from '../api/v1alpha1/index.ts';
import { capFor } from '../aws/ports.ts';
import {
  AwsApiError,
  createSimulation,
  defaultBehaviour,
  defaultParams,
  type EsmModel,
  type FunctionBehaviour,
  type Scenario,
  type Simulation,
} from '../awssim/index.ts';
import { pollersFor } from '../controller/actuate-mapping.ts';
import { shareHeadroom } from '../controller/headroom.ts';
import { type AccountMetrics, measure, measureAccount, type RunMetrics, setting } from './metrics.ts';
import { startOperator } from './operator.ts';
import { startOriginalOperator } from './original.ts';
import { accountUnavoidable, capacityLowerBound, clairvoyantCapacity } from './reference.ts';
import type { Strategy } from './strategy.ts';
import { behaviourAt, throughputPerUnit } from './truth.ts';
import type { Workload } from './workload.ts';

/** One scaler of the account: the queue it reads, the function it scales, its spec and SLO. */
export interface Target {
  name: string;
  queue: string;
  fn: string;
  /** The mapping's BatchSize (for the reference and the demand estimate). */
  batchSize: number;
  spec: LambdaConcurrencyScalerSpec;
  sloSeconds: number;
}

/** The one scaler of a workload document: its queue and function, with the user's spec. */
export function singleTarget(
  w: Workload,
  name: string,
  spec: LambdaConcurrencyScalerSpec,
  sloSeconds: number,
): Target {
  const pointed = { ...spec, awsSQSName: w.queue, awsLambdaName: w.fn };
  return { name, queue: w.queue, fn: w.fn, batchSize: w.batchSize, spec: pointed, sloSeconds };
}

/** A change of a function's reserved concurrency, seen second by second in the simulation. */
export interface Action {
  /** Seconds since the start. */
  t: number;
  /** null: no reserved concurrency. */
  from: number | null;
  to: number | null;
}

/** One second of one scaler's queue and function (exact values, for charts and metrics). */
export interface TargetPoint {
  t: number;
  arrivals: number;
  visible: number;
  inFlight: number;
  delayed: number;
  /** Reserved concurrency (0 when none is reserved). */
  reserved: number;
  /** Running invocations. */
  concurrency: number;
  /** The mapping's pollers. */
  pollers: number;
  /**
   * Without reserved concurrency (a mapping actuator), the concurrency the mappings hold instead:
   * in provisioned mode their pollers' (never below MinimumPollers × 10), else the sum of their
   * MaximumConcurrency (0 while one has none: unlimited, the account's pool). 0 with a reservation.
   */
  mappingHeld: number;
  /** Without reserved concurrency, what is set on the mappings: MaximumPollers × 10, or the caps. */
  mappingSet: number;
}

/** What one scaler measured. */
export interface TargetResult {
  target: Target;
  metrics: RunMetrics;
  actions: Action[];
  timeline: TargetPoint[];
  /** Concurrency the load needed each second (60 s mean arrivals / throughput, within bounds). */
  need: Float64Array;
}

export interface RunOptions {
  workload: Workload;
  strategy: Strategy;
  seed: number;
  /** Simulated length, seconds (default: the workload's). */
  durationSeconds?: number;
  /** The scalers of the account (see `singleTarget` for one). */
  targets: readonly Target[];
  /** awssim's event source mapping model (default: the scenario's, else `documented`). */
  esmModel?: EsmModel | undefined;
}

/** Everything one run produced; `metrics`, `actions`, `timeline` and `need` are the first scaler's. */
export interface RunResult {
  strategy: string;
  seed: number;
  durationSeconds: number;
  /** Polling interval of the strategy, seconds (0 for static). */
  intervalSeconds: number;
  targets: TargetResult[];
  account: AccountMetrics;
  metrics: RunMetrics;
  actions: Action[];
  timeline: TargetPoint[];
  need: Float64Array;
}

/** Deterministic phase of the first poll, so a 300 s period does not always align with the load. */
function phaseMs(seed: number, intervalSeconds: number, index: number): number {
  const x = Math.imul(seed + 1 + index * 7919, 2_654_435_761) >>> 0;
  return 1000 + (x % Math.max(1, intervalSeconds)) * 1000;
}

/** The target's spec pointed at its simulated queue and function. */
function specOf(t: Target, spec: LambdaConcurrencyScalerSpec): LambdaConcurrencyScalerSpec {
  return { ...spec, awsSQSName: t.queue, awsLambdaName: t.fn };
}

const boundsOf = (t: Target) => ({ min: t.spec.awsLambdaMinConcurrency, max: maxConcurrency(t.spec) });

/**
 * The scenario at the start: every target's function at its minimum; a static strategy's at its
 * value, with the mappings' MaximumConcurrency set to it when it caps them — configured before the
 * first message as a user would, so neither costs an API call.
 */
function initialScenario(w: Workload, targets: readonly Target[], s: Strategy): Scenario {
  const start = new Map(
    targets.map((t, i) => [
      t.fn,
      s.kind === 'static' ? (s.concurrency[i] ?? boundsOf(t).max) : t.spec.awsLambdaMinConcurrency,
    ]),
  );
  const capped = s.kind === 'static' && s.capEventSource === true;
  // A mapping actuator's function has no reservation; its mapping starts at the minimum, in
  // provisioned mode for ProvisionedPollers (as its user configured it before the operator).
  const mappingOnly = new Map<string, { actuator: Actuator; spec: LambdaConcurrencyScalerSpec }>();
  targets.forEach((t, i) => {
    if (s.kind === 'static' && s.provisioned === true)
      mappingOnly.set(t.fn, { actuator: Actuator.ProvisionedPollers, spec: t.spec });
    const spec = s.kind === 'operator' ? s.specs[i] : undefined;
    if (spec !== undefined && actuatorOf(spec) !== Actuator.ReservedConcurrency)
      mappingOnly.set(t.fn, { actuator: actuatorOf(spec), spec });
  });
  return {
    ...w.scenario,
    functions: w.scenario.functions.map((f) => {
      const r = start.get(f.name);
      if (mappingOnly.has(f.name)) {
        const { reservedConcurrency: _none, ...unreserved } = f;
        return unreserved;
      }
      return r === undefined ? f : { ...f, reservedConcurrency: r };
    }),
    eventSourceMappings: w.scenario.eventSourceMappings.map((e) => {
      const r = start.get(e.function);
      const m = mappingOnly.get(e.function);
      if (m !== undefined && s.kind === 'static')
        return {
          ...e,
          provisionedPollers: { minimum: 2, maximum: pollersFor(maxConcurrency(m.spec), 0).maximum },
        };
      if (m?.actuator === Actuator.ProvisionedPollers) {
        const p = pollersFor(m.spec.awsLambdaMinConcurrency, m.spec.awsLambdaMinConcurrency);
        return { ...e, provisionedPollers: p };
      }
      if (m?.actuator === Actuator.EventSourceMaximumConcurrency)
        return { ...e, maximumConcurrency: capFor(m.spec.awsLambdaMinConcurrency) };
      return capped && r !== undefined ? { ...e, maximumConcurrency: capFor(r) } : e;
    }),
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

/** Messages one unit of the target's function processes per second at second t (truth). */
export function throughputOf(w: Workload, t: Target): (s: number) => number {
  const base = baseBehaviour(w.scenario, t.fn);
  return (s) => throughputPerUnit(behaviourAt(w, base, s, t.fn), t.batchSize);
}

function simulation(
  w: Workload,
  targets: readonly Target[],
  s: Strategy,
  seed: number,
  esmModel?: EsmModel,
): Simulation {
  const slos = [...new Set(targets.map((t) => t.sloSeconds * 1000))];
  const sim = createSimulation({
    scenario: initialScenario(w, targets, s),
    seed,
    clock: 'virtual',
    params: { sloMs: slos },
    ...(esmModel === undefined ? {} : { esmModel }),
  });
  for (const c of w.changes) sim.schedule(c.at * 1000, () => sim.setBehaviour(c.fn ?? w.fn, c.behaviour));
  return sim;
}

/** Records each target's queue and function every second. */
function sampler(sim: Simulation, targets: readonly Target[]): TargetPoint[][] {
  const series = targets.map(() => [] as TargetPoint[]);
  const sent = targets.map(() => 0);
  sim.every(1000, () => {
    const t = Math.round(sim.elapsedMs() / 1000);
    targets.forEach((tg, i) => {
      const x = sim.truthOf(tg.queue, tg.fn);
      const pollers = sim.esmConcurrency(tg.fn);
      const viaMapping = x.reserved === null ? mappingCapacity(sim, tg.fn, pollers) : { held: 0, set: 0 };
      series[i]?.push({
        t,
        arrivals: x.sent - (sent[i] as number),
        visible: x.visible,
        inFlight: x.inFlight,
        delayed: x.delayed,
        reserved: x.reserved ?? 0,
        concurrency: x.running,
        pollers,
        mappingHeld: viaMapping.held,
        mappingSet: viaMapping.set,
      });
      sent[i] = x.sent;
    });
  });
  return series;
}

/** What an unreserved function's mappings hold and have set (TargetPoint.mappingHeld, mappingSet). */
function mappingCapacity(sim: Simulation, fn: string, pollers: number): { held: number; set: number } {
  const ms = sim.eventSourceMappings(fn).filter((m) => m.enabled);
  if (ms.length === 0) return { held: 0, set: 0 };
  if (ms.some((m) => m.provisionedPollers !== undefined))
    return {
      held: pollers,
      set: ms.reduce((a, m) => a + (m.provisionedPollers?.maximum ?? 0) * INVOKES_PER_POLLER, 0),
    };
  if (ms.some((m) => m.maximumConcurrency === undefined)) return { held: 0, set: 0 };
  const caps = ms.reduce((a, m) => a + (m.maximumConcurrency ?? 0), 0);
  return { held: caps, set: caps };
}

/** The arrivals of every target, second by second, for a seed: what the clairvoyant knows. */
export async function arrivalTrace(
  w: Workload,
  targets: readonly Target[],
  seed: number,
  durationSeconds: number,
): Promise<Float64Array[]> {
  const minimum = targets.map((t) => t.spec.awsLambdaMinConcurrency);
  const sim = simulation(w, targets, { kind: 'static', label: 'trace', concurrency: minimum }, seed);
  const series = sampler(sim, targets);
  await sim.runUntil(durationSeconds * 1000);
  return series.map((s) => Float64Array.from(s, (p) => p.arrivals));
}

/** Runs one strategy against one account with one seed, in virtual time. */
export async function runOnce(o: RunOptions): Promise<RunResult> {
  const durationSeconds = o.durationSeconds ?? o.workload.durationSeconds;
  const targets = o.targets;
  const s = o.strategy;
  const trace =
    s.kind === 'clairvoyant' ? await arrivalTrace(o.workload, targets, o.seed, durationSeconds) : [];
  const sim = simulation(o.workload, targets, s, o.seed, o.esmModel);
  const series = sampler(sim, targets);
  let intervalSeconds = 0;
  let failures: ReadonlyMap<string, number> = new Map();
  if (s.kind === 'operator') {
    const scalers = targets.map((t, i) => ({ name: t.name, spec: specOf(t, s.specs[i] ?? t.spec) }));
    intervalSeconds = scalers[0]?.spec.pollingIntervalSeconds ?? 30;
    const op = startOperator(sim, {
      scalers,
      firstAtMs: (i) => phaseMs(o.seed, scalers[i]?.spec.pollingIntervalSeconds ?? 30, i),
    });
    failures = op.failures;
  } else if (s.kind === 'original') {
    intervalSeconds = 300;
    targets.forEach((t, i) => {
      startOriginalOperator(sim, {
        spec: specOf(t, s.specs[i] ?? t.spec),
        queue: t.queue,
        fn: t.fn,
        firstAtMs: phaseMs(o.seed, intervalSeconds, i),
      });
    });
  } else if (s.kind === 'clairvoyant') {
    intervalSeconds = s.intervalSeconds ?? 10;
    const mu = targets.map((t) => throughputOf(o.workload, t));
    sim.every(
      intervalSeconds * 1000,
      clairvoyant(sim, targets, trace, mu, { present: s.knows === 'present', fair: s.share === 'fair' }),
      s.phased === true ? phaseMs(o.seed, intervalSeconds, 0) : 1000,
    );
  }
  await sim.runUntil(durationSeconds * 1000);

  const report = sim.report();
  const results = targets.map((t, i): TargetResult => {
    const timeline = series[i] ?? [];
    const mu = throughputOf(o.workload, t);
    const need = demand(timeline, mu, boundsOf(t));
    const arrivals = Float64Array.from(timeline, (p) => p.arrivals);
    const bound = capacityLowerBound({ arrivals, throughput: mu, sloSeconds: t.sloSeconds, ...boundsOf(t) });
    const actions = actionsOf(timeline);
    const metrics = measure({
      report,
      target: t,
      dlqMoves: sim.queueTruth(t.queue).dlqMoves,
      timeline,
      need: need.need,
      overMaxSeconds: need.overMaxSeconds,
      actions,
      calls: targets.length === 1 ? report.apiCalls : {},
      intervalSeconds,
      max: boundsOf(t).max,
      throughput: mu,
      bound,
    });
    return { target: t, metrics, actions, timeline, need: need.need };
  });
  const limit = o.workload.scenario.account?.concurrency ?? defaultParams.accountConcurrency;
  const unreservedMin = o.workload.scenario.account?.unreservedMin ?? defaultParams.unreservedMin;
  const unavoidable = accountUnavoidable(
    results.map((r) => ({
      arrivals: Float64Array.from(r.timeline, (p) => p.arrivals),
      throughput: throughputOf(o.workload, r.target),
      sloSeconds: r.target.sloSeconds,
    })),
    limit - unreservedMin,
  );
  const account = measureAccount({
    report,
    targets: results,
    unavoidable,
    limit,
    unreservedMin,
    controlPlaneRps: o.workload.scenario.account?.controlPlaneRps ?? defaultParams.controlPlaneRps,
    failures,
  });
  const first = results[0];
  if (first === undefined) throw new Error('a run needs at least one scaler');
  return {
    strategy: s.label,
    seed: o.seed,
    durationSeconds,
    intervalSeconds,
    targets: results,
    account,
    metrics: first.metrics,
    actions: first.actions,
    timeline: first.timeline,
    need: first.need,
  };
}

/** PutFunctionConcurrency; false when the API refused it (throttled, or the unreserved floor). */
function tryPut(sim: Simulation, fn: string, value: number): boolean {
  try {
    sim.putFunctionConcurrency(fn, value);
    return true;
  } catch (e) {
    if (e instanceof AwsApiError) return false;
    throw e;
  }
}

/**
 * The clairvoyant reference: every interval, each function gets `clairvoyantCapacity` from the
 * whole future trace and the true backlog, and the mapping's MaximumConcurrency follows it (lowered
 * before reserved, raised after). Scale-downs go first; raises share what the account's floor
 * leaves, largest shortfall first. Its writes are API calls with awssim's quotas like anyone's.
 */
function clairvoyant(
  sim: Simulation,
  targets: readonly Target[],
  trace: readonly Float64Array[],
  mu: readonly ((t: number) => number)[],
  { present, fair }: { present: boolean; fair: boolean },
): (now: number) => void {
  const mappings = new Map<string, { uuid: string; cap: number | undefined }[]>();
  const setCaps = (fn: string, reserved: number) => {
    let list = mappings.get(fn);
    if (list === undefined) {
      try {
        list = sim
          .listEventSourceMappings({ functionName: fn })
          .mappings.map((m) => ({ uuid: m.uuid, cap: m.maximumConcurrency }));
      } catch (e) {
        if (!(e instanceof AwsApiError)) throw e;
        return; // throttled: again on the next round
      }
      mappings.set(fn, list);
    }
    for (const m of list) {
      const cap = capFor(reserved);
      if (m.cap === cap) continue;
      try {
        sim.updateEventSourceMaximumConcurrency(m.uuid, cap);
        m.cap = cap;
      } catch (e) {
        if (!(e instanceof AwsApiError)) throw e;
      }
    }
  };
  return () => {
    const t = sim.elapsedMs() / 1000;
    const plans = targets.map((tg, i) => {
      const x = sim.truthOf(tg.queue, tg.fn);
      const backlog = Math.max(0, x.visible + x.inFlight - x.running * tg.batchSize);
      const want = clairvoyantCapacity({
        t,
        arrivals: trace[i] ?? new Float64Array(0),
        backlog,
        throughput: mu[i]?.(t) ?? 1,
        sloSeconds: tg.sloSeconds,
        ...boundsOf(tg),
        present,
      });
      return { tg, have: x.reserved, want };
    });
    for (const p of plans)
      if (p.have !== null && p.want < p.have) {
        setCaps(p.tg.fn, p.want);
        if (tryPut(sim, p.tg.fn, p.want)) p.have = p.want;
      }
    const ups = plans
      .filter((p) => p.have === null || p.want > p.have)
      .sort((a, b) => b.want - (b.have ?? 0) - (a.want - (a.have ?? 0)));
    if (fair && ups.length > 1) {
      // As the operator's ledger shares it: priority, then water-filling (one engine: its function).
      const headroom = headroomOf(sim) ?? 0;
      const grants = shareHeadroom(
        ups.map((p) => ({ id: p.tg.fn, priority: p.tg.spec.priority ?? 0, wanted: p.want - (p.have ?? 0) })),
        headroom,
      );
      for (const p of ups) {
        const value = (p.have ?? 0) + (grants.get(p.tg.fn) ?? 0);
        if (value > (p.have ?? 0) && tryPut(sim, p.tg.fn, value)) p.have = value;
      }
    } else {
      for (const p of ups) {
        let value = p.want;
        if (ups.length > 1) {
          // Largest shortfall first: ask the account what the floor leaves, as anyone must.
          const room = headroomOf(sim);
          if (room !== undefined) value = Math.min(value, room + (p.have ?? 0));
        }
        if (value > (p.have ?? 0) && tryPut(sim, p.tg.fn, value)) p.have = value;
      }
    }
    for (const p of plans) if (p.have !== null) setCaps(p.tg.fn, p.have);
  };
}

/** What the account can still reserve above its floor of 100, asked as anyone must; undefined when refused. */
function headroomOf(sim: Simulation): number | undefined {
  try {
    return sim.getAccountConcurrency().unreserved - 100;
  } catch (e) {
    if (!(e instanceof AwsApiError)) throw e;
    return undefined;
  }
}

/** Each second's change of what the strategy sets (reserved concurrency, or the mapping's value). */
function actionsOf(tl: readonly TargetPoint[]): Action[] {
  const out: Action[] = [];
  for (let i = 1; i < tl.length; i++) {
    const a = tl[i - 1] as TargetPoint;
    const b = tl[i] as TargetPoint;
    if (setting(a) !== setting(b)) out.push({ t: b.t, from: setting(a) || null, to: setting(b) || null });
  }
  return out;
}

/**
 * Concurrency the load needed each second: 60 s mean of true arrivals / throughput, within bounds;
 * and the seconds in which that mean was more than the maximum processes.
 */
function demand(
  tl: readonly TargetPoint[],
  throughput: (t: number) => number,
  bounds: { min: number; max: number },
): { need: Float64Array; overMaxSeconds: number } {
  const need = new Float64Array(tl.length);
  let overMaxSeconds = 0;
  let sum = 0;
  for (let i = 0; i < tl.length; i++) {
    const p = tl[i] as TargetPoint;
    sum += p.arrivals;
    if (i >= 60) sum -= (tl[i - 60] as TargetPoint).arrivals;
    const rate = sum / Math.min(60, i + 1);
    const mu = throughput(p.t);
    if (rate > bounds.max * mu) overMaxSeconds++;
    need[i] = Math.min(bounds.max, Math.max(bounds.min, Math.ceil(rate / mu)));
  }
  return { need, overMaxSeconds };
}
