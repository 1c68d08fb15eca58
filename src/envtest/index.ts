// A real Kubernetes control plane (etcd + kube-apiserver built from source by
// hack/control-plane/build.sh) started on free loopback ports, the way controller-runtime's
// envtest does it. Used by the integration and end-to-end tests and by the playground.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Where the control-plane binaries are: $LCS_CONTROL_PLANE_DIR, or build/cache them now
 * (with `progress`, the build's progress lines go to this process's stderr).
 */
export async function controlPlaneBinaries(options: { progress?: boolean } = {}): Promise<string> {
  const fromEnv = process.env.LCS_CONTROL_PLANE_DIR;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const build = spawn('bash', [join(repoRoot, 'hack/control-plane/build.sh')], {
    stdio: ['ignore', 'pipe', options.progress === true ? 'inherit' : 'ignore'],
  });
  let stdout = '';
  build.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => build.on('close', resolve));
  if (code !== 0)
    throw new Error(`building the control plane failed (exit ${code}); run make control-plane to see why`);
  const dir = stdout.trim().split('\n').at(-1) ?? '';
  if (!existsSync(join(dir, 'kube-apiserver')))
    throw new Error(`control plane build printed no usable directory: ${dir}`);
  return dir;
}

/** A free TCP port on 127.0.0.1 (the kernel's choice; released before it is used). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ControlPlaneOptions {
  /** CRD manifests (files or directories) to install before returning. */
  crds?: string[];
  /** Keep process output in <dir>/*.log even on success (it is always kept on failure). */
  verbose?: boolean;
}

/** A running etcd + kube-apiserver pair and what a client needs to talk to it. */
export interface ControlPlane {
  /** https://127.0.0.1:PORT */
  readonly server: string;
  /** Bearer token of a system:masters user. */
  readonly token: string;
  /** PEM of the API server's self-signed serving certificate (the CA to trust). */
  readonly caData: string;
  /** Path of a kubeconfig for the admin user. */
  readonly kubeconfig: string;
  /** Directory with the binaries (kubectl included). */
  readonly binDir: string;
  /** Temporary directory with data, certificates and logs; removed by stop(). */
  readonly dir: string;
  /** etcd's client URL (http://127.0.0.1:PORT), for tests that change data behind the API server. */
  readonly etcdUrl: string;
  /** Runs the built kubectl against this control plane. Rejects with stderr on failure. */
  kubectl(args: string[], input?: string): Promise<string>;
  /** Runs kubectl and returns its outcome without throwing. */
  kubectlResult(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Kills the API server and starts it again on the same port (etcd keeps the data). */
  restartApiServer(downtimeMs?: number): Promise<void>;
  /** Writes a kubeconfig for another identity (e.g. a ServiceAccount token). */
  writeKubeconfig(name: string, token: string): string;
  /** Stops both processes and removes the temporary directory. Idempotent. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Whatever happens to the test process, its control planes die with it.
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

async function stopProcess(child: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  logHint: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(`${what} did not become ready within ${timeoutMs} ms; see ${logHint}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function kubeconfigYaml(server: string, caData: string, user: string, token: string): string {
  const ca = Buffer.from(caData).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{name: envtest, cluster: {server: "${server}", certificate-authority-data: ${ca}}}]`,
    `users: [{name: ${user}, user: {token: "${token}"}}]`,
    `contexts: [{name: ${user}, context: {cluster: envtest, user: ${user}}}]`,
    `current-context: ${user}`,
    '',
  ].join('\n');
}

/** Starts etcd and kube-apiserver on free loopback ports, installs CRDs and waits until served. */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binDir = await controlPlaneBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'lcs-envtest-'));
  const token = randomBytes(24).toString('hex');
  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs1', format: 'pem' }));
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(dir, 'tokens.csv'), `${token},admin,admin-uid,"system:masters"\n`);

  const spawnLogged = (name: string, args: string[]): ChildProcess => {
    const log = createWriteStream(join(dir, `${name}.log`), { flags: 'a' });
    const child = spawn(join(binDir, name), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    track(child);
    return child;
  };

  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const etcd = spawnLogged('etcd', [
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=default=${peerUrl}`,
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ]);

  const apiArgs = [
    `--etcd-servers=${etcdUrl}`,
    `--cert-dir=${join(dir, 'certs')}`,
    `--secure-port=${apiPort}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    '--endpoint-reconciler-type=none',
    '--service-cluster-ip-range=10.0.0.0/24',
    '--allow-privileged=true',
    '--disable-admission-plugins=ServiceAccount',
    '--authorization-mode=RBAC',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${join(dir, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    `--token-auth-file=${join(dir, 'tokens.csv')}`,
    '--v=0',
  ];
  let apiserver: ChildProcess | undefined;
  const server = `https://127.0.0.1:${apiPort}`;
  let stopped = false;
  let caData = '';

  const readyz = async (): Promise<boolean> => {
    const certPath = join(dir, 'certs', 'apiserver.crt');
    if (!existsSync(certPath)) return false;
    caData = readFileSync(certPath, 'utf8');
    const { stdout } = await run(join(binDir, 'kubectl'), [
      `--server=${server}`,
      `--token=${token}`,
      `--certificate-authority=${certPath}`,
      'get',
      '--raw=/readyz',
    ]);
    return stdout.trim() === 'ok';
  };
  const startApiServer = async (): Promise<void> => {
    apiserver = spawnLogged('kube-apiserver', apiArgs);
    await waitUntil('kube-apiserver', readyz, 90_000, join(dir, 'kube-apiserver.log'));
  };
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await stopProcess(apiserver);
    await stopProcess(etcd);
    if (options.verbose !== true) rmSync(dir, { recursive: true, force: true });
  };

  try {
    await waitUntil('etcd', async () => (await fetch(`${etcdUrl}/health`)).ok, 30_000, join(dir, 'etcd.log'));
    await startApiServer();
  } catch (error) {
    await stopProcess(apiserver);
    await stopProcess(etcd);
    throw error;
  }

  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml(server, caData, 'admin', token));

  const kubectlResult = (args: string[], input?: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(join(binDir, 'kubectl'), [`--kubeconfig=${kubeconfig}`, ...args], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      child.stdin.end(input ?? '');
    });

  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const result = await kubectlResult(args, input);
    if (result.code !== 0)
      throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
    return result.stdout;
  };

  const plane: ControlPlane = {
    server,
    token,
    caData,
    kubeconfig,
    binDir,
    dir,
    etcdUrl,
    kubectl,
    kubectlResult,
    async restartApiServer(downtimeMs = 0) {
      await stopProcess(apiserver);
      if (downtimeMs > 0) await new Promise((r) => setTimeout(r, downtimeMs));
      await startApiServer();
    },
    writeKubeconfig(name, userToken) {
      const path = join(dir, `kubeconfig-${name}`);
      writeFileSync(path, kubeconfigYaml(server, caData, name, userToken));
      return path;
    },
    stop,
  };

  try {
    for (const crd of options.crds ?? []) await kubectl(['apply', '--server-side', '-f', crd]);
    if ((options.crds ?? []).length > 0) {
      await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return plane;
}

/** The CRD directory of this repository. */
export const CRD_DIR = join(repoRoot, 'config', 'crd', 'bases');
