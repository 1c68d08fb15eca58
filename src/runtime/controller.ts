// Level-triggered wiring: informer events only enqueue keys; N workers take keys from the work
// queue and call reconcile(key), which reads the latest object itself. Failures back off per key,
// successes reset the backoff and may ask to be requeued after a delay.
import { type Clock, systemClock } from './clock.ts';
import { type Informer, objectKey } from './informer.ts';
import type { KubeObject } from './kube.ts';
import { type Logger, silentLogger } from './logger.ts';
import type { RuntimeMetrics } from './metrics.ts';
import { runInSlot } from './slot.ts';
import { WorkQueue, type WorkQueueOptions } from './workqueue.ts';

/** What a reconcile may ask for: run again after a delay (success otherwise needs nothing). */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

/**
 * Makes the world match the object with `key` (`namespace/name`). Throw to retry with backoff; an
 * error with a numeric `maxRetryDelayMs` caps that key's backoff. `signal` aborts when the
 * controller's shutdown grace period is over, when the object starts being deleted (or is gone),
 * and at the reconcile deadline; the worker is free again at that moment, whether or not the
 * reconcile has noticed yet (its key stays busy until it returns).
 */
export type ReconcileFn = (key: string, signal: AbortSignal) => Promise<ReconcileResult | undefined>;

export interface ControllerOptions<T extends KubeObject> {
  /** For logs and metrics. */
  name: string;
  informer: Informer<T>;
  reconcile: ReconcileFn;
  /**
   * Concurrent reconciles (distinct keys only); default 1. A reconcile waiting on a rate limiter
   * does not count (slot.ts): it gives its slot to the next key.
   */
  workers?: number;
  /** Work queue settings (name, backoff); clock and metrics default to the controller's. */
  queue?: WorkQueueOptions;
  /** Which keys an object event enqueues; default its own key. Return [] to filter it out. */
  keysFor?: (obj: T) => string[];
  /**
   * Whether a watched update enqueues (e.g. `userChanged` from predicates.ts, to ignore the echo of
   * our own status writes). Adds, deletes and periodic resyncs always enqueue. Default: all do.
   */
  updatePredicate?: (old: T, obj: T) => boolean;
  /** How long in-flight reconciles may run after stop before their signal aborts; default 30 s. */
  shutdownGraceMs?: number;
  /**
   * How long one reconcile may hold a worker before its signal aborts; default 10 min. Time spent
   * waiting on a rate limiter does not hold a worker (slot.ts), but it does count here.
   */
  reconcileTimeoutMs?: number;
  clock?: Clock;
  logger?: Logger;
  metrics?: RuntimeMetrics;
}

/** An informer-fed work queue and its workers. The informer is run by the caller (the manager). */
export class Controller<T extends KubeObject = KubeObject> {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly #o: ControllerOptions<T>;
  readonly #clock: Clock;
  readonly #log: Logger;

  constructor(options: ControllerOptions<T>) {
    this.name = options.name;
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? silentLogger).child({ controller: options.name });
    const queueOptions: WorkQueueOptions = { name: options.name, clock: this.#clock, ...options.queue };
    if (options.metrics !== undefined) queueOptions.metrics = options.metrics;
    this.queue = new WorkQueue(queueOptions);
    const enqueue = (obj: T): void => {
      for (const key of options.keysFor?.(obj) ?? [objectKey(obj)]) this.queue.add(key);
    };
    // A reconcile in flight for an object that starts being deleted, or is gone, is told to stop:
    // the finalizer's work (or nothing) is what is wanted now, not the rest of a poll.
    const cancel = (obj: T, why: string): void => {
      for (const key of options.keysFor?.(obj) ?? [objectKey(obj)])
        this.#inflight.get(key)?.abort(new Error(why));
    };
    options.informer.addHandler({
      onAdd: enqueue,
      onUpdate: (old, obj) => {
        if (old.metadata?.deletionTimestamp === undefined && obj.metadata?.deletionTimestamp !== undefined)
          cancel(obj, 'the object is being deleted');
        // A resync re-delivers the same object: always let it through, it is the safety net.
        if (old === obj || (options.updatePredicate?.(old, obj) ?? true)) enqueue(obj);
      },
      onDelete: (obj) => {
        cancel(obj, 'the object was deleted');
        enqueue(obj);
      },
    });
  }

  /** The abort controller of each key's reconcile in flight. */
  readonly #inflight = new Map<string, AbortController>();

  /**
   * Waits for the informer's cache, then runs the workers until `signal` aborts. On abort, workers
   * take no new keys, in-flight reconciles finish (their signal aborts after the grace period),
   * the queue shuts down, and the promise resolves.
   */
  async run(signal: AbortSignal): Promise<void> {
    try {
      await this.#o.informer.waitForSync(signal);
    } catch {
      this.queue.shutDown();
      return;
    }
    this.#log.info({ workers: this.#o.workers ?? 1 }, 'caches synced, starting workers');
    const reconcileAbort = new AbortController();
    const grace = new AbortController();
    const onStop = (): void => {
      this.queue.shutDown();
      this.#clock
        .sleep(this.#o.shutdownGraceMs ?? 30_000, grace.signal)
        .then(() => reconcileAbort.abort(new Error('shutdown grace period is over')))
        .catch(() => {});
    };
    if (signal.aborted) onStop();
    else signal.addEventListener('abort', onStop, { once: true });
    await this.#dispatch(signal, reconcileAbort.signal);
    grace.abort();
    signal.removeEventListener('abort', onStop);
    this.#log.info('workers stopped');
  }

  /**
   * Hands keys to at most `workers` reconciles at a time. A reconcile that waits on a rate limiter
   * gives its slot back (slot.ts), so the next key starts while it waits; it still finishes and
   * calls done() as usual, and stop waits for it.
   */
  async #dispatch(stop: AbortSignal, reconcileSignal: AbortSignal): Promise<void> {
    const workers = this.#o.workers ?? 1;
    const running = new Set<Promise<void>>();
    let busy = 0;
    let freed: (() => void) | undefined;
    const free = (): void => {
      busy--;
      freed?.();
    };
    for (;;) {
      while (busy >= workers) {
        await new Promise<void>((resolve) => {
          freed = resolve;
        });
        freed = undefined;
      }
      const key = await this.queue.get(stop);
      if (key === undefined) break;
      if (stop.aborted) {
        this.queue.done(key);
        break;
      }
      busy++;
      let gaveBack = false;
      const release = (): void => {
        if (gaveBack) return;
        gaveBack = true;
        free();
      };
      const run: Promise<void> = runInSlot(release, () =>
        this.#process(key, reconcileSignal, release),
      ).finally(() => {
        release();
        running.delete(run);
      });
      running.add(run);
    }
    await Promise.all(running);
  }

  async #process(key: string, stopping: AbortSignal, release: () => void): Promise<void> {
    const labels = { controller: this.name };
    const started = this.#clock.now();
    const own = new AbortController();
    this.#inflight.set(key, own);
    const deadline = new AbortController();
    const timeoutMs = this.#o.reconcileTimeoutMs ?? 600_000;
    this.#clock
      .sleep(timeoutMs, deadline.signal)
      .then(() => own.abort(new Error(`the reconcile deadline (${timeoutMs / 1000} s) passed`)))
      .catch(() => {});
    const signal = AbortSignal.any([stopping, own.signal]);
    signal.addEventListener('abort', release, { once: true });
    try {
      const result = await this.#o.reconcile(key, signal);
      this.queue.forget(key);
      const after = result?.requeueAfterMs;
      if (after !== undefined && after > 0) {
        this.queue.addAfter(key, after);
        this.#o.metrics?.reconcileTotal.inc({ ...labels, result: 'requeue_after' });
      } else {
        this.#o.metrics?.reconcileTotal.inc({ ...labels, result: 'success' });
      }
    } catch (error) {
      this.#o.metrics?.reconcileTotal.inc({ ...labels, result: 'error' });
      this.#o.metrics?.reconcileErrors.inc(labels);
      this.#log.error({ key, err: (error as Error)?.message ?? String(error) }, 'reconcile failed');
      const cap = (error as { maxRetryDelayMs?: unknown } | undefined)?.maxRetryDelayMs;
      this.queue.addRateLimited(key, typeof cap === 'number' ? cap : undefined);
    } finally {
      deadline.abort();
      signal.removeEventListener('abort', release);
      if (this.#inflight.get(key) === own) this.#inflight.delete(key);
      this.#o.metrics?.reconcileDuration.observe(labels, (this.#clock.now() - started) / 1000);
      this.queue.done(key);
    }
  }
}
