// The simulated account's entities: queues by name, functions by name (and the deleted ones, whose
// reserved concurrency still counts in reports), event source mappings by UUID, and the id sources.
// Everything else reads them through read-only views; only the API modules add or remove entities.

import type { Rng } from '../engine/rng.ts';
import type { Esm } from './esm.ts';
import type { SimFunction } from './lambda.ts';
import type { SimQueue } from './queue.ts';

/** Account and Region the simulator pretends to be. */
export const ACCOUNT_ID = '000000000000';
export const REGION = 'us-east-1';

/** The entities of one account and the sequences that name them. */
export class Account {
  /** The 12-digit account id its queue URLs and ARNs carry. */
  readonly id: string;
  readonly #queuesByName = new Map<string, SimQueue>();
  readonly #functionsByName = new Map<string, SimFunction>();
  readonly #deletedFunctions: SimFunction[] = [];
  readonly #mappingsByUuid = new Map<string, Esm>();
  readonly #ids: Rng;
  #nextMessageSeq = 1;
  #nextInFlightId = 1;
  /** The account's concurrency limit (ConcurrentExecutions). */
  concurrencyLimit: number;

  readonly #owns: (account: string) => boolean;

  /**
   * `owns` says whether an account id named in a queue URL or an ARN means this account (awssim's
   * own account also answers for accounts no scenario declared); by default only `id` does.
   */
  constructor(concurrencyLimit: number, ids: Rng, id = ACCOUNT_ID, owns?: (account: string) => boolean) {
    this.concurrencyLimit = concurrencyLimit;
    this.#ids = ids;
    this.id = id;
    this.#owns = owns ?? ((account) => account === id);
  }

  /** Whether an account id named in a URL or an ARN is this account. */
  owns(account: string): boolean {
    return this.#owns(account);
  }

  get queuesByName(): ReadonlyMap<string, SimQueue> {
    return this.#queuesByName;
  }
  get functionsByName(): ReadonlyMap<string, SimFunction> {
    return this.#functionsByName;
  }
  get mappingsByUuid(): ReadonlyMap<string, Esm> {
    return this.#mappingsByUuid;
  }
  /** Live and deleted functions, for integrals over the whole run. */
  everyFunction(): SimFunction[] {
    return [...this.#deletedFunctions, ...this.#functionsByName.values()];
  }

  addQueue(q: SimQueue): void {
    this.#queuesByName.set(q.name, q);
  }
  removeQueue(q: SimQueue): void {
    this.#queuesByName.delete(q.name);
  }
  addFunction(f: SimFunction): void {
    this.#functionsByName.set(f.name, f);
  }
  removeFunction(f: SimFunction): void {
    this.#deletedFunctions.push(f);
    this.#functionsByName.delete(f.name);
  }
  addMapping(e: Esm): void {
    this.#mappingsByUuid.set(e.uuid, e);
  }
  removeMapping(e: Esm): void {
    this.#mappingsByUuid.delete(e.uuid);
  }

  /** The queue with this ARN, if it exists in this account. */
  queueByArn(arn: string): SimQueue | undefined {
    const name = arn.split(':').at(-1) ?? '';
    const q = this.#queuesByName.get(name);
    return q && q.arn === arn ? q : undefined;
  }

  /** Mappings that invoke the function `name`. */
  mappingsOf(name: string): Esm[] {
    return [...this.#mappingsByUuid.values()].filter((e) => e.functionName === name);
  }

  /** Concurrency not reserved by any function (and not provisioned by unreserved functions). */
  unreservedPool(except?: SimFunction): number {
    let taken = 0;
    for (const f of this.#functionsByName.values()) {
      if (f === except) continue;
      taken += f.reserved !== undefined ? f.reserved : f.provisioned;
    }
    return this.concurrencyLimit - taken;
  }

  /** A random version-4-shaped UUID from the seeded `ids` stream. */
  newUuid(): string {
    const h = (): string =>
      Math.floor(this.#ids.next() * 0x10000)
        .toString(16)
        .padStart(4, '0');
    return `${h()}${h()}-${h()}-4${h().slice(1)}-a${h().slice(1)}-${h()}${h()}${h()}`;
  }
  /** The next message sequence number (traffic and API messages share it). */
  nextMessageSeq(): number {
    return this.#nextMessageSeq++;
  }
  /** The next in-flight group id (receipt handles point at it). */
  nextInFlightId(): number {
    return this.#nextInFlightId++;
  }
}
