// `npm run bench:scale -- --replicas R --accounts A` (issue 16, item 3): R manager processes with
// --shard-by-account share N scalers spread over A accounts that awssim serves as separate accounts;
// measured from outside — per-replica CPU and memory (/proc), poll lateness (each replica's
// /metrics), 429s per account (awssim), who holds which account (the key Leases) — then one replica
// is killed and the time until its accounts and scalers are back on schedule is measured. Writes
// SCALE.md's replicas section (src/report/replicas-section.ts) and its copy in REPORT.md.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type ControlPlane, CRD_DIR, startControlPlane } from '../envtest/index.ts';
import {
  errorReasons,
  metricByScaler,
  metricValues,
  percentile,
  procStat,
  scaleFleet,
  TICK,
} from '../envtest/measure.ts';
import { type Awssim, type Manager, startAwssim, startManager } from '../envtest/processes.ts';
import {
  type RebalanceMeasure,
  type ReplicaMeasure,
  type ReplicasMeasure,
  replicasSection,
  withReplicasSection,
} from '../report/replicas-section.ts';
import { embedScale } from '../report/scale-section.ts';

export interface ReplicasOptions {
  /** Total scalers, one run per size. */
  readonly sizes: readonly number[];
  readonly minutes: number;
  readonly replicas: number;
  readonly accounts: number;
  readonly workers: number;
  readonly out: string;
}

const NAMESPACE = 'scale';
const SYSTEM = 'lcs-system';
const KEYS_LABEL = 'aws.operators.jittakal.io/shard-group=lambda-con-scaler-operator-shards-keys';
const KEY_ANNOTATION = 'aws.operators.jittakal.io/shard-key';
/** The manager's default Lease timings (src/cmd/manager.ts), which this run keeps. */
const LEASE = { duration: 15, renew: 10, retry: 2 };
/** A queue read this long after a survivor's first one is its regular poll (30 s polling, ±5 % jitter). */
const REGULAR_AFTER_MS = 15_000;
/** How long to wait for the rebalance after the kill. */
const REBALANCE_WAIT_S = 300;

/** The 12-digit ids of `n` accounts: 100000000001, 100000000002, … */
export const accountIds = (n: number): string[] =>
  Array.from({ length: n }, (_, k) => String(100_000_000_001 + k));

type ApiCalls = Record<string, Record<string, number>>;
interface AccountView {
  id: string;
  apiCalls: ApiCalls;
}
const controlPlaneCalls = (calls: ApiCalls): number =>
  Object.entries(calls)
    .filter(([op]) => op.startsWith('lambda:') && op !== 'lambda:GetFunction')
    .reduce((n, [, outcomes]) => n + Object.values(outcomes).reduce((a, b) => a + b, 0), 0);
const throttledCalls = (calls: ApiCalls): number =>
  Object.entries(calls)
    .filter(([op]) => op.startsWith('lambda:'))
    .reduce((a, [, o]) => a + (o.TooManyRequestsException ?? 0), 0);

/** Which replica (by pid) holds each account's key Lease now (undefined: nobody, or not a replica). */
async function holders(cp: ControlPlane, pids: readonly number[]): Promise<Map<string, number | undefined>> {
  const list = JSON.parse(
    await cp.kubectl(['get', 'leases', '-n', SYSTEM, '-l', KEYS_LABEL, '-o', 'json']),
  ) as {
    items: { metadata: { annotations?: Record<string, string> }; spec?: { holderIdentity?: string } }[];
  };
  const out = new Map<string, number | undefined>();
  for (const lease of list.items) {
    const key = lease.metadata.annotations?.[KEY_ANNOTATION] ?? '';
    const account = /^account:(\d{12})\|/.exec(key)?.[1];
    if (account === undefined) continue;
    const pid = Number(lease.spec?.holderIdentity?.split('_').at(-1));
    const i = pids.indexOf(pid);
    out.set(account, i < 0 ? undefined : i);
  }
  return out;
}

/** The scalers (namespace/name) of each account, from the fleet's round-robin placement. */
function scalersByAccount(n: number, accounts: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>(accounts.map((a) => [a, []]));
  for (let k = 0; k < n; k++)
    out.get(accounts[k % accounts.length] as string)?.push(`${NAMESPACE}/s${String(k).padStart(5, '0')}`);
  return out;
}

const scrape = async (m: Manager): Promise<string> => (await fetch(m.metricsUrl)).text();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function run(n: number, o: ReplicasOptions): Promise<ReplicasMeasure> {
  const accounts = accountIds(o.accounts);
  if (n < accounts.length) throw new Error(`--sizes ${n}: fewer scalers than --accounts ${accounts.length}`);
  const dir = mkdtempSync(join(tmpdir(), 'lcs-scale-replicas-'));
  const { scenario, scalers } = scaleFleet(n, `scale-${o.replicas}x${accounts.length}x${n}`, accounts);
  writeFileSync(join(dir, 'scenario.yaml'), scenario);
  const byAccount = scalersByAccount(n, accounts);
  let cp: ControlPlane | undefined;
  let sim: Awssim | undefined;
  const replicas: Manager[] = [];
  try {
    cp = await startControlPlane({ crds: [CRD_DIR] });
    sim = await startAwssim({ scenario: join(dir, 'scenario.yaml') });
    for (const ns of [NAMESPACE, SYSTEM]) await cp.kubectl(['create', 'namespace', ns]);
    for (let i = 0; i < o.replicas; i++)
      replicas.push(
        await startManager({
          kubeconfig: cp.kubeconfig,
          awsEndpoint: sim.endpoint,
          args: [
            '--shard-by-account',
            '--leader-election-namespace',
            SYSTEM,
            '--workers',
            String(o.workers),
            '--log-level',
            'warn',
          ],
          // Each replica its own keys: awssim's journal and call counts tell them apart.
          env: { AWS_ACCESS_KEY_ID: `AKIAREPLICA${i + 1}`, AWS_SECRET_ACCESS_KEY: `replica-${i + 1}` },
        }),
      );
    // Let the members see each other before there is work, so the first assignment is the final one.
    await sleep((LEASE.retry * 2 + 1) * 1000);
    const pids = replicas.map((r) => r.child.pid ?? 0);

    // ---- the steady part: every replica alive, measured from the first apply (start-up included) ----
    const started = Date.now();
    let readySeconds: number | null = null;
    const cpu = replicas.map((): number[] => []);
    const rss = replicas.map((): number[] => []);
    const lateness = replicas.map((): number[] => []);
    const startupLateness = replicas.map((): number[] => []);
    const cpRps = new Map<string, number[]>(accounts.map((a) => [a, []]));
    const accountsNow = async () =>
      new Map(
        (await sim?.admin<AccountView[]>('GET', '/accounts'))?.map((a) => [
          a.id,
          controlPlaneCalls(a.apiCalls),
        ]),
      );
    let lastProc = pids.map((pid) => procStat(pid));
    let lastCalls = await accountsNow();
    const firstCalls = lastCalls;
    let lastAt = performance.now();
    const firstAt = lastAt;
    const control = cp;
    const applying = (async () => {
      for (let k = 0; k < scalers.length; k += 500)
        await control.kubectl(['apply', '-n', NAMESPACE, '-f', '-'], scalers.slice(k, k + 500).join('---\n'));
    })();
    let tick = 0;
    /** Who holds each account, and every change of holder while all replicas were alive. */
    const holding = new Map<string, number>();
    const moves: string[] = [];
    while (Date.now() - started < o.minutes * 60_000) {
      await sleep(1000);
      tick++;
      const now = pids.map((pid) => procStat(pid));
      const calls = await accountsNow();
      const at = performance.now();
      const s = (at - lastAt) / 1000;
      now.forEach((p, i) => {
        cpu[i]?.push(((p.cpuTicks - (lastProc[i]?.cpuTicks ?? 0)) / TICK / s) * 100);
        rss[i]?.push(p.rssKiB / 1024);
      });
      for (const a of accounts) cpRps.get(a)?.push(((calls.get(a) ?? 0) - (lastCalls.get(a) ?? 0)) / s);
      [lastProc, lastCalls, lastAt] = [now, calls, at];
      if (tick % 10 === 0) {
        // With every replica alive, an account that changes hands is a flap: count them.
        const now = await holders(cp, pids);
        for (const [a, holder] of now) {
          const before = holding.get(a);
          if (before !== undefined && holder !== undefined && holder !== before)
            moves.push(`${a} ${before + 1}→${holder + 1}`);
          if (holder !== undefined) holding.set(a, holder);
        }
        const texts = await Promise.all(replicas.map(scrape));
        texts.forEach((t, i) => {
          (readySeconds === null ? startupLateness : lateness)[i]?.push(
            ...metricValues(t, 'lcs_poll_lateness_seconds'),
          );
        });
        if (readySeconds === null) {
          const states = await cp.kubectl([
            'get',
            'lcs',
            '-n',
            NAMESPACE,
            '-o',
            'jsonpath={.items[*].status.state}',
          ]);
          if (states.split(' ').filter((x) => x === 'ADJUSTED').length === n)
            readySeconds = (Date.now() - started) / 1000;
        }
        process.stderr.write(
          `  ${o.replicas} × ${accounts.length} × ${n}: ${Math.round((Date.now() - started) / 1000)} s, cpu ${cpu.map((c) => c.at(-1)?.toFixed(0)).join('/')}%, rss ${rss.map((r) => r.at(-1)?.toFixed(0)).join('/')} MiB, ready ${readySeconds ?? 'not yet'}\n`,
        );
      }
    }
    await applying;
    const held = await holders(cp, pids);
    const texts = await Promise.all(replicas.map(scrape));
    const view = (await sim.admin<AccountView[]>('GET', '/accounts')).filter((a) => accounts.includes(a.id));
    const report = await sim.admin<{ apiCalls: ApiCalls }>('GET', '/report');
    const puts = view.reduce((s, a) => s + (a.apiCalls['lambda:PutFunctionConcurrency']?.ok ?? 0), 0);
    const heldBy = (i: number) => accounts.filter((a) => held.get(a) === i);
    const perReplica: ReplicaMeasure[] = replicas.map((_, i) => ({
      replica: i + 1,
      accounts: heldBy(i),
      scalers: heldBy(i).reduce((s, a) => s + (byAccount.get(a)?.length ?? 0), 0),
      cpuAvgPercent: (cpu[i] ?? []).reduce((a, b) => a + b, 0) / Math.max(1, cpu[i]?.length ?? 0),
      cpuPeakPercent: Math.max(...(cpu[i] ?? [])),
      rssPeakMiB: Math.max(...(rss[i] ?? [])),
      rssEndMiB: rss[i]?.at(-1) ?? 0,
      latenessP50: percentile(lateness[i] ?? [], 50),
      latenessP99: percentile(lateness[i] ?? [], 99),
      startupLatenessP99: percentile(startupLateness[i] ?? [], 99),
      reconciles: metricValues(texts[i] ?? '', 'controller_runtime_reconcile_total').reduce(
        (a, b) => a + b,
        0,
      ),
      reconcileErrors: metricValues(texts[i] ?? '', 'controller_runtime_reconcile_errors_total').reduce(
        (a, b) => a + b,
        0,
      ),
    }));
    const seconds = (lastAt - firstAt) / 1000;
    const controlPlaneRps = Object.fromEntries(
      accounts.map((a) => [
        a,
        {
          avg: ((lastCalls.get(a) ?? 0) - (firstCalls.get(a) ?? 0)) / seconds,
          peak: Math.max(...(cpRps.get(a) ?? [0])),
        },
      ]),
    );
    const throttledByAccount = Object.fromEntries(view.map((a) => [a.id, throttledCalls(a.apiCalls)]));
    // Calls made as awssim's own account would mean a scaler escaped its role: count them too.
    const own = throttledCalls(report.apiCalls);
    if (own > 0) throttledByAccount['000000000000'] = own;

    // ---- the kill ----
    const victim = perReplica.reduce((best, p) => (p.scalers > best.scalers ? p : best));
    const v = victim.replica - 1;
    const moved = victim.accounts.flatMap((a) => byAccount.get(a) ?? []);
    const survivors = replicas.filter((_, i) => i !== v);
    process.stderr.write(
      `  killing replica ${victim.replica} (${victim.accounts.length} accounts, ${moved.length} scalers)\n`,
    );
    // awssim runs on the wall clock (--clock real): its queue read times compare with ours.
    const killedAt = Date.now();
    await replicas[v]?.kill();
    const since = () => (Date.now() - killedAt) / 1000;
    let heldAfterS: number | null = null;
    let holdersAfter = new Map<string, number | undefined>();
    /** Each moved scaler's queue reads (GetQueueAttributes) since the kill: only survivors poll now. */
    let reads = new Map<string, number[]>();
    /** The first read: the survivor's first reconcile. The first read half an interval later: its regular poll. */
    const firstRead = (k: string) => reads.get(k)?.[0];
    const regularRead = (k: string) => {
      const first = firstRead(k);
      return first === undefined ? undefined : reads.get(k)?.find((t) => t >= first + REGULAR_AFTER_MS);
    };
    while (since() < REBALANCE_WAIT_S && !moved.every((k) => regularRead(k) !== undefined)) {
      await sleep(1000);
      if (heldAfterS === null) {
        holdersAfter = await holders(cp, pids);
        if (victim.accounts.every((a) => (holdersAfter.get(a) ?? v) !== v)) heldAfterS = since();
      }
      reads = new Map();
      for (const a of victim.accounts) {
        const byQueue = await sim.admin<Record<string, number[]>>(
          'GET',
          `/reads?account=${a}&since=${killedAt}`,
        );
        for (const [queue, times] of Object.entries(byQueue))
          reads.set(`${NAMESPACE}/s${queue.slice(1)}`, times);
      }
      if (tick++ % 10 === 0)
        process.stderr.write(
          `  after the kill: ${Math.round(since())} s, held ${heldAfterS ?? 'not yet'}, reconciled ${moved.filter((k) => firstRead(k) !== undefined).length}/${moved.length}, on schedule ${moved.filter((k) => regularRead(k) !== undefined).length}/${moved.length}\n`,
        );
    }
    /** Seconds from the kill until `at(k)` for every moved scaler, or null if one never came. */
    const allBy = (at: (k: string) => number | undefined): number | null => {
      const times = moved.map(at);
      return times.every((t) => t !== undefined)
        ? (Math.max(...(times as number[])) - killedAt) / 1000
        : null;
    };
    const reconciledAfterS = allBy(firstRead);
    const onScheduleAfterS = allBy(regularRead);
    // How late those regular polls were, as each account's new holder measured them.
    holdersAfter = await holders(cp, pids);
    const lateBy = new Map(
      await Promise.all(
        survivors.map(
          async (m) =>
            [replicas.indexOf(m), metricByScaler(await scrape(m), 'lcs_poll_lateness_seconds')] as const,
        ),
      ),
    );
    const latenessP99 = percentile(
      victim.accounts.flatMap((a) => {
        const series = lateBy.get(holdersAfter.get(a) ?? -1);
        return (byAccount.get(a) ?? []).flatMap((k) => series?.get(k) ?? []);
      }),
      99,
    );
    const rebalance: RebalanceMeasure = {
      replica: victim.replica,
      accounts: victim.accounts,
      scalers: moved.length,
      heldAfterS,
      reconciledAfterS,
      onScheduleAfterS,
      latenessP99,
      waitedS: since(),
      holders: Object.fromEntries(victim.accounts.map((a) => [a, (holdersAfter.get(a) ?? -1) + 1])),
    };
    const all = (xs: number[][]) => xs.flat();
    return {
      date: new Date().toISOString().slice(0, 10),
      // The load average tells a quiet machine from a shared one (lateness suffers on the latter).
      machine: `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}); Node ${process.version}; host ${hostname()}; load average over the last 15 min ${loadavg()[2]?.toFixed(1)}`,
      scalers: n,
      replicas: o.replicas,
      accounts,
      minutes: o.minutes,
      workers: o.workers,
      leaseSeconds: LEASE,
      readySeconds,
      perReplica,
      latenessP50: percentile(all(lateness), 50),
      latenessP99: percentile(all(lateness), 99),
      throttledByAccount,
      controlPlaneRps,
      puts,
      moves,
      rebalance,
      errorReasons: errorReasons(replicas.map((r) => r.output()).join('\n')),
    };
  } finally {
    for (const r of replicas) await r.stop().catch(() => {});
    await sim?.stop();
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs each size and writes the replicas section of SCALE.md (and REPORT.md's copy) after each. */
export async function runReplicas(o: ReplicasOptions): Promise<void> {
  if (!(o.replicas >= 2))
    throw new Error('--replicas needs at least 2: one is killed to measure the rebalance');
  for (const n of o.sizes) {
    process.stderr.write(
      `running ${o.replicas} replicas × ${o.accounts} accounts × ${n} scalers for ${o.minutes} min\n`,
    );
    const measured = await run(n, o);
    const section = replicasSection(measured).join('\n');
    const previous = existsSync(o.out) ? readFileSync(o.out, 'utf8') : '# The operator at scale\n\n';
    const scale = withReplicasSection(previous, section);
    writeFileSync(o.out, scale);
    process.stderr.write(`wrote ${o.out}\n`);
    const report = join(dirname(o.out), 'REPORT.md');
    if (existsSync(report)) {
      writeFileSync(report, embedScale(readFileSync(report, 'utf8'), scale));
      process.stderr.write(`updated its copy in ${report}\n`);
    }
  }
}
