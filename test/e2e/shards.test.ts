// Three manager processes sharing four AWS accounts (--shard-by-account) against the test control
// plane and awssim serving four separate accounts (each scaler's queue and function live in its
// role's account), while every scaler's spec keeps changing so each account sees a stream of
// writes: SIGKILL one replica, pause another past its lease (SIGSTOP / SIGCONT), restart the API
// server. awssim journals every control-plane write with the account and the replica's own key;
// between two disruptions each account's writes come from one replica, then at most one other.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ControlPlane, CRD_DIR, startControlPlane } from '../../src/envtest/index.ts';
import {
  type Awssim,
  type Manager,
  scenarioFile,
  startAwssim,
  startManager,
  waitFor,
} from '../../src/envtest/processes.ts';
import { condition, getScaler } from './helpers.ts';

const accounts = ['111111111111', '222222222222', '333333333333', '444444444444'];
const scalers = Array.from({ length: 8 }, (_, i) => ({
  name: `s-${i}`,
  fn: `fn-${i}`,
  account: accounts[i % 4],
}));
const system = 'lcs-system';
const ns = 'tenants';
const lease = { duration: 4, renew: 3, retry: 0.5 };

let cp: ControlPlane;
let sim: Awssim;
const replicas: Manager[] = [];

const manifest = (s: (typeof scalers)[number], min: number) => `
apiVersion: aws.operators.jittakal.io/v1alpha1
kind: LambdaConcurrencyScaler
metadata: { name: ${s.name} }
spec:
  awsSQSName: q-${s.fn}
  awsSQSMsgCountThreshold: 1000
  awsLambdaName: ${s.fn}
  awsLambdaMinConcurrency: ${min}
  awsLambdaMaxConcurrency: 50
  awsLambdaStepConcurrency: 1
  pollingIntervalSeconds: 1
  credentials:
    roleArn: arn:aws:iam::${s.account}:role/scaler
`;

const startReplica = (n: number) =>
  startManager({
    kubeconfig: cp.kubeconfig,
    awsEndpoint: sim.endpoint,
    args: [
      '--shard-by-account',
      '--leader-election-namespace',
      system,
      '--lease-duration-seconds',
      String(lease.duration),
      '--lease-renew-deadline-seconds',
      String(lease.renew),
      '--lease-retry-period-seconds',
      String(lease.retry),
      '--aws-call-timeout-seconds',
      '3',
    ],
    env: { AWS_ACCESS_KEY_ID: `AKIAREPLICA${n}`, AWS_SECRET_ACCESS_KEY: `replica-${n}` },
  });

before(async () => {
  const scenario = scenarioFile('shards', [
    'roles:',
    ...accounts.map((a) => `  - { arn: "arn:aws:iam::${a}:role/scaler" }`),
    'accounts:',
    ...accounts.flatMap((a) => {
      const mine = scalers.filter((s) => s.account === a);
      return [
        `  - id: "${a}"`,
        '    queues:',
        ...mine.map((s) => `      - { name: q-${s.fn} }`),
        '    functions:',
        ...mine.map((s) => `      - { name: ${s.fn} }`),
        '    eventSourceMappings:',
        ...mine.map((s) => `      - { function: ${s.fn}, queue: q-${s.fn} }`),
      ];
    }),
  ]);
  [cp, sim] = await Promise.all([startControlPlane({ crds: [CRD_DIR] }), startAwssim({ scenario })]);
  for (const n of [system, ns]) await cp.kubectl(['create', 'namespace', n]);
  for (const n of [1, 2, 3]) replicas.push(await startReplica(n));
});

/** A function's reserved concurrency in its own account, as awssim reports it. */
const reservedConcurrency = async (s: (typeof scalers)[number]): Promise<number | null | undefined> =>
  (
    await sim.admin<{ functions: Record<string, { reserved: number | null }> }>(
      'GET',
      `/report?account=${s.account}`,
    )
  ).functions[s.fn]?.reserved;

after(async () => {
  for (const r of replicas) {
    r.child.kill('SIGCONT');
    await r.stop().catch(() => {});
  }
  await sim?.stop();
  await cp?.stop();
});

interface Write {
  at: number;
  account: string;
  sourceAccessKeyId: string;
}

describe('three replicas sharing accounts', { timeout: 240_000 }, () => {
  it('never handle one account twice through a kill, a pause past the lease and an API server restart', async () => {
    const mins = new Map(scalers.map((s) => [s.name, 2]));
    await cp.kubectl(['apply', '-n', ns, '-f', '-'], scalers.map((s) => manifest(s, 2)).join('---\n'));
    for (const s of scalers)
      await waitFor(
        `${s.name} at 2`,
        async () => ((await reservedConcurrency(s)) === 2 ? true : undefined),
        60_000,
      );

    // Every scaler's minimum flips every 1.5 s: a steady stream of writes in every account.
    let churning = true;
    const churn = (async () => {
      while (churning) {
        for (const s of scalers) {
          const next = mins.get(s.name) === 2 ? 3 : 2;
          const r = await cp.kubectlResult(['apply', '-n', ns, '-f', '-'], manifest(s, next));
          if (r.code === 0) mins.set(s.name, next);
        }
        await new Promise((r) => setTimeout(r, 1500));
      }
    })();

    const marks: number[] = [];
    // awssim runs on the wall clock here (--clock real): its journal's times compare with ours.
    const mark = async () => {
      marks.push(Date.now());
    };
    await new Promise((r) => setTimeout(r, 6000));
    await mark();
    (replicas[0] as Manager).child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 12_000));
    await mark();
    (replicas[1] as Manager).child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 10_000)); // well past the 4 s lease
    await mark();
    (replicas[1] as Manager).child.kill('SIGCONT');
    await new Promise((r) => setTimeout(r, 12_000));
    await mark();
    await cp.restartApiServer(2000);
    await new Promise((r) => setTimeout(r, 12_000));
    churning = false;
    await churn;
    await mark();

    // Every scaler back on schedule: its last spec applied by whoever holds its account now.
    for (const s of scalers)
      await waitFor(
        `${s.name} at its last minimum`,
        async () => {
          const obj = await getScaler(cp, ns, s.name);
          const reserved = await reservedConcurrency(s);
          return reserved === mins.get(s.name) &&
            obj.status?.observedGeneration === obj.metadata.generation &&
            condition(obj, 'Ready')?.status === 'True'
            ? true
            : undefined;
        },
        30_000,
      ).catch(async (error) => {
        const obj = await getScaler(cp, ns, s.name);
        console.log(
          JSON.stringify(
            {
              want: mins.get(s.name),
              has: await reservedConcurrency(s),
              gen: obj.metadata.generation,
              status: obj.status,
            },
            null,
            1,
          ).slice(0, 3000),
        );
        console.log(
          await cp.kubectl([
            'get',
            'leases',
            '-n',
            system,
            '-o',
            'custom-columns=NAME:.metadata.name,HOLDER:.spec.holderIdentity,RENEW:.spec.renewTime,KEY:.metadata.annotations',
          ]),
        );
        for (const r of replicas)
          console.log(
            r
              .output()
              .split('\n')
              .filter((l) => /shard|lease|error|Error/.test(l))
              .slice(-15)
              .join('\n'),
          );
        throw error;
      });

    const journal = await sim.admin<Write[]>('GET', '/writes');
    const writes = journal.filter((w) => accounts.includes(w.account));
    assert.equal(writes.length, journal.length, "every write landed in a scaler's own account");
    assert.ok(writes.length > 100, `a stream of writes to judge by: ${writes.length}`);
    const windows = [Number.NEGATIVE_INFINITY, ...marks, Number.POSITIVE_INFINITY];
    const problems: string[] = [];
    for (let w = 0; w + 1 < windows.length; w++) {
      for (const account of accounts) {
        const run = writes
          .filter((x) => x.account === account && x.at >= (windows[w] ?? 0) && x.at < (windows[w + 1] ?? 0))
          .map((x) => x.sourceAccessKeyId);
        const switches = run.filter((k, i) => i > 0 && k !== run[i - 1]).length;
        if (switches > 1) problems.push(`window ${w}, account ${account}: ${run.join(' ')}`);
      }
    }
    assert.deepEqual(problems, [], 'an account was handled by two replicas at once');
    const bySource = new Set(writes.map((x) => x.sourceAccessKeyId));
    assert.ok(bySource.size >= 2, `the work was shared: ${[...bySource].join(', ')}`);
  });
});
