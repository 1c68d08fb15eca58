// STS over awsQuery through the real SDK: AssumeRole of declared roles (with and without an external
// id), AccessDenied for everything else, GetCallerIdentity per key, fromTemporaryCredentials, and the
// admin API that tells which access key (and so which role) made each call.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetFunctionCommand, LambdaClient, PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  AssumeRoleCommand,
  GetCallerIdentityCommand,
  GetSessionTokenCommand,
  STSClient,
  STSServiceException,
} from '@aws-sdk/client-sts';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { parseScenario, ScenarioError } from '../scenario.ts';
import { type Harness, startHarness } from '../testing/harness.ts';

const scaler = 'arn:aws:iam::000000000000:role/lcs-scaler';
const tenant = 'arn:aws:iam::111122223333:role/team/tenant-scaler';
const scenario = parseScenario({
  name: 'sts',
  queues: [{ name: 'orders' }],
  roles: [{ arn: scaler }, { arn: tenant, externalId: 'lcs-7f3a', maxSessionDuration: 7200 }],
});

const stsClient = (endpoint: string, accessKeyId: string, sessionToken?: string): STSClient =>
  new STSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId, secretAccessKey: 'secret', ...(sessionToken ? { sessionToken } : {}) },
    maxAttempts: 1,
  });

/** Asserts an STS error as the SDK raises it: STSServiceException with that name, status and message. */
const stsFails =
  (name: string, status: number, message?: RegExp) =>
  (e: unknown): boolean => {
    assert.ok(e instanceof STSServiceException, String(e));
    assert.equal(e.name, name);
    assert.equal(e.$metadata.httpStatusCode, status);
    assert.equal(e.$fault, status >= 500 ? 'server' : 'client');
    if (message) assert.match(e.message, message);
    return true;
  };

describe('STS over awsQuery', () => {
  let h: Harness;
  let sts: STSClient;
  before(async () => {
    h = await startHarness({ scenario });
    sts = stsClient(h.server.url, 'AKIABASEKEY');
  });
  after(async () => {
    sts.destroy();
    await h.close();
  });

  it('assumes a declared role: credentials that expire in the future and the assumed-role user', async () => {
    const before = Date.now();
    const out = await sts.send(
      new AssumeRoleCommand({ RoleArn: scaler, RoleSessionName: 'lcs-ns-orders', DurationSeconds: 900 }),
    );
    const c = out.Credentials;
    assert.match(c?.AccessKeyId ?? '', /^ASIA[A-Z2-7]{16}$/);
    assert.equal(c?.SecretAccessKey?.length, 40);
    assert.ok((c?.SessionToken?.length ?? 0) > 100);
    assert.ok(c?.Expiration instanceof Date);
    const ttl = c.Expiration.getTime() - before;
    assert.ok(ttl > 880_000 && ttl <= 901_000, `expires in ${ttl} ms`);
    assert.equal(out.AssumedRoleUser?.Arn, 'arn:aws:sts::000000000000:assumed-role/lcs-scaler/lcs-ns-orders');
    assert.match(out.AssumedRoleUser?.AssumedRoleId ?? '', /^AROA[A-Z2-7]{17}:lcs-ns-orders$/);
    assert.equal(h.sim.report().apiCalls['sts:AssumeRole']?.ok, 1);
  });

  it('refuses an undeclared role with AccessDenied (403) worded as AWS does', async () => {
    const ghost = 'arn:aws:iam::000000000000:role/ghost';
    await assert.rejects(
      sts.send(new AssumeRoleCommand({ RoleArn: ghost, RoleSessionName: 's1' })),
      stsFails(
        'AccessDenied',
        403,
        /^User: arn:aws:iam::000000000000:user\/awssim is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::000000000000:role\/ghost$/,
      ),
    );
    assert.equal(h.sim.report().apiCalls['sts:AssumeRole']?.AccessDenied, 1);
  });

  it('requires the declared external id: missing or wrong → AccessDenied, right → credentials', async () => {
    await assert.rejects(
      sts.send(new AssumeRoleCommand({ RoleArn: tenant, RoleSessionName: 'lcs' })),
      stsFails('AccessDenied', 403),
    );
    await assert.rejects(
      sts.send(new AssumeRoleCommand({ RoleArn: tenant, RoleSessionName: 'lcs', ExternalId: 'lcs-wrong' })),
      stsFails('AccessDenied', 403, /on resource: arn:aws:iam::111122223333:role\/team\/tenant-scaler$/),
    );
    const ok = await sts.send(
      new AssumeRoleCommand({
        RoleArn: tenant,
        RoleSessionName: 'lcs',
        ExternalId: 'lcs-7f3a',
        DurationSeconds: 7200,
      }),
    );
    assert.equal(ok.AssumedRoleUser?.Arn, 'arn:aws:sts::111122223333:assumed-role/tenant-scaler/lcs');
    await assert.rejects(
      sts.send(
        new AssumeRoleCommand({
          RoleArn: tenant,
          RoleSessionName: 'lcs',
          ExternalId: 'lcs-7f3a',
          DurationSeconds: 7201,
        }),
      ),
      stsFails('ValidationError', 400, /exceeds the MaxSessionDuration set for this role/),
    );
  });

  it('validates parameters as STS does and answers unknown actions with InvalidAction', async () => {
    await assert.rejects(
      sts.send(new AssumeRoleCommand({ RoleArn: scaler, RoleSessionName: 'x' })),
      stsFails('ValidationError', 400, /at 'roleSessionName' failed to satisfy constraint/),
    );
    await assert.rejects(
      sts.send(new AssumeRoleCommand({ RoleArn: scaler, RoleSessionName: 'lcs', DurationSeconds: 60 })),
      stsFails('ValidationError', 400, /greater than or equal to 900/),
    );
    await assert.rejects(sts.send(new GetSessionTokenCommand({})), stsFails('InvalidAction', 400));
  });

  it('reports the caller per access key: the user for long-term keys, the assumed role for session keys', async () => {
    const me = await sts.send(new GetCallerIdentityCommand({}));
    assert.deepEqual([me.Account, me.Arn], ['000000000000', 'arn:aws:iam::000000000000:user/awssim']);
    const c = (await sts.send(new AssumeRoleCommand({ RoleArn: scaler, RoleSessionName: 'who' })))
      .Credentials;
    const as = stsClient(h.server.url, c?.AccessKeyId ?? '', c?.SessionToken ?? '');
    try {
      const id = await as.send(new GetCallerIdentityCommand({}));
      assert.equal(id.Arn, 'arn:aws:sts::000000000000:assumed-role/lcs-scaler/who');
      assert.match(id.UserId ?? '', /^AROA[A-Z2-7]{17}:who$/);
      // Role chaining is limited to one hour.
      await assert.rejects(
        as.send(new AssumeRoleCommand({ RoleArn: scaler, RoleSessionName: 'chain', DurationSeconds: 3601 })),
        stsFails('ValidationError', 400, /role chaining/),
      );
    } finally {
      as.destroy();
    }
  });

  it('injects STS faults like any other operation', async () => {
    h.sim.injectFault('sts:AssumeRole', { throttle: true });
    try {
      await assert.rejects(
        sts.send(new AssumeRoleCommand({ RoleArn: scaler, RoleSessionName: 'busy' })),
        stsFails('Throttling', 400, /Rate exceeded/),
      );
    } finally {
      h.sim.clearFaults('sts:AssumeRole');
    }
  });
});

describe('fromTemporaryCredentials against awssim', () => {
  it('assumes the role, and calls made with it show up under the session key and the role', async () => {
    const h = await startHarness({ scenario });
    const sqs = new SQSClient({
      endpoint: h.server.url,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: fromTemporaryCredentials({
        masterCredentials: { accessKeyId: 'AKIASECRETKEY', secretAccessKey: 'from-the-secret' },
        params: { RoleArn: scaler, RoleSessionName: 'lcs-orders' },
        clientConfig: { endpoint: h.server.url, region: 'us-east-1' },
      }),
    });
    try {
      const url = (await sqs.send(new GetQueueUrlCommand({ QueueName: 'orders' }))).QueueUrl;
      for (let i = 0; i < 3; i++)
        await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
        );
      await assert.rejects(sqs.send(new GetQueueUrlCommand({ QueueName: 'nope' })), QueueDoesNotExist);
      // The test's own static key, for contrast.
      await h.sqs.send(new GetQueueUrlCommand({ QueueName: 'orders' }));

      const get = async (path: string): Promise<unknown> => {
        const r = await fetch(`${h.server.url}/_awssim${path}`);
        assert.equal(r.status, 200);
        return r.json();
      };
      const callers = (await get('/callers')) as Record<string, Record<string, number>>;
      const assumed = Object.keys(callers).filter((k) => k.startsWith('ASIA'));
      assert.equal(assumed.length, 1, JSON.stringify(callers));
      const key = assumed[0] as string;
      assert.deepEqual(callers[key], { 'sqs:GetQueueAttributes': 3, 'sqs:GetQueueUrl': 2 });
      assert.deepEqual(callers.AKIASECRETKEY, { 'sts:AssumeRole': 1 });
      assert.deepEqual(callers.test, { 'sqs:GetQueueUrl': 1 });

      const roles = (await get('/roles')) as {
        sessions: Record<string, { roleArn: string; sourceAccessKeyId: string }>;
      };
      assert.equal(roles.sessions[key]?.roleArn, scaler);
      assert.equal(roles.sessions[key]?.sourceAccessKeyId, 'AKIASECRETKEY');
      assert.equal(h.sim.roleOfAccessKey(key), scaler);
      const byRole = (await get('/callers?by=role')) as Record<string, Record<string, number>>;
      assert.deepEqual(byRole[scaler], { 'sqs:GetQueueAttributes': 3, 'sqs:GetQueueUrl': 2 });
    } finally {
      sqs.destroy();
      await h.close();
    }
  });
});

describe('the journal of control-plane writes', () => {
  it('records each write with its time, the account it acted in and the key that assumed the role', async () => {
    const h = await startHarness({
      scenario: parseScenario({
        name: 'journal',
        functions: [{ name: 'fn' }],
        roles: [{ arn: 'arn:aws:iam::111122223333:role/writer' }],
      }),
    });
    const lambda = new LambdaClient({
      endpoint: h.server.url,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: fromTemporaryCredentials({
        masterCredentials: { accessKeyId: 'AKIAREPLICA1', secretAccessKey: 's' },
        params: { RoleArn: 'arn:aws:iam::111122223333:role/writer', RoleSessionName: 'replica' },
        clientConfig: { endpoint: h.server.url, region: 'us-east-1' },
      }),
    });
    try {
      await lambda.send(new GetFunctionCommand({ FunctionName: 'fn' }));
      await lambda.send(
        new PutFunctionConcurrencyCommand({ FunctionName: 'fn', ReservedConcurrentExecutions: 3 }),
      );
      const writes = (await (await fetch(`${h.server.url}/_awssim/writes`)).json()) as {
        op: string;
        account: string;
        sourceAccessKeyId: string;
        at: number;
      }[];
      assert.equal(writes.length, 1, JSON.stringify(writes));
      assert.equal(writes[0]?.op, 'lambda:PutFunctionConcurrency');
      assert.equal(writes[0]?.account, '111122223333');
      assert.equal(writes[0]?.sourceAccessKeyId, 'AKIAREPLICA1');
      assert.ok(Math.abs((writes[0]?.at ?? 0) - h.sim.now()) < 60_000);
    } finally {
      lambda.destroy();
      await h.close();
    }
  });
});

describe('roles at run time through the admin API', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => h.close());

  const post = (path: string, body: unknown, method = 'POST') =>
    fetch(`${h.server.url}/_awssim${path}`, { method, body: JSON.stringify(body) });

  it('adds a role that AssumeRole then accepts, removes it again, and refuses a malformed one', async () => {
    const role = 'arn:aws:iam::000000000000:role/late';
    const sts = stsClient(h.server.url, 'AKIALATE');
    try {
      await assert.rejects(
        sts.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'a1' })),
        stsFails('AccessDenied', 403),
      );
      const added = await post('/roles', { arn: role, externalId: 'xid-1' });
      assert.equal(added.status, 200);
      assert.deepEqual(((await added.json()) as { roles: unknown[] }).roles, [
        { arn: role, externalId: 'xid-1', maxSessionDuration: 3600 },
      ]);
      const ok = await sts.send(
        new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'a1', ExternalId: 'xid-1' }),
      );
      assert.ok(ok.Credentials?.AccessKeyId?.startsWith('ASIA'));

      const bad = await post('/roles', [{ arn: 'arn:aws:iam::0:user/x' }]);
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { error: string }).error, /^\[0\]\.arn: must be an IAM role ARN/);

      const del = await fetch(`${h.server.url}/_awssim/roles?arn=${encodeURIComponent(role)}`, {
        method: 'DELETE',
      });
      assert.equal(del.status, 200);
      await assert.rejects(
        sts.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'a2', ExternalId: 'xid-1' })),
        stsFails('AccessDenied', 403),
      );
    } finally {
      sts.destroy();
    }
  });
});

describe('scenario roles', () => {
  it('refuses a malformed role ARN, a bad external id and a duplicate role, naming the field', () => {
    const cases: [unknown, RegExp][] = [
      [[{ arn: 'arn:aws:iam::000000000000:user/me' }], /^roles\[0\]\.arn: must be an IAM role ARN/],
      [[{ arn: scaler, externalId: 'x' }], /^roles\[0\]\.externalId: must be 2–1224 characters/],
      [[{ arn: scaler, maxSessionDuration: 60 }], /^roles\[0\]\.maxSessionDuration: /],
      [[{ arn: scaler }, { arn: scaler }], /^roles\[1\]\.arn: role ".*" is declared twice$/],
      [[{ arn: scaler, trust: 'x' }], /^roles\[0\]: /],
    ];
    for (const [roles, issue] of cases)
      assert.throws(
        () => parseScenario({ name: 'x', roles }),
        (e: unknown) => {
          assert.ok(e instanceof ScenarioError);
          assert.equal(e.issues.length, 1, e.message);
          assert.match(e.issues[0] as string, issue);
          return true;
        },
      );
  });
});
