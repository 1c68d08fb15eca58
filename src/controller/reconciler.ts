// The LambdaConcurrencyScaler reconciler: a short sequence of named steps — check the spec and the
// tenant's rights, observe (observe.ts), hold the function (claims.ts), decide (src/policy), actuate
// (actuate.ts), report (one status patch, only when it changed) — and finalize on deletion.
import { isDeepStrictEqual } from 'node:util';
import {
  actuatorOf,
  contradictions,
  EventReason,
  FINALIZER,
  type LambdaConcurrencyScaler,
  Actuator as Lever,
  maxConcurrency,
  OnDelete,
  PAUSED_ANNOTATION,
  parseSpec,
  Reason,
  roleAccount,
  SCALE_SELECTOR_LABEL,
} from '../api/v1alpha1/index.ts';
import { AwsError, AwsErrorCode, ErrorClass } from '../aws/errors.ts';
import type { FunctionPort } from '../aws/ports.ts';
import {
  decide,
  type PolicyState,
  resolvePolicyConfig,
  restorePolicyState,
  withApplied,
} from '../policy/index.ts';
import { unitHash } from '../runtime/hash.ts';
import { Actuator, labels, type Original } from './actuate.ts';
import { checkMappingMode, leverValue, MappingActuator } from './actuate-mapping.ts';
import { type ClaimCandidate, type ClaimView, FunctionClaims } from './claims.ts';
import { HeadroomLedger } from './headroom.ts';
import { type Observation, observeFunction, observeQueue, observeRest } from './observe.ts';
import type { AwsPorts, ReconcileResult, ReconcilerDeps } from './ports.ts';
import { idOf, type Pass, type ScalerRecord } from './record.ts';
import { StatusBuilder } from './status-builder.ts';

/** Each poll is requeued within ±POLL_JITTER of the interval, so scalers created together fall out of step. */
export const POLL_JITTER = 0.05;
/**
 * While the account's headroom holds a raise back (the write was capped or refused at the
 * unreserved floor), a LatencySLO scaler sizing from the function's measured Duration looks again
 * this soon, or at its own interval if that is sooner (#heldBackPollMs says when). The units
 * it waits for come back when another scaler's poll releases them, at any moment of its own
 * interval: looking every 30 s took up to 30 s more to claim them. Measured (issue 15,
 * bench/REPORT.md): the ten overlapping peaks went from 43 % to 36 % of messages over the SLO. The
 * extra polls are one GetQueueAttributes each; the account's settings are a shared reading, and a
 * write happens only when the ledger grants more. A scaler alone in its account is never held back.
 */
export const HELD_BACK_POLL_MS = 5_000;
/**
 * The most extra polls a second an account's held-back scalers make together: with more of them
 * held back than this many × 5 s, each looks again less often (up to its own interval), so a
 * squeezed account of thousands of scalers does not multiply the operator's work by six.
 */
export const HELD_BACK_POLLS_PER_SECOND = 20;

/** When a poll held back by the account comes again: `heldBack` of the account's scalers are. */
export function heldBackPollMs(intervalMs: number, heldBack: number): number {
  return Math.min(intervalMs, Math.max(HELD_BACK_POLL_MS, (heldBack * 1000) / HELD_BACK_POLLS_PER_SECOND));
}

export type { AwsPorts, ReconcileResult, ReconcilerDeps } from './ports.ts';

/** A reconcile step's verdict: go on (undefined), or stop here with this result. */
type Step = ReconcileResult | undefined;

/** Reconciles LambdaConcurrencyScalers; one instance per manager, state only in caches. */
export class ScalerReconciler {
  readonly #deps: ReconcilerDeps;
  readonly #records = new Map<string, ScalerRecord>();
  /** Who in each account wants more reserved concurrency right now (shared headroom). */
  readonly #headroom = new HeadroomLedger(120_000);
  readonly #claims = new FunctionClaims();
  readonly #actuator: Actuator;
  /** Writes the mappings instead, for spec.actuator EventSourceMaximumConcurrency and ProvisionedPollers. */
  readonly #mappingActuator: MappingActuator;

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
    this.#actuator = new Actuator(deps, this.#headroom);
    this.#mappingActuator = new MappingActuator(deps);
  }

  async reconcile(key: string, signal: AbortSignal = new AbortController().signal): Promise<ReconcileResult> {
    let scaler = this.#deps.get(key);
    if (scaler === undefined) {
      this.#forget(key);
      return {};
    }
    const finalizers = scaler.metadata.finalizers ?? [];
    if (scaler.metadata.deletionTimestamp !== undefined)
      return finalizers.includes(FINALIZER) ? this.#finalize(scaler, signal) : {};

    const report = new StatusBuilder(
      scaler.status ?? {},
      scaler.metadata.generation ?? 0,
      this.#deps.clock.now(),
    );
    const parsed = parseSpec(scaler.spec);
    if (!parsed.ok) {
      const message = parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; ');
      report.stalled(Reason.InvalidSpec, `The spec is invalid: ${message}`);
      await this.#write(scaler, report, undefined, signal);
      return {};
    }
    const spec = parsed.spec;
    report.lever(actuatorOf(spec));
    const config = resolvePolicyConfig(spec);
    this.#deps.metrics?.min.set(labels(scaler), spec.awsLambdaMinConcurrency);
    this.#deps.metrics?.max.set(labels(scaler), maxConcurrency(spec));
    this.#deps.metrics?.describe(scaler.metadata.namespace, scaler.metadata.name, spec);
    const intervalMs = config.pollingIntervalSeconds * 1000;
    if (scaler.metadata.annotations?.[PAUSED_ANNOTATION] === 'true') {
      report.paused();
      await this.#write(scaler, report, undefined, signal);
      return { requeueAfterMs: intervalMs };
    }
    report.unpaused();
    if (!finalizers.includes(FINALIZER))
      scaler = await this.#deps.setFinalizers(scaler, [...finalizers, FINALIZER], signal);

    const id = idOf(scaler);
    const record = this.#record(id, scaler.metadata.generation ?? 0);
    try {
      const aws = this.#fenced(scaler, await this.#deps.aws(scaler, signal));
      if (config.metrics.source === 'CloudWatch' && aws.cloudWatch === undefined) {
        // A scaler without metrics must not pretend to work.
        report.stalled(
          Reason.InvalidSpec,
          'metrics.source CloudWatch: this endpoint has no CloudWatch client',
        );
        await this.#write(scaler, report, record, signal);
        return {};
      }
      const pass: Pass = {
        scaler,
        id,
        spec,
        config,
        record,
        report,
        aws,
        signal,
        now: this.#deps.clock.now(),
      };
      const result = await this.#steps(pass, intervalMs);
      await this.#write(scaler, report, record, signal);
      return result;
    } catch (error) {
      if (!(error instanceof AwsError) || signal.aborted) throw error;
      // Nothing was written or failed: decide afresh once the account's line has moved.
      if (error.code === AwsErrorCode.Deferred) return this.#deferred(error);
      if (error.errorClass === ErrorClass.Permanent) {
        report.stalled(reasonFor(error), error.message);
        await this.#write(scaler, report, record, signal);
        this.#invalidate(record);
        return { requeueAfterMs: this.#deps.stalledRetryMs ?? 300_000 };
      }
      report.retrying(reasonFor(error), `${error.message}; holding the last applied value and retrying`);
      await this.#write(scaler, report, record, signal);
      // Never wait longer than one scale-down window (or one poll) to try again.
      const window = Math.max(
        config.behavior.scaleDown.stabilizationWindowSeconds,
        config.pollingIntervalSeconds,
      );
      throw Object.assign(error, { maxRetryDelayMs: window * 1000 });
    }
  }

  /** Each step either hands on or ends the reconcile with its result; the status is then written. */
  async #steps(pass: Pass, intervalMs: number): Promise<ReconcileResult> {
    const refused = this.#checkTenancy(pass);
    if (refused !== undefined) return refused;
    const held = await this.#holdFunction(pass);
    if (!('observed' in held)) return held;
    const sooner = await this.#decideAndAct(pass, held.observed);
    return this.#requeue(pass, sooner ?? intervalMs);
  }

  /** The references agree with the scaler's Region and identity, and the tenant may act as it does. */
  #checkTenancy(pass: Pass): Step {
    const { scaler, spec, report, aws, record } = pass;
    const tenancy = this.#deps.tenancy;
    const namespace = scaler.metadata.namespace;
    const problems = contradictions(
      spec,
      aws.region,
      spec.credentials?.roleArn === undefined ? undefined : roleAccount(spec.credentials.roleArn),
    );
    if (problems.length > 0) {
      report.stalled(Reason.InvalidSpec, problems.map((p) => `${p.path}: ${p.message}`).join('; '));
      return { requeueAfterMs: this.#deps.stalledRetryMs ?? 300_000 };
    }
    if (tenancy === undefined || spec.credentials?.secretRef !== undefined) return undefined;
    // Without keys of its own, a scaler acts as the operator (directly, or assuming a role with it).
    const verdict = tenancy.operatorIdentity(namespace);
    if (!verdict.allowed) {
      report.stalled(Reason.NotAllowed, verdict.message);
      return { requeueAfterMs: this.#deps.stalledRetryMs ?? 300_000 };
    }
    if (verdict.warning !== undefined && record.warnedIdentity !== true) {
      record.warnedIdentity = true;
      this.#deps.log.warn({ scaler: `${namespace}/${scaler.metadata.name}` }, verdict.warning);
      this.#deps.event(scaler, 'Warning', EventReason.OperatorIdentity, verdict.warning);
    }
    return undefined;
  }

  /**
   * Exactly one scaler holds a function. A scaler that now names another function than the one it
   * holds gives the old one back first; one whose function another scaler holds never writes.
   */
  async #holdFunction(pass: Pass): Promise<ReconcileResult | { observed: Observation }> {
    const { scaler, spec, report, aws, signal, id } = pass;
    const refreshMs = this.#deps.eventSourceRefreshMs ?? 300_000;
    const fn = await observeFunction(pass, refreshMs, this.#deps.driftCheckMs ?? 120_000);
    const status = scaler.status ?? {};
    const held = status.functionArn;
    if (held !== undefined && held !== fn.functionArn) {
      // awsLambdaName changed: restore the function held so far before taking the new one.
      const original = status.originalConcurrency;
      if (
        original !== undefined &&
        spec.dryRun !== true &&
        (spec.onDelete ?? OnDelete.Restore) === OnDelete.Restore
      ) {
        const restored = await this.#restore(aws, held, original, signal);
        this.#deps.event(scaler, 'Normal', EventReason.Released, `No longer scaling ${held}: ${restored}`);
      }
      this.#claims.release((other) => other === id, held);
      report.released();
      return { requeueAfterMs: 1 };
    }
    const holder = this.#claims.claim(fn.functionArn, id, this.#claimView);
    if (holder !== id) {
      const other = holder.split('@')[0];
      if (status.functionArn === undefined && status.originalConcurrency !== undefined) report.released();
      report.stalled(
        Reason.FunctionClaimed,
        `function ${fn.functionArn} is scaled by ${other}: a function is scaled by one LambdaConcurrencyScaler at a time, so this one makes no change until ${other} lets go of it`,
      );
      return { requeueAfterMs: pass.config.pollingIntervalSeconds * 1000 };
    }
    const namespace = scaler.metadata.namespace;
    const fnRefusal = this.#deps.tenancy?.refuses(namespace, 'functions', fn.functionArn);
    if (fnRefusal !== undefined) {
      report.stalled(Reason.NotAllowed, fnRefusal);
      return { requeueAfterMs: this.#deps.stalledRetryMs ?? 300_000 };
    }
    const queue = await observeQueue(pass);
    const queueRefusal = this.#deps.tenancy?.refuses(namespace, 'queues', queue.arn);
    if (queueRefusal !== undefined) {
      report.stalled(Reason.NotAllowed, queueRefusal);
      return { requeueAfterMs: this.#deps.stalledRetryMs ?? 300_000 };
    }
    const warnedServiceTime = pass.record.serviceTime?.error;
    const observed = await observeRest(pass, fn, queue, refreshMs);
    const serviceTimeError = pass.record.serviceTime?.error;
    if (serviceTimeError !== undefined && serviceTimeError !== warnedServiceTime)
      // Once per distinct failure, not every minute: the scaler goes on from the queue's counts.
      this.#deps.event(
        scaler,
        'Warning',
        EventReason.MetricsUnavailable,
        `the function's Duration could not be read from CloudWatch (${serviceTimeError}); ${
          observed.serviceTimeSeconds === undefined
            ? "LatencySLO estimates the service time from the queue's counts meanwhile"
            : `LatencySLO keeps the last mean read, ${observed.serviceTimeSeconds.toFixed(3)} s`
        }`,
      );
    const lever = actuatorOf(spec);
    const recorded = status.originalConcurrency;
    if (recorded !== undefined && (recorded.actuator ?? Lever.ReservedConcurrency) !== lever) {
      // spec.actuator changed: give back what the previous lever wrote, then record afresh.
      if (spec.dryRun !== true) {
        const restored = await this.#restore(aws, fn.functionArn, recorded, signal);
        this.#deps.event(
          scaler,
          'Normal',
          EventReason.Restored,
          `spec.actuator is now ${lever} (was ${recorded.actuator ?? Lever.ReservedConcurrency}): ${restored}`,
        );
      }
      report.leverReleased();
      pass.record.lastApplied = undefined;
      pass.record.eventSources = undefined;
      return { requeueAfterMs: 1 };
    }
    if (lever !== Lever.ReservedConcurrency) checkMappingMode(lever, observed.mappings, queue.arn);
    const manageCaps =
      lever === Lever.ReservedConcurrency && spec.eventSourceMapping?.manageMaximumConcurrency === true;
    if (status.originalConcurrency === undefined) {
      // Record what to restore before the first change, in its own status write.
      const mappings = manageCaps || lever !== Lever.ReservedConcurrency ? observed.mappings : undefined;
      report.original(fn.functionArn, fn.reserved, mappings, lever);
      return { requeueAfterMs: 1 };
    }
    if (held === undefined) report.holds(fn.functionArn); // a status from before status.functionArn
    if (manageCaps && status.originalConcurrency.eventSources === undefined) {
      // Turned on after the function's value was recorded: record the mappings' own caps first.
      report.originalEventSources(observed.mappings);
      return { requeueAfterMs: 1 };
    }
    return { observed };
  }

  /** Decide and actuate on what was observed, and report it. */
  /** Decides and writes; returns when to poll next if that is sooner than the interval. */
  async #decideAndAct(pass: Pass, observed: Observation): Promise<number | undefined> {
    const { scaler, spec, config, report, aws, record, signal, now } = pass;
    const previous = scaler.status ?? {};
    const lever = actuatorOf(spec);
    const manageCaps = spec.eventSourceMapping?.manageMaximumConcurrency === true;
    const recordedCaps = previous.originalConcurrency?.eventSources;
    if (
      lever === Lever.ReservedConcurrency &&
      !manageCaps &&
      recordedCaps !== undefined &&
      spec.dryRun !== true
    ) {
      // Turned off: give the mappings back their own caps and stop managing them.
      const restored = await this.#actuator.restoreCaps(aws, recordedCaps, observed.mappings, 'both', signal);
      report.forgetEventSources();
      if (restored !== '')
        this.#deps.event(
          scaler,
          'Normal',
          EventReason.Restored,
          `eventSourceMapping.manageMaximumConcurrency is off: restored ${restored}`,
        );
    }
    const state = record.policy?.state ?? restorePolicyState(previous.policyState);
    // The concurrency the lever holds now: the policy decides on it, whatever writes it.
    const current =
      lever === Lever.ReservedConcurrency ? observed.fn.reserved : leverValue(lever, observed.mappings);
    const { decision, nextState } = decide(
      {
        spec,
        config,
        metrics: observed.metrics ?? { error: observed.metricsError ?? 'metrics unavailable' },
        currentConcurrency: current ?? null,
        lastApplied: previous.appliedConcurrency ?? null,
        ...(observed.batchSize === undefined ? {} : { batchSize: observed.batchSize }),
        ...(observed.serviceTimeSeconds === undefined
          ? {}
          : { serviceTimeSeconds: observed.serviceTimeSeconds }),
        contended: this.#headroom.contended(aws.account, pass.id, now),
      },
      state,
      now,
    );
    report.policy(nextState, decision.desired ?? current ?? null);
    if (observed.metrics !== undefined) {
      report.backlog(observed.metrics);
      const m = this.#deps.metrics?.backlog;
      m?.set({ ...labels(scaler), kind: 'visible' }, observed.metrics.visible);
      m?.set({ ...labels(scaler), kind: 'in_flight' }, observed.metrics.inFlight);
      m?.set({ ...labels(scaler), kind: 'delayed' }, observed.metrics.delayed);
    } else report.metricsUnavailable(observed.metricsError ?? 'metrics unavailable');
    if (lever === Lever.ReservedConcurrency) {
      const applied = await this.#actuator.apply(pass, observed, decision, manageCaps);
      // What the estimates take as the next interval's concurrency: what was written, not decided.
      if (applied !== undefined && decision.desired !== null && applied !== decision.desired)
        report.policy(withApplied(nextState, applied), decision.desired);
    } else await this.#mappingActuator.apply(pass, observed, decision, lever);
    return this.#heldBackPollMs(pass, observed);
  }

  /**
   * Sooner than the interval (heldBackPollMs) when the account's headroom held this poll's raise
   * back and the policy sizes from the measured Duration: the estimates learned from the queue's
   * counts alone need intervals as long as a poll (5 s ones held a burst's 600 units for five
   * minutes on an empty queue in the benchmark's two bursts). Not in a dry run, which writes
   * nothing to claim.
   */
  #heldBackPollMs(pass: Pass, observed: Observation): number | undefined {
    if (pass.heldBack !== true || pass.spec.dryRun === true || observed.serviceTimeSeconds === undefined)
      return undefined;
    const held = this.#headroom.shortCount(pass.aws.account, this.#deps.clock.now());
    return heldBackPollMs(pass.config.pollingIntervalSeconds * 1000, Math.max(1, held));
  }

  /** Gives `fn` back what the lever the values were recorded for wrote (status.originalConcurrency). */
  #restore(aws: AwsPorts, fn: string, original: Original, signal: AbortSignal): Promise<string> {
    return (original.actuator ?? Lever.ReservedConcurrency) === Lever.ReservedConcurrency
      ? this.#actuator.restore(aws, fn, original, signal)
      : this.#mappingActuator.restore(aws, fn, original, signal);
  }

  /**
   * The regular poll: measured for lateness, jittered by ±5 % so scalers do not march in step
   * (`intervalMs` is sooner than the spec's while the account holds a raise back: #heldBackPollMs).
   */
  #requeue(pass: Pass, intervalMs: number): ReconcileResult {
    const { record, scaler, now } = pass;
    if (record.due !== undefined)
      this.#deps.metrics?.pollLateness.set(labels(scaler), Math.max(0, now - record.due) / 1000);
    const jittered = Math.round(
      intervalMs * (1 - POLL_JITTER + 2 * POLL_JITTER * (this.#deps.random ?? Math.random)()),
    );
    // The next poll is due from when it is requeued: a reconcile that waited for the AWS budget
    // makes its next poll later, not late.
    record.due = this.#deps.clock.now() + jittered;
    return { requeueAfterMs: jittered };
  }

  /** On deletion: restore what the function had before the operator (unless Retain), then let go. */
  async #finalize(scaler: LambdaConcurrencyScaler, signal: AbortSignal): Promise<ReconcileResult> {
    const spec = scaler.spec;
    const status = scaler.status ?? {};
    const original = status.originalConcurrency;
    const id = idOf(scaler);
    const restore = (spec.onDelete ?? OnDelete.Restore) === OnDelete.Restore && spec.dryRun !== true;
    // Only the holder restores: a scaler that never held the function has nothing of it recorded.
    const fn = status.functionArn ?? spec.awsLambdaName;
    const holder = status.functionArn === undefined ? undefined : this.#claims.holderOf(status.functionArn);
    if (restore && original !== undefined && (holder === undefined || holder === id)) {
      try {
        const aws = this.#fenced(scaler, await this.#deps.aws(scaler, signal));
        const restored = await this.#restore(aws, fn, original, signal);
        this.#deps.event(scaler, 'Normal', EventReason.Restored, restored);
      } catch (error) {
        if (error instanceof AwsError && error.code === AwsErrorCode.Deferred && !signal.aborted)
          return this.#deferred(error);
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
    await this.#deps.setFinalizers(scaler, finalizers, signal);
    this.#release(id, scaler);
    return {};
  }

  /** Comes back when the account's line for writes has moved (spread by 10 %, not in step). */
  #deferred(error: AwsError): ReconcileResult {
    const waitMs = (error.retryAfterSeconds ?? 30) * 1000;
    return { requeueAfterMs: Math.round(waitMs * (1 + 0.1 * (this.#deps.random ?? Math.random)())) };
  }

  /** The ports with every write behind the fence (a sharded manager's), when there is one. */
  #fenced(scaler: LambdaConcurrencyScaler, aws: AwsPorts): AwsPorts {
    const mayWrite = this.#deps.mayWrite;
    if (mayWrite === undefined) return aws;
    const check = (): void => {
      if (!mayWrite.call(this.#deps, scaler))
        throw new AwsError(
          `this replica no longer holds the account of ${scaler.metadata.namespace}/${scaler.metadata.name}: not writing`,
          {
            code: AwsErrorCode.Cancelled,
            errorClass: ErrorClass.Transient,
          },
        );
    };
    const f = aws.functions;
    const functions: FunctionPort = {
      concurrency: (...a) => f.concurrency(...a),
      eventSources: (...a) => f.eventSources(...a),
      accountConcurrency: (...a) => f.accountConcurrency(...a),
      putConcurrency: (...a) => {
        check();
        return f.putConcurrency(...a);
      },
      deleteConcurrency: (...a) => {
        check();
        return f.deleteConcurrency(...a);
      },
      updateEventSourceMaximumConcurrency: (...a) => {
        check();
        return f.updateEventSourceMaximumConcurrency(...a);
      },
      updateEventSourceProvisionedPollers: (...a) => {
        check();
        return f.updateEventSourceProvisionedPollers(...a);
      },
    };
    return { ...aws, functions };
  }

  /** The scalers the manager sees, as the claims ask about them (claims.ts). */
  readonly #claimView: ClaimView = {
    exists: (id) => {
      if (this.#deps.list === undefined) return undefined;
      const at = id.lastIndexOf('@');
      return (this.#deps.get(id.slice(0, at))?.metadata.uid ?? '') === id.slice(at + 1);
    },
    candidates: () => this.#candidates(),
  };

  /** Every scaler the manager sees, as the claims need them; undefined when it cannot list. */
  #candidates(): ClaimCandidate[] | undefined {
    const all = this.#deps.list?.();
    if (all === undefined) return undefined;
    return all.map((s) => ({
      id: idOf(s),
      // A scaler being deleted still holds its function until its finalizer has restored it.
      functionArn: s.status?.functionArn,
      createdAt: s.metadata.creationTimestamp ?? '',
    }));
  }

  #record(id: string, generation: number): ScalerRecord {
    let record = this.#records.get(id);
    if (record === undefined) {
      record = { generation };
      this.#records.set(id, record);
    }
    if (record.generation !== generation) {
      record.generation = generation;
      this.#invalidate(record);
    }
    return record;
  }

  /** Writes the status if it changed (or the policy history's checkpoint is due). */
  async #write(
    scaler: LambdaConcurrencyScaler,
    report: StatusBuilder,
    record: ScalerRecord | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const before = scaler.status ?? {};
    report.scale(`${SCALE_SELECTOR_LABEL}=${scaler.metadata.uid ?? scaler.metadata.name}`);
    const after = report.finish();
    this.#deps.metrics?.conditions(scaler.metadata.namespace, scaler.metadata.name, after.conditions ?? []);
    for (const event of report.transitions(before))
      this.#deps.event(scaler, 'Warning', event.reason, event.message);
    const now = this.#deps.clock.now();
    const remembered = record?.policy;
    // The policy history and the backlog move with every poll: alone, they are written at the
    // checkpoint cadence (5,000 scalers at 30 s would otherwise patch status 167 times a second);
    // any other change writes them too. The live backlog is in /metrics (lcs_queue_messages).
    const { policyState: _before, backlog: _backlogBefore, ...restBefore } = before;
    const { policyState: state, backlog: _backlogAfter, ...restAfter } = after;
    const checkpointDue = remembered === undefined || now >= remembered.checkpointAt;
    const changed =
      !isDeepStrictEqual(restBefore, restAfter) || (checkpointDue && !isDeepStrictEqual(before, after));
    if (changed) await this.#deps.patchStatus(scaler, after, signal);
    if (record !== undefined && state !== undefined) {
      const persisted = changed || remembered === undefined;
      record.policy = {
        state: state as unknown as PolicyState,
        checkpointAt: persisted ? now + this.#checkpointMs(idOf(scaler), now) : remembered.checkpointAt,
      };
    }
  }

  /**
   * The time to the next checkpoint of scaler `id` written at `now`: between half and all of
   * stateCheckpointMs. Scalers created together are first written together; with a fixed interval
   * their checkpoints stayed in step, 5,000 status writes within a minute every five minutes. The
   * draw is a hash of the scaler and the time, not the jitter stream: a status write changes no
   * decision, so it must not move the seeded poll jitter that the benchmark replays.
   */
  #checkpointMs(id: string, now: number): number {
    const full = this.#deps.stateCheckpointMs ?? 300_000;
    return Math.round(full * (0.5 + 0.5 * unitHash(`${id}@${now}`)));
  }

  #invalidate(record: ScalerRecord): void {
    record.queue = undefined;
    record.eventSources = undefined;
  }

  /** Lets go of everything a scaler held in memory: its claim, its headroom demand, its record. */
  #release(id: string, scaler: LambdaConcurrencyScaler): void {
    const mine = (other: string) => other === id;
    this.#claims.release(mine);
    this.#headroom.forget(mine);
    this.#records.delete(id);
    this.#deps.metrics?.forget(scaler.metadata.namespace, scaler.metadata.name);
  }

  /** The object is gone from the cache (deleted, possibly while the manager was down). */
  /** Forgets what this manager remembers of a scaler (another replica serves it now). */
  forget(key: string): void {
    this.#forget(key);
  }

  #forget(key: string): void {
    const [namespace = '', name = ''] = key.split('/');
    const ofKey = (id: string) => id.startsWith(`${key}@`);
    for (const id of this.#records.keys()) if (ofKey(id)) this.#records.delete(id);
    this.#claims.release(ofKey);
    this.#headroom.forget(ofKey);
    this.#deps.metrics?.forget(namespace, name);
  }
}

function reasonFor(error: AwsError): Reason {
  if (error.awsName === 'NotAnEventSource') return Reason.NotAnEventSource;
  if (error.awsName === 'EventSourceMode') return Reason.EventSourceMode;
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
