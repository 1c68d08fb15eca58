// The LambdaConcurrencyScaler reconciler: gather (queue backlog, the function's reserved
// concurrency, that the queue feeds the function) → decide (src/policy) → apply
// (PutFunctionConcurrency only on change) → report (one status patch, only when it changed).
import { isDeepStrictEqual } from 'node:util';
import {
  type Condition,
  ConditionType,
  EventReason,
  FINALIZER,
  type LambdaConcurrencyScaler,
  type LambdaConcurrencyScalerSpec,
  type LambdaConcurrencyScalerStatus,
  maxConcurrency,
  OnDelete,
  PAUSED_ANNOTATION,
  parseSpec,
  Reason,
  SCALE_SELECTOR_LABEL,
  State,
} from '../api/v1alpha1/index.ts';
import { AwsError, AwsErrorCode, ErrorClass } from '../aws/errors.ts';
import { Priority } from '../aws/limiter.ts';
import {
  capFor,
  type FunctionConcurrency,
  type FunctionPort,
  type QueueMetrics,
  type QueuePort,
} from '../aws/ports.ts';
import {
  type Decision,
  decide,
  type PolicyState,
  resolvePolicyConfig,
  restorePolicyState,
} from '../policy/index.ts';
import type { Clock } from '../runtime/clock.ts';
import {
  type ConditionInput,
  metaTime as iso,
  removeCondition,
  setCondition,
} from '../runtime/conditions.ts';
import type { Logger } from '../runtime/logger.ts';
import { HeadroomLedger } from './headroom.ts';
import type { ScalerMetrics } from './metrics.ts';

/**
 * How old the account-wide listing of event source mappings may be when a scaler re-checks its
 * own (every eventSourceRefreshMs): a minute keeps it at one listing a minute however many scalers
 * share it.
 */
const SHARED_LISTING_MAX_AGE_MS = 60_000;

/** The AWS ports for one scaler (its identity and Region). */
export interface AwsPorts {
  queues: QueuePort;
  functions: FunctionPort;
  /** The account and Region whose concurrency pool and control-plane budget these ports use. */
  account: string;
}

/** What the reconciler needs from the outside world; src/cmd wires the real ones. */
export interface ReconcilerDeps {
  /** The latest object from the informer cache. */
  get(key: string): LambdaConcurrencyScaler | undefined;
  /** Merge-patches `status`; must be a no-op-free single write. */
  patchStatus(scaler: LambdaConcurrencyScaler, status: LambdaConcurrencyScalerStatus): Promise<void>;
  /** Replaces the scaler's finalizers (optimistically, on its resourceVersion); returns the new object. */
  setFinalizers(scaler: LambdaConcurrencyScaler, finalizers: string[]): Promise<LambdaConcurrencyScaler>;
  /** Records a Kubernetes Event about the scaler; never throws. */
  event(scaler: LambdaConcurrencyScaler, type: 'Normal' | 'Warning', reason: string, message: string): void;
  /** AWS ports for the scaler's identity and Region. */
  aws(scaler: LambdaConcurrencyScaler): Promise<AwsPorts>;
  clock: Clock;
  log: Logger;
  metrics?: ScalerMetrics | undefined;
  /** How often to re-check that the queue is an event source of the function (default 5 min). */
  eventSourceRefreshMs?: number;
  /** How long to wait before retrying a scaler stalled on a permanent error (default 5 min). */
  stalledRetryMs?: number;
  /**
   * How often the policy history alone is worth a status write (default 5 min). The history moves
   * every poll (timestamps), so writing it each time would rewrite every idle scaler's status on
   * every poll; between checkpoints the freshest history lives in memory, and any other status
   * change writes it too. A restart loses at most this much of an idle scaler's history.
   */
  stateCheckpointMs?: number;
}

/** The reconciler's answer to the work queue. */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

interface Cached<T> {
  value: T;
  generation: number;
  at: number;
}

/** Reconciles LambdaConcurrencyScalers; one instance per manager, state only in caches. */
export class ScalerReconciler {
  readonly #deps: ReconcilerDeps;
  /** Queue URL and ARN per scaler uid (a spec change invalidates through the generation). */
  readonly #queues = new Map<string, Cached<{ url: string; arn: string }>>();
  /**
   * Whether the queue is an event source of the function, that mapping's batch size, and every
   * mapping of the queue to the function with its MaximumConcurrency (kept current after our own
   * updates), per scaler uid.
   */
  readonly #eventSources = new Map<
    string,
    Cached<{ linked: boolean; batchSize: number | undefined; mappings: Mapping[] }>
  >();
  /** When each scaler's next poll is due (uid → epoch ms), to measure how late polls start. */
  readonly #due = new Map<string, number>();
  /** Who in each account wants more reserved concurrency right now (shared headroom). */
  readonly #headroom = new HeadroomLedger(120_000);
  /** Set once the endpoint has been seen without GetAccountSettings (moto), to warn only once. */
  #warnedNoAccount = false;
  /** The freshest policy history per scaler uid, and when it was last written to status. */
  readonly #states = new Map<string, { state: PolicyState; persistedAt: number }>();

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    let scaler = this.#deps.get(key);
    if (scaler === undefined) {
      this.#forget(key);
      return {};
    }
    const finalizers = scaler.metadata.finalizers ?? [];
    if (scaler.metadata.deletionTimestamp !== undefined) {
      return finalizers.includes(FINALIZER) ? this.#finalize(scaler) : {};
    }
    const now = this.#deps.clock.now();
    const previous = scaler.status ?? {};
    const report = new StatusBuilder(previous, scaler.metadata.generation ?? 0, now);

    const parsed = parseSpec(scaler.spec);
    if (!parsed.ok) {
      const message = parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; ');
      report.stalled(Reason.InvalidSpec, `The spec is invalid: ${message}`);
      await this.#write(scaler, report);
      return {};
    }
    const spec = parsed.spec;
    const config = resolvePolicyConfig(spec);
    if (config.metrics.source === 'CloudWatch') {
      // The policy engine (and the benchmark) can read CloudWatch datapoints; the operator cannot
      // fetch them yet, and a scaler without metrics must not pretend to work.
      report.stalled(
        Reason.InvalidSpec,
        'metrics.source CloudWatch is not supported by the operator yet; use QueueAttributes (the default), which is fresher',
      );
      await this.#write(scaler, report);
      return {};
    }
    const intervalMs = config.pollingIntervalSeconds * 1000;
    this.#deps.metrics?.min.set(labels(scaler), spec.awsLambdaMinConcurrency);
    this.#deps.metrics?.max.set(labels(scaler), maxConcurrency(spec));
    this.#deps.metrics?.describe(scaler.metadata.namespace, scaler.metadata.name, spec);

    if (scaler.metadata.annotations?.[PAUSED_ANNOTATION] === 'true') {
      report.paused();
      await this.#write(scaler, report);
      return { requeueAfterMs: intervalMs };
    }
    report.unpaused();
    if (!finalizers.includes(FINALIZER))
      scaler = await this.#deps.setFinalizers(scaler, [...finalizers, FINALIZER]);

    try {
      const aws = await this.#deps.aws(scaler);
      const observed = await this.#gather(scaler, spec, aws, now);
      const manageCaps = spec.eventSourceMapping?.manageMaximumConcurrency === true;
      if (previous.originalConcurrency === undefined) {
        // Record what to restore on deletion before the first change, in its own status write.
        report.original(observed.fn.reserved, manageCaps ? observed.mappings : undefined);
        await this.#write(scaler, report);
        return { requeueAfterMs: 1 };
      }
      const recordedCaps = previous.originalConcurrency.eventSources;
      if (manageCaps && recordedCaps === undefined) {
        // Turned on after the function's value was recorded: record the mappings' own caps first.
        report.originalEventSources(observed.mappings);
        await this.#write(scaler, report);
        return { requeueAfterMs: 1 };
      }
      if (!manageCaps && recordedCaps !== undefined && spec.dryRun !== true) {
        // Turned off: give the mappings back their own caps and stop managing them.
        const restored = await this.#restoreCaps(aws, recordedCaps, observed.mappings, 'both');
        report.forgetEventSources();
        if (restored !== '')
          this.#deps.event(
            scaler,
            'Normal',
            EventReason.Restored,
            `eventSourceMapping.manageMaximumConcurrency is off: restored ${restored}`,
          );
      }
      const state = this.#states.get(uidOf(scaler))?.state ?? restorePolicyState(previous.policyState);
      const { decision, nextState } = decide(
        {
          spec,
          config,
          metrics: observed.metrics ?? { error: observed.metricsError ?? 'metrics unavailable' },
          currentConcurrency: observed.fn.reserved ?? null,
          lastApplied: previous.appliedConcurrency ?? null,
          ...(observed.batchSize === undefined ? {} : { batchSize: observed.batchSize }),
        },
        state,
        now,
      );
      report.policy(nextState, decision.desired ?? observed.fn.reserved ?? null);
      if (observed.metrics !== undefined) {
        report.backlog(observed.metrics);
        const m = this.#deps.metrics?.backlog;
        m?.set({ ...labels(scaler), kind: 'visible' }, observed.metrics.visible);
        m?.set({ ...labels(scaler), kind: 'in_flight' }, observed.metrics.inFlight);
        m?.set({ ...labels(scaler), kind: 'delayed' }, observed.metrics.delayed);
      } else report.metricsUnavailable(observed.metricsError ?? 'metrics unavailable');
      await this.#apply(
        scaler,
        spec,
        aws,
        observed.fn.reserved,
        decision,
        report,
        manageCaps ? observed.mappings : undefined,
      );
      await this.#write(scaler, report);
      const due = this.#due.get(uidOf(scaler));
      if (due !== undefined)
        this.#deps.metrics?.pollLateness.set(labels(scaler), Math.max(0, now - due) / 1000);
      // The next poll is due intervalMs after this one is requeued, i.e. from now on: a reconcile
      // that waited for the AWS budget makes its next poll later, not late.
      this.#due.set(uidOf(scaler), this.#deps.clock.now() + intervalMs);
      return { requeueAfterMs: intervalMs };
    } catch (error) {
      if (!(error instanceof AwsError)) throw error;
      if (error.errorClass === ErrorClass.Permanent) {
        report.stalled(reasonFor(error), error.message);
        await this.#write(scaler, report);
        this.#invalidate(scaler);
        return { requeueAfterMs: this.#deps.stalledRetryMs ?? 300_000 };
      }
      report.retrying(reasonFor(error), `${error.message}; holding the last applied value and retrying`);
      await this.#write(scaler, report);
      throw error; // the work queue backs off
    }
  }

  /** Notices drift, keeps the account's headroom, and writes the decision (unless dry-run). */
  async #apply(
    scaler: LambdaConcurrencyScaler,
    spec: LambdaConcurrencyScalerSpec,
    aws: AwsPorts,
    current: number | undefined,
    decision: Decision,
    report: StatusBuilder,
    mappings: Mapping[] | undefined,
  ): Promise<void> {
    const applied = scaler.status?.appliedConcurrency;
    if (applied !== undefined && current !== undefined && current !== applied && spec.dryRun !== true) {
      const message = `Reserved concurrency changed outside the operator: ${applied} → ${current}; continuing from ${current}`;
      this.#deps.event(scaler, 'Warning', EventReason.Drift, message);
    }
    let desired = decision.desired === null ? undefined : this.#bounded(decision.desired, spec);
    if (desired !== undefined) desired = await this.#withinHeadroom(scaler, aws, current, desired, report);
    const labelsUp = (up: boolean) => ({
      ...labels(scaler),
      direction: up ? 'up' : 'down',
      reason: decision.reason,
    });
    if (desired !== undefined && desired !== current) {
      const up = current === undefined || desired > current;
      const from = current === undefined ? 'unreserved' : String(current);
      if (spec.dryRun === true) {
        const cap =
          mappings === undefined ? '' : ` and the event source MaximumConcurrency to ${capFor(desired)}`;
        this.#deps.event(
          scaler,
          'Normal',
          EventReason.DryRun,
          `Dry run: would set reserved concurrency ${from} → ${desired}${cap}: ${decision.message}`,
        );
        report.dryRun(current, desired, decision.message);
      } else {
        // Keep "cap ≤ reserved" at every moment: lower the cap before lowering the reserved
        // concurrency, raise it only after raising the reserved concurrency.
        let capped = '';
        if (mappings !== undefined && !up) capped = await this.#setCaps(aws, mappings, desired);
        await aws.functions.putConcurrency(spec.awsLambdaName, desired);
        report.scaled(desired, decision.reason, decision.message);
        this.#deps.metrics?.actions.inc(labelsUp(up));
        if (mappings !== undefined) {
          if (up) capped = await this.#setCaps(aws, mappings, desired);
          report.eventSourceCap(capFor(desired));
          if (desired < 2)
            capped += `; event source MaximumConcurrency stays at 2, its lowest value, so the mapping may still pull up to 2 batches for reserved concurrency ${desired}`;
        }
        const reason = up ? EventReason.ScaledUp : EventReason.ScaledDown;
        this.#deps.event(
          scaler,
          'Normal',
          reason,
          `Reserved concurrency ${from} → ${desired}${capped}: ${decision.message}`,
        );
      }
    } else {
      report.steady(current, spec.dryRun === true);
      if (mappings !== undefined && current !== undefined && spec.dryRun !== true) {
        // Nothing to scale, but a mapping may not have the cap yet (just turned on, or changed
        // outside the operator): the cap only moves towards the current reserved concurrency.
        const capped = await this.#setCaps(aws, mappings, current);
        report.eventSourceCap(capFor(current));
        if (capped !== '')
          this.#deps.event(
            scaler,
            'Normal',
            EventReason.EventSourceCapped,
            `Reserved concurrency ${current}${capped}`,
          );
      }
    }
    this.#deps.metrics?.desired.set(labels(scaler), desired ?? current ?? 0);
    this.#deps.metrics?.applied.set(labels(scaler), report.status.concurrency ?? 0);
  }

  /**
   * Sets MaximumConcurrency = clamp(reserved, 2, 1000) on every mapping that does not have it yet,
   * updating the cached value after each successful write. Returns a note for the event message
   * ('' when nothing changed).
   */
  async #setCaps(aws: AwsPorts, mappings: Mapping[], reserved: number): Promise<string> {
    const cap = capFor(reserved);
    const changed: string[] = [];
    for (const m of mappings) {
      if (m.maximumConcurrency === cap) continue;
      await aws.functions.updateEventSourceMaximumConcurrency(m.uuid, cap);
      changed.push(`${m.maximumConcurrency ?? 'none'} → ${cap}`);
      m.maximumConcurrency = cap;
    }
    return changed.length === 0 ? '' : `, event source MaximumConcurrency ${changed.join(', ')}`;
  }

  /**
   * Puts back the mappings' recorded MaximumConcurrency (mappings gone since are skipped). `down`
   * restores only the caps that go down, `up` only those that go up or are removed, `both` all.
   * Returns what was restored ('' when nothing).
   */
  async #restoreCaps(
    aws: AwsPorts,
    recorded: readonly { uuid: string; maximumConcurrency?: number | undefined }[],
    mappings: Mapping[],
    which: 'down' | 'up' | 'both',
  ): Promise<string> {
    const done: string[] = [];
    for (const r of recorded) {
      const m = mappings.find((x) => x.uuid === r.uuid);
      if (m === undefined || m.maximumConcurrency === r.maximumConcurrency) continue;
      const down =
        r.maximumConcurrency !== undefined &&
        (m.maximumConcurrency === undefined || r.maximumConcurrency < m.maximumConcurrency);
      if (which === 'down' ? !down : which === 'up' ? down : false) continue;
      await aws.functions.updateEventSourceMaximumConcurrency(
        r.uuid,
        r.maximumConcurrency,
        Priority.ScaleDown,
      );
      m.maximumConcurrency = r.maximumConcurrency;
      done.push(`MaximumConcurrency ${r.maximumConcurrency ?? 'none'} on event source mapping ${r.uuid}`);
    }
    return done.join(', ');
  }

  /**
   * Caps a scale-up to the account's headroom: Lambda keeps 100 executions unreserved in every
   * account (AWS-FACTS.md), and scalers of one account that want more at the same time share
   * what is left by priority, then fairly (headroom.ts). Returns the value to set, or undefined.
   */
  async #withinHeadroom(
    scaler: LambdaConcurrencyScaler,
    aws: AwsPorts,
    current: number | undefined,
    desired: number,
    report: StatusBuilder,
  ): Promise<number | undefined> {
    const held = current ?? 0;
    const id = uidOf(scaler);
    const now = this.#deps.clock.now();
    if (desired <= held) {
      this.#headroom.grant(aws.account, { id, priority: 0, wanted: 0 }, 0, now);
      report.unconstrained();
      return desired;
    }
    const account = await aws.functions.accountConcurrency();
    if (account === undefined) {
      if (!this.#warnedNoAccount) {
        this.#warnedNoAccount = true;
        this.#deps.log.warn(
          'GetAccountSettings is not available at this endpoint: scaling without the account headroom check',
        );
      }
      report.unconstrained();
      return desired;
    }
    const priority = scaler.spec.priority ?? 0;
    const wanted = desired - held;
    const { granted, sharing } = this.#headroom.grant(
      aws.account,
      { id, priority, wanted },
      account.unreserved - 100,
      now,
    );
    if (granted >= wanted) {
      report.unconstrained();
      return desired;
    }
    const capped = held + granted;
    const others =
      sharing > 1 ? `, shared by priority then fairly between ${sharing} scalers that want more` : '';
    const message = `wanted ${desired} but the account has ${account.unreserved} unreserved of ${account.limit} and must keep 100 unreserved${others}: this scaler (priority ${priority}) gets ${capped}`;
    if (report.constrained(message)) this.#deps.event(scaler, 'Warning', EventReason.Constrained, message);
    return granted > 0 && capped >= scaler.spec.awsLambdaMinConcurrency ? capped : undefined;
  }

  /** On deletion: restore what the function had before the operator (unless Retain), then let go. */
  async #finalize(scaler: LambdaConcurrencyScaler): Promise<ReconcileResult> {
    const spec = scaler.spec;
    const original = scaler.status?.originalConcurrency;
    const restore = (spec.onDelete ?? OnDelete.Restore) === OnDelete.Restore && spec.dryRun !== true;
    if (restore && original !== undefined) {
      try {
        const aws = await this.#deps.aws(scaler);
        const fn = await aws.functions.concurrency(spec.awsLambdaName);
        const recorded = original.eventSources;
        let mappings: Mapping[] = [];
        if (recorded !== undefined && recorded.length > 0) {
          const sources = await aws.functions.eventSources(spec.awsLambdaName);
          mappings = sources.map((m) => ({ uuid: m.uuid, maximumConcurrency: m.maximumConcurrency }));
        }
        // Caps that go down are restored before the reserved concurrency, the others after.
        const lowered =
          recorded === undefined ? '' : await this.#restoreCaps(aws, recorded, mappings, 'down');
        if (original.reserved === undefined) {
          if (fn.reserved !== undefined) await aws.functions.deleteConcurrency(spec.awsLambdaName);
        } else if (fn.reserved !== original.reserved) {
          await aws.functions.putConcurrency(spec.awsLambdaName, original.reserved, Priority.ScaleDown);
        }
        const raised = recorded === undefined ? '' : await this.#restoreCaps(aws, recorded, mappings, 'up');
        const to =
          original.reserved === undefined
            ? 'no reserved concurrency'
            : `reserved concurrency ${original.reserved}`;
        const caps = [lowered, raised].filter((x) => x !== '').join(', ');
        this.#deps.event(
          scaler,
          'Normal',
          EventReason.Restored,
          `Restored ${to} on ${spec.awsLambdaName}${caps === '' ? '' : ` and ${caps}`}, as before the operator`,
        );
      } catch (error) {
        if (!(error instanceof AwsError) || error.errorClass === ErrorClass.Transient) throw error;
        // Nothing left to restore (or no way to): do not hold the deletion hostage.
        this.#deps.event(
          scaler,
          'Warning',
          EventReason.Restored,
          `Could not restore the function: ${error.message}`,
        );
      }
    }
    const finalizers = (scaler.metadata.finalizers ?? []).filter((f) => f !== FINALIZER);
    await this.#deps.setFinalizers(scaler, finalizers);
    this.#invalidate(scaler);
    return {};
  }

  /** Clamps into the user's bounds once more, whatever the policy said: never outside them. */
  #bounded(desired: number, spec: LambdaConcurrencyScalerSpec): number {
    return Math.min(maxConcurrency(spec), Math.max(spec.awsLambdaMinConcurrency, Math.round(desired)));
  }

  async #gather(
    scaler: LambdaConcurrencyScaler,
    spec: LambdaConcurrencyScalerSpec,
    aws: AwsPorts,
    now: number,
  ): Promise<{
    fn: FunctionConcurrency;
    mappings: Mapping[];
    batchSize?: number;
    metrics?: QueueMetrics;
    metricsError?: string;
  }> {
    const uid = uidOf(scaler);
    const generation = scaler.metadata.generation ?? 0;
    let queue = this.#queues.get(uid);
    if (queue === undefined || queue.generation !== generation) {
      queue = { value: await aws.queues.resolve(spec.awsSQSName), generation, at: now };
      this.#queues.set(uid, queue);
    }
    const refreshMs = this.#deps.eventSourceRefreshMs ?? 300_000;
    // Under a short GetFunction budget (thousands of scalers) a reading up to one event-source
    // refresh old serves; with budget to spare every poll reads (sdk.ts).
    const fn = await aws.functions.concurrency(spec.awsLambdaName, { maxAgeMs: refreshMs });
    let linked = this.#eventSources.get(uid);
    if (linked === undefined || linked.generation !== generation || now - linked.at >= refreshMs) {
      // The account-wide listing shared by all scalers first; a direct question before concluding
      // the queue is not an event source (the mapping may be newer than the listing). A function
      // with no mapping at all was already asked directly (sdk.ts): no need to ask twice.
      const arn = queue.value.arn;
      const shared = await aws.functions.eventSources(spec.awsLambdaName, {
        maxAgeMs: SHARED_LISTING_MAX_AGE_MS,
      });
      let ours = shared.filter((s) => s.eventSourceArn === arn);
      if (ours.length === 0 && shared.length > 0)
        ours = (await aws.functions.eventSources(spec.awsLambdaName)).filter((s) => s.eventSourceArn === arn);
      const mapping = ours[0];
      linked = {
        value: {
          linked: mapping !== undefined,
          batchSize: mapping?.batchSize,
          mappings: ours.map((m) => ({ uuid: m.uuid, maximumConcurrency: m.maximumConcurrency })),
        },
        generation,
        at: now,
      };
      this.#eventSources.set(uid, linked);
    }
    if (!linked.value.linked) {
      throw new AwsError(
        `queue ${spec.awsSQSName} is not an event source of function ${spec.awsLambdaName}: create an SQS event source mapping from the queue to the function, or fix awsSQSName/awsLambdaName`,
        {
          code: AwsErrorCode.InvalidParameter,
          errorClass: ErrorClass.Permanent,
          awsName: 'NotAnEventSource',
        },
      );
    }
    const batch = linked.value.batchSize === undefined ? {} : { batchSize: linked.value.batchSize };
    const mappings = linked.value.mappings;
    try {
      return { fn, mappings, ...batch, metrics: await aws.queues.metrics(queue.value.url) };
    } catch (error) {
      if (error instanceof AwsError && error.errorClass === ErrorClass.Transient) {
        return { fn, mappings, ...batch, metricsError: error.message };
      }
      throw error;
    }
  }

  async #write(scaler: LambdaConcurrencyScaler, report: StatusBuilder): Promise<void> {
    const before = scaler.status ?? {};
    report.scale(`${SCALE_SELECTOR_LABEL}=${scaler.metadata.uid ?? scaler.metadata.name}`);
    const after = report.status;
    this.#deps.metrics?.conditions(scaler.metadata.namespace, scaler.metadata.name, after.conditions ?? []);
    for (const event of report.transitions(before)) {
      this.#deps.event(scaler, 'Warning', event.reason, event.message);
    }
    const uid = uidOf(scaler);
    const now = this.#deps.clock.now();
    const remembered = this.#states.get(uid);
    const { policyState: _before, ...restBefore } = before;
    const { policyState: state, ...restAfter } = after;
    const checkpointMs = this.#deps.stateCheckpointMs ?? 300_000;
    const checkpointDue = remembered === undefined || now - remembered.persistedAt >= checkpointMs;
    const changed =
      !isDeepStrictEqual(restBefore, restAfter) || (checkpointDue && !isDeepStrictEqual(before, after));
    if (changed) await this.#deps.patchStatus(scaler, after);
    if (state !== undefined) {
      const persistedAt = changed || remembered === undefined ? now : remembered.persistedAt;
      this.#states.set(uid, { state: state as unknown as PolicyState, persistedAt });
    }
  }

  #invalidate(scaler: LambdaConcurrencyScaler): void {
    const uid = uidOf(scaler);
    this.#queues.delete(uid);
    this.#eventSources.delete(uid);
  }

  #forget(key: string): void {
    const [namespace = '', name = ''] = key.split('/');
    for (const uid of [...this.#states.keys(), ...this.#due.keys()]) {
      if (uid.startsWith(`${key}@`)) {
        this.#states.delete(uid);
        this.#due.delete(uid);
      }
    }
    this.#deps.metrics?.forget(namespace, name);
  }
}

/** An event source mapping of the scaler's queue to its function, as last read or written. */
interface Mapping {
  uuid: string;
  maximumConcurrency: number | undefined;
}

/** The cache key of a scaler: its uid, falling back on namespace/name. */
function uidOf(scaler: LambdaConcurrencyScaler): string {
  const { namespace, name, uid } = scaler.metadata;
  return `${namespace}/${name}@${uid ?? ''}`;
}

function labels(scaler: LambdaConcurrencyScaler): { namespace: string; name: string } {
  return { namespace: scaler.metadata.namespace, name: scaler.metadata.name };
}

function reasonFor(error: AwsError): Reason {
  if (error.awsName === 'NotAnEventSource') return Reason.NotAnEventSource;
  switch (error.code) {
    case AwsErrorCode.QueueNotFound:
      return Reason.QueueNotFound;
    case AwsErrorCode.FunctionNotFound:
      return Reason.FunctionNotFound;
    case AwsErrorCode.AccessDenied:
      return Reason.AccessDenied;
    case AwsErrorCode.CredentialsUnavailable:
      return Reason.CredentialsUnavailable;
    case AwsErrorCode.Throttled:
      return Reason.Throttled;
    case AwsErrorCode.InvalidParameter:
      return Reason.ApplyFailed;
    default:
      return Reason.AwsUnavailable;
  }
}

/**
 * Builds the next status from the previous one. Conditions follow kstatus: Ready always present,
 * Reconciling and Stalled only while true; transition times move only on real changes.
 */
class StatusBuilder {
  status: LambdaConcurrencyScalerStatus;
  readonly #generation: number;
  readonly #now: number;

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

  stalled(reason: Reason, message: string): void {
    this.status.state = State.Error;
    this.#set({ type: ConditionType.Stalled, status: 'True', reason, message });
    this.#set({ type: ConditionType.Ready, status: 'False', reason, message });
    this.#remove(ConditionType.Reconciling);
  }

  retrying(reason: Reason, message: string): void {
    this.#set({ type: ConditionType.Reconciling, status: 'True', reason, message });
    this.#set({ type: ConditionType.Ready, status: 'False', reason, message });
    this.#remove(ConditionType.Stalled);
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
    this.status.state = State.Adjusted;
    const message = `Dry run: decisions are reported, the function is not changed (it has ${current ?? 'no'} reserved concurrency)`;
    this.#set({ type: ConditionType.ConcurrencyApplied, status: 'False', reason: Reason.DryRun, message });
    this.#set({ type: ConditionType.Ready, status: 'True', reason: Reason.DryRun, message });
    this.#remove(ConditionType.Stalled);
    this.#remove(ConditionType.Reconciling);
  }

  original(reserved: number | undefined, mappings: readonly Mapping[] | undefined): void {
    this.status.originalConcurrency =
      reserved === undefined ? { recordedAt: iso(this.#now) } : { reserved, recordedAt: iso(this.#now) };
    if (mappings !== undefined) this.originalEventSources(mappings);
    if (reserved !== undefined) this.status.concurrency = reserved;
  }

  originalEventSources(mappings: readonly Mapping[]): void {
    const original = this.status.originalConcurrency ?? { recordedAt: iso(this.#now) };
    original.eventSources = mappings.map((m) =>
      m.maximumConcurrency === undefined
        ? { uuid: m.uuid }
        : { uuid: m.uuid, maximumConcurrency: m.maximumConcurrency },
    );
    this.status.originalConcurrency = original;
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
    this.status.state = State.Adjusted;
    const at = current === undefined ? 'no reserved concurrency' : `reserved concurrency ${current}`;
    this.#set({
      type: ConditionType.ConcurrencyApplied,
      status: 'True',
      reason: Reason.Applied,
      message: `The function has the ${at} the policy wants`,
    });
    this.#set({
      type: ConditionType.Ready,
      status: 'True',
      reason: Reason.Succeeded,
      message: `Scaling the function: ${at}`,
    });
    this.#remove(ConditionType.Stalled);
    this.#remove(ConditionType.Reconciling);
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
