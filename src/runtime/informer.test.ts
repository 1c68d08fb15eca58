// Informer timing logic with a scripted client and a manual clock: reconnect backoff grows and
// resets, and handlers see a consistent cache. The real API server tests are in test/runtime.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from './clock.ts';
import { Informer } from './informer.ts';
import { KubeApiError, type KubeClient, type KubeObject, type WatchEvent } from './kube.ts';

const tick = async (n = 5): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
};

const obj = (name: string, rv: string): KubeObject => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv },
});

/** A client whose list fails `failures` times, then lists `items`; watches stay open until aborted. */
function scriptedClient(failures: number, items: KubeObject[]) {
  const calls: number[] = [];
  let pushEvent: ((e: WatchEvent) => void) | undefined;
  const client: KubeClient = {
    async request<T>(): Promise<T> {
      calls.push(calls.length);
      if (calls.length <= failures)
        throw new KubeApiError('boom', { code: 503, reason: 'ServiceUnavailable' });
      return { items, metadata: { resourceVersion: '10' } } as T;
    },
    async watch(_path, _query, signal) {
      const queue: WatchEvent[] = [];
      let wake: (() => void) | undefined;
      pushEvent = (e) => {
        queue.push(e);
        wake?.();
      };
      signal.addEventListener('abort', () => wake?.(), { once: true });
      return {
        async *[Symbol.asyncIterator]() {
          while (!signal.aborted) {
            const next = queue.shift();
            if (next !== undefined) yield next;
            else await new Promise<void>((r) => (wake = r));
          }
        },
      };
    },
  };
  return { client, calls, push: (e: WatchEvent) => pushEvent?.(e) };
}

describe('Informer (scripted client, manual clock)', () => {
  it('backs off 800 ms, 1.6 s, 3.2 s between failing lists, then syncs', async () => {
    const clock = new ManualClock();
    const { client, calls } = scriptedClient(3, [obj('a', '1')]);
    const informer = new Informer({
      name: 't',
      client,
      paths: ['/x'],
      clock,
      random: () => 1,
      idleTimeoutMs: 1e9,
    });
    const ac = new AbortController();
    const running = informer.run(ac.signal);
    await tick();
    assert.equal(calls.length, 1);
    for (const delay of [800, 1600, 3200]) {
      await clock.advance(delay - 1);
      await tick();
      const before: number = calls.length;
      await clock.advance(1);
      await tick();
      assert.equal(calls.length, before + 1, `retried exactly after ${delay} ms`);
    }
    assert.equal(informer.hasSynced(), true);
    assert.deepEqual(informer.keys(), ['ns/a']);
    ac.abort();
    await running;
  });

  it('applies watch events to the cache before calling handlers', async () => {
    const clock = new ManualClock();
    const { client, push } = scriptedClient(0, []);
    const informer = new Informer({ name: 't', client, paths: ['/x'], clock, idleTimeoutMs: 1e9 });
    const seen: string[] = [];
    informer.addHandler({
      onAdd: (o) => seen.push(`add ${o.metadata?.name} cached=${informer.get('ns/a') !== undefined}`),
      onUpdate: (old, o) =>
        seen.push(`update ${old.metadata?.resourceVersion}→${o.metadata?.resourceVersion}`),
      onDelete: (o) => seen.push(`delete ${o.metadata?.name} cached=${informer.get('ns/a') !== undefined}`),
    });
    informer.addHandler({
      onAdd: () => {
        throw new Error('a broken handler must not stop the others');
      },
    });
    const ac = new AbortController();
    const running = informer.run(ac.signal);
    await informer.waitForSync();
    await tick();
    push({ type: 'ADDED', object: obj('a', '11') });
    push({ type: 'MODIFIED', object: obj('a', '12') });
    push({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '13' } } });
    push({ type: 'DELETED', object: obj('a', '14') });
    await tick();
    assert.deepEqual(seen, ['add a cached=true', 'update 11→12', 'delete a cached=false']);
    ac.abort();
    await running;
  });
  it("caches and delivers objects without managedFields and kubectl's copy unless told otherwise", async () => {
    const managed = (name: string, rv: string): KubeObject => ({
      metadata: {
        ...obj(name, rv).metadata,
        managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': '{"spec":{"x":1}}',
          'example.com/paused': 'true',
        },
      },
      spec: { x: 1 },
    });
    for (const [transform, kept] of [
      [undefined, false],
      [(o: KubeObject) => o, true],
    ] as const) {
      const clock = new ManualClock();
      const { client, push } = scriptedClient(0, [managed('listed', '1')]);
      const informer = new Informer({
        name: 't',
        client,
        paths: ['/x'],
        clock,
        idleTimeoutMs: 1e9,
        ...(transform === undefined ? {} : { transform }),
      });
      const delivered: KubeObject[] = [];
      informer.addHandler({ onAdd: (o) => delivered.push(o), onUpdate: (_old, o) => delivered.push(o) });
      const ac = new AbortController();
      const running = informer.run(ac.signal);
      await informer.waitForSync();
      await tick();
      push({ type: 'ADDED', object: managed('watched', '11') });
      push({ type: 'MODIFIED', object: managed('watched', '12') });
      await tick();
      const all = [...informer.list(), ...delivered];
      assert.equal(all.length, 5);
      for (const o of all) {
        assert.equal(o.metadata?.managedFields !== undefined, kept, JSON.stringify(o));
        const annotations = o.metadata?.annotations as Record<string, string>;
        assert.equal('kubectl.kubernetes.io/last-applied-configuration' in annotations, kept);
        assert.equal(annotations['example.com/paused'], 'true', 'other annotations stay');
        assert.deepEqual(o.spec, { x: 1 }, 'the rest of the object is untouched');
      }
      ac.abort();
      await running;
    }
  });

  it('starts the list over when a continue token expires (HTTP 410) mid-pagination', async () => {
    const clock = new ManualClock();
    const requests: (string | undefined)[] = [];
    const client: KubeClient = {
      async request<T>(_m: string, _p: string, options?: { query?: Record<string, unknown> }): Promise<T> {
        const cont = options?.query?.continue as string | undefined;
        requests.push(cont);
        if (cont === undefined)
          return { items: [obj('a', '1')], metadata: { resourceVersion: '5', continue: 'page2' } } as T;
        if (requests.length === 2)
          throw new KubeApiError('continue expired', { code: 410, reason: 'Expired' });
        return { items: [obj('b', '2')], metadata: { resourceVersion: '5' } } as T;
      },
      watch: async (_path, _query, signal) => ({
        async *[Symbol.asyncIterator]() {
          await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
        },
      }),
    };
    const informer = new Informer({ name: 't', client, paths: ['/x'], clock, idleTimeoutMs: 1e9 });
    const ac = new AbortController();
    const running = informer.run(ac.signal);
    await informer.waitForSync();
    await tick();
    assert.deepEqual(requests, [undefined, 'page2', undefined, 'page2'], 'the list restarted from page one');
    assert.deepEqual(informer.keys().sort(), ['ns/a', 'ns/b']);
    assert.equal(clock.pending, 1, 'no backoff sleep for a 410, only the idle watchdog');
    ac.abort();
    await running;
  });

  it('re-watches from the last resourceVersion after an ERROR event that is not 410', async () => {
    const clock = new ManualClock();
    const watches: unknown[] = [];
    let lists = 0;
    const client: KubeClient = {
      async request<T>(): Promise<T> {
        lists++;
        return { items: [], metadata: { resourceVersion: '10' } } as T;
      },
      async watch(_path, query, signal) {
        watches.push(query.resourceVersion);
        const first = watches.length === 1;
        return {
          async *[Symbol.asyncIterator]() {
            if (first) {
              yield { type: 'ADDED', object: obj('a', '11') } as WatchEvent;
              yield {
                type: 'ERROR',
                object: { code: 500, reason: 'InternalError', message: 'etcd hiccup' },
              } as never;
            }
            await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
          },
        };
      },
    };
    const informer = new Informer({
      name: 't',
      client,
      paths: ['/x'],
      clock,
      random: () => 1,
      idleTimeoutMs: 1e9,
    });
    const ac = new AbortController();
    const running = informer.run(ac.signal);
    await informer.waitForSync();
    await tick(10);
    assert.deepEqual(watches, ['10']);
    await clock.advance(800);
    await tick(10);
    assert.deepEqual(watches, ['10', '11'], 'resumed from the last event, after the backoff');
    assert.equal(lists, 1, 'no relist for a non-410 error');
    assert.deepEqual(informer.keys(), ['ns/a']);
    ac.abort();
    await running;
  });
  it('backs off instead of relisting in a tight loop when every watch answers 410', async () => {
    const clock = new ManualClock();
    let lists = 0;
    const client: KubeClient = {
      async request<T>(): Promise<T> {
        lists++;
        return { items: [], metadata: { resourceVersion: '10' } } as T;
      },
      watch: () => Promise.reject(new KubeApiError('too old', { code: 410, reason: 'Expired' })),
    };
    const informer = new Informer({
      name: 't',
      client,
      paths: ['/x'],
      clock,
      random: () => 1,
      idleTimeoutMs: 1e9,
    });
    const ac = new AbortController();
    const running = informer.run(ac.signal);
    await tick(20);
    assert.equal(lists, 2, 'one immediate relist, then a backoff');
    await clock.advance(800);
    await tick(20);
    assert.equal(lists, 3);
    await clock.advance(1600);
    await tick(20);
    assert.equal(lists, 4, 'the backoff grows');
    ac.abort();
    await running;
  });
});
