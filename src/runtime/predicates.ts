// Which updates are worth a reconcile. A controller that writes its own status sees a watch event
// for every write; filtering on what the user can change (spec → generation, annotations, labels,
// finalizers, deletion) stops that echo without hiding real changes (controller-runtime's
// GenerationChangedPredicate and friends).
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from './kube.ts';

/** Decides whether an update from `old` to `obj` should enqueue the object. */
export type UpdatePredicate<T extends KubeObject = KubeObject> = (old: T, obj: T) => boolean;

const meta = (o: KubeObject, field: string): unknown => o.metadata?.[field];

/** The spec changed (metadata.generation moved). */
export const generationChanged: UpdatePredicate = (old, obj) =>
  meta(old, 'generation') !== meta(obj, 'generation');

export const annotationsChanged: UpdatePredicate = (old, obj) =>
  !isDeepStrictEqual(meta(old, 'annotations') ?? {}, meta(obj, 'annotations') ?? {});

export const labelsChanged: UpdatePredicate = (old, obj) =>
  !isDeepStrictEqual(meta(old, 'labels') ?? {}, meta(obj, 'labels') ?? {});

/** Deletion started or finalizers changed. */
export const deletionOrFinalizersChanged: UpdatePredicate = (old, obj) =>
  meta(old, 'deletionTimestamp') !== meta(obj, 'deletionTimestamp') ||
  !isDeepStrictEqual(meta(old, 'finalizers') ?? [], meta(obj, 'finalizers') ?? []);

/** True when any of `predicates` is. */
export function anyOf<T extends KubeObject>(...predicates: UpdatePredicate<T>[]): UpdatePredicate<T> {
  return (old, obj) => predicates.some((p) => p(old, obj));
}

/** Everything a user can change, and nothing the controller's own status writes change. */
export const userChanged: UpdatePredicate = anyOf(
  generationChanged,
  annotationsChanged,
  labelsChanged,
  deletionOrFinalizersChanged,
);
