// The benchmark's pieces: a scenario file (a workload plus the user's original spec and an SLO), the
// strategies every scenario is run with, and the per-run summary a worker sends back.
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  Actuator,
  type LambdaConcurrencyScalerSpec,
  MAXIMUM_CONCURRENCY,
  maxConcurrency,
  parseSpec,
} from '../api/v1alpha1/index.ts';
import { defaultBehaviour, defaultParams } from '../awssim/index.ts';
import { type AccountMetrics, type RunMetrics, setting } from './metrics.ts';
import { CLAIRVOYANT_LOOKAHEAD_SECONDS, CLAIRVOYANT_UTILIZATION } from './reference.ts';
import { type RunResult, singleTarget, type Target } from './run.ts';
import type { Strategy } from './strategy.ts';
import { throughputPerUnit } from './truth.ts';
import { parseAccountWorkload, parseWorkload, type Workload, WorkloadError } from './workload.ts';

/** The six original fields of a scaler (queue and function names are filled in). */
const scalerFields = z.record(z.string(), z.unknown());

/** A benchmark scenario file with one scaler (documented in bench/README.md). */
const singleSchema = z.strictObject({
  title: z.string().min(1),
  description: z.string().optional(),
  sloSeconds: z.number().positive().default(60),
  scaler: scalerFields,
  workload: z.record(z.string(), z.unknown()),
});

/** A benchmark scenario file with an account of several scalers. */
const accountSchema = z.strictObject({
  title: z.string().min(1),
  description: z.string().optional(),
  sloSeconds: z.number().positive().default(60),
  durationSeconds: z.number().positive().optional(),
  account: z.record(z.string(), z.unknown()).optional(),
  model: z.record(z.string(), z.unknown()).optional(),
  scalers: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[a-z0-9-]{1,60}$/),
        sloSeconds: z.number().positive().optional(),
        scaler: scalerFields,
        workload: z.record(z.string(), z.unknown()),
      }),
    )
    .min(1),
});

export interface BenchScenario {
  /** File name without extension. */
  id: string;
  file: string;
  title: string;
  description: string;
  /** The first scaler's SLO and spec (the only ones in a single-scaler file). */
  sloSeconds: number;
  spec: LambdaConcurrencyScalerSpec;
  workload: Workload;
  /** Every scaler of the account, in the file's order. */
  targets: Target[];
}

const issuesOf = (error: z.ZodError) =>
  error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);

/** Validates a scaler's fields as the API server would, naming them `<prefix>.<field>`. */
function specFor(fields: Record<string, unknown>, queue: string, fn: string, file: string, prefix: string) {
  const spec = parseSpec({ awsSQSName: queue, awsLambdaName: fn, ...fields });
  if (!spec.ok)
    throw new WorkloadError(
      file,
      spec.issues.map((i) => `${i.path.replace(/^spec\./, `${prefix}.`)}: ${i.message}`),
    );
  return spec.spec;
}

/** Reads and validates a benchmark scenario (one scaler, or an account of several); errors name the field. */
export function loadBenchScenario(file: string): BenchScenario {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new WorkloadError(file, [`(file): ${(e as Error).message}`], { cause: e });
  }
  const id = basename(file).replace(/\.ya?ml$/, '');
  const baseDir = dirname(resolve(file));
  if (raw !== null && typeof raw === 'object' && 'scalers' in raw) {
    const r = accountSchema.safeParse(raw);
    if (!r.success) throw new WorkloadError(file, issuesOf(r.error));
    const d = r.data;
    const workload = parseAccountWorkload(
      {
        name: id,
        durationSeconds: d.durationSeconds,
        account: d.account,
        model: d.model,
        scalers: d.scalers,
      },
      file,
      baseDir,
    );
    const targets = d.scalers.map((sc, i): Target => {
      const esm = workload.scenario.eventSourceMappings.find((e) => e.function === sc.name);
      return {
        name: sc.name,
        queue: sc.name,
        fn: sc.name,
        batchSize: esm?.batchSize ?? 10,
        spec: specFor(sc.scaler, sc.name, sc.name, file, `scalers[${i}].scaler`),
        sloSeconds: sc.sloSeconds ?? d.sloSeconds,
      };
    });
    const first = targets[0] as Target;
    return {
      id,
      file,
      title: d.title,
      description: d.description ?? '',
      sloSeconds: first.sloSeconds,
      spec: first.spec,
      workload,
      targets,
    };
  }
  const r = singleSchema.safeParse(raw);
  if (!r.success) throw new WorkloadError(file, issuesOf(r.error));
  let workload: Workload;
  try {
    workload = parseWorkload(r.data.workload, file, baseDir);
  } catch (e) {
    if (e instanceof WorkloadError)
      throw new WorkloadError(
        file,
        e.issues.map((i) => `workload.${i}`),
        { cause: e },
      );
    throw e;
  }
  const spec = specFor(r.data.scaler, workload.queue, workload.fn, file, 'scaler');
  return {
    id,
    file,
    title: r.data.title,
    description: r.data.description ?? '',
    sloSeconds: r.data.sloSeconds,
    spec,
    workload,
    targets: [singleTarget(workload, id, spec, r.data.sloSeconds)],
  };
}

/**
 * The recommended configuration the verdicts are about: LatencySLO with
 * `eventSourceMapping.manageMaximumConcurrency: true` (for a mapping dedicated to the function; the
 * CRD default stays off).
 */
export const RECOMMENDED = 'LatencySLO + ESM cap + Duration (ours)';
/**
 * The recommended configuration with the service time learned from the queue's counts alone
 * (serviceTimeSource QueueCounts, the default): what reading the function's Duration buys.
 */
export const COUNTS_ONLY = 'LatencySLO + ESM cap (ours)';
/** The same policy without the cap (the CRD default): its verdicts show what not capping costs. */
export const WITHOUT_CAP = 'LatencySLO (ours)';
/**
 * The recommended configuration with a faster scale-up rate policy (FAST_SCALE_UP_POLICIES):
 * what a shared account's bursts gain from letting the learning probe follow the backlog.
 */
export const FAST_SCALE_UP = 'LatencySLO + ESM cap + Duration, fast scale-up (ours)';
/**
 * The recommended configuration polling every 10 s instead of 30: what seeing a burst sooner buys,
 * and (the lag section) how much of it stays when SQS's approximate counts are older.
 */
export const FAST_POLLS = 'LatencySLO + ESM cap + Duration, 10 s polls (ours)';
/** behavior.scaleUp.policies of FAST_SCALE_UP: 400 % (×5) or 4 units per 15 s, whichever is more. */
export const FAST_SCALE_UP_POLICIES = [
  { type: 'Percent' as const, value: 400, periodSeconds: 15 },
  { type: 'Concurrency' as const, value: 4, periodSeconds: 15 },
];
export const ORIGINAL = 'original';
/** The clairvoyant controller (reference.ts), judged against the capacity lower bound. */
export const REFERENCE = 'clairvoyant';
/**
 * The reactive reference (reference.ts, `present`): the clairvoyant blind to the future. Where a
 * policy misses the clairvoyant's violations, it tells how much of the gap reacting at all costs.
 */
export const REACTIVE_REFERENCE = 'reactive reference';
/**
 * The reactive reference re-sizing only as often as the recommended configuration polls (every
 * 30 s, its first re-size at the operator's seeded phase): what the poll interval costs exact
 * reaction.
 */
export const REACTIVE_AT_POLLS = 'reactive reference, 30 s';
/**
 * The same sharing the account's headroom between scalers as the operator's ledger does (priority,
 * then fairly): what fair sharing costs where bursts overlap. Only where an account has several.
 */
export const REACTIVE_FAIR = 'reactive reference, 30 s, fair share';
/**
 * The rungs between the clairvoyant and a policy, in order: each removes one advantage the
 * clairvoyant has over the operator (foresight, 10 s re-sizing, taking the headroom largest need
 * first), so a policy's miss splits into what each costs and what is left, the policy's own.
 */
export const REACTIVE_LADDER: readonly string[] = [REACTIVE_REFERENCE, REACTIVE_AT_POLLS, REACTIVE_FAIR];
/** The strategies that are yardsticks, not products: never "the fewest violations" of a scenario. */
export const REFERENCES: ReadonlySet<string> = new Set([REFERENCE, ...REACTIVE_LADDER]);
export const STATIC_MAX = 'static max';
/** Reserved concurrency and the mapping's cap at the maximum all run: the floor of violations. */
export const STATIC_MAX_CAPPED = 'static max + ESM cap';
export const STATIC_MIN = 'static min';
/** LatencySLO driving only the mapping's ScalingConfig.MaximumConcurrency (no reservation). */
export const MAPPING_CAP_ALONE = 'LatencySLO, mapping cap alone (ours)';
/** LatencySLO driving only a provisioned-mode mapping's MaximumPollers (no reservation). */
export const PROVISIONED_POLLERS = 'LatencySLO, provisioned pollers (ours)';
/** A provisioned-mode mapping left to AWS's own scaling (MinimumPollers 2): the lever's baseline. */
export const PROVISIONED_ALONE = 'provisioned mode alone';
/**
 * Strategies that put the mapping in provisioned mode: another system than the clairvoyant's (a
 * standard-mode mapping under reserved concurrency; in provisioned mode the mapping scales up to
 * 1,000 a minute instead of 300), so "fewer violations and less capacity than the clairvoyant" is
 * no breach of the reference for them; the lower bound, which holds for any mapping, still applies.
 */
export const PROVISIONED_MODE: ReadonlySet<string> = new Set([PROVISIONED_POLLERS, PROVISIONED_ALONE]);

/** The scenario's bounds moved into what the lever can write (2–1000; whole pollers of 10, 20–20,000). */
function boundsFor(
  actuator: Actuator,
  spec: LambdaConcurrencyScalerSpec,
): Pick<LambdaConcurrencyScalerSpec, 'awsLambdaMinConcurrency' | 'awsLamndaMaxConcurrency'> & {
  awsLambdaMaxConcurrency?: undefined;
} {
  const min = spec.awsLambdaMinConcurrency;
  const max = maxConcurrency(spec);
  if (actuator === Actuator.EventSourceMaximumConcurrency)
    return {
      awsLambdaMinConcurrency: Math.max(MAXIMUM_CONCURRENCY.min, min),
      awsLamndaMaxConcurrency: Math.min(MAXIMUM_CONCURRENCY.max, max),
    };
  const lo = Math.min(2000, Math.max(20, Math.ceil(min / 10) * 10));
  return {
    awsLambdaMinConcurrency: lo,
    awsLamndaMaxConcurrency: Math.min(20_000, Math.max(lo, Math.ceil(max / 10) * 10)),
  };
}

/** Messages one unit processes per second at the start, from the scenario's function. */
function initialThroughput(s: BenchScenario, t: Target): number {
  const f = s.workload.scenario.functions.find((x) => x.name === t.fn);
  return throughputPerUnit(
    {
      duration: f?.duration ?? defaultBehaviour.duration,
      per: f?.per ?? defaultBehaviour.per,
      coldStart: f?.coldStart ?? defaultBehaviour.coldStart,
      errorRate: f?.errorRate ?? defaultBehaviour.errorRate,
    },
    t.batchSize,
  );
}

/**
 * Every scaler's maximum; when together they exceed what the account can reserve (its limit minus
 * the unreserved floor), shares of that in proportion to the maxima (never below a minimum).
 */
export function staticMax(s: BenchScenario): number[] {
  const maxima = s.targets.map((t) => maxConcurrency(t.spec));
  const a = s.workload.scenario.account;
  const room =
    (a?.concurrency ?? defaultParams.accountConcurrency) - (a?.unreservedMin ?? defaultParams.unreservedMin);
  const total = maxima.reduce((x, y) => x + y, 0);
  if (total <= room) return maxima;
  return s.targets.map((t, i) =>
    Math.max(t.spec.awsLambdaMinConcurrency, Math.floor(((maxima[i] as number) * room) / total)),
  );
}

/**
 * The strategies, with settings chosen once by the rules in docs/policies.md (never per scenario),
 * applied to every scaler of the account:
 * - original: a model of the original operator (original.ts) — Step every 300 s on the SUM of
 *   1-minute CloudWatch datapoints of the visible count over the last 300 s, published 1–2 minutes late;
 * - KEDA-like: TargetTracking with KEDA's aws-sqs-queue defaults (queueLength 5, scaleOnInFlight),
 *   30 s polling and the HPA's default behavior;
 * - Step (ours): the spec's step, 30 s polling on GetQueueAttributes, the threshold divided by five
 *   (the upgrade advice: the original compared a five-minute sum) and a scale-down threshold at 40% of it;
 * - TargetTracking (ours): target = throughput of one unit × 10 s of waiting (the docs' rule);
 * - LatencySLO (ours): maxWaitSeconds = half the SLO (the other half covers the poll interval and
 *   the event source's ramp-up), every other field defaulted;
 * - LatencySLO + ESM cap (ours): the same spec with `eventSourceMapping.manageMaximumConcurrency`
 *   on — the mapping's MaximumConcurrency follows the reserved concurrency (clamped to 2–1000);
 * - LatencySLO + ESM cap + Duration (ours, recommended): the same with
 *   `policy.latencySLO.serviceTimeSource: CloudWatch` — what one unit processes comes from the
 *   function's mean Duration as CloudWatch publishes it (1–2 minutes late), not from the counts;
 * - LatencySLO + ESM cap + Duration, fast scale-up (ours): the recommended configuration with
 *   behavior.scaleUp at 400 % or 4 units per 15 s (the default is 100 %);
 * - references: static max, static max with the mapping capped at it (the floor of violations
 *   within the bounds), static min, and the clairvoyant (reference.ts).
 * Every "ours" strategy is the manager's own ScalerReconciler (operator.ts).
 */
export function strategiesFor(s: BenchScenario): Strategy[] {
  const each = (f: (spec: LambdaConcurrencyScalerSpec, t: Target) => LambdaConcurrencyScalerSpec) =>
    s.targets.map((t) => f(t.spec, t));
  const threshold = (spec: LambdaConcurrencyScalerSpec) =>
    Math.max(1, Math.round(spec.awsSQSMsgCountThreshold / 5));
  const slo = (spec: LambdaConcurrencyScalerSpec, t: Target): LambdaConcurrencyScalerSpec => ({
    ...spec,
    policy: { type: 'LatencySLO', latencySLO: { maxWaitSeconds: Math.max(1, Math.round(t.sloSeconds / 2)) } },
  });
  const duration = (spec: LambdaConcurrencyScalerSpec, t: Target): LambdaConcurrencyScalerSpec => ({
    ...spec,
    policy: {
      type: 'LatencySLO',
      latencySLO: {
        maxWaitSeconds: Math.max(1, Math.round(t.sloSeconds / 2)),
        serviceTimeSource: 'CloudWatch',
      },
    },
  });
  return [
    { kind: 'original', label: ORIGINAL, specs: each((spec) => spec) },
    {
      kind: 'operator',
      label: 'KEDA-like',
      specs: each((spec) => ({
        ...spec,
        policy: { type: 'TargetTracking', targetTracking: { targetBacklogPerConcurrency: 5 } },
        metrics: { includeInFlight: true },
      })),
    },
    {
      kind: 'operator',
      label: 'Step (ours)',
      specs: each((spec) => ({
        ...spec,
        awsSQSMsgCountThreshold: threshold(spec),
        policy: { type: 'Step', step: { scaleDownThreshold: Math.floor(threshold(spec) * 0.4) } },
      })),
    },
    {
      kind: 'operator',
      label: 'TargetTracking (ours)',
      specs: each((spec, t) => ({
        ...spec,
        policy: {
          type: 'TargetTracking',
          targetTracking: {
            targetBacklogPerConcurrency: Math.max(1, Math.round(initialThroughput(s, t) * 10)),
          },
        },
      })),
    },
    { kind: 'operator', label: WITHOUT_CAP, specs: each(slo) },
    {
      kind: 'operator',
      label: COUNTS_ONLY,
      specs: each((spec, t) => ({ ...slo(spec, t), eventSourceMapping: { manageMaximumConcurrency: true } })),
    },
    {
      kind: 'operator',
      label: RECOMMENDED,
      specs: each((spec, t) => ({
        ...duration(spec, t),
        eventSourceMapping: { manageMaximumConcurrency: true },
      })),
    },
    {
      kind: 'operator',
      label: MAPPING_CAP_ALONE,
      specs: each((spec, t) => ({
        ...slo(spec, t),
        ...boundsFor(Actuator.EventSourceMaximumConcurrency, spec),
        actuator: Actuator.EventSourceMaximumConcurrency,
      })),
    },
    {
      kind: 'operator',
      label: PROVISIONED_POLLERS,
      specs: each((spec, t) => ({
        ...slo(spec, t),
        ...boundsFor(Actuator.ProvisionedPollers, spec),
        actuator: Actuator.ProvisionedPollers,
      })),
    },
    {
      kind: 'operator',
      label: FAST_POLLS,
      specs: each((spec, t) => ({
        ...duration(spec, t),
        eventSourceMapping: { manageMaximumConcurrency: true },
        pollingIntervalSeconds: 10,
      })),
    },
    {
      kind: 'operator',
      label: FAST_SCALE_UP,
      specs: each((spec, t) => ({
        ...duration(spec, t),
        eventSourceMapping: { manageMaximumConcurrency: true },
        behavior: { scaleUp: { policies: FAST_SCALE_UP_POLICIES } },
      })),
    },
    { kind: 'static', label: STATIC_MAX, concurrency: staticMax(s) },
    { kind: 'static', label: STATIC_MAX_CAPPED, concurrency: staticMax(s), capEventSource: true },
    { kind: 'static', label: STATIC_MIN, concurrency: s.targets.map((t) => t.spec.awsLambdaMinConcurrency) },
    { kind: 'static', label: PROVISIONED_ALONE, concurrency: [], provisioned: true },
    { kind: 'clairvoyant', label: REFERENCE },
    { kind: 'clairvoyant', label: REACTIVE_REFERENCE, knows: 'present' },
    { kind: 'clairvoyant', label: REACTIVE_AT_POLLS, knows: 'present', intervalSeconds: 30, phased: true },
    ...(s.targets.length > 1
      ? [
          {
            kind: 'clairvoyant' as const,
            label: REACTIVE_FAIR,
            knows: 'present' as const,
            intervalSeconds: 30,
            phased: true,
            share: 'fair' as const,
          },
        ]
      : []),
  ];
}

/** A human line per strategy for the report (the first scaler's settings). */
export function describeStrategy(st: Strategy): string {
  if (st.kind === 'static' && st.provisioned === true)
    return 'no reserved concurrency; the mapping in provisioned mode with MinimumPollers 2 and MaximumPollers = the maximum / 10, scaling by itself (up to +1,000 concurrent invokes a minute)';
  if (st.kind === 'static') {
    const values = [...new Set(st.concurrency)].join('/');
    return `reserved concurrency fixed at ${values}${st.capEventSource === true ? ", and the event source mapping's MaximumConcurrency set to it (2–1,000) at the start" : ''}`;
  }
  if (st.kind === 'clairvoyant' && st.knows === 'present') {
    const when =
      st.phased === true
        ? ` (the first at the operator's first poll: as often and as soon as the recommended configuration looks)`
        : '';
    const share =
      st.share === 'fair'
        ? "the mapping as the clairvoyant's; raises share the account's headroom as the operator's ledger does (priority, then fairly, src/controller/headroom.ts)"
        : "the mapping and the account's headroom as the clairvoyant's";
    return `every ${st.intervalSeconds ?? 10} s${when}: ⌈(mean of the true arrivals in the last 60 s + true waiting messages / (SLO/2)) / (true throughput per unit × ${CLAIRVOYANT_UTILIZATION})⌉ within [min, max]: the clairvoyant without foresight, exact about the present (no approximate counts, no estimate, no rate limit), blind to what comes; ${share}`;
  }
  if (st.kind === 'clairvoyant')
    return `every ${st.intervalSeconds ?? 10} s: ⌈(highest 60 s mean of the true arrivals in the next ${CLAIRVOYANT_LOOKAHEAD_SECONDS} s + true waiting messages / (SLO/2)) / (true throughput per unit × ${CLAIRVOYANT_UTILIZATION})⌉ within [min, max], knowing the whole arrival trace; the mapping's MaximumConcurrency kept at it (lowered before, raised after); raises share the account's headroom above the floor, the largest shortfall first`;
  const spec = st.specs[0];
  if (spec === undefined) return '';
  const every = `every ${st.kind === 'original' ? 300 : (spec.pollingIntervalSeconds ?? 30)} s`;
  if (st.kind === 'original')
    return `a model of the original operator: Step, threshold ${spec.awsSQSMsgCountThreshold}, step ${spec.awsLambdaStepConcurrency}, ${every}, on the SUM of CloudWatch ApproximateNumberOfMessagesVisible 1-minute datapoints of the last 300 s`;
  const p = spec.policy;
  if (p?.type === 'TargetTracking')
    return `TargetTracking, targetBacklogPerConcurrency ${p.targetTracking?.targetBacklogPerConcurrency}${spec.metrics?.includeInFlight ? ', includeInFlight' : ''}, HPA default behavior, ${every}`;
  const cap =
    spec.eventSourceMapping?.manageMaximumConcurrency === true
      ? "; the event source mapping's MaximumConcurrency kept at the reserved concurrency (2–1000), raised after it, lowered before it"
      : '';
  const up = spec.behavior?.scaleUp?.policies;
  const rate =
    up === undefined
      ? ''
      : `; scale-up at most ${up.map((x) => `${x.value}${x.type === 'Percent' ? '%' : ' units'} per ${x.periodSeconds} s`).join(' or ')}, whichever is more`;
  const bounds = `bounds ${spec.awsLambdaMinConcurrency}–${maxConcurrency(spec)}`;
  if (spec.actuator === Actuator.EventSourceMaximumConcurrency)
    return `LatencySLO, maxWaitSeconds ${p?.latencySLO?.maxWaitSeconds}, writing only the mapping's ScalingConfig.MaximumConcurrency (no reserved concurrency, no account headroom taken), ${bounds}, ${every}`;
  if (spec.actuator === Actuator.ProvisionedPollers)
    return `LatencySLO, maxWaitSeconds ${p?.latencySLO?.maxWaitSeconds}, writing only the provisioned-mode mapping's MaximumPollers = ⌈concurrency / 10⌉ (MinimumPollers = the minimum / 10; no reserved concurrency), ${bounds}, ${every}`;
  const serviceTime =
    p?.latencySLO?.serviceTimeSource === 'CloudWatch'
      ? "; what one unit processes from the function's mean Duration in CloudWatch (serviceTimeSource CloudWatch, read once a minute)"
      : '';
  if (p?.type === 'LatencySLO')
    return `LatencySLO, maxWaitSeconds ${p.latencySLO?.maxWaitSeconds}, defaults (utilization 80%, tolerance 10%, 300 s scale-down window), ${every}${serviceTime}${cap}${rate}`;
  return `Step, threshold ${spec.awsSQSMsgCountThreshold}, scaleDownThreshold ${p?.step?.scaleDownThreshold ?? spec.awsSQSMsgCountThreshold}, step ${spec.awsLambdaStepConcurrency}, ${every}`;
}

/** What a worker returns for one run: the metrics, and chart data for the first seed. */
export interface RunSummary {
  scenario: string;
  strategy: string;
  seed: number;
  /** The event source mapping model when not the default (the per-model comparison's runs). */
  model?: string;
  /** 'message' when every function was made to cost per message (the cost-model comparison's runs). */
  cost?: 'message';
  /** The queue attributes' lag, seconds, when the lag comparison set it (lag.ts). */
  lag?: number;
  wallMs: number;
  /** The first scaler's metrics (the only one's, in a single-scaler scenario). */
  metrics: RunMetrics;
  /** Every scaler's, by name. */
  scalers: Record<string, RunMetrics>;
  account: AccountMetrics;
  intervalSeconds: number;
  chart?: ChartData;
}

/** Decimated series of one run for the comparison chart. */
export interface ChartData {
  t: number[];
  reserved: number[];
  need: number[];
  arrivals: number[];
}

export function chartData(r: RunResult, maxPoints = 1200): ChartData {
  const tl = r.timeline;
  const step = Math.max(1, Math.ceil(tl.length / maxPoints));
  const out: ChartData = { t: [], reserved: [], need: [], arrivals: [] };
  let sum = 0;
  for (let i = 0; i < tl.length; i++) {
    const p = tl[i];
    if (p === undefined) continue;
    sum += p.arrivals;
    if (i >= 60) sum -= tl[i - 60]?.arrivals ?? 0;
    if (i % step !== 0 && i !== tl.length - 1) continue;
    out.t.push(p.t);
    out.reserved.push(setting(p));
    out.need.push(r.need[i] ?? 0);
    out.arrivals.push(sum / Math.min(60, i + 1));
  }
  return out;
}
