// The HPA's scaling behavior, re-implemented over explicit history instead of controller memory:
// stabilization windows (pkg/controller/podautoscaler stabilizeRecommendationWithBehaviors) and
// rate policies (calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors).
import type { ScalingRules } from './config.ts';
import { Limit, type RecommendationSample, type ScaleEvent } from './types.ts';

/** Most recommendation samples kept; beyond it the oldest merge (conservatively). */
export const MAX_RECOMMENDATION_SAMPLES = 60;
/** Most scale events kept; beyond it the oldest two merge (conservatively). */
export const MAX_SCALE_EVENTS = 40;

const seconds = (s: number) => s * 1000;

/** A value held back (or not) by one step of the chain. */
export interface Limited {
  value: number;
  limit: Limit | null;
}

/**
 * Stabilization, as the HPA: scale up no further than the lowest recommendation of the up window,
 * down no further than the highest of the down window. Samples strictly newer than the cutoff count.
 */
export function stabilize(
  recommendation: number,
  current: number,
  samples: readonly RecommendationSample[],
  up: ScalingRules,
  down: ScalingRules,
  now: number,
): Limited {
  const upCutoff = now - seconds(up.stabilizationWindowSeconds);
  const downCutoff = now - seconds(down.stabilizationWindowSeconds);
  let upBound = recommendation;
  let downBound = recommendation;
  for (const [t, lo, hi] of samples) {
    if (t > now) continue; // from a clock that has since gone back: not evidence about now
    if (t > upCutoff) upBound = Math.min(upBound, lo);
    if (t > downCutoff) downBound = Math.max(downBound, hi);
  }
  let value = current;
  if (value < upBound) value = upBound;
  if (value > downBound) value = downBound;
  return { value, limit: value === recommendation ? null : Limit.Stabilization };
}

/** Adds a recommendation to the history, prunes what no window can see, and bounds the size. */
export function recordRecommendation(
  samples: readonly RecommendationSample[],
  recommendation: number,
  now: number,
  longestWindowSeconds: number,
): RecommendationSample[] {
  const cutoff = now - seconds(longestWindowSeconds);
  const kept = samples.filter(([t]) => t > cutoff && t <= now).map((s): RecommendationSample => [...s]);
  const last = kept.at(-1);
  // A run of equal recommendations is visible exactly as long as its newest sample: keep that one.
  if (last !== undefined && last[1] === recommendation && last[2] === recommendation) last[0] = now;
  else kept.push([now, recommendation, recommendation]);
  while (kept.length > MAX_RECOMMENDATION_SAMPLES) {
    const [a, b] = kept as [RecommendationSample, RecommendationSample];
    kept.splice(0, 2, [b[0], Math.min(a[1], b[1]), Math.max(a[2], b[2])]);
  }
  return kept;
}

/** Concurrency at the start of the period: now, less what was added in it, plus what was removed. */
function periodStart(current: number, events: readonly ScaleEvent[], periodSeconds: number, now: number) {
  const cutoff = now - seconds(periodSeconds);
  let start = current;
  for (const [t, added, removed] of events) if (t > cutoff && t <= now) start += removed - added;
  return start;
}

/** The HPA's scale-up limit: the most concurrency the rate policies allow now. */
export function scaleUpLimit(
  current: number,
  events: readonly ScaleEvent[],
  rules: ScalingRules,
  now: number,
) {
  if (rules.selectPolicy === 'Disabled') return current;
  if (rules.policies.length === 0) return Number.POSITIVE_INFINITY;
  const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max;
  let result = rules.selectPolicy === 'Min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  for (const p of rules.policies) {
    const start = periodStart(current, events, p.periodSeconds, now);
    // Rounded up, as the HPA, so a small concurrency can still grow.
    const proposed = p.type === 'Concurrency' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

/** The HPA's scale-down limit: the least concurrency the rate policies allow now. */
export function scaleDownLimit(
  current: number,
  events: readonly ScaleEvent[],
  rules: ScalingRules,
  now: number,
) {
  if (rules.selectPolicy === 'Disabled') return current;
  if (rules.policies.length === 0) return Number.NEGATIVE_INFINITY;
  const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min;
  let result = rules.selectPolicy === 'Min' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  for (const p of rules.policies) {
    const start = periodStart(current, events, p.periodSeconds, now);
    // Truncated, as the HPA's int32 conversion.
    const proposed = p.type === 'Concurrency' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

/** Rate limiting, as the HPA: never past the limit, and never backwards past the current value. */
export function rateLimit(
  desired: number,
  current: number,
  events: readonly ScaleEvent[],
  up: ScalingRules,
  down: ScalingRules,
  now: number,
): Limited {
  if (desired > current) {
    if (up.selectPolicy === 'Disabled') return { value: current, limit: Limit.ScaleUpDisabled };
    const limit = Math.max(current, scaleUpLimit(current, events, up, now));
    return desired > limit ? { value: limit, limit: Limit.RatePolicy } : { value: desired, limit: null };
  }
  if (desired < current) {
    if (down.selectPolicy === 'Disabled') return { value: current, limit: Limit.ScaleDownDisabled };
    const limit = Math.min(current, scaleDownLimit(current, events, down, now));
    return desired < limit ? { value: limit, limit: Limit.RatePolicy } : { value: desired, limit: null };
  }
  return { value: desired, limit: null };
}

/** Adds a change to the event history, prunes what no rate policy can see, and bounds the size. */
export function recordScaleEvent(
  events: readonly ScaleEvent[],
  change: number,
  now: number,
  longestPeriodSeconds: number,
): ScaleEvent[] {
  const cutoff = now - seconds(longestPeriodSeconds);
  const kept = events.filter(([t]) => t > cutoff && t <= now).map((e): ScaleEvent => [...e]);
  if (change !== 0 && longestPeriodSeconds > 0) kept.push([now, Math.max(0, change), Math.max(0, -change)]);
  while (kept.length > MAX_SCALE_EVENTS) {
    // Merge the oldest two into the newer timestamp: they are counted a little longer, never less.
    const [a, b] = kept as [ScaleEvent, ScaleEvent];
    kept.splice(0, 2, [b[0], a[1] + b[1], a[2] + b[2]]);
  }
  return kept;
}

/** Brings a value within [min, max]. */
export function clamp(value: number, min: number, max: number): Limited {
  if (value < min) return { value: min, limit: Limit.Bounds };
  if (value > max) return { value: max, limit: Limit.Bounds };
  return { value, limit: null };
}
