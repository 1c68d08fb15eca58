// Writing status the way Flux's patch helper does: one JSON merge patch to the /status
// subresource, containing only what changed (removed fields become null), and no request at all
// when the status is already what we want, so a steady state costs no writes and no watch events.
import { isDeepStrictEqual } from 'node:util';
import { apiPath, type KubeClient, type KubeObject } from './kube.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The RFC 7386 merge patch that turns `from` into `to`: changed or added keys with their new
 * values, removed keys as null, arrays and scalars replaced whole. `undefined` when nothing changed.
 */
export function mergePatch(from: unknown, to: unknown): Json | undefined {
  if (isDeepStrictEqual(from, to)) return undefined;
  if (!isObject(from) || !isObject(to)) return (to ?? null) as Json;
  const patch: Record<string, Json> = {};
  for (const key of Object.keys(from)) if (!(key in to) || to[key] === undefined) patch[key] = null;
  for (const [key, value] of Object.entries(to)) {
    if (value === undefined) continue;
    const sub = mergePatch(from[key], value);
    if (sub !== undefined) patch[key] = sub;
  }
  return Object.keys(patch).length === 0 ? undefined : patch;
}

/** Where a resource lives: `/apis/<apiVersion>` (or `/api/v1`) plus its plural. */
export interface ResourceRef {
  /** `group/version`, or `v1` for the core group. */
  apiVersion: string;
  plural: string;
  namespaced: boolean;
}

/** The URL path of one object of `resource`. */
export function objectPath(resource: ResourceRef, namespace: string | undefined, name: string): string {
  const root = resource.apiVersion.includes('/')
    ? `/apis/${resource.apiVersion}`
    : `/api/${resource.apiVersion}`;
  const ns = resource.namespaced ? apiPath`/namespaces/${namespace ?? ''}` : '';
  return `${root}${ns}/${resource.plural}${apiPath`/${name}`}`;
}

/** Writes `status` of objects of one resource through the /status subresource. */
export class StatusPatcher {
  readonly #client: KubeClient;
  readonly #resource: ResourceRef;

  constructor(client: KubeClient, resource: ResourceRef) {
    this.#client = client;
    this.#resource = resource;
  }

  /**
   * Makes `current`'s status equal `status`. Returns the updated object, or `undefined` when the
   * status was already equal and no request was made. Throws KubeApiError (e.g. 404) on failure.
   */
  async patch<T extends KubeObject>(
    current: T,
    status: unknown,
    signal?: AbortSignal,
  ): Promise<T | undefined> {
    const patch = mergePatch(current.status ?? {}, status ?? {});
    if (patch === undefined) return undefined;
    const path = `${objectPath(this.#resource, current.metadata?.namespace, current.metadata?.name ?? '')}/status`;
    return this.#client.request<T>('PATCH', path, {
      body: { status: patch },
      contentType: 'application/merge-patch+json',
      ...(signal === undefined ? {} : { signal }),
    });
  }
}
