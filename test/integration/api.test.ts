// The LambdaConcurrencyScaler API against a real kube-apiserver: the original's manifests apply
// unchanged, bad specs are refused at `kubectl apply` with a message naming the field, and the
// run-time validation (parseSpec) refuses exactly the same specs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { parseSpec } from '../../src/api/v1alpha1/index.ts';
import { type ControlPlane, CRD_DIR, startControlPlane } from '../../src/envtest/index.ts';

const root = join(import.meta.dirname, '..', '..');
const sampleYaml = readFileSync(
  join(root, 'config/samples/aws_v1alpha1_lambdaconcurrencyscaler.yaml'),
  'utf8',
);
const sample = parse(sampleYaml) as { metadata: { name: string }; spec: Record<string, unknown> };
const ns = `api-${process.pid}`;

let cp: ControlPlane;
before(async () => {
  cp = await startControlPlane({ crds: [CRD_DIR] });
  await cp.kubectl(['create', 'namespace', ns]);
});
after(async () => {
  await cp?.stop();
});

function manifest(name: string, spec: Record<string, unknown>): string {
  return stringify({ ...sample, metadata: { ...sample.metadata, name }, spec });
}

describe('the LambdaConcurrencyScaler CRD', () => {
  it('is established and served under its plural and short name', async () => {
    const crd = JSON.parse(
      await cp.kubectl(['get', 'crd', 'lambdaconcurrencyscalers.aws.operators.jittakal.io', '-o', 'json']),
    );
    assert.deepEqual(crd.spec.names.shortNames, ['lcs']);
    assert.equal(crd.spec.scope, 'Namespaced');
    const established = crd.status.conditions.find((c: { type: string }) => c.type === 'Established');
    assert.equal(established.status, 'True');
  });

  it('accepts the original sample unchanged and reads it back with every key intact', async () => {
    const out = await cp.kubectl(['apply', '-n', ns, '-f', '-'], sampleYaml);
    assert.match(out, /lambdaconcurrencyscaler-sample created/);
    const stored = JSON.parse(
      await cp.kubectl(['get', 'lambdaconcurrencyscaler', sample.metadata.name, '-n', ns, '-o', 'json']),
    );
    assert.deepEqual(stored.spec, sample.spec);
    assert.deepEqual(
      stored.metadata.labels,
      (parse(sampleYaml) as { metadata: { labels: unknown } }).metadata.labels,
    );
    assert.equal(parseSpec(sample.spec).ok, true);
  });

  it('shows the printer columns through both the plural and the short name', async () => {
    for (const resource of ['lambdaconcurrencyscalers', 'lcs']) {
      const out = await cp.kubectl(['get', resource, '-n', ns]);
      const [header, row] = out.trim().split('\n');
      assert.deepEqual(header?.split(/\s+/), [
        'NAME',
        'QUEUE',
        'FUNCTION',
        'MIN',
        'MAX',
        'CONCURRENCY',
        'BACKLOG',
        'STATE',
        'READY',
        'AGE',
      ]);
      assert.match(row ?? '', /^lambdaconcurrencyscaler-sample\s+orders\s+order-processor\s+50\s+100\s/);
    }
  });

  it('accepts the correctly spelled awsLambdaMaxConcurrency and shows it as Max', async () => {
    const { awsLamndaMaxConcurrency, ...rest } = sample.spec;
    const spec = { ...rest, awsLambdaMaxConcurrency: 80 };
    await cp.kubectl(['apply', '-n', ns, '-f', '-'], manifest('correct-spelling', spec));
    const out = await cp.kubectl(['get', 'lcs', 'correct-spelling', '-n', ns, '--no-headers']);
    assert.match(out, /^correct-spelling\s+orders\s+order-processor\s+50\s+80\s/);
    assert.equal(awsLamndaMaxConcurrency, 100);
    assert.equal(parseSpec(spec).ok, true);
  });

  it('accepts a queue URL, a queue ARN, a FIFO queue, a function ARN and a partial ARN', async () => {
    const specs = {
      'queue-url': { awsSQSName: 'https://sqs.us-east-1.amazonaws.com/123456789012/orders' },
      'queue-arn': { awsSQSName: 'arn:aws:sqs:eu-west-1:123456789012:orders.fifo' },
      'fifo-queue': { awsSQSName: 'orders.fifo' },
      'function-arn': { awsLambdaName: 'arn:aws:lambda:us-east-1:123456789012:function:order-processor' },
      'partial-arn': { awsLambdaName: '123456789012:function:order-processor' },
      'min-zero': { awsLambdaMinConcurrency: 0, awsLamndaMaxConcurrency: 1 },
    } satisfies Record<string, Record<string, unknown>>;
    for (const [name, patch] of Object.entries(specs)) {
      const spec = { ...sample.spec, ...patch };
      const result = await cp.kubectlResult(['apply', '-n', ns, '-f', '-'], manifest(name, spec));
      assert.equal(result.code, 0, `${name}: ${result.stderr}`);
      assert.equal(parseSpec(spec).ok, true, name);
    }
  });
});

interface InvalidCase {
  /** Changes to the valid sample spec; `undefined` removes the key. */
  patch: Record<string, unknown>;
  /** What kubectl must print (the API server's message). */
  apiMessage: RegExp;
  /** The field parseSpec must blame. */
  path: string;
}

const invalid = {
  'queue name missing': {
    patch: { awsSQSName: undefined },
    apiMessage: /spec\.awsSQSName: Required value/,
    path: 'spec.awsSQSName',
  },
  'threshold missing': {
    patch: { awsSQSMsgCountThreshold: undefined },
    apiMessage: /spec\.awsSQSMsgCountThreshold: Required value/,
    path: 'spec.awsSQSMsgCountThreshold',
  },
  'function missing': {
    patch: { awsLambdaName: undefined },
    apiMessage: /spec\.awsLambdaName: Required value/,
    path: 'spec.awsLambdaName',
  },
  'min missing': {
    patch: { awsLambdaMinConcurrency: undefined },
    apiMessage: /spec\.awsLambdaMinConcurrency: Required value/,
    path: 'spec.awsLambdaMinConcurrency',
  },
  'step missing': {
    patch: { awsLambdaStepConcurrency: undefined },
    apiMessage: /spec\.awsLambdaStepConcurrency: Required value/,
    path: 'spec.awsLambdaStepConcurrency',
  },
  'max missing under both spellings': {
    patch: { awsLamndaMaxConcurrency: undefined },
    apiMessage:
      /awsLamndaMaxConcurrency \(or its correctly spelled alias awsLambdaMaxConcurrency\) is required/,
    path: 'spec',
  },
  'max given under both spellings': {
    patch: { awsLambdaMaxConcurrency: 100 },
    apiMessage: /set only one of awsLamndaMaxConcurrency \(original spelling\) and awsLambdaMaxConcurrency/,
    path: 'spec',
  },
  'queue name with a space': {
    patch: { awsSQSName: 'my orders' },
    apiMessage:
      /spec\.awsSQSName: Invalid value: "my orders": awsSQSName must be a queue name of 1-80 letters/,
    path: 'spec.awsSQSName',
  },
  'queue name of 81 characters': {
    patch: { awsSQSName: 'q'.repeat(81) },
    apiMessage: /spec\.awsSQSName: Invalid value: "q{81}": awsSQSName must be a queue name of 1-80 letters/,
    path: 'spec.awsSQSName',
  },
  'FIFO queue name with a bad character': {
    patch: { awsSQSName: 'orders!.fifo' },
    apiMessage: /spec\.awsSQSName: Invalid value: "orders!\.fifo": awsSQSName must be a queue name/,
    path: 'spec.awsSQSName',
  },
  'function with an alias qualifier': {
    patch: { awsLambdaName: 'order-processor:live' },
    apiMessage:
      /spec\.awsLambdaName: Invalid value: "order-processor:live": awsLambdaName must be a Lambda function name .* without a version or alias qualifier/,
    path: 'spec.awsLambdaName',
  },
  'function name with a slash': {
    patch: { awsLambdaName: 'team/order-processor' },
    apiMessage:
      /spec\.awsLambdaName: Invalid value: "team\/order-processor": awsLambdaName must be a Lambda function name/,
    path: 'spec.awsLambdaName',
  },
  'function name over 140 characters': {
    patch: { awsLambdaName: 'f'.repeat(141) },
    apiMessage: /spec\.awsLambdaName: Too long: may not be (longer|more) than 140/,
    path: 'spec.awsLambdaName',
  },
  'negative minimum': {
    patch: { awsLambdaMinConcurrency: -1 },
    apiMessage:
      /spec\.awsLambdaMinConcurrency: Invalid value: -1: spec\.awsLambdaMinConcurrency in body should be greater than or equal to 0/,
    path: 'spec.awsLambdaMinConcurrency',
  },
  'zero maximum': {
    patch: { awsLamndaMaxConcurrency: 0, awsLambdaMinConcurrency: 0 },
    apiMessage: /spec\.awsLamndaMaxConcurrency in body should be greater than or equal to 1/,
    path: 'spec.awsLamndaMaxConcurrency',
  },
  'zero step': {
    patch: { awsLambdaStepConcurrency: 0 },
    apiMessage: /spec\.awsLambdaStepConcurrency in body should be greater than or equal to 1/,
    path: 'spec.awsLambdaStepConcurrency',
  },
  'negative threshold': {
    patch: { awsSQSMsgCountThreshold: -5 },
    apiMessage: /spec\.awsSQSMsgCountThreshold in body should be greater than or equal to 0/,
    path: 'spec.awsSQSMsgCountThreshold',
  },
  'minimum above maximum': {
    patch: { awsLambdaMinConcurrency: 150 },
    apiMessage:
      /spec\.awsLambdaMinConcurrency: Invalid value: awsLambdaMinConcurrency must be less than or equal to awsLamndaMaxConcurrency$/m,
    path: 'spec.awsLambdaMinConcurrency',
  },
  'minimum above the correctly spelled maximum': {
    patch: { awsLamndaMaxConcurrency: undefined, awsLambdaMaxConcurrency: 10, awsLambdaMinConcurrency: 11 },
    apiMessage: /awsLambdaMinConcurrency must be less than or equal to awsLambdaMaxConcurrency$/m,
    path: 'spec.awsLambdaMinConcurrency',
  },
  'minimum given as a string': {
    patch: { awsLambdaMinConcurrency: '50' },
    apiMessage:
      /spec\.awsLambdaMinConcurrency: Invalid value: "string": spec\.awsLambdaMinConcurrency in body must be of type integer/,
    path: 'spec.awsLambdaMinConcurrency',
  },
  'maximum beyond an int32': {
    patch: { awsLamndaMaxConcurrency: 3_000_000_000 },
    apiMessage: /spec\.awsLamndaMaxConcurrency in body should be less than or equal to 2147483647/,
    path: 'spec.awsLamndaMaxConcurrency',
  },
  'region that is not a Region name': {
    patch: { region: 'Virginia' },
    apiMessage:
      /spec\.region: Invalid value: "Virginia": region must be an AWS Region name such as us-east-1/,
    path: 'spec.region',
  },
  'role to assume that is not a role ARN': {
    patch: { credentials: { roleArn: 'arn:aws:iam::123456789012:user/bob' } },
    apiMessage:
      /spec\.credentials\.roleArn: Invalid value: ".*": credentials\.roleArn must be an IAM role ARN/,
    path: 'spec.credentials.roleArn',
  },
  'external id without a role': {
    patch: { credentials: { externalId: 'shared-secret-id' } },
    apiMessage:
      /spec\.credentials\.externalId: Invalid value: .*credentials\.externalId is only used with credentials\.roleArn/,
    path: 'spec.credentials.externalId',
  },
  'unknown onDelete behaviour': {
    patch: { onDelete: 'Zero' },
    apiMessage: /spec\.onDelete: Unsupported value: "Zero": supported values: "Restore", "Retain"/,
    path: 'spec.onDelete',
  },
  'manageMaximumConcurrency given as a string': {
    patch: { eventSourceMapping: { manageMaximumConcurrency: 'always' } },
    apiMessage:
      /spec\.eventSourceMapping\.manageMaximumConcurrency: Invalid value: "string": spec\.eventSourceMapping\.manageMaximumConcurrency in body must be of type boolean/,
    path: 'spec.eventSourceMapping.manageMaximumConcurrency',
  },
} satisfies Record<string, InvalidCase>;

describe('an invalid LambdaConcurrencyScaler', () => {
  const refusals = new Map<string, string>();
  for (const [name, c] of Object.entries(invalid)) {
    it(`is refused at kubectl apply and by parseSpec: ${name}`, async () => {
      const spec: Record<string, unknown> = { ...sample.spec };
      for (const [key, value] of Object.entries(c.patch)) {
        if (value === undefined) delete spec[key];
        else spec[key] = value;
      }
      const objectName = `invalid-${name.toLowerCase().replaceAll(/[^a-z0-9]+/g, '-')}`
        .slice(0, 60)
        .replace(/-$/, '');

      const result = await cp.kubectlResult(['apply', '-n', ns, '-f', '-'], manifest(objectName, spec));

      assert.notEqual(result.code, 0, `kubectl accepted it: ${result.stdout}`);
      refusals.set(name, result.stderr.replace(objectName, 'NAME'));
      assert.match(result.stderr, c.apiMessage);
      const parsed = parseSpec(spec);
      assert.equal(parsed.ok, false, 'parseSpec accepted it');
      if (!parsed.ok)
        assert.ok(
          parsed.issues.some((i) => i.path === c.path),
          JSON.stringify(parsed.issues),
        );
    });
  }

  it('is refused with a message of its own in every case', () => {
    assert.equal(refusals.size, Object.keys(invalid).length);
    assert.equal(new Set(refusals.values()).size, refusals.size, [...refusals.values()].join(''));
  });
});

describe('the deploy manifests', () => {
  it('have a sharded variant: three replicas sharing accounts instead of electing a leader', async () => {
    const rendered = await cp.kubectl(['kustomize', join(root, 'config/sharded')]);
    const deployment = parse(rendered.split(/^---$/m).find((d) => /kind: Deployment/.test(d)) ?? '') as {
      spec: { replicas: number; template: { spec: { containers: { args: string[] }[] } } };
    };
    assert.equal(deployment.spec.replicas, 3);
    const args = deployment.spec.template.spec.containers[0]?.args ?? [];
    assert.ok(args.includes('--shard-by-account'), args.join(' '));
    assert.ok(!args.includes('--leader-elect'), 'no leader election beside shards');
  });

  it('apply cleanly with server-side dry-run (config/default)', async () => {
    await cp.kubectl(['create', 'namespace', 'lambda-con-scaler-operator-system']);
    const rendered = await cp.kubectl(['kustomize', join(root, 'config/default')]);
    const out = await cp.kubectl(['apply', '--dry-run=server', '-f', '-'], rendered);
    for (const kind of [
      'deployment.apps',
      'clusterrole.rbac.authorization.k8s.io',
      'serviceaccount',
      'service',
    ]) {
      assert.match(
        out,
        new RegExp(
          `${kind.replaceAll('.', '\\.')}/lambda-con-scaler-operator-\\S+ (created|configured|unchanged) \\(server dry run\\)`,
        ),
      );
    }
    assert.match(rendered, /name: lambdaconcurrencyscaler-secret/);
    assert.match(rendered, /namespace: lambda-con-scaler-operator-system/);
  });

  it('deploy for real with the original flow: secret first, then make deploy IMG=…', async () => {
    // The namespace exists from the test above, as the original README has users create it.
    await cp.kubectl(
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: Secret
metadata:
  name: lambdaconcurrencyscaler-secret
  namespace: lambda-con-scaler-operator-system
type: Opaque
data:
  AWS_ACCESS_KEY_ID: QUtJQUVYQU1QTEU=
  AWS_SECRET_ACCESS_KEY: c2VjcmV0
`,
    );
    const kubectl = `${join(cp.binDir, 'kubectl')} --kubeconfig=${cp.kubeconfig}`;
    execFileSync(
      'make',
      ['--no-print-directory', 'deploy', 'IMG=registry.example.com/lcs:v0.1.0', `KUBECTL=${kubectl}`],
      {
        cwd: root,
        stdio: 'pipe',
      },
    );
    const deployment = JSON.parse(
      await cp.kubectl([
        'get',
        'deployment',
        'lambda-con-scaler-operator-controller-manager',
        '-n',
        'lambda-con-scaler-operator-system',
        '-o',
        'json',
      ]),
    );
    const container = deployment.spec.template.spec.containers[0];
    assert.equal(container.image, 'registry.example.com/lcs:v0.1.0');
    const fromSecret = container.env.filter(
      (e: { valueFrom?: { secretKeyRef?: { name: string; optional: boolean } } }) =>
        e.valueFrom?.secretKeyRef?.name === 'lambdaconcurrencyscaler-secret',
    );
    assert.ok(
      fromSecret.length >= 2 &&
        fromSecret.every(
          (e: { valueFrom: { secretKeyRef: { optional: boolean } } }) => e.valueFrom.secretKeyRef.optional,
        ),
    );
    assert.equal(
      deployment.spec.template.spec.serviceAccountName,
      'lambda-con-scaler-operator-controller-manager',
    );
  });
});
