// The library face of the simulator: build a world from a scenario, drive it in virtual or real
// time, act on it like the Lambda API would, and read the report.

import { RealTimeDriver, Scheduler, type WallClock } from './engine/scheduler.ts';
import type { Datapoint, LambdaMetricName, SqsMetricName } from './model/cloudwatch.ts';
import type { LatencySummary, TimelinePoint } from './model/metrics.ts';
import {
  defaultBehaviour,
  defaultParams,
  type EsmModel,
  type FunctionBehaviour,
  type ModelParams,
} from './model/params.ts';
import type { RoleSpec } from './model/sts.ts';
import type { TrafficSpec } from './model/traffic.ts';
import { ACCOUNT_ID, type Fault, type QueueCounts, REGION, World } from './model/world.ts';
import type { AccountDeclaration, AccountEntities, Scenario } from './scenario.ts';
import { handleCloudWatch } from './wire/cloudwatch.ts';

/** Options of `createSimulation`. */
export interface SimulationOptions {
  /** A validated scenario (see `loadScenario`/`parseScenario`); default: an empty account. */
  readonly scenario?: Scenario;
  /** Seed of every random stream (default: the scenario's seed, else 1). */
  readonly seed?: number;
  /** `virtual` (default): time moves only in `runUntil`/`runFor`. `real`: time follows the wall clock. */
  readonly clock?: 'virtual' | 'real';
  /** Simulated start time, epoch ms (default 2026-01-01T00:00:00Z in virtual mode, now in real mode). */
  readonly startTime?: number;
  /** Overrides of model parameters (applied after the scenario's). */
  readonly params?: Partial<ModelParams>;
  /** The event source mapping model (overrides the scenario's `model.esm.model` and `params`). */
  readonly esmModel?: EsmModel;
  /** Wall clock for real mode (tests inject one). */
  readonly wallClock?: WallClock;
}

/** Everything a run measured. */
export interface SimulationReport {
  readonly seed: number;
  readonly clock: 'virtual' | 'real';
  /** Simulated milliseconds since the start. */
  readonly elapsedMs: number;
  /** Sent → deleted latency over all queues. */
  readonly latency: LatencySummary;
  readonly latencyByQueue: Readonly<Record<string, LatencySummary>>;
  readonly messages: { readonly sent: number; readonly deleted: number; readonly dlqMoves: number };
  readonly invocations: number;
  readonly throttles: number;
  readonly errors: number;
  readonly functions: Readonly<
    Record<
      string,
      { invocations: number; throttles: number; errors: number; coldStarts: number; reserved: number | null }
    >
  >;
  /** Reserved concurrency integrated over time, per function (concurrency·seconds). */
  readonly reservedConcurrencySeconds: Readonly<Record<string, number>>;
  /** API calls by `service:Operation` and outcome (`ok` or the error code). */
  readonly apiCalls: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** An event source mapping as ListEventSourceMappings shows it. */
export interface EventSourceMappingView {
  readonly uuid: string;
  readonly functionArn: string;
  readonly eventSourceArn: string;
  readonly state: string;
  readonly batchSize: number;
  readonly maximumConcurrency: number | undefined;
  /** ProvisionedPollerConfig in provisioned mode; undefined in standard mode. */
  readonly provisionedPollers?: { readonly minimum: number; readonly maximum: number } | undefined;
}

/** Exact state of one queue and one function (see `Simulation.truthOf`). */
export interface QueueFunctionTruth {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  /** Messages sent to the queue so far (its arrivals). */
  readonly sent: number;
  readonly deleted: number;
  readonly reserved: number | null;
  readonly running: number;
  readonly invocations: number;
  readonly throttles: number;
}

type Callback = (now: number) => void | Promise<void>;

/** A running simulation. Times given to `schedule`, `runUntil` and `every` are ms since the start. */
export class Simulation {
  readonly world: World;
  readonly sched: Scheduler;
  readonly clock: 'virtual' | 'real';
  readonly seed: number;
  readonly scenarioName: string;
  readonly #driver: RealTimeDriver | undefined;
  /** The accounts declared besides awssim's own, each a world of its own on the one scheduler. */
  readonly #accounts = new Map<string, World>();
  #pending: Promise<void> | undefined;

  constructor(opts: SimulationOptions = {}) {
    const sc = opts.scenario;
    this.clock = opts.clock ?? 'virtual';
    this.seed = opts.seed ?? sc?.seed ?? 1;
    this.scenarioName = sc?.name ?? 'empty';
    const start =
      opts.startTime ?? (this.clock === 'real' ? (opts.wallClock ?? Date).now() : Date.UTC(2026, 0, 1));
    this.sched = new Scheduler(start);
    this.world = new World(
      this.sched,
      { ...paramsFromScenario(sc), ...opts.params, ...(opts.esmModel ? { esmModel: opts.esmModel } : {}) },
      this.seed,
      // awssim's own account also answers for every account no one declared (single-account use).
      { owns: (account) => account === ACCOUNT_ID || !this.#accounts.has(account) },
    );
    if (sc) {
      applyEntities(this.world, sc);
      for (const [op, f] of Object.entries(sc.faults)) this.world.faults.set(op, f as Fault);
      for (const r of sc.roles) this.world.sts.addRole(r);
      for (const a of sc.accounts) this.declareAccount(a);
    }
    if (this.clock === 'real') {
      this.#driver = new RealTimeDriver(this.sched, opts.wallClock);
      this.#driver.start();
    }
  }

  /**
   * Declares another account (or adds entities to one declared before): from then on a caller whose
   * credentials are of that account (an assumed role's) sees only its queues, functions and
   * mappings, spends its own control-plane budget and draws on its own concurrency pool. Its quotas
   * default to those of awssim's own account and are set once; a second declaration adds entities.
   */
  declareAccount(a: AccountDeclaration): World {
    this.sync();
    let w = this.#accounts.get(a.id);
    const limits = {
      ...(a.concurrency !== undefined ? { accountConcurrency: a.concurrency } : {}),
      ...(a.unreservedMin !== undefined ? { unreservedMin: a.unreservedMin } : {}),
      ...(a.controlPlaneRps !== undefined ? { controlPlaneRps: a.controlPlaneRps } : {}),
      ...(a.getFunctionRps !== undefined ? { getFunctionRps: a.getFunctionRps } : {}),
      ...(a.functionScalingPer10s !== undefined ? { functionScalingPer10s: a.functionScalingPer10s } : {}),
    };
    if (!w) {
      w = new World(this.sched, { ...this.world.params, ...limits }, this.seed, {
        accountId: a.id,
        sts: this.world.sts,
        faults: this.world.faults,
      });
      w.traffic.enabled = this.world.traffic.enabled;
      this.#accounts.set(a.id, w);
    } else if (Object.keys(limits).length > 0) {
      throw new Error(
        `account ${a.id} is declared already: its quotas are set once, when it is first declared`,
      );
    }
    applyEntities(w, a);
    return w;
  }

  /** The world that serves calls made as `account`: its own if declared, else awssim's own. */
  worldOf(account: string): World {
    return this.#accounts.get(account) ?? this.world;
  }

  /** Every account's world: awssim's own first, then the declared ones in the order declared. */
  worlds(): World[] {
    return [this.world, ...this.#accounts.values()];
  }

  /** The event source mapping model this run uses. */
  get esmModel(): EsmModel {
    return this.world.params.esmModel;
  }

  /** Simulated time, epoch ms. */
  now(): number {
    this.sync();
    return this.sched.now();
  }

  /** Simulated ms since the start. */
  elapsedMs(): number {
    return this.now() - this.world.origin;
  }

  /** In real mode, runs every event up to the wall clock (the server calls this per request). */
  sync(): void {
    this.#driver?.sync();
  }

  /** Runs `cb` at `atMs` after the start (its Promise, if any, is awaited before time moves on). */
  schedule(atMs: number, cb: Callback): void {
    this.sched.at(this.world.origin + atMs, () => this.#call(cb));
  }

  /** Runs `cb` every `intervalMs`, first at `firstMs` (default `intervalMs`). Returns a stopper. */
  every(intervalMs: number, cb: Callback, firstMs = intervalMs): () => void {
    let stopped = false;
    const at = (t: number): void => {
      this.sched.at(this.world.origin + t, () => {
        if (stopped) return;
        this.#call(cb);
        at(t + intervalMs);
      });
    };
    at(firstMs);
    return () => {
      stopped = true;
    };
  }

  #call(cb: Callback): void {
    const r = cb(this.sched.now());
    if (r && typeof (r as Promise<void>).then === 'function') {
      this.#pending = r as Promise<void>;
      this.sched.halt();
    }
  }

  /** Advances to `ms` after the start (virtual), or waits until then (real). */
  async runUntil(ms: number): Promise<void> {
    const target = this.world.origin + ms;
    if (this.#driver) {
      const wait = target - this.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      this.sync();
      return;
    }
    for (;;) {
      const done = this.sched.runUntil(target);
      if (this.#pending) {
        const p = this.#pending;
        this.#pending = undefined;
        await p;
      }
      if (done) return;
    }
  }

  /** Advances by `ms`. */
  runFor(ms: number): Promise<void> {
    return this.runUntil(this.sched.now() - this.world.origin + ms);
  }

  /** Stops following the wall clock (real mode). */
  stop(): void {
    this.#driver?.stop();
  }

  // ---- reading state ----

  /** Queue counts as GetQueueAttributes would report them now (with the configured lag and wobble). */
  queueAttributes(queue: string): QueueCounts {
    this.sync();
    return this.world.call('sqs:GetQueueAttributes', () =>
      this.world.sqs.queueCounts(this.world.sqs.queueFromUrl(queue)),
    );
  }

  /** Exact queue counts (no lag, no wobble): for assertions and reports, not for strategies. */
  queueTruth(queue: string, account?: string): QueueCounts & { readonly dlqMoves: number } {
    this.sync();
    const q = (account === undefined ? this.world : this.#declared(account)).sqs.queueFromUrl(queue);
    q.promote(this.sched.now());
    return { visible: q.visible, inFlight: q.inFlight, delayed: q.delayed.length, dlqMoves: q.dlqMovesTotal };
  }

  /** CloudWatch AWS/SQS datapoints published so far, timestamps in [startMs, endMs) since the start. */
  cloudWatch(
    queue: string,
    metric: SqsMetricName,
    range: { startMs?: number; endMs?: number } = {},
  ): Datapoint[] {
    this.sync();
    const o = this.world.origin;
    return this.world.readCloudWatch(
      queue,
      metric,
      range.startMs === undefined ? undefined : o + range.startMs,
      range.endMs === undefined ? undefined : o + range.endMs,
    );
  }

  /** CloudWatch AWS/Lambda datapoints of a function published so far, timestamps in [startMs, endMs) since the start. */
  functionCloudWatch(
    fn: string,
    metric: LambdaMetricName,
    range: { startMs?: number; endMs?: number } = {},
  ): Datapoint[] {
    this.sync();
    const o = this.world.origin;
    return this.world.readFunctionCloudWatch(
      fn,
      metric,
      range.startMs === undefined ? undefined : o + range.startMs,
      range.endMs === undefined ? undefined : o + range.endMs,
    );
  }

  /** Reserved concurrency through GetFunction (its own 100/s quota); undefined when none is set. */
  getFunctionConcurrency(fn: string): number | undefined {
    this.sync();
    return this.world.call('lambda:GetFunction', () => this.world.lambda.fn(fn).reserved);
  }

  /** PutFunctionConcurrency with the API's validation and the shared 15/s quota; throws AwsApiError. */
  putFunctionConcurrency(fn: string, value: number): number {
    this.sync();
    return this.world.call('lambda:PutFunctionConcurrency', () =>
      this.world.lambda.putFunctionConcurrency(this.world.lambda.fn(fn), value),
    );
  }

  /** DeleteFunctionConcurrency with the shared 15/s quota. */
  deleteFunctionConcurrency(fn: string): void {
    this.sync();
    this.world.call('lambda:DeleteFunctionConcurrency', () =>
      this.world.lambda.deleteFunctionConcurrency(this.world.lambda.fn(fn)),
    );
  }

  /**
   * UpdateEventSourceMapping with only ScalingConfig.MaximumConcurrency (2-1000; undefined removes
   * the cap, as `ScalingConfig: {}` does), with the API's validation and the shared 15/s quota.
   */
  updateEventSourceMaximumConcurrency(uuid: string, value: number | undefined): void {
    this.sync();
    this.world.call('lambda:UpdateEventSourceMapping', () =>
      this.world.mappings.updateEsm(this.world.mappings.esm(uuid), {
        ScalingConfig: value === undefined ? {} : { MaximumConcurrency: value },
      }),
    );
  }

  /**
   * UpdateEventSourceMapping with only ProvisionedPollerConfig (MinimumPollers 2–200, MaximumPollers
   * 2–10,000; undefined turns provisioned mode off, as `ProvisionedPollerConfig: {}` does), with the
   * API's validation (exclusive with MaximumConcurrency) and the shared 15/s quota.
   */
  updateEventSourceProvisionedPollers(
    uuid: string,
    pollers: { readonly minimum?: number; readonly maximum?: number } | undefined,
  ): void {
    this.sync();
    this.world.call('lambda:UpdateEventSourceMapping', () =>
      this.world.mappings.updateEsm(this.world.mappings.esm(uuid), {
        ProvisionedPollerConfig:
          pollers === undefined ? {} : { MinimumPollers: pollers.minimum, MaximumPollers: pollers.maximum },
      }),
    );
  }

  /** The event source mappings (of one function, or all), as ListEventSourceMappings would list them. */
  eventSourceMappings(fn?: string): {
    readonly uuid: string;
    readonly functionName: string;
    readonly queueArn: string;
    readonly batchSize: number;
    readonly enabled: boolean;
    readonly maximumConcurrency: number | undefined;
    readonly provisionedPollers: { readonly minimum: number; readonly maximum: number } | undefined;
  }[] {
    this.sync();
    return [...this.world.account.mappingsByUuid.values()]
      .filter((e) => fn === undefined || e.functionName === fn)
      .map((e) => ({
        uuid: e.uuid,
        functionName: e.functionName,
        queueArn: e.queueArn,
        batchSize: e.batchSize,
        enabled: e.enabled,
        maximumConcurrency: e.maximumConcurrency,
        provisionedPollers: e.provisionedPollers,
      }));
  }

  /** GetQueueUrl: a queue's URL by name (throws QueueDoesNotExist), with the API's counting. */
  getQueueUrl(name: string): string {
    this.sync();
    return this.world.call('sqs:GetQueueUrl', () =>
      this.world.sqs.queueUrl(this.world.sqs.queueFromUrl(name), `https://sqs.${REGION}.amazonaws.com`),
    );
  }

  /** GetQueueAttributes for QueueArn only, with the API's counting. */
  getQueueArn(url: string): string {
    this.sync();
    return this.world.call('sqs:GetQueueAttributes', () => this.world.sqs.queueFromUrl(url).arn);
  }

  /** GetAccountSettings' AccountLimit (concurrency), with the shared 15/s quota. */
  getAccountConcurrency(): { limit: number; unreserved: number } {
    this.sync();
    return this.world.call('lambda:GetAccountSettings', () => ({
      limit: this.world.account.concurrencyLimit,
      unreserved: this.world.account.unreservedPool(),
    }));
  }

  /**
   * One page of ListEventSourceMappings (at most 100, as AWS pages), optionally for one function,
   * with the shared 15/s quota. `marker` is the index the previous page returned.
   */
  listEventSourceMappings(opts: { functionName?: string; marker?: string; maxItems?: number } = {}): {
    mappings: EventSourceMappingView[];
    nextMarker?: string;
  } {
    this.sync();
    return this.world.call('lambda:ListEventSourceMappings', () => {
      const fn =
        opts.functionName === undefined ? undefined : this.world.lambda.functionNameOf(opts.functionName);
      const all = [...this.world.esms.values()].filter((e) => fn === undefined || e.functionName === fn);
      const from = Number(opts.marker ?? 0);
      const to = from + Math.min(100, opts.maxItems ?? 100);
      const mappings = all.slice(from, to).map((e) => ({
        uuid: e.uuid,
        functionArn: this.world.lambda.functionArn(e.functionName),
        eventSourceArn: e.queueArn,
        state: e.state(),
        batchSize: e.batchSize,
        maximumConcurrency: e.maximumConcurrency,
        ...(e.provisionedPollers === undefined ? {} : { provisionedPollers: { ...e.provisionedPollers } }),
      }));
      return to < all.length ? { mappings, nextMarker: String(to) } : { mappings };
    });
  }

  /** CloudWatch GetMetricData for one metric, counted as the API call (see `cloudWatch` for reports). */
  getMetricData(queue: string, metric: SqsMetricName, range: { startMs?: number; endMs?: number } = {}) {
    return this.world.call('cloudwatch:GetMetricData', () => this.cloudWatch(queue, metric, range));
  }

  /**
   * CloudWatch GetMetricData with the input as the SDK builds it (Dates for times), answered as
   * awssim's server answers it and counted as the API call: for clients answered in process.
   */
  cloudWatchGetMetricData(input: Record<string, unknown>): Record<string, unknown> {
    this.sync();
    return handleCloudWatch(
      this.world,
      { protocol: 'cbor', op: 'GetMetricData', input },
      (ms) => new Date(ms),
    );
  }

  /** Exact levels and totals of a queue and a function now: for reports and references, no API call. */
  truthOf(queue: string, fn: string): QueueFunctionTruth {
    this.sync();
    const q = this.world.sqs.queueFromUrl(queue);
    q.promote(this.sched.now());
    const f = this.world.fn(fn);
    return {
      visible: q.visible,
      inFlight: q.inFlight,
      delayed: q.delayed.length,
      sent: q.sentTotal,
      deleted: q.deletedTotal,
      reserved: f.reserved ?? null,
      running: f.running,
      invocations: f.invocations,
      throttles: f.throttles,
    };
  }

  /** Running invocations of a function right now. */
  runningConcurrency(fn: string): number {
    this.sync();
    return this.world.lambda.fn(fn).running;
  }

  /** Current target concurrency (pollers) of the mappings of a function. */
  esmConcurrency(fn: string): number {
    this.sync();
    let n = 0;
    for (const e of this.world.account.mappingsByUuid.values())
      if (e.functionName === fn && e.enabled) n += Math.floor(e.target);
    return n;
  }

  // ---- acting ----

  /** Replaces a queue's traffic from the next simulated second. */
  setTraffic(queue: string, specs: readonly TrafficSpec[], account?: string): void {
    this.sync();
    (account === undefined ? this.world : this.#declared(account)).traffic.set(queue, specs);
  }

  /** Pauses or resumes all generated traffic (in every account). */
  setTrafficEnabled(enabled: boolean): void {
    for (const w of this.worlds()) w.traffic.enabled = enabled;
  }

  /** Sends `count` messages now, as a producer would through SendMessage. */
  sendMessages(queue: string, count: number, body = 'awssim'): void {
    this.sync();
    const q = this.world.sqs.queueFromUrl(queue);
    for (let i = 0; i < count; i++) this.world.sqs.sendMessage(q, body, undefined);
  }

  /** Injects a fault for an operation (`sqs:ReceiveMessage`, `lambda:PutFunctionConcurrency`, `*`). */
  injectFault(op: string, fault: Fault): void {
    this.world.faults.set(op, fault);
  }

  /** Removes one fault, or all. */
  clearFaults(op?: string): void {
    if (op === undefined) this.world.faults.clear();
    else this.world.faults.delete(op);
  }

  /** Declares (or replaces) a role that STS AssumeRole may assume; throws on a malformed ARN. */
  addRole(role: RoleSpec): void {
    this.world.sts.addRole(role);
  }

  /** Removes a role (credentials already handed out keep working); false if it was not declared. */
  removeRole(arn: string): boolean {
    return this.world.sts.removeRole(arn);
  }

  /**
   * AWS calls made through the HTTP endpoint, by access key id → `service:Operation` → count.
   * With `byRole`, calls made with AssumeRole session keys are summed under the role ARN.
   */
  callers(opts: { byRole?: boolean } = {}): Record<string, Record<string, number>> {
    return this.world.sts.calls(opts.byRole ?? false);
  }

  /** The role ARN behind an AssumeRole session's access key id (undefined for other keys). */
  roleOfAccessKey(accessKeyId: string): string | undefined {
    return this.world.sts.sessions.get(accessKeyId)?.roleArn;
  }

  /** Sets how a function behaves when invoked (takes effect on the next invocation). */
  setBehaviour(fn: string, b: Partial<FunctionBehaviour>): void {
    const f = this.world.lambda.fn(fn);
    this.world.lambda.setBehaviour(f.name, { ...f.behaviour, ...b });
  }

  // ---- reporting ----

  /** The per-second timeline (optionally from second `sinceT`). */
  timeline(sinceT = 0): readonly TimelinePoint[] {
    this.sync();
    return sinceT <= 0 ? this.world.timeline : this.world.timeline.filter((p) => p.t >= sinceT);
  }

  /** Everything measured so far (in awssim's own account, or in the declared `account`). */
  report(opts: { account?: string | undefined } = {}): SimulationReport {
    this.sync();
    const w = opts.account === undefined ? this.world : this.#declared(opts.account);
    const byQueue: Record<string, LatencySummary> = {};
    let sent = 0;
    let deleted = 0;
    for (const q of w.account.queuesByName.values()) {
      byQueue[q.name] = q.latency.summary();
      sent += q.sentTotal;
      deleted += q.deletedTotal;
    }
    const functions: Record<
      string,
      { invocations: number; throttles: number; errors: number; coldStarts: number; reserved: number | null }
    > = {};
    for (const f of w.account.functionsByName.values())
      functions[f.name] = {
        invocations: f.invocations,
        throttles: f.throttles,
        errors: f.errors,
        coldStarts: f.coldStarts,
        reserved: f.reserved ?? null,
      };
    return {
      seed: this.seed,
      clock: this.clock,
      elapsedMs: this.sched.now() - w.origin,
      latency: w.latency.summary(),
      latencyByQueue: byQueue,
      messages: { sent, deleted, dlqMoves: w.totals.dlqMoves },
      invocations: w.totals.invocations,
      throttles: w.totals.throttles,
      errors: w.totals.errors,
      functions,
      reservedConcurrencySeconds: w.lambda.reservedConcurrencySeconds(),
      apiCalls: w.api.toJSON(),
    };
  }

  /** Messages (all queues) whose latency exceeded `ms` (exact for the configured `sloMs`). */
  countSlowerThan(ms: number): number {
    return this.world.latency.countOver(ms);
  }

  #declared(account: string): World {
    const w = account === ACCOUNT_ID ? this.world : this.#accounts.get(account);
    if (!w)
      throw new Error(
        `no account ${account}: declare it first (scenario accounts: or POST /_awssim/accounts)`,
      );
    return w;
  }
}

/** Creates a simulation (virtual time unless `clock: 'real'`). */
export function createSimulation(opts: SimulationOptions = {}): Simulation {
  return new Simulation(opts);
}

function paramsFromScenario(sc: Scenario | undefined): ModelParams {
  const a = sc?.account ?? {};
  const m = sc?.model ?? {};
  const e = m.esm ?? {};
  const d = defaultParams;
  return {
    accountConcurrency: a.concurrency ?? d.accountConcurrency,
    unreservedMin: a.unreservedMin ?? d.unreservedMin,
    controlPlaneRps: a.controlPlaneRps ?? d.controlPlaneRps,
    getFunctionRps: a.getFunctionRps ?? d.getFunctionRps,
    functionScalingPer10s: a.functionScalingPer10s ?? d.functionScalingPer10s,
    environmentIdleMs:
      m.environmentIdleSeconds !== undefined ? m.environmentIdleSeconds * 1000 : d.environmentIdleMs,
    esmInitialConcurrency: e.initialConcurrency ?? d.esmInitialConcurrency,
    esmScaleUpPerMinute: e.scaleUpPerMinute ?? d.esmScaleUpPerMinute,
    esmScaleDownPerMinute: e.scaleDownPerMinute ?? d.esmScaleDownPerMinute,
    esmMaxConcurrency: e.maxConcurrency ?? d.esmMaxConcurrency,
    esmInvokesPerPoller: e.invokesPerPoller ?? d.esmInvokesPerPoller,
    esmProvisionedScaleUpPerMinute: e.provisionedScaleUpPerMinute ?? d.esmProvisionedScaleUpPerMinute,
    esmProvisionedMaxConcurrency: e.provisionedMaxConcurrency ?? d.esmProvisionedMaxConcurrency,
    esmMinConcurrency: e.minConcurrency ?? d.esmMinConcurrency,
    receiveLatencyMs: e.receiveLatencyMs ?? d.receiveLatencyMs,
    throttleBackoffMs: e.throttleBackoffMs ?? d.throttleBackoffMs,
    esmModel: e.model ?? d.esmModel,
    esmThrottleShrink: e.throttleShrink ?? d.esmThrottleShrink,
    esmThrottleRetries: e.throttleRetries ?? d.esmThrottleRetries,
    attributeLagMs:
      m.attributes?.lagSeconds !== undefined ? m.attributes.lagSeconds * 1000 : d.attributeLagMs,
    attributeWobble: m.attributes?.wobble ?? d.attributeWobble,
    cloudWatchDelayMs: m.cloudWatch
      ? { min: m.cloudWatch.delaySecondsMin * 1000, max: m.cloudWatch.delaySecondsMax * 1000 }
      : d.cloudWatchDelayMs,
    cloudWatchIdleMs:
      m.cloudWatch?.idleSeconds !== undefined ? m.cloudWatch.idleSeconds * 1000 : d.cloudWatchIdleMs,
    cloudWatchWakeDelayMs:
      m.cloudWatch?.wakeDelaySeconds !== undefined
        ? m.cloudWatch.wakeDelaySeconds * 1000
        : d.cloudWatchWakeDelayMs,
    sloMs: m.sloMs ?? d.sloMs,
  };
}

/** Creates an account's resources directly in the model (no API quotas are spent). */
function applyEntities(w: World, sc: AccountEntities): void {
  const account = w.account.id;
  const byName = new Map(sc.queues.map((q) => [q.name, q]));
  const created = new Set<string>();
  const create = (name: string): void => {
    if (created.has(name)) return;
    const q = byName.get(name);
    if (!q) return;
    created.add(name);
    if (q.deadLetter) create(q.deadLetter.queue);
    const attrs: Record<string, string> = {};
    if (q.visibilityTimeout !== undefined) attrs.VisibilityTimeout = String(q.visibilityTimeout);
    if (q.delaySeconds !== undefined) attrs.DelaySeconds = String(q.delaySeconds);
    if (q.deadLetter)
      attrs.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: `arn:aws:sqs:${REGION}:${account}:${q.deadLetter.queue}`,
        maxReceiveCount: q.deadLetter.maxReceiveCount,
      });
    w.sqs.createQueue(name, attrs);
  };
  for (const q of sc.queues) create(q.name);
  for (const f of sc.functions) {
    w.lambda.setBehaviour(f.name, {
      duration: f.duration ?? defaultBehaviour.duration,
      per: f.per ?? defaultBehaviour.per,
      coldStart: f.coldStart ?? defaultBehaviour.coldStart,
      errorRate: f.errorRate ?? defaultBehaviour.errorRate,
    });
    const fn = w.lambda.createFunction({
      FunctionName: f.name,
      Role: `arn:aws:iam::${account}:role/awssim`,
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Code: { ZipFile: '' },
      Timeout: f.timeout ?? 30,
      MemorySize: f.memorySize ?? 128,
    });
    if (f.reservedConcurrency !== undefined) w.lambda.putFunctionConcurrency(fn, f.reservedConcurrency);
    if (f.provisionedConcurrency !== undefined) w.lambda.putProvisioned(fn, 'live', f.provisionedConcurrency);
  }
  for (const e of sc.eventSourceMappings) {
    w.mappings.createEsm({
      FunctionName: e.function,
      EventSourceArn: `arn:aws:sqs:${REGION}:${account}:${e.queue}`,
      BatchSize: e.batchSize,
      MaximumBatchingWindowInSeconds: e.maximumBatchingWindowSeconds,
      Enabled: e.enabled,
      ...(e.maximumConcurrency !== undefined
        ? { ScalingConfig: { MaximumConcurrency: e.maximumConcurrency } }
        : {}),
      ...(e.provisionedPollers
        ? {
            ProvisionedPollerConfig: {
              MinimumPollers: e.provisionedPollers.minimum,
              MaximumPollers: e.provisionedPollers.maximum,
            },
          }
        : {}),
    });
  }
  for (const [q, specs] of Object.entries(sc.traffic)) w.traffic.set(q, specs as TrafficSpec[]);
}
