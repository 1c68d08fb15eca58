// The operator inside a simulation: the manager's own ScalerReconciler, over the product's AWS
// adapters (src/aws/sdk.ts) answered by awssim, with its token buckets on the virtual clock and
// in-memory status, events and finalizers. Each scaler is requeued as the reconciler asks.
import {
  API_VERSION,
  KIND,
  type LambdaConcurrencyScaler,
  type LambdaConcurrencyScalerSpec,
} from '../api/v1alpha1/index.ts';
import { AwsClientFactory } from '../aws/clients.ts';
import { CloudWatchMetricsReader } from '../aws/cloudwatch.ts';
import { LambdaFunctions, SqsQueues } from '../aws/sdk.ts';
import { Rng, type Simulation } from '../awssim/index.ts';
import { type ReconcilerDeps, ScalerReconciler } from '../controller/reconciler.ts';
import type { Clock } from '../runtime/clock.ts';
import { silentLogger } from '../runtime/logger.ts';
import { simulatedCloudWatch, simulatedLambda, simulatedSqs } from './simulated-aws.ts';

/** One Kubernetes Event the reconciler recorded. */
export interface RecordedEvent {
  /** Seconds since the start. */
  t: number;
  scaler: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface OperatorOptions {
  /** The scalers, by name, all in one account and Region. */
  scalers: readonly { name: string; spec: LambdaConcurrencyScalerSpec }[];
  /** The operator's Lambda control-plane budget (its --lambda-control-plane-rps; default 10). */
  controlPlaneRps?: number;
  /** When each scaler is first reconciled, ms since the start (default 1 s + its index). */
  firstAtMs?: (index: number) => number;
}

/** The running operator: its scalers' latest objects and the events it recorded. */
export interface SimulatedOperator {
  readonly scalers: ReadonlyMap<string, LambdaConcurrencyScaler>;
  readonly events: readonly RecordedEvent[];
  /** Reconciles that threw (the work queue's backoff path), by error code. */
  readonly failures: ReadonlyMap<string, number>;
}

/** Lets every promise chain that can settle without virtual time settle (sends answer at once). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The simulation's time as the operator's Clock: `sleep` wakes at the virtual deadline, and the
 * woken code runs before time moves on.
 */
export function simulationClock(sim: Simulation): Clock {
  return {
    now: () => sim.now(),
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        sim.schedule(sim.elapsedMs() + Math.max(0, ms), () => {
          resolve();
          return settle();
        });
      }),
  };
}

/** Work-queue backoff for a reconcile that threw: 5 ms doubling to 1000 s (client-go's defaults). */
const backoffMs = (failures: number): number => Math.min(1_000_000, 5 * 2 ** Math.max(0, failures - 1));

/**
 * Starts the operator on `sim`: one ScalerReconciler for every scaler, as the manager runs it,
 * reconciling each key when the previous reconcile asked to be requeued.
 */
export function startOperator(sim: Simulation, o: OperatorOptions): SimulatedOperator {
  const clock = simulationClock(sim);
  const buckets = new AwsClientFactory({
    defaultRegion: 'us-east-1',
    clock,
    controlPlaneRps: o.controlPlaneRps ?? 10,
  }).buckets('simulated', 'us-east-1');
  const now = () => clock.now();
  const aws = {
    queues: new SqsQueues(simulatedSqs(sim), { now }),
    functions: new LambdaFunctions(simulatedLambda(sim), buckets, { now }),
    cloudWatch: new CloudWatchMetricsReader(simulatedCloudWatch(sim), { now }),
    account: 'simulated|us-east-1',
  };
  const objects = new Map<string, LambdaConcurrencyScaler>();
  const events: RecordedEvent[] = [];
  const failures = new Map<string, number>();
  let resourceVersion = 0;
  const store = (s: LambdaConcurrencyScaler): LambdaConcurrencyScaler => {
    const next = { ...s, metadata: { ...s.metadata, resourceVersion: String(++resourceVersion) } };
    objects.set(`${s.metadata.namespace}/${s.metadata.name}`, next);
    return next;
  };
  o.scalers.forEach((s, i) => {
    store({
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: { namespace: 'default', name: s.name, uid: `uid-${i}`, generation: 1, finalizers: [] },
      spec: s.spec,
    });
  });
  const deps: ReconcilerDeps = {
    get: (key) => objects.get(key),
    patchStatus: async (scaler, status) => {
      const key = `${scaler.metadata.namespace}/${scaler.metadata.name}`;
      const latest = objects.get(key) ?? scaler;
      store({ ...latest, status: structuredClone(status) });
    },
    setFinalizers: async (scaler, finalizers) => {
      const key = `${scaler.metadata.namespace}/${scaler.metadata.name}`;
      const latest = objects.get(key) ?? scaler;
      return store({ ...latest, metadata: { ...latest.metadata, finalizers: [...finalizers] } });
    },
    event: (scaler, type, reason, message) => {
      events.push({ t: sim.elapsedMs() / 1000, scaler: scaler.metadata.name, type, reason, message });
    },
    aws: async () => aws,
    list: () => [...objects.values()],
    clock,
    log: silentLogger,
    // The poll jitter from the simulation's seed: a scenario replays identically.
    random: (
      (rng) => () =>
        rng.next()
    )(Rng.stream(sim.seed, 'operator-requeue-jitter')),
  };
  const reconciler = new ScalerReconciler(deps);
  const failed = new Map<string, number>();
  const run = (key: string): Promise<void> => {
    reconciler.reconcile(key).then(
      (r) => {
        failed.delete(key);
        if (r.requeueAfterMs !== undefined)
          sim.schedule(sim.elapsedMs() + Math.max(1, r.requeueAfterMs), () => run(key));
      },
      (error: unknown) => {
        const code = (error as { code?: string }).code ?? (error as Error).name ?? 'Error';
        failures.set(code, (failures.get(code) ?? 0) + 1);
        const n = (failed.get(key) ?? 0) + 1;
        failed.set(key, n);
        sim.schedule(sim.elapsedMs() + backoffMs(n), () => run(key));
      },
    );
    return settle();
  };
  [...objects.keys()].forEach((key, i) => {
    sim.schedule(o.firstAtMs?.(i) ?? 1000 + i, () => run(key));
  });
  return { scalers: objects, events, failures };
}
