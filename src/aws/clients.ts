// One factory for every AWS client the operator uses: one cached SQS and Lambda client per
// (identity, Region), and one pair of Lambda control-plane token buckets per (account, Region)
// shared by all the scalers that use it. Endpoints and default credentials come from the
// standard AWS environment (AWS_ENDPOINT_URL, AWS_REGION, the default provider chain).
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import type { Clock } from '../runtime/clock.ts';
import { CloudWatchMetricsReader } from './cloudwatch.ts';
import { Gate } from './gate.ts';
import { TokenBucket } from './limiter.ts';

/**
 * Longest wait in line for a control-plane token: at 10 requests/s, 300 callers. Beyond that a
 * reconcile is told to come back (AwsErrorCode.Deferred) rather than parked with its memory: at
 * start-up, 5,000 first writes would otherwise wait up to 500 s at once.
 */
export const CONTROL_PLANE_MAX_WAIT_SECONDS = 30;
/** The same for GetFunction's budget: every scaler's first read queues there at start-up. */
export const GET_FUNCTION_MAX_WAIT_SECONDS = 10;
/**
 * Keep-alive sockets per SDK client (the SDK's own default, made explicit) and, through a Gate
 * of the same size, the most calls of that client in flight: a call never queues inside the
 * HTTP agent, where the SDK's connection timer would already be running (gate.ts).
 */
export const SOCKETS_PER_CLIENT = 50;

import type { AwsMetrics } from './metrics.ts';
import type { CloudWatchPort, FunctionPort, QueuePort } from './ports.ts';
import { DEFAULT_CALL_TIMEOUT_MS, type LambdaBuckets, LambdaFunctions, SqsQueues } from './sdk.ts';

/** Who the operator acts as for one scaler. */
export interface AwsIdentity {
  /** A stable key for caching: 'default', a Secret's namespace/name@resourceVersion, a role ARN. */
  key: string;
  /** The account whose control-plane budget these calls spend, when known; else the key. */
  account?: string | undefined;
  /** Credentials; undefined = the SDK's default provider chain. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider | undefined;
  /** Strings that must never appear in messages (secret values). */
  secrets?: readonly string[];
}

export interface AwsClientFactoryOptions {
  /** Region when neither the scaler nor the environment names one. */
  defaultRegion: string;
  clock: Clock;
  metrics?: AwsMetrics | undefined;
  /** Lambda control-plane budget per account and Region (AWS allows 15/s in all). Default 10. */
  controlPlaneRps?: number;
  /** GetFunction budget per account and Region (AWS allows 100/s). Default 50. */
  getFunctionRps?: number;
  /** Attempts per call (the work queue retries on top): the SDK's, or paced ones for Lambda. Default 2. */
  maxAttempts?: number;
  /** Deadline of one call, every attempt included (sdk.ts). Default 10 s. */
  callTimeoutMs?: number;
  /** Aborts when the operator stops: cancels the reads shared by a binding's scalers (sdk.ts). */
  signal?: AbortSignal | undefined;
}

/** The SQS and Lambda ports for one identity and Region. */
export interface AwsBinding {
  queues: QueuePort;
  functions: FunctionPort;
  /** CloudWatch, for scalers with metrics.source: CloudWatch (the original operator's source). */
  cloudWatch: CloudWatchPort;
  buckets: LambdaBuckets;
  /** `account|region`: whose concurrency pool and control-plane budget this binding spends. */
  account: string;
}

export class AwsClientFactory {
  readonly #options: AwsClientFactoryOptions;
  readonly #bindings = new Map<string, AwsBinding>();
  readonly #buckets = new Map<string, LambdaBuckets>();

  constructor(options: AwsClientFactoryOptions) {
    this.#options = options;
  }

  /** The cached binding for an identity and Region (built on first use). */
  for(identity: AwsIdentity, region: string = this.#options.defaultRegion): AwsBinding {
    const key = `${identity.key}|${region}`;
    const cached = this.#bindings.get(key);
    if (cached !== undefined) return cached;
    const callTimeoutMs = this.#options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    const common = {
      region,
      maxAttempts: this.#options.maxAttempts ?? 2,
      // Each attempt gives up on a silent socket too, below the call's own deadline (sdk.ts).
      requestHandler: {
        connectionTimeout: Math.min(3_000, callTimeoutMs),
        requestTimeout: callTimeoutMs,
        httpAgent: { keepAlive: true, maxSockets: SOCKETS_PER_CLIENT },
        httpsAgent: { keepAlive: true, maxSockets: SOCKETS_PER_CLIENT },
      },
      ...(identity.credentials === undefined ? {} : { credentials: identity.credentials }),
    };
    // A queue URL is a parameter, never an endpoint: requests go to AWS_ENDPOINT_URL(_SQS) or the
    // Region's SQS endpoint, whatever host a tenant's URL names (and the SDK stops warning about it).
    const sqs = new SQSClient({ ...common, useQueueUrlAsEndpoint: false });
    // Lambda's calls are paced by the account's buckets: one attempt a send, and the retries made
    // by `instrumented`, each after its own token (sdk.ts CallDeps.attempts).
    const lambda = new LambdaClient({ ...common, maxAttempts: 1 });
    const account = `${identity.account ?? identity.key}|${region}`;
    const buckets = this.buckets(identity.account ?? identity.key, region);
    const deps = {
      metrics: this.#options.metrics,
      secrets: identity.secrets ?? [],
      now: () => this.#options.clock.now(),
      callTimeoutMs,
      lifetime: this.#options.signal,
    };
    const gated = () => ({ ...deps, gate: new Gate(SOCKETS_PER_CLIENT) });
    const binding: AwsBinding = {
      queues: new SqsQueues(sqs, gated()),
      functions: new LambdaFunctions(lambda, buckets, { ...gated(), attempts: common.maxAttempts }),
      cloudWatch: new CloudWatchMetricsReader(new CloudWatchClient(common), gated()),
      buckets,
      account,
    };
    this.#bindings.set(key, binding);
    return binding;
  }

  /** The shared Lambda buckets of an account and Region (the line for writes is bounded). */
  buckets(account: string, region: string): LambdaBuckets {
    const key = `${account}|${region}`;
    let buckets = this.#buckets.get(key);
    if (buckets === undefined) {
      const clock = this.#options.clock;
      const cpRps = this.#options.controlPlaneRps ?? 10;
      buckets = {
        // Burst + rate must stay under AWS's 15/s in any one second, whatever else the account does.
        controlPlane: new TokenBucket({
          ratePerSecond: cpRps,
          burst: Math.max(1, Math.min(cpRps, 15 - cpRps)),
          // A write that would wait longer than a usual poll is made at a later poll instead.
          maxWaitSeconds: CONTROL_PLANE_MAX_WAIT_SECONDS,
          clock,
        }),
        getFunction: new TokenBucket({
          ratePerSecond: this.#options.getFunctionRps ?? 50,
          maxWaitSeconds: GET_FUNCTION_MAX_WAIT_SECONDS,
          clock,
        }),
      };
      this.#buckets.set(key, buckets);
    }
    return buckets;
  }

  /** Drops cached clients of an identity (e.g. a rotated Secret). */
  evict(identityKey: string): void {
    for (const key of this.#bindings.keys())
      if (key.startsWith(`${identityKey}|`)) this.#bindings.delete(key);
  }
}
