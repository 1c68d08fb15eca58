// The operator end to end, with real processes over real protocols: the test control plane,
// awssim (real clock), the manager as its own process (as `make run` starts it) and kubectl.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { LambdaConcurrencyScaler } from '../../src/api/v1alpha1/index.ts';
import { type ControlPlane, CRD_DIR, startControlPlane } from '../../src/envtest/index.ts';
import {
  type Awssim,
  type Manager,
  startAwssim,
  startManager,
  waitFor,
} from '../../src/envtest/processes.ts';
import { awsClients, condition, getScaler, reservedConcurrency, sendBurst } from './helpers.ts';

const ns = 'e2e';
const name = 'lambdaconcurrencyscaler-sample';
let cp: ControlPlane;
let sim: Awssim;
let manager: Manager;
let sqs: SQSClient;
let lambda: LambdaClient;

const sample = (min = 2) => `
apiVersion: aws.operators.jittakal.io/v1alpha1
kind: LambdaConcurrencyScaler
metadata:
  labels:
    app.kubernetes.io/name: lambdaconcurrencyscaler
    app.kubernetes.io/instance: lambdaconcurrencyscaler-sample
    app.kubernetes.io/part-of: lambda-con-scaler-operator
    app.kubernetes.io/managed-by: kustomize
    app.kubernetes.io/created-by: lambda-con-scaler-operator
  name: ${name}
spec:
  awsSQSName: orders
  awsSQSMsgCountThreshold: 100
  awsLambdaName: order-processor
  awsLambdaMinConcurrency: ${min}
  awsLamndaMaxConcurrency: 20
  awsLambdaStepConcurrency: 5
  pollingIntervalSeconds: 2
`;

const scaler = () => getScaler(cp, ns, name);
const reserved = (fn = 'order-processor') => reservedConcurrency(lambda, fn);

before(async () => {
  [cp, sim] = await Promise.all([
    startControlPlane({ crds: [CRD_DIR] }),
    startAwssim({ scenario: join(import.meta.dirname, 'scenario.yaml') }),
  ]);
  await cp.kubectl(['create', 'namespace', ns]);
  manager = await startManager({
    kubeconfig: cp.kubeconfig,
    awsEndpoint: sim.endpoint,
    // A GetFunction every poll (the default drift check is 120 s), so a throttled GetFunction
    // shows within the throttling test's patience, as it did when every poll read the function.
    args: ['--log-level', 'debug', '--drift-check-seconds', '1'],
  });
  ({ sqs, lambda } = awsClients(sim.endpoint));
});

after(async () => {
  const code = await manager?.stop();
  if (code !== 0 && code !== undefined) console.error(manager?.output());
  await sim?.stop();
  await cp?.stop();
});

describe('the operator, end to end', () => {
  it('sets the minimum on an idle queue and reports Ready', async () => {
    await cp.kubectl(['apply', '-n', ns, '-f', '-'], sample());
    const s = await waitFor(
      'Ready at min',
      async () => {
        const s = await scaler();
        return condition(s, 'Ready')?.status === 'True' && s.status?.concurrency === 2 ? s : undefined;
      },
      30_000,
    );
    assert.equal(await reserved(), 2);
    assert.equal(s.status?.state, 'ADJUSTED');
    assert.equal(s.status?.observedGeneration, s.metadata.generation);
    assert.equal(condition(s, 'MetricsAvailable')?.status, 'True');
  });

  it('scales up within its bounds under a burst, reports it everywhere, and returns to min once drained', async () => {
    await sendBurst(sqs, 'orders', 300);
    const seen: number[] = [];
    const peak = await waitFor(
      'a scale-up to max',
      async () => {
        const r = (await reserved()) ?? 0;
        seen.push(r);
        return r === 20 ? r : undefined;
      },
      60_000,
      200,
    );
    assert.equal(peak, 20);
    assert.ok(
      seen.every((r) => r >= 2 && r <= 20),
      `always within bounds: ${seen.join(',')}`,
    );

    const s = await scaler();
    assert.ok(
      (s.status?.backlog?.visible ?? 0) + (s.status?.backlog?.inFlight ?? 0) > 0,
      'status shows the backlog',
    );
    assert.match(s.status?.lastScaleReason ?? '', /BacklogAboveThreshold/);
    const events = await cp.kubectl(['get', 'events', '-n', ns, '-o', 'json']);
    const reasons = (JSON.parse(events).items as { reason: string; message: string }[]).map(
      (e) => `${e.reason}: ${e.message}`,
    );
    assert.ok(
      reasons.some((r) => /^ScaledUp: Reserved concurrency \d+ → \d+/.test(r)),
      reasons.join('\n'),
    );
    const metrics = await (await fetch(manager.metricsUrl)).text();
    assert.match(
      metrics,
      /lcs_applied_concurrency\{namespace="e2e",name="lambdaconcurrencyscaler-sample"\} (1[0-9]|20)/,
    );
    assert.match(metrics, /lcs_scaling_actions_total\{[^}]*direction="up"[^}]*\} [1-9]/);
    assert.match(
      metrics,
      /lcs_queue_messages\{namespace="e2e",name="lambdaconcurrencyscaler-sample",kind="(visible|in_flight)"\} [1-9]/,
    );
    assert.match(
      metrics,
      /lcs_poll_lateness_seconds\{namespace="e2e",name="lambdaconcurrencyscaler-sample"\} \d/,
    );
    assert.match(
      metrics,
      /controller_runtime_reconcile_time_seconds_count\{controller="lambdaconcurrencyscaler"\} [1-9]/,
    );
    assert.match(metrics, /workqueue_depth\{name="lambdaconcurrencyscaler"\} \d/);
    assert.match(
      metrics,
      /lcs_aws_requests_total\{service="lambda",operation="PutFunctionConcurrency",outcome="success"\} [1-9]/,
    );

    await waitFor(
      'the drain and the return to min',
      async () => ((await reserved()) === 2 ? true : undefined),
      120_000,
      500,
    );
    const drained = await scaler();
    assert.equal(drained.status?.concurrency, 2);
    const downs = (
      JSON.parse(await cp.kubectl(['get', 'events', '-n', ns, '-o', 'json'])).items as { reason: string }[]
    ).filter((e) => e.reason === 'ScaledDown');
    assert.ok(downs.length >= 1);
  });

  it('applies a spec change at the next reconcile', async () => {
    await cp.kubectl(['apply', '-n', ns, '-f', '-'], sample(4));
    await waitFor('min 4 applied', async () => ((await reserved()) === 4 ? true : undefined), 20_000);
    const s = await scaler();
    assert.equal(s.status?.observedGeneration, s.metadata.generation);
  });

  it('holds the last value through throttling and 5xx errors, reports the trouble, and converges after', async () => {
    await sim.admin('POST', '/faults', {
      'lambda:GetFunction': { throttle: true },
      'sqs:GetQueueAttributes': { errorRate: 1 },
    });
    const troubled = await waitFor(
      'the trouble in status',
      async () => {
        const s = await scaler();
        return condition(s, 'Ready')?.status === 'False' ? s : undefined;
      },
      20_000,
    );
    assert.match(condition(troubled, 'Reconciling')?.reason ?? '', /Throttled|AwsUnavailable/);
    assert.equal(await reserved(), 4, 'the last applied value holds');
    const warnings = (
      JSON.parse(await cp.kubectl(['get', 'events', '-n', ns, '-o', 'json'])).items as {
        type: string;
        message: string;
      }[]
    ).filter((e) => e.type === 'Warning');
    assert.ok(
      warnings.length >= 1 && warnings.length <= 3,
      `a warning on the transition, not per poll: ${warnings.length}`,
    );
    assert.ok(
      warnings.every((w) => !/test|RequestId/i.test(w.message)),
      'no credentials or request ids in events',
    );

    await sim.admin('DELETE', '/faults');
    await waitFor(
      'recovery',
      async () => {
        const s = await scaler();
        return condition(s, 'Ready')?.status === 'True' && condition(s, 'Reconciling') === undefined
          ? true
          : undefined;
      },
      60_000,
    );
    assert.equal(await reserved(), 4);
  });

  it('refuses to scale a function the queue does not feed, with a clear Stalled message', async () => {
    await cp.kubectl(
      ['apply', '-n', ns, '-f', '-'],
      sample()
        .replace(`name: ${name}`, 'name: wrong-function')
        .replace('awsLambdaName: order-processor', 'awsLambdaName: unrelated-function'),
    );
    const s = await waitFor(
      'Stalled',
      async () => {
        const s = JSON.parse(
          await cp.kubectl(['get', 'lcs', 'wrong-function', '-n', ns, '-o', 'json']),
        ) as LambdaConcurrencyScaler;
        return condition(s, 'Stalled')?.status === 'True' ? s : undefined;
      },
      20_000,
    );
    assert.equal(condition(s, 'Stalled')?.reason, 'NotAnEventSource');
    assert.match(
      condition(s, 'Stalled')?.message ?? '',
      /queue orders is not an event source of function unrelated-function/,
    );
    assert.equal(await reserved('unrelated-function'), undefined, 'never touched');
  });

  it("reads the queue from CloudWatch over the wire when the spec asks for the original's source", async () => {
    const callers = async () => {
      const c = await sim.admin<Record<string, Record<string, number>>>('GET', '/callers');
      return Object.values(c).reduce((n, ops) => n + (ops['cloudwatch:GetMetricData'] ?? 0), 0);
    };
    const before = await callers();
    await cp.kubectl(['apply', '-n', ns, '-f', '-'], `${sample(4)}  metrics:\n    source: CloudWatch\n`);
    await waitFor(
      'GetMetricData calls',
      async () => ((await callers()) >= before + 2 ? true : undefined),
      20_000,
    );
    const s = await scaler();
    assert.notEqual(condition(s, 'Stalled')?.status, 'True', JSON.stringify(s.status?.conditions));
    await cp.kubectl(['apply', '-n', ns, '-f', '-'], sample(4));
  });

  it('deletes cleanly and gives the function back the reserved concurrency it had before (none)', async () => {
    assert.equal(await reserved(), 4);
    await cp.kubectl(['delete', 'lcs', '--all', '-n', ns, '--timeout=30s']);
    assert.equal(await reserved(), undefined, 'restored: no reserved concurrency, as before the operator');
    const left = await cp.kubectl(['get', 'lcs', '-n', ns, '-o', 'name']);
    assert.equal(left.trim(), '');
    assert.equal((await fetch(`${manager.healthUrl}/healthz`)).status, 200, 'the manager is still healthy');
  });
});
