// The reconciler against what a hostile tenant or a broken account does to it: writes AWS refuses
// for headroom, a function renamed under it, two scalers claiming one function, deletions in every
// order, an API server that loses our status write, ARNs of another Region, and tenants the
// administrator has not allowed. Each case failed on the code before issue 12.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LambdaConcurrencyScaler, LambdaConcurrencyScalerSpec } from '../../src/api/v1alpha1/index.ts';
import { FINALIZER } from '../../src/api/v1alpha1/index.ts';
import { AwsError, AwsErrorCode, ErrorClass } from '../../src/aws/errors.ts';
import type {
  AccountConcurrency,
  EventSource,
  FunctionPort,
  QueueMetrics,
  QueuePort,
  ReadOptions,
} from '../../src/aws/ports.ts';
import { ScalerReconciler } from '../../src/controller/reconciler.ts';
import { Tenancy } from '../../src/controller/tenancy.ts';
import { ManualClock } from '../../src/runtime/clock.ts';
import { silentLogger } from '../../src/runtime/logger.ts';

const ACCOUNT = '000000000000';
const fnArn = (name: string) => `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}`;
const bare = (name: string) => name.split(':').at(-1) ?? name;

/** One AWS account as Lambda keeps it: reserved concurrency per function, 100 always unreserved. */
class Account implements QueuePort, FunctionPort {
  limit = 1000;
  backlog = 0;
  readonly reserved = new Map<string, number>();
  /** Every write, in order: `fn=N` or `fn=none`. */
  readonly writes: string[] = [];
  /** Set to serve an older reading of the pool unless asked for a fresh one (maxAgeMs: 0). */
  staleUnreserved: number | undefined;
  calls = 0;

  unreserved(): number {
    return this.limit - [...this.reserved.values()].reduce((a, b) => a + b, 0);
  }
  async resolve(name: string) {
    this.calls++;
    return {
      url: `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/${name}`,
      arn: `arn:aws:sqs:us-east-1:${ACCOUNT}:${name}`,
    };
  }
  async metrics(): Promise<QueueMetrics> {
    this.calls++;
    return { visible: this.backlog, inFlight: 0, delayed: 0, observedAt: 0 };
  }
  async concurrency(name: string) {
    this.calls++;
    return { functionArn: fnArn(bare(name)), reserved: this.reserved.get(bare(name)) };
  }
  async putConcurrency(name: string, value: number) {
    this.calls++;
    const fn = bare(name);
    const delta = value - (this.reserved.get(fn) ?? 0);
    if (this.unreserved() - delta < 100)
      throw new AwsError(
        "lambda PutFunctionConcurrency: Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100]",
        { code: AwsErrorCode.InsufficientHeadroom, errorClass: ErrorClass.Transient },
      );
    this.reserved.set(fn, value);
    this.writes.push(`${fn}=${value}`);
  }
  async deleteConcurrency(name: string) {
    this.calls++;
    this.reserved.delete(bare(name));
    this.writes.push(`${bare(name)}=none`);
  }
  async updateEventSourceMaximumConcurrency() {
    this.calls++;
  }
  async updateEventSourceProvisionedPollers() {
    this.calls++;
  }
  async eventSources(name: string): Promise<EventSource[]> {
    this.calls++;
    return [
      {
        uuid: `esm-${bare(name)}`,
        eventSourceArn: `arn:aws:sqs:us-east-1:${ACCOUNT}:orders`,
        state: 'Enabled',
        maximumConcurrency: undefined,
      },
    ];
  }
  async accountConcurrency(options: ReadOptions = {}): Promise<AccountConcurrency> {
    this.calls++;
    const fresh = this.unreserved();
    return {
      limit: this.limit,
      unreserved: options.maxAgeMs === 0 ? fresh : (this.staleUnreserved ?? fresh),
    };
  }
}

/** Scalers kept as the API server would, and one reconciler over all of them. */
class World {
  readonly account = new Account();
  readonly clock = new ManualClock(Date.UTC(2026, 11, 1));
  readonly objects = new Map<string, LambdaConcurrencyScaler>();
  readonly events: string[] = [];
  failStatusWrites = false;
  #created = 0;
  reconciler: ScalerReconciler;

  readonly o: { tenancy?: Tenancy; region?: string };

  constructor(o: { tenancy?: Tenancy; region?: string } = {}) {
    this.o = o;
    this.reconciler = this.newReconciler();
  }

  /** A reconciler with no memory, as after a restart of the manager. */
  newReconciler(): ScalerReconciler {
    this.reconciler = new ScalerReconciler({
      get: (key) => this.objects.get(key),
      list: () => [...this.objects.values()],
      patchStatus: async (s, status) => {
        if (this.failStatusWrites) throw new Error('connection refused (the API server is down)');
        this.#replace(s, { status });
      },
      setFinalizers: async (s, finalizers) => {
        const next = this.#replace(s, { metadata: { ...this.#latest(s).metadata, finalizers } });
        if (next.metadata.deletionTimestamp !== undefined && finalizers.length === 0)
          this.objects.delete(key(next));
        return next;
      },
      event: (s, type, reason, message) =>
        this.events.push(`${s.metadata.name} ${type} ${reason} ${message}`),
      aws: async () => ({
        queues: this.account,
        functions: this.account,
        account: `${ACCOUNT}|us-east-1`,
        region: this.o.region ?? 'us-east-1',
      }),
      tenancy: this.o.tenancy,
      clock: this.clock,
      log: silentLogger,
      random: () => 0.5,
    });
    return this.reconciler;
  }

  #latest(s: LambdaConcurrencyScaler): LambdaConcurrencyScaler {
    return this.objects.get(key(s)) ?? s;
  }

  #replace(s: LambdaConcurrencyScaler, change: Partial<LambdaConcurrencyScaler>): LambdaConcurrencyScaler {
    const next = { ...this.#latest(s), ...change };
    this.objects.set(key(next), next);
    return next;
  }

  create(name: string, spec: Partial<LambdaConcurrencyScalerSpec>, namespace = 'default'): string {
    this.#created++;
    const s: LambdaConcurrencyScaler = {
      apiVersion: 'aws.operators.jittakal.io/v1alpha1',
      kind: 'LambdaConcurrencyScaler',
      metadata: {
        name,
        namespace,
        uid: `uid-${name}-${this.#created}`,
        generation: 1,
        creationTimestamp: new Date(this.clock.now() + this.#created * 1000).toISOString(),
      },
      spec: {
        awsSQSName: 'orders',
        awsSQSMsgCountThreshold: 100,
        awsLambdaName: 'fn',
        awsLambdaMinConcurrency: 1,
        awsLamndaMaxConcurrency: 1000,
        awsLambdaStepConcurrency: 300,
        ...spec,
      },
    };
    this.objects.set(key(s), s);
    return key(s);
  }

  edit(k: string, spec: Partial<LambdaConcurrencyScalerSpec>): void {
    const s = this.get(k);
    this.objects.set(k, {
      ...s,
      metadata: { ...s.metadata, generation: (s.metadata.generation ?? 1) + 1 },
      spec: { ...s.spec, ...spec },
    });
  }

  delete(k: string): void {
    const s = this.get(k);
    this.objects.set(k, {
      ...s,
      metadata: { ...s.metadata, deletionTimestamp: new Date(this.clock.now()).toISOString() },
    });
  }

  get(k: string): LambdaConcurrencyScaler {
    const s = this.objects.get(k);
    if (s === undefined) throw new Error(`${k} is gone`);
    return s;
  }

  /** Reconciles `k` `times` times, a poll apart; reconcile errors are kept, as the work queue would. */
  async poll(k: string, times = 1): Promise<unknown[]> {
    const errors: unknown[] = [];
    for (let i = 0; i < times; i++) {
      await this.reconciler.reconcile(k).catch((e: unknown) => errors.push(e));
      this.clock.advance(30_000);
    }
    return errors;
  }

  condition(k: string, type: string) {
    return this.objects.get(k)?.status?.conditions?.find((c) => c.type === type);
  }
}

const key = (s: LambdaConcurrencyScaler) => `${s.metadata.namespace}/${s.metadata.name}`;

describe('a write AWS refuses for the account headroom', () => {
  it('becomes Constrained at the highest value AWS accepts, and the scaler keeps scaling both ways', async () => {
    const w = new World();
    w.account.reserved.set('hog', 10); // 990 unreserved
    w.account.reserved.set('fn', 301);
    w.account.backlog = 5000;
    const k = w.create('big-step', { awsLambdaName: 'fn' });
    await w.poll(k, 2); // record the original, then a step up
    assert.deepEqual(w.account.writes, ['fn=601']);
    // Someone else reserved 100 since our reading: we think 389 are unreserved, AWS knows 289.
    w.account.staleUnreserved = w.account.unreserved();
    w.account.reserved.set('other', 100);
    w.account.writes.length = 0;

    const errors = await w.poll(k);

    assert.deepEqual(errors, []);
    assert.deepEqual(w.account.writes, ['fn=790'], 'the highest value that leaves 100 unreserved');
    assert.equal(w.condition(k, 'Constrained')?.status, 'True');
    assert.match(w.condition(k, 'Constrained')?.message ?? '', /AWS refused reserved concurrency 890/);
    assert.equal(w.condition(k, 'Stalled'), undefined);
    assert.equal(w.condition(k, 'Ready')?.status, 'True');

    w.account.backlog = 0;
    w.account.staleUnreserved = undefined;
    await w.poll(k, 3);
    assert.deepEqual(w.account.writes, ['fn=790', 'fn=490', 'fn=190', 'fn=1'], 'and straight back down');
  });
});

describe('a scaler whose awsLambdaName changes', () => {
  it('gives the old function back before taking the new one, and restores the new one on delete', async () => {
    const w = new World();
    w.account.reserved.set('fn-f', 3);
    const k = w.create('renamed', { awsLambdaName: 'fn-f', awsLambdaMinConcurrency: 10 });
    await w.poll(k, 2);
    assert.equal(w.account.reserved.get('fn-f'), 10);

    w.edit(k, { awsLambdaName: 'fn-c' });
    await w.poll(k, 3);

    assert.equal(w.account.reserved.get('fn-f'), 3, 'fn-f has its own value back');
    assert.equal(w.account.reserved.get('fn-c'), 10, 'fn-c is scaled from min');
    assert.equal(w.get(k).status?.functionArn, fnArn('fn-c'));
    assert.ok(
      w.events.some((e) => /Released No longer scaling .*fn-f: Restored reserved concurrency 3/.test(e)),
    );

    w.delete(k);
    await w.poll(k);
    assert.equal(w.objects.has(k), false);
    assert.equal(w.account.reserved.has('fn-c'), false, 'fn-c had no reservation before');
    assert.equal(w.account.reserved.get('fn-f'), 3);
  });
});

describe('two scalers naming one function', () => {
  it('lets the first hold it, the second never write, and hands over on delete', async () => {
    const w = new World();
    w.account.reserved.set('fn-d', 4);
    const x = w.create('x', { awsLambdaName: 'fn-d', awsLambdaMinConcurrency: 6 });
    const y = w.create('y', { awsLambdaName: 'fn-d', awsLambdaMinConcurrency: 9 });
    for (let i = 0; i < 3; i++) {
      await w.poll(x);
      await w.poll(y);
    }
    assert.deepEqual(w.account.writes, ['fn-d=6']);
    assert.equal(w.condition(y, 'Stalled')?.reason, 'FunctionClaimed');
    assert.match(w.condition(y, 'Stalled')?.message ?? '', /is scaled by default\/x/);
    assert.equal(
      w.events.filter((e) => e.startsWith('y Warning Stalled')).length,
      1,
      'one event, not one per poll',
    );

    w.delete(x);
    await w.poll(x);
    assert.equal(w.account.reserved.get('fn-d'), 4, 'x restored what fn-d had before any scaler');
    await w.poll(y, 2);
    assert.equal(w.account.reserved.get('fn-d'), 9, 'y took over');
    assert.equal(w.get(y).status?.originalConcurrency?.reserved, 4);

    w.delete(y);
    await w.poll(y);
    assert.equal(w.account.reserved.get('fn-d'), 4);
  });

  it('keeps the same holder across a restart of the manager, whichever is reconciled first', async () => {
    const w = new World();
    w.account.reserved.set('fn-d', 4);
    const x = w.create('x', { awsLambdaName: 'fn-d', awsLambdaMinConcurrency: 6 });
    const y = w.create('y', { awsLambdaName: 'fn-d', awsLambdaMinConcurrency: 9 });
    await w.poll(x, 2);
    w.newReconciler();
    await w.poll(y, 2);
    await w.poll(x);
    assert.deepEqual(w.account.writes, ['fn-d=6']);
    assert.equal(w.condition(y, 'Stalled')?.reason, 'FunctionClaimed');
  });

  it('restores on delete when the holder is deleted while the manager is down', async () => {
    const w = new World();
    w.account.reserved.set('fn-d', 4);
    const x = w.create('x', { awsLambdaName: 'fn-d', awsLambdaMinConcurrency: 6 });
    await w.poll(x, 2);
    w.delete(x);
    w.newReconciler();
    await w.poll(x);
    assert.equal(w.objects.has(x), false);
    assert.equal(w.account.reserved.get('fn-d'), 4);
  });
});

describe('headroom shared in one account', () => {
  it('gives a deleted scaler’s share to the others at once, not after the demand expires', async () => {
    const w = new World();
    w.account.limit = 400; // 300 can be reserved
    w.account.backlog = 5000;
    const a = w.create('a', { awsLambdaName: 'fn-a', awsLambdaStepConcurrency: 1000 });
    const b = w.create('b', { awsLambdaName: 'fn-b', awsLambdaStepConcurrency: 1000 });
    const step = async (k: string) => {
      await w.reconciler.reconcile(k);
      w.clock.advance(1_000); // the whole story stays well within the ledger's 120 s
    };
    for (const k of [a, b, a, b, a, b]) await step(k);
    // a asked first and got all the pool can give (400 − 100); b got nothing and still wants more
    assert.deepEqual(w.account.writes, ['fn-a=300']);
    assert.equal(w.condition(b, 'Constrained')?.status, 'True');
    w.delete(a);
    await step(a); // restored: fn-a has no reservation again
    await step(b);
    // With a's demand lingering, b would get half (150) until it expired.
    assert.equal(w.account.reserved.get('fn-b'), 300, 'all of the pool but the 100: a no longer shares it');
  });
});

describe('an API server that loses our status write', () => {
  it('does not report our own write as a change made outside the operator', async () => {
    const w = new World();
    w.account.backlog = 5000;
    const k = w.create('outage', { awsLambdaName: 'fn', awsLambdaStepConcurrency: 5 });
    await w.poll(k, 2);
    w.failStatusWrites = true;
    await w.poll(k); // scales up, then loses the status that says so
    w.failStatusWrites = false;
    await w.poll(k);
    assert.deepEqual(
      w.events.filter((e) => e.includes('Drift')),
      [],
    );
  });
});

describe('references the controller re-checks', () => {
  it('refuses a function ARN of another Region than the scaler acts in, without a write', async () => {
    const w = new World({ region: 'us-east-1' });
    const k = w.create('elsewhere', {
      awsLambdaName: `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:fn`,
    });
    await w.poll(k, 2);
    assert.equal(w.condition(k, 'Stalled')?.reason, 'InvalidSpec');
    assert.match(
      w.condition(k, 'Stalled')?.message ?? '',
      /function is in Region eu-west-1 but the scaler acts in us-east-1/,
    );
    assert.equal(w.account.calls, 0);
  });
});

describe('tenancy', () => {
  it("refuses the operator's own identity to a namespace the administrator has not listed", async () => {
    const w = new World({
      tenancy: new Tenancy({ operatorNamespace: 'system', operatorIdentityNamespaces: ['team-a'] }),
    });
    const k = w.create('sneaky', { awsLambdaName: 'fn' }, 'team-b');
    await w.poll(k, 2);
    assert.equal(w.condition(k, 'Stalled')?.reason, 'NotAllowed');
    assert.equal(w.account.calls, 0, 'not one AWS call as the operator');
    const own = w.create(
      'own-keys',
      { awsLambdaName: 'fn', credentials: { secretRef: { name: 'keys' } } },
      'team-b',
    );
    await w.poll(own, 2);
    assert.equal(w.condition(own, 'Ready')?.status, 'True', 'its own keys are its own business');
  });

  it('warns once, loudly, when a namespace other than the operator’s uses its identity by default', async () => {
    const w = new World({ tenancy: new Tenancy({ operatorNamespace: 'system' }) });
    const k = w.create('legacy', { awsLambdaName: 'fn' }, 'team-b');
    await w.poll(k, 3);
    assert.equal(w.condition(k, 'Ready')?.status, 'True');
    assert.equal(w.events.filter((e) => e.includes('Warning OperatorIdentity')).length, 1);
    const home = w.create('home', { awsLambdaName: 'fn-home' }, 'system');
    await w.poll(home, 2);
    assert.equal(w.events.filter((e) => e.startsWith('home Warning OperatorIdentity')).length, 0);
  });

  it('holds a namespace to the function ARNs its allow-list names', async () => {
    const w = new World({
      tenancy: new Tenancy({
        operatorNamespace: 'system',
        operatorIdentityNamespaces: ['*'],
        namespaces: { 'team-a': { functions: [`arn:aws:lambda:us-east-1:${ACCOUNT}:function:team-a-*`] } },
      }),
    });
    const ok = w.create('ok', { awsLambdaName: 'team-a-orders' }, 'team-a');
    const no = w.create('no', { awsLambdaName: 'team-b-orders' }, 'team-a');
    await w.poll(ok, 2);
    await w.poll(no, 2);
    assert.equal(w.condition(ok, 'Ready')?.status, 'True');
    assert.equal(w.condition(no, 'Stalled')?.reason, 'NotAllowed');
    assert.ok(
      w.account.writes.every((x) => x.startsWith('team-a-')),
      w.account.writes.join(),
    );
  });
});

describe('a scaler being deleted', () => {
  it('keeps its finalizer until the function is restored', async () => {
    const w = new World();
    w.account.reserved.set('fn', 7);
    const k = w.create('keep', { awsLambdaName: 'fn', awsLambdaMinConcurrency: 20 });
    await w.poll(k, 2);
    assert.deepEqual(w.get(k).metadata.finalizers, [FINALIZER]);
    w.delete(k);
    await w.poll(k);
    assert.equal(w.account.reserved.get('fn'), 7);
    assert.equal(w.objects.has(k), false);
  });
});
