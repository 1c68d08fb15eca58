// The operator's view of AWS in its own terms: a queue's backlog, a function's reserved
// concurrency, its event sources and the account's headroom. The controller depends on these
// ports; sdk.ts implements them over the AWS SDK v3 clients.

/** A queue's backlog as GetQueueAttributes reports it. */
export interface QueueMetrics {
  /** ApproximateNumberOfMessages. */
  visible: number;
  /** ApproximateNumberOfMessagesNotVisible. */
  inFlight: number;
  /** ApproximateNumberOfMessagesDelayed. */
  delayed: number;
  /** When it was read, epoch ms. */
  observedAt: number;
}

/** A queue's backlog as CloudWatch publishes it, with the visible count's one-minute datapoints. */
export interface CloudWatchPort {
  /** The newest published counts and the visible series of the window, oldest first. */
  queueMetrics(
    queue: string,
    signal?: AbortSignal,
  ): Promise<QueueMetrics & { datapoints: { timestamp: number; value: number }[] }>;
  /**
   * The function's mean AWS/Lambda Duration (ms) over the window's published minutes, every
   * invocation weighing alike; undefined while none is published. For LatencySLO's
   * serviceTimeSource: CloudWatch.
   */
  functionDuration(
    functionName: string,
    signal?: AbortSignal,
  ): Promise<{ durationMs: number | undefined; observedAt: number }>;
}

export interface QueueRef {
  url: string;
  arn: string;
}

export interface QueuePort {
  /** Resolves a queue name, URL or ARN to its URL and ARN. */
  resolve(nameUrlOrArn: string, options?: CallOptions): Promise<QueueRef>;
  /** Reads the backlog. */
  metrics(queueUrl: string, options?: CallOptions): Promise<QueueMetrics>;
}

/** A function's reserved concurrency: a number, or undefined when none is reserved. */
export interface FunctionConcurrency {
  functionArn: string;
  reserved: number | undefined;
}

export interface EventSource {
  uuid: string;
  eventSourceArn: string;
  state: string;
  maximumConcurrency: number | undefined;
  /** BatchSize: messages per invocation (the policy uses it to tell served from overpulled in-flight messages). */
  batchSize?: number | undefined;
  /** ProvisionedPollerConfig of a mapping in provisioned mode; undefined in standard mode. */
  provisionedPollers?: ProvisionedPollers | undefined;
}

/** ProvisionedPollerConfig's SQS fields: pollers kept ready, and the most the mapping scales to. */
export interface ProvisionedPollers {
  minimum: number;
  maximum: number;
}

export interface AccountConcurrency {
  /** AccountLimit.ConcurrentExecutions. */
  limit: number;
  /** AccountLimit.UnreservedConcurrentExecutions. */
  unreserved: number;
}

/**
 * The MaximumConcurrency that keeps an SQS event source mapping within `reserved` concurrency:
 * AWS accepts 2-1000, so below 2 the cap stays at 2.
 */
export function capFor(reserved: number): number {
  return Math.min(1000, Math.max(2, reserved));
}

/**
 * What every port call takes: the caller's signal (aborts when the scaler is deleted or the
 * manager stops). Each call also has its own deadline (sdk.ts), so a hung endpoint holds no one.
 */
export interface CallOptions {
  signal?: AbortSignal | undefined;
}

/** How old a cached answer may be to serve instead of a call; without it, the call is made. */
export interface ReadOptions extends CallOptions {
  /** A reading up to this old may serve when the call's budget has no token free right now. */
  maxAgeMs?: number;
  /**
   * A reading (AWS's answer, or the operator's own write) younger than this serves without any
   * call: how often a function is re-read for changes made outside the operator. Spread ±10 % per
   * function so thousands of scalers do not re-read in step.
   */
  freshMs?: number;
}

export interface FunctionPort {
  /**
   * Reads the reserved concurrency through GetFunction (its own 100 requests/s bucket). With
   * `freshMs`, a recent reading serves without a call; with `maxAgeMs`, an older one may serve
   * when the budget is short (sdk.ts).
   */
  concurrency(functionName: string, options?: ReadOptions): Promise<FunctionConcurrency>;
  /** PutFunctionConcurrency; `priority` orders it in the shared control-plane bucket (limiter.ts). */
  putConcurrency(
    functionName: string,
    reserved: number,
    priority?: number,
    options?: CallOptions,
  ): Promise<void>;
  /** DeleteFunctionConcurrency (back to the unreserved pool). */
  deleteConcurrency(functionName: string, options?: CallOptions): Promise<void>;
  /**
   * UpdateEventSourceMapping with only ScalingConfig.MaximumConcurrency (2-1000); undefined removes
   * the cap (`ScalingConfig: {}`). Spends the shared control-plane bucket at `priority`.
   */
  updateEventSourceMaximumConcurrency(
    uuid: string,
    value: number | undefined,
    priority?: number,
    options?: CallOptions,
  ): Promise<void>;
  /**
   * UpdateEventSourceMapping with only ProvisionedPollerConfig {MinimumPollers, MaximumPollers};
   * undefined turns provisioned mode off (`ProvisionedPollerConfig: {}`). Spends the shared
   * control-plane bucket at `priority`.
   */
  updateEventSourceProvisionedPollers(
    uuid: string,
    pollers: ProvisionedPollers | undefined,
    priority?: number,
    options?: CallOptions,
  ): Promise<void>;
  /**
   * Every event source mapping of the function (all pages). With `maxAgeMs`, from a shared listing
   * of the account's mappings no older than that (sdk.ts); with `staleMs` as well, a listing up
   * to that old serves at once while a newer one is read (stale-while-revalidate).
   */
  eventSources(functionName: string, options?: ReadOptions & { staleMs?: number }): Promise<EventSource[]>;
  /**
   * GetAccountSettings; undefined where the endpoint does not implement it. With `maxAgeMs: 0`
   * it is read afresh (after AWS refused a write for headroom).
   */
  accountConcurrency(options?: ReadOptions): Promise<AccountConcurrency | undefined>;
}
