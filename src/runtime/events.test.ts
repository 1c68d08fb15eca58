// The EventRecorder's bounded line, without an API server: how many Events are written at once,
// how many wait, and that the rest are dropped and counted rather than queued without end.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { EventRecorder } from './events.ts';
import type { KubeClient } from './kube.ts';
import { RuntimeMetrics } from './metrics.ts';

describe('EventRecorder', () => {
  it('writes a few Events at once, lets a bounded line wait and drops (and counts) the rest', async () => {
    let running = 0;
    let peak = 0;
    let written = 0;
    const release: (() => void)[] = [];
    const client: KubeClient = {
      async request() {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((r) => release.push(r));
        running--;
        written++;
        return undefined as never;
      },
      watch: () => Promise.reject(new Error('unused')),
    };
    const registry = new Registry();
    const recorder = new EventRecorder({
      client,
      reportingController: 'x/y',
      reportingInstance: 'test',
      maxInFlight: 2,
      maxQueued: 3,
      metrics: new RuntimeMetrics(registry),
    });
    const all = Array.from({ length: 10 }, (_, i) =>
      recorder.record(
        { metadata: { name: `s${i}`, namespace: 'ns', uid: `u${i}` } },
        'Normal',
        'ScaledUp',
        'up',
      ),
    );
    while (written < 5) {
      await new Promise((r) => setImmediate(r));
      release.shift()?.();
    }
    await Promise.all(all);
    assert.equal(peak, 2);
    assert.equal(written, 5, 'two at once and three in line');
    assert.match(await registry.metrics(), /event_recorder_dropped_total\{reason="ScaledUp"\} 5/);
  });
});
