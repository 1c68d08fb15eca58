// The modelled dynamics of AWS-FACTS.md in virtual time: ESM ramp, MaximumConcurrency, the mapping
// models (what a throttled batch does), overpull, quotas, provisioned concurrency, determinism.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsApiError } from '../index.ts';
import { parseScenario, type ScenarioInput } from '../scenario.ts';
import { createSimulation, type Simulation } from '../simulation.ts';
import type { TimelinePoint } from './metrics.ts';
import type { EsmModel } from './params.ts';

/** One queue + DLQ + function + ESM, everything else from `over`; the mapping model from `esmModel`. */
function sim(
  over: Partial<ScenarioInput> & {
    fn?: Record<string, unknown>;
    esm?: Record<string, unknown>;
    esmModel?: EsmModel;
  } = {},
  seed = 1,
): Simulation {
  const { fn, esm, esmModel, ...rest } = over;
  const scenario = parseScenario({
    name: 'test',
    queues: [
      { name: 'dlq' },
      { name: 'q', visibilityTimeout: 30, deadLetter: { queue: 'dlq', maxReceiveCount: 3 } },
    ],
    functions: [
      {
        name: 'f',
        timeout: 60,
        duration: { kind: 'constant', ms: 1000 },
        coldStart: { kind: 'constant', ms: 0 },
        ...fn,
      },
    ],
    eventSourceMappings: [{ function: 'f', queue: 'q', batchSize: 10, ...esm }],
    ...rest,
  });
  return createSimulation({ scenario, seed, ...(esmModel ? { esmModel } : {}) });
}

const maxOf = (tl: readonly TimelinePoint[], k: keyof TimelinePoint): number =>
  Math.max(...tl.map((p) => p[k]));

describe('event source mapping scaling', () => {
  it('starts at 5 concurrent batches and adds up to 300 per minute while messages remain', async () => {
    const s = sim({ traffic: { q: [{ kind: 'dump', at: 0, count: 2_000_000 }] } });
    await s.runUntil(2_000);
    assert.ok(s.esmConcurrency('f') <= 15, `early concurrency ${s.esmConcurrency('f')}`);
    await s.runUntil(60_000);
    const oneMinute = s.esmConcurrency('f');
    assert.ok(oneMinute >= 290 && oneMinute <= 310, `after 60 s: ${oneMinute}`);
    await s.runUntil(120_000);
    const twoMinutes = s.esmConcurrency('f');
    assert.ok(twoMinutes >= 590 && twoMinutes <= 610, `after 120 s: ${twoMinutes}`);
    await s.runUntil(280_000);
    const atLimit = s.esmConcurrency('f');
    assert.ok(atLimit >= 990 && atLimit <= 1010, `documented: settles at the account limit, got ${atLimit}`);
    assert.ok(maxOf(s.timeline(), 'concurrency') <= 1000, 'the account limit still holds');
  });

  it('keeps growing past the account limit under release, where throttled pollers count as busy', async () => {
    const s = sim({ esmModel: 'release', traffic: { q: [{ kind: 'dump', at: 0, count: 2_000_000 }] } });
    await s.runUntil(360_000);
    assert.ok(
      s.esmConcurrency('f') > 1000 && s.esmConcurrency('f') <= 1250,
      `after 360 s: ${s.esmConcurrency('f')}`,
    );
    assert.ok(maxOf(s.timeline(), 'concurrency') <= 1000, 'the account limit still holds');
  });

  it('never goes above 1,250 pollers per mapping', async () => {
    const s = sim({
      account: { concurrency: 5000 },
      traffic: { q: [{ kind: 'dump', at: 0, count: 3_000_000 }] },
    });
    await s.runUntil(330_000);
    assert.equal(s.esmConcurrency('f'), 1250);
    assert.ok(maxOf(s.timeline(), 'concurrency') <= 1250);
  });

  it('never runs more than MaximumConcurrency and pulls nothing it would have to throttle', async () => {
    const s = sim({
      esm: { maximumConcurrency: 20 },
      fn: { reservedConcurrency: 20 },
      traffic: { q: [{ kind: 'constant', rate: 500 }] },
    });
    await s.runUntil(300_000);
    const tl = s.timeline();
    assert.equal(maxOf(tl, 'concurrency'), 20);
    assert.equal(maxOf(tl, 'pollers'), 20);
    assert.equal(s.report().throttles, 0);
    assert.equal(s.report().messages.dlqMoves, 0);
  });

  it('shrinks when the queue goes idle', async () => {
    const s = sim({ traffic: { q: [{ kind: 'constant', rate: 2000, end: 60 }] } });
    await s.runUntil(60_000);
    const busy = s.esmConcurrency('f');
    await s.runUntil(180_000);
    assert.ok(busy > 100, `busy ${busy}`);
    assert.equal(s.esmConcurrency('f'), 2);
  });
});

describe('provisioned mode', () => {
  it('keeps MinimumPollers × 10 concurrent invokes ready while idle', async () => {
    const s = sim({ esm: { provisionedPollers: { minimum: 3, maximum: 100 } } });
    await s.runUntil(120_000);
    assert.equal(s.esmConcurrency('f'), 30);
  });

  it('adds up to 1,000 concurrent invokes a minute, up to MaximumPollers × 10', async () => {
    const s = sim({
      account: { concurrency: 5000 },
      esm: { provisionedPollers: { minimum: 2, maximum: 200 } },
      traffic: { q: [{ kind: 'dump', at: 0, count: 3_000_000 }] },
    });
    await s.runUntil(60_000);
    const oneMinute = s.esmConcurrency('f');
    assert.ok(oneMinute >= 990 && oneMinute <= 1030, `after 60 s: ${oneMinute} (standard mode: about 305)`);
    await s.runUntil(150_000);
    assert.equal(s.esmConcurrency('f'), 2000);
    assert.ok(maxOf(s.timeline(), 'pollers') <= 2000);
  });

  it('changes through the library, exclusive with MaximumConcurrency', async () => {
    const s = sim({ esm: { maximumConcurrency: 10 } });
    const uuid = s.eventSourceMappings('f')[0]?.uuid as string;
    assert.throws(
      () => s.updateEventSourceProvisionedPollers(uuid, { minimum: 2 }),
      (e: unknown) => e instanceof AwsApiError && e.code === 'InvalidParameterValueException',
    );
    s.updateEventSourceMaximumConcurrency(uuid, undefined);
    s.updateEventSourceProvisionedPollers(uuid, { minimum: 4, maximum: 8 });
    assert.deepEqual(s.eventSourceMappings('f')[0]?.provisionedPollers, { minimum: 4, maximum: 8 });
    await s.runFor(5_000);
    assert.equal(s.esmConcurrency('f'), 40);
    s.updateEventSourceProvisionedPollers(uuid, undefined);
    assert.equal(s.eventSourceMappings('f')[0]?.provisionedPollers, undefined);
  });
});

describe('throttling and overpull', () => {
  it('release: sends messages to the DLQ when reserved concurrency is far below the pollers', async () => {
    const s = sim({
      esmModel: 'release',
      fn: { reservedConcurrency: 5 },
      traffic: { q: [{ kind: 'constant', rate: 200, end: 120 }] },
    });
    await s.runUntil(600_000);
    const r = s.report();
    assert.ok(r.throttles > 100, `throttles ${r.throttles}`);
    assert.ok(r.messages.dlqMoves > 100, `dlq moves ${r.messages.dlqMoves}`);
    assert.equal(s.queueTruth('dlq').visible, r.messages.dlqMoves);
    assert.equal(s.timeline().at(-1)?.dlqDepth, r.messages.dlqMoves);
    assert.ok(maxOf(s.timeline(), 'concurrency') <= 5);
  });

  it('loses nothing when MaximumConcurrency matches the same reserved concurrency', async () => {
    const s = sim({
      fn: { reservedConcurrency: 5 },
      esm: { maximumConcurrency: 5 },
      traffic: { q: [{ kind: 'constant', rate: 40, end: 120 }] },
    });
    await s.runUntil(600_000);
    assert.equal(s.report().messages.dlqMoves, 0);
    assert.equal(s.report().throttles, 0);
  });

  it('updates MaximumConcurrency through the library: validates it, caps the pollers, removes it', async () => {
    const s = sim({
      fn: { reservedConcurrency: 5 },
      traffic: { q: [{ kind: 'constant', rate: 40, end: 300 }] },
    });
    const uuid = [...s.world.esms.keys()][0] as string;
    assert.throws(
      () => s.updateEventSourceMaximumConcurrency(uuid, 1),
      (e: unknown) => e instanceof AwsApiError && /greater than or equal to 2/.test(e.message),
    );
    assert.throws(() => s.updateEventSourceMaximumConcurrency('nope', 5), AwsApiError);
    s.updateEventSourceMaximumConcurrency(uuid, 5);
    assert.equal(s.world.esm(uuid).maximumConcurrency, 5);
    await s.runUntil(300_000);
    assert.equal(s.report().throttles, 0, 'capped at the reserved concurrency: nothing overpulled');
    assert.ok(maxOf(s.timeline(), 'pollers') <= 5);
    assert.equal(s.report().apiCalls['lambda:UpdateEventSourceMapping']?.ok, 1);
    s.updateEventSourceMaximumConcurrency(uuid, undefined);
    assert.equal(s.world.esm(uuid).maximumConcurrency, undefined);
  });

  it('throttles everything at reserved concurrency 0 and lets messages through after it is raised', async () => {
    const s = sim({ fn: { reservedConcurrency: 0 }, traffic: { q: [{ kind: 'dump', at: 1, count: 100 }] } });
    await s.runUntil(20_000);
    assert.equal(s.report().invocations, 0);
    assert.ok(s.report().throttles > 0);
    s.putFunctionConcurrency('f', 10);
    await s.runUntil(120_000);
    assert.equal(s.report().messages.deleted, 100);
    assert.equal(s.report().messages.dlqMoves, 0);
  });

  it('moves failing batches to the DLQ after maxReceiveCount attempts', async () => {
    const s = sim({ fn: { errorRate: 1 }, traffic: { q: [{ kind: 'dump', at: 0, count: 50 }] } });
    await s.runUntil(200_000);
    assert.equal(s.report().messages.dlqMoves, 50);
    assert.equal(s.report().errors, 15);
  });

  it('holds unreserved functions to the account pool', async () => {
    const s = sim({
      account: { concurrency: 150 },
      traffic: { q: [{ kind: 'constant', rate: 1000, end: 120 }] },
    });
    await s.runUntil(120_000);
    assert.ok(maxOf(s.timeline(), 'concurrency') <= 150);
    assert.ok(s.report().throttles > 0);
  });
});

describe('event source mapping models', () => {
  const lowReserved = (esmModel: EsmModel): Simulation =>
    sim({
      esmModel,
      fn: { reservedConcurrency: 5 },
      traffic: { q: [{ kind: 'constant', rate: 200, end: 120 }] },
    });

  it('documented: a throttled mapping shrinks to the free concurrency and the backlog stays visible', async () => {
    const s = lowReserved('documented');
    await s.runUntil(60_000);
    const truth = s.queueTruth('q');
    const tl = s.timeline();
    assert.ok(maxOf(tl, 'pollers') <= 10, `pollers ${maxOf(tl, 'pollers')}: +5 in a second, then cut back`);
    assert.ok(truth.visible > 8000, `visible ${truth.visible}`);
    // overpull ≈ (pollers − free concurrency) × batch size, and pollers exceed the free concurrency by
    // at most one second of growth (+5) before the throttles cut them back: ≤ 5 batches of 10.
    const overpull = tl.map((p) => p.inFlight - p.concurrency * 10);
    assert.ok(Math.max(...overpull) <= 50, `max overpull ${Math.max(...overpull)}`);
    assert.ok(Math.max(...overpull) > 0, 'some overpull remains: the mapping does not know the reservation');
    await s.runUntil(600_000);
    const r = s.report();
    const left = s.queueTruth('q');
    assert.equal(r.messages.dlqMoves, 0);
    assert.equal(r.messages.deleted + left.visible + left.inFlight, r.messages.sent, 'nothing lost');
  });

  it('documented: keeps a throttled batch and retries it until its visibility timeout, then drops it', async () => {
    const s = sim({ fn: { reservedConcurrency: 0 }, traffic: { q: [{ kind: 'dump', at: 0, count: 100 }] } });
    await s.runUntil(10_000);
    assert.deepEqual(
      { visible: s.queueTruth('q').visible, inFlight: s.queueTruth('q').inFlight },
      { visible: 50, inFlight: 50 },
      'five pollers hold five batches; nothing else is pulled',
    );
    const throttlesAt10s = s.report().throttles;
    assert.ok(
      throttlesAt10s >= 5 * 9 && throttlesAt10s <= 5 * 11,
      `retried once a second: ${throttlesAt10s}`,
    );
    await s.runUntil(31_000);
    assert.equal(s.queueTruth('q').inFlight + s.queueTruth('q').visible, 100, 'dropped back into the queue');
    await s.runUntil(400_000);
    assert.equal(s.report().messages.dlqMoves, 100, 'after maxReceiveCount (3) receives');
    assert.equal(s.report().invocations, 0);
  });

  it('release: a throttled poller leaves its batch and pulls the next one after the back-off', async () => {
    const s = sim({
      esmModel: 'release',
      fn: { reservedConcurrency: 0 },
      traffic: { q: [{ kind: 'dump', at: 0, count: 100 }] },
    });
    await s.runUntil(10_000);
    assert.deepEqual(
      { visible: s.queueTruth('q').visible, inFlight: s.queueTruth('q').inFlight },
      { visible: 0, inFlight: 100 },
    );
  });

  it('retry-then-release overpulls more than documented and less than release', async () => {
    const inFlight: Record<string, number> = {};
    const dlq: Record<string, number> = {};
    for (const m of ['documented', 'retry-then-release', 'release'] as const) {
      const s = lowReserved(m);
      await s.runUntil(600_000);
      inFlight[m] = maxOf(s.timeline(), 'inFlight');
      dlq[m] = s.report().messages.dlqMoves;
    }
    const [d, r, w] = [inFlight.documented ?? 0, inFlight['retry-then-release'] ?? 0, inFlight.release ?? 0];
    assert.ok(d < r && r < w, `max in flight: documented ${d}, retry-then-release ${r}, release ${w}`);
    assert.ok((dlq.release ?? 0) > (dlq.documented ?? 0), JSON.stringify(dlq));
  });

  /** Pollers after a minute of traffic the mapping needs `maximumConcurrency` (or 200) for, then idle. */
  const idleFloor = async (esmModel: EsmModel, maximumConcurrency: number | undefined): Promise<number> => {
    const s = sim({
      esmModel,
      ...(maximumConcurrency === undefined ? {} : { esm: { maximumConcurrency } }),
      traffic: { q: [{ kind: 'constant', rate: 10 * (maximumConcurrency ?? 200), end: 60 }] },
    });
    await s.runUntil(240_000);
    return s.esmConcurrency('f');
  };

  it('documented: scales down to 2 when idle, but not below min(5, MaximumConcurrency) when it is set', async () => {
    assert.equal(await idleFloor('documented', undefined), 2);
    assert.equal(await idleFloor('documented', 50), 5);
    assert.equal(await idleFloor('documented', 3), 3);
    assert.equal(await idleFloor('release', 50), 2, 'release keeps the old floor');
  });

  it('documented: function errors cut the concurrency, unless the function reports batch item failures', async () => {
    const pollers = async (esmModel: EsmModel, reportItems: boolean): Promise<number> => {
      const s = sim({ esmModel, fn: { errorRate: 1 }, traffic: { q: [{ kind: 'constant', rate: 500 }] } });
      if (reportItems)
        s.world.mappings.updateEsm([...s.world.esms.values()][0] as never, {
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        });
      await s.runUntil(60_000);
      return s.esmConcurrency('f');
    };
    assert.ok((await pollers('documented', false)) <= 10);
    assert.ok((await pollers('documented', true)) > 100);
    assert.ok((await pollers('release', false)) > 100);
  });
});

describe('concurrency API through the library', () => {
  it('applies the unreserved-100 rule across functions with AWS wording', () => {
    const s = createSimulation({
      scenario: parseScenario({ name: 'two', functions: [{ name: 'a' }, { name: 'b' }] }),
    });
    s.putFunctionConcurrency('a', 500);
    s.putFunctionConcurrency('b', 400);
    assert.throws(
      () => s.putFunctionConcurrency('b', 401),
      (e: unknown) =>
        e instanceof AwsApiError &&
        e.code === 'InvalidParameterValueException' &&
        e.message.includes('below its minimum value of [100]'),
    );
    assert.equal(s.getFunctionConcurrency('b'), 400);
    s.deleteFunctionConcurrency('a');
    assert.equal(s.getFunctionConcurrency('a'), undefined);
  });

  it('throttles the 16th control-plane call in a second and recovers a second later', async () => {
    const s = createSimulation({ scenario: parseScenario({ name: 'cp', functions: [{ name: 'a' }] }) });
    for (let i = 0; i < 15; i++) s.putFunctionConcurrency('a', i);
    assert.throws(
      () => s.putFunctionConcurrency('a', 99),
      (e: unknown) => e instanceof AwsApiError && e.code === 'TooManyRequestsException' && e.status === 429,
    );
    for (let i = 0; i < 100; i++) s.getFunctionConcurrency('a');
    await s.runFor(1000);
    assert.equal(s.putFunctionConcurrency('a', 99), 99);
    const calls = s.report().apiCalls['lambda:PutFunctionConcurrency'];
    assert.deepEqual(calls, { ok: 16, TooManyRequestsException: 1 });
  });

  it('applies faults declared in the scenario from the start', () => {
    const s = createSimulation({
      scenario: parseScenario({
        name: 'faulty',
        functions: [{ name: 'a' }],
        faults: { 'lambda:PutFunctionConcurrency': { throttle: true } },
      }),
    });
    assert.throws(
      () => s.putFunctionConcurrency('a', 5),
      (e: unknown) => e instanceof AwsApiError && e.status === 429,
    );
    s.clearFaults();
    assert.equal(s.putFunctionConcurrency('a', 5), 5);
  });

  it('integrates reserved concurrency over time', async () => {
    const s = createSimulation({ scenario: parseScenario({ name: 'rcs', functions: [{ name: 'a' }] }) });
    s.putFunctionConcurrency('a', 10);
    await s.runUntil(60_000);
    s.putFunctionConcurrency('a', 20);
    await s.runUntil(120_000);
    assert.equal(s.report().reservedConcurrencySeconds.a, 10 * 60 + 20 * 60);
  });
});

describe('cold starts', () => {
  it('provisioned concurrency removes them', async () => {
    const base = { coldStart: { kind: 'constant', ms: 500 }, reservedConcurrency: 20 };
    const cold = sim({ fn: base, traffic: { q: [{ kind: 'constant', rate: 50 }] } });
    const warm = sim({
      fn: { ...base, provisionedConcurrency: 20 },
      traffic: { q: [{ kind: 'constant', rate: 50 }] },
    });
    await cold.runUntil(60_000);
    await warm.runUntil(60_000);
    assert.ok((cold.report().functions.f?.coldStarts ?? 0) > 0);
    assert.equal(warm.report().functions.f?.coldStarts, 0);
    assert.ok(warm.report().latency.p99Ms < cold.report().latency.maxMs);
  });
});

describe('determinism', () => {
  const run = async (seed: number): Promise<string> => {
    const s = sim(
      {
        fn: {
          duration: { kind: 'lognormal', medianMs: 200, sigma: 0.5 },
          reservedConcurrency: 30,
          errorRate: 0.05,
        },
        traffic: { q: [{ kind: 'sine', mean: 150, amplitude: 100, period: 120 }] },
      },
      seed,
    );
    s.every(10_000, (now) => {
      const backlog = s.queueAttributes('q').visible;
      if (backlog > 100) s.putFunctionConcurrency('f', 60);
      void now;
    });
    await s.runUntil(300_000);
    return JSON.stringify({ r: s.report(), t: s.timeline() });
  };

  it('gives the same results for the same seed and different ones for another seed', async () => {
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    assert.equal(a, b);
    assert.notEqual(a, c);
  });
});

describe('virtual clock', () => {
  it('awaits asynchronous callbacks before moving time on', async () => {
    const s = createSimulation();
    const seen: number[] = [];
    s.every(1000, async () => {
      await new Promise((r) => setImmediate(r));
      seen.push(s.elapsedMs());
    });
    s.schedule(2500, () => {
      seen.push(-1);
    });
    await s.runUntil(4000);
    assert.deepEqual(seen, [1000, 2000, -1, 3000, 4000]);
    assert.equal(s.elapsedMs(), 4000);
  });
});

describe('observed state', () => {
  it('reports queue attributes with the configured lag', async () => {
    const s = sim({
      model: { attributes: { lagSeconds: 30 } },
      fn: { reservedConcurrency: 0 },
      traffic: { q: [{ kind: 'dump', at: 10, count: 1000 }] },
    });
    await s.runUntil(20_000);
    assert.equal(s.queueTruth('q').visible + s.queueTruth('q').inFlight, 1000);
    assert.equal(s.queueAttributes('q').visible + s.queueAttributes('q').inFlight, 0);
    await s.runUntil(45_000);
    assert.equal(s.queueAttributes('q').visible + s.queueAttributes('q').inFlight, 1000);
  });

  it('publishes CloudWatch minutes one to two minutes after they end', async () => {
    const s = sim({ traffic: { q: [{ kind: 'constant', rate: 10 }] } });
    await s.runUntil(60_000 + 59_000);
    assert.equal(s.cloudWatch('q', 'NumberOfMessagesSent').length, 0);
    await s.runUntil(60_000 + 121_000);
    const dps = s.cloudWatch('q', 'NumberOfMessagesSent');
    assert.ok(dps.length >= 1);
    const first = dps[0];
    assert.ok(first && first.sum > 450 && first.sum < 750, `sum ${first?.sum}`);
    assert.ok(first && first.publishedAt - (first.timestamp + 60_000) >= 60_000);
  });

  it('publishes AWS/Lambda minutes: invocations, throttles, concurrency and duration', async () => {
    const s = sim({ fn: { reservedConcurrency: 2 }, traffic: { q: [{ kind: 'constant', rate: 40 }] } });
    await s.runUntil(5 * 60_000);
    const at = (m: Parameters<Simulation['functionCloudWatch']>[1]) =>
      s.functionCloudWatch('f', m, { startMs: 120_000, endMs: 180_000 })[0];
    assert.ok((at('Invocations')?.sum ?? 0) >= 100, 'two environments, one-second batches: ~120 a minute');
    assert.ok((at('Throttles')?.sum ?? 0) > 0);
    assert.equal(at('ConcurrentExecutions')?.maximum, 2);
    assert.equal(at('Duration')?.average, 1000);
    assert.equal(at('Duration')?.sampleCount, at('Invocations')?.sum);
  });

  it('holds back the first 15 minutes of a queue that wakes after 6 idle hours', async () => {
    const sixHours = 6 * 3_600_000;
    const s = sim({ traffic: { q: [{ kind: 'constant', rate: 5, start: sixHours / 1000 }] } });
    await s.runUntil(sixHours + 10 * 60_000);
    const woken = s.cloudWatch('q', 'NumberOfMessagesSent', { startMs: sixHours });
    assert.equal(woken.length, 0, 'ten minutes after waking, nothing of it is published yet');
    await s.runUntil(sixHours + 17 * 60_000);
    const later = s.cloudWatch('q', 'NumberOfMessagesSent', { startMs: sixHours });
    assert.ok(later.length >= 1 && (later[0]?.sum ?? 0) > 200, `published after 15 minutes: ${later.length}`);
    const first = later[0];
    assert.ok(first && first.publishedAt - (first.timestamp + 60_000) >= 15 * 60_000);
    await s.runUntil(sixHours + 40 * 60_000);
    const settled = s.cloudWatch('q', 'NumberOfMessagesSent', { startMs: sixHours + 20 * 60_000 });
    for (const d of settled)
      assert.ok(d.publishedAt - (d.timestamp + 60_000) <= 120_000, 'then 1–2 minutes again');
  });
});
