// The Grafana dashboard (config/grafana/, shipped in the chart): importable JSON whose every query
// parses (Prometheus' grammar and promtool) and uses only series the manager declares. The live
// check against a running manager's /metrics is in test/e2e/chart.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { runTool } from '../../src/envtest/tools.ts';
import { declaredSeries } from './declared.ts';
import { dashboardQueries, metricUses, missing, withGrafanaIntervals } from './promql.ts';

const root = join(import.meta.dirname, '..', '..');
const dashboard = JSON.parse(
  readFileSync(join(root, 'config/grafana/lambda-con-scaler-operator.json'), 'utf8'),
) as { uid: string; panels: { id: number; type: string; gridPos: { x: number; w: number } }[] };
const scratch = mkdtempSync(join(tmpdir(), 'lcs-dashboard-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** promtool check rules on one recording rule per query: the offline way to have promtool parse PromQL. */
async function promtoolParses(queries: string[]): Promise<{ code: number; output: string }> {
  const file = join(scratch, `queries-${queries.length}.rules.yaml`);
  const rules = queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: withGrafanaIntervals(q) }));
  writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
  const r = await runTool('promtool', ['check', 'rules', file]);
  return { code: r.code, output: r.stdout + r.stderr };
}

describe('the dashboard', () => {
  const queries = dashboardQueries(dashboard);

  it('is one Grafana dashboard with unique panel ids laid out on the 24-column grid', () => {
    assert.equal(dashboard.uid, 'lambda-con-scaler-operator');
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const p of dashboard.panels) assert.ok(p.gridPos.x + p.gridPos.w <= 24, `panel ${p.id}`);
    assert.ok(queries.length >= 20, `${queries.length} queries`);
  });

  it('has queries that promtool parses', async () => {
    const r = await promtoolParses(queries);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, new RegExp(`SUCCESS: ${queries.length} rules found`));
  });

  it('would be caught by promtool with a broken query', async () => {
    const r = await promtoolParses([...queries, 'sum by (name (lcs_applied_concurrency)']);
    assert.notEqual(r.code, 0);
  });

  it('uses only metrics and labels the manager declares', () => {
    const uses = queries.flatMap((q) => metricUses(withGrafanaIntervals(q)));
    assert.deepEqual(missing(uses, declaredSeries()), []);
  });
});
