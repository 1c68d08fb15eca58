// Turns a spec as the user wrote it into a fully defaulted configuration. Defaults live here, not
// in the CRD, so users' objects stay as written; the field descriptions state the same defaults.
import type { LambdaConcurrencyScalerSpec } from '../api/v1alpha1/index.ts';
import { Actuator, maxConcurrency } from '../api/v1alpha1/index.ts';

/** One rate policy: at most `value` units or percent of change per `periodSeconds`. */
export interface RatePolicy {
  type: 'Concurrency' | 'Percent';
  value: number;
  periodSeconds: number;
}

/** The HPA's HPAScalingRules, fully defaulted. An empty `policies` list means no rate limit. */
export interface ScalingRules {
  stabilizationWindowSeconds: number;
  selectPolicy: 'Max' | 'Min' | 'Disabled';
  policies: RatePolicy[];
}

export interface StepConfig {
  type: 'Step';
  /** Scale up when the backlog is above this. */
  threshold: number;
  /** Scale down when the backlog is at or below this (≤ threshold). */
  scaleDownThreshold: number;
  step: number;
}

export interface TargetTrackingConfig {
  type: 'TargetTracking';
  targetBacklogPerConcurrency: number;
  /** Fraction, e.g. 0.1. */
  tolerance: number;
}

export interface LatencySLOConfig {
  type: 'LatencySLO';
  maxWaitSeconds: number;
  /** Fraction, e.g. 0.8. */
  targetUtilization: number;
  /** Fraction, e.g. 0.1. */
  tolerance: number;
  /** Where the service time comes from (see latency-slo.ts): the queue's counts, or CloudWatch Duration. */
  serviceTimeSource: 'QueueCounts' | 'CloudWatch';
}

export type PolicyTypeConfig = StepConfig | TargetTrackingConfig | LatencySLOConfig;

export interface MetricsConfig {
  /** Every in-flight message counts (KEDA's scaleOnInFlight); a superset of `includeOverpulled`. */
  includeInFlight: boolean;
  includeDelayed: boolean;
  /**
   * In-flight messages beyond what the reserved concurrency can be processing (reserved × the
   * mapping's batch size) count as waiting: the event source mapping pulled them and Lambda
   * throttled them ("overpull"). Needs `input.batchSize`. Not in the CRD: true for TargetTracking
   * and LatencySLO, false for Step (the original read the visible count only).
   */
  includeOverpulled: boolean;
  source: 'QueueAttributes' | 'CloudWatch';
  /**
   * How CloudWatch datapoints combine. `Sum` reproduces the original operator's bug (it summed five
   * 1-minute averages); it is not in the CRD and exists for the benchmark's faithful "original".
   */
  cloudWatchStatistic: 'Average' | 'Sum';
  /** How far back CloudWatch datapoints count, seconds. The original used 300. */
  cloudWatchWindowSeconds: number;
}

/** Everything decide() needs from the spec, with every default applied. */
export interface PolicyConfig {
  minConcurrency: number;
  maxConcurrency: number;
  pollingIntervalSeconds: number;
  policy: PolicyTypeConfig;
  behavior: {
    scaleUp: ScalingRules;
    scaleDown: ScalingRules;
    cooldownSeconds: number;
    /** Seconds of empty queue before going to the minimum; null = never. */
    idleSeconds: number | null;
    /**
     * A recommendation of at most `fraction` of the current concurrency, held `windowSeconds`,
     * skips the rest of the scale-down window; null = never (see LARGE_DROP_FRACTION).
     */
    largeDrop: { fraction: number; windowSeconds: number } | null;
    /**
     * A measured scale-up: LatencySLO with `serviceTimeSource: CloudWatch` and the default scale-up
     * rules. When a full batch waits for every unit it goes to the need at once, past the scale-up
     * rate policies. The HPA's 100 % per 15 s guards a recommendation guessed from a utilization
     * ratio; this one is computed from the function's measured Duration and a backlog that proves
     * every unit busy, so doubling per poll only delays the need by several polls. Ten scalers each
     * taking 4 → 150 units in five polls let 15,000 messages pile up behind each (bench: ten
     * overlapping peaks, 90 % of the messages over the SLO; 44 % with this). The scale-down window
     * does not remember such a step (decide.ts, `remembered`), so the units that drained a burst's
     * backlog go with it. Scale-up rules the user wrote are kept as written. False = never.
     */
    measuredScaleUp: boolean;
  };
  metrics: MetricsConfig;
  fallback: {
    failureThreshold: number;
    /** The concurrency to set after failureThreshold failures; null = hold. */
    concurrency: number | null;
  };
  /** spec.replicas: the concurrency an external decision pins (kubectl scale, HPA, KEDA); null = the policy decides. */
  pinned: number | null;
}

/** Settings that are not in the CRD: for the benchmark and the what-if simulator. */
export interface ConfigOverrides {
  cloudWatchStatistic?: 'Average' | 'Sum';
  includeOverpulled?: boolean;
  cloudWatchWindowSeconds?: number;
}

export const DEFAULT_POLLING_INTERVAL_SECONDS = 30;
export const DEFAULT_TOLERANCE_PERCENT = 10;
export const DEFAULT_TARGET_UTILIZATION_PERCENT = 80;
export const DEFAULT_FAILURE_THRESHOLD = 3;
export const DEFAULT_SCALE_DOWN_STABILIZATION_SECONDS = 300;
/**
 * A large drop with the mapping capped: when lowering the concurrency cannot throttle the mapping
 * (the operator keeps the event source mapping's MaximumConcurrency at the reservation and lowers
 * it first, eventSourceMapping.manageMaximumConcurrency, or writes a mapping lever with no
 * reservation, spec.actuator), a recommendation of at most LARGE_DROP_FRACTION of the current
 * concurrency, held for LARGE_DROP_WINDOW_SECONDS, scales down without the rest of the 300 s window.
 *
 * The HPA's 300 s guards against two things here: noise, and a reservation lowered below what the
 * mapping's pollers already run, whose throttled batches go back to the queue and towards the DLQ
 * (AWS-FACTS.md). The cap removes the second. Noise at constant load moves the need by a fraction,
 * not by half: a plain 120 s (or 180 s) window made generated constant-load cases flap at loads of
 * a few units (test/policies/regressions.test.ts), this rule made none flap that 300 s did not (130
 * generated cases), and it lets the units of a burst go a minute after it (issue 15;
 * bench/REPORT.md, "What moved").
 */
export const LARGE_DROP_FRACTION = 0.5;
export const LARGE_DROP_WINDOW_SECONDS = 60;
/**
 * A drop of fewer units is never large (2 → 1 is half): at loads of one or two units the need
 * swings across an integer with the noise, and 2 → 1 a minute after it showed saturated the one
 * unit and came back (10 actions in 1.5 h in a generated constant load, issue 15).
 */
export const LARGE_DROP_MIN_UNITS = 2;

/** The HPA's default scale-up rules, with Concurrency in place of Pods. */
const HPA_SCALE_UP: ScalingRules = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Percent', value: 100, periodSeconds: 15 },
    { type: 'Concurrency', value: 4, periodSeconds: 15 },
  ],
};

/** The HPA's default scale-down rules. */
const HPA_SCALE_DOWN: ScalingRules = {
  stabilizationWindowSeconds: DEFAULT_SCALE_DOWN_STABILIZATION_SECONDS,
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
};

/** Step moves one step per decision already: no window, no rate policy, unless the user asks. */
const STEP_RULES: ScalingRules = { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [] };

type SpecRules = NonNullable<NonNullable<LambdaConcurrencyScalerSpec['behavior']>['scaleUp']>;

function scalingRules(given: SpecRules | undefined, defaults: ScalingRules): ScalingRules {
  return {
    stabilizationWindowSeconds: given?.stabilizationWindowSeconds ?? defaults.stabilizationWindowSeconds,
    selectPolicy: given?.selectPolicy ?? defaults.selectPolicy,
    policies: (given?.policies ?? defaults.policies).map((p) => ({ ...p })),
  };
}

function policyConfig(spec: LambdaConcurrencyScalerSpec): PolicyTypeConfig {
  const p = spec.policy;
  const fraction = (percent: number | undefined, otherwise: number) => (percent ?? otherwise) / 100;
  if (p?.type === 'TargetTracking' && p.targetTracking !== undefined) {
    return {
      type: 'TargetTracking',
      targetBacklogPerConcurrency: p.targetTracking.targetBacklogPerConcurrency,
      tolerance: fraction(p.targetTracking.tolerancePercent, DEFAULT_TOLERANCE_PERCENT),
    };
  }
  if (p?.type === 'LatencySLO' && p.latencySLO !== undefined) {
    return {
      type: 'LatencySLO',
      maxWaitSeconds: p.latencySLO.maxWaitSeconds,
      targetUtilization: fraction(p.latencySLO.targetUtilizationPercent, DEFAULT_TARGET_UTILIZATION_PERCENT),
      tolerance: fraction(p.latencySLO.tolerancePercent, DEFAULT_TOLERANCE_PERCENT),
      serviceTimeSource: p.latencySLO.serviceTimeSource ?? 'QueueCounts',
    };
  }
  // Step, also for a spec the CRD would have rejected (a type without its parameters).
  const threshold = spec.awsSQSMsgCountThreshold;
  return {
    type: 'Step',
    threshold,
    scaleDownThreshold: Math.min(threshold, p?.step?.scaleDownThreshold ?? threshold),
    step: spec.awsLambdaStepConcurrency,
  };
}

/**
 * The spec with every default applied. With none of the policy fields set this is the original
 * operator's step policy, decided every 30 seconds on the visible backlog from GetQueueAttributes.
 */
export function resolvePolicyConfig(
  spec: LambdaConcurrencyScalerSpec,
  overrides: ConfigOverrides = {},
): PolicyConfig {
  const policy = policyConfig(spec);
  const step = policy.type === 'Step';
  const capped =
    spec.eventSourceMapping?.manageMaximumConcurrency === true ||
    (spec.actuator !== undefined && spec.actuator !== Actuator.ReservedConcurrency);
  const min = spec.awsLambdaMinConcurrency;
  const max = Math.max(min, maxConcurrency(spec));
  return {
    minConcurrency: min,
    maxConcurrency: max,
    pollingIntervalSeconds: spec.pollingIntervalSeconds ?? DEFAULT_POLLING_INTERVAL_SECONDS,
    policy,
    behavior: {
      scaleUp: scalingRules(spec.behavior?.scaleUp, step ? STEP_RULES : HPA_SCALE_UP),
      scaleDown: scalingRules(spec.behavior?.scaleDown, step ? STEP_RULES : HPA_SCALE_DOWN),
      cooldownSeconds: spec.behavior?.cooldownSeconds ?? 0,
      idleSeconds: spec.behavior?.idleSeconds ?? null,
      // Only with the default window: a window the user chose is kept as chosen.
      largeDrop:
        capped && !step && spec.behavior?.scaleDown?.stabilizationWindowSeconds === undefined
          ? { fraction: LARGE_DROP_FRACTION, windowSeconds: LARGE_DROP_WINDOW_SECONDS }
          : null,
      measuredScaleUp:
        policy.type === 'LatencySLO' &&
        policy.serviceTimeSource === 'CloudWatch' &&
        spec.behavior?.scaleUp?.policies === undefined &&
        spec.behavior?.scaleUp?.selectPolicy === undefined,
    },
    metrics: {
      includeInFlight: spec.metrics?.includeInFlight ?? false,
      includeDelayed: spec.metrics?.includeDelayed ?? false,
      includeOverpulled: overrides.includeOverpulled ?? !step,
      source: spec.metrics?.source ?? 'QueueAttributes',
      cloudWatchStatistic: overrides.cloudWatchStatistic ?? 'Average',
      cloudWatchWindowSeconds: overrides.cloudWatchWindowSeconds ?? 300,
    },
    fallback: {
      failureThreshold: spec.fallback?.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD,
      concurrency: spec.fallback?.concurrency ?? null,
    },
    pinned: spec.replicas ?? null,
  };
}

/**
 * The original operator, faithfully: the step policy every 5 minutes on the SUM of the last five
 * 1-minute CloudWatch datapoints of the visible count (a bug: it meant the average). For the
 * benchmark's baseline; not something a user can ask for through the CRD.
 */
export function originalOperatorConfig(spec: LambdaConcurrencyScalerSpec): PolicyConfig {
  const config = resolvePolicyConfig(spec, { cloudWatchStatistic: 'Sum', cloudWatchWindowSeconds: 300 });
  return {
    ...config,
    pollingIntervalSeconds: 300,
    metrics: {
      ...config.metrics,
      source: 'CloudWatch',
      includeInFlight: false,
      includeDelayed: false,
      includeOverpulled: false,
    },
  };
}
