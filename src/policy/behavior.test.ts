// Behavior rules shared by every policy: stabilization, rate policies, cooldown, idle, fallback.
// The first group reproduces the behavior examples of the Kubernetes HPA documentation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LambdaConcurrencyScalerSpec } from '../api/v1alpha1/index.ts';
import { decide } from './decide.ts';
import { drive, once, queue, spec, T0 } from './fixtures.ts';
import { initialPolicyState } from './state.ts';
import { Limit, Reason } from './types.ts';

type Behavior = NonNullable<LambdaConcurrencyScalerSpec['behavior']>;

/** TargetTracking at 10 messages per unit, bounds 1..200: backlog b asks for ceil(b / 10). */
function tracking(behavior: Behavior = {}): LambdaConcurrencyScalerSpec {
  return spec({
    awsLamndaMaxConcurrency: 200,
    policy: { type: 'TargetTracking', targetTracking: { targetBacklogPerConcurrency: 10 } },
    behavior,
  });
}

/** Polls every `everySeconds` with the same backlog. */
function steady(visible: number, polls: number, everySeconds = 15, from = T0) {
  return Array.from({ length: polls }, (_, i) => {
    const at = from + i * everySeconds * 1000;
    return { at, metrics: queue(visible, at) };
  });
}

describe('behavior, as in the Kubernetes HPA documentation', () => {
  it('removes 8 then 8 then 7 per minute from 80, then 4 at a time below 40 (Pods 4 and Percent 10 per 60 s)', () => {
    const s = tracking({
      scaleDown: {
        stabilizationWindowSeconds: 0,
        policies: [
          { type: 'Concurrency', value: 4, periodSeconds: 60 },
          { type: 'Percent', value: 10, periodSeconds: 60 },
        ],
      },
    });
    const { concurrency } = drive(s, 80, steady(100, 4 * 14, 15));
    const perMinute = concurrency.filter((_, i) => i % 4 === 0);
    assert.deepEqual(perMinute, [72, 64, 57, 51, 45, 40, 36, 32, 28, 24, 20, 16, 12, 10]);
    // Within a minute nothing more moves: the period remembers the change.
    assert.deepEqual(concurrency.slice(0, 4), [72, 72, 72, 72]);
  });

  it('removes at most 5 and at most 10% per minute with selectPolicy Min', () => {
    const s = tracking({
      scaleDown: {
        stabilizationWindowSeconds: 0,
        selectPolicy: 'Min',
        policies: [
          { type: 'Percent', value: 10, periodSeconds: 60 },
          { type: 'Concurrency', value: 5, periodSeconds: 60 },
        ],
      },
    });
    const { concurrency } = drive(s, 100, steady(100, 40, 60));
    let previous = 100;
    for (const c of concurrency) {
      const removed = previous - (c ?? previous);
      assert.ok(removed <= 5, `removed ${removed} from ${previous}`);
      assert.ok(removed <= previous - Math.trunc(previous * 0.9), `removed ${removed} from ${previous}`);
      previous = c ?? previous;
    }
    assert.deepEqual(concurrency.slice(0, 3), [95, 90, 85]);
    // 100 messages on 11 units is within 10% of the target: the tolerance stops it at 11.
    assert.equal(concurrency.at(-1), 11);
  });

  it('never scales down with scaleDown selectPolicy Disabled', () => {
    const s = tracking({ scaleDown: { selectPolicy: 'Disabled' } });
    const { concurrency, decisions } = drive(s, 50, steady(0, 40, 30));
    assert.ok(concurrency.every((c) => c === 50));
    assert.deepEqual(decisions.at(-1)?.limitedBy, [Limit.ScaleDownDisabled]);
  });

  it('never scales up with scaleUp selectPolicy Disabled', () => {
    const s = tracking({ scaleUp: { selectPolicy: 'Disabled' } });
    const { decision } = once(s, queue(1000), 5);
    assert.equal(decision.desired, null);
    assert.deepEqual(decision.limitedBy, [Limit.ScaleUpDisabled]);
  });

  it('adds 100% or 4 units per 15 s, whichever is more, by default', () => {
    const { concurrency } = drive(tracking(), 2, steady(1000, 7, 15));
    // 1000 messages on 96 units is within 10% of the target of 10 each: it stays there.
    assert.deepEqual(concurrency, [6, 12, 24, 48, 96, 96, 96]);
  });

  it('holds a scale-down for the default 300 s window, then drops at once', () => {
    const busy = steady(500, 20, 15); // 0 .. 285 s at 50
    const quiet = steady(100, 30, 15, T0 + 300_000); // from 300 s the need is 10
    const { concurrency } = drive(tracking(), 50, [...busy, ...quiet]);
    const times = [...busy, ...quiet].map((p) => (p.at - T0) / 1000);
    const firstDown = concurrency.findIndex((c) => c !== 50);
    // The last recommendation of 50 was at 285 s; it leaves the window at 585 s.
    assert.equal(times[firstDown], 585);
    assert.equal(concurrency[firstDown], 10);
  });

  it('keeps the highest recommendation of a 60 s down window through a dip', () => {
    const s = tracking({ scaleDown: { stabilizationWindowSeconds: 60 } });
    const backlog = [300, 300, 100, 300, 300, 100, 100, 100, 100, 100, 100];
    const polls = backlog.map((b, i) => ({ at: T0 + i * 15_000, metrics: queue(b, T0 + i * 15_000) }));
    const { concurrency } = drive(s, 30, polls);
    // The last recommendation of 30 (at 60 s) leaves the window at 120 s.
    assert.deepEqual(concurrency, [30, 30, 30, 30, 30, 30, 30, 30, 10, 10, 10]);
  });

  const contendedCases = {
    'holds for the window when no other scaler of the account waits': { contended: false, after: 30 },
    'releases at once what another scaler of the account waits for': { contended: true, after: 10 },
  } satisfies Record<string, { contended: boolean; after: number }>;
  for (const [name, c] of Object.entries(contendedCases))
    it(`on a scale-down, ${name}`, () => {
      const s = tracking();
      const first = decide(
        { spec: s, metrics: queue(300, T0), currentConcurrency: 30 },
        initialPolicyState(),
        T0,
      );
      const at = T0 + 30_000;
      const { decision } = decide(
        { spec: s, metrics: queue(100, at), currentConcurrency: 30, contended: c.contended },
        first.nextState,
        at,
      );
      assert.equal(decision.desired ?? 30, c.after, decision.message);
      assert.equal(decision.message.includes('another scaler of the account waits'), c.contended);
    });

  it('scales up only to the lowest recommendation of a scale-up window, ignoring a short spike', () => {
    const s = tracking({ scaleUp: { stabilizationWindowSeconds: 60 } });
    const backlog = [100, 400, 100, 100, 400, 400, 400, 400, 400];
    const polls = backlog.map((b, i) => ({ at: T0 + i * 15_000, metrics: queue(b, T0 + i * 15_000) }));
    const { concurrency, decisions } = drive(s, 10, polls);
    // The last recommendation of 10 (at 45 s) leaves the window at 105 s; then the rate policy.
    assert.deepEqual(concurrency, [10, 10, 10, 10, 10, 10, 10, 20, 40]);
    assert.deepEqual(decisions[1]?.limitedBy, [Limit.Stabilization]);
  });
});

describe('cooldown', () => {
  it('makes no further change until cooldownSeconds after the last one', () => {
    const s = spec({ behavior: { cooldownSeconds: 90 } });
    const { concurrency, decisions } = drive(s, 10, steady(500, 8, 30));
    assert.deepEqual(concurrency, [15, 15, 15, 20, 20, 20, 25, 25]);
    assert.deepEqual(decisions[1]?.limitedBy, [Limit.Cooldown]);
  });

  it('still brings the concurrency within bounds during a cooldown', () => {
    const s = spec({ behavior: { cooldownSeconds: 600 } });
    const first = once(s, queue(500), 10);
    const { decision } = once(s, queue(500, T0 + 30_000), 70, first.nextState, T0 + 30_000);
    assert.equal(decision.desired, 50);
    assert.deepEqual(decision.limitedBy, [Limit.Cooldown, Limit.Bounds]);
  });
});

describe('scale to the minimum when idle', () => {
  it('goes straight to the minimum once the queue has been empty for idleSeconds', () => {
    const s = tracking({ idleSeconds: 120 }); // TargetTracking holds 300 s by default
    const polls = [{ at: T0, metrics: queue(400, T0) }, ...steady(0, 8, 30, T0 + 30_000)];
    const { concurrency, decisions } = drive(s, 40, polls);
    // Empty since 30 s: idle from 150 s on, despite the 300 s scale-down window.
    assert.deepEqual(concurrency, [40, 40, 40, 40, 40, 1, 1, 1, 1]);
    assert.equal(decisions[5]?.reason, Reason.QueueIdle);
  });

  it('does not count a queue with in-flight messages as empty', () => {
    const s = tracking({ idleSeconds: 60 });
    const polls = Array.from({ length: 6 }, (_, i) => ({
      at: T0 + i * 30_000,
      metrics: queue(0, T0 + i * 30_000, 5),
    }));
    const { decisions } = drive(s, 40, polls);
    assert.ok(decisions.every((d) => d.reason !== Reason.QueueIdle));
  });
});

describe('fallback when metrics fail', () => {
  const failing = { error: 'AccessDenied' };

  it('holds before failureThreshold consecutive failures, then sets the fallback concurrency', () => {
    const s = spec({ fallback: { failureThreshold: 3, concurrency: 20 } });
    const polls = Array.from({ length: 4 }, (_, i) => ({ at: T0 + i * 30_000, metrics: failing }));
    const { concurrency, decisions } = drive(s, 10, polls);
    assert.deepEqual(concurrency, [10, 10, 20, 20]);
    assert.deepEqual(
      decisions.map((d) => d.reason),
      [
        Reason.MetricsUnavailableHold,
        Reason.MetricsUnavailableHold,
        Reason.MetricsUnavailableFallback,
        Reason.MetricsUnavailableFallback,
      ],
    );
  });

  it('holds forever without a fallback concurrency', () => {
    const polls = Array.from({ length: 6 }, (_, i) => ({ at: T0 + i * 30_000, metrics: failing }));
    const { concurrency, decisions } = drive(spec(), 10, polls);
    assert.ok(concurrency.every((c) => c === 10));
    assert.match(
      decisions.at(-1)?.message ?? '',
      /metrics unavailable \(6 in a row\): AccessDenied; keeping 10/,
    );
  });

  it('keeps the fallback concurrency within bounds', () => {
    const s = spec({ fallback: { failureThreshold: 1, concurrency: 500 } });
    const { decision } = once(s, failing, 10);
    assert.equal(decision.desired, 50);
    assert.deepEqual(decision.limitedBy, [Limit.Bounds]);
  });

  it('starts counting again after a successful poll', () => {
    const s = spec({ fallback: { failureThreshold: 2, concurrency: 20 } });
    const polls = [failing, queue(100), failing, queue(100), failing].map((metrics, i) => ({
      at: T0 + i * 30_000,
      metrics,
    }));
    const { decisions } = drive(s, 10, polls);
    assert.ok(decisions.every((d) => d.reason !== Reason.MetricsUnavailableFallback));
  });

  it('counts a CloudWatch poll without datapoints as a failure when averaging', () => {
    const s = spec({ metrics: { source: 'CloudWatch' } });
    const { decision, nextState } = once(s, { ...queue(999), datapoints: [] }, 10);
    assert.equal(decision.reason, Reason.MetricsUnavailableHold);
    assert.equal(nextState.metricFailures, 1);
  });
});

describe('behavior with the Step policy', () => {
  it('applies a stabilization window when the user sets one', () => {
    const s = spec({ behavior: { scaleDown: { stabilizationWindowSeconds: 120 } } });
    const { concurrency } = drive(s, 30, steady(0, 12, 30));
    // Each step down must wait until the previous, higher recommendation leaves the window.
    assert.deepEqual(concurrency, [30, 30, 30, 30, 25, 25, 25, 25, 20, 20, 20, 20]);
  });

  it('rate-limits steps with a Concurrency policy', () => {
    const s = spec({
      behavior: { scaleUp: { policies: [{ type: 'Concurrency', value: 5, periodSeconds: 60 }] } },
    });
    const { concurrency } = drive(s, 10, steady(500, 6, 30));
    assert.deepEqual(concurrency, [15, 15, 20, 20, 25, 25]);
  });

  it('starts a fresh history the same as a stored empty one', () => {
    const a = once(spec(), queue(500), 10, initialPolicyState());
    const b = once(spec(), queue(500), 10, JSON.parse(JSON.stringify(initialPolicyState())));
    assert.deepEqual(a, b);
  });
});
