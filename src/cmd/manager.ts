// The manager program: flags → options → wiring. It is the composition root: the only place that
// reads argv and the environment, and builds loggers, clocks, clients, limiters and servers.
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import {
  API_VERSION,
  GROUP,
  type LambdaConcurrencyScaler,
  type LambdaConcurrencyScalerStatus,
  PLURAL,
  VERSION,
} from '../api/v1alpha1/index.ts';
import { AwsClientFactory } from '../aws/clients.ts';
import { AwsMetrics } from '../aws/metrics.ts';
import { ScalerMetrics } from '../controller/metrics.ts';
import { ScalerReconciler } from '../controller/reconciler.ts';
import { systemClock } from '../runtime/clock.ts';
import { Controller } from '../runtime/controller.ts';
import { Informer } from '../runtime/informer.ts';
import { type KubeClient, kubeClient } from '../runtime/kube.ts';
import { RuntimeMetrics } from '../runtime/metrics.ts';

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
  --metrics-bind-address ADDR        host:port of /metrics (default :8080; 0 disables)
  --health-probe-bind-address ADDR   host:port of /healthz and /readyz (default :8081)
  --workers N                        concurrent reconciles (default 4)
  --lambda-control-plane-rps N       Lambda control-plane budget per account and Region (default 10; AWS allows 15)
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
    'metrics-bind-address': { type: 'string', default: ':8080' },
    'health-probe-bind-address': { type: 'string', default: ':8081' },
    workers: { type: 'string', default: '4' },
    'lambda-control-plane-rps': { type: 'string', default: '10' },
    'log-level': { type: 'string', default: 'info' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

if (flags.help) {
  process.stdout.write(usage);
  process.exit(0);
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

function listenAddress(value: string): { host: string; port: number } | undefined {
  if (value === '0' || value === '') return undefined;
  const i = value.lastIndexOf(':');
  const host = i <= 0 ? '0.0.0.0' : value.slice(0, i);
  return { host, port: Number(value.slice(i + 1)) };
}

const kc = new KubeConfig();
if (flags.kubeconfig !== undefined) kc.loadFromFile(flags.kubeconfig);
else kc.loadFromDefault();
const kube: KubeClient = kubeClient(kc);

const registry = new Registry();
collectDefaultMetrics({ register: registry });
const runtimeMetrics = new RuntimeMetrics(registry);
const awsMetrics = new AwsMetrics(registry);
const scalerMetrics = new ScalerMetrics(registry);

const stop = new AbortController();
const identity = `${hostname()}_${process.pid}`;
const namespaces = flags.namespaces?.split(',').filter((n) => n !== '') ?? [];
const base = `/apis/${GROUP}/${VERSION}`;
const paths =
  namespaces.length === 0
    ? [`${base}/${PLURAL}`]
    : namespaces.map((ns) => `${base}/namespaces/${ns}/${PLURAL}`);

const informer = new Informer({
  name: 'lambdaconcurrencyscalers',
  client: kube,
  paths,
  logger: log,
  metrics: runtimeMetrics,
});

const aws = new AwsClientFactory({
  defaultRegion: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
  clock: systemClock,
  metrics: awsMetrics,
  controlPlaneRps: Number(flags['lambda-control-plane-rps']),
  signal: stop.signal,
});

/** Writes a core/v1 Event about a scaler; failures are logged and counted, never thrown. */
function recordEvent(
  scaler: LambdaConcurrencyScaler,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
): void {
  const { namespace, name, uid } = scaler.metadata;
  const now = new Date().toISOString();
  const event = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { generateName: `${name}.`, namespace },
    involvedObject: { apiVersion: API_VERSION, kind: 'LambdaConcurrencyScaler', name, namespace, uid },
    type,
    reason,
    message,
    source: { component: 'lambda-con-scaler-operator' },
    reportingComponent: 'lambda-con-scaler-operator',
    reportingInstance: identity,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
  log.info({ scaler: `${namespace}/${name}`, type, reason }, message);
  kube.request('POST', `/api/v1/namespaces/${namespace}/events`, { body: event }).catch((error: unknown) => {
    runtimeMetrics.eventFailures.inc({ reason });
    log.warn({ err: (error as Error).message, reason }, 'could not record event');
  });
}

const reconciler = new ScalerReconciler({
  get: (key) => informer.get(key) as LambdaConcurrencyScaler | undefined,
  async patchStatus(scaler, status: LambdaConcurrencyScalerStatus) {
    const { namespace, name } = scaler.metadata;
    await kube.request('PATCH', `${base}/namespaces/${namespace}/${PLURAL}/${name}/status`, {
      body: { status },
      contentType: 'application/merge-patch+json',
    });
  },
  async setFinalizers(scaler, finalizers) {
    const { namespace, name, resourceVersion } = scaler.metadata;
    return kube.request<LambdaConcurrencyScaler>(
      'PATCH',
      `${base}/namespaces/${namespace}/${PLURAL}/${name}`,
      {
        body: { metadata: { finalizers, resourceVersion } },
        contentType: 'application/merge-patch+json',
      },
    );
  },
  event: recordEvent,
  aws: async () => aws.for({ key: 'default' }),
  clock: systemClock,
  log,
  metrics: scalerMetrics,
});

/** Only spec, annotation, finalizer and deletion changes are worth a reconcile: the operator's own
 * status writes come back as watch events and must not trigger an extra poll of AWS. */
const seen = new Map<string, string>();
const controller = new Controller({
  name: 'lambdaconcurrencyscaler',
  informer,
  reconcile: (key) => reconciler.reconcile(key),
  workers: Number(flags.workers),
  logger: log,
  metrics: runtimeMetrics,
  keysFor(obj) {
    const m = obj.metadata ?? {};
    const key = `${m.namespace}/${m.name}`;
    if (informer.get(key) === undefined) {
      seen.delete(key);
      return [key];
    }
    const fingerprint = JSON.stringify([
      m.uid,
      m.generation,
      m.annotations,
      m.deletionTimestamp,
      m.finalizers,
    ]);
    if (seen.get(key) === fingerprint) return [];
    seen.set(key, fingerprint);
    return [key];
  },
});

let ready = false;
function serve(
  address: { host: string; port: number } | undefined,
  routes: Record<string, () => Promise<[number, string, string]>>,
): Server | undefined {
  if (address === undefined) return undefined;
  const server = createServer((req, res) => {
    const route = routes[(req.url ?? '/').split('?')[0] ?? '/'];
    if (route === undefined) {
      res.writeHead(404).end('not found\n');
      return;
    }
    route().then(
      ([status, type, body]) => res.writeHead(status, { 'content-type': type }).end(body),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  server.listen(address.port, address.host, () => {
    const a = server.address();
    log.info({ address: typeof a === 'object' && a !== null ? `${a.address}:${a.port}` : a }, 'listening');
  });
  return server;
}
const metricsServer = serve(listenAddress(flags['metrics-bind-address']), {
  '/metrics': async () => [200, registry.contentType, await registry.metrics()],
});
const healthServer = serve(listenAddress(flags['health-probe-bind-address']), {
  '/healthz': async () => [200, 'text/plain', 'ok\n'],
  '/readyz': async () =>
    ready && informer.hasSynced() ? [200, 'text/plain', 'ok\n'] : [503, 'text/plain', 'not ready\n'],
});

async function shutdown(signal: string): Promise<void> {
  if (stop.signal.aborted) return;
  log.info({ signal }, 'shutting down');
  stop.abort(new Error(`received ${signal}`));
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

log.info({ namespaces: namespaces.length === 0 ? 'all' : namespaces, identity }, 'starting manager');
const informerRun = informer.run(stop.signal);
ready = true;
await controller.run(stop.signal);
await informerRun.catch(() => {});
await Promise.all(
  [metricsServer, healthServer].map(
    (s) => new Promise<void>((r) => (s === undefined ? r() : s.close(() => r()))),
  ),
);
log.info('stopped');
process.exit(0);
