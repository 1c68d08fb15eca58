// Turns the benchmark's runs into bench/REPORT.md: a table per scenario, a chart, and the verdicts
// of issue 8 item 5 computed from the numbers (PASS/MISS with the reason) — never edited by hand.
import { scaleSection } from '../report/scale-section.ts';
import {
  type BenchScenario,
  COUNTS_ONLY,
  describeStrategy,
  FAST_POLLS,
  FAST_SCALE_UP,
  ORIGINAL,
  PROVISIONED_MODE,
  REACTIVE_AT_POLLS,
  REACTIVE_FAIR,
  REACTIVE_LADDER,
  REACTIVE_REFERENCE,
  RECOMMENDED,
  REFERENCE,
  type RunSummary,
  STATIC_MAX_CAPPED,
  strategiesFor,
  WITHOUT_CAP,
} from './bench.ts';
import { num, table } from './chart.ts';
import {
  type Aggregate,
  cheapestNearBest,
  fewestViolations,
  outOfReach,
  pp,
  staticMaxFloor,
  type Verdict,
  verdicts,
} from './claims.ts';
import type { AccountMetrics, RunMetrics } from './metrics.ts';

export type { Aggregate } from './claims.ts';

type NumericKey = {
  [K in keyof RunMetrics]: RunMetrics[K] extends number ? K : never;
}[keyof RunMetrics];
const NUMERIC: NumericKey[] = [
  'sent',
  'deleted',
  'pctOverSlo',
  'overSlo',
  'p50Seconds',
  'p99Seconds',
  'maxSeconds',
  'throttles',
  'errors',
  'invocations',
  'dlqMoves',
  'overMaxSeconds',
  'leftover',
  'capacityHours',
  'boundCapacityHours',
  'boundOverSlo',
  'underHours',
  'overHours',
  'actions',
  'actionsPerHour',
  'demandChangesPerHour',
  'episodes',
  'apiCallsPerHour',
  'costPerMonth',
];

export function aggregate(runs: readonly RunSummary[]): Aggregate {
  const first = runs[0];
  if (first === undefined) throw new Error('no runs to aggregate');
  const mean = {} as Aggregate['mean'];
  for (const k of NUMERIC) mean[k] = runs.reduce((a, r) => a + r.metrics[k], 0) / runs.length;
  const pcts = runs.map((r) => r.metrics.pctOverSlo);
  let worst: number | null = 0;
  let episodes = 0;
  for (const r of runs) {
    episodes += r.metrics.episodes;
    if (r.metrics.episodes === 0) continue;
    const w = r.metrics.worstReactionSeconds;
    if (w === null) worst = null;
    else if (worst !== null) worst = Math.max(worst, w);
  }
  return {
    strategy: first.strategy,
    runs: runs.length,
    intervalSeconds: first.intervalSeconds,
    mean,
    pctMin: Math.min(...pcts),
    pctMax: Math.max(...pcts),
    episodes,
    worstReaction: episodes === 0 ? null : worst,
  };
}

const mark = (v: Verdict) => (v.pass === null ? 'n/a' : v.pass ? '**PASS**' : '**MISS**');

export interface ReportInput {
  date: string;
  machine: string;
  node: string;
  seeds: number[];
  wallSeconds: number;
  scenarios: {
    scenario: BenchScenario;
    aggregates: Aggregate[];
    /** Per scaler, per strategy (in strategy order): only for scenarios with several scalers. */
    scalers: { name: string; aggregates: Aggregate[] }[];
    /** Account totals per strategy, means over seeds. */
    accounts: { strategy: string; account: AccountMetrics }[];
    wallSeconds: number;
    chart: string;
  }[];
  /** What referenceBreaches() found over every run (empty: the reference held). */
  breaches: string[];
  /** The "what moved" section (moved.ts), already rendered. */
  moved: string[];
  command: string;
  /** bench/SCALE.md, if it exists: copied into the report's last section. */
  scale?: string | undefined;
  /** Every strategy under every event source mapping model (models.ts), already rendered. */
  models?: string[] | undefined;
}

/** The claims about one scenario's numbers (claims.ts), as list items. */
function findings(aggs: readonly Aggregate[]): string[] {
  const lines = [
    fewestViolations(aggs),
    cheapestNearBest(aggs),
    staticMaxFloor(aggs, [ORIGINAL, 'KEDA-like', 'Step (ours)', 'TargetTracking (ours)', WITHOUT_CAP]),
    outOfReach(aggs),
  ];
  for (const name of [RECOMMENDED, COUNTS_ONLY, WITHOUT_CAP]) {
    const ours = aggs.find((a) => a.strategy === name);
    if (ours !== undefined && ours.mean.overSlo > 0)
      lines.push(
        `${name}: ${num((100 * ours.mean.dlqMoves) / ours.mean.overSlo, 0)}% of its SLO violations are messages dead-lettered after repeated throttled (overpulled) receives; ${num(ours.mean.throttles)} throttled invocations per run.`,
      );
  }
  return lines.filter((l): l is string => l !== null).map((l) => `- ${l.endsWith('.') ? l : `${l}.`}`);
}

type ScenarioSection = ReportInput['scenarios'][number];

/** One scenario's verdicts for `strategy`; its floor of capacity is Σ min × duration. */
function scenarioVerdicts(s: ScenarioSection, strategy: string): Verdict[] {
  const sc = s.scenario;
  const floor =
    sc.targets.reduce((a, t) => a + t.spec.awsLambdaMinConcurrency, 0) * (sc.workload.durationSeconds / 3600);
  const account =
    sc.targets.length > 1 ? s.accounts.find((a) => a.strategy === strategy)?.account : undefined;
  return verdicts(new Map(s.aggregates.map((a) => [a.strategy, a])), strategy, floor, account);
}

const tally = (v: Verdict): 'pass' | 'miss' | 'na' => (v.pass === null ? 'na' : v.pass ? 'pass' : 'miss');

/** The verdict table of `strategy` over every scenario. */
function verdictTable(r: ReportInput, strategy: string): string {
  const rows = r.scenarios.flatMap((s) =>
    scenarioVerdicts(s, strategy).map((v) => [s.scenario.title, v.goal, mark(v), v.reason]),
  );
  return table(['scenario', 'goal', 'verdict', 'measured'], rows);
}

/** Notes computed from all scenarios: goal tallies, the floors, and where ~0% was out of reach. */
function notes(r: ReportInput): string[] {
  const count = { pass: 0, miss: 0, na: 0 };
  const plain = { pass: 0, miss: 0, na: 0 };
  const cappedFloors: string[] = [];
  const outOfReachIn: string[] = [];
  const bounds: string[] = [];
  const reacting: string[] = [];
  for (const s of r.scenarios) {
    for (const v of scenarioVerdicts(s, RECOMMENDED)) count[tally(v)]++;
    for (const v of scenarioVerdicts(s, WITHOUT_CAP)) plain[tally(v)]++;
    const capped = s.aggregates.find((a) => a.strategy === STATIC_MAX_CAPPED);
    if (capped !== undefined) cappedFloors.push(`${s.scenario.title} ${pp(capped.mean.pctOverSlo)}`);
    if (outOfReach(s.aggregates) !== null) outOfReachIn.push(s.scenario.title);
    const ref = s.aggregates.find((a) => a.strategy === REFERENCE);
    if (ref !== undefined)
      bounds.push(
        `${s.scenario.title}: bound ${num(ref.mean.boundCapacityHours, 1)}, reference ${num(ref.mean.capacityHours, 1)} at ${pp(ref.mean.pctOverSlo)}`,
      );
    const rungs = REACTIVE_LADDER.map((l) => s.aggregates.find((a) => a.strategy === l));
    const [reactive, atPolls, fair] = rungs;
    if (reactive !== undefined)
      reacting.push(
        `${s.scenario.title} ${pp(reactive.mean.pctOverSlo)} with ${num(reactive.mean.capacityHours, 1)}${atPolls !== undefined ? `, every ${atPolls.intervalSeconds} s ${pp(atPolls.mean.pctOverSlo)}` : ''}${fair !== undefined ? `, sharing fairly ${pp(fair.mean.pctOverSlo)}` : ''}`,
      );
  }
  return [
    '### Notes',
    '',
    `- The recommended configuration, ${RECOMMENDED}: ${count.pass} goals pass, ${count.miss} miss, ${count.na} not applicable (${r.scenarios.length} scenarios × 3 goals).`,
    `- The same policy without the cap (the CRD default), ${WITHOUT_CAP}, verdicts below: ${plain.pass} pass, ${plain.miss} miss, ${plain.na} not applicable.`,
    ...alternatives(r),
    `- Capacity lower bound (capacity-hours no strategy within the bounds can hold less of and meet the SLO on the same arrivals) against the clairvoyant reference that follows the trace: ${bounds.join('; ')}.`,
    `- The ${REACTIVE_REFERENCE} (the clairvoyant without foresight: the true arrivals of the last minute and the true backlog every 10 s, no rate limit; a yardstick for what reacting at all can do, not a bound on it), % over SLO with capacity-hours, and the same re-sizing only every 30 s as the recommended configuration polls (${REACTIVE_AT_POLLS}) and, where an account has several scalers, sharing its headroom fairly as the operator does (${REACTIVE_FAIR}): ${reacting.join('; ')}. Where the recommended configuration misses the clairvoyant's violations, its verdict splits the gap along these rungs: what foresight buys, what the poll interval costs, what fair sharing costs, and what is left, the policy's own.`,
    `- ${r.breaches.length === 0 ? `The reference held: in no scenario and seed did any strategy have both fewer SLO violations and fewer capacity-hours than the clairvoyant, and no run held less capacity than the lower bound without more violations than it allows. (Strategies that put the mapping in provisioned mode — ${[...PROVISIONED_MODE].join(', ')} — run another system than the clairvoyant, a standard-mode mapping whose scaling AWS documents at 300 concurrent invokes a minute against 1,000, so they are held to the lower bound only.)` : `THE REFERENCE DID NOT HOLD (the run failed): ${r.breaches.join('; ')}.`}`,
    `- ~0% over SLO ${outOfReachIn.length > 0 ? `was reached by no strategy in: ${outOfReachIn.join('; ')} (the scenario says whether the lower bound proves it out of reach, and why)` : 'was reached by some strategy in every scenario'}.`,
    `- Reserved concurrency and the mapping's cap at the maximum for the whole run (${STATIC_MAX_CAPPED}): ${cappedFloors.join('; ')}.`,
    `- The recommended configuration caps the mapping: with \`eventSourceMapping.manageMaximumConcurrency: true\` the operator also keeps the mapping's \`ScalingConfig.MaximumConcurrency\` at the decided reserved concurrency (clamped to 2–1,000), raising reserved before the cap and lowering the cap before reserved. Use it when the queue's mapping is dedicated to the function. The CRD default stays off, so the verdicts of ${WITHOUT_CAP} below are what a scaler gets without it.`,
  ];
}

/** Goal tallies of the other configurations of ours that the benchmark runs (COUNTS_ONLY, FAST_SCALE_UP). */
function alternatives(r: ReportInput): string[] {
  const described: [string, string][] = [
    [
      COUNTS_ONLY,
      "The recommended configuration with the service time learned from the queue's counts alone (the CRD default)",
    ],
    [FAST_SCALE_UP, 'The recommended configuration with a faster scale-up rate'],
    [FAST_POLLS, 'The recommended configuration polling every 10 s'],
  ];
  return described.flatMap(([name, what]) => {
    const count = { pass: 0, miss: 0, na: 0 };
    for (const s of r.scenarios) {
      if (!s.aggregates.some((a) => a.strategy === name)) return [];
      for (const v of scenarioVerdicts(s, name)) count[tally(v)]++;
    }
    const missed = r.scenarios.flatMap((s) =>
      scenarioVerdicts(s, name)
        .filter((v) => v.pass === false)
        .map((v) => `${s.scenario.title} (${v.goal}: ${v.reason})`),
    );
    return [
      `- ${what}, ${name}: ${count.pass} goals pass, ${count.miss} miss, ${count.na} not applicable.${missed.length > 0 ? ` Missed: ${missed.join('; ')}.` : ''}`,
    ];
  });
}

const row = (name: string, a: Aggregate) => [
  name,
  `${num(a.mean.pctOverSlo, 2)} (${num(a.pctMin, 2)}–${num(a.pctMax, 2)})`,
  num(a.mean.p50Seconds, 1),
  num(a.mean.p99Seconds, 1),
  num(a.mean.throttles),
  num(a.mean.dlqMoves),
  num(a.mean.capacityHours, 1),
  `${num(a.mean.underHours, 1)} / ${num(a.mean.overHours, 1)}`,
  `${num(a.mean.actionsPerHour, 1)} (${num(a.mean.demandChangesPerHour, 1)})`,
  a.episodes === 0 ? '–' : a.worstReaction === null ? 'never' : num(a.worstReaction),
  num(a.mean.apiCallsPerHour),
  `$${num(a.mean.costPerMonth, 3)}`,
];
const HEAD = [
  'strategy',
  'over SLO % (min–max)',
  'p50 s',
  'p99 s',
  'throttles',
  'DLQ moves',
  'capacity-h',
  'under / over unit-h',
  'actions/h (demand changes/h)',
  'worst reaction s',
  'API calls/h',
  'API $/month',
];
const bold = (name: string) => (name === RECOMMENDED || name === WITHOUT_CAP ? `**${name}**` : name);

/** The account totals of a multi-scaler scenario: pool, squeeze, fairness, budget. */
function accountTable(s: ScenarioSection): string {
  return table(
    [
      'strategy',
      'over SLO %',
      'capacity-h (bound)',
      'least unreserved (floor)',
      'squeeze s',
      'fair share (Jain)',
      'control plane /s (% of budget)',
      'throttled calls',
      'failed reconciles',
    ],
    s.accounts.map(({ strategy, account: a }) => [
      bold(strategy),
      num(a.pctOverSlo, 2),
      `${num(a.capacityHours, 1)} (${num(a.boundCapacityHours, 1)})`,
      `${num(a.minUnreserved)} (${num(a.unreservedMin)})`,
      num(a.squeezeSeconds),
      a.fairness === null ? '–' : num(a.fairness, 2),
      `${num(a.controlPlanePerSecond, 2)} (${num(a.budgetPct, 1)}%)`,
      num(a.throttledCalls),
      Object.entries(a.failures)
        .map(([k, v]) => `${k} ${num(v)}`)
        .join(', ') || '0',
    ]),
  );
}

/** The whole REPORT.md. */
export function renderReport(r: ReportInput): string {
  const out: string[] = [];
  out.push(
    '# Policy benchmark',
    '',
    `Generated by \`${r.command}\` on ${r.date} — do not edit by hand. Machine: ${r.machine}; Node ${r.node}.`,
    `Seeds: ${r.seeds.join(', ')} (every scenario × strategy runs once per seed). Wall time: ${num(r.wallSeconds, 1)} s.`,
    '',
    "Every run is virtual time in awssim. The operator's strategies are the manager's own `ScalerReconciler`,",
    "over the operator's own AWS adapters answered in process by awssim, with its token buckets on the virtual",
    'clock (`src/bench/operator.ts`); API calls are as awssim counted them. The original operator is a separate model',
    '(`src/bench/original.ts`). The reference is a clairvoyant controller judged against a capacity lower bound',
    "(`src/bench/reference.ts`). Scenario format, metric definitions, the bound's argument and caveats: [README.md](README.md).",
    'How the operator itself holds up with 100, 1,000 and 5,000 scalers (real processes, real time) is the last',
    'section, [Operator at scale](#operator-at-scale-issue-8-item-6), copied from [SCALE.md](SCALE.md).',
    '',
    ...r.moved,
    `## Verdicts (issue 8, item 5) for the recommended configuration, ${RECOMMENDED}`,
    '',
    `LatencySLO with \`eventSourceMapping.manageMaximumConcurrency: true\` (the operator keeps the queue's event source mapping's MaximumConcurrency at the reserved concurrency; for a mapping dedicated to the function) and \`policy.latencySLO.serviceTimeSource: CloudWatch\` (what one unit processes comes from the function's mean Duration, which CloudWatch publishes a minute or two late; one metric read once a minute, about $0.44 a month per scaler). The CRD defaults leave the mapping alone and learn the service time from the queue's counts; the same policy with neither, ${WITHOUT_CAP}, has its verdicts further below, and the notes tally the cap without the Duration, ${COUNTS_ONLY}. In scenarios with several scalers the verdicts are about the account's totals.`,
    '',
  );
  out.push(verdictTable(r, RECOMMENDED), '');
  out.push(...notes(r), '');
  out.push(
    `## Without the cap: verdicts for ${WITHOUT_CAP}`,
    '',
    `The same three goals for the same policy with the mapping left alone (the CRD default): what not enabling \`eventSourceMapping.manageMaximumConcurrency\` costs.`,
    '',
  );
  out.push(verdictTable(r, WITHOUT_CAP), '');
  const first = r.scenarios[0];
  if (first) {
    out.push(
      '## Strategies',
      '',
      'Settings are fixed by rule, not tuned per scenario (shown for the first scenario that has each):',
      '',
    );
    const seen = new Set<string>();
    for (const s of r.scenarios)
      for (const st of strategiesFor(s.scenario))
        if (!seen.has(st.label)) {
          seen.add(st.label);
          out.push(`- **${st.label}**: ${describeStrategy(st)}`);
        }
    out.push('');
  }
  for (const s of r.scenarios) {
    const sc = s.scenario;
    const several = sc.targets.length > 1;
    const bounds = [
      ...new Set(
        sc.targets.map(
          (t) =>
            `[${t.spec.awsLambdaMinConcurrency}, ${t.spec.awsLamndaMaxConcurrency ?? t.spec.awsLambdaMaxConcurrency}]`,
        ),
      ),
    ].join(', ');
    out.push(
      `## ${sc.title}`,
      '',
      `\`${sc.file}\` — ${sc.description} SLO ${sc.sloSeconds} s; ${several ? `${sc.targets.length} scalers in one account; ` : ''}bounds ${bounds}; ${num(sc.workload.durationSeconds / 3600, 1)} h simulated; ${num(s.wallSeconds, 1)} s of run time (summed over its runs).`,
      '',
    );
    out.push(...findings(s.aggregates), '');
    out.push(
      table(
        HEAD,
        s.aggregates.map((a) => row(bold(a.strategy), a)),
      ),
      '',
    );
    if (several) {
      out.push('Account totals (means over seeds):', '', accountTable(s), '');
      out.push('Per scaler:', '');
      out.push(
        table(
          ['scaler', ...HEAD],
          s.scalers.flatMap((x) => x.aggregates.map((a) => [x.name, ...row(bold(a.strategy), a)])),
        ),
        '',
      );
    }
    out.push(`![${sc.title}](${s.chart})`, '');
  }
  out.push(...(r.models ?? []));
  out.push('## Operator at scale (issue 8, item 6)', '', ...scaleSection(r.scale), '');
  return `${out.join('\n')}\n`;
}
