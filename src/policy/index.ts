/**
 * The scaling engine: `decide(input, state, now)` turns one poll's queue metrics into the reserved
 * concurrency to set, with a reason and a message. Pure — no I/O, no clock, no randomness — so the
 * operator (real time), the benchmark and the what-if simulator (virtual time) share it.
 *
 * The chain: recommend (Step, TargetTracking or LatencySLO) → stabilize → rate-limit → cooldown →
 * clamp, with the HPA's behavior semantics. History travels in `PolicyState`, plain JSON.
 *
 * ## The overpull-aware backlog
 * The SQS event source mapping keeps adding pollers while messages are visible, whatever the
 * function's reserved concurrency; batches pulled beyond it are throttled and stay in flight
 * (invisible) until their visibility timeout ("overpull", AWS-FACTS.md). The visible count then
 * stays near 0 while the real backlog is in flight. With the mapping's `BatchSize` in
 * `input.batchSize` (the reconciler reads it with its 5-minute link check), the engine counts
 * overpulled = max(0, in flight − reserved × batchSize) as waiting: at most `reserved` batches
 * can be running. `metrics.includeOverpulled` (resolved, not in the CRD) is true for
 * TargetTracking and LatencySLO and false for Step, whose default stays the original's visible
 * count; `includeInFlight` still counts every in-flight message (a superset). Failure modes: it
 * under-counts while the function is not full (throttled batches hide in the unused part of
 * reserved × batchSize) and when batches run partly filled (with no batching window, light load
 * gives small batches, so reserved × batchSize over-states what is served); it counts nothing
 * without a reservation or a batch size; a mapping of another queue, or a second mapping, is
 * not seen; and a reserved concurrency raised just before the poll briefly hides overpull.
 *
 * ## The LatencySLO estimator
 * Between two polls the queue's outstanding messages Q = visible + in flight + delayed change by
 * arrivals minus completions: growth = λ − c·μ while the function is saturated (more messages wait
 * — visible or overpulled — than there are units, at both polls), where λ is the arrival rate, c the concurrency in effect
 * and μ what one unit processes per second. With λ steady, the slope of growth against c over
 * recent saturated intervals is −μ (a least-squares fit over at most 12 intervals of the last 15
 * minutes, used only once the concurrencies spread by at least one unit and 10%). Knowing μ, each
 * saturated interval gives λ = growth + c·μ. Little's law on the function gives the time a
 * message spends being served: at the last poll of a saturated spell, served in flight = c·μ ×
 * time in flight (anchors accumulate with weight 1/4). When the queue is calm (not saturated)
 * the function keeps up, so λ = served in flight / time in flight, capped at c·μ, smoothed with a
 * 60 s time constant (a bias in μ cancels here). Served in flight excludes overpulled messages.
 * The policy then asks for ⌈(λ + waiting / maxWaitSeconds) / (μ · targetUtilization)⌉, waiting
 * being visible + overpulled (+ delayed if included), and holds within its tolerance. Until μ is
 * known it probes: doubling while at least as many messages wait as there are units, halving
 * while fewer do (both still subject to behavior).
 *
 * How it can fail: λ that moves during the fit window biases μ (rising λ while scaling up makes μ
 * look smaller: over-provisioning); the event source mapping's ramp-up (+300 per minute) makes
 * large steps look less effective (same direction); throttled batches that go to the DLQ leave Q
 * and look like completions (μ too large); partly filled batches make μ smaller than a full-batch
 * μ and the time in flight longer (calm λ errs low by the fill ratio); a
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
export { initialPolicyState, restorePolicyState, withApplied } from './state.ts';
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
