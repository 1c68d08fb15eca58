// Lambda's control plane allows 15 requests/s per account and Region for every call but
// GetFunction (100/s), shared by everything in the account. One TokenBucket per (account,
// Region) is shared by all scalers, and scale-ups are served before scale-downs when it is short.
import type { Clock } from '../runtime/clock.ts';
import { releaseSlot } from '../runtime/slot.ts';

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
  /** Total time callers spent waiting, ms (for metrics and the benchmark). */
  waitedMs = 0;

  constructor(options: { ratePerSecond: number; burst?: number; clock: Clock }) {
    if (!(options.ratePerSecond > 0)) throw new RangeError('ratePerSecond must be positive');
    this.ratePerSecond = options.ratePerSecond;
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

  /** Waits for a token; higher-priority callers (lower number) are served first. */
  take(priority: number = Priority.Read, signal?: AbortSignal): Promise<void> {
    if (this.tryTake()) return Promise.resolve();
    // Waiting on the account's budget: let the controller run other keys meanwhile.
    releaseSlot();
    const started = this.#clock.now();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        priority,
        resolve: () => {
          this.waitedMs += this.#clock.now() - started;
          resolve();
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

  /** Callers waiting now. */
  get waiting(): number {
    return this.#waiters.length;
  }
}
