// The one engine behind both clocks: a time-ordered event heap. Virtual time jumps from event to
// event; real time is the same heap drained by a timer that follows the wall clock.

/** A scheduled callback; set `cancelled` (through `cancel`) to drop it. */
export interface SimEvent {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

const less = (a: SimEvent, b: SimEvent): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/** Discrete-event scheduler over simulated epoch milliseconds. */
export class Scheduler {
  #now: number;
  #seq = 0;
  #heap: SimEvent[] = [];

  constructor(start: number) {
    this.#now = start;
  }

  /** Current simulated time in epoch milliseconds. */
  now(): number {
    return this.#now;
  }

  /** Runs `fn` at simulated time `at` (never earlier than now). */
  at(at: number, fn: () => void): SimEvent {
    const ev: SimEvent = { at: Math.max(at, this.#now), seq: this.#seq++, fn, cancelled: false };
    this.#push(ev);
    return ev;
  }

  /** Runs `fn` after `ms` simulated milliseconds. */
  after(ms: number, fn: () => void): SimEvent {
    return this.at(this.#now + ms, fn);
  }

  /** Drops a scheduled event. */
  cancel(ev: SimEvent | undefined): void {
    if (ev) ev.cancelled = true;
  }

  /** Time of the next pending event, or Infinity. */
  peek(): number {
    while (this.#heap.length > 0 && this.#heap[0]?.cancelled) this.#pop();
    return this.#heap[0]?.at ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Runs every event due at or before `t` in (time, insertion) order, then sets the time to `t`.
   * Returns false if an event called `halt()`, leaving the time at that event.
   */
  runUntil(t: number): boolean {
    this.#halted = false;
    for (;;) {
      const head = this.#heap[0];
      if (head === undefined || head.at > t) break;
      this.#pop();
      if (head.cancelled) continue;
      this.#now = head.at;
      head.fn();
      if (this.#halted) return false;
    }
    if (t > this.#now) this.#now = t;
    return true;
  }

  /** Makes the running `runUntil` return after the current event. */
  halt(): void {
    this.#halted = true;
  }
  #halted = false;

  /** Number of pending (possibly cancelled) events. */
  get size(): number {
    return this.#heap.length;
  }

  #push(ev: SimEvent): void {
    const h = this.#heap;
    let i = h.length;
    h.push(ev);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as SimEvent;
      if (!less(ev, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = ev;
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && less(h[r] as SimEvent, h[l] as SimEvent)) c = r;
      const child = h[c] as SimEvent;
      if (!less(child, last)) break;
      h[i] = child;
      i = c;
    }
    h[i] = last;
  }
}

/** Wall-clock source for real-time mode; injected so the driver stays testable. */
export interface WallClock {
  now(): number;
}

/**
 * Drives a Scheduler in real time: simulated time follows the wall clock one to one, and a timer
 * wakes at the next event (at most every `maxSleepMs`).
 */
export class RealTimeDriver {
  readonly #sched: Scheduler;
  readonly #wall: WallClock;
  readonly #offset: number;
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(sched: Scheduler, wall: WallClock = { now: () => Date.now() }) {
    this.#sched = sched;
    this.#wall = wall;
    this.#offset = sched.now() - wall.now();
  }

  /** Brings simulated time up to the wall clock, running every due event. */
  sync(): void {
    this.#sched.runUntil(this.#wall.now() + this.#offset);
  }

  /** Starts following the wall clock. */
  start(maxSleepMs = 10): void {
    if (this.#running) return;
    this.#running = true;
    const tick = (): void => {
      if (!this.#running) return;
      this.sync();
      const wait = Math.min(maxSleepMs, Math.max(1, this.#sched.peek() - this.#sched.now()));
      this.#timer = setTimeout(tick, wait);
      this.#timer.unref?.();
    };
    tick();
  }

  /** Stops the timer; the scheduler keeps its state. */
  stop(): void {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
