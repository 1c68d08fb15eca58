// "What moved": compares a new report's headline numbers (over SLO %, capacity-hours per strategy
// and scenario) with the report it replaces, so every regeneration says what changed, and why.
import { num, table } from './chart.ts';
import type { Aggregate } from './claims.ts';

/**
 * Why numbers move in this regeneration: edit this list with the change that moved them (the
 * table below it is computed). Each line names a cause and the strategies it touches.
 */
export const WHY_NUMBERS_MOVED: readonly string[] = [
  'With the mapping capped (eventSourceMapping.manageMaximumConcurrency, or a mapping actuator) and the default down window, a recommendation of half the current concurrency or less, held for 60 s, scales down without the rest of the 300 s window: lowering then throttles nothing (issue 15). This moves LatencySLO + ESM cap, its fast scale-up variant, mapping cap alone and provisioned pollers; LatencySLO without the cap keeps its rows.',
  "LatencySLO's learning probe (before it knows what one unit processes) waits at least 300 s to probe down whatever the window. With the default window this changes nothing; listed because the rule is new.",
  'A measured LatencySLO scale-up while fewer than two messages wait per unit waits for the next poll to agree (an up window of 1.5 polls): one noisy poll no longer scales up (a generated constant load flapped 14 ↔ 17). This moves every LatencySLO strategy a little, the uncapped one included.',
  'The AWS adapters: a gate of 50 calls per SDK client, and a stale mapping listing for the five-minute re-check while a newer one is read (issue 16). The scenarios change no mapping outside the operator and never have 50 calls in flight, so decisions see the same values.',
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
