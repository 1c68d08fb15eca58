// decide(): one poll's decision as a pure function of what was observed, the history, and the time.
// The chain: metrics → recommend → (idle) → stabilize → rate-limit → cooldown → clamp → record.
import { clamp, rateLimit, recordRecommendation, recordScaleEvent, stabilize } from './behavior.ts';
import {
  DEFAULT_SCALE_DOWN_STABILIZATION_SECONDS,
  LARGE_DROP_MIN_UNITS,
  type PolicyConfig,
  resolvePolicyConfig,
  type ScalingRules,
} from './config.ts';
import {
  initialLatencyEstimates,
  isLearning,
  isSaturated,
  ranThrough,
  recommendLatencySLO,
  updateEstimates,
  usableServiceTime,
} from './latency-slo.ts';
import { type Backlog, readBacklog } from './metrics.ts';
import { fmt, type Recommendation, recommendStep, recommendTargetTracking } from './recommend.ts';
import {
  type DecideResult,
  type DecisionInput,
  type LatencyEstimates,
  Limit,
  type PolicyState,
  Reason,
} from './types.ts';

const LIMIT_WORDS: Record<Limit, string> = {
  Bounds: 'the concurrency bounds',
  RatePolicy: 'a rate policy',
  Stabilization: 'the stabilization window',
  Tolerance: 'the tolerance',
  Cooldown: 'the cooldown',
  ScaleUpDisabled: 'scale-up being disabled',
  ScaleDownDisabled: 'scale-down being disabled',
};

function outcome(current: number | null, final: number, limits: readonly Limit[]): string {
  const by = limits.length > 0 ? ` (held by ${limits.map((l) => LIMIT_WORDS[l]).join(', ')})` : '';
  if (current !== null && final === current) return `; keeping ${final}${by}`;
  return `; setting ${final}${by}`;
}

/** A recommendation the state can store: finite (huge stays huge), never NaN or -0. */
function finite(n: number, otherwise: number): number {
  if (Number.isNaN(n)) return otherwise;
  return Math.min(Math.max(n, -Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER) + 0;
}

/** The observed concurrency; a value that is not a count is treated as unknown (unset). */
function observedConcurrency(input: DecisionInput): number | null {
  const c = input.currentConcurrency;
  return c !== null && Number.isFinite(c) && c >= 0 ? Math.round(c) + 0 : null;
}

/** A batch size the engine can use: a whole number of at least 1, else unknown. */
function usableBatchSize(b: number | undefined): number | undefined {
  return b !== undefined && Number.isFinite(b) && b >= 1 ? Math.floor(b) : undefined;
}

function driftNote(input: DecisionInput): string {
  const { currentConcurrency: current, lastApplied } = input;
  if (lastApplied === undefined || lastApplied === null || current === lastApplied) return '';
  const now = current === null ? 'unset' : String(current);
  return `reserved concurrency is ${now}, not the ${lastApplied} last applied (changed outside the operator); continuing from it. `;
}

function onMetricsFailure(
  input: DecisionInput,
  config: PolicyConfig,
  state: PolicyState,
  error: string,
  now: number,
): DecideResult {
  const current = observedConcurrency(input);
  const failures = state.metricFailures + 1;
  const { failureThreshold, concurrency } = config.fallback;
  const base = current ?? config.minConcurrency;
  const head = `metrics unavailable (${failures} in a row): ${error}`;
  if (failures >= failureThreshold && concurrency !== null) {
    const bounded = clamp(concurrency, config.minConcurrency, config.maxConcurrency);
    const limitedBy = bounded.limit === null ? [] : [bounded.limit];
    const changed = current === null || bounded.value !== current;
    return {
      decision: {
        desired: changed ? bounded.value : null,
        recommendation: concurrency,
        reason: Reason.MetricsUnavailableFallback,
        message: `${head}; fallback concurrency ${concurrency}${outcome(current, bounded.value, limitedBy)}`,
        limitedBy,
      },
      nextState: {
        ...state,
        metricFailures: failures,
        scaleEvents: recordScaleEvent(state.scaleEvents, bounded.value - base, now, longestPeriod(config)),
        lastScaleTime: changed ? now : state.lastScaleTime,
      },
    };
  }
  const pending = concurrency === null ? '' : `; fallback to ${concurrency} after ${failureThreshold}`;
  // Holding never keeps a value outside the bounds (say, after the spec changed them).
  const held = current === null ? null : clamp(current, config.minConcurrency, config.maxConcurrency);
  const limitedBy = held?.limit ? [held.limit] : [];
  const desired = held !== null && held.value !== current ? held.value : null;
  return {
    decision: {
      desired,
      recommendation: base,
      reason: Reason.MetricsUnavailableHold,
      message: `${head}${pending}${held === null ? '; leaving it unset' : outcome(current, held.value, limitedBy)}`,
      limitedBy,
    },
    nextState: {
      ...state,
      metricFailures: failures,
      lastScaleTime: desired === null ? state.lastScaleTime : now,
    },
  };
}

/**
 * spec.replicas pins the concurrency: the external decision (kubectl scale, an HPA, KEDA) replaces
 * the policy and its behavior, within the bounds. Metrics are not needed; the history goes on.
 */
function onPinned(
  input: DecisionInput,
  config: PolicyConfig,
  state: PolicyState,
  pin: number,
  now: number,
): DecideResult {
  const current = observedConcurrency(input);
  const bounded = clamp(pin, config.minConcurrency, config.maxConcurrency);
  const limitedBy = bounded.limit === null ? [] : [bounded.limit];
  const changed = current === null || bounded.value !== current;
  return {
    decision: {
      desired: changed ? bounded.value : null,
      recommendation: pin,
      reason: Reason.Pinned,
      message: `spec.replicas pins the concurrency at ${pin} (kubectl scale or an external autoscaler)${outcome(current, bounded.value, limitedBy)}`,
      limitedBy,
    },
    nextState: {
      ...state,
      scaleEvents: recordScaleEvent(
        state.scaleEvents,
        changed ? bounded.value - (current ?? config.minConcurrency) : 0,
        now,
        longestPeriod(config),
      ),
      lastScaleTime: changed ? now : state.lastScaleTime,
    },
  };
}

/**
 * The scale-down window of LatencySLO's learning probe: never shorter than the HPA's 300 s. Until
 * the policy knows what one unit processes, a probe down is a guess, and at loads of a few units a
 * guess every two minutes made it flap (2 ↔ 4, 7 ↔ 11 all hour long: test/policies/regressions.test.ts),
 * so a shorter window (the user's, or a large drop with the mapping capped) applies only to
 * measured recommendations.
 */
const LEARNING_SCALE_DOWN_WINDOW_SECONDS = DEFAULT_SCALE_DOWN_STABILIZATION_SECONDS;

/**
 * A measured LatencySLO scale-up while fewer than CALM_WAITING_PER_UNIT messages wait per unit is
 * confirmed by the next poll (an up window of 1.5 polls): nothing waits that the units do not take
 * within a batch or two, so one poll's wait costs little, and it keeps a single noisy estimate
 * from scaling up. The arrival rate read from in-flight counts (Little's law) has heavy tails at
 * a dozen units: one poll 22 % high crossed the noise band and made a generated constant load
 * flap 14 ↔ 17 (4 actions in 1.5 h; test/policies/regressions.test.ts). Measured against the
 * benchmark, this changed no scenario's capacity or violations by more than 0.01×/0.01 pp.
 * Five (half a default batch), not two: with what one unit processes known (a measured Duration)
 * a load sized at the 80 % target shows a few waiting messages per unit between receives, and two
 * per unit let one of those polls plus a noisy estimate scale 10 → 13 at once and back after the
 * window (a generated constant load, 4 actions in 1.5 h). With five, the benchmark's capacity fell
 * by up to 0.02× and its violations moved by at most 0.05 pp.
 */
const CALM_WAITING_PER_UNIT = 5;
const CALM_SCALE_UP_POLLS = 1.5;

/** The same rules with another stabilization window. */
function withWindow(rules: ScalingRules, stabilizationWindowSeconds: number): ScalingRules {
  return { ...rules, stabilizationWindowSeconds };
}

function longestWindow(config: PolicyConfig): number {
  const { scaleUp, scaleDown } = config.behavior;
  return Math.max(
    scaleUp.stabilizationWindowSeconds,
    scaleDown.stabilizationWindowSeconds,
    config.policy.type === 'LatencySLO'
      ? Math.max(LEARNING_SCALE_DOWN_WINDOW_SECONDS, CALM_SCALE_UP_POLLS * config.pollingIntervalSeconds)
      : 0,
  );
}

function longestPeriod(config: PolicyConfig): number {
  const { scaleUp, scaleDown } = config.behavior;
  return Math.max(0, ...[...scaleUp.policies, ...scaleDown.policies].map((p) => p.periodSeconds));
}

type Ok = Extract<Backlog, { ok: true }>;

function recommend(
  config: PolicyConfig,
  backlog: Ok,
  current: number | null,
  base: number,
  latency: LatencyEstimates | null,
  observedAt: number,
  batchSize: number | undefined,
  serviceTimeSeconds: number | undefined,
): { rec: Recommendation; latency: LatencyEstimates | null; measured: boolean } {
  const policy = config.policy;
  switch (policy.type) {
    case 'Step':
      return { rec: recommendStep(backlog.backlog, base, policy), latency: null, measured: false };
    case 'TargetTracking':
      return {
        rec: recommendTargetTracking(backlog.backlog, current, policy),
        latency: null,
        measured: false,
      };
    case 'LatencySLO': {
      const estimates = updateEstimates(
        latency ?? initialLatencyEstimates(),
        {
          t: observedAt,
          visible: backlog.visible,
          inFlight: backlog.inFlight,
          delayed: backlog.delayed,
        },
        base,
        config.metrics.includeOverpulled ? batchSize : undefined,
        policy.serviceTimeSource === 'CloudWatch' ? serviceTimeSeconds : undefined,
      );
      // Waiting: visible, plus throttled in-flight batches (overpull), plus delayed if asked for.
      const queued = backlog.visible + (config.metrics.includeOverpulled ? backlog.overpulled : 0);
      const waiting = queued + (config.metrics.includeDelayed ? backlog.delayed : 0);
      const served = backlog.inFlight - (config.metrics.includeOverpulled ? backlog.overpulled : 0);
      const batch = config.metrics.includeOverpulled ? batchSize : undefined;
      // A full batch waiting for every unit is saturation whatever is in flight yet: the mapping
      // is still adding pollers (after a calm spell it runs fewer than the units), and waiting for
      // them would start the scale-up a poll late. Fewer waiting messages, with the units' batches
      // full, count only when the previous poll at the same concurrency showed the same: the next
      // receives take them all, and at loads of a few units one noisy poll looked like it (issue 15).
      const saturated =
        (batch !== undefined && queued >= Math.max(1, base) * batch) ||
        (isSaturated(queued, served, base, batch) &&
          (batch === undefined || (latency !== null && wasSaturated(latency, base, batch))));
      const empty = backlog.visible + backlog.inFlight + backlog.delayed === 0;
      // The learning probe remembers where the load just fills the units (see EDGE_MARGIN).
      const withEdge =
        saturated && batch !== undefined && queued < Math.max(1, base) * batch && isLearning(estimates)
          ? { ...estimates, edge: [observedAt, base, Math.max(0, served)] as [number, number, number] }
          : estimates;
      // The measured Duration, when the estimates use it (usableServiceTime: with the batch size).
      const serviceTime =
        policy.serviceTimeSource === 'CloudWatch' ? usableServiceTime(batch, serviceTimeSeconds) : undefined;
      const rec = recommendLatencySLO(
        withEdge,
        waiting,
        base,
        saturated,
        policy,
        empty,
        batch === undefined ? undefined : { inFlight: Math.max(0, served), batchSize: batch },
        serviceTime,
      );
      // A need computed from the measured Duration while a full batch waits for every unit
      // (config.ts, `measuredScaleUp`).
      const measured =
        batch !== undefined &&
        serviceTime !== undefined &&
        rec.reason === Reason.LatencySLO &&
        queued >= Math.max(1, base) * batch;
      return { rec, latency: withEdge, measured };
    }
  }
}

/**
 * Whether the previous poll's snapshot showed `base` units saturated (isSaturated, overpull
 * counted), `base` having run since (ranThrough).
 */
function wasSaturated(latency: LatencyEstimates, base: number, batch: number): boolean {
  if (latency.last === null || !ranThrough(latency, base)) return false;
  const [, visible, inFlight] = latency.last;
  const over = Math.max(0, inFlight - base * batch);
  return isSaturated(visible + over, inFlight - over, base, batch);
}

/**
 * What the scale-down window remembers of a recommendation: all of it, but nothing above the
 * minimum of a measured scale-up's (config.ts, `measuredScaleUp`) when the mapping is capped with the default
 * window (the large drop's conditions, for its reason: lowering cannot throttle the mapping). Its
 * need drains a backlog that the raise itself removes, and its arrival estimate comes from an
 * interval in which the mapping was still filling the new units: remembered, the 58–64 units of
 * such a poll were held through a 5-minute burst whose arrivals needed 40 (square bursts, 1.27×
 * the reference's capacity; 1.21× without). The calm polls after the drain set what it holds.
 */
function remembered(recommendation: number, measured: boolean, config: PolicyConfig, idle: boolean): number {
  const { measuredScaleUp, largeDrop } = config.behavior;
  if (idle || !measured || !measuredScaleUp || largeDrop === null) return recommendation;
  return Math.min(recommendation, config.minConcurrency);
}

function idleFor(config: PolicyConfig, idleSince: number | null, now: number): number | null {
  const idle = config.behavior.idleSeconds;
  if (idle === null || idleSince === null) return null;
  const seconds = (now - idleSince) / 1000;
  return seconds >= idle ? seconds : null;
}

/**
 * Decides the reserved concurrency for one poll. Pure: the same input, state and time always give
 * the same decision, and nothing is read from the outside world. `now` is epoch milliseconds.
 * Never throws for any metrics or concurrency values; the state is plain JSON, bounded in size.
 */
export function decide(input: DecisionInput, state: PolicyState, now: number): DecideResult {
  const config = input.config ?? resolvePolicyConfig(input.spec);
  const { minConcurrency: min, maxConcurrency: max } = config;
  if (config.pinned !== null && Number.isFinite(config.pinned))
    return onPinned(input, config, state, config.pinned, now);
  const current = observedConcurrency(input);
  const base = current ?? min;
  const batchSize = usableBatchSize(input.batchSize);
  const backlog = readBacklog(input.metrics, config.metrics, now, { reserved: current, batchSize });
  if (!backlog.ok) return onMetricsFailure(input, config, state, backlog.error, now);

  // A reading from the future, or without a time, counts as read now. (`+ 0` turns -0 into 0
  // here and below: JSON cannot keep -0, and the state must survive a round trip unchanged.)
  const observedAt = (Number.isFinite(backlog.observedAt) ? Math.min(backlog.observedAt, now) : now) + 0;
  const empty = backlog.visible + backlog.inFlight + backlog.delayed === 0;
  const idleSince = empty ? (state.idleSince ?? observedAt) : null;

  // 1. recommend
  const { rec, latency, measured } = recommend(
    config,
    backlog,
    current,
    base,
    state.latency,
    observedAt,
    batchSize,
    input.serviceTimeSeconds,
  );
  const limitedBy: Limit[] = rec.limit === null ? [] : [rec.limit];
  let recommendation = finite(rec.recommendation, base);
  let reason = rec.reason;
  let message = rec.message;
  const idle = idleFor(config, idleSince, now);
  if (idle !== null) {
    recommendation = min;
    reason = Reason.QueueIdle;
    message = `queue empty for ${fmt(Math.round(idle))}s (idle after ${config.behavior.idleSeconds}s): going to the minimum ${min}`;
    limitedBy.length = 0;
  }

  // 2. stabilize (HPA: a first decision cannot scale down past the current value within the window)
  const { scaleUp, scaleDown } = config.behavior;
  const seeded =
    state.recommendations.length === 0 && current !== null && scaleDown.stabilizationWindowSeconds > 0
      ? recordRecommendation([], current, now, longestWindow(config))
      : state.recommendations;
  let value = recommendation;
  if (idle === null) {
    // Units another scaler of the account waits for are not held for a window (issue 15).
    const released = input.contended === true && recommendation < base;
    const probing = reason === Reason.LatencySLOLearning && !empty;
    const down = released
      ? withWindow(scaleDown, 0)
      : probing
        ? withWindow(
            scaleDown,
            Math.max(scaleDown.stabilizationWindowSeconds, LEARNING_SCALE_DOWN_WINDOW_SECONDS),
          )
        : scaleDown;
    const calm =
      reason === Reason.LatencySLO &&
      recommendation > base &&
      backlog.visible < CALM_WAITING_PER_UNIT * Math.max(1, base);
    const up = calm
      ? withWindow(
          scaleUp,
          Math.max(scaleUp.stabilizationWindowSeconds, CALM_SCALE_UP_POLLS * config.pollingIntervalSeconds),
        )
      : scaleUp;
    let stable = stabilize(recommendation, base, seeded, up, down, now);
    // With the mapping capped, a drop to half or less, held a minute, skips the rest of the window.
    const large = config.behavior.largeDrop;
    if (large !== null && !probing && !released && stable.value > recommendation) {
      const fast = stabilize(recommendation, base, seeded, up, withWindow(down, large.windowSeconds), now);
      if (fast.value <= base * large.fraction && base - fast.value >= LARGE_DROP_MIN_UNITS) {
        stable = fast;
        message += `; at most ${fmt(large.fraction * 100)}% of ${base} for ${fmt(large.windowSeconds)}s with the mapping capped: down without the rest of the ${fmt(scaleDown.stabilizationWindowSeconds)}s window`;
      }
    }
    value = stable.value;
    if (stable.limit !== null) limitedBy.push(stable.limit);
    if (released && scaleDown.stabilizationWindowSeconds > 0)
      message += `; another scaler of the account waits for concurrency: released without the ${fmt(scaleDown.stabilizationWindowSeconds)}s scale-down window`;

    // 3. rate-limit (not a measured scale-up: config.ts, `measuredScaleUp`)
    const limited = rateLimit(value, base, state.scaleEvents, scaleUp, scaleDown, now);
    if (measured && config.behavior.measuredScaleUp && limited.value < value && value > base) {
      message += `; a full batch waits for every unit and the service time is measured: up to the need past the scale-up rate policies`;
    } else {
      value = limited.value;
      if (limited.limit !== null) limitedBy.push(limited.limit);
    }
  }

  // 4. cooldown
  const cooldownMs = config.behavior.cooldownSeconds * 1000;
  if (value !== base && state.lastScaleTime !== null && now - state.lastScaleTime < cooldownMs) {
    value = base;
    limitedBy.push(Limit.Cooldown);
  }

  // 5. clamp
  const bounded = clamp(value, min, max);
  const final = bounded.value + 0;
  if (bounded.limit !== null) limitedBy.push(bounded.limit);

  const changed = current === null || final !== current;
  const nextLatency: LatencyEstimates | null =
    latency === null || latency.last === null
      ? latency
      : { ...latency, last: [latency.last[0], latency.last[1], latency.last[2], latency.last[3], final] };
  return {
    decision: {
      desired: changed ? final : null,
      recommendation,
      reason,
      message: driftNote(input) + message + outcome(current, final, limitedBy),
      limitedBy,
    },
    nextState: {
      version: 1,
      recommendations: recordRecommendation(
        seeded,
        remembered(recommendation, measured, config, idle !== null),
        now,
        longestWindow(config),
      ),
      scaleEvents: recordScaleEvent(
        state.scaleEvents,
        changed ? final - base : 0,
        now,
        longestPeriod(config),
      ),
      lastScaleTime: changed ? now : state.lastScaleTime,
      metricFailures: 0,
      idleSince,
      latency: nextLatency,
    },
  };
}
