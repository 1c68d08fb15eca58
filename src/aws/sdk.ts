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
import { releaseSlot } from '../runtime/slot.ts';
import { classify } from './errors.ts';
import { Priority, type TokenBucket } from './limiter.ts';
import type { AwsMetrics } from './metrics.ts';
import type {
  AccountConcurrency,
  EventSource,
  FunctionConcurrency,
  FunctionPort,
  QueueMetrics,
  QueuePort,
  QueueRef,
  ReadOptions,
} from './ports.ts';

/** Runs one AWS call with metrics, an optional token bucket, and error classification. */
export async function instrumented<T>(
  deps: { metrics?: AwsMetrics | undefined; secrets?: readonly string[] | undefined; now?: () => number },
  service: string,
  operation: string,
  call: () => Promise<T>,
  bucket?: { bucket: TokenBucket; name: string; priority: number; signal?: AbortSignal | undefined },
): Promise<T> {
  if (bucket !== undefined) {
    const before = bucket.bucket.waitedMs;
    await bucket.bucket.take(bucket.priority, bucket.signal);
    deps.metrics?.limiterWait.inc({ bucket: bucket.name }, (bucket.bucket.waitedMs - before) / 1000);
  }
  const started = performance.now();
  try {
    const result = await call();
    deps.metrics?.calls.inc({ service, operation, outcome: 'success' });
    return result;
  } catch (error) {
    const classified = classify(error, `${service} ${operation}`, deps.secrets ?? []);
    deps.metrics?.calls.inc({ service, operation, outcome: classified.code });
    if (classified.code === 'Throttled') deps.metrics?.throttles.inc({ service, operation });
    throw classified;
  } finally {
    deps.metrics?.latency.observe({ service, operation }, (performance.now() - started) / 1000);
  }
}

const QUEUE_ARN = /^arn:aws[a-zA-Z-]*:sqs:[a-z0-9-]+:([0-9]{12}):(.+)$/;

/** QueuePort over SQS. */
export class SqsQueues implements QueuePort {
  readonly #sqs: SQSClient;
  readonly #deps: {
    metrics?: AwsMetrics | undefined;
    secrets?: readonly string[] | undefined;
    now: () => number;
  };

  constructor(
    sqs: SQSClient,
    deps: { metrics?: AwsMetrics | undefined; secrets?: readonly string[]; now: () => number },
  ) {
    this.#sqs = sqs;
    this.#deps = deps;
  }

  async resolve(nameUrlOrArn: string): Promise<QueueRef> {
    let url: string;
    if (/^https?:\/\//.test(nameUrlOrArn)) {
      url = nameUrlOrArn;
    } else {
      const arn = QUEUE_ARN.exec(nameUrlOrArn);
      const input =
        arn === null ? { QueueName: nameUrlOrArn } : { QueueName: arn[2], QueueOwnerAWSAccountId: arn[1] };
      const out = await instrumented(this.#deps, 'sqs', 'GetQueueUrl', () =>
        this.#sqs.send(new GetQueueUrlCommand(input)),
      );
      url = out.QueueUrl ?? '';
    }
    const attrs = await instrumented(this.#deps, 'sqs', 'GetQueueAttributes', () =>
      this.#sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] })),
    );
    return { url, arn: attrs.Attributes?.QueueArn ?? '' };
  }

  async metrics(queueUrl: string): Promise<QueueMetrics> {
    const out = await instrumented(this.#deps, 'sqs', 'GetQueueAttributes', () =>
      this.#sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      ),
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
 */
class SharedRead<T> {
  #entry: { at: number; value: Promise<T>; pending: boolean } | undefined;

  /** The shared answer if it started no more than `maxAgeMs` before `now`, else `read(now)`. */
  get(now: number, maxAgeMs: number, read: (startedAt: number) => Promise<T>): Promise<T> {
    const current = this.#entry;
    if (current !== undefined && now - current.at <= maxAgeMs) {
      if (current.pending) releaseSlot();
      return current.value;
    }
    const entry = { at: now, value: read(now), pending: true };
    this.#entry = entry;
    entry.value.then(
      () => {
        entry.pending = false;
      },
      () => {
        if (this.#entry === entry) this.#entry = undefined;
      },
    );
    return entry.value;
  }
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
  readonly #deps: { metrics?: AwsMetrics | undefined; secrets?: readonly string[] | undefined };
  readonly #signal: AbortSignal | undefined;
  readonly #now: () => number;
  /** GetAccountSettings spends the shared bucket: one answer serves every scaler for a while. */
  readonly #account = new SharedRead<AccountConcurrency | undefined>();
  /** The last GetFunction answer (or our own write) per function. */
  readonly #reserved = new Map<string, { at: number; value: FunctionConcurrency }>();
  /** The account's mappings, listed once for every scaler of this binding. */
  readonly #mappings = new SharedRead<AccountMappings>();
  /** MaximumConcurrency we set, by mapping, newer than the listing may be. */
  readonly #capsWritten = new Map<string, { at: number; value: number | undefined }>();
  static readonly ACCOUNT_TTL_MS = 10_000;

  constructor(
    lambda: LambdaClient,
    buckets: LambdaBuckets,
    deps: {
      metrics?: AwsMetrics | undefined;
      secrets?: readonly string[];
      signal?: AbortSignal;
      now: () => number;
    },
  ) {
    this.#lambda = lambda;
    this.#buckets = buckets;
    this.#deps = deps;
    this.#signal = deps.signal;
    this.#now = deps.now;
  }

  #cp(priority: number) {
    return {
      bucket: this.#buckets.controlPlane,
      name: 'lambda-control-plane',
      priority,
      signal: this.#signal,
    };
  }

  /**
   * Reads the reserved concurrency through GetFunction. With `maxAgeMs`, an answer (or our own
   * write) no older than that serves instead whenever no GetFunction token is free right now: 5,000
   * scalers polling every 30 s would want 167 GetFunction/s and AWS allows 100, so under that load
   * each function is read as often as the budget allows and never less than every `maxAgeMs`.
   */
  async concurrency(functionName: string, options: ReadOptions = {}): Promise<FunctionConcurrency> {
    const cached = this.#reserved.get(functionName);
    const usable = cached !== undefined && this.#now() - cached.at <= (options.maxAgeMs ?? -1);
    if (usable && !this.#buckets.getFunction.tryTake()) return { ...cached.value };
    const out = await instrumented(
      this.#deps,
      'lambda',
      'GetFunction',
      () => this.#lambda.send(new GetFunctionCommand({ FunctionName: functionName })),
      usable
        ? undefined // the token was taken above
        : {
            bucket: this.#buckets.getFunction,
            name: 'lambda-get-function',
            priority: Priority.Read,
            signal: this.#signal,
          },
    );
    const value = {
      functionArn: out.Configuration?.FunctionArn ?? functionName,
      reserved: out.Concurrency?.ReservedConcurrentExecutions,
    };
    this.#reserved.set(functionName, { at: this.#now(), value });
    return { ...value };
  }

  /** Our own successful write is the freshest answer there is. */
  #wrote(functionName: string, reserved: number | undefined): void {
    const cached = this.#reserved.get(functionName);
    if (cached !== undefined)
      this.#reserved.set(functionName, { at: this.#now(), value: { ...cached.value, reserved } });
  }

  async putConcurrency(
    functionName: string,
    reserved: number,
    priority: number = Priority.ScaleUp,
  ): Promise<void> {
    await instrumented(
      this.#deps,
      'lambda',
      'PutFunctionConcurrency',
      () =>
        this.#lambda.send(
          new PutFunctionConcurrencyCommand({
            FunctionName: functionName,
            ReservedConcurrentExecutions: reserved,
          }),
        ),
      this.#cp(priority),
    );
    this.#wrote(functionName, reserved);
  }

  async deleteConcurrency(functionName: string): Promise<void> {
    await instrumented(
      this.#deps,
      'lambda',
      'DeleteFunctionConcurrency',
      () => this.#lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: functionName })),
      this.#cp(Priority.ScaleDown),
    );
    this.#wrote(functionName, undefined);
  }

  async updateEventSourceMaximumConcurrency(
    uuid: string,
    value: number | undefined,
    priority: number = Priority.ScaleUp,
  ): Promise<void> {
    await instrumented(
      this.#deps,
      'lambda',
      'UpdateEventSourceMapping',
      () =>
        this.#lambda.send(
          new UpdateEventSourceMappingCommand({
            UUID: uuid,
            ScalingConfig: value === undefined ? {} : { MaximumConcurrency: value },
          }),
        ),
      this.#cp(priority),
    );
    this.#capsWritten.set(uuid, { at: this.#now(), value });
  }

  /**
   * The function's event source mappings. With `maxAgeMs` and a plain function name, the answer
   * comes from one listing of the whole account (100 mappings a call) no older than that, shared
   * by every scaler of this binding: 1,000 scalers cost 10 calls instead of 1,000. A function the
   * listing does not show (a mapping created since, or none at all) is asked about directly.
   */
  async eventSources(functionName: string, options: ReadOptions = {}): Promise<EventSource[]> {
    if (options.maxAgeMs !== undefined && !functionName.includes(':')) {
      const listing = await this.#accountMappings(options.maxAgeMs);
      const mine = listing.byFunction.get(functionName);
      if (mine !== undefined)
        return mine.map((m) => {
          // A cap we wrote after the listing started is newer than what the listing says.
          const written = this.#capsWritten.get(m.uuid);
          return written !== undefined && written.at >= listing.at
            ? { ...m, maximumConcurrency: written.value }
            : { ...m };
        });
    }
    return (await this.#listMappings(functionName)).map((m) => m.source);
  }

  #accountMappings(maxAgeMs: number): Promise<AccountMappings> {
    return this.#mappings.get(this.#now(), maxAgeMs, async (at) => {
      const byFunction = new Map<string, EventSource[]>();
      for (const m of await this.#listMappings(undefined)) {
        if (m.functionName === undefined) continue;
        const list = byFunction.get(m.functionName) ?? [];
        list.push(m.source);
        byFunction.set(m.functionName, list);
      }
      for (const [uuid, w] of this.#capsWritten) if (w.at < at) this.#capsWritten.delete(uuid);
      return { at, byFunction };
    });
  }

  /** Every page of ListEventSourceMappings, for one function or (undefined) the whole account. */
  async #listMappings(
    functionName: string | undefined,
  ): Promise<{ source: EventSource; functionName: string | undefined }[]> {
    const all: { source: EventSource; functionName: string | undefined }[] = [];
    let marker: string | undefined;
    do {
      const out = await instrumented(
        this.#deps,
        'lambda',
        'ListEventSourceMappings',
        () =>
          this.#lambda.send(
            new ListEventSourceMappingsCommand({ FunctionName: functionName, Marker: marker, MaxItems: 100 }),
          ),
        this.#cp(Priority.Read),
      );
      for (const m of out.EventSourceMappings ?? []) {
        all.push({
          source: {
            uuid: m.UUID ?? '',
            eventSourceArn: m.EventSourceArn ?? '',
            state: m.State ?? '',
            maximumConcurrency: m.ScalingConfig?.MaximumConcurrency,
            batchSize: m.BatchSize,
          },
          functionName: UNQUALIFIED_FUNCTION_ARN.exec(m.FunctionArn ?? '')?.[1],
        });
      }
      marker = out.NextMarker;
    } while (marker !== undefined && marker !== '');
    return all;
  }

  accountConcurrency(): Promise<AccountConcurrency | undefined> {
    return this.#account.get(this.#now(), LambdaFunctions.ACCOUNT_TTL_MS, () => this.#readAccount());
  }

  async #readAccount(): Promise<AccountConcurrency | undefined> {
    try {
      const out = await instrumented(
        this.#deps,
        'lambda',
        'GetAccountSettings',
        () => this.#lambda.send(new GetAccountSettingsCommand({})),
        this.#cp(Priority.Read),
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
