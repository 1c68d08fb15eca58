// The Helm chart with the real helm (built from source, hack/tools/build.sh) against the test control
// plane: lint, server-side dry run, the same CRD and RBAC as kustomize, install / upgrade /
// uninstall, and the manager run with the installed Deployment's arguments and environment, as the
// chart's ServiceAccount, scaling a scaler in awssim; then every series the dashboard and the alerts
// query is on that manager's /metrics.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { parse, parseAllDocuments } from 'yaml';
import { type ControlPlane, startControlPlane } from '../../src/envtest/index.ts';
import {
  type Awssim,
  type Manager,
  startAwssim,
  startManager,
  waitFor,
} from '../../src/envtest/processes.ts';
import { runTool, type ToolResult } from '../../src/envtest/tools.ts';
import { declaredSeries } from '../monitoring/declared.ts';
import {
  dashboardQueries,
  exposition,
  metricUses,
  missing,
  withGrafanaIntervals,
} from '../monitoring/promql.ts';
import { awsClients, condition, getScaler, reservedConcurrency, sendBurst } from './helpers.ts';

const root = join(import.meta.dirname, '..', '..');
const chart = join(root, 'charts/lambda-con-scaler-operator');
const release = 'lambda-con-scaler-operator';
const system = 'lambda-con-scaler-operator-system';
const ns = 'chart-e2e';
const helmHome = mkdtempSync(join(tmpdir(), 'lcs-helm-'));

let cp: ControlPlane;
let sim: Awssim;
let manager: Manager | undefined;
let sqs: SQSClient;
let lambda: LambdaClient;

type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: unknown; annotations?: unknown };
  [k: string]: unknown;
};

async function helm(args: string[]): Promise<ToolResult> {
  return runTool('helm', [...args, '--kubeconfig', cp.kubeconfig], {
    env: {
      ...process.env,
      HELM_CACHE_HOME: join(helmHome, 'cache'),
      HELM_CONFIG_HOME: join(helmHome, 'config'),
      HELM_DATA_HOME: join(helmHome, 'data'),
    },
  });
}

async function helmOk(args: string[]): Promise<string> {
  const r = await helm(args);
  assert.equal(r.code, 0, `helm ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

const objects = (yaml: string): K8sObject[] =>
  parseAllDocuments(yaml)
    .map((d) => d.toJSON() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);

/** The CRD and RBAC objects by kind/namespace/name, without labels and annotations (which tool installed them). */
function crdAndRbac(list: K8sObject[]): Record<string, K8sObject> {
  const kinds = [
    'CustomResourceDefinition',
    'ClusterRole',
    'ClusterRoleBinding',
    'Role',
    'RoleBinding',
    'ServiceAccount',
  ];
  const out: Record<string, K8sObject> = {};
  for (const o of list.filter((x) => kinds.includes(x.kind))) {
    const { labels: _l, annotations: _a, ...metadata } = o.metadata;
    out[`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`] = { ...o, metadata };
  }
  return out;
}

const sample = `
apiVersion: aws.operators.jittakal.io/v1alpha1
kind: LambdaConcurrencyScaler
metadata:
  name: orders
spec:
  awsSQSName: orders
  awsSQSMsgCountThreshold: 50
  awsLambdaName: order-processor
  awsLambdaMinConcurrency: 2
  awsLambdaMaxConcurrency: 20
  awsLambdaStepConcurrency: 5
  pollingIntervalSeconds: 2
`;

before(async () => {
  [cp, sim] = await Promise.all([
    startControlPlane(),
    startAwssim({ scenario: join(import.meta.dirname, 'scenario.yaml') }),
  ]);
  ({ sqs, lambda } = awsClients(sim.endpoint));
});

after(async () => {
  const code = await manager?.stop();
  if (code !== 0 && code !== undefined) console.error(manager?.output());
  await sim?.stop();
  await cp?.stop();
  rmSync(helmHome, { recursive: true, force: true });
});

describe('the Helm chart', () => {
  it('passes helm lint --strict, and refuses a misspelt key, a wrong value and replicas without a leader', async () => {
    await helmOk(['lint', '--strict', chart]);
    const typo = await helm(['lint', chart, '--set', 'imge.tag=v1']);
    assert.notEqual(typo.code, 0);
    assert.match(typo.stdout + typo.stderr, /additional properties 'imge' not allowed/);
    const level = await helm(['lint', chart, '--set', 'logLevel=verbose']);
    assert.notEqual(level.code, 0);
    assert.match(level.stdout + level.stderr, /logLevel/);
    // helm lint lets a template's fail pass; helm template and install do not.
    const leaders = await helm([
      'template',
      release,
      chart,
      '--set',
      'replicaCount=2',
      '--set',
      'leaderElection.enabled=false',
    ]);
    assert.notEqual(leaders.code, 0);
    assert.match(leaders.stdout + leaders.stderr, /replicaCount above 1 needs leaderElection\.enabled/);
    // A number where Kubernetes wants a string would only fail at apply time: the schema says so first.
    const env = await helm([
      'lint',
      chart,
      '--set',
      'extraEnv[0].name=AWS_MAX_ATTEMPTS',
      '--set',
      'extraEnv[0].value=5',
    ]);
    assert.notEqual(env.code, 0);
    assert.match(env.stdout + env.stderr, /extraEnv\/0\/value/);
  });

  it('renders the same CRD and RBAC as kustomize (config/default)', async () => {
    const kustomized = objects(await cp.kubectl(['kustomize', join(root, 'config/default')]));
    const rendered = objects(await helmOk(['template', release, chart, '-n', system]));

    const fromChart = crdAndRbac(rendered);
    const fromKustomize = crdAndRbac(kustomized);

    assert.deepEqual(Object.keys(fromChart).sort(), Object.keys(fromKustomize).sort());
    assert.deepEqual(fromChart, fromKustomize);
    assert.ok(Object.keys(fromChart).length >= 7);
  });

  it('renders, with every option on, objects the API server accepts (server-side dry run)', async () => {
    for (const n of [system, 'team-a', 'monitoring']) await cp.kubectl(['create', 'namespace', n]);
    // The Prometheus Operator's kinds, with open schemas: the API server checks the rest, promtool the rules.
    for (const [kind = '', plural = ''] of [
      ['ServiceMonitor', 'servicemonitors'],
      ['PrometheusRule', 'prometheusrules'],
    ])
      await cp.kubectl(
        ['apply', '-f', '-'],
        JSON.stringify({
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'CustomResourceDefinition',
          metadata: { name: `${plural}.monitoring.coreos.com` },
          spec: {
            group: 'monitoring.coreos.com',
            names: { kind, plural, listKind: `${kind}List`, singular: kind.toLowerCase() },
            scope: 'Namespaced',
            versions: [
              {
                name: 'v1',
                served: true,
                storage: true,
                schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
              },
            ],
          },
        }),
      );
    await waitFor(
      'the monitoring CRDs served',
      async () => ((await cp.kubectlResult(['get', 'prometheusrules', '-A'])).code === 0 ? true : undefined),
      20_000,
    );
    const all = [
      'serviceMonitor.enabled=true',
      'prometheusRule.enabled=true',
      'prometheusRule.cloudWatch=true',
      'dashboard.enabled=true',
      'dashboard.namespace=monitoring',
      'rbac.secretReaderNamespaces={team-a}',
      'watchNamespaces={team-a,chart-e2e}',
      'operatorIdentity.allowedNamespaces={team-a}',
      'serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::123456789012:role/lcs',
      'extraEnv[0].name=AWS_MAX_ATTEMPTS',
    ];
    const rendered = await helmOk([
      'template',
      release,
      chart,
      '-n',
      system,
      ...all.flatMap((s) => ['--set', s]),
      '--set-string',
      'extraEnv[0].value=5',
    ]);
    const kinds = objects(rendered).map((o) => o.kind);
    for (const k of ['PrometheusRule', 'ServiceMonitor', 'ConfigMap', 'RoleBinding', 'Deployment', 'Service'])
      assert.ok(kinds.includes(k), `${k} rendered`);

    const r = await cp.kubectlResult(['apply', '--server-side', '--dry-run=server', '-f', '-'], rendered);

    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /prometheusrule.monitoring.coreos.com\/lambda-con-scaler-operator-alerts serverside-applied \(server dry run\)/,
    );
    const rule = objects(rendered).find((o) => o.kind === 'PrometheusRule') as unknown as {
      spec: { groups: { name: string }[] };
    };
    assert.deepEqual(
      rule.spec.groups.map((g) => g.name),
      ['lambda-con-scaler-operator', 'lambda-con-scaler-operator.cloudwatch'],
    );
    const kustomized = objects(await cp.kubectl(['kustomize', join(root, 'config/prometheus')]));
    const kustomizedRule = kustomized.find((o) => o.kind === 'PrometheusRule') as unknown as typeof rule;
    assert.deepEqual(
      kustomizedRule.spec.groups,
      rule.spec.groups.slice(0, 1),
      'kustomize has the same alerts',
    );
    const dashboard = objects(rendered).find((o) => o.kind === 'ConfigMap') as unknown as {
      data: Record<string, string>;
    };
    assert.deepEqual(
      JSON.parse(dashboard.data['lambda-con-scaler-operator.json'] ?? ''),
      JSON.parse(readFileSync(join(root, 'config/grafana/lambda-con-scaler-operator.json'), 'utf8')),
    );
  });

  it('installs, upgrades and uninstalls with helm, keeping the CRD', async () => {
    await helmOk([
      'install',
      release,
      chart,
      '-n',
      system,
      '--set',
      `aws.endpointUrl=${sim.endpoint}`,
      '--set',
      'aws.region=us-east-1',
    ]);
    await waitFor(
      'the CRD established',
      async () => ((await cp.kubectlResult(['get', 'lcs', '-A'])).code === 0 ? true : undefined),
      20_000,
    );
    const deployment = () =>
      cp
        .kubectl(['get', 'deployment', '-n', system, `${release}-controller-manager`, '-o', 'json'])
        .then((s) => JSON.parse(s) as { spec: { template: { spec: { containers: { args: string[] }[] } } } });
    const args = async () => (await deployment()).spec.template.spec.containers[0]?.args ?? [];
    assert.ok((await args()).includes('--log-level=info'));

    await helmOk([
      'upgrade',
      release,
      chart,
      '-n',
      system,
      '--reuse-values',
      '--set',
      'logLevel=debug',
      '--set',
      'workers=2',
    ]);

    assert.ok((await args()).includes('--log-level=debug'));
    assert.ok((await args()).includes('--workers=2'));
    const history = JSON.parse(await helmOk(['history', release, '-n', system, '-o', 'json'])) as unknown[];
    assert.equal(history.length, 2);
  });

  it('runs a manager from the installed Deployment, as its ServiceAccount, that scales a scaler in awssim', async () => {
    const deployment = JSON.parse(
      await cp.kubectl(['get', 'deployment', '-n', system, `${release}-controller-manager`, '-o', 'json']),
    ) as {
      spec: {
        template: {
          spec: {
            serviceAccountName: string;
            containers: {
              args: string[];
              env: {
                name: string;
                value?: string;
                valueFrom?: {
                  fieldRef?: { fieldPath: string };
                  secretKeyRef?: { name: string; key: string };
                };
              }[];
            }[];
          };
        };
      };
    };
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    assert.ok(container);
    // The original operator's secret, which the chart reads (optionally) for static keys.
    await cp.kubectl([
      'create',
      'secret',
      'generic',
      'lambdaconcurrencyscaler-secret',
      '-n',
      system,
      '--from-literal=AWS_ACCESS_KEY_ID=AKIACHARTSECRET',
      '--from-literal=AWS_SECRET_ACCESS_KEY=chart-secret-value',
    ]);
    // What the kubelet would do: resolve the environment, field and secret references included.
    const secret = JSON.parse(
      await cp.kubectl(['get', 'secret', 'lambdaconcurrencyscaler-secret', '-n', system, '-o', 'json']),
    ) as { data: Record<string, string> };
    const env: NodeJS.ProcessEnv = {};
    for (const e of container.env) {
      if (e.value !== undefined) env[e.name] = e.value;
      else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = system;
      else if (e.valueFrom?.secretKeyRef !== undefined) {
        const v = secret.data[e.valueFrom.secretKeyRef.key];
        if (v !== undefined) env[e.name] = Buffer.from(v, 'base64').toString('utf8');
      }
    }
    assert.equal(env.AWS_ENDPOINT_URL, sim.endpoint);
    assert.equal(env.POD_NAMESPACE, system);
    // The bind addresses are the pod's (:8443 with authenticated HTTPS, :8081); here the test's
    // loopback ports take their place, in plain HTTP (test/e2e/metrics-auth.test.ts covers HTTPS).
    const binds = container.args.filter((a) =>
      /^--(metrics|health-probe)-bind-address=|^--metrics-secure=/.test(a),
    );
    assert.deepEqual(binds, [
      '--health-probe-bind-address=:8081',
      '--metrics-bind-address=:8443',
      '--metrics-secure=true',
    ]);
    const args = container.args.filter((a) => !binds.includes(a));
    assert.ok(args.includes('--leader-elect'));
    const token = (
      await cp.kubectl(['create', 'token', pod.serviceAccountName, '-n', system, '--duration=1h'])
    ).trim();
    await cp.kubectl(['create', 'namespace', ns]);

    manager = await startManager({
      kubeconfig: cp.writeKubeconfig('chart-manager', token),
      awsEndpoint: sim.endpoint,
      // The chart's own args, plus a GetFunction every second so the throttled spell below shows
      // within the test's patience (the default drift check reads a function every 120 s).
      args: [...args, '--drift-check-seconds', '1'],
      env,
    });
    await cp.kubectl(['apply', '-n', ns, '-f', '-'], sample);

    await waitFor(
      'Ready at min',
      async () => {
        const s = await getScaler(cp, ns, 'orders');
        return condition(s, 'Ready')?.status === 'True' && s.status?.concurrency === 2 ? true : undefined;
      },
      30_000,
    );
    assert.equal(await reservedConcurrency(lambda, 'order-processor'), 2);
    await sendBurst(sqs, 'orders', 40);
    await waitFor(
      'a scale-up',
      async () => ((await reservedConcurrency(lambda, 'order-processor')) ?? 0) > 2 || undefined,
      30_000,
    );
    const callers = await sim.admin<Record<string, Record<string, number>>>('GET', '/callers');
    assert.ok(
      (callers.AKIACHARTSECRET?.['lambda:PutFunctionConcurrency'] ?? 0) >= 2,
      `the manager used the original secret's keys: ${JSON.stringify(Object.keys(callers))}`,
    );
    const lease = JSON.parse(
      await cp.kubectl(['get', 'lease', '-n', system, `${release}-leader`, '-o', 'json']),
    ) as { spec: { holderIdentity?: string } };
    assert.ok(lease.spec.holderIdentity, 'the manager leads through the chart-named Lease');
  });

  it('serves on /metrics every metric and label the dashboard and the alerts query', async () => {
    assert.ok(manager);
    // A throttled and failing spell, so the error and throttle counters have samples too.
    await sim.admin('POST', '/faults', { 'lambda:GetFunction': { throttle: true } });
    const scraped = await waitFor(
      'throttles and errors on /metrics',
      async () => {
        const text = await (await fetch(manager?.metricsUrl ?? '')).text();
        return /lcs_aws_throttles_total\{/.test(text) &&
          /controller_runtime_reconcile_errors_total\{/.test(text)
          ? text
          : undefined;
      },
      30_000,
    );
    await sim.admin('DELETE', '/faults');
    const series = exposition(scraped);
    const declared = declaredSeries();
    // Counters that only count rare events (a watch restart) have no sample yet: their family must be
    // on /metrics, and their labels are the declared ones.
    const available = new Map(
      [...series].map(([metric, labels]) => [
        metric,
        labels.size > 0 ? labels : (declared.get(metric) ?? labels),
      ]),
    );
    const dashboard = JSON.parse(
      readFileSync(join(root, 'config/grafana/lambda-con-scaler-operator.json'), 'utf8'),
    );
    const alerts = parse(readFileSync(join(root, 'config/prometheus/alerts.rules.yaml'), 'utf8')) as {
      groups: { rules: { expr: string }[] }[];
    };
    const cloudwatch = parse(
      readFileSync(join(root, 'config/prometheus/alerts-cloudwatch.rules.yaml'), 'utf8'),
    ) as {
      groups: { rules: { expr: string }[] }[];
    };
    const uses = [
      ...dashboardQueries(dashboard).flatMap((q) => metricUses(withGrafanaIntervals(q))),
      ...[...alerts.groups, ...cloudwatch.groups].flatMap((g) => g.rules).flatMap((r) => metricUses(r.expr)),
    ].filter((u) => !u.metric.startsWith('aws_'));

    assert.deepEqual(missing(uses, available), []);
    const sampled = uses.filter((u) => (series.get(u.metric)?.size ?? 0) > 0).length;
    assert.ok(sampled / uses.length > 0.9, `${sampled} of ${uses.length} uses checked on real samples`);
    assert.match(
      scraped,
      /lcs_scaler_info\{namespace="chart-e2e",name="orders",queue="orders",function="order-processor"\} 1/,
    );
    assert.match(
      scraped,
      /lcs_scaler_condition\{namespace="chart-e2e",name="orders",type="Ready",status="True"\} [01]/,
    );
  });

  it('uninstalls, keeping the CRD and the scalers', async () => {
    await manager?.stop();
    manager = undefined;

    await helmOk(['uninstall', release, '-n', system]);

    const gone = await cp.kubectlResult(['get', 'deployment', '-n', system, `${release}-controller-manager`]);
    assert.notEqual(gone.code, 0);
    const roles = await cp.kubectlResult(['get', 'clusterrole', `${release}-manager-role`]);
    assert.notEqual(roles.code, 0);
    const scaler = await getScaler(cp, ns, 'orders');
    assert.equal(
      scaler.metadata.name,
      'orders',
      'the CRD (helm.sh/resource-policy: keep) and its scalers remain',
    );
  });
});
