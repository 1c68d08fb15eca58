// "What moved": compares a new report's headline numbers (over SLO %, capacity-hours per strategy
// and scenario) with the report it replaces, so every regeneration says what changed, and why.
import { num, table } from './chart.ts';
import type { Aggregate } from './claims.ts';

/**
 * Why numbers move in this regeneration: edit this list with the change that moved them (the
 * table below it is computed). Each line names a cause and the strategies it touches.
 */
export const WHY_NUMBERS_MOVED: readonly string[] = [
  "The recommended configuration is now LatencySLO + ESM cap + Duration (ours): the same spec with `policy.latencySLO.serviceTimeSource: CloudWatch`, so what one unit processes and how long a message is in flight come from the function's mean Duration as CloudWatch publishes it (a minute or two late) instead of a fit of saturated intervals at two concurrencies (issue 15). The counts' fit learned 0.09–0.15 messages/s per unit where the function does 4.8 whenever the arrivals moved while it sampled (the ramp, the trace replay's surge). The previous recommendation stays as LatencySLO + ESM cap (ours); the fast scale-up variant is now the new recommendation with a faster scale-up (renamed to say so).",
  "LatencySLO uses an interval whose observed concurrency did not move even when the concurrency decided at its start was refused or capped for the account's headroom: it skipped every such interval, so while the account had no room the arrival rate stayed at the surge's and the policy kept asking for the refused value (with the Duration, two functions bursting into one account held 520 and 380 units on loads of about 20 to the end of the run in three seeds of five). In that scenario the LatencySLO strategies now hold 9–10 % less capacity, with 0.6–1.7 pp more violations (the units they no longer hold after the surge absorbed its tail).",
  "LatencySLO's hold band is never narrower than 1.5/√n for n served messages in flight (the Poisson noise of the count its calm estimate reads), a drop of a single unit never skips the scale-down window as a large drop, and a measured scale-up waits for a second poll while fewer than five messages wait per unit (it was two): with the Duration known, generated constant loads went 2 ↔ 3, 2 ↔ 1 and 10 ↔ 13. The first calm interval after a saturated spell also forgets the noise measured before it (the relative noise of another load: carried over from 20 messages/s, it held the 10× step's 80 units in a ±40 % band for minutes after the burst). Without the Duration this moves the ramp most (LatencySLO 49.5 → 46.2 capacity-hours, with the mapping cap alone 39.8 → 42.0, with the cap 41.8 → 42.9) and ten overlapping peaks' violations by up to 1.1 pp (their capacity by under 1 %); the other single-scaler rows by less than a capacity-hour.",
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
