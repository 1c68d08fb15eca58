import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergePatch, objectPath } from './status.ts';

describe('mergePatch', () => {
  const cases = {
    'equal values need no patch': { from: { a: 1, b: [1, 2] }, to: { a: 1, b: [1, 2] }, patch: undefined },
    'changed scalars are set': { from: { a: 1, b: 'x' }, to: { a: 2, b: 'x' }, patch: { a: 2 } },
    'removed keys become null': { from: { a: 1, b: 2 }, to: { a: 1 }, patch: { b: null } },
    'undefined counts as removed': { from: { a: 1, b: 2 }, to: { a: 1, b: undefined }, patch: { b: null } },
    'nested objects are diffed': {
      from: { backlog: { visible: 1, inFlight: 2 } },
      to: { backlog: { visible: 5, inFlight: 2 } },
      patch: { backlog: { visible: 5 } },
    },
    'arrays are replaced whole': {
      from: { conditions: [{ type: 'Ready', status: 'False' }] },
      to: { conditions: [{ type: 'Ready', status: 'True' }] },
      patch: { conditions: [{ type: 'Ready', status: 'True' }] },
    },
    'added keys are set': { from: {}, to: { state: 'PENDING' }, patch: { state: 'PENDING' } },
  } satisfies Record<string, { from: unknown; to: unknown; patch: unknown }>;
  for (const [name, c] of Object.entries(cases)) {
    it(name, () => assert.deepEqual(mergePatch(c.from, c.to), c.patch));
  }
});

describe('objectPath', () => {
  it('builds paths for namespaced custom and cluster-scoped core resources', () => {
    assert.equal(
      objectPath({ apiVersion: 'g.io/v1', plural: 'things', namespaced: true }, 'ns', 'n'),
      '/apis/g.io/v1/namespaces/ns/things/n',
    );
    assert.equal(
      objectPath({ apiVersion: 'v1', plural: 'nodes', namespaced: false }, undefined, 'n'),
      '/api/v1/nodes/n',
    );
  });
});
