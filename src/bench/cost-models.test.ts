// The function cost model comparison: a scenario made to cost per message keeps its full batch's
// duration (so the reference's need is unchanged), and each cell says whether the goal is met.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadBenchScenario, strategiesFor } from './bench.ts';
import { costCell, perMessageWorkload, renderCostModelSection } from './cost-models.ts';
import { throughputOf } from './run.ts';

const scenario = (name: string) =>
  loadBenchScenario(new URL(`../../bench/scenarios/${name}`, import.meta.url).pathname);

describe('perMessageWorkload', () => {
  it('makes every function cost per message, a full batch taking as long as before, changes included', () => {
    const s = scenario('slowdown.yaml');
    const w = perMessageWorkload(s.workload);
    const f = w.scenario.functions.find((x) => x.name === s.workload.fn);
    assert.equal(f?.per, 'message');
    assert.deepEqual(f?.duration, { kind: 'lognormal', medianMs: 200, sigma: 0.3 });
    assert.deepEqual(w.changes[0]?.behaviour, {
      per: 'message',
      duration: { kind: 'lognormal', medianMs: 400, sigma: 0.3 },
    });
    const target = s.targets[0];
    assert.ok(target !== undefined);
    for (const t of [0, 1799, 1800, 3599])
      assert.ok(
        Math.abs(throughputOf(w, target)(t) - throughputOf(s.workload, target)(t)) < 1e-9,
        `full-batch throughput at ${t} s`,
      );
    assert.equal(s.workload.scenario.functions.find((x) => x.name === s.workload.fn)?.per, 'batch', 'a copy');
  });

  it('does the same for every function of an account', () => {
    const s = scenario('two-bursts-one-account.yaml');
    const w = perMessageWorkload(s.workload);
    const costed = w.scenario.functions.filter((f) => f.duration !== undefined);
    assert.equal(costed.length, 2);
    for (const f of costed)
      assert.deepEqual([f.per, f.duration], ['message', { kind: 'lognormal', medianMs: 1000, sigma: 0.3 }]);
  });
});

describe('the cost model section', () => {
  const cell = (pct: number, cap: number) => ({
    pctOverSlo: pct,
    capacityHours: cap,
    referencePctOverSlo: 0,
    referenceCapacityHours: 20,
  });

  it("says whether each cell meets 1.25× the reference's capacity at ≤ +1 pp", () => {
    assert.equal(costCell(cell(0, 25)), '0.00% / 25.0 (1.25×, met)');
    assert.equal(costCell(cell(0, 25.2)), '0.00% / 25.2 (1.26×, missed)');
    assert.equal(costCell(cell(1.5, 20)), '1.50% / 20.0 (1.00×, missed)');
    assert.equal(costCell(undefined), 'n/a');
  });

  it('renders a row per scenario and strategy, nothing without runs', () => {
    assert.deepEqual(renderCostModelSection([]), []);
    const lines = renderCostModelSection([
      { title: 'A step', seeds: [1, 2], rows: [{ strategy: 'ours', cells: [cell(0, 22), cell(0, 30)] }] },
    ]);
    assert.ok(lines.includes('| A step | ours | 0.00% / 22.0 (1.10×, met) | 0.00% / 30.0 (1.50×, missed) |'));
    assert.match(lines.join('\n'), /seeds 1, 2/);
  });

  it('runs the recommended configuration and the one without the Duration, which the bench costs', () => {
    const labels = strategiesFor(scenario('step-10x.yaml')).map((st) => st.label);
    for (const l of ['LatencySLO + ESM cap (ours)', 'LatencySLO + ESM cap + Duration (ours)', 'clairvoyant'])
      assert.ok(labels.includes(l), l);
  });
});
