// "What moved": the previous report's headline numbers are read back and compared.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Aggregate } from './claims.ts';
import { headlineNumbers, movedSection } from './moved.ts';

const previous = `# Policy benchmark

## A step

| strategy | over SLO % (min–max) | p50 s | capacity-h |
| --- | --- | --- | --- |
| original | 86.74 (86.58–86.95) | 62.3 | 70.0 |
| **LatencySLO (ours)** | 2.23 (2.04–2.63) | 2.1 | 1,113.6 |
| oracle | 0.00 (0.00–0.01) | 2.5 | 75.8 |

Account totals:

| strategy | over SLO % | capacity-h (bound) |
| --- | --- | --- |
| original | 1.00 | 5.0 (1.0) |
`;

const agg = (strategy: string, pct: number, capacityHours: number) =>
  ({ strategy, mean: { pctOverSlo: pct, capacityHours } }) as unknown as Aggregate;

describe('headlineNumbers', () => {
  it("reads each scenario's strategy rows (over SLO %, capacity-hours), bold names plain", () => {
    const n = headlineNumbers(previous).get('A step');
    assert.deepEqual(n?.get('original'), [86.74, 70]);
    assert.deepEqual(n?.get('LatencySLO (ours)'), [2.23, 1113.6]);
    assert.equal(n?.size, 3, 'the account table is not a strategy table');
  });
});

describe('movedSection', () => {
  it('lists what moved, what is new, and why; leaves out what did not move', () => {
    const lines = movedSection(
      previous,
      [
        {
          title: 'A step',
          aggregates: [
            agg('original', 86.7, 70.5),
            agg('LatencySLO (ours)', 1.5, 1113.6),
            agg('clairvoyant', 0.01, 60),
          ],
        },
        { title: 'Two bursts', aggregates: [agg('original', 90, 10)] },
      ],
      ['a cause'],
    ).join('\n');
    assert.match(lines, /- a cause/);
    assert.match(lines, /\| A step \| LatencySLO \(ours\) \| 2\.23 \| 1\.50 \| 1,113\.6 \| 1,113\.6 \|/);
    assert.match(lines, /\| A step \| clairvoyant \| new \|/);
    assert.doesNotMatch(lines, /\| A step \| original \|/);
    assert.match(lines, /New scenarios: Two bursts\./);
  });

  it('says so when there is no previous report', () => {
    assert.match(movedSection(undefined, []).join('\n'), /No previous report to compare with/);
  });
});
