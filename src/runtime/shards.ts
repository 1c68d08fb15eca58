// Work spread over several replicas by shard key (for the operator: an AWS account and Region, the
// unit that owns a control-plane budget and a concurrency pool), through coordination.k8s.io Leases
// only. Each replica keeps a member Lease of its own alive; every replica computes the same owner for
// each key from the members it sees (rendezvous hashing), campaigns for the keys it should own with
// one Lease per key (leaderelection.ts: client-go's semantics), and lets go of keys that another
// member should own. A key's Lease is the fence: at most one replica holds it, a holder stops
// acting at renewDeadline after its last renewal — before anyone may take over at leaseDuration —
// and hands over only after its work on the key has wound down.
import { createHash } from 'node:crypto';
import { type Clock, systemClock } from './clock.ts';
import { apiPath, type KubeClient, type KubeList } from './kube.ts';
import { type LeaderElectionOptions, LeaderElector } from './leaderelection.ts';
import { type Logger, silentLogger } from './logger.ts';
import type { RuntimeMetrics } from './metrics.ts';

/** The label every Lease of one shard group carries (members and keys alike). */
export const SHARD_GROUP_LABEL = 'aws.operators.jittakal.io/shard-group';
/** The annotation that names the key a key Lease stands for (its name is a hash). */
export const SHARD_KEY_ANNOTATION = 'aws.operators.jittakal.io/shard-key';

export interface ShardSetOptions {
  client: KubeClient;
  /** Where the Leases live (the operator's namespace). */
  namespace: string;
  /** Names the group's Leases: `${group}-member-…` and `${group}-key-…`. */
  group: string;
  /** Unique per process. */
  identity: string;
  /** The shard keys there are work for, as this replica sees them now. */
  keys(): Iterable<string>;
  /**
   * Called when this replica starts holding `key`. `signal` aborts when it must stop (another
   * member should own the key, the lease was lost, or shutdown); the returned promise settles when
   * the work on the key has wound down, and only then is the key's Lease released.
   */
  onHeld(key: string, signal: AbortSignal): void | Promise<void>;
  /** Lease timings of members and keys; default 15 s / 10 s / 2 s (client-go's). */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  clock?: Clock;
  logger?: Logger;
  metrics?: RuntimeMetrics;
  random?: () => number;
}

interface MemberLease {
  metadata: { name: string; resourceVersion?: string };
  spec?: { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number };
}

/** The owner of `key` among `members`: highest hash of (key, member). Same on every replica. */
export function ownerOf(key: string, members: readonly string[]): string | undefined {
  let best: { member: string; score: string } | undefined;
  for (const member of members) {
    const score = createHash('sha256').update(`${key}\u0000${member}`).digest('hex');
    if (best === undefined || score > best.score) best = { member, score };
  }
  return best?.member;
}

const shortHash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

/** This replica's part in a shard group. */
export class ShardSet {
  readonly #o: ShardSetOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  /** The campaigns this replica runs, one per key it should own. */
  readonly #campaigns = new Map<
    string,
    { elector: LeaderElector; stop: AbortController; done: Promise<unknown> }
  >();
  /** Other members as last seen: their lease's renewTime, and when it last changed on our clock. */
  readonly #seen = new Map<string, { renewTime: string; at: number }>();
  #members: string[] = [];

  constructor(options: ShardSetOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? silentLogger).child({ shards: options.group });
    this.#leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryPeriodMs = options.retryPeriodMs ?? 2_000;
  }

  /** Whether this replica holds `key` right now (fenced: false past its renew deadline). */
  holds(key: string): boolean {
    const campaign = this.#campaigns.get(key);
    return campaign !== undefined && this.#clock.now() < campaign.elector.heldUntil();
  }

  /** The members this replica saw alive at its last look (itself included), sorted. */
  members(): readonly string[] {
    return this.#members;
  }

  /**
   * Keeps the membership and the campaigns up to date until `signal` aborts; then lets go of all.
   * A member that loses its own Lease (cut off from the API server past its renew deadline) lets
   * go of every key at once and joins again: unlike a leader, it need not exit.
   */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const member = this.#elector({
        name: `${this.#o.group}-member-${shortHash(this.#o.identity)}`,
        labels: { [SHARD_GROUP_LABEL]: `${this.#o.group}-members` },
        // Our own member Lease is never contended: holding it means "alive". The work is the loop.
        onStartedLeading: (alive) => this.#loop(alive),
      });
      const outcome = await member.run(signal);
      await this.#stopAll();
      if (outcome === 'lost') {
        this.#log.error('lost the member lease: every key is let go, joining again');
        await this.#clock.sleep(this.#retryPeriodMs, signal).catch(() => {});
      }
    }
  }

  async #loop(alive: AbortSignal): Promise<void> {
    while (!alive.aborted) {
      try {
        await this.#refreshMembers(alive);
        this.#rebalance();
      } catch (error) {
        if (!alive.aborted)
          this.#log.warn({ err: (error as Error).message }, 'shard membership refresh failed');
      }
      await this.#clock.sleep(this.#retryPeriodMs, alive).catch(() => {});
    }
    await this.#stopAll();
  }

  /** Members alive: renewed within leaseDuration as observed on our own clock (skew-safe). */
  async #refreshMembers(signal: AbortSignal): Promise<void> {
    const list = await this.#o.client.request<KubeList<MemberLease>>(
      'GET',
      apiPath`/apis/coordination.k8s.io/v1/namespaces/${this.#o.namespace}/leases`,
      { query: { labelSelector: `${SHARD_GROUP_LABEL}=${this.#o.group}-members` }, signal },
    );
    const now = this.#clock.now();
    const alive = new Set<string>([this.#o.identity]);
    for (const lease of list.items) {
      const holder = lease.spec?.holderIdentity ?? '';
      const renewTime = lease.spec?.renewTime ?? '';
      if (holder === '' || holder === this.#o.identity) continue;
      const seen = this.#seen.get(holder);
      if (seen === undefined || seen.renewTime !== renewTime) this.#seen.set(holder, { renewTime, at: now });
      const durationMs = (lease.spec?.leaseDurationSeconds ?? this.#leaseDurationMs / 1000) * 1000;
      if (now - (this.#seen.get(holder)?.at ?? now) < durationMs) alive.add(holder);
    }
    this.#members = [...alive].sort();
  }

  /** Campaign for the keys we should own; let go of those another live member should own. */
  #rebalance(): void {
    const wanted = new Set<string>();
    for (const key of this.#o.keys()) if (ownerOf(key, this.#members) === this.#o.identity) wanted.add(key);
    for (const [key, campaign] of this.#campaigns) {
      if (wanted.has(key)) continue;
      this.#log.info({ key, owner: ownerOf(key, this.#members) }, 'letting go of a shard key');
      campaign.stop.abort(new Error('another member should own this key'));
      this.#campaigns.delete(key);
    }
    for (const key of wanted) if (!this.#campaigns.has(key)) this.#campaign(key);
  }

  #campaign(key: string): void {
    const stop = new AbortController();
    const elector = this.#elector({
      name: `${this.#o.group}-key-${shortHash(key)}`,
      labels: { [SHARD_GROUP_LABEL]: `${this.#o.group}-keys` },
      annotations: { [SHARD_KEY_ANNOTATION]: key },
      onStartedLeading: async (held) => {
        this.#log.info({ key }, 'holding a shard key');
        await this.#o.onHeld(key, held);
      },
    });
    const done = elector.run(stop.signal).then((outcome) => {
      if (outcome === 'lost') this.#log.warn({ key }, 'lost a shard key');
      // Lost, or stopped: campaign again at the next rebalance if we should still own it.
      if (this.#campaigns.get(key)?.elector === elector) this.#campaigns.delete(key);
    });
    this.#campaigns.set(key, { elector, stop, done });
  }

  /** An elector for one of the group's Leases, with the group's identity and timings. */
  #elector(
    o: Pick<LeaderElectionOptions, 'name' | 'labels' | 'annotations' | 'onStartedLeading'>,
  ): LeaderElector {
    return new LeaderElector({
      ...o,
      client: this.#o.client,
      namespace: this.#o.namespace,
      identity: this.#o.identity,
      leaseDurationMs: this.#leaseDurationMs,
      renewDeadlineMs: this.#renewDeadlineMs,
      retryPeriodMs: this.#retryPeriodMs,
      clock: this.#clock,
      logger: this.#log,
      ...(this.#o.random === undefined ? {} : { random: this.#o.random }),
    });
  }

  async #stopAll(): Promise<void> {
    const all = [...this.#campaigns.values()];
    this.#campaigns.clear();
    for (const c of all) c.stop.abort(new Error('shutting down'));
    await Promise.all(all.map((c) => c.done));
  }
}
