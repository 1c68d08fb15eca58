// What the reconciler remembers of one scaler between polls, in one record instead of parallel
// maps: caches tied to the spec generation, the freshest policy history, and its own last write.
// Losing a record (restart) costs at most a few extra reads: everything that matters is in status.
import type { LambdaConcurrencyScaler, LambdaConcurrencyScalerSpec } from '../api/v1alpha1/index.ts';
import type { QueueRef } from '../aws/ports.ts';
import type { PolicyConfig, PolicyState } from '../policy/index.ts';
import type { AwsPorts } from './ports.ts';
import type { Mapping, StatusBuilder } from './status-builder.ts';

/** The event source mappings of the scaler's queue to its function, as last read. */
export interface EventSourceLink {
  linked: boolean;
  batchSize: number | undefined;
  mappings: Mapping[];
  at: number;
}

export interface ScalerRecord {
  /** The spec generation the queue and mapping caches below belong to. */
  generation: number;
  queue?: QueueRef | undefined;
  eventSources?: EventSourceLink | undefined;
  /** When the next poll is due (epoch ms), to measure how late it starts. */
  due?: number | undefined;
  /**
   * The latest policy history, and when its next checkpoint is due: its last write to status plus
   * the checkpoint interval, drawn per write.
   */
  policy?: { state: PolicyState; checkpointAt: number } | undefined;
  /**
   * The value of our own last successful write. The cached status may not show it yet (a status
   * patch lost to an API server outage), and a write of ours is never "drift".
   */
  lastApplied?: { functionArn: string; value: number | undefined } | undefined;
  /**
   * The function's mean Duration from CloudWatch (LatencySLO serviceTimeSource: CloudWatch): when
   * it was last read, the newest mean published, and why the last read failed, if it did. Read at
   * most once a minute: CloudWatch publishes one datapoint a minute.
   */
  serviceTime?: { readAt: number; seconds: number | undefined; error: string | undefined } | undefined;
  /** Whether the operator-identity warning was given to this scaler already. */
  warnedIdentity?: boolean;
}

/** Everything one reconcile of one scaler works on, passed from step to step. */
export interface Pass {
  scaler: LambdaConcurrencyScaler;
  /** namespace/name@uid: the record's key. */
  id: string;
  spec: LambdaConcurrencyScalerSpec;
  config: PolicyConfig;
  record: ScalerRecord;
  report: StatusBuilder;
  aws: AwsPorts;
  /** Aborts when the scaler is deleted, the reconcile's deadline passes or the manager stops. */
  signal: AbortSignal;
  now: number;
  /**
   * The account's headroom held this poll's raise back (capped, or refused at the unreserved
   * floor): the actuator says so, the reconciler decides whether to look again sooner.
   */
  heldBack?: boolean;
}

/** The record key of a scaler: namespace/name@uid. */
export function idOf(scaler: LambdaConcurrencyScaler): string {
  const { namespace, name, uid } = scaler.metadata;
  return `${namespace}/${name}@${uid ?? ''}`;
}
