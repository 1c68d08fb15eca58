// The event source mapping operations on the model: create, read, update and delete SQS mappings
// with Lambda's validation; the poller does the rest.

import type { Scheduler } from '../engine/scheduler.ts';
import type { Account } from './account.ts';
import { lambdaErrors } from './errors.ts';
import { Esm, type ProvisionedPollers } from './esm.ts';
import type { LambdaApi } from './lambda-api.ts';
import type { ModelParams } from './params.ts';
import type { MappingPoller } from './poller.ts';

/** Settings of a mapping that requests may change. */
interface MappingSettings {
  readonly batchSize: number;
  readonly windowMs: number;
  readonly maximumConcurrency: number | undefined;
  readonly provisionedPollers: ProvisionedPollers | undefined;
}

/** A shape constraint of the Lambda model, violated: ValidationException worded as AWS does. */
const outOfRange = (at: string, value: unknown, min: number, max: number): Error =>
  lambdaErrors.validation(
    `1 validation error detected: Value '${String(value)}' at '${at}' failed to satisfy constraint: Member must have value ${Number(value) < min ? `greater than or equal to ${min}` : `less than or equal to ${max}`}`,
  );

/**
 * ProvisionedPollerConfig: the shape allows MinimumPollers 1–200 and MaximumPollers 1–10,000
 * (ValidationException); for SQS both must be at least 2 and default to 2 and 200 (API reference,
 * API_ProvisionedPollerConfig). `{}` (neither given) turns provisioned mode off, as `ScalingConfig: {}`
 * removes the cap (assumption: AWS does not say how provisioned mode is turned off).
 */
function provisionedPollersOf(raw: unknown): ProvisionedPollers | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const c = raw as { MinimumPollers?: unknown; MaximumPollers?: unknown };
  if (c.MinimumPollers === undefined && c.MaximumPollers === undefined) return undefined;
  const min = c.MinimumPollers ?? 2;
  const max = c.MaximumPollers ?? 200;
  if (!Number.isInteger(min) || (min as number) < 1 || (min as number) > 200)
    throw outOfRange('provisionedPollerConfig.minimumPollers', min, 1, 200);
  if (!Number.isInteger(max) || (max as number) < 1 || (max as number) > 10_000)
    throw outOfRange('provisionedPollerConfig.maximumPollers', max, 1, 10_000);
  if ((min as number) < 2 || (max as number) < 2)
    throw lambdaErrors.invalidParameter(
      'For Amazon SQS event source mappings, MinimumPollers and MaximumPollers must be at least 2.',
    );
  if ((min as number) > (max as number))
    throw lambdaErrors.invalidParameter('MinimumPollers must be less than or equal to MaximumPollers.');
  return { minimum: min as number, maximum: max as number };
}

/** Lambda's event source mapping operations. */
export class MappingApi {
  readonly #sched: Scheduler;
  readonly #params: ModelParams;
  readonly #account: Account;
  readonly #functions: LambdaApi;
  readonly #poller: MappingPoller;

  constructor(
    sched: Scheduler,
    params: ModelParams,
    account: Account,
    functions: LambdaApi,
    poller: MappingPoller,
  ) {
    this.#sched = sched;
    this.#params = params;
    this.#account = account;
    this.#functions = functions;
    this.#poller = poller;
  }

  get #now(): number {
    return this.#sched.now();
  }

  createEsm(input: Record<string, unknown>): Esm {
    const arn = input.EventSourceArn;
    if (typeof arn !== 'string')
      throw lambdaErrors.invalidParameter(
        'Unrecognized event source, must be kinesis, dynamodb stream or sqs.',
      );
    if (!arn.startsWith('arn:aws:sqs:'))
      throw lambdaErrors.invalidParameter('awssim models SQS event sources only.');
    const f = this.#functions.fn(input.FunctionName as string | undefined);
    if (!this.#account.queueByArn(arn))
      throw lambdaErrors.invalidParameter(
        'Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist or you do not have access to it.',
      );
    for (const e of this.#account.mappingsByUuid.values())
      if (e.queueArn === arn && e.functionName === f.name)
        throw lambdaErrors.conflict(
          `An event source mapping with SQS arn (" ${arn} ") and function (" ${f.name} ") already exists. Please update or delete the existing mapping with UUID ${e.uuid}`,
        );
    const { batchSize, windowMs, maximumConcurrency, provisionedPollers } = this.#settings(input, undefined);
    const e = new Esm({
      uuid: this.#account.newUuid(),
      functionName: f.name,
      queueArn: arn,
      batchSize,
      windowMs,
      enabled: input.Enabled !== false,
      maximumConcurrency,
      provisionedPollers,
      now: this.#now,
      extra: {
        ...(input.FunctionResponseTypes ? { FunctionResponseTypes: input.FunctionResponseTypes } : {}),
        ...(input.FilterCriteria ? { FilterCriteria: input.FilterCriteria } : {}),
      },
    });
    e.target = e.initialConcurrency(this.#params);
    this.#account.addMapping(e);
    this.#poller.start(e);
    return e;
  }

  #settings(input: Record<string, unknown>, prev: Esm | undefined): MappingSettings {
    const batchSize = (input.BatchSize as number | undefined) ?? prev?.batchSize ?? 10;
    const window =
      (input.MaximumBatchingWindowInSeconds as number | undefined) ?? (prev ? prev.windowMs / 1000 : 0);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
      throw lambdaErrors.invalidParameter(
        `BatchSize must be between 1 and 10000 for SQS event sources, got ${batchSize}.`,
      );
    if (!Number.isInteger(window) || window < 0 || window > 300)
      throw lambdaErrors.validation(
        `1 validation error detected: Value '${window}' at 'maximumBatchingWindowInSeconds' failed to satisfy constraint: Member must have value less than or equal to 300`,
      );
    if (batchSize > 10 && window < 1)
      throw lambdaErrors.invalidParameter(
        'Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10',
      );
    let maximumConcurrency = prev?.maximumConcurrency;
    if (input.ScalingConfig !== undefined) {
      const sc = input.ScalingConfig as { MaximumConcurrency?: number } | null;
      const mc = sc?.MaximumConcurrency;
      if (mc !== undefined && (!Number.isInteger(mc) || mc < 2 || mc > 1000))
        throw lambdaErrors.validation(
          `1 validation error detected: Value '${mc}' at 'scalingConfig.maximumConcurrency' failed to satisfy constraint: Member must have value ${mc < 2 ? 'greater than or equal to 2' : 'less than or equal to 1000'}`,
        );
      maximumConcurrency = mc;
    }
    let provisionedPollers = prev?.provisionedPollers;
    if (input.ProvisionedPollerConfig !== undefined)
      provisionedPollers = provisionedPollersOf(input.ProvisionedPollerConfig);
    if (provisionedPollers && maximumConcurrency !== undefined)
      throw lambdaErrors.invalidParameter(
        'ProvisionedPollerConfig and ScalingConfig.MaximumConcurrency are mutually exclusive: remove one of them.',
      );
    return { batchSize, windowMs: window * 1000, maximumConcurrency, provisionedPollers };
  }

  esm(uuid: string | undefined): Esm {
    const e = uuid ? this.#account.mappingsByUuid.get(uuid) : undefined;
    if (!e) throw lambdaErrors.resourceNotFound();
    return e;
  }

  updateEsm(e: Esm, input: Record<string, unknown>): void {
    if (input.FunctionName !== undefined)
      e.functionName = this.#functions.fn(input.FunctionName as string).name;
    const s = this.#settings(input, e);
    e.batchSize = s.batchSize;
    e.windowMs = s.windowMs;
    e.maximumConcurrency = s.maximumConcurrency;
    e.provisionedPollers = s.provisionedPollers;
    if (input.FunctionResponseTypes !== undefined)
      e.extra.FunctionResponseTypes = input.FunctionResponseTypes;
    if (input.FilterCriteria !== undefined) e.extra.FilterCriteria = input.FilterCriteria;
    const wasEnabled = e.enabled;
    if (typeof input.Enabled === 'boolean') e.enabled = input.Enabled;
    e.lastModified = this.#now;
    e.transient = 'Updating';
    e.target = Math.min(e.target, e.ceiling(this.#params));
    if (e.provisionedPollers) e.target = Math.max(e.target, e.initialConcurrency(this.#params));
    if (e.enabled && !wasEnabled) {
      e.target = e.initialConcurrency(this.#params);
      this.#poller.start(e);
    } else if (!e.enabled && wasEnabled) this.#poller.stop(e);
    else this.#poller.fill(e);
  }

  deleteEsm(e: Esm): void {
    e.deleted = true;
    e.enabled = false;
    this.#poller.stop(e);
    this.#account.removeMapping(e);
  }

  /** Deletes every mapping of a function (it is being deleted). */
  deleteMappingsOf(functionName: string): void {
    for (const e of this.#account.mappingsOf(functionName)) this.deleteEsm(e);
  }
}
