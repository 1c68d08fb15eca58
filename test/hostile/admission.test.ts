// Hostile specs against real admission: what a tenant may try through the fields it writes (path
// traversal through a Secret name, queue URLs that point the operator's signed requests elsewhere,
// ARNs of another Region or account), and fast-check generating hostile strings and numbers. What
// the API server admits, the controller must handle: parseSpec and admission agree on every case.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import fc from 'fast-check';
import { API_VERSION, KIND, PLURAL, parseSpec } from '../../src/api/v1alpha1/index.ts';
import { type ControlPlane, CRD_DIR, startControlPlane } from '../../src/envtest/index.ts';
import { apiPath, KubeApiError, type KubeClient, kubeClient } from '../../src/runtime/kube.ts';

const ns = `hostile-${process.pid}`;
let cp: ControlPlane;
let client: KubeClient;

before(async () => {
  cp = await startControlPlane({ crds: [CRD_DIR] });
  await cp.kubectl(['create', 'namespace', ns]);
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfig);
  client = kubeClient(kc);
});
after(async () => {
  await cp?.stop();
});

const base = {
  awsSQSName: 'orders',
  awsSQSMsgCountThreshold: 100,
  awsLambdaName: 'order-processor',
  awsLambdaMinConcurrency: 1,
  awsLamndaMaxConcurrency: 10,
  awsLambdaStepConcurrency: 1,
};

/** Server-side dry-run create: the API server's whole admission, nothing stored. */
async function admit(spec: unknown): Promise<{ admitted: true } | { admitted: false; message: string }> {
  try {
    await client.request('POST', `/apis/${API_VERSION}${apiPath`/namespaces/${ns}`}/${PLURAL}`, {
      query: { dryRun: 'All' },
      body: { apiVersion: API_VERSION, kind: KIND, metadata: { generateName: 'fuzz-' }, spec },
    });
    return { admitted: true };
  } catch (error) {
    if (error instanceof KubeApiError && (error.code === 422 || error.code === 400))
      return { admitted: false, message: error.message };
    throw error;
  }
}

interface Hostile {
  patch: Record<string, unknown>;
  /** What the API server must say (and parseSpec must blame `path`). */
  message: RegExp;
  path: string;
}

const hostile = {
  'a Secret name that climbs into another namespace': {
    patch: { credentials: { secretRef: { name: '../../tenant-b/secrets/aws-creds' } } },
    message: /credentials\.secretRef\.name must be a Secret name/,
    path: 'spec.credentials.secretRef.name',
  },
  'a Secret name with a slash': {
    patch: { credentials: { secretRef: { name: 'aws/creds' } } },
    message: /credentials\.secretRef\.name must be a Secret name/,
    path: 'spec.credentials.secretRef.name',
  },
  'a Secret name that is ..': {
    patch: { credentials: { secretRef: { name: '..' } } },
    message: /credentials\.secretRef\.name must be a Secret name/,
    path: 'spec.credentials.secretRef.name',
  },
  'a Secret namespace that is not a namespace name': {
    patch: { credentials: { secretRef: { name: 'keys', namespace: '../kube-system' } } },
    message: /credentials\.secretRef\.namespace must be a namespace name/,
    path: 'spec.credentials.secretRef.namespace',
  },
  'a queue URL on a loopback port': {
    patch: { awsSQSName: 'http://127.0.0.1:19999/123456789012/evil' },
    message: /awsSQSName must be .*no other host, IP address or port/,
    path: 'spec.awsSQSName',
  },
  'a queue URL at the instance metadata address': {
    patch: { awsSQSName: 'https://169.254.169.254/123456789012/evil' },
    message: /awsSQSName must be .*no other host, IP address or port/,
    path: 'spec.awsSQSName',
  },
  'a queue URL at a host ending like AWS': {
    patch: { awsSQSName: 'https://sqs.us-east-1.amazonaws.com.attacker.example/123456789012/evil' },
    message: /awsSQSName must be .*no other host, IP address or port/,
    path: 'spec.awsSQSName',
  },
  'a queue URL with credentials in it': {
    patch: { awsSQSName: 'https://user:pass@sqs.us-east-1.amazonaws.com/123456789012/orders' },
    message: /awsSQSName must be .*no other host, IP address or port/,
    path: 'spec.awsSQSName',
  },
  'a queue ARN of another Region than spec.region': {
    patch: { awsSQSName: 'arn:aws:sqs:eu-west-1:123456789012:orders', region: 'us-east-1' },
    message: /the Region named in awsSQSName \(its ARN or URL\) must equal spec\.region/,
    path: 'spec.awsSQSName',
  },
  'a queue URL of another Region than spec.region': {
    patch: { awsSQSName: 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders', region: 'us-east-1' },
    message: /the Region named in awsSQSName \(its ARN or URL\) must equal spec\.region/,
    path: 'spec.awsSQSName',
  },
  'a function ARN of another Region than spec.region': {
    patch: { awsLambdaName: 'arn:aws:lambda:eu-west-1:123456789012:function:f', region: 'us-east-1' },
    message: /the Region named in awsLambdaName \(its ARN\) must equal spec\.region/,
    path: 'spec.awsLambdaName',
  },
  'a queue and a function in different Regions': {
    patch: {
      awsSQSName: 'arn:aws:sqs:eu-west-1:123456789012:orders',
      awsLambdaName: 'arn:aws:lambda:us-east-1:123456789012:function:f',
    },
    message: /awsSQSName and awsLambdaName name different Regions/,
    path: 'spec.awsLambdaName',
  },
  'a function of another account than the role': {
    patch: {
      awsLambdaName: 'arn:aws:lambda:us-east-1:999999999999:function:f',
      credentials: { roleArn: 'arn:aws:iam::123456789012:role/scaler' },
    },
    message: /the account named in awsLambdaName must be the account of credentials\.roleArn/,
    path: 'spec.awsLambdaName',
  },
  'an external id with a newline': {
    patch: { credentials: { roleArn: 'arn:aws:iam::123456789012:role/scaler', externalId: 'abc\ndef' } },
    message: /credentials\.externalId may contain only/,
    path: 'spec.credentials.externalId',
  },
  'a mapping cap below the 2 AWS accepts': {
    patch: { actuator: 'EventSourceMaximumConcurrency', awsLambdaMinConcurrency: 1 },
    message: /actuator EventSourceMaximumConcurrency .* awsLambdaMinConcurrency must be at least 2/,
    path: 'spec.awsLambdaMinConcurrency',
  },
  'a mapping cap above the 1,000 AWS accepts': {
    patch: {
      actuator: 'EventSourceMaximumConcurrency',
      awsLambdaMinConcurrency: 2,
      awsLamndaMaxConcurrency: 1001,
    },
    message: /from 2 to 1000: awsLamndaMaxConcurrency must be at most 1000/,
    path: 'spec.awsLamndaMaxConcurrency',
  },
  'provisioned pollers below the 2 pollers AWS requires': {
    patch: { actuator: 'ProvisionedPollers', awsLambdaMinConcurrency: 10, awsLamndaMaxConcurrency: 100 },
    message: /awsLambdaMinConcurrency must be a multiple of 10 from 20 to 2000/,
    path: 'spec.awsLambdaMinConcurrency',
  },
  'provisioned pollers with a bound that is not whole pollers': {
    patch: { actuator: 'ProvisionedPollers', awsLambdaMinConcurrency: 20, awsLambdaMaxConcurrency: 105 },
    message: /awsLambdaMaxConcurrency must be a multiple of 10 up to 20000/,
    path: 'spec.awsLambdaMaxConcurrency',
  },
  'provisioned pollers beyond the 2,000 MaximumPollers': {
    patch: { actuator: 'ProvisionedPollers', awsLambdaMinConcurrency: 20, awsLamndaMaxConcurrency: 20_010 },
    message: /awsLamndaMaxConcurrency must be a multiple of 10 up to 20000/,
    path: 'spec.awsLamndaMaxConcurrency',
  },
  'a mapping actuator with manageMaximumConcurrency as well': {
    patch: {
      actuator: 'EventSourceMaximumConcurrency',
      awsLambdaMinConcurrency: 2,
      eventSourceMapping: { manageMaximumConcurrency: true },
    },
    message: /eventSourceMapping\.manageMaximumConcurrency goes with actuator ReservedConcurrency/,
    path: 'spec.eventSourceMapping.manageMaximumConcurrency',
  },
  'an actuator AWS does not have': {
    patch: { actuator: 'ProvisionedConcurrency' },
    message: /spec\.actuator: Unsupported value/,
    path: 'spec.actuator',
  },
} satisfies Record<string, Hostile>;

describe('admission of hostile specs', () => {
  for (const [name, c] of Object.entries(hostile)) {
    it(`refuses ${name}, as parseSpec does`, async () => {
      const spec = { ...base, ...c.patch };
      const verdict = await admit(spec);
      assert.equal(verdict.admitted, false, 'the API server admitted it');
      if (!verdict.admitted) assert.match(verdict.message, c.message);
      const parsed = parseSpec(spec);
      assert.equal(parsed.ok, false, 'parseSpec accepted it');
      if (!parsed.ok)
        assert.ok(
          parsed.issues.some((i) => i.path === c.path),
          JSON.stringify(parsed.issues),
        );
    });
  }

  it('admits what AWS itself names: SQS endpoints of every partition, matching ARNs and Regions', async () => {
    const fine = {
      fips: {
        awsSQSName: 'https://sqs-fips.us-gov-west-1.amazonaws.com/123456789012/orders',
        region: 'us-gov-west-1',
      },
      china: { awsSQSName: 'https://sqs.cn-north-1.amazonaws.com.cn/123456789012/orders' },
      legacy: { awsSQSName: 'https://queue.amazonaws.com/123456789012/orders', region: 'us-east-1' },
      'the mapping cap alone': { actuator: 'EventSourceMaximumConcurrency', awsLambdaMinConcurrency: 2 },
      'provisioned pollers': {
        actuator: 'ProvisionedPollers',
        awsLambdaMinConcurrency: 20,
        awsLamndaMaxConcurrency: 20_000,
      },
      'reserved concurrency with the cap, spelled out': {
        actuator: 'ReservedConcurrency',
        eventSourceMapping: { manageMaximumConcurrency: true },
      },
      arns: {
        awsSQSName: 'arn:aws:sqs:eu-west-1:123456789012:orders',
        awsLambdaName: 'arn:aws:lambda:eu-west-1:123456789012:function:f',
        region: 'eu-west-1',
        credentials: { roleArn: 'arn:aws:iam::123456789012:role/scaler' },
      },
    } satisfies Record<string, Record<string, unknown>>;
    for (const [name, patch] of Object.entries(fine)) {
      const spec = { ...base, ...patch };
      assert.deepEqual(await admit(spec), { admitted: true }, name);
      assert.equal(parseSpec(spec).ok, true, name);
    }
  });
});

// Strings a hostile tenant would try, mixed with near-valid ones, for every string field.
const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    '',
    '..',
    '.',
    '../../x',
    'a/b',
    '%2e%2e',
    'orders',
    'orders.fifo',
    'http://127.0.0.1:1/123456789012/q',
    'https://[::1]/123456789012/q',
    'https://sqs.us-east-1.amazonaws.com/123456789012/q',
    'https://sqs.us-east-1.amazonaws.com:443/123456789012/q',
    'arn:aws:sqs:us-east-1:123456789012:q',
    'arn:aws:sqs:eu-west-1:123456789012:q',
    'arn:aws:lambda:us-east-1:123456789012:function:f',
    'arn:aws:lambda:eu-west-1:999999999999:function:f',
    '123456789012:function:f',
    'us-west-2:123456789012:function:f',
    'f:$LATEST',
    'ab-cd-1',
    'ünïcödé',
    '\u0000',
    'a'.repeat(300),
    "x' || true",
  ),
);
const number = fc.oneof(
  fc.integer({ min: -5, max: 2000 }),
  fc.constantFrom(0, 1, 2_147_483_647, 2_147_483_648, -1, 1.5, Number.MAX_SAFE_INTEGER),
  // The edges of the mapping actuators' ranges (MaximumConcurrency 2-1000, pollers of 10).
  fc.constantFrom(2, 10, 20, 30, 1000, 1001, 2000, 2010, 20_000, 20_010),
);
const actuator = fc.oneof(
  fc.constantFrom('ReservedConcurrency', 'EventSourceMaximumConcurrency', 'ProvisionedPollers'),
  nasty,
);

const hostileSpec = fc.record(
  {
    awsSQSName: nasty,
    awsLambdaName: nasty,
    awsSQSMsgCountThreshold: number,
    awsLambdaMinConcurrency: number,
    awsLamndaMaxConcurrency: number,
    awsLambdaStepConcurrency: number,
    region: fc.oneof(nasty, fc.constantFrom('us-east-1', 'eu-west-1', 'us-gov-west-1')),
    credentials: fc.record(
      {
        secretRef: fc.record({ name: nasty, namespace: nasty }, { requiredKeys: ['name'] }),
        roleArn: fc.oneof(
          nasty,
          fc.constantFrom('arn:aws:iam::123456789012:role/r', 'arn:aws:iam::999999999999:role/r'),
        ),
        externalId: nasty,
      },
      { requiredKeys: [] },
    ),
    pollingIntervalSeconds: number,
    priority: number,
    actuator,
    eventSourceMapping: fc.record({ manageMaximumConcurrency: fc.boolean() }, { requiredKeys: [] }),
  },
  {
    requiredKeys: [
      'awsSQSName',
      'awsLambdaName',
      'awsSQSMsgCountThreshold',
      'awsLambdaMinConcurrency',
      'awsLambdaStepConcurrency',
    ],
  },
);

describe('fuzzing specs through real admission', () => {
  it('admits exactly what the controller accepts, and never a spec it would refuse to handle', async () => {
    let admitted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          hostileSpec,
          // Near-valid: the sample with one hostile field, so the later rules are reached too.
          fc
            .record({
              field: fc.constantFrom(...Object.keys(base), 'region'),
              value: fc.oneof(nasty, number),
            })
            .map(({ field, value }) => ({ ...base, [field]: value })),
          // Near-valid for a mapping actuator: its bounds at and around AWS's ranges.
          fc
            .record({
              actuator,
              awsLambdaMinConcurrency: number,
              awsLamndaMaxConcurrency: number,
              manage: fc.boolean(),
            })
            .map(({ manage, ...fields }) => ({
              ...base,
              ...fields,
              ...(manage ? { eventSourceMapping: { manageMaximumConcurrency: true } } : {}),
            })),
        ),
        async (spec) => {
          const verdict = await admit(spec);
          const parsed = parseSpec(spec);
          if (verdict.admitted) admitted++;
          assert.equal(
            parsed.ok,
            verdict.admitted,
            `API server ${verdict.admitted ? 'admitted' : `refused (${verdict.message})`} but parseSpec ${parsed.ok ? 'accepted' : `refused: ${JSON.stringify(parsed.issues)}`}`,
          );
        },
      ),
      { numRuns: 300, seed: 1201 },
    );
    assert.ok(admitted > 0, 'the generator reaches admitted specs too');
  });
});
