// Every strategy under every event source mapping model (docs/simulator.md): AWS documents how the
// mapping treats a throttled batch only in part, so the results that depend on it are shown under
// each model awssim offers — `documented` (the default), `retry-then-release` and `release` (the
// worst case) — and a claim says under which models a strategy keeps messages out of the DLQ.

/** One strategy's means over the seeds compared, under one model. */
export interface ModelCell {
  pctOverSlo: number;
  capacityHours: number;
  dlqMoves: number;
}

export interface ModelComparison {
  title: string;
  models: readonly string[];
  seeds: readonly number[];
  /** Per strategy (in the report's order), per model (in `models`' order). */
  rows: { strategy: string; cells: (ModelCell | undefined)[] }[];
}

/** Means of the runs of one strategy under one model. */
export function meanCell(runs: readonly ModelCell[]): ModelCell | undefined {
  if (runs.length === 0) return undefined;
  const mean = (f: (c: ModelCell) => number) => runs.reduce((a, c) => a + f(c), 0) / runs.length;
  return {
    pctOverSlo: mean((c) => c.pctOverSlo),
    capacityHours: mean((c) => c.capacityHours),
    dlqMoves: mean((c) => c.dlqMoves),
  };
}

/**
 * The models under which a strategy lost no message to the DLQ, and the sentence that says so:
 * "no DLQ moves under every model", "… only under documented, retry-then-release", or "DLQ moves
 * under every model".
 */
export function dlqClaim(models: readonly string[], cells: readonly (ModelCell | undefined)[]): string {
  const clean = models.filter((_, i) => cells[i] !== undefined && (cells[i] as ModelCell).dlqMoves === 0);
  const measured = models.filter((_, i) => cells[i] !== undefined);
  if (measured.length === 0) return 'not measured';
  if (clean.length === measured.length) return 'no DLQ moves under every model';
  if (clean.length === 0) return 'DLQ moves under every model';
  return `no DLQ moves only under ${clean.join(', ')}`;
}

const fmt = (n: number, digits: number) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The section: one compact table per scenario, rows strategies, a column group per model. */
export function renderModelSection(comparisons: readonly ModelComparison[]): string[] {
  if (comparisons.length === 0) return [];
  const first = comparisons[0] as ModelComparison;
  const out = [
    '## Under every event source mapping model (issue 14)',
    '',
    `How a throttled batch behaves is documented only in part (docs/simulator.md), so every strategy runs under each model awssim offers: ${first.models.map((m) => `\`${m}\``).join(', ')} (the first is the default, used everywhere above). Means over seeds ${first.seeds.join(', ')}; each cell is % over SLO / capacity-hours / messages moved to the DLQ.`,
    '',
  ];
  for (const c of comparisons) {
    out.push(`### ${c.title}`, '');
    out.push(`| strategy | ${c.models.join(' | ')} | DLQ |`);
    out.push(`| --- | ${c.models.map(() => '---').join(' | ')} | --- |`);
    for (const r of c.rows) {
      const cells = r.cells.map((x) =>
        x === undefined
          ? 'n/a'
          : `${fmt(x.pctOverSlo, 2)}% / ${fmt(x.capacityHours, 1)} / ${fmt(x.dlqMoves, 0)}`,
      );
      out.push(`| ${r.strategy} | ${cells.join(' | ')} | ${dlqClaim(c.models, r.cells)} |`);
    }
    out.push('');
  }
  return out;
}
