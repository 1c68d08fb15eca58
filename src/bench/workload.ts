// The workload a scaler is simulated against: a small YAML document (arrivals plus how the function
// behaves) mapped onto an awssim scenario, or a full awssim scenario. Shared by what-if and bench.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type FunctionBehaviour, parseScenario, type Scenario, ScenarioError } from '../awssim/index.ts';

/** The simulated queue and function a workload document creates. */
export const WORKLOAD_QUEUE = 'queue';
export const WORKLOAD_DLQ = 'queue-dlq';
export const WORKLOAD_FUNCTION = 'function';

/** A workload: the awssim scenario plus what the driver needs to know about it. */
export interface Workload {
  name: string;
  scenario: Scenario;
  /** The queue the scaler reads and the function it scales, in the scenario. */
  queue: string;
  fn: string;
  /** Batch size of the event source mapping (for the references and the demand estimate). */
  batchSize: number;
  /** Simulated length in seconds (the file's, else 1 h). */
  durationSeconds: number;
  /** Function behaviour changes during the run, [seconds since start, change], in time order. */
  changes: { at: number; fn?: string; behaviour: Partial<FunctionBehaviour> }[];
}

/** A workload file that does not match its schema; every line names a field. */
export class WorkloadError extends Error {
  override readonly name = 'WorkloadError';
  readonly code = 'WorkloadInvalid';
  readonly issues: readonly string[];
  constructor(source: string, issues: readonly string[], options?: ErrorOptions) {
    super(`invalid traffic file ${source}:\n  ${issues.join('\n  ')}`, options);
    this.issues = issues;
  }
}

const distribution = z.record(z.string(), z.unknown());
const behaviourShape = {
  duration: distribution.optional(),
  per: z.enum(['message', 'batch']).optional(),
  coldStart: distribution.optional(),
  errorRate: z.number().min(0).max(1).optional(),
};

/** The short workload document (see docs/what-if.md); awssim validates the parts it owns. */
const workloadSchema = z.strictObject({
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  durationSeconds: z.number().positive().optional(),
  seed: z.int().optional(),
  queue: z
    .strictObject({
      visibilityTimeout: z.int().optional(),
      maxReceiveCount: z.int().optional(),
      delaySeconds: z.int().optional(),
    })
    .optional(),
  function: z
    .strictObject({ timeout: z.int().optional(), reservedConcurrency: z.int().optional(), ...behaviourShape })
    .optional(),
  eventSource: z
    .strictObject({
      batchSize: z.int().optional(),
      maximumBatchingWindowSeconds: z.int().optional(),
      maximumConcurrency: z.int().optional(),
    })
    .optional(),
  traffic: z.array(z.record(z.string(), z.unknown())).min(1),
  changes: z
    .array(z.strictObject({ at: z.number().nonnegative(), function: z.strictObject(behaviourShape) }))
    .optional(),
  account: z.record(z.string(), z.unknown()).optional(),
  model: z.record(z.string(), z.unknown()).optional(),
});
type WorkloadDoc = z.output<typeof workloadSchema>;

const pathOf = (path: readonly PropertyKey[]): string =>
  path.reduce<string>(
    (s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)),
    '',
  ) || '(root)';

/** Scenario paths back to the workload document's names, so errors name the field the user wrote. */
const BACK: [RegExp, string][] = [
  [/^functions\[0\]\./, 'function.'],
  [/^queues\[1\]\.deadLetter\./, 'queue.'],
  [/^queues\[1\]\./, 'queue.'],
  [/^eventSourceMappings\[0\]\./, 'eventSource.'],
  [new RegExp(`^traffic\\.${WORKLOAD_QUEUE}\\[`), 'traffic['],
];
const toWorkloadPath = (issue: string): string => BACK.reduce((s, [re, to]) => s.replace(re, to), issue);

/** The queue, dead-letter queue, function, mapping and traffic of one workload document. */
function resourcesOf(doc: WorkloadDoc, queue: string, dlq: string, fn: string) {
  return {
    queues: [
      { name: dlq },
      {
        name: queue,
        visibilityTimeout: doc.queue?.visibilityTimeout ?? 30,
        ...(doc.queue?.delaySeconds !== undefined ? { delaySeconds: doc.queue.delaySeconds } : {}),
        deadLetter: { queue: dlq, maxReceiveCount: doc.queue?.maxReceiveCount ?? 5 },
      },
    ],
    functions: [{ name: fn, ...(doc.function ?? {}) }],
    eventSourceMappings: [{ function: fn, queue, ...doc.eventSource }],
    traffic: { [queue]: doc.traffic },
  };
}

function scenarioOf(doc: WorkloadDoc, source: string, baseDir: string): Scenario {
  const input = {
    name: doc.name ?? 'workload',
    ...(doc.description !== undefined ? { description: doc.description } : {}),
    ...(doc.seed !== undefined ? { seed: doc.seed } : {}),
    ...(doc.durationSeconds !== undefined ? { durationSeconds: doc.durationSeconds } : {}),
    ...(doc.account !== undefined ? { account: doc.account } : {}),
    ...(doc.model !== undefined ? { model: doc.model } : {}),
    ...resourcesOf(doc, WORKLOAD_QUEUE, WORKLOAD_DLQ, WORKLOAD_FUNCTION),
  };
  try {
    return parseScenario(input, source, baseDir);
  } catch (e) {
    if (e instanceof ScenarioError)
      throw new WorkloadError(source, e.issues.map(toWorkloadPath), { cause: e });
    throw e;
  }
}

/** Checks each behaviour change by running it through the scenario schema as a function. */
function changesOf(doc: WorkloadDoc, source: string, fn?: string): Workload['changes'] {
  return (doc.changes ?? []).map((c, i) => {
    try {
      const sc = parseScenario({ name: 'change', functions: [{ name: 'f', ...c.function }] }, source);
      const f = sc.functions[0];
      const b: Partial<FunctionBehaviour> = {
        ...(f?.duration !== undefined ? { duration: f.duration } : {}),
        ...(f?.per !== undefined ? { per: f.per } : {}),
        ...(f?.coldStart !== undefined ? { coldStart: f.coldStart } : {}),
        ...(f?.errorRate !== undefined ? { errorRate: f.errorRate } : {}),
      };
      return fn === undefined ? { at: c.at, behaviour: b } : { at: c.at, fn, behaviour: b };
    } catch (e) {
      if (e instanceof ScenarioError)
        throw new WorkloadError(
          source,
          e.issues.map((m) => m.replace(/^functions\[0\]\./, `changes[${i}].function.`)),
          { cause: e },
        );
      throw e;
    }
  });
}

/**
 * Reads a traffic file: a workload document (has `traffic` as a list), or a full awssim scenario
 * (has `queues`), in which case `queue`/`fn` name the pair the scaler watches (default: the first
 * event source mapping's).
 */
export function parseWorkload(raw: unknown, source = 'traffic', baseDir = process.cwd()): Workload {
  if (raw !== null && typeof raw === 'object' && 'queues' in raw) {
    const scenario = parseScenario(raw, source, baseDir);
    const esm = scenario.eventSourceMappings[0];
    if (esm === undefined)
      throw new WorkloadError(source, [
        'eventSourceMappings: a scenario needs one mapping for the scaler to act on',
      ]);
    return {
      name: scenario.name,
      scenario,
      queue: esm.queue,
      fn: esm.function,
      batchSize: esm.batchSize ?? 10,
      durationSeconds: scenario.durationSeconds ?? 3600,
      changes: [],
    };
  }
  const r = workloadSchema.safeParse(raw);
  if (!r.success)
    throw new WorkloadError(
      source,
      r.error.issues.map((i) => `${pathOf(i.path)}: ${i.message}`),
    );
  const doc = r.data;
  const scenario = scenarioOf(doc, source, baseDir);
  return {
    name: scenario.name,
    scenario,
    queue: WORKLOAD_QUEUE,
    fn: WORKLOAD_FUNCTION,
    batchSize: doc.eventSource?.batchSize ?? 10,
    durationSeconds: doc.durationSeconds ?? 3600,
    changes: changesOf(doc, source).sort((a, b) => a.at - b.at),
  };
}

/** Reads and validates a traffic file (YAML). */
export function loadWorkload(file: string): Workload {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new WorkloadError(file, [`(file): ${(e as Error).message}`], { cause: e });
  }
  return parseWorkload(raw, file, dirname(resolve(file)));
}

/** One workload per scaler of an account: each gets a queue, dead-letter queue and function named after it. */
export interface AccountWorkloadInput {
  name: string;
  durationSeconds?: number | undefined;
  account?: Record<string, unknown> | undefined;
  model?: Record<string, unknown> | undefined;
  /** Workload documents (without account, model or duration) by scaler name, in order. */
  scalers: readonly { name: string; workload: unknown }[];
}

/**
 * An account of several queues, functions and mappings: scaler `n` reads queue `n` (dead letters
 * to `n-dlq`) feeding function `n`. Errors name `scalers[i].workload.<field>`.
 */
export function parseAccountWorkload(a: AccountWorkloadInput, source: string, baseDir: string): Workload {
  const issues: string[] = [];
  const parts: ReturnType<typeof resourcesOf>[] = [];
  const changes: Workload['changes'] = [];
  a.scalers.forEach((sc, i) => {
    const r = workloadSchema.safeParse(sc.workload);
    if (!r.success) {
      for (const x of r.error.issues) issues.push(`scalers[${i}].workload.${pathOf(x.path)}: ${x.message}`);
      return;
    }
    for (const k of ['account', 'model', 'durationSeconds'] as const)
      if (r.data[k] !== undefined)
        issues.push(`scalers[${i}].workload.${k}: set it once for the account, not per scaler`);
    parts.push(resourcesOf(r.data, sc.name, `${sc.name}-dlq`, sc.name));
    changes.push(...changesOf(r.data, source, sc.name));
  });
  if (issues.length > 0) throw new WorkloadError(source, issues);
  const input = {
    name: a.name,
    ...(a.durationSeconds !== undefined ? { durationSeconds: a.durationSeconds } : {}),
    ...(a.account !== undefined ? { account: a.account } : {}),
    ...(a.model !== undefined ? { model: a.model } : {}),
    queues: parts.flatMap((p) => p.queues),
    functions: parts.flatMap((p) => p.functions),
    eventSourceMappings: parts.flatMap((p) => p.eventSourceMappings),
    traffic: Object.assign({}, ...parts.map((p) => p.traffic)),
  };
  let scenario: Scenario;
  try {
    scenario = parseScenario(input, source, baseDir);
  } catch (e) {
    if (e instanceof ScenarioError) throw new WorkloadError(source, e.issues, { cause: e });
    throw e;
  }
  const first = scenario.eventSourceMappings[0];
  return {
    name: a.name,
    scenario,
    queue: first?.queue ?? '',
    fn: first?.function ?? '',
    batchSize: first?.batchSize ?? 10,
    durationSeconds: a.durationSeconds ?? 3600,
    changes: changes.sort((x, y) => x.at - y.at),
  };
}
