// The worked numbers of docs/policies.md, so the documentation cannot drift from the engine.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { drive, queue, spec, T0 } from './fixtures.ts';
import { initialLatencyEstimates, recommendLatencySLO } from './latency-slo.ts';

const every30s = (visible: number, polls: number, from = T0) =>
  Array.from({ length: polls }, (_, i) => ({
    at: from + i * 30_000,
    metrics: queue(visible, from + i * 30_000),
  }));

describe('docs/policies.md', () => {
  it('Step climbs from 50 to 100 in 10 polls of 30 s, and back down in 10 more', () => {
    const s = spec({
      awsSQSMsgCountThreshold: 1000,
      awsLambdaMinConcurrency: 50,
      awsLamndaMaxConcurrency: 100,
      awsLambdaStepConcurrency: 5,
    });
    const up = drive(s, 50, every30s(4000, 11)).concurrency;
    assert.equal(up.indexOf(100), 9);
    const down = drive(s, 100, every30s(0, 11)).concurrency;
    assert.equal(down.indexOf(50), 9);
  });

  it('Step with scaleDownThreshold 400 holds a backlog between 400 and 1000', () => {
    const s = spec({ awsSQSMsgCountThreshold: 1000, policy: { step: { scaleDownThreshold: 400 } } });
    assert.deepEqual(drive(s, 20, every30s(700, 5)).concurrency, [20, 20, 20, 20, 20]);
  });

  it('TargetTracking at 20 per unit goes 10 → 20 → 40 → 50 for 1,000 messages, then holds 5 minutes before 10', () => {
    const s = spec({
      awsLamndaMaxConcurrency: 200,
      policy: { type: 'TargetTracking', targetTracking: { targetBacklogPerConcurrency: 20 } },
    });
    const busy = every30s(1000, 10);
    const quiet = every30s(200, 12, T0 + 300_000);
    const { concurrency } = drive(s, 10, [...busy, ...quiet]);
    assert.deepEqual(concurrency.slice(0, 4), [20, 40, 50, 50]);
    // The last recommendation of 50 was at 270 s; it leaves the 300 s window at 570 s (poll 19).
    assert.deepEqual(concurrency.slice(10, 21), [50, 50, 50, 50, 50, 50, 50, 50, 50, 10, 10]);
  });

  it('LatencySLO needs 32 for 50/s at 2/s per unit and 80%, and 63 with 3,000 waiting and a 60 s SLO', () => {
    const estimates = { ...initialLatencyEstimates(), throughputPerUnit: 2, arrivalRate: 50 };
    const config = {
      type: 'LatencySLO' as const,
      maxWaitSeconds: 60,
      targetUtilization: 0.8,
      tolerance: 0.1,
      serviceTimeSource: 'QueueCounts' as const,
    };
    assert.equal(recommendLatencySLO(estimates, 0, 10, false, config).recommendation, 32);
    assert.equal(recommendLatencySLO(estimates, 3000, 10, true, config).recommendation, 63);
  });

  it('LatencySLO from a never-saturated 10 under a sudden 50,000-message backlog: 20, then 40, within the first minute', () => {
    const s = spec({
      awsLambdaMinConcurrency: 10,
      awsLamndaMaxConcurrency: 100,
      policy: { type: 'LatencySLO', latencySLO: { maxWaitSeconds: 30 } },
    });
    const { concurrency } = drive(s, 10, every30s(50_000, 2));
    assert.deepEqual(concurrency, [20, 40]);
  });
});
