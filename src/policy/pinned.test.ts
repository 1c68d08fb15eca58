// spec.replicas (the /scale subresource: kubectl scale, HPA, KEDA) pins the concurrency: the
// external decision replaces the policy, within the bounds, until the field is removed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decide } from './decide.ts';
import { once, queue, spec, T0 } from './fixtures.ts';
import { initialPolicyState } from './state.ts';
import { Limit, Reason } from './types.ts';

interface Case {
  replicas: number;
  current: number | null;
  desired: number | null;
  limitedBy: Limit[];
}

describe('a pinned concurrency (spec.replicas)', () => {
  const cases = {
    'moves the function to the pin whatever the backlog says': {
      replicas: 7,
      current: 1,
      desired: 7,
      limitedBy: [],
    },
    'is clamped to the maximum': { replicas: 500, current: 10, desired: 50, limitedBy: [Limit.Bounds] },
    'is clamped to the minimum': { replicas: 0, current: 10, desired: 1, limitedBy: [Limit.Bounds] },
    'asks for nothing when the function is already there': {
      replicas: 12,
      current: 12,
      desired: null,
      limitedBy: [],
    },
    'sets an unreserved function': { replicas: 3, current: null, desired: 3, limitedBy: [] },
  } satisfies Record<string, Case>;
  for (const [name, c] of Object.entries(cases)) {
    it(name, () => {
      // A backlog far above the threshold: the Step policy alone would step up.
      const { decision } = once(spec({ replicas: c.replicas }), queue(10_000), c.current);
      assert.equal(decision.desired, c.desired);
      assert.equal(decision.reason, Reason.Pinned);
      assert.deepEqual(decision.limitedBy, c.limitedBy);
    });
  }

  it('holds even while the queue metrics are unavailable', () => {
    const { decision } = once(spec({ replicas: 9 }), { error: 'throttled' }, 4);
    assert.equal(decision.desired, 9);
    assert.equal(decision.reason, Reason.Pinned);
  });

  it('says in its message who pinned it and where it is held', () => {
    const { decision } = once(spec({ replicas: 500 }), queue(0), 10);
    assert.match(
      decision.message,
      /spec\.replicas pins the concurrency at 500.*setting 50 \(held by the concurrency bounds\)/,
    );
  });

  it('hands back to the policy when removed, continuing from the pinned value', () => {
    const pinned = once(spec({ replicas: 20 }), queue(10_000), 5);
    const after = once(spec(), queue(10_000), 20, pinned.nextState, T0 + 30_000);
    assert.equal(after.decision.reason, Reason.BacklogAboveThreshold);
    assert.equal(after.decision.desired, 25, 'one step of 5 from the pinned 20');
  });

  it('never leaves the bounds and always decides the same for the same input', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2_000 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 100 }),
        fc.option(fc.integer({ min: 0, max: 3_000 })),
        (replicas, a, b, current) => {
          const [min, max] = a <= b ? [a, Math.max(1, b)] : [b, Math.max(1, a)];
          const s = spec({ replicas, awsLambdaMinConcurrency: min, awsLamndaMaxConcurrency: max });
          const input = { spec: s, metrics: queue(50), currentConcurrency: current };
          const first = decide(input, initialPolicyState(), T0);
          assert.deepEqual(decide(input, initialPolicyState(), T0), first);
          const held = first.decision.desired ?? current;
          assert.ok(held !== null && held >= min && held <= max, `${held} in [${min}, ${max}]`);
        },
      ),
    );
  });
});
