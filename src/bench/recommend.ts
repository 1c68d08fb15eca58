// The what-if recommender (`npm run simulate -- --recommend`): runs a small grid of LatencySLO settings
// within the user's own bounds against the user's own traffic, with the operator's own reconciler, and
// picks the one that holds the least capacity among those whose SLO violations are within half a point
// of the best and that lose nothing to the dead-letter queue. The grid and the rule are here; the runs
// are the caller's (src/cmd/simulate.ts).
import type { LambdaConcurrencyScalerSpec } from '../api/v1alpha1/index.ts';

export interface Candidate {
  label: string;
  spec: LambdaConcurrencyScalerSpec;
}

/** What a candidate did, means over the seeds run. */
export interface Outcome extends Candidate {
  pctOverSlo: number;
  capacityHours: number;
  dlqMoves: number;
}

/** Violations within this many points of the best count as as good. */
export const VIOLATION_SLACK_POINTS = 0.5;

/** The original operator's own six fields of `spec` (what it would run with). */
export function originalSettings(spec: LambdaConcurrencyScalerSpec): LambdaConcurrencyScalerSpec {
  return {
    awsSQSName: spec.awsSQSName,
    awsSQSMsgCountThreshold: spec.awsSQSMsgCountThreshold,
    awsLambdaName: spec.awsLambdaName,
    awsLambdaMinConcurrency: spec.awsLambdaMinConcurrency,
    ...(spec.awsLamndaMaxConcurrency === undefined
      ? {}
      : { awsLamndaMaxConcurrency: spec.awsLamndaMaxConcurrency }),
    ...(spec.awsLambdaMaxConcurrency === undefined
      ? {}
      : { awsLambdaMaxConcurrency: spec.awsLambdaMaxConcurrency }),
    awsLambdaStepConcurrency: spec.awsLambdaStepConcurrency,
  };
}

/**
 * The grid: LatencySLO waiting at most a quarter, half or three quarters of the SLO, at 70, 80 or 90 %
 * target utilization, with and without the mapping cap, with the service time from the function's
 * Duration in CloudWatch or from the queue's counts (`serviceTimeSources`; both by default) — all
 * within the user's bounds, identity, Region and lifecycle settings, which are kept as they are.
 */
export function candidates(
  current: LambdaConcurrencyScalerSpec,
  sloSeconds: number,
  serviceTimeSources: readonly ('CloudWatch' | 'QueueCounts')[] = ['CloudWatch', 'QueueCounts'],
): Candidate[] {
  const { policy: _p, behavior: _b, metrics: _m, eventSourceMapping: _e, ...kept } = current;
  const waits = [...new Set([0.25, 0.5, 0.75].map((f) => Math.max(1, Math.round(sloSeconds * f))))];
  const out: Candidate[] = [];
  for (const maxWaitSeconds of waits)
    for (const targetUtilizationPercent of [70, 80, 90])
      for (const cap of [true, false])
        for (const serviceTimeSource of serviceTimeSources)
          out.push({
            label: `LatencySLO wait ${maxWaitSeconds}s, ${targetUtilizationPercent}%${cap ? ', ESM cap' : ''}${serviceTimeSource === 'CloudWatch' ? ', Duration' : ''}`,
            spec: {
              ...kept,
              policy: {
                type: 'LatencySLO',
                latencySLO: {
                  maxWaitSeconds,
                  targetUtilizationPercent,
                  ...(serviceTimeSource === 'CloudWatch' ? { serviceTimeSource } : {}),
                },
              },
              ...(cap ? { eventSourceMapping: { manageMaximumConcurrency: true } } : {}),
            },
          });
  return out;
}

/**
 * The candidate to recommend: none lost to the DLQ if any can do that, violations within
 * VIOLATION_SLACK_POINTS of the best of those, then the least capacity (then fewer violations).
 * Returns it with the sentence that says why.
 */
export function choose(outcomes: readonly Outcome[]): { best: Outcome; why: string } {
  if (outcomes.length === 0) throw new Error('no candidate to choose from');
  const clean = outcomes.filter((o) => o.dlqMoves === 0);
  const pool = clean.length > 0 ? clean : outcomes;
  const bestViolations = Math.min(...pool.map((o) => o.pctOverSlo));
  const eligible = pool.filter((o) => o.pctOverSlo <= bestViolations + VIOLATION_SLACK_POINTS);
  const best = [...eligible].sort(
    (a, b) => a.capacityHours - b.capacityHours || a.pctOverSlo - b.pctOverSlo,
  )[0] as Outcome;
  const dlq =
    clean.length > 0
      ? `${clean.length} of ${outcomes.length} settings lost no message to the DLQ`
      : `every setting lost messages to the DLQ; the fewest violations win`;
  const why = `${dlq}; of those, ${eligible.length} were within ${VIOLATION_SLACK_POINTS} points of the fewest SLO violations (${bestViolations.toFixed(2)}%), and this one holds the least capacity`;
  return { best, why };
}
