// The AWS SDK clients the operator's own adapters (src/aws/sdk.ts) send through, answered in
// process by an awssim Simulation: the benchmark runs the product's ports, caches, token buckets
// and error classification unchanged, with every call counted and rate-limited by awssim.

import {
  type CloudWatchClient,
  CloudWatchServiceException,
  GetMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  DeleteFunctionConcurrencyCommand,
  GetAccountSettingsCommand,
  GetFunctionCommand,
  type LambdaClient,
  LambdaServiceException,
  ListEventSourceMappingsCommand,
  PutFunctionConcurrencyCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type SQSClient,
  SQSServiceException,
} from '@aws-sdk/client-sqs';
import { AwsApiError, type Simulation } from '../awssim/index.ts';

/** A command as the SDK builds it: only its input matters here. */
interface Command {
  readonly input: unknown;
}

/** Turns awssim's error into the service exception the real SDK would throw for that response. */
function serviceException(e: AwsApiError, service: typeof LambdaServiceException): Error {
  const out = new service({
    name: e.code,
    $fault: e.fault === 'Sender' ? 'client' : 'server',
    $metadata: { httpStatusCode: e.status },
    message: e.message,
  });
  if (e.retryAfterSeconds !== undefined)
    out.$response = {
      statusCode: e.status,
      headers: { 'retry-after': String(e.retryAfterSeconds) },
      body: undefined,
    } as unknown as NonNullable<typeof out.$response>;
  return out;
}

/** Answers `run()` as an SDK `send` does: a Promise, rejected with a service exception on an API error. */
function answer<T>(run: () => T, service: typeof LambdaServiceException): Promise<T> {
  try {
    return Promise.resolve(run());
  } catch (e) {
    if (e instanceof AwsApiError) return Promise.reject(serviceException(e, service));
    return Promise.reject(e);
  }
}

/**
 * A LambdaClient whose `send` is answered by the simulation. Extra `send` arguments (an abort
 * signal) are accepted and ignored: every answer is immediate in virtual time.
 */
export function simulatedLambda(sim: Simulation): LambdaClient {
  const send = (command: Command): Promise<unknown> =>
    answer(() => {
      if (command instanceof GetFunctionCommand) {
        const name = command.input.FunctionName ?? '';
        const reserved = sim.getFunctionConcurrency(name);
        return {
          Configuration: {
            FunctionName: name,
            FunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
          },
          ...(reserved === undefined ? {} : { Concurrency: { ReservedConcurrentExecutions: reserved } }),
        };
      }
      if (command instanceof PutFunctionConcurrencyCommand) {
        const value = sim.putFunctionConcurrency(
          command.input.FunctionName ?? '',
          command.input.ReservedConcurrentExecutions ?? 0,
        );
        return { ReservedConcurrentExecutions: value };
      }
      if (command instanceof DeleteFunctionConcurrencyCommand) {
        sim.deleteFunctionConcurrency(command.input.FunctionName ?? '');
        return {};
      }
      if (command instanceof UpdateEventSourceMappingCommand) {
        const i = command.input;
        if (i.ProvisionedPollerConfig !== undefined) {
          const p = i.ProvisionedPollerConfig;
          sim.updateEventSourceProvisionedPollers(
            i.UUID ?? '',
            p.MinimumPollers === undefined && p.MaximumPollers === undefined
              ? undefined
              : {
                  ...(p.MinimumPollers === undefined ? {} : { minimum: p.MinimumPollers }),
                  ...(p.MaximumPollers === undefined ? {} : { maximum: p.MaximumPollers }),
                },
          );
        } else sim.updateEventSourceMaximumConcurrency(i.UUID ?? '', i.ScalingConfig?.MaximumConcurrency);
        return { UUID: i.UUID };
      }
      if (command instanceof ListEventSourceMappingsCommand) {
        const i = command.input;
        const page = sim.listEventSourceMappings({
          ...(i.FunctionName === undefined ? {} : { functionName: i.FunctionName }),
          ...(i.Marker === undefined ? {} : { marker: i.Marker }),
          ...(i.MaxItems === undefined ? {} : { maxItems: i.MaxItems }),
        });
        return {
          EventSourceMappings: page.mappings.map((m) => ({
            UUID: m.uuid,
            FunctionArn: m.functionArn,
            EventSourceArn: m.eventSourceArn,
            State: m.state,
            BatchSize: m.batchSize,
            ...(m.maximumConcurrency === undefined
              ? {}
              : { ScalingConfig: { MaximumConcurrency: m.maximumConcurrency } }),
            ...(m.provisionedPollers === undefined
              ? {}
              : {
                  ProvisionedPollerConfig: {
                    MinimumPollers: m.provisionedPollers.minimum,
                    MaximumPollers: m.provisionedPollers.maximum,
                  },
                }),
          })),
          ...(page.nextMarker === undefined ? {} : { NextMarker: page.nextMarker }),
        };
      }
      if (command instanceof GetAccountSettingsCommand) {
        const a = sim.getAccountConcurrency();
        return {
          AccountLimit: { ConcurrentExecutions: a.limit, UnreservedConcurrentExecutions: a.unreserved },
        };
      }
      throw new Error(`the simulated Lambda client does not answer ${command.constructor.name}`);
    }, LambdaServiceException);
  return { send } as unknown as LambdaClient;
}

/** An SQSClient whose `send` is answered by the simulation (GetQueueUrl, GetQueueAttributes). */
export function simulatedSqs(sim: Simulation): SQSClient {
  const send = (command: Command): Promise<unknown> =>
    answer(
      () => {
        if (command instanceof GetQueueUrlCommand)
          return { QueueUrl: sim.getQueueUrl(command.input.QueueName ?? '') };
        if (command instanceof GetQueueAttributesCommand) {
          const url = command.input.QueueUrl ?? '';
          const names = command.input.AttributeNames ?? [];
          if (names.length === 1 && names[0] === 'QueueArn')
            return { Attributes: { QueueArn: sim.getQueueArn(url) } };
          const a = sim.queueAttributes(url);
          return {
            Attributes: {
              ApproximateNumberOfMessages: String(a.visible),
              ApproximateNumberOfMessagesNotVisible: String(a.inFlight),
              ApproximateNumberOfMessagesDelayed: String(a.delayed),
            },
          };
        }
        throw new Error(`the simulated SQS client does not answer ${command.constructor.name}`);
      },
      SQSServiceException as unknown as typeof LambdaServiceException,
    );
  return { send } as unknown as SQSClient;
}

/**
 * A CloudWatchClient whose `send` is answered by the simulation: GetMetricData only (what the
 * operator reads), published datapoints only, as awssim's server answers it.
 */
export function simulatedCloudWatch(sim: Simulation): CloudWatchClient {
  const send = (command: Command): Promise<unknown> =>
    answer(
      () => {
        if (command instanceof GetMetricDataCommand)
          return sim.cloudWatchGetMetricData(command.input as unknown as Record<string, unknown>);
        throw new Error(`simulatedCloudWatch: ${command.constructor.name} is not answered`);
      },
      CloudWatchServiceException as unknown as typeof LambdaServiceException,
    );
  return { send } as unknown as CloudWatchClient;
}
