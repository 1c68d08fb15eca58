// The first link of the chain: what each simple policy asks for, given the backlog and the current
// concurrency, before behavior and bounds. LatencySLO, which keeps estimates, is in latency-slo.ts.
import type { StepConfig, TargetTrackingConfig } from './config.ts';
import { Limit, Reason } from './types.ts';

/** A policy's recommendation, with its reason and a sentence for humans. */
export interface Recommendation {
  recommendation: number;
  reason: Reason;
  message: string;
  limit: Limit | null;
}

/** Rounds for messages: integers stay integers, others get one decimal. */
export function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/**
 * The original operator's policy: above the threshold one step up, at or below the scale-down
 * threshold one step down, in between hold. `base` is the current concurrency (min when unset).
 */
export function recommendStep(backlog: number, base: number, config: StepConfig): Recommendation {
  const { threshold, scaleDownThreshold, step } = config;
  if (backlog > threshold) {
    return {
      recommendation: base + step,
      reason: Reason.BacklogAboveThreshold,
      message: `backlog ${fmt(backlog)} is above the threshold ${threshold}: one step of ${step} up from ${base}`,
      limit: null,
    };
  }
  if (backlog <= scaleDownThreshold) {
    return {
      recommendation: base - step,
      reason: Reason.BacklogBelowThreshold,
      message: `backlog ${fmt(backlog)} is at or below ${scaleDownThreshold}: one step of ${step} down from ${base}`,
      limit: null,
    };
  }
  return {
    recommendation: base,
    reason: Reason.BacklogWithinHysteresis,
    message: `backlog ${fmt(backlog)} is between the scale-down threshold ${scaleDownThreshold} and the threshold ${threshold}: holding ${base}`,
    limit: null,
  };
}

/**
 * Target tracking, as the HPA with an AverageValue target: ceil(backlog / target), unless the
 * backlog per unit of the current concurrency is within the tolerance of the target.
 */
export function recommendTargetTracking(
  backlog: number,
  current: number | null,
  config: TargetTrackingConfig,
): Recommendation {
  const target = config.targetBacklogPerConcurrency;
  const wanted = Math.ceil(backlog / target);
  const base = `backlog ${fmt(backlog)} at a target of ${target} per unit of concurrency needs ${wanted}`;
  if (current !== null && current > 0) {
    const ratio = backlog / (current * target);
    if (Math.abs(ratio - 1) <= config.tolerance) {
      return {
        recommendation: current,
        reason: Reason.NoChange,
        message: `${base}; ${fmt(backlog / current)} per unit on ${current} is within ${fmt(config.tolerance * 100)}% of the target: holding ${current}`,
        limit: wanted === current ? null : Limit.Tolerance,
      };
    }
  }
  return { recommendation: wanted, reason: Reason.TargetTracking, message: base, limit: null };
}
