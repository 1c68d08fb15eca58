// The SQS operations on the model: queue attributes with SQS's validation and defaults, messages
// sent and received through the API (their bodies, receipt handles and long polls), purge and delete.

import type { Rng } from '../engine/rng.ts';
import type { Scheduler } from '../engine/scheduler.ts';
import { type Account, REGION } from './account.ts';
import { AwsApiError, sqsErrors } from './errors.ts';
import { LatencyHistogram } from './metrics.ts';
import type { ModelParams } from './params.ts';
import { type InFlight, type QueueHost, SimQueue } from './queue.ts';
import type { AttributeHistory } from './sampler.ts';
import type { TrafficSchedule } from './traffic.ts';

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

/** Queue counts as GetQueueAttributes reports them (with lag and wobble applied). */
export interface QueueCounts {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

const READABLE_ATTRIBUTES = new Set([
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
const SETTABLE_ATTRIBUTES = new Set([
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
const ATTRIBUTE_RANGES: Record<string, [number, number]> = {
  VisibilityTimeout: [0, 43_200],
  MaximumMessageSize: [1024, 1_048_576],
  MessageRetentionPeriod: [60, 1_209_600],
  DelaySeconds: [0, 900],
  ReceiveMessageWaitTimeSeconds: [0, 20],
  KmsDataKeyReusePeriodSeconds: [60, 86_400],
};
const ATTRIBUTE_DEFAULTS: Record<string, string> = {
  VisibilityTimeout: '30',
  MaximumMessageSize: '1048576',
  MessageRetentionPeriod: '345600',
  DelaySeconds: '0',
  ReceiveMessageWaitTimeSeconds: '0',
  SqsManagedSseEnabled: 'true',
};

/** What the SQS operations need from the world around them. */
export interface SqsApiDeps {
  readonly sched: Scheduler;
  readonly params: ModelParams;
  readonly account: Account;
  readonly host: QueueHost;
  readonly attributeHistory: AttributeHistory;
  readonly traffic: TrafficSchedule;
  readonly wobble: Rng;
}

/** SQS's operations. */
export class SqsApi {
  readonly #d: SqsApiDeps;
  /** Bodies and attributes of messages sent through the API, by sequence number. */
  readonly #storedMessagesBySeq = new Map<number, StoredMessage>();
  /** In-flight groups received through the API, by id (receipt handles point here). */
  readonly #receivedById = new Map<number, InFlight>();

  constructor(deps: SqsApiDeps) {
    this.#d = deps;
  }

  get #now(): number {
    return this.#d.sched.now();
  }

  /** A message left the queue for good (deleted, purged, dropped): forget its body. */
  forgetMessage(seq: number): void {
    this.#storedMessagesBySeq.delete(seq);
  }
  /** An in-flight group came back: its receipt handles no longer work. */
  forgetReceived(b: InFlight): void {
    this.#receivedById.delete(b.id);
  }

  queueUrl(q: SimQueue, base: string): string {
    return `${base}/${this.#d.account.id}/${q.name}`;
  }

  /**
   * Resolves a queue URL (or bare name) to a queue, or throws QueueDoesNotExist — also for the URL of
   * a queue in another account, which is what SQS answers without a queue policy granting access
   * (assumption: AWS documents the error for a missing queue, not for a foreign one).
   */
  queueFromUrl(url: string | undefined): SimQueue {
    if (!url) throw sqsErrors.missingParameter('QueueUrl');
    const parts = url.replace(/\/+$/, '').split('/');
    const name = parts.at(-1) ?? '';
    const owner = parts.length > 1 ? (parts.at(-2) ?? '') : '';
    if (/^\d{12}$/.test(owner) && !this.#d.account.owns(owner)) throw sqsErrors.queueDoesNotExist();
    const q = this.#d.account.queuesByName.get(name);
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
      if (!SETTABLE_ATTRIBUTES.has(k)) throw sqsErrors.invalidAttributeName(k);
      const range = ATTRIBUTE_RANGES[k];
      if (range) {
        const n = Number(v);
        if (v.trim() === '' || !Number.isInteger(n) || n < range[0] || n > range[1])
          throw sqsErrors.invalidAttributeValue(`Invalid value for the parameter ${k}.`);
      }
      if (k === 'RedrivePolicy' && v !== '') this.#validateRedrivePolicy(v);
      out.set(k, v);
    }
    return out;
  }

  #validateRedrivePolicy(v: string): void {
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
    if (!this.#d.account.queueByArn(p.deadLetterTargetArn))
      throw sqsErrors.invalidAttributeValue(
        `Value ${v} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.`,
      );
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
    const existing = this.#d.account.queuesByName.get(name);
    if (existing) {
      for (const [k, v] of given)
        if ((existing.attributes.get(k) ?? ATTRIBUTE_DEFAULTS[k]) !== v)
          throw sqsErrors.queueNameExists(name);
      return existing;
    }
    const attrs = new Map(Object.entries(ATTRIBUTE_DEFAULTS));
    for (const [k, v] of given) attrs.set(k, v);
    const q = new SimQueue(
      this.#d.host,
      name,
      `arn:aws:sqs:${REGION}:${this.#d.account.id}:${name}`,
      attrs,
      new LatencyHistogram(this.#d.params.sloMs),
    );
    for (const [k, v] of Object.entries(tags)) q.tags.set(k, v);
    this.#d.account.addQueue(q);
    return q;
  }

  setQueueAttributes(q: SimQueue, attributes: Record<string, string>): void {
    const given = this.#validateAttributes(attributes, false);
    for (const [k, v] of given) {
      if (k === 'RedrivePolicy' && v === '') q.attributes.delete(k);
      else q.attributes.set(k, v);
    }
    q.lastModified = this.#now;
  }

  /** Attribute names validated the way GetQueueAttributes does. */
  checkAttributeNames(names: readonly string[]): void {
    for (const n of names)
      if (n !== 'All' && !READABLE_ATTRIBUTES.has(n)) throw sqsErrors.invalidAttributeName(n);
  }

  /** Counts as the SQS API reports them now: `attributeLagMs` old, with `attributeWobble` noise. */
  queueCounts(q: SimQueue): QueueCounts {
    q.promote(this.#now);
    const v = this.#d.attributeHistory.lagged(q, this.#now, [q.visible, q.inFlight, q.delayed.length]);
    const w = this.#d.params.attributeWobble;
    const wob = (x: number): number =>
      w > 0 ? Math.max(0, Math.round(x * (1 + w * this.#d.wobble.normal()))) : x;
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
    const seq = this.#d.account.nextMessageSeq();
    const m: StoredMessage = { body, attributes, messageId: this.#d.account.newUuid() };
    this.#storedMessagesBySeq.set(seq, m);
    q.send(seq, this.#now, delaySeconds !== undefined ? delaySeconds * 1000 : q.delayMs);
    return m;
  }

  /** The stored message for `seq`, or a synthetic one for traffic messages. */
  message(seq: number): StoredMessage {
    const m = this.#storedMessagesBySeq.get(seq);
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
      const b = q.take(1, visibilityMs, this.#now);
      if (!b) break;
      this.#receivedById.set(b.id, b);
      out.push(b);
    }
    return out;
  }

  /** ReceiveMessage with long polling: resolves as soon as messages are visible or `waitMs` passes. */
  receive(q: SimQueue, max: number, visibilityMs: number, waitMs: number): Promise<InFlight[]> {
    const now = this.receiveNow(q, max, visibilityMs);
    if (now.length > 0 || waitMs <= 0) return Promise.resolve(now);
    const sched = this.#d.sched;
    return new Promise((resolve) => {
      const done = (got: InFlight[]): void => {
        q.waiters.delete(waiter);
        sched.cancel(timer);
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
      const timer = sched.after(waitMs, () => done([]));
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
    const b = this.#receivedById.get(id);
    if (!b || b.returned || b.live === 0 || b.deleted[i] === 1) {
      if (b && (b.returned || b.live === 0)) this.#receivedById.delete(id);
      return { b: undefined, i };
    }
    return { b, i };
  }

  deleteMessage(q: SimQueue, handle: string | undefined): void {
    const { b, i } = this.fromReceiptHandle(q, handle);
    if (!b) return; // SQS accepts deleting a message that is gone or visible again
    q.deleteOne(b, i, this.#now);
    if (b.live === 0) this.#receivedById.delete(b.id);
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
      this.#receivedById.delete(b.id);
    } else q.changeVisibility(b, seconds * 1000, this.#now);
  }

  purgeQueue(q: SimQueue, url: string): void {
    if (this.#now - q.lastPurgeAt < 60_000) throw sqsErrors.purgeInProgress(url);
    q.lastPurgeAt = this.#now;
    q.purge();
  }

  deleteQueue(q: SimQueue): void {
    q.purge();
    q.future.clear();
    q.deleted = true;
    q.notify();
    this.#d.account.removeQueue(q);
    this.#d.traffic.forget(q.name);
  }
}
