// The queue-attribute lag comparison: a scenario made to report older attributes keeps everything
// else, and the policy reading them sees the backlog that much later.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadBenchScenario, RECOMMENDED, strategiesFor } from './bench.ts';
import { ATTRIBUTE_LAGS, attributeLagOf, renderLagSection, withAttributeLag } from './lag.ts';
import { runOnce } from './run.ts';

const scenario = (name: string) =>
  loadBenchScenario(new URL(`../../bench/scenarios/${name}`, import.meta.url).pathname);

describe('withAttributeLag', () => {
  it('sets the lag and keeps the noise and everything else, in a copy', () => {
    const s = scenario('step-10x.yaml');
    const w = withAttributeLag(s.workload, 60);
    assert.equal(attributeLagOf(w), 60);
    assert.equal(w.scenario.model?.attributes?.wobble, s.workload.scenario.model?.attributes?.wobble);
    assert.deepEqual(w.scenario.functions, s.workload.scenario.functions);
    assert.equal(attributeLagOf(s.workload), 2, 'the scenario itself is unchanged');
  });

  it('makes the recommended configuration see the 10× step later: its first raise comes later', async () => {
    const s = scenario('step-10x.yaml');
    const st = strategiesFor(s).find((x) => x.label === RECOMMENDED);
    assert.ok(st !== undefined);
    const firstRaise = async (lag: number) => {
      const r = await runOnce({
        workload: withAttributeLag(s.workload, lag),
        targets: s.targets,
        strategy: st,
        seed: 1,
        durationSeconds: 1500,
      });
      return r.actions.find((a) => a.t > 600 && a.to !== null && a.from !== null && a.to > a.from)?.t;
    };
    const early = await firstRaise(2);
    const late = await firstRaise(60);
    assert.ok(early !== undefined && late !== undefined, `${early} ${late}`);
    assert.ok(late >= early + 30, `a raise at ${early} s with 2 s old attributes, at ${late} s with 60 s`);
  });
});

describe('renderLagSection', () => {
  it('has a column per lag and says whether each cell meets the goal', () => {
    const cell = (pct: number, cap: number) => ({
      pctOverSlo: pct,
      capacityHours: cap,
      referencePctOverSlo: 0,
      referenceCapacityHours: 10,
    });
    const lines = renderLagSection([
      {
        title: 'Step',
        own: 2,
        seeds: [1, 2],
        rows: [{ strategy: RECOMMENDED, cells: [cell(0, 11), cell(0, 13), undefined] }],
      },
    ]);
    assert.equal(ATTRIBUTE_LAGS.length, 2);
    assert.ok(lines.includes('| scenario | strategy | as above | 30 s | 60 s |'), lines.join('\n'));
    assert.ok(
      lines.includes(
        `| Step | ${RECOMMENDED} | 0.00% / 11.0 (1.10×, met) | 0.00% / 13.0 (1.30×, missed) | n/a |`,
      ),
      lines.join('\n'),
    );
    assert.match(lines.join('\n'), /2 s in the scenarios above/);
    assert.deepEqual(renderLagSection([]), []);
  });
});
