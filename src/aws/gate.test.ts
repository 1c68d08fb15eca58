// The Gate itself, and why it exists: the real SQS client against a slow local endpoint, with
// more calls than sockets, fails on its connection timeout without the gate and not with it.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Gate } from './gate.ts';
import { SqsQueues } from './sdk.ts';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('Gate', () => {
  it('lets no more than its size in at once, and the rest in arrival order', async () => {
    const gate = new Gate(2);
    const order: number[] = [];
    let inside = 0;
    let most = 0;
    const releases = Array.from({ length: 6 }, deferred);
    const runs = releases.map((d, i) =>
      gate.run(async () => {
        order.push(i);
        inside++;
        most = Math.max(most, inside);
        await d.promise;
        inside--;
      }),
    );
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, [0, 1]);
    assert.equal(gate.waiting, 4);
    releases[1]?.resolve();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, [0, 1, 2]);
    for (const d of releases) d.resolve();
    await Promise.all(runs);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
    assert.equal(most, 2);
    assert.equal(gate.busy, 0);
  });

  it('frees its place when the call fails, and a waiter whose signal aborts leaves the line', async () => {
    const gate = new Gate(1);
    const hold = deferred();
    const first = gate.run(async () => {
      await hold.promise;
      throw new Error('boom');
    });
    const abort = new AbortController();
    const leaver = gate.run(async () => 'never', abort.signal);
    const third = gate.run(async () => 'third');
    abort.abort(new Error('gave up'));
    await assert.rejects(leaver, /gave up/);
    assert.equal(gate.waiting, 1);
    hold.resolve();
    await assert.rejects(first, /boom/);
    assert.equal(await third, 'third');
    assert.equal(gate.busy, 0);
    await assert.rejects(
      gate.run(async () => 1, AbortSignal.abort(new Error('already'))),
      /already/,
    );
  });

  it('refuses a size that is not a positive integer', () => {
    assert.throws(() => new Gate(0), RangeError);
    assert.throws(() => new Gate(1.5), RangeError);
  });
});

describe('SQS reads through the real SDK, more calls than sockets', () => {
  // An endpoint that answers every GetQueueAttributes correctly, but only after 250 ms.
  let server: Server;
  let endpoint: string;
  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () =>
        setTimeout(() => {
          res.setHeader('content-type', 'application/x-amz-json-1.0');
          res.end(
            JSON.stringify({
              Attributes: {
                ApproximateNumberOfMessages: '3',
                ApproximateNumberOfMessagesNotVisible: '0',
                ApproximateNumberOfMessagesDelayed: '0',
              },
            }),
          );
        }, 250),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  async function readMany(gate: Gate | undefined): Promise<{ ok: number; failures: string[] }> {
    const client = new SQSClient({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
      requestHandler: {
        connectionTimeout: 400,
        requestTimeout: 5_000,
        httpAgent: { keepAlive: true, maxSockets: 2 },
      },
    });
    const queues = new SqsQueues(client, { callTimeoutMs: 5_000, gate, now: () => Date.now() });
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, () => queues.metrics(`${endpoint}/000000000000/orders`)),
    );
    client.destroy();
    return {
      ok: results.filter((r) => r.status === 'fulfilled').length,
      failures: results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : [])),
    };
  }

  it('without the gate, calls queued in the agent fail on the connection timeout', async () => {
    const { ok, failures } = await readMany(undefined);
    assert.ok(ok < 12, 'some calls fail although the endpoint answers every one');
    assert.match(failures[0] ?? '', /did not establish a connection|timeout/i);
  });

  it('with a gate the size of the agent, every call succeeds', async () => {
    const { ok, failures } = await readMany(new Gate(2));
    assert.deepEqual(failures, []);
    assert.equal(ok, 12);
  });
});
