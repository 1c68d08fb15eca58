// The reference every strategy is judged against: a lower bound on the capacity that meets the SLO,
// computed offline from a run's whole arrival trace, and the clairvoyant controller that follows
// the future trace within the same actuation limits. The argument is in bench/README.md.

/** What the bound is computed from, for one queue and its function. */
export interface BoundInput {
  /** Messages that arrived in each second of the run. */
  arrivals: ArrayLike<number>;
  /** Messages one unit of concurrency processes per second at second t (full batches, mean time). */
  throughput: (t: number) => number;
  sloSeconds: number;
  min: number;
  max: number;
  /** Interval ends are taken on this grid, seconds (default 10; a coarser grid gives a weaker bound). */
  gridSeconds?: number;
  /** The longest interval considered, seconds (default 3,600). */
  maxIntervalSeconds?: number;
}

/** The lower bounds of one run. */
export interface CapacityBound {
  /** No strategy within [min, max] that meets the SLO holds less, unit-hours. */
  capacityHours: number;
  /** Messages that no strategy within [min, max] can get processed within the SLO. */
  unavoidableOverSlo: number;
}

/**
 * The capacity lower bound. Messages that arrive in [s, e − SLO) must be processed inside [s, e):
 * not before they arrive, and no later than their deadline. So any schedule holds at least
 * max(min·(e−s), min(max·(e−s), A(s, e−SLO) / μmax(s, e))) unit-seconds in [s, e), where μmax is
 * the best throughput per unit in that interval; over disjoint intervals the bounds add up, and
 * the best partition (dynamic programming over the grid) is the bound. Work beyond max·(e−s)
 * cannot be done in time at all: those messages are the unavoidable violations (the same
 * partition argument, maximised separately).
 */
export function capacityLowerBound(b: BoundInput): CapacityBound {
  const g = b.gridSeconds ?? 10;
  const T = b.arrivals.length;
  const n = Math.ceil(T / g);
  const wmax = Math.max(1, Math.round((b.maxIntervalSeconds ?? 3600) / g));
  const prefix = new Float64Array(T + 1);
  for (let i = 0; i < T; i++) prefix[i + 1] = (prefix[i] as number) + (b.arrivals[i] as number);
  const A = (from: number, to: number): number => {
    const a = Math.max(0, Math.min(T, from));
    const z = Math.max(0, Math.min(T, to));
    return z > a ? (prefix[z] as number) - (prefix[a] as number) : 0;
  };
  const mu = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let best = 0;
    for (let t = k * g; t < Math.min(T, (k + 1) * g); t++) best = Math.max(best, b.throughput(t));
    mu[k] = best;
  }
  const cap = new Float64Array(n + 1);
  const late = new Float64Array(n + 1);
  for (let j = 1; j <= n; j++) {
    let bestCap = -1;
    let bestLate = -1;
    let muMax = 0;
    for (let i = j - 1; i >= Math.max(0, j - wmax); i--) {
      muMax = Math.max(muMax, mu[i] as number);
      const s = i * g;
      const e = Math.min(T, j * g);
      const len = e - s;
      const work = muMax > 0 ? A(s, e - b.sloSeconds) / muMax : 0;
      const value = Math.max(b.min * len, Math.min(b.max * len, work));
      bestCap = Math.max(bestCap, (cap[i] as number) + value);
      const excess = Math.max(0, A(s, e - b.sloSeconds) - muMax * b.max * len);
      bestLate = Math.max(bestLate, (late[i] as number) + excess);
    }
    cap[j] = bestCap;
    late[j] = bestLate;
  }
  return { capacityHours: (cap[n] as number) / 3600, unavoidableOverSlo: late[n] as number };
}

/** What the clairvoyant sizes from at one moment, for one queue and its function. */
export interface ClairvoyantInput {
  /** Seconds since the start. */
  t: number;
  /** Messages that will arrive in each second of the run (the whole trace). */
  arrivals: ArrayLike<number>;
  /** Messages waiting beyond what running invocations hold now (truth). */
  backlog: number;
  /** Messages per second one unit processes now (truth). */
  throughput: number;
  sloSeconds: number;
  min: number;
  max: number;
  /**
   * Size from the mean arrival rate of the last 60 s instead of the peak of the next two minutes:
   * the reactive reference, exact about the present and blind to the future.
   */
  present?: boolean;
}

/** How far ahead the clairvoyant looks: a poll, a write and the mapping's ramp-up fit in it. */
export const CLAIRVOYANT_LOOKAHEAD_SECONDS = 120;
/** The busy fraction it sizes for: service times vary, so a little headroom. */
export const CLAIRVOYANT_UTILIZATION = 0.9;

/**
 * The capacity the clairvoyant holds at second t: the highest 60 s mean arrival rate of the next
 * two minutes plus draining the true backlog within half the SLO, at 90% busy, within [min, max].
 * With `present`, the mean of the last 60 s instead: the reactive reference, which knows the
 * present exactly and re-sizes every 10 s with no rate limit, and so bounds what reacting can do
 * (a policy polls, reads approximate counts and estimates the service rate), where the gap to
 * the clairvoyant is what foresight buys.
 */
export function clairvoyantCapacity(c: ClairvoyantInput): number {
  const T = c.arrivals.length;
  if (c.present === true) {
    const to = Math.max(0, Math.min(T, Math.floor(c.t)));
    const from = Math.max(0, to - 60);
    let sum = 0;
    for (let i = from; i < to; i++) sum += c.arrivals[i] as number;
    return sized(c, to > from ? sum / (to - from) : 0);
  }
  let peak = 0;
  let sum = 0;
  const from = Math.max(0, Math.floor(c.t));
  const to = Math.min(T, from + CLAIRVOYANT_LOOKAHEAD_SECONDS + 60);
  for (let i = from; i < to; i++) {
    sum += c.arrivals[i] as number;
    if (i - from >= 60) sum -= c.arrivals[i - 60] as number;
    if (i - from >= 59) peak = Math.max(peak, sum / 60);
  }
  if (to - from < 60) peak = Math.max(peak, sum / Math.max(1, to - from));
  return sized(c, peak);
}

/** Arrivals at `rate` plus draining the true backlog within half the SLO, at 90 % busy, in bounds. */
function sized(c: ClairvoyantInput, rate: number): number {
  const drain = c.backlog / Math.max(1, c.sloSeconds / 2);
  const need = Math.ceil((rate + drain) / (Math.max(1e-9, c.throughput) * CLAIRVOYANT_UTILIZATION));
  return Math.min(c.max, Math.max(c.min, need));
}

/**
 * Messages no strategy gets processed within the SLO in an account: the same argument as
 * `capacityLowerBound`, with the scalers' work added up against what the account can reserve
 * (its limit minus the unreserved floor). Work that does not fit is undone; every undone message
 * spares at most 1 / μmin unit-seconds, so at least (excess × μmin) messages are late.
 */
export function accountUnavoidable(
  scalers: readonly Omit<BoundInput, 'min' | 'max' | 'gridSeconds' | 'maxIntervalSeconds'>[],
  room: number,
  gridSeconds = 10,
  maxIntervalSeconds = 3600,
): number {
  const T = Math.min(...scalers.map((s) => s.arrivals.length));
  if (!(T > 0)) return 0;
  const g = gridSeconds;
  const n = Math.ceil(T / g);
  const wmax = Math.max(1, Math.round(maxIntervalSeconds / g));
  const prefixes = scalers.map((s) => {
    const p = new Float64Array(T + 1);
    for (let i = 0; i < T; i++) p[i + 1] = (p[i] as number) + (s.arrivals[i] as number);
    return p;
  });
  const mus = scalers.map((s) => {
    const mu = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      let best = 0;
      for (let t = k * g; t < Math.min(T, (k + 1) * g); t++) best = Math.max(best, s.throughput(t));
      mu[k] = best;
    }
    return mu;
  });
  const late = new Float64Array(n + 1);
  const muMax = new Float64Array(scalers.length);
  for (let j = 1; j <= n; j++) {
    let best = late[j - 1] as number;
    muMax.fill(0);
    for (let i = j - 1; i >= Math.max(0, j - wmax); i--) {
      const s0 = i * g;
      const e = Math.min(T, j * g);
      let work = 0;
      let muMin = Number.POSITIVE_INFINITY;
      scalers.forEach((sc, k) => {
        muMax[k] = Math.max(muMax[k] as number, (mus[k] as Float64Array)[i] as number);
        const m = muMax[k] as number;
        const p = prefixes[k] as Float64Array;
        const to = Math.max(s0, Math.min(T, e - sc.sloSeconds));
        const a = (p[to] as number) - (p[s0] as number);
        if (m > 0) {
          work += a / m;
          if (a > 0) muMin = Math.min(muMin, m);
        }
      });
      const excess = Math.max(0, work - room * (e - s0));
      best = Math.max(best, (late[i] as number) + (Number.isFinite(muMin) ? excess * muMin : 0));
    }
    late[j] = best;
  }
  return late[n] as number;
}
