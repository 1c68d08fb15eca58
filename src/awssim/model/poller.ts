// The event source mapping's pollers: once a second the mapping scales its concurrency; each slot
// receives a batch, asks the function for an environment and invokes it, or is throttled.

import type { Rng } from '../engine/rng.ts';
import type { Scheduler } from '../engine/scheduler.ts';
import type { Account } from './account.ts';
import type { Esm } from './esm.ts';
import { type Admission, type SimFunction, sample } from './lambda.ts';
import type { ModelParams } from './params.ts';
import type { InFlight } from './queue.ts';
import type { EventCounter } from './sampler.ts';

/** The pollers of every mapping. */
export class MappingPoller {
  readonly #sched: Scheduler;
  readonly #params: ModelParams;
  readonly #account: Account;
  readonly #counter: EventCounter;
  readonly #durations: Rng;
  readonly #failures: Rng;
  /** Invocations running on the account's unreserved pool. */
  #unreservedRunning = 0;

  constructor(
    sched: Scheduler,
    params: ModelParams,
    account: Account,
    counter: EventCounter,
    rngs: { readonly durations: Rng; readonly failures: Rng },
  ) {
    this.#sched = sched;
    this.#params = params;
    this.#account = account;
    this.#counter = counter;
    this.#durations = rngs.durations;
    this.#failures = rngs.failures;
  }

  get #now(): number {
    return this.#sched.now();
  }

  /** Sum of the target concurrency of enabled mappings. */
  pollers(): number {
    let n = 0;
    for (const e of this.#account.mappingsByUuid.values()) if (e.enabled) n += Math.floor(e.target);
    return n;
  }

  /** Starts polling an enabled mapping: registers on its queue and scales once a second. */
  start(e: Esm): void {
    if (!e.enabled || e.deleted) return;
    const q = this.#account.queueByArn(e.queueArn);
    if (!q) return;
    e.queue = q;
    e.waiter = () => this.fill(e);
    q.waiters.add(e.waiter);
    const tick = (): void => {
      if (!e.enabled || e.deleted || e.waiter === undefined) return;
      this.#scale(e);
      this.#sched.after(1000, tick);
    };
    this.#sched.after(1000, tick);
    this.fill(e);
  }

  /** Stops polling (slots already busy finish what they hold). */
  stop(e: Esm): void {
    if (e.queue && e.waiter) e.queue.waiters.delete(e.waiter);
    e.waiter = undefined;
  }

  /**
   * Once a second: grow by up to 300/min while messages remain and every poller is busy; shrink
   * toward the busy pollers while nothing is visible.
   */
  #scale(e: Esm): void {
    const q = e.queue;
    if (!q || q.deleted) return;
    q.promote(this.#now);
    const cap = e.cap(this.#params.esmMaxConcurrency);
    const saturated = e.busy >= Math.floor(e.target);
    if (q.visible > 0 && saturated)
      e.target = Math.min(cap, e.target + this.#params.esmScaleUpPerMinute / 60);
    else if (q.visible === 0 && !saturated)
      e.target = Math.max(
        Math.min(this.#params.esmMinConcurrency, cap),
        e.busy,
        e.target - this.#params.esmScaleDownPerMinute / 60,
      );
    this.fill(e);
  }

  /** Starts receives on idle slots while messages are visible. */
  fill(e: Esm): void {
    const q = e.queue;
    if (!q || !e.enabled || q.deleted) return;
    q.promote(this.#now);
    let avail = q.visible - e.claimed;
    let idle = Math.floor(e.target) - e.busy;
    while (idle > 0 && avail > 0) {
      const claim = e.windowMs > 0 ? e.batchSize : Math.min(e.batchSize, avail);
      avail -= claim;
      idle--;
      e.busy++;
      e.claimed += claim;
      const wait =
        e.windowMs > 0 && q.visible < e.batchSize
          ? Math.max(this.#params.receiveLatencyMs, e.windowMs)
          : this.#params.receiveLatencyMs;
      this.#sched.after(wait, () => this.#receive(e, claim));
    }
    if (idle > 0) q.armWake();
  }

  #receive(e: Esm, claim: number): void {
    e.claimed -= claim;
    const q = e.queue;
    const f = this.#account.functionsByName.get(e.functionName);
    if (!q || q.deleted || !e.enabled || !f) {
      e.busy--;
      return;
    }
    const b = q.take(e.batchSize, q.visibilityTimeoutMs, this.#now, false);
    if (!b) {
      e.busy--;
      this.fill(e);
      return;
    }
    this.#invoke(e, f, b);
  }

  #invoke(e: Esm, f: SimFunction, b: InFlight): void {
    const now = this.#now;
    const unreservedFree =
      f.reserved === undefined ? this.#account.unreservedPool() - this.#unreservedRunning : 0;
    const r = f.admit(now, unreservedFree, this.#params.environmentIdleMs);
    if (r === 'reserved' || r === 'account' || r === 'scaling') {
      // Throttled: the batch stays invisible until its visibility timeout; the poller backs off.
      b.queue.scheduleReturn(b);
      f.throttles++;
      this.#counter.add('throttles');
      this.#sched.after(this.#params.throttleBackoffMs, () => {
        e.busy--;
        this.fill(e);
      });
      return;
    }
    const kind: Admission = r;
    if (f.reserved === undefined) this.#unreservedRunning++;
    f.invocations++;
    this.#counter.add('invocations');
    if (kind === 'cold') this.#counter.add('coldStarts');
    const beh = f.behaviour;
    const rng = this.#durations;
    let dur = 0;
    if (beh.per === 'message') for (let i = 0; i < b.sentAt.length; i++) dur += sample(beh.duration, rng);
    else dur = sample(beh.duration, rng);
    if (kind === 'cold') dur += sample(beh.coldStart, rng);
    const timeoutMs = Number(f.config.Timeout ?? 3) * 1000;
    const timedOut = dur > timeoutMs;
    const failed = timedOut || this.#failures.chance(beh.errorRate);
    const unreservedAtStart = f.reserved === undefined;
    if (failed || now + Math.min(dur, timeoutMs) >= b.visibleAt) b.queue.scheduleReturn(b);
    this.#sched.after(Math.min(dur, timeoutMs), () => {
      f.release(kind, this.#now);
      if (unreservedAtStart) this.#unreservedRunning--;
      if (failed) {
        f.errors++;
        this.#counter.add('errors');
      } else b.queue.deleteAll(b, this.#now);
      e.busy--;
      this.fill(e);
    });
  }
}
