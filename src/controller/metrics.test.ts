// The per-scaler series the alerts and the dashboard rely on: conditions in kube-state-metrics'
// shape and the info series that joins a scaler to its queue and function.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { functionName, queueName, ScalerMetrics } from './metrics.ts';

async function series(registry: Registry, metric: string): Promise<Record<string, number>> {
  const found = (await registry.getMetricsAsJSON()).find((m) => m.name === metric);
  const out: Record<string, number> = {};
  for (const v of (found?.values ?? []) as { labels: Record<string, string | number>; value: number }[]) {
    const key = Object.entries(v.labels)
      .map(([k, x]) => `${k}=${x}`)
      .join(',');
    out[key] = v.value;
  }
  return out;
}

describe('ScalerMetrics.conditions', () => {
  it('puts 1 on the status each present condition has and 0 on the other two', async () => {
    const registry = new Registry();
    const metrics = new ScalerMetrics(registry);

    metrics.conditions('ns', 's', [
      { type: 'Ready', status: 'False' },
      { type: 'Stalled', status: 'True' },
    ]);

    assert.deepEqual(await series(registry, 'lcs_scaler_condition'), {
      'namespace=ns,name=s,type=Ready,status=True': 0,
      'namespace=ns,name=s,type=Ready,status=False': 1,
      'namespace=ns,name=s,type=Ready,status=Unknown': 0,
      'namespace=ns,name=s,type=Stalled,status=True': 1,
      'namespace=ns,name=s,type=Stalled,status=False': 0,
      'namespace=ns,name=s,type=Stalled,status=Unknown': 0,
    });
  });

  it('drops the series of a condition that went away (kstatus: Stalled absent means not stalled)', async () => {
    const registry = new Registry();
    const metrics = new ScalerMetrics(registry);
    metrics.conditions('ns', 's', [
      { type: 'Ready', status: 'False' },
      { type: 'Stalled', status: 'True' },
    ]);

    metrics.conditions('ns', 's', [{ type: 'Ready', status: 'True' }]);

    assert.deepEqual(await series(registry, 'lcs_scaler_condition'), {
      'namespace=ns,name=s,type=Ready,status=True': 1,
      'namespace=ns,name=s,type=Ready,status=False': 0,
      'namespace=ns,name=s,type=Ready,status=Unknown': 0,
    });
  });
});

describe('ScalerMetrics.describe', () => {
  it('names the queue and function and moves the series when the spec changes them', async () => {
    const registry = new Registry();
    const metrics = new ScalerMetrics(registry);
    metrics.describe('ns', 's', { awsSQSName: 'orders', awsLambdaName: 'order-processor' });

    metrics.describe('ns', 's', {
      awsSQSName: 'arn:aws:sqs:us-east-1:123456789012:payments',
      awsLambdaName: 'order-processor',
    });

    assert.deepEqual(await series(registry, 'lcs_scaler_info'), {
      'namespace=ns,name=s,queue=payments,function=order-processor': 1,
    });
  });
});

describe('ScalerMetrics.forget', () => {
  it('drops the condition and info series of a deleted scaler and keeps the others', async () => {
    const registry = new Registry();
    const metrics = new ScalerMetrics(registry);
    for (const name of ['gone', 'kept']) {
      metrics.conditions('ns', name, [{ type: 'Ready', status: 'True' }]);
      metrics.describe('ns', name, { awsSQSName: 'q', awsLambdaName: 'f' });
    }

    metrics.forget('ns', 'gone');

    const names = (s: Record<string, number>) => Object.keys(s).filter((k) => k.includes('name=gone'));
    assert.deepEqual(names(await series(registry, 'lcs_scaler_condition')), []);
    assert.deepEqual(names(await series(registry, 'lcs_scaler_info')), []);
    assert.equal(Object.keys(await series(registry, 'lcs_scaler_info')).length, 1);
  });
});

interface NameCase {
  input: string;
  expected: string;
}

describe('queueName', () => {
  const cases = {
    'a plain name': { input: 'orders', expected: 'orders' },
    'a queue URL': { input: 'https://sqs.us-east-1.amazonaws.com/123456789012/orders', expected: 'orders' },
    'a local endpoint URL with a trailing slash': {
      input: 'http://127.0.0.1:4566/000000000000/orders.fifo/',
      expected: 'orders.fifo',
    },
    'a queue ARN': { input: 'arn:aws:sqs:eu-west-1:123456789012:orders', expected: 'orders' },
  } satisfies Record<string, NameCase>;
  for (const [name, c] of Object.entries(cases)) {
    it(`reads the name from ${name}`, () => assert.equal(queueName(c.input), c.expected));
  }
});

describe('functionName', () => {
  const cases = {
    'a plain name': { input: 'order-processor', expected: 'order-processor' },
    'a function ARN': {
      input: 'arn:aws:lambda:us-east-1:123456789012:function:order-processor',
      expected: 'order-processor',
    },
    'a qualified ARN': {
      input: 'arn:aws:lambda:us-east-1:123456789012:function:order-processor:live',
      expected: 'order-processor',
    },
    'a partial ARN': { input: '123456789012:function:order-processor', expected: 'order-processor' },
    'a name with a qualifier': { input: 'order-processor:live', expected: 'order-processor' },
  } satisfies Record<string, NameCase>;
  for (const [name, c] of Object.entries(cases)) {
    it(`reads the name from ${name}`, () => assert.equal(functionName(c.input), c.expected));
  }
});
