// The /metrics endpoint on its own port, as controller-runtime serves it: plain HTTP (for a
// loopback address), or HTTPS with every request authenticated and authorized by the cluster
// (KubeAuthorizer), with certificate files that are re-read when they change, or a self-signed one.

import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { collectDefaultMetrics, type Registry } from 'prom-client';
import type { AuthDecision } from './kube-auth.ts';
import { closeServer, listen } from './listen.ts';
import { type Logger, silentLogger } from './logger.ts';
import type { CertificateKeyPair } from './selfsigned.ts';

/** Decides whether a request may read; KubeAuthorizer is the real one. */
export interface RequestAuthorizer {
  authorize(authorization: string | undefined, method: string, path: string): Promise<AuthDecision>;
}

/** A certificate and key in memory, or files re-read every `reloadIntervalMs` (a Secret mount). */
export type TlsSource = CertificateKeyPair | { certFile: string; keyFile: string; reloadIntervalMs?: number };

export interface MetricsServerOptions {
  registry: Registry;
  /** Register Node's default process metrics on `registry` (once per registry); default true. */
  defaultMetrics?: boolean;
  /** HTTPS with authentication and authorization of every request; without it, plain HTTP. */
  secure?: { tls: TlsSource; authorizer: RequestAuthorizer };
  logger?: Logger;
}

/** /metrics and nothing else; nothing at all without authorization when secure. */
export class MetricsServer {
  readonly #registry: Registry;
  readonly #secure: MetricsServerOptions['secure'];
  readonly #log: Logger;
  #server: ReturnType<typeof createHttpServer> | undefined;
  #reload: NodeJS.Timeout | undefined;

  constructor(options: MetricsServerOptions) {
    this.#registry = options.registry;
    this.#secure = options.secure;
    this.#log = (options.logger ?? silentLogger).child({ component: 'metrics-server' });
    if (
      (options.defaultMetrics ?? true) &&
      this.#registry.getSingleMetric('process_cpu_seconds_total') === undefined
    )
      collectDefaultMetrics({ register: this.#registry });
  }

  /** Starts listening; resolves with the bound port (pass 0 for a free one). */
  async listen(port: number, host: string): Promise<number> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.#handle(req, res).catch((error: unknown) => {
        this.#log.error({ err: (error as Error).message }, 'metrics request failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    };
    let server: ReturnType<typeof createHttpServer>;
    const secure = this.#secure;
    if (secure === undefined) server = createHttpServer(handler);
    else {
      const tls = secure.tls;
      const files = 'certFile' in tls ? tls : undefined;
      let current: CertificateKeyPair = 'certFile' in tls ? readPair(tls) : tls;
      const https = createHttpsServer({ ...current, minVersion: 'TLSv1.2' }, handler);
      if (files !== undefined) {
        // A mounted Secret is replaced in place on rotation: serve the new pair from then on.
        this.#reload = setInterval(() => {
          try {
            const next = readPair(files);
            if (next.cert === current.cert && next.key === current.key) return;
            https.setSecureContext({ ...next, minVersion: 'TLSv1.2' });
            current = next;
            this.#log.info({ certFile: files.certFile }, 'serving certificate reloaded');
          } catch (error) {
            this.#log.warn({ err: (error as Error).message }, 'serving certificate not reloaded');
          }
        }, files.reloadIntervalMs ?? 60_000);
        this.#reload.unref();
      }
      server = https as unknown as ReturnType<typeof createHttpServer>;
    }
    // A scraper gets a few seconds to send its headers and a minute for the whole exchange.
    server.headersTimeout = 10_000;
    server.requestTimeout = 60_000;
    this.#server = server;
    return listen(server, port, host);
  }

  /** Stops accepting connections and closes idle keep-alive ones. */
  async close(): Promise<void> {
    clearInterval(this.#reload);
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    await closeServer(server);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const method = req.method ?? 'GET';
    if (this.#secure !== undefined) {
      const decision = await this.#secure.authorizer.authorize(req.headers.authorization, method, path);
      if (decision.status !== 200) {
        const user = 'user' in decision ? decision.user.username : undefined;
        if (decision.status === 500)
          this.#log.error({ reason: decision.reason }, 'metrics authorization failed');
        else
          this.#log.debug(
            { status: decision.status, user, reason: decision.reason },
            'metrics request refused',
          );
        const body =
          decision.status === 401
            ? 'Unauthorized'
            : decision.status === 403
              ? `Authorization denied for user ${user}`
              : 'Authorization failed';
        res.writeHead(decision.status, { 'Content-Type': 'text/plain' }).end(`${body}\n`);
        return;
      }
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const body = await this.#registry.metrics();
    res.writeHead(200, { 'Content-Type': this.#registry.contentType });
    res.end(method === 'HEAD' ? undefined : body);
  }
}

function readPair(files: { certFile: string; keyFile: string }): CertificateKeyPair {
  return { cert: readFileSync(files.certFile, 'utf8'), key: readFileSync(files.keyFile, 'utf8') };
}
