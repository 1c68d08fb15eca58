import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from './kube.ts';
import { userChanged } from './predicates.ts';

const base: KubeObject = {
  metadata: {
    name: 'a',
    generation: 1,
    resourceVersion: '1',
    annotations: { x: '1' },
    labels: {},
    finalizers: [],
  },
  spec: { a: 1 },
  status: { state: 'PENDING' },
};
const change = (metadata: Record<string, unknown>, rest: Record<string, unknown> = {}): KubeObject => ({
  ...base,
  ...rest,
  metadata: { ...base.metadata, resourceVersion: '2', ...metadata },
});

describe('userChanged', () => {
  const cases = {
    'our own status write is ignored': { obj: change({}, { status: { state: 'ADJUSTED' } }), enqueue: false },
    'a spec change (generation) enqueues': { obj: change({ generation: 2 }), enqueue: true },
    'a pause annotation enqueues': {
      obj: change({ annotations: { x: '1', paused: 'true' } }),
      enqueue: true,
    },
    'a label change enqueues': { obj: change({ labels: { team: 'a' } }), enqueue: true },
    'deletion enqueues': { obj: change({ deletionTimestamp: '2026-01-01T00:00:00Z' }), enqueue: true },
    'a finalizer change enqueues': { obj: change({ finalizers: ['f'] }), enqueue: true },
  } satisfies Record<string, { obj: KubeObject; enqueue: boolean }>;
  for (const [name, c] of Object.entries(cases)) {
    it(name, () => assert.equal(userChanged(base, c.obj), c.enqueue));
  }
});
