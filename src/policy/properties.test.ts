// Invariants over arbitrary specs, metrics, concurrencies, histories and irregular poll times:
// bounds, determinism, tolerance, scale-down rate, monotonicity, and JSON-safe bounded state.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { LambdaConcurrencyScalerSpec } from '../api/v1alpha1/index.ts';
import { decide } from './decide.ts';
import { spec as baseSpec, T0 } from './fixtures.ts';
import { initialPolicyState, restorePolicyState } from './state.ts';
import type { DecisionInput, PolicyState } from './types.ts';

const RUNS = { numRuns: 200 };

const ratePolicy = fc.record({
  type: fc.constantFrom('Concurrency' as const, 'Percent' as const),
  value: fc.integer({ min: 1, max: 1000 }),
  periodSeconds: fc.integer({ min: 1, max: 1800 }),
});

const rules = fc.record(
  {
    stabilizationWindowSeconds: fc.integer({ min: 0, max: 3600 }),
    selectPolicy: fc.constantFrom('Max' as const, 'Min' as const, 'Disabled' as const),
    policies: fc.array(ratePolicy, { minLength: 1, maxLength: 4 }),
  },
  { requiredKeys: [] },
);

const policy = fc.oneof(
  fc.record(
    { step: fc.record({ scaleDownThreshold: fc.integer({ min: 0, max: 100 }) }) },
    { requiredKeys: [] },
  ),
  fc.record({
    type: fc.constant('TargetTracking' as const),
    targetTracking: fc.record(
      {
        targetBacklogPerConcurrency: fc.integer({ min: 1, max: 1000 }),
        tolerancePercent: fc.integer({ min: 0, max: 100 }),
      },
      { requiredKeys: ['targetBacklogPerConcurrency'] },
    ),
  }),
  fc.record({
    type: fc.constant('LatencySLO' as const),
    latencySLO: fc.record(
      {
        maxWaitSeconds: fc.integer({ min: 1, max: 3600 }),
        targetUtilizationPercent: fc.integer({ min: 10, max: 100 }),
        tolerancePercent: fc.integer({ min: 0, max: 100 }),
      },
      { requiredKeys: ['maxWaitSeconds'] },
    ),
  }),
);

const anySpec: fc.Arbitrary<LambdaConcurrencyScalerSpec> = fc
  .record({
    min: fc.integer({ min: 0, max: 50 }),
    span: fc.integer({ min: 0, max: 500 }),
    threshold: fc.integer({ min: 0, max: 100 }),
    step: fc.integer({ min: 1, max: 50 }),
    policy: fc.option(policy, { nil: undefined }),
    behavior: fc.option(
      fc.record(
        {
          scaleUp: rules,
          scaleDown: rules,
          cooldownSeconds: fc.integer({ min: 0, max: 600 }),
          idleSeconds: fc.integer({ min: 1, max: 3600 }),
        },
        { requiredKeys: [] },
      ),
      { nil: undefined },
    ),
    metrics: fc.option(
      fc.record(
        {
          includeInFlight: fc.boolean(),
          includeDelayed: fc.boolean(),
          source: fc.constantFrom('QueueAttributes' as const, 'CloudWatch' as const),
        },
        { requiredKeys: [] },
      ),
      { nil: undefined },
    ),
    fallback: fc.option(
      fc.record(
        { failureThreshold: fc.integer({ min: 1, max: 5 }), concurrency: fc.integer({ min: 0, max: 1000 }) },
        { requiredKeys: [] },
      ),
      { nil: undefined },
    ),
  })
  .map(({ min, span, threshold, step, policy, behavior, metrics, fallback }) => {
    const s: LambdaConcurrencyScalerSpec = baseSpec({
      awsLambdaMinConcurrency: min,
      awsLamndaMaxConcurrency: Math.max(1, min + span),
      awsSQSMsgCountThreshold: threshold,
      awsLambdaStepConcurrency: step,
    });
    if (policy !== undefined) s.policy = policy;
    if (behavior !== undefined) s.behavior = behavior;
    if (metrics !== undefined) s.metrics = metrics;
    if (fallback !== undefined) s.fallback = fallback;
    return s;
  });

const count = fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 1_000_000 }));
/** The event source mapping's batch size, when the operator has read it. */
const batch = fc.option(fc.integer({ min: 1, max: 10_000 }), { nil: undefined });

/** One poll: seconds since the previous one (irregular), and what was seen. */
const poll = fc.record({
  gapSeconds: fc.oneof(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 900 })),
  metrics: fc.oneof(
    { weight: 8, arbitrary: fc.record({ visible: count, inFlight: count, delayed: count }) },
    { weight: 1, arbitrary: fc.constant({ error: 'boom' }) },
  ),
  drift: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined, freq: 10 }),
});

function metricsAt(
  m: { visible: number; inFlight: number; delayed: number } | { error: string },
  now: number,
) {
  if ('error' in m) return m;
  const datapoints = [0, 1, 2].map((i) => ({ timestamp: now - (i + 2) * 60_000, value: m.visible }));
  return { ...m, observedAt: now, datapoints };
}

type Poll = { gapSeconds: number; metrics: Parameters<typeof metricsAt>[0]; drift?: number | undefined };

/** Drives decide() through the polls, applying decisions (and out-of-band drift). */
function run(
  s: LambdaConcurrencyScalerSpec,
  start: number | null,
  polls: readonly Poll[],
  batchSize?: number,
) {
  let state = initialPolicyState();
  let current = start;
  let now = T0;
  const steps: {
    now: number;
    input: DecisionInput;
    state: PolicyState;
    before: number | null;
    after: number | null;
    desired: number | null;
  }[] = [];
  for (const p of polls) {
    now += p.gapSeconds * 1000;
    if (p.drift !== undefined) current = p.drift;
    const input: DecisionInput = {
      spec: s,
      metrics: metricsAt(p.metrics, now),
      currentConcurrency: current,
      ...(batchSize === undefined ? {} : { batchSize }),
    };
    const { decision, nextState } = decide(input, state, now);
    const before = current;
    if (decision.desired !== null) current = decision.desired;
    steps.push({ now, input, state, before, after: current, desired: decision.desired });
    state = nextState;
  }
  return { steps, state };
}

describe('decide, for any spec, metrics, history and poll times', () => {
  it('never sets a concurrency outside [min, max], and never leaves one outside them', () => {
    fc.assert(
      fc.property(
        anySpec,
        fc.option(fc.integer({ min: 0, max: 2000 })),
        fc.array(poll, { maxLength: 30 }),
        batch,
        (s, start, polls, b) => {
          const min = s.awsLambdaMinConcurrency;
          const max = s.awsLamndaMaxConcurrency ?? 0;
          for (const step of run(s, start, polls, b).steps) {
            if (step.desired !== null)
              assert.ok(step.desired >= min && step.desired <= max, `${step.desired}`);
            if (step.after !== null) assert.ok(step.after >= min && step.after <= max, `${step.after}`);
          }
        },
      ),
      RUNS,
    );
  });

  it('is deterministic: the same input, history and time give the same decision', () => {
    fc.assert(
      fc.property(
        anySpec,
        fc.option(fc.integer({ min: 0, max: 2000 })),
        fc.array(poll, { minLength: 1, maxLength: 15 }),
        batch,
        (s, start, polls, b) => {
          for (const step of run(s, start, polls, b).steps) {
            const a = decide(step.input, structuredClone(step.state), step.now);
            const b = decide(structuredClone(step.input), structuredClone(step.state), step.now);
            assert.deepEqual(a, b);
          }
        },
      ),
      RUNS,
    );
  });

  it('returns a history that survives a JSON round trip and decides the same afterwards', () => {
    fc.assert(
      fc.property(
        anySpec,
        fc.integer({ min: 0, max: 2000 }),
        fc.array(poll, { minLength: 2, maxLength: 20 }),
        batch,
        (s, start, polls, b) => {
          const { steps, state } = run(s, start, polls, b);
          const stored = JSON.parse(JSON.stringify(state));
          assert.deepEqual(stored, state);
          assert.deepEqual(restorePolicyState(stored), state);
          const last = steps.at(-1);
          if (last === undefined) return;
          const later = last.now + 30_000;
          assert.deepEqual(decide(last.input, stored, later), decide(last.input, state, later));
        },
      ),
      RUNS,
    );
  });

  it('keeps its history under 4 KB however long it runs', () => {
    fc.assert(
      fc.property(anySpec, fc.array(poll, { minLength: 200, maxLength: 400 }), batch, (s, polls, b) => {
        const { state } = run(s, 10, polls, b);
        assert.ok(JSON.stringify(state).length < 4096, `${JSON.stringify(state).length} bytes`);
      }),
      { numRuns: 30 },
    );
  });
});

describe('Step, for any spec and polls', () => {
  it('decides exactly as without a batch size: its default reads the visible count, as the original did', () => {
    fc.assert(
      fc.property(
        anySpec.filter((s) => (s.policy?.type ?? 'Step') === 'Step'),
        fc.option(fc.integer({ min: 0, max: 2000 })),
        fc.array(poll, { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 10_000 }),
        (s, start, polls, b) => {
          const plain = run(s, start, polls);
          const batched = run(s, start, polls, b);
          assert.deepEqual(
            batched.steps.map((st) => st.desired),
            plain.steps.map((st) => st.desired),
          );
          assert.deepEqual(batched.state, plain.state);
        },
      ),
      RUNS,
    );
  });
});

describe('TargetTracking, for any backlog', () => {
  const tracking = fc.record({
    target: fc.integer({ min: 1, max: 1000 }),
    tolerancePercent: fc.integer({ min: 0, max: 50 }),
    min: fc.integer({ min: 0, max: 20 }),
    span: fc.integer({ min: 1, max: 500 }),
  });
  const specOf = (t: { target: number; tolerancePercent: number; min: number; span: number }) =>
    baseSpec({
      awsLambdaMinConcurrency: t.min,
      awsLamndaMaxConcurrency: t.min + t.span,
      policy: {
        type: 'TargetTracking',
        targetTracking: { targetBacklogPerConcurrency: t.target, tolerancePercent: t.tolerancePercent },
      },
    });

  it('makes no change while the backlog per unit is within the tolerance of the target', () => {
    fc.assert(
      fc.property(
        tracking,
        fc.integer({ min: 1, max: 500 }),
        fc.double({ min: -1, max: 1, noNaN: true }),
        (t, c, within) => {
          const current = Math.min(Math.max(c, Math.max(1, t.min)), t.min + t.span);
          const ratio = 1 + (within * t.tolerancePercent) / 100;
          const backlog = Math.floor(current * t.target * ratio);
          fc.pre(Math.abs(backlog / (current * t.target) - 1) <= t.tolerancePercent / 100);
          const metrics = { visible: backlog, inFlight: 0, delayed: 0, observedAt: T0 };
          const { decision } = decide(
            { spec: specOf(t), metrics, currentConcurrency: current },
            initialPolicyState(),
            T0,
          );
          assert.equal(decision.desired, null);
        },
      ),
      RUNS,
    );
  });

  it('never asks for less concurrency for a larger backlog (same history, same time)', () => {
    fc.assert(
      fc.property(
        tracking,
        fc.array(poll, { maxLength: 10 }),
        fc.integer({ min: 0, max: 600 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        (t, polls, current, a, b) => {
          const s = specOf(t);
          const { state, steps } = run(s, current, polls);
          const now = (steps.at(-1)?.now ?? T0) + 15_000;
          const at = steps.at(-1)?.after ?? current;
          const effective = (visible: number) => {
            const metrics = { visible, inFlight: 0, delayed: 0, observedAt: now };
            const { decision } = decide({ spec: s, metrics, currentConcurrency: at }, state, now);
            return decision.desired ?? at;
          };
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          assert.ok(effective(lo) <= effective(hi));
        },
      ),
      RUNS,
    );
  });
});

describe('scale-down rate policies, for any backlog sequence', () => {
  it('never remove more within any period than the policy allows', () => {
    fc.assert(
      fc.property(
        ratePolicy,
        fc.constantFrom('TargetTracking' as const, 'Step' as const),
        fc.array(fc.record({ gapSeconds: fc.integer({ min: 1, max: 120 }), visible: count }), {
          maxLength: 60,
        }),
        (p, type, series) => {
          const s = baseSpec({
            awsLambdaMinConcurrency: 0,
            awsLamndaMaxConcurrency: 1000,
            awsLambdaStepConcurrency: 50,
            behavior: { scaleDown: { stabilizationWindowSeconds: 0, policies: [p] } },
            ...(type === 'TargetTracking'
              ? { policy: { type, targetTracking: { targetBacklogPerConcurrency: 10 } } }
              : {}),
          });
          const polls = series.map(({ gapSeconds, visible }) => ({
            gapSeconds,
            metrics: { visible, inFlight: 0, delayed: 0 },
          }));
          const { steps } = run(s, 1000, polls);
          for (const [j, end] of steps.entries()) {
            // The HPA checks its limit when it scales down: look at every decision that did.
            if (end.after === null || end.before === null || end.after >= end.before) continue;
            // Concurrency just before the period that ends at this decision.
            const first = steps.findIndex((st) => st.now > end.now - p.periodSeconds * 1000);
            const start = steps[first]?.before ?? 1000;
            const allowed =
              p.type === 'Concurrency' ? p.value : start - Math.trunc(start * (1 - p.value / 100));
            const removed = start - (end.after ?? start);
            assert.ok(removed <= allowed, `step ${j}: removed ${removed} of ${start}, allowed ${allowed}`);
          }
        },
      ),
      RUNS,
    );
  });
});

describe('decide, for nonsense readings', () => {
  it('never throws and keeps bounds and JSON-safe state for NaN, negative or infinite numbers', () => {
    const odd = fc.constantFrom(Number.NaN, -1, Number.POSITIVE_INFINITY, -0, 1e308, 0.5);
    fc.assert(
      fc.property(
        anySpec,
        odd,
        odd,
        odd,
        odd,
        fc.option(odd),
        fc.option(odd, { nil: undefined }),
        (s, visible, inFlight, delayed, at, current, batchSize) => {
          const metrics = { visible, inFlight, delayed, observedAt: at };
          const { decision, nextState } = decide(
            {
              spec: s,
              metrics,
              currentConcurrency: current,
              ...(batchSize === undefined ? {} : { batchSize }),
            },
            initialPolicyState(),
            T0,
          );
          const max = s.awsLamndaMaxConcurrency ?? 0;
          if (decision.desired !== null) {
            assert.ok(decision.desired >= s.awsLambdaMinConcurrency && decision.desired <= max);
          }
          assert.deepEqual(JSON.parse(JSON.stringify(nextState)), nextState);
        },
      ),
      RUNS,
    );
  });
});
