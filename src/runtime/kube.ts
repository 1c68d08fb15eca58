// A thin raw client for the API server: JSON requests with any content type (merge patches,
// /status), paginated lists and a streaming watch whose lifecycle we own. client-node supplies the
// kubeconfig's credentials (tokens, exec plugins, certificates, proxies); requests go over node's
// own HTTP client through one keep-alive connection pool per TLS identity. Why not client-node's
// clients: its typed clients drop CRD fields and default to JSON Patch (TOOLCHAIN.md), its informer
// gives up on errors, and its request path builds a new connection pool — a new TLS handshake — for
// every request (config.js createDispatcher), which at thousands of scalers cost most of the
// manager's CPU and native memory (bench/SCALE.md).
import { createHash } from 'node:crypto';
import { type Agent, Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import {
  Agent as HttpsAgent,
  type RequestOptions as HttpsRequestOptions,
  request as httpsRequest,
} from 'node:https';
import { createSecureContext } from 'node:tls';
import type { KubeConfig } from '@kubernetes/client-node';

/** A failed API call. `code` is the HTTP status (0 when no response arrived). */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  readonly code: number;
  /** The Status reason (`NotFound`, `Conflict`, `Expired`, `Gone`...) or `NetworkError`. */
  readonly reason: string;

  constructor(message: string, options: { code: number; reason: string; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.reason = options.reason;
  }
}

/** True when the error is the API server saying "not found". */
export const isNotFound = (error: unknown): boolean => error instanceof KubeApiError && error.code === 404;
/** True when the error is an optimistic-concurrency conflict. */
export const isConflict = (error: unknown): boolean => error instanceof KubeApiError && error.code === 409;
/** True when a resourceVersion is too old to list or watch from. */
export const isGone = (error: unknown): boolean =>
  error instanceof KubeApiError &&
  (error.code === 410 || error.reason === 'Expired' || error.reason === 'Gone');

/**
 * An API path with every interpolated value encoded as exactly one path segment:
 * apiPath`/api/v1/namespaces/${ns}/secrets/${name}`. A value that is empty, `.` or `..` (which a
 * URL would normalize into another path) is refused, whatever validated it before.
 */
export function apiPath(strings: TemplateStringsArray, ...segments: string[]): string {
  let out = strings[0] ?? '';
  segments.forEach((segment, i) => {
    if (segment === '' || segment === '.' || segment === '..')
      throw new KubeApiError(`refusing the path segment ${JSON.stringify(segment)}`, {
        code: 400,
        reason: 'BadRequest',
      });
    out += encodeURIComponent(segment) + (strings[i + 1] ?? '');
  });
  return out;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Defaults to application/json when there is a body. */
  contentType?: string;
  signal?: AbortSignal;
  /** Per-request deadline (not used for watches); default 30 s. */
  timeoutMs?: number;
}

/** One event of a watch stream. */
export interface WatchEvent<T = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** The fields of any Kubernetes object the runtime relies on. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** A list response page. */
export interface KubeList<T = KubeObject> {
  items: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

/** The API calls the runtime makes; `kubeClient(kc)` implements it over a KubeConfig. */
export interface KubeClient {
  request<T = unknown>(method: string, path: string, options?: RequestOptions): Promise<T>;
  /** Opens a watch; resolves once the server accepted it (throws KubeApiError otherwise). */
  watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    signal: AbortSignal,
  ): Promise<AsyncIterable<WatchEvent>>;
}

/** What a request needs from the kubeconfig: the server, auth headers and the pools. */
interface Route {
  server: URL;
  headers: Record<string, string>;
  pool: Pool;
}

/** Short requests share a bounded keep-alive pool; each watch holds a connection of its own. */
interface Pool {
  requests: Agent;
  watches: Agent;
}

/** Requests (and kept-alive connections) at once per pool; watches have a pool of their own. */
const MAX_SOCKETS = 32;

/**
 * Credentials are read from the kubeconfig on every request (tokens and exec plugins refresh, files
 * rotate); the connection pool is rebuilt only when the TLS material, server or proxy changes.
 */
export class KubeTransport {
  readonly #kc: KubeConfig;
  #pool: { fingerprint: string; pool: Pool } | undefined;

  constructor(kc: KubeConfig) {
    this.#kc = kc;
  }

  async route(): Promise<Route> {
    const cluster = this.#kc.getCurrentCluster();
    if (cluster === null) throw new Error('kubeconfig has no current cluster');
    const options: HttpsRequestOptions = {};
    await this.#kc.applyToHTTPSOptions(options);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.headers ?? {})) if (v !== undefined) headers[k] = String(v);
    if (typeof options.auth === 'string')
      headers.Authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
    const hash = createHash('sha256');
    for (const part of [
      cluster.server,
      cluster.proxyUrl,
      options.ca,
      options.cert,
      options.key,
      options.pfx,
      options.servername,
      String(options.rejectUnauthorized),
    ])
      hash.update(part === undefined ? '' : (part as string | Buffer)).update('\0');
    const fingerprint = hash.digest('hex');
    if (this.#pool?.fingerprint !== fingerprint) {
      // Rotated credentials: requests in flight on the old pool get a minute to finish.
      const old = this.#pool?.pool;
      if (old !== undefined) setTimeout(() => destroy(old), 60_000).unref();
      this.#pool = { fingerprint, pool: poolFor(cluster.server, cluster.proxyUrl, options) };
    }
    return { server: new URL(cluster.server.replace(/\/$/, '')), headers, pool: this.#pool.pool };
  }

  /** Closes the pool's sockets. */
  close(): void {
    if (this.#pool !== undefined) destroy(this.#pool.pool);
    this.#pool = undefined;
  }
}

function destroy(pool: Pool): void {
  pool.requests.destroy();
  pool.watches.destroy();
}

/**
 * A keep-alive pool with the kubeconfig's TLS material, parsed once into one secure context for
 * every connection (node would otherwise parse the CA and key for each new connection). At most
 * MAX_SOCKETS requests run at once; more wait in the pool (client-go multiplexes one HTTP/2
 * connection). Through a proxy, client-node's own agent (HTTP(S) or SOCKS proxy agent, which
 * `applyToHTTPSOptions` put in `options.agent`) is used as is.
 */
function poolFor(server: string, proxyUrl: string | undefined, options: HttpsRequestOptions): Pool {
  if (proxyUrl !== undefined && options.agent instanceof HttpAgent)
    return { requests: options.agent, watches: options.agent };
  const requests = {
    keepAlive: true,
    keepAliveMsecs: 30_000,
    maxSockets: MAX_SOCKETS,
    maxFreeSockets: MAX_SOCKETS,
    scheduling: 'lifo' as const,
  };
  const watches = { keepAlive: false };
  if (server.startsWith('http:'))
    return { requests: new HttpAgent(requests), watches: new HttpAgent(watches) };
  const tls = {
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    ...(options.cert === undefined ? {} : { cert: options.cert }),
    ...(options.key === undefined ? {} : { key: options.key }),
    ...(options.pfx === undefined ? {} : { pfx: options.pfx }),
    ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
  };
  const shared = {
    secureContext: createSecureContext(tls),
    ...(options.servername === undefined ? {} : { servername: options.servername }),
    ...(options.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: options.rejectUnauthorized }),
  };
  return {
    requests: new HttpsAgent({ ...requests, ...shared }),
    watches: new HttpsAgent({ ...watches, ...shared }),
  };
}

/** Sends one request; resolves with the response once its headers arrived. */
function send(
  route: Route,
  agent: Agent,
  method: string,
  path: string,
  query: RequestOptions['query'],
  signal: AbortSignal | undefined,
  body?: string,
  contentType?: string,
): Promise<IncomingMessage> {
  const url = new URL(route.server.href.replace(/\/$/, '') + path);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  const headers: Record<string, string> = { ...route.headers, Accept: 'application/json' };
  if (body !== undefined) {
    headers['Content-Type'] = contentType ?? 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(body));
  }
  const request = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method,
      headers,
      agent,
      ...(signal === undefined ? {} : { signal }),
    });
    req.once('response', resolve);
    req.once('error', reject);
    req.end(body);
  });
}

/** The whole body as text; rejects if the connection breaks or the signal aborts first. */
async function readText(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A KubeClient that authenticates like client-node does for the current context of `kc`. */
export function kubeClient(
  kc: KubeConfig,
  defaults: { timeoutMs?: number; transport?: KubeTransport } = {},
): KubeClient {
  const transport = defaults.transport ?? new KubeTransport(kc);

  const call = async (
    method: string,
    path: string,
    query: RequestOptions['query'],
    signal: AbortSignal | undefined,
    body?: string,
    contentType?: string,
  ): Promise<IncomingMessage> => {
    const route = await transport.route();
    const agent = query?.watch === true ? route.pool.watches : route.pool.requests;
    try {
      return await send(route, agent, method, path, query, signal, body, contentType);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw networkError(method, path, error);
    }
  };

  const failure = async (method: string, path: string, response: IncomingMessage): Promise<KubeApiError> => {
    const text = await readText(response).catch(() => '');
    const code = response.statusCode ?? 0;
    let reason = '';
    let message = text.slice(0, 500);
    try {
      const status = JSON.parse(text) as { reason?: string; message?: string };
      reason = status.reason ?? '';
      message = status.message ?? message;
    } catch {}
    return new KubeApiError(`${method} ${path}: ${code} ${message}`, { code, reason });
  };

  return {
    async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
      const timeout = AbortSignal.timeout(options.timeoutMs ?? defaults.timeoutMs ?? 30_000);
      const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
      const body = options.body === undefined ? undefined : JSON.stringify(options.body);
      const response = await call(method, path, options.query, signal, body, options.contentType);
      const code = response.statusCode ?? 0;
      if (code < 200 || code >= 300) throw await failure(method, path, response);
      let text: string;
      try {
        text = await readText(response);
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        throw networkError(method, path, error);
      }
      if (text === '') return undefined as T;
      // Health endpoints and logs answer text/plain; everything else is JSON.
      const type = response.headers['content-type'] ?? '';
      return (type.includes('json') ? JSON.parse(text) : text) as T;
    },

    async watch(path, query, signal) {
      const response = await call('GET', path, { ...query, watch: true }, signal);
      if (response.statusCode !== 200) throw await failure('GET', path, response);
      return lines(response, signal);
    },
  };
}

function networkError(method: string, path: string, error: unknown): KubeApiError {
  return new KubeApiError(`${method} ${path}: ${(error as Error).message}`, {
    code: 0,
    reason: 'NetworkError',
    cause: error,
  });
}

/** Splits a watch body into parsed events; ends quietly when the stream ends or is aborted. */
async function* lines(body: IncomingMessage, signal: AbortSignal): AsyncIterable<WatchEvent> {
  const decoder = new TextDecoder();
  // The request's signal destroys the connection on abort; this covers a consumer that stops early.
  const cancel = (): void => {
    body.destroy();
  };
  let buffered = '';
  try {
    // The signal may have aborted between the response and the first next() of this generator.
    if (signal.aborted) return;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      buffered += decoder.decode(chunk, { stream: true });
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line !== '') yield JSON.parse(line) as WatchEvent;
        newline = buffered.indexOf('\n');
      }
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  } finally {
    cancel();
  }
}
