// Every Lambda operation awssim serves, through the real AWS SDK v3 client over HTTP, with AWS's
// validation and quotas surfacing as the SDK's typed exceptions.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  DeleteEventSourceMappingCommand,
  DeleteFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  DeleteProvisionedConcurrencyConfigCommand,
  GetAccountSettingsCommand,
  GetEventSourceMappingCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  GetProvisionedConcurrencyConfigCommand,
  InvalidParameterValueException,
  LambdaServiceException,
  ListEventSourceMappingsCommand,
  ListFunctionsCommand,
  ProvisionedConcurrencyConfigNotFoundException,
  PutFunctionConcurrencyCommand,
  PutProvisionedConcurrencyConfigCommand,
  ResourceConflictException,
  ResourceNotFoundException,
  TooManyRequestsException,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { type Harness, startHarness } from '../testing/harness.ts';

const role = 'arn:aws:iam::000000000000:role/test';
const code = { ZipFile: new Uint8Array([80, 75, 5, 6]) };

describe('Lambda over REST-JSON', () => {
  let h: Harness;
  before(async () => {
    // Generous quotas so only the quota test meets the limiter.
    h = await startHarness({ params: { controlPlaneRps: 1000, getFunctionRps: 1000 } });
    await h.sqs.send(new CreateQueueCommand({ QueueName: 'events' }));
    await h.lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'worker',
        Role: role,
        Runtime: 'nodejs22.x',
        Handler: 'i.h',
        Code: code,
      }),
    );
  });
  after(async () => h.close());

  it('creates, gets, lists and rejects a duplicate function', async () => {
    const got = await h.lambda.send(new GetFunctionCommand({ FunctionName: 'worker' }));
    assert.equal(got.Configuration?.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:worker');
    assert.equal(typeof got.Configuration?.LastModified, 'string');
    assert.equal(got.Concurrency, undefined);
    const byArn = await h.lambda.send(
      new GetFunctionCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:worker' }),
    );
    assert.equal(byArn.Configuration?.FunctionName, 'worker');
    const list = await h.lambda.send(new ListFunctionsCommand({}));
    assert.deepEqual(
      list.Functions?.map((f) => f.FunctionName),
      ['worker'],
    );
    await assert.rejects(
      h.lambda.send(new CreateFunctionCommand({ FunctionName: 'worker', Role: role, Code: code })),
      ResourceConflictException,
    );
    await assert.rejects(h.lambda.send(new GetFunctionCommand({ FunctionName: 'ghost' })), (e: unknown) => {
      assert.ok(e instanceof ResourceNotFoundException);
      assert.equal(e.message, 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:ghost');
      return true;
    });
  });

  it('puts, reads (also through GetFunction) and deletes reserved concurrency', async () => {
    const put = await h.lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: 'worker', ReservedConcurrentExecutions: 40 }),
    );
    assert.equal(put.ReservedConcurrentExecutions, 40);
    assert.equal(
      (await h.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'worker' })))
        .ReservedConcurrentExecutions,
      40,
    );
    assert.equal(
      (await h.lambda.send(new GetFunctionCommand({ FunctionName: 'worker' }))).Concurrency
        ?.ReservedConcurrentExecutions,
      40,
    );
    const acct = await h.lambda.send(new GetAccountSettingsCommand({}));
    assert.equal(acct.AccountLimit?.ConcurrentExecutions, 1000);
    assert.equal(acct.AccountLimit?.UnreservedConcurrentExecutions, 960);
    await h.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'worker' }));
    assert.equal(
      (await h.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'worker' })))
        .ReservedConcurrentExecutions,
      undefined,
    );
  });

  it('refuses a reservation that leaves fewer than 100 unreserved, in AWS words', async () => {
    await assert.rejects(
      h.lambda.send(
        new PutFunctionConcurrencyCommand({ FunctionName: 'worker', ReservedConcurrentExecutions: 901 }),
      ),
      (e: unknown) => {
        assert.ok(e instanceof InvalidParameterValueException);
        assert.equal(
          e.message,
          "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].",
        );
        return true;
      },
    );
    const ok = await h.lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: 'worker', ReservedConcurrentExecutions: 900 }),
    );
    assert.equal(ok.ReservedConcurrentExecutions, 900);
    await h.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'worker' }));
  });

  describe('provisioned mode (ProvisionedPollerConfig)', () => {
    const arn = 'arn:aws:sqs:us-east-1:000000000000:provisioned';
    before(async () => {
      await h.sqs.send(new CreateQueueCommand({ QueueName: 'provisioned' }));
    });
    const isValidation = (e: unknown): boolean =>
      e instanceof LambdaServiceException && e.name === 'ValidationException';

    it('creates, reads, changes and turns off provisioned mode, filling in the SQS defaults', async () => {
      const created = await h.lambda.send(
        new CreateEventSourceMappingCommand({
          FunctionName: 'worker',
          EventSourceArn: arn,
          ProvisionedPollerConfig: { MinimumPollers: 3, MaximumPollers: 50 },
        }),
      );
      const uuid = created.UUID as string;
      assert.deepEqual(created.ProvisionedPollerConfig, { MinimumPollers: 3, MaximumPollers: 50 });
      const got = await h.lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));
      assert.deepEqual(got.ProvisionedPollerConfig, { MinimumPollers: 3, MaximumPollers: 50 });
      assert.equal(got.ScalingConfig, undefined);
      const upd = await h.lambda.send(
        new UpdateEventSourceMappingCommand({ UUID: uuid, ProvisionedPollerConfig: { MinimumPollers: 4 } }),
      );
      assert.deepEqual(upd.ProvisionedPollerConfig, { MinimumPollers: 4, MaximumPollers: 200 });
      await h.lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, ProvisionedPollerConfig: {} }));
      const off = await h.lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));
      assert.equal(off.ProvisionedPollerConfig, undefined);
      await h.lambda.send(new DeleteEventSourceMappingCommand({ UUID: uuid }));
    });

    const refused = {
      'MinimumPollers 0 (outside the shape: 1–200)': {
        config: { MinimumPollers: 0 },
        check: (e: unknown) =>
          isValidation(e) &&
          /Value '0' at 'provisionedPollerConfig.minimumPollers' failed to satisfy constraint: Member must have value greater than or equal to 1/.test(
            (e as Error).message,
          ),
      },
      'MinimumPollers 201': {
        config: { MinimumPollers: 201 },
        check: (e: unknown) => isValidation(e) && /less than or equal to 200/.test((e as Error).message),
      },
      'MaximumPollers 10,001 (outside the shape: 1–10,000)': {
        config: { MaximumPollers: 10_001 },
        check: (e: unknown) =>
          isValidation(e) &&
          /'provisionedPollerConfig.maximumPollers'.*less than or equal to 10000/.test((e as Error).message),
      },
      'MinimumPollers 1 (SQS needs at least 2)': {
        config: { MinimumPollers: 1 },
        check: (e: unknown) => e instanceof InvalidParameterValueException && /at least 2/.test(e.message),
      },
      'MinimumPollers above MaximumPollers': {
        config: { MinimumPollers: 10, MaximumPollers: 5 },
        check: (e: unknown) => e instanceof InvalidParameterValueException,
      },
    } satisfies Record<
      string,
      { config: { MinimumPollers?: number; MaximumPollers?: number }; check: (e: unknown) => boolean }
    >;
    for (const [name, c] of Object.entries(refused))
      it(`refuses ${name}`, async () => {
        await assert.rejects(
          h.lambda.send(
            new CreateEventSourceMappingCommand({
              FunctionName: 'worker',
              EventSourceArn: arn,
              ProvisionedPollerConfig: c.config,
            }),
          ),
          c.check,
        );
      });

    it("accepts MaximumPollers 10,000, the newest API reference's SQS maximum", async () => {
      const created = await h.lambda.send(
        new CreateEventSourceMappingCommand({
          FunctionName: 'worker',
          EventSourceArn: arn,
          ProvisionedPollerConfig: { MaximumPollers: 10_000 },
        }),
      );
      assert.deepEqual(created.ProvisionedPollerConfig, { MinimumPollers: 2, MaximumPollers: 10_000 });
      await h.lambda.send(new DeleteEventSourceMappingCommand({ UUID: created.UUID as string }));
    });

    it('refuses provisioned mode together with ScalingConfig.MaximumConcurrency, on create and on update', async () => {
      await assert.rejects(
        h.lambda.send(
          new CreateEventSourceMappingCommand({
            FunctionName: 'worker',
            EventSourceArn: arn,
            ScalingConfig: { MaximumConcurrency: 10 },
            ProvisionedPollerConfig: { MinimumPollers: 2 },
          }),
        ),
        (e: unknown) => e instanceof InvalidParameterValueException && /mutually exclusive/.test(e.message),
      );
      const created = await h.lambda.send(
        new CreateEventSourceMappingCommand({
          FunctionName: 'worker',
          EventSourceArn: arn,
          ScalingConfig: { MaximumConcurrency: 10 },
        }),
      );
      const uuid = created.UUID as string;
      await assert.rejects(
        h.lambda.send(
          new UpdateEventSourceMappingCommand({ UUID: uuid, ProvisionedPollerConfig: { MinimumPollers: 2 } }),
        ),
        InvalidParameterValueException,
      );
      const switched = await h.lambda.send(
        new UpdateEventSourceMappingCommand({
          UUID: uuid,
          ScalingConfig: {},
          ProvisionedPollerConfig: { MinimumPollers: 2 },
        }),
      );
      assert.equal(switched.ScalingConfig, undefined);
      assert.deepEqual(switched.ProvisionedPollerConfig, { MinimumPollers: 2, MaximumPollers: 200 });
      await h.lambda.send(new DeleteEventSourceMappingCommand({ UUID: uuid }));
    });
  });

  it('manages event source mappings with AWS validation', async () => {
    const created = await h.lambda.send(
      new CreateEventSourceMappingCommand({
        FunctionName: 'worker',
        EventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:events',
        BatchSize: 5,
        ScalingConfig: { MaximumConcurrency: 4 },
      }),
    );
    assert.equal(created.State, 'Creating');
    assert.ok(created.LastModified instanceof Date);
    const uuid = created.UUID as string;
    const got = await h.lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));
    assert.equal(got.State, 'Enabled');
    assert.equal(got.ScalingConfig?.MaximumConcurrency, 4);
    await assert.rejects(
      h.lambda.send(
        new CreateEventSourceMappingCommand({
          FunctionName: 'worker',
          EventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:events',
        }),
      ),
      ResourceConflictException,
    );
    await assert.rejects(
      h.lambda.send(
        new UpdateEventSourceMappingCommand({ UUID: uuid, ScalingConfig: { MaximumConcurrency: 1 } }),
      ),
      (e: unknown) => e instanceof LambdaServiceException && e.name === 'ValidationException',
    );
    await assert.rejects(
      h.lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, BatchSize: 100 })),
      InvalidParameterValueException,
    );
    const upd = await h.lambda.send(
      new UpdateEventSourceMappingCommand({
        UUID: uuid,
        Enabled: false,
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: 2,
      }),
    );
    assert.equal(upd.BatchSize, 100);
    assert.equal((await h.lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }))).State, 'Disabled');
    const list = await h.lambda.send(new ListEventSourceMappingsCommand({ FunctionName: 'worker' }));
    assert.deepEqual(
      list.EventSourceMappings?.map((e) => e.UUID),
      [uuid],
    );
    const del = await h.lambda.send(new DeleteEventSourceMappingCommand({ UUID: uuid }));
    assert.equal(del.State, 'Deleting');
    await assert.rejects(
      h.lambda.send(new GetEventSourceMappingCommand({ UUID: uuid })),
      ResourceNotFoundException,
    );
    await assert.rejects(
      h.lambda.send(
        new CreateEventSourceMappingCommand({
          FunctionName: 'ghost',
          EventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:events',
        }),
      ),
      ResourceNotFoundException,
    );
  });

  it('manages provisioned concurrency on a qualifier', async () => {
    const put = await h.lambda.send(
      new PutProvisionedConcurrencyConfigCommand({
        FunctionName: 'worker',
        Qualifier: 'live',
        ProvisionedConcurrentExecutions: 3,
      }),
    );
    assert.equal(put.Status, 'IN_PROGRESS');
    const got = await h.lambda.send(
      new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'worker', Qualifier: 'live' }),
    );
    assert.equal(got.Status, 'READY');
    assert.equal(got.AllocatedProvisionedConcurrentExecutions, 3);
    await assert.rejects(
      h.lambda.send(
        new PutProvisionedConcurrencyConfigCommand({
          FunctionName: 'worker',
          Qualifier: '$LATEST',
          ProvisionedConcurrentExecutions: 1,
        }),
      ),
      InvalidParameterValueException,
    );
    await h.lambda.send(
      new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: 'worker', Qualifier: 'live' }),
    );
    await assert.rejects(
      h.lambda.send(
        new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'worker', Qualifier: 'live' }),
      ),
      ProvisionedConcurrencyConfigNotFoundException,
    );
  });

  it('deletes functions', async () => {
    await h.lambda.send(new CreateFunctionCommand({ FunctionName: 'doomed', Role: role, Code: code }));
    await h.lambda.send(new DeleteFunctionCommand({ FunctionName: 'doomed' }));
    await assert.rejects(
      h.lambda.send(new DeleteFunctionCommand({ FunctionName: 'doomed' })),
      ResourceNotFoundException,
    );
  });
});

describe('Lambda control-plane quotas', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await h.lambda.send(new CreateFunctionCommand({ FunctionName: 'f', Role: role, Code: code }));
  });
  after(async () => h.close());

  it('throttles the shared 15/s bucket with 429 TooManyRequestsException and Retry-After', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, () =>
        h.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'f' })),
      ),
    );
    const throttled = results.filter((r) => r.status === 'rejected');
    assert.ok(throttled.length >= 14, `expected ≥14 throttled of 30, got ${throttled.length}`);
    const e = (throttled[0] as PromiseRejectedResult).reason;
    assert.ok(e instanceof TooManyRequestsException);
    assert.equal(e.$metadata.httpStatusCode, 429);
    assert.equal(e.retryAfterSeconds, '1');
    assert.equal(e.Reason, 'CallerRateLimitExceeded');
  });

  it('gives GetFunction its own 100/s bucket, untouched by the shared one', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () => h.lambda.send(new GetFunctionCommand({ FunctionName: 'f' }))),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 50);
  });
});
