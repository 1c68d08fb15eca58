// The Lambda adapter's UpdateEventSourceMapping against awssim's HTTP endpoint: sets and removes a
// mapping's MaximumConcurrency, spends the shared control-plane bucket, and classifies refusals.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseScenario } from '../awssim/scenario.ts';
import { type Harness, startHarness } from '../awssim/testing/harness.ts';
import { ManualClock } from '../runtime/clock.ts';
import { AwsError } from './errors.ts';
import { TokenBucket } from './limiter.ts';
import { LambdaFunctions } from './sdk.ts';

describe('LambdaFunctions.updateEventSourceMaximumConcurrency against awssim', () => {
  let h: Harness;
  let functions: LambdaFunctions;
  before(async () => {
    h = await startHarness({
      scenario: parseScenario({
        name: 'cap',
        queues: [{ name: 'orders' }],
        functions: [{ name: 'worker' }],
        eventSourceMappings: [{ function: 'worker', queue: 'orders', batchSize: 10 }],
      }),
    });
    const clock = new ManualClock(0);
    functions = new LambdaFunctions(
      h.lambda,
      {
        controlPlane: new TokenBucket({ ratePerSecond: 10, clock }),
        getFunction: new TokenBucket({ ratePerSecond: 50, clock }),
      },
      { now: () => 0 },
    );
  });
  after(() => h?.close());

  it('sets the cap, removes it with an empty ScalingConfig, and refuses values AWS refuses', async () => {
    const [mapping] = await functions.eventSources('worker');
    assert.ok(mapping !== undefined);
    assert.equal(mapping.maximumConcurrency, undefined);
    const calls = () => h.sim.report().apiCalls['lambda:UpdateEventSourceMapping']?.ok ?? 0;

    await functions.updateEventSourceMaximumConcurrency(mapping.uuid, 7);
    assert.equal((await functions.eventSources('worker'))[0]?.maximumConcurrency, 7);
    assert.equal(h.sim.world.esm(mapping.uuid).maximumConcurrency, 7);

    await functions.updateEventSourceMaximumConcurrency(mapping.uuid, undefined);
    assert.equal((await functions.eventSources('worker'))[0]?.maximumConcurrency, undefined);
    assert.equal(calls(), 2);

    await assert.rejects(functions.updateEventSourceMaximumConcurrency(mapping.uuid, 1), AwsError);
    await assert.rejects(
      functions.updateEventSourceMaximumConcurrency('00000000-0000-0000-0000-000000000000', 5),
      (e: unknown) => e instanceof AwsError && e.awsName === 'ResourceNotFoundException',
    );
  });
});
