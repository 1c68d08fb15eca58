// Kubernetes Events (events.k8s.io/v1) about our objects, for `kubectl describe` and `kubectl get
// events`. Repeats of the same event within a window bump its series (count, lastObservedTime)
// instead of creating new objects, as client-go's events library does. Recording never throws:
// failures are logged and counted, because an event is never worth failing a reconcile for.
// Like client-go's broadcaster, few Events are written at once and a bounded line waits; past it
// Events are dropped (counted): 5,000 scalers starting together must not queue 5,000 requests.
import { randomBytes } from 'node:crypto';
import { type Clock, systemClock } from './clock.ts';
import { apiPath, isNotFound, type KubeClient, type KubeObject } from './kube.ts';
import { type Logger, silentLogger } from './logger.ts';
import type { RuntimeMetrics } from './metrics.ts';
import { microTime } from './time.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  client: KubeClient;
  /** e.g. `aws.operators.jittakal.io/lambda-concurrency-scaler` */
  reportingController: string;
  /** This process, e.g. the pod name. */
  reportingInstance: string;
  /** Repeats within this window update the existing Event; default 10 min. */
  seriesWindowMs?: number;
  /** Events written at once (default 4). */
  maxInFlight?: number;
  /** Events waiting beyond those; more are dropped (default 1,000, client-go's queue length). */
  maxQueued?: number;
  clock?: Clock;
  logger?: Logger;
  metrics?: RuntimeMetrics;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  last: number;
}

const MAX_NOTE = 1024;

/** Records Events about objects; `record` resolves when written (or given up) and never rejects. */
export class EventRecorder {
  readonly #o: EventRecorderOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #seen = new Map<string, Seen>();
  #inFlight = 0;
  readonly #line: (() => void)[] = [];
  #prunedAt = Number.NEGATIVE_INFINITY;

  constructor(options: EventRecorderOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? silentLogger).child({ component: 'events' });
  }

  /**
   * Records that `action` happened to `regarding` with `reason` (CamelCase) and a human `note`.
   * `action` defaults to the reason (events.k8s.io/v1 requires one).
   */
  async record(
    regarding: KubeObject,
    type: EventType,
    reason: string,
    note: string,
    action: string = reason,
  ): Promise<void> {
    if (this.#inFlight >= (this.#o.maxInFlight ?? 4)) {
      if (this.#line.length >= (this.#o.maxQueued ?? 1000)) {
        this.#o.metrics?.eventsDropped.inc({ reason });
        return;
      }
      await new Promise<void>((resolve) => this.#line.push(resolve));
    }
    this.#inFlight++;
    try {
      await this.#write(regarding, type, reason, note, action);
    } finally {
      this.#inFlight--;
      this.#line.shift()?.();
    }
  }

  async #write(
    regarding: KubeObject,
    type: EventType,
    reason: string,
    note: string,
    action: string,
  ): Promise<void> {
    const meta = regarding.metadata ?? {};
    const namespace = meta.namespace || 'default';
    const now = this.#clock.now();
    const key = JSON.stringify([meta.uid ?? `${namespace}/${meta.name}`, type, reason, action, note]);
    this.#prune(now);
    const seen = this.#seen.get(key);
    try {
      if (seen !== undefined) {
        try {
          await this.#o.client.request(
            'PATCH',
            apiPath`/apis/events.k8s.io/v1/namespaces/${seen.namespace}/events/${seen.name}`,
            {
              body: { series: { count: seen.count + 1, lastObservedTime: microTime(now) } },
              contentType: 'application/merge-patch+json',
            },
          );
          seen.count++;
          seen.last = now;
          return;
        } catch (error) {
          if (!isNotFound(error)) throw error;
          this.#seen.delete(key); // expired by the API server (TTL): start a new one
        }
      }
      const name = `${meta.name ?? 'object'}.${now.toString(16)}${randomBytes(3).toString('hex')}`;
      await this.#o.client.request('POST', apiPath`/apis/events.k8s.io/v1/namespaces/${namespace}/events`, {
        body: {
          apiVersion: 'events.k8s.io/v1',
          kind: 'Event',
          metadata: { name, namespace },
          eventTime: microTime(now),
          reportingController: this.#o.reportingController,
          reportingInstance: this.#o.reportingInstance,
          action,
          reason,
          type,
          note: note.length > MAX_NOTE ? `${note.slice(0, MAX_NOTE - 3)}...` : note,
          regarding: {
            apiVersion: regarding.apiVersion,
            kind: regarding.kind,
            name: meta.name,
            namespace: meta.namespace,
            uid: meta.uid,
            resourceVersion: meta.resourceVersion,
          },
        },
      });
      this.#seen.set(key, { name, namespace, count: 1, last: now });
    } catch (error) {
      this.#o.metrics?.eventFailures.inc({ reason });
      this.#log.warn(
        { err: (error as Error).message, reason, object: `${namespace}/${meta.name}` },
        'could not record event',
      );
    }
  }

  #prune(now: number): void {
    // Once a second at most: the map holds an entry per recent event of every scaler.
    if (now - this.#prunedAt < 1000) return;
    this.#prunedAt = now;
    const window = this.#o.seriesWindowMs ?? 600_000;
    for (const [key, seen] of this.#seen) if (now - seen.last > window) this.#seen.delete(key);
  }
}
