// The recommended configuration under several queue-attribute lags (issue 15). SQS's approximate
// counts are eventually consistent: AWS says they may lag up to about a minute after producers stop
// (AWS-FACTS.md). awssim's lag is an assumption (`model.attributes.lagSeconds`, 0 by default; the
// benchmark's scenarios say 2 s), and every LatencySLO estimate reads those counts, so the figures
// that depend on it are shown across it: each scenario again with the attributes 30 s and 60 s old.
import { type CostCell, costCell } from './cost-models.ts';
import type { Workload } from './workload.ts';

/** The lags, seconds, the benchmark runs besides each scenario's own. */
export const ATTRIBUTE_LAGS: readonly number[] = [30, 60];

/** The same workload with GetQueueAttributes reporting the queue as it was `seconds` ago. */
export function withAttributeLag(w: Workload, seconds: number): Workload {
  const model = w.scenario.model ?? {};
  return {
    ...w,
    scenario: {
      ...w.scenario,
      model: { ...model, attributes: { ...model.attributes, lagSeconds: seconds } },
    },
  };
}

/** The lag a workload's attributes report with, seconds (awssim's default: none). */
export function attributeLagOf(w: Workload): number {
  return w.scenario.model?.attributes?.lagSeconds ?? 0;
}

export interface LagComparison {
  title: string;
  /** The scenario's own lag, seconds: the first column's. */
  own: number;
  seeds: readonly number[];
  /** Per strategy, one cell per lag: the scenario's own, then ATTRIBUTE_LAGS. */
  rows: { strategy: string; cells: (CostCell | undefined)[] }[];
}

/** The section: one row per scenario and strategy, a column per lag. */
export function renderLagSection(comparisons: readonly LagComparison[]): string[] {
  if (comparisons.length === 0) return [];
  const first = comparisons[0] as LagComparison;
  const owns = [...new Set(comparisons.map((c) => c.own))].map((l) => `${l} s`).join(' or ');
  const out = [
    '## Under several queue-attribute lags (issue 15)',
    '',
    `GetQueueAttributes' approximate counts are eventually consistent, and AWS says they may lag up to about a minute after producers stop; awssim's lag is an assumption (\`model.attributes.lagSeconds\`), ${owns} in the scenarios above. Every LatencySLO estimate reads those counts, and polling more often sees them sooner only if they are fresh, so the recommended configuration, the same without the Duration and the same polling every 10 s run again with the attributes ${ATTRIBUTE_LAGS.join(' and ')} s old (\`src/bench/lag.ts\`). The clairvoyant reads the truth, not the attributes: its figures are the same under every lag. Means over seeds ${first.seeds.join(', ')}; each cell is % over SLO / capacity-hours (the ratio to the clairvoyant reference's capacity-hours, and whether that meets ≤ 1.25× at ≤ +1 pp).`,
    '',
    `| scenario | strategy | ${['as above', ...ATTRIBUTE_LAGS.map((l) => `${l} s`)].join(' | ')} |`,
    `| --- | --- | ${['as above', ...ATTRIBUTE_LAGS].map(() => '---').join(' | ')} |`,
  ];
  for (const c of comparisons)
    for (const r of c.rows) out.push(`| ${c.title} | ${r.strategy} | ${r.cells.map(costCell).join(' | ')} |`);
  out.push('');
  return out;
}
