// What the end-to-end tests do to and read from the world: AWS clients pointed at awssim, a burst
// of messages, a function's reserved concurrency, a scaler with its conditions, the calls awssim
// served, and the stack of processes a test file starts.
import { GetFunctionConcurrencyCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetQueueUrlCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { LambdaConcurrencyScaler } from '../../src/api/v1alpha1/index.ts';
import { type ControlPlane, CRD_DIR, startControlPlane } from '../../src/envtest/index.ts';
import { type Awssim, type Manager, startAwssim, startManager } from '../../src/envtest/processes.ts';

/** SQS and Lambda clients for awssim at `endpoint`, with test credentials. */
export function awsClients(endpoint: string): { sqs: SQSClient; lambda: LambdaClient } {
  const config = {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  return { sqs: new SQSClient(config), lambda: new LambdaClient(config) };
}

/** Sends `batches` × 10 messages to `queue` as fast as SendMessageBatch allows. */
export async function sendBurst(sqs: SQSClient, queue: string, batches: number): Promise<void> {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queue }));
  for (let i = 0; i < batches; i++) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: Array.from({ length: 10 }, (_, j) => ({ Id: `m${j}`, MessageBody: `order ${i * 10 + j}` })),
      }),
    );
  }
}

/** The function's reserved concurrency, or undefined when it has none. */
export async function reservedConcurrency(lambda: LambdaClient, fn: string): Promise<number | undefined> {
  return (await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: fn })))
    .ReservedConcurrentExecutions;
}

/** The scaler as the API server has it now. */
export async function getScaler(
  cp: ControlPlane,
  ns: string,
  name: string,
): Promise<LambdaConcurrencyScaler> {
  return JSON.parse(
    await cp.kubectl(['get', 'lcs', name, '-n', ns, '-o', 'json']),
  ) as LambdaConcurrencyScaler;
}

export const condition = (s: LambdaConcurrencyScaler, type: string) =>
  s.status?.conditions?.find((c) => c.type === type);

/** The test control plane, awssim on a scenario, a namespace, and the manager against both. */
export interface Stack {
  cp: ControlPlane;
  sim: Awssim;
  manager: Manager;
  /** Stops the manager (printing its output if it failed), then awssim and the control plane. */
  stop(): Promise<void>;
}

/** Starts a Stack: the control plane and awssim together, then `ns` and the manager. */
export async function startStack(ns: string, scenario: string): Promise<Stack> {
  const [cp, sim] = await Promise.all([startControlPlane({ crds: [CRD_DIR] }), startAwssim({ scenario })]);
  await cp.kubectl(['create', 'namespace', ns]);
  const manager = await startManager({ kubeconfig: cp.kubeconfig, awsEndpoint: sim.endpoint });
  return {
    cp,
    sim,
    manager,
    async stop() {
      const code = await manager.stop();
      if (code !== 0 && code !== undefined) console.error(manager.output());
      await sim.stop();
      await cp.stop();
    },
  };
}

/** The calls awssim served, as `service:Operation` → outcome → count. */
export async function servedCalls(sim: Awssim): Promise<Record<string, Record<string, number>>> {
  return (await sim.admin<{ apiCalls: Record<string, Record<string, number>> }>('GET', '/report')).apiCalls;
}
