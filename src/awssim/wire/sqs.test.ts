// Every SQS operation through the real AWS SDK v3 client over HTTP, errors as the SDK's typed exceptions.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  BatchEntryIdsNotDistinct,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  EmptyBatchRequest,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  InvalidAttributeName,
  InvalidAttributeValue,
  ListQueuesCommand,
  MessageNotInflight,
  PurgeQueueCommand,
  PurgeQueueInProgress,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  TooManyEntriesInBatchRequest,
} from '@aws-sdk/client-sqs';
import { type Harness, startHarness } from '../testing/harness.ts';

describe('SQS over AWS JSON 1.0', () => {
  let h: Harness;
  let url: string;
  let dlqUrl: string;
  before(async () => {
    h = await startHarness();
    dlqUrl = (await h.sqs.send(new CreateQueueCommand({ QueueName: 'jobs-dlq' }))).QueueUrl as string;
    url = (
      await h.sqs.send(
        new CreateQueueCommand({
          QueueName: 'jobs',
          Attributes: {
            VisibilityTimeout: '1',
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:jobs-dlq',
              maxReceiveCount: 2,
            }),
          },
        }),
      )
    ).QueueUrl as string;
  });
  after(async () => h.close());

  it('creates queues idempotently and rejects a different attribute value with QueueNameExists', async () => {
    const again = await h.sqs.send(new CreateQueueCommand({ QueueName: 'jobs-dlq' }));
    assert.equal(again.QueueUrl, dlqUrl);
    await assert.rejects(
      h.sqs.send(new CreateQueueCommand({ QueueName: 'jobs-dlq', Attributes: { VisibilityTimeout: '99' } })),
      QueueNameExists,
    );
  });

  it('finds queues by name and lists them by prefix', async () => {
    assert.equal((await h.sqs.send(new GetQueueUrlCommand({ QueueName: 'jobs' }))).QueueUrl, url);
    const listed = await h.sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'jobs' }));
    assert.deepEqual(listed.QueueUrls, [url, dlqUrl]);
    await assert.rejects(h.sqs.send(new GetQueueUrlCommand({ QueueName: 'nope' })), QueueDoesNotExist);
  });

  it('reports attributes as strings, All and by name, and rejects unknown names', async () => {
    const all = await h.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
    assert.equal(all.Attributes?.QueueArn, 'arn:aws:sqs:us-east-1:000000000000:jobs');
    assert.equal(all.Attributes?.VisibilityTimeout, '1');
    assert.equal(all.Attributes?.ApproximateNumberOfMessages, '0');
    assert.match(all.Attributes?.RedrivePolicy ?? '', /jobs-dlq/);
    const one = await h.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['DelaySeconds'] }),
    );
    assert.deepEqual(one.Attributes, { DelaySeconds: '0' });
    await assert.rejects(
      h.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['Bogus' as never] })),
      InvalidAttributeName,
    );
  });

  it('sets attributes and rejects out-of-range values with InvalidAttributeValue', async () => {
    await h.sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: dlqUrl,
        Attributes: { DelaySeconds: '0', VisibilityTimeout: '5' },
      }),
    );
    const got = await h.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['VisibilityTimeout'] }),
    );
    assert.equal(got.Attributes?.VisibilityTimeout, '5');
    await assert.rejects(
      h.sqs.send(
        new SetQueueAttributesCommand({ QueueUrl: dlqUrl, Attributes: { VisibilityTimeout: '50000' } }),
      ),
      InvalidAttributeValue,
    );
  });

  it('sends, receives with correct MD5s (the SDK verifies them) and deletes', async () => {
    const sent = await h.sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: 'héllo',
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: 'order' },
          n: { DataType: 'Number', StringValue: '3' },
        },
      }),
    );
    assert.equal(sent.MD5OfMessageBody, createHash('md5').update('héllo', 'utf8').digest('hex'));
    const got = await h.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
      }),
    );
    assert.equal(got.Messages?.length, 1);
    const m = got.Messages?.[0];
    assert.equal(m?.Body, 'héllo');
    assert.equal(m?.MessageId, sent.MessageId);
    assert.equal(m?.MD5OfMessageAttributes, sent.MD5OfMessageAttributes);
    assert.equal(m?.MessageAttributes?.kind?.StringValue, 'order');
    assert.equal(m?.Attributes?.ApproximateReceiveCount, '1');
    await h.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m?.ReceiptHandle }));
    const attrs = await h.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    assert.deepEqual(attrs.Attributes, {
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });

  it('long-polls until a message arrives', async () => {
    const t0 = Date.now();
    const pending = h.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 5 }));
    setTimeout(() => void h.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'late' })), 300);
    const got = await pending;
    assert.equal(got.Messages?.[0]?.Body, 'late');
    assert.ok(Date.now() - t0 >= 250 && Date.now() - t0 < 4000);
    await h.sqs.send(
      new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: got.Messages?.[0]?.ReceiptHandle }),
    );
  });

  it('hides received messages for the per-call visibility timeout, and ChangeMessageVisibility shows them again', async () => {
    await h.sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: 'vis' }));
    const first = await h.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, VisibilityTimeout: 600 }));
    assert.equal(first.Messages?.length, 1);
    assert.equal((await h.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl }))).Messages, undefined);
    await h.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: dlqUrl,
        ReceiptHandle: first.Messages?.[0]?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const again = await h.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    assert.equal(again.Messages?.[0]?.Attributes?.ApproximateReceiveCount, '2');
    await assert.rejects(
      h.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: dlqUrl,
          ReceiptHandle: first.Messages?.[0]?.ReceiptHandle,
          VisibilityTimeout: 5,
        }),
      ),
      MessageNotInflight,
    );
    await assert.rejects(
      h.sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: 'garbage' })),
      ReceiptHandleIsInvalid,
    );
    await h.sqs.send(
      new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: again.Messages?.[0]?.ReceiptHandle }),
    );
  });

  it('moves a message to the dead-letter queue after maxReceiveCount receives', async () => {
    await h.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'poison' }));
    for (let i = 0; i < 2; i++) {
      const got = await h.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 3 }));
      assert.equal(got.Messages?.[0]?.Body, 'poison');
      await h.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: got.Messages?.[0]?.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    }
    assert.equal((await h.sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages, undefined);
    const dead = await h.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl }));
    assert.equal(dead.Messages?.[0]?.Body, 'poison');
    await h.sqs.send(
      new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: dead.Messages?.[0]?.ReceiptHandle }),
    );
  });

  it('sends and deletes in batches, and rejects bad batches with typed errors', async () => {
    const sent = await h.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'a', MessageBody: 'one' },
          { Id: 'b', MessageBody: 'two' },
          { Id: 'c', MessageBody: 'three', DelaySeconds: 901 },
        ],
      }),
    );
    assert.deepEqual(
      sent.Successful?.map((s) => s.Id),
      ['a', 'b'],
    );
    assert.equal(sent.Failed?.[0]?.Id, 'c');
    assert.equal(sent.Failed?.[0]?.SenderFault, true);
    const got = await h.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    assert.equal(got.Messages?.length, 2);
    const del = await h.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: (got.Messages ?? []).map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    assert.equal(del.Successful?.length, 2);
    await assert.rejects(
      h.sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: [] })),
      EmptyBatchRequest,
    );
    await assert.rejects(
      h.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, MessageBody: 'x' })),
        }),
      ),
      TooManyEntriesInBatchRequest,
    );
    await assert.rejects(
      h.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: [
            { Id: 'same', MessageBody: 'x' },
            { Id: 'same', MessageBody: 'y' },
          ],
        }),
      ),
      BatchEntryIdsNotDistinct,
    );
  });

  it('purges once a minute and deletes queues', async () => {
    const q = (await h.sqs.send(new CreateQueueCommand({ QueueName: 'temp' }))).QueueUrl as string;
    await h.sqs.send(new SendMessageCommand({ QueueUrl: q, MessageBody: 'x' }));
    await h.sqs.send(new PurgeQueueCommand({ QueueUrl: q }));
    await assert.rejects(h.sqs.send(new PurgeQueueCommand({ QueueUrl: q })), PurgeQueueInProgress);
    const attrs = await h.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: q, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    assert.equal(attrs.Attributes?.ApproximateNumberOfMessages, '0');
    await h.sqs.send(new DeleteQueueCommand({ QueueUrl: q }));
    await assert.rejects(
      h.sqs.send(new SendMessageCommand({ QueueUrl: q, MessageBody: 'x' })),
      (e: unknown) => {
        assert.ok(e instanceof QueueDoesNotExist);
        assert.equal(e.$metadata.httpStatusCode, 400);
        return true;
      },
    );
  });
});
