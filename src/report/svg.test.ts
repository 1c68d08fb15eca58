import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, lineChart } from './svg.ts';

describe('lineChart', () => {
  it('draws one path per series, one marker per action, and scales to the data', () => {
    const svg = lineChart({
      title: 'Backlog & concurrency',
      leftLabel: 'messages',
      rightLabel: 'concurrency',
      series: [
        {
          name: 'backlog',
          axis: 'left',
          color: 'red',
          points: [
            [0, 0],
            [10, 730],
            [20, 0],
          ],
        },
        {
          name: 'reserved',
          axis: 'right',
          color: 'blue',
          step: true,
          points: [
            [0, 5],
            [10, 40],
          ],
        },
      ],
      markers: [{ t: 10, label: 'ScaledUp 5 → 40' }],
    });
    assert.equal(svg.match(/<path /g)?.length, 2);
    assert.match(svg, /<title>ScaledUp 5 → 40<\/title>/);
    assert.match(svg, />1000<\/text>/, 'the left axis tops out at the next nice number above 730');
    assert.match(svg, />50<\/text>/, 'the right axis tops out at 50');
    assert.ok(svg.startsWith('<svg'));
  });

  it('escapes text', () => {
    assert.match(lineChart({ title: 'a<b', leftLabel: '', rightLabel: '', series: [] }), /a&lt;b/);
  });
});

describe('formatDuration', () => {
  it('reads like a person would write it', () => {
    assert.equal(formatDuration(45), '45s');
    assert.equal(formatDuration(90), '1m30s');
    assert.equal(formatDuration(120), '2m');
    assert.equal(formatDuration(3720), '1h2m');
  });
});
