// "What moved": compares a new report's headline numbers (over SLO %, capacity-hours per strategy
// and scenario) with the report it replaces, so every regeneration says what changed, and why.
import { num, table } from './chart.ts';
import type { Aggregate } from './claims.ts';

/**
 * Why numbers move in this regeneration: edit this list with the change that moved them (the
 * table below it is computed). Each line names a cause and the strategies it touches.
 */
export const WHY_NUMBERS_MOVED: readonly string[] = [
  "A measured scale-up (issue 15): LatencySLO with the Duration (`serviceTimeSource: CloudWatch`) and the default scale-up rules goes to its need at once when a full batch waits for every unit, past the HPA's 100 % per 15 s, and with the mapping capped the scale-down window does not remember that poll's need (`measuredScaleUp`, src/policy/config.ts). Doubling per poll took each of ten overlapping peaks 4 → 150 units in five polls while 15,000 messages piled up behind it. It moves the recommended configuration only (the fast scale-up variant writes its own rules; the counts-based configurations keep theirs): the three burst scenarios' violations fall by 10 to 45 pp, the square bursts hold more capacity (the units of each burst's first polls), the step and the trace replay less.",
  "With the Duration, the first calm interval after a saturated spell reads the arrivals from its end (served in flight / Duration), no more than the spell's own estimate: the mean of its two ends plus the drained growth read 14 messages/s for 150 after a square burst's backlog ran out inside the interval. It moves every Duration configuration.",
  "When the account's headroom caps a write, the estimates take the next interval as run at the value written, not the one decided (state.ts `withApplied`): every interval of a squeezed spell, in which the account granted a little more at each poll, was skipped, and the arrival rate stayed at what the spell's first polls read. It moves the two multi-scaler scenarios only, and little: the drain of their backlog dominates the need while it lasts.",
  "New rows: the reactive reference (the clairvoyant without foresight, a second yardstick that splits each miss on violations into what foresight buys and what is the policy's own) and the recommended configuration polling every 10 s. New section: the recommended configuration, the same without the Duration and the 10 s polls under 30 s and 60 s old queue attributes.",
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
