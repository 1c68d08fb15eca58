// patchFinalizers against a real kube-apiserver: a cached copy that is behind the server (the
// usual case right after our own status write) still gets its finalizer added or removed, and
// what another writer put in the list meanwhile is kept.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { patchFinalizers } from '../../src/runtime/finalizers.ts';
import { isNotFound, type KubeObject } from '../../src/runtime/kube.ts';
import { createScaler, type Env, newNamespace, scalersPath, startEnv } from './helpers.ts';

type Obj = KubeObject & { metadata: { name: string; finalizers?: string[]; resourceVersion?: string } };
const OURS = 'aws.operators.jittakal.io/finalizer';
const THEIRS = 'example.com/keep-me';

describe('patchFinalizers', () => {
  let env: Env;
  let ns: string;
  before(async () => {
    env = await startEnv();
    ns = await newNamespace(env, 'fin');
  });
  after(async () => {
    await env.cp.stop();
  });
  const path = (name: string) => `${scalersPath(ns)}/${name}`;
  const get = (name: string) => env.client.request<Obj>('GET', path(name));
  /** Someone else adds their finalizer (and so moves the resourceVersion). */
  const theyAdd = (name: string) =>
    env.client.request('PATCH', path(name), {
      body: [{ op: 'add', path: '/metadata/finalizers', value: [THEIRS] }],
      contentType: 'application/json-patch+json',
    });

  it('adds to a stale copy without dropping what another writer added', async () => {
    const stale = (await createScaler(env, ns, 'add')) as Obj;
    await theyAdd('add');
    const stored = await patchFinalizers(env.client, path('add'), stale, [OURS]);
    assert.deepEqual(stored.metadata.finalizers, [THEIRS, OURS]);
    assert.deepEqual((await get('add')).metadata.finalizers, [THEIRS, OURS]);
  });

  it('removes from a stale copy, keeping the others', async () => {
    await createScaler(env, ns, 'remove');
    const withOurs = await patchFinalizers(env.client, path('remove'), await get('remove'), [OURS]);
    assert.deepEqual(withOurs.metadata.finalizers, [OURS]);
    await env.client.request('PATCH', path('remove'), {
      body: [{ op: 'add', path: '/metadata/finalizers/-', value: THEIRS }],
      contentType: 'application/json-patch+json',
    });
    const stored = await patchFinalizers(env.client, path('remove'), withOurs, []);
    assert.deepEqual(stored.metadata.finalizers, [THEIRS]);
  });

  it('an up-to-date copy is patched as it is, in one request', async () => {
    await createScaler(env, ns, 'fresh');
    const fresh = await get('fresh');
    const stored = await patchFinalizers(env.client, path('fresh'), fresh, [OURS]);
    assert.deepEqual(stored.metadata.finalizers, [OURS]);
    assert.notEqual(stored.metadata.resourceVersion, fresh.metadata.resourceVersion);
  });

  it('an object gone meanwhile is NotFound, not retried forever', async () => {
    const stale = (await createScaler(env, ns, 'gone')) as Obj;
    await env.client.request('DELETE', path('gone'));
    await assert.rejects(patchFinalizers(env.client, path('gone'), stale, [OURS]), isNotFound);
  });
});
