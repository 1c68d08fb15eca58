// A scrape the way Prometheus does it against the manager's secure metrics endpoint: HTTPS with a
// bearer token, trusting a given certificate (global fetch cannot be told which CA to trust).
import { request } from 'node:https';
import type { PeerCertificate, TLSSocket } from 'node:tls';

export interface HttpsAnswer {
  status: number;
  body: string;
  /** SHA-256 fingerprint of the certificate the server presented. */
  fingerprint: string;
}

/** GET (or another method) over HTTPS; `ca` undefined trusts any certificate (insecureSkipVerify). */
export function httpsGet(
  url: string,
  options: { token?: string; ca?: string; method?: string; servername?: string } = {},
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        agent: false,
        ...(options.ca === undefined ? { rejectUnauthorized: false } : { ca: options.ca }),
        ...(options.servername === undefined ? {} : { servername: options.servername }),
        headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` },
        timeout: 15_000,
      },
      (res) => {
        const peer: PeerCertificate = (res.socket as TLSSocket).getPeerCertificate();
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, fingerprint: peer.fingerprint256 }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within 15 s`)));
    req.on('error', reject);
    req.end();
  });
}
