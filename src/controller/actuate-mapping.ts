// Actuation through the SQS event source mapping alone (spec.actuator, issue 15): the policy's
// concurrency written as ScalingConfig.MaximumConcurrency or as provisioned pollers, never a
// reservation and never the account's unreserved pool; what the mappings had is given back.
import {
  Actuator,
  EventReason,
  INVOKES_PER_POLLER,
  MAXIMUM_CONCURRENCY,
  POLLERS,
} from '../api/v1alpha1/index.ts';
import { AwsError, AwsErrorCode, ErrorClass } from '../aws/errors.ts';
import { Priority } from '../aws/limiter.ts';
import type { ProvisionedPollers } from '../aws/ports.ts';
import type { Decision } from '../policy/index.ts';
import { bounded, labels, type Original } from './actuate.ts';
import type { Observation } from './observe.ts';
import type { AwsPorts, ReconcilerDeps } from './ports.ts';
import type { Pass } from './record.ts';
import type { Mapping } from './status-builder.ts';

/** The mapping levers: every actuator but reserved concurrency. */
export type MappingLever = typeof Actuator.EventSourceMaximumConcurrency | typeof Actuator.ProvisionedPollers;

/**
 * The ProvisionedPollerConfig for a concurrency: MaximumPollers = ceil(concurrency / 10) within
 * AWS's 2–2,000 — the cap, as MaximumConcurrency caps a mapping in standard mode, under which the
 * mapping's own scaling (up to +1,000 concurrent invokes a minute, ESM-EVIDENCE.md §6) moves;
 * MinimumPollers = ceil(awsLambdaMinConcurrency / 10) within 2–200 — the pollers always kept
 * ready (and billed as event poller units). One poller handles up to 10 concurrent invokes
 * (services-sqs-scaling).
 */
export function pollersFor(concurrency: number, floor: number): ProvisionedPollers {
  const minimum = Math.min(POLLERS.maxMinimum, Math.max(POLLERS.min, Math.ceil(floor / INVOKES_PER_POLLER)));
  const maximum = Math.min(
    POLLERS.maxMaximum,
    Math.max(POLLERS.min, minimum, Math.ceil(concurrency / INVOKES_PER_POLLER)),
  );
  return { minimum, maximum };
}

/**
 * The concurrency the lever holds now, read off the mappings: the lowest MaximumConcurrency
 * (undefined while a mapping has none: that one is not limited), or the fewest MaximumPollers × 10.
 */
export function leverValue(lever: MappingLever, mappings: readonly Mapping[]): number | undefined {
  if (mappings.length === 0) return undefined;
  if (lever === Actuator.EventSourceMaximumConcurrency) {
    if (mappings.some((m) => m.maximumConcurrency === undefined)) return undefined;
    return Math.min(...mappings.map((m) => m.maximumConcurrency as number));
  }
  if (mappings.some((m) => m.provisionedPollers === undefined)) return undefined;
  return Math.min(...mappings.map((m) => (m.provisionedPollers?.maximum ?? 0) * INVOKES_PER_POLLER));
}

/**
 * Refuses (Stalled, naming the fix) a mapping whose mode the lever cannot drive: provisioned
 * pollers need provisioned mode, which the operator never turns on itself (it changes what AWS
 * bills); MaximumConcurrency and provisioned mode are mutually exclusive (services-sqs-scaling).
 */
export function checkMappingMode(lever: MappingLever, mappings: readonly Mapping[], queue: string): void {
  const fail = (message: string): never => {
    throw new AwsError(message, {
      code: AwsErrorCode.InvalidParameter,
      errorClass: ErrorClass.Permanent,
      awsName: 'EventSourceMode',
    });
  };
  if (lever === Actuator.ProvisionedPollers) {
    const standard = mappings.filter((m) => m.provisionedPollers === undefined).map((m) => m.uuid);
    if (standard.length > 0)
      fail(
        `actuator ProvisionedPollers: event source mapping ${standard.join(', ')} from ${queue} is not in provisioned mode (it has no ProvisionedPollerConfig); turn provisioned mode on (aws lambda update-event-source-mapping --uuid ${standard[0]} --provisioned-poller-config MinimumPollers=2,MaximumPollers=200), or choose actuator EventSourceMaximumConcurrency or ReservedConcurrency. The operator does not turn on provisioned mode itself: it is billed per event poller unit`,
      );
    return;
  }
  const provisioned = mappings.filter((m) => m.provisionedPollers !== undefined).map((m) => m.uuid);
  if (provisioned.length > 0)
    fail(
      `actuator EventSourceMaximumConcurrency: event source mapping ${provisioned.join(', ')} from ${queue} is in provisioned mode, where AWS refuses ScalingConfig.MaximumConcurrency (the two are mutually exclusive); choose actuator ProvisionedPollers, or turn provisioned mode off`,
    );
}

/** A change in the lever's words, for events: "MaximumConcurrency 10 → 15" or the pollers'. */
function change(lever: MappingLever, from: number | undefined, to: number, floor: number): string {
  if (lever === Actuator.EventSourceMaximumConcurrency) return `MaximumConcurrency ${from ?? 'none'} → ${to}`;
  const p = pollersFor(to, floor);
  const was = from === undefined ? 'none' : String(pollersFor(from, floor).maximum);
  return `MaximumPollers ${was} → ${p.maximum} (up to ${p.maximum * INVOKES_PER_POLLER} concurrent invokes), MinimumPollers ${p.minimum}`;
}

/** Writes the policy's concurrency to the event source mappings (actuator ≠ ReservedConcurrency). */
export class MappingActuator {
  readonly #deps: ReconcilerDeps;

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
  }

  /** Notices drift, then writes the decision to every mapping that does not have it (unless dry-run). */
  async apply(pass: Pass, observed: Observation, decision: Decision, lever: MappingLever): Promise<void> {
    const { scaler, spec, report, record } = pass;
    const floor = spec.awsLambdaMinConcurrency;
    const mappings = observed.mappings;
    const current = leverValue(lever, mappings);
    const ours = record.lastApplied?.functionArn === observed.fn.functionArn ? record.lastApplied : undefined;
    const applied = ours !== undefined ? ours.value : scaler.status?.appliedConcurrency;
    if (applied !== undefined && current !== applied && spec.dryRun !== true) {
      const what =
        lever === Actuator.EventSourceMaximumConcurrency ? 'MaximumConcurrency' : 'MinimumPollers × 10';
      const message = `The event source mappings' ${what} changed outside the operator: ${applied} → ${current ?? 'none'}; continuing from ${current ?? 'none'}`;
      this.#deps.event(scaler, 'Warning', EventReason.Drift, message);
    }
    // The policy's concurrency within the bounds, then as the lever can hold it (whole pollers).
    const wanted = decision.desired === null ? current : bounded(decision.desired, spec);
    const desired =
      wanted === undefined
        ? undefined
        : lever === Actuator.ProvisionedPollers
          ? pollersFor(wanted, floor).maximum * INVOKES_PER_POLLER
          : Math.min(MAXIMUM_CONCURRENCY.max, Math.max(MAXIMUM_CONCURRENCY.min, wanted));
    const stale = desired === undefined ? [] : mappings.filter((m) => !holds(lever, m, desired, floor));
    if (desired === undefined || stale.length === 0) {
      report.steady(current, spec.dryRun === true);
      this.#status(pass, lever, current, floor);
      this.#gauges(pass, desired ?? current);
      return;
    }
    const changed = change(lever, current, desired, floor);
    if (spec.dryRun === true) {
      this.#deps.event(
        scaler,
        'Normal',
        EventReason.DryRun,
        `Dry run: would set ${changed}: ${decision.message}`,
      );
      report.dryRun(current, desired, decision.message);
      this.#gauges(pass, desired);
      return;
    }
    const up = current === undefined || desired > current;
    for (const m of stale) await this.#write(pass.aws, m, lever, desired, floor, up, pass.signal);
    record.lastApplied = { functionArn: observed.fn.functionArn, value: desired };
    report.scaled(desired, decision.reason, decision.message);
    this.#status(pass, lever, desired, floor);
    this.#deps.metrics?.actions.inc({
      ...labels(scaler),
      direction: up ? 'up' : 'down',
      reason: decision.reason,
    });
    const on = stale.map((m) => m.uuid).join(', ');
    this.#deps.event(
      scaler,
      'Normal',
      up ? EventReason.ScaledUp : EventReason.ScaledDown,
      `Event source mapping ${on}: ${changed}: ${decision.message}`,
    );
    this.#gauges(pass, desired);
  }

  async #write(
    aws: AwsPorts,
    m: Mapping,
    lever: MappingLever,
    value: number,
    floor: number,
    up: boolean,
    signal: AbortSignal,
  ): Promise<void> {
    const priority = up ? Priority.ScaleUp : Priority.ScaleDown;
    if (lever === Actuator.EventSourceMaximumConcurrency) {
      await aws.functions.updateEventSourceMaximumConcurrency(m.uuid, value, priority, { signal });
      m.maximumConcurrency = value;
      return;
    }
    const pollers = pollersFor(value, floor);
    await aws.functions.updateEventSourceProvisionedPollers(m.uuid, pollers, priority, { signal });
    m.provisionedPollers = pollers;
  }

  #status(pass: Pass, lever: MappingLever, value: number | undefined, floor: number): void {
    if (value === undefined) return;
    if (lever === Actuator.EventSourceMaximumConcurrency) pass.report.eventSourceCap(value);
    else pass.report.provisionedPollers(pollersFor(value, floor));
  }

  #gauges(pass: Pass, desired: number | undefined): void {
    this.#deps.metrics?.desired.set(labels(pass.scaler), desired ?? 0);
    this.#deps.metrics?.applied.set(labels(pass.scaler), pass.report.status.concurrency ?? 0);
  }

  /**
   * Gives the mappings back what they had before the operator (mappings gone since are skipped):
   * MaximumConcurrency, or ProvisionedPollerConfig. The function's reserved concurrency is not
   * touched: this lever never wrote it. Returns a sentence.
   */
  async restore(aws: AwsPorts, fn: string, original: Original, signal: AbortSignal): Promise<string> {
    const recorded = original.eventSources ?? [];
    if (recorded.length === 0) return `Nothing to restore on ${fn}: no event source mapping was recorded`;
    const sources = await aws.functions.eventSources(fn, { signal });
    const done: string[] = [];
    for (const r of recorded) {
      const m = sources.find((x) => x.uuid === r.uuid);
      if (m === undefined) continue;
      const pollers =
        r.provisionedPollers === undefined
          ? undefined
          : { minimum: r.provisionedPollers.minimumPollers, maximum: r.provisionedPollers.maximumPollers };
      const options = { signal };
      if (pollers !== undefined) {
        const now = m.provisionedPollers;
        if (now?.minimum === pollers.minimum && now?.maximum === pollers.maximum) continue;
        await aws.functions.updateEventSourceProvisionedPollers(r.uuid, pollers, Priority.ScaleDown, options);
        done.push(
          `MinimumPollers ${pollers.minimum}, MaximumPollers ${pollers.maximum} on event source mapping ${r.uuid}`,
        );
        continue;
      }
      // Put in provisioned mode by someone else since: no cap to give back (AWS would refuse one).
      if (m.provisionedPollers !== undefined || m.maximumConcurrency === r.maximumConcurrency) continue;
      await aws.functions.updateEventSourceMaximumConcurrency(
        r.uuid,
        r.maximumConcurrency,
        Priority.ScaleDown,
        options,
      );
      done.push(`MaximumConcurrency ${r.maximumConcurrency ?? 'none'} on event source mapping ${r.uuid}`);
    }
    return done.length === 0
      ? `The event source mappings of ${fn} already have what they had before the operator`
      : `Restored ${done.join(', ')}, as before the operator (the reserved concurrency of ${fn} was never touched)`;
  }
}

/** Whether a mapping already holds `value` through the lever. */
function holds(lever: MappingLever, m: Mapping, value: number, floor: number): boolean {
  if (lever === Actuator.EventSourceMaximumConcurrency) return m.maximumConcurrency === value;
  const want = pollersFor(value, floor);
  return m.provisionedPollers?.minimum === want.minimum && m.provisionedPollers?.maximum === want.maximum;
}
