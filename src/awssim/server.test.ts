// The HTTP server beyond the AWS operations: real-time dynamics seen through the SDK, the admin
// JSON API, fault injection, and the CLI's ready line and clean shutdown.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { GetFunctionCommand, ServiceException } from '@aws-sdk/client-lambda';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  RequestThrottled,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { parseScenario } from './scenario.ts';
import { clientConfig, type Harness, startHarness } from './testing/harness.ts';

const scenario = parseScenario({
  name: 'rt',
  queues: [{ name: 'in' }],
  functions: [
    { name: 'fast', duration: { kind: 'constant', ms: 50 }, coldStart: { kind: 'constant', ms: 10 } },
  ],
  eventSourceMappings: [{ function: 'fast', queue: 'in' }],
});

describe('awssim server in real time', () => {
  let h: Harness;
  let url: string;
  before(async () => {
    h = await startHarness({ scenario });
    url = (await h.sqs.send(new GetQueueUrlCommand({ QueueName: 'in' }))).QueueUrl as string;
  });
  after(async () => h.close());

  const admin = async (path: string, init?: RequestInit): Promise<unknown> => {
    const r = await fetch(`${h.server.url}/_awssim${path}`, init);
    assert.equal(r.status, 200);
    return r.json();
  };

  it('consumes sent messages through the event source mapping within a second or two', async () => {
    await h.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: `${i}` })),
      }),
    );
    const deadline = Date.now() + 3000;
    let deleted = 0;
    while (Date.now() < deadline) {
      deleted = h.sim.report().messages.deleted;
      if (deleted === 10) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(deleted, 10);
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

  it('answers STS GetCallerIdentity with the simulated account', async () => {
    const sts = new STSClient(clientConfig(h.server.url));
    try {
      const id = await sts.send(new GetCallerIdentityCommand({}));
      assert.equal(id.Account, '000000000000');
    } finally {
      sts.destroy();
    }
  });

  it('serves health, report and timeline as JSON under /_awssim', async () => {
    const health = (await admin('/health')) as { ok: boolean; clock: string };
    assert.deepEqual([health.ok, health.clock], [true, 'real']);
    const report = (await admin('/report')) as {
      apiCalls: Record<string, Record<string, number>>;
      latency: { count: number };
    };
    assert.equal(report.apiCalls['sqs:SendMessageBatch']?.ok, 1);
    assert.ok(report.latency.count >= 10);
    await new Promise((r) => setTimeout(r, 1100));
    const timeline = (await admin('/timeline')) as { t: number; deleted: number }[];
    assert.ok(timeline.length >= 1);
  });

  it('injects throttling, errors and latency per operation at run time, and clears them', async () => {
    await admin('/faults', {
      method: 'POST',
      body: JSON.stringify({
        'sqs:SendMessage': { throttle: true },
        'lambda:GetFunction': { errorRate: 1 },
        'sqs:GetQueueUrl': { latencyMs: 300 },
      }),
    });
    await assert.rejects(
      h.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' })),
      RequestThrottled,
    );
    await assert.rejects(h.lambda.send(new GetFunctionCommand({ FunctionName: 'fast' })), ServiceException);
    const t0 = Date.now();
    await h.sqs.send(new GetQueueUrlCommand({ QueueName: 'in' }));
    assert.ok(Date.now() - t0 >= 280);
    await admin('/faults', { method: 'DELETE' });
    await h.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
    const report = (await admin('/report')) as { apiCalls: Record<string, Record<string, number>> };
    assert.equal(report.apiCalls['sqs:SendMessage']?.RequestThrottled, 1);
    assert.equal(report.apiCalls['lambda:GetFunction']?.ServiceException, 1);
  });
});

describe('awssim server in virtual time', () => {
  it('moves time only when the admin API advances it', async () => {
    const h = await startHarness({ scenario, clock: 'virtual' });
    try {
      const url = (await h.sqs.send(new GetQueueUrlCommand({ QueueName: 'in' }))).QueueUrl as string;
      await h.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(h.sim.report().messages.deleted, 0);
      const r = await fetch(`${h.server.url}/_awssim/advance`, {
        method: 'POST',
        body: JSON.stringify({ ms: 5000 }),
      });
      assert.deepEqual(((await r.json()) as { elapsedMs: number }).elapsedMs, 5000);
      assert.equal(h.sim.report().messages.deleted, 1);
    } finally {
      await h.close();
    }
  });
});

describe('awssim CLI', () => {
  it('prints one ready line with the real port and exits 0 on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['src/cmd/awssim.ts', '--port', '0', '--scenario', 'burst', '--seed', '3'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const line = await new Promise<string>((resolve) =>
      createInterface({ input: child.stdout }).once('line', resolve),
    );
    const m =
      /^awssim listening on (http:\/\/127\.0\.0\.1:(\d+)) \(scenario burst, seed 3, clock real, esm model documented\)$/.exec(
        line,
      );
    assert.ok(m, line);
    const sqs = new SQSClient(clientConfig(m[1] as string));
    const got = await sqs.send(new GetQueueUrlCommand({ QueueName: 'orders' }));
    assert.equal(got.QueueUrl, `${m[1]}/000000000000/orders`);
    sqs.destroy();
    const code = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await code, 0);
  });

  it('runs the mapping model given by --esm-model and refuses an unknown one', async () => {
    const child = spawn(process.execPath, ['src/cmd/awssim.ts', '--port', '0', '--esm-model', 'release'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve) =>
      createInterface({ input: child.stdout }).once('line', resolve),
    );
    assert.match(line, /esm model release\)$/);
    const code = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await code, 0);
    const bad = spawn(process.execPath, ['src/cmd/awssim.ts', '--port', '0', '--esm-model', 'optimistic'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    bad.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    assert.equal(await new Promise<number | null>((resolve) => bad.once('exit', resolve)), 2);
    assert.match(err, /--esm-model: must be one of documented, retry-then-release, release/);
  });
});
