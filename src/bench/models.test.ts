import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dlqClaim, meanCell, renderModelSection } from './models.ts';

const models = ['documented', 'retry-then-release', 'release'];
const cell = (dlqMoves: number) => ({ pctOverSlo: 1, capacityHours: 10, dlqMoves });

describe('dlqClaim', () => {
  const cases = {
    'clean everywhere': { cells: [cell(0), cell(0), cell(0)], says: 'no DLQ moves under every model' },
    'clean under some': {
      cells: [cell(0), cell(0), cell(12)],
      says: 'no DLQ moves only under documented, retry-then-release',
    },
    'moves everywhere': { cells: [cell(3), cell(1), cell(12)], says: 'DLQ moves under every model' },
    'a model not run': { cells: [cell(0), undefined, cell(0)], says: 'no DLQ moves under every model' },
    'nothing run': { cells: [undefined, undefined, undefined], says: 'not measured' },
  } satisfies Record<string, { cells: (ReturnType<typeof cell> | undefined)[]; says: string }>;
  for (const [name, c] of Object.entries(cases))
    it(`says what the cells show: ${name}`, () => assert.equal(dlqClaim(models, c.cells), c.says));
});

describe('renderModelSection', () => {
  it('renders a table per scenario with a cell per model and the claim', () => {
    const lines = renderModelSection([
      {
        title: 'A burst',
        models,
        seeds: [1, 2],
        rows: [{ strategy: 'Static max', cells: [meanCell([cell(0), cell(2)]), cell(0), undefined] }],
      },
    ]);
    assert.ok(lines.includes('### A burst'));
    assert.ok(
      lines.includes(
        '| Static max | 1.00% / 10.0 / 1 | 1.00% / 10.0 / 0 | n/a | no DLQ moves only under retry-then-release |',
      ),
      lines.join('\n'),
    );
  });

  it('renders nothing without comparisons', () => assert.deepEqual(renderModelSection([]), []));
});
