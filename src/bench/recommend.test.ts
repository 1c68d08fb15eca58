import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSpec } from '../api/v1alpha1/index.ts';
import { candidates, choose, type Outcome, originalSettings } from './recommend.ts';

const parsed = parseSpec({
  awsSQSName: 'orders',
  awsSQSMsgCountThreshold: 1000,
  awsLambdaName: 'order-processor',
  awsLambdaMinConcurrency: 10,
  awsLamndaMaxConcurrency: 100,
  awsLambdaStepConcurrency: 5,
  region: 'eu-west-1',
  policy: { type: 'TargetTracking', targetTracking: { targetBacklogPerConcurrency: 10 } },
});
if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
const current = parsed.spec;

const outcome = (label: string, pctOverSlo: number, capacityHours: number, dlqMoves = 0): Outcome => ({
  label,
  spec: current,
  pctOverSlo,
  capacityHours,
  dlqMoves,
});

describe('candidates', () => {
  it('keeps the bounds, identity and Region, and every one is a spec the API server admits', () => {
    const all = candidates(current, 60);
    assert.equal(all.length, 36);
    assert.equal(all.filter((c) => c.spec.policy?.latencySLO?.serviceTimeSource === 'CloudWatch').length, 18);
    assert.equal(candidates(current, 60, ['QueueCounts']).length, 18, 'without CloudWatch reads');
    for (const c of all) {
      assert.equal(parseSpec(c.spec).ok, true, c.label);
      assert.equal(c.spec.awsLambdaMinConcurrency, 10);
      assert.equal(c.spec.awsLamndaMaxConcurrency, 100);
      assert.equal(c.spec.region, 'eu-west-1');
      assert.equal(c.spec.policy?.type, 'LatencySLO');
    }
    assert.deepEqual([...new Set(all.map((c) => c.spec.policy?.latencySLO?.maxWaitSeconds))], [15, 30, 45]);
  });
});

describe('choose', () => {
  const cases = {
    'the least capacity among those within half a point of the fewest violations': {
      outcomes: [outcome('a', 0.0, 50), outcome('b', 0.4, 40), outcome('c', 0.6, 30)],
      best: 'b',
    },
    'nothing that loses messages to the DLQ when something does not': {
      outcomes: [outcome('cheap-but-lossy', 0.0, 10, 3), outcome('safe', 2.0, 60)],
      best: 'safe',
    },
    'the fewest violations when every setting loses messages': {
      outcomes: [outcome('a', 5.0, 10, 3), outcome('b', 1.0, 90, 1)],
      best: 'b',
    },
    'fewer violations between equal capacities': {
      outcomes: [outcome('a', 0.3, 40), outcome('b', 0.1, 40)],
      best: 'b',
    },
  } satisfies Record<string, { outcomes: Outcome[]; best: string }>;
  for (const [name, c] of Object.entries(cases))
    it(`picks ${name}`, () => assert.equal(choose(c.outcomes).best.label, c.best));

  it('says why', () => {
    assert.match(
      choose([outcome('a', 0.0, 50), outcome('b', 0.4, 40, 2)]).why,
      /1 of 2 settings lost no message to the DLQ; of those, 1 were within 0.5 points/,
    );
  });
});

describe('originalSettings', () => {
  it("keeps only the original operator's six fields", () => {
    assert.deepEqual(Object.keys(originalSettings(current)).sort(), [
      'awsLambdaMinConcurrency',
      'awsLambdaName',
      'awsLambdaStepConcurrency',
      'awsLamndaMaxConcurrency',
      'awsSQSMsgCountThreshold',
      'awsSQSName',
    ]);
  });
});
