// The /scale subresource against the test control plane, with kubectl scale: spec.replicas pins the
// reserved concurrency within the bounds until it is removed, and status.replicas / status.selector
// answer an HPA or KEDA. The manager and awssim run as real processes.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { type ControlPlane, CRD_DIR, startControlPlane } from '../../src/envtest/index.ts';
import {
  type Awssim,
  type Manager,
  startAwssim,
  startManager,
  waitFor,
} from '../../src/envtest/processes.ts';
import { awsClients, condition, getScaler, reservedConcurrency } from './helpers.ts';

const ns = 'scale';
let cp: ControlPlane;
let sim: Awssim;
let manager: Manager;
let lambda: LambdaClient;

const scaler = `
apiVersion: aws.operators.jittakal.io/v1alpha1
kind: LambdaConcurrencyScaler
metadata:
  name: orders
spec:
  awsSQSName: orders
  awsSQSMsgCountThreshold: 100
  awsLambdaName: order-processor
  awsLambdaMinConcurrency: 2
  awsLambdaMaxConcurrency: 20
  awsLambdaStepConcurrency: 20
  pollingIntervalSeconds: 2
`;

interface Scale {
  spec: { replicas?: number };
  status: { replicas: number; selector?: string };
}
const scale = async () =>
  JSON.parse(
    await cp.kubectl(['get', 'lcs', 'orders', '-n', ns, '--subresource=scale', '-o', 'json']),
  ) as Scale;
const reserved = () => reservedConcurrency(lambda, 'order-processor');
const reservedIs = (n: number) => async () => ((await reserved()) === n ? true : undefined);

before(async () => {
  [cp, sim] = await Promise.all([
    startControlPlane({ crds: [CRD_DIR] }),
    startAwssim({ scenario: join(import.meta.dirname, 'scenario.yaml') }),
  ]);
  await cp.kubectl(['create', 'namespace', ns]);
  manager = await startManager({ kubeconfig: cp.kubeconfig, awsEndpoint: sim.endpoint });
  ({ lambda } = awsClients(sim.endpoint));
  await cp.kubectl(['apply', '-n', ns, '-f', '-'], scaler);
  await waitFor(
    'Ready at min',
    async () => {
      const s = await getScaler(cp, ns, 'orders');
      return condition(s, 'Ready')?.status === 'True' && s.status?.replicas === 2 ? true : undefined;
    },
    30_000,
  );
});

after(async () => {
  const code = await manager?.stop();
  if (code !== 0 && code !== undefined) console.error(manager?.output());
  await sim?.stop();
  await cp?.stop();
});

describe('the /scale subresource', () => {
  it('has status.replicas and a selector naming the scaler, and no /scale to read until something pins it', async () => {
    const s = await getScaler(cp, ns, 'orders');
    assert.equal(s.status?.replicas, 2);
    assert.equal(s.status?.selector, `aws.operators.jittakal.io/scaler-uid=${s.metadata.uid}`);
    // The API server serves /scale only with spec.replicas set: an HPA or KEDA needs it set first.
    const r = await cp.kubectlResult(['get', 'lcs', 'orders', '-n', ns, '--subresource=scale', '-o', 'json']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec replicas field "\.spec\.replicas" does not exist/);
  });

  it('pins the reserved concurrency with kubectl scale, whatever the idle queue says', async () => {
    await cp.kubectl(['scale', 'lcs/orders', '-n', ns, '--replicas=7']);

    await waitFor('reserved 7', reservedIs(7), 20_000);
    const pinned = await waitFor(
      'status.replicas 7',
      async () => {
        const sc = await scale();
        return sc.status.replicas === 7 ? sc : undefined;
      },
      10_000,
    );
    assert.equal(pinned.spec.replicas, 7);
    assert.match(pinned.status.selector ?? '', /^aws\.operators\.jittakal\.io\/scaler-uid=/);
    const s = await getScaler(cp, ns, 'orders');
    assert.match(s.status?.lastScaleReason ?? '', /^Pinned: spec\.replicas pins the concurrency at 7/);
    // Polls go on and the empty queue would step down to 2: the pin holds.
    await new Promise((r) => setTimeout(r, 5_000));
    assert.equal(await reserved(), 7);
  });

  it('clamps a pin above the maximum to the maximum', async () => {
    await cp.kubectl(['scale', 'lcs/orders', '-n', ns, '--replicas=500']);

    await waitFor('reserved 20 (the maximum)', reservedIs(20), 20_000);
    assert.equal((await scale()).spec.replicas, 500, 'the request stands as written');
  });

  it('hands the concurrency back to the policy when spec.replicas is removed', async () => {
    await cp.kubectl([
      'patch',
      'lcs',
      'orders',
      '-n',
      ns,
      '--type=json',
      '-p',
      '[{"op":"remove","path":"/spec/replicas"}]',
    ]);

    await waitFor('back at the minimum on the idle queue', reservedIs(2), 20_000);
    const s = await getScaler(cp, ns, 'orders');
    assert.match(s.status?.lastScaleReason ?? '', /^BacklogBelowThreshold/);
  });
});
