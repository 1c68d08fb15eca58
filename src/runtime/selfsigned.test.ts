import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { connect, createServer } from 'node:tls';
import { selfSignedCertificate } from './selfsigned.ts';

describe('selfSignedCertificate', () => {
  const now = Date.UTC(2026, 11, 1);
  const pair = selfSignedCertificate({ hosts: ['localhost', 'metrics.example', '127.0.0.1', '::1'], now });

  it('is a certificate Node parses, signed by its own key, for the given names and one year', () => {
    const x509 = new X509Certificate(pair.cert);
    assert.equal(
      x509.subjectAltName,
      'DNS:localhost, DNS:metrics.example, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    assert.ok(x509.verify(x509.publicKey), 'self-signed');
    assert.ok(x509.checkPrivateKey(createPrivateKey(pair.key)));
    assert.equal(x509.ca, false);
    assert.equal(new Date(x509.validFrom).getTime(), now - 3600_000);
    assert.equal(new Date(x509.validTo).getTime(), now + 365 * 86_400_000);
    assert.deepEqual(x509.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  });

  it('writes validity past 2049 as GeneralizedTime, which Node reads back exactly', () => {
    const long = selfSignedCertificate({ hosts: ['localhost'], now, validDays: 30 * 365 });
    const x509 = new X509Certificate(long.cert);
    assert.equal(new Date(x509.validTo).getTime(), now + 30 * 365 * 86_400_000);
    assert.ok(new Date(x509.validTo).getUTCFullYear() >= 2050);
  });

  it('serves TLS that a client trusting it verifies by name', async () => {
    const fresh = selfSignedCertificate({ hosts: ['localhost', '127.0.0.1'], now: Date.now() });
    const server = createServer({ cert: fresh.cert, key: fresh.key }, (s) => s.end('hello'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      for (const servername of ['localhost', undefined]) {
        const socket = connect({
          host: '127.0.0.1',
          port,
          ca: fresh.cert,
          ...(servername ? { servername } : {}),
        });
        await once(socket, 'secureConnect');
        assert.equal(socket.authorized, true, String(socket.authorizationError));
        socket.destroy();
      }
      const wrongName = connect({ host: '127.0.0.1', port, ca: fresh.cert, servername: 'elsewhere' });
      const [error] = (await once(wrongName, 'error')) as [Error & { code?: string }];
      assert.equal(error.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
      const untrusted = connect({ host: '127.0.0.1', port, servername: 'localhost' });
      const [error2] = (await once(untrusted, 'error')) as [Error & { code?: string }];
      assert.equal(error2.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    } finally {
      server.close();
    }
  });
});
