// The chart README's values table comes from values.yaml's "# --" comments (hack/chart.ts): every
// value is documented, nested keys are dotted, and an undocumented value stops the generator.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { valuesTable } from '../../hack/chart.ts';

const root = join(import.meta.dirname, '..', '..');

describe('valuesTable', () => {
  it('lists each documented value with its dotted key, type and default', () => {
    const table = valuesTable(
      [
        'image:',
        '  # -- The repository.',
        '  repository: controller',
        '  # -- A tag | with a pipe.',
        '  tag: ""',
        '# -- Resources, documented as one object.',
        'resources:',
        '  limits: { memory: 1Gi }',
        '# -- Extra args.',
        'extraArgs: []',
      ].join('\n'),
    );
    assert.deepEqual(table.split('\n').slice(2), [
      '| `image.repository` | string | `"controller"` | The repository. |',
      '| `image.tag` | string | `""` | A tag \\| with a pipe. |',
      '| `resources` | object | `{"limits":{"memory":"1Gi"}}` | Resources, documented as one object. |',
      '| `extraArgs` | list | `[]` | Extra args. |',
    ]);
  });

  it('refuses a value without a description', () => {
    assert.throws(() => valuesTable('# -- Documented.\na: 1\nb: 2\n'), /b has no "# --" description/);
  });

  it('is what the chart README shows for the chart values', () => {
    const chart = join(root, 'charts/lambda-con-scaler-operator');
    const table = valuesTable(readFileSync(join(chart, 'values.yaml'), 'utf8'));
    assert.ok(readFileSync(join(chart, 'README.md'), 'utf8').includes(table));
    assert.match(table, /\| `operatorIdentity\.allowedNamespaces` \| list \| `\[\]` \|/);
  });
});
