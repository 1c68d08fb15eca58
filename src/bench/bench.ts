// The benchmark's pieces: a scenario file (a workload plus the user's original spec and an SLO), the
// strategies every scenario is run with, and the per-run summary a worker sends back.
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type LambdaConcurrencyScalerSpec, maxConcurrency, parseSpec } from '../api/v1alpha1/index.ts';
import { capFor } from '../aws/ports.ts';
import { defaultBehaviour } from '../awssim/index.ts';
import { originalOperatorConfig } from '../policy/index.ts';
import type { RunMetrics } from './metrics.ts';
import { ORACLE_DRAIN_SECONDS, ORACLE_UTILIZATION, type RunResult } from './run.ts';
import type { Strategy } from './strategy.ts';
import { throughputPerUnit } from './truth.ts';
import { parseWorkload, type Workload, WorkloadError } from './workload.ts';

/** A benchmark scenario file (documented in bench/README.md). */
const scenarioFileSchema = z.strictObject({
  title: z.string().min(1),
  description: z.string().optional(),
  sloSeconds: z.number().positive().default(60),
  /** The user's original scaler: the six original fields (queue and function names are filled in). */
  scaler: z.record(z.string(), z.unknown()),
  workload: z.record(z.string(), z.unknown()),
});

export interface BenchScenario {
  /** File name without extension. */
  id: string;
  file: string;
  title: string;
  description: string;
  sloSeconds: number;
  spec: LambdaConcurrencyScalerSpec;
  workload: Workload;
}

/** Reads and validates a benchmark scenario; errors name the field. */
export function loadBenchScenario(file: string): BenchScenario {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new WorkloadError(file, [`(file): ${(e as Error).message}`], { cause: e });
  }
  const r = scenarioFileSchema.safeParse(raw);
  if (!r.success)
    throw new WorkloadError(
      file,
      r.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`),
    );
  let workload: Workload;
  try {
    workload = parseWorkload(r.data.workload, file, dirname(resolve(file)));
  } catch (e) {
    if (e instanceof WorkloadError)
      throw new WorkloadError(
        file,
        e.issues.map((i) => `workload.${i}`),
        { cause: e },
      );
    throw e;
  }
  const spec = parseSpec({ awsSQSName: workload.queue, awsLambdaName: workload.fn, ...r.data.scaler });
  if (!spec.ok)
    throw new WorkloadError(
      file,
      spec.issues.map((i) => `${i.path.replace(/^spec\./, 'scaler.')}: ${i.message}`),
    );
  return {
    id: basename(file).replace(/\.ya?ml$/, ''),
    file,
    title: r.data.title,
    description: r.data.description ?? '',
    sloSeconds: r.data.sloSeconds,
    spec: spec.spec,
    workload,
  };
}

/**
 * The recommended configuration the verdicts are about: LatencySLO with
 * `eventSourceMapping.manageMaximumConcurrency: true` (for a mapping dedicated to the function; the
 * CRD default stays off).
 */
export const RECOMMENDED = 'LatencySLO + ESM cap (ours)';
/** The same policy without the cap (the CRD default): its verdicts show what not capping costs. */
export const WITHOUT_CAP = 'LatencySLO (ours)';
export const ORIGINAL = 'original';
export const ORACLE = 'oracle';
export const STATIC_MAX = 'static max';
/** Reserved concurrency and the mapping's cap at the maximum all run: the floor of violations. */
export const STATIC_MAX_CAPPED = 'static max + ESM cap';

/** Messages one unit processes per second at the start, from the scenario's function. */
function initialThroughput(s: BenchScenario): number {
  const f = s.workload.scenario.functions.find((x) => x.name === s.workload.fn);
  return throughputPerUnit(
    {
      duration: f?.duration ?? defaultBehaviour.duration,
      per: f?.per ?? defaultBehaviour.per,
      coldStart: f?.coldStart ?? defaultBehaviour.coldStart,
      errorRate: f?.errorRate ?? defaultBehaviour.errorRate,
    },
    s.workload.batchSize,
  );
}

/**
 * The strategies, with settings chosen once by the rules in docs/policies.md (never per scenario):
 * - original: `originalOperatorConfig(spec)` — Step every 300 s on the SUM of 1-minute CloudWatch
 *   datapoints of the visible count over the last 300 s, published 1–2 minutes late;
 * - KEDA-like: TargetTracking with KEDA's aws-sqs-queue defaults (queueLength 5, scaleOnInFlight),
 *   30 s polling and the HPA's default behavior;
 * - Step (ours): the spec's step, 30 s polling on GetQueueAttributes, the threshold divided by five
 *   (the upgrade advice: the original compared a five-minute sum) and a scale-down threshold at 40% of it;
 * - TargetTracking (ours): target = throughput of one unit × 10 s of waiting (the docs' rule);
 * - LatencySLO (ours): maxWaitSeconds = half the SLO (the other half covers the poll interval and
 *   the event source's ramp-up), every other field defaulted;
 * - LatencySLO + ESM cap (ours, recommended): the same spec with
 *   `eventSourceMapping.manageMaximumConcurrency` on — the mapping's MaximumConcurrency follows the
 *   reserved concurrency (clamped to 2–1000);
 * - references: static max, static max with the mapping capped at it (the floor of violations
 *   within the bounds), static min, and the oracle (which caps the mapping too).
 */
export function strategiesFor(s: BenchScenario): Strategy[] {
  const spec = s.spec;
  const min = spec.awsLambdaMinConcurrency;
  const max = maxConcurrency(spec);
  const threshold = Math.max(1, Math.round(spec.awsSQSMsgCountThreshold / 5));
  const target = Math.max(1, Math.round(initialThroughput(s) * 10));
  return [
    { kind: 'policy', label: ORIGINAL, spec, config: originalOperatorConfig(spec), calls: 'original' },
    {
      kind: 'policy',
      label: 'KEDA-like',
      spec: {
        ...spec,
        policy: { type: 'TargetTracking', targetTracking: { targetBacklogPerConcurrency: 5 } },
        metrics: { includeInFlight: true },
      },
    },
    {
      kind: 'policy',
      label: 'Step (ours)',
      spec: {
        ...spec,
        awsSQSMsgCountThreshold: threshold,
        policy: { type: 'Step', step: { scaleDownThreshold: Math.floor(threshold * 0.4) } },
      },
    },
    {
      kind: 'policy',
      label: 'TargetTracking (ours)',
      spec: {
        ...spec,
        policy: { type: 'TargetTracking', targetTracking: { targetBacklogPerConcurrency: target } },
      },
    },
    {
      kind: 'policy',
      label: WITHOUT_CAP,
      spec: {
        ...spec,
        policy: {
          type: 'LatencySLO',
          latencySLO: { maxWaitSeconds: Math.max(1, Math.round(s.sloSeconds / 2)) },
        },
      },
    },
    {
      kind: 'policy',
      label: RECOMMENDED,
      spec: {
        ...spec,
        policy: {
          type: 'LatencySLO',
          latencySLO: { maxWaitSeconds: Math.max(1, Math.round(s.sloSeconds / 2)) },
        },
        eventSourceMapping: { manageMaximumConcurrency: true },
      },
    },
    { kind: 'static', label: STATIC_MAX, concurrency: max },
    { kind: 'static', label: STATIC_MAX_CAPPED, concurrency: max, capEventSource: true },
    { kind: 'static', label: 'static min', concurrency: min },
    // Drains a backlog within half the SLO, the rule LatencySLO's maxWaitSeconds follows above.
    {
      kind: 'oracle',
      label: ORACLE,
      min,
      max,
      drainSeconds: Math.max(1, Math.round(s.sloSeconds / 2)),
    },
  ];
}

/** A human line per strategy for the report. */
export function describeStrategy(st: Strategy): string {
  if (st.kind === 'static')
    return `reserved concurrency fixed at ${st.concurrency}${st.capEventSource === true ? `, and the event source mapping's MaximumConcurrency set to it (${capFor(st.concurrency)}) before the first message` : ''}`;
  if (st.kind === 'oracle') {
    const util = st.utilization ?? ORACLE_UTILIZATION;
    return `every ${st.intervalSeconds ?? 10} s: ⌈(true arrivals of the next minute + true waiting messages / ${st.drainSeconds ?? ORACLE_DRAIN_SECONDS} s) / (true throughput per unit${util === 1 ? '' : ` × ${util}`})⌉ within [${st.min}, ${st.max}]; the event source mapping's MaximumConcurrency kept at it as the operator's cap does (2–1000, raised after it, lowered before it)`;
  }
  const p = st.spec.policy;
  const every = `every ${st.config?.pollingIntervalSeconds ?? st.spec.pollingIntervalSeconds ?? 30} s`;
  if (st.config?.metrics.source === 'CloudWatch')
    return `Step, threshold ${st.spec.awsSQSMsgCountThreshold}, step ${st.spec.awsLambdaStepConcurrency}, ${every}, on the SUM of CloudWatch ApproximateNumberOfMessagesVisible 1-minute datapoints of the last 300 s`;
  if (p?.type === 'TargetTracking')
    return `TargetTracking, targetBacklogPerConcurrency ${p.targetTracking?.targetBacklogPerConcurrency}${st.spec.metrics?.includeInFlight ? ', includeInFlight' : ''}, HPA default behavior, ${every}`;
  const cap =
    st.spec.eventSourceMapping?.manageMaximumConcurrency === true
      ? "; the event source mapping's MaximumConcurrency kept at the reserved concurrency (2–1000), raised after it, lowered before it"
      : '';
  if (p?.type === 'LatencySLO')
    return `LatencySLO, maxWaitSeconds ${p.latencySLO?.maxWaitSeconds}, defaults (utilization 80%, tolerance 10%, 300 s scale-down window), ${every}${cap}`;
  return `Step, threshold ${st.spec.awsSQSMsgCountThreshold}, scaleDownThreshold ${p?.step?.scaleDownThreshold ?? st.spec.awsSQSMsgCountThreshold}, step ${st.spec.awsLambdaStepConcurrency}, ${every}`;
}

/** What a worker returns for one run: the metrics, and chart data for the first seed. */
export interface RunSummary {
  scenario: string;
  strategy: string;
  seed: number;
  wallMs: number;
  metrics: RunMetrics;
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
    out.reserved.push(p.reserved);
    out.need.push(r.need[i] ?? 0);
    out.arrivals.push(sum / Math.min(60, i + 1));
  }
  return out;
}
