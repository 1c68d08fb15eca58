// TargetTracking in isolation (behavior windows off unless a case says otherwise), including the
// HPA documentation's algorithm examples: ratio 2 doubles, ratio 0.5 halves, ±10% holds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LambdaConcurrencyScalerSpec } from '../api/v1alpha1/index.ts';
import { decide } from './decide.ts';
import { once, queue, spec, T0 } from './fixtures.ts';
import { initialPolicyState } from './state.ts';
import { Limit, Reason } from './types.ts';

/** Target 10 messages per unit, bounds 1..100, scale-down stabilization off. */
function tracking(extra: Partial<LambdaConcurrencyScalerSpec> = {}): LambdaConcurrencyScalerSpec {
  return spec({
    awsLamndaMaxConcurrency: 100,
    policy: { type: 'TargetTracking', targetTracking: { targetBacklogPerConcurrency: 10 } },
    behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
    ...extra,
  });
}

interface Case {
  spec?: LambdaConcurrencyScalerSpec;
  visible: number;
  inFlight?: number;
  /** The event source mapping's batch size, when the operator read it. */
  batchSize?: number;
  current: number | null;
  desired: number | null;
  reason: Reason;
  limitedBy?: Limit[];
}

const cases = {
  'doubles when the backlog per unit is twice the target (HPA docs: 200m of 100m)': {
    visible: 200,
    current: 10,
    desired: 20,
    reason: Reason.TargetTracking,
  },
  'halves when the backlog per unit is half the target (HPA docs: 50m of 100m)': {
    visible: 50,
    current: 10,
    desired: 5,
    reason: Reason.TargetTracking,
  },
  'holds within the 10% default tolerance above the target': {
    visible: 109,
    current: 10,
    desired: null,
    reason: Reason.NoChange,
    limitedBy: [Limit.Tolerance],
  },
  'holds within the 10% default tolerance below the target': {
    visible: 91,
    current: 10,
    desired: null,
    reason: Reason.NoChange,
  },
  'moves just outside the tolerance': {
    visible: 111,
    current: 10,
    desired: 12,
    reason: Reason.TargetTracking,
  },
  'honours a tolerance of zero': {
    spec: tracking({
      policy: {
        type: 'TargetTracking',
        targetTracking: { targetBacklogPerConcurrency: 10, tolerancePercent: 0 },
      },
    }),
    visible: 101,
    current: 10,
    desired: 11,
    reason: Reason.TargetTracking,
  },
  'rounds the need up': {
    visible: 95,
    current: 5,
    desired: 10,
    reason: Reason.TargetTracking,
  },
  'counts in-flight messages with includeInFlight (KEDA scaleOnInFlight)': {
    spec: tracking({ metrics: { includeInFlight: true } }),
    visible: 100,
    inFlight: 100,
    current: 10,
    desired: 20,
    reason: Reason.TargetTracking,
  },
  'counts in-flight messages beyond reserved × batch size as waiting (throttled overpull)': {
    visible: 0,
    inFlight: 300,
    batchSize: 10,
    current: 10,
    desired: 20,
    reason: Reason.TargetTracking,
  },
  'does not count in-flight messages the reserved concurrency can be processing': {
    visible: 50,
    inFlight: 100,
    batchSize: 10,
    current: 10,
    desired: 5,
    reason: Reason.TargetTracking,
  },
  'counts no in-flight message without the batch size (nothing to compare with)': {
    visible: 0,
    inFlight: 300,
    current: 10,
    desired: 1,
    reason: Reason.TargetTracking,
    limitedBy: [Limit.Bounds],
  },
  'counts every in-flight message once with includeInFlight, batch size or not': {
    spec: tracking({ metrics: { includeInFlight: true } }),
    visible: 100,
    inFlight: 300,
    batchSize: 10,
    current: 20,
    desired: 40,
    reason: Reason.TargetTracking,
  },
  'goes to the minimum when the queue is empty': {
    visible: 0,
    current: 10,
    desired: 1,
    reason: Reason.TargetTracking,
    limitedBy: [Limit.Bounds],
  },
  'sizes from scratch when the function has no reserved concurrency': {
    visible: 30,
    current: null,
    desired: 3,
    reason: Reason.TargetTracking,
  },
  'grows at most 100% or 4 units per 15 s by default (HPA default scale-up)': {
    visible: 1000,
    current: 10,
    desired: 20,
    reason: Reason.TargetTracking,
    limitedBy: [Limit.RatePolicy],
  },
  'does not scale down on its first decision inside the default 300 s window (as the HPA after a start)': {
    spec: tracking({ behavior: {} }),
    visible: 0,
    current: 10,
    desired: null,
    reason: Reason.TargetTracking,
    limitedBy: [Limit.Stabilization],
  },
} satisfies Record<string, Case>;

describe('the TargetTracking policy', () => {
  for (const [name, c] of Object.entries(cases) as [string, Case][]) {
    it(name, () => {
      const { decision } = decide(
        {
          spec: c.spec ?? tracking(),
          metrics: queue(c.visible, undefined, c.inFlight ?? 0),
          currentConcurrency: c.current,
          ...(c.batchSize === undefined ? {} : { batchSize: c.batchSize }),
        },
        initialPolicyState(),
        T0,
      );
      assert.equal(decision.desired, c.desired);
      assert.equal(decision.reason, c.reason);
      assert.deepEqual(decision.limitedBy, c.limitedBy ?? []);
    });
  }

  it('reports the raw recommendation alongside the limited decision', () => {
    const { decision } = once(tracking(), queue(1000), 10);
    assert.equal(decision.recommendation, 100);
    assert.equal(decision.desired, 20);
  });
});
