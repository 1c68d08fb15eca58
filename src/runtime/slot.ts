// A reconcile that is only waiting on a rate limiter should not hold one of the controller's
// worker slots: with thousands of scalers and a 10 requests/s Lambda budget, a few hundred writes
// waiting for tokens would otherwise stop every other scaler's poll. The controller runs each
// reconcile inside a slot; code that is about to wait on a shared budget (the token bucket) calls
// releaseSlot() and the controller starts the next key at once. The key itself stays "processing"
// in the work queue, so it is still never reconciled twice at the same time.
//
// AsyncLocalStorage carries the slot so the limiter, three calls below the reconciler, needs no
// extra parameter on every port method (the same reason Go passes a context.Context).
import { AsyncLocalStorage } from 'node:async_hooks';

interface Slot {
  release(): void;
}

const current = new AsyncLocalStorage<Slot>();

/** Runs `fn` in a worker slot; `release` (idempotent) gives the slot up early. */
export function runInSlot<T>(release: () => void, fn: () => Promise<T>): Promise<T> {
  return current.run({ release }, fn);
}

/** Gives up the calling reconcile's worker slot, if it runs in one (no-op elsewhere). */
export function releaseSlot(): void {
  current.getStore()?.release();
}
