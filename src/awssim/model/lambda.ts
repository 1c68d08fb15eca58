// Simulated Lambda functions (concurrency, execution environments, cold starts) and the token
// buckets behind the control-plane quotas and the per-function scaling rate.

import type { Rng } from '../engine/rng.ts';
import { type Aggregate, emptyAggregate } from './cloudwatch.ts';
import type { Distribution, FunctionBehaviour } from './params.ts';

/** A token bucket over simulated time. */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  #tokens: number;
  #at: number;

  constructor(ratePerSecond: number, burst: number, now: number) {
    this.#ratePerMs = ratePerSecond / 1000;
    this.#burst = burst;
    this.#tokens = burst;
    this.#at = now;
  }

  #refill(now: number): void {
    if (now > this.#at) {
      this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#at) * this.#ratePerMs);
      this.#at = now;
    }
  }

  /** Takes one token if available. */
  take(now: number): boolean {
    this.#refill(now);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return true;
    }
    return false;
  }

  /** Milliseconds until one token is available. */
  waitMs(now: number): number {
    this.#refill(now);
    return this.#tokens >= 1 ? 0 : (1 - this.#tokens) / this.#ratePerMs;
  }
}

/** Draws a duration in ms from a distribution. */
export function sample(d: Distribution, rng: Rng): number {
  switch (d.kind) {
    case 'constant':
      return d.ms;
    case 'uniform':
      return rng.uniform(d.minMs, d.maxMs);
    case 'lognormal':
      return rng.lognormal(d.medianMs, d.sigma);
  }
}

/** Where an admitted invocation runs. */
export type Admission = 'warm' | 'provisioned' | 'cold';

/** Why an invocation was throttled. */
export type ThrottleReason = 'reserved' | 'account' | 'scaling';

/** One simulated function (unqualified; versions and aliases are not modelled). */
export class SimFunction {
  readonly name: string;
  readonly arn: string;
  /** FunctionConfiguration fields as given and derived (returned by the API). */
  config: Record<string, unknown>;
  tags: Record<string, string>;
  behaviour: FunctionBehaviour;
  reserved: number | undefined;
  provisioned = 0;
  provisionedQualifier: string | undefined;
  provisionedAt = 0;

  running = 0;
  provisionedBusy = 0;
  /** Idle environments, by the time they went idle (most recent last). */
  idle: number[] = [];
  readonly scaling: TokenBucket;

  invocations = 0;
  throttles = 0;
  errors = 0;
  coldStarts = 0;
  /** Durations (ms) of invocations that ended since the sampler last took them, for CloudWatch. */
  durations: Aggregate = emptyAggregate();
  /** Integral of reserved concurrency over time (concurrency·ms) and when it last changed. */
  reservedMs = 0;
  reservedSince: number;

  constructor(
    name: string,
    arn: string,
    config: Record<string, unknown>,
    behaviour: FunctionBehaviour,
    scalingPer10s: number,
    now: number,
  ) {
    this.name = name;
    this.arn = arn;
    this.config = config;
    this.tags = {};
    this.behaviour = behaviour;
    this.scaling = new TokenBucket(scalingPer10s / 10, scalingPer10s, now);
    this.reservedSince = now;
  }

  /** Sets reserved concurrency, keeping the reserved-seconds integral up to date. */
  setReserved(value: number | undefined, now: number): void {
    this.accrue(now);
    this.reserved = value;
  }

  /** Adds reserved concurrency·time up to `now`. */
  accrue(now: number): void {
    if (this.reserved !== undefined) this.reservedMs += this.reserved * (now - this.reservedSince);
    this.reservedSince = now;
  }

  /** Reclaims environments idle for longer than `idleMs`. */
  expireIdle(now: number, idleMs: number): void {
    let k = 0;
    while (k < this.idle.length && now - (this.idle[k] as number) > idleMs) k++;
    if (k > 0) this.idle.splice(0, k);
  }

  /**
   * Finds an environment for one invocation, or the reason it is throttled.
   * `unreservedFree` is how much of the account's unreserved pool is free right now.
   */
  admit(now: number, unreservedFree: number, idleMs: number): Admission | ThrottleReason {
    if (this.reserved !== undefined) {
      if (this.running >= this.reserved) return 'reserved';
    } else if (unreservedFree <= 0) return 'account';
    if (this.provisionedBusy < this.provisioned) {
      this.provisionedBusy++;
      this.running++;
      return 'provisioned';
    }
    this.expireIdle(now, idleMs);
    if (this.idle.length > 0) {
      this.idle.pop();
      this.running++;
      return 'warm';
    }
    if (!this.scaling.take(now)) return 'scaling';
    this.running++;
    this.coldStarts++;
    return 'cold';
  }

  /** Returns an environment after an invocation that ran `durationMs`. */
  release(kind: Admission, now: number, durationMs: number): void {
    const d = this.durations;
    d.sum += durationMs;
    d.n++;
    if (durationMs > d.max) d.max = durationMs;
    if (durationMs < d.min) d.min = durationMs;
    this.running--;
    if (kind === 'provisioned') this.provisionedBusy--;
    else this.idle.push(now);
  }
}
