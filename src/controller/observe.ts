// Observe: what the world looks like for one scaler — the queue (resolved once per spec
// generation), the function's reserved concurrency, that the queue feeds the function (and the
// mapping's batch size and caps), and the backlog. Reads only; every call carries the pass's signal.
import { AwsError, AwsErrorCode, ErrorClass } from '../aws/errors.ts';
import type { FunctionConcurrency, QueueMetrics, QueueRef } from '../aws/ports.ts';
import { functionName } from './metrics.ts';
import type { Pass } from './record.ts';
import type { Mapping } from './status-builder.ts';

/**
 * How old the account-wide listing of event source mappings may be when a scaler re-checks its
 * own (every eventSourceRefreshMs): a minute keeps it at one listing a minute however many scalers
 * share it.
 */
const SHARED_LISTING_MAX_AGE_MS = 60_000;
/**
 * A re-check (the scaler already knows its link) takes a listing up to this old at once while a
 * newer one is read (stale-while-revalidate, sdk.ts): only a scaler's first read waits for the
 * listing. Five minutes bounds how long a mapping deleted or changed outside the operator can go
 * unseen when listings keep failing.
 */
const STALE_LISTING_MAX_AGE_MS = 5 * 60_000;

export interface Observation {
  queue: QueueRef;
  fn: FunctionConcurrency;
  mappings: Mapping[];
  batchSize?: number;
  metrics?: QueueMetrics;
  metricsError?: string;
  /** The function's mean Duration, seconds (LatencySLO serviceTimeSource: CloudWatch). */
  serviceTimeSeconds?: number;
}

/** CloudWatch publishes a datapoint a minute: reading the Duration more often learns nothing. */
const SERVICE_TIME_REFRESH_MS = 60_000;

/**
 * The function's mean Duration for LatencySLO's serviceTimeSource: CloudWatch, read at most once a
 * minute. A minute with no invocation publishes nothing, and a read can fail: either way the newest
 * mean known stands (how long the function takes is the function's, not the load's), and a failed
 * read never fails the pass. Without any, the policy learns from the queue's counts. Undefined for
 * every other configuration.
 */
async function observeServiceTime(pass: Pass, fn: FunctionConcurrency): Promise<number | undefined> {
  const { record, config, aws, signal, now } = pass;
  if (config.policy.type !== 'LatencySLO' || config.policy.serviceTimeSource !== 'CloudWatch')
    return undefined;
  if (aws.cloudWatch === undefined) return undefined;
  const last = record.serviceTime;
  if (last === undefined || now - last.readAt >= SERVICE_TIME_REFRESH_MS) {
    try {
      const d = await aws.cloudWatch.functionDuration(functionName(fn.functionArn), signal);
      const ms = d.durationMs;
      const seconds = ms !== undefined && Number.isFinite(ms) && ms > 0 ? ms / 1000 : last?.seconds;
      record.serviceTime = { readAt: now, seconds, error: undefined };
    } catch (error) {
      if (signal.aborted) throw error;
      record.serviceTime = {
        readAt: now,
        seconds: last?.seconds,
        error: error instanceof Error ? error.message : String(error),
      };
    }
  }
  return record.serviceTime?.seconds;
}

/**
 * The function as AWS names it, before anything else is read (claims and allow-lists need it).
 * A reading younger than `driftCheckMs` serves without a call (our own writes keep it current);
 * under a short GetFunction budget (thousands of scalers) one up to `refreshMs` old serves (sdk.ts).
 */
export async function observeFunction(
  pass: Pass,
  refreshMs: number,
  driftCheckMs: number,
): Promise<FunctionConcurrency> {
  return pass.aws.functions.concurrency(pass.spec.awsLambdaName, {
    freshMs: driftCheckMs,
    maxAgeMs: Math.max(refreshMs, driftCheckMs),
    signal: pass.signal,
  });
}

/** The queue as AWS names it (resolved once per spec generation). */
export async function observeQueue(pass: Pass): Promise<QueueRef> {
  const { record, spec, aws, signal } = pass;
  record.queue ??= await aws.queues.resolve(spec.awsSQSName, { signal });
  return record.queue;
}

/** The event source link and the backlog, given the function already read. */
export async function observeRest(
  pass: Pass,
  fn: FunctionConcurrency,
  queue: QueueRef,
  refreshMs: number,
): Promise<Observation> {
  const { record, spec, aws, signal, now } = pass;
  let link = record.eventSources;
  if (link === undefined || now - link.at >= refreshMs) {
    // The account-wide listing shared by all scalers first; a direct question before concluding
    // the queue is not an event source (the mapping may be newer than the listing). A function
    // with no mapping at all was already asked directly (sdk.ts): no need to ask twice.
    const shared = await aws.functions.eventSources(spec.awsLambdaName, {
      maxAgeMs: SHARED_LISTING_MAX_AGE_MS,
      ...(link === undefined ? {} : { staleMs: STALE_LISTING_MAX_AGE_MS }),
      signal,
    });
    let ours = shared.filter((s) => s.eventSourceArn === queue.arn);
    if (ours.length === 0 && shared.length > 0)
      ours = (await aws.functions.eventSources(spec.awsLambdaName, { signal })).filter(
        (s) => s.eventSourceArn === queue.arn,
      );
    link = {
      linked: ours.length > 0,
      batchSize: ours[0]?.batchSize,
      mappings: ours.map((m) => ({
        uuid: m.uuid,
        maximumConcurrency: m.maximumConcurrency,
        ...(m.provisionedPollers === undefined ? {} : { provisionedPollers: { ...m.provisionedPollers } }),
      })),
      at: now,
    };
    record.eventSources = link;
  }
  if (!link.linked) {
    throw new AwsError(
      `queue ${spec.awsSQSName} is not an event source of function ${spec.awsLambdaName}: create an SQS event source mapping from the queue to the function, or fix awsSQSName/awsLambdaName`,
      { code: AwsErrorCode.InvalidParameter, errorClass: ErrorClass.Permanent, awsName: 'NotAnEventSource' },
    );
  }
  const serviceTimeSeconds = await observeServiceTime(pass, fn);
  const base: Observation = {
    queue,
    fn,
    mappings: link.mappings,
    ...(link.batchSize === undefined ? {} : { batchSize: link.batchSize }),
    ...(serviceTimeSeconds === undefined ? {} : { serviceTimeSeconds }),
  };
  try {
    // The original operator's source: CloudWatch's one-minute datapoints (minutes late); the
    // default reads the queue's own attributes, which are fresher.
    const metrics =
      pass.config.metrics.source === 'CloudWatch' && aws.cloudWatch !== undefined
        ? await aws.cloudWatch.queueMetrics(queue.arn, signal)
        : await aws.queues.metrics(queue.url, { signal });
    return { ...base, metrics };
  } catch (error) {
    if (error instanceof AwsError && error.errorClass === ErrorClass.Transient && !signal.aborted)
      return { ...base, metricsError: error.message };
    throw error;
  }
}
