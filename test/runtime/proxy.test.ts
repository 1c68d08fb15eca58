// The informer behind a TCP proxy we control, against a real API server: connections dropped
// mid-watch (RST) and connections that go silent without closing (a dead NAT entry) both end in a
// new watch that resumes delivering events.
import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { Informer } from '../../src/runtime/informer.ts';
import { kubeClient } from '../../src/runtime/kube.ts';
import { RuntimeMetrics } from '../../src/runtime/metrics.ts';
import {
  createScaler,
  type Env,
  eventually,
  newNamespace,
  Recorder,
  scalersPath,
  startEnv,
} from './helpers.ts';

/** A TCP proxy to the API server that can reset or freeze every open connection. */
class TcpProxy {
  readonly #server: Server;
  readonly #pairs = new Set<{ client: Socket; upstream: Socket }>();
  frozen = false;

  constructor(target: URL) {
    this.#server = createServer((client) => {
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
  let env: Env;
  let proxy: TcpProxy;
  let client: ReturnType<typeof kubeClient>;
  before(async () => {
    env = await startEnv();
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
    await env?.cp.stop();
  });

  it('reconnects after connections are reset mid-watch and keeps delivering', async () => {
    const ns = await newNamespace(env, 'net-reset');
    const registry = new Registry();
    const informer = new Informer({
      name: 'reset',
      client,
      paths: [scalersPath(ns)],
      metrics: new RuntimeMetrics(registry),
      backoffInitialMs: 100,
      backoffMaxMs: 500,
    });
    const rec = new Recorder();
    informer.addHandler(rec.handlers);
    const ac = new AbortController();
    const running = informer.run(ac.signal);
    try {
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
    } finally {
      ac.abort();
      await running;
    }
  });

  it('restarts a real watch connection that goes silent (idle watchdog)', async () => {
    const ns = await newNamespace(env, 'net-silent');
    const registry = new Registry();
    const informer = new Informer({
      name: 'silent',
      client,
      paths: [scalersPath(ns)],
      metrics: new RuntimeMetrics(registry),
      idleTimeoutMs: 1500,
      watchTimeoutSeconds: [60, 60],
      backoffInitialMs: 100,
    });
    const rec = new Recorder();
    informer.addHandler(rec.handlers);
    const ac = new AbortController();
    const running = informer.run(ac.signal);
    try {
      await informer.waitForSync(AbortSignal.timeout(10_000));
      await new Promise((r) => setTimeout(r, 200));
      proxy.freezeOpen();
      await createScaler(env, ns, 'sent-while-silent');
      await eventually(() => assert.ok(rec.has('add:sent-while-silent'), `events: ${rec.events}`), 10_000);
      assert.match(
        await registry.metrics(),
        /informer_watch_restarts_total\{informer="silent",cause="idle"\} [1-9]/,
      );
    } finally {
      ac.abort();
      await running;
    }
  });
});
