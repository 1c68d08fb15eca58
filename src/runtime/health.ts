// The probe endpoints a Deployment needs: /healthz (the process serves requests), /readyz (every
// registered readiness check passes) and, only when given a registry, /metrics unauthenticated
// (tests; the manager serves metrics from MetricsServer on their own port). Plain node:http.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { collectDefaultMetrics, type Registry } from 'prom-client';
import { closeServer, listen } from './listen.ts';
import { type Logger, silentLogger } from './logger.ts';

/** A named probe: true (or nothing) passes, false or a string (the reason) fails, throwing fails. */
export type Check = () => boolean | string | undefined | Promise<boolean | string | undefined>;

export interface HealthServerOptions {
  /** Also serve this registry on /metrics, without authentication (none: 404). */
  registry?: Registry;
  /** Register Node's default process metrics on `registry` (once per registry); default true. */
  defaultMetrics?: boolean;
  logger?: Logger;
}

/** /healthz and /readyz (and /metrics when given a registry) on one port. */
export class HealthServer {
  readonly #registry: Registry | undefined;
  readonly #log: Logger;
  readonly #healthz = new Map<string, Check>();
  readonly #readyz = new Map<string, Check>();
  #server: Server | undefined;

  constructor(options: HealthServerOptions) {
    this.#registry = options.registry;
    this.#log = (options.logger ?? silentLogger).child({ component: 'health' });
    if (
      this.#registry !== undefined &&
      (options.defaultMetrics ?? true) &&
      this.#registry.getSingleMetric('process_cpu_seconds_total') === undefined
    )
      collectDefaultMetrics({ register: this.#registry });
    this.#healthz.set('ping', () => true);
  }

  addHealthzCheck(name: string, check: Check): void {
    this.#healthz.set(name, check);
  }

  addReadyzCheck(name: string, check: Check): void {
    this.#readyz.set(name, check);
  }

  /** Starts listening; resolves with the bound port (pass 0 for a free one). */
  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        this.#log.error({ err: (error as Error).message }, 'health request failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    this.#server = server;
    return listen(server, port, host);
  }

  /** Stops accepting connections and closes idle keep-alive ones. */
  async close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    await closeServer(server);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    switch (url.pathname) {
      case '/healthz':
      case '/livez':
        return this.#probe(this.#healthz, url, res);
      case '/readyz':
        return this.#probe(this.#readyz, url, res);
      case '/metrics': {
        if (this.#registry === undefined) break;
        const body = await this.#registry.metrics();
        res.writeHead(200, { 'Content-Type': this.#registry.contentType }).end(body);
        return;
      }
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  }

  /** Runs every check; `?verbose` lists them like kube-apiserver does. */
  async #probe(checks: Map<string, Check>, url: URL, res: ServerResponse): Promise<void> {
    const lines: string[] = [];
    let ok = true;
    for (const [name, check] of checks) {
      let result: boolean | string | undefined;
      try {
        result = await check();
      } catch (error) {
        result = (error as Error).message;
      }
      if (result === true || result === undefined) lines.push(`[+]${name} ok`);
      else {
        ok = false;
        lines.push(`[-]${name} failed: ${result === false ? 'not ready' : result}`);
      }
    }
    const verbose = url.searchParams.has('verbose') || !ok;
    const body = verbose ? `${lines.join('\n')}\n${ok ? 'ok' : 'check failed'}\n` : 'ok\n';
    res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' }).end(body);
  }
}
