// The manager against a real API server: with two managers only the leader's controller acts and
// the other takes over when the leader dies; a manager process stops gracefully on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Controller } from '../../src/runtime/controller.ts';
import { Informer } from '../../src/runtime/informer.ts';
import { Manager, type ManagerOutcome, terminationSignal } from '../../src/runtime/manager.ts';
import { createScaler, type Env, eventually, newNamespace, scalersPath, sleep, startEnv } from './helpers.ts';

describe('terminationSignal', () => {
  it('aborts on the first SIGTERM and calls onRepeat on the second', () => {
    const proc = new EventEmitter();
    let repeats = 0;
    const signal = terminationSignal(proc, {
      onRepeat: () => {
        repeats++;
      },
    });
    assert.equal(signal.aborted, false);
    proc.emit('SIGTERM');
    assert.equal(signal.aborted, true);
    assert.equal(repeats, 0);
    proc.emit('SIGTERM');
    assert.equal(repeats, 1);
  });
});

describe('Manager against a real API server', { timeout: 60_000 }, () => {
  let env: Env;
  before(async () => {
    env = await startEnv();
  });
  after(async () => {
    await env?.cp.stop();
  });

  it('runs only the leader’s controllers; the standby takes over when the leader dies', async () => {
    const ns = await newNamespace(env, 'mgr-two');
    await createScaler(env, ns, 'first');
    const reconciled: Record<string, string[]> = { a: [], b: [] };
    const managers = Object.fromEntries(
      ['a', 'b'].map((id) => {
        const informer = new Informer({ name: id, client: env.client, paths: [scalersPath(ns)] });
        const controller = new Controller({
          name: id,
          informer,
          reconcile: async (key) => {
            reconciled[id]?.push(key);
          },
        });
        const manager = new Manager({
          informers: [informer],
          controllers: [controller],
          leaderElection: {
            client: env.client,
            namespace: ns,
            name: 'lcs-leader',
            identity: id,
            leaseDurationMs: 2000,
            renewDeadlineMs: 1500,
            retryPeriodMs: 300,
            releaseOnCancel: false,
          },
        });
        const ac = new AbortController();
        return [id, { manager, ac, outcome: manager.run(ac.signal) }];
      }),
    ) as Record<string, { manager: Manager; ac: AbortController; outcome: Promise<ManagerOutcome> }>;
    const all = Object.values(managers);
    try {
      await eventually(
        () => assert.equal((reconciled.a?.length ?? 0) + (reconciled.b?.length ?? 0), 1),
        5000,
      );
      const leaderId = reconciled.a?.length === 1 ? 'a' : 'b';
      const standbyId = leaderId === 'a' ? 'b' : 'a';
      const leader = managers[leaderId];
      const standby = managers[standbyId];
      assert.ok(leader && standby);
      await eventually(() => assert.ok(standby.manager.ready(), 'a standby with synced caches is ready'));

      await createScaler(env, ns, 'second');
      await eventually(() => assert.deepEqual(reconciled[leaderId], [`${ns}/first`, `${ns}/second`]));
      await sleep(300);
      assert.deepEqual(reconciled[standbyId], [], 'the standby must not act');

      leader.ac.abort(); // dies without releasing the lease
      assert.equal(await leader.outcome, 'stopped');
      await createScaler(env, ns, 'third');
      await eventually(() => {
        assert.deepEqual(
          [...(reconciled[standbyId] ?? [])].sort(),
          [`${ns}/first`, `${ns}/second`, `${ns}/third`],
          'the new leader reconciles everything',
        );
      }, 5000);
    } finally {
      for (const m of all) m.ac.abort();
      await Promise.all(all.map((m) => m.outcome));
    }
  });

  it('stops a manager process gracefully on SIGTERM: finishes the reconcile, releases the lease, exits 0', async () => {
    const ns = await newNamespace(env, 'mgr-sigterm');
    await createScaler(env, ns, 'only');
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, 'fixtures', 'manager-process.ts'), env.cp.kubeconfig, ns, 'proc-1'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const lines: { event: string; [k: string]: unknown }[] = [];
    let buffered = '';
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const p of parts) if (p !== '') lines.push(JSON.parse(p));
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await eventually(() => assert.ok(lines.some((l) => l.event === 'reconcile-start')), 10_000);
      const port = lines.find((l) => l.event === 'listening')?.port;
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      assert.equal(ready.status, 200);
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(text, /^leader_election_master_status\{name="lcs-leader"\} 1$/m);

      child.kill('SIGTERM');
      const code = await exited;
      assert.equal(code, 0);
      const events = lines.map((l) => l.event);
      assert.deepEqual(
        events.filter((e) => ['reconcile-start', 'sigterm', 'reconcile-end', 'exit'].includes(e)),
        ['reconcile-start', 'sigterm', 'reconcile-end', 'exit'],
        'the reconcile in flight at SIGTERM finished before the exit',
      );
      assert.deepEqual(lines.at(-1), { event: 'exit', outcome: 'stopped' });
      const lease = await env.client.request<{ spec: { holderIdentity?: string } }>(
        'GET',
        `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/lcs-leader`,
      );
      assert.equal(lease.spec.holderIdentity ?? '', '', 'the lease was released');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
