// The benchmark's engine: the manager's own ScalerReconciler driven on awssim's virtual clock, the
// references, and what awssim counts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  FINALIZER,
  type LambdaConcurrencyScalerSpec,
  maxConcurrency,
  parseSpec,
} from '../../src/api/v1alpha1/index.ts';
import { createSimulation } from '../../src/awssim/index.ts';
import { loadBenchScenario, staticMax } from '../../src/bench/bench.ts';
import { startOperator } from '../../src/bench/operator.ts';
import { arrivalTrace, runOnce, singleTarget, type Target } from '../../src/bench/run.ts';
import type { Strategy } from '../../src/bench/strategy.ts';
import { parseAccountWorkload, parseWorkload, WorkloadError } from '../../src/bench/workload.ts';

const workload = (traffic: unknown[], durationSeconds = 1200) =>
  parseWorkload({
    durationSeconds,
    function: { timeout: 5, duration: { kind: 'constant', ms: 2000 }, per: 'batch' },
    eventSource: { batchSize: 10 },
    traffic,
  });
const specOf = (fields: Record<string, unknown> = {}): LambdaConcurrencyScalerSpec => {
  const parsed = parseSpec({
    awsSQSName: 'orders',
    awsSQSMsgCountThreshold: 100,
    awsLambdaName: 'fn',
    awsLambdaMinConcurrency: 5,
    awsLamndaMaxConcurrency: 60,
    awsLambdaStepConcurrency: 5,
    ...fields,
  });
  if (!parsed.ok) throw new Error(`test spec invalid: ${JSON.stringify(parsed.issues)}`);
  return parsed.spec;
};
const spec = specOf();
const latency = (cap: boolean) =>
  specOf({
    policy: { type: 'LatencySLO', latencySLO: { maxWaitSeconds: 30 } },
    ...(cap ? { eventSourceMapping: { manageMaximumConcurrency: true } } : {}),
  });
const surge = () =>
  workload([
    {
      kind: 'step',
      steps: [
        { at: 0, rate: 10 },
        { at: 300, rate: 200 },
        { at: 800, rate: 10 },
      ],
    },
  ]);
const one = (w: ReturnType<typeof workload>, s: LambdaConcurrencyScalerSpec = spec): Target[] => [
  singleTarget(w, 'orders', s, 60),
];

/** Two scalers of one account whose functions both surge, each allowed more than half the pool. */
const account = (limit: number, peak = 1500) =>
  parseAccountWorkload(
    {
      name: 'two',
      durationSeconds: 900,
      account: { concurrency: limit, unreservedMin: 100 },
      scalers: ['a', 'b'].map((name) => ({
        name,
        workload: {
          function: { timeout: 5, duration: { kind: 'constant', ms: 2000 }, per: 'batch' },
          eventSource: { batchSize: 10 },
          traffic: [
            {
              kind: 'step',
              steps: [
                { at: 0, rate: 5 },
                { at: 120, rate: peak },
              ],
            },
          ],
        },
      })),
    },
    'two',
    process.cwd(),
  );
const accountTargets = (s: LambdaConcurrencyScalerSpec): Target[] =>
  ['a', 'b'].map((name) => ({
    name,
    queue: name,
    fn: name,
    batchSize: 10,
    spec: { ...s, awsLamndaMaxConcurrency: 200 },
    sloSeconds: 60,
  }));

describe('the operator in a simulation', () => {
  it("is the manager's ScalerReconciler: its status, events and writes land on the simulated function", async () => {
    const w = surge();
    const sim = createSimulation({ scenario: w.scenario, seed: 1 });
    const op = startOperator(sim, {
      scalers: [{ name: 'orders', spec: one(w, latency(true))[0]?.spec ?? spec }],
    });

    await sim.runUntil(600_000);

    const scaler = op.scalers.get('default/orders');
    const reserved = sim.truthOf(w.queue, w.fn).reserved;
    assert.ok(reserved !== null && reserved > 5, `scaled up to ${reserved}`);
    assert.equal(scaler?.status?.appliedConcurrency, reserved);
    assert.deepEqual(scaler?.metadata.finalizers, [FINALIZER]);
    assert.equal(scaler?.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.ok(
      op.events.some((e) => e.reason === 'ScaledUp' && /event source MaximumConcurrency/.test(e.message)),
    );
  });

  it('reads the backlog once per poll, the function every drift check, and writes only on change', async () => {
    const w = workload([
      {
        kind: 'step',
        steps: [
          { at: 0, rate: 10 },
          { at: 300, rate: 150 },
        ],
      },
    ]);
    const tt = specOf({
      policy: { type: 'TargetTracking', targetTracking: { targetBacklogPerConcurrency: 10 } },
      metrics: { includeInFlight: true },
    });

    const r = await runOnce({
      workload: w,
      targets: one(w, tt),
      strategy: { kind: 'operator', label: 'tt', specs: [tt] },
      seed: 3,
    });

    assert.equal(r.intervalSeconds, 30);
    // The function is re-read only when its last reading (or our own write) is older than the
    // drift check (120 s ± 10 %): over 1200 s at most 1200 / 108 + 1 reads, not one per poll (41).
    const reads = r.metrics.apiCalls['lambda:GetFunction ok'] ?? 0;
    assert.ok(reads >= 2 && reads <= 12, `${reads} GetFunction calls`);
    // Resolving the queue reads its ARN once; each poll reads the backlog once.
    assert.equal(r.metrics.apiCalls['sqs:GetQueueAttributes ok'], 42);
    assert.equal(r.metrics.apiCalls['sqs:GetQueueUrl ok'], 1);
    // The link check: on the first reconcile and every 5 minutes.
    assert.equal(r.metrics.apiCalls['lambda:ListEventSourceMappings ok'], 4);
    assert.ok(r.actions.length > 0, 'the surge is scaled for');
    for (const a of r.actions) assert.ok(a.to !== null && a.to >= 5 && a.to <= 60, `${a.to} within bounds`);
    assert.equal(r.metrics.apiCalls['lambda:PutFunctionConcurrency ok'], r.actions.length);
    const firstUp = r.actions.find((a) => a.t >= 300 && (a.to ?? 0) > (a.from ?? 0));
    assert.ok(firstUp !== undefined && firstUp.t - 300 <= 60, `scaled up at ${firstUp?.t}`);
  });

  it("waits for the operator's control-plane budget on the virtual clock", async () => {
    const w = account(2000, 200);
    const s = latency(false);
    const sim = createSimulation({ scenario: w.scenario, seed: 1 });
    const puts: number[] = [];
    const op = startOperator(sim, {
      scalers: accountTargets(s).map((t) => ({
        name: t.name,
        spec: { ...t.spec, awsSQSName: t.queue, awsLambdaName: t.fn },
      })),
      controlPlaneRps: 0.05,
    });

    await sim.runUntil(900_000);

    for (const e of op.events) if (e.reason === 'ScaledUp') puts.push(e.t);
    assert.ok(puts.length >= 2, `${puts.length} scale-ups`);
    // A 0.05/s budget is one write every 20 s: no two writes of the account closer than that.
    const writes = sim.report().apiCalls;
    const controlPlane = Object.entries(writes)
      .filter(([op]) => op.startsWith('lambda:') && op !== 'lambda:GetFunction')
      .reduce((n, [, o]) => n + Object.values(o).reduce((a, b) => a + b, 0), 0);
    assert.ok(controlPlane <= 900 * 0.05 + 2, `${controlPlane} control-plane calls in 900 s at 0.05/s`);
  });

  it("shares one account's headroom: the unreserved pool never below 100, and the squeeze reported", async () => {
    const w = account(400);
    const s = latency(true);

    const targets = accountTargets(s);
    const r = await runOnce({
      workload: w,
      targets,
      strategy: { kind: 'operator', label: 'slo', specs: targets.map((t) => t.spec) },
      seed: 1,
    });

    assert.equal(r.targets.length, 2);
    assert.ok(r.account.minUnreserved >= 100, `least unreserved ${r.account.minUnreserved}`);
    assert.ok(r.account.squeezeSeconds > 0, 'together they need more than the pool above the floor');
    // The account bound knows it: 3,000 messages/s against at most 300 units at 5/s each.
    assert.ok(
      r.account.boundOverSlo > 0 && r.account.overSlo >= r.account.boundOverSlo,
      `${r.account.boundOverSlo}`,
    );
    assert.ok(
      r.account.fairness !== null && r.account.fairness > 0.5 && r.account.fairness <= 1,
      `fairness ${r.account.fairness}`,
    );
    // At the end both want their maximum (200): together they hold exactly the 300 above the floor.
    // (How the reconciler splits it is what the fairness figure reports: today the first to reach
    // its maximum keeps it, 200 against 100.)
    const held = r.targets.map((t) => t.timeline.at(-1)?.reserved ?? 0);
    assert.equal((held[0] ?? 0) + (held[1] ?? 0), 300, `held ${held}`);
  });
});

describe('the references', () => {
  it('static: its value (and the cap) configured before the first message, no API call ever', async () => {
    const w = workload([{ kind: 'constant', rate: 150 }], 600);
    const r = await runOnce({
      workload: w,
      targets: one(w),
      strategy: { kind: 'static', label: 'max capped', concurrency: [60], capEventSource: true },
      seed: 1,
    });
    assert.deepEqual(r.metrics.apiCalls, {});
    assert.equal(r.metrics.capacityHours, 10);
    assert.equal(r.metrics.throttles, 0);
    assert.ok(r.timeline.every((p) => p.pollers <= 60));
  });

  it('clairvoyant: follows the future trace with the mapping capped at its reserved concurrency', async () => {
    const w = surge();
    const r = await runOnce({
      workload: w,
      targets: one(w),
      strategy: { kind: 'clairvoyant', label: 'cv' },
      seed: 2,
    });
    assert.ok((r.metrics.apiCalls['lambda:UpdateEventSourceMapping ok'] ?? 0) > 0, 'the cap is set');
    const over = r.timeline.filter((p) => p.t > 2 && p.pollers > Math.max(2, p.reserved));
    assert.deepEqual(over.slice(0, 3), [], `${over.length} seconds with more pollers than reserved`);
    assert.ok(r.metrics.pctOverSlo < 0.5, `${r.metrics.pctOverSlo}% over SLO`);
    // It raises before the surge arrives: it knows the trace.
    const raise = r.actions.find((a) => (a.to ?? 0) > 20);
    assert.ok(raise !== undefined && raise.t < 300, `raised at ${raise?.t}`);
    assert.ok(r.metrics.capacityHours >= r.metrics.boundCapacityHours);
  });

  it('reactive: sizes from what arrived, so it raises after the surge; at 30 s only on its seeded 30 s grid', async () => {
    const w = surge();
    const raiseOf = async (strategy: Strategy, seed: number) => {
      const r = await runOnce({ workload: w, targets: one(w), strategy, seed });
      return { r, raise: r.actions.find((a) => a.t > 300 && (a.to ?? 0) > (a.from ?? 0)) };
    };
    const fast = await raiseOf({ kind: 'clairvoyant', label: 'r10', knows: 'present' }, 2);
    assert.ok(fast.raise !== undefined && fast.raise.t <= 311, `10 s: raised at ${fast.raise?.t}`);
    const offsets = new Set<number>();
    for (const seed of [1, 2, 3, 4]) {
      const { r, raise } = await raiseOf(
        { kind: 'clairvoyant', label: 'r30', knows: 'present', intervalSeconds: 30, phased: true },
        seed,
      );
      assert.ok(raise !== undefined && raise.t > 300 && raise.t <= 331, `30 s: raised at ${raise?.t}`);
      const grid = new Set(r.actions.map((a) => Math.round(a.t) % 30));
      assert.equal(grid.size, 1, `seed ${seed}: changes at ${r.actions.map((a) => a.t).join(', ')}`);
      offsets.add([...grid][0] as number);
    }
    assert.ok(offsets.size > 1, "the first re-size is phased by the seed, as the operator's first poll is");
  });

  it("reactive, fair share: splits the account's headroom as the operator's ledger does, where the largest need first does not", async () => {
    const w = account(400);
    const targets = accountTargets(spec);
    const held = async (share: 'largest' | 'fair') => {
      const r = await runOnce({
        workload: w,
        targets,
        strategy: {
          kind: 'clairvoyant',
          label: share,
          knows: 'present',
          intervalSeconds: 30,
          phased: true,
          share,
        },
        seed: 1,
      });
      assert.ok(r.account.minUnreserved >= 100, `least unreserved ${r.account.minUnreserved}`);
      return r.targets.map((t) => t.timeline.at(-1)?.reserved ?? 0);
    };
    // Both want their maximum, 200, and 300 lie above the floor.
    assert.deepEqual(await held('fair'), [150, 150]);
    assert.deepEqual((await held('largest')).sort(), [100, 200]);
  });

  it('every strategy of a seed sees the same arrivals, so one bound serves them all', async () => {
    const w = workload([{ kind: 'square', low: 5, high: 100, period: 240 }], 900);
    const trace = await arrivalTrace(w, one(w), 4, 900);
    const a = await runOnce({
      workload: w,
      targets: one(w),
      strategy: { kind: 'static', label: 'min', concurrency: [5] },
      seed: 4,
    });
    const b = await runOnce({
      workload: w,
      targets: one(w, latency(true)),
      strategy: { kind: 'operator', label: 'slo', specs: [latency(true)] },
      seed: 4,
    });
    assert.deepEqual(
      Array.from(trace[0] ?? []),
      a.timeline.map((p) => p.arrivals),
    );
    assert.deepEqual(
      a.timeline.map((p) => p.arrivals),
      b.timeline.map((p) => p.arrivals),
    );
    assert.equal(a.metrics.boundCapacityHours, b.metrics.boundCapacityHours);
  });

  it('the original operator: its own model, every 300 s on late CloudWatch data', async () => {
    const w = workload([{ kind: 'constant', rate: 5 }], 1800);
    const r = await runOnce({
      workload: w,
      targets: one(w),
      strategy: { kind: 'original', label: 'original', specs: [spec] },
      seed: 1,
    });
    assert.equal(r.intervalSeconds, 300);
    assert.equal(r.metrics.apiCalls['cloudwatch:GetMetricData ok'], 6);
    assert.equal(r.metrics.apiCalls['sqs:GetQueueAttributes ok'], undefined);
  });

  it('gives the same numbers for the same seed', async () => {
    const w = workload([{ kind: 'square', low: 5, high: 100, period: 240 }]);
    const s = latency(false);
    const run = () =>
      runOnce({
        workload: w,
        targets: one(w, s),
        strategy: { kind: 'operator', label: 'slo', specs: [s] },
        seed: 7,
      });
    const [a, b] = [await run(), await run()];
    assert.deepEqual(a.metrics, b.metrics);
    assert.deepEqual(a.actions, b.actions);
  });
});

describe('parseWorkload', () => {
  it('names the field of the workload document, not of the scenario it maps onto', () => {
    assert.throws(
      () => parseWorkload({ eventSource: { batchSize: 0 }, traffic: [{ kind: 'constant', rate: 1 }] }),
      (e: unknown) =>
        e instanceof WorkloadError && e.issues.some((i) => i.startsWith('eventSource.batchSize:')),
    );
  });

  it('builds an account: a queue, dead-letter queue, function and mapping per scaler', () => {
    const w = account(1000);
    assert.deepEqual(
      w.scenario.queues.map((q) => q.name),
      ['a-dlq', 'a', 'b-dlq', 'b'],
    );
    assert.deepEqual(
      w.scenario.eventSourceMappings.map((e) => `${e.queue}→${e.function}`),
      ['a→a', 'b→b'],
    );
    assert.equal(w.scenario.account?.concurrency, 1000);
  });
});

describe('loadBenchScenario', () => {
  it('reads the committed account scenarios: their scalers, and static max shared above the floor', () => {
    const two = loadBenchScenario('bench/scenarios/two-bursts-one-account.yaml');
    assert.deepEqual(
      two.targets.map((t) => [t.name, t.queue, t.fn, t.spec.awsLambdaMinConcurrency, maxConcurrency(t.spec)]),
      [
        ['orders', 'orders', 'orders', 10, 600],
        ['payments', 'payments', 'payments', 10, 600],
      ],
    );
    assert.deepEqual(staticMax(two), [450, 450]);
    const ten = loadBenchScenario('bench/scenarios/ten-overlapping-peaks.yaml');
    assert.equal(ten.targets.length, 10);
    assert.ok(staticMax(ten).reduce((a, b) => a + b, 0) <= 900);
  });

  it("names a bad scaler's field in an account scenario", () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      readFileSync('bench/scenarios/two-bursts-one-account.yaml', 'utf8').replace(
        'awsLambdaMinConcurrency: 10',
        'awsLambdaMinConcurrency: -1',
      ),
    );
    assert.throws(
      () => loadBenchScenario(file),
      (e: unknown) =>
        e instanceof WorkloadError &&
        e.issues.some((i) => i.startsWith('scalers[0].scaler.awsLambdaMinConcurrency')),
    );
  });
});
