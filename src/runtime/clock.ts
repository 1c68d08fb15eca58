// The one notion of time the operator's machinery shares: the work queue, rate limiters, leader
// election and condition timestamps take a Clock so tests can drive them with a manual one.

/** Wall time and cancellable sleeping, injected everywhere instead of Date.now/setTimeout. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds; rejects with the signal's reason if it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock, backed by Date.now and timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, ms),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/**
 * A clock that moves only when told to. Sleepers wake in deadline order as `advance` passes
 * their deadlines, so tests of timing logic run instantly and deterministically.
 */
export class ManualClock implements Clock {
  #now: number;
  #sleepers: { at: number; seq: number; resolve: () => void }[] = [];
  #seq = 0;

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const sleeper = { at: this.#now + Math.max(0, ms), seq: this.#seq++, resolve };
      this.#sleepers.push(sleeper);
      signal?.addEventListener(
        'abort',
        () => {
          this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /** Number of pending sleepers; lets a test wait until the code under test is parked. */
  get pending(): number {
    return this.#sleepers.length;
  }

  /** Moves time forward by `ms`, waking every sleeper whose deadline passes, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      this.#sleepers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#sleepers[0];
      if (next === undefined || next.at > target) break;
      this.#sleepers.shift();
      this.#now = next.at;
      next.resolve();
      // Let the woken code run (and maybe sleep again) before waking the next one.
      await new Promise<void>((r) => setImmediate(r));
    }
    this.#now = target;
  }
}
