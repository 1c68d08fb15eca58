// The simulated account put together: entities (account.ts), the SQS, Lambda and mapping operations
// (sqs-api.ts, lambda-api.ts, mapping-api.ts), the mapping's pollers (poller.ts), the per-second
// sampler (sampler.ts) and traffic, all on one Scheduler; plus the API gate (faults, quotas, counts).

import { Rng } from '../engine/rng.ts';
import type { Scheduler } from '../engine/scheduler.ts';
import { ACCOUNT_ID, Account } from './account.ts';
import { cloudWatchErrors, type Datapoint, type LambdaMetricName, type SqsMetricName } from './cloudwatch.ts';
import { AwsApiError, lambdaErrors, sqsErrors, stsErrors } from './errors.ts';
import type { Esm } from './esm.ts';
import { FaultTable } from './faults.ts';
import type { SimFunction } from './lambda.ts';
import { TokenBucket } from './lambda.ts';
import { LambdaApi } from './lambda-api.ts';
import { MappingApi } from './mapping-api.ts';
import { ApiCounter, LatencyHistogram, type TimelinePoint } from './metrics.ts';
import type { ModelParams } from './params.ts';
import { MappingPoller } from './poller.ts';
import type { InFlight, QueueHost, SimQueue } from './queue.ts';
import { EventCounter, type EventCounts, Sampler, series } from './sampler.ts';
import { SqsApi } from './sqs-api.ts';
import { Sts } from './sts.ts';
import { arrivalsForSecond, TrafficSchedule } from './traffic.ts';

export { ACCOUNT_ID, REGION } from './account.ts';
export type { Fault } from './faults.ts';
export type { MessageAttributeValue, QueueCounts, StoredMessage } from './sqs-api.ts';

/** How a world fits among others on one scheduler (one per simulated account). */
export interface WorldOptions {
  /** The account id (default awssim's own, '000000000000'). */
  readonly accountId?: string;
  /** Whether an account id named in a URL or an ARN means this world (default: only its own id). */
  readonly owns?: (account: string) => boolean;
  /** STS is global: every account's world shares one (default: a world of its own). */
  readonly sts?: Sts;
  /** Injected faults apply to every account (default: a table of its own). */
  readonly faults?: FaultTable;
}

/** The whole simulated account. */
export class World implements QueueHost {
  readonly sched: Scheduler;
  readonly params: ModelParams;
  readonly seed: number;
  readonly origin: number;
  /** API calls by operation and outcome. */
  readonly api = new ApiCounter();
  /** Sent → deleted latency over all queues. */
  readonly latency: LatencyHistogram;
  /** Roles, AssumeRole sessions and calls by access key id. */
  readonly sts: Sts;
  readonly account: Account;
  readonly sqs: SqsApi;
  readonly lambda: LambdaApi;
  readonly mappings: MappingApi;
  readonly sampler: Sampler;
  readonly faults: FaultTable;
  readonly traffic = new TrafficSchedule();
  readonly events = new EventCounter();
  readonly #poller: MappingPoller;
  readonly #trafficRng: Rng;
  readonly #faultRng: Rng;
  readonly #controlPlane: TokenBucket;
  readonly #getFunction: TokenBucket;

  constructor(sched: Scheduler, params: ModelParams, seed: number, opts: WorldOptions = {}) {
    this.sched = sched;
    this.params = params;
    this.seed = seed;
    this.origin = sched.now();
    this.latency = new LatencyHistogram(params.sloMs);
    this.sts = opts.sts ?? new Sts(seed);
    this.faults = opts.faults ?? new FaultTable();
    const accountId = opts.accountId ?? ACCOUNT_ID;
    // awssim's own account keeps the stream names it always had (the same seed replays as before).
    const stream = (n: string): Rng => Rng.stream(seed, accountId === ACCOUNT_ID ? n : `${accountId}/${n}`);
    this.#trafficRng = stream('traffic');
    this.#faultRng = stream('faults');
    this.account = new Account(params.accountConcurrency, stream('ids'), accountId, opts.owns);
    this.#poller = new MappingPoller(sched, params, this.account, this.events, {
      durations: stream('duration'),
      failures: stream('errors'),
    });
    this.sampler = new Sampler(this.account, params, this.events, stream('cloudwatch'), {
      pollers: () => this.#poller.pollers(),
    });
    this.lambda = new LambdaApi(sched, params, this.account, {
      deleteMappingsOf: (name) => this.mappings.deleteMappingsOf(name),
      concurrencyChanged: (name) => {
        for (const e of this.account.mappingsOf(name)) this.#poller.fill(e);
      },
    });
    this.mappings = new MappingApi(sched, params, this.account, this.lambda, this.#poller);
    this.sqs = new SqsApi({
      sched,
      params,
      account: this.account,
      host: this,
      attributeHistory: this.sampler.attributes,
      traffic: this.traffic,
      wobble: stream('wobble'),
    });
    this.#controlPlane = new TokenBucket(params.controlPlaneRps, params.controlPlaneRps, this.origin);
    this.#getFunction = new TokenBucket(params.getFunctionRps, params.getFunctionRps, this.origin);
    const second = (k: number): void => {
      this.sched.at(this.origin + k * 1000, () => {
        if (k > 0) this.sampler.sample(k, this.now);
        this.#generate(k);
        second(k + 1);
      });
    };
    second(0);
  }

  get now(): number {
    return this.sched.now();
  }

  // ---- QueueHost ----
  nextInFlightId(): number {
    return this.account.nextInFlightId();
  }
  queueByArn(arn: string): SimQueue | undefined {
    return this.account.queueByArn(arn);
  }
  onDlqMove(_from: SimQueue, n: number): void {
    this.events.add('dlqMoves', n);
  }
  onDelete(_q: SimQueue, seq: number, sentAt: number): void {
    this.sqs.forgetMessage(seq);
    this.events.add('deleted');
    this.latency.record(this.now - sentAt);
  }
  onDrop(seq: number): void {
    this.sqs.forgetMessage(seq);
  }
  onReturned(b: InFlight): void {
    this.sqs.forgetReceived(b);
  }

  // ---- API plumbing: faults, quotas, counting ----

  /** Runs one API operation: injected faults, quotas, then `fn`; counts the outcome. */
  call<T>(op: string, fn: () => T): T {
    const fault = this.faults.for(op);
    try {
      const errors = op.startsWith('sqs:')
        ? { throttled: sqsErrors.throttled, internal: sqsErrors.internal }
        : op.startsWith('sts:')
          ? { throttled: stsErrors.throttled, internal: stsErrors.internal }
          : op.startsWith('cloudwatch:')
            ? { throttled: cloudWatchErrors.throttled, internal: cloudWatchErrors.internal }
            : { throttled: () => lambdaErrors.tooManyRequests(), internal: lambdaErrors.service };
      if (fault?.throttle) throw errors.throttled();
      if (fault?.errorRate && this.#faultRng.chance(fault.errorRate)) throw errors.internal();
      if (op.startsWith('lambda:')) {
        const bucket = op === 'lambda:GetFunction' ? this.#getFunction : this.#controlPlane;
        if (!bucket.take(this.now))
          throw lambdaErrors.tooManyRequests(Math.max(1, Math.ceil(bucket.waitMs(this.now) / 1000)));
      }
      const out = fn();
      this.api.add(op, 'ok');
      return out;
    } catch (e) {
      this.api.add(op, e instanceof AwsApiError ? e.code : 'InternalError');
      throw e;
    }
  }

  /** Added latency configured for an operation (the wire layer waits it out). */
  faultLatency(op: string): number {
    return this.faults.for(op)?.latencyMs ?? 0;
  }

  // ---- traffic ----

  #generate(k: number): void {
    if (!this.traffic.enabled) return;
    for (const [name, specs] of this.traffic.entries()) {
      const q = this.account.queuesByName.get(name);
      if (!q || specs.length === 0) continue;
      const times = arrivalsForSecond(specs, this.origin, k, this.#trafficRng);
      for (const t of times) q.future.push(t, this.account.nextMessageSeq(), 0);
      this.events.add('arrivals', times.length);
      if (times.length > 0) q.armWake();
    }
  }

  // ---- reading ----

  /** Events counted since the start (deleted, invocations, throttles, errors, DLQ moves...). */
  get totals(): Readonly<EventCounts> {
    return this.events.run;
  }

  /** The per-second timeline. */
  get timeline(): readonly TimelinePoint[] {
    return this.sampler.timeline;
  }

  /** Published one-minute CloudWatch datapoints of a queue metric. */
  readCloudWatch(queue: string, metric: SqsMetricName, start?: number, end?: number): Datapoint[] {
    return this.sampler.cloudWatch.read(series('AWS/SQS', metric, 'QueueName', queue), this.now, start, end);
  }

  /** Published one-minute CloudWatch datapoints of a function metric. */
  readFunctionCloudWatch(fn: string, metric: LambdaMetricName, start?: number, end?: number): Datapoint[] {
    return this.sampler.cloudWatch.read(
      series('AWS/Lambda', metric, 'FunctionName', fn),
      this.now,
      start,
      end,
    );
  }

  // ---- kept for callers outside awssim (the benchmark driver, SDK adapter tests) ----

  /** Queues by name (read-only). */
  get queues(): ReadonlyMap<string, SimQueue> {
    return this.account.queuesByName;
  }
  /** Functions by name (read-only). */
  get functions(): ReadonlyMap<string, SimFunction> {
    return this.account.functionsByName;
  }
  /** Event source mappings by UUID (read-only). */
  get esms(): ReadonlyMap<string, Esm> {
    return this.account.mappingsByUuid;
  }
  fn(ref: string | undefined): SimFunction {
    return this.lambda.fn(ref);
  }
  esm(uuid: string | undefined): Esm {
    return this.mappings.esm(uuid);
  }
  createQueue(name: string | undefined, attributes?: Record<string, string>): SimQueue {
    return this.sqs.createQueue(name, attributes);
  }
  createFunction(input: Record<string, unknown>): SimFunction {
    return this.lambda.createFunction(input);
  }
  createEsm(input: Record<string, unknown>): Esm {
    return this.mappings.createEsm(input);
  }
  putFunctionConcurrency(f: SimFunction, value: number | undefined): number {
    return this.lambda.putFunctionConcurrency(f, value);
  }
}
