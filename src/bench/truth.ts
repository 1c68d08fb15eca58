// What only the simulation knows: the scheduled arrival rate and the function's mean processing
// time. The oracle sizes from it and the report measures demand with it.
import type { Distribution, FunctionBehaviour, TrafficSpec } from '../awssim/index.ts';
import { rateAt } from '../awssim/model/traffic.ts';
import type { Workload } from './workload.ts';

/** Mean of a duration distribution, milliseconds. */
export function meanMs(d: Distribution): number {
  switch (d.kind) {
    case 'constant':
      return d.ms;
    case 'uniform':
      return (d.minMs + d.maxMs) / 2;
    case 'lognormal':
      return d.medianMs * Math.exp((d.sigma * d.sigma) / 2);
  }
}

/** Messages expected to arrive in [fromS, toS) seconds since the start (exact for dumps and replays). */
export function expectedArrivals(specs: readonly TrafficSpec[], fromS: number, toS: number): number {
  let n = 0;
  for (const s of specs) {
    if (s.kind === 'dump') {
      if (s.at >= fromS && s.at < toS) n += s.count;
      continue;
    }
    if (s.kind === 'replay') {
      const start = s.start ?? 0;
      const len = s.interval === 'second' ? 1 : 60;
      for (let t = Math.ceil(fromS); t < toS; t++) {
        const idx = Math.floor((t - start) / len);
        if (t >= start && idx < s.counts.length) n += (s.counts[idx] ?? 0) / len;
      }
      continue;
    }
    for (let t = Math.floor(fromS); t < toS; t++) n += rateAt(s, t + 0.5);
  }
  return n;
}

/** The function's behaviour in effect at second `t` (the scenario's, then the workload's changes). */
export function behaviourAt(w: Workload, base: FunctionBehaviour, t: number): FunctionBehaviour {
  let b = base;
  for (const c of w.changes) if (c.at <= t) b = { ...b, ...c.behaviour };
  return b;
}

/** Messages one unit of concurrency processes per second with full batches. */
export function throughputPerUnit(b: FunctionBehaviour, batchSize: number): number {
  const perBatchMs = b.per === 'batch' ? meanMs(b.duration) : batchSize * meanMs(b.duration);
  return (batchSize * 1000) / Math.max(1, perBatchMs);
}
