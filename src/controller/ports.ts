// What the reconciler needs from the outside world; src/cmd wires the real ones, the benchmark
// and the tests in-memory ones.
import type { LambdaConcurrencyScaler, LambdaConcurrencyScalerStatus } from '../api/v1alpha1/index.ts';
import type { CloudWatchPort, FunctionPort, QueuePort } from '../aws/ports.ts';
import type { Clock } from '../runtime/clock.ts';
import type { Logger } from '../runtime/logger.ts';
import type { ScalerMetrics } from './metrics.ts';
import type { Tenancy } from './tenancy.ts';

/** The AWS ports for one scaler (its identity and Region). */
export interface AwsPorts {
  queues: QueuePort;
  functions: FunctionPort;
  /** CloudWatch, for metrics.source: CloudWatch; without it such a scaler is Stalled. */
  cloudWatch?: CloudWatchPort | undefined;
  /** The account and Region whose concurrency pool and control-plane budget these ports use. */
  account: string;
  /** The Region the ports act in; the controller re-checks the spec's ARNs against it. */
  region?: string | undefined;
}

export interface ReconcilerDeps {
  /** The latest object from the informer cache. */
  get(key: string): LambdaConcurrencyScaler | undefined;
  /** Every scaler the manager sees (the informer cache), to tell who holds which function. */
  list?(): readonly LambdaConcurrencyScaler[];
  /** Merge-patches `status`; must be a no-op-free single write. */
  patchStatus(
    scaler: LambdaConcurrencyScaler,
    status: LambdaConcurrencyScalerStatus,
    signal?: AbortSignal,
  ): Promise<void>;
  /** Replaces the scaler's finalizers (optimistically, on its resourceVersion); returns the new object. */
  setFinalizers(
    scaler: LambdaConcurrencyScaler,
    finalizers: string[],
    signal?: AbortSignal,
  ): Promise<LambdaConcurrencyScaler>;
  /** Records a Kubernetes Event about the scaler; never throws. */
  event(scaler: LambdaConcurrencyScaler, type: 'Normal' | 'Warning', reason: string, message: string): void;
  /** AWS ports for the scaler's identity and Region. */
  aws(scaler: LambdaConcurrencyScaler, signal?: AbortSignal): Promise<AwsPorts>;
  /**
   * The fence of a sharded manager (sharding.ts): false once this replica no longer holds the
   * scaler's account, checked right before every AWS write. Default: always true.
   */
  mayWrite?(scaler: LambdaConcurrencyScaler): boolean;
  /** Who may use the operator's identity and name which ARNs; default: everyone, everything. */
  tenancy?: Tenancy | undefined;
  clock: Clock;
  log: Logger;
  metrics?: ScalerMetrics | undefined;
  /** Uniform [0, 1) for the poll jitter; default Math.random. */
  random?: () => number;
  /** How often to re-check that the queue is an event source of the function (default 5 min). */
  eventSourceRefreshMs?: number;
  /**
   * How often a function's reserved concurrency is re-read to notice changes made outside the
   * operator (default 2 min; each function ±10 %). Between re-reads the last reading or the
   * operator's own write stands in: 5,000 scalers re-read every 2 min spend 42 GetFunction/s.
   */
  driftCheckMs?: number;
  /** How long to wait before retrying a scaler stalled on a permanent error (default 5 min). */
  stalledRetryMs?: number;
  /**
   * How often, at most, the policy history (or the backlog) alone is worth a status write
   * (default 5 min; each interval drawn between half and all of it, so that scalers created
   * together do not write together). The history moves every poll (timestamps), so writing it
   * each time would rewrite every idle scaler's status on every poll; between checkpoints the
   * freshest history lives in memory, and any other status change writes it too. A restart loses
   * at most this much of an idle scaler's history.
   */
  stateCheckpointMs?: number;
}

/** The reconciler's answer to the work queue. */
export interface ReconcileResult {
  requeueAfterMs?: number;
}
