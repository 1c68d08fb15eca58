// Tenants that get in each other's way, with the real manager, API server and awssim: two scalers
// naming one function, a scaler whose function is renamed under it, deletions while the manager is
// down, and a namespace the administrator has not allowed the operator's own identity.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { type ControlPlane, CRD_DIR, startControlPlane } from '../../src/envtest/index.ts';
import {
  type Awssim,
  type Manager,
  scenarioFile,
  startAwssim,
  startManager,
  waitFor,
} from '../../src/envtest/processes.ts';
import { awsClients, condition, getScaler, reservedConcurrency } from '../e2e/helpers.ts';

let cp: ControlPlane;
let sim: Awssim;
let manager: Manager;
let lambda: LambdaClient;

const scaler = (name: string, fn: string, min: number) => `
apiVersion: aws.operators.jittakal.io/v1alpha1
kind: LambdaConcurrencyScaler
metadata: { name: ${name} }
spec:
  awsSQSName: orders
  awsSQSMsgCountThreshold: 1000
  awsLambdaName: ${fn}
  awsLambdaMinConcurrency: ${min}
  awsLambdaMaxConcurrency: 50
  awsLambdaStepConcurrency: 1
  pollingIntervalSeconds: 1
`;

const start = () =>
  startManager({
    kubeconfig: cp.kubeconfig,
    awsEndpoint: sim.endpoint,
    args: ['--allow-operator-identity-namespaces', 'team-a'],
  });

const reserved = (fn: string) => reservedConcurrency(lambda, fn);
const until = (what: string, fn: string, value: number | undefined) =>
  waitFor(what, async () => ((await reserved(fn)) === value ? true : undefined), 20_000);

before(async () => {
  const scenario = scenarioFile('tenants', [
    'queues: [{ name: orders }]',
    'functions:',
    '  - { name: fn-f, reservedConcurrency: 3 }',
    '  - { name: fn-c }',
    '  - { name: fn-d, reservedConcurrency: 4 }',
    'eventSourceMappings:',
    ...['fn-f', 'fn-c', 'fn-d'].map((f) => `  - { function: ${f}, queue: orders }`),
  ]);
  [cp, sim] = await Promise.all([startControlPlane({ crds: [CRD_DIR] }), startAwssim({ scenario })]);
  for (const ns of ['team-a', 'team-b']) await cp.kubectl(['create', 'namespace', ns]);
  manager = await start();
  ({ lambda } = awsClients(sim.endpoint));
});

after(async () => {
  await manager?.stop();
  await sim?.stop();
  await cp?.stop();
});

describe('tenants in one cluster', { timeout: 180_000 }, () => {
  it('lets one scaler hold a function; the second never writes and takes over after a delete', async () => {
    await cp.kubectl(['apply', '-n', 'team-a', '-f', '-'], scaler('first', 'fn-d', 6));
    await until('first to hold fn-d at 6', 'fn-d', 6);
    await cp.kubectl(['apply', '-n', 'team-a', '-f', '-'], scaler('second', 'fn-d', 9));
    const second = await waitFor(
      'second to be told',
      async () => {
        const s = await getScaler(cp, 'team-a', 'second');
        return condition(s, 'Stalled')?.reason === 'FunctionClaimed' ? s : undefined;
      },
      20_000,
    );
    assert.match(condition(second, 'Stalled')?.message ?? '', /scaled by team-a\/first/);
    await new Promise((r) => setTimeout(r, 3000)); // three of second's polls
    assert.equal(await reserved('fn-d'), 6, 'second never wrote');

    await cp.kubectl(['delete', 'lcs', 'first', '-n', 'team-a', '--timeout=30s']);
    await until('second to take over', 'fn-d', 9);
    const after = await getScaler(cp, 'team-a', 'second');
    assert.equal(after.status?.originalConcurrency?.reserved, 4, 'what fn-d had before any scaler');
  });

  it('gives a renamed function back, and restores the new one when deleted while the manager is down', async () => {
    await cp.kubectl(['apply', '-n', 'team-a', '-f', '-'], scaler('renamed', 'fn-f', 10));
    await until('fn-f at 10', 'fn-f', 10);
    await cp.kubectl(['apply', '-n', 'team-a', '-f', '-'], scaler('renamed', 'fn-c', 10));
    await until('fn-c at 10', 'fn-c', 10);
    assert.equal(await reserved('fn-f'), 3, 'fn-f has its own value back');

    await manager.stop();
    await cp.kubectl(['delete', 'lcs', 'renamed', '-n', 'team-a', '--wait=false']);
    manager = await start();
    await until('fn-c without a reservation again', 'fn-c', undefined);
    await waitFor(
      'the scaler gone',
      async () =>
        (await cp.kubectlResult(['get', 'lcs', 'renamed', '-n', 'team-a'])).code !== 0 ? true : undefined,
      20_000,
    );
    assert.equal(await reserved('fn-f'), 3);
  });

  it("refuses the operator's identity to a namespace the administrator did not list", async () => {
    const callsBefore = await sim.admin<Record<string, Record<string, number>>>('GET', '/callers');
    await cp.kubectl(['apply', '-n', 'team-b', '-f', '-'], scaler('sneaky', 'fn-f', 20));
    const s = await waitFor(
      'NotAllowed',
      async () => {
        const got = await getScaler(cp, 'team-b', 'sneaky');
        return condition(got, 'Stalled')?.reason === 'NotAllowed' ? got : undefined;
      },
      20_000,
    );
    assert.match(condition(s, 'Stalled')?.message ?? '', /may not use the operator's own AWS identity/);
    const callsAfter = await sim.admin<Record<string, Record<string, number>>>('GET', '/callers');
    assert.equal(await reserved('fn-f'), 3);
    assert.deepEqual(
      callsAfter.test?.['lambda:PutFunctionConcurrency'] ?? 0,
      callsBefore.test?.['lambda:PutFunctionConcurrency'] ?? 0,
    );
  });
});
