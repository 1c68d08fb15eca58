// The benchmark CLI end to end on one scenario file of the documented format: a real process, one
// seed, every strategy, and a report whose verdicts are computed from the runs; a bad scenario
// file is refused with the field named.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from './cli.ts';

const bench = (args: string[]) => runCli('bench', args);

/** A 20-minute step scenario: 20 messages/s, then 200/s from minute 5 to minute 12. */
const scenario = `title: A short step
description: 20/s, then 200/s from minute 5 to minute 12, then 20/s.
sloSeconds: 60
scaler:
  awsSQSMsgCountThreshold: 1000
  awsLambdaMinConcurrency: 10
  awsLamndaMaxConcurrency: 100
  awsLambdaStepConcurrency: 5
workload:
  durationSeconds: 1200
  queue: { visibilityTimeout: 30, maxReceiveCount: 5 }
  function: { timeout: 5, duration: { kind: lognormal, medianMs: 2000, sigma: 0.3 }, per: batch }
  eventSource: { batchSize: 10 }
  traffic:
    - kind: step
      steps: [{ at: 0, rate: 20 }, { at: 300, rate: 200 }, { at: 720, rate: 20 }]
`;

describe('npm run bench -- --scenario FILE', () => {
  it('runs every strategy on the file and writes a report with computed verdicts and a chart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-'));
    const file = join(dir, 'short-step.yaml');
    writeFileSync(file, scenario);
    const report = join(dir, 'out', 'REPORT.md');

    const r = await bench(['--scenario', file, '--seeds', '1', '--report', report, '--workers', '1']);

    assert.equal(r.code, 0, r.stderr);
    const text = readFileSync(report, 'utf8');
    assert.match(text, /`npm run bench -- --scenario short-step\.yaml`/);
    assert.match(text, /\[SCALE\.md\]\(SCALE\.md\)/, 'the report links the operator-at-scale report');
    for (const strategy of [
      'original',
      'KEDA-like',
      'LatencySLO + ESM cap (ours)',
      'LatencySLO + ESM cap + Duration (ours)',
      'clairvoyant',
      'static max',
    ])
      assert.ok(
        text.includes(`| ${strategy} |`) || text.includes(`| **${strategy}** |`),
        `a row for ${strategy}`,
      );
    // One verdict per goal for the recommended configuration, each PASS or MISS with its numbers
    // (or n/a with a reason): computed, not written in.
    const verdicts = text
      .split('\n')
      .filter((l) => l.startsWith('| A short step |'))
      .map((l) => l.split('|').map((c) => c.trim()));
    assert.ok(verdicts.length >= 3, text);
    for (const [, , goal, verdict, measured] of verdicts.slice(0, 3)) {
      assert.match(verdict ?? '', /^(\*\*PASS\*\*|\*\*MISS\*\*|n\/a)$/, `${goal}: ${verdict}`);
      assert.ok((measured ?? '').length > 20, `${goal} says why: ${measured}`);
    }
    assert.ok(existsSync(join(dir, 'out', 'charts', 'short-step.svg')));
  });

  it('refuses a scenario file with a bad field, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, scenario.replace('sloSeconds: 60', 'sloSeconds: soon'));

    const r = await bench(['--scenario', file, '--seeds', '1', '--report', join(dir, 'REPORT.md')]);

    assert.equal(r.code, 2);
    assert.match(r.stderr, /sloSeconds/);
  });
});
