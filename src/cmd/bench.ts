// The policy benchmark: every scenario in bench/scenarios × every strategy × N seeds in virtual time,
// spread over worker threads, then bench/REPORT.md and one chart per scenario.
//   npm run bench [-- --scenario FILE ...] [--seeds 5] [--report bench/REPORT.md]
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { type EsmModel, esmModels } from '../awssim/index.ts';
import {
  type BenchScenario,
  COUNTS_ONLY,
  chartData,
  FAST_POLLS,
  loadBenchScenario,
  RECOMMENDED,
  REFERENCE,
  type RunSummary,
  strategiesFor,
} from '../bench/bench.ts';
import { PALETTE } from '../bench/chart.ts';
import { referenceBreaches } from '../bench/claims.ts';
import {
  type CostCell,
  type CostComparison,
  perMessageWorkload,
  renderCostModelSection,
} from '../bench/cost-models.ts';
import {
  ATTRIBUTE_LAGS,
  attributeLagOf,
  type LagComparison,
  renderLagSection,
  withAttributeLag,
} from '../bench/lag.ts';
import type { AccountMetrics } from '../bench/metrics.ts';
import { combine } from '../bench/metrics.ts';
import { type ModelComparison, meanCell, renderModelSection } from '../bench/models.ts';
import { movedSection } from '../bench/moved.ts';
import { embedRecommendedNumbers } from '../bench/readme.ts';
import { aggregate, renderReport } from '../bench/report.ts';
import { type RunResult, runOnce } from '../bench/run.ts';
import { WorkloadError } from '../bench/workload.ts';
import { lineChart, type Series } from '../report/svg.ts';

interface Task {
  file: string;
  strategy: number;
  seed: number;
  chart: boolean;
  /** awssim's event source mapping model; undefined: the default (documented). */
  model?: EsmModel | undefined;
  /** Every function made to cost per message (cost-models.ts); undefined: as the scenario says. */
  cost?: 'message' | undefined;
  /** The queue attributes this many seconds old (lag.ts); undefined: as the scenario says. */
  lag?: number | undefined;
}

/** A multi-scaler run's API calls are the account's (awssim counts per account, not per caller). */
function accountCalls(r: RunResult) {
  return r.targets.length === 1
    ? {}
    : {
        apiCalls: r.account.apiCalls,
        apiCallsPerHour: r.account.apiCallsPerHour,
        costPerMonth: r.account.costPerMonth,
      };
}

async function runTask(t: Task, cache: Map<string, BenchScenario>): Promise<RunSummary> {
  let s = cache.get(t.file);
  if (s === undefined) {
    s = loadBenchScenario(t.file);
    cache.set(t.file, s);
  }
  const strategy = strategiesFor(s)[t.strategy];
  if (strategy === undefined) throw new Error(`no strategy ${t.strategy}`);
  const started = performance.now();
  const costed = t.cost === 'message' ? perMessageWorkload(s.workload) : s.workload;
  const r = await runOnce({
    workload: t.lag === undefined ? costed : withAttributeLag(costed, t.lag),
    targets: s.targets,
    strategy,
    seed: t.seed,
    esmModel: t.model,
  });
  return {
    ...(t.model === undefined ? {} : { model: t.model }),
    ...(t.cost === undefined ? {} : { cost: t.cost }),
    ...(t.lag === undefined ? {} : { lag: t.lag }),
    scenario: s.id,
    strategy: strategy.label,
    seed: t.seed,
    wallMs: performance.now() - started,
    metrics: {
      ...combine(r.targets.map((x) => x.metrics)),
      ...accountCalls(r),
      boundOverSlo: r.account.boundOverSlo,
    },
    scalers: Object.fromEntries(r.targets.map((x) => [x.target.name, x.metrics])),
    account: r.account,
    intervalSeconds: r.intervalSeconds,
    ...(t.chart ? { chart: chartData(r) } : {}),
  };
}

/** Worker thread: runs the tasks it is sent, one at a time. */
function worker(): void {
  const cache = new Map<string, BenchScenario>();
  parentPort?.on('message', async (t: Task) => {
    try {
      parentPort?.postMessage({ ok: true, summary: await runTask(t, cache) });
    } catch (e) {
      parentPort?.postMessage({ ok: false, error: (e as Error).stack ?? String(e) });
    }
  });
}

async function runAll(tasks: Task[], workers: number): Promise<RunSummary[]> {
  const results: RunSummary[] = [];
  let next = 0;
  let failed: Error | undefined;
  await Promise.all(
    Array.from({ length: Math.min(workers, tasks.length) }, async () => {
      const w = new Worker(new URL(import.meta.url), { workerData: { worker: true } });
      try {
        while (next < tasks.length && failed === undefined) {
          const t = tasks[next++] as Task;
          const reply = await new Promise<{ ok: boolean; summary?: RunSummary; error?: string }>(
            (res, rej) => {
              // One listener pair per task, both removed when either fires (no listener pile-up).
              const onMessage = (m: { ok: boolean; summary?: RunSummary; error?: string }) => {
                w.off('error', onError);
                res(m);
              };
              const onError = (e: Error) => {
                w.off('message', onMessage);
                rej(e);
              };
              w.once('message', onMessage);
              w.once('error', onError);
              w.postMessage(t);
            },
          );
          if (!reply.ok || reply.summary === undefined) failed = new Error(reply.error);
          else {
            results.push(reply.summary);
            const m = reply.summary.metrics;
            process.stderr.write(
              `  ${reply.summary.scenario} · ${reply.summary.strategy} · seed ${t.seed}: ${m.pctOverSlo.toFixed(2)}% over SLO, ${m.capacityHours.toFixed(1)} capacity-h (${(reply.summary.wallMs / 1000).toFixed(1)} s)\n`,
            );
          }
        }
      } finally {
        await w.terminate();
      }
    }),
  );
  if (failed) throw failed;
  return results;
}

function scenarioChart(s: BenchScenario, runs: RunSummary[]): string {
  const series: Series[] = [];
  runs.forEach((r, i) => {
    const c = r.chart;
    if (c === undefined) return;
    series.push({
      name: r.strategy,
      points: c.t.map((t, k) => [t, c.reserved[k] ?? 0] as const),
      color: PALETTE[i % PALETTE.length] ?? '#000',
      axis: 'right',
      step: true,
    });
  });
  const c = runs[0]?.chart;
  if (c !== undefined) {
    series.push({
      name: 'needed (truth)',
      points: c.t.map((t, k) => [t, c.need[k] ?? 0] as const),
      color: '#000000',
      axis: 'right',
      step: true,
    });
    series.push({
      name: 'arrivals/s (60 s mean)',
      points: c.t.map((t, k) => [t, c.arrivals[k] ?? 0] as const),
      color: '#bbbbbb',
      axis: 'left',
    });
  }
  return lineChart({
    title: `${s.title}: reserved concurrency (or the mapping's cap) by strategy (seed ${runs[0]?.seed ?? ''})`,
    leftLabel: 'arrivals per second',
    rightLabel: 'reserved concurrency / mapping cap',
    series,
    width: 1100,
    height: 460,
  });
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string', multiple: true },
      seeds: { type: 'string' },
      report: { type: 'string' },
      workers: { type: 'string' },
      // Every strategy under the other event source mapping models too, with fewer seeds.
      models: { type: 'string' },
      'model-seeds': { type: 'string' },
    },
  });
  const root = resolve(dirname(new URL(import.meta.url).pathname), '../..');
  const files =
    values.scenario?.map((f) => resolve(f)) ??
    readdirSync(join(root, 'bench/scenarios'))
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => join(root, 'bench/scenarios', f));
  const seedCount = values.seeds === undefined ? 5 : Number(values.seeds);
  if (!Number.isInteger(seedCount) || seedCount < 1)
    throw new Error(`--seeds: "${values.seeds}" is not a positive integer`);
  const seeds = Array.from({ length: seedCount }, (_, i) => i + 1);
  const reportPath = resolve(
    values.report ?? (values.scenario ? 'bench-out/REPORT.md' : join(root, 'bench/REPORT.md')),
  );
  const chartsDir = join(dirname(reportPath), 'charts');
  mkdirSync(chartsDir, { recursive: true });
  const scenarios = files.map(loadBenchScenario);
  const tasks: Task[] = [];
  // Longest scenarios first, so two workers finish together.
  const order = [...scenarios].sort((a, b) => b.workload.durationSeconds - a.workload.durationSeconds);
  for (const s of order)
    strategiesFor(s).forEach((_, i) => {
      for (const seed of seeds) tasks.push({ file: s.file, strategy: i, seed, chart: seed === seeds[0] });
    });
  const models = (values.models ?? esmModels.join(',')).split(',').filter((m) => m !== '') as EsmModel[];
  for (const m of models)
    if (!esmModels.includes(m)) throw new Error(`--models: "${m}" is not one of ${esmModels.join(', ')}`);
  const modelSeeds = seeds.slice(0, values['model-seeds'] === undefined ? 2 : Number(values['model-seeds']));
  const DEFAULT_MODEL: EsmModel = 'documented';
  for (const s of order)
    strategiesFor(s).forEach((_, i) => {
      for (const model of models)
        if (model !== DEFAULT_MODEL)
          for (const seed of modelSeeds) tasks.push({ file: s.file, strategy: i, seed, chart: false, model });
    });
  // The recommended configuration, the same without the Duration, and the reference, with every
  // function costing per message (cost-models.ts): the Duration's reading depends on it. The same
  // two and the recommended configuration polling every 10 s under older queue attributes
  // (lag.ts): every LatencySLO estimate reads them.
  const COSTED = [COUNTS_ONLY, RECOMMENDED, REFERENCE];
  const LAGGED = [COUNTS_ONLY, RECOMMENDED, FAST_POLLS];
  for (const s of order)
    strategiesFor(s).forEach((st, i) => {
      for (const seed of modelSeeds) {
        const task = { file: s.file, strategy: i, seed, chart: false };
        if (COSTED.includes(st.label)) tasks.push({ ...task, cost: 'message' });
        if (LAGGED.includes(st.label)) for (const lag of ATTRIBUTE_LAGS) tasks.push({ ...task, lag });
      }
    });
  const workers = values.workers === undefined ? availableParallelism() : Number(values.workers);
  process.stderr.write(
    `bench: ${scenarios.length} scenarios × ${strategiesFor(scenarios[0] as BenchScenario).length} strategies × ${seeds.length} seeds = ${tasks.length} runs on ${workers} workers\n`,
  );
  const started = performance.now();
  const everything = await runAll(tasks, workers);
  const summaries = everything.filter(
    (r) => r.model === undefined && r.cost === undefined && r.lag === undefined,
  );
  const wallSeconds = (performance.now() - started) / 1000;

  const sections = scenarios.map((s) => {
    const mine = summaries.filter((r) => r.scenario === s.id);
    const labels = strategiesFor(s).map((st) => st.label);
    const of = (l: string) => mine.filter((r) => r.strategy === l);
    const aggregates = labels.map((l) => aggregate(of(l)));
    const scalers =
      s.targets.length === 1
        ? []
        : s.targets.map((t) => ({
            name: t.name,
            aggregates: labels.map((l) =>
              aggregate(of(l).map((r) => ({ ...r, metrics: r.scalers[t.name] ?? r.metrics }))),
            ),
          }));
    const accounts = labels.map((l) => ({ strategy: l, account: meanAccount(of(l).map((r) => r.account)) }));
    const chartRuns = labels
      .map((l) => mine.find((r) => r.strategy === l && r.chart !== undefined))
      .filter((r) => r !== undefined);
    const chartFile = join(chartsDir, `${s.id}.svg`);
    writeFileSync(chartFile, scenarioChart(s, chartRuns));
    return {
      scenario: { ...s, file: relative(dirname(reportPath), s.file) },
      aggregates,
      scalers,
      accounts,
      wallSeconds: mine.reduce((a, r) => a + r.wallMs, 0) / 1000,
      chart: relative(dirname(reportPath), chartFile),
    };
  });
  const breaches = referenceBreaches(summaries);
  const comparisons: ModelComparison[] =
    models.length <= 1
      ? []
      : scenarios.map((s) => ({
          title: s.title,
          models,
          seeds: modelSeeds,
          rows: strategiesFor(s).map((st) => ({
            strategy: st.label,
            cells: models.map((m) =>
              meanCell(
                everything
                  .filter(
                    (r) =>
                      r.scenario === s.id &&
                      r.strategy === st.label &&
                      modelSeeds.includes(r.seed) &&
                      r.cost === undefined &&
                      r.lag === undefined &&
                      (r.model ?? DEFAULT_MODEL) === m,
                  )
                  .map((r) => r.metrics),
              ),
            ),
          })),
        }));
  const cellOf = (
    id: string,
    label: string,
    cost: 'message' | undefined,
    lag?: number,
  ): CostCell | undefined => {
    const of = (l: string, withLag: number | undefined) =>
      everything.filter(
        (r) =>
          r.scenario === id &&
          r.strategy === l &&
          r.model === undefined &&
          r.cost === cost &&
          r.lag === withLag &&
          modelSeeds.includes(r.seed),
      );
    const mine = meanCell(of(label, lag).map((r) => r.metrics));
    // The clairvoyant reads the truth, not the attributes: its runs serve every lag.
    const ref = meanCell(of(REFERENCE, undefined).map((r) => r.metrics));
    if (mine === undefined || ref === undefined) return undefined;
    return {
      pctOverSlo: mine.pctOverSlo,
      capacityHours: mine.capacityHours,
      referencePctOverSlo: ref.pctOverSlo,
      referenceCapacityHours: ref.capacityHours,
    };
  };
  const costs: CostComparison[] = scenarios.map((s) => ({
    title: s.title,
    seeds: modelSeeds,
    rows: [COUNTS_ONLY, RECOMMENDED].map((label) => ({
      strategy: label,
      cells: [cellOf(s.id, label, undefined), cellOf(s.id, label, 'message')] as [
        CostCell | undefined,
        CostCell | undefined,
      ],
    })),
  }));
  const lags: LagComparison[] = scenarios.map((s) => ({
    title: s.title,
    own: attributeLagOf(s.workload),
    seeds: modelSeeds,
    rows: LAGGED.map((label) => ({
      strategy: label,
      cells: [undefined, ...ATTRIBUTE_LAGS].map((lag) => cellOf(s.id, label, undefined, lag)),
    })),
  }));
  const previous = existsSync(reportPath) ? readFileSync(reportPath, 'utf8') : undefined;
  const cpu = cpus();
  const scaleFile = join(dirname(reportPath), 'SCALE.md');
  const report = renderReport({
    scale: existsSync(scaleFile) ? readFileSync(scaleFile, 'utf8') : undefined,
    date: new Date().toISOString().slice(0, 10),
    machine: `${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}), ${process.platform}/${process.arch}`,
    node: process.version,
    seeds,
    wallSeconds,
    scenarios: sections,
    breaches,
    models: [...renderCostModelSection(costs), ...renderLagSection(lags), ...renderModelSection(comparisons)],
    moved: movedSection(
      previous,
      sections.map((x) => ({ title: x.scenario.title, aggregates: x.aggregates })),
    ),
    command: values.scenario
      ? `npm run bench -- --scenario ${values.scenario.map((f) => basename(f)).join(' ')}`
      : 'npm run bench',
  });
  writeFileSync(reportPath, report);
  if (reportPath === join(root, 'bench/REPORT.md'))
    // The README and the policy guide quote the recommended configuration's numbers: keep them the report's.
    for (const doc of [join(root, 'README.md'), join(root, 'docs/policies.md')])
      writeFileSync(doc, embedRecommendedNumbers(readFileSync(doc, 'utf8'), report));
  process.stderr.write(
    `bench: wrote ${relative(process.cwd(), reportPath)} in ${wallSeconds.toFixed(1)} s\n`,
  );
  if (breaches.length > 0) {
    // The reference is what every strategy is judged against: a run that beats it is a defect of
    // the reference (or of the bound), and the report says so — loudly, and with a failing exit.
    process.stderr.write(`bench: THE REFERENCE DID NOT HOLD:\n  ${breaches.join('\n  ')}\n`);
    process.exitCode = 1;
  }
}

/** Account totals averaged over seeds; the least unreserved pool is the least of any seed. */
function meanAccount(xs: readonly AccountMetrics[]): AccountMetrics {
  const first = xs[0];
  if (first === undefined) throw new Error('no runs');
  const mean = (f: (a: AccountMetrics) => number) => xs.reduce((s, a) => s + f(a), 0) / xs.length;
  const fair = xs.map((a) => a.fairness).filter((f) => f !== null);
  const failures: Record<string, number> = {};
  for (const a of xs)
    for (const [k, v] of Object.entries(a.failures)) failures[k] = (failures[k] ?? 0) + v / xs.length;
  return {
    ...first,
    minUnreserved: Math.min(...xs.map((a) => a.minUnreserved)),
    squeezeSeconds: mean((a) => a.squeezeSeconds),
    fairness: fair.length === 0 ? null : fair.reduce((s, f) => s + f, 0) / fair.length,
    controlPlanePerSecond: mean((a) => a.controlPlanePerSecond),
    budgetPct: mean((a) => a.budgetPct),
    throttledCalls: mean((a) => a.throttledCalls),
    failures,
    sent: mean((a) => a.sent),
    overSlo: mean((a) => a.overSlo),
    pctOverSlo: mean((a) => a.pctOverSlo),
    capacityHours: mean((a) => a.capacityHours),
    boundCapacityHours: mean((a) => a.boundCapacityHours),
    boundOverSlo: mean((a) => a.boundOverSlo),
    apiCallsPerHour: mean((a) => a.apiCallsPerHour),
    costPerMonth: mean((a) => a.costPerMonth),
  };
}

if (!isMainThread && (workerData as { worker?: boolean } | null)?.worker) worker();
else {
  try {
    await main(process.argv.slice(2));
  } catch (e) {
    if (e instanceof WorkloadError) {
      console.error(`error: ${e.message}`);
      process.exitCode = 2;
    } else throw e;
  }
}
