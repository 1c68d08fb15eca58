import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  contradictions,
  functionAccount,
  functionRegion,
  QUEUE_PATTERN,
  queueAccount,
  queueRegion,
  scalerRegion,
} from './aws-names.ts';

describe('QUEUE_PATTERN', () => {
  const accepted = {
    name: 'orders',
    fifo: 'orders.fifo',
    url: 'https://sqs.us-east-1.amazonaws.com/123456789012/orders',
    'fips url': 'https://sqs-fips.us-gov-west-1.amazonaws.com/123456789012/orders',
    'china url': 'https://sqs.cn-north-1.amazonaws.com.cn/123456789012/orders',
    'dual-stack url': 'https://sqs.eu-west-1.api.aws/123456789012/orders',
    'legacy regional url': 'https://eu-west-1.queue.amazonaws.com/123456789012/orders',
    'legacy url': 'https://queue.amazonaws.com/123456789012/orders',
    arn: 'arn:aws:sqs:eu-west-1:123456789012:orders.fifo',
  } satisfies Record<string, string>;
  for (const [name, value] of Object.entries(accepted))
    it(`accepts a queue ${name}`, () => assert.match(value, QUEUE_PATTERN));

  const refused = {
    'plain http': 'http://sqs.us-east-1.amazonaws.com/123456789012/orders',
    'loopback IP': 'https://127.0.0.1/123456789012/orders',
    'metadata IP': 'https://169.254.169.254/123456789012/orders',
    'IPv6 literal': 'https://[::1]/123456789012/orders',
    'a port': 'https://sqs.us-east-1.amazonaws.com:8443/123456789012/orders',
    'user info': 'https://attacker@sqs.us-east-1.amazonaws.com/123456789012/orders',
    'another host': 'https://sqs.us-east-1.amazonaws.com.evil.example/123456789012/orders',
    'a lookalike host': 'https://sqs.us-east-1.amazonaws.co/123456789012/orders',
    'localhost name': 'https://localhost/123456789012/orders',
    'path traversal': 'https://sqs.us-east-1.amazonaws.com/123456789012/../orders',
    'a query': 'https://sqs.us-east-1.amazonaws.com/123456789012/orders?x=1',
  } satisfies Record<string, string>;
  for (const [name, value] of Object.entries(refused))
    it(`refuses a queue URL with ${name}`, () => assert.doesNotMatch(value, QUEUE_PATTERN));
});

describe('the Regions and accounts a reference names', () => {
  it('reads them from queue URLs and ARNs, and none from a name', () => {
    assert.equal(queueRegion('https://sqs.eu-west-1.amazonaws.com/123456789012/ab-cd-1'), 'eu-west-1');
    assert.equal(queueRegion('https://queue.amazonaws.com/123456789012/us-west-2'), 'us-east-1');
    assert.equal(queueRegion('arn:aws:sqs:ap-south-1:123456789012:q'), 'ap-south-1');
    assert.equal(queueRegion('us-west-2'), '');
    assert.equal(queueAccount('https://sqs.eu-west-1.amazonaws.com/123456789012/q'), '123456789012');
    assert.equal(queueAccount('arn:aws:sqs:ap-south-1:210987654321:q'), '210987654321');
  });

  it('reads them from function ARNs and partial ARNs, and none from a name', () => {
    assert.equal(functionRegion('arn:aws:lambda:eu-west-1:123456789012:function:f'), 'eu-west-1');
    assert.equal(functionRegion('us-west-2:123456789012:function:f'), 'us-west-2');
    assert.equal(functionRegion('123456789012:function:f'), '');
    assert.equal(functionRegion('us-west-2'), '');
    assert.equal(functionAccount('arn:aws:lambda:eu-west-1:123456789012:function:f'), '123456789012');
    assert.equal(functionAccount('123456789012:function:f'), '123456789012');
    assert.equal(functionAccount('123456789012'), '');
  });

  it('makes the scaler act in the Region its ARNs name when spec.region is not set', () => {
    const spec = { awsSQSName: 'orders', awsLambdaName: 'arn:aws:lambda:eu-west-1:123456789012:function:f' };
    assert.equal(scalerRegion(spec, 'us-east-1'), 'eu-west-1');
    assert.equal(scalerRegion({ ...spec, awsLambdaName: 'f' }, 'us-east-1'), 'us-east-1');
    assert.equal(
      scalerRegion({ awsSQSName: 'arn:aws:sqs:ap-south-1:123456789012:q', awsLambdaName: 'f' }, 'us-east-1'),
      'ap-south-1',
    );
  });

  it('names every contradiction with the Region and the identity', () => {
    const spec = {
      awsSQSName: 'arn:aws:sqs:eu-west-1:123456789012:q',
      awsLambdaName: 'arn:aws:lambda:eu-west-1:123456789012:function:f',
    };
    assert.deepEqual(contradictions(spec, 'eu-west-1', '123456789012'), []);
    assert.deepEqual(
      contradictions(spec, 'us-east-1', '210987654321').map((c) => c.message),
      [
        'the queue is in Region eu-west-1 but the scaler acts in us-east-1',
        'the function is in Region eu-west-1 but the scaler acts in us-east-1',
        'the function is in account 123456789012 but the scaler acts as account 210987654321',
      ],
    );
  });
});
