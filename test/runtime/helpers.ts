// Shared fixtures for the runtime's tests against a real kube-apiserver: a started control plane
// with the CRD, a KubeClient for it, direct etcd access (to change data while the API server is
// down) and small polling helpers.
import { KubeConfig } from '@kubernetes/client-node';
import { API_VERSION, KIND, PLURAL } from '../../src/api/v1alpha1/groupversion.ts';
import { type ControlPlane, CRD_DIR, startControlPlane } from '../../src/envtest/index.ts';
import type { KubeClient, KubeObject } from '../../src/runtime/kube.ts';
import { kubeClient } from '../../src/runtime/kube.ts';

export interface Env {
  cp: ControlPlane;
  kc: KubeConfig;
  client: KubeClient;
}

export async function startEnv(): Promise<Env> {
  const cp = await startControlPlane({ crds: [CRD_DIR] });
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfig);
  return { cp, kc, client: kubeClient(kc) };
}

let counter = 0;
/** Creates a fresh namespace (namespaces never finish deleting without a controller-manager). */
export async function newNamespace(env: Env, prefix: string): Promise<string> {
  const name = `${prefix}-${process.pid}-${++counter}`;
  await env.client.request('POST', '/api/v1/namespaces', { body: { metadata: { name } } });
  return name;
}

export const scalersPath = (ns?: string): string =>
  ns === undefined ? `/apis/${API_VERSION}/${PLURAL}` : `/apis/${API_VERSION}/namespaces/${ns}/${PLURAL}`;

/** Creates a valid LambdaConcurrencyScaler and returns it as stored. */
export function createScaler(env: Env, ns: string, name: string, minConcurrency = 1): Promise<KubeObject> {
  return env.client.request<KubeObject>('POST', scalersPath(ns), {
    body: {
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: { name, namespace: ns },
      spec: {
        awsSQSName: 'orders',
        awsSQSMsgCountThreshold: 100,
        awsLambdaName: 'processor',
        awsLambdaMinConcurrency: minConcurrency,
        awsLambdaMaxConcurrency: 100,
        awsLambdaStepConcurrency: 5,
      },
    },
  });
}

export function deleteScaler(env: Env, ns: string, name: string): Promise<unknown> {
  return env.client.request('DELETE', `${scalersPath(ns)}/${name}`);
}

/** Retries `check` until it returns without throwing, or rethrows its last error after `timeoutMs`. */
export async function eventually<T>(
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  stepMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, stepMs));
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Deletes an object straight from etcd, bypassing the API server (works while it is down). */
export async function deleteFromEtcd(cp: ControlPlane, registryKey: string): Promise<void> {
  const key = Buffer.from(registryKey).toString('base64');
  const response = await fetch(`${cp.etcdUrl}/v3/kv/deleterange`, {
    method: 'POST',
    body: JSON.stringify({ key }),
  });
  const body = (await response.json()) as { deleted?: string };
  if (body.deleted !== '1') throw new Error(`etcd deleted ${body.deleted ?? 0} keys for ${registryKey}`);
}

/** True while the API server answers /readyz. */
export async function apiServerUp(env: Env): Promise<boolean> {
  try {
    return (await env.client.request<string>('GET', '/readyz', { timeoutMs: 500 })) === 'ok';
  } catch {
    return false;
  }
}

/** Records handler calls as `add:key`, `update:key`, `delete:key`. */
export class Recorder {
  readonly events: string[] = [];
  readonly handlers = {
    onAdd: (o: KubeObject) => this.events.push(`add:${o.metadata?.name}`),
    onUpdate: (_: KubeObject, o: KubeObject) => this.events.push(`update:${o.metadata?.name}`),
    onDelete: (o: KubeObject) => this.events.push(`delete:${o.metadata?.name}`),
  };

  has(event: string): boolean {
    return this.events.includes(event);
  }

  count(event: string): number {
    return this.events.filter((e) => e === event).length;
  }
}
