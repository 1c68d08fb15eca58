// Leader election timing with an in-memory Lease store and a manual clock: expiry is judged from
// when the candidate observed the record change (not the holder's renewTime, which may come from
// a skewed clock), and a leader steps down when it cannot renew within the renew deadline.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from './clock.ts';
import { KubeApiError, type KubeClient } from './kube.ts';
import { LeaderElector, type LeaseSpec } from './leaderelection.ts';

const tick = async (n = 10): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
};

/** One Lease in memory with resourceVersion checks; `down` makes every call fail. */
function leaseStore(initial?: LeaseSpec) {
  let rv = 1;
  let lease:
    | { metadata: { name: string; namespace: string; resourceVersion: string }; spec: LeaseSpec }
    | undefined =
    initial === undefined
      ? undefined
      : { metadata: { name: 'l', namespace: 'ns', resourceVersion: String(rv) }, spec: initial };
  const store = {
    down: false,
    get spec(): LeaseSpec | undefined {
      return lease?.spec;
    },
    /** Another process renews the lease it holds. */
    renewBy(holder: string): void {
      rv++;
      lease = {
        metadata: { name: 'l', namespace: 'ns', resourceVersion: String(rv) },
        spec: { ...lease?.spec, holderIdentity: holder, renewTime: `renewed-${rv}` },
      };
    },
    client: {
      async request<T>(method: string, _path: string, options?: { body?: unknown }): Promise<T> {
        if (store.down) throw new KubeApiError('connection refused', { code: 0, reason: 'NetworkError' });
        const body = options?.body as typeof lease;
        if (method === 'GET') {
          if (lease === undefined) throw new KubeApiError('not found', { code: 404, reason: 'NotFound' });
          return structuredClone(lease) as T;
        }
        if (method === 'POST' && lease === undefined && body !== undefined) {
          lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++rv) } };
          return structuredClone(lease) as T;
        }
        if (method === 'PUT' && body !== undefined) {
          if (body.metadata.resourceVersion !== lease?.metadata.resourceVersion)
            throw new KubeApiError('conflict', { code: 409, reason: 'Conflict' });
          lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++rv) } };
          return structuredClone(lease) as T;
        }
        throw new KubeApiError('unexpected', { code: 400, reason: 'BadRequest' });
      },
      watch: () => Promise.reject(new Error('no watches here')),
    } satisfies KubeClient,
  };
  return store;
}

const timing = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

function elector(store: ReturnType<typeof leaseStore>, clock: ManualClock, identity = 'me') {
  let started = 0;
  const e = new LeaderElector({
    client: store.client,
    namespace: 'ns',
    name: 'l',
    identity,
    clock,
    random: () => 0,
    ...timing,
    onStartedLeading: () => {
      started++;
    },
  });
  return { e, started: () => started };
}

describe('LeaderElector (in-memory Lease, manual clock)', () => {
  it('waits a full lease duration from its own first observation, whatever renewTime says', async () => {
    const clock = new ManualClock();
    const store = leaseStore({
      holderIdentity: 'other',
      leaseDurationSeconds: 15,
      renewTime: '2000-01-01T00:00:00.000000Z', // a holder with a badly skewed clock
      leaseTransitions: 4,
    });
    const { e } = elector(store, clock);
    const ac = new AbortController();
    const outcome = e.run(ac.signal);
    await tick();
    assert.equal(e.isLeader(), false, 'an ancient renewTime alone does not make the lease free');
    await clock.advance(14_000);
    await tick();
    assert.equal(e.isLeader(), false);
    await clock.advance(2_000);
    await tick();
    assert.equal(e.isLeader(), true);
    assert.equal(store.spec?.holderIdentity, 'me');
    assert.equal(store.spec?.leaseTransitions, 5);
    assert.equal(store.spec?.leaseDurationSeconds, 15);
    ac.abort();
    assert.equal(await outcome, 'stopped');
  });

  it('never takes a lease that its holder keeps renewing', async () => {
    const clock = new ManualClock();
    const store = leaseStore({ holderIdentity: 'other', leaseDurationSeconds: 15, renewTime: 'x' });
    const { e } = elector(store, clock);
    const ac = new AbortController();
    const outcome = e.run(ac.signal);
    for (let t = 0; t < 60_000; t += 2_000) {
      store.renewBy('other');
      await clock.advance(2_000);
      await tick();
      assert.equal(e.isLeader(), false);
    }
    ac.abort();
    assert.equal(await outcome, 'cancelled');
  });

  it('creates a missing lease, renews it every retry period, and steps down after the renew deadline', async () => {
    const clock = new ManualClock();
    const store = leaseStore();
    const { e, started } = elector(store, clock);
    const ac = new AbortController();
    let outcome: string | undefined;
    void e.run(ac.signal).then((o) => {
      outcome = o;
    });
    await tick();
    assert.equal(e.isLeader(), true);
    assert.equal(started(), 1);
    const firstRenew = store.spec?.renewTime;
    await clock.advance(2_000);
    await tick();
    assert.notEqual(store.spec?.renewTime, firstRenew, 'renewed after one retry period');

    store.down = true;
    await clock.advance(2_000); // the next renewal starts; its deadline is 10 s away
    await tick();
    for (let i = 0; i < 4; i++) {
      await clock.advance(2_000);
      await tick();
      assert.equal(outcome, undefined, `still trying at ${(i + 1) * 2} s into the deadline`);
    }
    await clock.advance(2_000);
    await tick();
    assert.equal(outcome, 'lost');
    assert.equal(e.isLeader(), false);
    ac.abort();
  });

  it('keeps renewing while the work winds down after a stop, then releases the lease', async () => {
    const clock = new ManualClock();
    const store = leaseStore();
    let finishWork: () => void = () => {};
    let workSignal: AbortSignal | undefined;
    const e = new LeaderElector({
      client: store.client,
      namespace: 'ns',
      name: 'l',
      identity: 'me',
      clock,
      ...timing,
      onStartedLeading: (signal) => {
        workSignal = signal;
        return new Promise<void>((resolve) => {
          finishWork = resolve;
        });
      },
    });
    const ac = new AbortController();
    let outcome: string | undefined;
    void e.run(ac.signal).then((o) => {
      outcome = o;
    });
    await tick();
    assert.equal(e.isLeader(), true);

    ac.abort();
    await tick();
    assert.equal(workSignal?.aborted, true, 'the work is told to stop at once');
    const renewals = new Set<string | undefined>();
    for (let t = 0; t < 30_000; t += 2_000) {
      await clock.advance(2_000);
      await tick();
      renewals.add(store.spec?.renewTime);
      assert.equal(
        store.spec?.holderIdentity,
        'me',
        'held while draining, for longer than the lease duration',
      );
    }
    assert.ok(renewals.size >= 14, `renewed throughout the drain (${renewals.size} distinct renewals)`);
    assert.equal(outcome, undefined);

    finishWork();
    await tick();
    assert.equal(outcome, 'stopped');
    assert.equal(store.spec?.holderIdentity, '', 'released once the work finished');
    assert.equal(store.spec?.leaseDurationSeconds, 1);
  });

  it('rejects timings that allow two leaders', () => {
    const store = leaseStore();
    const make = (leaseDurationMs: number, renewDeadlineMs: number) => () =>
      new LeaderElector({
        client: store.client,
        namespace: 'ns',
        name: 'l',
        identity: 'x',
        leaseDurationMs,
        renewDeadlineMs,
        retryPeriodMs: 2000,
        onStartedLeading: () => {},
      });
    assert.throws(make(10_000, 10_000), /leaseDuration must be greater than renewDeadline/);
    assert.throws(make(15_000, 2_000), /renewDeadline must be greater/);
  });
});
