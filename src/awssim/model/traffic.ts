// Producer traffic as rate functions over simulated seconds; arrivals are drawn per one-second
// chunk (Poisson count, then uniformly spread times) so no per-message timers are needed.

import type { Rng } from '../engine/rng.ts';

/** One component of a queue's traffic. Times are seconds since the start of the simulation. */
export type TrafficSpec =
  | { readonly kind: 'constant'; readonly rate: number; readonly start?: number; readonly end?: number }
  | { readonly kind: 'step'; readonly steps: readonly { readonly at: number; readonly rate: number }[] }
  | {
      readonly kind: 'ramp';
      readonly from: number;
      readonly to: number;
      readonly start: number;
      readonly duration: number;
      /** Keep the final rate after the ramp (default true). */
      readonly hold?: boolean;
    }
  | {
      readonly kind: 'sine';
      readonly mean: number;
      readonly amplitude: number;
      readonly period: number;
      readonly phase?: number;
      readonly start?: number;
      readonly end?: number;
    }
  | {
      readonly kind: 'square';
      readonly low: number;
      readonly high: number;
      readonly period: number;
      /** Fraction of each period at the high rate (default 0.5). */
      readonly duty?: number;
      readonly start?: number;
      readonly end?: number;
    }
  | { readonly kind: 'dump'; readonly at: number; readonly count: number }
  | {
      readonly kind: 'replay';
      /** Messages per interval, in order. */
      readonly counts: readonly number[];
      readonly interval: 'second' | 'minute';
      readonly start?: number;
    };

const within = (t: number, start = 0, end = Number.POSITIVE_INFINITY): boolean => t >= start && t < end;

/** Mean rate (messages/s) of one rate-shaped component at second `t`; dumps and replays give 0. */
export function rateAt(spec: TrafficSpec, t: number): number {
  switch (spec.kind) {
    case 'constant':
      return within(t, spec.start, spec.end) ? spec.rate : 0;
    case 'step': {
      let r = 0;
      for (const s of spec.steps) if (t >= s.at) r = s.rate;
      return r;
    }
    case 'ramp': {
      if (t < spec.start) return 0;
      if (t >= spec.start + spec.duration) return spec.hold === false ? 0 : spec.to;
      return spec.from + ((spec.to - spec.from) * (t - spec.start)) / spec.duration;
    }
    case 'sine':
      if (!within(t, spec.start, spec.end)) return 0;
      return Math.max(
        0,
        spec.mean + spec.amplitude * Math.sin((2 * Math.PI * (t + (spec.phase ?? 0))) / spec.period),
      );
    case 'square': {
      if (!within(t, spec.start, spec.end)) return 0;
      const x = (((t - (spec.start ?? 0)) % spec.period) + spec.period) % spec.period;
      return x < (spec.duty ?? 0.5) * spec.period ? spec.high : spec.low;
    }
    case 'dump':
    case 'replay':
      return 0;
  }
}

/** Exact message counts that fall into the second [t, t+1): dumps and replayed intervals. */
function exactCountIn(spec: TrafficSpec, t: number): { count: number; from: number; to: number } | undefined {
  if (spec.kind === 'dump')
    return t <= spec.at && spec.at < t + 1 ? { count: spec.count, from: spec.at, to: spec.at } : undefined;
  if (spec.kind === 'replay') {
    const start = spec.start ?? 0;
    const len = spec.interval === 'second' ? 1 : 60;
    const idx = Math.floor((t - start) / len);
    if (t < start || idx >= spec.counts.length) return undefined;
    const total = spec.counts[idx] ?? 0;
    // Spread the interval's count over its seconds; the remainder goes to the first seconds.
    const secInInterval = Math.floor(t - start - idx * len);
    const base = Math.floor(total / len);
    const extra = secInInterval < total - base * len ? 1 : 0;
    return { count: base + extra, from: t, to: t + 1 };
  }
  return undefined;
}

/**
 * Arrival times (epoch ms, sorted) for the second starting at `t` seconds after `origin`.
 * Poisson counts for rate components, exact counts for dumps and replays.
 */
export function arrivalsForSecond(
  specs: readonly TrafficSpec[],
  origin: number,
  t: number,
  rng: Rng,
): number[] {
  const out: number[] = [];
  let rate = 0;
  for (const s of specs) {
    rate += rateAt(s, t + 0.5);
    const exact = exactCountIn(s, t);
    if (exact) {
      if (exact.from === exact.to) for (let i = 0; i < exact.count; i++) out.push(origin + exact.from * 1000);
      else spread(exact.count, origin + exact.from * 1000, (exact.to - exact.from) * 1000, rng, out);
    }
  }
  spread(rng.poisson(rate), origin + t * 1000, 1000, rng, out);
  if (out.length > 1) out.sort((a, b) => a - b);
  return out;
}

/** Appends `n` uniformly spread, sorted times in [from, from+len) using normalised exponential gaps. */
function spread(n: number, from: number, len: number, rng: Rng, out: number[]): void {
  if (n <= 0) return;
  const gaps = new Float64Array(n + 1);
  let total = 0;
  for (let i = 0; i <= n; i++) {
    const g = rng.exponential();
    gaps[i] = g;
    total += g;
  }
  let acc = 0;
  for (let i = 0; i < n; i++) {
    acc += gaps[i] as number;
    out.push(from + (acc / total) * len);
  }
}

/** Parses a CSV of counts (one per line, or `time,count` with the count in the last column). */
export function parseCountsCsv(text: string): number[] {
  const counts: number[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const cell = line.split(',').at(-1)?.trim() ?? '';
    const n = Number(cell);
    if (!Number.isFinite(n) || n < 0) {
      if (counts.length === 0 && i === 0) continue; // header row
      throw new Error(`line ${i + 1}: "${cell}" is not a non-negative count`);
    }
    counts.push(Math.round(n));
  }
  return counts;
}

/** Each queue's traffic and whether generated traffic is flowing at all. */
export class TrafficSchedule {
  readonly #specsByQueue = new Map<string, TrafficSpec[]>();
  /** Generated traffic is paused while false. */
  enabled = true;

  /** Replaces the traffic of a queue (takes effect from the next simulated second). */
  set(queue: string, specs: readonly TrafficSpec[]): void {
    this.#specsByQueue.set(queue, [...specs]);
  }
  /** Forgets a queue's traffic (the queue was deleted). */
  forget(queue: string): void {
    this.#specsByQueue.delete(queue);
  }
  /** Every queue's traffic, as plain data. */
  toJSON(): Record<string, TrafficSpec[]> {
    return Object.fromEntries(this.#specsByQueue);
  }
  /** Queues with traffic, in the order their traffic was first set. */
  entries(): IterableIterator<[string, readonly TrafficSpec[]]> {
    return this.#specsByQueue.entries();
  }
}
