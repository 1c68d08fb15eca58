// Every AWS call counted by service, operation and outcome, with its latency: what the operator
// costs the account's control-plane budget, visible on /metrics.
import { Counter, Histogram, type Registry } from 'prom-client';

export class AwsMetrics {
  readonly calls: Counter<'service' | 'operation' | 'outcome'>;
  readonly latency: Histogram<'service' | 'operation'>;
  readonly throttles: Counter<'service' | 'operation'>;
  readonly limiterWait: Counter<'bucket'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.calls = new Counter({
      name: 'lcs_aws_requests_total',
      help: 'AWS API requests by service, operation and outcome (success or the error class code): each attempt of a Lambda call; an SQS or CloudWatch call once, its SDK retry included',
      labelNames: ['service', 'operation', 'outcome'],
      registers,
    });
    this.latency = new Histogram({
      name: 'lcs_aws_request_duration_seconds',
      help: 'AWS API call latency',
      labelNames: ['service', 'operation'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.throttles = new Counter({
      name: 'lcs_aws_throttles_total',
      help: 'AWS calls answered with throttling (429 / TooManyRequests)',
      labelNames: ['service', 'operation'],
      registers,
    });
    this.limiterWait = new Counter({
      name: 'lcs_aws_limiter_wait_seconds_total',
      help: 'Time spent waiting for the shared Lambda control-plane token bucket',
      labelNames: ['bucket'],
      registers,
    });
  }
}
