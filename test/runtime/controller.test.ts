// The controller wiring against a real API server: events become reconciles, failures retry with
// backoff, requeue-after works, a key is never reconciled twice at once, and stop is graceful.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { API_VERSION, PLURAL } from '../../src/api/v1alpha1/groupversion.ts';
import { Controller } from '../../src/runtime/controller.ts';
import { Informer } from '../../src/runtime/informer.ts';
import { RuntimeMetrics } from '../../src/runtime/metrics.ts';
import { userChanged } from '../../src/runtime/predicates.ts';
import { StatusPatcher } from '../../src/runtime/status.ts';
import {
  createScaler,
  deleteScaler,
  type Env,
  eventually,
  newNamespace,
  scalersPath,
  sleep,
  startEnv,
} from './helpers.ts';

describe('Controller against a real API server', { timeout: 60_000 }, () => {
  let env: Env;
  before(async () => {
    env = await startEnv();
  });
  after(async () => {
    await env?.cp.stop();
  });

  const informerFor = (ns: string) =>
    new Informer({ name: ns, client: env.client, paths: [scalersPath(ns)], backoffInitialMs: 100 });

  it('reconciles every object, retries failures with backoff and honours requeueAfter', async () => {
    const ns = await newNamespace(env, 'ctl-basic');
    await createScaler(env, ns, 'ok');
    await createScaler(env, ns, 'flaky');
    await createScaler(env, ns, 'periodic');
    const informer = informerFor(ns);
    const calls: Record<string, number[]> = {};
    const exists: string[] = [];
    const registry = new Registry();
    const controller = new Controller({
      name: 'basic',
      informer,
      metrics: new RuntimeMetrics(registry),
      workers: 2,
      queue: { baseDelayMs: 50, jitter: 0 },
      reconcile: async (key) => {
        const name = key.split('/')[1] ?? '';
        const times = calls[name] ?? [];
        calls[name] = times;
        times.push(Date.now());
        if (name === 'flaky' && times.length <= 3) throw new Error(`attempt ${times.length} fails`);
        if (name === 'periodic') return { requeueAfterMs: 200 };
        // The reconciler reads the latest state from the cache (gone after a delete).
        exists.push(`${name}:${informer.get(key) !== undefined}`);
        return undefined;
      },
    });
    const ac = new AbortController();
    const running = Promise.all([informer.run(ac.signal), controller.run(ac.signal)]);
    try {
      await eventually(() => {
        assert.equal(calls.ok?.length, 1);
        assert.equal(calls.flaky?.length, 4, 'three failures, then success');
        assert.ok((calls.periodic?.length ?? 0) >= 3, 'requeued after 200 ms, repeatedly');
      }, 5000);
      const flaky = calls.flaky ?? [];
      const gaps = flaky.slice(1).map((t, i) => t - (flaky[i] ?? 0));
      assert.ok(
        (gaps[0] ?? 0) >= 45 && (gaps[1] ?? 0) >= 95 && (gaps[2] ?? 0) >= 195,
        `backoff doubles: ${gaps}`,
      );
      assert.equal(controller.queue.numRequeues(`${ns}/flaky`), 0, 'success forgets the failures');

      await deleteScaler(env, ns, 'ok');
      await eventually(() => assert.equal(calls.ok?.length, 2, 'a delete is reconciled too'));
      assert.deepEqual(
        exists.filter((e) => e.startsWith('ok:')),
        ['ok:true', 'ok:false'],
      );
      const text = await registry.metrics();
      assert.match(text, /controller_runtime_reconcile_errors_total\{controller="basic"\} 3/);
      assert.match(text, /controller_runtime_reconcile_time_seconds_count\{controller="basic"\}/);
    } finally {
      ac.abort();
      await running;
    }
  });

  it('never reconciles one key concurrently, even with many workers and many events', async () => {
    const ns = await newNamespace(env, 'ctl-serial');
    await createScaler(env, ns, 'hot');
    const informer = informerFor(ns);
    let active = 0;
    let maxActive = 0;
    let total = 0;
    const controller = new Controller({
      name: 'serial',
      informer,
      workers: 4,
      reconcile: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await sleep(30);
        active--;
        total++;
      },
    });
    const ac = new AbortController();
    const running = Promise.all([informer.run(ac.signal), controller.run(ac.signal)]);
    try {
      await eventually(() => assert.ok(total >= 1));
      for (let i = 0; i < 20; i++) {
        await env.client.request('PATCH', `${scalersPath(ns)}/hot`, {
          body: { metadata: { labels: { i: String(i) } } },
          contentType: 'application/merge-patch+json',
        });
      }
      await sleep(300);
      assert.equal(maxActive, 1);
      assert.ok(total < 21, `events were de-duplicated (${total} reconciles for 21 events)`);
    } finally {
      ac.abort();
      await running;
    }
  });

  it('on stop lets the in-flight reconcile finish and starts no new one', async () => {
    const ns = await newNamespace(env, 'ctl-stop');
    for (const n of ['a', 'b', 'c']) await createScaler(env, ns, n);
    const informer = informerFor(ns);
    const started: string[] = [];
    const finished: string[] = [];
    let release: () => void = () => {};
    const controller = new Controller({
      name: 'stop',
      informer,
      workers: 1,
      reconcile: async (key, signal) => {
        started.push(key);
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        assert.equal(signal.aborted, false, 'the grace period is not over');
        finished.push(key);
      },
    });
    const ac = new AbortController();
    const running = Promise.all([informer.run(ac.signal), controller.run(ac.signal)]);
    await eventually(() => assert.equal(started.length, 1));
    ac.abort();
    let stopped = false;
    void running.then(() => {
      stopped = true;
    });
    await sleep(100);
    assert.equal(stopped, false, 'stop waits for the in-flight reconcile');
    release();
    await running;
    assert.deepEqual(finished, started);
    assert.equal(started.length, 1, 'no new key is started after stop');
  });

  it('aborts the reconcile signal when the shutdown grace period is over', async () => {
    const ns = await newNamespace(env, 'ctl-grace');
    await createScaler(env, ns, 'slow');
    const informer = informerFor(ns);
    let startedAt = 0;
    let abortedAfter = -1;
    const controller = new Controller({
      name: 'grace',
      informer,
      shutdownGraceMs: 200,
      reconcile: async (_key, signal) => {
        startedAt = Date.now();
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        abortedAfter = Date.now() - startedAt;
      },
    });
    const ac = new AbortController();
    const running = Promise.all([informer.run(ac.signal), controller.run(ac.signal)]);
    await eventually(() => assert.ok(startedAt > 0));
    ac.abort();
    await running;
    assert.ok(abortedAfter >= 190 && abortedAfter < 2000, `aborted after ${abortedAfter} ms`);
  });
  it('with userChanged, its own status writes do not trigger reconciles but user changes do', async () => {
    const ns = await newNamespace(env, 'ctl-echo');
    await createScaler(env, ns, 'echo');
    const informer = informerFor(ns);
    const patcher = new StatusPatcher(env.client, {
      apiVersion: API_VERSION,
      plural: PLURAL,
      namespaced: true,
    });
    let reconciles = 0;
    const controller = new Controller({
      name: 'echo',
      informer,
      updatePredicate: userChanged,
      reconcile: async (key) => {
        reconciles++;
        const obj = informer.get(key);
        if (obj !== undefined) await patcher.patch(obj, { state: 'ADJUSTED', concurrency: reconciles });
      },
    });
    const ac = new AbortController();
    const running = Promise.all([informer.run(ac.signal), controller.run(ac.signal)]);
    try {
      await eventually(() => assert.equal(reconciles, 1));
      await eventually(() =>
        assert.equal((informer.get(`${ns}/echo`)?.status as { concurrency?: number })?.concurrency, 1),
      );
      await sleep(300);
      assert.equal(reconciles, 1, 'the status write came back as an update and was filtered');
      await env.client.request('PATCH', `${scalersPath(ns)}/echo`, {
        body: { metadata: { annotations: { 'aws.operators.jittakal.io/paused': 'true' } } },
        contentType: 'application/merge-patch+json',
      });
      await eventually(() => assert.equal(reconciles, 2));
    } finally {
      ac.abort();
      await running;
    }
  });
});
