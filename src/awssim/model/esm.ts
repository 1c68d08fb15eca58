// An SQS event source mapping: pollers that scale with the backlog, take batches and invoke the
// function, blind to its reserved concurrency (so throttled batches are "overpulled").

import type { ModelParams } from './params.ts';
import type { SimQueue } from './queue.ts';

/** ProvisionedPollerConfig of a mapping in provisioned mode. */
export interface ProvisionedPollers {
  readonly minimum: number;
  readonly maximum: number;
}

/** State of one event source mapping. */
export class Esm {
  readonly uuid: string;
  functionName: string;
  readonly queueArn: string;
  batchSize: number;
  windowMs: number;
  enabled: boolean;
  maximumConcurrency: number | undefined;
  /** Provisioned mode (mutually exclusive with `maximumConcurrency`); undefined in standard mode. */
  provisionedPollers: ProvisionedPollers | undefined;
  lastModified: number;
  /** 'Creating' or 'Updating' until the next read, then Enabled/Disabled. */
  transient: string | undefined;
  /** Raw request fields echoed back (FunctionResponseTypes, FilterCriteria...). */
  extra: Record<string, unknown>;

  /** Target concurrency (pollers); fractional while scaling. */
  target: number;
  /** Slots busy receiving, invoking or backing off. */
  busy = 0;
  /** Messages claimed by receives in progress. */
  claimed = 0;
  /** Throttles and function errors since the last scaling step (growth waits for a second without). */
  backoffsSinceScale = 0;
  /** The waiter registered on the queue while enabled. */
  waiter: (() => void) | undefined;
  queue: SimQueue | undefined;
  deleted = false;

  constructor(init: {
    uuid: string;
    functionName: string;
    queueArn: string;
    batchSize: number;
    windowMs: number;
    enabled: boolean;
    maximumConcurrency: number | undefined;
    provisionedPollers: ProvisionedPollers | undefined;
    now: number;
    extra: Record<string, unknown>;
  }) {
    this.uuid = init.uuid;
    this.functionName = init.functionName;
    this.queueArn = init.queueArn;
    this.batchSize = init.batchSize;
    this.windowMs = init.windowMs;
    this.enabled = init.enabled;
    this.maximumConcurrency = init.maximumConcurrency;
    this.provisionedPollers = init.provisionedPollers;
    this.lastModified = init.now;
    this.transient = 'Creating';
    this.extra = init.extra;
    this.target = 0;
  }

  /**
   * The concurrency ceiling: standard mode, the model's per-mapping maximum lowered by
   * MaximumConcurrency; provisioned mode, MaximumPollers × invokes per poller, at most the
   * provisioned-mode maximum.
   */
  ceiling(p: ModelParams): number {
    if (this.provisionedPollers)
      return Math.min(
        p.esmProvisionedMaxConcurrency,
        this.provisionedPollers.maximum * p.esmInvokesPerPoller,
      );
    return Math.min(p.esmMaxConcurrency, this.maximumConcurrency ?? Number.POSITIVE_INFINITY);
  }

  /** Concurrency the mapping starts with (and, in provisioned mode, never goes below when idle). */
  initialConcurrency(p: ModelParams): number {
    if (this.provisionedPollers)
      return Math.min(this.ceiling(p), this.provisionedPollers.minimum * p.esmInvokesPerPoller);
    return Math.min(p.esmInitialConcurrency, this.ceiling(p));
  }

  /** Added concurrency per minute while messages wait. */
  scaleUpPerMinute(p: ModelParams): number {
    return this.provisionedPollers ? p.esmProvisionedScaleUpPerMinute : p.esmScaleUpPerMinute;
  }

  /** Whether the function reports batch item failures (AWS then does not scale down on errors). */
  get reportsBatchItemFailures(): boolean {
    const t = this.extra.FunctionResponseTypes;
    return Array.isArray(t) && t.includes('ReportBatchItemFailures');
  }

  /** State as the API reports it. */
  state(): string {
    if (this.deleted) return 'Deleting';
    return this.enabled ? 'Enabled' : 'Disabled';
  }
}
