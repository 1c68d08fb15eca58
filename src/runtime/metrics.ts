// The runtime's Prometheus metrics, registered on a Registry the composition root passes in (never
// prom-client's global one), so tests and several managers in one process do not collide.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Every metric the controller machinery reports; one instance per Registry. */
export class RuntimeMetrics {
  /** 1 while this process holds the leader Lease, else 0 (label `name`: the Lease, as client-go). */
  readonly leaderStatus: Gauge<'name'>;
  /** Watch restarts by informer and cause (timeout, idle, error, gone). */
  readonly watchRestarts: Counter<'informer' | 'cause'>;
  /** Full relists by informer. */
  readonly relists: Counter<'informer'>;
  readonly queueDepth: Gauge<'name'>;
  readonly queueAdds: Counter<'name'>;
  readonly queueRetries: Counter<'name'>;
  readonly reconcileTotal: Counter<'controller' | 'result'>;
  readonly reconcileErrors: Counter<'controller'>;
  readonly reconcileDuration: Histogram<'controller'>;
  readonly eventFailures: Counter<'reason'>;
  readonly eventsDropped: Counter<'reason'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.leaderStatus = new Gauge({
      name: 'leader_election_master_status',
      help: 'Whether this instance is the leader (1) or not (0)',
      labelNames: ['name'],
      registers,
    });
    this.watchRestarts = new Counter({
      name: 'informer_watch_restarts_total',
      help: 'Watch connections restarted, by cause',
      labelNames: ['informer', 'cause'],
      registers,
    });
    this.relists = new Counter({
      name: 'informer_relists_total',
      help: 'Full lists done by an informer (the first one included)',
      labelNames: ['informer'],
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'workqueue_depth',
      help: 'Current depth of the work queue',
      labelNames: ['name'],
      registers,
    });
    this.queueAdds = new Counter({
      name: 'workqueue_adds_total',
      help: 'Adds handled by the work queue',
      labelNames: ['name'],
      registers,
    });
    this.queueRetries = new Counter({
      name: 'workqueue_retries_total',
      help: 'Rate-limited re-adds handled by the work queue',
      labelNames: ['name'],
      registers,
    });
    this.reconcileTotal = new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Reconciliations by result (success, error, requeue_after)',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Reconciliations that failed',
      labelNames: ['controller'],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Time per reconciliation',
      labelNames: ['controller'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.eventFailures = new Counter({
      name: 'event_recorder_failures_total',
      help: 'Kubernetes Events that could not be written',
      labelNames: ['reason'],
      registers,
    });
    this.eventsDropped = new Counter({
      name: 'event_recorder_dropped_total',
      help: 'Kubernetes Events not sent because the line of Events waiting to be written was full',
      labelNames: ['reason'],
      registers,
    });
  }
}
