// A thin raw client over client-node's authenticated HTTP stack: JSON requests with any content
// type (merge patches, /status), paginated lists and a streaming watch whose lifecycle we own.
// The generated typed clients drop CRD fields and default to JSON Patch (see TOOLCHAIN.md), and
// client-node's informer gives up on errors, so the runtime talks to the API server through this.
import {
  type HttpMethod,
  IsomorphicFetchHttpLibrary,
  type KubeConfig,
  RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';

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

const http = new IsomorphicFetchHttpLibrary();

/** A KubeClient that authenticates like client-node does for the current context of `kc`. */
export function kubeClient(kc: KubeConfig, defaults: { timeoutMs?: number } = {}): KubeClient {
  const send = async (
    method: string,
    path: string,
    query: RequestOptions['query'],
    signal: AbortSignal | undefined,
    body?: string,
    contentType?: string,
  ): Promise<ResponseContext> => {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error('kubeconfig has no current cluster');
    const ctx = new RequestContext(cluster.server.replace(/\/$/, '') + path, method as HttpMethod);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) ctx.setQueryParam(k, String(v));
    ctx.setHeaderParam('Accept', 'application/json');
    if (body !== undefined) {
      ctx.setBody(body);
      ctx.setHeaderParam('Content-Type', contentType ?? 'application/json');
    }
    if (signal !== undefined) ctx.setSignal(signal);
    await kc.applySecurityAuthentication(ctx);
    try {
      return await http.send(ctx).toPromise();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw new KubeApiError(`${method} ${path}: ${(error as Error).message}`, {
        code: 0,
        reason: 'NetworkError',
        cause: error,
      });
    }
  };

  const failure = async (method: string, path: string, response: ResponseContext): Promise<KubeApiError> => {
    const text = await response.body.text().catch(() => '');
    let reason = '';
    let message = text.slice(0, 500);
    try {
      const status = JSON.parse(text) as { reason?: string; message?: string };
      reason = status.reason ?? '';
      message = status.message ?? message;
    } catch {}
    return new KubeApiError(`${method} ${path}: ${response.httpStatusCode} ${message}`, {
      code: response.httpStatusCode,
      reason,
    });
  };

  return {
    async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
      const timeout = AbortSignal.timeout(options.timeoutMs ?? defaults.timeoutMs ?? 30_000);
      const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
      const body = options.body === undefined ? undefined : JSON.stringify(options.body);
      const response = await send(method, path, options.query, signal, body, options.contentType);
      if (response.httpStatusCode < 200 || response.httpStatusCode >= 300)
        throw await failure(method, path, response);
      const text = await response.body.text();
      if (text === '') return undefined as T;
      // Health endpoints and logs answer text/plain; everything else is JSON.
      const type = response.headers['content-type'] ?? '';
      return (type.includes('json') ? JSON.parse(text) : text) as T;
    },

    async watch(path, query, signal) {
      const response = await send('GET', path, { ...query, watch: true }, signal);
      if (response.httpStatusCode !== 200) throw await failure('GET', path, response);
      const stream = response.body.stream() as ReadableStream<Uint8Array> | null | undefined;
      if (stream === null || stream === undefined) throw new Error(`watch ${path}: response has no body`);
      return lines(stream, signal);
    },
  };
}

/** Splits a watch body into parsed events; ends quietly when the stream ends or is aborted. */
async function* lines(stream: ReadableStream<Uint8Array>, signal: AbortSignal): AsyncIterable<WatchEvent> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  const cancel = (): void => {
    reader.cancel().catch(() => {});
  };
  signal.addEventListener('abort', cancel, { once: true });
  let buffered = '';
  try {
    // The signal may have aborted between the response and the first next() of this generator.
    if (signal.aborted) return;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
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
    signal.removeEventListener('abort', cancel);
    cancel();
  }
}
