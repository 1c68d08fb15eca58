// The vocabulary of the scaling engine: what decide() reads, what it returns, and the history it
// carries between calls. Everything here is plain data so it can cross process restarts as JSON.
import type { LambdaConcurrencyScalerSpec } from '../api/v1alpha1/index.ts';
import type { PolicyConfig } from './config.ts';

/** Why the engine recommends what it does: a closed set, safe to alert on and to put in conditions. */
export const Reason = {
  /** Step: the backlog is above awsSQSMsgCountThreshold, so one step up. */
  BacklogAboveThreshold: 'BacklogAboveThreshold',
  /** Step: the backlog is at or below the scale-down threshold, so one step down. */
  BacklogBelowThreshold: 'BacklogBelowThreshold',
  /** Step: the backlog is between the scale-down threshold and the threshold, so hold. */
  BacklogWithinHysteresis: 'BacklogWithinHysteresis',
  /** TargetTracking: concurrency proportional to the backlog. */
  TargetTracking: 'TargetTracking',
  /** LatencySLO: concurrency sized from the estimated arrival rate and throughput. */
  LatencySLO: 'LatencySLO',
  /** LatencySLO without a throughput estimate yet: probing upwards while messages wait. */
  LatencySLOLearning: 'LatencySLOLearning',
  /** The queue has been empty for the idle period: straight to the minimum. */
  QueueIdle: 'QueueIdle',
  /** Metrics failed too many times in a row: the fallback concurrency applies. */
  MetricsUnavailableFallback: 'MetricsUnavailableFallback',
  /** Metrics failed: the concurrency holds where it is. */
  MetricsUnavailableHold: 'MetricsUnavailableHold',
  /** The policy finds the current concurrency right (within its tolerance). */
  NoChange: 'NoChange',
  /** spec.replicas (the /scale subresource: kubectl scale, HPA, KEDA) pins the concurrency. */
  Pinned: 'Pinned',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

/** What held the decision back from the policy's recommendation. */
export const Limit = {
  /** awsLambdaMinConcurrency or the maximum. */
  Bounds: 'Bounds',
  /** A behavior.scaleUp/scaleDown rate policy. */
  RatePolicy: 'RatePolicy',
  /** A stabilization window. */
  Stabilization: 'Stabilization',
  /** The policy's tolerance. */
  Tolerance: 'Tolerance',
  /** behavior.cooldownSeconds after the last change. */
  Cooldown: 'Cooldown',
  /** behavior.scaleUp.selectPolicy is Disabled. */
  ScaleUpDisabled: 'ScaleUpDisabled',
  /** behavior.scaleDown.selectPolicy is Disabled. */
  ScaleDownDisabled: 'ScaleDownDisabled',
} as const;
export type Limit = (typeof Limit)[keyof typeof Limit];

/** One CloudWatch datapoint (ApproximateNumberOfMessagesVisible, 1-minute period). */
export interface Datapoint {
  /** Start of the datapoint's period, epoch milliseconds. */
  timestamp: number;
  value: number;
}

/** The queue as observed at one poll. */
export interface QueueMetrics {
  /** ApproximateNumberOfMessages: waiting to be received. */
  visible: number;
  /** ApproximateNumberOfMessagesNotVisible: received, not yet deleted. */
  inFlight: number;
  /** ApproximateNumberOfMessagesDelayed: not yet visible. */
  delayed: number;
  /** When the numbers were read, epoch milliseconds. */
  observedAt: number;
  /** CloudWatch datapoints of the visible count, for `metrics.source: CloudWatch`. */
  datapoints?: readonly Datapoint[];
}

/** A poll at which the metrics could not be read. */
export interface MetricsError {
  error: string;
}

/** Everything decide() needs to know about the world at one poll. */
export interface DecisionInput {
  /** The scaler's spec. */
  spec: LambdaConcurrencyScalerSpec;
  /** A resolved configuration to use instead of `resolvePolicyConfig(spec)` (benchmark, what-if). */
  config?: PolicyConfig;
  /** This poll's queue metrics, or why they could not be read. */
  metrics: QueueMetrics | MetricsError;
  /** The function's reserved concurrency as observed now; null when it has none. */
  currentConcurrency: number | null;
  /** The value the operator last wrote, if any (only used to notice out-of-band changes). */
  lastApplied?: number | null;
  /**
   * The event source mapping's BatchSize (from ListEventSourceMappings), if known. With it the
   * engine can tell in-flight messages the reserved concurrency can be processing (at most
   * reserved × batchSize) from overpulled, throttled ones that are in fact waiting (metrics.ts).
   */
  batchSize?: number;
  /**
   * How long the function holds a batch, seconds: its mean Duration as CloudWatch published it
   * (LatencySLO serviceTimeSource: CloudWatch). With the batch size, LatencySLO takes what one unit
   * processes from it instead of estimating it from the queue's counts.
   */
  serviceTimeSeconds?: number;
  /**
   * Another scaler of the same account wants reserved concurrency the account cannot give (the
   * controller's headroom ledger). A scale-down then skips the stabilization window: the units
   * this scaler no longer needs go to the one that waits for them now, not five minutes later.
   */
  contended?: boolean;
}

/** The outcome of one decision: what to set, and why, in words for conditions and events. */
export interface Decision {
  /** The concurrency to set, or null to leave it as it is. */
  desired: number | null;
  /** What the policy alone asked for, before behavior and bounds. */
  recommendation: number;
  reason: Reason;
  /** One human sentence for the status condition and events. */
  message: string;
  /** What held the decision back from the recommendation, in the order it applied. */
  limitedBy: Limit[];
}

/** [epoch ms of the newest sample, lowest recommendation, highest recommendation]. */
export type RecommendationSample = [t: number, lo: number, hi: number];
/** [epoch ms, concurrency added, concurrency removed] (a merged entry may carry both). */
export type ScaleEvent = [t: number, added: number, removed: number];

/** What the LatencySLO estimator remembers between polls (see latency-slo.ts for the method). */
export interface LatencyEstimates {
  /** Last observation: [epoch ms, visible, inFlight, delayed, concurrency decided then]. */
  last: [t: number, visible: number, inFlight: number, delayed: number, concurrency: number] | null;
  /**
   * The concurrency observed at the last poll (`last[4]` is the one decided then). When a write is
   * refused or capped (the account's headroom) the two differ, and the observed one stayed in
   * effect: an interval whose observed concurrency did not change is usable all the same.
   */
  observed?: number | null;
  /** Recent saturated intervals: [epoch ms, concurrency, net growth of the queue in messages/s]. */
  samples: [t: number, concurrency: number, growth: number][];
  /** Messages per second one unit of concurrency processes, once learned. */
  throughputPerUnit: number | null;
  /** Smoothed arrival rate, messages per second, once known. */
  arrivalRate: number | null;
  /**
   * Seconds a message spends in flight, from Little's law (in flight = arrival rate x this) at a
   * calm moment; null until the queue has been calm since the last saturated interval.
   */
  inFlightSeconds: number | null;
  /** Consecutive calm (not saturated) intervals. */
  calmPolls: number;
  /**
   * The end of the last saturated spell: [epoch ms, concurrency, served in-flight messages], and
   * whether the time in flight has been anchored on it yet. The anchor is taken at the first usable
   * calm interval after the spell, however many intervals were skipped in between (a refused or
   * capped write at the end of a busy spell used to skip the only chance, freezing the estimate).
   */
  spell?: [t: number, concurrency: number, served: number] | null;
  anchored?: boolean;
  /** Mean relative deviation of calm arrival samples from the estimate (the counts' noise). */
  noise?: number | null;
  /**
   * Where the learning probe last found the units saturated with less than a full batch waiting
   * per unit (the edge of the load): [epoch ms, concurrency, served in-flight messages then].
   */
  edge?: [t: number, concurrency: number, served: number] | null;
}

/**
 * The engine's history, passed into decide() and returned from it. Plain JSON, bounded in size,
 * so the controller keeps it in `status.policyState` and a restart loses nothing.
 */
export interface PolicyState {
  version: 1;
  /** Raw recommendations within the longest stabilization window, oldest first. */
  recommendations: RecommendationSample[];
  /** Changes the engine decided within the longest rate-policy period, oldest first. */
  scaleEvents: ScaleEvent[];
  /** When the engine last decided a change, epoch ms. */
  lastScaleTime: number | null;
  /** Consecutive polls without metrics. */
  metricFailures: number;
  /** Since when the queue has been observed empty, epoch ms. */
  idleSince: number | null;
  /** LatencySLO estimator memory; null for the other policies. */
  latency: LatencyEstimates | null;
}

/** What decide() returns. */
export interface DecideResult {
  decision: Decision;
  nextState: PolicyState;
}
