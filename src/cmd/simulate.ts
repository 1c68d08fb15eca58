// What-if: runs the user's own LambdaConcurrencyScaler(s) against a traffic profile in virtual time
// with the operator's own reconciler (src/bench/operator.ts), prints a table and writes a chart per scaler.
//   npm run simulate -- --scaler my-scaler.yaml --traffic traffic.yaml [--duration 6h] [--seed N]
//   npm run simulate -- --traffic traffic.yaml --compare a.yaml b.yaml …
//   npm run simulate -- --scaler my-scaler.yaml --traffic traffic.yaml --recommend
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { API_VERSION, KIND, maxConcurrency } from '../api/v1alpha1/index.ts';
import { ScenarioError } from '../awssim/index.ts';
import { num, runChart, table } from '../bench/chart.ts';
import { type Candidate, candidates, choose, type Outcome, originalSettings } from '../bench/recommend.ts';
import { type RunResult, runOnce, singleTarget } from '../bench/run.ts';
import { loadScaler, type ScalerFile, ScalerFileError } from '../bench/scaler.ts';
import { loadWorkload, type Workload, WorkloadError } from '../bench/workload.ts';

const USAGE = `usage: npm run simulate -- --scaler SCALER.yaml --traffic TRAFFIC.yaml [options]
       npm run simulate -- --traffic TRAFFIC.yaml --compare A.yaml B.yaml ...
       npm run simulate -- --scaler SCALER.yaml --traffic TRAFFIC.yaml --recommend
options:
  --recommend    search LatencySLO settings within the scaler's bounds for this traffic and print the
                 recommended manifest, beside the scaler as it is and the original operator's settings
  --service-time S  with --recommend: which LatencySLO serviceTimeSource to search, CloudWatch
                 (needs cloudwatch:GetMetricData), QueueCounts, or both (default)
  --duration D   simulated time, e.g. 90m, 6h, 3600 (seconds); default: the traffic file's, else 1h
  --seed N       random seed (default 1)
  --slo D        a message slower than this (sent → deleted) violates the SLO, the same for every
                 row; default: the first scaler's policy.latencySLO.maxWaitSeconds if set, else 60s
  --out DIR      where charts go (default: simulate-out)`;

/** Parses 90s, 15m, 6h, 1d or a plain number of seconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)?$/.exec(text.trim());
  if (m === null) throw new UsageError(`${flag}: "${text}" is not a duration (examples: 90s, 15m, 6h)`);
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

class UsageError extends Error {
  override readonly name = 'UsageError';
}

const seconds = (s: number) => (s < 10 ? num(s, 1) : num(s));

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      scaler: { type: 'string', multiple: true },
      traffic: { type: 'string' },
      compare: { type: 'boolean' },
      recommend: { type: 'boolean' },
      'service-time': { type: 'string' },
      duration: { type: 'string' },
      seed: { type: 'string' },
      slo: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const files = [...(values.scaler ?? []), ...(values.compare ? positionals : [])];
  if (!values.compare && positionals.length > 0)
    throw new UsageError(`unexpected argument ${positionals[0]} (use --compare to run several scalers)`);
  if (files.length === 0) throw new UsageError('give --scaler FILE (or --compare FILE FILE ...)');
  if (values.traffic === undefined) throw new UsageError('give --traffic FILE');
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed: "${values.seed}" is not an integer`);

  const scalers: ScalerFile[] = files.map(loadScaler);
  // One SLO for the whole comparison: rows judged by different thresholds are not comparable.
  const sloSeconds =
    values.slo !== undefined
      ? parseDuration(values.slo, '--slo')
      : (scalers[0]?.spec.policy?.latencySLO?.maxWaitSeconds ?? 60);
  if (values.recommend && (values.compare || scalers.length !== 1))
    throw new UsageError('--recommend takes one --scaler (its bounds are kept), not --compare');
  const sources = {
    both: ['CloudWatch', 'QueueCounts'],
    CloudWatch: ['CloudWatch'],
    QueueCounts: ['QueueCounts'],
  } as const;
  const serviceTime = values['service-time'] ?? 'both';
  if (!Object.hasOwn(sources, serviceTime))
    throw new UsageError(`--service-time: "${serviceTime}" is not one of CloudWatch, QueueCounts, both`);
  if (values['service-time'] !== undefined && !values.recommend)
    throw new UsageError('--service-time goes with --recommend (a scaler file states its own)');
  const workload = loadWorkload(values.traffic);
  const duration =
    values.duration === undefined ? workload.durationSeconds : parseDuration(values.duration, '--duration');
  const outDir = values.out ?? 'simulate-out';
  mkdirSync(outDir, { recursive: true });

  console.log(
    `traffic ${workload.name}: ${duration} s simulated, seed ${seed}; each scaler's queue and function are mapped onto the simulated queue "${workload.queue}" and function "${workload.fn}"; SLO ${sloSeconds} s for every row`,
  );
  if (values.recommend)
    return recommend(
      scalers[0] as ScalerFile,
      workload,
      duration,
      seed,
      sloSeconds,
      sources[serviceTime as keyof typeof sources],
    );
  const rows: string[][] = [];
  const results: RunResult[] = [];
  for (const s of scalers) {
    const r = await runOnce({
      workload,
      targets: [singleTarget(workload, s.name, s.spec, sloSeconds)],
      strategy: { kind: 'operator', label: s.name, specs: [s.spec] },
      seed,
      durationSeconds: duration,
    });
    results.push(r);
    const chart = join(outDir, `${s.name}.svg`);
    writeFileSync(chart, runChart(r, `${s.name} on ${workload.name} (seed ${seed})`));
    const m = r.metrics;
    rows.push([
      s.name,
      s.spec.policy?.type ?? 'Step',
      `${num(m.pctOverSlo, 2)}% (> ${sloSeconds} s)`,
      seconds(m.p50Seconds),
      seconds(m.p99Seconds),
      num(m.throttles),
      num(m.dlqMoves),
      num(m.capacityHours, 1),
      `${num(m.actions)}`,
      num(Object.values(m.apiCalls).reduce((a, b) => a + b, 0)),
      `$${num(m.costPerMonth, 3)}`,
      chart,
    ]);
  }
  console.log(
    table(
      [
        'scaler',
        'policy',
        'messages over SLO',
        'p50 s',
        'p99 s',
        'throttles',
        'DLQ moves',
        'capacity-hours',
        'scaling actions',
        'API calls',
        'API $/month',
        'chart',
      ],
      rows,
    ),
  );
  return 0;
}

/** Mean outcome of a spec over two seeds (the given one and the next), with the operator's reconciler. */
async function outcomeOf(
  c: Candidate,
  workload: Workload,
  duration: number,
  seed: number,
  sloSeconds: number,
): Promise<Outcome> {
  const runs: RunResult[] = [];
  for (const s of [seed, seed + 1])
    runs.push(
      await runOnce({
        workload,
        targets: [singleTarget(workload, 'recommend', c.spec, sloSeconds)],
        strategy: { kind: 'operator', label: c.label, specs: [c.spec] },
        seed: s,
        durationSeconds: duration,
      }),
    );
  const mean = (f: (r: RunResult) => number) => runs.reduce((a, r) => a + f(r), 0) / runs.length;
  return {
    ...c,
    pctOverSlo: mean((r) => r.metrics.pctOverSlo),
    capacityHours: mean((r) => r.metrics.capacityHours),
    dlqMoves: mean((r) => r.metrics.dlqMoves),
  };
}

async function recommend(
  scaler: ScalerFile,
  workload: Workload,
  duration: number,
  seed: number,
  sloSeconds: number,
  serviceTimeSources: readonly ('CloudWatch' | 'QueueCounts')[],
): Promise<number> {
  const grid = candidates(scaler.spec, sloSeconds, serviceTimeSources);
  console.log(
    `searching ${grid.length} LatencySLO settings within [${scaler.spec.awsLambdaMinConcurrency}, ${maxConcurrency(scaler.spec)}], seeds ${seed} and ${seed + 1} …`,
  );
  const outcomes: Outcome[] = [];
  for (const c of grid) outcomes.push(await outcomeOf(c, workload, duration, seed, sloSeconds));
  const { best, why } = choose(outcomes);
  const rows = [
    { name: `recommended (${best.label})`, o: best },
    {
      name: 'your scaler as it is',
      o: await outcomeOf({ label: 'current', spec: scaler.spec }, workload, duration, seed, sloSeconds),
    },
    {
      name: "the original operator's settings",
      o: await outcomeOf(
        { label: 'original', spec: originalSettings(scaler.spec) },
        workload,
        duration,
        seed,
        sloSeconds,
      ),
    },
  ];
  console.log(
    table(
      ['', `messages over SLO (> ${sloSeconds} s)`, 'capacity-hours', 'DLQ moves'],
      rows.map((r) => [
        r.name,
        `${num(r.o.pctOverSlo, 2)}%`,
        num(r.o.capacityHours, 1),
        num(r.o.dlqMoves, 1),
      ]),
    ),
  );
  console.log(`\nWhy: ${why}. Predicted for this traffic (means over two seeds), not a promise.\n`);
  console.log(
    stringify({ apiVersion: API_VERSION, kind: KIND, metadata: { name: scaler.name }, spec: best.spec }),
  );
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (e instanceof ScalerFileError || e instanceof WorkloadError || e instanceof ScenarioError) {
    console.error(`error: ${e.message}`);
    process.exitCode = 2;
  } else if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`error: ${(e as Error).message}\n${USAGE}`);
    process.exitCode = 2;
  } else throw e;
}
