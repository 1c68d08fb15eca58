// Lambda's control plane allows 15 requests/s per account and Region for every call but
// GetFunction (100/s), shared by everything in the account. One TokenBucket per (account,
// Region) is shared by all scalers, and scale-ups are served before scale-downs when it is short.
// The wait line is bounded: a caller who would wait longer than a poll is turned away (LineFull)
// and polls again later, instead of holding its reconcile's memory for minutes.
import type { Clock } from '../runtime/clock.ts';
import { releaseSlot } from '../runtime/slot.ts';

/** The wait line is full: come back after `retryAfterMs` (when the line ahead has been served). */
export class LineFull extends Error {
  override readonly name = 'LineFull';
  readonly retryAfterMs: number;

  constructor(retryAfterMs: number) {
    super(
      `more callers wait for this budget than it serves in a poll; trying again in ${Math.ceil(retryAfterMs / 1000)} s`,
    );
    this.retryAfterMs = retryAfterMs;
  }
}

/** Who waits first when tokens are short: lower numbers first. */
export const Priority = { ScaleUp: 0, Read: 1, ScaleDown: 2 } as const;
export type Priority = (typeof Priority)[keyof typeof Priority];

interface Waiter {
  priority: number;
  resolve: () => void;
  reject: (reason: unknown) => void;
}

/** A token bucket with a priority wait line, driven by an injected Clock. */
export class TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  #tokens: number;
  #last: number;
  #waiters: Waiter[] = [];
  #pumping = false;
  #clock: Clock;
  /** Most callers in line (rate × maxWaitSeconds); unbounded by default. */
  readonly maxWaiting: number;
  /** Total time callers spent waiting, ms (for metrics and the benchmark). */
  waitedMs = 0;
  /** Callers turned away because the line was full. */
  turnedAway = 0;

  constructor(options: { ratePerSecond: number; burst?: number; maxWaitSeconds?: number; clock: Clock }) {
    if (!(options.ratePerSecond > 0)) throw new RangeError('ratePerSecond must be positive');
    this.ratePerSecond = options.ratePerSecond;
    this.maxWaiting =
      options.maxWaitSeconds === undefined
        ? Number.POSITIVE_INFINITY
        : Math.max(1, Math.floor(options.ratePerSecond * options.maxWaitSeconds));
    this.burst = Math.max(1, options.burst ?? Math.ceil(options.ratePerSecond));
    this.#tokens = this.burst;
    this.#clock = options.clock;
    this.#last = options.clock.now();
  }

  #refill(): void {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.ratePerSecond);
    this.#last = now;
  }

  /** Takes a token if one is free now, without waiting. */
  tryTake(): boolean {
    this.#refill();
    if (this.#waiters.length === 0 && this.#tokens >= 1) {
      this.#tokens -= 1;
      return true;
    }
    return false;
  }

  /**
   * Waits for a token and resolves with the ms this caller waited; higher-priority callers (lower
   * number) are served first. When the line is full, the newcomer is turned away (LineFull) — or,
   * if it outranks the last in line, that one is.
   */
  take(priority: number = Priority.Read, signal?: AbortSignal): Promise<number> {
    if (this.tryTake()) return Promise.resolve(0);
    if (this.#waiters.length >= this.maxWaiting) {
      const last = this.#waiters.at(-1);
      if (last === undefined || last.priority <= priority) return Promise.reject(this.#turnAway());
      this.#waiters.pop();
      last.reject(this.#turnAway());
    }
    // Waiting on the account's budget: let the controller run other keys meanwhile.
    releaseSlot();
    const started = this.#clock.now();
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = {
        priority,
        resolve: () => {
          const waited = this.#clock.now() - started;
          this.waitedMs += waited;
          resolve(waited);
        },
        reject,
      };
      // Binary insertion after every waiter of the same or higher priority: thousands may wait.
      let lo = 0;
      let hi = this.#waiters.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((this.#waiters[mid]?.priority ?? 0) <= priority) lo = mid + 1;
        else hi = mid;
      }
      this.#waiters.splice(lo, 0, waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) {
            this.#waiters.splice(i, 1);
            reject(signal.reason);
          }
        },
        { once: true },
      );
      void this.#pump();
    });
  }

  /** Drains the wait line as tokens accrue; one pump at a time. */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#waiters.length > 0) {
        this.#refill();
        if (this.#tokens >= 1) {
          this.#tokens -= 1;
          this.#waiters.shift()?.resolve();
          continue;
        }
        await this.#clock.sleep(Math.ceil(((1 - this.#tokens) / this.ratePerSecond) * 1000));
      }
    } finally {
      this.#pumping = false;
    }
  }

  #turnAway(): LineFull {
    this.turnedAway++;
    return new LineFull(Math.ceil((this.#waiters.length / this.ratePerSecond) * 1000));
  }

  /** Callers waiting now. */
  get waiting(): number {
    return this.#waiters.length;
  }
}
