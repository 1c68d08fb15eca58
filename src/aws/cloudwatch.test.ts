// The operator's CloudWatch reader against awssim over HTTP through the real SDK client: a queue's
// backlog and the function's own metrics from the published minutes, every call counted, failures
// classified, and the AbortSignal honoured.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { Registry } from 'prom-client';
import { parseScenario } from '../awssim/scenario.ts';
import { type AwsSimServer, startServer } from '../awssim/server.ts';
import { createSimulation, type Simulation } from '../awssim/simulation.ts';
import { clientConfig } from '../awssim/testing/harness.ts';
import { CloudWatchMetricsReader, queueNameOf } from './cloudwatch.ts';
import { AwsError, AwsErrorCode, ErrorClass } from './errors.ts';
import { AwsMetrics } from './metrics.ts';

describe('CloudWatchMetricsReader against awssim', () => {
  let sim: Simulation;
  let server: AwsSimServer;
  let client: CloudWatchClient;
  let metrics: AwsMetrics;
  let reader: CloudWatchMetricsReader;
  before(async () => {
    sim = createSimulation({
      scenario: parseScenario({
        name: 'cw-reader',
        queues: [{ name: 'orders' }, { name: 'steady' }],
        functions: [
          { name: 'worker', reservedConcurrency: 3, duration: { kind: 'constant', ms: 1000 } },
          { name: 'varied', duration: { kind: 'uniform', minMs: 200, maxMs: 1800 } },
          { name: 'idle', duration: { kind: 'constant', ms: 1000 } },
        ],
        eventSourceMappings: [
          { function: 'worker', queue: 'orders', batchSize: 10 },
          { function: 'varied', queue: 'steady', batchSize: 10 },
        ],
        traffic: { orders: [{ kind: 'constant', rate: 50 }], steady: [{ kind: 'constant', rate: 20 }] },
      }),
    });
    await sim.runUntil(12 * 60_000);
    server = await startServer(sim, { port: 0 });
    client = new CloudWatchClient(clientConfig(server.url));
    metrics = new AwsMetrics(new Registry());
    reader = new CloudWatchMetricsReader(client, { metrics, now: () => sim.now() });
  });
  after(async () => {
    client.destroy();
    await server.close();
  });

  it('reads the backlog from the newest published minutes and the visible series of the window', async () => {
    const m = await reader.queueMetrics('http://127.0.0.1:4566/000000000000/orders');
    const since = sim.now() - sim.world.origin - 5 * 60_000; // the default 300 s window
    const visible = sim.cloudWatch('orders', 'ApproximateNumberOfMessagesVisible', { startMs: since });
    const inFlight = sim.cloudWatch('orders', 'ApproximateNumberOfMessagesNotVisible', { startMs: since });
    assert.ok(visible.length >= 3, `published minutes in the window: ${visible.length}`);
    assert.deepEqual(
      m.datapoints,
      visible.map((d) => ({ timestamp: d.timestamp, value: d.average })),
    );
    assert.equal(m.visible, Math.round(visible.at(-1)?.average ?? -1));
    assert.equal(m.inFlight, Math.round(inFlight.at(-1)?.average ?? -1));
    assert.ok(m.visible > 1000, `a growing backlog: ${m.visible}`);
    assert.equal(m.newestMinute, visible.at(-1)?.timestamp);
    assert.equal(m.observedAt, sim.now());
  });

  it('takes the queue as a name, URL or ARN', () => {
    const names = {
      name: 'orders',
      url: 'https://sqs.us-east-1.amazonaws.com/123456789012/orders',
      arn: 'arn:aws:sqs:us-east-1:123456789012:orders',
    } satisfies Record<string, string>;
    for (const [kind, ref] of Object.entries(names)) assert.equal(queueNameOf(ref), 'orders', kind);
  });

  it("reads the function's own metrics: concurrency, invocations, throttles, duration", async () => {
    const f = await reader.functionMetrics('worker');
    const since = sim.now() - sim.world.origin - 5 * 60_000; // the default 300 s window
    const sum = (metric: 'Invocations' | 'Throttles') =>
      sim.functionCloudWatch('worker', metric, { startMs: since }).reduce((s, d) => s + d.sum, 0);
    assert.equal(f.concurrentExecutions, 3);
    assert.equal(f.invocations, sum('Invocations'));
    assert.equal(f.throttles, sum('Throttles'));
    assert.ok(f.throttles > 0, 'the mapping outruns reserved concurrency 3');
    assert.equal(f.durationMs, 1000);
  });

  it("reads the function's mean Duration over the window's published minutes, each invocation weighing alike", async () => {
    const d = await reader.functionDuration('varied');
    const start = Math.floor((sim.now() - 300_000) / 60_000) * 60_000 - sim.world.origin;
    const published = sim.functionCloudWatch('varied', 'Duration', { startMs: start });
    assert.ok(published.length >= 3, `published minutes in the window: ${published.length}`);
    const count = published.reduce((a, p) => a + p.sampleCount, 0);
    const weighted = published.reduce((a, p) => a + p.sum, 0) / count;
    const ofMinutes = published.reduce((a, p) => a + p.average, 0) / published.length;
    assert.ok(
      d.durationMs !== undefined && Math.abs(d.durationMs - weighted) < 1e-6,
      `${d.durationMs} vs ${weighted}`,
    );
    assert.notEqual(weighted, ofMinutes, 'the mean of the minutes would be another number');
    assert.ok(d.durationMs > 800 && d.durationMs < 1200, `uniform 200–1800 ms: ${d.durationMs}`);
    assert.equal(d.periodStart, start + sim.world.origin);
    assert.equal((await reader.functionDuration('worker')).durationMs, 1000);
    const idle = await reader.functionDuration('idle');
    assert.equal(idle.durationMs, undefined, 'a function nothing invoked has no Duration');
  });

  it('counts each call and classifies failures as the other adapters do', async () => {
    const ok = async () =>
      (await metrics.calls.get()).values.find((v) => v.labels.outcome === 'success')?.value;
    const before = (await ok()) ?? 0;
    await reader.queueMetrics('orders');
    assert.equal(await ok(), before + 1);

    sim.injectFault('cloudwatch:GetMetricData', { throttle: true });
    await assert.rejects(
      reader.queueMetrics('orders'),
      (e: unknown) =>
        e instanceof AwsError && e.code === AwsErrorCode.Throttled && e.errorClass === ErrorClass.Transient,
    );
    sim.injectFault('cloudwatch:GetMetricData', { errorRate: 1 });
    await assert.rejects(
      reader.functionMetrics('worker'),
      (e: unknown) => e instanceof AwsError && e.code === AwsErrorCode.Unavailable,
    );
    sim.clearFaults();
    const throttled = (await metrics.throttles.get()).values.find(
      (v) => v.labels.service === 'cloudwatch' && v.labels.operation === 'GetMetricData',
    );
    assert.equal(throttled?.value, 1);
  });

  it('gives up when its AbortSignal fires', async () => {
    const aborted = AbortSignal.abort();
    await assert.rejects(
      reader.queueMetrics('orders', aborted),
      (e: unknown) => e instanceof AwsError && e.errorClass === ErrorClass.Transient,
    );
  });
});
