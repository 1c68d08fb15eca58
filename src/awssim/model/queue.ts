// A simulated SQS standard queue: visible, delayed, in-flight and not-yet-sent (traffic) messages,
// visibility timeouts per received batch, and the redrive to a dead-letter queue.

import type { Scheduler, SimEvent } from '../engine/scheduler.ts';
import type { LatencyHistogram } from './metrics.ts';
import { MessageRing, newSlot } from './ring.ts';

/** Redrive policy: after `maxReceiveCount` receives a message moves to the queue with `deadLetterTargetArn`. */
export interface RedrivePolicy {
  readonly deadLetterTargetArn: string;
  readonly maxReceiveCount: number;
}

/** Messages received together and hidden until `visibleAt` (one ESM batch or one wire message). */
export interface InFlight {
  readonly id: number;
  readonly queue: SimQueue;
  readonly sentAt: number[];
  readonly seq: number[];
  readonly rc: number[];
  readonly first: number[];
  readonly deleted: number[];
  live: number;
  visibleAt: number;
  returned: boolean;
  ev: SimEvent | undefined;
}

/** What the queue needs from its surroundings. */
export interface QueueHost {
  readonly sched: Scheduler;
  nextInFlightId(): number;
  /** Finds a queue by ARN (for the dead-letter queue). */
  queueByArn(arn: string): SimQueue | undefined;
  /** Called when messages move to a dead-letter queue. */
  onDlqMove(from: SimQueue, n: number): void;
  /** Called for each deleted message with its sequence number. */
  onDelete(q: SimQueue, seq: number, sentAt: number): void;
  /** Called when messages are dropped (purge, delete queue, DLQ target missing). */
  onDrop(seq: number): void;
  /** Called when an in-flight group's visibility timeout expired. */
  onReturned(b: InFlight): void;
}

const slot = newSlot();

/** One SQS standard queue. */
export class SimQueue {
  readonly name: string;
  readonly arn: string;
  readonly createdAt: number;
  lastModified: number;
  /** Attribute values as SQS stores them (strings). */
  readonly attributes: Map<string, string>;
  readonly tags: Map<string, string>;
  readonly latency: LatencyHistogram;
  /** When GetQueueAttributes read it last (the newest 8, epoch ms): who polls it, seen from outside. */
  readonly attributeReads: number[] = [];

  /** Traffic generated ahead of time, not sent yet (sorted by send time). */
  readonly future = new MessageRing();
  /** Visible messages never received. */
  readonly fresh = new MessageRing();
  /** Visible messages that were received before and came back. */
  readonly retry = new MessageRing();
  /** Delayed messages, sorted by the time they become visible. */
  delayed: { at: number; sentAt: number; seq: number }[] = [];
  inFlight = 0;
  /** In-flight groups with live messages. */
  readonly groups = new Set<InFlight>();
  lastPurgeAt = Number.NEGATIVE_INFINITY;

  /** Totals since creation (for CloudWatch and the timeline). */
  sentTotal = 0;
  receivedTotal = 0;
  deletedTotal = 0;
  dlqMovesTotal = 0;

  /** Called when messages may have become visible (ESM pollers, long-polling receivers). */
  readonly waiters = new Set<() => void>();
  #wake: SimEvent | undefined;
  readonly #host: QueueHost;
  deleted = false;

  constructor(
    host: QueueHost,
    name: string,
    arn: string,
    attributes: Map<string, string>,
    latency: LatencyHistogram,
  ) {
    this.#host = host;
    this.name = name;
    this.arn = arn;
    this.createdAt = host.sched.now();
    this.lastModified = this.createdAt;
    this.attributes = attributes;
    this.tags = new Map();
    this.latency = latency;
  }

  /** Visibility timeout in ms. */
  get visibilityTimeoutMs(): number {
    return Number(this.attributes.get('VisibilityTimeout') ?? '30') * 1000;
  }

  /** Queue-level delay in ms. */
  get delayMs(): number {
    return Number(this.attributes.get('DelaySeconds') ?? '0') * 1000;
  }

  /** The redrive policy, if any. */
  get redrive(): RedrivePolicy | undefined {
    const raw = this.attributes.get('RedrivePolicy');
    if (!raw) return undefined;
    const p = JSON.parse(raw) as { deadLetterTargetArn: string; maxReceiveCount: number | string };
    return { deadLetterTargetArn: p.deadLetterTargetArn, maxReceiveCount: Number(p.maxReceiveCount) };
  }

  /** Moves due traffic and delayed messages into the visible set. */
  promote(now: number): void {
    let moved = 0;
    while (this.future.size > 0 && (this.future.peekSentAt() as number) <= now) {
      this.future.shift(slot);
      this.fresh.push(slot.sentAt, slot.seq, 0);
      this.sentTotal++;
      moved++;
    }
    if (this.delayed.length > 0 && (this.delayed[0]?.at as number) <= now) {
      let k = 0;
      while (k < this.delayed.length && (this.delayed[k]?.at as number) <= now) {
        const d = this.delayed[k] as { sentAt: number; seq: number };
        this.fresh.push(d.sentAt, d.seq, 0);
        k++;
      }
      this.delayed = this.delayed.slice(k);
      moved += k;
    }
    if (moved > 0) this.#wake = undefined;
  }

  /** Visible messages now (call `promote` first). */
  get visible(): number {
    return this.fresh.size + this.retry.size;
  }

  /** Time the next traffic or delayed message becomes visible. */
  nextArrivalAt(): number {
    const f = this.future.peekSentAt() ?? Number.POSITIVE_INFINITY;
    const d = this.delayed[0]?.at ?? Number.POSITIVE_INFINITY;
    return Math.min(f, d);
  }

  /** Sent time of the oldest visible message, for ApproximateAgeOfOldestMessage. */
  oldestVisibleSentAt(): number | undefined {
    const a = this.retry.peekSentAt();
    const b = this.fresh.peekSentAt();
    if (a === undefined) return b;
    if (b === undefined) return a;
    return Math.min(a, b);
  }

  /** Adds a message sent now (wire) or at `sentAt`, honouring a delay. */
  send(seq: number, sentAt: number, delayMs: number): void {
    if (delayMs > 0) {
      const at = sentAt + delayMs;
      let i = this.delayed.length;
      while (i > 0 && (this.delayed[i - 1]?.at as number) > at) i--;
      this.delayed.splice(i, 0, { at, sentAt, seq });
      this.sentTotal++;
      this.armWake();
    } else {
      this.fresh.push(sentAt, seq, 0);
      this.sentTotal++;
      this.notify();
    }
  }

  /** Schedules a wake-up for waiters at the next arrival if nothing is visible. */
  armWake(): void {
    if (this.waiters.size === 0 || this.deleted) return;
    const at = this.nextArrivalAt();
    if (!Number.isFinite(at)) return;
    if (this.#wake && !this.#wake.cancelled && this.#wake.at <= at) return;
    this.#host.sched.cancel(this.#wake);
    this.#wake = this.#host.sched.at(at, () => {
      this.#wake = undefined;
      this.promote(this.#host.sched.now());
      this.notify();
      this.armWake();
    });
  }

  /** Tells waiters that messages may be visible. */
  notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /**
   * Receives up to `max` messages as one in-flight group hidden for `visibilityMs`
   * (returned messages first). Returns undefined when nothing is visible. Without `scheduleReturn`
   * the caller must delete the group or call `scheduleReturn` (event source mappings skip the event
   * for batches they will delete before the timeout, which keeps the event heap small).
   */
  take(max: number, visibilityMs: number, now: number, scheduleReturn = true): InFlight | undefined {
    this.promote(now);
    const n = Math.min(max, this.visible);
    if (n <= 0) return undefined;
    const b: InFlight = {
      id: this.#host.nextInFlightId(),
      queue: this,
      sentAt: new Array(n),
      seq: new Array(n),
      rc: new Array(n),
      first: new Array(n),
      deleted: new Array<number>(n).fill(0),
      live: n,
      visibleAt: now + visibilityMs,
      returned: false,
      ev: undefined,
    };
    for (let i = 0; i < n; i++) {
      if (!this.retry.shift(slot)) this.fresh.shift(slot);
      b.sentAt[i] = slot.sentAt;
      b.seq[i] = slot.seq;
      b.rc[i] = slot.rc + 1;
      b.first[i] = slot.firstReceiveAt === 0 ? now : slot.firstReceiveAt;
    }
    this.inFlight += n;
    this.receivedTotal += n;
    this.groups.add(b);
    if (scheduleReturn) this.scheduleReturn(b);
    return b;
  }

  /** Schedules the group's return at its visibility timeout (callers that delete in time may skip it). */
  scheduleReturn(b: InFlight): void {
    if (b.ev === undefined && !b.returned)
      b.ev = this.#host.sched.at(b.visibleAt, () => this.returnToQueue(b));
  }

  /** Changes when an in-flight group becomes visible again. */
  changeVisibility(b: InFlight, visibilityMs: number, now: number): void {
    this.#host.sched.cancel(b.ev);
    b.visibleAt = now + visibilityMs;
    b.ev = this.#host.sched.at(b.visibleAt, () => this.returnToQueue(b));
  }

  /** Deletes message `i` of an in-flight group (no-op if it already came back or was deleted). */
  deleteOne(b: InFlight, i: number, now: number): void {
    if (b.returned || b.deleted[i] === 1) return;
    b.deleted[i] = 1;
    b.live--;
    this.inFlight--;
    this.deletedTotal++;
    this.#host.onDelete(this, b.seq[i] as number, b.sentAt[i] as number);
    this.latency.record(now - (b.sentAt[i] as number));
    if (b.live === 0) {
      this.#host.sched.cancel(b.ev);
      this.groups.delete(b);
    }
  }

  /** Deletes every live message of a group. */
  deleteAll(b: InFlight, now: number): void {
    for (let i = 0; i < b.sentAt.length; i++) this.deleteOne(b, i, now);
  }

  /** Visibility timeout expiry: live messages come back, or move to the DLQ past maxReceiveCount. */
  returnToQueue(b: InFlight): void {
    if (b.returned) return;
    b.returned = true;
    this.#host.sched.cancel(b.ev);
    this.groups.delete(b);
    this.#host.onReturned(b);
    if (b.live === 0) return;
    const redrive = this.redrive;
    const dlq = redrive ? this.#host.queueByArn(redrive.deadLetterTargetArn) : undefined;
    let moved = 0;
    for (let i = 0; i < b.sentAt.length; i++) {
      if (b.deleted[i] === 1) continue;
      const rc = b.rc[i] as number;
      if (redrive && dlq && !dlq.deleted && rc >= redrive.maxReceiveCount) {
        dlq.fresh.push(b.sentAt[i] as number, b.seq[i] as number, 0);
        dlq.sentTotal++;
        moved++;
      } else {
        this.retry.push(b.sentAt[i] as number, b.seq[i] as number, rc, b.first[i] as number);
      }
    }
    this.inFlight -= b.live;
    b.live = 0;
    if (moved > 0 && dlq) {
      this.dlqMovesTotal += moved;
      this.#host.onDlqMove(this, moved);
      dlq.notify();
    }
    this.notify();
  }

  /** Drops every message (PurgeQueue); in-flight groups are forgotten. */
  purge(): void {
    const drop = (seq: number): void => this.#host.onDrop(seq);
    this.fresh.clear(drop);
    this.retry.clear(drop);
    for (const d of this.delayed) drop(d.seq);
    this.delayed = [];
    for (const b of this.groups) {
      b.returned = true;
      this.#host.sched.cancel(b.ev);
      for (let i = 0; i < b.seq.length; i++) if (b.deleted[i] === 0) drop(b.seq[i] as number);
    }
    this.groups.clear();
    this.inFlight = 0;
  }
}
