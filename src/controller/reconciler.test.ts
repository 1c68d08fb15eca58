import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { LambdaConcurrencyScaler, LambdaConcurrencyScalerStatus } from '../api/v1alpha1/index.ts';
import { AwsError, AwsErrorCode, ErrorClass } from '../aws/errors.ts';
import type { FunctionPort } from '../aws/ports.ts';
import { ManualClock } from '../runtime/clock.ts';
import { silentLogger } from '../runtime/logger.ts';
import { ScalerMetrics } from './metrics.ts';
import { HELD_BACK_POLL_MS, heldBackPollMs, POLL_JITTER, ScalerReconciler } from './reconciler.ts';
import { FakeAws, reconcilerOver, scaler } from './testing/fakes.ts';

describe('ScalerReconciler', () => {
  let aws: FakeAws;
  let object: LambdaConcurrencyScaler;
  let writes: LambdaConcurrencyScalerStatus[];
  let events: string[];
  let clock: ManualClock;
  let metrics: ScalerMetrics;
  let reconciler: ScalerReconciler;

  beforeEach(() => {
    aws = new FakeAws();
    object = scaler();
    writes = [];
    events = [];
    clock = new ManualClock(Date.UTC(2026, 10, 27));
    metrics = new ScalerMetrics(new Registry());
    reconciler = reconcilerOver({
      get: () => object,
      set: (s) => {
        object = s;
      },
      onStatus: (status) => writes.push(status),
      events,
      aws,
      clock,
      metrics,
    });
  });

  const poll = async () => {
    const result = await reconciler.reconcile('default/sample');
    await clock.advance(30_000);
    return result;
  };

  it('starts an unreserved function from min and steps up while the backlog is above the threshold', async () => {
    aws.backlog = 500;
    await poll();
    await poll();
    await poll();
    await poll();
    assert.deepEqual(aws.puts, [10, 15, 20], 'min 5 + one step per poll, capped at max 20');
    assert.equal(object.status?.concurrency, 20);
    assert.equal(object.status?.state, 'ADJUSTED');
    assert.equal(events.filter((e) => e.startsWith('Normal ScaledUp')).length, 3);
    assert.match(events[0] ?? '', /unreserved → 10/);
  });

  it('writes no status and calls no Put when nothing changed', async () => {
    aws.reserved = 5;
    aws.backlog = 0;
    await poll(); // records the function's original value
    await poll();
    const afterFirst = writes.length;
    await poll();
    await poll();
    assert.equal(aws.calls.put ?? 0, 0, 'already at min with an empty queue');
    assert.equal(writes.length, afterFirst, 'an unchanged status is not written again');
  });

  it('writes a backlog that moves below the threshold only with the five-minute checkpoint', async () => {
    aws.reserved = 5;
    await poll();
    await poll();
    const settled = writes.length;
    for (let i = 0; i < 6; i++) {
      aws.backlog = [3, 40, 7, 0, 55, 12][i] ?? 0; // below the threshold (100): nothing to do
      await poll();
    }
    assert.equal(writes.length, settled, 'three minutes of a moving backlog, no status write');
    for (let i = 0; i < 6; i++) await poll();
    assert.equal(writes.length, settled + 1, 'the checkpoint writes it');
    assert.equal(writes.at(-1)?.backlog?.visible, 12);
  });

  it('still checkpoints the policy history of an idle scaler, at most five minutes apart', async () => {
    aws.reserved = 5;
    for (let i = 0; i < 12; i++) await poll(); // six minutes of 30 s polls
    assert.equal(
      writes.length,
      3,
      'the original value, the first decision, then one checkpoint (2.5–5 min after)',
    );
  });

  it('draws each checkpoint between 2.5 and 5 minutes, per scaler, so scalers created together fall out of step', async () => {
    const firstCheckpoint = async (name: string): Promise<number> => {
      const start = clock.now();
      let at = Number.NaN;
      const base = scaler();
      let obj: LambdaConcurrencyScaler = {
        ...base,
        metadata: { ...base.metadata, name, uid: `uid-${name}` },
      };
      let writesSeen = 0;
      const r = reconcilerOver({
        get: () => obj,
        set: (s) => {
          obj = s;
        },
        onStatus: () => {
          writesSeen++;
          if (writesSeen === 3) at = clock.now() - start;
        },
        events: [],
        aws: Object.assign(new FakeAws(), { reserved: 5 }),
        clock,
      });
      for (let i = 0; i < 12 && Number.isNaN(at); i++) {
        await r.reconcile(`default/${name}`);
        await clock.advance(30_000);
      }
      return at;
    };
    const times: number[] = [];
    for (let k = 0; k < 20; k++) times.push(await firstCheckpoint(`s${k}`));
    // Written (original, first decision) in the first 30 s; the checkpoint 2.5–5 min after, on a poll.
    for (const t of times) assert.ok(t >= 150_000 && t <= 330_000, `checkpoint after ${t} ms`);
    assert.ok(Math.max(...times) - Math.min(...times) >= 60_000, `spread over ${times.join(', ')}`);
  });

  it('measures poll lateness from when the last poll was requeued, not from when it started', async () => {
    const lateness = async () =>
      (await metrics.pollLateness.get()).values.find((v) => v.labels.name === 'sample')?.value;
    aws.reserved = 5;
    await poll(); // records the function's original value
    await poll();
    // A scale-up whose write waits 40 s for the control-plane budget.
    aws.backlog = 500;
    const put = aws.putConcurrency.bind(aws);
    aws.putConcurrency = async (name, reserved) => {
      await clock.advance(40_000);
      await put(name, reserved);
    };
    await poll(); // takes 40 s, requeued for 30 s after it ends
    assert.deepEqual(aws.puts, [10]);
    aws.putConcurrency = put;
    await poll(); // on time
    assert.equal(await lateness(), 0, 'a slow write makes the next poll later, not late');
    await clock.advance(5_000);
    await poll(); // a worker was 5 s late
    assert.equal(await lateness(), 5);
  });

  it('reads the event source mappings once, not every poll', async () => {
    await poll();
    await poll();
    await poll();
    assert.equal(aws.calls.eventSources, 1);
    assert.equal(aws.calls.resolve, 1);
  });

  it('waits for the shared listing on its first read only; a re-check takes a stale one at once', async () => {
    await poll();
    for (let i = 0; i < 10; i++) await poll(); // 5 minutes on: the re-check is due
    assert.deepEqual(
      aws.eventSourceReads.map((o) => [o.maxAgeMs, o.staleMs]),
      [
        [60_000, undefined],
        [60_000, 300_000],
      ],
    );
  });

  it('refuses to scale a function the queue does not feed, with a Stalled condition', async () => {
    aws.linked = false;
    aws.backlog = 1000;
    const result = await poll();
    assert.equal(aws.puts.length, 0);
    const stalled = object.status?.conditions?.find((c) => c.type === 'Stalled');
    assert.equal(stalled?.reason, 'NotAnEventSource');
    assert.match(stalled?.message ?? '', /not an event source of function order-processor/);
    assert.equal(object.status?.state, 'ERROR');
    assert.ok((result.requeueAfterMs ?? 0) >= 60_000, 'a stalled scaler is retried slowly');
    assert.equal(events.filter((e) => e.includes('Stalled')).length, 1);
  });

  it('mirrors its conditions and its queue and function on /metrics for the alerts', async () => {
    const value = async (type: string, status: string) =>
      (await metrics.condition.get()).values.find(
        (v) => v.labels.name === 'sample' && v.labels.type === type && v.labels.status === status,
      )?.value;
    aws.linked = false;
    await poll();
    assert.equal(await value('Stalled', 'True'), 1);
    assert.equal(await value('Ready', 'False'), 1);

    aws.linked = true;
    await clock.advance(300_000);
    await poll();
    await poll();

    assert.equal(await value('Stalled', 'True'), undefined, 'Stalled is gone, so are its series');
    assert.equal(await value('Ready', 'True'), 1);
    const info = (await metrics.info.get()).values.map((v) => v.labels);
    assert.deepEqual(info, [
      { namespace: 'default', name: 'sample', queue: 'orders', function: 'order-processor' },
    ]);
  });

  it('comes back later, writing nothing, when the line for the account writes is full', async () => {
    aws.reserved = 10;
    aws.backlog = 500;
    await poll(); // records the function's original value
    const statuses = writes.length;
    const puts = aws.puts.length;
    aws.failOn.put = new AwsError('lambda PutFunctionConcurrency: not sent: line full', {
      code: AwsErrorCode.Deferred,
      errorClass: ErrorClass.Transient,
      retryAfterSeconds: 12,
    });
    const result = await reconciler.reconcile('default/sample');
    const after = result.requeueAfterMs ?? 0;
    assert.ok(after >= 12_000 && after <= 13_200, `requeued after ${after} ms`);
    assert.equal(writes.length, statuses, 'no status write: nothing failed and nothing changed');
    assert.equal(aws.puts.length, puts);
    assert.equal(events.filter((e) => e.startsWith('Warning')).length, 0);
    aws.failOn = {};
    await poll();
    assert.deepEqual(aws.puts, [15], 'the step is decided afresh and written');
  });

  it('holds the value and backs off on throttling, warning once, then recovers', async () => {
    aws.reserved = 10;
    await poll();
    aws.fail = new AwsError('lambda GetFunction: Rate exceeded', {
      code: AwsErrorCode.Throttled,
      errorClass: ErrorClass.Transient,
    });
    await assert.rejects(reconciler.reconcile('default/sample'), /Rate exceeded/);
    await assert.rejects(reconciler.reconcile('default/sample'), /Rate exceeded/);
    assert.equal(object.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
    assert.equal(object.status?.conditions?.find((c) => c.type === 'Reconciling')?.reason, 'Throttled');
    assert.equal(events.filter((e) => e.startsWith('Warning')).length, 1, 'one warning, not one per poll');
    aws.fail = undefined;
    await poll();
    assert.equal(object.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal(
      object.status?.conditions?.find((c) => c.type === 'Reconciling'),
      undefined,
    );
  });

  it('reports a missing function as Stalled with an actionable message', async () => {
    aws.fail = new AwsError('lambda GetFunction: Function not found: order-processor', {
      code: AwsErrorCode.FunctionNotFound,
      errorClass: ErrorClass.Permanent,
    });
    await poll();
    assert.equal(object.status?.conditions?.find((c) => c.type === 'Stalled')?.reason, 'FunctionNotFound');
  });

  it('makes no change while paused by the annotation', async () => {
    object.metadata.annotations = { 'aws.operators.jittakal.io/paused': 'true' };
    aws.backlog = 5000;
    await poll();
    assert.equal(aws.puts.length, 0);
    assert.equal(object.status?.conditions?.find((c) => c.type === 'Paused')?.status, 'True');
  });

  it('notices an out-of-band change and continues from the observed value', async () => {
    aws.backlog = 500;
    await poll();
    await poll();
    assert.equal(aws.reserved, 10);
    aws.reserved = 17;
    await poll();
    assert.ok(events.some((e) => e.startsWith('Warning Drift') && e.includes('10 → 17')));
    assert.equal(aws.reserved, 20, 'one step from the observed 17, capped at max');
  });

  it('records the original value before its first change and restores it on deletion', async () => {
    aws.reserved = 7;
    aws.backlog = 500;
    await poll();
    assert.deepEqual(aws.puts, [], 'nothing changes before the original value is recorded');
    assert.equal(object.status?.originalConcurrency?.reserved, 7);
    assert.ok(object.metadata.finalizers?.includes('aws.operators.jittakal.io/restore-concurrency'));
    await poll();
    await poll();
    assert.deepEqual(aws.puts, [12, 17]);
    object = { ...object, metadata: { ...object.metadata, deletionTimestamp: '2026-11-27T00:10:00Z' } };
    await reconciler.reconcile('default/sample');
    assert.equal(aws.reserved, 7, 'restored');
    assert.deepEqual(object.metadata.finalizers, []);
    assert.ok(events.some((e) => e.startsWith('Normal Restored') && e.includes('reserved concurrency 7')));
  });

  it('removes the limit on deletion when the function had none, and keeps it with onDelete: Retain', async () => {
    aws.backlog = 500;
    await poll();
    await poll();
    assert.equal(aws.reserved, 10);
    const deleting = {
      ...object,
      metadata: { ...object.metadata, deletionTimestamp: '2026-11-27T00:10:00Z' },
    };
    object = { ...deleting, spec: { ...deleting.spec, onDelete: 'Retain' } };
    await reconciler.reconcile('default/sample');
    assert.equal(aws.reserved, 10, 'Retain keeps the last value');
    object = deleting;
    object.metadata.finalizers = ['aws.operators.jittakal.io/restore-concurrency'];
    await reconciler.reconcile('default/sample');
    assert.equal(aws.reserved, undefined, 'Restore removes the limit the function did not have');
    assert.equal(aws.calls.delete, 1);
  });

  it('decides and reports without touching the function in dry-run', async () => {
    object = scaler({ dryRun: true });
    aws.reserved = 5;
    aws.backlog = 500;
    await poll();
    await poll();
    assert.deepEqual(aws.puts, []);
    assert.equal(object.status?.desiredConcurrency, 10);
    assert.equal(object.status?.conditions?.find((c) => c.type === 'ConcurrencyApplied')?.reason, 'DryRun');
    assert.ok(
      events.some(
        (e) => e.startsWith('Normal DryRun') && e.includes('would set reserved concurrency 5 → 10'),
      ),
    );
  });

  it('never takes the account below 100 unreserved: caps, says so once, and keeps within bounds', async () => {
    aws.reserved = 5;
    aws.backlog = 500;
    aws.accountConcurrency = async () => ({ limit: 1000, unreserved: 103 });
    await poll();
    await poll();
    assert.deepEqual(aws.puts, [8], 'unreserved 103 + 5 held - 100 = 8');
    const constrained = object.status?.conditions?.find((c) => c.type === 'Constrained');
    assert.match(
      constrained?.message ?? '',
      /wanted 10 but the account has 103 unreserved of 1000 and must keep 100 unreserved: this scaler \(priority 0\) gets 8/,
    );
    await poll();
    assert.equal(events.filter((e) => e.startsWith('Warning Constrained')).length, 1);
  });

  it('looks again within 5 s while the account holds a measured LatencySLO raise back, at its interval otherwise', async () => {
    const latency = (serviceTimeSource: 'CloudWatch' | 'QueueCounts', dryRun = false) => {
      object = scaler({
        policy: { type: 'LatencySLO', latencySLO: { maxWaitSeconds: 30, serviceTimeSource } },
        ...(dryRun ? { dryRun: true } : {}),
      });
      aws.reserved = 5;
    };
    aws.batchSize = 10;
    aws.backlog = 500;
    aws.cloudWatch = {
      queueMetrics: async () => assert.fail('the backlog comes from the queue'),
      functionDuration: async () => ({ durationMs: 2000, observedAt: clock.now() }),
    };
    let unreserved = 103;
    aws.accountConcurrency = async () => ({ limit: 1000, unreserved });
    const soon = (r: { requeueAfterMs?: number }) =>
      (r.requeueAfterMs ?? 0) <= HELD_BACK_POLL_MS * (1 + POLL_JITTER);
    const regular = (r: { requeueAfterMs?: number }) => (r.requeueAfterMs ?? 0) >= 30_000 * (1 - POLL_JITTER);

    latency('CloudWatch');
    await poll(); // records what the function had
    const held = await poll();
    assert.deepEqual(aws.puts, [8], 'capped at 8 by the account');
    assert.ok(soon(held), `held back: ${held.requeueAfterMs}`);
    unreserved = 900;
    const free = await poll();
    assert.ok((aws.reserved ?? 0) > 8, `no longer held back: ${aws.puts}`);
    assert.ok(regular(free), `free: ${free.requeueAfterMs}`);

    // The counts' estimates need a poll's interval; a dry run has nothing to claim.
    for (const [source, dry] of [
      ['QueueCounts', false],
      ['CloudWatch', true],
    ] as const) {
      latency(source, dry);
      unreserved = 103;
      await poll();
      const r = await poll();
      assert.ok(regular(r), `${source}${dry ? ', dry run' : ''}: ${r.requeueAfterMs}`);
      assert.match(
        object.status?.conditions?.find((c) => c.type === 'Constrained')?.message ?? '',
        /must keep 100 unreserved/,
        `${source}${dry ? ', dry run' : ''} was held back`,
      );
    }
  });

  it('spaces the polls of many held-back scalers of an account: at most 20 extra a second, never past the interval', () => {
    assert.equal(heldBackPollMs(30_000, 1), 5_000);
    assert.equal(heldBackPollMs(30_000, 100), 5_000);
    assert.equal(heldBackPollMs(30_000, 300), 15_000);
    assert.equal(heldBackPollMs(30_000, 5_000), 30_000);
    assert.equal(heldBackPollMs(2_000, 1), 2_000, 'an interval shorter than 5 s stays');
  });

  it('tells the estimates what was written when the account capped it, not what was decided', async () => {
    object = scaler({ policy: { type: 'LatencySLO', latencySLO: { maxWaitSeconds: 30 } } });
    aws.batchSize = 10;
    aws.reserved = 5;
    aws.backlog = 5000;
    aws.accountConcurrency = async () => ({ limit: 1000, unreserved: 103 });
    const last = () =>
      (object.status?.policyState as { latency?: { last?: number[] | null } } | undefined)?.latency?.last;
    await poll();
    await poll();
    assert.deepEqual(aws.puts, [8], 'capped at 8 by the account');
    assert.notEqual(object.status?.desiredConcurrency, 8, 'the policy wanted more');
    assert.equal(last()?.[4], 8, 'the interval that follows runs at 8');
  });

  it("scales on CloudWatch's datapoints when the spec asks for the original's source", async () => {
    object = scaler({ metrics: { source: 'CloudWatch' } });
    aws.backlog = 0; // the queue's own attributes would say: nothing waits
    const minute = Date.UTC(2026, 10, 27) - 120_000;
    aws.cloudWatch = {
      queueMetrics: async () => ({
        visible: 5000,
        inFlight: 0,
        delayed: 0,
        observedAt: clock.now(),
        datapoints: [{ timestamp: minute, value: 5000 }],
      }),
      functionDuration: async () => assert.fail('only LatencySLO with serviceTimeSource CloudWatch reads it'),
    };
    await poll();
    await poll();
    assert.deepEqual(aws.puts, [10], 'a step above min on the CloudWatch backlog');
    assert.equal(aws.calls.metrics, undefined, 'GetQueueAttributes is not read for the backlog');
  });

  it("reads the function's Duration once a minute for serviceTimeSource CloudWatch, and a failed read costs nothing", async () => {
    object = scaler({
      policy: { type: 'LatencySLO', latencySLO: { maxWaitSeconds: 30, serviceTimeSource: 'CloudWatch' } },
    });
    aws.batchSize = 10;
    const reads: string[] = [];
    let failure: Error | undefined;
    aws.cloudWatch = {
      queueMetrics: async () => assert.fail('the backlog comes from the queue'),
      functionDuration: async (name) => {
        reads.push(name);
        if (failure !== undefined) throw failure;
        return { durationMs: 2000, observedAt: clock.now() };
      },
    };
    const perUnit = () =>
      (object.status?.policyState as { latency?: { throughputPerUnit?: number } } | undefined)?.latency
        ?.throughputPerUnit;
    await poll(); // 0 s: read
    await poll(); // 30 s
    await poll(); // 60 s: read
    assert.deepEqual(
      reads,
      ['order-processor', 'order-processor'],
      'once a minute, by the plain function name',
    );
    assert.equal(perUnit(), 5, 'a batch of 10 per 2 s');
    failure = new AwsError('cloudwatch GetMetricData: AccessDenied', {
      code: AwsErrorCode.AccessDenied,
      errorClass: ErrorClass.Permanent,
    });
    await poll(); // 90 s
    await poll(); // 120 s: read, fails
    assert.equal(reads.length, 3);
    assert.equal(object.status?.state, 'ADJUSTED', 'the pass went on');
    assert.equal(perUnit(), 5, 'the last Duration stands');
    const warned = events.filter((e) => e.startsWith('Warning MetricsUnavailable'));
    assert.equal(warned.length, 1);
    assert.match(
      warned[0] ?? '',
      /Duration could not be read from CloudWatch .*AccessDenied.*keeps the last mean read, 2\.000 s/,
    );
    await poll();
    await poll(); // 180 s: fails again, same failure: no second event
    assert.equal(reads.length, 4);
    assert.equal(events.filter((e) => e.startsWith('Warning MetricsUnavailable')).length, 1);
    assert.ok(aws.calls.metrics !== undefined && aws.calls.metrics >= 5, 'every poll read the queue');
  });

  it('reads no Duration for a LatencySLO whose service time comes from the queue counts', async () => {
    object = scaler({ policy: { type: 'LatencySLO', latencySLO: { maxWaitSeconds: 30 } } });
    aws.batchSize = 10;
    aws.cloudWatch = {
      queueMetrics: async () => assert.fail('the backlog comes from the queue'),
      functionDuration: async () => assert.fail('serviceTimeSource defaults to QueueCounts'),
    };
    await poll();
    await poll();
    assert.equal(aws.calls.metrics, 2);
  });

  it('says plainly that it cannot read CloudWatch where the endpoint has no client, instead of pretending', async () => {
    object = scaler({ metrics: { source: 'CloudWatch' } });
    aws.backlog = 5000;
    await poll();
    assert.deepEqual(aws.puts, []);
    assert.match(
      object.status?.conditions?.find((c) => c.type === 'Stalled')?.message ?? '',
      /no CloudWatch client/,
    );
  });
});

describe('ScalerReconciler with eventSourceMapping.manageMaximumConcurrency', () => {
  let aws: FakeAws;
  let object: LambdaConcurrencyScaler;
  let events: string[];
  let clock: ManualClock;
  let reconciler: ScalerReconciler;
  const managed = (spec: Partial<LambdaConcurrencyScaler['spec']> = {}) =>
    scaler({ eventSourceMapping: { manageMaximumConcurrency: true }, ...spec });

  beforeEach(() => {
    aws = new FakeAws();
    object = managed();
    events = [];
    clock = new ManualClock(Date.UTC(2026, 10, 27));
    reconciler = reconcilerOver({
      get: () => object,
      set: (s) => {
        object = s;
      },
      events,
      aws,
      clock,
    });
  });

  const poll = async () => {
    const result = await reconciler.reconcile('default/sample');
    await clock.advance(30_000);
    return result;
  };
  const deleteScaler = async () => {
    object = { ...object, metadata: { ...object.metadata, deletionTimestamp: '2026-11-27T00:10:00Z' } };
    await reconciler.reconcile('default/sample');
  };

  it('is off by default: no UpdateEventSourceMapping call at all, nothing recorded', async () => {
    object = scaler();
    aws.backlog = 500;
    for (let i = 0; i < 5; i++) await poll();
    aws.backlog = 0;
    for (let i = 0; i < 5; i++) await poll();
    await deleteScaler();
    assert.ok(aws.puts.length > 0, 'it did scale');
    assert.equal(aws.calls.updateEsm ?? 0, 0);
    assert.equal(aws.esms[0]?.maximumConcurrency, undefined);
    assert.equal(object.status?.originalConcurrency?.eventSources, undefined);
    assert.equal(object.status?.eventSourceMaximumConcurrency, undefined);
  });

  it('scaling up puts the reserved concurrency first, then raises the cap to it', async () => {
    aws.backlog = 500;
    await poll(); // records the originals
    assert.deepEqual(object.status?.originalConcurrency?.eventSources, [{ uuid: 'u' }]);
    assert.deepEqual(aws.writes, [], 'nothing is written before the originals are recorded');
    await poll();
    await poll();
    assert.deepEqual(aws.writes, ['put 10', 'cap u 10', 'put 15', 'cap u 15']);
    assert.equal(object.status?.eventSourceMaximumConcurrency, 15);
    assert.ok(
      events.some((e) =>
        e.startsWith('Normal ScaledUp Reserved concurrency 10 → 15, event source MaximumConcurrency 10 → 15'),
      ),
      events.join('\n'),
    );
  });

  it('scaling down lowers the cap first, then the reserved concurrency; cap never above reserved', async () => {
    object = managed({ policy: { type: 'Step', step: { scaleDownThreshold: 50 } } });
    aws.reserved = 20;
    aws.esms = [
      { uuid: 'u', maximumConcurrency: 20 },
      { uuid: 'v', maximumConcurrency: 300 },
    ];
    aws.backlog = 0;
    await poll(); // records the originals
    await poll();
    await poll();
    assert.deepEqual(aws.writes, ['cap u 15', 'cap v 15', 'put 15', 'cap u 10', 'cap v 10', 'put 10']);
    assert.ok(
      events.some((e) => e.startsWith('Normal ScaledDown Reserved concurrency 20 → 15, event source')),
    );
  });

  it('keeps the invariant cap ≤ reserved after every single write, up and down', async () => {
    aws.backlog = 500;
    const violations: string[] = [];
    const check = aws.updateEventSourceMaximumConcurrency.bind(aws);
    aws.updateEventSourceMaximumConcurrency = async (uuid, value) => {
      if (value !== undefined && value > (aws.reserved ?? Number.POSITIVE_INFINITY))
        violations.push(`cap ${value} > reserved ${aws.reserved}`);
      return check(uuid, value);
    };
    const put = aws.putConcurrency.bind(aws);
    aws.putConcurrency = async (name, reserved) => {
      const cap = aws.esms[0]?.maximumConcurrency;
      if (cap !== undefined && cap > reserved) violations.push(`put ${reserved} under cap ${cap}`);
      return put(name, reserved);
    };
    for (let i = 0; i < 6; i++) await poll();
    aws.backlog = 0;
    for (let i = 0; i < 6; i++) await poll();
    assert.ok(aws.writes.includes('cap u 20') && aws.writes.at(-1) === 'put 5', aws.writes.join(', '));
    assert.deepEqual(violations, []);
  });

  it('writes the cap only on change, and remembers its own write (no re-read every poll)', async () => {
    aws.reserved = 5;
    aws.backlog = 0;
    await poll();
    await poll(); // steady at min: caps the mapping at 5 once
    assert.deepEqual(aws.writes, ['cap u 5']);
    assert.ok(
      events.some((e) => e.startsWith('Normal EventSourceCapped Reserved concurrency 5, event source')),
    );
    for (let i = 0; i < 8; i++) await poll();
    assert.deepEqual(aws.writes, ['cap u 5'], 'no further writes while nothing changes');
    assert.equal(aws.calls.eventSources, 1, 'read once, within the 5 minute cache');
    assert.equal(object.status?.eventSourceMaximumConcurrency, 5);
  });

  it('keeps the cap at 2 when the reserved concurrency goes below 2, and says so', async () => {
    object = managed({ awsLambdaMinConcurrency: 0, awsLambdaStepConcurrency: 1 });
    aws.reserved = 3;
    aws.esms = [{ uuid: 'u', maximumConcurrency: 3 }];
    await poll();
    await poll();
    await poll();
    await poll();
    assert.deepEqual(aws.writes, ['cap u 2', 'put 2', 'put 1', 'put 0']);
    assert.equal(object.status?.eventSourceMaximumConcurrency, 2);
    const below = events.filter((e) => /MaximumConcurrency stays at 2, its lowest value/.test(e));
    assert.equal(below.length, 2, 'said at 2 → 1 and at 1 → 0');
    assert.match(below[0] ?? '', /Reserved concurrency 2 → 1; event source .* for reserved concurrency 1/);
  });

  it('restores the mapping’s own cap and the function’s value on deletion, in a safe order', async () => {
    aws.reserved = 7;
    aws.esms = [{ uuid: 'u', maximumConcurrency: 4 }];
    aws.backlog = 500;
    await poll();
    assert.deepEqual(object.status?.originalConcurrency?.eventSources, [
      { uuid: 'u', maximumConcurrency: 4 },
    ]);
    await poll();
    await poll();
    assert.deepEqual(aws.writes, ['put 12', 'cap u 12', 'put 17', 'cap u 17']);
    aws.writes = [];
    await deleteScaler();
    assert.deepEqual(aws.writes, ['cap u 4', 'put 7'], 'lower the cap first, then the reserved concurrency');
    assert.equal(aws.reserved, 7);
    assert.ok(
      events.some(
        (e) =>
          e.startsWith('Normal Restored') && e.includes('MaximumConcurrency 4 on event source mapping u'),
      ),
    );
  });

  it('removes a cap the mapping did not have on deletion, after removing the reserved limit', async () => {
    aws.backlog = 500;
    await poll();
    await poll();
    aws.writes = [];
    await deleteScaler();
    assert.deepEqual(aws.writes, ['delete', 'cap u none']);
    assert.equal(aws.esms[0]?.maximumConcurrency, undefined);
  });

  it('leaves the cap alone on deletion with onDelete: Retain', async () => {
    object = managed({ onDelete: 'Retain' });
    aws.backlog = 500;
    await poll();
    await poll();
    aws.writes = [];
    await deleteScaler();
    assert.deepEqual(aws.writes, []);
    assert.equal(aws.esms[0]?.maximumConcurrency, 10);
  });

  it('writes nothing in dry-run, and says which cap it would set', async () => {
    object = managed({ dryRun: true });
    aws.reserved = 5;
    aws.backlog = 500;
    for (let i = 0; i < 4; i++) await poll();
    await deleteScaler();
    assert.deepEqual(aws.writes, []);
    assert.equal(aws.calls.updateEsm ?? 0, 0);
    assert.ok(
      events.some((e) =>
        e.includes('would set reserved concurrency 5 → 10 and the event source MaximumConcurrency to 10'),
      ),
    );
  });

  it('records the mapping’s cap when turned on later, and gives it back when turned off', async () => {
    object = scaler();
    aws.reserved = 5;
    aws.esms = [{ uuid: 'u', maximumConcurrency: 50 }];
    await poll();
    await poll();
    assert.equal(aws.calls.updateEsm ?? 0, 0);
    object = { ...object, spec: { ...object.spec, eventSourceMapping: { manageMaximumConcurrency: true } } };
    await poll();
    assert.deepEqual(object.status?.originalConcurrency?.eventSources, [
      { uuid: 'u', maximumConcurrency: 50 },
    ]);
    assert.equal(object.status?.originalConcurrency?.reserved, 5, 'the function’s original is kept');
    await poll();
    assert.deepEqual(aws.writes, ['cap u 5']);
    object = { ...object, spec: { ...object.spec, eventSourceMapping: { manageMaximumConcurrency: false } } };
    await poll();
    assert.deepEqual(aws.writes, ['cap u 5', 'cap u 50']);
    assert.equal(object.status?.originalConcurrency?.eventSources, undefined);
    assert.equal(object.status?.eventSourceMaximumConcurrency, undefined);
    await poll();
    assert.equal(aws.writes.length, 2, 'no longer managed');
  });
});

describe('ScalerReconciler sharing an account', () => {
  it('serves the higher priority first and tells the other why it got less', async () => {
    const aws = new FakeAws();
    aws.backlog = 5000;
    aws.reserved = 5;
    aws.accountConcurrency = async () => ({ limit: 1000, unreserved: 120 }); // 20 grantable
    const objects: Record<string, LambdaConcurrencyScaler> = {};
    for (const [name, priority] of [
      ['high', 10],
      ['low', 0],
    ] as const) {
      const s = scaler({
        awsLambdaName: `fn-${name}`,
        awsLamndaMaxConcurrency: 100,
        awsLambdaStepConcurrency: 30,
        priority,
      });
      s.metadata = { ...s.metadata, name, uid: name };
      s.status = { originalConcurrency: { reserved: 5, recordedAt: '2026-11-27T00:00:00Z' } };
      objects[`default/${name}`] = s;
    }
    const events: string[] = [];
    const reconciler = new ScalerReconciler({
      get: (key) => objects[key],
      patchStatus: async (s, status) => {
        objects[`default/${s.metadata.name}`] = { ...s, status };
      },
      setFinalizers: async (s, finalizers) => {
        const next = { ...s, metadata: { ...s.metadata, finalizers } };
        objects[`default/${s.metadata.name}`] = next;
        return next;
      },
      event: (s, type, reason, message) => events.push(`${s.metadata.name} ${type} ${reason} ${message}`),
      // Each scaler sees its own function held at 5; both draw on one account.
      aws: async () => ({ queues: aws, functions: fnAt5(aws), account: 'shared|us-east-1' }),
      clock: new ManualClock(0),
      log: silentLogger,
    });
    await reconciler.reconcile('default/high');
    await reconciler.reconcile('default/low');

    const constrained = objects['default/low']?.status?.conditions?.find((c) => c.type === 'Constrained');
    assert.match(
      constrained?.message ?? '',
      /shared by priority then fairly between 2 scalers that want more: this scaler \(priority 0\) gets 5/,
    );
    assert.deepEqual(
      aws.puts,
      [25],
      'the high-priority scaler got all 20 grantable units (5 → 25), the other none',
    );
    const high = objects['default/high']?.status?.conditions?.find((c) => c.type === 'Constrained');
    assert.match(high?.message ?? '', /wanted 35 .*: this scaler \(priority 10\) gets 25/);
    assert.equal(events.filter((e) => e.includes('Warning Constrained')).length, 2, 'one warning each');
  });
});

/** A function port whose reads always say 5 (each scaler has its own function in this story). */
function fnAt5(aws: FakeAws): FunctionPort {
  return {
    concurrency: async (name: string) => ({ functionArn: name, reserved: 5 }),
    putConcurrency: (name: string, n: number) => aws.putConcurrency(name, n),
    deleteConcurrency: () => aws.deleteConcurrency(),
    updateEventSourceMaximumConcurrency: (uuid: string, v: number | undefined) =>
      aws.updateEventSourceMaximumConcurrency(uuid, v),
    updateEventSourceProvisionedPollers: (uuid, p) => aws.updateEventSourceProvisionedPollers(uuid, p),
    eventSources: () => aws.eventSources(),
    accountConcurrency: () => aws.accountConcurrency(),
  };
}
