// An informer that does not give up: list (paginated), then watch from the list's resourceVersion
// with bookmarks and a server-side timeout, restart the watch on every end or error (with backoff),
// an idle watchdog for silent connections, a relist on 410 Gone that turns objects deleted while
// disconnected into onDelete, and an optional periodic resync. client-node's informer stops on errors.
import { type Clock, systemClock } from './clock.ts';
import {
  isGone,
  KubeApiError,
  type KubeClient,
  type KubeList,
  type KubeObject,
  type WatchEvent,
} from './kube.ts';
import { type Logger, silentLogger } from './logger.ts';
import type { RuntimeMetrics } from './metrics.ts';

/** Callbacks for cache changes. They run synchronously; throwing is logged and ignored. */
export interface EventHandlers<T> {
  onAdd?(obj: T): void;
  /** Also called with `old === obj` on periodic resync. */
  onUpdate?(old: T, obj: T): void;
  /** `obj` is the last state seen (for deletes noticed on relist, the state before disconnecting). */
  onDelete?(obj: T): void;
}

export interface InformerOptions {
  /** For logs and metrics. */
  name: string;
  client: KubeClient;
  /**
   * Collection paths to list and watch, one list+watch loop each and one shared cache, e.g.
   * `/apis/g/v1/things` (all namespaces) or one `/apis/g/v1/namespaces/NS/things` per namespace.
   */
  paths: string[];
  labelSelector?: string;
  fieldSelector?: string;
  clock?: Clock;
  logger?: Logger;
  metrics?: RuntimeMetrics;
  /** List page size (`limit`); default 500. */
  pageSize?: number;
  /** Server-side watch timeout range in seconds, picked at random per watch; default [300, 600]. */
  watchTimeoutSeconds?: [min: number, max: number];
  /**
   * Restart a watch that delivered no event or bookmark for this long; default 210 s. kube-apiserver
   * 1.35 sent the first bookmark on a quiet watch after ~120 s, then one a minute (measured).
   */
  idleTimeoutMs?: number;
  /** Re-deliver every cached object as onUpdate this often; 0 (default) disables. */
  resyncPeriodMs?: number;
  /** Reconnect backoff after errors; default 800 ms doubling to 30 s (client-go's reflector). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  random?: () => number;
  /**
   * Applied to every object before it is cached and handed to handlers. Default: drop
   * `metadata.managedFields` (about 40 % of a scaler object, read by nothing here) and kubectl's
   * last-applied-configuration annotation (a copy of the spec as JSON). client-go keeps them
   * unless a transform is set; at 5,000 cached objects the default matters.
   */
  transform?: (obj: KubeObject) => KubeObject;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Drops metadata.managedFields (controller-runtime's TransformStripManagedFields) and kubectl's
 * last-applied-configuration annotation, which only `kubectl apply` reads.
 */
export function stripManagedFields<T extends KubeObject>(obj: T): T {
  const annotations = obj.metadata?.annotations as Record<string, string> | undefined;
  const lastApplied = annotations !== undefined && LAST_APPLIED in annotations;
  if (obj.metadata?.managedFields === undefined && !lastApplied) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata ?? {};
  if (lastApplied) {
    const { [LAST_APPLIED]: _copy, ...rest } = annotations;
    metadata.annotations = rest;
  }
  return { ...obj, metadata };
}

/** `namespace/name`, or `name` for cluster-scoped objects (client-go's MetaNamespaceKeyFunc). */
export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns === undefined || ns === '' ? name : `${ns}/${name}`;
}

/** A watch that ended without an error (server timeout or the idle watchdog). */
class WatchEnded extends Error {
  override readonly name = 'WatchEnded';
  constructor(why: 'timeout' | 'idle') {
    super(`watch ended (${why})`);
  }
}

/** A list+watch cache of one resource. Start it with `run(signal)`; it runs until the signal aborts. */
export class Informer<T extends KubeObject = KubeObject> {
  readonly name: string;
  readonly #o: Required<Omit<InformerOptions, 'labelSelector' | 'fieldSelector' | 'metrics'>> &
    Pick<InformerOptions, 'labelSelector' | 'fieldSelector' | 'metrics'>;
  readonly #log: Logger;
  readonly #cache = new Map<string, { obj: T; path: string }>();
  readonly #handlers: EventHandlers<T>[] = [];
  readonly #syncedPaths = new Set<string>();
  #syncWaiters: (() => void)[] = [];

  constructor(options: InformerOptions) {
    this.name = options.name;
    this.#o = {
      clock: systemClock,
      logger: silentLogger,
      pageSize: 500,
      watchTimeoutSeconds: [300, 600],
      idleTimeoutMs: 210_000,
      resyncPeriodMs: 0,
      backoffInitialMs: 800,
      backoffMaxMs: 30_000,
      random: Math.random,
      transform: stripManagedFields,
      ...options,
    };
    this.#log = this.#o.logger.child({ informer: options.name });
  }

  #transform(obj: T): T {
    return this.#o.transform(obj) as T;
  }

  /** Registers handlers; register before `run` to see the initial adds. */
  addHandler(handlers: EventHandlers<T>): void {
    this.#handlers.push(handlers);
  }

  /** The cached object with key `namespace/name` (or `name`). Shared with the cache: do not mutate. */
  get(key: string): T | undefined {
    return this.#cache.get(key)?.obj;
  }

  list(): T[] {
    return [...this.#cache.values()].map((e) => e.obj);
  }

  keys(): string[] {
    return [...this.#cache.keys()];
  }

  /** True once every path has been listed once. */
  hasSynced(): boolean {
    return this.#syncedPaths.size === this.#o.paths.length;
  }

  /** Resolves once synced; rejects if `signal` aborts first. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.hasSynced()) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#syncWaiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  /** Lists and watches every path until `signal` aborts. Never rejects because of API errors. */
  async run(signal: AbortSignal): Promise<void> {
    const loops = this.#o.paths.map((path) => this.#runPath(path, signal));
    if (this.#o.resyncPeriodMs > 0) loops.push(this.#resyncLoop(signal));
    await Promise.all(loops);
  }

  async #runPath(path: string, signal: AbortSignal): Promise<void> {
    // The last resourceVersion seen (list, event or bookmark); the watch updates it as it goes, so
    // a watch that fails resumes after the last event it delivered. undefined → relist.
    const position: { resourceVersion: string | undefined } = { resourceVersion: undefined };
    let failures = 0;
    let gones = 0;
    while (!signal.aborted) {
      try {
        if (position.resourceVersion === undefined)
          position.resourceVersion = await this.#relist(path, signal);
        const started = this.#o.clock.now();
        const result = await this.#watch(path, position as { resourceVersion: string }, signal);
        if (signal.aborted) break;
        gones = 0;
        this.#o.metrics?.watchRestarts.inc({ informer: this.name, cause: result.cause });
        this.#log.debug(
          { path, cause: result.cause, resourceVersion: position.resourceVersion },
          'watch ended, restarting',
        );
        // A watch that ends at once without news is a failure in disguise: back off.
        if (result.events === 0 && this.#o.clock.now() - started < 1000) throw new WatchEnded('timeout');
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        if (isGone(error)) {
          this.#o.metrics?.watchRestarts.inc({ informer: this.name, cause: 'gone' });
          this.#log.info(
            { path, resourceVersion: position.resourceVersion },
            'resourceVersion too old (410), relisting',
          );
          position.resourceVersion = undefined;
          // Relist at once the first time; a server that keeps answering 410 gets the backoff.
          if (++gones === 1) continue;
        }
        failures++;
        const delay = this.#backoff(failures);
        if (!(error instanceof WatchEnded) && !isGone(error))
          this.#o.metrics?.watchRestarts.inc({ informer: this.name, cause: 'error' });
        this.#log.warn(
          { path, err: (error as Error).message, retryInMs: Math.round(delay) },
          'list/watch failed',
        );
        await this.#o.clock.sleep(delay, signal).catch(() => {});
      }
    }
  }

  #backoff(failures: number): number {
    const d = Math.min(this.#o.backoffMaxMs, this.#o.backoffInitialMs * 2 ** (failures - 1));
    return d * (0.5 + 0.5 * this.#o.random());
  }

  #query(): Record<string, string | undefined> {
    return { labelSelector: this.#o.labelSelector, fieldSelector: this.#o.fieldSelector };
  }

  /** Lists every page, replaces this path's share of the cache and fires the differences. */
  async #relist(path: string, signal: AbortSignal): Promise<string> {
    this.#o.metrics?.relists.inc({ informer: this.name });
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.#o.client.request<KubeList<T>>('GET', path, {
        query: { ...this.#query(), limit: this.#o.pageSize, continue: cont },
        signal,
      });
      for (const item of page.items) items.push(this.#transform(item));
      cont = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? '';
    } while (cont !== undefined);

    const seen = new Set<string>();
    for (const obj of items) {
      const key = objectKey(obj);
      seen.add(key);
      const old = this.#cache.get(key);
      this.#cache.set(key, { obj, path });
      if (old === undefined) this.#dispatch('onAdd', obj);
      else if (old.obj.metadata?.resourceVersion !== obj.metadata?.resourceVersion)
        this.#dispatch('onUpdate', old.obj, obj);
    }
    for (const [key, entry] of this.#cache) {
      if (entry.path !== path || seen.has(key)) continue;
      this.#cache.delete(key);
      this.#dispatch('onDelete', entry.obj);
    }
    this.#log.debug({ path, items: items.length, resourceVersion }, 'listed');
    if (!this.#syncedPaths.has(path)) {
      this.#syncedPaths.add(path);
      if (this.hasSynced()) {
        const waiters = this.#syncWaiters;
        this.#syncWaiters = [];
        for (const w of waiters) w();
      }
    }
    return resourceVersion;
  }

  /** Watches from `position` (kept up to date) until the stream ends; says why it ended. */
  async #watch(
    path: string,
    position: { resourceVersion: string },
    signal: AbortSignal,
  ): Promise<{ cause: 'timeout' | 'idle'; events: number }> {
    const [min, max] = this.#o.watchTimeoutSeconds;
    const timeoutSeconds = Math.round(min + (max - min) * this.#o.random());
    const local = new AbortController();
    const onAbort = (): void => local.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    // An abort that came before the listener would otherwise leave this watch running.
    if (signal.aborted) local.abort(signal.reason);
    let lastActivity = this.#o.clock.now();
    let idle = false;
    let events = 0;
    const watchdog = (async () => {
      while (!local.signal.aborted) {
        const wait = lastActivity + this.#o.idleTimeoutMs - this.#o.clock.now();
        if (wait <= 0) {
          idle = true;
          this.#log.warn({ path, idleMs: this.#o.idleTimeoutMs }, 'watch idle, restarting');
          local.abort(new WatchEnded('idle'));
          return;
        }
        await this.#o.clock.sleep(wait, local.signal).catch(() => {});
      }
    })();
    try {
      const stream = await this.#o.client.watch(
        path,
        {
          ...this.#query(),
          resourceVersion: position.resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds,
        },
        local.signal,
      );
      for await (const event of stream) {
        lastActivity = this.#o.clock.now();
        events++;
        position.resourceVersion = this.#apply(path, event as WatchEvent<T>) ?? position.resourceVersion;
      }
      return { cause: idle ? 'idle' : 'timeout', events };
    } catch (error) {
      if (idle) return { cause: 'idle', events };
      throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
      local.abort();
      await watchdog;
    }
  }

  /** Applies one watch event to the cache; returns its resourceVersion. Throws on ERROR events. */
  #apply(path: string, event: WatchEvent<T>): string | undefined {
    const obj =
      event.type === 'BOOKMARK' || event.type === 'ERROR' ? event.object : this.#transform(event.object);
    const rv = obj.metadata?.resourceVersion;
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED': {
        const key = objectKey(obj);
        const old = this.#cache.get(key);
        this.#cache.set(key, { obj, path });
        if (old === undefined) this.#dispatch('onAdd', obj);
        else this.#dispatch('onUpdate', old.obj, obj);
        return rv;
      }
      case 'DELETED': {
        const key = objectKey(obj);
        this.#cache.delete(key);
        this.#dispatch('onDelete', obj);
        return rv;
      }
      case 'BOOKMARK':
        return rv;
      case 'ERROR': {
        const status = obj as unknown as { code?: number; reason?: string; message?: string };
        throw new KubeApiError(`watch ${path}: ${status.message ?? 'error event'}`, {
          code: status.code ?? 500,
          reason: status.reason ?? '',
        });
      }
      default:
        return undefined;
    }
  }

  async #resyncLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.#o.clock.sleep(this.#o.resyncPeriodMs, signal).catch(() => {});
      if (signal.aborted || !this.hasSynced()) continue;
      for (const { obj } of this.#cache.values()) this.#dispatch('onUpdate', obj, obj);
    }
  }

  #dispatch(kind: 'onAdd' | 'onDelete', obj: T): void;
  #dispatch(kind: 'onUpdate', old: T, obj: T): void;
  #dispatch(kind: keyof EventHandlers<T>, a: T, b?: T): void {
    for (const h of this.#handlers) {
      try {
        if (kind === 'onUpdate') h.onUpdate?.(a, b ?? a);
        else h[kind]?.(a);
      } catch (error) {
        this.#log.error({ err: (error as Error).message, kind, key: objectKey(a) }, 'event handler threw');
      }
    }
  }
}
