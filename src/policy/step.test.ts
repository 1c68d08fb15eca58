// The Step policy is the original operator's: these cases pin its behaviour so the default can
// never drift from what existing users run, and cover the hysteresis it adds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LambdaConcurrencyScalerSpec } from '../api/v1alpha1/index.ts';
import { decide } from './decide.ts';
import { once, queue, spec, T0 } from './fixtures.ts';
import { initialPolicyState } from './state.ts';
import { Limit, Reason } from './types.ts';

interface Case {
  spec: LambdaConcurrencyScalerSpec;
  visible: number;
  current: number | null;
  desired: number | null;
  reason: Reason;
  limitedBy?: Limit[];
}

const hysteresis = spec({ policy: { step: { scaleDownThreshold: 40 } } });

const cases = {
  'adds one step when the backlog is above the threshold': {
    spec: spec(),
    visible: 101,
    current: 10,
    desired: 15,
    reason: Reason.BacklogAboveThreshold,
  },
  'removes one step when the backlog equals the threshold (the original compares with >)': {
    spec: spec(),
    visible: 100,
    current: 10,
    desired: 5,
    reason: Reason.BacklogBelowThreshold,
  },
  'removes one step when the queue is empty': {
    spec: spec(),
    visible: 0,
    current: 10,
    desired: 5,
    reason: Reason.BacklogBelowThreshold,
  },
  'never goes above the maximum': {
    spec: spec(),
    visible: 10_000,
    current: 48,
    desired: 50,
    reason: Reason.BacklogAboveThreshold,
    limitedBy: [Limit.Bounds],
  },
  'reports no change when already at the maximum': {
    spec: spec(),
    visible: 10_000,
    current: 50,
    desired: null,
    reason: Reason.BacklogAboveThreshold,
    limitedBy: [Limit.Bounds],
  },
  'never goes below the minimum': {
    spec: spec(),
    visible: 0,
    current: 3,
    desired: 1,
    reason: Reason.BacklogBelowThreshold,
    limitedBy: [Limit.Bounds],
  },
  'starts from the minimum when the function has no reserved concurrency': {
    spec: spec(),
    visible: 500,
    current: null,
    desired: 6,
    reason: Reason.BacklogAboveThreshold,
  },
  'sets the minimum when the function has no reserved concurrency and the queue is quiet': {
    spec: spec(),
    visible: 0,
    current: null,
    desired: 1,
    reason: Reason.BacklogBelowThreshold,
    limitedBy: [Limit.Bounds],
  },
  'brings a concurrency above a lowered maximum back within bounds': {
    spec: spec(),
    visible: 5_000,
    current: 80,
    desired: 50,
    reason: Reason.BacklogAboveThreshold,
    limitedBy: [Limit.Bounds],
  },
  'holds inside the hysteresis band': {
    spec: hysteresis,
    visible: 70,
    current: 10,
    desired: null,
    reason: Reason.BacklogWithinHysteresis,
  },
  'steps down at the scale-down threshold': {
    spec: hysteresis,
    visible: 40,
    current: 10,
    desired: 5,
    reason: Reason.BacklogBelowThreshold,
  },
  'still steps up above the threshold with hysteresis': {
    spec: hysteresis,
    visible: 101,
    current: 10,
    desired: 15,
    reason: Reason.BacklogAboveThreshold,
  },
  'scales down to a minimum of zero when asked to (the function then stops)': {
    spec: spec({ awsLambdaMinConcurrency: 0 }),
    visible: 0,
    current: 5,
    desired: 0,
    reason: Reason.BacklogBelowThreshold,
  },
} satisfies Record<string, Case>;

describe('the Step policy', () => {
  for (const [name, c] of Object.entries(cases) as [string, Case][]) {
    it(name, () => {
      const { decision } = once(c.spec, queue(c.visible), c.current);
      assert.equal(decision.desired, c.desired);
      assert.equal(decision.reason, c.reason);
      assert.deepEqual(decision.limitedBy, c.limitedBy ?? []);
    });
  }

  it('ignores in-flight and delayed messages unless the spec includes them', () => {
    const s = spec();
    assert.equal(once(s, queue(50, undefined, 60, 0), 10).decision.desired, 5);
    const withInFlight = spec({ metrics: { includeInFlight: true } });
    assert.equal(once(withInFlight, queue(50, undefined, 60, 0), 10).decision.desired, 15);
    const withDelayed = spec({ metrics: { includeDelayed: true } });
    assert.equal(once(withDelayed, queue(50, undefined, 0, 60), 10).decision.desired, 15);
  });

  it('moves one step at every poll, without waiting for a stabilization window', () => {
    const s = spec();
    let state = once(s, queue(0), 30).nextState;
    let current = 25;
    for (let i = 1; i <= 4; i++) {
      const at = T0 + i * 30_000;
      const r = once(s, queue(0, at), current, state, at);
      assert.equal(r.decision.desired, current - 5);
      current = r.decision.desired ?? current;
      state = r.nextState;
    }
    assert.equal(current, 5);
  });

  it('explains the decision in one sentence with the numbers', () => {
    const { decision } = once(spec(), queue(150), 10);
    assert.equal(
      decision.message,
      'backlog 150 is above the threshold 100: one step of 5 up from 10; setting 15',
    );
  });

  it('says so when the concurrency was changed outside the operator, and continues from it', () => {
    const input = { spec: spec(), metrics: queue(150), currentConcurrency: 20, lastApplied: 10 };
    const { decision } = decide(input, initialPolicyState(), T0);
    assert.equal(decision.desired, 25);
    assert.match(decision.message, /^reserved concurrency is 20, not the 10 last applied/);
  });
});
