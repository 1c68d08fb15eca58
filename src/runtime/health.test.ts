import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { HealthServer } from './health.ts';
import { RuntimeMetrics } from './metrics.ts';

describe('HealthServer', () => {
  const registry = new Registry();
  const metrics = new RuntimeMetrics(registry);
  const server = new HealthServer({ registry });
  let ready: boolean | string = false;
  let base = '';
  before(async () => {
    server.addReadyzCheck('informers', () => ready);
    const port = await server.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
  });
  after(() => server.close());

  it('answers /healthz while the process runs', async () => {
    const res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'ok\n');
  });

  it('fails /readyz with the failing check named until it passes', async () => {
    ready = 'informer scalers not synced';
    let res = await fetch(`${base}/readyz`);
    assert.equal(res.status, 503);
    assert.match(await res.text(), /\[-\]informers failed: informer scalers not synced/);
    ready = true;
    res = await fetch(`${base}/readyz?verbose`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /\[\+\]informers ok/);
  });

  it('serves the given registry with default and runtime metrics', async () => {
    metrics.leaderStatus.set({ name: 'x' }, 1);
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    assert.match(text, /^process_cpu_seconds_total /m);
    assert.match(text, /^leader_election_master_status\{name="x"\} 1$/m);
  });

  it('answers 404 elsewhere and can share a registry with a second server', async () => {
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    assert.doesNotThrow(() => new HealthServer({ registry }), 'default metrics are registered once');
  });

  it('serves no /metrics when given no registry, so probes never expose them', async () => {
    const probes = new HealthServer({});
    const port = await probes.listen(0, '127.0.0.1');
    try {
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`)).status, 404);
    } finally {
      await probes.close();
    }
  });
});
