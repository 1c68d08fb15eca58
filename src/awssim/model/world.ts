// The simulated AWS account: queues, functions and event source mappings, the API operations
// with AWS's validation and quotas, and the dynamics that connect them, on one Scheduler.

import { Rng } from '../engine/rng.ts';
import type { Scheduler } from '../engine/scheduler.ts';
import { CloudWatchView, type Datapoint, type SqsMetricName } from './cloudwatch.ts';
import { AwsApiError, lambdaErrors, sqsErrors, stsErrors, unreservedFloorMessage } from './errors.ts';
import { Esm } from './esm.ts';
import { type Admission, SimFunction, sample, TokenBucket } from './lambda.ts';
import { ApiCounter, LatencyHistogram, type TimelinePoint } from './metrics.ts';
import { defaultBehaviour, type FunctionBehaviour, type ModelParams } from './params.ts';
import { type InFlight, type QueueHost, SimQueue } from './queue.ts';
import { Sts } from './sts.ts';
import { arrivalsForSecond, type TrafficSpec } from './traffic.ts';

/** Account and Region the simulator pretends to be. */
export const ACCOUNT_ID = '000000000000';
export const REGION = 'us-east-1';

/** A message attribute as SQS carries it. */
export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

/** Body and attributes of a message sent through the API (traffic messages have none stored). */
export interface StoredMessage {
  readonly body: string;
  readonly attributes: Record<string, MessageAttributeValue> | undefined;
  readonly messageId: string;
}

/** Injected faults for one operation (`sqs:SendMessage`, `lambda:GetFunction`, or `*`). */
export interface Fault {
  /** Probability that a call fails with a server error. */
  readonly errorRate?: number;
  /** Added latency per call, ms. */
  readonly latencyMs?: number;
  /** Every call is throttled. */
  readonly throttle?: boolean;
}

/** Queue counts as GetQueueAttributes reports them (with lag and wobble applied). */
export interface QueueCounts {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

const VALID_QUEUE_ATTRS = new Set([
  'Policy',
  'VisibilityTimeout',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'QueueArn',
  'ApproximateNumberOfMessagesDelayed',
  'DelaySeconds',
  'ReceiveMessageWaitTimeSeconds',
  'RedrivePolicy',
  'FifoQueue',
  'ContentBasedDeduplication',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'DeduplicationScope',
  'FifoThroughputLimit',
  'RedriveAllowPolicy',
  'SqsManagedSseEnabled',
]);
const SETTABLE = new Set([
  'Policy',
  'VisibilityTimeout',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'DelaySeconds',
  'ReceiveMessageWaitTimeSeconds',
  'RedrivePolicy',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'RedriveAllowPolicy',
  'SqsManagedSseEnabled',
]);
const RANGES: Record<string, [number, number]> = {
  VisibilityTimeout: [0, 43_200],
  MaximumMessageSize: [1024, 1_048_576],
  MessageRetentionPeriod: [60, 1_209_600],
  DelaySeconds: [0, 900],
  ReceiveMessageWaitTimeSeconds: [0, 20],
  KmsDataKeyReusePeriodSeconds: [60, 86_400],
};
const QUEUE_DEFAULTS: Record<string, string> = {
  VisibilityTimeout: '30',
  MaximumMessageSize: '1048576',
  MessageRetentionPeriod: '345600',
  DelaySeconds: '0',
  ReceiveMessageWaitTimeSeconds: '0',
  SqsManagedSseEnabled: 'true',
};

const uuidFrom = (rng: Rng): string => {
  const h = (): string =>
    Math.floor(rng.next() * 0x10000)
      .toString(16)
      .padStart(4, '0');
  return `${h()}${h()}-${h()}-4${h().slice(1)}-a${h().slice(1)}-${h()}${h()}${h()}`;
};

/** The whole simulated account. */
export class World implements QueueHost {
  readonly sched: Scheduler;
  readonly params: ModelParams;
  readonly seed: number;
  readonly origin: number;
  readonly api = new ApiCounter();
  readonly latency: LatencyHistogram;
  readonly cloudWatch = new CloudWatchView();
  /** Roles, AssumeRole sessions and calls by access key id. */
  readonly sts: Sts;

  readonly queues = new Map<string, SimQueue>();
  readonly functions = new Map<string, SimFunction>();
  readonly esms = new Map<string, Esm>();
  readonly messages = new Map<number, StoredMessage>();
  /** In-flight groups received through the API, by id (receipt handles point here). */
  readonly wireInFlight = new Map<number, InFlight>();
  readonly traffic = new Map<string, TrafficSpec[]>();
  trafficEnabled = true;
  readonly faults = new Map<string, Fault>();
  readonly behaviours = new Map<string, FunctionBehaviour>();
  readonly timeline: TimelinePoint[] = [];
  /** Per queue, per second: [visible, inFlight, delayed] for attribute lag. */
  readonly #snapshots = new Map<string, { at: number; v: [number, number, number] }[]>();

  readonly #rng: Record<'traffic' | 'duration' | 'errors' | 'ids' | 'wobble' | 'faults' | 'cw', Rng>;
  readonly #controlPlane: TokenBucket;
  readonly #getFunction: TokenBucket;
  #seq = 1;
  #inflightId = 1;
  #accountLimit: number;
  #tick = { arrivals: 0, deleted: 0, invocations: 0, throttles: 0, errors: 0, coldStarts: 0, dlqMoves: 0 };
  #sent = new Map<string, number>();
  dlqMovesTotal = 0;
  throttlesTotal = 0;
  invocationsTotal = 0;
  errorsTotal = 0;
  #unreservedRunning = 0;

  constructor(sched: Scheduler, params: ModelParams, seed: number) {
    this.sched = sched;
    this.params = params;
    this.seed = seed;
    this.origin = sched.now();
    this.#accountLimit = params.accountConcurrency;
    this.latency = new LatencyHistogram(params.sloMs);
    this.sts = new Sts(seed);
    const s = (n: string): Rng => Rng.stream(seed, n);
    this.#rng = {
      traffic: s('traffic'),
      duration: s('duration'),
      errors: s('errors'),
      ids: s('ids'),
      wobble: s('wobble'),
      faults: s('faults'),
      cw: s('cloudwatch'),
    };
    this.#controlPlane = new TokenBucket(params.controlPlaneRps, params.controlPlaneRps, this.origin);
    this.#getFunction = new TokenBucket(params.getFunctionRps, params.getFunctionRps, this.origin);
    const second = (k: number): void => {
      this.sched.at(this.origin + k * 1000, () => {
        if (k > 0) this.#sample(k);
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
    return this.#inflightId++;
  }
  queueByArn(arn: string): SimQueue | undefined {
    const name = arn.split(':').at(-1) ?? '';
    const q = this.queues.get(name);
    return q && q.arn === arn ? q : undefined;
  }
  onDlqMove(_from: SimQueue, n: number): void {
    this.dlqMovesTotal += n;
    this.#tick.dlqMoves += n;
  }
  onDelete(q: SimQueue, seq: number, sentAt: number): void {
    this.messages.delete(seq);
    this.#tick.deleted++;
    this.latency.record(this.now - sentAt);
    void q;
  }
  onDrop(seq: number): void {
    this.messages.delete(seq);
  }
  onReturned(b: InFlight): void {
    this.wireInFlight.delete(b.id);
  }

  // ---- account ----
  get accountLimit(): number {
    return this.#accountLimit;
  }
  set accountLimit(v: number) {
    this.#accountLimit = v;
  }

  /** Concurrency not reserved by any function (and not provisioned by unreserved functions). */
  unreservedPool(except?: SimFunction): number {
    let taken = 0;
    for (const f of this.functions.values()) {
      if (f === except) continue;
      taken += f.reserved !== undefined ? f.reserved : f.provisioned;
    }
    return this.#accountLimit - taken;
  }

  // ---- API plumbing: faults, quotas, counting ----

  /**
   * Runs one API operation: injected faults, quotas, then `fn`; counts the outcome.
   * Returns the added latency to apply (the wire layer waits it out).
   */
  call<T>(op: string, fn: () => T): T {
    const fault = this.faults.get(op) ?? this.faults.get('*');
    try {
      const errors = op.startsWith('sqs:')
        ? { throttled: sqsErrors.throttled, internal: sqsErrors.internal }
        : op.startsWith('sts:')
          ? { throttled: stsErrors.throttled, internal: stsErrors.internal }
          : { throttled: () => lambdaErrors.tooManyRequests(), internal: lambdaErrors.service };
      if (fault?.throttle) throw errors.throttled();
      if (fault?.errorRate && this.#rng.faults.chance(fault.errorRate)) throw errors.internal();
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

  /** Added latency configured for an operation. */
  faultLatency(op: string): number {
    return (this.faults.get(op) ?? this.faults.get('*'))?.latencyMs ?? 0;
  }

  // ---- SQS ----

  queueUrl(q: SimQueue, base: string): string {
    return `${base}/${ACCOUNT_ID}/${q.name}`;
  }

  /** Resolves a queue URL (or bare name) to a queue, or throws QueueDoesNotExist. */
  queueFromUrl(url: string | undefined): SimQueue {
    if (!url) throw sqsErrors.missingParameter('QueueUrl');
    const name = url.replace(/\/+$/, '').split('/').at(-1) ?? '';
    const q = this.queues.get(name);
    if (!q) throw sqsErrors.queueDoesNotExist();
    return q;
  }

  #validateAttributes(attrs: Record<string, string>, forCreate: boolean): Map<string, string> {
    const out = new Map<string, string>();
    for (const [k, v] of Object.entries(attrs)) {
      if (
        k === 'FifoQueue' ||
        k === 'ContentBasedDeduplication' ||
        k === 'DeduplicationScope' ||
        k === 'FifoThroughputLimit'
      ) {
        if (forCreate && k === 'FifoQueue' && v === 'false') continue;
        throw new AwsApiError(
          'UnsupportedOperation',
          400,
          'awssim models standard queues only; FIFO attributes are not supported.',
        );
      }
      if (!SETTABLE.has(k)) throw sqsErrors.invalidAttributeName(k);
      const range = RANGES[k];
      if (range) {
        const n = Number(v);
        if (v.trim() === '' || !Number.isInteger(n) || n < range[0] || n > range[1])
          throw sqsErrors.invalidAttributeValue(`Invalid value for the parameter ${k}.`);
      }
      if (k === 'RedrivePolicy' && v !== '') {
        let p: { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
        try {
          p = JSON.parse(v) as typeof p;
        } catch {
          throw sqsErrors.invalidAttributeValue(
            `Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map.`,
          );
        }
        const mrc = Number(p.maxReceiveCount);
        if (typeof p.deadLetterTargetArn !== 'string' || !Number.isInteger(mrc) || mrc < 1 || mrc > 1000)
          throw sqsErrors.invalidAttributeValue(
            `Value ${v} for parameter RedrivePolicy is invalid. Reason: Redrive policy does not contain mandatory attribute: ${typeof p.deadLetterTargetArn !== 'string' ? 'deadLetterTargetArn' : 'maxReceiveCount'}.`,
          );
        if (!this.queueByArn(p.deadLetterTargetArn))
          throw sqsErrors.invalidAttributeValue(
            `Value ${v} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.`,
          );
      }
      out.set(k, v);
    }
    return out;
  }

  createQueue(
    name: string | undefined,
    attributes: Record<string, string> = {},
    tags: Record<string, string> = {},
  ): SimQueue {
    if (!name) throw sqsErrors.missingParameter('QueueName');
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name))
      throw sqsErrors.invalidParameterValue(
        'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
      );
    const given = this.#validateAttributes(attributes, true);
    const existing = this.queues.get(name);
    if (existing) {
      for (const [k, v] of given)
        if ((existing.attributes.get(k) ?? QUEUE_DEFAULTS[k]) !== v) throw sqsErrors.queueNameExists(name);
      return existing;
    }
    const attrs = new Map(Object.entries(QUEUE_DEFAULTS));
    for (const [k, v] of given) attrs.set(k, v);
    const q = new SimQueue(
      this,
      name,
      `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${name}`,
      attrs,
      new LatencyHistogram(this.params.sloMs),
    );
    for (const [k, v] of Object.entries(tags)) q.tags.set(k, v);
    this.queues.set(name, q);
    return q;
  }

  setQueueAttributes(q: SimQueue, attributes: Record<string, string>): void {
    const given = this.#validateAttributes(attributes, false);
    for (const [k, v] of given) {
      if (k === 'RedrivePolicy' && v === '') q.attributes.delete(k);
      else q.attributes.set(k, v);
    }
    q.lastModified = this.now;
  }

  /** Attribute names validated the way GetQueueAttributes does. */
  checkAttributeNames(names: readonly string[]): void {
    for (const n of names)
      if (n !== 'All' && !VALID_QUEUE_ATTRS.has(n)) throw sqsErrors.invalidAttributeName(n);
  }

  /** Counts as the SQS API reports them now: `attributeLagMs` old, with `attributeWobble` noise. */
  queueCounts(q: SimQueue): QueueCounts {
    q.promote(this.now);
    let v: [number, number, number] = [q.visible, q.inFlight, q.delayed.length];
    const lag = this.params.attributeLagMs;
    if (lag > 0) {
      const snaps = this.#snapshots.get(q.name) ?? [];
      const want = this.now - lag;
      if (snaps[0]) v = snaps[0].v;
      for (let i = snaps.length - 1; i >= 0; i--) {
        const s = snaps[i] as { at: number; v: [number, number, number] };
        if (s.at <= want) {
          v = s.v;
          break;
        }
      }
    }
    const w = this.params.attributeWobble;
    const wob = (x: number): number =>
      w > 0 ? Math.max(0, Math.round(x * (1 + w * this.#rng.wobble.normal()))) : x;
    return { visible: wob(v[0]), inFlight: wob(v[1]), delayed: wob(v[2]) };
  }

  /** All attributes of a queue as strings. */
  queueAttributes(q: SimQueue): Record<string, string> {
    const c = this.queueCounts(q);
    const out: Record<string, string> = {
      QueueArn: q.arn,
      ApproximateNumberOfMessages: String(c.visible),
      ApproximateNumberOfMessagesNotVisible: String(c.inFlight),
      ApproximateNumberOfMessagesDelayed: String(c.delayed),
      CreatedTimestamp: String(Math.floor(q.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(q.lastModified / 1000)),
    };
    for (const [k, v] of q.attributes) out[k] = v;
    return out;
  }

  /** Stores and enqueues one message sent through the API; returns its id. */
  sendMessage(
    q: SimQueue,
    body: string,
    delaySeconds: number | undefined,
    attributes?: Record<string, MessageAttributeValue>,
  ): StoredMessage {
    const max = Number(q.attributes.get('MaximumMessageSize') ?? '1048576');
    if (body.length === 0) throw sqsErrors.missingParameter('MessageBody');
    if (Buffer.byteLength(body) > max)
      throw sqsErrors.invalidParameterValue(
        `One or more parameters are invalid. Reason: Message must be shorter than ${max} bytes.`,
      );
    // biome-ignore lint/suspicious/noControlCharactersInRegex: SQS forbids exactly these characters
    if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.test(body))
      throw sqsErrors.invalidMessageContents();
    if (
      delaySeconds !== undefined &&
      (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > 900)
    )
      throw sqsErrors.invalidParameterValue(
        `Value ${delaySeconds} for parameter DelaySeconds is invalid. Reason: must be between 0 and 900, if provided.`,
      );
    const seq = this.#seq++;
    const m: StoredMessage = { body, attributes, messageId: uuidFrom(this.#rng.ids) };
    this.messages.set(seq, m);
    q.send(seq, this.now, delaySeconds !== undefined ? delaySeconds * 1000 : q.delayMs);
    return m;
  }

  /** The stored message for `seq`, or a synthetic one for traffic messages. */
  message(seq: number): StoredMessage {
    const m = this.messages.get(seq);
    if (m) return m;
    const hex = seq.toString(16).padStart(12, '0');
    return {
      body: `{"awssim":"traffic","seq":${seq}}`,
      attributes: undefined,
      messageId: `00000000-0000-4000-8000-${hex}`,
    };
  }

  /** Receives up to `max` messages, each its own in-flight group so its visibility can change alone. */
  receiveNow(q: SimQueue, max: number, visibilityMs: number): InFlight[] {
    const out: InFlight[] = [];
    for (let i = 0; i < max; i++) {
      const b = q.take(1, visibilityMs, this.now);
      if (!b) break;
      this.wireInFlight.set(b.id, b);
      out.push(b);
    }
    return out;
  }

  /** ReceiveMessage with long polling: resolves as soon as messages are visible or `waitMs` passes. */
  receive(q: SimQueue, max: number, visibilityMs: number, waitMs: number): Promise<InFlight[]> {
    const now = this.receiveNow(q, max, visibilityMs);
    if (now.length > 0 || waitMs <= 0) return Promise.resolve(now);
    return new Promise((resolve) => {
      const done = (got: InFlight[]): void => {
        q.waiters.delete(waiter);
        this.sched.cancel(timer);
        resolve(got);
      };
      const waiter = (): void => {
        if (q.deleted) {
          done([]);
          return;
        }
        const got = this.receiveNow(q, max, visibilityMs);
        if (got.length > 0) done(got);
      };
      const timer = this.sched.after(waitMs, () => done([]));
      q.waiters.add(waiter);
      q.armWake();
    });
  }

  /** Encodes a receipt handle for message `i` of an in-flight group. */
  receiptHandle(b: InFlight, i: number): string {
    return Buffer.from(`awssim:${b.queue.name}:${b.id}:${i}:${b.seq[i]}`).toString('base64');
  }

  /** Decodes a receipt handle; undefined group when the message is no longer in flight. */
  fromReceiptHandle(q: SimQueue, handle: string | undefined): { b: InFlight | undefined; i: number } {
    if (!handle) throw sqsErrors.missingParameter('ReceiptHandle');
    const parts = Buffer.from(handle, 'base64').toString('utf8').split(':');
    if (parts.length !== 5 || parts[0] !== 'awssim' || parts[1] !== q.name)
      throw sqsErrors.receiptHandleIsInvalid(handle);
    const id = Number(parts[2]);
    const i = Number(parts[3]);
    const b = this.wireInFlight.get(id);
    if (!b || b.returned || b.live === 0 || b.deleted[i] === 1) {
      if (b && (b.returned || b.live === 0)) this.wireInFlight.delete(id);
      return { b: undefined, i };
    }
    return { b, i };
  }

  deleteMessage(q: SimQueue, handle: string | undefined): void {
    const { b, i } = this.fromReceiptHandle(q, handle);
    if (!b) return; // SQS accepts deleting a message that is gone or visible again
    q.deleteOne(b, i, this.now);
    if (b.live === 0) this.wireInFlight.delete(b.id);
  }

  changeVisibility(q: SimQueue, handle: string | undefined, seconds: number | undefined): void {
    if (seconds === undefined) throw sqsErrors.missingParameter('VisibilityTimeout');
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 43_200)
      throw sqsErrors.invalidParameterValue(
        `Value ${seconds} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.`,
      );
    const { b } = this.fromReceiptHandle(q, handle);
    if (!b) throw sqsErrors.messageNotInflight();
    if (seconds === 0) {
      q.returnToQueue(b);
      this.wireInFlight.delete(b.id);
    } else q.changeVisibility(b, seconds * 1000, this.now);
  }

  purgeQueue(q: SimQueue, url: string): void {
    if (this.now - q.lastPurgeAt < 60_000) throw sqsErrors.purgeInProgress(url);
    q.lastPurgeAt = this.now;
    q.purge();
  }

  deleteQueue(q: SimQueue): void {
    q.purge();
    q.future.clear();
    q.deleted = true;
    q.notify();
    this.queues.delete(q.name);
    this.traffic.delete(q.name);
  }

  // ---- traffic ----

  /** Replaces the traffic of a queue (takes effect from the next simulated second). */
  setTraffic(queue: string, specs: readonly TrafficSpec[]): void {
    this.traffic.set(queue, [...specs]);
  }

  #generate(k: number): void {
    if (!this.trafficEnabled) return;
    for (const [name, specs] of this.traffic) {
      const q = this.queues.get(name);
      if (!q || specs.length === 0) continue;
      const times = arrivalsForSecond(specs, this.origin, k, this.#rng.traffic);
      for (const t of times) q.future.push(t, this.#seq++, 0);
      this.#sent.set(name, (this.#sent.get(name) ?? 0) + times.length);
      this.#tick.arrivals += times.length;
      if (times.length > 0) q.armWake();
    }
  }

  // ---- per-second sampling: timeline, CloudWatch, attribute history ----

  #sample(k: number): void {
    const now = this.now;
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    let dlqDepth = 0;
    const dlqs = new Set<string>();
    for (const q of this.queues.values()) {
      const r = q.redrive;
      if (r) dlqs.add(r.deadLetterTargetArn);
    }
    for (const q of this.queues.values()) {
      q.promote(now);
      if (dlqs.has(q.arn)) dlqDepth += q.visible + q.inFlight + q.delayed.length;
      else {
        visible += q.visible;
        inFlight += q.inFlight;
        delayed += q.delayed.length;
      }
      const oldest = q.oldestVisibleSentAt();
      const prev = this.#prevTotals.get(q.name) ?? [0, 0, 0];
      this.cloudWatch.sample(
        q.name,
        now,
        {
          NumberOfMessagesSent: q.sentTotal - prev[0],
          NumberOfMessagesReceived: q.receivedTotal - prev[1],
          NumberOfMessagesDeleted: q.deletedTotal - prev[2],
          ApproximateNumberOfMessagesVisible: q.visible,
          ApproximateNumberOfMessagesNotVisible: q.inFlight,
          ApproximateNumberOfMessagesDelayed: q.delayed.length,
          ApproximateAgeOfOldestMessage: oldest === undefined ? 0 : Math.floor((now - oldest) / 1000),
        } satisfies Record<SqsMetricName, number>,
        () => this.#rng.cw.uniform(this.params.cloudWatchDelayMs.min, this.params.cloudWatchDelayMs.max),
      );
      this.#prevTotals.set(q.name, [q.sentTotal, q.receivedTotal, q.deletedTotal]);
      if (this.params.attributeLagMs > 0) {
        const snaps = this.#snapshots.get(q.name) ?? [];
        snaps.push({ at: now, v: [q.visible, q.inFlight, q.delayed.length] });
        const keep = Math.ceil(this.params.attributeLagMs / 1000) + 2;
        if (snaps.length > keep) snaps.splice(0, snaps.length - keep);
        this.#snapshots.set(q.name, snaps);
      }
    }
    let concurrency = 0;
    let reserved = 0;
    for (const f of this.functions.values()) {
      concurrency += f.running;
      if (f.reserved !== undefined) reserved += f.reserved;
    }
    let pollers = 0;
    for (const e of this.esms.values()) if (e.enabled) pollers += Math.floor(e.target);
    this.timeline.push({
      t: k,
      visible,
      inFlight,
      delayed,
      dlqDepth,
      concurrency,
      reserved,
      pollers,
      ...this.#tick,
    });
    this.#tick = {
      arrivals: 0,
      deleted: 0,
      invocations: 0,
      throttles: 0,
      errors: 0,
      coldStarts: 0,
      dlqMoves: 0,
    };
  }
  readonly #prevTotals = new Map<string, [number, number, number]>();

  /** Published CloudWatch datapoints for a queue metric. */
  readCloudWatch(queue: string, metric: SqsMetricName, start?: number, end?: number): Datapoint[] {
    return this.cloudWatch.read(queue, metric, this.now, start, end);
  }

  // ---- Lambda control plane ----

  /** Resolves a function name, ARN or partial ARN. */
  functionNameOf(ref: string | undefined): string {
    if (!ref)
      throw lambdaErrors.validation(
        "1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null",
      );
    const r = decodeURIComponent(ref);
    const m =
      /^(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:)?(?:\d{12}:)?(?:function:)?([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/.exec(
        r,
      );
    if (!m?.[1] || m[1].length > 64)
      throw lambdaErrors.validation(
        `1 validation error detected: Value '${r}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?`,
      );
    return m[1];
  }

  functionArn(name: string): string {
    return `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${name}`;
  }

  /** Finds a function or throws ResourceNotFoundException with AWS's wording. */
  fn(ref: string | undefined): SimFunction {
    const name = this.functionNameOf(ref);
    const f = this.functions.get(name);
    if (!f) throw lambdaErrors.functionNotFound(this.functionArn(name));
    return f;
  }

  createFunction(input: Record<string, unknown>): SimFunction {
    const name = this.functionNameOf(input.FunctionName as string | undefined);
    if (
      typeof input.Role !== 'string' ||
      !/^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/.test(input.Role)
    )
      throw lambdaErrors.validation(
        `1 validation error detected: Value '${String(input.Role)}' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+`,
      );
    if (typeof input.Code !== 'object' || input.Code === null)
      throw lambdaErrors.invalidParameter('Code is required');
    if (this.functions.has(name)) throw lambdaErrors.conflict(`Function already exist: ${name}`);
    const timeout = (input.Timeout as number | undefined) ?? 3;
    const memory = (input.MemorySize as number | undefined) ?? 128;
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 900)
      throw lambdaErrors.validation(
        `1 validation error detected: Value '${timeout}' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900`,
      );
    if (!Number.isInteger(memory) || memory < 128 || memory > 10_240)
      throw lambdaErrors.validation(
        `1 validation error detected: Value '${memory}' at 'memorySize' failed to satisfy constraint: Member must have value between 128 and 10240`,
      );
    const code = input.Code as { ZipFile?: string; ImageUri?: string };
    const zip = typeof code.ZipFile === 'string' ? Buffer.from(code.ZipFile, 'base64') : Buffer.alloc(0);
    const { createHash } = process.getBuiltinModule('node:crypto');
    const cfg: Record<string, unknown> = {
      FunctionName: name,
      FunctionArn: this.functionArn(name),
      Runtime: input.Runtime,
      Role: input.Role,
      Handler: input.Handler,
      CodeSize: zip.length,
      Description: (input.Description as string | undefined) ?? '',
      Timeout: timeout,
      MemorySize: memory,
      LastModified: new Date(this.now).toISOString().replace('Z', '+0000'),
      CodeSha256: createHash('sha256').update(zip).digest('base64'),
      Version: '$LATEST',
      TracingConfig: { Mode: 'PassThrough' },
      RevisionId: uuidFrom(this.#rng.ids),
      State: 'Active',
      LastUpdateStatus: 'Successful',
      PackageType: (input.PackageType as string | undefined) ?? 'Zip',
      Architectures: (input.Architectures as string[] | undefined) ?? ['x86_64'],
      EphemeralStorage: { Size: 512 },
    };
    if (input.Environment) cfg.Environment = input.Environment;
    const f = new SimFunction(
      name,
      this.functionArn(name),
      cfg,
      this.behaviours.get(name) ?? defaultBehaviour,
      this.params.functionScalingPer10s,
      this.now,
    );
    f.tags = (input.Tags as Record<string, string> | undefined) ?? {};
    this.functions.set(name, f);
    return f;
  }

  deleteFunction(f: SimFunction): void {
    for (const e of [...this.esms.values()]) if (e.functionName === f.name) this.deleteEsm(e);
    f.setReserved(undefined, this.now);
    this.#retired.push(f);
    this.functions.delete(f.name);
  }
  readonly #retired: SimFunction[] = [];

  /** PutFunctionConcurrency with AWS's validation (the unreserved floor, provisioned concurrency). */
  putFunctionConcurrency(f: SimFunction, value: number | undefined): number {
    if (value === undefined || value === null)
      throw lambdaErrors.validation(
        "1 validation error detected: Value null at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must not be null",
      );
    if (!Number.isInteger(value) || value < 0)
      throw lambdaErrors.validation(
        `1 validation error detected: Value '${value}' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 0`,
      );
    if (this.unreservedPool(f) - value < this.params.unreservedMin)
      throw lambdaErrors.invalidParameter(unreservedFloorMessage(this.params.unreservedMin));
    if (value < f.provisioned)
      throw lambdaErrors.invalidParameter(
        `Specified ReservedConcurrentExecutions for function is less than the function's allocated provisioned concurrency of [${f.provisioned}].`,
      );
    f.setReserved(value, this.now);
    for (const e of this.esms.values()) if (e.functionName === f.name) this.#fill(e);
    return value;
  }

  deleteFunctionConcurrency(f: SimFunction): void {
    f.setReserved(undefined, this.now);
    for (const e of this.esms.values()) if (e.functionName === f.name) this.#fill(e);
  }

  accountSettings(): Record<string, unknown> {
    return {
      AccountLimit: {
        TotalCodeSize: 80_530_636_800,
        CodeSizeUnzipped: 262_144_000,
        CodeSizeZipped: 52_428_800,
        ConcurrentExecutions: this.#accountLimit,
        UnreservedConcurrentExecutions: this.unreservedPool(),
      },
      AccountUsage: {
        TotalCodeSize: [...this.functions.values()].reduce((s, f) => s + Number(f.config.CodeSize ?? 0), 0),
        FunctionCount: this.functions.size,
      },
    };
  }

  putProvisioned(f: SimFunction, qualifier: string | undefined, value: number | undefined): void {
    if (!qualifier)
      throw lambdaErrors.validation(
        "1 validation error detected: Value null at 'qualifier' failed to satisfy constraint: Member must not be null",
      );
    if (qualifier === '$LATEST')
      throw lambdaErrors.invalidParameter(
        'Provisioned Concurrency Configs cannot be applied to unpublished function versions.',
      );
    if (value === undefined || !Number.isInteger(value) || value < 1)
      throw lambdaErrors.validation(
        `1 validation error detected: Value '${String(value)}' at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 1`,
      );
    if (f.reserved !== undefined && value > f.reserved)
      throw lambdaErrors.invalidParameter(
        `Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function: ${f.reserved}`,
      );
    if (f.reserved === undefined && this.unreservedPool(f) - value < this.params.unreservedMin)
      throw lambdaErrors.invalidParameter(
        `Requested Provisioned Concurrency would decrease account's UnreservedConcurrentExecution below its minimum value of [${this.params.unreservedMin}].`,
      );
    f.provisioned = value;
    f.provisionedQualifier = qualifier;
    f.provisionedAt = this.now;
  }

  provisionedOf(f: SimFunction, qualifier: string | undefined): SimFunction {
    if (!qualifier)
      throw lambdaErrors.validation(
        "1 validation error detected: Value null at 'qualifier' failed to satisfy constraint: Member must not be null",
      );
    if (f.provisioned === 0 || f.provisionedQualifier !== qualifier)
      throw lambdaErrors.provisionedNotFound(f.name);
    return f;
  }

  deleteProvisioned(f: SimFunction, qualifier: string | undefined): void {
    this.provisionedOf(f, qualifier);
    f.provisioned = 0;
    f.provisionedQualifier = undefined;
  }

  // ---- event source mappings ----

  createEsm(input: Record<string, unknown>): Esm {
    const arn = input.EventSourceArn;
    if (typeof arn !== 'string')
      throw lambdaErrors.invalidParameter(
        'Unrecognized event source, must be kinesis, dynamodb stream or sqs.',
      );
    if (!arn.startsWith('arn:aws:sqs:'))
      throw lambdaErrors.invalidParameter('awssim models SQS event sources only.');
    const f = this.fn(input.FunctionName as string | undefined);
    if (!this.queueByArn(arn))
      throw lambdaErrors.invalidParameter(
        'Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist or you do not have access to it.',
      );
    for (const e of this.esms.values())
      if (e.queueArn === arn && e.functionName === f.name)
        throw lambdaErrors.conflict(
          `An event source mapping with SQS arn (" ${arn} ") and function (" ${f.name} ") already exists. Please update or delete the existing mapping with UUID ${e.uuid}`,
        );
    const { batchSize, windowMs, maximumConcurrency } = this.#esmSettings(input, undefined);
    const e = new Esm({
      uuid: uuidFrom(this.#rng.ids),
      functionName: f.name,
      queueArn: arn,
      batchSize,
      windowMs,
      enabled: input.Enabled !== false,
      maximumConcurrency,
      now: this.now,
      initialConcurrency: Math.min(
        this.params.esmInitialConcurrency,
        maximumConcurrency ?? Number.POSITIVE_INFINITY,
      ),
      extra: {
        ...(input.FunctionResponseTypes ? { FunctionResponseTypes: input.FunctionResponseTypes } : {}),
        ...(input.FilterCriteria ? { FilterCriteria: input.FilterCriteria } : {}),
      },
    });
    this.esms.set(e.uuid, e);
    this.#startEsm(e);
    return e;
  }

  #esmSettings(
    input: Record<string, unknown>,
    prev: Esm | undefined,
  ): { batchSize: number; windowMs: number; maximumConcurrency: number | undefined } {
    const batchSize = (input.BatchSize as number | undefined) ?? prev?.batchSize ?? 10;
    const window =
      (input.MaximumBatchingWindowInSeconds as number | undefined) ?? (prev ? prev.windowMs / 1000 : 0);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
      throw lambdaErrors.invalidParameter(
        `BatchSize must be between 1 and 10000 for SQS event sources, got ${batchSize}.`,
      );
    if (!Number.isInteger(window) || window < 0 || window > 300)
      throw lambdaErrors.validation(
        `1 validation error detected: Value '${window}' at 'maximumBatchingWindowInSeconds' failed to satisfy constraint: Member must have value less than or equal to 300`,
      );
    if (batchSize > 10 && window < 1)
      throw lambdaErrors.invalidParameter(
        'Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10',
      );
    let maximumConcurrency = prev?.maximumConcurrency;
    if (input.ScalingConfig !== undefined) {
      const sc = input.ScalingConfig as { MaximumConcurrency?: number } | null;
      const mc = sc?.MaximumConcurrency;
      if (mc !== undefined && (!Number.isInteger(mc) || mc < 2 || mc > 1000))
        throw lambdaErrors.validation(
          `1 validation error detected: Value '${mc}' at 'scalingConfig.maximumConcurrency' failed to satisfy constraint: Member must have value ${mc < 2 ? 'greater than or equal to 2' : 'less than or equal to 1000'}`,
        );
      maximumConcurrency = mc;
    }
    return { batchSize, windowMs: window * 1000, maximumConcurrency };
  }

  esm(uuid: string | undefined): Esm {
    const e = uuid ? this.esms.get(uuid) : undefined;
    if (!e) throw lambdaErrors.resourceNotFound();
    return e;
  }

  updateEsm(e: Esm, input: Record<string, unknown>): void {
    if (input.FunctionName !== undefined) e.functionName = this.fn(input.FunctionName as string).name;
    const s = this.#esmSettings(input, e);
    e.batchSize = s.batchSize;
    e.windowMs = s.windowMs;
    e.maximumConcurrency = s.maximumConcurrency;
    if (input.FunctionResponseTypes !== undefined)
      e.extra.FunctionResponseTypes = input.FunctionResponseTypes;
    if (input.FilterCriteria !== undefined) e.extra.FilterCriteria = input.FilterCriteria;
    const wasEnabled = e.enabled;
    if (typeof input.Enabled === 'boolean') e.enabled = input.Enabled;
    e.lastModified = this.now;
    e.transient = 'Updating';
    e.target = Math.min(e.target, e.cap(this.params.esmMaxConcurrency));
    if (e.enabled && !wasEnabled) {
      e.target = Math.min(this.params.esmInitialConcurrency, e.cap(this.params.esmMaxConcurrency));
      this.#startEsm(e);
    } else if (!e.enabled && wasEnabled) this.#stopEsm(e);
    else this.#fill(e);
  }

  deleteEsm(e: Esm): void {
    e.deleted = true;
    e.enabled = false;
    this.#stopEsm(e);
    this.esms.delete(e.uuid);
  }

  // ---- dynamics ----

  #startEsm(e: Esm): void {
    if (!e.enabled || e.deleted) return;
    const q = this.queueByArn(e.queueArn);
    if (!q) return;
    e.queue = q;
    e.waiter = () => this.#fill(e);
    q.waiters.add(e.waiter);
    const tick = (): void => {
      if (!e.enabled || e.deleted || e.waiter === undefined) return;
      this.#scale(e);
      this.sched.after(1000, tick);
    };
    this.sched.after(1000, tick);
    this.#fill(e);
  }

  #stopEsm(e: Esm): void {
    if (e.queue && e.waiter) e.queue.waiters.delete(e.waiter);
    e.waiter = undefined;
  }

  /**
   * Once a second: grow by up to 300/min while messages remain and every poller is busy; shrink
   * toward the busy pollers while nothing is visible.
   */
  #scale(e: Esm): void {
    const q = e.queue;
    if (!q || q.deleted) return;
    q.promote(this.now);
    const cap = e.cap(this.params.esmMaxConcurrency);
    const saturated = e.busy >= Math.floor(e.target);
    if (q.visible > 0 && saturated) e.target = Math.min(cap, e.target + this.params.esmScaleUpPerMinute / 60);
    else if (q.visible === 0 && !saturated)
      e.target = Math.max(
        Math.min(this.params.esmMinConcurrency, cap),
        e.busy,
        e.target - this.params.esmScaleDownPerMinute / 60,
      );
    this.#fill(e);
  }

  /** Starts receives on idle pollers while messages are visible. */
  #fill(e: Esm): void {
    const q = e.queue;
    if (!q || !e.enabled || q.deleted) return;
    q.promote(this.now);
    let avail = q.visible - e.claimed;
    let idle = Math.floor(e.target) - e.busy;
    while (idle > 0 && avail > 0) {
      const claim = e.windowMs > 0 ? e.batchSize : Math.min(e.batchSize, avail);
      avail -= claim;
      idle--;
      e.busy++;
      e.claimed += claim;
      const wait =
        e.windowMs > 0 && q.visible < e.batchSize
          ? Math.max(this.params.receiveLatencyMs, e.windowMs)
          : this.params.receiveLatencyMs;
      this.sched.after(wait, () => this.#receive(e, claim));
    }
    if (idle > 0) q.armWake();
  }

  #receive(e: Esm, claim: number): void {
    e.claimed -= claim;
    const q = e.queue;
    const f = this.functions.get(e.functionName);
    if (!q || q.deleted || !e.enabled || !f) {
      e.busy--;
      return;
    }
    const b = q.take(e.batchSize, q.visibilityTimeoutMs, this.now, false);
    if (!b) {
      e.busy--;
      this.#fill(e);
      return;
    }
    this.#invoke(e, f, b);
  }

  #invoke(e: Esm, f: SimFunction, b: InFlight): void {
    const now = this.now;
    const unreservedFree = f.reserved === undefined ? this.unreservedPool() - this.#unreservedRunning : 0;
    const r = f.admit(now, unreservedFree, this.params.environmentIdleMs);
    if (r === 'reserved' || r === 'account' || r === 'scaling') {
      // Throttled: the batch stays invisible until its visibility timeout; the poller backs off.
      b.queue.scheduleReturn(b);
      f.throttles++;
      this.throttlesTotal++;
      this.#tick.throttles++;
      this.sched.after(this.params.throttleBackoffMs, () => {
        e.busy--;
        this.#fill(e);
      });
      return;
    }
    const kind: Admission = r;
    if (f.reserved === undefined) this.#unreservedRunning++;
    f.invocations++;
    this.invocationsTotal++;
    this.#tick.invocations++;
    if (kind === 'cold') this.#tick.coldStarts++;
    const beh = f.behaviour;
    const rng = this.#rng.duration;
    let dur = 0;
    if (beh.per === 'message') for (let i = 0; i < b.sentAt.length; i++) dur += sample(beh.duration, rng);
    else dur = sample(beh.duration, rng);
    if (kind === 'cold') dur += sample(beh.coldStart, rng);
    const timeoutMs = Number(f.config.Timeout ?? 3) * 1000;
    const timedOut = dur > timeoutMs;
    const failed = timedOut || this.#rng.errors.chance(beh.errorRate);
    const reservedAtStart = f.reserved === undefined;
    if (failed || now + Math.min(dur, timeoutMs) >= b.visibleAt) b.queue.scheduleReturn(b);
    this.sched.after(Math.min(dur, timeoutMs), () => {
      f.release(kind, this.now);
      if (reservedAtStart) this.#unreservedRunning--;
      if (failed) {
        f.errors++;
        this.errorsTotal++;
        this.#tick.errors++;
      } else b.queue.deleteAll(b, this.now);
      e.busy--;
      this.#fill(e);
    });
  }

  /** Reserved concurrency·seconds summed over functions (including deleted ones) up to now. */
  reservedConcurrencySeconds(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const f of [...this.#retired, ...this.functions.values()]) {
      f.accrue(this.now);
      out[f.name] = (out[f.name] ?? 0) + f.reservedMs / 1000;
    }
    return out;
  }
}
