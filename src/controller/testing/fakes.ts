// Test doubles for the reconciler: an in-memory AWS account (one queue feeding one function, with
// call counts and the order of writes), a scaler object, and a reconciler over one scaler kept by the
// test. Shared by the reconciler's unit tests and the hostile suite (test/hostile); not in dist/.
import type { LambdaConcurrencyScaler, LambdaConcurrencyScalerStatus } from '../../api/v1alpha1/index.ts';
import type { AwsError } from '../../aws/errors.ts';
import type {
  CloudWatchPort,
  EventSource,
  FunctionPort,
  ProvisionedPollers,
  QueueMetrics,
  QueuePort,
  ReadOptions,
} from '../../aws/ports.ts';
import type { ManualClock } from '../../runtime/clock.ts';
import { silentLogger } from '../../runtime/logger.ts';
import type { ScalerMetrics } from '../metrics.ts';
import { ScalerReconciler } from '../reconciler.ts';

/** An in-memory AWS account: one queue feeding one function, with call counts. */
export class FakeAws implements QueuePort, FunctionPort {
  backlog = 0;
  reserved: number | undefined = undefined;
  linked = true;
  fail: AwsError | undefined;
  /** A failure of one operation only (`put`, `concurrency`, ...). */
  failOn: Record<string, AwsError | undefined> = {};
  calls: Record<string, number> = {};
  puts: number[] = [];
  /** The queue's event source mapping(s) to the function. */
  esms: {
    uuid: string;
    maximumConcurrency: number | undefined;
    provisionedPollers?: ProvisionedPollers | undefined;
  }[] = [{ uuid: 'u', maximumConcurrency: undefined }];
  /** The mappings' BatchSize, as ListEventSourceMappings reports it (undefined: not reported). */
  batchSize: number | undefined = undefined;
  /** CloudWatch, when the test gives one (metrics.source: CloudWatch). */
  cloudWatch: CloudWatchPort | undefined = undefined;
  /** Every write in order: `put N`, `delete`, `cap UUID N|none`, `pollers UUID MIN-MAX|none`. */
  writes: string[] = [];
  #count(op: string): void {
    this.calls[op] = (this.calls[op] ?? 0) + 1;
    const failure = this.failOn[op] ?? this.fail;
    if (failure !== undefined) throw failure;
  }
  async resolve(name: string) {
    this.#count('resolve');
    return { url: `http://q/${name}`, arn: `arn:aws:sqs:us-east-1:123456789012:${name}` };
  }
  async metrics(): Promise<QueueMetrics> {
    this.#count('metrics');
    return { visible: this.backlog, inFlight: 0, delayed: 0, observedAt: 0 };
  }
  async concurrency(name: string) {
    this.#count('concurrency');
    return { functionArn: `arn:aws:lambda:us-east-1:123456789012:function:${name}`, reserved: this.reserved };
  }
  async putConcurrency(_name: string, reserved: number) {
    this.#count('put');
    this.puts.push(reserved);
    this.writes.push(`put ${reserved}`);
    this.reserved = reserved;
  }
  async deleteConcurrency() {
    this.#count('delete');
    this.writes.push('delete');
    this.reserved = undefined;
  }
  async updateEventSourceMaximumConcurrency(uuid: string, value: number | undefined) {
    this.#count('updateEsm');
    const esm = this.esms.find((e) => e.uuid === uuid);
    if (esm === undefined) throw new Error(`no mapping ${uuid}`);
    if (value !== undefined && (value < 2 || value > 1000)) throw new Error(`invalid ${value}`);
    if (value !== undefined && esm.provisionedPollers !== undefined)
      throw new Error('MaximumConcurrency and ProvisionedPollerConfig are mutually exclusive');
    this.writes.push(`cap ${uuid} ${value ?? 'none'}`);
    esm.maximumConcurrency = value;
  }
  async updateEventSourceProvisionedPollers(uuid: string, pollers: ProvisionedPollers | undefined) {
    this.#count('updateEsm');
    const esm = this.esms.find((e) => e.uuid === uuid);
    if (esm === undefined) throw new Error(`no mapping ${uuid}`);
    if (pollers !== undefined) {
      const { minimum, maximum } = pollers;
      if (minimum < 2 || minimum > 200 || maximum < 2 || maximum > 10_000 || minimum > maximum)
        throw new Error(`invalid pollers ${minimum}-${maximum}`);
      if (esm.maximumConcurrency !== undefined)
        throw new Error('MaximumConcurrency and ProvisionedPollerConfig are mutually exclusive');
    }
    this.writes.push(
      `pollers ${uuid} ${pollers === undefined ? 'none' : `${pollers.minimum}-${pollers.maximum}`}`,
    );
    esm.provisionedPollers = pollers === undefined ? undefined : { ...pollers };
  }
  /** The options of every eventSources call, in order. */
  eventSourceReads: (ReadOptions & { staleMs?: number })[] = [];
  async eventSources(
    _name?: string,
    options: ReadOptions & { staleMs?: number } = {},
  ): Promise<EventSource[]> {
    this.#count('eventSources');
    this.eventSourceReads.push(options);
    return this.linked
      ? this.esms.map((e) => ({
          uuid: e.uuid,
          eventSourceArn: 'arn:aws:sqs:us-east-1:123456789012:orders',
          state: 'Enabled',
          maximumConcurrency: e.maximumConcurrency,
          ...(this.batchSize === undefined ? {} : { batchSize: this.batchSize }),
          ...(e.provisionedPollers === undefined ? {} : { provisionedPollers: { ...e.provisionedPollers } }),
        }))
      : [];
  }
  async accountConcurrency() {
    return { limit: 1000, unreserved: 900 };
  }
}

export function scaler(spec: Partial<LambdaConcurrencyScaler['spec']> = {}): LambdaConcurrencyScaler {
  return {
    apiVersion: 'aws.operators.jittakal.io/v1alpha1',
    kind: 'LambdaConcurrencyScaler',
    metadata: { name: 'sample', namespace: 'default', uid: 'uid-1', generation: 1 },
    spec: {
      awsSQSName: 'orders',
      awsSQSMsgCountThreshold: 100,
      awsLambdaName: 'order-processor',
      awsLambdaMinConcurrency: 5,
      awsLamndaMaxConcurrency: 20,
      awsLambdaStepConcurrency: 5,
      ...spec,
    },
  };
}

/**
 * A reconciler over one scaler kept by the test (`get`/`set` stand for the API server): status
 * patches and finalizer updates replace it, events are recorded as `type reason message`.
 */
export function reconcilerOver(o: {
  get: () => LambdaConcurrencyScaler;
  set: (scaler: LambdaConcurrencyScaler) => void;
  onStatus?: (status: LambdaConcurrencyScalerStatus) => void;
  events: string[];
  aws: FakeAws;
  clock: ManualClock;
  metrics?: ScalerMetrics;
}): ScalerReconciler {
  return new ScalerReconciler({
    get: o.get,
    patchStatus: async (s, status) => {
      o.onStatus?.(status);
      o.set({ ...s, status });
    },
    setFinalizers: async (s, finalizers) => {
      o.set({ ...s, metadata: { ...s.metadata, finalizers } });
      return o.get();
    },
    event: (_s, type, reason, message) => o.events.push(`${type} ${reason} ${message}`),
    aws: async () => ({
      queues: o.aws,
      functions: o.aws,
      account: 'test|us-east-1',
      ...(o.aws.cloudWatch === undefined ? {} : { cloudWatch: o.aws.cloudWatch }),
    }),
    clock: o.clock,
    log: silentLogger,
    metrics: o.metrics,
    random: () => 0.5, // no poll jitter: requeues land exactly on the interval
  });
}
