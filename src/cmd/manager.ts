// The manager program: flags → options → wiring. It is the composition root: the only place that
// reads argv and the environment, and builds loggers, clocks, clients, limiters and servers.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { parse as parseYaml } from 'yaml';
import {
  API_VERSION,
  GROUP,
  type LambdaConcurrencyScaler,
  type LambdaConcurrencyScalerStatus,
  PLURAL,
  scalerRegion,
  VERSION,
} from '../api/v1alpha1/index.ts';
import { AwsClientFactory } from '../aws/clients.ts';
import { IdentityResolver } from '../aws/identity.ts';
import { AwsMetrics } from '../aws/metrics.ts';
import { ScalerMetrics } from '../controller/metrics.ts';
import { ScalerReconciler } from '../controller/reconciler.ts';
import { ShardGate } from '../controller/sharding.ts';
import { Tenancy, type TenancyFile, tenancyFileSchema } from '../controller/tenancy.ts';
import {
  apiPath,
  Controller,
  EventRecorder,
  HealthServer,
  Informer,
  KubeAuthorizer,
  type KubeClient,
  type KubeObject,
  KubeTransport,
  kubeClient,
  Manager,
  MetricsServer,
  patchFinalizers,
  RuntimeMetrics,
  ShardSet,
  StatusPatcher,
  selfSignedCertificate,
  systemClock,
  terminationSignal,
  userChanged,
} from '../runtime/index.ts';

const usage = `Usage: npm run manager -- [flags]

Runs the LambdaConcurrencyScaler operator against the cluster of a kubeconfig (or in-cluster).
AWS endpoint, Region and credentials come from the standard AWS environment (AWS_REGION,
AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_PROFILE, AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, ...).

Flags:
  --kubeconfig PATH                  kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)
  --namespaces A,B                   namespaces to watch (default: all)
  --leader-elect                     elect a leader through a Lease before acting
  --leader-election-namespace NS     namespace of the Lease (default: $POD_NAMESPACE or default)
  --leader-election-id NAME          name of the Lease (default: lambda-con-scaler-operator-leader)
  --shard-by-account                 several replicas share the scalers by AWS account and Region, each
                                     account held by one replica through a Lease (instead of --leader-elect)
  --lease-duration-seconds N         Lease timings of leader election and shards (default 15, 10, 2)
  --lease-renew-deadline-seconds N
  --lease-retry-period-seconds N
  --metrics-bind-address ADDR        host:port of /metrics (default 127.0.0.1:8080; 0 disables)
  --metrics-secure[=true|false]      serve /metrics over HTTPS, each request authenticated (TokenReview)
                                     and authorized (SubjectAccessReview: get on /metrics) by the cluster
                                     (default false: plain HTTP, meant for a loopback address)
  --metrics-cert-dir DIR             tls.crt and tls.key for --metrics-secure, re-read when they change
                                     (default: a self-signed certificate made at start-up)
  --health-probe-bind-address ADDR   host:port of /healthz and /readyz (default :8081)
  --workers N                        concurrent reconciles (default 4)
  --lambda-control-plane-rps N       Lambda control-plane budget per account and Region (default 10; AWS allows 15)
  --secret-cache-seconds N           how long a credentials Secret is cached; a rotation shows within this (default 30)
  --aws-call-timeout-seconds N       deadline of one AWS call, every retry included (default 10)
  --kube-request-timeout-seconds N   deadline of one Kubernetes API request (default 30; watches excepted)
  --reconcile-timeout-seconds N      deadline of one reconcile, waits for the AWS budget included (default 600)
  --drift-check-seconds N            how often a function is re-read (GetFunction) to notice reserved
                                     concurrency changed outside the operator (default 120, ±10 % per function)
  --allow-operator-identity-namespaces A,B
                                     namespaces whose scalers may act as the operator's own AWS identity
                                     ('*' = all). Default: the operator's namespace, and every other one
                                     with a loud warning (the original's behaviour)
  --tenancy-config PATH              YAML: operatorIdentityNamespaces and per-namespace ARN allow-lists
                                     (docs/production.md); the flag above overrides its namespaces
  --log-level LEVEL                  trace, debug, info, warn, error (default info)
  --help                             this text
`;

const { values: flags } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    namespaces: { type: 'string' },
    'leader-elect': { type: 'boolean', default: false },
    'leader-election-namespace': { type: 'string' },
    'leader-election-id': { type: 'string', default: 'lambda-con-scaler-operator-leader' },
    'shard-by-account': { type: 'boolean', default: false },
    'lease-duration-seconds': { type: 'string', default: '15' },
    'lease-renew-deadline-seconds': { type: 'string', default: '10' },
    'lease-retry-period-seconds': { type: 'string', default: '2' },
    'metrics-bind-address': { type: 'string', default: '127.0.0.1:8080' },
    'metrics-secure': { type: 'string', default: 'false' },
    'metrics-cert-dir': { type: 'string' },
    'health-probe-bind-address': { type: 'string', default: ':8081' },
    workers: { type: 'string', default: '4' },
    'lambda-control-plane-rps': { type: 'string', default: '10' },
    'log-level': { type: 'string', default: 'info' },
    'secret-cache-seconds': { type: 'string', default: '30' },
    'aws-call-timeout-seconds': { type: 'string', default: '10' },
    'kube-request-timeout-seconds': { type: 'string', default: '30' },
    'reconcile-timeout-seconds': { type: 'string', default: '600' },
    'drift-check-seconds': { type: 'string', default: '120' },
    'allow-operator-identity-namespaces': { type: 'string' },
    'tenancy-config': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
  // A bare --metrics-secure means true (controller-runtime's flag is a bool too).
  args: process.argv.slice(2).map((a) => (a === '--metrics-secure' ? '--metrics-secure=true' : a)),
});

if (flags.help) {
  process.stdout.write(usage);
  process.exit(0);
}
if (!['true', 'false'].includes(flags['metrics-secure'])) {
  process.stderr.write(`--metrics-secure must be true or false, not ${flags['metrics-secure']}\n${usage}`);
  process.exit(2);
}

const log = pino({
  level: flags['log-level'],
  base: { pid: process.pid },
  redact: {
    paths: [
      '*.secretAccessKey',
      '*.accessKeyId',
      '*.sessionToken',
      '*.token',
      '*.password',
      '*.authorization',
    ],
    censor: '[REDACTED]',
  },
});

function seconds(
  flag:
    | 'aws-call-timeout-seconds'
    | 'kube-request-timeout-seconds'
    | 'reconcile-timeout-seconds'
    | 'drift-check-seconds'
    | 'lease-duration-seconds'
    | 'lease-renew-deadline-seconds'
    | 'lease-retry-period-seconds',
): number {
  const value = Number(flags[flag]);
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(`--${flag} must be a positive number of seconds, not ${flags[flag]}\n`);
    process.exit(2);
  }
  return value;
}

function readTenancyFile(path: string): TenancyFile {
  const parsed = tenancyFileSchema.safeParse(parseYaml(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`)
      .join('; ');
    process.stderr.write(`--tenancy-config ${path}: ${problems}\n`);
    process.exit(2);
  }
  return parsed.data;
}

function listenAddress(value: string): { host: string; port: number } | undefined {
  if (value === '0' || value === '') return undefined;
  const i = value.lastIndexOf(':');
  const host = i <= 0 ? '0.0.0.0' : value.slice(0, i);
  return { host, port: Number(value.slice(i + 1)) };
}

const kc = new KubeConfig();
if (flags.kubeconfig !== undefined) kc.loadFromFile(flags.kubeconfig);
else kc.loadFromDefault();
const kubeTransport = new KubeTransport(kc);
const kube: KubeClient = kubeClient(kc, {
  timeoutMs: seconds('kube-request-timeout-seconds') * 1000,
  transport: kubeTransport,
});

const registry = new Registry();
const runtimeMetrics = new RuntimeMetrics(registry);
const awsMetrics = new AwsMetrics(registry);
const scalerMetrics = new ScalerMetrics(registry);

const identity = `${hostname()}_${process.pid}`;
const namespaces = flags.namespaces?.split(',').filter((n) => n !== '') ?? [];
const base = `/apis/${GROUP}/${VERSION}`;
const paths =
  namespaces.length === 0
    ? [`${base}/${PLURAL}`]
    : namespaces.map((ns) => `${base}${apiPath`/namespaces/${ns}`}/${PLURAL}`);

const informer = new Informer({
  name: 'lambdaconcurrencyscalers',
  client: kube,
  paths,
  logger: log,
  metrics: runtimeMetrics,
});

const defaultRegion = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
// Aborted once the manager has stopped (its reconciles finished): the reads shared by many
// scalers, which no reconcile's signal covers, end then rather than at their deadline.
const awsLifetime = new AbortController();
const aws = new AwsClientFactory({
  signal: awsLifetime.signal,
  defaultRegion,
  clock: systemClock,
  metrics: awsMetrics,
  controlPlaneRps: Number(flags['lambda-control-plane-rps']),
  callTimeoutMs: seconds('aws-call-timeout-seconds') * 1000,
});

const operatorNamespace = process.env.POD_NAMESPACE ?? 'lambda-con-scaler-operator-system';
const tenancyFile = flags['tenancy-config'] === undefined ? {} : readTenancyFile(flags['tenancy-config']);
const allowedIdentity = flags['allow-operator-identity-namespaces'];
const tenancy = new Tenancy({
  operatorNamespace,
  operatorIdentityNamespaces:
    allowedIdentity === undefined
      ? tenancyFile.operatorIdentityNamespaces
      : allowedIdentity.split(',').filter((n) => n !== ''),
  namespaces: tenancyFile.namespaces,
});

const identities = new IdentityResolver({
  now: () => systemClock.now(),
  secretTtlMs: Number(flags['secret-cache-seconds']) * 1000,
  callTimeoutMs: seconds('aws-call-timeout-seconds') * 1000,
  async readSecret(namespace, name) {
    const secret = await kube.request<{
      data?: Record<string, string>;
      metadata: { resourceVersion: string };
    }>('GET', apiPath`/api/v1/namespaces/${namespace}/secrets/${name}`);
    const data = Object.fromEntries(
      Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
    );
    return { data, resourceVersion: secret.metadata.resourceVersion };
  },
});

const recorder = new EventRecorder({
  client: kube,
  reportingController: `${GROUP}/lambda-concurrency-scaler`,
  reportingInstance: identity,
  logger: log,
  metrics: runtimeMetrics,
});
const statusPatcher = new StatusPatcher(kube, { apiVersion: API_VERSION, plural: PLURAL, namespaced: true });

if (flags['shard-by-account'] && flags['leader-elect']) {
  process.stderr.write(
    '--shard-by-account and --leader-elect exclude each other: shards have a Lease each\n',
  );
  process.exit(2);
}
const leaseTimings = {
  leaseDurationMs: seconds('lease-duration-seconds') * 1000,
  renewDeadlineMs: seconds('lease-renew-deadline-seconds') * 1000,
  retryPeriodMs: seconds('lease-retry-period-seconds') * 1000,
};
const leaseNamespace = flags['leader-election-namespace'] ?? process.env.POD_NAMESPACE ?? 'default';
// With several replicas, each reconciles the scalers of the accounts it holds (sharding.ts).
const gate = flags['shard-by-account']
  ? new ShardGate({
      list: () => informer.list() as unknown as LambdaConcurrencyScaler[],
      enqueue: (key) => controller.queue.add(key),
      defaultRegion,
      released: (keys) => {
        for (const key of keys) reconciler.forget(key);
      },
    })
  : undefined;
const shards =
  gate === undefined
    ? undefined
    : new ShardSet({
        client: kube,
        namespace: leaseNamespace,
        group: 'lambda-con-scaler-operator-shards',
        identity,
        keys: () => gate.keys(),
        onHeld: (shard, signal) => gate.onHeld(shard, signal),
        ...leaseTimings,
        logger: log,
      });
if (gate !== undefined && shards !== undefined) gate.holds = (shard) => shards.holds(shard);

const reconciler = new ScalerReconciler({
  get: (key) => informer.get(key) as LambdaConcurrencyScaler | undefined,
  list: () => informer.list() as unknown as LambdaConcurrencyScaler[],
  async patchStatus(scaler, status: LambdaConcurrencyScalerStatus, signal) {
    await statusPatcher.patch(scaler as unknown as KubeObject, status, signal);
  },
  setFinalizers(scaler, finalizers, signal) {
    const { namespace, name } = scaler.metadata;
    const path = `${base}${apiPath`/namespaces/${namespace}/${PLURAL}/${name}`}`;
    return patchFinalizers(kube, path, scaler, finalizers, signal);
  },
  event(scaler, type, reason, message) {
    log.info({ scaler: `${scaler.metadata.namespace}/${scaler.metadata.name}`, type, reason }, message);
    void recorder.record(scaler as unknown as KubeObject, type, reason, message);
  },
  async aws(scaler) {
    const region = scalerRegion(scaler.spec, defaultRegion);
    const binding = aws.for(await identities.resolve(scaler.metadata.namespace, scaler.spec, region), region);
    return { ...binding, region };
  },
  tenancy,
  ...(gate === undefined ? {} : { mayWrite: (scaler: LambdaConcurrencyScaler) => gate.mayWrite(scaler) }),
  driftCheckMs: seconds('drift-check-seconds') * 1000,
  clock: systemClock,
  log,
  metrics: scalerMetrics,
});

const controller = new Controller({
  name: 'lambdaconcurrencyscaler',
  informer,
  reconcile: (key, signal) =>
    gate === undefined
      ? reconciler.reconcile(key, signal)
      : gate.run(informer.get(key) as LambdaConcurrencyScaler | undefined, signal, (s) =>
          reconciler.reconcile(key, s),
        ),
  workers: Number(flags.workers),
  reconcileTimeoutMs: seconds('reconcile-timeout-seconds') * 1000,
  // A scaler that keeps failing is retried at least every 5 minutes (client-go's 1,000 s is long
  // for a poll); AWS failures cap it lower, at the scaler's scale-down window (reconciler.ts).
  queue: { maxDelayMs: 300_000 },
  logger: log,
  metrics: runtimeMetrics,
  // The operator's own status writes come back as watch events: only what a user changes (spec,
  // annotations, labels, finalizers, deletion) is worth an early reconcile.
  updatePredicate: userChanged,
});

const health = new HealthServer({ logger: log });
const manager = new Manager({
  informers: [informer],
  controllers:
    shards === undefined ? [controller] : [controller, { name: 'shards', run: (s) => shards.run(s) }],
  health,
  logger: log,
  ...(flags['leader-elect']
    ? {
        leaderElection: {
          client: kube,
          namespace: leaseNamespace,
          name: flags['leader-election-id'],
          identity,
          ...leaseTimings,
          logger: log,
          metrics: runtimeMetrics,
        },
      }
    : {}),
});

const servers: (HealthServer | MetricsServer)[] = [];
const healthAddress = listenAddress(flags['health-probe-bind-address']);
if (healthAddress !== undefined) {
  await health.listen(healthAddress.port, healthAddress.host);
  servers.push(health);
}
const metricsAddress = listenAddress(flags['metrics-bind-address']);
if (metricsAddress !== undefined) {
  const secure = flags['metrics-secure'] === 'true';
  const certDir = flags['metrics-cert-dir'];
  const metricsServer = new MetricsServer({
    registry,
    logger: log,
    ...(secure
      ? {
          secure: {
            tls:
              certDir === undefined
                ? selfSignedCertificate({ hosts: ['localhost', '127.0.0.1', hostname()], now: Date.now() })
                : { certFile: join(certDir, 'tls.crt'), keyFile: join(certDir, 'tls.key') },
            authorizer: new KubeAuthorizer({ client: kube, clock: systemClock }),
          },
        }
      : {}),
  });
  await metricsServer.listen(metricsAddress.port, metricsAddress.host);
  servers.push(metricsServer);
  if (!secure && !['127.0.0.1', 'localhost', '::1', '[::1]'].includes(metricsAddress.host))
    log.warn(
      { address: flags['metrics-bind-address'] },
      'metrics are served without authentication on a non-loopback address; use --metrics-secure',
    );
}

const stop = terminationSignal(process, { onRepeat: () => process.exit(1) });
log.info({ namespaces: namespaces.length === 0 ? 'all' : namespaces, identity }, 'starting manager');
if (allowedIdentity === undefined && tenancyFile.operatorIdentityNamespaces === undefined)
  log.warn(
    { operatorNamespace },
    "every namespace may use the operator's own AWS identity (the original's behaviour): list the namespaces allowed to with --allow-operator-identity-namespaces",
  );
const outcome = await manager.run(stop);
awsLifetime.abort(new Error('the manager stopped'));
await Promise.all(servers.map((s) => s.close()));
await kubeTransport.close();
log.info({ outcome }, 'stopped');
// Lose the Lease → exit non-zero so the Deployment restarts us as a candidate (kubebuilder style).
process.exit(outcome === 'lost' ? 1 : 0);
