// Defaults are the contract with existing users: with no new fields the engine is the original
// step policy. Also checks the spec additions validate as the CRD does (parseSpec is its twin).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Actuator, type LambdaConcurrencyScalerSpec, parseSpec } from '../api/v1alpha1/index.ts';
import { policySpecRules } from '../api/v1alpha1/policy-spec.ts';
import { originalOperatorConfig, resolvePolicyConfig } from './config.ts';
import { decide } from './decide.ts';
import { queue, spec, T0 } from './fixtures.ts';
import { cloudWatchVisible } from './metrics.ts';
import { initialPolicyState } from './state.ts';

describe('resolvePolicyConfig', () => {
  it('gives the original step policy every 30 s when no policy field is set', () => {
    const config = resolvePolicyConfig(spec());
    assert.deepEqual(config, {
      minConcurrency: 1,
      maxConcurrency: 50,
      pollingIntervalSeconds: 30,
      policy: { type: 'Step', threshold: 100, scaleDownThreshold: 100, step: 5 },
      behavior: {
        scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [] },
        scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [] },
        cooldownSeconds: 0,
        idleSeconds: null,
        largeDrop: null,
        measuredScaleUp: false,
      },
      metrics: {
        includeInFlight: false,
        includeDelayed: false,
        includeOverpulled: false,
        source: 'QueueAttributes',
        cloudWatchStatistic: 'Average',
        cloudWatchWindowSeconds: 300,
      },
      fallback: { failureThreshold: 3, concurrency: null },
      pinned: null,
    });
  });

  it('counts overpulled in-flight messages for TargetTracking and LatencySLO, never by default for Step', () => {
    const of = (extra: Partial<LambdaConcurrencyScalerSpec>) => resolvePolicyConfig(spec(extra)).metrics;
    assert.equal(of({}).includeOverpulled, false);
    assert.equal(
      of({ policy: { type: 'TargetTracking', targetTracking: { targetBacklogPerConcurrency: 5 } } })
        .includeOverpulled,
      true,
    );
    assert.equal(
      of({ policy: { type: 'LatencySLO', latencySLO: { maxWaitSeconds: 30 } } }).includeOverpulled,
      true,
    );
    assert.equal(originalOperatorConfig(spec()).metrics.includeOverpulled, false);
    const off = resolvePolicyConfig(
      spec({ policy: { type: 'LatencySLO', latencySLO: { maxWaitSeconds: 30 } } }),
      { includeOverpulled: false },
    );
    assert.equal(off.metrics.includeOverpulled, false);
  });

  it('gives TargetTracking the HPA default behavior', () => {
    const config = resolvePolicyConfig(
      spec({ policy: { type: 'TargetTracking', targetTracking: { targetBacklogPerConcurrency: 5 } } }),
    );
    assert.deepEqual(config.policy, {
      type: 'TargetTracking',
      targetBacklogPerConcurrency: 5,
      tolerance: 0.1,
    });
    assert.deepEqual(config.behavior.scaleUp, {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [
        { type: 'Percent', value: 100, periodSeconds: 15 },
        { type: 'Concurrency', value: 4, periodSeconds: 15 },
      ],
    });
    assert.deepEqual(config.behavior.scaleDown, {
      stabilizationWindowSeconds: 300,
      selectPolicy: 'Max',
      policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
    });
  });

  it('defaults each behavior field on its own', () => {
    const config = resolvePolicyConfig(
      spec({
        policy: { type: 'LatencySLO', latencySLO: { maxWaitSeconds: 60 } },
        behavior: { scaleDown: { selectPolicy: 'Min' } },
      }),
    );
    assert.equal(config.behavior.scaleDown.stabilizationWindowSeconds, 300);
    assert.equal(config.behavior.scaleDown.selectPolicy, 'Min');
    assert.deepEqual(config.policy, {
      type: 'LatencySLO',
      maxWaitSeconds: 60,
      targetUtilization: 0.8,
      tolerance: 0.1,
      serviceTimeSource: 'QueueCounts',
    });
  });

  it('lets a large drop skip the window only where lowering cannot throttle the mapping', () => {
    const slo = { type: 'LatencySLO' as const, latencySLO: { maxWaitSeconds: 60 } };
    const config = (extra: Partial<LambdaConcurrencyScalerSpec>) =>
      resolvePolicyConfig(spec({ policy: slo, ...extra })).behavior;
    const rule = { fraction: 0.5, windowSeconds: 60 };
    assert.equal(config({}).largeDrop, null, 'reserved concurrency alone: the HPA default only');
    assert.equal(config({ eventSourceMapping: { manageMaximumConcurrency: false } }).largeDrop, null);
    assert.deepEqual(config({ eventSourceMapping: { manageMaximumConcurrency: true } }).largeDrop, rule);
    assert.deepEqual(config({ actuator: Actuator.EventSourceMaximumConcurrency }).largeDrop, rule);
    assert.deepEqual(config({ actuator: Actuator.ProvisionedPollers }).largeDrop, rule);
    assert.equal(config({ actuator: Actuator.ReservedConcurrency }).largeDrop, null);
    // The window itself stays the HPA's; a window the user chose is kept as chosen; Step has none.
    assert.equal(
      config({ eventSourceMapping: { manageMaximumConcurrency: true } }).scaleDown.stabilizationWindowSeconds,
      300,
    );
    assert.equal(
      config({
        eventSourceMapping: { manageMaximumConcurrency: true },
        behavior: { scaleDown: { stabilizationWindowSeconds: 600 } },
      }).largeDrop,
      null,
    );
    assert.equal(
      resolvePolicyConfig(spec({ eventSourceMapping: { manageMaximumConcurrency: true } })).behavior
        .largeDrop,
      null,
    );
  });

  it('takes the correctly spelled maximum as well as the original spelling', () => {
    const s = spec({ awsLamndaMaxConcurrency: undefined, awsLambdaMaxConcurrency: 70 });
    assert.equal(resolvePolicyConfig(s).maxConcurrency, 70);
  });

  it('never lets the scale-down threshold exceed the threshold, even if the CRD rule was bypassed', () => {
    const config = resolvePolicyConfig(spec({ policy: { step: { scaleDownThreshold: 500 } } }));
    assert.equal(config.policy.type === 'Step' && config.policy.scaleDownThreshold, 100);
  });
});

describe('the original operator, for the benchmark', () => {
  it('polls every 5 minutes on the sum of the CloudWatch datapoints of the last 5 minutes', () => {
    const config = originalOperatorConfig(spec());
    assert.equal(config.pollingIntervalSeconds, 300);
    assert.equal(config.metrics.source, 'CloudWatch');
    assert.equal(config.metrics.cloudWatchStatistic, 'Sum');
    // Five datapoints of 30 each: the original sees 150 (> 100) and scales up; the average is 30.
    const datapoints = [1, 2, 3, 4, 5].map((m) => ({ timestamp: T0 - m * 60_000, value: 30 }));
    assert.equal(cloudWatchVisible(datapoints, 'Sum', 300, T0), 150);
    assert.equal(cloudWatchVisible(datapoints, 'Average', 300, T0), 30);
    const metrics = { ...queue(0), datapoints };
    const original = decide(
      { spec: spec(), config, metrics, currentConcurrency: 10 },
      initialPolicyState(),
      T0,
    );
    assert.equal(original.decision.desired, 15);
    const averaged = decide(
      { spec: spec({ metrics: { source: 'CloudWatch' } }), metrics, currentConcurrency: 10 },
      initialPolicyState(),
      T0,
    );
    assert.equal(averaged.decision.desired, 5);
  });

  it('acts on zero when CloudWatch has no datapoints yet, as the original did', () => {
    const config = originalOperatorConfig(spec());
    assert.equal(cloudWatchVisible([], config.metrics.cloudWatchStatistic, 300, T0), 0);
  });

  it('ignores datapoints older than the window or from the future', () => {
    const points = [
      { timestamp: T0 - 400_000, value: 1000 },
      { timestamp: T0 - 60_000, value: 10 },
      { timestamp: T0 + 60_000, value: 1000 },
    ];
    assert.equal(cloudWatchVisible(points, 'Average', 300, T0), 10);
  });
});

describe('the spec additions', () => {
  const valid = (extra: object) => parseSpec({ ...spec(), ...extra });

  it('accepts a spec without any of them', () => {
    assert.equal(valid({}).ok, true);
  });

  it('accepts a full TargetTracking spec with HPA-style behavior', () => {
    const result = valid({
      pollingIntervalSeconds: 10,
      policy: {
        type: 'TargetTracking',
        targetTracking: { targetBacklogPerConcurrency: 20, tolerancePercent: 5 },
      },
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: 0,
          policies: [{ type: 'Percent', value: 200, periodSeconds: 15 }],
        },
        scaleDown: { stabilizationWindowSeconds: 600, selectPolicy: 'Min' },
        cooldownSeconds: 30,
        idleSeconds: 900,
      },
      metrics: { includeInFlight: true, includeDelayed: true, source: 'CloudWatch' },
      fallback: { failureThreshold: 5, concurrency: 10 },
    });
    assert.deepEqual(result.ok ? 'ok' : result.issues, 'ok');
  });

  interface Bad {
    extra: object;
    message: RegExp;
  }
  const bad = {
    'a policy type without its parameters': {
      extra: { policy: { type: 'TargetTracking' } },
      message: /policy.targetTracking must be set exactly when policy.type is TargetTracking/,
    },
    'parameters of another policy': {
      extra: { policy: { type: 'LatencySLO', latencySLO: { maxWaitSeconds: 30 }, step: {} } },
      message: /policy.step is only used when policy.type is Step/,
    },
    'a Percent policy above 1000': {
      extra: { behavior: { scaleUp: { policies: [{ type: 'Percent', value: 1001, periodSeconds: 15 }] } } },
      message: /Percent policy value must be between 1 and 1000/,
    },
    'a period longer than 1800 s': {
      extra: {
        behavior: { scaleDown: { policies: [{ type: 'Concurrency', value: 1, periodSeconds: 1801 }] } },
      },
      message: /1800|too big/i,
    },
    'a stabilization window longer than an hour': {
      extra: { behavior: { scaleDown: { stabilizationWindowSeconds: 3601 } } },
      message: /3600|too big/i,
    },
    'a polling interval of zero': { extra: { pollingIntervalSeconds: 0 }, message: /too small|>=1/i },
    'an unknown metrics source': { extra: { metrics: { source: 'Prometheus' } }, message: /CloudWatch/ },
  } satisfies Record<string, Bad>;
  for (const [name, c] of Object.entries(bad)) {
    it(`rejects ${name}`, () => {
      const result = valid(c.extra);
      assert.equal(result.ok, false);
      if (!result.ok) assert.match(result.issues.map((i) => i.message).join('; '), c.message);
    });
  }

  it('has a rule for the scale-down threshold that needs the whole spec', () => {
    const [rule] = policySpecRules;
    assert.ok(rule);
    assert.equal(
      rule.check({ awsSQSMsgCountThreshold: 100, policy: { step: { scaleDownThreshold: 100 } } }),
      true,
    );
    assert.equal(
      rule.check({ awsSQSMsgCountThreshold: 100, policy: { step: { scaleDownThreshold: 101 } } }),
      false,
    );
    assert.equal(rule.check({ awsSQSMsgCountThreshold: 100 }), true);
  });
});
