// Every sentence the report generates, checked on crafted results — including the thundering herd
// of issue 13, where the old oracle was beaten and "out of reach" was claimed while static max +
// cap reached 0.00%.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ORIGINAL,
  PROVISIONED_ALONE,
  PROVISIONED_POLLERS,
  REACTIVE_AT_POLLS,
  REACTIVE_FAIR,
  REACTIVE_REFERENCE,
  RECOMMENDED,
  REFERENCE,
  STATIC_MAX,
  STATIC_MAX_CAPPED,
  WITHOUT_CAP,
} from './bench.ts';
import {
  type Aggregate,
  cheapestNearBest,
  fewestViolations,
  outOfReach,
  type RunPoint,
  referenceBreaches,
  staticMaxFloor,
  verdicts,
} from './claims.ts';

/** An aggregate with the numbers a claim reads; everything else zero. */
function agg(
  strategy: string,
  pct: number,
  capacityHours: number,
  more: Partial<Aggregate['mean']> = {},
): Aggregate {
  const zero = {
    sent: 100_000,
    deleted: 100_000,
    pctOverSlo: pct,
    overSlo: pct * 1000,
    p50Seconds: 0,
    p99Seconds: 0,
    maxSeconds: 0,
    throttles: 0,
    errors: 0,
    invocations: 10_000,
    dlqMoves: 0,
    overMaxSeconds: 0,
    leftover: 0,
    capacityHours,
    boundCapacityHours: 0,
    boundOverSlo: 0,
    underHours: 0,
    overHours: 0,
    actions: 0,
    actionsPerHour: 0,
    demandChangesPerHour: 0,
    episodes: 0,
    apiCallsPerHour: 0,
    costPerMonth: 0,
  };
  return {
    strategy,
    runs: 1,
    intervalSeconds: 30,
    mean: { ...zero, ...more },
    pctMin: pct,
    pctMax: pct,
    episodes: 0,
    worstReaction: null,
  };
}

/**
 * The thundering herd of issue 13: the reference cut capacity while tens of thousands of messages
 * waited; static max + cap, KEDA-like and the recommended policy all did better with less.
 */
const herd = [
  agg(ORIGINAL, 60, 20),
  agg('KEDA-like', 0.5, 40),
  agg(RECOMMENDED, 0.8, 45),
  agg(STATIC_MAX, 3, 100, { throttles: 5000 }),
  agg(STATIC_MAX_CAPPED, 0, 100),
  agg(REFERENCE, 5, 50),
];

describe('outOfReach', () => {
  it('says nothing in the thundering herd: static max + cap reached 0.00%, so ~0% was within reach', () => {
    assert.equal(outOfReach(herd), null);
  });

  it('says "out of reach" when the lower bound proves more than 1% unavoidable, with the causes the floor shows', () => {
    const aggs = [
      agg(RECOMMENDED, 12, 40),
      agg(STATIC_MAX_CAPPED, 4, 100, { boundOverSlo: 3000, overMaxSeconds: 600 }),
      agg(REFERENCE, 4.5, 60),
    ];
    assert.equal(
      outOfReach(aggs),
      '~0% is out of reach here: the lower bound proves 3.00% of the messages cannot be processed within the SLO at the maximum concurrency, and the best strategy, static max + ESM cap, left 4.00% — for 600 s the arrivals (60 s mean) exceeded what the maximum concurrency processes',
    );
  });

  it('does not call ~0% out of reach when the bound does not prove it, only that nobody reached it', () => {
    const aggs = [agg(RECOMMENDED, 50, 40), agg(STATIC_MAX_CAPPED, 2.5, 100), agg(REFERENCE, 9, 60)];
    assert.equal(
      outOfReach(aggs),
      'No strategy reached ~0% here, though the lower bound does not rule it out (it proves 0.00% unavoidable): the best, static max + ESM cap, left 2.50%',
    );
  });
});

describe('fewestViolations', () => {
  it('leaves the reference aside and names every strategy tied at the lowest share', () => {
    assert.equal(
      fewestViolations(herd),
      'Fewest SLO violations (references aside): 0.00%, by static max + ESM cap (100.0 capacity-hours).',
    );
    const tie = [
      agg('a', 0.001, 10),
      agg('b', 0.004, 20),
      agg(REFERENCE, 0, 5),
      agg(REACTIVE_REFERENCE, 0, 4),
    ];
    assert.match(
      fewestViolations(tie) ?? '',
      /0\.00%, by a \(10\.0 capacity-hours\), b \(20\.0 capacity-hours\)/,
    );
  });
});

describe('a miss on violations, split at the reactive reference', () => {
  const byStrategy = (reactive: number) =>
    new Map(
      [
        agg(RECOMMENDED, 38, 14),
        agg(ORIGINAL, 65, 14),
        agg(REFERENCE, 31.5, 17),
        agg(REACTIVE_REFERENCE, reactive, 13),
      ].map((a) => [a.strategy, a]),
    );
  const near = (m: Map<string, Aggregate>) =>
    verdicts(m, RECOMMENDED).find((v) => v.goal.startsWith('within 1.25×'))?.reason ?? '';

  it('says how much foresight buys over exact reaction and how much is the policy’s own', () => {
    const why = near(byStrategy(33.5));
    assert.match(why, /the reactive reference .* gets 33\.50% with 13\.0 capacity-hours/);
    assert.match(why, /2\.00 pp of the gap lie between the two references/);
    assert.match(why, /4\.50 pp lie between the policy and exact reaction/);
  });

  it('says when the policy is as good as exact reaction, or foresight buys nothing', () => {
    const why = near(byStrategy(31.8));
    assert.match(why, /foresight buys no more than 1 pp over exact reaction here/);
    assert.match(why, /6\.20 pp lie between the policy and exact reaction/);
    assert.match(near(byStrategy(37.5)), /the policy is within 1 pp of exact reaction/);
  });

  it('is left out where the goal is met, and without a reactive reference', () => {
    const met = new Map(
      [
        agg(RECOMMENDED, 31.6, 14),
        agg(ORIGINAL, 65, 14),
        agg(REFERENCE, 31.5, 17),
        agg(REACTIVE_REFERENCE, 33, 13),
      ].map((a) => [a.strategy, a]),
    );
    assert.doesNotMatch(near(met), /reactive/);
    const none = byStrategy(33.5);
    none.delete(REACTIVE_REFERENCE);
    assert.doesNotMatch(near(none), /reactive/);
  });
});

describe('a miss on violations, split along the reactive ladder', () => {
  const accounts = (rungs: Aggregate[], interval = 30) =>
    new Map(
      [
        { ...agg(RECOMMENDED, 40, 190), intervalSeconds: interval },
        agg(ORIGINAL, 97, 130),
        agg(REFERENCE, 9, 180),
        { ...agg(REACTIVE_REFERENCE, 20, 148), intervalSeconds: 10 },
        ...rungs,
      ].map((a) => [a.strategy, a]),
    );
  const near = (m: Map<string, Aggregate>) =>
    verdicts(m, RECOMMENDED).find((v) => v.goal.startsWith('within 1.25×'))?.reason ?? '';

  it('names what the poll interval and fair sharing cost, and measures the policy against the last rung', () => {
    const why = near(accounts([agg(REACTIVE_AT_POLLS, 38, 149), agg(REACTIVE_FAIR, 36.5, 149)]));
    assert.match(why, /11\.00 pp of the gap lie between the two references/);
    assert.match(
      why,
      /re-sizing only every 30 s, when the policy polls, costs exact reaction 18\.00 pp \(38\.00%\)/,
    );
    assert.match(why, /sharing the account's headroom fairly, .* gains it 1\.50 pp \(36\.50%\)/);
    assert.match(
      why,
      /3\.50 pp lie between the policy and exact reaction at its poll interval and sharing \(approximate counts/,
    );
    assert.doesNotMatch(why, /polls, approximate/);
  });

  it('stops at the poll interval where one scaler has the account, and says when the policy is within 1 pp of it', () => {
    const why = near(accounts([agg(REACTIVE_AT_POLLS, 39.5, 149)]));
    assert.match(why, /costs exact reaction 19\.50 pp \(39\.50%\)/);
    assert.doesNotMatch(why, /sharing/);
    assert.match(why, /the policy is within 1 pp of exact reaction at its poll interval$/);
  });

  it('leaves the poll-interval rung out for a policy that polls at another interval', () => {
    const why = near(accounts([agg(REACTIVE_AT_POLLS, 38, 149), agg(REACTIVE_FAIR, 36.5, 149)], 10));
    assert.doesNotMatch(why, /re-sizing only|sharing/);
    assert.match(why, /20\.00 pp lie between the policy and exact reaction \(polls, approximate counts/);
  });
});

describe('cheapestNearBest', () => {
  it('names the strategy within 1 pp of the best that held the least, and nothing when that is the best', () => {
    assert.equal(
      cheapestNearBest(herd),
      'Within 1 pp of that with the least capacity: KEDA-like, 0.50% with 40.0 capacity-hours.',
    );
    assert.equal(cheapestNearBest([agg('a', 0, 10), agg('b', 0.5, 20)]), null);
  });
});

describe('staticMaxFloor', () => {
  it('calls static max the floor only when no uncapped strategy had fewer violations', () => {
    assert.match(
      staticMaxFloor(herd, [ORIGINAL, 'KEDA-like']) ?? '',
      /had fewer without the cap, so it is no floor here/,
    );
    assert.match(
      staticMaxFloor([agg(STATIC_MAX, 3, 100, { throttles: 10 }), agg(WITHOUT_CAP, 4, 50)], [WITHOUT_CAP]) ??
        '',
      /this is the floor of violations for any policy that sets reserved concurrency alone/,
    );
    assert.equal(
      staticMaxFloor([agg(STATIC_MAX, 0, 100)], []),
      null,
      'no throttles: no overpull to speak of',
    );
  });
});

describe('verdicts', () => {
  const byName = (aggs: Aggregate[]) => new Map(aggs.map((a) => [a.strategy, a]));

  it('passes "beats the original" only with fewer violations and no more capacity', () => {
    const [beats] = verdicts(
      byName([agg(ORIGINAL, 10, 50), agg(RECOMMENDED, 1, 40), agg(REFERENCE, 0, 30)]),
      RECOMMENDED,
    );
    assert.equal(beats?.pass, true);
    const [costs] = verdicts(
      byName([agg(ORIGINAL, 10, 30), agg(RECOMMENDED, 1, 40), agg(REFERENCE, 0, 30)]),
      RECOMMENDED,
    );
    assert.equal(costs?.pass, false);
    assert.match(costs?.reason ?? '', /^fewer violations, but it held more capacity than the original did/);
    const [pinned] = verdicts(
      byName([agg(ORIGINAL, 10, 30), agg(RECOMMENDED, 1, 40), agg(REFERENCE, 0, 30)]),
      RECOMMENDED,
      30,
    );
    assert.equal(pinned?.pass, false);
    assert.match(
      pinned?.reason ?? '',
      /the original never left the minimum \(30\.0 capacity-hours is min × duration\)/,
    );
  });

  it('judges goal 2 against the reference: ≤ 1.25× its capacity-hours and ≤ its violations + 1 pp', () => {
    const near = verdicts(
      byName([agg(ORIGINAL, 10, 50), agg(RECOMMENDED, 1.5, 37), agg(REFERENCE, 0.6, 30)]),
      RECOMMENDED,
    )[1];
    assert.equal(near?.pass, true, near?.reason ?? '');
    const far = verdicts(
      byName([agg(ORIGINAL, 10, 50), agg(RECOMMENDED, 1.7, 38), agg(REFERENCE, 0.6, 30)]),
      RECOMMENDED,
    )[1];
    assert.equal(far?.pass, false);
    assert.match(
      far?.reason ?? '',
      /^too much capacity and too many violations: 1\.27× the reference's capacity-hours/,
    );
  });

  it('says by how many points it missed, and that a shared account ran out of pool when it did', () => {
    const late = { ...agg(RECOMMENDED, 45, 40), episodes: 12, worstReaction: 97 };
    const squeeze = { squeezeSeconds: 900, minUnreserved: 100, unreservedMin: 100 };
    const [, near, reaction] = verdicts(
      byName([agg(ORIGINAL, 90, 50), late, agg(REFERENCE, 9, 38)]),
      RECOMMENDED,
      undefined,
      squeeze,
    );
    assert.match(near?.reason ?? '', /45\.00% over SLO vs the reference's 9\.00% \(36\.00 pp more\)/);
    assert.match(
      near?.reason ?? '',
      /for 900 s the scalers together needed more than the account can reserve and its unreserved pool reached the 100 AWS keeps/,
    );
    assert.equal(reaction?.pass, false);
    assert.match(
      reaction?.reason ?? '',
      /slowest first scale-up 97 s after the crossing .*; for 900 s the scalers/,
    );
    assert.doesNotMatch(reaction?.reason ?? '', /references' slowest/, 'no yardstick timed');
    const timed = verdicts(
      byName([
        agg(ORIGINAL, 90, 50),
        late,
        { ...agg(REFERENCE, 9, 38), episodes: 12, worstReaction: 99 },
        { ...agg(REACTIVE_FAIR, 40, 38), episodes: 12, worstReaction: 136 },
      ]),
      RECOMMENDED,
      undefined,
      squeeze,
    )[2];
    assert.match(
      timed?.reason ?? '',
      /reached the 100 AWS keeps: .*; the references' slowest: clairvoyant 99 s, reactive reference, 30 s, fair share 136 s$/,
    );
    const [, , alone] = verdicts(byName([agg(ORIGINAL, 90, 50), late, agg(REFERENCE, 9, 38)]), RECOMMENDED);
    assert.doesNotMatch(alone?.reason ?? '', /account/, 'one scaler: nothing about an account');
  });

  it('counts a scale-up at the first poll after the crossing as within one poll, jitter included', () => {
    const reaction = (worstReaction: number) =>
      verdicts(
        byName([
          agg(ORIGINAL, 90, 50),
          { ...agg(RECOMMENDED, 1, 40), episodes: 3, worstReaction },
          agg(REFERENCE, 1, 38),
        ]),
        RECOMMENDED,
      )[2];
    assert.equal(reaction(30)?.pass, true);
    assert.equal(reaction(31.5)?.pass, true, 'a poll requeued 5 % late');
    assert.equal(reaction(32)?.pass, false);
    assert.match(reaction(32)?.reason ?? '', /polls at most 31\.5 s apart with their ±5 % jitter/);
  });

  it('says n/a for the reaction goal when no backlog ever crossed', () => {
    const v = verdicts(
      byName([agg(ORIGINAL, 1, 1), agg(RECOMMENDED, 1, 1), agg(REFERENCE, 1, 1)]),
      RECOMMENDED,
    )[2];
    assert.deepEqual(v, {
      goal: 'scale-up within one poll',
      pass: null,
      reason: 'no backlog crossing in any seed (n/a)',
    });
  });
});

describe('referenceBreaches', () => {
  const run = (
    strategy: string,
    overSlo: number,
    capacityHours: number,
    bound = { c: 0, o: 0 },
  ): RunPoint => ({
    scenario: 'herd',
    seed: 1,
    strategy,
    metrics: { overSlo, capacityHours, boundCapacityHours: bound.c, boundOverSlo: bound.o },
  });

  it('fails the thundering herd: strategies with fewer violations and less capacity than the reference', () => {
    const breaches = referenceBreaches([
      run(REFERENCE, 5000, 50),
      run('KEDA-like', 500, 40),
      run(STATIC_MAX_CAPPED, 0, 100),
    ]);
    assert.equal(breaches.length, 1);
    assert.match(
      breaches[0] ?? '',
      /^herd seed 1: KEDA-like beat the reference — 500 messages over SLO with 40\.00 capacity-hours/,
    );
  });

  it('holds when every strategy pays for fewer violations with more capacity, in its own seed', () => {
    const other = { ...run('KEDA-like', 0, 10), seed: 2 };
    assert.deepEqual(
      referenceBreaches([
        run(REFERENCE, 100, 50),
        run(STATIC_MAX_CAPPED, 0, 100),
        run('static min', 9000, 10),
        other,
      ]),
      [],
    );
  });

  it('compares provisioned-mode strategies with the lower bound only, not with the standard-mode clairvoyant', () => {
    const breaches = referenceBreaches([
      run(REFERENCE, 5000, 50, { c: 20, o: 0 }),
      run(PROVISIONED_POLLERS, 100, 30, { c: 20, o: 0 }),
      run(PROVISIONED_ALONE, 0, 10, { c: 20, o: 0 }),
    ]);
    assert.equal(breaches.length, 1, breaches.join('\n'));
    assert.match(
      breaches[0] ?? '',
      /provisioned mode alone held 10\.00 capacity-hours, below the lower bound/,
    );
  });

  it('catches a run below the lower bound without the violations the bound implies', () => {
    const breaches = referenceBreaches([
      run(REFERENCE, 0, 50, { c: 40, o: 0 }),
      run('lucky', 0, 30, { c: 40, o: 0 }),
    ]);
    assert.ok(
      breaches.some((b) => /lucky held 30\.00 capacity-hours, below the lower bound 40\.00/.test(b)),
      breaches.join('\n'),
    );
  });
});
