import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type Demand, HeadroomLedger, shareHeadroom } from './headroom.ts';

interface Case {
  demands: Demand[];
  headroom: number;
  grants: Record<string, number>;
}

const d = (id: string, wanted: number, priority = 0): Demand => ({ id, wanted, priority });

const cases = {
  'everyone fits': { demands: [d('a', 10), d('b', 20)], headroom: 50, grants: { a: 10, b: 20 } },
  'equal priorities share fairly': {
    demands: [d('a', 30), d('b', 30)],
    headroom: 20,
    grants: { a: 10, b: 10 },
  },
  'a small wish is met in full and the rest goes to the others': {
    demands: [d('a', 3), d('b', 30), d('c', 30)],
    headroom: 23,
    grants: { a: 3, b: 10, c: 10 },
  },
  'higher priority first, lower gets what is left': {
    demands: [d('low', 30, 0), d('high', 15, 10)],
    headroom: 20,
    grants: { high: 15, low: 5 },
  },
  'a short higher priority leaves nothing for the lower': {
    demands: [d('low', 5, 0), d('high1', 30, 5), d('high2', 30, 5)],
    headroom: 21,
    grants: { high1: 11, high2: 10, low: 0 },
  },
  'no headroom, no grants': { demands: [d('a', 5)], headroom: 0, grants: { a: 0 } },
} satisfies Record<string, Case>;

describe('shareHeadroom', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(name, () => {
      assert.deepEqual(Object.fromEntries(shareHeadroom(c.demands, c.headroom)), c.grants);
    });
  }

  it('never grants more than the headroom or than anyone wanted, and wastes nothing', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ wanted: fc.integer({ min: 1, max: 500 }), priority: fc.integer({ min: 0, max: 3 }) }),
          {
            maxLength: 20,
          },
        ),
        fc.integer({ min: 0, max: 2000 }),
        (raw, headroom) => {
          const demands = raw.map((r, i) => ({ ...r, id: `s${String(i).padStart(2, '0')}` }));
          const grants = shareHeadroom(demands, headroom);
          const total = [...grants.values()].reduce((a, b) => a + b, 0);
          const wanted = demands.reduce((a, b) => a + b.wanted, 0);
          assert.ok(total <= headroom);
          for (const x of demands) assert.ok((grants.get(x.id) ?? 0) <= x.wanted);
          assert.equal(
            total,
            Math.min(headroom, wanted),
            'all of the headroom (or all the wishes) is handed out',
          );
        },
      ),
    );
  });
});

describe('HeadroomLedger', () => {
  it('shares between scalers asking at the same time and forgets those that stopped asking', () => {
    const ledger = new HeadroomLedger(60_000);
    assert.deepEqual(ledger.grant('acct', d('a', 30), 20, 0), { granted: 20, sharing: 1 });
    assert.deepEqual(ledger.grant('acct', d('b', 30), 20, 1000), { granted: 10, sharing: 2 });
    assert.deepEqual(ledger.grant('acct', d('a', 30), 20, 2000), { granted: 10, sharing: 2 });
    assert.deepEqual(ledger.grant('acct', d('a', 30), 20, 120_000), { granted: 20, sharing: 1 }, 'b expired');
    assert.deepEqual(
      ledger.grant('other', d('z', 5), 20, 0),
      { granted: 5, sharing: 1 },
      'accounts are apart',
    );
  });

  it('tells a scaler when another of its account was granted less than it wanted, until that expires', () => {
    const ledger = new HeadroomLedger(60_000);
    ledger.grant('acct', d('a', 10), 20, 0);
    assert.equal(ledger.contended('acct', 'b', 1000), false, 'a got all it wanted');
    ledger.grant('acct', d('a', 30), 20, 1000);
    assert.equal(ledger.contended('acct', 'b', 2000), true, 'a is short by 10');
    assert.equal(ledger.contended('acct', 'a', 2000), false, 'its own shortfall is not contention for a');
    assert.equal(ledger.contended('other', 'b', 2000), false, 'accounts are apart');
    assert.equal(ledger.contended('acct', 'b', 62_000), false, 'expired');
    ledger.grant('acct', d('a', 30), 20, 63_000);
    ledger.grant('acct', d('a', 0), 20, 64_000);
    assert.equal(ledger.contended('acct', 'b', 65_000), false, 'withdrawn');
  });

  it('counts the scalers of an account held back now, until each expires or is met', () => {
    const ledger = new HeadroomLedger(60_000);
    assert.equal(ledger.shortCount('acct', 0), 0);
    ledger.grant('acct', d('a', 30), 20, 0);
    ledger.grant('acct', d('b', 30), 20, 1000);
    ledger.grant('acct', d('c', 5), 100, 1000);
    ledger.grant('other', d('z', 30), 0, 1000);
    assert.equal(ledger.shortCount('acct', 2000), 2, 'a and b short, c met');
    assert.equal(ledger.shortCount('other', 2000), 1, 'accounts are apart');
    ledger.grant('acct', d('b', 5), 100, 3000);
    assert.equal(ledger.shortCount('acct', 4000), 1, 'b met now');
    assert.equal(ledger.shortCount('acct', 61_000), 0, "a's shortfall expired");
  });
});
