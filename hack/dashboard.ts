// The Grafana dashboard, built from a short list of panels: hack/generate.ts writes it to
// config/grafana/ and the chart's files/; test/monitoring/ checks every query against a real /metrics.

/** One query of a panel: PromQL (with Grafana's $variables) and its legend. */
interface Target {
  expr: string;
  legend: string;
}

interface Panel {
  title: string;
  description: string;
  unit?: string;
  kind?: 'timeseries' | 'stat' | 'bars';
  width?: number;
  targets: Target[];
}

/** A scaler's series, filtered by the dashboard's namespace and scaler variables. */
const scaler = 'namespace=~"$namespace", name=~"$scaler"';
const perScaler = '{{namespace}}/{{name}}';

const rows: { title: string; panels: Panel[] }[] = [
  {
    title: 'Scalers',
    panels: [
      {
        title: 'Scalers not Ready',
        description:
          'Scalers whose Ready condition is False (lcs_scaler_condition); see kubectl describe lcs.',
        kind: 'stat',
        width: 6,
        targets: [
          {
            expr: `count(max by (namespace, name) (lcs_scaler_condition{type="Ready", status="False", ${scaler}}) == 1) or vector(0)`,
            legend: 'not Ready',
          },
        ],
      },
      {
        title: 'Scalers Stalled',
        description: 'Scalers stopped on an error that retrying will not fix.',
        kind: 'stat',
        width: 6,
        targets: [
          {
            expr: `count(max by (namespace, name) (lcs_scaler_condition{type="Stalled", status="True", ${scaler}}) == 1) or vector(0)`,
            legend: 'Stalled',
          },
        ],
      },
      {
        title: 'Scalers Constrained',
        description: "Scalers held below their policy's wish by the account's unreserved concurrency.",
        kind: 'stat',
        width: 6,
        targets: [
          {
            expr: `count(max by (namespace, name) (lcs_scaler_condition{type="Constrained", status="True", ${scaler}}) == 1) or vector(0)`,
            legend: 'Constrained',
          },
        ],
      },
      {
        title: 'Leader',
        description: 'Replicas holding the leader Lease (1 is healthy).',
        kind: 'stat',
        width: 6,
        targets: [{ expr: 'sum by (name) (leader_election_master_status)', legend: '{{name}}' }],
      },
      {
        title: 'Backlog (visible messages)',
        description: 'ApproximateNumberOfMessages the last decision saw.',
        targets: [
          {
            expr: `max by (namespace, name) (lcs_queue_messages{kind="visible", ${scaler}})`,
            legend: perScaler,
          },
        ],
      },
      {
        title: 'In flight and delayed messages',
        description:
          'ApproximateNumberOfMessagesNotVisible (being processed, or pulled and throttled: overpull) and delayed.',
        targets: [
          {
            expr: `max by (namespace, name, kind) (lcs_queue_messages{kind=~"in_flight|delayed", ${scaler}})`,
            legend: `${perScaler} {{kind}}`,
          },
        ],
      },
      {
        title: 'Reserved concurrency: applied, decided and bounds',
        description:
          "The function's reserved concurrency (applied), what the policy asked for (decided), and the scaler's min and max.",
        width: 24,
        targets: [
          {
            expr: `max by (namespace, name) (lcs_applied_concurrency{${scaler}})`,
            legend: `${perScaler} applied`,
          },
          {
            expr: `max by (namespace, name) (lcs_desired_concurrency{${scaler}})`,
            legend: `${perScaler} decided`,
          },
          { expr: `max by (namespace, name) (lcs_min_concurrency{${scaler}})`, legend: `${perScaler} min` },
          { expr: `max by (namespace, name) (lcs_max_concurrency{${scaler}})`, legend: `${perScaler} max` },
        ],
      },
      {
        title: 'Scaling actions by direction and reason',
        description: 'Changes of reserved concurrency made, by the policy reason that decided them.',
        kind: 'bars',
        targets: [
          {
            expr: `sum by (namespace, name, direction, reason) (increase(lcs_scaling_actions_total{${scaler}}[$__rate_interval]))`,
            legend: `${perScaler} {{direction}} {{reason}}`,
          },
        ],
      },
      {
        title: 'Poll lateness',
        description: "How late each scaler's last poll started against its schedule.",
        unit: 's',
        targets: [
          { expr: `max by (namespace, name) (lcs_poll_lateness_seconds{${scaler}})`, legend: perScaler },
        ],
      },
    ],
  },
  {
    title: 'AWS',
    panels: [
      {
        title: 'AWS calls by operation and outcome',
        description: 'Every AWS call the operator makes, per second.',
        unit: 'reqps',
        targets: [
          {
            expr: 'sum by (service, operation, outcome) (rate(lcs_aws_requests_total[$__rate_interval]))',
            legend: '{{service}} {{operation}} {{outcome}}',
          },
        ],
      },
      {
        title: 'Lambda control-plane budget',
        description:
          "Seconds per second reconciles waited for the operator's Lambda token buckets (above 1: scaling queues up), and calls AWS throttled.",
        targets: [
          {
            expr: 'sum by (bucket) (rate(lcs_aws_limiter_wait_seconds_total[$__rate_interval]))',
            legend: 'waiting on {{bucket}}',
          },
          {
            expr: 'sum by (service, operation) (rate(lcs_aws_throttles_total[$__rate_interval]))',
            legend: 'throttled {{service}} {{operation}}',
          },
        ],
      },
      {
        title: 'AWS call latency p99',
        description: '99th percentile of AWS call latency by operation.',
        unit: 's',
        width: 24,
        targets: [
          {
            expr: 'histogram_quantile(0.99, sum by (le, service, operation) (rate(lcs_aws_request_duration_seconds_bucket[$__rate_interval])))',
            legend: '{{service}} {{operation}}',
          },
        ],
      },
    ],
  },
  {
    title: 'Operator',
    panels: [
      {
        title: 'Reconciles by result and errors',
        description: 'Reconciles per second by result, and failed ones.',
        unit: 'ops',
        targets: [
          {
            expr: 'sum by (controller, result) (rate(controller_runtime_reconcile_total[$__rate_interval]))',
            legend: '{{controller}} {{result}}',
          },
          {
            expr: 'sum by (controller) (rate(controller_runtime_reconcile_errors_total[$__rate_interval]))',
            legend: '{{controller}} errors',
          },
        ],
      },
      {
        title: 'Reconcile time p50 and p99',
        description: 'Time per reconcile, including waits for the AWS budget.',
        unit: 's',
        targets: [
          {
            expr: 'histogram_quantile(0.5, sum by (le, controller) (rate(controller_runtime_reconcile_time_seconds_bucket[$__rate_interval])))',
            legend: '{{controller}} p50',
          },
          {
            expr: 'histogram_quantile(0.99, sum by (le, controller) (rate(controller_runtime_reconcile_time_seconds_bucket[$__rate_interval])))',
            legend: '{{controller}} p99',
          },
        ],
      },
      {
        title: 'Work queue',
        description: 'Keys waiting in the work queue, and adds and retries per second.',
        targets: [
          { expr: 'sum by (name) (workqueue_depth)', legend: '{{name}} depth' },
          { expr: 'sum by (name) (rate(workqueue_adds_total[$__rate_interval]))', legend: '{{name}} adds/s' },
          {
            expr: 'sum by (name) (rate(workqueue_retries_total[$__rate_interval]))',
            legend: '{{name}} retries/s',
          },
        ],
      },
      {
        title: 'Watch restarts and relists',
        description: 'Watch connections restarted by cause, and full relists (a few a day are normal).',
        kind: 'bars',
        targets: [
          {
            expr: 'sum by (informer, cause) (increase(informer_watch_restarts_total[$__rate_interval]))',
            legend: '{{informer}} {{cause}}',
          },
          {
            expr: 'sum by (informer) (increase(informer_relists_total[$__rate_interval]))',
            legend: '{{informer}} relists',
          },
        ],
      },
    ],
  },
];

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template literal.
const datasource = { type: 'prometheus', uid: '${datasource}' };

function panelJson(p: Panel, id: number, x: number, y: number, width: number): Record<string, unknown> {
  const height = p.kind === 'stat' ? 4 : 8;
  const base = {
    id,
    title: p.title,
    description: p.description,
    datasource,
    gridPos: { h: height, w: width, x, y },
    targets: p.targets.map((t, i) => ({
      datasource,
      expr: t.expr,
      legendFormat: t.legend,
      refId: String.fromCharCode(65 + i),
    })),
  };
  if (p.kind === 'stat')
    return {
      ...base,
      type: 'stat',
      options: { reduceOptions: { calcs: ['lastNotNull'] }, colorMode: 'background' },
      fieldConfig: {
        defaults: {
          unit: p.unit ?? 'none',
          thresholds: {
            mode: 'absolute',
            steps: [
              { color: 'green', value: null },
              { color: 'red', value: 1 },
            ],
          },
        },
        overrides: [],
      },
    };
  return {
    ...base,
    type: 'timeseries',
    options: { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
    fieldConfig: {
      defaults: {
        unit: p.unit ?? 'short',
        custom:
          p.kind === 'bars' ? { drawStyle: 'bars', fillOpacity: 80 } : { drawStyle: 'line', fillOpacity: 10 },
      },
      overrides: [],
    },
  };
}

/** The dashboard as Grafana imports it (schema 39; a datasource variable, so no fixed uid). */
export function buildDashboard(): Record<string, unknown> {
  const panels: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  for (const row of rows) {
    panels.push({
      id: id++,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
    });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      const width = p.width ?? 12;
      if (x + width > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      const panel = panelJson(p, id++, x, y, width);
      panels.push(panel);
      rowHeight = Math.max(rowHeight, (panel.gridPos as { h: number }).h);
      x += width;
    }
    y += rowHeight;
  }
  const variable = (name: string, label: string, query: string) => ({
    name,
    label,
    type: 'query',
    datasource,
    query: { query, refId: `${name}-variable` },
    definition: query,
    refresh: 2,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    sort: 1,
  });
  return {
    title: 'Lambda concurrency scalers',
    uid: 'lambda-con-scaler-operator',
    description:
      'The LambdaConcurrencyScaler operator: per-scaler backlog and concurrency, decisions, AWS budget, the controller.',
    tags: ['lambda-con-scaler-operator', 'aws', 'lambda', 'sqs'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-3h', to: 'now' },
    refresh: '30s',
    timezone: 'browser',
    annotations: { list: [] },
    links: [],
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Data source',
          type: 'datasource',
          query: 'prometheus',
          current: {},
          hide: 0,
        },
        variable('namespace', 'Namespace', 'label_values(lcs_max_concurrency, namespace)'),
        variable('scaler', 'Scaler', 'label_values(lcs_max_concurrency{namespace=~"$namespace"}, name)'),
      ],
    },
    panels,
  };
}
