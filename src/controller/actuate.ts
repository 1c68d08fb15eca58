// Actuate: the only code that writes to AWS. It keeps every value within the user's bounds and the
// account's headroom, keeps "mapping cap ≤ reserved" at every moment, degrades a refused write to
// the highest value AWS accepts, and gives a function back what it had before the operator.
import {
  EventReason,
  type LambdaConcurrencyScaler,
  type LambdaConcurrencyScalerSpec,
  type Actuator as Lever,
  maxConcurrency,
} from '../api/v1alpha1/index.ts';
import { AwsError, AwsErrorCode } from '../aws/errors.ts';
import { Priority } from '../aws/limiter.ts';
import { capFor } from '../aws/ports.ts';
import type { Decision } from '../policy/index.ts';
import type { HeadroomLedger } from './headroom.ts';
import type { Observation } from './observe.ts';
import type { AwsPorts, ReconcilerDeps } from './ports.ts';
import type { Pass } from './record.ts';
import type { Mapping } from './status-builder.ts';

/** What a function had before the operator, as status.originalConcurrency records it. */
export interface Original {
  reserved?: number | undefined;
  actuator?: Lever | undefined;
  eventSources?:
    | readonly {
        uuid: string;
        maximumConcurrency?: number | undefined;
        provisionedPollers?: { minimumPollers: number; maximumPollers: number } | undefined;
      }[]
    | undefined;
}

export class Actuator {
  readonly #deps: ReconcilerDeps;
  readonly #headroom: HeadroomLedger;
  /** Set once the endpoint has been seen without GetAccountSettings (moto), to warn only once. */
  #warnedNoAccount = false;

  constructor(deps: ReconcilerDeps, headroom: HeadroomLedger) {
    this.#deps = deps;
    this.#headroom = headroom;
  }

  /**
   * Notices drift, keeps the account's headroom, and writes the decision (unless dry-run).
   * Returns the reserved concurrency the function has afterwards (undefined: unreserved).
   */
  async apply(
    pass: Pass,
    observed: Observation,
    decision: Decision,
    manageCaps: boolean,
  ): Promise<number | undefined> {
    const { scaler, spec, report, record } = pass;
    const current = observed.fn.reserved;
    const mappings = manageCaps ? observed.mappings : undefined;
    // Our own last write counts before the cached status: after an API server outage the status
    // that says so may not have been written (or not seen yet), and our write is not drift.
    const ours = record.lastApplied?.functionArn === observed.fn.functionArn ? record.lastApplied : undefined;
    const applied = ours !== undefined ? ours.value : scaler.status?.appliedConcurrency;
    if (applied !== undefined && current !== applied && spec.dryRun !== true) {
      const message = `Reserved concurrency changed outside the operator: ${applied} → ${current ?? 'unreserved'}; continuing from ${current ?? 'unreserved'}`;
      this.#deps.event(scaler, 'Warning', EventReason.Drift, message);
    }
    let desired = decision.desired === null ? undefined : bounded(decision.desired, spec);
    if (desired !== undefined) desired = await this.#withinHeadroom(pass, current, desired);
    if (desired === undefined || desired === current) {
      report.steady(current, spec.dryRun === true);
      if (mappings !== undefined && current !== undefined && spec.dryRun !== true) {
        // Nothing to scale, but a mapping may not have the cap yet (just turned on, or changed
        // outside the operator): the cap only moves towards the current reserved concurrency.
        const capped = await this.setCaps(pass, mappings, current);
        report.eventSourceCap(capFor(current));
        if (capped !== '')
          this.#deps.event(
            scaler,
            'Normal',
            EventReason.EventSourceCapped,
            `Reserved concurrency ${current}${capped}`,
          );
      }
      this.#gauges(pass, desired ?? current);
      return current;
    }
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
      this.#gauges(pass, desired);
      return current;
    }
    // Keep "cap ≤ reserved" at every moment: lower the cap before lowering the reserved
    // concurrency, raise it only after raising the reserved concurrency.
    let capped = '';
    if (mappings !== undefined && !up) capped = await this.setCaps(pass, mappings, desired);
    const written = await this.#put(pass, observed, current, desired, up);
    if (written === undefined || written === current) {
      report.steady(current, false);
      this.#gauges(pass, desired);
      return current;
    }
    report.scaled(written, decision.reason, decision.message);
    this.#deps.metrics?.actions.inc({
      ...labels(scaler),
      direction: up ? 'up' : 'down',
      reason: decision.reason,
    });
    if (mappings !== undefined) {
      if (up) capped = await this.setCaps(pass, mappings, written);
      report.eventSourceCap(capFor(written));
      if (written < 2)
        capped += `; event source MaximumConcurrency stays at 2, its lowest value, so the mapping may still pull up to 2 batches for reserved concurrency ${written}`;
    }
    const refused = written === desired ? '' : ` (AWS refused ${desired}: the account keeps 100 unreserved)`;
    this.#deps.event(
      scaler,
      'Normal',
      up ? EventReason.ScaledUp : EventReason.ScaledDown,
      `Reserved concurrency ${from} → ${written}${refused}${capped}: ${decision.message}`,
    );
    this.#gauges(pass, desired);
    return written;
  }

  /**
   * PutFunctionConcurrency. When AWS refuses a scale-up for the account's headroom (our reading
   * was older than the pool), the pool is read afresh and the highest value AWS accepts is set
   * instead: the scaler is Constrained, not stuck. Returns what the function has afterwards.
   */
  async #put(
    pass: Pass,
    observed: Observation,
    current: number | undefined,
    desired: number,
    up: boolean,
  ): Promise<number | undefined> {
    const { aws, spec, signal, record } = pass;
    const remember = (value: number | undefined) => {
      record.lastApplied = { functionArn: observed.fn.functionArn, value };
    };
    try {
      await aws.functions.putConcurrency(spec.awsLambdaName, desired, undefined, { signal });
      remember(desired);
      return desired;
    } catch (error) {
      if (!(error instanceof AwsError) || error.code !== AwsErrorCode.InsufficientHeadroom || !up)
        throw error;
    }
    const held = current ?? 0;
    const account = await aws.functions.accountConcurrency({ maxAgeMs: 0, signal });
    const highest = held + Math.max(0, (account?.unreserved ?? 100) - 100);
    const fallback = Math.min(desired - 1, highest);
    const message = `AWS refused reserved concurrency ${desired}: the account has ${account?.unreserved ?? 'too few'} unreserved${account === undefined ? '' : ` of ${account.limit}`} and must keep 100 unreserved; holding ${fallback > held && fallback >= spec.awsLambdaMinConcurrency ? fallback : held}`;
    if (pass.report.constrained(message))
      this.#deps.event(pass.scaler, 'Warning', EventReason.Constrained, message);
    pass.heldBack = true;
    if (fallback <= held || fallback < spec.awsLambdaMinConcurrency) return current;
    try {
      await aws.functions.putConcurrency(spec.awsLambdaName, fallback, undefined, { signal });
    } catch (error) {
      if (error instanceof AwsError && error.code === AwsErrorCode.InsufficientHeadroom) return current;
      throw error;
    }
    remember(fallback);
    return fallback;
  }

  #gauges(pass: Pass, desired: number | undefined): void {
    this.#deps.metrics?.desired.set(labels(pass.scaler), desired ?? 0);
    this.#deps.metrics?.applied.set(labels(pass.scaler), pass.report.status.concurrency ?? 0);
  }

  /**
   * Sets MaximumConcurrency = clamp(reserved, 2, 1000) on every mapping that does not have it yet,
   * updating the cached value after each successful write. Returns a note for the event message
   * ('' when nothing changed).
   */
  async setCaps(pass: Pass, mappings: Mapping[], reserved: number): Promise<string> {
    const cap = capFor(reserved);
    const changed: string[] = [];
    for (const m of mappings) {
      if (m.maximumConcurrency === cap) continue;
      await pass.aws.functions.updateEventSourceMaximumConcurrency(m.uuid, cap, undefined, {
        signal: pass.signal,
      });
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
  async restoreCaps(
    aws: AwsPorts,
    recorded: Original['eventSources'] & {},
    mappings: Mapping[],
    which: 'down' | 'up' | 'both',
    signal: AbortSignal,
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
        {
          signal,
        },
      );
      m.maximumConcurrency = r.maximumConcurrency;
      done.push(`MaximumConcurrency ${r.maximumConcurrency ?? 'none'} on event source mapping ${r.uuid}`);
    }
    return done.join(', ');
  }

  /**
   * Gives `fn` (a name or ARN) back what it had before the operator: caps that go down first,
   * then the reserved concurrency, then the caps that go up or are removed. Returns a sentence.
   */
  async restore(aws: AwsPorts, fn: string, original: Original, signal: AbortSignal): Promise<string> {
    const now = await aws.functions.concurrency(fn, { signal });
    const recorded = original.eventSources;
    let mappings: Mapping[] = [];
    if (recorded !== undefined && recorded.length > 0) {
      const sources = await aws.functions.eventSources(fn, { signal });
      mappings = sources.map((m) => ({ uuid: m.uuid, maximumConcurrency: m.maximumConcurrency }));
    }
    const lowered =
      recorded === undefined ? '' : await this.restoreCaps(aws, recorded, mappings, 'down', signal);
    if (original.reserved === undefined) {
      if (now.reserved !== undefined) await aws.functions.deleteConcurrency(fn, { signal });
    } else if (now.reserved !== original.reserved) {
      await aws.functions.putConcurrency(fn, original.reserved, Priority.ScaleDown, { signal });
    }
    const raised =
      recorded === undefined ? '' : await this.restoreCaps(aws, recorded, mappings, 'up', signal);
    const to =
      original.reserved === undefined
        ? 'no reserved concurrency'
        : `reserved concurrency ${original.reserved}`;
    const caps = [lowered, raised].filter((x) => x !== '').join(', ');
    return `Restored ${to} on ${fn}${caps === '' ? '' : ` and ${caps}`}, as before the operator`;
  }

  /**
   * Caps a scale-up to the account's headroom: Lambda keeps 100 executions unreserved in every
   * account (AWS-FACTS.md), and scalers of one account that want more at the same time share
   * what is left by priority, then fairly (headroom.ts). Returns the value to set, or undefined.
   */
  async #withinHeadroom(
    pass: Pass,
    current: number | undefined,
    desired: number,
  ): Promise<number | undefined> {
    const { scaler, aws, report, id, signal } = pass;
    const held = current ?? 0;
    const now = this.#deps.clock.now();
    if (desired <= held) {
      this.#headroom.grant(aws.account, { id, priority: 0, wanted: 0 }, 0, now);
      report.unconstrained();
      return desired;
    }
    const account = await aws.functions.accountConcurrency({ signal });
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
    pass.heldBack = true;
    return granted > 0 && capped >= scaler.spec.awsLambdaMinConcurrency ? capped : undefined;
  }
}

/** Clamps into the user's bounds once more, whatever the policy said: never outside them. */
export function bounded(desired: number, spec: LambdaConcurrencyScalerSpec): number {
  return Math.min(maxConcurrency(spec), Math.max(spec.awsLambdaMinConcurrency, Math.round(desired)));
}

export function labels(scaler: LambdaConcurrencyScaler): { namespace: string; name: string } {
  return { namespace: scaler.metadata.namespace, name: scaler.metadata.name };
}
