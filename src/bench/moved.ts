// "What moved": compares a new report's headline numbers (over SLO %, capacity-hours per strategy
// and scenario) with the report it replaces, so every regeneration says what changed, and why.
import { num, table } from './chart.ts';
import type { Aggregate } from './claims.ts';

/**
 * Why numbers move in this regeneration: edit this list with the change that moved them (the
 * table below it is computed). Each line names a cause and the strategies it touches.
 */
export const WHY_NUMBERS_MOVED: readonly string[] = [
  "While the account's headroom holds a raise back (Constrained), a LatencySLO scaler sizing from the function's measured Duration polls every 5 s instead of its interval (reconciler.ts `HELD_BACK_POLL_MS`), to claim the units another scaler releases within seconds. It moves the Duration configurations in the two multi-scaler scenarios only: a scaler alone in its account is never held back, and the counts-only configurations keep their interval (their estimates need it: with 5 s polls the two bursts' payments scaler held 600 units for five minutes on an empty queue).",
  "No policy changed. New rows, yardsticks only: the reactive reference re-sizing every 30 s, at the operator's first poll (what the recommended configuration's poll interval costs exact reaction) and, in the two multi-scaler scenarios, the same sharing the account's headroom as the operator's ledger does (what fair sharing costs). A miss on violations now splits along them: foresight, the poll interval, fair sharing, and the policy's own.",
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
