// The project's programs as child processes, started the way a user starts them (npm run awssim,
// npm run manager): used by the end-to-end tests and the playground. Each returns once the program
// is ready and can be stopped gracefully (SIGTERM) or killed (SIGKILL).
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MANAGER_NODE_FLAGS } from '../cmd/node-flags.ts';
import { freePort } from './index.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A running program with its captured output. */
export interface Running {
  readonly child: ChildProcess;
  /** Everything it wrote so far (stdout and stderr interleaved). */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null if killed). */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL, no goodbye. */
  kill(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

function start(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  nodeFlags: readonly string[] = [],
): Running {
  const child = spawn(process.execPath, [...nodeFlags, resolve(repoRoot, script), ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  return {
    child,
    output: () => out,
    async stop(graceMs = 10_000) {
      if (exited()) return child.exitCode;
      const done = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await done;
      clearTimeout(timer);
      return child.exitCode;
    },
    async kill() {
      if (exited()) return;
      const done = once(child, 'exit');
      child.kill('SIGKILL');
      await done;
    },
  };
}

async function waitForOutput(
  running: Running,
  pattern: RegExp,
  timeoutMs: number,
  what: string,
): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(running.output());
    if (match !== null) return match;
    if (running.child.exitCode !== null || Date.now() > deadline) {
      await running.kill();
      throw new Error(`${what} did not become ready:\n${running.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The standard AWS environment pointing every SDK client at `endpoint`, with test credentials. */
export function awsEnv(endpoint: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
}

export interface Awssim extends Running {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** GET/POST/DELETE on the admin API (`/_awssim/...`). */
  admin<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

/** Writes an awssim scenario (YAML lines) to a fresh temporary file and returns its path. */
export function scenarioFile(name: string, lines: readonly string[]): string {
  const file = join(mkdtempSync(join(tmpdir(), `lcs-${name}-`)), 'scenario.yaml');
  writeFileSync(file, [`name: ${name}`, ...lines, ''].join('\n'));
  return file;
}

/** Starts `npm run awssim` (real clock) on a free port with a scenario file. */
export async function startAwssim(options: { scenario: string; seed?: number }): Promise<Awssim> {
  const args = ['--port', '0', '--scenario', options.scenario, '--clock', 'real'];
  if (options.seed !== undefined) args.push('--seed', String(options.seed));
  const running = start('src/cmd/awssim.ts', args, process.env);
  const match = await waitForOutput(running, /listening on (http:\/\/127\.0\.0\.1:\d+)/, 30_000, 'awssim');
  const endpoint = match[1] ?? '';
  return {
    ...running,
    endpoint,
    async admin<T>(method: string, path: string, body?: unknown): Promise<T> {
      const response = await fetch(`${endpoint}/_awssim${path}`, {
        method,
        ...(body === undefined
          ? {}
          : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      if (!response.ok)
        throw new Error(`awssim ${method} ${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as T;
    },
  };
}

export interface Manager extends Running {
  /** http://127.0.0.1:PORT/metrics */
  readonly metricsUrl: string;
  /** http://127.0.0.1:PORT (healthz, readyz) */
  readonly healthUrl: string;
}

/** Starts `npm run manager` against a kubeconfig, with AWS pointed at `awsEndpoint`. */
export async function startManager(options: {
  kubeconfig: string;
  awsEndpoint: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** The program to run (default src/cmd/manager.ts; bench:memory runs the built dist/cmd/manager.js). */
  entry?: string;
}): Promise<Manager> {
  // A free port is free only until someone binds it: on a busy machine another process may take
  // it between freePort() and the manager's listen. Such a start is retried on other ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startManagerOnce(options);
    } catch (error) {
      if (attempt >= 3 || !String(error).includes('EADDRINUSE')) throw error;
    }
  }
}

async function startManagerOnce(options: Parameters<typeof startManager>[0]): Promise<Manager> {
  const [metricsPort, healthPort] = [await freePort(), await freePort()];
  const running = start(
    options.entry ?? 'src/cmd/manager.ts',
    [
      '--kubeconfig',
      options.kubeconfig,
      '--metrics-bind-address',
      `127.0.0.1:${metricsPort}`,
      // Plain HTTP on loopback, for the tests, the playground and bench:scale to scrape.
      '--metrics-secure=false',
      '--health-probe-bind-address',
      `127.0.0.1:${healthPort}`,
      ...(options.args ?? []),
    ],
    awsEnv(options.awsEndpoint, options.env),
    MANAGER_NODE_FLAGS,
  );
  const healthUrl = `http://127.0.0.1:${healthPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await fetch(`${healthUrl}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (running.child.exitCode !== null || Date.now() > deadline) {
      await running.kill();
      throw new Error(`manager did not start:\n${running.output()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { ...running, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`, healthUrl };
}

/** Polls `probe` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`,
      );
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The role a fleet's scalers assume in `account` (declared in the fleet's scenario). */
export const fleetRole = (account: string): string => `arn:aws:iam::${account}:role/scaler`;

/**
 * Many scalers, each with its own queue, function and event source mapping: the awssim scenario
 * (queues `q<id>`, functions `f<id>`) and one LambdaConcurrencyScaler manifest `s<id>` per pair,
 * ids zero-padded to five digits. For load tests and the operator-at-scale benchmark. With
 * `accounts`, the k-th pair lives in account k mod their number, declared in the scenario, and its
 * scaler reaches it through that account's role (`fleetRole`).
 */
export function fleet(
  n: number,
  o: {
    name: string;
    /** How long an invocation takes. */
    functionMs: number;
    /** Spec fields every scaler gets besides its queue and function. */
    spec: Record<string, number>;
    /** The account's concurrency limit, if not awssim's default. */
    accountConcurrency?: number;
    /** Traffic spec (YAML flow) for the k-th queue; none by default. */
    traffic?: (k: number) => string;
    /** Account ids (12 digits) to spread the pairs over; default: all in awssim's own account. */
    accounts?: readonly string[];
  },
): { scenario: string; scalers: string[] } {
  const ids = Array.from({ length: n }, (_, i) => String(i).padStart(5, '0'));
  const accounts = o.accounts ?? [];
  const accountOf = (k: number): string | undefined => accounts[k % Math.max(1, accounts.length)];
  /** The entities of the pairs `ks`, indented by `pad`. */
  const entities = (ks: readonly number[], pad: string): string[] => {
    const at = ks.map((k) => ids[k] as string);
    return [
      'queues:',
      ...at.map((i) => `  - name: q${i}`),
      'functions:',
      ...at.map((i) => `  - { name: f${i}, duration: { kind: constant, ms: ${o.functionMs} } }`),
      'eventSourceMappings:',
      ...at.map((i) => `  - { function: f${i}, queue: q${i} }`),
      ...(o.traffic === undefined ? [] : ['traffic:', ...ks.map((k) => `  q${ids[k]}: ${o.traffic?.(k)}`)]),
    ].map((line) => pad + line);
  };
  const all = ids.map((_, k) => k);
  const scenario = [
    `name: ${o.name}`,
    ...(o.accountConcurrency === undefined ? [] : [`account: { concurrency: ${o.accountConcurrency} }`]),
    ...(accounts.length === 0
      ? entities(all, '')
      : [
          'roles:',
          ...accounts.map((a) => `  - { arn: "${fleetRole(a)}" }`),
          'accounts:',
          ...accounts.flatMap((a) => [
            `  - id: "${a}"`,
            ...entities(
              all.filter((k) => accountOf(k) === a),
              '    ',
            ),
          ]),
        ]),
    '',
  ].join('\n');
  const fields = Object.entries(o.spec)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  const scalers = ids.map((i, k) => {
    const account = accountOf(k);
    const credentials = account === undefined ? '' : `, credentials: { roleArn: "${fleetRole(account)}" }`;
    return `apiVersion: aws.operators.jittakal.io/v1alpha1\nkind: LambdaConcurrencyScaler\nmetadata: { name: s${i} }\nspec: { awsSQSName: q${i}, awsLambdaName: f${i}, ${fields}${credentials} }\n`;
  });
  return { scenario, scalers };
}
