// The CloudWatch store and its two read operations in model terms: minutes combined into longer
// periods, StartTime rounded down to the minute, only published minutes, and AWS's refusals.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloudWatchView, getMetricData, getMetricStatistics, type SeriesKey } from './cloudwatch.ts';
import { AwsApiError } from './errors.ts';

const visible: SeriesKey = {
  namespace: 'AWS/SQS',
  metric: 'ApproximateNumberOfMessagesVisible',
  dimension: { name: 'QueueName', value: 'q' },
};
const sent: SeriesKey = { ...visible, metric: 'NumberOfMessagesSent' };
const now = 100 * 60_000;

/** Minutes 0..9: visible samples 10·m and 10·m + 2 (average 10·m + 1), sent m per minute; published at once. */
function store(): CloudWatchView {
  const v = new CloudWatchView();
  for (let m = 0; m < 10; m++) {
    v.add(visible, 10 * m);
    v.add(visible, 10 * m + 2);
    v.add(sent, m);
    v.closeMinute(m * 60_000, { delayMs: () => 0, notBefore: () => 0 });
  }
  return v;
}

const query = (period: number, stat: string) => ({
  id: 'a',
  metricStat: {
    namespace: 'AWS/SQS',
    metricName: visible.metric,
    dimensions: [{ name: 'QueueName', value: 'q' }],
    period,
    stat,
  },
});

describe('GetMetricData in the model', () => {
  it('combines minutes into the period: average of every sample, sum of counters', () => {
    const [r] = getMetricData(store(), now, { queries: [query(300, 'Average')], start: 0, end: 600_000 });
    assert.deepEqual(r?.timestamps, [300_000, 0], 'newest first by default');
    assert.deepEqual(r?.values, [71, 21]);
    const [s] = getMetricData(store(), now, {
      queries: [
        { ...query(300, 'Sum'), metricStat: { ...query(300, 'Sum').metricStat, metricName: sent.metric } },
      ],
      start: 0,
      end: 600_000,
      scanBy: 'TimestampAscending',
    });
    assert.deepEqual(s?.values, [0 + 1 + 2 + 3 + 4, 5 + 6 + 7 + 8 + 9]);
  });

  it('rounds StartTime down to the minute and leaves out minutes not yet published', () => {
    const [r] = getMetricData(store(), 3 * 60_000 + 59_000, {
      queries: [query(60, 'Maximum')],
      start: 61_000,
      end: 600_000,
      scanBy: 'TimestampAscending',
    });
    assert.deepEqual(r?.timestamps, [60_000, 120_000], 'minute 3 ends at 4:00 and is not published yet');
    assert.deepEqual(r?.values, [12, 22]);
  });

  it('answers an unknown series with no datapoints', () => {
    const q = query(60, 'Sum');
    const [r] = getMetricData(store(), now, {
      queries: [
        { ...q, metricStat: { ...q.metricStat, dimensions: [{ name: 'QueueName', value: 'nope' }] } },
      ],
      start: 0,
      end: now,
    });
    assert.deepEqual(r?.values, []);
  });

  const refused = {
    'a period that is not a multiple of 60': {
      run: () => getMetricData(store(), now, { queries: [query(90, 'Sum')], start: 0, end: now }),
      code: 'InvalidParameterValueException',
    },
    'a percentile': {
      run: () => getMetricData(store(), now, { queries: [query(60, 'p99')], start: 0, end: now }),
      code: 'InvalidParameterValueException',
    },
    'metric math': {
      run: () =>
        getMetricData(store(), now, {
          queries: [{ id: 'e', expression: 'SUM(METRICS())' }],
          start: 0,
          end: now,
        }),
      code: 'InvalidParameterValueException',
    },
    'EndTime before StartTime': {
      run: () => getMetricData(store(), now, { queries: [query(60, 'Sum')], start: now, end: 0 }),
      code: 'InvalidParameterValueException',
    },
    'more than 1,440 datapoints': {
      run: () =>
        getMetricStatistics(store(), now, {
          namespace: 'AWS/SQS',
          metricName: visible.metric,
          dimensions: [],
          start: 0,
          end: 1441 * 60_000,
          period: 60,
          statistics: ['Sum'],
          extendedStatistics: [],
        }),
      code: 'InvalidParameterCombinationException',
    },
  } satisfies Record<string, { run: () => unknown; code: string }>;
  for (const [name, c] of Object.entries(refused))
    it(`refuses ${name}`, () => {
      assert.throws(c.run, (e: unknown) => e instanceof AwsApiError && e.code === c.code && e.status === 400);
    });
});
