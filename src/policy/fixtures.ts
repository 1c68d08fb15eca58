// Builders shared by the policy tests: a valid spec, queue metrics and a loop that drives decide()
// poll after poll the way the controller does, applying each decision.
import type { LambdaConcurrencyScalerSpec } from '../api/v1alpha1/index.ts';
import { decide } from './decide.ts';
import { initialPolicyState } from './state.ts';
import type { Decision, DecisionInput, PolicyState, QueueMetrics } from './types.ts';

/** A spec like the original README's sample: threshold 100, min 1, max 50, step 5. */
export function spec(extra: Partial<LambdaConcurrencyScalerSpec> = {}): LambdaConcurrencyScalerSpec {
  return {
    awsSQSName: 'orders',
    awsSQSMsgCountThreshold: 100,
    awsLambdaName: 'order-worker',
    awsLambdaMinConcurrency: 1,
    awsLamndaMaxConcurrency: 50,
    awsLambdaStepConcurrency: 5,
    ...extra,
  };
}

export const T0 = Date.UTC(2026, 0, 1);

export function queue(visible: number, at = T0, inFlight = 0, delayed = 0): QueueMetrics {
  return { visible, inFlight, delayed, observedAt: at };
}

/** One decision from a fresh state, or from `state`. */
export function once(
  s: LambdaConcurrencyScalerSpec,
  metrics: DecisionInput['metrics'],
  current: number | null,
  state: PolicyState = initialPolicyState(),
  now = T0,
) {
  return decide({ spec: s, metrics, currentConcurrency: current }, state, now);
}

/** Drives decide() at `times` (ms), applying every decision; returns the concurrency after each. */
export function drive(
  s: LambdaConcurrencyScalerSpec,
  start: number | null,
  polls: readonly { at: number; metrics: DecisionInput['metrics'] }[],
): { concurrency: (number | null)[]; decisions: Decision[]; state: PolicyState } {
  let state = initialPolicyState();
  let current = start;
  const concurrency: (number | null)[] = [];
  const decisions: Decision[] = [];
  for (const { at, metrics } of polls) {
    const { decision, nextState } = decide({ spec: s, metrics, currentConcurrency: current }, state, at);
    state = nextState;
    if (decision.desired !== null) current = decision.desired;
    concurrency.push(current);
    decisions.push(decision);
  }
  return { concurrency, decisions, state };
}
