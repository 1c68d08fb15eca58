import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../runtime/clock.ts';
import { LineFull, Priority, TokenBucket } from './limiter.ts';

describe('TokenBucket', () => {
  it('allows a burst, then paces callers at the configured rate', async () => {
    const clock = new ManualClock(0);
    const bucket = new TokenBucket({ ratePerSecond: 10, clock });
    const served: number[] = [];
    const calls = Array.from({ length: 30 }, () => bucket.take().then(() => served.push(clock.now())));
    await clock.advance(0);
    assert.equal(served.length, 10, 'the burst is served at once');
    await clock.advance(1000);
    assert.equal(served.length, 20);
    await clock.advance(1000);
    await Promise.all(calls);
    assert.equal(served.length, 30);
    // No second holds more than burst + rate.
    for (let s = 0; s < 3; s++)
      assert.ok(served.filter((t) => t >= s * 1000 && t < (s + 1) * 1000).length <= 20);
  });

  it('tells each caller how long it waited itself', async () => {
    const clock = new ManualClock(0);
    const bucket = new TokenBucket({ ratePerSecond: 1, burst: 1, clock });
    const waits = Promise.all([bucket.take(), bucket.take(), bucket.take()]);
    await clock.advance(3000);
    assert.deepEqual(await waits, [0, 1000, 2000]);
    assert.equal(bucket.waitedMs, 3000);
  });

  it('serves scale-ups before scale-downs when tokens are short', async () => {
    const clock = new ManualClock(0);
    const bucket = new TokenBucket({ ratePerSecond: 1, burst: 1, clock });
    await bucket.take();
    const order: string[] = [];
    const down = bucket.take(Priority.ScaleDown).then(() => order.push('down'));
    const read = bucket.take(Priority.Read).then(() => order.push('read'));
    const up = bucket.take(Priority.ScaleUp).then(() => order.push('up'));
    await clock.advance(3000);
    await Promise.all([down, read, up]);
    assert.deepEqual(order, ['up', 'read', 'down']);
  });

  it('keeps arrival order within a priority among many waiters', async () => {
    const clock = new ManualClock(0);
    const bucket = new TokenBucket({ ratePerSecond: 100, burst: 1, clock });
    await bucket.take();
    const order: string[] = [];
    const priorities = [Priority.ScaleDown, Priority.Read, Priority.ScaleUp];
    const calls = Array.from({ length: 300 }, (_, i) => {
      const p = priorities[(i * 7) % 3] ?? Priority.Read;
      return bucket.take(p).then(() => order.push(`${p}:${i}`));
    });
    await clock.advance(4000);
    await Promise.all(calls);
    const key = (s: string) => s.split(':').map(Number) as [number, number];
    const sorted = [...order].sort((a, b) => key(a)[0] - key(b)[0] || key(a)[1] - key(b)[1]);
    assert.deepEqual(order, sorted);
  });

  it('turns a newcomer away when the line is full, unless it outranks the last in line', async () => {
    const clock = new ManualClock(0);
    const bucket = new TokenBucket({ ratePerSecond: 2, burst: 1, maxWaitSeconds: 2, clock });
    await bucket.take();
    assert.equal(bucket.maxWaiting, 4);
    const served: string[] = [];
    const line = ['a', 'b', 'c', 'd'].map((n) => bucket.take(Priority.ScaleDown).then(() => served.push(n)));
    const settled = Promise.allSettled(line);
    const late = bucket.take(Priority.ScaleDown);
    await assert.rejects(late, (e: unknown) => e instanceof LineFull && e.retryAfterMs === 2000);
    const up = bucket.take(Priority.ScaleUp).then(() => served.push('up'));
    await clock.advance(3000);
    const outcome = await settled;
    await up;
    assert.deepEqual(served, ['up', 'a', 'b', 'c']);
    assert.ok(outcome[3]?.status === 'rejected' && outcome[3].reason instanceof LineFull, 'd made room');
    assert.equal(bucket.turnedAway, 2);
  });

  it('lets a waiting caller give up through its signal', async () => {
    const clock = new ManualClock(0);
    const bucket = new TokenBucket({ ratePerSecond: 1, burst: 1, clock });
    await bucket.take();
    const controller = new AbortController();
    const waiting = bucket.take(Priority.Read, controller.signal);
    controller.abort(new Error('shutting down'));
    await assert.rejects(waiting, /shutting down/);
    assert.equal(bucket.waiting, 0);
  });
});
