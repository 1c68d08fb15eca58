// The two generated benchmark reports stay in step: bench/REPORT.md carries a copy of
// bench/SCALE.md (issue 8 wants the operator-at-scale figures "in the same report"), written by
// whichever of `npm run bench` and `npm run bench:scale` ran last.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { PROVISIONED_MODE, REFERENCE } from '../../src/bench/bench.ts';
import { headlineNumbers } from '../../src/bench/moved.ts';
import { embeddedRecommendedNumbers, recommendedNumbers } from '../../src/bench/readme.ts';
import { embeddedScale, embedScale, scaleSection } from '../../src/report/scale-section.ts';

const root = resolve(import.meta.dirname, '../..');

describe('the operator-at-scale section of the policy report', () => {
  const scale = '# The operator at scale\n\nGenerated on day 1.\n\n| scalers |\n| --- |\n| 100 |\n';

  it('copies SCALE.md without its title between markers, and replaces only that on update', () => {
    const report = ['# Policy benchmark', '', ...scaleSection(scale), '', '## After'].join('\n');
    assert.ok(report.includes('| 100 |'));
    assert.ok(!report.includes('# The operator at scale'));
    const updated = embedScale(report, scale.replace('| 100 |', '| 5000 |').replace('day 1', 'day 2'));
    assert.ok(updated.includes('| 5000 |') && updated.includes('day 2'));
    assert.ok(!updated.includes('| 100 |') && !updated.includes('day 1'));
    assert.ok(updated.startsWith('# Policy benchmark\n') && updated.endsWith('\n## After'));
    assert.equal(embedScale(updated, scale), report, 'updating back gives the original');
  });

  it('says how to measure when there is no SCALE.md yet, and refuses a report without the section', () => {
    assert.match(scaleSection(undefined).join('\n'), /npm run bench:scale/);
    assert.throws(() => embedScale('# Policy benchmark\n', scale), /no operator-at-scale section/);
  });

  it('is, in the committed bench/REPORT.md, exactly the committed bench/SCALE.md', () => {
    const report = readFileSync(join(root, 'bench/REPORT.md'), 'utf8');
    const committed = readFileSync(join(root, 'bench/SCALE.md'), 'utf8');
    assert.equal(
      embeddedScale(report),
      scaleSection(committed).join('\n'),
      'regenerate: npm run bench (or npm run bench:scale) after the other',
    );
  });
});

describe('the committed policy report', () => {
  const report = readFileSync(join(root, 'bench/REPORT.md'), 'utf8');

  it('was written by a bench run whose reference held over every scenario and seed', () => {
    assert.match(report, /- The reference held: in no scenario and seed did any strategy/);
    assert.doesNotMatch(report, /THE REFERENCE DID NOT HOLD/);
  });

  it('shows no strategy with both fewer violations and fewer capacity-hours than the reference, in any scenario', () => {
    const scenarios = [...headlineNumbers(report)].filter(([, rows]) => rows.has(REFERENCE));
    assert.ok(scenarios.length >= 10, `${scenarios.length} scenarios with a reference row`);
    for (const [title, rows] of scenarios) {
      const [refPct, refCap] = rows.get(REFERENCE) ?? [0, 0];
      // Provisioned mode is another mapping than the reference's (claims.ts referenceBreaches).
      for (const [strategy, [pct, cap]] of rows)
        if (!PROVISIONED_MODE.has(strategy))
          assert.ok(
            !(pct < refPct && cap < refCap),
            `${title}: ${strategy} ${pct}% / ${cap} beats the reference ${refPct}% / ${refCap}`,
          );
    }
  });
});

describe('the numbers the README and the policy guide quote', () => {
  const report = readFileSync(join(root, 'bench/REPORT.md'), 'utf8');
  for (const doc of ['README.md', 'docs/policies.md'])
    it(`are, in ${doc}, the committed report's`, () => {
      const text = readFileSync(join(root, doc), 'utf8');
      assert.equal(
        embeddedRecommendedNumbers(text),
        recommendedNumbers(report).join('\n'),
        'regenerate: npm run bench copies them from bench/REPORT.md',
      );
    });
});
