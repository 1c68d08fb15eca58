// What only the simulation knows: the scheduled arrival rate and the function's mean processing
// time. The reference sizes from it and the report measures demand with it.
import type { Distribution, FunctionBehaviour } from '../awssim/index.ts';
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

/** A function's behaviour in effect at second `t` (the scenario's, then the workload's changes). */
export function behaviourAt(w: Workload, base: FunctionBehaviour, t: number, fn = w.fn): FunctionBehaviour {
  let b = base;
  for (const c of w.changes) if (c.at <= t && (c.fn ?? w.fn) === fn) b = { ...b, ...c.behaviour };
  return b;
}

/** Messages one unit of concurrency processes per second with full batches. */
export function throughputPerUnit(b: FunctionBehaviour, batchSize: number): number {
  const perBatchMs = b.per === 'batch' ? meanMs(b.duration) : batchSize * meanMs(b.duration);
  return (batchSize * 1000) / Math.max(1, perBatchMs);
}
