// The virtual-time driver: the operator's decide() on the reconciler's schedule, the references, and
// what the metrics count.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSpec } from '../../src/api/v1alpha1/index.ts';
import { runOnce } from '../../src/bench/run.ts';
import type { Strategy } from '../../src/bench/strategy.ts';
import { parseWorkload, WorkloadError } from '../../src/bench/workload.ts';
import { originalOperatorConfig } from '../../src/policy/index.ts';

const workload = (traffic: unknown[], durationSeconds = 1200) =>
  parseWorkload({
    durationSeconds,
    function: { timeout: 5, duration: { kind: 'constant', ms: 2000 }, per: 'batch' },
    eventSource: { batchSize: 10 },
    traffic,
  });
const parsed = parseSpec({
  awsSQSName: 'orders',
  awsSQSMsgCountThreshold: 100,
  awsLambdaName: 'fn',
  awsLambdaMinConcurrency: 5,
  awsLamndaMaxConcurrency: 60,
  awsLambdaStepConcurrency: 5,
});
if (!parsed.ok) throw new Error('test spec invalid');
const spec = parsed.spec;
const bounds = { min: 5, max: 60 };

describe('runOnce', () => {
  it('holds a static reserved concurrency and makes no API calls', async () => {
    const r = await runOnce({
      workload: workload([{ kind: 'constant', rate: 10 }], 1800),
      strategy: { kind: 'static', label: 'max', concurrency: 60 },
      seed: 1,
      sloSeconds: 60,
      bounds,
    });
    assert.equal(r.metrics.capacityHours, 30);
    assert.deepEqual(r.metrics.apiCalls, {});
    assert.equal(r.metrics.actions, 0);
  });

  it('polls like the reconciler: one read of the queue and the function per interval, writes only on change, within bounds', async () => {
    const tt: Strategy = {
      kind: 'policy',
      label: 'tt',
      spec: {
        ...spec,
        policy: { type: 'TargetTracking', targetTracking: { targetBacklogPerConcurrency: 10 } },
        metrics: { includeInFlight: true },
      },
    };
    const r = await runOnce({
      workload: workload([
        {
          kind: 'step',
          steps: [
            { at: 0, rate: 10 },
            { at: 300, rate: 150 },
          ],
        },
      ]),
      strategy: tt,
      seed: 3,
      sloSeconds: 60,
      bounds,
    });
    assert.equal(r.intervalSeconds, 30);
    assert.equal(r.metrics.apiCalls['sqs:GetQueueAttributes ok'], 40);
    assert.equal(r.metrics.apiCalls['lambda:GetFunction ok'], 40);
    assert.ok(r.actions.length > 0, 'the surge is scaled for');
    for (const a of r.actions) {
      assert.notEqual(a.to, a.from);
      assert.ok(a.to >= 5 && a.to <= 60, `${a.to} within bounds`);
    }
    assert.equal(r.metrics.apiCalls['lambda:PutFunctionConcurrency ok'], r.actions.length);
    const firstUp = r.actions.find((a) => a.t >= 300 && a.to > (a.from ?? 0));
    assert.ok(firstUp !== undefined && firstUp.t - 300 <= 60, `scaled up at ${firstUp?.t}`);
  });

  it('with eventSourceMapping.manageMaximumConcurrency keeps the mapping capped at the reserved concurrency, and overpulls less', async () => {
    const latency = (manageMaximumConcurrency: boolean): Strategy => ({
      kind: 'policy',
      label: manageMaximumConcurrency ? 'capped' : 'plain',
      spec: {
        ...spec,
        policy: { type: 'LatencySLO', latencySLO: { maxWaitSeconds: 30 } },
        ...(manageMaximumConcurrency ? { eventSourceMapping: { manageMaximumConcurrency } } : {}),
      },
    });
    const surge = () =>
      workload([
        {
          kind: 'step',
          steps: [
            { at: 0, rate: 10 },
            { at: 300, rate: 200 },
            { at: 800, rate: 10 },
          ],
        },
      ]);
    const plain = await runOnce({
      workload: surge(),
      strategy: latency(false),
      seed: 2,
      sloSeconds: 60,
      bounds,
    });
    const capped = await runOnce({
      workload: surge(),
      strategy: latency(true),
      seed: 2,
      sloSeconds: 60,
      bounds,
    });
    assert.equal(
      plain.metrics.apiCalls['lambda:UpdateEventSourceMapping ok'],
      undefined,
      'off: never called',
    );
    const updates = capped.metrics.apiCalls['lambda:UpdateEventSourceMapping ok'] ?? 0;
    assert.ok(
      updates > 0 && updates <= capped.actions.length + 1,
      `${updates} updates, ${capped.actions.length} puts`,
    );
    // Pollers never exceed the reserved concurrency once the first poll has set the cap.
    const over = capped.timeline.filter((p) => p.t > 60 && p.pollers > p.reserved);
    assert.deepEqual(over.slice(0, 3), [], `${over.length} seconds with more pollers than reserved`);
    assert.ok(
      capped.metrics.throttles < plain.metrics.throttles / 2,
      `throttles ${capped.metrics.throttles} capped vs ${plain.metrics.throttles} plain`,
    );
  });

  it('runs the oracle with the mapping capped at its reserved concurrency, as the operator caps it', async () => {
    const r = await runOnce({
      workload: workload([
        {
          kind: 'step',
          steps: [
            { at: 0, rate: 10 },
            { at: 300, rate: 200 },
            { at: 800, rate: 10 },
          ],
        },
      ]),
      strategy: { kind: 'oracle', label: 'oracle', min: 5, max: 60 },
      seed: 2,
      sloSeconds: 60,
      bounds,
    });
    assert.ok((r.metrics.apiCalls['lambda:UpdateEventSourceMapping ok'] ?? 0) > 0, 'the cap is set');
    const over = r.timeline.filter((p) => p.t > 2 && p.pollers > Math.max(2, p.reserved));
    assert.deepEqual(over.slice(0, 3), [], `${over.length} seconds with more pollers than reserved`);
    assert.ok(r.metrics.pctOverSlo < 0.5, `${r.metrics.pctOverSlo}% over SLO`);
  });

  it('sets the mapping cap once for a static strategy that asks for it', async () => {
    const r = await runOnce({
      workload: workload([{ kind: 'constant', rate: 150 }], 600),
      strategy: { kind: 'static', label: 'max capped', concurrency: 60, capEventSource: true },
      seed: 1,
      sloSeconds: 60,
      bounds,
    });
    assert.deepEqual(r.metrics.apiCalls, {});
    assert.equal(r.metrics.throttles, 0);
    assert.ok(r.timeline.every((p) => p.pollers <= 60));
  });

  it('runs the original every 300 s on late CloudWatch data', async () => {
    const r = await runOnce({
      workload: workload([{ kind: 'constant', rate: 5 }], 1800),
      strategy: {
        kind: 'policy',
        label: 'original',
        spec,
        config: originalOperatorConfig(spec),
        calls: 'original',
      },
      seed: 1,
      sloSeconds: 60,
      bounds,
    });
    assert.equal(r.intervalSeconds, 300);
    assert.equal(r.metrics.apiCalls['cloudwatch:GetMetricData ok'], 6);
    assert.equal(r.metrics.apiCalls['sqs:GetQueueAttributes ok'], undefined);
  });

  it('gives the same numbers for the same seed', async () => {
    const run = () =>
      runOnce({
        workload: workload([{ kind: 'square', low: 5, high: 100, period: 240 }]),
        strategy: {
          kind: 'policy',
          label: 'slo',
          spec: { ...spec, policy: { type: 'LatencySLO', latencySLO: { maxWaitSeconds: 30 } } },
        },
        seed: 7,
        sloSeconds: 60,
        bounds,
      });
    const [a, b] = [await run(), await run()];
    assert.deepEqual(a.metrics, b.metrics);
    assert.deepEqual(a.actions, b.actions);
  });
});

describe('parseWorkload', () => {
  it('names the field of the workload document, not of the scenario it maps onto', () => {
    assert.throws(
      () => parseWorkload({ eventSource: { batchSize: 0 }, traffic: [{ kind: 'constant', rate: 1 }] }),
      (e: unknown) =>
        e instanceof WorkloadError && e.issues.some((i) => i.startsWith('eventSource.batchSize:')),
    );
  });
});
