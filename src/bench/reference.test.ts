// The capacity lower bound on traces whose answer is known by hand, and the clairvoyant's sizing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accountUnavoidable, capacityLowerBound, clairvoyantCapacity } from './reference.ts';

const trace = (seconds: number, at: (t: number) => number) =>
  Float64Array.from({ length: seconds }, (_, t) => at(t));

describe('capacityLowerBound', () => {
  it('is the load itself for a steady load: rate / throughput units for the whole run', () => {
    // 50 messages/s at 5 per unit: 10 units for an hour, except the last SLO's arrivals (not due yet).
    const b = capacityLowerBound({
      arrivals: trace(3600, () => 50),
      throughput: () => 5,
      sloSeconds: 60,
      min: 0,
      max: 100,
    });
    assert.ok(b.capacityHours > 9.8 && b.capacityHours <= 10, `${b.capacityHours}`);
    assert.equal(b.unavoidableOverSlo, 0);
  });

  it('never goes below min × duration', () => {
    const b = capacityLowerBound({
      arrivals: trace(3600, () => 0),
      throughput: () => 5,
      sloSeconds: 60,
      min: 4,
      max: 100,
    });
    assert.equal(b.capacityHours, 4);
  });

  it('counts a dump as work to finish within the SLO, and what the maximum cannot finish as unavoidable', () => {
    // 1,000 messages at second 100, 1 message per unit-second, SLO 50 s: 1,000 unit-seconds by t=150.
    const dump = trace(600, (t) => (t === 100 ? 1000 : 0));
    const roomy = capacityLowerBound({
      arrivals: dump,
      throughput: () => 1,
      sloSeconds: 50,
      min: 0,
      max: 1000,
      gridSeconds: 1,
    });
    assert.equal(roomy.capacityHours, 1000 / 3600);
    assert.equal(roomy.unavoidableOverSlo, 0);
    // With at most 10 units only ~510 can be done by the deadline: the rest is late whatever anyone does.
    const tight = capacityLowerBound({
      arrivals: dump,
      throughput: () => 1,
      sloSeconds: 50,
      min: 0,
      max: 10,
      gridSeconds: 1,
    });
    assert.ok(
      tight.unavoidableOverSlo >= 480 && tight.unavoidableOverSlo <= 500,
      `${tight.unavoidableOverSlo}`,
    );
    // A coarser grid gives a weaker bound, never a stronger one.
    const coarse = capacityLowerBound({
      arrivals: dump,
      throughput: () => 1,
      sloSeconds: 50,
      min: 0,
      max: 10,
    });
    assert.ok(coarse.unavoidableOverSlo <= tight.unavoidableOverSlo);
  });

  it('uses the best throughput of an interval, so a slowdown only raises it where it happens', () => {
    const arrivals = trace(1200, () => 20);
    const fast = capacityLowerBound({ arrivals, throughput: () => 10, sloSeconds: 60, min: 0, max: 100 });
    const slower = capacityLowerBound({
      arrivals,
      throughput: (t) => (t < 600 ? 10 : 5),
      sloSeconds: 60,
      min: 0,
      max: 100,
    });
    assert.ok(
      slower.capacityHours > fast.capacityHours * 1.3,
      `${slower.capacityHours} vs ${fast.capacityHours}`,
    );
  });
});

describe('clairvoyantCapacity', () => {
  const base = { backlog: 0, throughput: 5, sloSeconds: 60, min: 2, max: 100 };

  it('sizes for the highest minute of the next two minutes, before it comes', () => {
    const arrivals = trace(600, (t) => (t >= 100 ? 90 : 9));
    // At t=0 the surge is 100 s away: inside the look-ahead, so it holds ⌈90 / (5 × 0.9)⌉ = 20.
    assert.equal(clairvoyantCapacity({ ...base, t: 0, arrivals }), 20);
    // At t=300 nothing changes ahead.
    assert.equal(clairvoyantCapacity({ ...base, t: 300, arrivals }), 20);
    const calm = trace(600, () => 9);
    assert.equal(clairvoyantCapacity({ ...base, t: 0, arrivals: calm }), 2);
  });

  it('adds draining the true backlog within half the SLO, within the bounds', () => {
    const calm = trace(600, () => 9);
    // 9/s + 3,000 waiting / 30 s = 109/s → ⌈109 / 4.5⌉ = 25.
    assert.equal(clairvoyantCapacity({ ...base, t: 0, arrivals: calm, backlog: 3000 }), 25);
    assert.equal(clairvoyantCapacity({ ...base, t: 0, arrivals: calm, backlog: 1e6 }), 100);
  });

  it('with `present`, sizes from the last minute only: blind to a surge until it arrives', () => {
    const arrivals = trace(600, (t) => (t >= 100 ? 90 : 9));
    // At t=60 the surge is 40 s away: the last minute's 9/s → ⌈9 / 4.5⌉ = 2, the minimum.
    assert.equal(clairvoyantCapacity({ ...base, t: 60, arrivals, present: true }), 2);
    // 30 s into it: (30 × 9 + 30 × 90) / 60 = 49.5/s → ⌈49.5 / 4.5⌉ = 11; a minute in, 20.
    assert.equal(clairvoyantCapacity({ ...base, t: 130, arrivals, present: true }), 11);
    assert.equal(clairvoyantCapacity({ ...base, t: 160, arrivals, present: true }), 20);
    // It drains the true backlog as the clairvoyant does, and knows nothing at t = 0.
    assert.equal(clairvoyantCapacity({ ...base, t: 60, arrivals, backlog: 3000, present: true }), 25);
    assert.equal(clairvoyantCapacity({ ...base, t: 0, arrivals, present: true }), 2);
  });
});

describe('accountUnavoidable', () => {
  it('finds the messages two scalers cannot both get done when together they need more than the account', () => {
    // Each needs 60 units for 600 s (60 msg/s at 1 per unit); the account can reserve 100 in all.
    // Everything that arrived by 540 s is due by 600 s: 2 × 60 × 540 = 64,800 unit-seconds of work
    // against 100 × 600 = 60,000 held at most, so at least 4,800 messages are late.
    const busy = { arrivals: trace(600, () => 60), throughput: () => 1, sloSeconds: 60 };
    assert.equal(accountUnavoidable([busy, busy], 100), 4800);
    // Alone, each fits: nothing is unavoidable.
    assert.equal(accountUnavoidable([busy], 100), 0);
  });
});
