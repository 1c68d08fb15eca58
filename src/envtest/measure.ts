// What the operator-at-scale benchmark reads from outside the processes it measures: CPU and memory
// from /proc, and series from a manager's Prometheus text (gauges, counters, histogram quantiles).

import { readFileSync } from 'node:fs';
import { fleet } from './processes.ts';

/** Linux clock ticks per second for /proc/<pid>/stat. */
export const TICK = 100;

/** A process's CPU time so far (clock ticks) and resident memory (KiB). */
export function procStat(pid: number): { cpuTicks: number; rssKiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuTicks = Number(fields[11]) + Number(fields[12]);
  const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuTicks, rssKiB: Number(rss?.[1] ?? 0) };
}

/** The p-th percentile (nearest rank below), NaN for no values. */
export const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

/** Every sample of a series, whatever its labels. */
export function metricValues(text: string, name: string): number[] {
  const out: number[] = [];
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      out.push(Number(line.slice(line.lastIndexOf(' ') + 1)));
  return out;
}

/** Samples of a per-scaler series by `namespace/name`. */
export function metricByScaler(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = new RegExp(`^${name}\\{(.*)\\} (\\S+)$`);
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (m === null) continue;
    const ns = /namespace="([^"]*)"/.exec(m[1] ?? '')?.[1];
    const n = /name="([^"]*)"/.exec(m[1] ?? '')?.[1];
    if (ns !== undefined && n !== undefined) out.set(`${ns}/${n}`, Number(m[2]));
  }
  return out;
}

/** A quantile from a Prometheus histogram's cumulative buckets (summed over label sets). */
export function histogramQuantile(text: string, name: string, q: number): number {
  const buckets = new Map<number, number>();
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}_bucket\\{.*le="([^"]+)".*\\} (\\S+)$`).exec(line);
    if (m === null) continue;
    const le = m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(m[2]));
  }
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total === 0) return Number.NaN;
  return sorted.find(([, n]) => n >= q * total)?.[0] ?? Number.NaN;
}

/** The manager's 'reconcile failed' log lines, grouped by message with scaler names blanked. */
export function errorReasons(output: string): [string, number][] {
  const counts = new Map<string, number>();
  for (const line of output.split('\n')) {
    if (!line.includes('reconcile failed')) continue;
    let err = '';
    try {
      err = String((JSON.parse(line) as { err?: unknown }).err ?? '');
    } catch {
      continue;
    }
    const reason = err.replace(/\b[sqf]\d{5}\b/g, '…').slice(0, 160);
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}

/** The scalers of bench:scale and bench:memory: 30 s polling, Step policy, bounds 1–10. */
export const FLEET_SPEC = {
  awsSQSMsgCountThreshold: 20,
  awsLambdaMinConcurrency: 1,
  awsLamndaMaxConcurrency: 10,
  awsLambdaStepConcurrency: 2,
  pollingIntervalSeconds: 30,
} as const;

/**
 * bench:scale's fleet, one manager or several: n scalers at 30 s polling (Step, bounds 1–10), each
 * with its own queue, 200 ms function and mapping, square-wave traffic 0–1 msg/s.
 */
export function scaleFleet(n: number, name: string, accounts?: string[]): ReturnType<typeof fleet> {
  return fleet(n, {
    name,
    accountConcurrency: 100_000,
    functionMs: 200,
    ...(accounts === undefined ? {} : { accounts }),
    traffic: (k) => `[{ kind: square, low: 0, high: 1, period: ${240 + (k % 7) * 30} }]`,
    spec: FLEET_SPEC,
  });
}
