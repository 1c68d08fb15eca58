// Every sentence the benchmark report states about the numbers — who had the fewest violations,
// whether ~0% is out of reach, what the floor is, the verdicts, whether the reference held — is
// computed here from aggregates, so each can be unit-tested on crafted results (claims.test.ts).

import { POLL_JITTER } from '../controller/reconciler.ts';
import {
  ORIGINAL,
  PROVISIONED_MODE,
  REACTIVE_AT_POLLS,
  REACTIVE_FAIR,
  REACTIVE_LADDER,
  REACTIVE_REFERENCE,
  REFERENCE,
  REFERENCES,
  STATIC_MAX,
  STATIC_MAX_CAPPED,
} from './bench.ts';
import { num } from './chart.ts';
import type { RunMetrics } from './metrics.ts';

/** Means over seeds, plus the spread of SLO violations and the worst reaction. */
export interface Aggregate {
  strategy: string;
  runs: number;
  intervalSeconds: number;
  mean: Omit<RunMetrics, 'apiCalls' | 'worstReactionSeconds'>;
  pctMin: number;
  pctMax: number;
  episodes: number;
  /** Slowest reaction over all seeds; null if some episode never saw a scale-up. */
  worstReaction: number | null;
}

export interface Verdict {
  goal: string;
  pass: boolean | null;
  reason: string;
}

export const pp = (x: number) => `${num(x, 2)}%`;
export const ch = (x: number) => `${num(x, 1)} capacity-hours`;

/** Percentages that print the same are the same result (the report shows two decimals). */
const samePct = (a: number, b: number) => pp(a) === pp(b);

/** "Fewest SLO violations": every real strategy tied at the lowest mean, the references aside. */
export function fewestViolations(aggs: readonly Aggregate[]): string | null {
  const real = aggs.filter((a) => !REFERENCES.has(a.strategy));
  const best = Math.min(...real.map((a) => a.mean.pctOverSlo));
  const tied = real.filter((a) => samePct(a.mean.pctOverSlo, best));
  if (tied.length === 0) return null;
  const who = tied.map((a) => `${a.strategy} (${ch(a.mean.capacityHours)})`).join(', ');
  return `Fewest SLO violations (references aside): ${pp(best)}, by ${who}.`;
}

/** "Within 1 pp of that with the least capacity": null when that is the best itself. */
export function cheapestNearBest(aggs: readonly Aggregate[]): string | null {
  const real = aggs.filter((a) => !REFERENCES.has(a.strategy));
  const best = Math.min(...real.map((a) => a.mean.pctOverSlo));
  const near = real
    .filter((a) => a.mean.pctOverSlo <= best + 1)
    .sort((a, b) => a.mean.capacityHours - b.mean.capacityHours)[0];
  if (near === undefined || samePct(near.mean.pctOverSlo, best)) return null;
  return `Within 1 pp of that with the least capacity: ${near.strategy}, ${pp(near.mean.pctOverSlo)} with ${ch(near.mean.capacityHours)}.`;
}

/**
 * "~0% is out of reach": only when no run of any strategy — references included — got within 1%
 * of the messages over SLO. It says "out of reach" only as far as the lower bound proves messages
 * unavoidable (more than 1% of them); otherwise that no strategy reached it though the bound does
 * not rule it out. Causes the capped floor shows follow. Null when some strategy reached ≤ 1%.
 */
export function outOfReach(aggs: readonly Aggregate[]): string | null {
  const best = [...aggs].sort((a, b) => a.mean.pctOverSlo - b.mean.pctOverSlo)[0];
  if (best === undefined || best.mean.pctOverSlo <= 1) return null;
  const m = best.mean;
  const proven = m.sent > 0 ? (100 * m.boundOverSlo) / m.sent : 0;
  const causes: string[] = [];
  const floor = aggs.find((a) => a.strategy === STATIC_MAX_CAPPED);
  if (floor !== undefined && floor.mean.overMaxSeconds > 0)
    causes.push(
      `for ${num(floor.mean.overMaxSeconds)} s the arrivals (60 s mean) exceeded what the maximum concurrency processes`,
    );
  const failed =
    floor !== undefined && floor.mean.invocations > 0
      ? (100 * floor.mean.errors) / floor.mean.invocations
      : 0;
  if (failed >= 0.5)
    causes.push(
      `${num(failed, 1)}% of invocations failed (function timeouts or errors) and their messages came back only after the visibility timeout`,
    );
  const tail = causes.length > 0 ? ` — ${causes.join('; ')}` : '';
  if (proven > 1)
    return `~0% is out of reach here: the lower bound proves ${pp(proven)} of the messages cannot be processed within the SLO at the maximum concurrency, and the best strategy, ${best.strategy}, left ${pp(m.pctOverSlo)}${tail}`;
  return `No strategy reached ~0% here, though the lower bound does not rule it out (it proves ${pp(proven)} unavoidable): the best, ${best.strategy}, left ${pp(m.pctOverSlo)}${tail}`;
}

/**
 * "static max is the floor of violations for any policy that sets reserved concurrency alone":
 * stated only when no strategy without the mapping cap had fewer violations than static max.
 */
export function staticMaxFloor(aggs: readonly Aggregate[], uncapped: readonly string[]): string | null {
  const top = aggs.find((a) => a.strategy === STATIC_MAX);
  if (top === undefined || top.mean.throttles === 0) return null;
  const below = aggs.filter(
    (a) =>
      uncapped.includes(a.strategy) &&
      a.mean.pctOverSlo < top.mean.pctOverSlo &&
      !samePct(a.mean.pctOverSlo, top.mean.pctOverSlo),
  );
  const what = `${STATIC_MAX} (reserved concurrency at the maximum for the whole run): ${num(top.mean.throttles)} throttled invocations and ${num(top.mean.dlqMoves)} DLQ moves per run, ${pp(top.mean.pctOverSlo)} over SLO`;
  if (below.length > 0)
    return `${what}; ${below.map((a) => `${a.strategy} (${pp(a.mean.pctOverSlo)})`).join(', ')} had fewer without the cap, so it is no floor here.`;
  return `${what} — the event source mapping overpulls even at the bound, so this is the floor of violations for any policy that sets reserved concurrency alone.`;
}

/** How a shared account's pool fared in a strategy's runs (several scalers; means over seeds). */
export interface AccountSqueeze {
  /** Seconds in which the scalers together needed more than the account can reserve. */
  squeezeSeconds: number;
  /** The least unreserved concurrency seen, and the floor AWS keeps. */
  minUnreserved: number;
  unreservedMin: number;
}

/** Why a shared account's scalers were late or short: the pool, when it was exhausted. */
function squeezed(a: AccountSqueeze | undefined): string | null {
  if (a === undefined || a.squeezeSeconds <= 0) return null;
  const floor = a.minUnreserved <= a.unreservedMin;
  return `for ${num(a.squeezeSeconds)} s the scalers together needed more than the account can reserve${floor ? ` and its unreserved pool reached the ${num(a.unreservedMin)} AWS keeps: a raise waits until another scaler gives units back` : ''}`;
}

/**
 * The verdicts for `strategy`: beats the original (fewer violations with no more capacity, or the
 * same violations with less), near the reference (≤ 1.25× its capacity-hours, ≤ +1 pp), and a
 * scale-up within one poll of a backlog crossing. `floorCapacityHours` (min × duration) lets a miss
 * of goal 1 say when it is unreachable by construction.
 */
export function verdicts(
  byStrategy: ReadonlyMap<string, Aggregate>,
  strategy: string,
  floorCapacityHours?: number,
  account?: AccountSqueeze,
): Verdict[] {
  const ours = byStrategy.get(strategy);
  const orig = byStrategy.get(ORIGINAL);
  const ref = byStrategy.get(REFERENCE);
  if (!ours || !orig || !ref) return [];
  const o = ours.mean;
  const out: Verdict[] = [];
  const same = Math.abs(o.pctOverSlo - orig.mean.pctOverSlo) <= 0.1;
  const fewer = o.pctOverSlo < orig.mean.pctOverSlo - 0.1;
  const vsOrig = `${pp(o.pctOverSlo)} over SLO with ${ch(o.capacityHours)}; original ${pp(orig.mean.pctOverSlo)} with ${ch(orig.mean.capacityHours)}`;
  if (
    (fewer && o.capacityHours <= orig.mean.capacityHours) ||
    (same && o.capacityHours < orig.mean.capacityHours)
  )
    out.push({ goal: 'beats the original', pass: true, reason: vsOrig });
  else {
    const pinned = floorCapacityHours !== undefined && orig.mean.capacityHours <= floorCapacityHours * 1.001;
    const why = fewer
      ? pinned
        ? `fewer violations, but more capacity: the original never left the minimum (${ch(floorCapacityHours)} is min × duration), so no policy holds less and only the original's own run holds as little — unreachable by construction`
        : 'fewer violations, but it held more capacity than the original did'
      : same
        ? 'the same violations, but not with fewer capacity-hours'
        : 'more SLO violations than the original';
    out.push({ goal: 'beats the original', pass: false, reason: `${why}: ${vsOrig}` });
  }
  const ratio =
    ref.mean.capacityHours > 0 ? o.capacityHours / ref.mean.capacityHours : Number.POSITIVE_INFINITY;
  const capOk = ratio <= 1.25;
  const sloOk = o.pctOverSlo <= ref.mean.pctOverSlo + 1;
  const why: string[] = [];
  if (!capOk && o.overHours > o.underHours)
    why.push(
      `over-provisioned ${num(o.overHours, 1)} unit-hours against the need (the scale-down window and utilization target hold capacity after load falls)`,
    );
  if (!sloOk && o.throttles > 2 * ref.mean.throttles + 100)
    why.push(
      `${num(o.throttles)} throttled invocations per run against the reference's ${num(ref.mean.throttles)} (overpull: throttled batches wait out the visibility timeout, ${num(o.dlqMoves)} messages dead-lettered)`,
    );
  if (!sloOk && o.underHours >= ref.mean.underHours + 0.1)
    why.push(
      `under-provisioned ${num(o.underHours, 1)} unit-hours against the need, the reference ${num(ref.mean.underHours, 1)} (a policy scales once the backlog shows; the reference sizes for arrivals before they come)`,
    );
  const pool = squeezed(account);
  if (!sloOk && pool !== null) why.push(pool);
  const split = sloOk ? null : foresight(ours, ref.mean, byStrategy);
  if (split !== null) why.push(split);
  const behind = sloOk ? '' : ` (${num(o.pctOverSlo - ref.mean.pctOverSlo, 2)} pp more)`;
  const vsRef = `${num(ratio, 2)}× the reference's capacity-hours (lower bound ${ch(o.boundCapacityHours)}); ${pp(o.pctOverSlo)} over SLO vs the reference's ${pp(ref.mean.pctOverSlo)}${behind}`;
  const misses = [!capOk ? 'too much capacity' : '', !sloOk ? 'too many violations' : ''].filter(Boolean);
  out.push({
    goal: 'within 1.25× reference capacity, ≤ +1 pp violations',
    pass: capOk && sloOk,
    reason: `${misses.length > 0 ? `${misses.join(' and ')}: ` : ''}${[vsRef, ...why].join('; ')}`,
  });
  if (ours.episodes === 0)
    out.push({
      goal: 'scale-up within one poll',
      pass: null,
      reason: 'no backlog crossing in any seed (n/a)',
    });
  else if (ours.worstReaction === null)
    out.push({
      goal: 'scale-up within one poll',
      pass: false,
      reason: `in some of ${ours.episodes} backlog episodes no scale-up came before the backlog cleared`,
    });
  else {
    // Polls are jittered (POLL_JITTER): the first poll after a crossing can be that much later.
    const longest = ours.intervalSeconds * (1 + POLL_JITTER);
    const pass = ours.worstReaction <= longest;
    const late = !pass && pool !== null ? `; ${pool}` : '';
    // Whether the yardsticks were late too: where the account is full, even they wait.
    const yardsticks = [REFERENCE, ...REACTIVE_LADDER]
      .map((l) => byStrategy.get(l))
      .filter((a) => a !== undefined && a.episodes > 0 && a.worstReaction !== null)
      .map((a) => `${a?.strategy} ${num(a?.worstReaction ?? 0)} s`);
    const theirs =
      !pass && yardsticks.length > 0 ? `; the references' slowest: ${yardsticks.join(', ')}` : '';
    out.push({
      goal: 'scale-up within one poll',
      pass,
      reason: `slowest first scale-up ${num(ours.worstReaction)} s after the crossing (poll interval ${ours.intervalSeconds} s, polls at most ${num(longest, 1)} s apart with their ±${num(POLL_JITTER * 100)} % jitter; ${ours.episodes} episodes over all seeds)${late}${theirs}`,
    });
  }
  return out;
}

/**
 * How a miss on violations splits along the reactive ladder (bench.ts REACTIVE_LADDER), each rung
 * the previous one with one advantage of the clairvoyant's taken away: foresight (the reactive
 * reference), re-sizing every 10 s (the same at the policy's poll interval, when the policy polls
 * at that interval), taking the headroom largest need first (the same sharing it fairly, where an
 * account has several scalers). What lies between the last rung present and the policy is the
 * policy's own: approximate counts, estimates, rate limits.
 */
export function foresight(
  ours: Pick<Aggregate, 'intervalSeconds'> & { mean: Pick<Aggregate['mean'], 'pctOverSlo'> },
  clairvoyant: Aggregate['mean'],
  byStrategy: ReadonlyMap<string, Aggregate>,
): string | null {
  const reactive = byStrategy.get(REACTIVE_REFERENCE);
  if (reactive === undefined) return null;
  const atPolls = byStrategy.get(REACTIVE_AT_POLLS);
  // The poll-interval rung only says something of a policy that polls as it re-sizes.
  const cadence =
    atPolls !== undefined && atPolls.intervalSeconds === ours.intervalSeconds ? atPolls : undefined;
  const fair = cadence !== undefined ? byStrategy.get(REACTIVE_FAIR) : undefined;
  const lost = reactive.mean.pctOverSlo - clairvoyant.pctOverSlo;
  const parts = [
    `the reactive reference (the clairvoyant without foresight: the true arrivals of the last minute and the true backlog every 10 s, no rate limit) gets ${pp(reactive.mean.pctOverSlo)} with ${ch(reactive.mean.capacityHours)}: ${lost > 1 ? `${num(lost, 2)} pp of the gap lie between the two references, what foresight buys over exact reaction` : 'foresight buys no more than 1 pp over exact reaction here'}`,
  ];
  let last = reactive;
  if (cadence !== undefined) {
    parts.push(
      `re-sizing only every ${cadence.intervalSeconds} s, when the policy polls, ${change(cadence.mean.pctOverSlo - last.mean.pctOverSlo)} (${pp(cadence.mean.pctOverSlo)})`,
    );
    last = cadence;
  }
  if (fair !== undefined) {
    parts.push(
      `sharing the account's headroom fairly, as the operator's ledger does, where the references give the largest need all it wants first, ${change(fair.mean.pctOverSlo - last.mean.pctOverSlo)} (${pp(fair.mean.pctOverSlo)})`,
    );
    last = fair;
  }
  const own = ours.mean.pctOverSlo - last.mean.pctOverSlo;
  const where =
    last === reactive ? 'exact reaction' : `exact reaction at its poll interval${fair ? ' and sharing' : ''}`;
  parts.push(
    own > 1
      ? `${num(own, 2)} pp lie between the policy and ${where} (${last === reactive ? 'polls, ' : ''}approximate counts, estimates, rate limits)`
      : `the policy is within 1 pp of ${where}`,
  );
  return parts.join('; ');
}

/** "costs exact reaction 5.30 pp", "gains it 1.20 pp", or "changes it by under 0.1 pp". */
function change(d: number): string {
  if (Math.abs(d) < 0.1) return 'changes it by under 0.1 pp';
  return d > 0 ? `costs exact reaction ${num(d, 2)} pp` : `gains it ${num(-d, 2)} pp`;
}

/** One run as the reference check sees it. */
export interface RunPoint {
  scenario: string;
  seed: number;
  strategy: string;
  metrics: Pick<RunMetrics, 'overSlo' | 'capacityHours' | 'boundCapacityHours' | 'boundOverSlo'>;
}

/**
 * Runs that beat the reference: fewer SLO violations AND fewer capacity-hours than the clairvoyant
 * in the same scenario and seed (provisioned-mode strategies aside: PROVISIONED_MODE); and runs that contradict the lower bound (less capacity than the
 * bound with no more violations than it proves unavoidable). Empty when the reference held.
 */
export function referenceBreaches(runs: readonly RunPoint[]): string[] {
  const out: string[] = [];
  const refs = new Map(
    runs.filter((r) => r.strategy === REFERENCE).map((r) => [`${r.scenario}#${r.seed}`, r]),
  );
  for (const r of runs) {
    const ref = refs.get(`${r.scenario}#${r.seed}`);
    const m = r.metrics;
    if (!REFERENCES.has(r.strategy) && !PROVISIONED_MODE.has(r.strategy) && ref !== undefined)
      if (m.overSlo < ref.metrics.overSlo && m.capacityHours < ref.metrics.capacityHours)
        out.push(
          `${r.scenario} seed ${r.seed}: ${r.strategy} beat the reference — ${num(m.overSlo)} messages over SLO with ${num(m.capacityHours, 2)} capacity-hours against its ${num(ref.metrics.overSlo)} with ${num(ref.metrics.capacityHours, 2)}`,
        );
    if (m.capacityHours < m.boundCapacityHours - 1e-9 && m.overSlo <= m.boundOverSlo)
      out.push(
        `${r.scenario} seed ${r.seed}: ${r.strategy} held ${num(m.capacityHours, 2)} capacity-hours, below the lower bound ${num(m.boundCapacityHours, 2)}, with only ${num(m.overSlo)} messages over SLO (the bound allows ${num(m.boundOverSlo)})`,
      );
  }
  return out;
}
