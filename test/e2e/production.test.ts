// The operator as it runs in a shared cluster: as its ServiceAccount with only the generated RBAC,
// with per-scaler credentials from Secrets in the scaler's own namespace, never leaking them, and
// surviving a SIGKILL mid-burst without a burst of changes or the loss of its stabilization history.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { type ControlPlane, CRD_DIR, startControlPlane } from '../../src/envtest/index.ts';
import {
  type Awssim,
  type Manager,
  startAwssim,
  startManager,
  waitFor,
} from '../../src/envtest/processes.ts';
import { awsClients, condition, getScaler, reservedConcurrency, sendBurst } from './helpers.ts';

const root = join(import.meta.dirname, '..', '..');
const system = 'lambda-con-scaler-operator-system';
const SECRET_KEY_ID = 'AKIAE2ESECRETKEY0001';
const SECRET_VALUE = 'e2e-secret-Do-Not-Leak-7f3a9Qx';
const ROTATED_KEY_ID = 'AKIAE2EROTATEDKEY002';
let cp: ControlPlane;
let sim: Awssim;
let manager: Manager;
let lambda: LambdaClient;
let sqs: SQSClient;
let managerKubeconfig: string;

const scalerYaml = (name: string, extra: string) => `
apiVersion: aws.operators.jittakal.io/v1alpha1
kind: LambdaConcurrencyScaler
metadata:
  name: ${name}
spec:
  awsSQSName: orders
  awsSQSMsgCountThreshold: 100
  awsLambdaName: order-processor
  awsLambdaMinConcurrency: 2
  awsLambdaMaxConcurrency: 40
  awsLambdaStepConcurrency: 5
  pollingIntervalSeconds: 2
${extra}`;

const get = (namespace: string, name: string) => getScaler(cp, namespace, name);
const reserved = () => reservedConcurrency(lambda, 'order-processor');
async function startOperator(): Promise<Manager> {
  return startManager({
    kubeconfig: managerKubeconfig,
    awsEndpoint: sim.endpoint,
    args: ['--leader-elect', '--leader-election-namespace', system, '--secret-cache-seconds', '2'],
    env: { AWS_ACCESS_KEY_ID: 'operator-default-key', AWS_SECRET_ACCESS_KEY: 'operator-default-secret' },
  });
}

before(async () => {
  [cp, sim] = await Promise.all([
    startControlPlane({ crds: [CRD_DIR] }),
    startAwssim({ scenario: join(import.meta.dirname, 'scenario.yaml') }),
  ]);
  // Install the operator's RBAC exactly as `make deploy` does, and act as its ServiceAccount.
  await cp.kubectl(['create', 'namespace', system]);
  const rendered = await cp.kubectl(['kustomize', join(root, 'config/default')]);
  await cp.kubectl(['apply', '--server-side', '-f', '-'], rendered);
  const token = (
    await cp.kubectl([
      'create',
      'token',
      'lambda-con-scaler-operator-controller-manager',
      '-n',
      system,
      '--duration=1h',
    ])
  ).trim();
  managerKubeconfig = cp.writeKubeconfig('manager', token);
  for (const ns of ['team-a', 'team-b', 'team-c']) await cp.kubectl(['create', 'namespace', ns]);
  // team-a's admin lets the operator read Secrets there; team-c's does not.
  for (const ns of ['team-a', 'team-b']) {
    await cp.kubectl([
      'create',
      'rolebinding',
      'lambda-con-scaler-operator-secrets',
      '-n',
      ns,
      '--clusterrole=lambda-con-scaler-operator-secret-reader-role',
      `--serviceaccount=${system}:lambda-con-scaler-operator-controller-manager`,
    ]);
  }
  for (const ns of ['team-a', 'team-b', 'team-c']) {
    await cp.kubectl([
      'create',
      'secret',
      'generic',
      'aws-creds',
      '-n',
      ns,
      `--from-literal=AWS_ACCESS_KEY_ID=${SECRET_KEY_ID}`,
      `--from-literal=AWS_SECRET_ACCESS_KEY=${SECRET_VALUE}`,
    ]);
  }
  manager = await startOperator();
  ({ sqs, lambda } = awsClients(sim.endpoint));
});

after(async () => {
  await manager?.stop();
  await sim?.stop();
  await cp?.stop();
});

describe('the operator in a shared cluster', () => {
  it('works as its ServiceAccount with only the generated ClusterRole, which grants no Secret access', async () => {
    const role = JSON.parse(
      await cp.kubectl(['get', 'clusterrole', 'lambda-con-scaler-operator-manager-role', '-o', 'json']),
    );
    assert.ok(
      role.rules.every((r: { resources: string[] }) => !r.resources.includes('secrets')),
      'no cluster-wide Secret access',
    );
    const can = await cp.kubectlResult([
      '--kubeconfig',
      managerKubeconfig,
      'auth',
      'can-i',
      'get',
      'secrets',
      '-n',
      'team-c',
    ]);
    assert.equal(can.stdout.trim(), 'no');

    await cp.kubectl(['apply', '-n', 'team-a', '-f', '-'], scalerYaml('default-identity', ''));
    await waitFor(
      'Ready',
      async () => {
        const s = await get('team-a', 'default-identity');
        return condition(s, 'Ready')?.status === 'True' && s.status?.concurrency === 2 ? true : undefined;
      },
      30_000,
    );
    const lease = JSON.parse(
      await cp.kubectl(['get', 'lease', 'lambda-con-scaler-operator-leader', '-n', system, '-o', 'json']),
    );
    assert.match(lease.spec.holderIdentity, /_\d+$/, 'it leads through a Lease in its own namespace');
    await cp.kubectl(['delete', 'lcs', 'default-identity', '-n', 'team-a', '--timeout=30s']);
  });

  it("uses a Secret from the scaler's own namespace", async () => {
    await cp.kubectl(
      ['apply', '-n', 'team-b', '-f', '-'],
      scalerYaml('with-secret', '  credentials:\n    secretRef:\n      name: aws-creds\n'),
    );
    await waitFor(
      'Ready with the Secret',
      async () =>
        condition(await get('team-b', 'with-secret'), 'Ready')?.status === 'True' ? true : undefined,
      30_000,
    );
    const callers = await sim.admin<Record<string, Record<string, number>>>('GET', '/callers');
    assert.ok(
      (callers[SECRET_KEY_ID]?.['lambda:GetFunction'] ?? 0) >= 1,
      'it called AWS with the Secret key',
    );

    // Rotation: a new key in the same Secret is used from the next poll, without a restart.
    const yaml = await cp.kubectl([
      'create',
      'secret',
      'generic',
      'aws-creds',
      '-n',
      'team-b',
      `--from-literal=AWS_ACCESS_KEY_ID=${ROTATED_KEY_ID}`,
      `--from-literal=AWS_SECRET_ACCESS_KEY=${SECRET_VALUE}-2`,
      '--dry-run=client',
      '-o',
      'yaml',
    ]);
    await cp.kubectl(['apply', '-f', '-'], yaml);
    await waitFor(
      'the rotated key in use',
      async () => {
        const c = await sim.admin<Record<string, Record<string, number>>>('GET', '/callers');
        return (c[ROTATED_KEY_ID]?.['lambda:GetFunction'] ?? 0) >= 1 ? true : undefined;
      },
      20_000,
    );
  });

  it('assumes the role a scaler names, with the Secret as the base identity, and acts with its credentials', async () => {
    // One scaler holds a function at a time: let go of it first.
    await cp.kubectl(['delete', 'lcs', 'with-secret', '-n', 'team-b', '--timeout=30s']);
    await cp.kubectl(
      ['apply', '-n', 'team-b', '-f', '-'],
      scalerYaml(
        'with-role',
        '  credentials:\n    secretRef:\n      name: aws-creds\n    roleArn: arn:aws:iam::123456789012:role/lcs-scaler\n    externalId: e2e-external-id\n',
      ),
    );
    await waitFor(
      'Ready with the role',
      async () =>
        condition(await get('team-b', 'with-role'), 'Ready')?.status === 'True' ? true : undefined,
      30_000,
    );
    const byRole = await sim.admin<Record<string, Record<string, number>>>('GET', '/callers?by=role');
    const role = byRole['arn:aws:iam::123456789012:role/lcs-scaler'] ?? {};
    assert.ok((role['lambda:GetFunction'] ?? 0) >= 1, JSON.stringify(byRole));
    assert.ok((role['sqs:GetQueueAttributes'] ?? 0) >= 1);
    assert.ok(
      (byRole[ROTATED_KEY_ID]?.['sts:AssumeRole'] ?? 0) >= 1,
      "the Secret's (rotated) key assumed the role",
    );
  });

  it('refuses a Secret in another namespace, and one it may not read, with clear conditions', async () => {
    await cp.kubectl(
      ['apply', '-n', 'team-a', '-f', '-'],
      scalerYaml(
        'other-namespace',
        '  credentials:\n    secretRef:\n      name: aws-creds\n      namespace: team-b\n',
      ),
    );
    await cp.kubectl(
      ['apply', '-n', 'team-c', '-f', '-'],
      scalerYaml('no-binding', '  credentials:\n    secretRef:\n      name: aws-creds\n'),
    );
    const other = await waitFor(
      'Stalled',
      async () => {
        const s = await get('team-a', 'other-namespace');
        return condition(s, 'Stalled')?.status === 'True' ? s : undefined;
      },
      30_000,
    );
    assert.equal(condition(other, 'Stalled')?.reason, 'CredentialsUnavailable');
    assert.match(
      condition(other, 'Stalled')?.message ?? '',
      /Secret in namespace team-b; the operator reads Secrets only from the scaler's own namespace \(team-a\)/,
    );
    const unbound = await waitFor(
      'Stalled',
      async () => {
        const s = await get('team-c', 'no-binding');
        return condition(s, 'Stalled')?.status === 'True' ? s : undefined;
      },
      30_000,
    );
    assert.match(
      condition(unbound, 'Stalled')?.message ?? '',
      /may not read Secret team-c\/aws-creds: bind the ClusterRole lambda-con-scaler-operator-secret-reader-role in namespace team-c/,
    );
  });

  it('never shows a secret value in its logs, the status or the events', async () => {
    const everything = [
      manager.output(),
      await cp.kubectl(['get', 'lcs', '-A', '-o', 'yaml']),
      await cp.kubectl(['get', 'events', '-A', '-o', 'yaml']),
    ].join('\n');
    assert.ok(everything.length > 1000, 'there is something to search');
    assert.ok(!everything.includes(SECRET_VALUE), 'the secret access key leaked');
    assert.ok(!everything.includes('operator-default-secret'), "the operator's own secret key leaked");
  });

  it('resumes after a SIGKILL mid-burst without a burst of changes and with its stabilization history', async () => {
    for (const ns of ['team-a', 'team-b', 'team-c'])
      await cp.kubectl(['delete', 'lcs', '--all', '-n', ns, '--timeout=30s']);
    await cp.kubectl(
      ['apply', '-n', 'team-a', '-f', '-'],
      scalerYaml(
        'target-tracking',
        '  policy:\n    type: TargetTracking\n    targetTracking:\n      targetBacklogPerConcurrency: 20\n  metrics:\n    includeInFlight: true\n',
      ),
    );
    await sendBurst(sqs, 'orders', 300);
    const high = await waitFor(
      'a scale-up',
      async () => {
        const r = await reserved();
        if ((r ?? 0) >= 10) return r;
        if (process.env.DEBUG_E2E)
          console.log(r, JSON.stringify((await get('team-a', 'target-tracking')).status));
        return undefined;
      },
      60_000,
    ).catch(async (e) => {
      console.log(manager.output().slice(-3000));
      throw e;
    });
    await manager.kill().catch(() => {});
    const putsBefore = await putCount();
    // While the operator is down the backlog drains; a fresh policy would now drop straight to min.
    await waitFor(
      'the drain',
      async () => {
        const q = await sim.admin<{ queues: Record<string, { visible: number; inFlight: number }> }>(
          'GET',
          '/metrics',
        );
        const orders = q.queues.orders;
        return orders !== undefined && orders.visible + orders.inFlight === 0 ? true : undefined;
      },
      90_000,
      500,
    );
    const atRestart = await reserved();
    manager = await startOperator();
    await new Promise((r) => setTimeout(r, 12_000)); // six polls
    const after = await reserved();
    assert.ok(
      after !== undefined && atRestart !== undefined && after >= atRestart,
      `no scale-down inside the 300 s window: ${atRestart} → ${after}`,
    );
    assert.ok((high ?? 0) >= 10);
    assert.ok((await putCount()) - putsBefore <= 1, 'at most one change after the restart');
    const s = await get('team-a', 'target-tracking');
    assert.ok(
      ((s.status?.policyState as { recommendations?: unknown[] } | undefined)?.recommendations?.length ?? 0) >
        1,
      'the history survived in status',
    );
  });
});

async function putCount(): Promise<number> {
  const report = await sim.admin<{ apiCalls: Record<string, Record<string, number>> }>('GET', '/report');
  return report.apiCalls['lambda:PutFunctionConcurrency']?.ok ?? 0;
}
