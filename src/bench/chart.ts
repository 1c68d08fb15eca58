// Charts and tables of simulated runs, shared by the what-if CLI and the benchmark report.
import { lineChart, type Series } from '../report/svg.ts';
import type { RunResult } from './run.ts';

/** Colours for up to ten strategies on one chart. */
export const PALETTE = [
  '#d62728',
  '#1f77b4',
  '#2ca02c',
  '#9467bd',
  '#ff7f0e',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#17becf',
  '#bcbd22',
];

/** Every `step`-th second, so a 24 h run does not make a 10 MB chart. */
function decimate<T>(xs: readonly T[], max = 1500): T[] {
  const step = Math.max(1, Math.ceil(xs.length / max));
  return xs.filter((_, i) => i % step === 0 || i === xs.length - 1);
}

/** One run: waiting messages (left) against reserved, running and needed concurrency (right). */
export function runChart(r: RunResult, title: string): string {
  const tl = decimate(r.timeline);
  const series: Series[] = [
    { name: 'visible', points: tl.map((p) => [p.t, p.visible]), color: '#1f77b4', axis: 'left' },
    { name: 'in flight', points: tl.map((p) => [p.t, p.inFlight]), color: '#aec7e8', axis: 'left' },
    {
      name: 'reserved',
      points: tl.map((p) => [p.t, p.reserved]),
      color: '#d62728',
      axis: 'right',
      step: true,
    },
    { name: 'running', points: tl.map((p) => [p.t, p.concurrency]), color: '#2ca02c', axis: 'right' },
    {
      name: 'needed (truth)',
      points: tl.map((p) => [p.t, r.need[Math.max(0, p.t - 1)] ?? 0]),
      color: '#7f7f7f',
      axis: 'right',
      step: true,
    },
  ];
  const markers = decimate(r.actions, 40).map((a) => ({ t: a.t, label: `${a.from ?? '-'}→${a.to ?? '-'}` }));
  return lineChart({ title, leftLabel: 'messages', rightLabel: 'concurrency', series, markers });
}

/** Several runs of one seed: each strategy's reserved concurrency, with the need and the backlog. */
export function compareChart(runs: readonly RunResult[], title: string): string {
  const first = runs[0];
  const series: Series[] = runs.map((r, i) => ({
    name: r.strategy,
    points: decimate(r.timeline).map((p) => [p.t, p.reserved] as const),
    color: PALETTE[i % PALETTE.length] ?? '#000',
    axis: 'right' as const,
    step: true,
  }));
  if (first !== undefined) {
    series.push({
      name: 'needed (truth)',
      points: decimate(first.timeline).map((p) => [p.t, first.need[Math.max(0, p.t - 1)] ?? 0] as const),
      color: '#000000',
      axis: 'right',
      step: true,
    });
    series.push({
      name: 'arrivals/s (60 s mean)',
      points: decimate(movingArrivals(first)).map(([t, v]) => [t, v] as const),
      color: '#bbbbbb',
      axis: 'left',
    });
  }
  return lineChart({ title, leftLabel: 'arrivals per second', rightLabel: 'reserved concurrency', series });
}

function movingArrivals(r: RunResult): [number, number][] {
  const out: [number, number][] = [];
  let sum = 0;
  const tl = r.timeline;
  for (let i = 0; i < tl.length; i++) {
    sum += tl[i]?.arrivals ?? 0;
    if (i >= 60) sum -= tl[i - 60]?.arrivals ?? 0;
    out.push([tl[i]?.t ?? i, sum / Math.min(60, i + 1)]);
  }
  return out;
}

/** A Markdown table. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Formats a number for tables: thousands separators, `digits` decimals. */
export function num(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
