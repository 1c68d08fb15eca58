// The shard gate decides, per reconcile, whether this replica acts: only for shards it holds, and
// never past the fence — but a reconcile refused by a lapsed fence must come back, or the scaler
// stops polling while its shard is still held (seen under load in bench:scale --replicas).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LambdaConcurrencyScaler } from '../api/v1alpha1/index.ts';
import { ShardGate } from './sharding.ts';

const scaler = {
  apiVersion: 'aws.operators.jittakal.io/v1alpha1',
  kind: 'LambdaConcurrencyScaler',
  metadata: { name: 's', namespace: 'team' },
  spec: {
    awsSQSName: 'q',
    awsSQSMsgCountThreshold: 10,
    awsLambdaName: 'f',
    awsLambdaMinConcurrency: 1,
    awsLamndaMaxConcurrency: 5,
    awsLambdaStepConcurrency: 1,
    credentials: { roleArn: 'arn:aws:iam::111111111111:role/scaler' },
  },
} as unknown as LambdaConcurrencyScaler;

describe('ShardGate', () => {
  const setUp = () => {
    const gate = new ShardGate({ list: () => [scaler], enqueue: () => {}, defaultRegion: 'us-east-1' });
    const reconciled: string[] = [];
    const reconcile = async () => {
      reconciled.push('s');
      return { requeueAfterMs: 30_000 };
    };
    return { gate, reconciled, reconcile };
  };

  it('does nothing for a scaler of a shard it does not hold (the holder does it)', async () => {
    const { gate, reconciled, reconcile } = setUp();

    const result = await gate.run(scaler, new AbortController().signal, reconcile);

    assert.deepEqual(result, {});
    assert.deepEqual(reconciled, []);
  });

  it('tries again soon, without acting, while a held shard is past its fence', async () => {
    const { gate, reconciled, reconcile } = setUp();
    const hold = new AbortController();
    const shard = gate.shardOf(scaler);
    void gate.onHeld(shard, hold.signal);
    gate.holds = () => false;

    const fenced = await gate.run(scaler, new AbortController().signal, reconcile);
    gate.holds = (s) => s === shard;
    const renewed = await gate.run(scaler, new AbortController().signal, reconcile);
    hold.abort();

    assert.deepEqual(fenced, { requeueAfterMs: 2000 });
    assert.deepEqual(renewed, { requeueAfterMs: 30_000 });
    assert.deepEqual(reconciled, ['s'], 'reconciled only once the fence held again');
  });

  it("forgets a shard's scalers once its hold has ended and its reconciles wound down", async () => {
    const released: string[][] = [];
    const gate = new ShardGate({
      list: () => [scaler],
      enqueue: () => {},
      defaultRegion: 'us-east-1',
      released: (keys) => released.push(keys),
    });
    const shard = gate.shardOf(scaler);
    gate.holds = (s) => s === shard;
    const hold = new AbortController();
    const holding = gate.onHeld(shard, hold.signal);
    let finish = (): void => {};
    const running = gate.run(scaler, new AbortController().signal, async () => {
      await new Promise<void>((r) => (finish = r));
      return {};
    });
    hold.abort();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(released, [], 'not while a reconcile is still running');
    finish();
    await running;
    await holding;
    assert.deepEqual(released, [['team/s']]);
  });
});
