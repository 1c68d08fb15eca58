// Policy defects found on traffic the benchmark was not tuned to (issue 15), each as a regression run
// through the operator's own ScalerReconciler on awssim (src/bench): a squeezed account whose burst ends
// in refused reservations, then an idle queue, must bring every scaler back to its minimum within the
// scale-down window plus two polls; constant load with noisy counts must not make it flap.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type LambdaConcurrencyScalerSpec, parseSpec } from '../../src/api/v1alpha1/index.ts';
import { loadBenchScenario, RECOMMENDED, strategiesFor } from '../../src/bench/bench.ts';
import { runOnce, singleTarget, type Target } from '../../src/bench/run.ts';
import { parseAccountWorkload, parseWorkload } from '../../src/bench/workload.ts';

const POLL_SECONDS = 30;
const WINDOW_SECONDS = 300;

const spec = (): LambdaConcurrencyScalerSpec => {
  const parsed = parseSpec({
    awsSQSName: 'q',
    awsSQSMsgCountThreshold: 1000,
    awsLambdaName: 'f',
    awsLambdaMinConcurrency: 10,
    awsLamndaMaxConcurrency: 600,
    awsLambdaStepConcurrency: 20,
    pollingIntervalSeconds: POLL_SECONDS,
    policy: { type: 'LatencySLO', latencySLO: { maxWaitSeconds: 30 } },
    eventSourceMapping: { manageMaximumConcurrency: true },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.spec;
};

/** Two functions of one account (900 reservable) surging to 500 messages/s each, then silence. */
const squeeze = (durationSeconds: number) =>
  parseAccountWorkload(
    {
      name: 'squeeze-then-idle',
      durationSeconds,
      account: { concurrency: 1000, unreservedMin: 100 },
      scalers: ['a', 'b'].map((name, i) => ({
        name,
        workload: {
          queue: { visibilityTimeout: 180, maxReceiveCount: 5 },
          function: { timeout: 60, duration: { kind: 'constant', ms: 10_000 }, per: 'batch' },
          eventSource: { batchSize: 10 },
          traffic: [
            {
              kind: 'step',
              steps: [
                { at: 0, rate: 20 },
                { at: 120 + 10 * i, rate: 500 },
                { at: 300 + 10 * i, rate: 150 },
                { at: 600, rate: 0 },
              ],
            },
          ],
        },
      })),
    },
    'squeeze-then-idle',
    process.cwd(),
  );

describe('LatencySLO after a squeeze (issue 15, item 1)', { timeout: 300_000 }, () => {
  it('comes back to its minimum within the scale-down window plus two polls once the queue is idle', async () => {
    const durationSeconds = 2400;
    const w = squeeze(durationSeconds);
    const targets: Target[] = ['a', 'b'].map((name) => ({
      name,
      queue: name,
      fn: name,
      batchSize: 10,
      spec: spec(),
      sloSeconds: 60,
    }));
    const r = await runOnce({
      workload: w,
      targets,
      seed: 1,
      strategy: { kind: 'operator', label: 'LatencySLO + ESM cap', specs: targets.map((t) => t.spec) },
    });
    const late: string[] = [];
    for (const t of r.targets) {
      const empty = (p: (typeof t.timeline)[number]) => p.visible + p.inFlight + p.delayed === 0;
      // The queue is idle from the first second after which it stays empty.
      let idleFrom = t.timeline.length;
      while (idleFrom > 0 && empty(t.timeline[idleFrom - 1] as (typeof t.timeline)[number])) idleFrom--;
      const due = (t.timeline[idleFrom]?.t ?? durationSeconds) + WINDOW_SECONDS + 2 * POLL_SECONDS + 5;
      assert.ok(due < durationSeconds - 60, `${t.target.name}: the queue idled too late to judge (${due} s)`);
      const peak = Math.max(...t.timeline.map((p) => p.reserved));
      assert.ok(peak > 300, `${t.target.name}: the squeeze happened (peak ${peak})`);
      const after = t.timeline.filter((p) => p.t >= due);
      const held = after.filter((p) => p.reserved !== 10);
      if (held.length > 0)
        late.push(
          `${t.target.name}: idle from ${t.timeline[idleFrom]?.t} s, still ${held[0]?.reserved} at ${held[0]?.t} s`,
        );
    }
    assert.deepEqual(late, []);
  });
});

describe('LatencySLO while the account refuses its raise (issue 15, item 1)', { timeout: 300_000 }, () => {
  it('lets go of a burst whose last raise the account refused, instead of asking for it all run', async () => {
    // The benchmark's two functions bursting into one account, with the recommended settings: at
    // the end of the surge each asks for more than the account's headroom leaves it, and the
    // refused write made every later interval unusable, freezing the surge's arrival rate. Seeds
    // 3, 4 and 5 then held 523 and 377 units on loads of 20 units to the end of the run.
    const s = loadBenchScenario(
      new URL('../../bench/scenarios/two-bursts-one-account.yaml', import.meta.url).pathname,
    );
    const strategy = strategiesFor(s).find((x) => x.label === RECOMMENDED);
    assert.ok(strategy !== undefined);
    for (const seed of [3, 4]) {
      const r = await runOnce({ workload: s.workload, targets: s.targets, strategy, seed });
      for (const t of r.targets) {
        const timeline = t.timeline;
        const peak = Math.max(...timeline.map((p) => p.reserved));
        const late = Math.max(...timeline.filter((p) => p.t >= 2000).map((p) => p.reserved));
        assert.ok(peak >= 300, `seed ${seed}, ${t.target.name}: it met the surge (peak ${peak})`);
        assert.ok(
          late <= 60,
          `seed ${seed}, ${t.target.name}: still ${late} units 10 minutes after the surge`,
        );
      }
    }
  });
});

describe('LatencySLO with the mapping capped, after a burst (issue 15, item 2)', { timeout: 300_000 }, () => {
  it('gives half the units back within three minutes of the load falling, not after the 300 s window', async () => {
    // 20 messages/s, 200/s from minute 10 to 25, 20/s again (the benchmark's 10× step).
    const w = parseWorkload({
      durationSeconds: 2400,
      model: { attributes: { lagSeconds: 2, wobble: 0.02 } },
      function: { timeout: 5, duration: { kind: 'lognormal', medianMs: 2000, sigma: 0.3 }, per: 'batch' },
      eventSource: { batchSize: 10 },
      traffic: [
        {
          kind: 'step',
          steps: [
            { at: 0, rate: 20 },
            { at: 600, rate: 200 },
            { at: 1500, rate: 20 },
          ],
        },
      ],
    });
    const s = { ...spec(), awsLamndaMaxConcurrency: 100 };
    for (const seed of [1, 2, 3]) {
      const r = await runOnce({
        workload: w,
        targets: [singleTarget(w, 'orders', s, 60)],
        seed,
        strategy: { kind: 'operator', label: 'LatencySLO + ESM cap', specs: [s] },
      });
      const timeline = r.targets[0]?.timeline ?? [];
      const peak = Math.max(...timeline.filter((p) => p.t < 1500).map((p) => p.reserved));
      const halved = timeline.find((p) => p.t >= 1500 && p.reserved <= peak / 2)?.t;
      assert.ok(peak >= 40, `seed ${seed}: it scaled up to the burst (peak ${peak})`);
      assert.ok(
        halved !== undefined && halved - 1500 <= 180,
        `seed ${seed}: at most half of ${peak} only ${halved === undefined ? 'never' : `${halved - 1500} s`} after the load fell`,
      );
    }
  });
});

describe('LatencySLO at constant load with noisy counts (issue 15, item 2)', { timeout: 300_000 }, () => {
  const steady = (wobble: number) =>
    parseWorkload({
      durationSeconds: 3 * 3600,
      model: { attributes: { lagSeconds: 2, wobble } },
      function: { timeout: 30, duration: { kind: 'lognormal', medianMs: 5000, sigma: 0.3 }, per: 'batch' },
      eventSource: { batchSize: 10 },
      traffic: [{ kind: 'constant', rate: 100 }],
    });
  for (const wobble of [0.1, 0.3])
    for (const seed of [1, 2])
      it(`makes at most 2 scaling actions an hour once settled, with ±${wobble * 100}% noise (seed ${seed})`, async () => {
        const s = { ...spec(), awsLambdaMinConcurrency: 5, awsLamndaMaxConcurrency: 200 };
        const w = steady(wobble);
        const r = await runOnce({
          workload: w,
          targets: [singleTarget(w, 'orders', s, 60)],
          seed,
          strategy: { kind: 'operator', label: 'LatencySLO + ESM cap', specs: [s] },
        });
        const actions = r.targets[0]?.actions ?? [];
        const settled = actions.filter((a) => a.t > 1800);
        const perHour = settled.length / 2.5;
        assert.ok(actions.length > 0, 'it scaled up to the load first');
        assert.ok(
          perHour <= 2,
          `${perHour.toFixed(1)} actions an hour: ${settled.map((a) => `${a.t}s ${a.from}→${a.to}`).join(', ')}`,
        );
      });
});

describe('LatencySLO at small constant loads, before it knows the throughput (issue 15, item 2)', {
  timeout: 300_000,
}, () => {
  // Loads of one to four units never saturate the function long enough at two concurrencies for
  // the throughput fit: the learning probe decides alone. It used to double on one noisy poll and
  // halve back after the scale-down window (2 ↔ 4, 8 ↔ 16), all hour long.
  const cases = {
    'one unit of load (20 messages/s, 0.5 s batches, ±20 % noise)': {
      rate: 20,
      medianMs: 500,
      wobble: 0.2,
      seed: 7,
    },
    'four units of load (25 messages/s, 1.5 s batches, ±30 % noise)': {
      rate: 25,
      medianMs: 1500,
      wobble: 0.3,
      seed: 5,
    },
    'two units of load (40 messages/s, 1 s batches, ±30 % noise)': {
      rate: 40,
      medianMs: 1000,
      wobble: 0.3,
      seed: 3,
    },
  } satisfies Record<string, { rate: number; medianMs: number; wobble: number; seed: number }>;
  for (const [name, c] of Object.entries(cases))
    it(`makes at most 2 scaling actions an hour once settled at ${name}`, async () => {
      await assertSettled(c);
    });
});

/**
 * The scaling actions after the first 30 minutes of two hours of constant load with noisy counts,
 * the service time learned from the queue's counts (the default) or read from CloudWatch.
 */
async function settledActions(
  c: { rate: number; medianMs: number; wobble: number; seed: number },
  serviceTimeSource: 'QueueCounts' | 'CloudWatch' = 'QueueCounts',
) {
  const w = parseWorkload({
    durationSeconds: 2 * 3600,
    model: { attributes: { lagSeconds: 2, wobble: c.wobble } },
    function: {
      timeout: 60,
      duration: { kind: 'lognormal', medianMs: c.medianMs, sigma: 0.3 },
      per: 'batch',
    },
    eventSource: { batchSize: 10 },
    traffic: [{ kind: 'constant', rate: c.rate }],
  });
  const s: LambdaConcurrencyScalerSpec = {
    ...spec(),
    awsLambdaMinConcurrency: 1,
    awsLamndaMaxConcurrency: 900,
    policy: { type: 'LatencySLO', latencySLO: { maxWaitSeconds: 30, serviceTimeSource } },
  };
  const r = await runOnce({
    workload: w,
    targets: [singleTarget(w, 'orders', s, 60)],
    seed: c.seed,
    strategy: { kind: 'operator', label: 'LatencySLO + ESM cap', specs: [s] },
  });
  return (r.targets[0]?.actions ?? []).filter((a) => a.t > 1800);
}

/** At most 2 scaling actions an hour once settled (the last 1.5 h of two hours of constant load). */
async function assertSettled(
  c: { rate: number; medianMs: number; wobble: number; seed: number },
  serviceTimeSource: 'QueueCounts' | 'CloudWatch' = 'QueueCounts',
) {
  const settled = await settledActions(c, serviceTimeSource);
  assert.ok(
    settled.length / 1.5 <= 2,
    `${settled.length} actions in the last 1.5 h: ${settled.map((a) => `${a.t}s ${a.from}→${a.to}`).join(', ')}`,
  );
}

/** Generated constant loads from one unit (20 messages/s × 0.5 s batches of 10) to several hundred. */
const constantLoad = fc.record({
  rate: fc.integer({ min: 20, max: 400 }),
  medianMs: fc.integer({ min: 500, max: 10_000 }),
  wobble: fc.double({ min: 0, max: 0.3, noNaN: true }),
  seed: fc.integer({ min: 1, max: 1000 }),
});

describe('LatencySLO at constant loads that generated cases found flapping (issue 15, item 2)', {
  timeout: 300_000,
}, () => {
  // Found with more generated cases than the property below runs: one calm poll's arrival estimate
  // 22 % high (the heavy-tailed in-flight count at a dozen units) scaled up at once, 14 ↔ 17.
  // Another (found with fast-check seed 13): the learning probe stepped down one or two units per
  // scale-down window as the in-flight count wandered, 4 actions in 1.5 h.
  for (const found of [
    { rate: 188, medianMs: 512, wobble: 0, seed: 982 },
    { rate: 131, medianMs: 986, wobble: 0, seed: 994 },
    // Loads of two or three units the learning probe never learns the throughput of: it went down
    // to where the load just fills the units, found them saturated 20 minutes later, doubled, and
    // went down again (8 ↔ 16, 7 ↔ 14; 5 actions in 1.5 h). It now stops above that edge.
    { rate: 29, medianMs: 1736, wobble: 0, seed: 422 },
    { rate: 20, medianMs: 2341, wobble: 0, seed: 1 },
  ])
    it(`makes at most 2 scaling actions an hour once settled at ${JSON.stringify(found)}`, async () => {
      await assertSettled(found);
    });
});

describe('LatencySLO at any constant load (issue 15, item 2, generated)', { timeout: 600_000 }, () => {
  it('settles and makes at most 2 scaling actions an hour, for generated loads, functions and noise up to ±30%', async () => {
    await fc.assert(
      fc.asyncProperty(constantLoad, async (c) => {
        await assertSettled(c);
      }),
      { numRuns: 40, seed: 1502 },
    );
  });
});

describe("LatencySLO on the function's Duration at constant load (issue 15, item 2)", {
  timeout: 600_000,
}, () => {
  // With what one unit processes known, a load of one or two units sits between two integers: the
  // need swung 0.9–1.6 with the noise, and a drop from 2 to 1 counted as a large drop (half),
  // skipped the scale-down window, saturated the one unit and came back a minute later (10 actions
  // in 1.5 h). A drop of one unit now waits out the window. Found by a wider search: 25/s (2 ↔ 3,
  // the hold band under the in-flight count's Poisson noise) and 22/s sized at the 80 % target
  // (10 ↔ 13: a poll with three messages waiting per unit scaled up at once on a noisy estimate).
  for (const found of [
    { rate: 20, medianMs: 500, wobble: 0.2, seed: 7 },
    { rate: 25, medianMs: 500, wobble: 0, seed: 234 },
    { rate: 22, medianMs: 3393, wobble: 0, seed: 7 },
    { rate: 25, medianMs: 1500, wobble: 0.3, seed: 5 },
    { rate: 40, medianMs: 1000, wobble: 0.3, seed: 3 },
  ])
    it(`makes at most 2 scaling actions an hour once settled at ${JSON.stringify(found)}`, async () => {
      await assertSettled(found, 'CloudWatch');
    });

  it('settles and makes at most 2 scaling actions an hour, for generated loads, functions and noise up to ±30%', async () => {
    await fc.assert(
      fc.asyncProperty(constantLoad, async (c) => {
        await assertSettled(c, 'CloudWatch');
      }),
      { numRuns: 20, seed: 1503 },
    );
  });
});
