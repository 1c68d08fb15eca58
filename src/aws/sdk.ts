// The ports implemented over the AWS SDK for JavaScript v3: every call goes through one
// instrumented path that counts it, times it, takes a control-plane token where Lambda wants one,
// and turns failures into classified, sanitized AwsErrors.
import {
  DeleteFunctionConcurrencyCommand,
  GetAccountSettingsCommand,
  GetFunctionCommand,
  type LambdaClient,
  ListEventSourceMappingsCommand,
  PutFunctionConcurrencyCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { systemClock } from '../runtime/clock.ts';
import { unitHash } from '../runtime/hash.ts';
import { releaseSlot } from '../runtime/slot.ts';
import { AwsError, AwsErrorCode, classify, ErrorClass } from './errors.ts';
import type { Gate } from './gate.ts';
import { LineFull, Priority, type TokenBucket } from './limiter.ts';
import type { AwsMetrics } from './metrics.ts';
import type {
  AccountConcurrency,
  CallOptions,
  EventSource,
  FunctionConcurrency,
  FunctionPort,
  ProvisionedPollers,
  QueueMetrics,
  QueuePort,
  QueueRef,
  ReadOptions,
} from './ports.ts';

/** What every call of an adapter needs: metrics, secrets to redact, a clock and a deadline. */
export interface CallDeps {
  metrics?: AwsMetrics | undefined;
  secrets?: readonly string[] | undefined;
  now?: () => number;
  /** How long one call (all its SDK attempts) may take once it has its token; default 10 s. */
  callTimeoutMs?: number | undefined;
  /**
   * A call still unanswered after this long gives its reconcile's worker slot away (slot.ts), so
   * an endpoint that hangs for some scalers does not starve the others; default 250 ms (an
   * answering AWS endpoint takes tens of milliseconds).
   */
  slowCallMs?: number | undefined;
  /**
   * The client's calls on the wire at once, no more than its HTTP agent has sockets (gate.ts);
   * waiting for a place counts against the call's deadline.
   */
  gate?: Gate | undefined;
  /**
   * Aborts when the operator stops. A read shared by every scaler of a binding (the account's
   * settings, its mapping listing) belongs to no one reconcile, whose signal could cancel it, so
   * it is bound to this instead (besides its deadline).
   */
  lifetime?: AbortSignal | undefined;
  /**
   * Attempts of a paced call (one with a token bucket), default 1. Its client makes one attempt a
   * send (clients.ts) and the retries are made here, each after a token of the same bucket: the
   * SDK's own retries would reach AWS unpaced, two requests for one token, and a throttled account
   * would be asked twice as often as the budget says.
   */
  attempts?: number | undefined;
}

/** Default deadline of one AWS call (every attempt included). */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

/** A paced call's bucket; `prepaid` when the caller already took the first attempt's token. */
export interface Pacing {
  bucket: TokenBucket;
  name: string;
  priority: number;
  prepaid?: boolean;
}

/**
 * Whether a failed attempt of a paced call is worth another: AWS throttled it, answered 5xx, or
 * never answered (the SDK's standard retry mode retries the same). Never past the deadline.
 */
function retryable(error: AwsError): boolean {
  return error.code === AwsErrorCode.Throttled || error.code === AwsErrorCode.Unavailable;
}

/**
 * The wait before attempt `attempt + 1`, ms: the SDK standard mode's full jitter, a random share of
 * 100 ms × 2^(attempt−1) (500 ms for a throttle), at most 20 s; AWS's Retry-After when it sent one.
 */
function retryDelayMs(attempt: number, error: AwsError, random: () => number = Math.random): number {
  if (error.retryAfterSeconds !== undefined) return error.retryAfterSeconds * 1000;
  const base = error.code === AwsErrorCode.Throttled ? 500 : 100;
  return random() * Math.min(20_000, base * 2 ** (attempt - 1));
}

/**
 * Runs one AWS call with metrics, an optional token bucket, a deadline, and error classification.
 * `call` gets the signal to hand the SDK (`send(command, { abortSignal })`): it aborts when the
 * caller's signal does or when the deadline passes, so a hung endpoint holds nobody longer. A paced
 * call makes up to `deps.attempts` attempts, each after its own token (see CallDeps.attempts);
 * every attempt's outcome is counted.
 */
export async function instrumented<T>(
  deps: CallDeps,
  service: string,
  operation: string,
  call: (abortSignal: AbortSignal) => Promise<T>,
  pacing?: Pacing | undefined,
  signal?: AbortSignal | undefined,
): Promise<T> {
  const context = `${service} ${operation}`;
  if (signal?.aborted) throw cancelled(context, signal);
  if (pacing !== undefined && pacing.prepaid !== true) await paced(deps, service, operation, pacing, signal);
  const timeoutMs = deps.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const deadline = AbortSignal.timeout(timeoutMs);
  const abortSignal = signal === undefined ? deadline : AbortSignal.any([signal, deadline]);
  const attempts = pacing === undefined ? 1 : Math.max(1, deps.attempts ?? 1);
  const started = performance.now();
  const slow = setTimeout(releaseSlot, deps.slowCallMs ?? 250);
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await (deps.gate === undefined
          ? call(abortSignal)
          : deps.gate.run(() => call(abortSignal), abortSignal));
        deps.metrics?.calls.inc({ service, operation, outcome: 'success' });
        return result;
      } catch (error) {
        const classified = signal?.aborted
          ? cancelled(context, signal)
          : deadline.aborted
            ? new AwsError(`${context}: no answer within ${timeoutMs / 1000} s (the call deadline)`, {
                code: AwsErrorCode.Unavailable,
                errorClass: ErrorClass.Transient,
                awsName: 'TimeoutError',
                cause: error,
              })
            : classify(error, context, deps.secrets ?? []);
        deps.metrics?.calls.inc({ service, operation, outcome: classified.code });
        if (classified.code === 'Throttled') deps.metrics?.throttles.inc({ service, operation });
        if (pacing === undefined || attempt >= attempts || abortSignal.aborted || !retryable(classified))
          throw classified;
        // Another attempt, after the SDK's backoff and a token of the same budget, both within
        // the deadline; when either cannot be had in time, this attempt's error stands.
        try {
          await systemClock.sleep(retryDelayMs(attempt, classified), abortSignal);
          await pacing.bucket.take(pacing.priority, abortSignal);
        } catch {
          if (signal?.aborted) throw cancelled(context, signal);
          throw classified;
        }
      }
    }
  } finally {
    clearTimeout(slow);
    deps.metrics?.latency.observe({ service, operation }, (performance.now() - started) / 1000);
  }
}

/** Takes the first attempt's token, waiting in line; a full line is Deferred (come back later). */
async function paced(
  deps: CallDeps,
  service: string,
  operation: string,
  pacing: Pacing,
  signal: AbortSignal | undefined,
): Promise<void> {
  const context = `${service} ${operation}`;
  let waitedMs = 0;
  try {
    waitedMs = await pacing.bucket.take(pacing.priority, signal);
  } catch (error) {
    if (signal?.aborted) throw cancelled(context, signal);
    if (error instanceof LineFull) {
      deps.metrics?.calls.inc({ service, operation, outcome: AwsErrorCode.Deferred });
      throw new AwsError(`${context}: not sent: ${error.message}`, {
        code: AwsErrorCode.Deferred,
        errorClass: ErrorClass.Transient,
        retryAfterSeconds: error.retryAfterMs / 1000,
      });
    }
    throw error;
  }
  // This call's own wait (the bucket's total moves with every other caller meanwhile).
  deps.metrics?.limiterWait.inc({ bucket: pacing.name }, waitedMs / 1000);
}

function cancelled(context: string, signal: AbortSignal): AwsError {
  const why = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted');
  return new AwsError(`${context}: cancelled (${why})`, {
    code: AwsErrorCode.Cancelled,
    errorClass: ErrorClass.Transient,
    awsName: 'AbortError',
  });
}

const QUEUE_ARN = /^arn:aws[a-zA-Z-]*:sqs:[a-z0-9-]+:([0-9]{12}):(.+)$/;
const QUEUE_URL = /^https:\/\/[^/]+\/([0-9]{12})\/([^/]+)$/;

/**
 * QueuePort over SQS. The client must be built with `useQueueUrlAsEndpoint: false` (clients.ts):
 * a queue URL is only ever a parameter, and every request goes to the configured endpoint.
 */
export class SqsQueues implements QueuePort {
  readonly #sqs: SQSClient;
  readonly #deps: CallDeps & { now: () => number };

  constructor(sqs: SQSClient, deps: CallDeps & { now: () => number }) {
    this.#sqs = sqs;
    this.#deps = deps;
  }

  /**
   * A name, ARN or URL becomes (name, owner account) and is looked up with GetQueueUrl at the
   * configured endpoint: the host of a URL the tenant wrote is never contacted.
   */
  async resolve(nameUrlOrArn: string, options: CallOptions = {}): Promise<QueueRef> {
    const named = QUEUE_ARN.exec(nameUrlOrArn) ?? QUEUE_URL.exec(nameUrlOrArn);
    const input =
      named === null
        ? { QueueName: nameUrlOrArn }
        : { QueueName: named[2], QueueOwnerAWSAccountId: named[1] };
    const out = await instrumented(
      this.#deps,
      'sqs',
      'GetQueueUrl',
      (abortSignal) => this.#sqs.send(new GetQueueUrlCommand(input), { abortSignal }),
      undefined,
      options.signal,
    );
    const url = out.QueueUrl ?? '';
    const attrs = await instrumented(
      this.#deps,
      'sqs',
      'GetQueueAttributes',
      (abortSignal) =>
        this.#sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }), {
          abortSignal,
        }),
      undefined,
      options.signal,
    );
    return { url, arn: attrs.Attributes?.QueueArn ?? '' };
  }

  async metrics(queueUrl: string, options: CallOptions = {}): Promise<QueueMetrics> {
    const out = await instrumented(
      this.#deps,
      'sqs',
      'GetQueueAttributes',
      (abortSignal) =>
        this.#sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: queueUrl,
            AttributeNames: [
              'ApproximateNumberOfMessages',
              'ApproximateNumberOfMessagesNotVisible',
              'ApproximateNumberOfMessagesDelayed',
            ],
          }),
          { abortSignal },
        ),
      undefined,
      options.signal,
    );
    const a = out.Attributes ?? {};
    return {
      visible: Number(a.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
      observedAt: this.#deps.now(),
    };
  }
}

/** A function ARN without a version or alias qualifier: its function name. */
const UNQUALIFIED_FUNCTION_ARN = /^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:([^:]+)$/;

interface AccountMappings {
  /** When the listing started, epoch ms. */
  at: number;
  byFunction: Map<string, EventSource[]>;
}

/**
 * One answer shared by every scaler of a binding: callers while a read is in flight share it (and
 * give their worker slot away meanwhile, slot.ts); an answer serves while it is younger than what
 * the caller accepts; a failed read is forgotten, so the next caller reads again.
 *
 * A caller that accepts a stale answer up to `staleMs` old (RFC 5861's stale-while-revalidate)
 * gets the newest complete answer at once while a newer one is read in the background, never more
 * than one read at a time. Only a caller with no answer that young waits. At 5,000 scalers this
 * keeps a slow listing from collecting every scaler whose re-check falls due meanwhile and then
 * releasing them all at once (bench/SCALE.md).
 */
class SharedRead<T> {
  #entry: { at: number; value: Promise<T>; pending: boolean } | undefined;
  /** The newest answer that arrived, and when its read started. */
  #complete: { at: number; value: T } | undefined;

  /** The shared answer if it started no more than `maxAgeMs` before `now`, else `read(now)`. */
  get(now: number, maxAgeMs: number, read: (startedAt: number) => Promise<T>, staleMs = -1): Promise<T> {
    const current = this.#entry;
    const complete = this.#complete;
    const stale = complete !== undefined && now - complete.at <= staleMs;
    if (current !== undefined && now - current.at <= maxAgeMs) {
      if (current.pending && !stale) {
        releaseSlot();
        return current.value;
      }
      if (!current.pending) return current.value;
    }
    if (stale) {
      if (current === undefined || !current.pending) this.#start(now, read);
      return Promise.resolve(complete.value);
    }
    return this.#start(now, read).value;
  }

  #start(now: number, read: (startedAt: number) => Promise<T>): { value: Promise<T> } {
    const entry = { at: now, value: read(now), pending: true };
    this.#entry = entry;
    entry.value.then(
      (value) => {
        entry.pending = false;
        if (this.#entry === entry) this.#complete = { at: entry.at, value };
      },
      () => {
        if (this.#entry === entry) this.#entry = undefined;
      },
    );
    return entry;
  }

  /** Replaces the shared answer, once it has arrived, with what `change` makes of it. */
  update(change: (value: T) => T): void {
    const current = this.#entry;
    if (current === undefined || current.pending) {
      this.#entry = undefined; // an answer still on its way may predate the change: read again
      this.#complete = undefined;
      return;
    }
    current.value = current.value.then(change);
    if (this.#complete !== undefined)
      this.#complete = { ...this.#complete, value: change(this.#complete.value) };
  }

  /** Drops the shared answer: the next caller reads afresh. */
  forget(): void {
    this.#entry = undefined;
    this.#complete = undefined;
  }
}

/** `promise`, or a rejection as soon as `signal` aborts (the work behind it goes on for others). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined, context: string): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(cancelled(context, signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(cancelled(context, signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** The two Lambda control-plane buckets of one account and Region. */
export interface LambdaBuckets {
  /** Shared by every control-plane call except GetFunction (AWS: 15/s; default 10/s). */
  controlPlane: TokenBucket;
  /** GetFunction's own bucket (AWS: 100/s). */
  getFunction: TokenBucket;
}

/** FunctionPort over Lambda, with every call paced by the account's shared buckets. */
export class LambdaFunctions implements FunctionPort {
  readonly #lambda: LambdaClient;
  readonly #buckets: LambdaBuckets;
  readonly #deps: CallDeps;
  readonly #now: () => number;
  /** GetAccountSettings spends the shared bucket: one answer serves every scaler for a while. */
  readonly #account = new SharedRead<AccountConcurrency | undefined>();
  /** The last GetFunction answer (or our own write) per function. */
  readonly #reserved = new Map<string, { at: number; value: FunctionConcurrency }>();
  /** The account's mappings, listed once for every scaler of this binding. */
  readonly #mappings = new SharedRead<AccountMappings>();
  /** MaximumConcurrency we set, by mapping, newer than the listing may be. */
  readonly #capsWritten = new Map<string, { at: number; patch: Partial<EventSource> }>();
  static readonly ACCOUNT_TTL_MS = 10_000;

  constructor(lambda: LambdaClient, buckets: LambdaBuckets, deps: CallDeps & { now: () => number }) {
    this.#lambda = lambda;
    this.#buckets = buckets;
    this.#deps = deps;
    this.#now = deps.now;
  }

  #cp(priority: number) {
    return { bucket: this.#buckets.controlPlane, name: 'lambda-control-plane', priority };
  }

  /**
   * Reads the reserved concurrency through GetFunction. A reading younger than `freshMs` (spread
   * ±10 % by function name) serves without a call: the operator's own writes keep it current, so
   * only changes made by others wait for the next read. With `maxAgeMs`, an answer (or our own
   * write) no older than that serves instead whenever no GetFunction token is free right now: 5,000
   * scalers re-reading every 30 s would want 167 GetFunction/s and AWS allows 100, so under that load
   * each function is read as often as the budget allows and never less than every `maxAgeMs`.
   */
  async concurrency(functionName: string, options: ReadOptions = {}): Promise<FunctionConcurrency> {
    const cached = this.#reserved.get(functionKey(functionName));
    const age = cached === undefined ? Number.POSITIVE_INFINITY : this.#now() - cached.at;
    if (cached !== undefined && options.freshMs !== undefined && age < options.freshMs * spread(functionName))
      return { ...cached.value };
    const usable = cached !== undefined && age <= (options.maxAgeMs ?? -1);
    if (usable && !this.#buckets.getFunction.tryTake()) return { ...cached.value };
    const out = await instrumented(
      this.#deps,
      'lambda',
      'GetFunction',
      (abortSignal) =>
        this.#lambda.send(new GetFunctionCommand({ FunctionName: functionName }), { abortSignal }),
      {
        bucket: this.#buckets.getFunction,
        name: 'lambda-get-function',
        priority: Priority.Read,
        prepaid: usable, // the token was taken above
      },
      options.signal,
    );
    const value = {
      functionArn: out.Configuration?.FunctionArn ?? functionName,
      reserved: out.Concurrency?.ReservedConcurrentExecutions,
    };
    this.#reserved.set(functionKey(functionName), { at: this.#now(), value });
    return { ...value };
  }

  /**
   * Our own successful write is the freshest answer there is, for the function and for the
   * account's unreserved pool (the shared reading moves by what we reserved or released).
   */
  #wrote(functionName: string, reserved: number | undefined): void {
    const key = functionKey(functionName);
    const cached = this.#reserved.get(key);
    if (cached === undefined) {
      this.#account.forget();
      return;
    }
    const delta = (reserved ?? 0) - (cached.value.reserved ?? 0);
    this.#account.update((a) => (a === undefined ? a : { ...a, unreserved: a.unreserved - delta }));
    this.#reserved.set(key, { at: this.#now(), value: { ...cached.value, reserved } });
  }

  async putConcurrency(
    functionName: string,
    reserved: number,
    priority: number = Priority.ScaleUp,
    options: CallOptions = {},
  ): Promise<void> {
    try {
      await instrumented(
        this.#deps,
        'lambda',
        'PutFunctionConcurrency',
        (abortSignal) =>
          this.#lambda.send(
            new PutFunctionConcurrencyCommand({
              FunctionName: functionName,
              ReservedConcurrentExecutions: reserved,
            }),
            { abortSignal },
          ),
        this.#cp(priority),
        options.signal,
      );
    } catch (error) {
      // AWS knows the pool better than our reading: the next caller reads it afresh.
      if (error instanceof AwsError && error.code === AwsErrorCode.InsufficientHeadroom)
        this.#account.forget();
      throw error;
    }
    this.#wrote(functionName, reserved);
  }

  async deleteConcurrency(functionName: string, options: CallOptions = {}): Promise<void> {
    await instrumented(
      this.#deps,
      'lambda',
      'DeleteFunctionConcurrency',
      (abortSignal) =>
        this.#lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: functionName }), {
          abortSignal,
        }),
      this.#cp(Priority.ScaleDown),
      options.signal,
    );
    this.#wrote(functionName, undefined);
  }

  async updateEventSourceMaximumConcurrency(
    uuid: string,
    value: number | undefined,
    priority: number = Priority.ScaleUp,
    options: CallOptions = {},
  ): Promise<void> {
    await this.#updateMapping(
      uuid,
      { ScalingConfig: value === undefined ? {} : { MaximumConcurrency: value } },
      { maximumConcurrency: value },
      priority,
      options,
    );
  }

  async updateEventSourceProvisionedPollers(
    uuid: string,
    pollers: ProvisionedPollers | undefined,
    priority: number = Priority.ScaleUp,
    options: CallOptions = {},
  ): Promise<void> {
    await this.#updateMapping(
      uuid,
      {
        ProvisionedPollerConfig:
          pollers === undefined ? {} : { MinimumPollers: pollers.minimum, MaximumPollers: pollers.maximum },
      },
      { provisionedPollers: pollers },
      priority,
      options,
    );
  }

  /** One UpdateEventSourceMapping; what it set is remembered until a listing newer than it. */
  async #updateMapping(
    uuid: string,
    fields: Omit<ConstructorParameters<typeof UpdateEventSourceMappingCommand>[0], 'UUID'>,
    patch: Partial<EventSource>,
    priority: number,
    options: CallOptions,
  ): Promise<void> {
    await instrumented(
      this.#deps,
      'lambda',
      'UpdateEventSourceMapping',
      (abortSignal) =>
        this.#lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, ...fields }), { abortSignal }),
      this.#cp(priority),
      options.signal,
    );
    this.#capsWritten.set(uuid, { at: this.#now(), patch });
  }

  /**
   * The function's event source mappings. With `maxAgeMs` and a plain function name, the answer
   * comes from one listing of the whole account (100 mappings a call) no older than that, shared
   * by every scaler of this binding: 1,000 scalers cost 10 calls instead of 1,000. A function the
   * listing does not show (a mapping created since, or none at all) is asked about directly.
   */
  async eventSources(
    functionName: string,
    options: ReadOptions & { staleMs?: number } = {},
  ): Promise<EventSource[]> {
    if (options.maxAgeMs !== undefined && !functionName.includes(':')) {
      const listing = await untilAborted(
        this.#accountMappings(options.maxAgeMs, options.staleMs),
        options.signal,
        'lambda ListEventSourceMappings',
      );
      const mine = listing.byFunction.get(functionName);
      if (mine !== undefined)
        return mine.map((m) => {
          // A cap we wrote after the listing started is newer than what the listing says.
          const written = this.#capsWritten.get(m.uuid);
          return written !== undefined && written.at >= listing.at ? { ...m, ...written.patch } : { ...m };
        });
    }
    return (await this.#listMappings(functionName, options.signal)).map((m) => m.source);
  }

  #accountMappings(maxAgeMs: number, staleMs?: number): Promise<AccountMappings> {
    return this.#mappings.get(
      this.#now(),
      maxAgeMs,
      async (at) => {
        const byFunction = new Map<string, EventSource[]>();
        for (const m of await this.#listMappings(undefined, this.#deps.lifetime)) {
          if (m.functionName === undefined) continue;
          const list = byFunction.get(m.functionName) ?? [];
          list.push(m.source);
          byFunction.set(m.functionName, list);
        }
        for (const [uuid, w] of this.#capsWritten) if (w.at < at) this.#capsWritten.delete(uuid);
        return { at, byFunction };
      },
      staleMs,
    );
  }

  /** Every page of ListEventSourceMappings, for one function or (undefined) the whole account. */
  async #listMappings(
    functionName: string | undefined,
    signal?: AbortSignal | undefined,
  ): Promise<{ source: EventSource; functionName: string | undefined }[]> {
    const all: { source: EventSource; functionName: string | undefined }[] = [];
    let marker: string | undefined;
    do {
      const out = await instrumented(
        this.#deps,
        'lambda',
        'ListEventSourceMappings',
        (abortSignal) =>
          this.#lambda.send(
            new ListEventSourceMappingsCommand({ FunctionName: functionName, Marker: marker, MaxItems: 100 }),
            { abortSignal },
          ),
        this.#cp(Priority.Read),
        signal,
      );
      for (const m of out.EventSourceMappings ?? []) {
        all.push({
          source: {
            uuid: m.UUID ?? '',
            eventSourceArn: m.EventSourceArn ?? '',
            state: m.State ?? '',
            maximumConcurrency: m.ScalingConfig?.MaximumConcurrency,
            batchSize: m.BatchSize,
            ...pollersOf(m.ProvisionedPollerConfig),
          },
          functionName: UNQUALIFIED_FUNCTION_ARN.exec(m.FunctionArn ?? '')?.[1],
        });
      }
      marker = out.NextMarker;
    } while (marker !== undefined && marker !== '');
    return all;
  }

  accountConcurrency(options: ReadOptions = {}): Promise<AccountConcurrency | undefined> {
    const maxAgeMs = options.maxAgeMs ?? LambdaFunctions.ACCOUNT_TTL_MS;
    const shared = this.#account.get(this.#now(), maxAgeMs, () => this.#readAccount());
    return untilAborted(shared, options.signal, 'lambda GetAccountSettings');
  }

  async #readAccount(): Promise<AccountConcurrency | undefined> {
    try {
      const out = await instrumented(
        this.#deps,
        'lambda',
        'GetAccountSettings',
        (abortSignal) => this.#lambda.send(new GetAccountSettingsCommand({}), { abortSignal }),
        this.#cp(Priority.Read),
        this.#deps.lifetime,
      );
      const limit = out.AccountLimit?.ConcurrentExecutions;
      const unreserved = out.AccountLimit?.UnreservedConcurrentExecutions;
      if (limit === undefined || unreserved === undefined) return undefined;
      return { limit, unreserved };
    } catch (error) {
      // Emulators without GetAccountSettings (moto) answer 404 with no AWS error type.
      const status = ((error as { cause?: { $metadata?: { httpStatusCode?: number } } }).cause?.$metadata
        ?.httpStatusCode ?? 0) as number;
      const awsName = (error as { awsName?: string }).awsName;
      if ((status === 404 || status === 501) && awsName !== 'ResourceNotFoundException') return undefined;
      throw error;
    }
  }
}

/** ProvisionedPollerConfig as the port names it; nothing in standard mode (no config, or `{}`). */
function pollersOf(
  c: { MinimumPollers?: number | undefined; MaximumPollers?: number | undefined } | undefined,
): { provisionedPollers?: ProvisionedPollers } {
  if (c === undefined || (c.MinimumPollers === undefined && c.MaximumPollers === undefined)) return {};
  // AWS's SQS defaults when one is left out: MinimumPollers 2, MaximumPollers 200 (API_ProvisionedPollerConfig).
  return { provisionedPollers: { minimum: c.MinimumPollers ?? 2, maximum: c.MaximumPollers ?? 200 } };
}

/**
 * One cache entry per function however it is named: a scaler names it by name, a restore by the
 * ARN it recorded (`arn:…:function:NAME`, or the partial `ACCOUNT:function:NAME`, maybe with a
 * qualifier, which reserved concurrency ignores).
 */
export function functionKey(nameOrArn: string): string {
  return /(?:^|:)function:([^:]+)/.exec(nameOrArn)?.[1] ?? nameOrArn;
}

/** A stable factor in [0.9, 1.1) per name (FNV-1a), to spread periodic work across names. */
export function spread(name: string): number {
  return 0.9 + unitHash(name) * 0.2;
}
