// Per-scaler Prometheus series: what each scaler sees and sets, the actions it takes, its
// conditions (what the alerts in config/prometheus watch) and which queue and function it scales.
import { Counter, Gauge, type Registry } from 'prom-client';
import { ConditionType } from '../api/v1alpha1/index.ts';

type ScalerLabels = 'namespace' | 'name';

export class ScalerMetrics {
  readonly backlog: Gauge<ScalerLabels | 'kind'>;
  readonly desired: Gauge<ScalerLabels>;
  readonly applied: Gauge<ScalerLabels>;
  readonly min: Gauge<ScalerLabels>;
  readonly max: Gauge<ScalerLabels>;
  readonly actions: Counter<ScalerLabels | 'direction' | 'reason'>;
  readonly pollLateness: Gauge<ScalerLabels>;
  readonly condition: Gauge<ScalerLabels | 'type' | 'status'>;
  readonly info: Gauge<ScalerLabels | 'queue' | 'function'>;
  /** The queue and function each scaler's info series names now (to drop it when they change). */
  readonly #described = new Map<string, { queue: string; function: string }>();

  constructor(registry: Registry) {
    const registers = [registry];
    const labelNames = ['namespace', 'name'] as const;
    this.backlog = new Gauge({
      name: 'lcs_queue_messages',
      help: 'Queue backlog the last decision saw, by kind (visible, in_flight, delayed)',
      labelNames: [...labelNames, 'kind'],
      registers,
    });
    this.desired = new Gauge({
      name: 'lcs_desired_concurrency',
      help: 'Concurrency the policy asked for: reserved concurrency, or with a mapping spec.actuator the MaximumConcurrency / MaximumPollers × 10 it writes',
      labelNames,
      registers,
    });
    this.applied = new Gauge({
      name: 'lcs_applied_concurrency',
      help: 'Reserved concurrency the function has, as last observed or set (with a mapping spec.actuator, the concurrency the mapping is set to)',
      labelNames,
      registers,
    });
    this.min = new Gauge({
      name: 'lcs_min_concurrency',
      help: 'Lower bound of the scaler',
      labelNames,
      registers,
    });
    this.max = new Gauge({
      name: 'lcs_max_concurrency',
      help: 'Upper bound of the scaler',
      labelNames,
      registers,
    });
    this.actions = new Counter({
      name: 'lcs_scaling_actions_total',
      help: 'Changes of reserved concurrency (or, with a mapping spec.actuator, of the mapping) made, by direction and reason',
      labelNames: [...labelNames, 'direction', 'reason'],
      registers,
    });
    this.pollLateness = new Gauge({
      name: 'lcs_poll_lateness_seconds',
      help: 'How late the last poll of the scaler started against its schedule',
      labelNames,
      registers,
    });
    this.condition = new Gauge({
      name: 'lcs_scaler_condition',
      help: "The scaler's status conditions, as kube-state-metrics shows them: 1 on the condition's status (True, False, Unknown), 0 on the others; no series while the condition is absent (kstatus: Stalled and Reconciling are absent unless true)",
      labelNames: [...labelNames, 'type', 'status'],
      registers,
    });
    this.info = new Gauge({
      name: 'lcs_scaler_info',
      help: "Always 1: the queue and function (plain names, as CloudWatch dimensions name them) the scaler scales, to join with CloudWatch exporters' series",
      labelNames: [...labelNames, 'queue', 'function'],
      registers,
    });
  }

  /** Mirrors the status conditions onto lcs_scaler_condition. */
  conditions(namespace: string, name: string, conditions: readonly { type: string; status: string }[]): void {
    for (const type of Object.values(ConditionType)) {
      const current = conditions.find((c) => c.type === type)?.status;
      for (const status of CONDITION_STATUSES) {
        if (current === undefined) this.condition.remove({ namespace, name, type, status });
        else this.condition.set({ namespace, name, type, status }, current === status ? 1 : 0);
      }
    }
  }

  /** Sets lcs_scaler_info from the spec's queue and function (name, URL or ARN). */
  describe(namespace: string, name: string, spec: { awsSQSName: string; awsLambdaName: string }): void {
    const next = { queue: queueName(spec.awsSQSName), function: functionName(spec.awsLambdaName) };
    const key = `${namespace}/${name}`;
    const previous = this.#described.get(key);
    if (previous !== undefined && (previous.queue !== next.queue || previous.function !== next.function))
      this.info.remove({ namespace, name, ...previous });
    this.info.set({ namespace, name, ...next }, 1);
    this.#described.set(key, next);
  }

  /** Drops every series of a deleted scaler. */
  forget(namespace: string, name: string): void {
    for (const g of [this.desired, this.applied, this.min, this.max, this.pollLateness])
      g.remove({ namespace, name });
    for (const kind of ['visible', 'in_flight', 'delayed']) this.backlog.remove({ namespace, name, kind });
    this.conditions(namespace, name, []);
    const key = `${namespace}/${name}`;
    const described = this.#described.get(key);
    if (described !== undefined) this.info.remove({ namespace, name, ...described });
    this.#described.delete(key);
  }
}

const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;

/** A queue's name from its name, URL (…/ACCOUNT/NAME) or ARN (arn:…:sqs:REGION:ACCOUNT:NAME). */
export function queueName(nameUrlOrArn: string): string {
  if (nameUrlOrArn.startsWith('arn:')) return nameUrlOrArn.split(':').at(-1) ?? nameUrlOrArn;
  if (/^https?:\/\//.test(nameUrlOrArn))
    return nameUrlOrArn.replace(/\/+$/, '').split('/').at(-1) ?? nameUrlOrArn;
  return nameUrlOrArn;
}

/** A function's name from its name, ARN or partial ARN (ACCOUNT:function:NAME), without a qualifier. */
export function functionName(nameOrArn: string): string {
  const parts = nameOrArn.split(':');
  const i = parts.indexOf('function');
  return (i >= 0 ? parts[i + 1] : parts[0]) ?? nameOrArn;
}
