// "What moved": compares a new report's headline numbers (over SLO %, capacity-hours per strategy
// and scenario) with the report it replaces, so every regeneration says what changed, and why.
import { num, table } from './chart.ts';
import type { Aggregate } from './claims.ts';

/**
 * Why numbers move in this regeneration: edit this list with the change that moved them (the
 * table below it is computed). Each line names a cause and the strategies it touches.
 */
export const WHY_NUMBERS_MOVED: readonly string[] = [
  "LatencySLO's calm arrival rate is the function's completions (Little's law) plus the queue's net growth, where it was the completions alone: the intervals that drain a burst's backlog no longer read the drain as arrivals (issue 15). The first calm interval after a saturated spell starts the calm estimate afresh instead of smoothing from the saturated one, and the gap between the two no longer counts as noise in the counts (it widened the hold band to ±40 % for minutes after every burst). This moves every LatencySLO strategy that learns what one unit processes.",
  "LatencySLO's learning probe (before it knows what one unit processes) goes down past half at once where the served messages fill less than 40 % of half the units' batches, at most to an eighth of the units; and it no longer moves by less than a fifth of the units (it followed the in-flight count's noise down a unit or two per window). This moves the trace replay most (a surge's 44 units held 8 minutes on a load of 3).",
  "The learning probe remembers where it found the units saturated with less than a full batch waiting per unit (the edge of the load) and, for three hours and while the load is at least 70 % of what it was there, probes down no lower than a fifth above it: generated constant loads of two or three units cycled 8 ↔ 16 all day. In the benchmark it changes the path of the probes that never learn the throughput; the trace replay's first seed no longer learns it during its surge (1.21× → 1.36× over five seeds).",
];

/** Headline numbers of a report: scenario title → strategy → [over SLO %, capacity-hours]. */
export function headlineNumbers(report: string): Map<string, Map<string, [number, number]>> {
  const out = new Map<string, Map<string, [number, number]>>();
  let title: string | undefined;
  let columns: string[] | undefined;
  for (const line of report.split('\n')) {
    const heading = /^## (.+)$/.exec(line);
    if (heading !== null) {
      title = heading[1];
      columns = undefined;
      continue;
    }
    if (title === undefined || !line.startsWith('| ')) {
      if (!line.startsWith('|')) columns = undefined;
      continue;
    }
    const cells = line
      .slice(2, -2)
      .split(' | ')
      .map((c) => c.trim());
    if (columns === undefined) {
      columns = cells;
      continue;
    }
    const pct = columns.indexOf('over SLO % (min–max)');
    const cap = columns.indexOf('capacity-h');
    if (columns[0] !== 'strategy' || pct < 0 || cap < 0 || cells[0] === '---') continue;
    const value = (c: string | undefined) => Number((c ?? '').split(' ')[0]?.replaceAll(',', ''));
    const strategy = (cells[0] ?? '').replaceAll('**', '');
    const p = value(cells[pct]);
    const c = value(cells[cap]);
    if (!Number.isFinite(p) || !Number.isFinite(c)) continue;
    const byStrategy = out.get(title) ?? new Map<string, [number, number]>();
    byStrategy.set(strategy, [p, c]);
    out.set(title, byStrategy);
  }
  return out;
}

/**
 * The "What moved since the previous report" section: every strategy whose over-SLO share moved by
 * at least 0.1 pp or whose capacity-hours moved by at least 2% (and 0.1), with the causes above.
 */
export function movedSection(
  previous: string | undefined,
  current: readonly { title: string; aggregates: readonly Aggregate[] }[],
  why: readonly string[] = WHY_NUMBERS_MOVED,
): string[] {
  const out = ['## What moved since the previous report', ''];
  if (previous === undefined) return [...out, 'No previous report to compare with.', ''];
  const before = headlineNumbers(previous);
  const rows: string[][] = [];
  const added: string[] = [];
  for (const s of current) {
    const old = before.get(s.title);
    if (old === undefined) {
      added.push(s.title);
      continue;
    }
    for (const a of s.aggregates) {
      const was = old.get(a.strategy);
      const pct = a.mean.pctOverSlo;
      const cap = a.mean.capacityHours;
      if (was === undefined) {
        rows.push([s.title, a.strategy, 'new', `${num(pct, 2)}`, 'new', num(cap, 1)]);
        continue;
      }
      const dCap = cap - was[1];
      if (Math.abs(pct - was[0]) < 0.1 && (Math.abs(dCap) < 0.1 || Math.abs(dCap) < 0.02 * was[1])) continue;
      rows.push([s.title, a.strategy, num(was[0], 2), num(pct, 2), num(was[1], 1), num(cap, 1)]);
    }
  }
  out.push('Why:', '', ...why.map((w) => `- ${w}`), '');
  if (added.length > 0) out.push(`New scenarios: ${added.join('; ')}.`, '');
  out.push(
    rows.length === 0
      ? 'No headline number moved by 0.1 pp of messages over SLO or 2% of capacity-hours.'
      : table(['scenario', 'strategy', 'over SLO % before', 'after', 'capacity-h before', 'after'], rows),
    '',
  );
  return out;
}
