// Leader election over a coordination.k8s.io/v1 Lease with client-go's semantics: candidates try
// every retryPeriod (jittered); a lease is free when empty or not renewed for leaseDuration as
// observed on the candidate's own clock (so clock skew between nodes does not matter); the leader
// renews every retryPeriod and steps down if it cannot renew within renewDeadline; updates carry
// the resourceVersion (optimistic concurrency); on cancel the leader may release the lease at once.
import { type Clock, systemClock } from './clock.ts';
import { apiPath, isConflict, isNotFound, type KubeClient } from './kube.ts';
import { type Logger, silentLogger } from './logger.ts';
import type { RuntimeMetrics } from './metrics.ts';
import { microTime } from './time.ts';

/** The Lease fields leader election uses (coordination.k8s.io/v1 LeaseSpec). */
export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  /** MicroTime: RFC 3339 with microseconds. */
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: {
    name: string;
    namespace: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: LeaseSpec;
}

export interface LeaderElectionOptions {
  client: KubeClient;
  /** Where the Lease lives. */
  namespace: string;
  /** The Lease name (kubebuilder's LeaderElectionID). */
  name: string;
  /** Unique per process, e.g. `${hostname}_${uuid}`. */
  identity: string;
  /** How long a lease stays valid without renewal; default 15 s. */
  leaseDurationMs?: number;
  /** How long the leader keeps retrying a renewal before it gives up; default 10 s. */
  renewDeadlineMs?: number;
  /** Pause between attempts; default 2 s. */
  retryPeriodMs?: number;
  /** Labels and annotations the Lease carries (set on create, kept on every update). */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Hand the lease over on cancel (holder emptied, duration 1 s); default true. */
  releaseOnCancel?: boolean;
  /**
   * Called once the lease is acquired. `signal` aborts when leadership ends (lost or cancelled).
   * If it returns a promise, a graceful stop keeps renewing the lease until it settles, then
   * releases the lease.
   */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called when leadership ends, whatever the reason. */
  onStoppedLeading?(): void;
  /** Called when a different holder is observed (including ourselves). */
  onNewLeader?(identity: string): void;
  clock?: Clock;
  logger?: Logger;
  metrics?: RuntimeMetrics;
  random?: () => number;
}

/**
 * How `run` ended: cancelled before leading, stopped by cancel while leading (lease released when
 * releaseOnCancel), or lost the lease (→ the process should exit, like kubebuilder managers).
 */
export type ElectionOutcome = 'cancelled' | 'stopped' | 'lost';

export { microTime };

/** One candidate for a Lease. */
export class LeaderElector {
  readonly #o: LeaderElectionOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #random: () => number;
  #observed:
    | {
        spec: string;
        at: number;
        resourceVersion: string | undefined;
        record: LeaseSpec;
        metadata: Lease['metadata'];
      }
    | undefined;
  #leading = false;
  #reportedLeader: string | undefined;
  /** When our last acquire or renewal was sent (it counts from the send, on our clock). */
  #renewedAt = Number.NEGATIVE_INFINITY;

  constructor(options: LeaderElectionOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? silentLogger).child({ lease: `${options.namespace}/${options.name}` });
    this.#leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryPeriodMs = options.retryPeriodMs ?? 2_000;
    this.#random = options.random ?? Math.random;
    if (this.#leaseDurationMs <= this.#renewDeadlineMs)
      throw new Error('leaseDuration must be greater than renewDeadline');
    if (this.#renewDeadlineMs <= this.#retryPeriodMs * 1.2)
      throw new Error('renewDeadline must be greater than retryPeriod*1.2');
  }

  get identity(): string {
    return this.#o.identity;
  }

  /** True while this candidate holds the lease. */
  isLeader(): boolean {
    return this.#leading;
  }

  /**
   * Until when this candidate may act as the holder: its last successful acquire or renewal (as
   * sent) plus renewDeadline, which is shorter than the lease duration others wait for. Work that
   * must never overlap another holder's (a fence) checks `now < heldUntil()` before acting, so a
   * process paused past its lease stops acting the moment it resumes, before any renewal fails.
   */
  heldUntil(): number {
    return this.#leading ? this.#renewedAt + this.#renewDeadlineMs : Number.NEGATIVE_INFINITY;
  }

  /** The holder last observed in the Lease ('' when free, undefined before the first read). */
  observedLeader(): string | undefined {
    return this.#observed?.record.holderIdentity;
  }

  /**
   * Campaigns until `signal` aborts or leadership is lost. Resolves with the outcome; a `lost`
   * outcome means another process may already be acting, so the caller should exit.
   */
  async run(signal: AbortSignal): Promise<ElectionOutcome> {
    this.#setLeading(false);
    if (!(await this.#acquire(signal))) return 'cancelled';

    // `leading` tells the work to stop; `renewing` stops the renewals. On cancel the work stops
    // first and the lease is renewed until it has wound down (as controller-runtime does), so no
    // other replica can start while our last reconciles are still running; then it is released.
    const leading = new AbortController();
    const renewing = new AbortController();
    this.#log.info({ identity: this.identity }, 'acquired lease, started leading');
    const work = Promise.resolve()
      .then(() => this.#o.onStartedLeading(leading.signal))
      .catch((error: unknown) => {
        this.#log.error({ err: (error as Error)?.message ?? String(error) }, 'onStartedLeading failed');
      });
    const onCancel = (): void => {
      leading.abort(signal.reason);
      void work.finally(() => renewing.abort());
    };
    signal.addEventListener('abort', onCancel, { once: true });
    if (signal.aborted) onCancel();

    const renewed = await this.#renewLoop(renewing.signal);
    signal.removeEventListener('abort', onCancel);
    let outcome: ElectionOutcome = 'lost';
    if (renewed) {
      if (this.#o.releaseOnCancel ?? true) await this.#release();
      outcome = 'stopped';
    } else {
      leading.abort(new Error('leader election lost'));
      this.#log.error({ identity: this.identity }, 'failed to renew lease, leadership lost');
    }
    this.#setLeading(false);
    this.#o.onStoppedLeading?.();
    return outcome;
  }

  #setLeading(leading: boolean): void {
    this.#leading = leading;
    this.#o.metrics?.leaderStatus.set({ name: this.#o.name }, leading ? 1 : 0);
  }

  #path(withName: boolean): string {
    const base = apiPath`/apis/coordination.k8s.io/v1/namespaces/${this.#o.namespace}/leases`;
    return withName ? `${base}${apiPath`/${this.#o.name}`}` : base;
  }

  async #acquire(signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      if (await this.#tryAcquireOrRenew(signal, this.#retryPeriodMs * 5)) {
        this.#setLeading(true);
        return true;
      }
      // client-go: JitterUntil(retryPeriod, 1.2).
      const wait = this.#retryPeriodMs * (1 + 1.2 * this.#random());
      await this.#clock.sleep(wait, signal).catch(() => {});
    }
    return false;
  }

  /** Renews every retryPeriod; returns true when stopped by `signal`, false when a renewal failed. */
  async #renewLoop(signal: AbortSignal): Promise<boolean> {
    for (;;) {
      await this.#clock.sleep(this.#retryPeriodMs, signal).catch(() => {});
      if (signal.aborted) return true;
      const deadline = this.#clock.now() + this.#renewDeadlineMs;
      let renewed = false;
      while (!renewed && !signal.aborted) {
        const remaining = deadline - this.#clock.now();
        if (remaining <= 0) break;
        renewed = await this.#tryAcquireOrRenew(signal, remaining);
        if (renewed || signal.aborted) break;
        if (deadline - this.#clock.now() <= 0) break;
        await this.#clock
          .sleep(Math.min(this.#retryPeriodMs, deadline - this.#clock.now()), signal)
          .catch(() => {});
      }
      if (signal.aborted) return true;
      if (!renewed) return false;
    }
  }

  /** One attempt to become or stay the holder. Never throws. */
  async #tryAcquireOrRenew(signal: AbortSignal, timeoutMs: number): Promise<boolean> {
    const now = this.#clock.now();
    const mine: LeaseSpec = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.max(1, Math.round(this.#leaseDurationMs / 1000)),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    try {
      let current: Lease;
      try {
        current = await this.#o.client.request<Lease>('GET', this.#path(true), { signal, timeoutMs });
      } catch (error) {
        if (!isNotFound(error)) throw error;
        const created = await this.#o.client.request<Lease>('POST', this.#path(false), {
          body: this.#lease(mine, undefined, undefined),
          signal,
          timeoutMs,
        });
        this.#observe(created, this.#clock.now());
        this.#renewedAt = now;
        return true;
      }
      const record = current.spec ?? {};
      this.#observe(current, now);
      const holder = record.holderIdentity ?? '';
      const observedAt = this.#observed?.at ?? now;
      const durationMs = (record.leaseDurationSeconds ?? 0) * 1000;
      if (holder !== '' && holder !== this.identity && observedAt + durationMs > now) return false;

      if (holder === this.identity) {
        mine.acquireTime = record.acquireTime ?? microTime(now);
        mine.leaseTransitions = record.leaseTransitions ?? 0;
      } else {
        mine.leaseTransitions = (record.leaseTransitions ?? 0) + 1;
      }
      const updated = await this.#o.client.request<Lease>('PUT', this.#path(true), {
        body: this.#lease(mine, current.metadata.resourceVersion, current.metadata),
        signal,
        timeoutMs,
      });
      this.#observe(updated, this.#clock.now());
      this.#renewedAt = now;
      return true;
    } catch (error) {
      if (!signal.aborted) {
        const level = isConflict(error) ? 'debug' : 'warn';
        this.#log[level]({ err: (error as Error).message }, 'lease acquire/renew attempt failed');
      }
      return false;
    }
  }

  /** The Lease to write: a PUT replaces the object, so labels and annotations are carried over. */
  #lease(
    spec: LeaseSpec,
    resourceVersion: string | undefined,
    current: Lease['metadata'] | undefined,
  ): Lease {
    const metadata: Lease['metadata'] = { name: this.#o.name, namespace: this.#o.namespace };
    if (resourceVersion !== undefined) metadata.resourceVersion = resourceVersion;
    const labels = { ...current?.labels, ...this.#o.labels };
    const annotations = { ...current?.annotations, ...this.#o.annotations };
    if (Object.keys(labels).length > 0) metadata.labels = labels;
    if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
    return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata, spec };
  }

  /** Remembers the record and when it last changed, on our clock. */
  #observe(lease: Lease, now: number): void {
    const record = lease.spec ?? {};
    const spec = JSON.stringify(record);
    if (this.#observed?.spec !== spec)
      this.#observed = {
        spec,
        at: now,
        resourceVersion: lease.metadata.resourceVersion,
        record,
        metadata: lease.metadata,
      };
    else {
      this.#observed.resourceVersion = lease.metadata.resourceVersion;
      this.#observed.metadata = lease.metadata;
    }
    const holder = record.holderIdentity ?? '';
    if (holder !== '' && holder !== this.#reportedLeader) {
      this.#reportedLeader = holder;
      this.#log.info({ leader: holder }, 'new leader observed');
      this.#o.onNewLeader?.(holder);
    }
  }

  /** Empties the holder so a candidate can take over without waiting for expiry (client-go). */
  async #release(): Promise<void> {
    // Two tries: a renewal cut short by the stop may have landed, making our resourceVersion stale.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        if (attempt > 0) {
          const current = await this.#o.client.request<Lease>('GET', this.#path(true), {
            timeoutMs: this.#renewDeadlineMs,
          });
          this.#observe(current, this.#clock.now());
        }
        const observed = this.#observed;
        if (observed === undefined || observed.record.holderIdentity !== this.identity) return;
        const now = this.#clock.now();
        await this.#o.client.request('PUT', this.#path(true), {
          body: this.#lease(
            {
              holderIdentity: '',
              leaseDurationSeconds: 1,
              acquireTime: microTime(now),
              renewTime: microTime(now),
              leaseTransitions: observed.record.leaseTransitions ?? 0,
            },
            observed.resourceVersion,
            observed.metadata,
          ),
          timeoutMs: this.#renewDeadlineMs,
        });
        this.#log.info('released lease');
        return;
      } catch (error) {
        if (attempt === 0 && isConflict(error)) continue;
        this.#log.warn({ err: (error as Error).message }, 'failed to release lease');
        return;
      }
    }
  }
}
