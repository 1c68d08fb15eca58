import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { ConditionType, type LambdaConcurrencyScaler, Reason } from '../api/v1alpha1/index.ts';
import { ManualClock } from '../runtime/clock.ts';
import { pollersFor } from './actuate-mapping.ts';
import type { ScalerReconciler } from './reconciler.ts';
import { FakeAws, reconcilerOver, scaler } from './testing/fakes.ts';

describe('pollersFor', () => {
  interface Case {
    concurrency: number;
    floor: number;
    want: { minimum: number; maximum: number };
  }
  const cases = {
    'caps at one poller per 10 concurrent invokes, rounded up': {
      concurrency: 35,
      floor: 20,
      want: { minimum: 2, maximum: 4 },
    },
    'keeps the minimum’s pollers ready': { concurrency: 100, floor: 50, want: { minimum: 5, maximum: 10 } },
    'never fewer than the 2 pollers AWS requires': {
      concurrency: 0,
      floor: 0,
      want: { minimum: 2, maximum: 2 },
    },
    'MinimumPollers stops at 200': { concurrency: 5000, floor: 5000, want: { minimum: 200, maximum: 500 } },
    'MaximumPollers stops at 2,000': { concurrency: 30_000, floor: 20, want: { minimum: 2, maximum: 2000 } },
  } satisfies Record<string, Case>;
  for (const [name, c] of Object.entries(cases))
    it(name, () => {
      assert.deepEqual(pollersFor(c.concurrency, c.floor), c.want);
    });
});

/** A reconciler over one scaler and an in-memory account, polled every 30 s of a manual clock. */
function harness(spec: Partial<LambdaConcurrencyScaler['spec']>) {
  const h = {
    aws: new FakeAws(),
    object: scaler(spec),
    events: [] as string[],
    clock: new ManualClock(Date.UTC(2026, 11, 1)),
    accountReads: 0,
    reconciler: undefined as unknown as ScalerReconciler,
    async poll() {
      await h.reconciler.reconcile('default/sample');
      await h.clock.advance(30_000);
    },
    async remove() {
      h.object = {
        ...h.object,
        metadata: { ...h.object.metadata, deletionTimestamp: '2026-12-01T01:00:00Z' },
      };
      await h.reconciler.reconcile('default/sample');
    },
    respec(patch: Partial<LambdaConcurrencyScaler['spec']>) {
      h.object = {
        ...h.object,
        metadata: { ...h.object.metadata, generation: (h.object.metadata.generation ?? 1) + 1 },
        spec: { ...h.object.spec, ...patch },
      };
    },
    condition(type: string) {
      return h.object.status?.conditions?.find((c) => c.type === type);
    },
  };
  const account = h.aws.accountConcurrency.bind(h.aws);
  h.aws.accountConcurrency = async () => {
    h.accountReads++;
    return account();
  };
  h.reconciler = reconcilerOver({
    get: () => h.object,
    set: (s) => {
      h.object = s;
    },
    events: h.events,
    aws: h.aws,
    clock: h.clock,
  });
  return h;
}

describe('ScalerReconciler with actuator EventSourceMaximumConcurrency', () => {
  let h: ReturnType<typeof harness>;
  beforeEach(() => {
    h = harness({ actuator: 'EventSourceMaximumConcurrency' });
  });

  it('scales the mapping’s MaximumConcurrency alone: never a reservation, never the account’s pool', async () => {
    h.aws.backlog = 500;
    await h.poll(); // records the originals
    assert.deepEqual(h.object.status?.originalConcurrency, {
      actuator: 'EventSourceMaximumConcurrency',
      recordedAt: '2026-12-01T00:00:00Z',
      eventSources: [{ uuid: 'u' }],
    });
    for (let i = 0; i < 4; i++) await h.poll();
    h.aws.backlog = 0;
    for (let i = 0; i < 4; i++) await h.poll();
    assert.deepEqual(h.aws.writes, ['cap u 10', 'cap u 15', 'cap u 20', 'cap u 15', 'cap u 10', 'cap u 5']);
    assert.equal(h.aws.calls.put ?? 0, 0, 'no PutFunctionConcurrency');
    assert.equal(h.aws.calls.delete ?? 0, 0, 'no DeleteFunctionConcurrency');
    assert.equal(h.accountReads, 0, 'no headroom claim: the account’s settings are never read');
    assert.equal(h.aws.reserved, undefined);
    assert.equal(h.object.status?.eventSourceMaximumConcurrency, 5);
    assert.equal(h.object.status?.concurrency, 5);
    assert.equal(h.object.status?.appliedConcurrency, 5);
    assert.match(h.condition(ConditionType.ConcurrencyApplied)?.message ?? '', /MaximumConcurrency 5/);
    assert.ok(
      h.events.some((e) =>
        e.startsWith('Normal ScaledUp Event source mapping u: MaximumConcurrency 10 → 15'),
      ),
      h.events.join('\n'),
    );
  });

  it('gives the mapping its own MaximumConcurrency back on deletion, and leaves the function alone', async () => {
    h.aws.reserved = 7; // someone else's reservation: not the operator's to touch
    h.aws.esms = [{ uuid: 'u', maximumConcurrency: 300 }];
    h.aws.backlog = 500;
    for (let i = 0; i < 3; i++) await h.poll();
    assert.equal(h.aws.esms[0]?.maximumConcurrency, 20, 'within the bounds: down from 300 to the maximum');
    await h.remove();
    assert.deepEqual(h.aws.writes, ['cap u 20', 'cap u 300']);
    assert.equal(h.aws.reserved, 7);
    assert.ok(h.events.some((e) => e.includes('Restored MaximumConcurrency 300 on event source mapping u')));
  });

  it('is Stalled, writing nothing, when the mapping is in provisioned mode', async () => {
    h.aws.esms = [
      { uuid: 'u', maximumConcurrency: undefined, provisionedPollers: { minimum: 2, maximum: 20 } },
    ];
    h.aws.backlog = 500;
    await h.poll();
    assert.deepEqual(h.aws.writes, []);
    assert.equal(h.condition(ConditionType.Stalled)?.reason, Reason.EventSourceMode);
    assert.match(
      h.condition(ConditionType.Stalled)?.message ?? '',
      /in provisioned mode.*choose actuator ProvisionedPollers/,
    );
  });

  it('writes nothing in dry-run, and says what it would set', async () => {
    h.respec({ dryRun: true });
    h.aws.backlog = 500;
    for (let i = 0; i < 3; i++) await h.poll();
    assert.deepEqual(h.aws.writes, []);
    assert.ok(
      h.events.some((e) => e.includes('Dry run: would set MaximumConcurrency none → 10')),
      h.events.join('\n'),
    );
  });

  it('warns of a cap changed outside the operator and continues from it', async () => {
    h.aws.backlog = 500;
    for (let i = 0; i < 3; i++) await h.poll();
    h.aws.esms[0] = { uuid: 'u', maximumConcurrency: 3 };
    await h.clock.advance(300_000); // the mapping is read again
    h.aws.backlog = 0;
    await h.poll();
    assert.ok(
      h.events.some((e) => e.startsWith('Warning Drift')),
      h.events.join('\n'),
    );
  });
});

describe('ScalerReconciler with actuator ProvisionedPollers', () => {
  let h: ReturnType<typeof harness>;
  beforeEach(() => {
    h = harness({
      actuator: 'ProvisionedPollers',
      awsLambdaMinConcurrency: 20,
      awsLamndaMaxConcurrency: 100,
      awsLambdaStepConcurrency: 20,
    });
    h.aws.esms = [
      { uuid: 'u', maximumConcurrency: undefined, provisionedPollers: { minimum: 2, maximum: 4 } },
    ];
  });

  it('writes MaximumPollers = concurrency / 10 over MinimumPollers = minimum / 10, and restores them on deletion', async () => {
    h.aws.backlog = 500;
    for (let i = 0; i < 4; i++) await h.poll();
    assert.deepEqual(h.aws.writes, ['pollers u 2-6', 'pollers u 2-8', 'pollers u 2-10']);
    assert.deepEqual(h.object.status?.provisionedPollers, { minimumPollers: 2, maximumPollers: 10 });
    assert.equal(h.object.status?.concurrency, 100);
    assert.match(
      h.condition(ConditionType.Ready)?.message ?? '',
      /MaximumPollers 10 \(up to 100 concurrent invokes\)/,
    );
    assert.equal(h.aws.calls.put ?? 0, 0);
    assert.equal(h.accountReads, 0);
    await h.remove();
    assert.equal(h.aws.writes.at(-1), 'pollers u 2-4');
    assert.deepEqual(h.aws.esms[0]?.provisionedPollers, { minimum: 2, maximum: 4 });
  });

  it('is Stalled with a clear condition, writing nothing, when the mapping is not in provisioned mode', async () => {
    h.aws.esms = [{ uuid: 'u', maximumConcurrency: undefined }];
    h.aws.backlog = 500;
    await h.poll();
    await h.poll();
    assert.deepEqual(h.aws.writes, []);
    const stalled = h.condition(ConditionType.Stalled);
    assert.equal(stalled?.reason, Reason.EventSourceMode);
    assert.match(stalled?.message ?? '', /u from .* is not in provisioned mode/);
    assert.equal(h.condition(ConditionType.Ready)?.status, 'False');
  });
});

describe('ScalerReconciler when spec.actuator changes', () => {
  it('gives back the reserved concurrency it set, then drives the mapping alone', async () => {
    const h = harness({});
    h.aws.backlog = 500;
    for (let i = 0; i < 3; i++) await h.poll();
    assert.deepEqual(h.aws.writes, ['put 10', 'put 15']);
    h.respec({ actuator: 'EventSourceMaximumConcurrency' });
    await h.poll(); // restores the function: it had no reservation
    assert.deepEqual(h.aws.writes, ['put 10', 'put 15', 'delete']);
    assert.ok(
      h.events.some((e) =>
        e.includes(
          'spec.actuator is now EventSourceMaximumConcurrency (was ReservedConcurrency): Restored no reserved concurrency',
        ),
      ),
      h.events.join('\n'),
    );
    await h.poll(); // records the mapping
    await h.poll();
    assert.deepEqual(h.aws.writes.slice(3), ['cap u 10']);
    assert.equal(h.aws.reserved, undefined);
  });

  it('gives the mapping its cap back when it returns to reserved concurrency', async () => {
    const h = harness({ actuator: 'EventSourceMaximumConcurrency' });
    h.aws.esms = [{ uuid: 'u', maximumConcurrency: 40 }];
    h.aws.backlog = 500;
    for (let i = 0; i < 3; i++) await h.poll();
    h.respec({ actuator: 'ReservedConcurrency' });
    await h.poll();
    assert.deepEqual(h.aws.writes, ['cap u 20', 'cap u 40']);
    const released = h.object.status?.originalConcurrency;
    assert.equal(released, undefined, 'recorded afresh for the new actuator');
    await h.poll();
    await h.poll();
    assert.deepEqual(h.aws.writes.slice(2), ['put 10']);
    assert.deepEqual(Object.keys(h.object.status?.originalConcurrency ?? {}), ['recordedAt']);
  });
});
