// The recommended configuration under both function cost models awssim offers (issue 15).
// LatencySLO with serviceTimeSource: CloudWatch takes what one unit processes as BatchSize per mean
// Duration: exact for a function whose invocation costs the same whatever the batch holds (awssim's
// `per: batch`, every benchmark scenario's), optimistic at partial batches for one whose cost grows
// with each message (`per: message`). How a real function's cost splits between the two is the
// user's, so the figures that depend on it are shown under both: each scenario's function made to
// cost per message, a full batch taking as long as before.
import type { Distribution } from '../awssim/model/params.ts';
import type { Workload } from './workload.ts';

/** A distribution of durations with every time divided by `by`. */
function scaled(d: Distribution, by: number): Distribution {
  switch (d.kind) {
    case 'constant':
      return { ...d, ms: d.ms / by };
    case 'uniform':
      return { ...d, minMs: d.minMs / by, maxMs: d.maxMs / by };
    case 'lognormal':
      return { ...d, medianMs: d.medianMs / by };
  }
}

/**
 * The same workload with each function's duration per message instead of per batch: its
 * distribution's times divided by its mapping's BatchSize (a full batch takes about as long as
 * before, a partial one less), in the scenario and in every behaviour change. Functions that
 * already cost per message are left as they are.
 */
export function perMessageWorkload(w: Workload): Workload {
  const batchOf = (fn: string) =>
    w.scenario.eventSourceMappings.find((m) => m.function === fn)?.batchSize ?? 10;
  const perBatch = new Set(w.scenario.functions.filter((f) => f.per !== 'message').map((f) => f.name));
  return {
    ...w,
    scenario: {
      ...w.scenario,
      functions: w.scenario.functions.map((f) =>
        perBatch.has(f.name) && f.duration !== undefined
          ? { ...f, per: 'message', duration: scaled(f.duration, batchOf(f.name)) }
          : f,
      ),
    },
    changes: w.changes.map((c) => {
      const fn = c.fn ?? w.fn;
      if (!perBatch.has(fn) || c.behaviour.duration === undefined) return c;
      return {
        ...c,
        behaviour: { ...c.behaviour, per: 'message', duration: scaled(c.behaviour.duration, batchOf(fn)) },
      };
    }),
  };
}

/** One strategy's means under one cost model, with the reference's capacity under the same one. */
export interface CostCell {
  pctOverSlo: number;
  capacityHours: number;
  referencePctOverSlo: number;
  referenceCapacityHours: number;
}

export interface CostComparison {
  title: string;
  seeds: readonly number[];
  /** Per strategy: [per batch, per message]. */
  rows: { strategy: string; cells: [CostCell | undefined, CostCell | undefined] }[];
}

const fmt = (n: number, digits: number) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** "0.00% / 24.9 (1.20×, met)": issue 15's goal, ≤ 1.25× the reference's capacity at ≤ +1 pp. */
export function costCell(c: CostCell | undefined): string {
  if (c === undefined) return 'n/a';
  const ratio = c.referenceCapacityHours > 0 ? c.capacityHours / c.referenceCapacityHours : Number.NaN;
  const met = ratio <= 1.25 && c.pctOverSlo - c.referencePctOverSlo <= 1;
  return `${fmt(c.pctOverSlo, 2)}% / ${fmt(c.capacityHours, 1)} (${fmt(ratio, 2)}×, ${met ? 'met' : 'missed'})`;
}

/** The section: one row per scenario and strategy, a column per cost model. */
export function renderCostModelSection(comparisons: readonly CostComparison[]): string[] {
  if (comparisons.length === 0) return [];
  const first = comparisons[0] as CostComparison;
  const out = [
    '## Under both function cost models (issue 15)',
    '',
    `LatencySLO with \`serviceTimeSource: CloudWatch\` reads one unit's throughput as BatchSize per mean Duration: exact where an invocation costs the same whatever its batch holds (\`per: batch\`, every scenario above), optimistic at partial batches where the cost grows with each message (\`per: message\`). So the recommended configuration and the same without the Duration run again with every function costing per message, a full batch taking as long as before (its durations divided by the BatchSize; \`src/bench/cost-models.ts\`). Means over seeds ${first.seeds.join(', ')}; each cell is % over SLO / capacity-hours (the ratio to the clairvoyant reference's capacity-hours under the same model, and whether that meets ≤ 1.25× at ≤ +1 pp).`,
    '',
    '| scenario | strategy | per batch (as above) | per message |',
    '| --- | --- | --- | --- |',
  ];
  for (const c of comparisons)
    for (const r of c.rows)
      out.push(`| ${c.title} | ${r.strategy} | ${costCell(r.cells[0])} | ${costCell(r.cells[1])} |`);
  out.push('');
  return out;
}
