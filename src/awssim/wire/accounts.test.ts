// Several accounts in one awssim, through the real SDK clients: a role's account picks the queues,
// functions and mappings a caller sees, the control-plane budget it spends and the concurrency pool
// it draws on; another account's URLs and ARNs are refused; an undeclared account is awssim's own.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  GetAccountSettingsCommand,
  GetFunctionCommand,
  LambdaClient,
  LambdaServiceException,
  ListEventSourceMappingsCommand,
  PutFunctionConcurrencyCommand,
} from '@aws-sdk/client-lambda';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  QueueDoesNotExist,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { parseAccount, parseScenario, ScenarioError } from '../scenario.ts';
import { createSimulation } from '../simulation.ts';
import { type Harness, startHarness } from '../testing/harness.ts';

const A = '111111111111';
const B = '222222222222';
const role = (account: string) => `arn:aws:iam::${account}:role/scaler`;
const holding = (queue: string, fn: string) => ({
  queues: [{ name: queue }],
  functions: [{ name: fn }],
  eventSourceMappings: [{ function: fn, queue }],
});
const scenario = parseScenario({
  name: 'accounts',
  account: { controlPlaneRps: 3 },
  ...holding('orders', 'worker'),
  roles: [{ arn: role(A) }, { arn: role(B) }, { arn: role('333333333333') }],
  accounts: [
    { id: A, concurrency: 300, ...holding('orders', 'worker') },
    { id: B, ...holding('payments', 'payer') },
  ],
});

/** SQS, Lambda and STS clients acting as `credentials`. */
function clients(
  endpoint: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
) {
  const config = { endpoint, region: 'us-east-1', credentials, maxAttempts: 1 };
  return { sqs: new SQSClient(config), lambda: new LambdaClient(config), sts: new STSClient(config) };
}

/** Clients acting as the role of `account`, with credentials from AssumeRole. */
async function as(h: Harness, account: string) {
  const base = clients(h.server.url, { accessKeyId: 'AKIABASE', secretAccessKey: 'secret' });
  const out = await base.sts.send(new AssumeRoleCommand({ RoleArn: role(account), RoleSessionName: 'test' }));
  const c = out.Credentials;
  return clients(h.server.url, {
    accessKeyId: c?.AccessKeyId ?? '',
    secretAccessKey: c?.SecretAccessKey ?? '',
    sessionToken: c?.SessionToken ?? '',
  });
}

/** Asserts a Lambda error as the SDK raises it. */
const lambdaFails =
  (name: string, status: number) =>
  (e: unknown): boolean => {
    assert.ok(e instanceof LambdaServiceException, String(e));
    assert.equal(e.name, name);
    assert.equal(e.$metadata.httpStatusCode, status);
    return true;
  };

describe('several accounts in one awssim', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ scenario });
  });
  after(async () => {
    await h.close();
  });

  it("shows a role only its own account's queues, functions and mappings, with URLs and ARNs naming it", async () => {
    const a = await as(h, A);
    const b = await as(h, B);

    const me = await a.sts.send(new GetCallerIdentityCommand({}));
    const url = (await a.sqs.send(new GetQueueUrlCommand({ QueueName: 'orders' }))).QueueUrl ?? '';
    const arn = await a.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
    );
    const fn = await a.lambda.send(new GetFunctionCommand({ FunctionName: 'worker' }));
    const mappings = await a.lambda.send(new ListEventSourceMappingsCommand({}));
    const bQueues = await b.sqs.send(new ListQueuesCommand({}));

    assert.equal(me.Account, A);
    assert.equal(url, `${h.server.url}/${A}/orders`);
    assert.equal(arn.Attributes?.QueueArn, `arn:aws:sqs:us-east-1:${A}:orders`);
    assert.equal(fn.Configuration?.FunctionArn, `arn:aws:lambda:us-east-1:${A}:function:worker`);
    assert.deepEqual(
      mappings.EventSourceMappings?.map((m) => [
        m.EventSourceArn,
        m.FunctionArn,
        m.EventSourceMappingArn?.split(':')[4],
      ]),
      [[`arn:aws:sqs:us-east-1:${A}:orders`, `arn:aws:lambda:us-east-1:${A}:function:worker`, A]],
    );
    assert.deepEqual(bQueues.QueueUrls, [`${h.server.url}/${B}/payments`]);
    const reads = async (account: string) =>
      (await (await fetch(`${h.server.url}/_awssim/reads?account=${account}`)).json()) as Record<
        string,
        number[]
      >;
    assert.equal((await reads(A)).orders?.length, 1, "the read is in A's queue");
    assert.deepEqual(
      (await reads('000000000000')).orders,
      [],
      "awssim's own queue of that name was not read",
    );
    await assert.rejects(b.sqs.send(new GetQueueUrlCommand({ QueueName: 'orders' })), QueueDoesNotExist);
    await assert.rejects(
      b.lambda.send(new GetFunctionCommand({ FunctionName: 'worker' })),
      lambdaFails('ResourceNotFoundException', 404),
    );
  });

  it("refuses another account's queue URL and function ARN, and leaves its function alone", async () => {
    const b = await as(h, B);
    const foreignFn = `arn:aws:lambda:us-east-1:${A}:function:worker`;

    await assert.rejects(
      b.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: `${h.server.url}/${A}/orders`, AttributeNames: ['All'] }),
      ),
      QueueDoesNotExist,
    );
    await assert.rejects(
      b.lambda.send(new GetFunctionCommand({ FunctionName: foreignFn })),
      lambdaFails('AccessDeniedException', 403),
    );
    await assert.rejects(
      b.lambda.send(
        new PutFunctionConcurrencyCommand({ FunctionName: foreignFn, ReservedConcurrentExecutions: 7 }),
      ),
      lambdaFails('AccessDeniedException', 403),
    );

    assert.equal(h.sim.worldOf(A).functions.get('worker')?.reserved, undefined);
    assert.deepEqual(
      h.sim.world.sts.writes().filter((w) => w.account !== B),
      [],
      'no write reached another account',
    );
  });

  it("serves a role of an account nobody declared from awssim's own account, as a single-account awssim does", async () => {
    const c = await as(h, '333333333333');

    const url = (await c.sqs.send(new GetQueueUrlCommand({ QueueName: 'orders' }))).QueueUrl;

    assert.equal(url, `${h.server.url}/000000000000/orders`);
  });
});

describe('budgets and pools per account', () => {
  it('gives each account its own control-plane budget and its own concurrency pool', async () => {
    // Virtual time stands still: no bucket refills between calls, so each budget is exactly 3 calls
    // (awssim's own quota, which the declared accounts inherit).
    const h = await startHarness({ scenario, clock: 'virtual' });
    try {
      const a = await as(h, A);
      const b = await as(h, B);
      const own = clients(h.server.url, { accessKeyId: 'AKIAOWN', secretAccessKey: 'secret' });
      const settings = (c: ReturnType<typeof clients>) =>
        c.lambda.send(new GetAccountSettingsCommand({})).then(
          (s) => `${s.AccountLimit?.ConcurrentExecutions}/${s.AccountLimit?.UnreservedConcurrentExecutions}`,
          (e: Error) => e.name,
        );

      await a.lambda.send(
        new PutFunctionConcurrencyCommand({ FunctionName: 'worker', ReservedConcurrentExecutions: 200 }),
      );
      const spentA = [await settings(a), await settings(a), await settings(a)];
      const spentB = [await settings(b), await settings(b), await settings(b), await settings(b)];
      const spentOwn = [await settings(own)];

      assert.deepEqual(spentA, ['300/100', '300/100', 'TooManyRequestsException']);
      assert.deepEqual(spentB, ['1000/1000', '1000/1000', '1000/1000', 'TooManyRequestsException']);
      assert.deepEqual(spentOwn, ['1000/1000']);
      assert.deepEqual(h.sim.report({ account: A }).apiCalls['lambda:GetAccountSettings'], {
        ok: 2,
        TooManyRequestsException: 1,
      });
      assert.equal(h.sim.report().apiCalls['lambda:GetAccountSettings']?.ok, 1);
    } finally {
      await h.close();
    }
  });
});

describe('declaring accounts', () => {
  it('through the admin API: the new account holds its entities, and its role sees them', async () => {
    const h = await startHarness({ scenario: parseScenario({ name: 'admin', roles: [{ arn: role(A) }] }) });
    try {
      const post = (body: unknown) =>
        fetch(`${h.server.url}/_awssim/accounts`, { method: 'POST', body: JSON.stringify(body) });

      const bad = await post({ id: '12345', queues: [] });
      const ok = await post({ id: A, concurrency: 500, ...holding('jobs', 'runner') });
      const listed = (await ok.json()) as { id: string; concurrency: number; queues: number }[];
      const a = await as(h, A);
      const fn = await a.lambda.send(new GetFunctionCommand({ FunctionName: 'runner' }));

      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /id: must be a 12-digit account id/);
      assert.deepEqual(
        listed.map((x) => [x.id, x.concurrency, x.queues]),
        [
          ['000000000000', 1000, 0],
          [A, 500, 1],
        ],
      );
      assert.equal(fn.Configuration?.FunctionArn, `arn:aws:lambda:us-east-1:${A}:function:runner`);
    } finally {
      await h.close();
    }
  });

  it("in a scenario: names checked per account, duplicates and awssim's own id refused", () => {
    const cases = {
      'a mapping to a queue of another account': {
        accounts: [
          { id: A, functions: [{ name: 'f' }], eventSourceMappings: [{ function: 'f', queue: 'q' }] },
        ],
        issue: /accounts\[0\]\.eventSourceMappings\[0\]\.queue: no queue named "q"/,
      },
      'one account declared twice': {
        accounts: [{ id: A }, { id: A }],
        issue: /accounts\[1\]\.id: account "111111111111" is declared twice/,
      },
      "awssim's own account": {
        accounts: [{ id: '000000000000' }],
        issue: /accounts\[0\]\.id: is awssim's own account/,
      },
    } satisfies Record<string, { accounts: unknown[]; issue: RegExp }>;
    for (const [name, c] of Object.entries(cases))
      assert.throws(
        () => parseScenario({ name: 'x', accounts: c.accounts }),
        (e: unknown) => e instanceof ScenarioError && c.issue.test(e.message),
        name,
      );
    assert.throws(() => parseAccount({ id: B, traffic: { ghost: [] } }), /traffic\.ghost: no queue named/);
  });

  it('replays per seed: the same mapping ids in every account, and the own account unchanged by others', () => {
    const uuids = (sc: ReturnType<typeof parseScenario>) => {
      const sim = createSimulation({ scenario: sc, seed: 5 });
      return sim.worlds().map((w) => [...w.esms.keys()]);
    };
    const alone = parseScenario({ name: 'alone', ...holding('orders', 'worker') });

    const first = uuids(scenario);
    const second = uuids(scenario);
    const single = uuids(alone);

    assert.deepEqual(first, second);
    assert.deepEqual(first[0], single[0]);
    assert.notDeepEqual(first[1], first[0]);
  });
});
