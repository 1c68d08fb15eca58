// The alerts (config/prometheus/*.rules.yaml) checked by the real promtool: they load, their unit
// tests pass on series shaped like the manager's, and those tests catch a broken rule.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { runTool } from '../../src/envtest/tools.ts';
import { declaredSeries } from './declared.ts';
import { metricUses, missing } from './promql.ts';

const root = join(import.meta.dirname, '..', '..');
const ruleFiles = ['config/prometheus/alerts.rules.yaml', 'config/prometheus/alerts-cloudwatch.rules.yaml'];
const unitTests = join(import.meta.dirname, 'alerts.promtool.yaml');

interface RuleFile {
  groups: { name: string; rules: { alert: string; expr: string; for?: string }[] }[];
}
const rules = (file: string) => parse(readFileSync(join(root, file), 'utf8')) as RuleFile;
const scratch = mkdtempSync(join(tmpdir(), 'lcs-alerts-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('the alerts', () => {
  it('load in promtool check rules', async () => {
    const r = await runTool('promtool', ['check', 'rules', ...ruleFiles]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS: 8 rules found/);
    assert.match(r.stdout, /SUCCESS: 2 rules found/);
  });

  it("pass their promtool unit tests on series shaped like the manager's", async () => {
    const r = await runTool('promtool', ['test', 'rules', unitTests]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS/);
  });

  it('have a unit test that fails when a rule is broken', async () => {
    // A Stalled alert that waits 30 minutes instead of 5 must fail its test.
    const broken = rules(ruleFiles[0] ?? '');
    const stalled = broken.groups[0]?.rules.find((r) => r.alert === 'LambdaConcurrencyScalerStalled');
    assert.ok(stalled);
    stalled.for = '30m';
    writeFileSync(join(scratch, 'alerts.rules.yaml'), stringify(broken));
    writeFileSync(
      join(scratch, 'alerts-cloudwatch.rules.yaml'),
      readFileSync(join(root, ruleFiles[1] ?? '')),
    );
    const tests = parse(readFileSync(unitTests, 'utf8')) as { rule_files: string[] };
    tests.rule_files = ['alerts.rules.yaml', 'alerts-cloudwatch.rules.yaml'];
    writeFileSync(join(scratch, 'tests.yaml'), stringify(tests));

    const r = await runTool('promtool', ['test', 'rules', join(scratch, 'tests.yaml')]);

    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /alertname: LambdaConcurrencyScalerStalled, time: 6m/);
  });

  it('use only metrics and labels the manager declares (CloudWatch exporter series aside)', () => {
    const uses = ruleFiles
      .flatMap((f) => rules(f).groups.flatMap((g) => g.rules))
      .flatMap((r) => metricUses(r.expr))
      .filter((u) => !u.metric.startsWith('aws_'));
    assert.ok(uses.length >= 8);
    assert.deepEqual(missing(uses, declaredSeries()), []);
  });

  it('are tested on input series with the names and labels the manager declares', () => {
    const tests = parse(readFileSync(unitTests, 'utf8')) as {
      tests: { input_series: { series: string }[] }[];
    };
    const declared = declaredSeries();
    const problems: string[] = [];
    for (const { series } of tests.tests.flatMap((t) => t.input_series)) {
      const [, metric = '', labels = ''] = /^([a-z_:]+)\{(.*)\}$/.exec(series) ?? [];
      if (metric.startsWith('aws_') || metric === 'up') continue;
      const names = [...labels.matchAll(/([a-z_]+)="/g)].map((m) => m[1] ?? '');
      const own = names.filter((l) => l !== 'job' && l !== 'instance');
      const want = declared.get(metric);
      if (want === undefined) problems.push(`${metric} is not a metric of the manager`);
      else if (own.sort().join(',') !== [...want].sort().join(','))
        problems.push(`${metric} has labels ${own} in the test, ${[...want]} in the manager`);
    }
    assert.deepEqual(problems, []);
  });
});
