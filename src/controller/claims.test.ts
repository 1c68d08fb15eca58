import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ClaimCandidate, type ClaimView, FunctionClaims } from './claims.ts';

/** A view over `scalers`, counting how often the whole list is read. */
function view(scalers: ClaimCandidate[] | undefined): ClaimView & { listed: number } {
  const v = {
    listed: 0,
    exists: (id: string) => (scalers === undefined ? undefined : scalers.some((s) => s.id === id)),
    candidates: () => {
      v.listed++;
      return scalers;
    },
  };
  return v;
}

const FN = 'arn:aws:lambda:us-east-1:123456789012:function:f';

describe('FunctionClaims', () => {
  it('a poll of the holder does not list every scaler', () => {
    const claims = new FunctionClaims();
    const v = view([{ id: 'ns/a@1', functionArn: undefined, createdAt: '2026-01-01T00:00:00Z' }]);
    assert.equal(claims.claim(FN, 'ns/a@1', v), 'ns/a@1');
    const listedOnce = v.listed;
    for (let i = 0; i < 100; i++) assert.equal(claims.claim(FN, 'ns/a@1', v), 'ns/a@1');
    assert.equal(v.listed, listedOnce, 'the holder re-claiming must not read the list');
  });

  it('a second scaler does not take a function held by one that exists, nor list to find out', () => {
    const claims = new FunctionClaims();
    const scalers = [
      { id: 'ns/a@1', functionArn: undefined, createdAt: '2026-01-01T00:00:00Z' },
      { id: 'ns/b@2', functionArn: undefined, createdAt: '2026-01-02T00:00:00Z' },
    ];
    const v = view(scalers);
    claims.claim(FN, 'ns/a@1', v);
    const listed = v.listed;
    assert.equal(claims.claim(FN, 'ns/b@2', v), 'ns/a@1');
    assert.equal(v.listed, listed);
  });

  it('takes over once the holder is gone; the oldest recorded holder wins a cold start', () => {
    const claims = new FunctionClaims();
    const scalers = [
      { id: 'ns/new@3', functionArn: FN, createdAt: '2026-01-03T00:00:00Z' },
      { id: 'ns/old@1', functionArn: FN, createdAt: '2026-01-01T00:00:00Z' },
      { id: 'ns/b@2', functionArn: undefined, createdAt: '2026-01-02T00:00:00Z' },
    ];
    assert.equal(claims.claim(FN, 'ns/b@2', view(scalers)), 'ns/old@1', 'cold start: statuses decide');
    scalers.splice(1, 1); // ns/old deleted
    assert.equal(claims.claim(FN, 'ns/b@2', view(scalers)), 'ns/new@3');
  });

  it('a manager that cannot tell keeps the earlier claim', () => {
    const claims = new FunctionClaims();
    claims.claim(FN, 'ns/a@1', view([]));
    assert.equal(claims.claim(FN, 'ns/b@2', view(undefined)), 'ns/a@1');
    claims.release((id) => id === 'ns/a@1');
    assert.equal(claims.claim(FN, 'ns/b@2', view(undefined)), 'ns/b@2');
  });
});
