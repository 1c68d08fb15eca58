// The mapping actuators end to end (issue 15): the manager as its own process drives only the SQS
// event source mapping in awssim over the Lambda wire protocol — ScalingConfig.MaximumConcurrency,
// or ProvisionedPollerConfig of a mapping in provisioned mode — and gives it back on deletion.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type LambdaClient, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { ControlPlane } from '../../src/envtest/index.ts';
import { type Awssim, scenarioFile, waitFor } from '../../src/envtest/processes.ts';
import {
  awsClients,
  condition,
  getScaler,
  reservedConcurrency,
  type Stack,
  sendBurst,
  servedCalls,
  startStack,
} from './helpers.ts';

const ns = 'e2e-actuators';
let cp: ControlPlane;
let sim: Awssim;
let sqs: SQSClient;
let lambda: LambdaClient;

// Two queues, two functions slow enough for a backlog to build; one mapping in standard mode with a
// cap of its own (300), one in provisioned mode (3–50 pollers).
const scenario = scenarioFile('actuators', [
  'seed: 11',
  'queues:',
  '  - { name: capped, visibilityTimeout: 10 }',
  '  - { name: polled, visibilityTimeout: 10 }',
  'functions:',
  '  - { name: capped-fn, timeout: 3, duration: { kind: constant, ms: 1000 }, per: batch }',
  '  - { name: polled-fn, timeout: 3, duration: { kind: constant, ms: 1000 }, per: batch }',
  'eventSourceMappings:',
  '  - { function: capped-fn, queue: capped, batchSize: 10, maximumConcurrency: 300 }',
  '  - { function: polled-fn, queue: polled, batchSize: 10, provisionedPollers: { minimum: 3, maximum: 50 } }',
]);

const manifest = (name: string, queue: string, fn: string, fields: string) => `
apiVersion: aws.operators.jittakal.io/v1alpha1
kind: LambdaConcurrencyScaler
metadata:
  name: ${name}
spec:
  awsSQSName: ${queue}
  awsSQSMsgCountThreshold: 20
  awsLambdaName: ${fn}
  pollingIntervalSeconds: 2
${fields}`;

/** The mapping of `fn` as ListEventSourceMappings shows it over the wire. */
async function mappingOf(fn: string) {
  const out = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: fn }));
  const m = out.EventSourceMappings?.[0];
  assert.ok(m !== undefined, `${fn} has a mapping`);
  return m;
}

const calls = () => servedCalls(sim);

let stack: Stack;
before(async () => {
  stack = await startStack(ns, scenario);
  ({ cp, sim } = stack);
  ({ sqs, lambda } = awsClients(sim.endpoint));
});

after(() => stack?.stop());

describe('the mapping actuators, end to end', () => {
  it('scales the mapping’s MaximumConcurrency alone, never reserves, and restores the cap on deletion', async () => {
    const spec = [
      '  actuator: EventSourceMaximumConcurrency',
      '  awsLambdaMinConcurrency: 2',
      '  awsLambdaMaxConcurrency: 20',
      '  awsLambdaStepConcurrency: 6',
    ].join('\n');
    await cp.kubectl(['apply', '-n', ns, '-f', '-'], manifest('capped', 'capped', 'capped-fn', spec));
    await waitFor(
      'the cap at the minimum',
      async () => ((await mappingOf('capped-fn')).ScalingConfig?.MaximumConcurrency === 2 ? true : undefined),
      30_000,
    );
    await sendBurst(sqs, 'capped', 200);
    const caps: number[] = [];
    await waitFor(
      'the cap at the maximum',
      async () => {
        const cap = (await mappingOf('capped-fn')).ScalingConfig?.MaximumConcurrency ?? 0;
        caps.push(cap);
        return cap === 20 ? cap : undefined;
      },
      60_000,
      200,
    );
    assert.ok(
      caps.every((c) => c >= 2 && c <= 20),
      `within the bounds: ${caps.join(',')}`,
    );
    const s = await getScaler(cp, ns, 'capped');
    assert.equal(s.status?.eventSourceMaximumConcurrency, 20);
    assert.deepEqual(s.status?.originalConcurrency?.eventSources?.[0]?.maximumConcurrency, 300);
    assert.match(condition(s, 'ConcurrencyApplied')?.message ?? '', /MaximumConcurrency 20/);
    assert.equal(await reservedConcurrency(lambda, 'capped-fn'), undefined, 'no reservation, ever');

    await cp.kubectl(['delete', 'lcs', 'capped', '-n', ns, '--timeout=30s']);
    assert.equal((await mappingOf('capped-fn')).ScalingConfig?.MaximumConcurrency, 300, 'the cap it had');
    assert.equal(await reservedConcurrency(lambda, 'capped-fn'), undefined);
    const served = await calls();
    assert.equal(served['lambda:PutFunctionConcurrency'], undefined, 'never PutFunctionConcurrency');
    assert.equal(served['lambda:DeleteFunctionConcurrency'], undefined, 'never DeleteFunctionConcurrency');
    assert.equal(served['lambda:GetAccountSettings'], undefined, 'no headroom claim on the account');
  });

  it('scales a provisioned-mode mapping’s MaximumPollers and restores its ProvisionedPollerConfig on deletion', async () => {
    const spec = [
      '  actuator: ProvisionedPollers',
      '  awsLambdaMinConcurrency: 20',
      '  awsLambdaMaxConcurrency: 100',
      '  awsLambdaStepConcurrency: 30',
    ].join('\n');
    await cp.kubectl(['apply', '-n', ns, '-f', '-'], manifest('polled', 'polled', 'polled-fn', spec));
    await waitFor(
      'the pollers at the minimum',
      async () => {
        const p = (await mappingOf('polled-fn')).ProvisionedPollerConfig;
        return p?.MinimumPollers === 2 && p.MaximumPollers === 2 ? true : undefined;
      },
      30_000,
    );
    await sendBurst(sqs, 'polled', 300);
    await waitFor(
      'MaximumPollers at the maximum / 10',
      async () =>
        (await mappingOf('polled-fn')).ProvisionedPollerConfig?.MaximumPollers === 10 ? true : undefined,
      60_000,
      200,
    );
    const s = await getScaler(cp, ns, 'polled');
    assert.deepEqual(s.status?.provisionedPollers, { minimumPollers: 2, maximumPollers: 10 });
    assert.equal(s.status?.concurrency, 100);
    assert.deepEqual(s.status?.originalConcurrency?.eventSources?.[0]?.provisionedPollers, {
      minimumPollers: 3,
      maximumPollers: 50,
    });
    assert.equal(await reservedConcurrency(lambda, 'polled-fn'), undefined);

    await cp.kubectl(['delete', 'lcs', 'polled', '-n', ns, '--timeout=30s']);
    const restored = (await mappingOf('polled-fn')).ProvisionedPollerConfig;
    assert.deepEqual(
      { min: restored?.MinimumPollers, max: restored?.MaximumPollers },
      { min: 3, max: 50 },
      'the pollers it had',
    );
  });

  it('is Stalled with a clear condition when provisioned pollers are asked of a standard mapping', async () => {
    const spec = [
      '  actuator: ProvisionedPollers',
      '  awsLambdaMinConcurrency: 20',
      '  awsLambdaMaxConcurrency: 100',
      '  awsLambdaStepConcurrency: 20',
    ].join('\n');
    await cp.kubectl(['apply', '-n', ns, '-f', '-'], manifest('standard', 'capped', 'capped-fn', spec));
    const s = await waitFor(
      'Stalled',
      async () => {
        const s = await getScaler(cp, ns, 'standard');
        return condition(s, 'Stalled')?.status === 'True' ? s : undefined;
      },
      30_000,
    );
    assert.equal(condition(s, 'Stalled')?.reason, 'EventSourceMode');
    assert.match(condition(s, 'Stalled')?.message ?? '', /is not in provisioned mode/);
    const m = await mappingOf('capped-fn');
    assert.equal(m.ProvisionedPollerConfig, undefined, 'the operator never turns provisioned mode on');
    assert.equal(m.ScalingConfig?.MaximumConcurrency, 300);
    await cp.kubectl(['delete', 'lcs', 'standard', '-n', ns, '--timeout=30s']);
  });
});
