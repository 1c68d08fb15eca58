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
   * Once a second, under `release`: grow by up to 300/min while messages remain and every poller is
   * busy (throttled ones included); shrink toward the busy pollers while nothing is visible.
   * Under the other models growth also waits for a second without throttles or errors, and the idle
   * floor is min(5, MaximumConcurrency) when MaximumConcurrency is set (AWS: the optimisation to 2
   * "is not available when you enable the maximum concurrency setting").
   */
  #scale(e: Esm): void {
    const q = e.queue;
    if (!q || q.deleted) return;
    q.promote(this.#now);
    const p = this.#params;
    const cap = e.ceiling(p);
    const saturated = e.busy >= Math.floor(e.target);
    const backedOff = p.esmModel !== 'release' && e.backoffsSinceScale > 0;
    e.backoffsSinceScale = 0;
    if (q.visible > 0 && saturated && !backedOff)
      e.target = Math.min(cap, e.target + e.scaleUpPerMinute(p) / 60);
    else if (q.visible === 0 && !saturated)
      e.target = Math.max(this.#idleFloor(e), e.busy, e.target - p.esmScaleDownPerMinute / 60);
    this.fill(e);
  }

  /** The fewest pollers an idle mapping keeps (provisioned mode: MinimumPollers' worth). */
  #idleFloor(e: Esm): number {
    const p = this.#params;
    const cap = e.ceiling(p);
    if (e.provisionedPollers) return e.initialConcurrency(p);
    if (p.esmModel === 'release' || e.maximumConcurrency === undefined)
      return Math.min(p.esmMinConcurrency, cap);
    return Math.min(p.esmInitialConcurrency, cap);
  }

  /** Backs off: removes `esmThrottleShrink` from the mapping's concurrency, down to min(5, cap); no growth this second. */
  #backOff(e: Esm): void {
    const p = this.#params;
    e.backoffsSinceScale++;
    const floor = Math.min(p.esmInitialConcurrency, e.ceiling(p));
    if (e.target > floor) e.target = Math.max(floor, e.target - p.esmThrottleShrink);
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
    this.#invoke(e, f, b, 0);
  }

  /** Invokes the function with a batch (`attempt` counts earlier throttled attempts). */
  #invoke(e: Esm, f: SimFunction, b: InFlight, attempt: number): void {
    const now = this.#now;
    const unreservedFree =
      f.reserved === undefined ? this.#account.unreservedPool() - this.#unreservedRunning : 0;
    const r = f.admit(now, unreservedFree, this.#params.environmentIdleMs);
    if (r === 'reserved' || r === 'account' || r === 'scaling') {
      this.#throttled(e, f, b, attempt);
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
      f.release(kind, this.#now, Math.min(dur, timeoutMs));
      if (unreservedAtStart) this.#unreservedRunning--;
      if (failed) {
        f.errors++;
        this.#counter.add('errors');
        // "If your function code caused the error … Lambda gradually backs off, reducing the amount
        // of concurrency"; with ReportBatchItemFailures it "doesn't scale down message polling".
        if (this.#params.esmModel === 'documented' && !e.reportsBatchItemFailures) this.#backOff(e);
      } else b.queue.deleteAll(b, this.#now);
      e.busy--;
      this.fill(e);
    });
  }

  /**
   * A throttled invocation. The batch stays invisible until its visibility timeout in every model;
   * `documented` retries it every back-off until then, `retry-then-release` a few times, `release`
   * never (the slot polls a new batch after the back-off).
   */
  #throttled(e: Esm, f: SimFunction, b: InFlight, attempt: number): void {
    const p = this.#params;
    f.throttles++;
    this.#counter.add('throttles');
    b.queue.scheduleReturn(b);
    // Each batch cuts the mapping's concurrency once, at its first throttle (its retries do not):
    // T pollers against F free environments lose T − F in one back-off and settle at F.
    if (p.esmModel === 'documented' && attempt === 0) this.#backOff(e);
    else e.backoffsSinceScale++;
    const retries =
      p.esmModel === 'documented'
        ? Number.POSITIVE_INFINITY
        : p.esmModel === 'retry-then-release'
          ? p.esmThrottleRetries
          : 0;
    this.#sched.after(p.throttleBackoffMs, () => {
      const stillMapped = e.enabled && !e.deleted && this.#account.functionsByName.get(e.functionName) === f;
      if (attempt < retries && stillMapped && !b.returned && this.#now < b.visibleAt) {
        this.#invoke(e, f, b, attempt + 1);
        return;
      }
      if (p.esmModel === 'retry-then-release') this.#backOff(e);
      e.busy--;
      this.fill(e);
    });
  }
}
