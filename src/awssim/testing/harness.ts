// Test helper: a simulator served on a free loopback port with SDK clients pointed at it.

import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type AwsSimServer, startServer } from '../server.ts';
import { createSimulation, type Simulation, type SimulationOptions } from '../simulation.ts';

/** A served simulation and SDK clients for it. */
export interface Harness {
  readonly sim: Simulation;
  readonly server: AwsSimServer;
  readonly sqs: SQSClient;
  readonly lambda: LambdaClient;
  close(): Promise<void>;
}

/** SDK client config for a loopback endpoint: static credentials, us-east-1, no retries. */
export const clientConfig = (endpoint: string) =>
  ({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  }) as const;

/** Starts a real-clock simulation (unless told otherwise) and its server. */
export async function startHarness(opts: SimulationOptions = {}): Promise<Harness> {
  const sim = createSimulation({ clock: 'real', ...opts });
  const server = await startServer(sim, { port: 0 });
  const sqs = new SQSClient(clientConfig(server.url));
  const lambda = new LambdaClient(clientConfig(server.url));
  return {
    sim,
    server,
    sqs,
    lambda,
    close: async () => {
      sqs.destroy();
      lambda.destroy();
      sim.stop();
      await server.close();
    },
  };
}
