// The playground (`make demo`): a real control plane, awssim with a bursty scenario, the manager,
// and the sample scaler, with a live view of what the function and the queue do, a summary and a
// chart at the end. Ctrl-C stops everything at any moment and leaves no process behind.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type ControlPlane, CRD_DIR, controlPlaneBinaries, startControlPlane } from '../envtest/index.ts';
import { type Awssim, type Manager, startAwssim, startManager } from '../envtest/processes.ts';
import { formatDuration, lineChart, type Marker } from '../report/svg.ts';

const root = resolve(import.meta.dirname, '..', '..');
const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '240' },
    out: { type: 'string', default: join(root, 'playground-out') },
    scenario: { type: 'string', default: join(root, 'src/awssim/scenarios/burst.yaml') },
    scaler: { type: 'string', default: join(root, 'config/samples/playground_lambdaconcurrencyscaler.yaml') },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(`Usage: npm run demo -- [--duration SECONDS] [--out DIR] [--scenario FILE] [--scaler FILE]

Starts etcd + kube-apiserver (built from source on first use), awssim with a bursty scenario, the
operator, and a LambdaConcurrencyScaler; shows the queue and the function live for --duration
seconds (default 240), then prints a summary and writes a chart to --out. Ctrl-C stops it cleanly.`);
  process.exit(0);
}
const durationS = Number(flags.duration);

interface Point {
  t: number;
  arrivals: number;
  visible: number;
  inFlight: number;
  concurrency: number;
  reserved: number;
  throttles: number;
  dlqMoves: number;
}
interface Report {
  latency: { count: number; p50Ms: number; p99Ms: number; maxMs: number };
  messages: { sent: number; deleted: number; dlqMoves: number };
  throttles: number;
}

const stop = new AbortController();
let cp: ControlPlane | undefined;
let sim: Awssim | undefined;
let manager: Manager | undefined;
const say = (line: string) => process.stdout.write(`${line}\n`);

async function cleanup(): Promise<void> {
  await manager?.stop(5000).catch(() => {});
  await sim?.stop(5000).catch(() => {});
  await cp?.stop().catch(() => {});
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`\n${signal}: stopping everything...`);
    stop.abort();
  });
}
const sleep = (ms: number) =>
  new Promise<void>((r) => {
    const timer = setTimeout(r, ms);
    stop.signal.addEventListener('abort', () => {
      clearTimeout(timer);
      r();
    });
  });

async function main(): Promise<void> {
  say('lambda-con-scaler-operator playground');
  say('[1/5] control plane: etcd + kube-apiserver + kubectl (built from source on first use)');
  await controlPlaneBinaries({ progress: true });
  if (stop.signal.aborted) return;
  cp = await startControlPlane({ crds: [CRD_DIR] });
  say(`      kube-apiserver at ${cp.server}; kubeconfig ${cp.kubeconfig}`);
  if (stop.signal.aborted) return;
  say(`[2/5] awssim: scenario ${flags.scenario}`);
  sim = await startAwssim({ scenario: flags.scenario });
  say(`      SQS and Lambda at ${sim.endpoint}`);
  if (stop.signal.aborted) return;
  say('[3/5] the operator (npm run manager)');
  manager = await startManager({ kubeconfig: cp.kubeconfig, awsEndpoint: sim.endpoint });
  say(`      metrics at ${manager.metricsUrl}`);
  say(`[4/5] kubectl apply -f ${flags.scaler}`);
  await cp.kubectl(['create', 'namespace', 'playground']);
  say(`      ${(await cp.kubectl(['apply', '-n', 'playground', '-f', flags.scaler])).trim()}`);
  say(`[5/5] watching for ${formatDuration(durationS)} (Ctrl-C to stop)\n`);
  const header = `${'time'.padStart(6)} ${'arrivals/s'.padStart(10)} ${'backlog'.padStart(8)} ${'in flight'.padStart(9)} ${'running'.padStart(7)} ${'reserved'.padStart(8)} ${'p99 wait'.padStart(9)} ${'throttles'.padStart(9)} ${'DLQ'.padStart(5)}`;
  say(header);

  const points: Point[] = [];
  const markers: Marker[] = [];
  let lastReserved: number | undefined;
  let report: Report | undefined;
  const started = Date.now();
  while (!stop.signal.aborted && Date.now() - started < durationS * 1000) {
    await sleep(5000);
    const since = points.at(-1)?.t ?? 0;
    const fresh = await sim.admin<Point[]>('GET', `/timeline?since=${since}`).catch(() => []);
    points.push(...fresh.filter((p) => p.t > since));
    report = await sim.admin<Report>('GET', '/report').catch(() => report);
    const last = points.at(-1);
    if (last === undefined || report === undefined) continue;
    for (const p of fresh) {
      if (lastReserved !== undefined && p.reserved !== lastReserved) {
        markers.push({
          t: p.t,
          label: `${p.reserved > lastReserved ? 'ScaledUp' : 'ScaledDown'} ${lastReserved} → ${p.reserved}`,
        });
      }
      lastReserved = p.reserved;
    }
    const window = fresh.length === 0 ? [last] : fresh;
    const arrivals = window.reduce((a, p) => a + p.arrivals, 0) / window.length;
    const throttles = points.reduce((a, p) => a + p.throttles, 0);
    const dlq = points.reduce((a, p) => a + p.dlqMoves, 0);
    say(
      `${formatDuration(last.t).padStart(6)} ${arrivals.toFixed(0).padStart(10)} ${String(last.visible).padStart(8)} ${String(last.inFlight).padStart(9)} ${String(last.concurrency).padStart(7)} ${String(last.reserved).padStart(8)} ${`${(report.latency.p99Ms / 1000).toFixed(1)}s`.padStart(9)} ${String(throttles).padStart(9)} ${String(dlq).padStart(5)}`,
    );
  }

  const status = JSON.parse(
    await cp.kubectl(['get', 'lcs', 'playground', '-n', 'playground', '-o', 'json']).catch(() => '{}'),
  );
  say(`\n${(await cp.kubectl(['get', 'lcs', '-n', 'playground']).catch(() => '')).trim()}`);
  const events = await cp
    .kubectl(['get', 'events', '-n', 'playground', '--sort-by=.lastTimestamp'])
    .catch(() => '');
  const scalings = events.split('\n').filter((l) => /Scaled(Up|Down)/.test(l));
  say('\nSummary');
  if (report !== undefined) {
    say(
      `  messages sent ${report.messages.sent}, processed ${report.messages.deleted}, moved to the DLQ ${report.messages.dlqMoves}`,
    );
    say(
      `  wait (sent → deleted): p50 ${(report.latency.p50Ms / 1000).toFixed(2)}s, p99 ${(report.latency.p99Ms / 1000).toFixed(2)}s, max ${(report.latency.maxMs / 1000).toFixed(2)}s`,
    );
    say(`  throttled invocations ${report.throttles}`);
  }
  say(
    `  peak backlog ${Math.max(0, ...points.map((p) => p.visible))} visible and ${Math.max(0, ...points.map((p) => p.inFlight))} in flight; reserved concurrency ${Math.min(...points.map((p) => p.reserved))}–${Math.max(0, ...points.map((p) => p.reserved))}`,
  );
  say(
    `  scaling actions ${scalings.length}; scaler state ${status?.status?.state ?? 'unknown'}, concurrency ${status?.status?.concurrency ?? '-'}`,
  );
  mkdirSync(flags.out, { recursive: true });
  const chartPath = join(flags.out, 'playground.svg');
  writeFileSync(
    chartPath,
    lineChart({
      title: 'Playground: queue backlog and reserved concurrency under a burst',
      leftLabel: 'messages',
      rightLabel: 'concurrency',
      series: [
        {
          name: 'backlog (visible)',
          axis: 'left',
          color: '#d62728',
          points: points.map((p) => [p.t, p.visible]),
        },
        { name: 'in flight', axis: 'left', color: '#ff7f0e', points: points.map((p) => [p.t, p.inFlight]) },
        { name: 'arrivals/s', axis: 'left', color: '#aaaaaa', points: points.map((p) => [p.t, p.arrivals]) },
        {
          name: 'reserved concurrency',
          axis: 'right',
          color: '#1f77b4',
          step: true,
          points: points.map((p) => [p.t, p.reserved]),
        },
        { name: 'running', axis: 'right', color: '#2ca02c', points: points.map((p) => [p.t, p.concurrency]) },
      ],
      markers,
    }),
  );
  writeFileSync(join(flags.out, 'timeline.json'), `${JSON.stringify(points)}\n`);
  say(`  chart: ${chartPath}`);
}

try {
  await main();
} catch (error) {
  console.error(`playground failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await cleanup();
  say('stopped: control plane, awssim and the operator are down.');
}
