// The recommended configuration end to end (docs/policies.md, "Recommended settings"): the
// manager as its own process reads the function's mean Duration from awssim's CloudWatch over the
// wire, sizes with it, and keeps the mapping's MaximumConcurrency at the reserved concurrency.
// Every other test of the Duration drives the reconciler in-process or the reader alone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type LambdaClient, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import type { ControlPlane } from '../../src/envtest/index.ts';
import { type Awssim, scenarioFile, waitFor } from '../../src/envtest/processes.ts';
import {
  awsClients,
  condition,
  getScaler,
  reservedConcurrency,
  type Stack,
  servedCalls,
  startStack,
} from './helpers.ts';

const ns = 'e2e-recommended';
const name = 'jobs';
let cp: ControlPlane;
let sim: Awssim;
let lambda: LambdaClient;

// A function taking 2 s a batch of 10 (5 messages/s per unit) at 10 messages/s until the test
// raises the load. The test's own assumption: CloudWatch publishes each minute 1–2 s after it ends
// (AWS: 1–2 minutes, awssim's default), so the first Duration reaches the operator's
// once-a-minute read about a minute in rather than two or three.
const scenario = scenarioFile('recommended', [
  'seed: 5',
  'model:',
  '  cloudWatch: { delaySecondsMin: 1, delaySecondsMax: 2 }',
  'queues:',
  '  - { name: jobs, visibilityTimeout: 30 }',
  'functions:',
  '  - { name: jobs-fn, timeout: 10, duration: { kind: constant, ms: 2000 }, per: batch }',
  'eventSourceMappings:',
  '  - { function: jobs-fn, queue: jobs, batchSize: 10 }',
  'traffic:',
  '  jobs: [{ kind: constant, rate: 10 }]',
]);

// The recommended settings, as docs/policies.md gives them, on the original's fields.
const manifest = `
apiVersion: aws.operators.jittakal.io/v1alpha1
kind: LambdaConcurrencyScaler
metadata:
  name: ${name}
spec:
  awsSQSName: jobs
  awsSQSMsgCountThreshold: 50
  awsLambdaName: jobs-fn
  awsLambdaMinConcurrency: 2
  awsLamndaMaxConcurrency: 40
  awsLambdaStepConcurrency: 5
  pollingIntervalSeconds: 2
  policy:
    type: LatencySLO
    latencySLO:
      maxWaitSeconds: 10
      serviceTimeSource: CloudWatch
  eventSourceMapping:
    manageMaximumConcurrency: true
`;

const calls = () => servedCalls(sim);

/** The mapping's MaximumConcurrency over the wire. */
async function mappingCap(): Promise<number | undefined> {
  const out = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: 'jobs-fn' }));
  return out.EventSourceMappings?.[0]?.ScalingConfig?.MaximumConcurrency;
}

let stack: Stack;
before(async () => {
  stack = await startStack(ns, scenario);
  ({ cp, sim } = stack);
  ({ lambda } = awsClients(sim.endpoint));
});

after(() => stack?.stop());

describe('the recommended configuration, end to end', () => {
  it("sizes from the function's mean Duration read from CloudWatch over the wire, within bounds, the mapping capped", async () => {
    await cp.kubectl(['apply', '-n', ns, '-f', '-'], manifest);
    // The operator reads the Duration at its first poll (nothing is published yet) and a minute
    // later, when the first minute of invocations is: after that second read, a burst.
    await waitFor(
      'the second read of the Duration',
      async () => ((await calls())['cloudwatch:GetMetricData']?.ok ?? 0) >= 2 || undefined,
      150_000,
      1000,
    );
    await sim.admin('POST', '/traffic', { queue: 'jobs', specs: [{ kind: 'constant', rate: 100 }] });
    const seen: [number | undefined, number | undefined][] = [];
    const reason = await waitFor(
      "a scaling decision sized from the function's mean Duration",
      async () => {
        seen.push([await reservedConcurrency(lambda, 'jobs-fn'), await mappingCap()]);
        const why = (await getScaler(cp, ns, name)).status?.lastScaleReason ?? '';
        return /the function's mean Duration/.test(why) ? why : undefined;
      },
      30_000,
      500,
    );
    // 2 s a batch of 10 (a cold start now and then adds to the mean): about 5 messages/s per unit,
    // the batch over the Duration read (both rounded for the message).
    const m = /at ([\d.]+)\/s per unit \(a batch of 10 per ([\d.]+) s, the function's mean Duration\)/.exec(
      reason,
    );
    assert.ok(m !== null, reason);
    const [mu, duration] = [Number(m[1]), Number(m[2])];
    assert.ok(duration >= 1.95 && duration < 2.3, `mean Duration ${duration} s for a 2 s function`);
    assert.ok(Math.abs(mu - 10 / duration) <= 0.15, `${mu}/s per unit from ${duration} s`);

    // Within the bounds at every look, and the mapping's cap following the reservation: raised
    // after it, lowered before it, so a look between the two writes may see them apart, never for
    // long.
    const outside = seen.filter(([r]) => r !== undefined && (r < 2 || r > 40));
    assert.deepEqual(outside, [], 'reserved concurrency always within [2, 40]');
    await waitFor(
      'the cap equal to the reservation',
      async () => {
        const [r, cap] = [await reservedConcurrency(lambda, 'jobs-fn'), await mappingCap()];
        return r !== undefined && cap === Math.max(2, r) ? true : undefined;
      },
      10_000,
      200,
    );
    const s = await getScaler(cp, ns, name);
    assert.equal(condition(s, 'Ready')?.status, 'True', JSON.stringify(s.status?.conditions));
  });
});
