// Lease leader election against a real API server, with short timings (lease 2 s, renew deadline
// 1.5 s, retry 0.3 s): one leader at a time, takeover after a crash within the lease duration
// (plus client-go's retry jitter), fast takeover after a graceful release, and loss detection.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { type ElectionOutcome, LeaderElector, microTime } from '../../src/runtime/leaderelection.ts';
import { RuntimeMetrics } from '../../src/runtime/metrics.ts';
import { type Env, eventually, newNamespace, sleep, startEnv } from './helpers.ts';

const timing = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 300 };
/** The longest a candidate may need after the last renewal: lease duration + one jittered retry (+ 1 s for API latency on a loaded machine). */
const takeoverBoundMs = timing.leaseDurationMs + timing.retryPeriodMs * 2.2 + 1000;

interface Candidate {
  elector: LeaderElector;
  ac: AbortController;
  outcome: Promise<ElectionOutcome>;
  started: number;
  stopped: number;
  leadingSignal: AbortSignal | undefined;
}

function candidate(
  env: Env,
  ns: string,
  identity: string,
  extra: { releaseOnCancel?: boolean; registry?: Registry } = {},
): Candidate {
  const c = { ac: new AbortController(), started: 0, stopped: 0, leadingSignal: undefined } as Candidate;
  c.elector = new LeaderElector({
    client: env.client,
    namespace: ns,
    name: 'lcs-leader',
    identity,
    ...timing,
    releaseOnCancel: extra.releaseOnCancel ?? true,
    ...(extra.registry === undefined ? {} : { metrics: new RuntimeMetrics(extra.registry) }),
    onStartedLeading: (signal) => {
      c.started++;
      c.leadingSignal = signal;
    },
    onStoppedLeading: () => {
      c.stopped++;
    },
  });
  c.outcome = c.elector.run(c.ac.signal);
  return c;
}

interface LeaseObject {
  spec: { holderIdentity?: string; leaseTransitions?: number; renewTime?: string; acquireTime?: string };
}
const getLease = (env: Env, ns: string) =>
  env.client.request<LeaseObject>('GET', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/lcs-leader`);

/** Resolves with the ms it took until `c` leads. */
async function timeUntilLeading(c: Candidate, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  await eventually(() => assert.ok(c.elector.isLeader(), `${c.elector.identity} should lead`), timeoutMs, 20);
  return Date.now() - t0;
}

describe('microTime', () => {
  it('formats MicroTime with six fractional digits', () => {
    assert.equal(microTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678)), '2026-01-02T03:04:05.678000Z');
  });
});

describe('LeaderElector against a real API server', { timeout: 60_000 }, () => {
  let env: Env;
  before(async () => {
    env = await startEnv();
  });
  after(async () => {
    await env?.cp.stop();
  });

  it('lets exactly one of two candidates lead, and the other take over after a crash', async (t) => {
    const ns = await newNamespace(env, 'le-crash');
    const registry = new Registry();
    const a = candidate(env, ns, 'a', { releaseOnCancel: false, registry });
    const b = candidate(env, ns, 'b', { releaseOnCancel: false });
    try {
      await eventually(() => assert.ok(a.elector.isLeader() || b.elector.isLeader()), 5000, 20);
      // Watch for a lease duration: never two leaders, no flapping.
      for (let i = 0; i < 20; i++) {
        assert.ok(!(a.elector.isLeader() && b.elector.isLeader()), 'two leaders at once');
        await sleep(100);
      }
      const [leader, follower] = a.elector.isLeader() ? [a, b] : [b, a];
      assert.equal(leader.started, 1, 'leadership is kept, not re-acquired');
      assert.equal(follower.started, 0);
      assert.equal(follower.elector.observedLeader(), leader.elector.identity);
      const lease = await getLease(env, ns);
      assert.equal(lease.spec.holderIdentity, leader.elector.identity);
      assert.match(lease.spec.renewTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      assert.equal(lease.spec.leaseTransitions, 0);
      if (leader === a)
        assert.match(await registry.metrics(), /leader_election_master_status\{name="lcs-leader"\} 1/);

      // Crash: stop renewing without releasing.
      leader.ac.abort();
      assert.equal(await leader.outcome, 'stopped');
      const took = await timeUntilLeading(follower, takeoverBoundMs + 2000);
      t.diagnostic(`takeover after crash: ${took} ms (lease ${timing.leaseDurationMs} ms)`);
      assert.ok(took <= takeoverBoundMs, `takeover took ${took} ms (bound ${takeoverBoundMs} ms)`);
      assert.ok(
        took >= timing.leaseDurationMs - timing.retryPeriodMs * 2 - 300,
        `waited for expiry (${took} ms)`,
      );
      const after = await getLease(env, ns);
      assert.equal(after.spec.holderIdentity, follower.elector.identity);
      assert.equal(after.spec.leaseTransitions, 1);
    } finally {
      a.ac.abort();
      b.ac.abort();
      await Promise.all([a.outcome, b.outcome]);
    }
  });

  it('hands over at once when the leader releases the lease on shutdown', async (t) => {
    const ns = await newNamespace(env, 'le-release');
    const a = candidate(env, ns, 'a');
    await eventually(() => assert.ok(a.elector.isLeader()), 5000, 20);
    const b = candidate(env, ns, 'b');
    try {
      await sleep(500);
      assert.equal(b.elector.isLeader(), false);
      a.ac.abort();
      assert.equal(await a.outcome, 'stopped');
      assert.equal(a.stopped, 1);
      assert.equal(a.leadingSignal?.aborted, true);
      const lease = await getLease(env, ns);
      assert.ok(lease.spec.holderIdentity === '' || lease.spec.holderIdentity === 'b');
      const took = await timeUntilLeading(b, 3000);
      t.diagnostic(`takeover after release: ${took} ms`);
      assert.ok(took < timing.leaseDurationMs, `takeover after release took ${took} ms`);
    } finally {
      a.ac.abort();
      b.ac.abort();
      await Promise.all([a.outcome, b.outcome]);
    }
  });

  it('steps down (outcome lost) when another holder takes the lease', async () => {
    const ns = await newNamespace(env, 'le-lost');
    const a = candidate(env, ns, 'a');
    try {
      await eventually(() => assert.ok(a.elector.isLeader()), 5000, 20);
      // An intruder rewrites the lease with a fresh renewal (as a split brain or an operator would).
      const lease = await env.client.request<LeaseObject & { metadata: object }>(
        'GET',
        `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/lcs-leader`,
      );
      const t0 = Date.now();
      const intrude = async (): Promise<void> => {
        const now = microTime(Date.now());
        await env.client.request('PATCH', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/lcs-leader`, {
          body: {
            spec: { holderIdentity: 'intruder', renewTime: now, acquireTime: now, leaseDurationSeconds: 30 },
          },
          contentType: 'application/merge-patch+json',
        });
      };
      assert.ok(lease.spec.holderIdentity === 'a');
      await intrude();
      const outcome = await a.outcome;
      const took = Date.now() - t0;
      assert.equal(outcome, 'lost');
      assert.equal(a.elector.isLeader(), false);
      assert.equal(a.leadingSignal?.aborted, true, 'the leader’s work is told to stop');
      assert.equal(a.stopped, 1);
      assert.ok(took <= timing.retryPeriodMs + timing.renewDeadlineMs + 1000, `noticed after ${took} ms`);
      assert.equal(
        (await getLease(env, ns)).spec.holderIdentity,
        'intruder',
        'a lost leader does not release',
      );
    } finally {
      a.ac.abort();
      await a.outcome;
    }
  });
  it('steps down when the API server is unreachable for longer than the renew deadline', async () => {
    const ns = await newNamespace(env, 'le-down');
    const a = candidate(env, ns, 'a');
    try {
      await eventually(() => assert.ok(a.elector.isLeader()), 5000, 20);
      const t0 = Date.now();
      const restart = env.cp.restartApiServer(2500);
      const outcome = await a.outcome;
      const took = Date.now() - t0;
      assert.equal(outcome, 'lost', 'a leader that cannot renew must stop acting');
      assert.equal(a.leadingSignal?.aborted, true);
      await restart;
      assert.ok(
        took <= timing.retryPeriodMs + timing.renewDeadlineMs + 3000,
        `stepped down after ${took} ms`,
      );
    } finally {
      a.ac.abort();
      await a.outcome;
    }
  });
});
