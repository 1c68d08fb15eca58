// The history comes back from status.policyState, which anything may have touched: reading it must
// never fail, and anything unrecognised must give a fresh history rather than a wrong one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialLatencyEstimates } from './latency-slo.ts';
import { initialPolicyState, restorePolicyState, withApplied } from './state.ts';

interface Case {
  stored: unknown;
  fresh: boolean;
}

const kept = {
  version: 1,
  recommendations: [[1_000, 3, 5]],
  scaleEvents: [[1_000, 2, 0]],
  lastScaleTime: 1_000,
  metricFailures: 1,
  idleSince: null,
  latency: null,
};

const cases = {
  'nothing stored yet': { stored: undefined, fresh: true },
  'an empty object (status written by an older operator)': { stored: {}, fresh: true },
  'a future version': { stored: { ...kept, version: 2 }, fresh: true },
  'a recommendation that is not a triple': { stored: { ...kept, recommendations: [[1, 2]] }, fresh: true },
  'a string where a number belongs': { stored: { ...kept, lastScaleTime: 'yesterday' }, fresh: true },
  'a history this version wrote': { stored: kept, fresh: false },
} satisfies Record<string, Case>;

describe('restorePolicyState', () => {
  for (const [name, c] of Object.entries(cases) as [string, Case][]) {
    it(`${c.fresh ? 'starts fresh from' : 'keeps'} ${name}`, () => {
      const restored = restorePolicyState(c.stored);
      assert.deepEqual(restored, c.fresh ? initialPolicyState() : c.stored);
    });
  }

  it("keeps the learning probe's edge, and reads a malformed one as none", () => {
    const latency = { ...initialLatencyEstimates(), edge: [1_000, 8, 70] };
    assert.deepEqual(restorePolicyState({ ...kept, latency }).latency?.edge, [1_000, 8, 70]);
    const malformed = { ...latency, edge: [1_000, 8] };
    assert.equal(restorePolicyState({ ...kept, latency: malformed }).latency?.edge, null);
  });

  it('drops malformed LatencySLO estimates but keeps the rest', () => {
    const restored = restorePolicyState({ ...kept, latency: { last: 'x', samples: [] } });
    assert.deepEqual(restored.recommendations, kept.recommendations);
    assert.equal(restored.latency?.throughputPerUnit, null);
  });
});

describe('withApplied', () => {
  it('records the written concurrency as the one the next interval runs at, and nothing else', () => {
    const state = {
      ...initialPolicyState(),
      latency: {
        ...initialLatencyEstimates(),
        last: [1, 2, 3, 4, 600] as [number, number, number, number, number],
      },
    };
    const after = withApplied(state, 465);
    assert.deepEqual(after.latency?.last, [1, 2, 3, 4, 465]);
    assert.deepEqual(state.latency.last, [1, 2, 3, 4, 600], 'a copy');
    assert.equal(withApplied(state, 600), state, 'unchanged when written as decided');
    assert.equal(withApplied(initialPolicyState(), 5).latency, null, 'no estimates, nothing to tell');
  });
});
