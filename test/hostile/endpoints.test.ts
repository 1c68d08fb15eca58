// The operator against AWS endpoints that misbehave, with real processes: a tarpit that accepts
// connections for some scalers' queues and functions and never answers, beside healthy scalers that
// must not notice; and a queue URL whose host the operator must never contact.
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { Registry } from 'prom-client';
import { AwsClientFactory } from '../../src/aws/clients.ts';
import { AwsMetrics } from '../../src/aws/metrics.ts';
import { type ControlPlane, CRD_DIR, freePort, startControlPlane } from '../../src/envtest/index.ts';
import {
  type Awssim,
  type Manager,
  scenarioFile,
  startAwssim,
  startManager,
  waitFor,
} from '../../src/envtest/processes.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { awsClients, condition, getScaler, reservedConcurrency, sendBurst } from '../e2e/helpers.ts';

const healthy = ['h1', 'h2'];
const hung = ['tarpit-1', 'tarpit-2', 'tarpit-3', 'tarpit-4'];

/** A proxy to awssim that swallows every request naming a tarpit resource, and counts them. */
class Tarpit {
  readonly server: Server;
  readonly held = new Set<Socket>();
  swallowed = 0;
  port = 0;

  constructor(upstream: string) {
    const target = new URL(upstream);
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (`${req.url ?? ''} ${body.toString('utf8')}`.includes('tarpit-')) {
          this.swallowed++;
          this.held.add(req.socket); // accepted, read, and never answered
          return;
        }
        const out = request(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers: req.headers,
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        out.on('error', () => res.destroy());
        out.end(body);
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const s of this.held) s.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

let cp: ControlPlane;
let sim: Awssim;
let tarpit: Tarpit;
let manager: Manager;
let sqs: SQSClient;
let lambda: LambdaClient;

const scaler = (name: string, fn: string, queue: string) => `
apiVersion: aws.operators.jittakal.io/v1alpha1
kind: LambdaConcurrencyScaler
metadata: { name: ${name} }
spec:
  awsSQSName: ${queue}
  awsSQSMsgCountThreshold: 20
  awsLambdaName: ${fn}
  awsLambdaMinConcurrency: 1
  awsLambdaMaxConcurrency: 30
  awsLambdaStepConcurrency: 5
  pollingIntervalSeconds: 2
`;

before(async () => {
  const all = [...healthy, ...hung, 'gone'];
  const scenario = scenarioFile('hostile-endpoints', [
    'queues:',
    ...all.map((n) => `  - { name: ${n}-q, visibilityTimeout: 10 }`),
    'functions:',
    ...all.map((n) => `  - { name: ${n}, timeout: 3, duration: { kind: constant, ms: 1000 }, per: batch }`),
    'eventSourceMappings:',
    ...all.map((n) => `  - { function: ${n}, queue: ${n}-q, batchSize: 10 }`),
  ]);
  [cp, sim] = await Promise.all([startControlPlane({ crds: [CRD_DIR] }), startAwssim({ scenario })]);
  tarpit = new Tarpit(sim.endpoint);
  const endpoint = await tarpit.listen();
  for (const ns of ['tenant-a', 'tenant-b']) await cp.kubectl(['create', 'namespace', ns]);
  manager = await startManager({
    kubeconfig: cp.kubeconfig,
    awsEndpoint: endpoint,
    args: ['--workers', '2', '--aws-call-timeout-seconds', '2'],
  });
  ({ sqs, lambda } = awsClients(sim.endpoint));
});

after(async () => {
  await manager?.stop();
  await tarpit?.close();
  await sim?.stop();
  await cp?.stop();
});

/** lcs_poll_lateness_seconds of one scaler, as the manager reports it. */
async function lateness(name: string): Promise<number | undefined> {
  const text = await (await fetch(manager.metricsUrl)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('lcs_poll_lateness_seconds{') && l.includes(`name="${name}"`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('an AWS endpoint that accepts connections and never answers', { timeout: 180_000 }, () => {
  it('costs the healthy scalers nothing: they poll on time, scale, and are deleted promptly', async () => {
    for (const n of hung) await cp.kubectl(['apply', '-n', 'tenant-a', '-f', '-'], scaler(n, n, `${n}-q`));
    for (const n of healthy) await cp.kubectl(['apply', '-n', 'tenant-b', '-f', '-'], scaler(n, n, `${n}-q`));
    await cp.kubectl(['apply', '-n', 'tenant-b', '-f', '-'], scaler('gone', 'gone', 'gone-q'));
    for (const n of [...healthy, 'gone'])
      await waitFor(
        `${n} Ready`,
        async () =>
          condition(await getScaler(cp, 'tenant-b', n), 'Ready')?.status === 'True' ? true : undefined,
        30_000,
      );
    // Four scalers hang on every call, with two workers: the healthy ones still poll on time.
    await waitFor('the tarpit to hold calls', async () => (tarpit.swallowed >= 4 ? true : undefined), 20_000);
    for (const n of healthy)
      await waitFor(
        `${n}'s second poll`,
        async () => ((await lateness(n)) === undefined ? undefined : true),
        20_000,
      );
    const worst: number[] = [];
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      for (const n of healthy) worst.push((await lateness(n)) ?? Number.NaN);
    }
    assert.ok(
      worst.every((l) => l <= 1),
      `healthy scalers' poll lateness stays within a second: ${worst.join(', ')}`,
    );

    await sendBurst(sqs, 'h1-q', 60);
    await waitFor(
      'h1 to scale up',
      async () => (((await reservedConcurrency(lambda, 'h1')) ?? 0) > 1 ? true : undefined),
      30_000,
    );

    const started = Date.now();
    await cp.kubectl(['delete', 'lcs', 'gone', '-n', 'tenant-b', '--timeout=20s']);
    const took = Date.now() - started;
    assert.ok(took < 10_000, `another namespace's deletion took ${took} ms`);

    const stuck = await getScaler(cp, 'tenant-a', 'tarpit-1');
    const reconciling = condition(stuck, 'Reconciling');
    assert.equal(reconciling?.status, 'True', JSON.stringify(stuck.status?.conditions));
    assert.match(reconciling?.message ?? '', /no answer within 2 s/);
    assert.equal(condition(stuck, 'Ready')?.status, 'False');
  });
});

describe('a queue named by URL', () => {
  it('is resolved at the configured endpoint, never at the host the URL names', async () => {
    let contacted = 0;
    const trap = createNetServer((socket) => {
      contacted++;
      socket.destroy();
    });
    const trapPort = await freePort();
    await new Promise<void>((resolve) => trap.listen(trapPort, '127.0.0.1', resolve));
    try {
      const previous = process.env.AWS_ENDPOINT_URL;
      process.env.AWS_ENDPOINT_URL = sim.endpoint;
      const factory = new AwsClientFactory({
        defaultRegion: 'us-east-1',
        clock: systemClock,
        metrics: new AwsMetrics(new Registry()),
      });
      const binding = factory.for({
        key: 'test',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      try {
        // Admission refuses such a URL; the adapter must not trust that it did.
        const queue = await binding.queues.resolve(`https://127.0.0.1:${trapPort}/000000000000/h2-q`);
        assert.match(queue.arn, /:h2-q$/);
        const backlog = await binding.queues.metrics(queue.url);
        assert.equal(typeof backlog.visible, 'number');
      } finally {
        if (previous === undefined) delete process.env.AWS_ENDPOINT_URL;
        else process.env.AWS_ENDPOINT_URL = previous;
      }
      assert.equal(contacted, 0, 'the URL host was contacted');
    } finally {
      await new Promise<void>((resolve) => trap.close(() => resolve()));
    }
  });
});
