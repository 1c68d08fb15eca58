// The status patcher and the event recorder against a real API server: one write for a change,
// none for an identical status, removed fields really removed; readable, de-duplicated Events.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { API_VERSION, PLURAL } from '../../src/api/v1alpha1/groupversion.ts';
import { setCondition } from '../../src/runtime/conditions.ts';
import { EventRecorder } from '../../src/runtime/events.ts';
import type { KubeClient, KubeObject } from '../../src/runtime/kube.ts';
import { RuntimeMetrics } from '../../src/runtime/metrics.ts';
import { StatusPatcher } from '../../src/runtime/status.ts';
import { createScaler, type Env, newNamespace, scalersPath, startEnv } from './helpers.ts';

describe('StatusPatcher and EventRecorder against a real API server', { timeout: 60_000 }, () => {
  let env: Env;
  before(async () => {
    env = await startEnv();
  });
  after(async () => {
    await env?.cp.stop();
  });

  it('writes a changed status once, skips an identical one, and removes dropped fields', async () => {
    const ns = await newNamespace(env, 'status');
    const created = await createScaler(env, ns, 's');
    let requests = 0;
    const counting: KubeClient = {
      request: (method, path, options) => {
        requests++;
        return env.client.request(method, path, options);
      },
      watch: (path, query, signal) => env.client.watch(path, query, signal),
    };
    const patcher = new StatusPatcher(counting, {
      apiVersion: API_VERSION,
      plural: PLURAL,
      namespaced: true,
    });
    const status = {
      state: 'ADJUSTING',
      observedGeneration: 1,
      concurrency: 7,
      conditions: setCondition(
        [],
        { type: 'Ready', status: 'False', reason: 'Progressing', message: 'scaling', observedGeneration: 1 },
        Date.UTC(2026, 0, 1),
      ),
    };

    const written = await patcher.patch(created, status);
    assert.ok(written !== undefined);
    assert.deepEqual(written.status, status);
    assert.notEqual(written.metadata?.resourceVersion, created.metadata?.resourceVersion);
    assert.equal(requests, 1);

    const again = await patcher.patch(written, structuredClone(status));
    assert.equal(again, undefined, 'identical status: no write');
    assert.equal(requests, 1, 'no request at all');
    const read = await env.client.request<KubeObject>('GET', `${scalersPath(ns)}/s`);
    assert.equal(
      read.metadata?.resourceVersion,
      written.metadata?.resourceVersion,
      'resourceVersion unchanged',
    );

    const { concurrency: _dropped, ...withoutConcurrency } = status;
    const next = { ...withoutConcurrency, state: 'ADJUSTED' };
    const rewritten = await patcher.patch(read, next);
    assert.deepEqual(rewritten?.status, next, 'concurrency removed through a null in the merge patch');
    assert.deepEqual(rewritten?.spec, created.spec, 'the status subresource never touches spec');
  });

  it('records a readable Event and bumps its series on repeats', async () => {
    const ns = await newNamespace(env, 'events');
    const scaler = await createScaler(env, ns, 'evented');
    const registry = new Registry();
    const recorder = new EventRecorder({
      client: env.client,
      reportingController: 'aws.operators.jittakal.io/lambda-concurrency-scaler',
      reportingInstance: 'test-pod',
      metrics: new RuntimeMetrics(registry),
    });
    await recorder.record(scaler, 'Normal', 'ScaledUp', 'reserved concurrency 5 → 10 (backlog 900 messages)');
    await recorder.record(scaler, 'Warning', 'Throttled', 'Lambda throttled PutFunctionConcurrency');
    await recorder.record(scaler, 'Warning', 'Throttled', 'Lambda throttled PutFunctionConcurrency');

    const out = JSON.parse(await env.cp.kubectl(['get', 'events', '-n', ns, '-o', 'json'])) as {
      items: {
        reason: string;
        message: string;
        type: string;
        count?: number;
        involvedObject: { kind: string; name: string };
        reportingComponent: string;
        series?: { count: number };
      }[];
    };
    const byReason = Object.fromEntries(out.items.map((e) => [e.reason, e]));
    assert.equal(out.items.length, 2, 'the repeat updated the existing Event');
    assert.equal(byReason.ScaledUp?.message, 'reserved concurrency 5 → 10 (backlog 900 messages)');
    assert.equal(byReason.ScaledUp?.type, 'Normal');
    assert.deepEqual(byReason.ScaledUp?.involvedObject.kind, 'LambdaConcurrencyScaler');
    assert.equal(byReason.ScaledUp?.involvedObject.name, 'evented');
    assert.equal(
      byReason.ScaledUp?.reportingComponent,
      'aws.operators.jittakal.io/lambda-concurrency-scaler',
    );
    assert.equal(byReason.Throttled?.series?.count, 2);
    const table = await env.cp.kubectl(['get', 'events', '-n', ns]);
    assert.match(table, /ScaledUp/);
  });

  it('never throws when the Event cannot be written, and counts the failure', async () => {
    const registry = new Registry();
    const recorder = new EventRecorder({
      client: env.client,
      reportingController: 'x/y',
      reportingInstance: 'test',
      metrics: new RuntimeMetrics(registry),
    });
    const ghost: KubeObject = {
      apiVersion: API_VERSION,
      kind: 'LambdaConcurrencyScaler',
      metadata: { name: 'ghost', namespace: 'no-such-namespace-at-all' },
    };
    await recorder.record(ghost, 'Warning', 'Stalled', 'cannot happen');
    assert.match(await registry.metrics(), /event_recorder_failures_total\{reason="Stalled"\} 1/);
  });
});
