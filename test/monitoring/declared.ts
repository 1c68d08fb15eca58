// Every series the manager declares (metric → label names), from the metric classes it registers:
// what alert and dashboard queries may use, also for counters that have no sample until something happens.
import { Histogram, Registry } from 'prom-client';
import { AwsMetrics } from '../../src/aws/metrics.ts';
import { ScalerMetrics } from '../../src/controller/metrics.ts';
import { RuntimeMetrics } from '../../src/runtime/metrics.ts';

export function declaredSeries(): Map<string, Set<string>> {
  const registry = new Registry();
  new RuntimeMetrics(registry);
  new AwsMetrics(registry);
  new ScalerMetrics(registry);
  const out = new Map<string, Set<string>>();
  for (const m of registry.getMetricsAsArray()) {
    const labels = new Set((m as unknown as { labelNames: string[] }).labelNames);
    if (m instanceof Histogram) {
      out.set(`${m.name}_bucket`, new Set([...labels, 'le']));
      out.set(`${m.name}_sum`, labels);
      out.set(`${m.name}_count`, labels);
    } else out.set(m.name, labels);
  }
  return out;
}
