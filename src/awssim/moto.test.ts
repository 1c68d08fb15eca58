// Cross-check: the same client code runs the SQS and Lambda operations awssim and moto (an
// independent emulator) both implement, and the normalised results must agree.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  DeleteEventSourceMappingCommand,
  DeleteFunctionConcurrencyCommand,
  GetEventSourceMappingCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  PutFunctionConcurrencyCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { clientConfig, type Harness, startHarness } from './testing/harness.ts';
import { type Moto, motoMissing, startMoto } from './testing/moto.ts';

/** What one step produced: a value or the error's name. */
type Outcome = Record<string, unknown>;

const errName = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as Error).name;
  }
};

/** The client code under comparison; returns normalised observations (no ids, URLs or timestamps). */
async function exercise(endpoint: string, roleArn: string, account: string): Promise<Outcome> {
  const sqs = new SQSClient(clientConfig(endpoint));
  const lambda = new LambdaClient(clientConfig(endpoint));
  const out: Outcome = {};
  try {
    const dlqArn = `arn:aws:sqs:us-east-1:${account}:xc-dlq`;
    await sqs.send(new CreateQueueCommand({ QueueName: 'xc-dlq' }));
    const url = (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: 'xc-main',
          Attributes: {
            VisibilityTimeout: '20',
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }),
          },
        }),
      )
    ).QueueUrl as string;
    const dlqUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: 'xc-dlq' }))).QueueUrl as string;
    out.listed = ((await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'xc-' }))).QueueUrls ?? [])
      .map((u) => u.split('/').at(-1))
      .sort();
    out.missingQueue = await errName(sqs.send(new GetQueueUrlCommand({ QueueName: 'xc-none' })));
    const attrs =
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] })))
        .Attributes ?? {};
    out.attrs = {
      VisibilityTimeout: attrs.VisibilityTimeout,
      DelaySeconds: attrs.DelaySeconds,
      ReceiveMessageWaitTimeSeconds: attrs.ReceiveMessageWaitTimeSeconds,
      MessageRetentionPeriod: attrs.MessageRetentionPeriod,
      QueueArnSuffix: attrs.QueueArn?.split(':').at(-1),
      maxReceiveCount: JSON.parse(attrs.RedrivePolicy ?? '{}').maxReceiveCount,
    };
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: 'hello',
        MessageAttributes: { k: { DataType: 'String', StringValue: 'v' } },
      }),
    );
    out.sentMd5 = [sent.MD5OfMessageBody, sent.MD5OfMessageAttributes];
    const batch = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'a', MessageBody: 'b1' },
          { Id: 'b', MessageBody: 'b2' },
        ],
      }),
    );
    out.batch = (batch.Successful ?? []).map((s) => [s.Id, s.MD5OfMessageBody]).sort();
    const counts = async (u: string): Promise<string[]> => {
      const a = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: u,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return [
        a.Attributes?.ApproximateNumberOfMessages ?? '',
        a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? '',
      ];
    };
    out.countsAfterSend = await counts(url);
    const got = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    const msgs = got.Messages ?? [];
    out.received = msgs
      .map((m) => [
        m.Body,
        m.MD5OfBody,
        m.Attributes?.ApproximateReceiveCount,
        m.MD5OfMessageAttributes ?? null,
      ])
      .sort();
    out.countsAfterReceive = await counts(url);
    const hello = msgs.find((m) => m.Body === 'hello');
    for (const m of msgs)
      if (m !== hello)
        await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: url,
        ReceiptHandle: hello?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const second = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
    );
    out.secondReceive = second.Messages?.map((m) => [m.Body, m.Attributes?.ApproximateReceiveCount]);
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: url,
        ReceiptHandle: second.Messages?.[0]?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    out.thirdReceive = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages?.length ?? 0;
    out.dlq = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl }))).Messages?.map((m) => m.Body);
    await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
    out.deletedQueue = await errName(sqs.send(new GetQueueUrlCommand({ QueueName: 'xc-main' })));

    // Lambda: functions, reserved concurrency and the unreserved floor, event source mappings.
    const esmQueueArn = `arn:aws:sqs:us-east-1:${account}:xc-esm`;
    await sqs.send(new CreateQueueCommand({ QueueName: 'xc-esm' }));
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'xc-fn',
        Role: roleArn,
        Runtime: 'python3.12',
        Handler: 'index.handler',
        Code: { ZipFile: new Uint8Array([80, 75, 5, 6, ...new Array(18).fill(0)]) },
      }),
    );
    const fn = await lambda.send(new GetFunctionCommand({ FunctionName: 'xc-fn' }));
    out.fn = [
      fn.Configuration?.FunctionName,
      fn.Configuration?.FunctionArn?.split(':').slice(-2).join(':'),
      fn.Concurrency ?? null,
    ];
    out.missingFn = await errName(lambda.send(new GetFunctionCommand({ FunctionName: 'xc-ghost' })));
    out.put = (
      await lambda.send(
        new PutFunctionConcurrencyCommand({ FunctionName: 'xc-fn', ReservedConcurrentExecutions: 25 }),
      )
    ).ReservedConcurrentExecutions;
    out.getConc = (
      await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'xc-fn' }))
    ).ReservedConcurrentExecutions;
    out.viaGetFunction = (
      await lambda.send(new GetFunctionCommand({ FunctionName: 'xc-fn' }))
    ).Concurrency?.ReservedConcurrentExecutions;
    out.floor = await errName(
      lambda.send(
        new PutFunctionConcurrencyCommand({ FunctionName: 'xc-fn', ReservedConcurrentExecutions: 901 }),
      ),
    );
    await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'xc-fn' }));
    out.afterDelete =
      (await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'xc-fn' })))
        .ReservedConcurrentExecutions ?? null;
    const esm = await lambda.send(
      new CreateEventSourceMappingCommand({
        FunctionName: 'xc-fn',
        EventSourceArn: esmQueueArn,
        BatchSize: 7,
      }),
    );
    const uuid = esm.UUID as string;
    out.esm = [esm.BatchSize, esm.EventSourceArn?.split(':').at(-1), esm.FunctionArn?.split(':').at(-1)];
    const upd = await lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, BatchSize: 9 }));
    out.esmUpdated = upd.BatchSize;
    out.esmGet = (await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }))).BatchSize;
    out.esmList = (
      (await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: 'xc-fn' })))
        .EventSourceMappings ?? []
    ).length;
    // The account-wide listing (no FunctionName) the operator shares between scalers: an
    // unqualified mapping's FunctionArn ends in function:<name>, with no version suffix.
    out.esmListAll = (
      (await lambda.send(new ListEventSourceMappingsCommand({}))).EventSourceMappings ?? []
    ).map((m) => m.FunctionArn?.split(':').slice(-2).join(':'));
    await lambda.send(new DeleteEventSourceMappingCommand({ UUID: uuid }));
    out.esmMissing = await errName(lambda.send(new GetEventSourceMappingCommand({ UUID: uuid })));
    return out;
  } finally {
    sqs.destroy();
    lambda.destroy();
  }
}

/** Creates an IAM role in moto through the Query API (moto routes by the SigV4 credential scope). */
async function motoRole(endpoint: string): Promise<string> {
  const body = new URLSearchParams({
    Action: 'CreateRole',
    Version: '2010-05-08',
    RoleName: 'xc-role',
    AssumeRolePolicyDocument: '{"Version":"2012-10-17","Statement":[]}',
  });
  const r = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization:
        'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
    },
    body,
  });
  const text = await r.text();
  const arn = /<Arn>([^<]+)<\/Arn>/.exec(text)?.[1];
  if (!arn) throw new Error(`moto CreateRole failed: ${r.status} ${text.slice(0, 300)}`);
  return arn;
}

describe('awssim agrees with moto', { skip: motoMissing }, () => {
  let moto: Moto;
  let motoUrl: string;
  let h: Harness;
  before(async () => {
    moto = await startMoto({ MOTO_LAMBDA_CONCURRENCY_QUOTA: '1000' });
    motoUrl = moto.url;
    h = await startHarness();
  });
  after(async () => {
    moto?.stop();
    await h?.close();
  });

  it('gives the same results for the overlapping SQS and Lambda operations', async () => {
    const fromMoto = await exercise(motoUrl, await motoRole(motoUrl), '123456789012');
    const fromSim = await exercise(h.server.url, 'arn:aws:iam::000000000000:role/xc-role', '000000000000');
    if (process.env.AWSSIM_XC_DEBUG) console.log(JSON.stringify(fromMoto), JSON.stringify(fromSim));
    assert.deepEqual(fromSim, fromMoto);
  });
});
