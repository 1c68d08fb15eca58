// CloudWatch over the wire: GetMetricData and GetMetricStatistics through the real SDK client
// (AWS JSON 1.0, what @aws-sdk/client-cloudwatch sends), through the SDK's own Smithy RPC v2 CBOR and
// awsQuery serializers, and as a hand-built awsQuery form; answers match the simulator's library view.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CloudWatchClient,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  InvalidParameterValueException,
} from '@aws-sdk/client-cloudwatch';
import { AwsQueryProtocol } from '@aws-sdk/core/protocols';
import { SmithyRpcV2CborProtocol } from '@smithy/core/cbor';
import { parseScenario } from '../scenario.ts';
import { type AwsSimServer, startServer } from '../server.ts';
import { createSimulation, type Simulation } from '../simulation.ts';
import { clientConfig } from '../testing/harness.ts';
import { decodeCbor, encodeCbor } from './cbor.ts';

const protocols = {
  'AWS JSON 1.0 (the SDK default)': {},
  'Smithy RPC v2 CBOR (boto3 default)': {
    protocol: new SmithyRpcV2CborProtocol({ defaultNamespace: 'com.amazonaws.cloudwatch' }),
  },
  'awsQuery (older SDKs)': {
    protocol: new AwsQueryProtocol({
      defaultNamespace: 'com.amazonaws.cloudwatch',
      xmlNamespace: 'http://monitoring.amazonaws.com/doc/2010-08-01/',
      version: '2010-08-01',
    }),
  },
} satisfies Record<string, object>;

describe('CloudWatch over the wire', () => {
  let sim: Simulation;
  let server: AwsSimServer;
  let t0: number;
  before(async () => {
    sim = createSimulation({
      scenario: parseScenario({
        name: 'cw',
        queues: [{ name: 'orders' }],
        functions: [{ name: 'worker', duration: { kind: 'constant', ms: 200 } }],
        eventSourceMappings: [{ function: 'worker', queue: 'orders' }],
        traffic: { orders: [{ kind: 'constant', rate: 10 }] },
      }),
    });
    await sim.runUntil(10 * 60_000);
    server = await startServer(sim, { port: 0 });
    t0 = sim.world.origin;
  });
  after(async () => server.close());

  for (const [name, extra] of Object.entries(protocols)) {
    describe(name, () => {
      let cw: CloudWatchClient;
      before(() => {
        cw = new CloudWatchClient({ ...clientConfig(server.url), ...extra });
      });
      after(() => cw.destroy());

      it('answers GetMetricData with the published minutes, newest first, for SQS and Lambda', async () => {
        const out = await cw.send(
          new GetMetricDataCommand({
            StartTime: new Date(t0),
            EndTime: new Date(t0 + 10 * 60_000),
            MetricDataQueries: [
              {
                Id: 'sent',
                MetricStat: {
                  Metric: {
                    Namespace: 'AWS/SQS',
                    MetricName: 'NumberOfMessagesSent',
                    Dimensions: [{ Name: 'QueueName', Value: 'orders' }],
                  },
                  Period: 60,
                  Stat: 'Sum',
                },
              },
              {
                Id: 'invocations',
                Label: 'batches',
                MetricStat: {
                  Metric: {
                    Namespace: 'AWS/Lambda',
                    MetricName: 'Invocations',
                    Dimensions: [{ Name: 'FunctionName', Value: 'worker' }],
                  },
                  Period: 300,
                  Stat: 'Sum',
                },
              },
            ],
          }),
        );
        const truth = sim.cloudWatch('orders', 'NumberOfMessagesSent').reverse();
        const [sent, invocations] = out.MetricDataResults ?? [];
        assert.ok(truth.length >= 7, `published minutes: ${truth.length}`);
        assert.deepEqual(
          sent?.Timestamps?.map((d) => d.getTime()),
          truth.map((d) => d.timestamp),
        );
        assert.deepEqual(
          sent?.Values,
          truth.map((d) => d.sum),
        );
        assert.equal(sent?.StatusCode, 'Complete');
        assert.equal(invocations?.Label, 'batches');
        const firstFive = sim
          .functionCloudWatch('worker', 'Invocations', { endMs: 5 * 60_000 })
          .reduce((s, d) => s + d.sum, 0);
        assert.equal(invocations?.Values?.at(-1), firstFive);
        assert.equal(invocations?.Timestamps?.at(-1)?.getTime(), t0);
      });

      it('answers GetMetricStatistics with the asked statistics and the unit', async () => {
        const out = await cw.send(
          new GetMetricStatisticsCommand({
            Namespace: 'AWS/Lambda',
            MetricName: 'Duration',
            Dimensions: [{ Name: 'FunctionName', Value: 'worker' }],
            StartTime: new Date(t0),
            EndTime: new Date(t0 + 5 * 60_000),
            Period: 60,
            Statistics: ['Average', 'Maximum', 'SampleCount'],
          }),
        );
        const truth = sim.functionCloudWatch('worker', 'Duration', { endMs: 5 * 60_000 });
        assert.equal(out.Label, 'Duration');
        assert.equal(out.Datapoints?.length, truth.length);
        const last = out.Datapoints?.at(-1);
        assert.equal(last?.Unit, 'Milliseconds');
        assert.equal(last?.Maximum, truth.at(-1)?.maximum);
        assert.equal(last?.SampleCount, truth.at(-1)?.sampleCount);
        assert.equal(last?.Sum, undefined, 'only the asked statistics');
      });

      it('refuses a period that is not a multiple of 60 with InvalidParameterValueException', async () => {
        await assert.rejects(
          cw.send(
            new GetMetricStatisticsCommand({
              Namespace: 'AWS/SQS',
              MetricName: 'ApproximateNumberOfMessagesVisible',
              Dimensions: [{ Name: 'QueueName', Value: 'orders' }],
              StartTime: new Date(t0),
              EndTime: new Date(t0 + 60_000),
              Period: 30,
              Statistics: ['Average'],
            }),
          ),
          (e: unknown) =>
            e instanceof InvalidParameterValueException && /must be a multiple of 60/.test(e.message),
        );
      });
    });
  }

  it('answers a hand-built awsQuery form as aws-sdk-go-v2 of 2023 sends it, in XML', async () => {
    const iso = (ms: number) => new Date(ms).toISOString();
    const form = new URLSearchParams({
      Action: 'GetMetricData',
      Version: '2010-08-01',
      StartTime: iso(t0),
      EndTime: iso(t0 + 10 * 60_000),
      'MetricDataQueries.member.1.Id': 'visible',
      'MetricDataQueries.member.1.MetricStat.Metric.Namespace': 'AWS/SQS',
      'MetricDataQueries.member.1.MetricStat.Metric.MetricName': 'ApproximateNumberOfMessagesVisible',
      'MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name': 'QueueName',
      'MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value': 'orders',
      'MetricDataQueries.member.1.MetricStat.Period': '60',
      'MetricDataQueries.member.1.MetricStat.Stat': 'Average',
      ScanBy: 'TimestampAscending',
    });
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: form.toString(),
    });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.match(
      text,
      /^<GetMetricDataResponse xmlns="http:\/\/monitoring.amazonaws.com\/doc\/2010-08-01\/">/,
    );
    const truth = sim.cloudWatch('orders', 'ApproximateNumberOfMessagesVisible');
    const stamps = [...text.matchAll(/<Timestamps>(.*?)<\/Timestamps>/g)][0]?.[1] ?? '';
    assert.deepEqual(
      [...stamps.matchAll(/<member>(.*?)<\/member>/g)].map((m) => Date.parse(m[1] as string)),
      truth.map((d) => d.timestamp),
    );
    const values = [...text.matchAll(/<Values>(.*?)<\/Values>/g)][0]?.[1] ?? '';
    assert.deepEqual(
      [...values.matchAll(/<member>(.*?)<\/member>/g)].map((m) => Number(m[1])),
      truth.map((d) => d.average),
    );
    const bad = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=GetMetricStatistics&Version=2010-08-01&Namespace=AWS%2FSQS',
    });
    assert.equal(bad.status, 400);
    assert.match(
      await bad.text(),
      /<Code>MissingParameter<\/Code><Message>The parameter MetricName is required.<\/Message>/,
    );
  });

  it('counts every call by operation and outcome, and applies injected faults', async () => {
    sim.injectFault('cloudwatch:GetMetricData', { throttle: true });
    const cw = new CloudWatchClient(clientConfig(server.url));
    await assert.rejects(
      cw.send(
        new GetMetricDataCommand({
          StartTime: new Date(t0),
          EndTime: new Date(t0 + 60_000),
          MetricDataQueries: [{ Id: 'x', Expression: 'SUM(METRICS())' }],
        }),
      ),
      (e: unknown) => (e as Error).name === 'Throttling',
    );
    sim.clearFaults();
    cw.destroy();
    const calls = sim.report().apiCalls;
    assert.ok((calls['cloudwatch:GetMetricData']?.ok ?? 0) >= 3);
    assert.equal(calls['cloudwatch:GetMetricData']?.Throttling, 1);
    assert.ok((calls['cloudwatch:GetMetricStatistics']?.InvalidParameterValueException ?? 0) >= 3);
  });
});

describe('the CBOR codec', () => {
  it('round-trips what RPC v2 CBOR carries, and reads what the SDK writes', async () => {
    const value = {
      a: 1,
      b: -2,
      c: 1.5,
      d: 'héllo',
      e: [true, false, null],
      f: new Date(1_700_000_000_500),
      g: 2 ** 40,
    };
    assert.deepEqual(decodeCbor(encodeCbor(value)), { ...value, e: [true, false, null] });
    const { cbor } = await import('@smithy/core/cbor');
    assert.deepEqual(decodeCbor(cbor.serialize({ x: [1, 2.25, 'y'], n: -300 })), {
      x: [1, 2.25, 'y'],
      n: -300,
    });
    assert.deepEqual(cbor.deserialize(encodeCbor({ k: [1, 'v', 0.5] })), { k: [1, 'v', 0.5] });
  });
});
