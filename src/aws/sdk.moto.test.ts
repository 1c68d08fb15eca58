// Our SDK adapters against moto, an independent emulator: the same calls work, and an endpoint
// without GetAccountSettings (moto has none) means "unknown headroom", not a failure.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type Moto, motoMissing, startMoto } from '../awssim/testing/moto.ts';
import { ManualClock } from '../runtime/clock.ts';
import { TokenBucket } from './limiter.ts';
import { LambdaFunctions, SqsQueues } from './sdk.ts';

describe('the SDK adapters against moto', { skip: motoMissing }, () => {
  let moto: Moto;
  let config: {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  before(async () => {
    moto = await startMoto();
    config = {
      endpoint: moto.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
  });
  after(() => moto?.stop());

  it('reads a queue by name and its backlog', async () => {
    const sqs = new SQSClient(config);
    await sqs.send(new CreateQueueCommand({ QueueName: 'moto-orders' }));
    await sqs.send(
      new SendMessageCommand({ QueueUrl: `${moto.url}/123456789012/moto-orders`, MessageBody: 'x' }),
    );
    const queues = new SqsQueues(sqs, { now: () => 0 });
    const ref = await queues.resolve('moto-orders');
    assert.match(ref.arn, /^arn:aws:sqs:us-east-1:123456789012:moto-orders$/);
    const metrics = await queues.metrics(ref.url);
    assert.equal(metrics.visible, 1);
  });

  it('answers "unknown" for the account headroom where GetAccountSettings does not exist', async () => {
    const clock = new ManualClock(0);
    const bucket = new TokenBucket({ ratePerSecond: 100, clock });
    const functions = new LambdaFunctions(
      new LambdaClient(config),
      { controlPlane: bucket, getFunction: bucket },
      { now: () => 0 },
    );
    assert.equal(await functions.accountConcurrency(), undefined);
  });
});
