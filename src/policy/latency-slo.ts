// The LatencySLO policy: sizes concurrency so messages wait at most maxWaitSeconds, from arrival
// rate and per-unit throughput estimated out of successive queue snapshots. Method and failure
// modes are described in the package doc (index.ts) and docs/policies.md.
import type { LatencySLOConfig } from './config.ts';
import { fmt, type Recommendation } from './recommend.ts';
import { type LatencyEstimates, Limit, Reason } from './types.ts';

/** Saturated intervals kept for the throughput fit. */
export const MAX_LATENCY_SAMPLES = 12;
/** Saturated intervals older than this leave the fit (the arrival rate has likely moved on). */
const SAMPLE_HORIZON_MS = 15 * 60_000;
/** A gap longer than this between polls is not one interval: start over from this poll. */
const MAX_INTERVAL_MS = 10 * 60_000;
/** Time constants of the arrival-rate smoothing: calm (noise) and saturated (catch up fast). */
const CALM_TAU_SECONDS = 60;
const SATURATED_TAU_SECONDS = 20;
/**
 * Share of the units' batches (concurrency × BatchSize) in flight for the units to count as busy:
 * while messages wait every receive returns a full batch, so only the moments between an
 * invocation's end and its poller's next receive, and attribute noise, leave slots empty.
 */
const BUSY_FRACTION = 0.8;
/** How many times the calm samples' mean deviation the hold band spans (see recommendLatencySLO). */
const NOISE_BAND = 3;
/**
 * The hold band is at least POISSON_BAND / √n for n served messages in flight: a count of random
 * arrivals scatters by about 1/√n (±29 % at a dozen), the smoothed estimate by about half that, and
 * three times that holds for an hour of polls. Loads of one or two units sit near an integer need:
 * with what one unit processes known (a measured Duration) they went 2 ↔ 3 on that noise, which
 * the calm samples' smoothed deviation under-read (generated constant loads, issue 15). It is
 * under the 10 % tolerance from 225 messages in flight on.
 */
const POISSON_BAND = 1.5;
/** The widest the noise may make the hold band (±40 %): wider, and real changes would wait. */
const MAX_NOISE_BAND = 0.4;
/**
 * While the throughput is unknown, probe down only to as many units as the served in-flight
 * messages fill to this share of their batches: no lower than where the probe up would fire again
 * (BUSY_FRACTION), which takes two saturated polls in a row below a full batch waiting per unit.
 */
const PROBE_DOWN_FILL = BUSY_FRACTION;
/**
 * While the throughput is unknown and the served messages fill less than this share of half the
 * units' batches, the probe goes down past half at once: to as many units as they fill to this
 * share, but no more than MAX_PROBE_DOWN_FACTOR at once. Halving per scale-down window held a
 * surge's 44 units for 8 minutes on a load of 3 (the benchmark's trace replay, issue 15).
 */
const PROBE_DOWN_IDLE_FILL = 0.4;
const MAX_PROBE_DOWN_FACTOR = 8;
/**
 * A probe down smaller than this share of the units is not worth an action: it follows the
 * in-flight count's noise down by a unit or two per window (48 → 45 → 44 → 41 in a generated
 * constant load with ±30 % noise).
 */
const MIN_PROBE_DOWN_STEP = 0.2;
/**
 * Once the learning probe has found the units saturated at a concurrency with less than a full
 * batch waiting per unit (the edge: the load just fills them), it probes down no lower than
 * EDGE_MARGIN above it while the served messages are at least EDGE_LOAD_SHARE of what they were
 * there, for EDGE_MEMORY_MS. Loads of a few units never show two concurrencies saturated, so
 * the throughput fit never ends the probe: it went down to the edge, found it saturated again
 * twenty minutes later, doubled, and went down again (8 ↔ 16 all day; generated constant loads).
 * A lower load than the edge's is another load: the probe goes down as before.
 */
const EDGE_MARGIN = 0.2;
const EDGE_LOAD_SHARE = 0.7;
const EDGE_MEMORY_MS = 3 * 3_600_000;
/**
 * The most a learning probe up asks for at once, as a multiple of the units: the waiting batches
 * say how many units could start at once, and the scale-up rate policy how much of that one poll
 * takes (by default doubling per 15 s, so per poll, as before).
 */
const MAX_PROBE_FACTOR = 8;
/** Weight of a new anchor of the in-flight time against the one learned before. */
const ANCHOR_WEIGHT = 0.25;

/** One snapshot of the queue, as the estimator needs it. */
export interface Snapshot {
  t: number;
  visible: number;
  inFlight: number;
  delayed: number;
}

/** Whether recommendLatencySLO still probes: what one unit processes or the arrival rate is unknown. */
export function isLearning(estimates: LatencyEstimates): boolean {
  return estimates.throughputPerUnit === null || estimates.arrivalRate === null;
}

/**
 * Whether `concurrency`, observed now, ran the whole interval since the last snapshot: it was
 * decided then and took effect, or the write was refused or capped and it was observed then too.
 * Skipping the refused ones froze the arrival rate for as long as the account had no headroom, and
 * the policy kept asking for the same refused value on it (two functions bursting into one account
 * held 520 units on a load of 20 units for half an hour, issue 15).
 */
export function ranThrough(estimates: LatencyEstimates, concurrency: number): boolean {
  const decided = estimates.last?.[4];
  return decided !== undefined && (decided === concurrency || estimates.observed === concurrency);
}

/** A fresh estimator that knows nothing yet. */
export function initialLatencyEstimates(): LatencyEstimates {
  return {
    last: null,
    samples: [],
    throughputPerUnit: null,
    arrivalRate: null,
    inFlightSeconds: null,
    calmPolls: 0,
    spell: null,
    anchored: false,
    noise: null,
    edge: null,
    observed: null,
  };
}

/**
 * Throughput per unit from saturated intervals: growth = arrivals - concurrency x throughput, so
 * with arrivals steady the slope of growth against concurrency is -throughput. Needs a spread of
 * concurrencies (at least one unit and 10% of the mean); otherwise null (not identifiable).
 */
export function fitThroughput(samples: readonly [number, number, number][]): number | null {
  if (samples.length < 2) return null;
  const n = samples.length;
  const meanC = samples.reduce((a, [, c]) => a + c, 0) / n;
  const meanG = samples.reduce((a, [, , g]) => a + g, 0) / n;
  let cov = 0;
  let varC = 0;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const [, c, g] of samples) {
    cov += (c - meanC) * (g - meanG);
    varC += (c - meanC) ** 2;
    lo = Math.min(lo, c);
    hi = Math.max(hi, c);
  }
  if (hi - lo < Math.max(1, 0.1 * meanC) || varC === 0) return null;
  const throughput = -cov / varC;
  return Number.isFinite(throughput) && throughput > 0 ? throughput : null;
}

/** Drops any estimate that is not a finite, positive number (the state must stay plain JSON). */
function sane(e: LatencyEstimates): LatencyEstimates {
  const ok = (n: number | null) => (n !== null && Number.isFinite(n) && n > 0 ? n : null);
  return {
    ...e,
    samples: e.samples.filter((s) => s.every(Number.isFinite)),
    throughputPerUnit: ok(e.throughputPerUnit),
    arrivalRate:
      e.arrivalRate === null || !Number.isFinite(e.arrivalRate) ? null : Math.max(0, e.arrivalRate) + 0,
    inFlightSeconds: ok(e.inFlightSeconds),
  };
}

/**
 * Folds one snapshot into the estimates. `concurrency` is what is observed now; the concurrency in
 * effect during the interval is what was decided at the previous poll (`last[4]`). When the two
 * disagree (an apply failed, or someone changed it) the interval is not used.
 */
export function updateEstimates(
  previous: LatencyEstimates,
  snap: Snapshot,
  concurrency: number,
  batchSize?: number,
  serviceTimeSeconds?: number,
): LatencyEstimates {
  return sane(fold(previous, snap, concurrency, batchSize, usableServiceTime(batchSize, serviceTimeSeconds)));
}

/**
 * The measured service time the estimates use: a finite, positive number of seconds, and only with
 * the batch size that turns it into a throughput per unit; undefined otherwise.
 */
export function usableServiceTime(
  batchSize: number | undefined,
  serviceTimeSeconds: number | undefined,
): number | undefined {
  return batchSize !== undefined &&
    serviceTimeSeconds !== undefined &&
    Number.isFinite(serviceTimeSeconds) &&
    serviceTimeSeconds > 0
    ? serviceTimeSeconds
    : undefined;
}

/** In-flight messages beyond what `c` units can hold (throttled, overpulled); 0 without a batch size. */
function overpulled(inFlight: number, c: number, batchSize: number | undefined): number {
  return batchSize === undefined ? 0 : Math.max(0, inFlight - c * batchSize);
}

function fold(
  previous: LatencyEstimates,
  snap: Snapshot,
  concurrency: number,
  batchSize: number | undefined,
  serviceTime: number | undefined,
): LatencyEstimates {
  const next: LatencyEstimates = {
    ...previous,
    samples: previous.samples.filter(([t]) => t > snap.t - SAMPLE_HORIZON_MS && t <= snap.t),
    last: [snap.t, snap.visible, snap.inFlight, snap.delayed, concurrency],
    observed: concurrency,
  };
  // A measured service time (the function's mean Duration, serviceTimeSource: CloudWatch) replaces
  // both estimates the counts need saturation for. A message is in flight from its receive to its
  // batch's delete, which the mapping sends when the invocation returns: one Duration. One unit
  // processes a batch per Duration, so a full batch's worth (the mapping's BatchSize) is what it
  // processes while messages wait, which is when the throughput matters. (A function whose
  // Duration grows with the messages in a batch reads faster than it is at partial batches; its
  // batches fill as soon as messages wait, and the Duration then says so. An assumption, named in
  // docs/policies.md.)
  if (serviceTime !== undefined && batchSize !== undefined) {
    next.throughputPerUnit = batchSize / serviceTime;
    next.inFlightSeconds = serviceTime;
  }
  const last = previous.last;
  if (last === null) return next;
  const [t0, v0, f0, d0] = last;
  const dt = (snap.t - t0) / 1000;
  const c = concurrency;
  if (dt <= 0 || snap.t - t0 > MAX_INTERVAL_MS || !ranThrough(previous, c) || c <= 0) {
    next.calmPolls = 0;
    return next;
  }
  const growth = (snap.visible + snap.inFlight + snap.delayed - (v0 + f0 + d0)) / dt;
  // With a batch size, throttled (overpulled) batches count as waiting, not as being served.
  const over0 = overpulled(f0, c, batchSize);
  const over = overpulled(snap.inFlight, c, batchSize);
  const inFlight = (snap.inFlight - over + f0 - over0) / 2;
  // Saturated: more messages waited than there are units at both ends, and by the end every unit
  // was busy. (The start shows the units of the previous decision: after a raise the mapping
  // fills the new ones within seconds, so only the end can tell.)
  const saturated =
    v0 + over0 >= Math.max(1, c) && isSaturated(snap.visible + over, snap.inFlight - over, c, batchSize);
  const smooth = (sample: number, tau: number) =>
    next.arrivalRate === null
      ? sample
      : next.arrivalRate + (1 - Math.exp(-dt / tau)) * (sample - next.arrivalRate);

  if (saturated) {
    next.spell = [snap.t, c, Math.max(0, snap.inFlight - over)];
    next.anchored = false;
    next.samples.push([snap.t, c, growth]);
    while (next.samples.length > MAX_LATENCY_SAMPLES) next.samples.shift();
    if (serviceTime === undefined)
      next.throughputPerUnit = fitThroughput(next.samples) ?? next.throughputPerUnit;
    next.calmPolls = 0;
    if (next.throughputPerUnit !== null) {
      next.arrivalRate = smooth(Math.max(0, growth + c * next.throughputPerUnit), SATURATED_TAU_SECONDS);
    }
    return next;
  }

  next.calmPolls = previous.calmPolls + 1;
  const mu = next.throughputPerUnit;
  // Little's law on the function, anchored once per saturated spell, at the first usable calm
  // interval after it: served in flight = completions x time in flight, and while saturated
  // completions are c x mu. The spell's last saturated snapshot is used (the units in effect had
  // filled by then). The time in flight belongs to the function, not the load, so anchors
  // accumulate. A bias in mu cancels in calm, where the need comes out as served / (served per unit
  // when saturated).
  const spell = next.spell ?? null;
  // The first calm interval after a saturated spell switches estimators (below).
  const switching = next.anchored !== true && spell !== null && mu !== null;
  if (switching && serviceTime !== undefined) next.anchored = true;
  else if (switching && spell[2] > 0 && spell[1] > 0) {
    const anchor = spell[2] / (spell[1] * mu);
    next.inFlightSeconds =
      next.inFlightSeconds === null
        ? anchor
        : next.inFlightSeconds + ANCHOR_WEIGHT * (anchor - next.inFlightSeconds);
    next.anchored = true;
  }
  // Without a measured service time the arrival rate starts in a saturated interval (the fit).
  if (next.arrivalRate === null && serviceTime === undefined) return next;
  // A queue empty at both ends of the interval, nothing in flight: nothing arrives that the
  // function does not finish between two polls. That is no noise to smooth: the rate is ~0 now,
  // anchored or not, so an idle queue reaches the minimum one scale-down window after it went idle
  // (smoothing it out took four more minutes) and a busy spell's rate cannot stay frozen.
  if (snap.visible + snap.inFlight + snap.delayed === 0 && v0 + f0 + d0 === 0) {
    next.arrivalRate = 0;
    return next;
  }
  if (next.inFlightSeconds === null) return next;
  // Calm: the function keeps up, so its completions are served in flight / time in flight
  // (Little's law), no more than what c units process, and arrivals are the completions plus the
  // queue's net growth (what arrived and was not finished). Without the growth, the intervals
  // that drain a spell's backlog read the drain as arrivals: after the 10× step the estimate
  // stayed 25 % high for four minutes and held the probe's 80 units where 55 did (issue 15).
  let completions = inFlight / next.inFlightSeconds;
  if (next.throughputPerUnit !== null) completions = Math.min(completions, c * next.throughputPerUnit);
  let arrivals = Math.max(0, completions + growth);
  if (switching && serviceTime !== undefined && next.arrivalRate !== null) {
    // The first calm interval after a spell began saturated: its units ran full until the backlog
    // ran out somewhere inside it, so the mean of its two ends under-reads what they completed and
    // the growth counts the drained backlog against the arrivals (14/s read for 150/s after a
    // square burst's backlog drained). Its end is calm, so with the service time measured,
    // Little's law on the end's served messages reads the arrivals, no more than the spell's own
    // estimate (growth + c × throughput, no fitted bias then): a poll just after the backlog ran
    // out still holds its last batches. The interval's reading held the 10× step at 1.22× the
    // reference's capacity, this 1.10×; the end alone whenever the units were not all busy there,
    // 1.18× (bench, three seeds, issue 15). The spell's estimate lags a burst's arrivals, so this
    // errs low, and a measured scale-up (decide.ts) takes the units back if the backlog returns.
    const atEnd = Math.max(0, snap.inFlight - over) / next.inFlightSeconds;
    arrivals = Math.min(atEnd, next.arrivalRate);
  }
  if (switching || next.arrivalRate === null) {
    // The first estimate of all (a measured service time needs no saturated interval first), or
    // the first calm one after a saturated spell: the saturated estimate (growth + c × throughput)
    // and the calm one carry different biases (a fitted throughput, a time in flight anchored on
    // it); smoothing from one to the other read the gap as the counts' noise and widened the hold
    // band to ±40 % for minutes. Start the calm estimate afresh, and its noise too: it is measured
    // from the next calm interval on. The noise measured before a spell belongs to the load before
    // it (±15 % at 20 messages/s is not the noise at 200/s): carried over, it held the 10× step's
    // 80 units in a ±40 % band for minutes after the burst (1.26× the reference's capacity; the
    // Poisson floor of the band covers the first calm polls).
    next.arrivalRate = arrivals;
    if (switching) next.noise = null;
    return next;
  }
  // How much calm samples scatter around the estimate (mean relative deviation, same smoothing):
  // the approximate counts SQS reports are noisy, and a band narrower than that noise flaps.
  const previousRate = next.arrivalRate;
  if (previousRate > 0) {
    const deviation = Math.min(1, Math.abs(arrivals - previousRate) / previousRate);
    const weight = 1 - Math.exp(-dt / CALM_TAU_SECONDS);
    next.noise = next.noise == null ? deviation : next.noise + weight * (deviation - next.noise);
  }
  next.arrivalRate = smooth(arrivals, CALM_TAU_SECONDS);
  return next;
}

/**
 * Where the throughput per unit came from, for the decision's message: " (a batch of 10 per 2 s,
 * the function's mean Duration)" when it is the measured service time's, else nothing (the queue's
 * counts): the user sees which estimate sized the function.
 */
function measuredFrom(mu: number, batchSize: number | undefined, serviceTime: number | undefined): string {
  if (batchSize === undefined || serviceTime === undefined) return '';
  if (Math.abs(mu - batchSize / serviceTime) > 1e-9 * mu) return '';
  return ` (a batch of ${fmt(batchSize)} per ${fmt(serviceTime)} s, the function's mean Duration)`;
}

/**
 * The LatencySLO recommendation: enough concurrency for the arrival rate at the target
 * utilization, plus draining the waiting backlog within maxWaitSeconds. `serviceTime` is the
 * measured Duration the estimates use, if any: the message names it. Until throughput is known
 * it probes: doubling while messages wait, halving while some are in flight, and nothing (the
 * minimum, once the scale-down window allows) when the queue is empty, nothing in flight either.
 */
export function recommendLatencySLO(
  estimates: LatencyEstimates,
  backlog: number,
  base: number,
  saturatedNow: boolean,
  config: LatencySLOConfig,
  empty = false,
  served?: { inFlight: number; batchSize: number },
  serviceTime?: number,
): Recommendation {
  const mu = estimates.throughputPerUnit;
  const lambda = estimates.arrivalRate;
  if (mu === null || lambda === null) {
    if (empty)
      // Halving per scale-down window would take ~5 windows from 400 to a minimum of 10 (issue 15):
      // an empty queue with nothing in flight needs no unit, whatever was learned or not.
      return {
        recommendation: 0,
        reason: Reason.LatencySLOLearning,
        message: 'the queue is empty and nothing is in flight: no unit is needed',
        limit: null,
      };
    if (saturatedNow) {
      // One unit for every batch waiting, up to MAX_PROBE_FACTOR × the units, at least double.
      const batches = served === undefined ? 0 : Math.ceil(backlog / served.batchSize);
      const up = Math.max(base + 1, base * 2, Math.min(batches, base * MAX_PROBE_FACTOR));
      return {
        recommendation: up,
        reason: Reason.LatencySLOLearning,
        message: `${fmt(backlog)} messages wait and the throughput per unit is not known yet: probing up from ${base} to ${up}`,
        limit: null,
      };
    }
    // Halving, but not below the units the served messages fill to PROBE_DOWN_FILL: halving 16
    // units that hold 100 messages would leave 8 saturated by the served messages alone, and the
    // probe doubled them back (16 ↔ 8 every few minutes at constant load, issue 15).
    const kept = served === undefined ? 0 : Math.ceil(served.inFlight / (PROBE_DOWN_FILL * served.batchSize));
    const idle =
      served === undefined ? base : Math.ceil(served.inFlight / (PROBE_DOWN_IDLE_FILL * served.batchSize));
    const edge = estimates.edge ?? null;
    const now = estimates.last?.[0] ?? Number.NaN;
    const floor =
      edge !== null &&
      served !== undefined &&
      now - edge[0] <= EDGE_MEMORY_MS &&
      served.inFlight >= EDGE_LOAD_SHARE * edge[2]
        ? edge[1] + Math.max(1, Math.ceil(EDGE_MARGIN * edge[1]))
        : 0;
    const down = Math.max(
      floor,
      kept,
      Math.floor(base / MAX_PROBE_DOWN_FACTOR),
      Math.min(Math.floor(base / 2), idle),
    );
    if (backlog < Math.max(1, base) && down <= base * (1 - MIN_PROBE_DOWN_STEP)) {
      return {
        recommendation: down,
        reason: Reason.LatencySLOLearning,
        message: `${backlog === 0 ? 'no' : `only ${fmt(backlog)}`} messages wait (fewer than the ${base} units) and the throughput per unit is not known yet: probing down from ${base} to ${down}${floor > 0 && down === floor && edge !== null ? ` (a fifth above the ${edge[1]} units found saturated at this load)` : ''}`,
        limit: null,
      };
    }
    return {
      recommendation: base,
      reason: Reason.LatencySLOLearning,
      message: `learning the throughput per unit: holding ${base} while ${fmt(backlog)} messages wait`,
      limit: null,
    };
  }
  const drain = backlog / config.maxWaitSeconds;
  const need = (lambda + drain) / (mu * config.targetUtilization);
  const wanted = Math.ceil(need - 1e-9);
  const message =
    `arrivals ${fmt(lambda)}/s plus draining ${fmt(backlog)} waiting messages within ${config.maxWaitSeconds}s, ` +
    `at ${fmt(mu)}/s per unit${measuredFrom(mu, served?.batchSize, serviceTime)} and ${fmt(config.targetUtilization * 100)}% utilization, need ${fmt(need)}`;
  // Hold within the configured tolerance, widened to the noise the estimate still carries. The
  // smoothed mean of samples scattering by `noise` moves by about noise × √(poll / 2τ) (½ × noise
  // for 30 s polls and τ = 60 s), but the need also moves with the drain term and, at a few dozen
  // messages in flight, with their Poisson noise: 1.5 × noise still flapped at loads of 5–20 units,
  // 3 × holds them (test/policies/regressions.test.ts) for +2.5 % capacity in the diurnal benchmark.
  // And never narrower than the Poisson noise of the served in-flight count the calm estimate reads
  // (see POISSON_BAND), which the smoothed deviation under-reads at loads of one or two units.
  // Never wider than MAX_NOISE_BAND, and not on an empty queue: there is no noise in nothing.
  const counted = served !== undefined && served.inFlight > 0 ? POISSON_BAND / Math.sqrt(served.inFlight) : 0;
  const band = empty
    ? config.tolerance
    : Math.max(
        config.tolerance,
        Math.min(MAX_NOISE_BAND, Math.max(NOISE_BAND * (estimates.noise ?? 0), counted)),
      );
  if (base > 0 && Math.abs(need / base - 1) <= band) {
    return {
      recommendation: base,
      reason: Reason.NoChange,
      message: `${message}: within ${fmt(band * 100)}% of ${base}${band > config.tolerance ? ' (the noise of the counts)' : ''}, holding`,
      limit: wanted === base ? null : Limit.Tolerance,
    };
  }
  return { recommendation: wanted, reason: Reason.LatencySLO, message: `${message}: ${wanted}`, limit: null };
}

/**
 * Whether a snapshot shows every unit busy and messages still waiting: at least as many waiting
 * (visible, or pulled and throttled) as there are units and, when the batch size is known, the
 * served in-flight messages filling BUSY_FRACTION of the units' batches. Without that second test
 * a few dozen messages seen visible between two receives (arrivals are random, the attributes lag)
 * read as saturation while units sit partly idle: the throughput fit then takes idle capacity for
 * a busy unit's throughput (in the benchmark's diurnal scenario it learned 1.4 messages/s per unit
 * where the function does about 4.8, and held twice the need), and the probe adds units nothing
 * waits for.
 */
export function isSaturated(
  waiting: number,
  servedInFlight: number,
  concurrency: number,
  batchSize?: number,
): boolean {
  const c = Math.max(1, concurrency);
  return waiting >= c && (batchSize === undefined || servedInFlight >= BUSY_FRACTION * c * batchSize);
}
