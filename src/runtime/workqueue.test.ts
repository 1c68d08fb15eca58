import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { ManualClock } from './clock.ts';
import { RuntimeMetrics } from './metrics.ts';
import { WorkQueue } from './workqueue.ts';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Takes every key that is ready now, marking each done. */
async function takeAll(q: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (q.len > 0) {
    const key = await q.get();
    assert.ok(key !== undefined);
    keys.push(key);
    q.done(key);
  }
  return keys;
}

describe('WorkQueue', () => {
  it('hands keys out in FIFO order and de-duplicates keys that are waiting', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    assert.equal(q.len, 2);
    assert.deepEqual(await takeAll(q), ['a', 'b']);
  });

  it('never hands out a key that is being processed; re-queues it after done', async () => {
    const q = new WorkQueue();
    q.add('a');
    const first = await q.get();
    assert.equal(first, 'a');

    q.add('a');
    q.add('a');

    assert.equal(q.len, 0, 'a is processing, so it must not be handed out again yet');
    q.done('a');
    assert.equal(q.len, 1, 'added while processing → queued once after done');
    assert.equal(await q.get(), 'a');
    q.done('a');
    assert.equal(q.len, 0);
  });

  it('wakes a waiting get when a key is added', async () => {
    const q = new WorkQueue();
    const pending = q.get();
    await tick();
    q.add('x');
    assert.equal(await pending, 'x');
  });

  it('resolves get with undefined when its signal aborts', async () => {
    const q = new WorkQueue();
    const ac = new AbortController();
    const pending = q.get(ac.signal);
    ac.abort();
    assert.equal(await pending, undefined);
    q.add('k');
    assert.equal(q.len, 1, 'the aborted getter must not swallow a later key');
  });

  it('adds keys after their delay, earliest first, keeping the earliest schedule per key', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock });
    q.addAfter('late', 300);
    q.addAfter('early', 100);
    q.addAfter('early', 500);
    q.addAfter('mid', 200);
    q.addAfter('now', 0);
    assert.deepEqual(await takeAll(q), ['now']);
    assert.equal(q.delayed, 3);

    await clock.advance(99);
    assert.equal(q.len, 0);
    await clock.advance(1);
    assert.deepEqual(await takeAll(q), ['early'], 'the later re-schedule must not postpone the key');
    await clock.advance(250);
    assert.deepEqual(await takeAll(q), ['mid', 'late']);
    assert.equal(q.delayed, 0);
    assert.equal(clock.pending, 0, 'no timer left behind');
  });

  it('moves a delayed key earlier when it is re-added with a shorter delay', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock });
    q.addAfter('k', 1000);
    q.addAfter('k', 10);
    await clock.advance(10);
    assert.deepEqual(await takeAll(q), ['k']);
    await clock.advance(1000);
    assert.equal(q.len, 0, 'the superseded schedule must not add it a second time');
  });

  it('under any mix of delayed adds and clock steps, hands out exactly the keys due, earliest first', async () => {
    // The model: each key's earliest pending time; at every step, the keys due by then in
    // (time, first scheduled) order. The queue keeps its schedule in a heap with stale entries.
    const op = fc.oneof(
      fc.record({ add: fc.constantFrom('a', 'b', 'c', 'd', 'e'), delay: fc.integer({ min: 0, max: 50 }) }),
      fc.record({ advance: fc.integer({ min: 0, max: 30 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const clock = new ManualClock();
        const q = new WorkQueue({ clock });
        const pending = new Map<string, { at: number; seq: number }>();
        let seq = 0;
        for (const o of [...ops, { advance: 100 }]) {
          if ('add' in o) {
            if (o.delay === 0) {
              // Now, as add() does; a schedule already pending still fires (client-go's too).
              q.addAfter(o.add, 0);
              assert.deepEqual(await takeAll(q), [o.add]);
              continue;
            }
            const at = clock.now() + o.delay;
            const had = pending.get(o.add);
            if (had === undefined || at < had.at) pending.set(o.add, { at, seq: seq++ });
            q.addAfter(o.add, o.delay);
            continue;
          }
          await clock.advance(o.advance);
          const due = [...pending]
            .filter(([, p]) => p.at <= clock.now())
            .sort((x, y) => x[1].at - y[1].at || x[1].seq - y[1].seq)
            .map(([k]) => k);
          for (const k of due) pending.delete(k);
          assert.deepEqual(await takeAll(q), due);
          assert.equal(q.delayed, pending.size);
        }
        assert.equal(clock.pending, 0, 'no timer left behind');
      }),
    );
  });

  it('backs off exponentially per key, caps the delay and resets on forget', () => {
    const q = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 1000, jitter: 0 });
    const delays = Array.from({ length: 10 }, () => q.nextDelayMs('a'));
    assert.deepEqual(delays, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
    assert.equal(q.nextDelayMs('b'), 5, 'keys back off independently');
    assert.equal(q.numRequeues('a'), 10);
    q.forget('a');
    assert.equal(q.numRequeues('a'), 0);
    assert.equal(q.nextDelayMs('a'), 5);
  });

  it('keeps jittered delays within [(1-jitter)·d, d]', () => {
    const cases = {
      'random 0 gives the full delay': { random: 0, expected: 40 },
      'random near 1 takes off the whole jitter': { random: 0.999999, expected: 40 * (1 - 0.25 * 0.999999) },
      'random 0.5 takes off half of it': { random: 0.5, expected: 35 },
    } satisfies Record<string, { random: number; expected: number }>;
    for (const [name, c] of Object.entries(cases)) {
      const q = new WorkQueue({ baseDelayMs: 10, jitter: 0.25, random: () => c.random });
      q.nextDelayMs('k');
      q.nextDelayMs('k');
      assert.ok(Math.abs(q.nextDelayMs('k') - c.expected) < 1e-9, name);
    }
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 10_000, jitter: 0.25 });
    for (let i = 0; i < 200; i++) {
      const d = q.nextDelayMs('r');
      const nominal = Math.min(10 * 2 ** i, 10_000);
      assert.ok(d <= nominal && d >= 0.75 * nominal, `delay ${d} outside bounds of ${nominal}`);
    }
  });

  it('delivers a rate-limited key only after its backoff delay', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock, baseDelayMs: 100, jitter: 0 });
    q.addRateLimited('k');
    await clock.advance(99);
    assert.equal(q.len, 0);
    await clock.advance(1);
    assert.deepEqual(await takeAll(q), ['k']);
    q.addRateLimited('k');
    await clock.advance(199);
    assert.equal(q.len, 0);
    await clock.advance(1);
    assert.deepEqual(await takeAll(q), ['k']);
  });

  it('on shutdown drops delayed keys, still hands out queued ones, then ends every worker', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock });
    q.add('queued');
    q.addAfter('delayed', 50);
    const inFlight = await q.get();
    assert.equal(inFlight, 'queued');
    q.add('second');

    const drained = q.shutDownWithDrain();
    let isDrained = false;
    void drained.then(() => {
      isDrained = true;
    });
    q.add('after-shutdown');

    assert.equal(await q.get(), 'second');
    q.done('second');
    await tick();
    assert.equal(isDrained, false, 'a key is still being processed');
    q.done('queued');
    await drained;
    assert.equal(await q.get(), undefined);
    await clock.advance(100);
    assert.equal(q.len, 0, 'delayed and late keys are dropped');
    assert.equal(clock.pending, 0);
  });

  it('wakes idle workers on shutdown', async () => {
    const q = new WorkQueue();
    const workers = [q.get(), q.get()];
    await tick();
    q.shutDown();
    assert.deepEqual(await Promise.all(workers), [undefined, undefined]);
  });

  it('reports depth, adds and retries', async () => {
    const registry = new Registry();
    const metrics = new RuntimeMetrics(registry);
    const clock = new ManualClock();
    const q = new WorkQueue({ name: 'scalers', clock, metrics });
    q.add('a');
    q.add('a');
    q.add('b');
    q.addRateLimited('c');
    const text = await registry.metrics();
    assert.match(text, /workqueue_depth\{name="scalers"\} 2/);
    assert.match(text, /workqueue_adds_total\{name="scalers"\} 2/);
    assert.match(text, /workqueue_retries_total\{name="scalers"\} 1/);
    q.shutDown();
  });
  it('under any interleaving of add/get/done, never hands out a key twice at once and never loses one', async () => {
    type Op = { op: 'add'; key: string } | { op: 'get' } | { op: 'done'; index: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant('add' as const), key: fc.constantFrom('a', 'b', 'c') }),
      fc.record({ op: fc.constant('get' as const) }),
      fc.record({ op: fc.constant('done' as const), index: fc.nat(3) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const q = new WorkQueue();
        const processing: string[] = [];
        /** Keys added since they were last handed out: each must be handed out again. */
        const owed = new Set<string>();
        for (const o of ops) {
          if (o.op === 'add') {
            q.add(o.key);
            owed.add(o.key);
          } else if (o.op === 'get') {
            if (q.len === 0) continue;
            const key = await q.get();
            assert.ok(key !== undefined);
            assert.ok(!processing.includes(key), `${key} handed out while being processed`);
            processing.push(key);
            owed.delete(key);
          } else if (processing.length > 0) {
            const [key] = processing.splice(o.index % processing.length, 1);
            if (key !== undefined) q.done(key);
          }
        }
        for (const key of processing.splice(0)) q.done(key);
        const rest = new Set<string>();
        while (q.len > 0) {
          const key = await q.get();
          assert.ok(key !== undefined && !rest.has(key), 'a waiting key is queued once');
          rest.add(key);
          q.done(key);
        }
        for (const key of owed) assert.ok(rest.has(key), `${key} was added but never handed out`);
      }),
      { numRuns: 300 },
    );
  });
});

describe('WorkQueue backoff cap per call', () => {
  it('never waits longer than the cap the failing reconcile gives, whatever the failure count', () => {
    const q = new WorkQueue<string>({ baseDelayMs: 1000, jitter: 0 });
    const delays = Array.from({ length: 12 }, () => q.nextDelayMs('k', 300_000));
    assert.equal(Math.max(...delays), 300_000);
    assert.equal(q.nextDelayMs('other'), 1000, 'another key keeps its own count and the queue cap');
  });
});
