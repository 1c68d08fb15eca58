// LatencySLO against a small fluid model of an SQS queue drained by a Lambda function: the
// estimator must find the right concurrency, follow load changes and hold still under steady load.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LambdaConcurrencyScalerSpec } from '../api/v1alpha1/index.ts';
import { decide } from './decide.ts';
import { spec, T0 } from './fixtures.ts';
import {
  fitThroughput,
  initialLatencyEstimates,
  recommendLatencySLO,
  updateEstimates,
} from './latency-slo.ts';
import { initialPolicyState } from './state.ts';
import { Reason } from './types.ts';

function slo(extra: Partial<LambdaConcurrencyScalerSpec> = {}): LambdaConcurrencyScalerSpec {
  return spec({
    awsLambdaMinConcurrency: 1,
    awsLamndaMaxConcurrency: 500,
    policy: { type: 'LatencySLO', latencySLO: { maxWaitSeconds: 60 } },
    ...extra,
  });
}

interface World {
  /** Arrivals per second at second s. */
  arrivals: (s: number) => number;
  /** Messages one unit processes per second. */
  perUnit: number;
  /** Seconds a message is in flight. */
  inFlightSeconds: number;
}

/** A deterministic pseudo-random sequence in [0, 1) (tests may not use Math.random either). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

/**
 * Runs the model second by second and decide() every `poll` seconds, applying decisions. Messages
 * arrive, wait (visible), are received into free slots (each unit holds perUnit x inFlightSeconds
 * messages), stay in flight inFlightSeconds, and are deleted: visible + in flight is conserved.
 */
/**
 * How the queue looks to the poll. `plain`: waiting messages are visible. `overpulled`: the event
 * source mapping has pulled every waiting message and Lambda throttled it, so it counts as in
 * flight (AWS's overpull); with `batchSize` the operator knows one unit holds that many messages.
 */
interface View {
  overpulled: boolean;
  batchSize?: number;
}

function simulate(
  s: LambdaConcurrencyScalerSpec,
  world: World,
  seconds: number,
  start = 5,
  poll = 30,
  view: View = { overpulled: false },
) {
  let state = initialPolicyState();
  let concurrency = start;
  let visible = 0;
  const received: number[] = []; // received per second, the last inFlightSeconds seconds
  const trace: { t: number; concurrency: number; visible: number; reason: string }[] = [];
  for (let t = 1; t <= seconds; t++) {
    if (received.length >= world.inFlightSeconds) received.shift(); // processed and deleted
    visible += world.arrivals(t);
    const inFlight = received.reduce((a, b) => a + b, 0);
    const free = Math.max(0, concurrency * world.perUnit * world.inFlightSeconds - inFlight);
    const take = Math.min(visible, free, concurrency * world.perUnit);
    visible -= take;
    received.push(take);
    if (t % poll === 0) {
      const now = T0 + t * 1000;
      const processing = Math.round(received.reduce((a, b) => a + b, 0));
      const metrics = view.overpulled
        ? { visible: 0, inFlight: processing + Math.round(visible), delayed: 0, observedAt: now }
        : { visible: Math.round(visible), inFlight: processing, delayed: 0, observedAt: now };
      const batch = view.batchSize === undefined ? {} : { batchSize: view.batchSize };
      const { decision, nextState } = decide(
        { spec: s, metrics, currentConcurrency: concurrency, ...batch },
        state,
        now,
      );
      state = JSON.parse(JSON.stringify(nextState));
      if (decision.desired !== null) concurrency = decision.desired;
      trace.push({ t, concurrency, visible, reason: decision.reason });
    }
  }
  return trace;
}

const changes = (trace: { concurrency: number }[]) =>
  trace.slice(1).filter((p, i) => p.concurrency !== trace[i]?.concurrency).length;

describe('the LatencySLO policy', () => {
  const world: World = { arrivals: () => 50, perUnit: 2, inFlightSeconds: 5 };
  // 50 messages/s at 2 per unit and 80% utilization need 31.25 units.

  it('learns the throughput and settles near arrivals / (throughput x utilization)', () => {
    const trace = simulate(slo(), world, 3600);
    const last = trace.at(-1);
    assert.ok(last !== undefined);
    // Never below the need; above it by at most the tolerance plus the bias of a throughput learned
    // while the pipeline was still filling (which only ever errs towards more concurrency).
    assert.ok(last.concurrency >= 32 && last.concurrency <= 38, `settled at ${last.concurrency}`);
    assert.equal(last.visible, 0);
  });

  it('holds still under steady load once settled', () => {
    const trace = simulate(slo(), world, 3600);
    assert.equal(changes(trace.slice(-60)), 0, JSON.stringify(trace.slice(-60).map((p) => p.concurrency)));
  });

  it('holds still under noisy steady load', () => {
    const random = lcg(7);
    const noisy: World = { ...world, arrivals: () => 50 * (0.6 + 0.8 * random()) };
    const trace = simulate(slo(), noisy, 3600);
    assert.ok(changes(trace.slice(-60)) <= 1, JSON.stringify(trace.slice(-60).map((p) => p.concurrency)));
  });

  it('drains a backlog within the stated wait, then follows a doubling of the load', () => {
    const doubling: World = { ...world, arrivals: (s) => (s < 1800 ? 50 : 100) };
    const trace = simulate(slo(), doubling, 3600);
    const last = trace.at(-1);
    assert.ok(last !== undefined);
    assert.ok(last.concurrency >= 63 && last.concurrency <= 76, `settled at ${last.concurrency}`);
    const afterStep = trace.filter((p) => p.t > 1800);
    const backlogged = afterStep.filter((p) => p.visible > 0).length;
    assert.ok(backlogged * 30 <= 600, `backlog stayed for ${backlogged * 30}s`);
  });

  it('comes down when the load falls', () => {
    const falling: World = { ...world, arrivals: (s) => (s < 1800 ? 50 : 10) };
    const trace = simulate(slo(), falling, 4800);
    const last = trace.at(-1);
    assert.ok(last !== undefined);
    assert.ok(last.concurrency >= 6 && last.concurrency <= 10, `settled at ${last.concurrency}`);
  });

  describe('when the mapping is capped (waiting messages stay visible) and the batch size is known', () => {
    const capped = { overpulled: false, batchSize: 10 };

    it('learns the throughput and settles as it does without the batch size', () => {
      const trace = simulate(slo(), world, 3600, 5, 30, capped);
      const last = trace.at(-1);
      assert.ok(last !== undefined);
      assert.ok(last.concurrency >= 32 && last.concurrency <= 38, `settled at ${last.concurrency}`);
      assert.equal(last.visible, 0);
    });

    const idleCases = {
      'does not probe up for messages seen between receives while units are partly idle': {
        inFlight: 60,
        up: false,
      },
      'does not probe up on one poll whose units hold full batches while less than a batch per unit waits': {
        inFlight: 100,
        up: false,
      },
      'probes up when every unit holds a full batch and messages still wait at two polls in a row': {
        inFlight: 100,
        before: { visible: 30, inFlight: 100 },
        up: true,
      },
      'probes up at once when a full batch waits for every unit, however few are in flight yet': {
        inFlight: 20,
        visible: 500,
        up: true,
      },
    } satisfies Record<
      string,
      { inFlight: number; visible?: number; before?: { visible: number; inFlight: number }; up: boolean }
    >;
    for (const [name, c] of Object.entries(idleCases)) {
      it(name, () => {
        const poll = (
          state: ReturnType<typeof initialPolicyState>,
          at: number,
          m: { visible: number; inFlight: number },
        ) =>
          decide(
            {
              spec: slo(),
              metrics: { ...m, delayed: 0, observedAt: at },
              currentConcurrency: 10,
              batchSize: 10,
            },
            state,
            at,
          );
        const state =
          'before' in c ? poll(initialPolicyState(), T0 - 30_000, c.before).nextState : initialPolicyState();
        const { decision } = poll(state, T0, {
          visible: 'visible' in c ? c.visible : 30,
          inFlight: c.inFlight,
        });
        assert.equal(decision.reason, Reason.LatencySLOLearning);
        assert.equal((decision.desired ?? 10) > 10, c.up, decision.message);
      });
    }

    const probeUpCases = {
      'doubles under the default scale-up rate (100 % per 15 s)': { behavior: undefined, desired: 8 },
      'goes as far as a faster scale-up rate allows, one unit per waiting batch (at most ×8)': {
        behavior: { scaleUp: { policies: [{ type: 'Percent' as const, value: 900, periodSeconds: 15 }] } },
        desired: 32,
      },
      'goes no further than the waiting batches': {
        behavior: { scaleUp: { policies: [{ type: 'Percent' as const, value: 900, periodSeconds: 15 }] } },
        visible: 120,
        desired: 12,
      },
    } satisfies Record<
      string,
      { behavior: LambdaConcurrencyScalerSpec['behavior']; visible?: number; desired: number }
    >;
    for (const [name, c] of Object.entries(probeUpCases)) {
      it(`probing up before the throughput is known, ${name}`, () => {
        const { decision } = decide(
          {
            spec: slo(c.behavior === undefined ? {} : { behavior: c.behavior }),
            metrics: { visible: 'visible' in c ? c.visible : 2578, inFlight: 40, delayed: 0, observedAt: T0 },
            currentConcurrency: 4,
            batchSize: 10,
          },
          initialPolicyState(),
          T0,
        );
        assert.equal(decision.reason, Reason.LatencySLOLearning);
        assert.equal(decision.desired, c.desired, decision.message);
      });
    }

    const probeDownCases = {
      'goes past half where the served messages fill less than 40 % of half the batches (10 units holding 15 → 4)':
        {
          inFlight: 15,
          desired: 4,
        },
      'halves where the served messages fill 40 % of half the batches or more (10 units holding 30 → 5)': {
        inFlight: 30,
        desired: 5,
      },
      'goes no lower than an eighth at once (80 units holding 10 → 10)': {
        current: 80,
        inFlight: 10,
        desired: 10,
      },
      'stops above half where the served messages would fill 80 % (20 units holding 100 messages → 13)': {
        current: 20,
        inFlight: 100,
        desired: 13,
      },
      'holds rather than move by less than a fifth (16 units holding 100 messages would go to 13)': {
        current: 16,
        inFlight: 100,
        desired: null,
      },
      'holds when no unit can go without the rest filling more than 80 %': { inFlight: 75, desired: null },
    } satisfies Record<string, { current?: number; inFlight: number; desired: number | null }>;
    for (const [name, c] of Object.entries(probeDownCases)) {
      it(`probing down before the throughput is known, ${name}`, () => {
        const { decision } = decide(
          {
            spec: slo({ behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } }),
            metrics: { visible: 0, inFlight: c.inFlight, delayed: 0, observedAt: T0 },
            currentConcurrency: 'current' in c ? c.current : 10,
            batchSize: 10,
          },
          initialPolicyState(),
          T0,
        );
        assert.equal(decision.reason, Reason.LatencySLOLearning);
        assert.equal(decision.desired, c.desired, decision.message);
      });
    }

    const guesses = {
      'the cap allowing large drops after 60 s': slo({
        eventSourceMapping: { manageMaximumConcurrency: true },
      }),
      'a 120 s window': slo({ behavior: { scaleDown: { stabilizationWindowSeconds: 120 } } }),
    };
    for (const [name, s] of Object.entries(guesses))
      it(`probes down no sooner than 300 s, even with ${name}`, () => {
        // Learning (no throughput yet), 10 units, 15 messages in flight, none waiting: the probe
        // asks for 5 (a large drop). A guess waits the HPA's 300 s whatever the window.
        let state = initialPolicyState();
        let current = 10;
        let downAt: number | undefined;
        for (let i = 0; i <= 20; i++) {
          const at = T0 + i * 30_000;
          const { decision, nextState } = decide(
            {
              spec: s,
              metrics: { visible: 0, inFlight: 15, delayed: 0, observedAt: at },
              currentConcurrency: current,
              batchSize: 10,
            },
            state,
            at,
          );
          state = nextState;
          assert.equal(decision.reason, Reason.LatencySLOLearning);
          if (decision.desired !== null && decision.desired < current && downAt === undefined)
            downAt = at - T0;
          if (decision.desired !== null) current = decision.desired;
        }
        assert.ok(current < 10, 'it did probe down');
        assert.ok(downAt !== undefined && downAt >= 300_000, `probed down after ${downAt} ms`);
      });

    it('fits the throughput only from intervals whose units were all busy at the end', () => {
      const snap = (t: number, visible: number, inFlight: number) => ({
        t: T0 + t * 1000,
        visible,
        inFlight,
        delayed: 0,
      });
      let busy = updateEstimates(initialLatencyEstimates(), snap(0, 40, 100), 10, 10);
      busy = updateEstimates(busy, snap(30, 60, 100), 10, 10);
      assert.equal(busy.samples.length, 1, 'both ends waiting, every batch slot full');
      let idle = updateEstimates(initialLatencyEstimates(), snap(0, 40, 100), 10, 10);
      idle = updateEstimates(idle, snap(30, 30, 55), 10, 10);
      assert.equal(idle.samples.length, 0, 'messages visible, but units idle by the end');
    });
  });

  describe('when the event source mapping overpulls (waiting messages show as in flight)', () => {
    // One unit holds perUnit x inFlightSeconds = 10 messages: the mapping's batch size.
    const overpulled = { overpulled: true, batchSize: 10 };

    it('sees the backlog through the batch size and settles as it does when messages stay visible', () => {
      const trace = simulate(slo(), world, 3600, 5, 30, overpulled);
      const last = trace.at(-1);
      assert.ok(last !== undefined);
      assert.ok(last.concurrency >= 32 && last.concurrency <= 38, `settled at ${last.concurrency}`);
      assert.equal(last.visible, 0);
    });

    it('drains a doubling of the load within the stated wait', () => {
      const doubling: World = { ...world, arrivals: (sec) => (sec < 1800 ? 50 : 100) };
      const trace = simulate(slo(), doubling, 3600, 5, 30, overpulled);
      const last = trace.at(-1);
      assert.ok(last !== undefined);
      assert.ok(last.concurrency >= 63 && last.concurrency <= 76, `settled at ${last.concurrency}`);
      const backlogged = trace.filter((p) => p.t > 1800 && p.visible > 0).length;
      assert.ok(backlogged * 30 <= 600, `backlog stayed for ${backlogged * 30}s`);
    });

    it('comes down when a surge it met before any calm spell ends', () => {
      // 10 minutes of surge from the start, then a tenth of it.
      const falling: World = { ...world, arrivals: (sec) => (sec < 600 ? 100 : 10) };
      const trace = simulate(slo(), falling, 4800, 5, 30, overpulled);
      const last = trace.at(-1);
      assert.ok(last !== undefined);
      assert.ok(last.concurrency >= 6 && last.concurrency <= 10, `settled at ${last.concurrency}`);
    });

    it('never scales up without the batch size: the backlog is invisible to it (the old behaviour)', () => {
      const trace = simulate(slo(), world, 1800, 5, 30, { overpulled: true });
      assert.ok(
        trace.every((p) => p.concurrency <= 5),
        JSON.stringify(trace.map((p) => p.concurrency)),
      );
    });
  });

  const overpullCases = {
    'probes up when throttled batches wait in flight beyond reserved × batch size, none visible': {
      batchSize: 10,
      desired: 10,
    },
    'does not see them without the batch size (probes down, held by the scale-down window)': {
      batchSize: undefined,
      desired: null,
    },
  } satisfies Record<string, { batchSize: number | undefined; desired: number | null }>;
  for (const [name, c] of Object.entries(overpullCases)) {
    it(name, () => {
      const { decision } = decide(
        {
          spec: slo(),
          metrics: { visible: 0, inFlight: 500, delayed: 0, observedAt: T0 },
          currentConcurrency: 5,
          ...(c.batchSize === undefined ? {} : { batchSize: c.batchSize }),
        },
        initialPolicyState(),
        T0,
      );
      assert.equal(decision.reason, Reason.LatencySLOLearning);
      assert.equal(decision.desired, c.desired);
    });
  }

  it('probes upwards while it does not yet know the throughput and messages wait', () => {
    const s = slo();
    const at = (sec: number) => T0 + sec * 1000;
    const first = decide(
      {
        spec: s,
        metrics: { visible: 500, inFlight: 10, delayed: 0, observedAt: at(0) },
        currentConcurrency: 5,
      },
      initialPolicyState(),
      at(0),
    );
    assert.equal(first.decision.reason, Reason.LatencySLOLearning);
    assert.equal(first.decision.desired, 10);
  });
});

describe('fitThroughput', () => {
  it('recovers the throughput per unit from growth at several concurrencies', () => {
    // growth = 50 - 2c
    const samples: [number, number, number][] = [5, 10, 20].map((c, i) => [i, c, 50 - 2 * c]);
    assert.ok(Math.abs((fitThroughput(samples) ?? 0) - 2) < 1e-9);
  });

  it('refuses to guess when every interval ran at the same concurrency', () => {
    assert.equal(
      fitThroughput([
        [0, 10, 5],
        [1, 10, 7],
      ]),
      null,
    );
  });

  it('refuses a fit that says more concurrency drains slower', () => {
    assert.equal(
      fitThroughput([
        [0, 10, 5],
        [1, 20, 9],
      ]),
      null,
    );
  });
});

describe("the learning probe's edge (issue 15, item 1)", () => {
  const T = 1_800_000_000_000;
  const config = {
    type: 'LatencySLO' as const,
    maxWaitSeconds: 30,
    targetUtilization: 0.8,
    tolerance: 0.1,
    serviceTimeSource: 'QueueCounts' as const,
  };
  /** 16 units, nothing waiting, the throughput not known; the edge, if any, found at 8 units holding 70. */
  const probe = (inFlight: number, edge: [number, number, number] | null, now = T + 600_000) =>
    recommendLatencySLO(
      { ...initialLatencyEstimates(), last: [now, 0, inFlight, 0, 16], edge },
      0,
      16,
      false,
      config,
      false,
      { inFlight, batchSize: 10 },
    ).recommendation;

  it('probes down to where the served messages fill 80 % without an edge', () => {
    assert.equal(probe(60, null), 8);
  });
  it('stops a fifth above the edge while the load is what it was there, and says so', () => {
    assert.equal(probe(60, [T, 8, 70]), 10);
    const { message } = recommendLatencySLO(
      { ...initialLatencyEstimates(), last: [T, 0, 60, 0, 16], edge: [T, 8, 70] },
      0,
      16,
      false,
      config,
      false,
      { inFlight: 60, batchSize: 10 },
    );
    assert.match(message, /from 16 to 10 \(a fifth above the 8 units found saturated at this load\)/);
  });
  it('forgets the edge for a load under 70 % of the edge’s', () => {
    assert.equal(probe(20, [T, 8, 70]), 5);
  });
  it('forgets the edge after three hours', () => {
    assert.equal(probe(60, [T, 8, 70], T + 3 * 3_600_000 + 1), 8);
  });
  it('is set where two polls in a row find the units saturated with less than a batch waiting per unit', () => {
    const s = slo({ behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } });
    const poll = (state: ReturnType<typeof initialPolicyState>, t: number, visible: number) =>
      decide(
        {
          spec: s,
          metrics: { visible, inFlight: 70, delayed: 0, observedAt: t },
          currentConcurrency: 8,
          batchSize: 10,
        },
        state,
        t,
      );
    const first = poll(initialPolicyState(), T0, 20);
    assert.equal(first.nextState.latency?.edge ?? null, null, 'one poll is not enough');
    const second = poll(first.nextState, T0 + 30_000, 20);
    assert.deepEqual(second.nextState.latency?.edge, [T0 + 30_000, 8, 70]);
    const flooded = poll(initialPolicyState(), T0, 80);
    assert.equal(
      flooded.nextState.latency?.edge ?? null,
      null,
      'a full batch waiting per unit is load beyond the edge',
    );
  });
});

describe('updateEstimates after a saturated spell (issue 15, item 1)', () => {
  const T = 1_800_000_000_000;
  /** Learned throughput 1/s per unit; the spell ended at T with 40 units and 400 served in flight. */
  const afterSpell = () => ({
    ...initialLatencyEstimates(),
    last: [T, 500, 400, 0, 40] as [number, number, number, number, number],
    samples: [[T, 40, 5] as [number, number, number]],
    throughputPerUnit: 1,
    arrivalRate: 50,
    spell: [T, 40, 400] as [number, number, number],
  });

  it('anchors the time in flight at the first usable calm interval, even when the one right after the spell was skipped', () => {
    // The write at the end of the spell changed the concurrency (40 → 60): that interval is skipped.
    const skipped = updateEstimates(
      afterSpell(),
      { t: T + 30_000, visible: 0, inFlight: 120, delayed: 0 },
      60,
    );
    assert.equal(skipped.inFlightSeconds, null);
    const calm = updateEstimates(skipped, { t: T + 60_000, visible: 0, inFlight: 100, delayed: 0 }, 60);
    assert.equal(calm.inFlightSeconds, 10, '400 served / (40 units × 1/s)');
    assert.ok(
      (calm.arrivalRate ?? 50) < 50,
      `the arrival rate moves towards 110/10 = 11/s: ${calm.arrivalRate}`,
    );
    const later = updateEstimates(calm, { t: T + 90_000, visible: 0, inFlight: 100, delayed: 0 }, 60);
    assert.equal(later.inFlightSeconds, 10, 'one anchor per spell');
  });

  it('keeps learning while the account refuses the decided concurrency, and skips only a real change', () => {
    // After the spell 60 was decided each poll, but the account's headroom left 40 in effect: the
    // observed concurrency never moved, so each interval ran at 40. Skipping them froze 50/s on a
    // load of 11/s, and the policy kept asking for the refused 60 (issue 15).
    let e = updateEstimates(afterSpell(), { t: T + 30_000, visible: 0, inFlight: 110, delayed: 0 }, 40);
    for (let i = 2; i <= 10; i++) {
      e = { ...e, last: e.last === null ? null : [e.last[0], e.last[1], e.last[2], e.last[3], 60] };
      e = updateEstimates(e, { t: T + i * 30_000, visible: 0, inFlight: 110, delayed: 0 }, 40);
    }
    assert.ok(Math.abs((e.arrivalRate ?? 0) - 11) < 1, `the rate follows the load: ${e.arrivalRate}`);
    // Neither the decided 60 nor the 40 seen before: changed outside the operator during the
    // interval, which ran partly at each, so it is skipped.
    const moved = updateEstimates(
      { ...e, last: e.last === null ? null : [e.last[0], e.last[1], e.last[2], e.last[3], 60] },
      { t: T + 330_000, visible: 0, inFlight: 500, delayed: 0 },
      50,
    );
    assert.equal(moved.arrivalRate, e.arrivalRate);
    assert.equal(moved.calmPolls, 0);
  });

  it('reads arrivals as completions plus net growth when a calm interval drains the backlog, from the first calm interval on', () => {
    // 500 waiting and 400 served at the end of the spell; 30 s later nothing waits, 300 are in
    // flight: the 40 units completed 350 / 10 s = 35/s, and the queue shrank by 600 / 30 = 20/s,
    // so 15/s arrived. Smoothing from the spell's 50/s towards 35/s (the drain read as arrivals)
    // held a 10× step's probe units for minutes, and the gap counted as noise.
    // The noise measured before the spell (at another load) is forgotten too: carried over, it
    // held the 10× step's units in a ±40 % band for minutes after the burst.
    const calm = updateEstimates(
      { ...afterSpell(), noise: 0.3 },
      { t: T + 30_000, visible: 0, inFlight: 300, delayed: 0 },
      40,
    );
    assert.equal(calm.inFlightSeconds, 10);
    assert.ok(Math.abs((calm.arrivalRate ?? 0) - 15) < 1e-9, `${calm.arrivalRate}`);
    assert.equal(calm.noise, null, 'switching estimators is not noise in the counts, nor is the old load');
    const steady = updateEstimates(calm, { t: T + 60_000, visible: 0, inFlight: 150, delayed: 0 }, 40);
    assert.ok(
      steady.noise !== null && steady.noise !== undefined,
      'the next calm interval measures the noise',
    );
  });

  it('lets the arrival rate fall on an empty queue even before any anchor', () => {
    let e = { ...afterSpell(), spell: null, throughputPerUnit: null };
    e.last = [T, 0, 0, 0, 40];
    for (let i = 1; i <= 10; i++)
      e = updateEstimates(e, { t: T + i * 30_000, visible: 0, inFlight: 0, delayed: 0 }, 40) as typeof e;
    assert.ok((e.arrivalRate ?? 50) < 1, `five minutes of an empty queue: ${e.arrivalRate}`);
  });
});

describe('a measured service time (serviceTimeSource: CloudWatch, issue 15)', () => {
  const T = T0;
  const snap = (t: number, visible: number, inFlight: number) => ({ t, visible, inFlight, delayed: 0 });

  it('takes what one unit processes and the time in flight from the Duration and the batch size at once', () => {
    const e = updateEstimates(initialLatencyEstimates(), snap(T, 0, 40), 10, 10, 2);
    assert.equal(e.throughputPerUnit, 5, 'a batch of 10 per 2 s');
    assert.equal(e.inFlightSeconds, 2);
    assert.equal(e.arrivalRate, null, 'one snapshot is no interval yet');
  });

  it('knows the arrival rate after one calm interval, where the counts alone never learn it', () => {
    let counted = initialLatencyEstimates();
    let measured = initialLatencyEstimates();
    // 20 messages/s on 10 units that each take a batch per 2 s: 40 in flight, nothing waits.
    for (let i = 0; i < 20; i++) {
      counted = updateEstimates(counted, snap(T + i * 30_000, 0, 40), 10, 10);
      measured = updateEstimates(measured, snap(T + i * 30_000, 0, 40), 10, 10, 2);
    }
    assert.equal(counted.throughputPerUnit, null);
    assert.equal(counted.arrivalRate, null);
    assert.equal(measured.arrivalRate, 20, 'in flight / Duration');
    const config = {
      type: 'LatencySLO' as const,
      maxWaitSeconds: 30,
      targetUtilization: 0.8,
      tolerance: 0.1,
      serviceTimeSource: 'CloudWatch' as const,
    };
    const rec = recommendLatencySLO(measured, 0, 10, false, config, false, { inFlight: 40, batchSize: 10 });
    assert.equal(rec.reason, Reason.LatencySLO);
    assert.equal(rec.recommendation, 5, '20/s at 5/s per unit and 80 % need 5');
  });

  it('does not let the fit of saturated intervals override it', () => {
    let e = initialLatencyEstimates();
    // Saturated at 10 and then 20 units with growth that would fit 0.5 message/s per unit.
    e = updateEstimates(e, snap(T, 500, 100), 10, 10, 2);
    e = updateEstimates(e, snap(T + 30_000, 650, 100), 10, 10, 2);
    e = updateEstimates(
      { ...e, last: [T + 30_000, 650, 200, 0, 20] },
      snap(T + 60_000, 650 + 30 * 0, 200),
      20,
      10,
      2,
    );
    assert.ok(e.samples.length >= 1);
    assert.equal(e.throughputPerUnit, 5);
    assert.equal(
      fitThroughput([
        [T, 10, 5],
        [T + 1, 20, 0],
      ]),
      0.5,
      'what the counts alone would have learned',
    );
  });

  it('follows the Duration as it changes (a slower dependency)', () => {
    let e = updateEstimates(initialLatencyEstimates(), snap(T, 0, 40), 10, 10, 2);
    e = updateEstimates(e, snap(T + 30_000, 0, 80), 10, 10, 4);
    assert.equal(e.throughputPerUnit, 2.5);
    assert.equal(e.inFlightSeconds, 4);
  });

  it('is ignored without a batch size, or when it is not a positive number', () => {
    for (const [batch, d] of [
      [undefined, 2],
      [10, 0],
      [10, Number.NaN],
      [10, -1],
      [10, Number.POSITIVE_INFINITY],
    ] as const) {
      const e = updateEstimates(initialLatencyEstimates(), snap(T, 0, 40), 10, batch, d);
      assert.equal(e.throughputPerUnit, null, `${batch} ${d}`);
      assert.equal(e.inFlightSeconds, null, `${batch} ${d}`);
    }
  });
});

describe('a measured scale-up (config.ts measuredScaleUp, issue 15)', () => {
  // 10 units of a function taking a batch of 10 in 2 s (5 messages/s each) at 20 messages/s; then
  // a burst: 3,000 messages wait, every unit full. The need is (arrivals + 3,000 / 30 s) / (5 × 80 %).
  const capped = (extra: Partial<LambdaConcurrencyScalerSpec> = {}) =>
    slo({
      awsLambdaMinConcurrency: 10,
      policy: { type: 'LatencySLO', latencySLO: { maxWaitSeconds: 30, serviceTimeSource: 'CloudWatch' } },
      eventSourceMapping: { manageMaximumConcurrency: true },
      ...extra,
    });
  const poll = (
    s: LambdaConcurrencyScalerSpec,
    state: ReturnType<typeof initialPolicyState>,
    at: number,
    current: number,
    visible: number,
    inFlight: number,
  ) =>
    decide(
      {
        spec: s,
        metrics: { visible, inFlight, delayed: 0, observedAt: at },
        currentConcurrency: current,
        batchSize: 10,
        serviceTimeSeconds: 2,
      },
      state,
      at,
    );
  /** Two calm polls, then the burst's poll. */
  const burst = (s: LambdaConcurrencyScalerSpec) => {
    let state = initialPolicyState();
    state = poll(s, state, T0, 10, 0, 40).nextState;
    state = poll(s, state, T0 + 30_000, 10, 0, 40).nextState;
    return poll(s, state, T0 + 60_000, 10, 3000, 100);
  };

  it('goes to the need at once, past the default rate policies (100 % per 15 s would give 20)', () => {
    const r = burst(capped());
    assert.equal(r.decision.reason, Reason.LatencySLO);
    assert.ok((r.decision.desired ?? 0) >= 40, `desired ${r.decision.desired}: ${r.decision.message}`);
    assert.equal(r.decision.desired, r.decision.recommendation);
    assert.match(r.decision.message, /past the scale-up rate policies/);
  });

  it("names the Duration its throughput per unit came from, and says nothing of it with the counts' estimate", () => {
    assert.match(
      burst(capped()).decision.message,
      /at 5\/s per unit \(a batch of 10 per 2 s, the function's mean Duration\) and 80% utilization/,
    );
    const counts = burst(capped({ policy: { type: 'LatencySLO', latencySLO: { maxWaitSeconds: 30 } } }));
    assert.doesNotMatch(counts.decision.message, /Duration/);
  });

  it('keeps scale-up rules the user wrote', () => {
    const r = burst(
      capped({
        behavior: { scaleUp: { policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] } },
      }),
    );
    assert.equal(r.decision.desired, 20, r.decision.message);
    const disabled = burst(capped({ behavior: { scaleUp: { selectPolicy: 'Disabled' } } }));
    assert.equal(disabled.decision.desired, null, disabled.decision.message);
  });

  it('keeps the rate policies when the service time is learned from the counts', () => {
    const s = capped({ policy: { type: 'LatencySLO', latencySLO: { maxWaitSeconds: 30 } } });
    const r = burst(s);
    assert.ok((r.decision.desired ?? 0) <= 20, `desired ${r.decision.desired}: ${r.decision.message}`);
  });

  it('lets the drain’s units go at the first calm poll with the mapping capped, and holds them the window without the cap', () => {
    for (const [s, held] of [
      [capped(), false],
      [capped({ eventSourceMapping: undefined }), true],
    ] as const) {
      const up = burst(s);
      const units = up.decision.desired ?? 0;
      // 30 s later the backlog is gone; 150 messages/s arrive: 300 in flight for 2 s each.
      const calm = poll(s, up.nextState, T0 + 90_000, units, 0, 300);
      const after = calm.decision.desired ?? units;
      if (held) assert.equal(after, units, `uncapped: ${calm.decision.message}`);
      else assert.ok(after < units && after >= 10, `capped: ${units} → ${after}: ${calm.decision.message}`);
    }
  });
});

describe('the first calm interval after a saturated spell, with the service time measured (issue 15)', () => {
  const snap = (t: number, visible: number, inFlight: number) => ({ t, visible, inFlight, delayed: 0 });
  it('reads the arrivals from its end, no more than the spell’s estimate', () => {
    // 80 units saturated at 5/s each while 4,264 wait; the backlog runs out inside the next
    // interval, whose end shows 293 served in flight at 2 s each: about 146/s arrive. The mean of
    // the two ends plus the (drained) growth read 14/s.
    let e = updateEstimates(initialLatencyEstimates(), snap(T0, 4000, 800), 80, 10, 2);
    e = updateEstimates(e, snap(T0 + 30_000, 4264, 800), 80, 10, 2);
    assert.ok(e.spell !== null && e.spell !== undefined, 'a saturated spell');
    const spell = e.arrivalRate ?? 0;
    assert.ok(Math.abs(spell - (264 / 30 + 400)) < 1e-6, `the spell's estimate ${spell}`);
    e = updateEstimates(e, snap(T0 + 60_000, 6, 293), 80, 10, 2);
    assert.equal(e.arrivalRate, 146.5);
    // A poll just after the backlog ran out, its last batches still in flight (300 at 2 s read
    // 150/s): no more than the spell's 140/s.
    let f = updateEstimates(initialLatencyEstimates(), snap(T0, 4000, 300), 30, 10, 2);
    f = updateEstimates(f, snap(T0 + 30_000, 3700, 300), 30, 10, 2);
    assert.equal(f.arrivalRate, 140);
    f = updateEstimates(f, snap(T0 + 60_000, 5, 300), 30, 10, 2);
    assert.equal(f.arrivalRate, 140);
  });
});
