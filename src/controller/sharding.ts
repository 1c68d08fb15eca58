// Several replicas share the scalers by AWS account and Region — the unit that owns a control-plane
// budget (15 requests/s) and a concurrency pool — so no two replicas ever spend one account's budget
// or share out its headroom. A replica reconciles only the scalers of the shards it holds
// (runtime/shards.ts), checks that it still holds the shard right before every AWS write (the fence),
// and lets a shard go only after its reconciles in flight have ended.
import {
  type LambdaConcurrencyScaler,
  type LambdaConcurrencyScalerSpec,
  roleAccount,
  scalerRegion,
} from '../api/v1alpha1/index.ts';
import type { ReconcileResult } from './ports.ts';

/**
 * The shard of a scaler: the account it acts as and its Region. A role names its account; a
 * Secret's keys are known only by the Secret (two Secrets of one account are two shards: give such
 * teams a role instead); everything else acts as the operator's own identity, one account.
 */
export function shardKeyOf(
  spec: LambdaConcurrencyScalerSpec,
  namespace: string,
  defaultRegion: string,
): string {
  const region = scalerRegion(spec, defaultRegion);
  const c = spec.credentials;
  const who =
    c?.roleArn !== undefined
      ? `account:${roleAccount(c.roleArn)}`
      : c?.secretRef !== undefined
        ? `secret:${namespace}/${c.secretRef.name}`
        : 'operator';
  return `${who}|${region}`;
}

export interface ShardGateOptions {
  /** Every scaler the replica sees (the informer cache). */
  list(): readonly LambdaConcurrencyScaler[];
  /** Enqueues a scaler's key (namespace/name) for reconciling. */
  enqueue(key: string): void;
  defaultRegion: string;
  /**
   * When a held shard's fence has lapsed (a renewal is late, not yet lost), its reconciles are
   * tried again after this long (default 2 s, the Lease retry period).
   */
  fencedRetryMs?: number;
  /**
   * Called with the keys of a shard's scalers once its hold has ended and its reconciles have
   * wound down: the replica forgets what it remembered of them (policy history, last write, metric
   * series), so a shard that comes back later starts from status, not from a stale memory.
   */
  released?(keys: string[]): void;
}

/** Gates reconciles and AWS writes on the shards this replica holds. */
export class ShardGate {
  readonly #o: ShardGateOptions;
  /** The shards held, each with the signal that ends its hold and its reconciles in flight. */
  readonly #held = new Map<string, { signal: AbortSignal; inFlight: number; idle?: () => void }>();
  /** Whether the shard set still holds a shard (fenced on time); set once the set exists. */
  holds: (shard: string) => boolean = () => false;

  constructor(options: ShardGateOptions) {
    this.#o = options;
  }

  shardOf(scaler: LambdaConcurrencyScaler): string {
    return shardKeyOf(scaler.spec, scaler.metadata.namespace, this.#o.defaultRegion);
  }

  /** The shards there is work for. */
  keys(): Set<string> {
    return new Set(this.#o.list().map((s) => this.#shardOrOperator(s)));
  }

  /** The shard set's onHeld: reconcile every scaler of the shard now; wind down when it ends. */
  async onHeld(shard: string, signal: AbortSignal): Promise<void> {
    const entry: { signal: AbortSignal; inFlight: number; idle?: () => void } = { signal, inFlight: 0 };
    this.#held.set(shard, entry);
    for (const s of this.#o.list())
      if (this.#shardOrOperator(s) === shard) this.#o.enqueue(`${s.metadata.namespace}/${s.metadata.name}`);
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    if (entry.inFlight > 0) await new Promise<void>((resolve) => (entry.idle = resolve));
    if (this.#held.get(shard) !== entry) return;
    this.#held.delete(shard);
    this.#o.released?.(
      this.#o
        .list()
        .filter((s) => this.#shardOrOperator(s) === shard)
        .map((s) => `${s.metadata.namespace}/${s.metadata.name}`),
    );
  }

  /**
   * Runs `reconcile` if this replica holds the scaler's shard, with a signal that also aborts when
   * the hold ends; otherwise does nothing (the holder does it; a shard changing hands re-enqueues
   * all its scalers).
   */
  async run(
    scaler: LambdaConcurrencyScaler | undefined,
    signal: AbortSignal,
    reconcile: (signal: AbortSignal) => Promise<ReconcileResult>,
  ): Promise<ReconcileResult> {
    // Gone from the cache: only in-memory bookkeeping is left to forget, on every replica.
    if (scaler === undefined) return reconcile(signal);
    const shard = this.#shardOrOperator(scaler);
    const entry = this.#held.get(shard);
    if (entry === undefined) return {};
    // Held, but the fence has lapsed while a renewal is late: try again soon. Dropping the key would
    // stop the scaler's polls for good unless the shard were lost and taken again.
    if (!this.holds(shard)) return { requeueAfterMs: this.#o.fencedRetryMs ?? 2000 };
    entry.inFlight++;
    try {
      return await reconcile(AbortSignal.any([signal, entry.signal]));
    } finally {
      entry.inFlight--;
      if (entry.inFlight === 0) entry.idle?.();
    }
  }

  /** The fence: true while this replica may still write to AWS for the scaler. */
  mayWrite(scaler: LambdaConcurrencyScaler): boolean {
    return this.holds(this.#shardOrOperator(scaler));
  }

  /** A spec too broken to name a shard is reconciled (and reported Stalled) with the operator's. */
  #shardOrOperator(scaler: LambdaConcurrencyScaler): string {
    try {
      return this.shardOf(scaler);
    } catch {
      return `operator|${this.#o.defaultRegion}`;
    }
  }
}
