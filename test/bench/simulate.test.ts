// The what-if CLI end to end: a real process on the example files, a short run, the table and the
// chart; and bad files rejected with the field named.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { parseSpec } from '../../src/api/v1alpha1/index.ts';
import { root, runCli } from './cli.ts';

const scaler = join(root, 'bench/examples/orders-scaler.yaml');
const traffic = join(root, 'bench/examples/orders-traffic.yaml');

const simulate = (args: string[]) => runCli('simulate', args);

describe('npm run simulate', () => {
  it('runs the example scaler on the example traffic and prints the table and writes the chart', async () => {
    // Arrange
    const out = mkdtempSync(join(tmpdir(), 'simulate-'));
    // Act
    const r = await simulate(['--scaler', scaler, '--traffic', traffic, '--duration', '20m', '--out', out]);
    // Assert
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /1200 s simulated, seed 1/);
    assert.match(
      r.stdout,
      /\| scaler \| policy \| messages over SLO \| p50 s \| p99 s \| throttles \| DLQ moves \| capacity-hours \|/,
    );
    const row = r.stdout.split('\n').find((l) => l.startsWith('| orders |'));
    assert.ok(row, r.stdout);
    const cells = row.split('|').map((c) => c.trim());
    assert.equal(cells[2], 'Step');
    assert.match(cells[3] ?? '', /^\d+\.\d\d% \(> 60 s\)$/);
    const svg = readFileSync(join(out, 'orders.svg'), 'utf8');
    assert.match(svg, /^<svg /);
    assert.match(svg, /reserved/);
    assert.match(svg, /needed \(truth\)/);
  });

  it('recommends settings for the traffic: a manifest that parses, beside the scaler as it is and the original', async () => {
    const r = await simulate(['--scaler', scaler, '--traffic', traffic, '--duration', '20m', '--recommend']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /SLO 60 s for every row/);
    assert.match(r.stdout, /searching 36 LatencySLO settings within \[10, 100\]/);
    const rows = r.stdout.split('\n').filter((l) => /^\| (recommended|your scaler|the original)/.test(l));
    assert.equal(rows.length, 3, r.stdout);
    assert.match(r.stdout, /Why: \d+ of 36 settings lost no message to the DLQ/);
    const manifest = parse(r.stdout.slice(r.stdout.indexOf('apiVersion:'))) as { spec: unknown };
    const parsed = parseSpec(manifest.spec);
    assert.equal(parsed.ok, true, JSON.stringify(parsed));
    if (parsed.ok) {
      assert.equal(parsed.spec.policy?.type, 'LatencySLO');
      assert.equal(parsed.spec.awsLambdaMinConcurrency, 10, 'the bounds are kept');
      assert.equal(parsed.spec.awsLamndaMaxConcurrency, 100);
    }
  });

  it('searches only the service time source it is given, and names a wrong one', async () => {
    const r = await simulate([
      '--scaler',
      scaler,
      '--traffic',
      traffic,
      '--duration',
      '10m',
      '--recommend',
      '--service-time',
      'QueueCounts',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /searching 18 LatencySLO settings/);
    assert.doesNotMatch(r.stdout, /serviceTimeSource/);
    const bad = await simulate([
      '--scaler',
      scaler,
      '--traffic',
      traffic,
      '--recommend',
      '--service-time',
      'Counts',
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--service-time: "Counts" is not one of CloudWatch, QueueCounts, both/);
  });

  it('refuses --recommend with several scalers', async () => {
    const r = await simulate(['--traffic', traffic, '--recommend', '--compare', scaler, scaler]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--recommend takes one --scaler/);
  });

  it('compares several scalers side by side in one table', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simulate-'));
    const tt = join(dir, 'tt.yaml');
    writeFileSync(
      tt,
      readFileSync(scaler, 'utf8')
        .replace('name: orders', 'name: orders-tt')
        .concat('  policy: { type: TargetTracking, targetTracking: { targetBacklogPerConcurrency: 20 } }\n'),
    );
    const r = await simulate([
      '--traffic',
      traffic,
      '--duration',
      '15m',
      '--out',
      dir,
      '--compare',
      scaler,
      tt,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\| orders \| Step \|/);
    assert.match(r.stdout, /\| orders-tt \| TargetTracking \|/);
  });

  it('rejects a scaler the API server would reject, naming the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simulate-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      readFileSync(scaler, 'utf8').replace('awsLambdaMinConcurrency: 10', 'awsLambdaMinConcurrency: 500'),
    );
    const r = await simulate(['--scaler', bad, '--traffic', traffic, '--out', dir]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /spec\.awsLambdaMinConcurrency: awsLambdaMinConcurrency must be less than or equal to awsLamndaMaxConcurrency/,
    );
  });

  it('rejects a traffic file with a bad field, naming it as the user wrote it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simulate-'));
    const bad = join(dir, 'traffic.yaml');
    writeFileSync(bad, readFileSync(traffic, 'utf8').replace('kind: lognormal', 'kind: gaussian'));
    const r = await simulate(['--scaler', scaler, '--traffic', bad, '--out', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /function\.duration\.kind/);
  });
});
