// The informer against a real kube-apiserver: events, server-side timeouts, 410 Gone, an API
// server restart with an object deleted (straight from etcd) while the server was down, and a TCP
// proxy that resets connections mid-watch or leaves them open but silent (a dead NAT entry).
import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { GROUP, PLURAL } from '../../src/api/v1alpha1/groupversion.ts';
import { Informer, type InformerOptions } from '../../src/runtime/informer.ts';
import { type KubeClient, kubeClient } from '../../src/runtime/kube.ts';
import { RuntimeMetrics } from '../../src/runtime/metrics.ts';
import {
  apiServerUp,
  createScaler,
  deleteFromEtcd,
  deleteScaler,
  type Env,
  eventually,
  newNamespace,
  Recorder,
  scalersPath,
  sleep,
  startEnv,
} from './helpers.ts';

const fast = {
  backoffInitialMs: 100,
  backoffMaxMs: 500,
} satisfies Partial<InformerOptions>;

async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}

/** Runs an informer (fast backoff) with a Recorder while `body` runs, then stops it. */
async function watching(
  options: InformerOptions,
  body: (informer: Informer, rec: Recorder) => Promise<void>,
): Promise<void> {
  const informer = new Informer({ ...fast, ...options });
  const rec = new Recorder();
  informer.addHandler(rec.handlers);
  const ac = new AbortController();
  const running = informer.run(ac.signal);
  try {
    await body(informer, rec);
  } finally {
    ac.abort();
    await running;
  }
}

// One control plane for the whole file (starting one costs seconds).
let env: Env;
before(async () => {
  env = await startEnv();
});
after(async () => {
  await env?.cp.stop();
});

describe('Informer against a real API server', { timeout: 60_000 }, () => {
  it('lists existing objects, then delivers adds, updates and deletes', async () => {
    const ns = await newNamespace(env, 'inf-basic');
    await createScaler(env, ns, 'existing');
    await watching({ name: 't', client: env.client, paths: [scalersPath(ns)] }, async (informer, rec) => {
      await informer.waitForSync(AbortSignal.timeout(10_000));
      assert.deepEqual(rec.events, ['add:existing']);
      assert.equal(informer.get(`${ns}/existing`)?.metadata?.name, 'existing');

      await createScaler(env, ns, 'new');
      await eventually(() => assert.ok(rec.has('add:new')));
      await env.client.request('PATCH', `${scalersPath(ns)}/new`, {
        body: { metadata: { labels: { touched: 'yes' } } },
        contentType: 'application/merge-patch+json',
      });
      await eventually(() => assert.ok(rec.has('update:new')));
      assert.equal(
        (informer.get(`${ns}/new`)?.metadata?.labels as Record<string, string> | undefined)?.touched,
        'yes',
      );
      await deleteScaler(env, ns, 'existing');
      await eventually(() => assert.ok(rec.has('delete:existing')));
      assert.equal(informer.get(`${ns}/existing`), undefined);
      assert.deepEqual(informer.keys().sort(), [`${ns}/new`]);
    });
  });

  it('lists in pages (limit/continue) and caches every page', async () => {
    const ns = await newNamespace(env, 'inf-pages');
    for (let i = 0; i < 5; i++) await createScaler(env, ns, `p${i}`);
    const pages: (string | undefined)[] = [];
    const client: KubeClient = {
      request: (method, path, options) => {
        pages.push(options?.query?.continue as string | undefined);
        return env.client.request(method, path, options);
      },
      watch: (path, query, signal) => env.client.watch(path, query, signal),
    };
    await watching({ name: 'pages', client, paths: [scalersPath(ns)], pageSize: 2 }, async (informer) => {
      await informer.waitForSync(AbortSignal.timeout(10_000));
      assert.equal(pages.length, 3, 'five objects in pages of two');
      assert.equal(pages[0], undefined);
      assert.ok(pages[1] !== undefined && pages[2] !== undefined, 'later pages carry the continue token');
      assert.deepEqual(
        informer.keys().sort(),
        [0, 1, 2, 3, 4].map((i) => `${ns}/p${i}`),
      );
    });
  });

  it('stops promptly when aborted at any point, even right after syncing', async () => {
    const ns = await newNamespace(env, 'inf-stop');
    await createScaler(env, ns, 'x');
    for (const delayMs of [0, 1, 5, 50]) {
      const informer = new Informer({ name: 'stop', client: env.client, paths: [scalersPath(ns)], ...fast });
      const ac = new AbortController();
      const running = informer.run(ac.signal);
      await informer.waitForSync(AbortSignal.timeout(10_000));
      await sleep(delayMs);
      const t0 = Date.now();
      ac.abort();
      await running;
      assert.ok(
        Date.now() - t0 < 1000,
        `run() resolved ${Date.now() - t0} ms after abort (delay ${delayMs})`,
      );
    }
  });

  it('keeps delivering across several server-side watch timeouts', async () => {
    const ns = await newNamespace(env, 'inf-timeout');
    const registry = new Registry();
    await watching(
      {
        name: 'timeouts',
        client: env.client,
        paths: [scalersPath(ns)],
        metrics: new RuntimeMetrics(registry),
        watchTimeoutSeconds: [1, 1],
      },
      async (informer, rec) => {
        await informer.waitForSync(AbortSignal.timeout(10_000));
        for (const name of ['a', 'b', 'c']) {
          await sleep(1300);
          await createScaler(env, ns, name);
          await eventually(() => assert.ok(rec.has(`add:${name}`), `${name} delivered: ${rec.events}`));
        }
        const timeouts = await metricValue(registry, 'informer_watch_restarts_total', { cause: 'timeout' });
        assert.ok(timeouts >= 3, `expected ≥3 watch restarts after server timeouts, got ${timeouts}`);
        assert.equal(
          await metricValue(registry, 'informer_relists_total', {}),
          1,
          'timeouts must not relist',
        );
      },
    );
  });

  it('relists on 410 Gone and reports objects deleted while it was not watching', async () => {
    // The API server's watch cache for a CRD starts at the resourceVersion current when it was
    // initialised, so a watch from resourceVersion 1 gets an ERROR event with code 410 ("too old
    // resource version") every time. The client below forces the first watch to start there, and
    // deletes an object between the list and that watch: only a relist can notice the delete.
    const ns = await newNamespace(env, 'inf-gone');
    await createScaler(env, ns, 'stays');
    await createScaler(env, ns, 'vanishes');
    let watches = 0;
    const client: KubeClient = {
      request: (method, path, options) => env.client.request(method, path, options),
      async watch(path, query, signal) {
        if (++watches === 1) {
          await deleteScaler(env, ns, 'vanishes');
          return env.client.watch(path, { ...query, resourceVersion: '1' }, signal);
        }
        return env.client.watch(path, query, signal);
      },
    };
    const registry = new Registry();
    await watching(
      {
        name: 'gone',
        client,
        paths: [scalersPath(ns)],
        metrics: new RuntimeMetrics(registry),
      },
      async (informer, rec) => {
        await eventually(() => assert.ok(rec.has('delete:vanishes'), `events: ${rec.events}`));
        assert.equal(await metricValue(registry, 'informer_watch_restarts_total', { cause: 'gone' }), 1);
        assert.equal(await metricValue(registry, 'informer_relists_total', {}), 2);
        assert.deepEqual(informer.keys(), [`${ns}/stays`]);
        await createScaler(env, ns, 'after');
        await eventually(() => assert.ok(rec.has('add:after')));
        assert.equal(rec.count('add:stays'), 1, 'an unchanged object is not re-added by the relist');
      },
    );
  });

  it('survives an API server restart and notices what changed while it was down', async () => {
    const ns = await newNamespace(env, 'inf-restart');
    await createScaler(env, ns, 'kept');
    await createScaler(env, ns, 'deleted-while-down');
    const registry = new Registry();
    await watching(
      {
        name: 'restart',
        client: env.client,
        paths: [scalersPath(ns)],
        metrics: new RuntimeMetrics(registry),
      },
      async (informer, rec) => {
        await informer.waitForSync(AbortSignal.timeout(10_000));

        assert.equal(await apiServerUp(env), true);
        const restart = env.cp.restartApiServer(2000);
        await eventually(async () => assert.equal(await apiServerUp(env), false), 15_000);
        await deleteFromEtcd(env.cp, `/registry/${GROUP}/${PLURAL}/${ns}/deleted-while-down`);
        await restart;

        await createScaler(env, ns, 'created-after');
        await eventually(() => {
          assert.ok(rec.has('delete:deleted-while-down'), `events: ${rec.events}`);
          assert.ok(rec.has('add:created-after'), `events: ${rec.events}`);
        }, 20_000);
        assert.deepEqual(informer.keys().sort(), [`${ns}/created-after`, `${ns}/kept`]);
        const errors = await metricValue(registry, 'informer_watch_restarts_total', { cause: 'error' });
        assert.ok(errors >= 1, `the broken connection counts as a restart (got ${errors})`);
        // Two right ways back, by timing. Usually the restarted server's watch cache starts after
        // our resourceVersion: 410, relist, diff. But once, in a fresh-clone run on a busy machine,
        // the server resumed the watch at our resourceVersion and the deletion came as a watch
        // event: no 410 and no relist, and everything above held. A relist without a 410, or a
        // 410 without one, would still fail.
        const gone = await metricValue(registry, 'informer_watch_restarts_total', { cause: 'gone' });
        const relists = await metricValue(registry, 'informer_relists_total', {});
        assert.ok(
          (gone === 1 && relists === 2) || (gone === 0 && relists === 1),
          `410s ${gone}, relists ${relists}: a 410 must bring exactly one relist, and nothing else may`,
        );
      },
    );
  });

  it('restarts a watch that goes silent (idle watchdog)', async () => {
    // A proxy-less way to get a silent connection: a client whose watch never yields.
    const ns = await newNamespace(env, 'inf-idle');
    let watches = 0;
    const client: KubeClient = {
      request: (method, path, options) => env.client.request(method, path, options),
      async watch(path, query, signal) {
        if (++watches === 1) {
          return {
            async *[Symbol.asyncIterator]() {
              await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
            },
          };
        }
        return env.client.watch(path, query, signal);
      },
    };
    const registry = new Registry();
    await watching(
      {
        name: 'idle',
        client,
        paths: [scalersPath(ns)],
        metrics: new RuntimeMetrics(registry),
        idleTimeoutMs: 500,
      },
      async (informer, rec) => {
        await informer.waitForSync(AbortSignal.timeout(10_000));
        await createScaler(env, ns, 'while-silent');
        await eventually(() => assert.ok(rec.has('add:while-silent')), 5000);
        assert.equal(await metricValue(registry, 'informer_watch_restarts_total', { cause: 'idle' }), 1);
      },
    );
  });

  it('re-delivers every cached object on resync', async () => {
    const ns = await newNamespace(env, 'inf-resync');
    await createScaler(env, ns, 'one');
    await createScaler(env, ns, 'two');
    await watching(
      {
        name: 'resync',
        client: env.client,
        paths: [scalersPath(ns)],
        resyncPeriodMs: 300,
      },
      async (_informer, rec) => {
        await eventually(() => {
          assert.ok(rec.count('update:one') >= 2);
          assert.ok(rec.count('update:two') >= 2);
        }, 5000);
      },
    );
  });

  it('watches several namespaces into one cache', async () => {
    const [a, b, other] = [
      await newNamespace(env, 'inf-ns'),
      await newNamespace(env, 'inf-ns'),
      await newNamespace(env, 'inf-ns'),
    ];
    await createScaler(env, a, 'in-a');
    await createScaler(env, other, 'in-other');
    await watching(
      {
        name: 'multi',
        client: env.client,
        paths: [scalersPath(a), scalersPath(b)],
      },
      async (informer, rec) => {
        await informer.waitForSync(AbortSignal.timeout(10_000));
        await createScaler(env, b, 'in-b');
        await eventually(() => assert.ok(rec.has('add:in-b')));
        assert.deepEqual(informer.keys().sort(), [`${a}/in-a`, `${b}/in-b`].sort());
      },
    );
  });
});

/** A TCP proxy to the API server that can reset or freeze every open connection. */
class TcpProxy {
  readonly #server: Server;
  readonly #pairs = new Set<{ client: Socket; upstream: Socket }>();
  frozen = false;

  constructor(target: URL) {
    this.#server = createServer((client) => {
      this.accepted++;
      const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
      const pair = { client, upstream };
      this.#pairs.add(pair);
      const forward = (from: Socket, to: Socket) =>
        from.on('data', (d: Buffer) => {
          if (!this.frozen) to.write(d);
        });
      forward(client, upstream);
      forward(upstream, client);
      const close = () => {
        this.#pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
  }

  /** Connections accepted so far. */
  accepted = 0;

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    return (this.#server.address() as { port: number }).port;
  }

  /** Drops every connection with a TCP reset. */
  reset(): number {
    const n = this.#pairs.size;
    for (const { client, upstream } of this.#pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    return n;
  }

  /** Forwards nothing on connections open now (they stay open); new ones work. */
  freezeOpen(): void {
    for (const { client, upstream } of this.#pairs) {
      client.removeAllListeners('data');
      upstream.removeAllListeners('data');
    }
  }

  async close(): Promise<void> {
    this.reset();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

describe('Informer through a misbehaving network', { timeout: 60_000 }, () => {
  let proxy: TcpProxy;
  let client: ReturnType<typeof kubeClient>;
  before(async () => {
    proxy = new TcpProxy(new URL(env.cp.server));
    const port = await proxy.listen();
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        {
          name: 'proxy',
          server: `https://127.0.0.1:${port}`,
          caData: Buffer.from(env.cp.caData).toString('base64'),
        },
      ],
      users: [{ name: 'admin', token: env.cp.token }],
      contexts: [{ name: 'proxy', cluster: 'proxy', user: 'admin' }],
      currentContext: 'proxy',
    });
    client = kubeClient(kc);
  });
  after(async () => {
    await proxy?.close();
  });

  it('sends sequential requests over one kept-alive connection', async () => {
    // client-node's own request path opens a new TLS connection per request.
    const ns = await newNamespace(env, 'net-reuse');
    proxy.reset();
    const before = proxy.accepted;
    for (let i = 0; i < 20; i++) await client.request('GET', scalersPath(ns));
    assert.equal(proxy.accepted - before, 1);
  });

  it('reconnects after connections are reset mid-watch and keeps delivering', async () => {
    const ns = await newNamespace(env, 'net-reset');
    const registry = new Registry();
    await watching(
      {
        name: 'reset',
        client,
        paths: [scalersPath(ns)],
        metrics: new RuntimeMetrics(registry),
      },
      async (informer, rec) => {
        await informer.waitForSync(AbortSignal.timeout(10_000));
        await new Promise((r) => setTimeout(r, 300)); // the watch is open (later ones delivered an event)
        for (const name of ['one', 'two', 'three']) {
          await eventually(() => assert.ok(proxy.reset() > 0, 'a watch connection to reset'), 5000);
          await createScaler(env, ns, name);
          await eventually(() => assert.ok(rec.has(`add:${name}`), `events: ${rec.events}`), 10_000);
        }
        assert.match(
          await registry.metrics(),
          /informer_watch_restarts_total\{informer="reset",cause="error"\} [3-9]/,
        );
      },
    );
  });

  it('restarts a real watch connection that goes silent (idle watchdog)', async () => {
    const ns = await newNamespace(env, 'net-silent');
    const registry = new Registry();
    await watching(
      {
        name: 'silent',
        client,
        paths: [scalersPath(ns)],
        metrics: new RuntimeMetrics(registry),
        idleTimeoutMs: 1500,
        watchTimeoutSeconds: [60, 60],
        backoffInitialMs: 100,
      },
      async (informer, rec) => {
        await informer.waitForSync(AbortSignal.timeout(10_000));
        await new Promise((r) => setTimeout(r, 200));
        proxy.freezeOpen();
        await createScaler(env, ns, 'sent-while-silent');
        await eventually(() => assert.ok(rec.has('add:sent-while-silent'), `events: ${rec.events}`), 10_000);
        assert.match(
          await registry.metrics(),
          /informer_watch_restarts_total\{informer="silent",cause="idle"\} [1-9]/,
        );
      },
    );
  });
});
