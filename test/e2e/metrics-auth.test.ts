// /metrics in a shared cluster (issue 12): served over HTTPS only to callers the real kube-apiserver
// authenticates (TokenReview) and authorizes (get on /metrics), with the manager acting as its
// ServiceAccount under only the generated RBAC, as `make deploy` installs it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { parseAllDocuments } from 'yaml';
import { httpsGet } from '../../src/envtest/https.ts';
import { type ControlPlane, CRD_DIR, startControlPlane } from '../../src/envtest/index.ts';
import { type Manager, startManager } from '../../src/envtest/processes.ts';
import { ManualClock } from '../../src/runtime/clock.ts';
import { kubeClient } from '../../src/runtime/kube.ts';
import { KubeAuthorizer } from '../../src/runtime/kube-auth.ts';
import { RuntimeMetrics } from '../../src/runtime/metrics.ts';
import { MetricsServer } from '../../src/runtime/metrics-server.ts';
import { selfSignedCertificate } from '../../src/runtime/selfsigned.ts';

const root = join(import.meta.dirname, '..', '..');
const system = 'lambda-con-scaler-operator-system';
const prefix = 'lambda-con-scaler-operator-';
let cp: ControlPlane;
let rendered: { kind: string; metadata: { name: string }; spec?: unknown; rules?: unknown }[];
let managerKubeconfig: string;
const tokens: Record<'reader' | 'stranger', string> = { reader: '', stranger: '' };

const token = async (sa: string, ns: string) =>
  (await cp.kubectl(['create', 'token', sa, '-n', ns, '--duration=1h'])).trim();

before(async () => {
  cp = await startControlPlane({ crds: [CRD_DIR] });
  // The operator's RBAC exactly as `make deploy` installs it; the manager acts as its ServiceAccount.
  await cp.kubectl(['create', 'namespace', system]);
  const yaml = await cp.kubectl(['kustomize', join(root, 'config/default')]);
  rendered = parseAllDocuments(yaml).map((d) => d.toJSON());
  await cp.kubectl(['apply', '--server-side', '-f', '-'], yaml);
  managerKubeconfig = cp.writeKubeconfig('manager', await token(`${prefix}controller-manager`, system));
  // Prometheus's ServiceAccount gets the generated metrics-reader role; a stranger gets nothing.
  await cp.kubectl(['create', 'namespace', 'monitoring']);
  for (const sa of ['prometheus', 'stranger']) await cp.kubectl(['create', 'sa', sa, '-n', 'monitoring']);
  await cp.kubectl([
    'create',
    'clusterrolebinding',
    'prometheus-reads-operator-metrics',
    `--clusterrole=${prefix}metrics-reader`,
    '--serviceaccount=monitoring:prometheus',
  ]);
  tokens.reader = await token('prometheus', 'monitoring');
  tokens.stranger = await token('stranger', 'monitoring');
});

after(async () => {
  await cp?.stop();
});

describe('/metrics behind Kubernetes authentication and authorization', { timeout: 120_000 }, () => {
  it('answers 401 without a valid token, 403 without the metrics-reader binding, 200 with it', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(managerKubeconfig);
    const clock = new ManualClock();
    const registry = new Registry();
    new RuntimeMetrics(registry).leaderStatus.set({ name: 'lcs' }, 1);
    const pair = selfSignedCertificate({ hosts: ['127.0.0.1'], now: Date.now() });
    const server = new MetricsServer({
      registry,
      secure: { tls: pair, authorizer: new KubeAuthorizer({ client: kubeClient(kc), clock }) },
    });
    const url = `https://127.0.0.1:${await server.listen(0, '127.0.0.1')}/metrics`;
    const scrape = (t?: string) => httpsGet(url, { ca: pair.cert, ...(t === undefined ? {} : { token: t }) });
    try {
      assert.equal((await scrape()).status, 401, 'no token');
      assert.equal((await scrape('not-a-token')).status, 401, 'a token the cluster does not know');
      const stranger = await scrape(tokens.stranger);
      assert.equal(stranger.status, 403);
      assert.equal(
        stranger.body,
        'Authorization denied for user system:serviceaccount:monitoring:stranger\n',
      );
      assert.doesNotMatch(stranger.body, /leader_election/);
      const reader = await scrape(tokens.reader);
      assert.equal(reader.status, 200, reader.body);
      assert.match(reader.body, /^leader_election_master_status\{name="lcs"\} 1$/m);
      assert.match(reader.body, /^process_cpu_seconds_total /m);
      assert.equal((await scrape(cp.token)).status, 200, 'a cluster admin may read too');

      // Revoking the binding shows once the cached decision (60 s) has expired.
      await cp.kubectl(['delete', 'clusterrolebinding', 'prometheus-reads-operator-metrics']);
      assert.equal((await scrape(tokens.reader)).status, 200, 'still cached');
      await clock.advance(60_000);
      assert.equal((await scrape(tokens.reader)).status, 403, 'revoked');
    } finally {
      await server.close();
      await cp.kubectl([
        'create',
        'clusterrolebinding',
        'prometheus-reads-operator-metrics',
        `--clusterrole=${prefix}metrics-reader`,
        '--serviceaccount=monitoring:prometheus',
      ]);
    }
  });

  it('is what the manager serves with --metrics-secure as its ServiceAccount; probes stay plain and have no /metrics', async () => {
    const manager: Manager = await startManager({
      kubeconfig: managerKubeconfig,
      awsEndpoint: 'http://127.0.0.1:9', // no scalers: AWS is never called
      args: ['--metrics-secure'], // bare, as a bool flag; the Deployment spells it --metrics-secure=true
    });
    try {
      const url = manager.metricsUrl.replace(/^http:/, 'https:');
      assert.equal((await httpsGet(url)).status, 401);
      assert.equal((await httpsGet(url, { token: tokens.stranger })).status, 403);
      const reader = await httpsGet(url, { token: tokens.reader });
      assert.equal(reader.status, 200, reader.body);
      assert.match(reader.body, /^informer_relists_total\{informer="lambdaconcurrencyscalers"\} 1$/m);
      assert.match(reader.body, /^process_resident_memory_bytes /m);
      await assert.rejects(fetch(manager.metricsUrl), 'no plain HTTP on the secure port');
      assert.equal((await fetch(`${manager.healthUrl}/healthz`)).status, 200);
      assert.equal((await fetch(`${manager.healthUrl}/readyz`)).status, 200);
      assert.equal((await fetch(`${manager.healthUrl}/metrics`)).status, 404);
    } finally {
      await manager.stop();
    }
  });

  it('refuses a --metrics-secure that is neither true nor false, rather than serving plain HTTP', () => {
    const run = spawnSync(process.execPath, [join(root, 'src/cmd/manager.ts'), '--metrics-secure=yes'], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /--metrics-secure must be true or false, not yes/);
  });

  it('is how the deployed manifests scrape: Deployment, Service and ServiceMonitor agree on HTTPS :8443', async () => {
    const deployment = rendered.find((d) => d.kind === 'Deployment') as unknown as {
      spec: {
        template: {
          spec: { containers: { args: string[]; ports: { name: string; containerPort: number }[] }[] };
        };
      };
    };
    const container = deployment.spec.template.spec.containers[0];
    assert.ok(container);
    assert.ok(container.args.includes('--metrics-secure=true'), container.args.join(' '));
    assert.ok(container.args.includes('--metrics-bind-address=:8443'), container.args.join(' '));
    assert.deepEqual(
      container.ports.find((p) => p.containerPort === 8443),
      { name: 'https', containerPort: 8443, protocol: 'TCP' },
    );
    const service = rendered.find((d) => d.kind === 'Service') as unknown as {
      spec: { ports: { name: string; port: number; targetPort: string }[] };
    };
    assert.deepEqual(service.spec.ports, [
      { name: 'https', port: 8443, protocol: 'TCP', targetPort: 'https' },
    ]);
    const monitor = parseAllDocuments(await cp.kubectl(['kustomize', join(root, 'config/prometheus')]))
      .map((d) => d.toJSON() as { kind: string; spec: { endpoints: Record<string, unknown>[] } })
      .find((d) => d.kind === 'ServiceMonitor') as { spec: { endpoints: Record<string, unknown>[] } };
    assert.deepEqual(monitor.spec.endpoints, [
      {
        path: '/metrics',
        port: 'https',
        scheme: 'https',
        bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
        tlsConfig: { insecureSkipVerify: true },
      },
    ]);
    const reader = rendered.find(
      (d) => d.kind === 'ClusterRole' && d.metadata.name === `${prefix}metrics-reader`,
    );
    assert.deepEqual(reader?.rules, [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]);
  });
});
