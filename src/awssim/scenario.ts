// The scenario file: a YAML description of the account, queues, functions, mappings, traffic and
// faults, validated with zod so a bad file gets an error naming the field and the problem.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { esmModels } from './model/params.ts';
import { EXTERNAL_ID_RE, ROLE_ARN_RE } from './model/sts.ts';
import { parseCountsCsv } from './model/traffic.ts';

const nonNeg = z.number().nonnegative();
const pos = z.number().positive();
const int = z.number().int();

const distribution = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('constant'), ms: nonNeg }),
  z.strictObject({ kind: z.literal('uniform'), minMs: nonNeg, maxMs: nonNeg }),
  z.strictObject({ kind: z.literal('lognormal'), medianMs: pos, sigma: nonNeg }),
]);

const window = { start: nonNeg.optional(), end: nonNeg.optional() };

const traffic = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('constant'), rate: nonNeg, ...window }),
  z.strictObject({
    kind: z.literal('step'),
    steps: z.array(z.strictObject({ at: nonNeg, rate: nonNeg })).min(1),
  }),
  z.strictObject({
    kind: z.literal('ramp'),
    from: nonNeg,
    to: nonNeg,
    start: nonNeg,
    duration: pos,
    hold: z.boolean().optional(),
  }),
  z.strictObject({
    kind: z.literal('sine'),
    mean: nonNeg,
    amplitude: nonNeg,
    period: pos,
    phase: z.number().optional(),
    ...window,
  }),
  z.strictObject({
    kind: z.literal('square'),
    low: nonNeg,
    high: nonNeg,
    period: pos,
    duty: z.number().min(0).max(1).optional(),
    ...window,
  }),
  z.strictObject({ kind: z.literal('dump'), at: nonNeg, count: int.nonnegative() }),
  z
    .strictObject({
      kind: z.literal('replay'),
      interval: z.enum(['second', 'minute']),
      counts: z.array(int.nonnegative()).optional(),
      file: z.string().min(1).optional(),
      start: nonNeg.optional(),
    })
    .refine((r) => (r.counts === undefined) !== (r.file === undefined), {
      message: 'give exactly one of "counts" or "file"',
    }),
]);

const fault = z.strictObject({
  errorRate: z.number().min(0).max(1).optional(),
  latencyMs: nonNeg.optional(),
  throttle: z.boolean().optional(),
});

const queueName = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'must be 1–80 letters, digits, "-" or "_"');
const functionName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 letters, digits, "-" or "_"');

/** A role that STS AssumeRole may assume (scenario `roles:` and `POST /_awssim/roles`). */
export const roleSchema = z.strictObject({
  arn: z.string().regex(ROLE_ARN_RE, 'must be an IAM role ARN: arn:aws:iam::<12 digits>:role/<name>'),
  externalId: z
    .string()
    .regex(EXTERNAL_ID_RE, 'must be 2–1224 characters of letters, digits and +=,.@:/-_')
    .optional(),
  maxSessionDuration: int.min(3600).max(43_200).optional(),
});

/** An account's quotas (scenario `account:` for awssim's own, and each of `accounts:`). */
const accountLimits = {
  concurrency: int.positive().optional(),
  unreservedMin: int.nonnegative().optional(),
  controlPlaneRps: pos.optional(),
  getFunctionRps: pos.optional(),
  functionScalingPer10s: pos.optional(),
};

/** Queues, functions, their mappings and traffic: what one account holds. */
const entities = {
  queues: z
    .array(
      z.strictObject({
        name: queueName,
        visibilityTimeout: int.min(0).max(43_200).optional(),
        delaySeconds: int.min(0).max(900).optional(),
        deadLetter: z.strictObject({ queue: queueName, maxReceiveCount: int.min(1).max(1000) }).optional(),
      }),
    )
    .default([]),
  functions: z
    .array(
      z.strictObject({
        name: functionName,
        timeout: int.min(1).max(900).optional(),
        memorySize: int.min(128).max(10_240).optional(),
        reservedConcurrency: int.nonnegative().optional(),
        provisionedConcurrency: int.positive().optional(),
        duration: distribution.optional(),
        per: z.enum(['message', 'batch']).optional(),
        coldStart: distribution.optional(),
        errorRate: z.number().min(0).max(1).optional(),
      }),
    )
    .default([]),
  eventSourceMappings: z
    .array(
      z.strictObject({
        function: functionName,
        queue: queueName,
        batchSize: int.min(1).max(10_000).optional(),
        maximumBatchingWindowSeconds: int.min(0).max(300).optional(),
        maximumConcurrency: int.min(2).max(1000).optional(),
        /** Provisioned mode: MinimumPollers 2–200, MaximumPollers 2–10,000 (exclusive with maximumConcurrency). */
        provisionedPollers: z
          .strictObject({
            minimum: int.min(2).max(200).optional(),
            maximum: int.min(2).max(10_000).optional(),
          })
          .optional(),
        enabled: z.boolean().optional(),
      }),
    )
    .default([]),
  traffic: z.record(z.string(), z.array(traffic)).default({}),
};

/**
 * Another account awssim serves besides its own (scenario `accounts:`, `POST /_awssim/accounts`):
 * its id, its own quotas (default: those of `account:`) and its own entities.
 */
export const accountSchema = z.strictObject({
  id: z
    .string()
    .regex(/^\d{12}$/, 'must be a 12-digit account id')
    .refine((id) => id !== '000000000000', "is awssim's own account: declare its entities at the top level"),
  ...accountLimits,
  ...entities,
});

/** The scenario file schema (YAML), as documented in docs/simulator.md. */
export const scenarioSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  seed: int.optional(),
  durationSeconds: pos.optional(),
  account: z.strictObject(accountLimits).optional(),
  model: z
    .strictObject({
      esm: z
        .strictObject({
          initialConcurrency: int.positive().optional(),
          scaleUpPerMinute: nonNeg.optional(),
          scaleDownPerMinute: nonNeg.optional(),
          maxConcurrency: int.positive().optional(),
          minConcurrency: int.positive().optional(),
          receiveLatencyMs: nonNeg.optional(),
          throttleBackoffMs: nonNeg.optional(),
          /** What happens to throttled batches: `documented` (default), `retry-then-release`, `release`. */
          model: z.enum(esmModels).optional(),
          throttleShrink: nonNeg.optional(),
          throttleRetries: int.nonnegative().optional(),
          invokesPerPoller: int.positive().optional(),
          provisionedScaleUpPerMinute: nonNeg.optional(),
          provisionedMaxConcurrency: int.positive().optional(),
        })
        .optional(),
      environmentIdleSeconds: nonNeg.optional(),
      attributes: z.strictObject({ lagSeconds: nonNeg.optional(), wobble: nonNeg.optional() }).optional(),
      cloudWatch: z
        .strictObject({
          delaySecondsMin: nonNeg,
          delaySecondsMax: nonNeg,
          idleSeconds: nonNeg.optional(),
          wakeDelaySeconds: nonNeg.optional(),
        })
        .optional(),
      sloMs: z.array(pos).optional(),
    })
    .optional(),
  ...entities,
  faults: z.record(z.string(), fault).default({}),
  roles: z.array(roleSchema).default([]),
  accounts: z.array(accountSchema).default([]),
});

/** A validated scenario. */
export type Scenario = z.output<typeof scenarioSchema>;
/** A validated declaration of another account. */
export type AccountDeclaration = z.output<typeof accountSchema>;
/** What one account holds (the scenario's top level for awssim's own, or one of `accounts:`). */
export type AccountEntities = Pick<Scenario, 'queues' | 'functions' | 'eventSourceMappings' | 'traffic'>;
/** A scenario as written (defaults not yet applied). */
export type ScenarioInput = z.input<typeof scenarioSchema>;

/** A scenario file that does not match the schema; the message names each bad field. */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  readonly code = 'ScenarioInvalid';
  readonly issues: readonly string[];

  constructor(source: string, issues: readonly string[], options?: ErrorOptions) {
    super(`invalid scenario ${source}:\n  ${issues.join('\n  ')}`, options);
    this.issues = issues;
  }
}

const pathOf = (path: readonly PropertyKey[]): string =>
  path.reduce<string>(
    (s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)),
    '',
  ) || '(root)';

/** A zod error as `path: message` lines. */
export const zodIssues = (e: z.ZodError): string[] => e.issues.map((i) => `${pathOf(i.path)}: ${i.message}`);

/** Cross-field checks of one account's entities (names that must exist, exclusive settings). */
function checkEntities(s: AccountEntities, at: string, baseDir: string, issues: string[]): void {
  const queues = new Set(s.queues.map((q) => q.name));
  const fns = new Set(s.functions.map((f) => f.name));
  s.queues.forEach((q, i) => {
    if (q.deadLetter && !queues.has(q.deadLetter.queue))
      issues.push(`${at}queues[${i}].deadLetter.queue: no queue named "${q.deadLetter.queue}"`);
  });
  s.eventSourceMappings.forEach((e, i) => {
    if (!fns.has(e.function))
      issues.push(`${at}eventSourceMappings[${i}].function: no function named "${e.function}"`);
    if (!queues.has(e.queue))
      issues.push(`${at}eventSourceMappings[${i}].queue: no queue named "${e.queue}"`);
    if ((e.batchSize ?? 10) > 10 && (e.maximumBatchingWindowSeconds ?? 0) < 1)
      issues.push(
        `${at}eventSourceMappings[${i}].maximumBatchingWindowSeconds: must be at least 1 when batchSize > 10`,
      );
    if (e.provisionedPollers && e.maximumConcurrency !== undefined)
      issues.push(
        `${at}eventSourceMappings[${i}].provisionedPollers: provisioned mode and maximumConcurrency are mutually exclusive`,
      );
    const pp = e.provisionedPollers;
    if (pp && (pp.minimum ?? 2) > (pp.maximum ?? 200))
      issues.push(`${at}eventSourceMappings[${i}].provisionedPollers.minimum: must not exceed maximum`);
  });
  for (const [q, specs] of Object.entries(s.traffic)) {
    if (!queues.has(q)) issues.push(`${at}traffic.${q}: no queue named "${q}"`);
    specs.forEach((t, i) => {
      if (t.kind === 'replay' && t.file !== undefined) {
        try {
          (t as { counts?: number[] }).counts = parseCountsCsv(
            readFileSync(resolve(baseDir, t.file), 'utf8'),
          );
        } catch (e) {
          issues.push(`${at}traffic.${q}[${i}].file: ${(e as Error).message}`);
        }
      }
    });
  }
  s.functions.forEach((f, i) => {
    if (
      f.provisionedConcurrency !== undefined &&
      f.reservedConcurrency !== undefined &&
      f.provisionedConcurrency > f.reservedConcurrency
    )
      issues.push(`${at}functions[${i}].provisionedConcurrency: must not exceed reservedConcurrency`);
  });
}

/** Validates a parsed scenario object; `baseDir` resolves replay files. */
export function parseScenario(raw: unknown, source = 'scenario', baseDir = process.cwd()): Scenario {
  const r = scenarioSchema.safeParse(raw);
  if (!r.success) throw new ScenarioError(source, zodIssues(r.error));
  const s = r.data;
  const issues: string[] = [];
  checkEntities(s, '', baseDir, issues);
  const ids = new Set<string>();
  s.accounts.forEach((a, i) => {
    if (ids.has(a.id)) issues.push(`accounts[${i}].id: account "${a.id}" is declared twice`);
    ids.add(a.id);
    checkEntities(a, `accounts[${i}].`, baseDir, issues);
  });
  const roleArns = new Set<string>();
  s.roles.forEach((role, i) => {
    if (roleArns.has(role.arn)) issues.push(`roles[${i}].arn: role "${role.arn}" is declared twice`);
    roleArns.add(role.arn);
  });
  if (issues.length > 0) throw new ScenarioError(source, issues);
  return s;
}

/** Validates one account declaration (an item of `accounts:`, or the body of `POST /_awssim/accounts`). */
export function parseAccount(raw: unknown, source = 'account', baseDir = process.cwd()): AccountDeclaration {
  const r = accountSchema.safeParse(raw);
  if (!r.success) throw new ScenarioError(source, zodIssues(r.error));
  const issues: string[] = [];
  checkEntities(r.data, '', baseDir, issues);
  if (issues.length > 0) throw new ScenarioError(source, issues);
  return r.data;
}

/** Reads, parses and validates a scenario YAML file. */
export function loadScenario(file: string): Scenario {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ScenarioError(file, [`(file): ${(e as Error).message}`], { cause: e });
  }
  return parseScenario(raw, file, dirname(resolve(file)));
}

/** The bundled scenario files, by name. */
export const bundledScenario = (name: string): string =>
  resolve(dirname(new URL(import.meta.url).pathname), 'scenarios', `${name}.yaml`);
