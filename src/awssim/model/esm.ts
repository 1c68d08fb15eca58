// An SQS event source mapping: pollers that scale with the backlog, take batches and invoke the
// function, blind to its reserved concurrency (so throttled batches are "overpulled").

import type { SimQueue } from './queue.ts';

/** State of one event source mapping. */
export class Esm {
  readonly uuid: string;
  functionName: string;
  readonly queueArn: string;
  batchSize: number;
  windowMs: number;
  enabled: boolean;
  maximumConcurrency: number | undefined;
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
    now: number;
    initialConcurrency: number;
    extra: Record<string, unknown>;
  }) {
    this.uuid = init.uuid;
    this.functionName = init.functionName;
    this.queueArn = init.queueArn;
    this.batchSize = init.batchSize;
    this.windowMs = init.windowMs;
    this.enabled = init.enabled;
    this.maximumConcurrency = init.maximumConcurrency;
    this.lastModified = init.now;
    this.transient = 'Creating';
    this.extra = init.extra;
    this.target = init.initialConcurrency;
  }

  /** The concurrency ceiling: the model's per-ESM maximum, lowered by MaximumConcurrency. */
  cap(modelMax: number): number {
    return Math.min(modelMax, this.maximumConcurrency ?? Number.POSITIVE_INFINITY);
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
