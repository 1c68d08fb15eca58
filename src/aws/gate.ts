// At most N calls of one SDK client on the wire at once; the rest wait here, in order.
//
// The SDK's HTTP handler (@smithy/node-http-handler) starts its connection timer when a request is
// handed to the agent, not when the agent gives it a socket. A request queued behind the agent's
// `maxSockets` keep-alive sockets for longer than `connectionTimeout` therefore fails with "the
// request socket did not establish a connection with the server within the configured timeout",
// although the endpoint is answering. At 5,000 scalers a few thousand queue reads released at
// once did exactly that (bench/SCALE.md). Waiting here instead, with no more calls in flight than
// the agent has sockets, keeps the connection timeout about connections; the wait counts against
// the call's own deadline (sdk.ts), so nothing waits forever.

/** A FIFO counting semaphore whose waits end early when the caller's signal aborts. */
export class Gate {
  readonly size: number;
  #busy = 0;
  readonly #waiting: { admit: () => void }[] = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`gate size must be a positive integer, got ${size}`);
    this.size = size;
  }

  /** Calls in flight now. */
  get busy(): number {
    return this.#busy;
  }

  /** Callers waiting for a place now. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `fn` once a place is free (in arrival order); rejects with the signal's reason if it aborts first. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.#enter(signal);
    try {
      return await fn();
    } finally {
      this.#leave();
    }
  }

  #enter(signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    if (this.#busy < this.size && this.#waiting.length === 0) {
      this.#busy++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        admit: (): void => {
          signal?.removeEventListener('abort', onAbort);
          this.#busy++;
          resolve();
        },
      };
      const onAbort = (): void => {
        const i = this.#waiting.indexOf(waiter);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  #leave(): void {
    this.#busy--;
    this.#waiting.shift()?.admit();
  }
}
