import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { httpsGet } from '../envtest/https.ts';
import type { AuthDecision } from './kube-auth.ts';
import { MetricsServer, type RequestAuthorizer } from './metrics-server.ts';
import { selfSignedCertificate } from './selfsigned.ts';

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

function registryWithCounter(): Registry {
  const registry = new Registry();
  new Counter({ name: 'lcs_test_total', help: 'test', registers: [registry] }).inc(3);
  return registry;
}

/** Decides by token: reader → allowed, stranger → denied, broken → API server unreachable. */
class TokenTable implements RequestAuthorizer {
  readonly calls: string[] = [];
  async authorize(authorization: string | undefined, method: string, path: string): Promise<AuthDecision> {
    this.calls.push(`${method} ${path} ${authorization ?? '-'}`);
    const user = { username: 'system:serviceaccount:mon:prometheus' };
    switch (authorization) {
      case 'Bearer reader':
        return { status: 200, user };
      case 'Bearer stranger':
        return { status: 403, user: { username: 'stranger' }, reason: 'no RBAC' };
      case 'Bearer broken':
        return { status: 500, reason: 'TokenReview failed: connect ECONNREFUSED' };
      default:
        return { status: 401, reason: 'token not authenticated' };
    }
  }
}

describe('MetricsServer', () => {
  it('serves only /metrics over plain HTTP when not secure', async () => {
    const server = new MetricsServer({ registry: registryWithCounter(), defaultMetrics: false });
    const port = await server.listen(0, '127.0.0.1');
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /^lcs_test_total 3$/m);
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 404);
      assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status, 405);
    } finally {
      await server.close();
    }
  });

  describe('secure', () => {
    const pair = selfSignedCertificate({ hosts: ['localhost', '127.0.0.1'], now: Date.now() });
    const authorizer = new TokenTable();
    const server = new MetricsServer({
      registry: registryWithCounter(),
      defaultMetrics: false,
      secure: { tls: pair, authorizer },
    });
    let url = '';
    before(async () => {
      url = `https://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
    });
    after(() => server.close());

    const cases = {
      'no token': { token: undefined, status: 401, body: 'Unauthorized\n' },
      'a token the cluster does not know': { token: 'forged', status: 401, body: 'Unauthorized\n' },
      'a user without get on /metrics': {
        token: 'stranger',
        status: 403,
        body: 'Authorization denied for user stranger\n',
      },
      'an API server that cannot be asked': { token: 'broken', status: 500, body: 'Authorization failed\n' },
    } satisfies Record<string, { token: string | undefined; status: number; body: string }>;
    for (const [name, c] of Object.entries(cases)) {
      it(`refuses ${name} with ${c.status} and no metrics`, async () => {
        const res = await httpsGet(`${url}/metrics`, {
          ca: pair.cert,
          ...(c.token ? { token: c.token } : {}),
        });
        assert.equal(res.status, c.status);
        assert.equal(res.body, c.body);
      });
    }

    it('serves the metrics over TLS with its certificate to an authorized reader, asking per request', async () => {
      const before = authorizer.calls.length;
      const res = await httpsGet(`${url}/metrics`, { ca: pair.cert, token: 'reader' });
      assert.equal(res.status, 200);
      assert.match(res.body, /^lcs_test_total 3$/m);
      assert.equal(res.fingerprint, fingerprint(pair.cert));
      assert.deepEqual(authorizer.calls.slice(before), ['GET /metrics Bearer reader']);
    });

    it('authorizes before anything else: other paths are refused to strangers and 404 to readers', async () => {
      assert.equal((await httpsGet(`${url}/debug/pprof`, { ca: pair.cert })).status, 401);
      assert.equal((await httpsGet(`${url}/debug/pprof`, { ca: pair.cert, token: 'reader' })).status, 404);
    });

    it('answers HEAD without a body', async () => {
      const res = await httpsGet(`${url}/metrics`, { ca: pair.cert, token: 'reader', method: 'HEAD' });
      assert.equal(res.status, 200);
      assert.equal(res.body, '');
    });
  });

  it('serves certificate files and picks up a rotated pair without a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lcs-metrics-cert-'));
    const first = selfSignedCertificate({ hosts: ['localhost'], now: Date.now() });
    const second = selfSignedCertificate({ hosts: ['localhost'], now: Date.now() });
    const certFile = join(dir, 'tls.crt');
    const keyFile = join(dir, 'tls.key');
    writeFileSync(certFile, first.cert);
    writeFileSync(keyFile, first.key);
    const server = new MetricsServer({
      registry: registryWithCounter(),
      defaultMetrics: false,
      secure: { tls: { certFile, keyFile, reloadIntervalMs: 50 }, authorizer: new TokenTable() },
    });
    const url = `https://127.0.0.1:${await server.listen(0, '127.0.0.1')}/metrics`;
    try {
      const before = await httpsGet(url, { ca: first.cert, servername: 'localhost', token: 'reader' });
      assert.equal(before.fingerprint, fingerprint(first.cert));
      writeFileSync(keyFile, second.key);
      writeFileSync(certFile, second.cert);
      const deadline = Date.now() + 5000;
      let seen = before.fingerprint;
      while (seen !== fingerprint(second.cert) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        seen = (await httpsGet(url, { token: 'reader' })).fingerprint;
      }
      assert.equal(seen, fingerprint(second.cert), 'the rotated certificate is served');
      const after = await httpsGet(url, { ca: second.cert, servername: 'localhost', token: 'reader' });
      assert.equal(after.status, 200);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
