// Whatever happened before — bursts, writes AWS refused or capped, AWS errors, restarts that lost the
// history, status writes lost — an idle queue brings the scaler to its minimum within the scale-down
// window plus two polls (issue 15). Checked over generated histories for the rate-based policies
// (Step moves one step a poll by design; its users set behavior.idleSeconds for this).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { LambdaConcurrencyScalerSpec } from '../api/v1alpha1/index.ts';
import { decide } from './decide.ts';
import { spec as baseSpec, T0 } from './fixtures.ts';
import { initialPolicyState, restorePolicyState } from './state.ts';
import type { PolicyState } from './types.ts';

const POLL_MS = 30_000;
const WINDOW_MS = 300_000;

/** One poll of a history: the queue, what happened to the decision, and what happened to the state. */
const pollStep = fc.record({
  visible: fc.integer({ min: 0, max: 50_000 }),
  inFlight: fc.integer({ min: 0, max: 5_000 }),
  /** applied: the decision took effect; refused: AWS kept the old value; capped: a lower value. */
  write: fc.constantFrom('applied', 'applied', 'applied', 'refused', 'capped'),
  /** none, restart (history lost), lost (the status write was lost: the previous history back). */
  state: fc.constantFrom('none', 'none', 'none', 'none', 'restart', 'lost'),
  awsError: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  /** The function's mean Duration as CloudWatch last published it, if ever (serviceTimeSource: CloudWatch). */
  duration: fc.option(fc.double({ min: 0.05, max: 120, noNaN: true }), { nil: undefined }),
});

const specs: Record<string, LambdaConcurrencyScalerSpec> = {
  LatencySLO: baseSpec({
    awsLambdaMinConcurrency: 10,
    awsLamndaMaxConcurrency: 600,
    policy: { type: 'LatencySLO', latencySLO: { maxWaitSeconds: 30 } },
  }),
  'LatencySLO on the Duration': baseSpec({
    awsLambdaMinConcurrency: 10,
    awsLamndaMaxConcurrency: 600,
    policy: { type: 'LatencySLO', latencySLO: { maxWaitSeconds: 30, serviceTimeSource: 'CloudWatch' } },
  }),
  TargetTracking: baseSpec({
    awsLambdaMinConcurrency: 10,
    awsLamndaMaxConcurrency: 600,
    policy: { type: 'TargetTracking', targetTracking: { targetBacklogPerConcurrency: 20 } },
    metrics: { includeInFlight: true },
  }),
};

describe('an idle queue after any history', () => {
  for (const [name, spec] of Object.entries(specs)) {
    it(`brings ${name} to its minimum within the scale-down window plus two polls`, () => {
      fc.assert(
        fc.property(fc.array(pollStep, { minLength: 1, maxLength: 60 }), (history) => {
          let now = T0;
          let current: number | null = null;
          let applied: number | null = null;
          let state: PolicyState = initialPolicyState();
          let previous: PolicyState = state;
          let duration: number | undefined;
          for (const h of history) {
            duration = h.duration ?? duration; // the last mean read stands
            now += POLL_MS;
            if (h.awsError) continue; // the reconcile failed before deciding: nothing changes
            const { decision, nextState } = decide(
              {
                spec,
                metrics: { visible: h.visible, inFlight: h.inFlight, delayed: 0, observedAt: now },
                currentConcurrency: current,
                lastApplied: applied,
                batchSize: 10,
                ...(duration === undefined ? {} : { serviceTimeSeconds: duration }),
              },
              state,
              now,
            );
            const wanted: number | null = decision.desired ?? current;
            if (wanted !== null && wanted !== current) {
              if (h.write === 'applied') current = applied = wanted;
              else if (h.write === 'capped' && wanted > (current ?? 0))
                current = applied = Math.max(current ?? 10, Math.floor(((current ?? 10) + wanted) / 2));
            }
            const roundTripped = restorePolicyState(JSON.parse(JSON.stringify(nextState)));
            if (h.state === 'restart') state = initialPolicyState();
            else if (h.state === 'lost') state = previous;
            else state = roundTripped;
            previous = roundTripped;
          }
          // The queue goes idle: empty, nothing in flight, every write applied.
          const idleFrom = now;
          let reachedAt: number | undefined;
          for (let i = 1; i <= (WINDOW_MS + 4 * POLL_MS) / POLL_MS; i++) {
            now = idleFrom + i * POLL_MS;
            const { decision, nextState } = decide(
              {
                spec,
                metrics: { visible: 0, inFlight: 0, delayed: 0, observedAt: now },
                currentConcurrency: current,
                lastApplied: applied,
                batchSize: 10,
                ...(duration === undefined ? {} : { serviceTimeSeconds: duration }),
              },
              state,
              now,
            );
            if (decision.desired !== null) current = applied = decision.desired;
            state = restorePolicyState(JSON.parse(JSON.stringify(nextState)));
            if (current === 10 && reachedAt === undefined) reachedAt = now;
          }
          assert.ok(
            reachedAt !== undefined && reachedAt - idleFrom <= WINDOW_MS + 2 * POLL_MS,
            `reached the minimum ${reachedAt === undefined ? 'never' : `after ${(reachedAt - idleFrom) / 1000} s`} (at ${current})`,
          );
        }),
        { numRuns: 300, seed: 15 },
      );
    });
  }
});
