// What the simulator measures: message latency histograms with exact SLO counters, the per-second
// timeline, and API calls by operation and outcome.

const GROWTH = Math.log(1.01);

/** A log-bucketed latency histogram (1% relative precision) with exact count, max and SLO counters. */
export class LatencyHistogram {
  #buckets = new Float64Array(2048);
  readonly #thresholds: readonly number[];
  readonly #over: number[];
  count = 0;
  max = 0;
  sum = 0;

  constructor(thresholds: readonly number[]) {
    this.#thresholds = thresholds;
    this.#over = thresholds.map(() => 0);
  }

  /** Records one latency in milliseconds. */
  record(ms: number): void {
    const v = Math.max(0, ms);
    const b = Math.floor(Math.log1p(v) / GROWTH);
    if (b >= this.#buckets.length) {
      const grown = new Float64Array(b * 2);
      grown.set(this.#buckets);
      this.#buckets = grown;
    }
    this.#buckets[b] = (this.#buckets[b] as number) + 1;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
    for (let i = 0; i < this.#thresholds.length; i++)
      if (v > (this.#thresholds[i] as number)) this.#over[i] = (this.#over[i] as number) + 1;
  }

  /** The q-quantile (0..1), accurate to about 1%. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let k = 0; k < this.#buckets.length; k++) {
      seen += this.#buckets[k] as number;
      if (seen >= rank) return Math.min(this.max, Math.expm1((k + 0.5) * GROWTH));
    }
    return this.max;
  }

  /** Messages slower than `ms`: exact for configured thresholds, else from the buckets. */
  countOver(ms: number): number {
    const i = this.#thresholds.indexOf(ms);
    if (i >= 0) return this.#over[i] as number;
    const cut = Math.floor(Math.log1p(ms) / GROWTH);
    let n = 0;
    for (let k = cut + 1; k < this.#buckets.length; k++) n += this.#buckets[k] as number;
    return n;
  }

  /** Summary with p50/p90/p99/max and the configured SLO counts. */
  summary(): LatencySummary {
    const over: Record<string, number> = {};
    this.#thresholds.forEach((t, i) => {
      over[String(t)] = this.#over[i] as number;
    });
    return {
      count: this.count,
      meanMs: this.count === 0 ? 0 : this.sum / this.count,
      p50Ms: this.quantile(0.5),
      p90Ms: this.quantile(0.9),
      p99Ms: this.quantile(0.99),
      maxMs: this.max,
      overMs: over,
    };
  }
}

/** Latency percentiles of deleted messages (sent → deleted). */
export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Messages slower than each configured threshold (keys are milliseconds). */
  readonly overMs: Readonly<Record<string, number>>;
}

/** One second of the run. Counters cover the second; levels are sampled at its end. */
export interface TimelinePoint {
  /** Seconds since the start of the simulation (end of the second). */
  readonly t: number;
  readonly arrivals: number;
  readonly deleted: number;
  /** Visible messages summed over the queues that are not dead-letter queues. */
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  /** Messages in dead-letter queues (visible, in flight or delayed); the three levels above exclude them. */
  readonly dlqDepth: number;
  /** Running invocations across functions. */
  readonly concurrency: number;
  /** Sum of reserved concurrency of functions that have one. */
  readonly reserved: number;
  /** Sum of ESM target concurrency. */
  readonly pollers: number;
  readonly invocations: number;
  readonly throttles: number;
  readonly errors: number;
  readonly coldStarts: number;
  readonly dlqMoves: number;
}

/** API calls by `service:Operation` and outcome (`ok` or the error code). */
export class ApiCounter {
  readonly #counts = new Map<string, Map<string, number>>();

  /** Counts one call. */
  add(op: string, outcome: string): void {
    let m = this.#counts.get(op);
    if (!m) {
      m = new Map();
      this.#counts.set(op, m);
    }
    m.set(outcome, (m.get(outcome) ?? 0) + 1);
  }

  /** Snapshot as plain objects. */
  toJSON(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [op, m] of [...this.#counts].sort(([a], [b]) => a.localeCompare(b)))
      out[op] = Object.fromEntries(m);
    return out;
  }
}
