// The engine's history as it is stored: a fresh one, and a tolerant reader for what comes back out
// of `status.policyState` (which a user, an old version or a bug may have left in any shape).
import { initialLatencyEstimates } from './latency-slo.ts';
import type { LatencyEstimates, PolicyState, RecommendationSample, ScaleEvent } from './types.ts';

/** The history of a scaler that has never decided anything. */
export function initialPolicyState(): PolicyState {
  return {
    version: 1,
    recommendations: [],
    scaleEvents: [],
    lastScaleTime: null,
    metricFailures: 0,
    idleSince: null,
    latency: null,
  };
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isNumOrNull = (v: unknown): v is number | null => v === null || isNum(v);
const isTuple = (v: unknown, n: number): v is number[] =>
  Array.isArray(v) && v.length === n && v.every(isNum);

function readLatency(v: unknown): LatencyEstimates | null {
  if (v === null || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  const fresh = initialLatencyEstimates();
  if (!(o.last === null || isTuple(o.last, 5))) return fresh;
  if (!Array.isArray(o.samples) || !o.samples.every((s) => isTuple(s, 3))) return fresh;
  if (!isNumOrNull(o.throughputPerUnit) || !isNumOrNull(o.arrivalRate) || !isNumOrNull(o.inFlightSeconds)) {
    return fresh;
  }
  return {
    last: o.last as LatencyEstimates['last'],
    samples: o.samples as LatencyEstimates['samples'],
    throughputPerUnit: o.throughputPerUnit,
    arrivalRate: o.arrivalRate,
    inFlightSeconds: o.inFlightSeconds,
    calmPolls: isNum(o.calmPolls) ? o.calmPolls : 0,
    spell: isTuple(o.spell, 3) ? (o.spell as [number, number, number]) : null,
    anchored: o.anchored === true,
    noise: isNum(o.noise) ? o.noise : null,
    edge: isTuple(o.edge, 3) ? (o.edge as [number, number, number]) : null,
    observed: isNum(o.observed) ? o.observed : null,
  };
}

/**
 * Reads a stored history back. Anything that is not a history this version wrote yields a fresh
 * one: the engine then behaves as after a first start (as the HPA after a controller restart).
 */
export function restorePolicyState(value: unknown): PolicyState {
  if (value === null || typeof value !== 'object') return initialPolicyState();
  const o = value as Record<string, unknown>;
  if (o.version !== 1) return initialPolicyState();
  const { recommendations, scaleEvents, lastScaleTime, metricFailures, idleSince } = o;
  if (!Array.isArray(recommendations) || !recommendations.every((r) => isTuple(r, 3)))
    return initialPolicyState();
  if (!Array.isArray(scaleEvents) || !scaleEvents.every((e) => isTuple(e, 3))) return initialPolicyState();
  if (!isNumOrNull(lastScaleTime) || !isNum(metricFailures) || !isNumOrNull(idleSince)) {
    return initialPolicyState();
  }
  return {
    version: 1,
    recommendations: recommendations as RecommendationSample[],
    scaleEvents: scaleEvents as ScaleEvent[],
    lastScaleTime,
    metricFailures,
    idleSince,
    latency: readLatency(o.latency),
  };
}

/**
 * The state after the concurrency decided at this poll was written as `applied` instead: the
 * account's headroom capped it, or AWS refused it. The next poll's estimates then take the interval
 * as run at `applied` (latency-slo.ts, `ranThrough`). Left as the decided value, every interval of
 * a squeezed spell, in which the account granted a little more at each poll, was skipped, and the
 * arrival rate stayed at what the spell's first polls read (249 messages/s for a 500/s burst).
 */
export function withApplied(state: PolicyState, applied: number): PolicyState {
  const last = state.latency?.last;
  if (state.latency == null || last == null || last[4] === applied) return state;
  return { ...state, latency: { ...state.latency, last: [last[0], last[1], last[2], last[3], applied] } };
}
