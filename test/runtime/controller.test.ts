// The controller wiring against a real API server: events become reconciles, failures retry with
// backoff, requeue-after works, a key is never reconciled twice at once, and stop is graceful.
// Also the pieces a reconciler writes with: the status patcher (one write for a change, none for
// an identical status) and the event recorder (readable, de-duplicated Events).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { API_VERSION, PLURAL } from '../../src/api/v1alpha1/groupversion.ts';
import { Priority, TokenBucket } from '../../src/aws/limiter.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { setCondition } from '../../src/runtime/conditions.ts';
import { Controller } from '../../src/runtime/controller.ts';
import { EventRecorder } from '../../src/runtime/events.ts';
import { Informer } from '../../src/runtime/informer.ts';
import type { KubeClient, KubeObject } from '../../src/runtime/kube.ts';
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

// One control plane for the whole file (starting one costs seconds).
let env: Env;
before(async () => {
  env = await startEnv();
});
after(async () => {
  await env?.cp.stop();
});

describe('Controller against a real API server', { timeout: 60_000 }, () => {
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

  it('caps running reconciles at workers, but one waiting on a token bucket gives its slot away', async () => {
    const ns = await newNamespace(env, 'ctl-slots');
    const names = ['writer', 'p1', 'p2', 'p3', 'p4'];
    for (const n of names) await createScaler(env, ns, n);
    const informer = informerFor(ns);
    // An empty bucket that refills once a minute: the writer waits on it for the whole test.
    const bucket = new TokenBucket({ ratePerSecond: 1 / 60, burst: 1, clock: systemClock });
    assert.equal(bucket.tryTake(), true);
    const waiting = new AbortController();
    let active = 0;
    let maxActive = 0;
    const done: string[] = [];
    const controller = new Controller({
      name: 'slots',
      informer,
      workers: 1,
      queue: { baseDelayMs: 20, jitter: 0 },
      reconcile: async (key) => {
        const name = key.split('/')[1] ?? '';
        if (name === 'writer') {
          await bucket.take(Priority.ScaleUp, waiting.signal).catch(() => {});
          done.push(name);
          return;
        }
        // The others wait until the writer holds its place in the bucket's line, so with one
        // worker nothing but a released slot lets them run at all.
        if (bucket.waiting === 0) throw new Error('the writer is not waiting yet');
        active++;
        maxActive = Math.max(maxActive, active);
        await sleep(50);
        active--;
        done.push(name);
      },
    });
    const ac = new AbortController();
    const running = Promise.all([informer.run(ac.signal), controller.run(ac.signal)]);
    try {
      await eventually(() => assert.deepEqual(new Set(done), new Set(names.slice(1))), 5000);
      assert.equal(bucket.waiting, 1, 'the writer is still waiting for its token');
      assert.equal(maxActive, 1, 'the others still ran one at a time');
    } finally {
      waiting.abort();
      ac.abort();
      await running;
    }
    assert.ok(done.includes('writer'), 'stop waited for the writer to finish');
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
  it('aborts a reconcile in flight when its object starts being deleted, and runs it again', async () => {
    const ns = await newNamespace(env, 'ctl-delete');
    await env.client.request('POST', scalersPath(ns), {
      body: {
        apiVersion: API_VERSION,
        kind: 'LambdaConcurrencyScaler',
        metadata: { name: 'doomed', finalizers: ['example.com/hold'] },
        spec: {
          awsSQSName: 'q',
          awsLambdaName: 'f',
          awsSQSMsgCountThreshold: 1,
          awsLambdaMinConcurrency: 1,
          awsLamndaMaxConcurrency: 5,
          awsLambdaStepConcurrency: 1,
        },
      },
    });
    const informer = informerFor(ns);
    const seen: { deleting: boolean; aborted: string }[] = [];
    const controller = new Controller({
      name: 'cancel-on-delete',
      informer,
      reconcile: async (key, signal) => {
        const deleting = informer.get(key)?.metadata?.deletionTimestamp !== undefined;
        if (!deleting)
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        seen.push({ deleting, aborted: signal.aborted ? String((signal.reason as Error).message) : '' });
        return undefined;
      },
    });
    const ac = new AbortController();
    const running = Promise.all([informer.run(ac.signal), controller.run(ac.signal)]);
    try {
      await sleep(300);
      await deleteScaler(env, ns, 'doomed');
      await eventually(() =>
        assert.deepEqual(seen, [
          { deleting: false, aborted: 'the object is being deleted' },
          { deleting: true, aborted: '' },
        ]),
      );
    } finally {
      ac.abort();
      await running;
      await env.client.request('PATCH', `${scalersPath(ns)}/doomed`, {
        body: { metadata: { finalizers: null } },
        contentType: 'application/merge-patch+json',
      });
    }
  });

  it('frees the worker of a reconcile past its deadline, while its key stays busy until it returns', async () => {
    const ns = await newNamespace(env, 'ctl-deadline');
    await createScaler(env, ns, 'hung');
    const informer = informerFor(ns);
    const log: string[] = [];
    let release: () => void = () => {};
    const controller = new Controller({
      name: 'deadline',
      informer,
      workers: 1,
      reconcileTimeoutMs: 200,
      reconcile: async (key, signal) => {
        const name = key.split('/')[1] ?? '';
        log.push(`start ${name}`);
        if (name === 'hung') {
          // Ignores its signal, as a call without a deadline would.
          await new Promise<void>((resolve) => {
            release = resolve;
          });
          log.push(`end hung (aborted: ${signal.aborted})`);
        }
        return undefined;
      },
    });
    const ac = new AbortController();
    const running = Promise.all([informer.run(ac.signal), controller.run(ac.signal)]);
    try {
      await eventually(() => assert.deepEqual(log, ['start hung']));
      await createScaler(env, ns, 'healthy');
      await eventually(() => assert.deepEqual(log, ['start hung', 'start healthy']), 3000);
      release();
      await eventually(() => assert.deepEqual(log.at(-1), 'end hung (aborted: true)'));
    } finally {
      release();
      ac.abort();
      await running;
    }
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

describe('StatusPatcher and EventRecorder against a real API server', { timeout: 60_000 }, () => {
  it('writes a changed status once, skips an identical one, and removes dropped fields', async () => {
    const ns = await newNamespace(env, 'status');
    const created = await createScaler(env, ns, 's');
    let requests = 0;
    const counting: KubeClient = {
      request: (method, path, options) => {
        requests++;
        return env.client.request(method, path, options);
      },
      watch: (path, query, signal) => env.client.watch(path, query, signal),
    };
    const patcher = new StatusPatcher(counting, {
      apiVersion: API_VERSION,
      plural: PLURAL,
      namespaced: true,
    });
    const status = {
      state: 'ADJUSTING',
      observedGeneration: 1,
      concurrency: 7,
      conditions: setCondition(
        [],
        { type: 'Ready', status: 'False', reason: 'Progressing', message: 'scaling', observedGeneration: 1 },
        Date.UTC(2026, 0, 1),
      ),
    };

    const written = await patcher.patch(created, status);
    assert.ok(written !== undefined);
    assert.deepEqual(written.status, status);
    assert.notEqual(written.metadata?.resourceVersion, created.metadata?.resourceVersion);
    assert.equal(requests, 1);

    const again = await patcher.patch(written, structuredClone(status));
    assert.equal(again, undefined, 'identical status: no write');
    assert.equal(requests, 1, 'no request at all');
    const read = await env.client.request<KubeObject>('GET', `${scalersPath(ns)}/s`);
    assert.equal(
      read.metadata?.resourceVersion,
      written.metadata?.resourceVersion,
      'resourceVersion unchanged',
    );

    const { concurrency: _dropped, ...withoutConcurrency } = status;
    const next = { ...withoutConcurrency, state: 'ADJUSTED' };
    const rewritten = await patcher.patch(read, next);
    assert.deepEqual(rewritten?.status, next, 'concurrency removed through a null in the merge patch');
    assert.deepEqual(rewritten?.spec, created.spec, 'the status subresource never touches spec');
  });

  it('records a readable Event and bumps its series on repeats', async () => {
    const ns = await newNamespace(env, 'events');
    const scaler = await createScaler(env, ns, 'evented');
    const registry = new Registry();
    const recorder = new EventRecorder({
      client: env.client,
      reportingController: 'aws.operators.jittakal.io/lambda-concurrency-scaler',
      reportingInstance: 'test-pod',
      metrics: new RuntimeMetrics(registry),
    });
    await recorder.record(scaler, 'Normal', 'ScaledUp', 'reserved concurrency 5 → 10 (backlog 900 messages)');
    await recorder.record(scaler, 'Warning', 'Throttled', 'Lambda throttled PutFunctionConcurrency');
    await recorder.record(scaler, 'Warning', 'Throttled', 'Lambda throttled PutFunctionConcurrency');

    const out = JSON.parse(await env.cp.kubectl(['get', 'events', '-n', ns, '-o', 'json'])) as {
      items: {
        reason: string;
        message: string;
        type: string;
        count?: number;
        involvedObject: { kind: string; name: string };
        reportingComponent: string;
        series?: { count: number };
      }[];
    };
    const byReason = Object.fromEntries(out.items.map((e) => [e.reason, e]));
    assert.equal(out.items.length, 2, 'the repeat updated the existing Event');
    assert.equal(byReason.ScaledUp?.message, 'reserved concurrency 5 → 10 (backlog 900 messages)');
    assert.equal(byReason.ScaledUp?.type, 'Normal');
    assert.deepEqual(byReason.ScaledUp?.involvedObject.kind, 'LambdaConcurrencyScaler');
    assert.equal(byReason.ScaledUp?.involvedObject.name, 'evented');
    assert.equal(
      byReason.ScaledUp?.reportingComponent,
      'aws.operators.jittakal.io/lambda-concurrency-scaler',
    );
    assert.equal(byReason.Throttled?.series?.count, 2);
    const table = await env.cp.kubectl(['get', 'events', '-n', ns]);
    assert.match(table, /ScaledUp/);
  });

  it('never throws when the Event cannot be written, and counts the failure', async () => {
    const registry = new Registry();
    const recorder = new EventRecorder({
      client: env.client,
      reportingController: 'x/y',
      reportingInstance: 'test',
      metrics: new RuntimeMetrics(registry),
    });
    const ghost: KubeObject = {
      apiVersion: API_VERSION,
      kind: 'LambdaConcurrencyScaler',
      metadata: { name: 'ghost', namespace: 'no-such-namespace-at-all' },
    };
    await recorder.record(ghost, 'Warning', 'Stalled', 'cannot happen');
    assert.match(await registry.metrics(), /event_recorder_failures_total\{reason="Stalled"\} 1/);
  });
});
