// The Lambda function operations on the model: create, read and delete functions, reserved and
// provisioned concurrency with AWS's validation (the unreserved floor), and account settings.

import { createHash } from 'node:crypto';
import type { Scheduler } from '../engine/scheduler.ts';
import { type Account, REGION } from './account.ts';
import { lambdaErrors, unreservedFloorMessage } from './errors.ts';
import { SimFunction } from './lambda.ts';
import { defaultBehaviour, type FunctionBehaviour, type ModelParams } from './params.ts';

/** What the function operations need from the mappings. */
export interface FunctionMappingHooks {
  /** The function is being deleted: delete its mappings. */
  deleteMappingsOf(functionName: string): void;
  /** The function's concurrency changed: its mappings may poll again. */
  concurrencyChanged(functionName: string): void;
}

/** Lambda's function and concurrency operations. */
export class LambdaApi {
  readonly #sched: Scheduler;
  readonly #params: ModelParams;
  readonly #account: Account;
  readonly #hooks: FunctionMappingHooks;
  /** Behaviour by function name, for functions created later (scenario or `setBehaviour`). */
  readonly #behaviourByName = new Map<string, FunctionBehaviour>();

  constructor(sched: Scheduler, params: ModelParams, account: Account, hooks: FunctionMappingHooks) {
    this.#sched = sched;
    this.#params = params;
    this.#account = account;
    this.#hooks = hooks;
  }

  get #now(): number {
    return this.#sched.now();
  }

  /** Sets how the function `name` behaves, now if it exists and whenever it is (re)created. */
  setBehaviour(name: string, b: FunctionBehaviour): void {
    this.#behaviourByName.set(name, b);
    const f = this.#account.functionsByName.get(name);
    if (f) f.behaviour = b;
  }

  /** Resolves a function name, ARN or partial ARN. */
  functionNameOf(ref: string | undefined): string {
    if (!ref)
      throw lambdaErrors.validation(
        "1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null",
      );
    const r = decodeURIComponent(ref);
    const m =
      /^(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:)?(?:(\d{12}):)?(?:function:)?([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/.exec(
        r,
      );
    if (!m?.[2] || m[2].length > 64)
      throw lambdaErrors.validation(
        `1 validation error detected: Value '${r}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?`,
      );
    // A function of another account: Lambda refuses without a resource-based policy granting it.
    if (m[1] !== undefined && !this.#account.owns(m[1]))
      throw lambdaErrors.accessDenied(
        `arn:aws:lambda:${REGION}:${m[1]}:function:${m[2]}`,
        `arn:aws:iam::${this.#account.id}:root`,
      );
    return m[2];
  }

  functionArn(name: string): string {
    return `arn:aws:lambda:${REGION}:${this.#account.id}:function:${name}`;
  }

  /** Finds a function or throws ResourceNotFoundException with AWS's wording. */
  fn(ref: string | undefined): SimFunction {
    const name = this.functionNameOf(ref);
    const f = this.#account.functionsByName.get(name);
    if (!f) throw lambdaErrors.functionNotFound(this.functionArn(name));
    return f;
  }

  createFunction(input: Record<string, unknown>): SimFunction {
    const name = this.functionNameOf(input.FunctionName as string | undefined);
    if (
      typeof input.Role !== 'string' ||
      !/^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/.test(input.Role)
    )
      throw lambdaErrors.validation(
        `1 validation error detected: Value '${String(input.Role)}' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+`,
      );
    if (typeof input.Code !== 'object' || input.Code === null)
      throw lambdaErrors.invalidParameter('Code is required');
    if (this.#account.functionsByName.has(name))
      throw lambdaErrors.conflict(`Function already exist: ${name}`);
    const timeout = (input.Timeout as number | undefined) ?? 3;
    const memory = (input.MemorySize as number | undefined) ?? 128;
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 900)
      throw lambdaErrors.validation(
        `1 validation error detected: Value '${timeout}' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900`,
      );
    if (!Number.isInteger(memory) || memory < 128 || memory > 10_240)
      throw lambdaErrors.validation(
        `1 validation error detected: Value '${memory}' at 'memorySize' failed to satisfy constraint: Member must have value between 128 and 10240`,
      );
    const code = input.Code as { ZipFile?: string; ImageUri?: string };
    const zip = typeof code.ZipFile === 'string' ? Buffer.from(code.ZipFile, 'base64') : Buffer.alloc(0);
    const cfg: Record<string, unknown> = {
      FunctionName: name,
      FunctionArn: this.functionArn(name),
      Runtime: input.Runtime,
      Role: input.Role,
      Handler: input.Handler,
      CodeSize: zip.length,
      Description: (input.Description as string | undefined) ?? '',
      Timeout: timeout,
      MemorySize: memory,
      LastModified: new Date(this.#now).toISOString().replace('Z', '+0000'),
      CodeSha256: createHash('sha256').update(zip).digest('base64'),
      Version: '$LATEST',
      TracingConfig: { Mode: 'PassThrough' },
      RevisionId: this.#account.newUuid(),
      State: 'Active',
      LastUpdateStatus: 'Successful',
      PackageType: (input.PackageType as string | undefined) ?? 'Zip',
      Architectures: (input.Architectures as string[] | undefined) ?? ['x86_64'],
      EphemeralStorage: { Size: 512 },
    };
    if (input.Environment) cfg.Environment = input.Environment;
    const f = new SimFunction(
      name,
      this.functionArn(name),
      cfg,
      this.#behaviourByName.get(name) ?? defaultBehaviour,
      this.#params.functionScalingPer10s,
      this.#now,
    );
    f.tags = (input.Tags as Record<string, string> | undefined) ?? {};
    this.#account.addFunction(f);
    return f;
  }

  deleteFunction(f: SimFunction): void {
    this.#hooks.deleteMappingsOf(f.name);
    f.setReserved(undefined, this.#now);
    this.#account.removeFunction(f);
  }

  /** PutFunctionConcurrency with AWS's validation (the unreserved floor, provisioned concurrency). */
  putFunctionConcurrency(f: SimFunction, value: number | undefined): number {
    if (value === undefined || value === null)
      throw lambdaErrors.validation(
        "1 validation error detected: Value null at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must not be null",
      );
    if (!Number.isInteger(value) || value < 0)
      throw lambdaErrors.validation(
        `1 validation error detected: Value '${value}' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 0`,
      );
    if (this.#account.unreservedPool(f) - value < this.#params.unreservedMin)
      throw lambdaErrors.invalidParameter(unreservedFloorMessage(this.#params.unreservedMin));
    if (value < f.provisioned)
      throw lambdaErrors.invalidParameter(
        `Specified ReservedConcurrentExecutions for function is less than the function's allocated provisioned concurrency of [${f.provisioned}].`,
      );
    f.setReserved(value, this.#now);
    this.#hooks.concurrencyChanged(f.name);
    return value;
  }

  deleteFunctionConcurrency(f: SimFunction): void {
    f.setReserved(undefined, this.#now);
    this.#hooks.concurrencyChanged(f.name);
  }

  accountSettings(): Record<string, unknown> {
    const functions = [...this.#account.functionsByName.values()];
    return {
      AccountLimit: {
        TotalCodeSize: 80_530_636_800,
        CodeSizeUnzipped: 262_144_000,
        CodeSizeZipped: 52_428_800,
        ConcurrentExecutions: this.#account.concurrencyLimit,
        UnreservedConcurrentExecutions: this.#account.unreservedPool(),
      },
      AccountUsage: {
        TotalCodeSize: functions.reduce((s, f) => s + Number(f.config.CodeSize ?? 0), 0),
        FunctionCount: functions.length,
      },
    };
  }

  putProvisioned(f: SimFunction, qualifier: string | undefined, value: number | undefined): void {
    if (!qualifier)
      throw lambdaErrors.validation(
        "1 validation error detected: Value null at 'qualifier' failed to satisfy constraint: Member must not be null",
      );
    if (qualifier === '$LATEST')
      throw lambdaErrors.invalidParameter(
        'Provisioned Concurrency Configs cannot be applied to unpublished function versions.',
      );
    if (value === undefined || !Number.isInteger(value) || value < 1)
      throw lambdaErrors.validation(
        `1 validation error detected: Value '${String(value)}' at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 1`,
      );
    if (f.reserved !== undefined && value > f.reserved)
      throw lambdaErrors.invalidParameter(
        `Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function: ${f.reserved}`,
      );
    if (f.reserved === undefined && this.#account.unreservedPool(f) - value < this.#params.unreservedMin)
      throw lambdaErrors.invalidParameter(
        `Requested Provisioned Concurrency would decrease account's UnreservedConcurrentExecution below its minimum value of [${this.#params.unreservedMin}].`,
      );
    f.provisioned = value;
    f.provisionedQualifier = qualifier;
    f.provisionedAt = this.#now;
  }

  provisionedOf(f: SimFunction, qualifier: string | undefined): SimFunction {
    if (!qualifier)
      throw lambdaErrors.validation(
        "1 validation error detected: Value null at 'qualifier' failed to satisfy constraint: Member must not be null",
      );
    if (f.provisioned === 0 || f.provisionedQualifier !== qualifier)
      throw lambdaErrors.provisionedNotFound(f.name);
    return f;
  }

  deleteProvisioned(f: SimFunction, qualifier: string | undefined): void {
    this.provisionedOf(f, qualifier);
    f.provisioned = 0;
    f.provisionedQualifier = undefined;
  }

  /** Reserved concurrency·seconds summed over functions (including deleted ones) up to now. */
  reservedConcurrencySeconds(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const f of this.#account.everyFunction()) {
      f.accrue(this.#now);
      out[f.name] = (out[f.name] ?? 0) + f.reservedMs / 1000;
    }
    return out;
  }
}
