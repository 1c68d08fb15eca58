// A work queue with client-go's semantics, because level-triggered reconciling needs them: keys are
// de-duplicated while waiting, never handed to two workers at once (a key added while it is being
// processed is queued again when `done` is called), can be added after a delay, and back off
// exponentially per key (with jitter) while they keep failing.
import { type Clock, systemClock } from './clock.ts';
import type { RuntimeMetrics } from './metrics.ts';

export interface WorkQueueOptions {
  /** Label for metrics. */
  name?: string;
  clock?: Clock;
  /** First retry delay of a failing key (client-go: 5 ms). */
  baseDelayMs?: number;
  /** Retry delays stop growing here (client-go: 1000 s). */
  maxDelayMs?: number;
  /** Fraction taken off a retry delay at random: delay ∈ [(1-jitter)·d, d]. 0 disables. */
  jitter?: number;
  /** Source of randomness in [0, 1); injected for tests. */
  random?: () => number;
  metrics?: RuntimeMetrics;
}

/**
 * De-duplicating, per-key-serialising, delaying, rate-limiting queue of string keys.
 *
 * Worker loop: `for (;;) { const key = await q.get(signal); if (key === undefined) break;
 * try { ...; q.forget(key) } catch { q.addRateLimited(key) } finally { q.done(key) } }`.
 */
export class WorkQueue<K extends string = string> {
  readonly name: string;
  readonly #clock: Clock;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #jitter: number;
  readonly #random: () => number;
  readonly #metrics: RuntimeMetrics | undefined;

  #queue: K[] = [];
  readonly #dirty = new Set<K>();
  readonly #processing = new Set<K>();
  /** Delayed keys and when each is due. */
  readonly #waiting = new Map<K, number>();
  /**
   * The same, ordered by due time (then by when they were added): a binary min-heap whose entries
   * are stale once #waiting says another time for their key; those are skipped when they surface.
   * Thousands of scalers requeue themselves every poll: a scan of every delayed key per add cost
   * a few percent of the manager's CPU at 5,000.
   */
  readonly #due: DueEntry<K>[] = [];
  #seq = 0;
  readonly #failures = new Map<K, number>();
  #getters: (() => void)[] = [];
  #drainWaiters: (() => void)[] = [];
  #shuttingDown = false;
  #timer: AbortController | undefined;
  #timerAt = Number.POSITIVE_INFINITY;

  constructor(options: WorkQueueOptions = {}) {
    this.name = options.name ?? 'default';
    this.#clock = options.clock ?? systemClock;
    this.#baseDelayMs = options.baseDelayMs ?? 5;
    this.#maxDelayMs = options.maxDelayMs ?? 1_000_000;
    this.#jitter = Math.min(1, Math.max(0, options.jitter ?? 0.1));
    this.#random = options.random ?? Math.random;
    this.#metrics = options.metrics;
  }

  /** Keys waiting to be handed out (not those being processed or delayed). */
  get len(): number {
    return this.#queue.length;
  }

  /** Keys scheduled by addAfter/addRateLimited that are not due yet. */
  get delayed(): number {
    return this.#waiting.size;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Queues `key` unless it is already waiting; if it is being processed, queues it after `done`. */
  add(key: K): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#metrics?.queueAdds.inc({ name: this.name });
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    this.#queue.push(key);
    this.#updateDepth();
    this.#getters.shift()?.();
  }

  /** Adds `key` once `delayMs` has passed; an earlier pending schedule for the same key wins. */
  addAfter(key: K, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = this.#clock.now() + delayMs;
    const existing = this.#waiting.get(key);
    if (existing !== undefined && existing <= at) return;
    this.#waiting.set(key, at);
    heapPush(this.#due, { key, at, seq: this.#seq++ });
    this.#schedule();
  }

  /**
   * Adds `key` after its next backoff delay: base·2^failures, capped (at `maxDelayMs` when given
   * and lower than the queue's own cap), with jitter.
   */
  addRateLimited(key: K, maxDelayMs?: number): void {
    if (this.#shuttingDown) return;
    this.#metrics?.queueRetries.inc({ name: this.name });
    this.addAfter(key, this.nextDelayMs(key, maxDelayMs));
  }

  /** The delay the next `addRateLimited(key)` uses, counting it as a failure. Exposed for tests. */
  nextDelayMs(key: K, maxDelayMs?: number): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const cap = Math.min(this.#maxDelayMs, maxDelayMs ?? Number.POSITIVE_INFINITY);
    const exp = this.#baseDelayMs * 2 ** failures;
    const capped = Number.isFinite(exp) ? Math.min(exp, cap) : cap;
    return capped * (1 - this.#jitter * this.#random());
  }

  /** How many times `key` has been rate-limited since it was last forgotten. */
  numRequeues(key: K): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Resets the backoff of `key` (call after a successful reconcile). */
  forget(key: K): void {
    this.#failures.delete(key);
  }

  /**
   * Waits for the next key and marks it as being processed; call `done(key)` afterwards.
   * Resolves `undefined` once the queue is shut down and empty, or when `signal` aborts.
   */
  async get(signal?: AbortSignal): Promise<K | undefined> {
    for (;;) {
      const key = this.#queue.shift();
      if (key !== undefined) {
        this.#updateDepth();
        this.#processing.add(key);
        this.#dirty.delete(key);
        return key;
      }
      if (this.#shuttingDown || signal?.aborted) return undefined;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = (): void => {
          this.#getters = this.#getters.filter((g) => g !== wake);
          resolve();
        };
        this.#getters.push(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }

  /** Marks `key` as processed; if it was added meanwhile it is queued again. */
  done(key: K): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key)) {
      this.#queue.push(key);
      this.#updateDepth();
      this.#getters.shift()?.();
    }
    this.#checkDrained();
  }

  /**
   * Stops accepting keys and drops delayed ones; keys already queued are still handed out, then
   * `get` resolves `undefined` for every worker.
   */
  shutDown(): void {
    this.#shuttingDown = true;
    this.#waiting.clear();
    this.#due.length = 0;
    this.#timer?.abort();
    this.#timer = undefined;
    const getters = this.#getters;
    this.#getters = [];
    for (const wake of getters) wake();
    this.#checkDrained();
  }

  /** Shuts down and resolves once every queued and in-flight key has been processed. */
  async shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.#isDrained()) return;
    await new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
  }

  #isDrained(): boolean {
    return this.#queue.length === 0 && this.#processing.size === 0;
  }

  #checkDrained(): void {
    if (!this.#shuttingDown || !this.#isDrained()) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #updateDepth(): void {
    this.#metrics?.queueDepth.set({ name: this.name }, this.#queue.length);
  }

  /** Keeps exactly one clock sleep running, until the earliest delayed key is due. */
  #schedule(): void {
    this.#dropStale();
    const earliest = this.#due[0]?.at ?? Number.POSITIVE_INFINITY;
    if (this.#timer !== undefined && this.#timerAt <= earliest) return;
    this.#timer?.abort();
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    if (!Number.isFinite(earliest)) return;
    const timer = new AbortController();
    this.#timer = timer;
    this.#timerAt = earliest;
    this.#clock.sleep(earliest - this.#clock.now(), timer.signal).then(
      () => {
        if (this.#timer !== timer) return;
        this.#timer = undefined;
        this.#timerAt = Number.POSITIVE_INFINITY;
        this.#fire();
      },
      () => {},
    );
  }

  /** Pops heap entries that #waiting no longer agrees with. */
  #dropStale(): void {
    for (
      let top = this.#due[0];
      top !== undefined && this.#waiting.get(top.key) !== top.at;
      top = this.#due[0]
    )
      heapPop(this.#due);
  }

  #fire(): void {
    const now = this.#clock.now();
    for (;;) {
      this.#dropStale();
      const top = this.#due[0];
      if (top === undefined || top.at > now) break;
      heapPop(this.#due);
      this.#waiting.delete(top.key);
      this.add(top.key);
    }
    this.#schedule();
  }
}

interface DueEntry<K> {
  key: K;
  at: number;
  /** Insertion order: keys due at the same time come out in the order they were added. */
  seq: number;
}

const before = <K>(a: DueEntry<K>, b: DueEntry<K>): boolean =>
  a.at < b.at || (a.at === b.at && a.seq < b.seq);

function heapPush<K>(heap: DueEntry<K>[], entry: DueEntry<K>): void {
  heap.push(entry);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = heap[parent] as DueEntry<K>;
    if (!before(entry, p)) break;
    heap[i] = p;
    i = parent;
  }
  heap[i] = entry;
}

function heapPop<K>(heap: DueEntry<K>[]): void {
  const last = heap.pop();
  if (last === undefined || heap.length === 0) return;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= heap.length) break;
    const r = l + 1;
    const child = r < heap.length && before(heap[r] as DueEntry<K>, heap[l] as DueEntry<K>) ? r : l;
    if (!before(heap[child] as DueEntry<K>, last)) break;
    heap[i] = heap[child] as DueEntry<K>;
    i = child;
  }
  heap[i] = last;
}
