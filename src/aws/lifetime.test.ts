// The reads a binding's scalers share (the account's settings, its mapping listing) belong to no
// one reconcile: they end when the operator stops, not at their deadline. A local HTTP server
// that never answers stands in for a hung Lambda endpoint.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { systemClock } from '../runtime/clock.ts';
import { TokenBucket } from './limiter.ts';
import { LambdaFunctions } from './sdk.ts';

describe('reads shared by every scaler of a binding (sdk.ts, CallDeps.lifetime)', () => {
  let server: Server;
  let endpoint: string;
  const held: IncomingMessage[] = [];
  before(async () => {
    server = createServer((req) => {
      held.push(req); // never answered
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const functions = (lifetime: AbortSignal | undefined) => {
    const lambda = new LambdaClient({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    const bucket = () => new TokenBucket({ ratePerSecond: 100, clock: systemClock });
    return {
      lambda,
      functions: new LambdaFunctions(
        lambda,
        { controlPlane: bucket(), getFunction: bucket() },
        { now: () => Date.now(), callTimeoutMs: 20_000, lifetime },
      ),
    };
  };

  for (const [name, read] of [
    ['the account settings', (f: LambdaFunctions) => f.accountConcurrency()],
    [
      'the account-wide mapping listing',
      (f: LambdaFunctions) => f.eventSources('orders', { maxAgeMs: 60_000 }),
    ],
  ] as const) {
    it(`cancels ${name} when the operator stops, long before the call's 20 s deadline`, async () => {
      const stop = new AbortController();
      const { lambda, functions: f } = functions(stop.signal);
      const started = Date.now();
      const pending = read(f);
      setTimeout(() => stop.abort(new Error('the manager stopped')), 200);
      await assert.rejects(pending, /the manager stopped|cancel|abort/i);
      assert.ok(Date.now() - started < 5_000, `ended after ${Date.now() - started} ms`);
      lambda.destroy();
    });
  }

  it('without a lifetime, the same read is still waiting when the operator would have stopped', async () => {
    const { lambda, functions: f } = functions(undefined);
    const outcome = await Promise.race([
      f.accountConcurrency().then(
        () => 'answered',
        () => 'failed',
      ),
      new Promise((r) => setTimeout(() => r('still waiting'), 1_000)),
    ]);
    assert.equal(outcome, 'still waiting');
    lambda.destroy();
  });
});
