// Faults injected per API operation (`sqs:SendMessage`, `lambda:GetFunction`, or `*` for all):
// errors, throttling and added latency, as the scenario, the admin API or a test sets them.

/** Injected faults for one operation. */
export interface Fault {
  /** Probability that a call fails with a server error. */
  readonly errorRate?: number;
  /** Added latency per call, ms. */
  readonly latencyMs?: number;
  /** Every call is throttled. */
  readonly throttle?: boolean;
}

/** The faults in force, by operation. */
export class FaultTable {
  readonly #byOperation = new Map<string, Fault>();

  /** The fault for `op`, else the `*` fault. */
  for(op: string): Fault | undefined {
    return this.#byOperation.get(op) ?? this.#byOperation.get('*');
  }
  set(op: string, fault: Fault): void {
    this.#byOperation.set(op, fault);
  }
  delete(op: string): void {
    this.#byOperation.delete(op);
  }
  clear(): void {
    this.#byOperation.clear();
  }
  toJSON(): Record<string, Fault> {
    return Object.fromEntries(this.#byOperation);
  }
}
