// The Lambda adapter's UpdateEventSourceMapping against awssim's HTTP endpoint: sets and removes a
// mapping's MaximumConcurrency, sets its provisioned pollers, spends the shared control-plane
// bucket, and classifies refusals.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { parseScenario } from '../awssim/scenario.ts';
import { type Harness, startHarness } from '../awssim/testing/harness.ts';
import { ManualClock } from '../runtime/clock.ts';
import { AwsClientFactory } from './clients.ts';
import { AwsError } from './errors.ts';
import { TokenBucket } from './limiter.ts';
import { AwsMetrics } from './metrics.ts';
import { functionKey, LambdaFunctions, spread } from './sdk.ts';

describe('LambdaFunctions.updateEventSourceMaximumConcurrency against awssim', () => {
  let h: Harness;
  let functions: LambdaFunctions;
  before(async () => {
    h = await startHarness({
      scenario: parseScenario({
        name: 'cap',
        queues: [{ name: 'orders' }],
        functions: [{ name: 'worker' }],
        eventSourceMappings: [{ function: 'worker', queue: 'orders', batchSize: 10 }],
      }),
    });
    const clock = new ManualClock(0);
    functions = new LambdaFunctions(
      h.lambda,
      {
        controlPlane: new TokenBucket({ ratePerSecond: 10, clock }),
        getFunction: new TokenBucket({ ratePerSecond: 50, clock }),
      },
      { now: () => 0 },
    );
  });
  after(() => h?.close());

  it('sets the cap, removes it with an empty ScalingConfig, and refuses values AWS refuses', async () => {
    const [mapping] = await functions.eventSources('worker');
    assert.ok(mapping !== undefined);
    assert.equal(mapping.maximumConcurrency, undefined);
    const calls = () => h.sim.report().apiCalls['lambda:UpdateEventSourceMapping']?.ok ?? 0;

    await functions.updateEventSourceMaximumConcurrency(mapping.uuid, 7);
    assert.equal((await functions.eventSources('worker'))[0]?.maximumConcurrency, 7);
    assert.equal(h.sim.world.esm(mapping.uuid).maximumConcurrency, 7);

    await functions.updateEventSourceMaximumConcurrency(mapping.uuid, undefined);
    assert.equal((await functions.eventSources('worker'))[0]?.maximumConcurrency, undefined);
    assert.equal(calls(), 2);

    await assert.rejects(functions.updateEventSourceMaximumConcurrency(mapping.uuid, 1), AwsError);
    await assert.rejects(
      functions.updateEventSourceMaximumConcurrency('00000000-0000-0000-0000-000000000000', 5),
      (e: unknown) => e instanceof AwsError && e.awsName === 'ResourceNotFoundException',
    );
  });
});

describe('LambdaFunctions.updateEventSourceProvisionedPollers against awssim', () => {
  let h: Harness;
  let functions: LambdaFunctions;
  before(async () => {
    h = await startHarness({
      scenario: parseScenario({
        name: 'pollers',
        queues: [{ name: 'orders' }],
        functions: [{ name: 'worker' }],
        eventSourceMappings: [
          {
            function: 'worker',
            queue: 'orders',
            batchSize: 10,
            provisionedPollers: { minimum: 3, maximum: 50 },
          },
        ],
      }),
    });
    const clock = new ManualClock(0);
    functions = new LambdaFunctions(
      h.lambda,
      {
        controlPlane: new TokenBucket({ ratePerSecond: 10, clock }),
        getFunction: new TokenBucket({ ratePerSecond: 50, clock }),
      },
      { now: () => 0 },
    );
  });
  after(() => h?.close());

  it('reads ProvisionedPollerConfig, writes both pollers, and refuses what AWS refuses', async () => {
    const [mapping] = await functions.eventSources('worker');
    assert.ok(mapping !== undefined);
    assert.deepEqual(mapping.provisionedPollers, { minimum: 3, maximum: 50 });

    await functions.updateEventSourceProvisionedPollers(mapping.uuid, { minimum: 2, maximum: 8 });
    assert.deepEqual((await functions.eventSources('worker'))[0]?.provisionedPollers, {
      minimum: 2,
      maximum: 8,
    });
    assert.deepEqual(h.sim.world.esm(mapping.uuid).provisionedPollers, { minimum: 2, maximum: 8 });
    // The shared listing shows our own write even while it is older than it (as for caps).
    assert.deepEqual((await functions.eventSources('worker', { maxAgeMs: 60_000 }))[0]?.provisionedPollers, {
      minimum: 2,
      maximum: 8,
    });

    await assert.rejects(
      functions.updateEventSourceProvisionedPollers(mapping.uuid, { minimum: 1, maximum: 8 }),
      AwsError,
    );
    await assert.rejects(
      functions.updateEventSourceMaximumConcurrency(mapping.uuid, 5),
      AwsError,
      'exclusive',
    );
  });
});

describe('LambdaFunctions: the shared listing, stale-while-revalidate, against awssim', () => {
  let h: Harness;
  let clock: ManualClock;
  let functions: LambdaFunctions;
  const calls = (op: string) => h.sim.report().apiCalls[`lambda:${op}`]?.ok ?? 0;
  before(async () => {
    const names = Array.from({ length: 150 }, (_, i) => `fn-${i}`);
    h = await startHarness({
      scenario: parseScenario({
        name: 'swr',
        queues: names.map((n) => ({ name: `q-${n}` })),
        functions: names.map((name) => ({ name })),
        eventSourceMappings: names.map((n) => ({ function: n, queue: `q-${n}`, batchSize: 10 })),
      }),
    });
    clock = new ManualClock(0);
    functions = new LambdaFunctions(
      h.lambda,
      {
        controlPlane: new TokenBucket({ ratePerSecond: 1000, clock }),
        getFunction: new TokenBucket({ ratePerSecond: 1000, clock }),
      },
      { now: () => clock.now() },
    );
  });
  after(() => h?.close());

  it('serves a stale listing at once while one newer listing is read, within staleMs only', async () => {
    const [m] = await functions.eventSources('fn-11', { maxAgeMs: 60_000 });
    assert.ok(m !== undefined);
    assert.equal(m.maximumConcurrency, undefined);
    h.sim.world.esm(m.uuid).maximumConcurrency = 12; // changed outside the operator
    await clock.advance(61_000);
    const before = calls('ListEventSourceMappings');
    // Three re-checks at once, all past maxAge: the old listing answers each, one new listing starts.
    const stale = await Promise.all(
      [0, 1, 2].map(() => functions.eventSources('fn-11', { maxAgeMs: 60_000, staleMs: 300_000 })),
    );
    assert.deepEqual(
      stale.map((s) => s[0]?.maximumConcurrency),
      [undefined, undefined, undefined],
    );
    // A first read (no staleMs) waits for that same listing rather than starting another.
    const fresh = await functions.eventSources('fn-11', { maxAgeMs: 60_000 });
    assert.equal(fresh[0]?.maximumConcurrency, 12);
    assert.equal(calls('ListEventSourceMappings') - before, 2, 'one listing of 2 pages, not four');
    // Now the newer listing is the one served, stale or not.
    assert.equal(
      (await functions.eventSources('fn-11', { maxAgeMs: 60_000, staleMs: 300_000 }))[0]?.maximumConcurrency,
      12,
    );
    // Older than staleMs: even a re-check waits for a new listing.
    h.sim.world.esm(m.uuid).maximumConcurrency = 13;
    await clock.advance(301_000);
    assert.equal(
      (await functions.eventSources('fn-11', { maxAgeMs: 60_000, staleMs: 300_000 }))[0]?.maximumConcurrency,
      13,
    );
    assert.equal(calls('ListEventSourceMappings') - before, 4);
  });
});

describe('LambdaFunctions reads under a shared budget, against awssim', () => {
  const N = 250;
  let h: Harness;
  let clock: ManualClock;
  let getFunction: TokenBucket;
  let functions: LambdaFunctions;
  const calls = (op: string) => h.sim.report().apiCalls[`lambda:${op}`]?.ok ?? 0;
  before(async () => {
    const names = Array.from({ length: N }, (_, i) => `fn-${i}`);
    h = await startHarness({
      scenario: parseScenario({
        name: 'many',
        queues: names.map((n) => ({ name: `q-${n}` })),
        functions: names.map((name) => ({ name })),
        eventSourceMappings: names.map((n) => ({ function: n, queue: `q-${n}`, batchSize: 10 })),
      }),
    });
    clock = new ManualClock(0);
    getFunction = new TokenBucket({ ratePerSecond: 1, burst: 1, clock });
    functions = new LambdaFunctions(
      h.lambda,
      { controlPlane: new TokenBucket({ ratePerSecond: 1000, clock }), getFunction },
      { now: () => clock.now() },
    );
  });
  after(() => h?.close());

  it('answers every function from one account-wide listing of 100 mappings a page', async () => {
    const before = calls('ListEventSourceMappings');
    const answers = await Promise.all(
      Array.from({ length: N }, (_, i) => functions.eventSources(`fn-${i}`, { maxAgeMs: 60_000 })),
    );
    assert.equal(calls('ListEventSourceMappings') - before, 3, 'ceil(250 / 100) pages, listed once');
    for (const [i, sources] of answers.entries()) {
      assert.equal(sources.length, 1);
      assert.match(sources[0]?.eventSourceArn ?? '', new RegExp(`:q-fn-${i}$`));
      assert.equal(sources[0]?.batchSize, 10);
    }
    // Within maxAge the listing is reused; past it, listed again.
    await functions.eventSources('fn-7', { maxAgeMs: 60_000 });
    assert.equal(calls('ListEventSourceMappings') - before, 3);
    await clock.advance(61_000);
    await functions.eventSources('fn-7', { maxAgeMs: 60_000 });
    assert.equal(calls('ListEventSourceMappings') - before, 6);
    // Without maxAge: one direct call for the function.
    assert.equal((await functions.eventSources('fn-7')).length, 1);
    assert.equal(calls('ListEventSourceMappings') - before, 7);
  });

  it('shows a cap it wrote after the listing, and asks directly about a function the listing lacks', async () => {
    const [m] = await functions.eventSources('fn-3', { maxAgeMs: 600_000 });
    assert.ok(m !== undefined);
    await functions.updateEventSourceMaximumConcurrency(m.uuid, 9);
    assert.equal((await functions.eventSources('fn-3', { maxAgeMs: 600_000 }))[0]?.maximumConcurrency, 9);

    h.sim.world.createFunction({
      FunctionName: 'late',
      Role: 'arn:aws:iam::123456789012:role/late',
      Code: {},
    });
    const queue = h.sim.world.createQueue('q-late');
    h.sim.world.createEsm({ FunctionName: 'late', EventSourceArn: queue.arn, BatchSize: 5 });
    const before = calls('ListEventSourceMappings');
    const late = await functions.eventSources('late', { maxAgeMs: 600_000 });
    assert.equal(late.length, 1);
    assert.equal(late[0]?.batchSize, 5);
    assert.equal(calls('ListEventSourceMappings') - before, 1, 'one direct call, no new listing');
  });

  it('serves a recent GetFunction answer, or its own write, when no token is free', async () => {
    await clock.advance(1_000_000);
    const before = calls('GetFunction');
    assert.equal((await functions.concurrency('fn-1', { maxAgeMs: 300_000 })).reserved, undefined);
    assert.equal(calls('GetFunction') - before, 1, 'nothing cached: read (the burst token)');
    assert.equal(getFunction.tryTake(), false, 'the bucket is empty now');
    await functions.putConcurrency('fn-1', 4);
    assert.equal((await functions.concurrency('fn-1', { maxAgeMs: 300_000 })).reserved, 4);
    assert.equal(calls('GetFunction') - before, 1, 'served from our own write, no call');
    // A token is free again: the read is made even though the cache is fresh.
    await clock.advance(2000);
    h.sim.world.putFunctionConcurrency(h.sim.world.fn('fn-1'), 6);
    assert.equal((await functions.concurrency('fn-1', { maxAgeMs: 300_000 })).reserved, 6);
    assert.equal(calls('GetFunction') - before, 2);
    // Older than maxAge: waits for a token and reads.
    await clock.advance(400_000);
    assert.equal(getFunction.tryTake(), true);
    const read = functions.concurrency('fn-1', { maxAgeMs: 300_000 });
    await clock.advance(1000);
    assert.equal((await read).reserved, 6);
    assert.equal(calls('GetFunction') - before, 3);
  });

  it('re-reads a function only once its reading is older than freshMs, spread by name', async () => {
    await clock.advance(1_000_000);
    const before = calls('GetFunction');
    const read = async (name: string) => (await functions.concurrency(name, { freshMs: 120_000 })).reserved;
    assert.equal(await read('fn-2'), undefined);
    await functions.putConcurrency('fn-2', 3);
    h.sim.world.putFunctionConcurrency(h.sim.world.fn('fn-2'), 8); // changed outside the operator
    await clock.advance(100_000); // a token is free, but the reading is fresh: no call
    assert.equal(await read('fn-2'), 3);
    assert.equal(calls('GetFunction') - before, 1);
    await clock.advance(40_000); // past 120 s × 1.1, the widest spread
    assert.equal(await read('fn-2'), 8);
    assert.equal(calls('GetFunction') - before, 2);
    const factors = Array.from({ length: 200 }, (_, i) => spread(`fn-${i}`));
    assert.ok(factors.every((f) => f >= 0.9 && f < 1.1));
    assert.ok(Math.max(...factors) - Math.min(...factors) > 0.15, 'names are spread over the range');
  });

  it('keeps one reading per function whether it is named by name or by ARN', async () => {
    await clock.advance(1_000_000);
    const arn = h.sim.world.fn('fn-4').arn;
    assert.equal((await functions.concurrency('fn-4', { freshMs: 120_000 })).reserved, undefined);
    await functions.putConcurrency(arn, 7); // a restore names the function by the ARN it recorded
    assert.equal((await functions.concurrency('fn-4', { freshMs: 120_000 })).reserved, 7);
    assert.equal(functionKey('arn:aws:lambda:us-east-1:123456789012:function:fn-4:live'), 'fn-4');
    assert.equal(functionKey('123456789012:function:fn-4'), 'fn-4');
  });
});

describe('paced attempts (sdk.ts CallDeps.attempts) through the client factory, against awssim', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      scenario: parseScenario({ name: 'paced', functions: [{ name: 'worker' }] }),
    });
  });
  after(() => h?.close());

  it('retries a throttled write once, after a token of the same budget: never two requests for one token', async () => {
    // One request a second, a burst of one, on a clock the test moves.
    const clock = new ManualClock(0);
    const previous = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = h.server.url;
    try {
      const binding = new AwsClientFactory({ defaultRegion: 'us-east-1', clock, controlPlaneRps: 1 }).for({
        key: 'paced',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      h.sim.injectFault('lambda:PutFunctionConcurrency', { throttle: true });
      const sent = () =>
        Object.values(h.sim.report().apiCalls['lambda:PutFunctionConcurrency'] ?? {}).reduce(
          (a, b) => a + b,
          0,
        );
      const pending = binding.functions.putConcurrency('worker', 5);
      pending.catch(() => {});
      // Past the standard mode's first backoff after a throttle (at most 500 ms): the retry waits
      // for a token the clock has not brought yet.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(sent(), 1, 'one request for the one token');
      await clock.advance(1000);
      await assert.rejects(pending, (e: unknown) => e instanceof AwsError && e.code === 'Throttled');
      assert.equal(sent(), 2, 'the retry, after the next token');
    } finally {
      h.sim.clearFaults('lambda:PutFunctionConcurrency');
      if (previous === undefined) delete process.env.AWS_ENDPOINT_URL;
      else process.env.AWS_ENDPOINT_URL = previous;
    }
  });

  it('does not retry what AWS refuses, and counts every attempt', async () => {
    const previous = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = h.server.url;
    try {
      const metrics = new AwsMetrics(new Registry());
      const binding = new AwsClientFactory({
        defaultRegion: 'us-east-1',
        clock: new ManualClock(0),
        controlPlaneRps: 5,
        metrics,
      }).for({ key: 'refused', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      const before = h.sim.report().apiCalls['lambda:PutFunctionConcurrency'] ?? {};
      // More than the account can reserve: refused for its unreserved floor, which moves as other
      // functions scale, not within a backoff: the call is not retried (the next poll asks again).
      await assert.rejects(binding.functions.putConcurrency('worker', 100_000), AwsError);
      const after = h.sim.report().apiCalls['lambda:PutFunctionConcurrency'] ?? {};
      const total = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
      assert.equal(total(after) - total(before), 1);
      const counted = (await metrics.calls.get()).values.filter(
        (v) => v.labels.operation === 'PutFunctionConcurrency',
      );
      assert.deepEqual(
        counted.map((v) => [v.labels.outcome, v.value]),
        [['InsufficientHeadroom', 1]],
      );
    } finally {
      if (previous === undefined) delete process.env.AWS_ENDPOINT_URL;
      else process.env.AWS_ENDPOINT_URL = previous;
    }
  });
});
