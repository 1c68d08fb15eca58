// Exactly one scaler writes to a function. Two scalers naming one function would fight (one sets 6,
// the other 9) and each would "restore" what the other had set; so a function is held by one
// scaler, recorded in its status (status.functionArn) so that a restart keeps the same holder.
// The second gets a Stalled condition naming the holder, never writes, and takes over once the
// holder is gone (deleted, or renamed to another function).

/** What the claims need to know of each scaler the manager sees. */
export interface ClaimCandidate {
  /** The scaler's cache key (namespace/name@uid). */
  id: string;
  /** status.functionArn: the function it held when its status was last written. */
  functionArn: string | undefined;
  /** metadata.creationTimestamp; the oldest holder wins a tie (RFC 3339 sorts as text). */
  createdAt: string;
}

/**
 * What the claims may ask of the scalers the manager sees. Both are asked only when the claim in
 * memory is not the caller's: a poll of a scaler that holds its function costs nothing here (with
 * thousands of scalers, listing them all on every poll was half the manager's CPU).
 */
export interface ClaimView {
  /** Whether scaler `id` is still there; undefined when the manager cannot tell. */
  exists(id: string): boolean | undefined;
  /** Every scaler the manager knows (the informer's cache); undefined when it cannot list. */
  candidates(): readonly ClaimCandidate[] | undefined;
}

/** The holder of each function, per manager (a function's account is handled by one manager). */
export class FunctionClaims {
  readonly #holders = new Map<string, string>();

  /**
   * Claims `functionArn` for `id` unless another scaler holds it, and returns the holder. An
   * earlier claim stands while its holder exists (or while the manager cannot tell) and has not
   * released it. On a cold start (no claim in memory) the statuses decide: the oldest scaler
   * recorded as holding the function keeps it; if none is recorded, `id` takes it.
   */
  claim(functionArn: string, id: string, view: ClaimView): string {
    const holder = this.#holders.get(functionArn);
    if (holder === id) return id;
    if (holder !== undefined && view.exists(holder) !== false) return holder;
    const recorded = (view.candidates() ?? [])
      .filter((c) => c.functionArn === functionArn)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    const next = recorded[0]?.id ?? id;
    this.#holders.set(functionArn, next);
    return next;
  }

  /** The holder of `functionArn` in memory, if any. */
  holderOf(functionArn: string): string | undefined {
    return this.#holders.get(functionArn);
  }

  /** Lets go of `functionArn` (or of every function) held by scalers `ids` matches. */
  release(ids: (id: string) => boolean, functionArn?: string): void {
    for (const [arn, holder] of this.#holders)
      if (ids(holder) && (functionArn === undefined || arn === functionArn)) this.#holders.delete(arn);
  }
}
