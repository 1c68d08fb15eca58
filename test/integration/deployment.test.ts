// The Deployment's memory request and limit come from a measurement (issue 12, item 6): they must
// be the ones bench/MEMORY.md (written by `npm run bench:memory`) derives, so a new measurement
// that moves them fails here until config/manager/manager.yaml follows.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';

const root = join(import.meta.dirname, '..', '..');

describe('the manager Deployment', () => {
  it('requests and is limited to the memory bench/MEMORY.md derives from its measurement', () => {
    const report = readFileSync(join(root, 'bench/MEMORY.md'), 'utf8');
    const derived = /\*\*requests\.memory (\d+Mi), limits\.memory (\d+Mi)\*\*/.exec(report);
    assert.ok(derived, 'bench/MEMORY.md states the Deployment sizing; run npm run bench:memory');
    const deployment = parseAllDocuments(readFileSync(join(root, 'config/manager/manager.yaml'), 'utf8'))
      .map((d) => d.toJSON() as { kind: string; spec: unknown })
      .find((d) => d.kind === 'Deployment') as {
      spec: { template: { spec: { containers: { resources: Record<string, Record<string, string>> }[] } } };
    };
    const resources = deployment.spec.template.spec.containers[0]?.resources;
    assert.equal(resources?.requests?.memory, derived[1]);
    assert.equal(resources?.limits?.memory, derived[2]);
  });
});
