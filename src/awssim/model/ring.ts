// Messages kept as columns in growable ring buffers, so a queue of millions of simulated messages
// costs a few typed arrays instead of millions of objects.

/** A FIFO of messages stored as (sentAt, seq, receiveCount, firstReceiveAt) columns. */
export class MessageRing {
  #sent: Float64Array;
  #seq: Float64Array;
  #rc: Int32Array;
  #first: Float64Array;
  #head = 0;
  #size = 0;

  constructor(capacity = 64) {
    this.#sent = new Float64Array(capacity);
    this.#seq = new Float64Array(capacity);
    this.#rc = new Int32Array(capacity);
    this.#first = new Float64Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** Appends one message. */
  push(sentAt: number, seq: number, rc: number, firstReceiveAt = 0): void {
    if (this.#size === this.#sent.length) this.#grow();
    const cap = this.#sent.length;
    const i = (this.#head + this.#size) % cap;
    this.#sent[i] = sentAt;
    this.#seq[i] = seq;
    this.#rc[i] = rc;
    this.#first[i] = firstReceiveAt;
    this.#size++;
  }

  /** Sent time of the oldest message, or undefined when empty. */
  peekSentAt(): number | undefined {
    return this.#size === 0 ? undefined : this.#sent[this.#head];
  }

  /** Removes the head and passes its columns to `out`. Returns false when empty. */
  shift(out: MessageSlot): boolean {
    if (this.#size === 0) return false;
    const i = this.#head;
    out.sentAt = this.#sent[i] as number;
    out.seq = this.#seq[i] as number;
    out.rc = this.#rc[i] as number;
    out.firstReceiveAt = this.#first[i] as number;
    this.#head = (i + 1) % this.#sent.length;
    this.#size--;
    return true;
  }

  /** Removes every message, calling `each` with its sequence number. */
  clear(each?: (seq: number) => void): void {
    if (each) {
      const cap = this.#sent.length;
      for (let k = 0; k < this.#size; k++) each(this.#seq[(this.#head + k) % cap] as number);
    }
    this.#head = 0;
    this.#size = 0;
  }

  #grow(): void {
    const cap = this.#sent.length;
    const n = cap * 2;
    const sent = new Float64Array(n);
    const seq = new Float64Array(n);
    const rc = new Int32Array(n);
    const first = new Float64Array(n);
    for (let k = 0; k < this.#size; k++) {
      const i = (this.#head + k) % cap;
      sent[k] = this.#sent[i] as number;
      seq[k] = this.#seq[i] as number;
      rc[k] = this.#rc[i] as number;
      first[k] = this.#first[i] as number;
    }
    this.#sent = sent;
    this.#seq = seq;
    this.#rc = rc;
    this.#first = first;
    this.#head = 0;
  }
}

/** A reusable holder for one message taken out of a ring. */
export interface MessageSlot {
  sentAt: number;
  seq: number;
  rc: number;
  firstReceiveAt: number;
}

/** Creates an empty slot. */
export const newSlot = (): MessageSlot => ({ sentAt: 0, seq: 0, rc: 0, firstReceiveAt: 0 });
