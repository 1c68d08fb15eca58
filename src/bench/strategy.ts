// What can drive a function's reserved concurrency in a simulation: the operator's decision code
// (any spec, or a resolved config such as the original operator's), a fixed value, or the oracle.
import type { LambdaConcurrencyScalerSpec } from '../api/v1alpha1/index.ts';
import type { PolicyConfig } from '../policy/index.ts';

/** The operator's decide() with a spec (and optionally a config the CRD cannot express). */
export interface PolicyStrategy {
  kind: 'policy';
  label: string;
  spec: LambdaConcurrencyScalerSpec;
  /** Overrides `resolvePolicyConfig(spec)`, e.g. `originalOperatorConfig(spec)`. */
  config?: PolicyConfig;
  /**
   * `original`: the original operator's calls (CloudWatch GetMetricData + GetFunctionConcurrency,
   * no event-source check). `operator` (default): this operator's reconciler.
   */
  calls?: 'operator' | 'original';
}

/** A reserved concurrency set once and never changed (a reference). */
export interface StaticStrategy {
  kind: 'static';
  label: string;
  concurrency: number;
  /** Also set the mapping's MaximumConcurrency to it (2–1000) before the first message. */
  capEventSource?: boolean;
}

/**
 * A reference that reads the simulation's truth: the arrival rate of the next minute, the function's
 * mean processing time and the real backlog. Not a policy: nothing real could know these. It keeps
 * the event source mapping's MaximumConcurrency at its reserved concurrency, as the operator's
 * `eventSourceMapping.manageMaximumConcurrency` does, so the mapping does not overpull.
 */
export interface OracleStrategy {
  kind: 'oracle';
  label: string;
  min: number;
  max: number;
  /** How often it re-sizes, seconds (default 10). */
  intervalSeconds?: number;
  /** Busy fraction it sizes for (default 1: it knows the load, so it holds no headroom). */
  utilization?: number;
  /** Drain a backlog within this many seconds (default 30). */
  drainSeconds?: number;
}

export type Strategy = PolicyStrategy | StaticStrategy | OracleStrategy;
