// The README's first command, in a short mode: the playground starts everything, shows the live
// view, writes its summary and chart, and leaves no process or temporary directory behind.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = join(import.meta.dirname, '..', '..');

function ourProcesses(marker: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args']).toString();
  return out.split('\n').filter((l) => l.includes(marker) && !l.includes('ps -eo'));
}

describe('the playground', () => {
  it('runs end to end in a short mode, then stops everything it started', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lcs-playground-test-'));
    try {
      const child = spawn(
        process.execPath,
        [join(root, 'src/cmd/playground.ts'), '--duration', '12', '--out', out],
        {
          cwd: root,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      child.stdout.on('data', (d: Buffer) => {
        output += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        output += d.toString();
      });
      const code = await new Promise<number | null>((r) => child.on('close', r));

      assert.equal(code, 0, output);
      assert.match(
        output,
        /time\s+arrivals\/s\s+backlog\s+in flight\s+running\s+reserved\s+p99 wait\s+throttles\s+DLQ/,
      );
      assert.match(
        output,
        /^\s+\d+s\s+\d+\s+\d+\s+\d+\s+\d+\s+\d+\s+[\d.]+s\s+\d+\s+\d+$/m,
        'at least one live row',
      );
      assert.match(output, /playground\s+orders\s+order-processor\s+5\s+60\s/);
      assert.match(output, /Summary\n\s+messages sent \d+, processed \d+/);
      const svg = readFileSync(join(out, 'playground.svg'), 'utf8');
      assert.match(svg, /^<svg /);
      assert.match(svg, /reserved concurrency/);
      assert.match(output, /stopped: control plane, awssim and the operator are down/);
      assert.deepEqual(ourProcesses(out), [], 'no process of the run is left');
      const planeDir = /kubeconfig (\S+)\/kubeconfig/.exec(output)?.[1] ?? '';
      assert.match(planeDir, /lcs-envtest-/);
      assert.equal(existsSync(planeDir), false, 'the control plane temp directory is gone');
      assert.ok(existsSync(join(out, 'timeline.json')));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
