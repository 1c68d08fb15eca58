// Per-scaler Prometheus series: what each scaler sees and sets, and the actions it takes.
import { Counter, Gauge, type Registry } from 'prom-client';

type ScalerLabels = 'namespace' | 'name';

export class ScalerMetrics {
  readonly backlog: Gauge<ScalerLabels | 'kind'>;
  readonly desired: Gauge<ScalerLabels>;
  readonly applied: Gauge<ScalerLabels>;
  readonly min: Gauge<ScalerLabels>;
  readonly max: Gauge<ScalerLabels>;
  readonly actions: Counter<ScalerLabels | 'direction' | 'reason'>;
  readonly pollLateness: Gauge<ScalerLabels>;

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
      help: 'Reserved concurrency the policy asked for',
      labelNames,
      registers,
    });
    this.applied = new Gauge({
      name: 'lcs_applied_concurrency',
      help: 'Reserved concurrency the function has, as last observed or set',
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
      help: 'Changes of reserved concurrency made, by direction and reason',
      labelNames: [...labelNames, 'direction', 'reason'],
      registers,
    });
    this.pollLateness = new Gauge({
      name: 'lcs_poll_lateness_seconds',
      help: 'How late the last poll of the scaler started against its schedule',
      labelNames,
      registers,
    });
  }

  /** Drops every series of a deleted scaler. */
  forget(namespace: string, name: string): void {
    for (const g of [this.desired, this.applied, this.min, this.max, this.pollLateness])
      g.remove({ namespace, name });
    for (const kind of ['visible', 'in_flight', 'delayed']) this.backlog.remove({ namespace, name, kind });
  }
}
