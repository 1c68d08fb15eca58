// What can drive an account's functions in a simulation: the operator's own reconciler (with a spec
// per scaler), the original operator (a model of that other program), fixed values, or the
// clairvoyant reference.
import type { LambdaConcurrencyScalerSpec } from '../api/v1alpha1/index.ts';

/** This operator: the manager's ScalerReconciler with one spec per scaler (src/bench/operator.ts). */
export interface OperatorStrategy {
  kind: 'operator';
  label: string;
  /** One spec per scaler, in the scenario's order (queue and function are filled in). */
  specs: LambdaConcurrencyScalerSpec[];
}

/**
 * The original operator this one replaces, modelled as the other program it is
 * (src/bench/original.ts): Step every 300 s on late CloudWatch sums.
 */
export interface OriginalStrategy {
  kind: 'original';
  label: string;
  specs: LambdaConcurrencyScalerSpec[];
}

/** Reserved concurrency set once and never changed (a reference). */
export interface StaticStrategy {
  kind: 'static';
  label: string;
  /** One value per scaler; a missing one is the scaler's maximum. */
  concurrency: number[];
  /** Also set the mappings' MaximumConcurrency to it (2–1000) at the start. */
  capEventSource?: boolean;
  /**
   * No reservation at all: the mappings in provisioned mode with AWS's default MinimumPollers 2 and
   * MaximumPollers = the maximum / 10, left to scale by themselves (`concurrency` is not used).
   */
  provisioned?: boolean;
}

/**
 * The reference (src/bench/reference.ts): knows the whole arrival trace, the mean processing time
 * and the true backlog; acts through the same API, quotas and bounds as anyone.
 */
export interface ClairvoyantStrategy {
  kind: 'clairvoyant';
  label: string;
  /** How often it re-sizes, seconds (default 10). */
  intervalSeconds?: number;
  /**
   * `present`: it knows what arrived until now and what waits, not what comes: the reactive
   * reference (the last 60 s of true arrivals in place of the next two minutes'). Default `future`.
   */
  knows?: 'future' | 'present';
  /**
   * Its first re-size comes when the operator's first scaler would first poll (the same seeded
   * phase within `intervalSeconds`), so that a reference at the policy's poll interval sees a burst
   * no sooner than the policy does. Default: 1 s after the start.
   */
  phased?: boolean;
  /**
   * How raises share the account's headroom when several scalers want more at once: `largest`
   * (default) gives the largest shortfall all it wants first; `fair` splits it as the operator's
   * ledger does (src/controller/headroom.ts `shareHeadroom`: priority, then water-filling).
   */
  share?: 'largest' | 'fair';
}

export type Strategy = OperatorStrategy | OriginalStrategy | StaticStrategy | ClairvoyantStrategy;
