// Traffic shapes: the rate each declared shape gives, and arrivals drawn from them.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../engine/rng.ts';
import { arrivalsForSecond, parseCountsCsv, rateAt, type TrafficSpec } from './traffic.ts';

interface Case {
  readonly spec: TrafficSpec;
  readonly t: number;
  readonly rate: number;
}

const cases = {
  'constant inside its window': { spec: { kind: 'constant', rate: 7, start: 10, end: 20 }, t: 15, rate: 7 },
  'constant after its window': { spec: { kind: 'constant', rate: 7, start: 10, end: 20 }, t: 20, rate: 0 },
  'step takes the last step reached': {
    spec: {
      kind: 'step',
      steps: [
        { at: 0, rate: 1 },
        { at: 60, rate: 9 },
      ],
    },
    t: 61,
    rate: 9,
  },
  'ramp halfway': { spec: { kind: 'ramp', from: 0, to: 100, start: 10, duration: 20 }, t: 20, rate: 50 },
  'ramp holds its end rate': {
    spec: { kind: 'ramp', from: 0, to: 100, start: 10, duration: 20 },
    t: 99,
    rate: 100,
  },
  'ramp without hold stops': {
    spec: { kind: 'ramp', from: 0, to: 100, start: 10, duration: 20, hold: false },
    t: 99,
    rate: 0,
  },
  'sine at its peak': { spec: { kind: 'sine', mean: 100, amplitude: 50, period: 40 }, t: 10, rate: 150 },
  'square high then low': { spec: { kind: 'square', low: 1, high: 9, period: 10, duty: 0.3 }, t: 2, rate: 9 },
  'square in its low part': {
    spec: { kind: 'square', low: 1, high: 9, period: 10, duty: 0.3 },
    t: 5,
    rate: 1,
  },
} satisfies Record<string, Case>;

describe('rateAt', () => {
  for (const [name, c] of Object.entries(cases))
    it(`gives the declared rate: ${name}`, () =>
      assert.ok(Math.abs(rateAt(c.spec, c.t) - c.rate) < 1e-9, `${rateAt(c.spec, c.t)}`));
});

describe('arrivalsForSecond', () => {
  it('draws Poisson counts around the mean rate, sorted within the second', () => {
    const rng = new Rng(3);
    let total = 0;
    for (let t = 0; t < 100; t++) {
      const a = arrivalsForSecond([{ kind: 'constant', rate: 200 }], 0, t, rng);
      assert.deepEqual(
        a,
        [...a].sort((x, y) => x - y),
      );
      assert.ok(a.every((x) => x >= t * 1000 && x < (t + 1) * 1000));
      total += a.length;
    }
    assert.ok(total > 19_000 && total < 21_000, `total ${total}`);
  });

  it('puts a dump at its instant, all at once', () => {
    const a = arrivalsForSecond([{ kind: 'dump', at: 5, count: 1000 }], 0, 5, new Rng(1));
    assert.equal(a.length, 1000);
    assert.ok(a.every((x) => x === 5000));
  });

  it('replays per-minute counts exactly', () => {
    const spec: TrafficSpec = { kind: 'replay', interval: 'minute', counts: [125, 0, 61] };
    const rng = new Rng(1);
    const perMinute = new Array<number>(4).fill(0);
    for (let t = 0; t < 240; t++) {
      const m = Math.floor(t / 60);
      perMinute[m] = (perMinute[m] ?? 0) + arrivalsForSecond([spec], 0, t, rng).length;
    }
    assert.deepEqual(perMinute, [125, 0, 61, 0]);
  });
});

describe('parseCountsCsv', () => {
  it('reads a header, time,count rows and comments', () => {
    assert.deepEqual(parseCountsCsv('minute,count\n# quiet\n0,3\n1,4\n\n2,5\n'), [3, 4, 5]);
  });
  it('names the line of a bad count', () => {
    assert.throws(() => parseCountsCsv('1\nx\n'), /line 2/);
  });
});
