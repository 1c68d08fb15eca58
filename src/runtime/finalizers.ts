// Setting an object's finalizers without clobbering anyone's. A merge patch replaces the whole
// list, so it carries the cached copy's resourceVersion: the API server refuses it (409) when the
// object changed since. The cached copy is often just behind (our own status write moved the
// resourceVersion and the watch has not caught up), so a conflict is not an error worth a
// reconcile's backoff: re-read the object and make the same change — the names this call adds and
// removes — to what the server holds, a few times at most.
import { isConflict, type KubeClient } from './kube.ts';

/** What this needs of an object: its finalizers and its version. */
interface Finalized {
  metadata: { finalizers?: string[]; resourceVersion?: string };
}

const ATTEMPTS = 3;

/**
 * Makes `path`'s finalizers what `finalizers` makes of `cached.metadata.finalizers` (the names it
 * adds and removes), with optimistic concurrency; returns the object as stored.
 */
export async function patchFinalizers<T extends Finalized>(
  kube: KubeClient,
  path: string,
  cached: T,
  finalizers: readonly string[],
  signal?: AbortSignal,
): Promise<T> {
  const before = cached.metadata.finalizers ?? [];
  const added = finalizers.filter((f) => !before.includes(f));
  const removed = before.filter((f) => !finalizers.includes(f));
  let current: Finalized = cached;
  let wanted: readonly string[] = finalizers;
  for (let attempt = 1; ; attempt++) {
    try {
      return await kube.request<T>('PATCH', path, {
        body: { metadata: { finalizers: wanted, resourceVersion: current.metadata.resourceVersion } },
        contentType: 'application/merge-patch+json',
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (error) {
      if (!isConflict(error) || attempt >= ATTEMPTS) throw error;
    }
    current = await kube.request<Finalized>('GET', path, signal === undefined ? {} : { signal });
    const held = current.metadata.finalizers ?? [];
    wanted = [...held.filter((f) => !removed.includes(f)), ...added.filter((f) => !held.includes(f))];
  }
}
