// Two hundred scalers in one account share Lambda's control-plane budget (15 requests/s, of which
// the operator takes 10 by default): every scaler is served and AWS never answers 429, and the
// event source mappings are listed once for the account rather than once per scaler.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LambdaConcurrencyScaler } from '../../src/api/v1alpha1/index.ts';
import { type ControlPlane, CRD_DIR, startControlPlane } from '../../src/envtest/index.ts';
import {
  type Awssim,
  fleet,
  type Manager,
  startAwssim,
  startManager,
  waitFor,
} from '../../src/envtest/processes.ts';

const N = 200;
const ns = 'budget';
let dir: string;
let cp: ControlPlane;
let sim: Awssim;
let manager: Manager;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lcs-budget-'));
  const { scenario, scalers } = fleet(N, {
    name: 'budget',
    functionMs: 100,
    spec: {
      awsSQSMsgCountThreshold: 100,
      awsLambdaMinConcurrency: 2,
      awsLamndaMaxConcurrency: 3,
      awsLambdaStepConcurrency: 1,
      pollingIntervalSeconds: 10,
    },
  });
  writeFileSync(join(dir, 'scenario.yaml'), scenario);
  [cp, sim] = await Promise.all([
    startControlPlane({ crds: [CRD_DIR] }),
    startAwssim({ scenario: join(dir, 'scenario.yaml') }),
  ]);
  await cp.kubectl(['create', 'namespace', ns]);
  manager = await startManager({
    kubeconfig: cp.kubeconfig,
    awsEndpoint: sim.endpoint,
    args: ['--workers', '16'],
  });
  await cp.kubectl(['apply', '-n', ns, '-f', '-'], scalers.join('---\n'));
});

after(async () => {
  await manager?.stop();
  await sim?.stop();
  await cp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('two hundred scalers in one account', () => {
  it('are all served without a single 429 from the Lambda control plane', async () => {
    const ready = await waitFor(
      'every scaler at min and Ready',
      async () => {
        const list = JSON.parse(await cp.kubectl(['get', 'lcs', '-n', ns, '-o', 'json']))
          .items as LambdaConcurrencyScaler[];
        const done = list.filter(
          (s) =>
            s.status?.concurrency === 2 &&
            s.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return done.length === N ? done.length : undefined;
      },
      180_000,
      2000,
    );
    assert.equal(ready, N);
    const report = await sim.admin<{ apiCalls: Record<string, Record<string, number>> }>('GET', '/report');
    const lambdaCalls = Object.entries(report.apiCalls).filter(([op]) => op.startsWith('lambda:'));
    const throttled = lambdaCalls.reduce(
      (n, [, outcomes]) => n + (outcomes.TooManyRequestsException ?? 0),
      0,
    );
    assert.equal(throttled, 0, JSON.stringify(Object.fromEntries(lambdaCalls)));
    assert.equal(report.apiCalls['lambda:PutFunctionConcurrency']?.ok, N, 'one change per scaler, no more');
    assert.ok((report.apiCalls['lambda:GetAccountSettings']?.ok ?? 0) < N / 4, 'account settings are cached');
    const listings = report.apiCalls['lambda:ListEventSourceMappings']?.ok ?? 0;
    assert.ok(
      listings <= 10,
      `${listings} ListEventSourceMappings calls: the account's mappings are listed for all scalers at once (2 pages), not once per scaler`,
    );
    const metrics = await (await fetch(manager.metricsUrl)).text();
    assert.doesNotMatch(metrics, /lcs_aws_throttles_total\{[^}]*\} [1-9]/);
  });
});
