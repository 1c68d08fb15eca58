// Turns the benchmark's runs into bench/REPORT.md: a table per scenario, a chart, and the verdicts
// of issue 8 item 5 computed from the numbers (PASS/MISS with the reason) — never edited by hand.
import { scaleSection } from '../report/scale-section.ts';
import type { BenchScenario, RunSummary } from './bench.ts';
import {
  describeStrategy,
  ORACLE,
  ORIGINAL,
  RECOMMENDED,
  STATIC_MAX,
  STATIC_MAX_CAPPED,
  strategiesFor,
  WITHOUT_CAP,
} from './bench.ts';
import { num, table } from './chart.ts';
import type { RunMetrics } from './metrics.ts';

/** Means over seeds, plus the spread of SLO violations and the worst reaction. */
export interface Aggregate {
  strategy: string;
  runs: number;
  intervalSeconds: number;
  mean: Omit<RunMetrics, 'apiCalls' | 'worstReactionSeconds'>;
  pctMin: number;
  pctMax: number;
  episodes: number;
  /** Slowest reaction over all seeds; null if some episode never saw a scale-up. */
  worstReaction: number | null;
}

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

export interface Verdict {
  goal: string;
  pass: boolean | null;
  reason: string;
}

const pp = (x: number) => `${num(x, 2)}%`;
const ch = (x: number) => `${num(x, 1)} capacity-hours`;

/**
 * Issue 8 item 5, computed. "Same violations" means within 0.1 percentage point. `floorCapacityHours`
 * (min × duration) lets a miss of goal 1 say when it is unreachable by construction: an original
 * that never left the minimum cannot be matched with less capacity.
 */
export function verdicts(
  byStrategy: ReadonlyMap<string, Aggregate>,
  floorCapacityHours?: number,
  strategy: string = RECOMMENDED,
): Verdict[] {
  const ours = byStrategy.get(strategy);
  const orig = byStrategy.get(ORIGINAL);
  const oracle = byStrategy.get(ORACLE);
  if (!ours || !orig || !oracle) return [];
  const o = ours.mean;
  const out: Verdict[] = [];
  const same = Math.abs(o.pctOverSlo - orig.mean.pctOverSlo) <= 0.1;
  const fewer = o.pctOverSlo < orig.mean.pctOverSlo - 0.1;
  const noMore = o.capacityHours <= orig.mean.capacityHours;
  const vsOrig = `${pp(o.pctOverSlo)} over SLO with ${ch(o.capacityHours)}; original ${pp(orig.mean.pctOverSlo)} with ${ch(orig.mean.capacityHours)}`;
  if ((fewer && noMore) || (same && o.capacityHours < orig.mean.capacityHours))
    out.push({ goal: 'beats the original', pass: true, reason: vsOrig });
  else {
    let why: string;
    if (fewer && floorCapacityHours !== undefined && orig.mean.capacityHours <= floorCapacityHours * 1.001)
      why = `fewer violations, but more capacity: the original never left the minimum (${ch(floorCapacityHours)} is min × duration), so no policy holds less and only the original's own run holds as little — unreachable by construction`;
    else if (fewer) why = 'fewer violations, but it held more capacity than the original did';
    else if (same) why = 'the same violations, but not with fewer capacity-hours';
    else why = 'more SLO violations than the original';
    out.push({ goal: 'beats the original', pass: false, reason: `${why}: ${vsOrig}` });
  }
  const ratio =
    oracle.mean.capacityHours > 0 ? o.capacityHours / oracle.mean.capacityHours : Number.POSITIVE_INFINITY;
  const capOk = ratio <= 1.25;
  const sloOk = o.pctOverSlo <= oracle.mean.pctOverSlo + 1;
  const why: string[] = [];
  if (!capOk && o.overHours > o.underHours)
    why.push(
      `over-provisioned ${num(o.overHours, 1)} unit-hours against the need (the scale-down window and utilization target hold capacity after load falls)`,
    );
  if (!sloOk && o.throttles > 2 * oracle.mean.throttles + 100)
    why.push(
      `${num(o.throttles)} throttled invocations per run against the oracle's ${num(oracle.mean.throttles)} (overpull: throttled batches wait out the visibility timeout, ${num(o.dlqMoves)} messages dead-lettered)`,
    );
  if (!sloOk && o.underHours >= oracle.mean.underHours + 0.1)
    why.push(
      `under-provisioned ${num(o.underHours, 1)} unit-hours against the need, the oracle ${num(oracle.mean.underHours, 1)} (a policy scales once the backlog shows, by at most doubling per poll under the default scale-up rate; the oracle sizes for the next minute's arrivals before they come)`,
    );
  const beyond = outOfReach(byStrategy);
  if (beyond !== null) why.push(beyond);
  const vsOracle = `${num(ratio, 2)}× the oracle's capacity-hours; ${pp(o.pctOverSlo)} over SLO vs the oracle's ${pp(oracle.mean.pctOverSlo)}`;
  const misses = [!capOk ? 'too much capacity' : '', !sloOk ? 'too many violations' : ''].filter(Boolean);
  out.push({
    goal: 'within 1.25× oracle capacity, ≤ +1 pp violations',
    pass: capOk && sloOk,
    reason: `${misses.length > 0 ? `${misses.join(' and ')}: ` : ''}${[vsOracle, ...why].join('; ')}`,
  });
  if (ours.episodes === 0)
    out.push({
      goal: 'scale-up within one poll',
      pass: null,
      reason: 'no backlog crossing in any seed (n/a)',
    });
  else if (ours.worstReaction === null)
    out.push({
      goal: 'scale-up within one poll',
      pass: false,
      reason: `in some of ${ours.episodes} backlog episodes no scale-up came before the backlog cleared`,
    });
  else
    out.push({
      goal: 'scale-up within one poll',
      pass: ours.worstReaction <= ours.intervalSeconds,
      reason: `slowest first scale-up ${num(ours.worstReaction)} s after the crossing (poll interval ${ours.intervalSeconds} s; ${ours.episodes} episodes over all seeds)`,
    });
  return out;
}

/**
 * Why ~0% over SLO is out of reach in a scenario, computed: null when the oracle stays within 1% of
 * the messages; otherwise what even reserved concurrency and the mapping's cap held at the maximum
 * for the whole run leave over SLO, and what the runs show as the cause.
 */
export function outOfReach(byStrategy: ReadonlyMap<string, Aggregate>): string | null {
  const oracle = byStrategy.get(ORACLE);
  const floor = byStrategy.get(STATIC_MAX_CAPPED);
  if (oracle === undefined || floor === undefined || oracle.mean.pctOverSlo <= 1) return null;
  const causes: string[] = [];
  if (floor.mean.overMaxSeconds > 0)
    causes.push(
      `for ${num(floor.mean.overMaxSeconds)} s the arrivals (60 s mean) exceeded what the maximum concurrency processes`,
    );
  const failed = floor.mean.invocations > 0 ? (100 * floor.mean.errors) / floor.mean.invocations : 0;
  if (failed >= 0.5)
    causes.push(
      `${num(failed, 1)}% of invocations failed (function timeouts or errors) and their messages came back only after the visibility timeout`,
    );
  return `~0% is out of reach here even for the oracle: with reserved concurrency and the mapping's cap at the maximum for the whole run (${STATIC_MAX_CAPPED}) ${pp(floor.mean.pctOverSlo)} are still over SLO${causes.length > 0 ? ` — ${causes.join('; ')}` : ''}`;
}

const mark = (v: Verdict) => (v.pass === null ? 'n/a' : v.pass ? '**PASS**' : '**MISS**');

export interface ReportInput {
  date: string;
  machine: string;
  node: string;
  seeds: number[];
  wallSeconds: number;
  scenarios: { scenario: BenchScenario; aggregates: Aggregate[]; wallSeconds: number; chart: string }[];
  command: string;
  /** bench/SCALE.md, if it exists: copied into the report's last section. */
  scale?: string | undefined;
}

/**
 * Lines computed from the numbers: who had the fewest violations, who matched that most cheaply,
 * and how much of the recommended policy's violations were dead-lettered (overpulled, throttled) batches.
 */
function findings(aggs: readonly Aggregate[]): string[] {
  const real = aggs.filter((a) => a.strategy !== ORACLE);
  const best = [...real].sort((a, b) => a.mean.pctOverSlo - b.mean.pctOverSlo)[0];
  if (best === undefined) return [];
  const near = real
    .filter((a) => a.mean.pctOverSlo <= best.mean.pctOverSlo + 1)
    .sort((a, b) => a.mean.capacityHours - b.mean.capacityHours)[0];
  const lines = [
    `- Fewest SLO violations (oracle aside): ${best.strategy}, ${pp(best.mean.pctOverSlo)} with ${ch(best.mean.capacityHours)}.`,
  ];
  if (near !== undefined && near.strategy !== best.strategy)
    lines.push(
      `- Within 1 pp of that with the least capacity: ${near.strategy}, ${pp(near.mean.pctOverSlo)} with ${ch(near.mean.capacityHours)}.`,
    );
  const top = aggs.find((a) => a.strategy === STATIC_MAX);
  if (top !== undefined && top.mean.throttles > 0)
    lines.push(
      `- ${STATIC_MAX} (reserved concurrency at the maximum for the whole run): ${num(top.mean.throttles)} throttled invocations and ${num(top.mean.dlqMoves)} DLQ moves per run, ${pp(top.mean.pctOverSlo)} over SLO — the event source mapping overpulls even at the bound, so this is the floor of violations for any policy that sets reserved concurrency alone.`,
    );
  const beyond = outOfReach(new Map(aggs.map((a) => [a.strategy, a])));
  if (beyond !== null) lines.push(`- ${beyond}.`);
  for (const name of [RECOMMENDED, WITHOUT_CAP]) {
    const ours = aggs.find((a) => a.strategy === name);
    if (ours !== undefined && ours.mean.overSlo > 0)
      lines.push(
        `- ${name}: ${num((100 * ours.mean.dlqMoves) / ours.mean.overSlo, 0)}% of its SLO violations are messages dead-lettered after repeated throttled (overpulled) receives; ${num(ours.mean.throttles)} throttled invocations per run.`,
      );
  }
  return lines;
}

type ScenarioSection = ReportInput['scenarios'][number];

/** One scenario's verdicts for `strategy`; its floor of capacity is min × duration. */
function scenarioVerdicts(s: ScenarioSection, strategy: string): Verdict[] {
  const byName = new Map(s.aggregates.map((a) => [a.strategy, a]));
  const floor = (s.scenario.spec.awsLambdaMinConcurrency * s.scenario.workload.durationSeconds) / 3600;
  return verdicts(byName, floor, strategy);
}

const tally = (v: Verdict): 'pass' | 'miss' | 'na' => (v.pass === null ? 'na' : v.pass ? 'pass' : 'miss');

/** The verdict table of `strategy` over every scenario. */
function verdictTable(r: ReportInput, strategy: string): string {
  const rows = r.scenarios.flatMap((s) =>
    scenarioVerdicts(s, strategy).map((v) => [s.scenario.title, v.goal, mark(v), v.reason]),
  );
  return table(['scenario', 'goal', 'verdict', 'measured'], rows);
}

/** Whether an aggregate meets goal 2 against the oracle: ≤ 1.25× its capacity, ≤ +1 pp violations. */
function nearOracle(a: Aggregate, oracle: Aggregate): boolean {
  return (
    a.mean.capacityHours <= 1.25 * oracle.mean.capacityHours &&
    a.mean.pctOverSlo <= oracle.mean.pctOverSlo + 1
  );
}

/**
 * Notes computed from all scenarios: how many goals pass, whether goal 2 is reachable by any real
 * strategy, and what overpull does to reserved concurrency as the only lever (issue 8 item 5).
 */
function notes(r: ReportInput): string[] {
  const count = { pass: 0, miss: 0, na: 0 };
  const plain = { pass: 0, miss: 0, na: 0 };
  const reachable: string[] = [];
  const floors: string[] = [];
  const cappedFloors: string[] = [];
  const outOfReachIn: string[] = [];
  let overpulled = 0;
  for (const s of r.scenarios) {
    const byName = new Map(s.aggregates.map((a) => [a.strategy, a]));
    for (const v of scenarioVerdicts(s, RECOMMENDED)) count[tally(v)]++;
    for (const v of scenarioVerdicts(s, WITHOUT_CAP)) plain[tally(v)]++;
    const oracle = byName.get(ORACLE);
    const top = byName.get(STATIC_MAX);
    const capped = byName.get(STATIC_MAX_CAPPED);
    if (oracle !== undefined) {
      const ok = s.aggregates
        .filter((a) => a.strategy !== ORACLE && nearOracle(a, oracle))
        .map((a) => a.strategy);
      reachable.push(`${s.scenario.title}: ${ok.length > 0 ? ok.join(', ') : 'none'}`);
      if (outOfReach(byName) !== null)
        outOfReachIn.push(`${s.scenario.title} (oracle ${pp(oracle.mean.pctOverSlo)})`);
    }
    if (top !== undefined) {
      floors.push(
        `${s.scenario.title} ${pp(top.mean.pctOverSlo)} (${num(top.mean.throttles)} throttles, ${num(top.mean.dlqMoves)} DLQ moves)`,
      );
      if (top.mean.throttles > 0) overpulled++;
    }
    if (capped !== undefined) cappedFloors.push(`${s.scenario.title} ${pp(capped.mean.pctOverSlo)}`);
  }
  const lines = [
    '### Notes',
    '',
    `- The recommended configuration, ${RECOMMENDED}: ${count.pass} goals pass, ${count.miss} miss, ${count.na} not applicable (${r.scenarios.length} scenarios × 3 goals).`,
    `- The same policy without the cap (the CRD default), ${WITHOUT_CAP}, verdicts below: ${plain.pass} pass, ${plain.miss} miss, ${plain.na} not applicable.`,
    `- Goal 2 (≤ 1.25× the oracle's capacity-hours at ≤ its violations + 1 pp), met by which real strategy at all: ${reachable.join('; ')}.`,
    `- The oracle knows the true arrivals of the next minute, the mean processing time and the true backlog, and caps the mapping at its reserved concurrency as the operator does. ${outOfReachIn.length > 0 ? `It stays within 1% of messages over SLO everywhere except ${outOfReachIn.join('; ')}, where even reserved concurrency and the mapping's cap held at the maximum leave messages over SLO (the verdicts say why).` : 'It stays within 1% of messages over SLO in every scenario.'}`,
    `- Reserved concurrency and the mapping's cap at the maximum for the whole run (${STATIC_MAX_CAPPED}), the floor of violations within the bounds: ${cappedFloors.join('; ')}.`,
    `- Reserved concurrency at the maximum without the cap (${STATIC_MAX}) still over SLO: ${floors.join('; ')}.`,
  ];
  if (overpulled > 0)
    lines.push(
      `- Overpull: in ${overpulled === floors.length ? 'every scenario' : `${overpulled} of ${floors.length} scenarios`} the event source mapping pulled batches the reserved concurrency then throttled, even with reserved concurrency at the maximum for the whole run. The mapping adds pollers while messages are visible and every poller is busy (a throttled one counts as busy) and drops them only while nothing is visible, so once pollers outnumber the reserved concurrency under load they stay above it until the load falls; every extra poller pulls a batch per back-off and parks it for the visibility timeout. With reserved concurrency as the only lever, static max is the floor of violations, and a policy can trade capacity for violations only along the line between it and the minimum.`,
    );
  lines.push(
    `- The recommended configuration therefore caps the mapping: with \`eventSourceMapping.manageMaximumConcurrency: true\` the operator also keeps the mapping's \`ScalingConfig.MaximumConcurrency\` at the decided reserved concurrency (clamped to 2–1,000), as AWS recommends against overpull, raising reserved before the cap and lowering the cap before reserved (UpdateEventSourceMapping from the shared 15 requests/s control-plane bucket, only on change; needs \`lambda:UpdateEventSourceMapping\`). Use it when the queue's mapping is dedicated to the function. The CRD default stays off — the mapping is the user's resource and existing manifests behave as before — so the verdicts of ${WITHOUT_CAP} below are what a scaler gets without it.`,
  );
  return lines;
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
    "Every run is virtual time in awssim; policy strategies are the operator's own `decide()` driven the way the",
    'reconciler drives it (`src/bench/run.ts`). Scenario format, metric definitions and caveats: [README.md](README.md).',
    'How the operator itself holds up with 100, 1,000 and 5,000 scalers (real processes, real time) is the last',
    'section, [Operator at scale](#operator-at-scale-issue-8-item-6), copied from [SCALE.md](SCALE.md).',
    '',
    `## Verdicts (issue 8, item 5) for the recommended configuration, ${RECOMMENDED}`,
    '',
    `LatencySLO with \`eventSourceMapping.manageMaximumConcurrency: true\` (the operator keeps the queue's event source mapping's MaximumConcurrency at the reserved concurrency; for a mapping dedicated to the function). The CRD default leaves the mapping alone; the same policy without the cap, ${WITHOUT_CAP}, has its verdicts further below.`,
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
      'Settings are fixed by rule, not tuned per scenario (shown for the first scenario):',
      '',
    );
    for (const st of strategiesFor(first.scenario)) out.push(`- **${st.label}**: ${describeStrategy(st)}`);
    out.push('');
  }
  for (const s of r.scenarios) {
    const sc = s.scenario;
    out.push(
      `## ${sc.title}`,
      '',
      `\`${sc.file}\` — ${sc.description} SLO ${sc.sloSeconds} s; bounds [${sc.spec.awsLambdaMinConcurrency}, ${sc.spec.awsLamndaMaxConcurrency ?? sc.spec.awsLambdaMaxConcurrency}]; ${num(sc.workload.durationSeconds / 3600, 1)} h simulated; ${num(s.wallSeconds, 1)} s of run time (summed over its runs).`,
      '',
    );
    out.push(...findings(s.aggregates), '');
    out.push(
      table(
        [
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
        ],
        s.aggregates.map((a) => [
          a.strategy === RECOMMENDED || a.strategy === WITHOUT_CAP ? `**${a.strategy}**` : a.strategy,
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
        ]),
      ),
      '',
      `![${sc.title}](${s.chart})`,
      '',
    );
  }
  out.push('## Operator at scale (issue 8, item 6)', '', ...scaleSection(r.scale), '');
  return `${out.join('\n')}\n`;
}
