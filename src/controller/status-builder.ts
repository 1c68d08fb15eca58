// The next status of a scaler, built from the previous one by the reconcile's steps. Conditions
// follow kstatus (Ready always present; Reconciling and Stalled only while true) and transition
// times move only on real changes; `transitions` names the Warning events a change deserves.
import {
  Actuator,
  type Condition,
  ConditionType,
  EventReason,
  type LambdaConcurrencyScalerStatus,
  PAUSED_ANNOTATION,
  Reason,
  State,
} from '../api/v1alpha1/index.ts';
import type { ProvisionedPollers, QueueMetrics } from '../aws/ports.ts';
import type { PolicyState } from '../policy/index.ts';
import {
  type ConditionInput,
  metaTime as iso,
  removeCondition,
  setCondition,
} from '../runtime/conditions.ts';

/** An event source mapping of the scaler's queue to its function, as last read or written. */
export interface Mapping {
  uuid: string;
  maximumConcurrency: number | undefined;
  /** ProvisionedPollerConfig in provisioned mode; undefined in standard mode. */
  provisionedPollers?: ProvisionedPollers | undefined;
}

/** How this reconcile ended, as far as Ready is concerned. */
type Outcome = { kind: 'stalled' | 'retrying' | 'ready'; reason: Reason; message: string } | undefined;

/**
 * Builds the next status from the previous one. Conditions follow kstatus: Ready always present,
 * Reconciling and Stalled only while true; transition times move only on real changes. The steps
 * record what they found; Ready, Stalled, Reconciling and the original's `state` are computed once,
 * from the reconcile's outcome, by `finish()`.
 */
export class StatusBuilder {
  status: LambdaConcurrencyScalerStatus;
  readonly #generation: number;
  readonly #now: number;
  #outcome: Outcome;
  /** What the operator writes, for the words of ConcurrencyApplied and Ready. */
  #lever: Actuator = Actuator.ReservedConcurrency;

  constructor(previous: LambdaConcurrencyScalerStatus, generation: number, now: number) {
    this.status = structuredClone(previous);
    this.status.observedGeneration = generation;
    this.status.state ??= State.Pending;
    this.#generation = generation;
    this.#now = now;
  }

  #set(c: Omit<ConditionInput, 'observedGeneration'>): void {
    this.status.conditions = setCondition(
      this.status.conditions ?? [],
      { ...c, observedGeneration: this.#generation },
      this.#now,
    );
  }

  #remove(type: string): void {
    this.status.conditions = removeCondition(this.status.conditions ?? [], type);
  }

  /** Needs a person (or another scaler) to change something: Stalled, not Ready. */
  stalled(reason: Reason, message: string): void {
    this.#outcome = { kind: 'stalled', reason, message };
  }

  /** A transient failure: Reconciling, not Ready, retried with backoff. */
  retrying(reason: Reason, message: string): void {
    this.#outcome = { kind: 'retrying', reason, message };
  }

  /** Ready, Stalled, Reconciling and `state` from the outcome; the status to write. */
  finish(): LambdaConcurrencyScalerStatus {
    const o = this.#outcome;
    if (o === undefined) return this.status; // paused, or recording originals: Ready as it was
    const ready = { type: ConditionType.Ready, reason: o.reason, message: o.message };
    if (o.kind === 'stalled') {
      this.status.state = State.Error;
      this.#set({ type: ConditionType.Stalled, status: 'True', reason: o.reason, message: o.message });
      this.#set({ ...ready, status: 'False' });
      this.#remove(ConditionType.Reconciling);
    } else if (o.kind === 'retrying') {
      this.#set({ type: ConditionType.Reconciling, status: 'True', reason: o.reason, message: o.message });
      this.#set({ ...ready, status: 'False' });
      this.#remove(ConditionType.Stalled);
    } else {
      this.status.state = State.Adjusted;
      this.#set({ ...ready, status: 'True' });
      this.#remove(ConditionType.Stalled);
      this.#remove(ConditionType.Reconciling);
    }
    return this.status;
  }

  /** The spec's actuator: conditions then speak of what it writes. */
  lever(actuator: Actuator): void {
    this.#lever = actuator;
  }

  paused(): void {
    const message = `Paused by the annotation ${PAUSED_ANNOTATION}: "true"; no changes are made to the function`;
    this.#set({ type: ConditionType.Paused, status: 'True', reason: Reason.PausedByAnnotation, message });
  }

  unpaused(): void {
    this.#remove(ConditionType.Paused);
  }

  policy(state: PolicyState, desired: number | null): void {
    this.status.policyState = state as unknown as Record<string, unknown>;
    if (desired !== null) this.status.desiredConcurrency = desired;
  }

  backlog(m: QueueMetrics): void {
    const prev = this.status.backlog;
    if (
      prev === undefined ||
      prev.visible !== m.visible ||
      prev.inFlight !== m.inFlight ||
      prev.delayed !== m.delayed
    ) {
      this.status.backlog = {
        visible: m.visible,
        inFlight: m.inFlight,
        delayed: m.delayed,
        observedAt: iso(m.observedAt),
      };
    }
    this.#set({
      type: ConditionType.MetricsAvailable,
      status: 'True',
      reason: Reason.Succeeded,
      message: 'Queue attributes are being read',
    });
  }

  metricsUnavailable(message: string): void {
    this.#set({
      type: ConditionType.MetricsAvailable,
      status: 'False',
      reason: Reason.MetricsUnavailable,
      message,
    });
  }

  scaled(to: number, reason: string, message: string): void {
    this.status.concurrency = to;
    this.status.appliedConcurrency = to;
    this.status.adjustedTimestamp = iso(this.#now);
    this.status.lastScaleTime = iso(this.#now);
    this.status.lastScaleReason = `${reason}: ${message}`;
    this.#ok(to);
  }

  steady(current: number | undefined, dryRun: boolean): void {
    if (current !== undefined) this.status.concurrency = current;
    if (dryRun) this.#dryRunApplied(current);
    else this.#ok(current);
  }

  dryRun(current: number | undefined, desired: number, message: string): void {
    if (current !== undefined) this.status.concurrency = current;
    this.status.desiredConcurrency = desired;
    this.status.lastScaleReason = `DryRun: ${message}`;
    this.#dryRunApplied(current);
  }

  #dryRunApplied(current: number | undefined): void {
    const message = `Dry run: decisions are reported, the function is not changed (it has ${current ?? 'no'} reserved concurrency)`;
    this.#set({ type: ConditionType.ConcurrencyApplied, status: 'False', reason: Reason.DryRun, message });
    this.#outcome = { kind: 'ready', reason: Reason.DryRun, message };
  }

  /** Holds `functionArn` from now on, recording what to give back when letting go of it. */
  original(
    functionArn: string,
    reserved: number | undefined,
    mappings: readonly Mapping[] | undefined,
    actuator: Actuator = Actuator.ReservedConcurrency,
  ): void {
    this.status.functionArn = functionArn;
    this.status.originalConcurrency = {
      ...(reserved === undefined ? {} : { reserved }),
      ...(actuator === Actuator.ReservedConcurrency ? {} : { actuator }),
      recordedAt: iso(this.#now),
    };
    if (mappings !== undefined) this.originalEventSources(mappings);
    if (reserved !== undefined && actuator === Actuator.ReservedConcurrency)
      this.status.concurrency = reserved;
  }

  originalEventSources(mappings: readonly Mapping[]): void {
    const original = this.status.originalConcurrency ?? { recordedAt: iso(this.#now) };
    original.eventSources = mappings.map((m) => ({
      uuid: m.uuid,
      ...(m.maximumConcurrency === undefined ? {} : { maximumConcurrency: m.maximumConcurrency }),
      ...(m.provisionedPollers === undefined
        ? {}
        : {
            provisionedPollers: {
              minimumPollers: m.provisionedPollers.minimum,
              maximumPollers: m.provisionedPollers.maximum,
            },
          }),
    }));
    this.status.originalConcurrency = original;
  }

  /** Holds `functionArn` (a status written before the operator named what it holds). */
  holds(functionArn: string): void {
    this.status.functionArn = functionArn;
  }

  /** Lets go of the function held so far (restored): nothing recorded, nothing applied. */
  released(): void {
    delete this.status.functionArn;
    this.leverReleased();
  }

  /** Gave back what the previous actuator wrote (restored): recorded and applied values are gone. */
  leverReleased(): void {
    delete this.status.originalConcurrency;
    delete this.status.appliedConcurrency;
    delete this.status.eventSourceMaximumConcurrency;
    delete this.status.provisionedPollers;
    delete this.status.concurrency;
  }

  /** The ProvisionedPollerConfig the mappings have now (actuator ProvisionedPollers). */
  provisionedPollers(pollers: { minimum: number; maximum: number }): void {
    this.status.provisionedPollers = { minimumPollers: pollers.minimum, maximumPollers: pollers.maximum };
  }

  forgetEventSources(): void {
    if (this.status.originalConcurrency !== undefined) delete this.status.originalConcurrency.eventSources;
    delete this.status.eventSourceMaximumConcurrency;
  }

  eventSourceCap(cap: number): void {
    this.status.eventSourceMaximumConcurrency = cap;
  }

  /** Sets Constrained; true when it is new (worth an event). */
  constrained(message: string): boolean {
    const was = this.status.conditions?.find((c) => c.type === ConditionType.Constrained);
    this.#set({ type: ConditionType.Constrained, status: 'True', reason: Reason.AccountHeadroom, message });
    return was?.status !== 'True';
  }

  unconstrained(): void {
    this.#remove(ConditionType.Constrained);
  }

  /** The /scale subresource's view: replicas is the concurrency held, the selector names the scaler. */
  scale(selector: string): void {
    if (this.status.concurrency !== undefined) this.status.replicas = this.status.concurrency;
    this.status.selector = selector;
  }

  #ok(current: number | undefined): void {
    const { applied, ready } = leverWords(this.#lever, current);
    this.#set({
      type: ConditionType.ConcurrencyApplied,
      status: 'True',
      reason: Reason.Applied,
      message: applied,
    });
    this.#outcome = { kind: 'ready', reason: Reason.Succeeded, message: ready };
  }

  /** Warning events for conditions that just went bad (never once per poll). */
  transitions(before: LambdaConcurrencyScalerStatus): { reason: string; message: string }[] {
    const was = (type: string) => before.conditions?.find((c: Condition) => c.type === type);
    const is = (type: string) => this.status.conditions?.find((c: Condition) => c.type === type);
    const out: { reason: string; message: string }[] = [];
    const stalled = is(ConditionType.Stalled);
    if (
      stalled?.status === 'True' &&
      (was(ConditionType.Stalled)?.status !== 'True' || was(ConditionType.Stalled)?.reason !== stalled.reason)
    ) {
      out.push({ reason: EventReason.Stalled, message: stalled.message });
    }
    const metrics = is(ConditionType.MetricsAvailable);
    if (metrics?.status === 'False' && was(ConditionType.MetricsAvailable)?.status !== 'False') {
      out.push({ reason: EventReason.MetricsUnavailable, message: metrics.message });
    }
    const ready = is(ConditionType.Ready);
    const reconciling = is(ConditionType.Reconciling);
    if (
      reconciling?.status === 'True' &&
      was(ConditionType.Reconciling)?.status !== 'True' &&
      ready?.status === 'False'
    ) {
      out.push({ reason: ready.reason, message: ready.message });
    }
    return out;
  }
}

/** ConcurrencyApplied's and Ready's messages, in the words of what the actuator writes. */
function leverWords(lever: Actuator, current: number | undefined): { applied: string; ready: string } {
  if (lever === Actuator.EventSourceMaximumConcurrency) {
    const at = current === undefined ? 'no MaximumConcurrency' : `MaximumConcurrency ${current}`;
    return {
      applied: `The event source mappings have the ${at} the policy wants (the function's reserved concurrency is not touched)`,
      ready: `Scaling the event source mappings: ${at}`,
    };
  }
  if (lever === Actuator.ProvisionedPollers) {
    const at =
      current === undefined
        ? 'no provisioned pollers'
        : `MaximumPollers ${Math.ceil(current / 10)} (up to ${current} concurrent invokes)`;
    return {
      applied: `The event source mappings have the ${at} the policy wants (the function's reserved concurrency is not touched)`,
      ready: `Scaling the event source mappings' provisioned pollers: ${at}`,
    };
  }
  const at = current === undefined ? 'no reserved concurrency' : `reserved concurrency ${current}`;
  return { applied: `The function has the ${at} the policy wants`, ready: `Scaling the function: ${at}` };
}
