/**
 * The scaling engine: `decide(input, state, now)` turns one poll's queue metrics into the reserved
 * concurrency to set, with a reason and a message. Pure — no I/O, no clock, no randomness — so the
 * operator (real time), the benchmark and the what-if simulator (virtual time) share it.
 *
 * The chain: recommend (Step, TargetTracking or LatencySLO) → stabilize → rate-limit → cooldown →
 * clamp, with the HPA's behavior semantics. History travels in `PolicyState`, plain JSON.
 *
 * ## The LatencySLO estimator
 * Between two polls the queue's outstanding messages Q = visible + in flight + delayed change by
 * arrivals minus completions: growth = λ − c·μ while the function is saturated (more messages wait
 * than there are units, at both polls), where λ is the arrival rate, c the concurrency in effect
 * and μ what one unit processes per second. With λ steady, the slope of growth against c over
 * recent saturated intervals is −μ (a least-squares fit over at most 12 intervals of the last 15
 * minutes, used only once the concurrencies spread by at least one unit and 10%). Knowing μ, each
 * saturated interval gives λ = growth + c·μ. When the queue is calm (not saturated), Little's law
 * carries λ forward: in flight = λ × time in flight, so λ follows the in-flight count, with the
 * time in flight anchored after two calm polls and λ capped at c·μ (it kept up). λ is smoothed
 * with a 60 s time constant. The policy then asks for ⌈(λ + waiting / maxWaitSeconds) / (μ ·
 * targetUtilization)⌉ and holds within its tolerance. Until μ is known it probes: doubling while
 * messages wait, halving while none do (both still subject to behavior).
 *
 * How it can fail: λ that moves during the fit window biases μ (rising λ while scaling up makes μ
 * look smaller: over-provisioning); the event source mapping's ramp-up (+300 per minute) makes
 * large steps look less effective (same direction); throttled, over-pulled messages inflate the
 * in-flight count right after a backlog (the anchor waits two calm polls for that reason); a
 * function that never builds a backlog never reveals μ, and only the probe-down or idleSeconds
 * bring it down. Noise guards: the saturation test, the smoothing, the tolerance and the 300 s
 * scale-down stabilization; steady load does not oscillate (see latency-slo.test.ts).
 *
 * @module
 */
export {
  type ConfigOverrides,
  type LatencySLOConfig,
  originalOperatorConfig,
  type PolicyConfig,
  type PolicyTypeConfig,
  type RatePolicy,
  resolvePolicyConfig,
  type ScalingRules,
  type StepConfig,
  type TargetTrackingConfig,
} from './config.ts';
export { decide } from './decide.ts';
export { cloudWatchVisible } from './metrics.ts';
export { initialPolicyState, restorePolicyState } from './state.ts';
/** The decision reasons under a name that does not clash with the API's condition `Reason`. */
export {
  type Datapoint,
  type DecideResult,
  type Decision,
  type DecisionInput,
  type LatencyEstimates,
  Limit,
  type MetricsError,
  type PolicyState,
  type QueueMetrics,
  Reason,
  Reason as DecisionReason,
  type RecommendationSample,
  type ScaleEvent,
} from './types.ts';
