// Every tunable number of the model in one place, with AWS's documented value or, where AWS does
// not document one, the assumption we made (see docs/simulator.md for sources).

/** A duration distribution in milliseconds. */
export type Distribution =
  | { readonly kind: 'constant'; readonly ms: number }
  | { readonly kind: 'uniform'; readonly minMs: number; readonly maxMs: number }
  | { readonly kind: 'lognormal'; readonly medianMs: number; readonly sigma: number };

/** How a function behaves when invoked (the code itself is never run). */
export interface FunctionBehaviour {
  /** Processing time of one message or of one batch. */
  readonly duration: Distribution;
  /** Whether `duration` is drawn once per message (and summed) or once per batch. */
  readonly per: 'message' | 'batch';
  /** Extra time when a new execution environment starts. */
  readonly coldStart: Distribution;
  /** Probability that a batch fails (its messages return after the visibility timeout). */
  readonly errorRate: number;
}

/**
 * How the event source mapping treats a throttled batch, for what AWS leaves open (docs/simulator.md):
 * - `documented`: the poller keeps the batch and retries it every `throttleBackoffMs` until its
 *   visibility timeout, then drops it; each throttle (and each function error) removes
 *   `esmThrottleShrink` from the mapping's concurrency; it grows only after a second without throttles.
 * - `retry-then-release`: retries the batch `esmThrottleRetries` times, then leaves it invisible until
 *   its visibility timeout and polls a new one; each batch given up removes `esmThrottleShrink`.
 * - `release`: the worst case: a throttled batch is left at once, the poller polls a new one after
 *   `throttleBackoffMs`, throttled pollers count as busy so the mapping keeps growing.
 */
export type EsmModel = 'documented' | 'retry-then-release' | 'release';

/** The mapping models, in order from the documented behaviour to the worst case. */
export const esmModels = [
  'documented',
  'retry-then-release',
  'release',
] as const satisfies readonly EsmModel[];

/** Account quotas and model parameters. */
export interface ModelParams {
  /** Account concurrency limit (AWS default 1,000). */
  readonly accountConcurrency: number;
  /** Concurrency that must stay unreserved (AWS: 100). */
  readonly unreservedMin: number;
  /** Shared control-plane bucket, requests/s (AWS: 15). */
  readonly controlPlaneRps: number;
  /** GetFunction's own bucket, requests/s (AWS: 100). */
  readonly getFunctionRps: number;
  /** New execution environments per function per 10 s (AWS: 1,000). */
  readonly functionScalingPer10s: number;
  /** Idle execution environments are reclaimed after this long (assumption: 5 min). */
  readonly environmentIdleMs: number;
  /** ESM: concurrent batches when it starts (AWS: 5). */
  readonly esmInitialConcurrency: number;
  /** ESM: added concurrency per minute while messages remain (AWS: 300). */
  readonly esmScaleUpPerMinute: number;
  /** ESM: removed concurrency per minute while idle (assumption: 300). */
  readonly esmScaleDownPerMinute: number;
  /** ESM: ceiling without MaximumConcurrency (AWS: 1,250). */
  readonly esmMaxConcurrency: number;
  /** ESM provisioned mode: concurrent invokes one event poller drives (AWS: up to 10). */
  readonly esmInvokesPerPoller: number;
  /** ESM provisioned mode: added concurrency per minute while messages remain (AWS: up to 1,000). */
  readonly esmProvisionedScaleUpPerMinute: number;
  /** ESM provisioned mode: ceiling whatever MaximumPollers says (AWS: up to 20,000). */
  readonly esmProvisionedMaxConcurrency: number;
  /** ESM: floor when idle (AWS: as few as 2). */
  readonly esmMinConcurrency: number;
  /** ESM: time of one ReceiveMessage round trip (assumption: 20 ms). */
  readonly receiveLatencyMs: number;
  /** ESM: how long a poller backs off after a throttled invoke (assumption: 1 s). */
  readonly throttleBackoffMs: number;
  /** ESM: what happens to throttled batches and to the mapping's concurrency (default `documented`). */
  readonly esmModel: EsmModel;
  /** ESM: concurrency removed per throttled batch (`documented`: at its first throttle; `retry-then-release`: when given up) or failed batch (assumption: 1). */
  readonly esmThrottleShrink: number;
  /** ESM `retry-then-release`: retries of a throttled batch before it is left (assumption: 2). */
  readonly esmThrottleRetries: number;
  /** Queue attributes report the state this long ago (assumption: 0; AWS: up to ~1 min). */
  readonly attributeLagMs: number;
  /** Relative noise on reported queue attributes (assumption: 0). */
  readonly attributeWobble: number;
  /** CloudWatch datapoints are published this long after their minute ends (AWS: 1–2 min). */
  readonly cloudWatchDelayMs: { readonly min: number; readonly max: number };
  /** A queue idle this long (nothing sent, visible, in flight or delayed) goes cold (AWS: 6 h). */
  readonly cloudWatchIdleMs: number;
  /** After a cold queue wakes, its first minutes are published this long after they end (AWS: up to 15 min). */
  readonly cloudWatchWakeDelayMs: number;
  /** Latency thresholds counted exactly per message for SLO checks. */
  readonly sloMs: readonly number[];
}

/** Defaults: AWS's documented values, assumptions where AWS documents none. */
export const defaultParams: ModelParams = {
  accountConcurrency: 1000,
  unreservedMin: 100,
  controlPlaneRps: 15,
  getFunctionRps: 100,
  functionScalingPer10s: 1000,
  environmentIdleMs: 300_000,
  esmInitialConcurrency: 5,
  esmScaleUpPerMinute: 300,
  esmScaleDownPerMinute: 300,
  esmMaxConcurrency: 1250,
  esmInvokesPerPoller: 10,
  esmProvisionedScaleUpPerMinute: 1000,
  esmProvisionedMaxConcurrency: 20_000,
  esmMinConcurrency: 2,
  receiveLatencyMs: 20,
  throttleBackoffMs: 1000,
  esmModel: 'documented',
  esmThrottleShrink: 1,
  esmThrottleRetries: 2,
  attributeLagMs: 0,
  attributeWobble: 0,
  cloudWatchDelayMs: { min: 60_000, max: 120_000 },
  cloudWatchIdleMs: 6 * 3_600_000,
  cloudWatchWakeDelayMs: 15 * 60_000,
  sloMs: [1000, 5000, 30_000, 60_000, 300_000],
};

/** Behaviour of a function the scenario does not describe. */
export const defaultBehaviour: FunctionBehaviour = {
  duration: { kind: 'constant', ms: 100 },
  per: 'batch',
  coldStart: { kind: 'lognormal', medianMs: 300, sigma: 0.4 },
  errorRate: 0,
};
