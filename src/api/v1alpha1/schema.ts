// The single source of truth of the LambdaConcurrencyScaler API: zod schemas from which come the
// TypeScript types, run-time validation, and (through hack/generate.ts) the CRD in config/crd.
// The six original spec keys are kept verbatim, including the misspelled awsLamndaMaxConcurrency.
import { z } from 'zod';
import {
  CEL,
  FUNCTION_PATTERN,
  functionAccount,
  functionRegion,
  QUEUE_PATTERN,
  queueRegion,
  roleAccount,
} from './aws-names.ts';
import { State } from './conditions.ts';
import { Actuator, lifecycleSpecShape, MAXIMUM_CONCURRENCY, POLLERS } from './lifecycle-spec.ts';
import { policySpecRules, policySpecShape } from './policy-spec.ts';
import { matches, withRules } from './rules.ts';

/** Largest value of a Kubernetes int32 field, the original operator's integer type. */
export const MAX_INT32 = 2_147_483_647;

const count = (min: number) => z.int().min(min).max(MAX_INT32);

/** Fields of the original operator, with their original names and meaning. */
const originalSpecShape = {
  awsSQSName: withRules(
    z.string().min(1).max(256).meta({
      description:
        "The SQS queue the function consumes: a queue name (1-80 letters, digits, hyphens or underscores, FIFO names ending in .fifo), a queue URL of an AWS SQS endpoint, or a queue ARN. A URL or ARN names the owning account and Region explicitly; its Region must agree with spec.region and the function. Requests always go to the operator's configured SQS endpoint (AWS, or AWS_ENDPOINT_URL), never to the host of a URL.",
    }),
    [
      matches(
        QUEUE_PATTERN,
        'awsSQSName must be a queue name of 1-80 letters, digits, hyphens or underscores (FIFO queues end in .fifo), a queue URL of an AWS SQS endpoint (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME; no other host, IP address or port), or a queue ARN',
      ),
    ],
  ),
  awsSQSMsgCountThreshold: count(0).meta({
    description:
      'Backlog threshold of the Step policy: when more messages than this are waiting, concurrency goes up by one step; otherwise it comes down by one step.',
  }),
  awsLambdaName: withRules(
    z.string().min(1).max(140).meta({
      description:
        'The Lambda function whose reserved concurrency is scaled: a function name (my-function), a function ARN, or a partial ARN (123456789012:function:my-function). Versions and aliases are not accepted: reserved concurrency applies to the whole function.',
    }),
    [
      matches(
        FUNCTION_PATTERN,
        'awsLambdaName must be a Lambda function name (letters, digits, hyphens, underscores), a function ARN or a partial ARN, without a version or alias qualifier',
      ),
    ],
  ),
  awsLambdaMinConcurrency: count(0).meta({
    description:
      'The lowest reserved concurrency the operator sets. 0 means the function is stopped (every invocation throttled) while the queue is quiet; use it only if that is what you want.',
  }),
  awsLamndaMaxConcurrency: count(1).optional().meta({
    description:
      "The highest reserved concurrency the operator sets. This is the original operator's spelling, accepted forever; new manifests may use awsLambdaMaxConcurrency instead. Exactly one of the two must be set.",
  }),
  awsLambdaMaxConcurrency: count(1).optional().meta({
    description:
      'The highest reserved concurrency the operator sets (correctly spelled alias of awsLamndaMaxConcurrency). Exactly one of the two must be set.',
  }),
  awsLambdaStepConcurrency: count(1).meta({
    description: 'How much the Step policy adds or removes in one scaling action.',
  }),
};

/** The label of the /scale subresource's selector (status.selector): the scaler's uid. */
export const SCALE_SELECTOR_LABEL = 'aws.operators.jittakal.io/scaler-uid';

/** The /scale subresource's replicas: what `kubectl scale`, HPA and KEDA set. */
const scaleSpecShape = {
  replicas: count(0).optional().meta({
    description:
      "Pins the reserved concurrency (the /scale subresource's replicas: kubectl scale, an HPA or KEDA set it). The operator keeps the function at this value, clamped to awsLambdaMinConcurrency and the maximum, whatever its policy says; remove the field to hand the concurrency back to the policy.",
  }),
};

type MaxFields = {
  awsLamndaMaxConcurrency?: number | undefined;
  awsLambdaMaxConcurrency?: number | undefined;
};

/** The effective maximum concurrency, whichever spelling the user chose. */
export function maxConcurrency(spec: MaxFields): number {
  return spec.awsLambdaMaxConcurrency ?? spec.awsLamndaMaxConcurrency ?? Number.NaN;
}

type ActuatorFields = MaxFields & {
  awsLambdaMinConcurrency: number;
  actuator?: Actuator | undefined;
  eventSourceMapping?: { manageMaximumConcurrency?: boolean | undefined } | undefined;
};

const isLever = (lever: Actuator) => `has(self.actuator) && self.actuator == '${lever}'`;
const CAP = Actuator.EventSourceMaximumConcurrency;
const POLL = Actuator.ProvisionedPollers;
const POLLER_MIN = POLLERS.min * 10;
const POLLER_MIN_MAX = POLLERS.maxMinimum * 10;
const POLLER_MAX_MAX = POLLERS.maxMaximum * 10;

/**
 * The bounds are the bounds of the value the chosen lever writes, so a spec AWS would refuse for
 * that lever is refused at `kubectl apply` (AWS's ranges: lifecycle-spec.ts).
 */
const actuatorRules = [
  {
    rule: `!(${isLever(CAP)}) || self.awsLambdaMinConcurrency >= ${MAXIMUM_CONCURRENCY.min}`,
    message: `actuator ${CAP} writes the mapping's ScalingConfig.MaximumConcurrency, which AWS accepts from ${MAXIMUM_CONCURRENCY.min} to ${MAXIMUM_CONCURRENCY.max}: awsLambdaMinConcurrency must be at least ${MAXIMUM_CONCURRENCY.min}`,
    fieldPath: '.awsLambdaMinConcurrency',
    check: (s: ActuatorFields) => s.actuator !== CAP || s.awsLambdaMinConcurrency >= MAXIMUM_CONCURRENCY.min,
  },
  {
    rule: `!(${isLever(POLL)}) || (self.awsLambdaMinConcurrency >= ${POLLER_MIN} && self.awsLambdaMinConcurrency <= ${POLLER_MIN_MAX} && self.awsLambdaMinConcurrency % 10 == 0)`,
    message: `actuator ${POLL} writes MinimumPollers = awsLambdaMinConcurrency / 10 (one poller handles 10 concurrent invokes; AWS accepts ${POLLERS.min}-${POLLERS.maxMinimum} pollers): awsLambdaMinConcurrency must be a multiple of 10 from ${POLLER_MIN} to ${POLLER_MIN_MAX}`,
    fieldPath: '.awsLambdaMinConcurrency',
    check: (s: ActuatorFields) =>
      s.actuator !== POLL ||
      (s.awsLambdaMinConcurrency >= POLLER_MIN &&
        s.awsLambdaMinConcurrency <= POLLER_MIN_MAX &&
        s.awsLambdaMinConcurrency % 10 === 0),
  },
  // One rule per spelling, so the message names the field the user actually wrote.
  ...(['awsLamndaMaxConcurrency', 'awsLambdaMaxConcurrency'] as const).flatMap((max) => [
    {
      rule: `!(${isLever(CAP)}) || !has(self.${max}) || self.${max} <= ${MAXIMUM_CONCURRENCY.max}`,
      message: `actuator ${CAP} writes the mapping's ScalingConfig.MaximumConcurrency, which AWS accepts from ${MAXIMUM_CONCURRENCY.min} to ${MAXIMUM_CONCURRENCY.max}: ${max} must be at most ${MAXIMUM_CONCURRENCY.max}`,
      fieldPath: `.${max}`,
      check: (s: ActuatorFields) =>
        s.actuator !== CAP || s[max] === undefined || s[max] <= MAXIMUM_CONCURRENCY.max,
    },
    {
      rule: `!(${isLever(POLL)}) || !has(self.${max}) || (self.${max} <= ${POLLER_MAX_MAX} && self.${max} % 10 == 0)`,
      message: `actuator ${POLL} writes MaximumPollers up to ${max} / 10 (one poller handles 10 concurrent invokes; AWS accepts ${POLLERS.min}-${POLLERS.maxMaximum} pollers): ${max} must be a multiple of 10 up to ${POLLER_MAX_MAX}`,
      fieldPath: `.${max}`,
      check: (s: ActuatorFields) =>
        s.actuator !== POLL || s[max] === undefined || (s[max] <= POLLER_MAX_MAX && s[max] % 10 === 0),
    },
  ]),
  {
    rule: `!has(self.actuator) || self.actuator == '${Actuator.ReservedConcurrency}' || !has(self.eventSourceMapping) || !has(self.eventSourceMapping.manageMaximumConcurrency) || !self.eventSourceMapping.manageMaximumConcurrency`,
    message: `eventSourceMapping.manageMaximumConcurrency goes with actuator ${Actuator.ReservedConcurrency}: with a mapping actuator the operator already writes the mapping and nothing else`,
    fieldPath: '.eventSourceMapping.manageMaximumConcurrency',
    check: (s: ActuatorFields) =>
      s.actuator === undefined ||
      s.actuator === Actuator.ReservedConcurrency ||
      s.eventSourceMapping?.manageMaximumConcurrency !== true,
  },
];

/** The lever a spec acts through (default: reserved concurrency, the original's). */
export function actuatorOf(spec: { actuator?: Actuator | undefined }): Actuator {
  return spec.actuator ?? Actuator.ReservedConcurrency;
}

export const specSchema = withRules(
  z
    .object({ ...originalSpecShape, ...policySpecShape, ...lifecycleSpecShape, ...scaleSpecShape })
    .meta({ description: 'What to scale, within which bounds, and how.' }),
  [
    {
      rule: 'has(self.awsLamndaMaxConcurrency) || has(self.awsLambdaMaxConcurrency)',
      message: 'awsLamndaMaxConcurrency (or its correctly spelled alias awsLambdaMaxConcurrency) is required',
      check: (s) => s.awsLamndaMaxConcurrency !== undefined || s.awsLambdaMaxConcurrency !== undefined,
    },
    {
      rule: '!(has(self.awsLamndaMaxConcurrency) && has(self.awsLambdaMaxConcurrency))',
      message:
        'set only one of awsLamndaMaxConcurrency (original spelling) and awsLambdaMaxConcurrency, not both',
      check: (s) => s.awsLamndaMaxConcurrency === undefined || s.awsLambdaMaxConcurrency === undefined,
    },
    ...policySpecRules,
    // One rule per spelling, so the message names the field the user actually wrote.
    ...(['awsLamndaMaxConcurrency', 'awsLambdaMaxConcurrency'] as const).map((max) => ({
      rule: `!has(self.${max}) || self.awsLambdaMinConcurrency <= self.${max}`,
      message: `awsLambdaMinConcurrency must be less than or equal to ${max}`,
      fieldPath: '.awsLambdaMinConcurrency',
      check: (s: MaxFields & { awsLambdaMinConcurrency: number }) =>
        s[max] === undefined || s.awsLambdaMinConcurrency <= s[max],
    })),
    ...actuatorRules,
    // The Regions and accounts that references name must agree (aws-names.ts has the TS twins).
    {
      rule: `!has(self.region) || ${CEL.queueRegion} == '' || ${CEL.queueRegion} == self.region`,
      message: 'the Region named in awsSQSName (its ARN or URL) must equal spec.region',
      fieldPath: '.awsSQSName',
      check: (s) => s.region === undefined || ['', s.region].includes(queueRegion(s.awsSQSName)),
    },
    {
      rule: `!has(self.region) || ${CEL.functionRegion} == '' || ${CEL.functionRegion} == self.region`,
      message: 'the Region named in awsLambdaName (its ARN) must equal spec.region',
      fieldPath: '.awsLambdaName',
      check: (s) => s.region === undefined || ['', s.region].includes(functionRegion(s.awsLambdaName)),
    },
    {
      rule: `${CEL.queueRegion} == '' || ${CEL.functionRegion} == '' || ${CEL.queueRegion} == ${CEL.functionRegion}`,
      message:
        'awsSQSName and awsLambdaName name different Regions: an SQS event source mapping reads a queue of its own Region',
      fieldPath: '.awsLambdaName',
      check: (s) => {
        const q = queueRegion(s.awsSQSName);
        const f = functionRegion(s.awsLambdaName);
        return q === '' || f === '' || q === f;
      },
    },
    {
      rule: `!has(self.credentials) || !has(self.credentials.roleArn) || ${CEL.functionAccount} == '' || ${CEL.functionAccount} == ${CEL.roleAccount}`,
      message:
        'the account named in awsLambdaName must be the account of credentials.roleArn: reserved concurrency is set by the account that owns the function',
      fieldPath: '.awsLambdaName',
      check: (s) => {
        const role = s.credentials?.roleArn;
        const account = functionAccount(s.awsLambdaName);
        return role === undefined || account === '' || account === roleAccount(role);
      },
    },
  ],
);

/** A Kubernetes condition (metav1.Condition). */
export const conditionSchema = z.object({
  type: z.string().min(1).max(316),
  status: z.enum(['True', 'False', 'Unknown']),
  observedGeneration: z.int().min(0).optional(),
  lastTransitionTime: z.string().meta({ format: 'date-time' }),
  reason: z.string().min(1).max(1024),
  message: z.string().max(32768),
});

/** ProvisionedPollerConfig's SQS fields, as recorded and written. */
const pollersSchema = z.object({
  minimumPollers: z.int().min(1).max(200),
  maximumPollers: z.int().min(1).max(10_000),
});

const backlogSchema = z
  .object({
    visible: z
      .int()
      .min(0)
      .meta({ description: 'Messages available for retrieval (ApproximateNumberOfMessages).' }),
    inFlight: z.int().min(0).meta({
      description: 'Messages received but not yet deleted (ApproximateNumberOfMessagesNotVisible).',
    }),
    delayed: z
      .int()
      .min(0)
      .meta({ description: 'Messages not yet visible (ApproximateNumberOfMessagesDelayed).' }),
    observedAt: z.string().meta({ format: 'date-time' }),
  })
  .meta({ description: 'The queue backlog the last decision was made on.' });

export const statusSchema = z
  .object({
    state: z
      .enum([State.Pending, State.Adjusting, State.Adjusted, State.Error])
      .optional()
      .meta({ description: "The original operator's coarse state: PENDING, ADJUSTING, ADJUSTED or ERROR." }),
    concurrency: z.int().optional().meta({
      description:
        'The reserved concurrency the function has now, as last observed or set; with a mapping actuator, the concurrency its value stands for (the MaximumConcurrency, or MaximumPollers × 10).',
    }),
    adjustedTimestamp: z
      .string()
      .optional()
      .meta({ format: 'date-time', description: 'When the operator last changed the reserved concurrency.' }),
    observedGeneration: z
      .int()
      .optional()
      .meta({ description: 'The spec generation this status describes.' }),
    conditions: z
      .array(conditionSchema)
      .optional()
      .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
    backlog: backlogSchema.optional(),
    desiredConcurrency: z
      .int()
      .optional()
      .meta({ description: 'What the policy asked for at the last decision.' }),
    appliedConcurrency: z.int().optional().meta({
      description:
        'The last value the operator wrote with PutFunctionConcurrency (with a mapping actuator, the concurrency of its last mapping write).',
    }),
    lastScaleTime: z
      .string()
      .optional()
      .meta({ format: 'date-time', description: 'When the last scaling action happened.' }),
    lastScaleReason: z.string().optional().meta({ description: 'Why the last scaling action happened.' }),
    policyState: z.record(z.string(), z.unknown()).optional().meta({
      description: 'The policy engine history (stabilization windows, estimates), kept across restarts.',
    }),
    originalConcurrency: z
      .object({
        reserved: z.int().min(0).optional(),
        actuator: z
          .enum(['ReservedConcurrency', 'EventSourceMaximumConcurrency', 'ProvisionedPollers'])
          .optional()
          .meta({
            description:
              'The spec.actuator these values were recorded for (absent: ReservedConcurrency): what the operator gives back when it lets go or the actuator changes.',
          }),
        recordedAt: z.string().meta({ format: 'date-time' }),
        eventSources: z
          .array(
            z.object({
              uuid: z.string().min(1).max(64),
              maximumConcurrency: z.int().min(2).max(1000).optional(),
              provisionedPollers: pollersSchema.optional(),
            }),
          )
          .max(100)
          .optional()
          .meta({
            description:
              "With spec.eventSourceMapping.manageMaximumConcurrency or a mapping actuator: each event source mapping's ScalingConfig.MaximumConcurrency (maximumConcurrency absent means none) and ProvisionedPollerConfig (provisionedPollers absent means standard mode) before the operator first changed it, restored on deletion, when the field is turned off or when the actuator changes.",
          }),
      })
      .optional()
      .meta({
        description:
          'The reserved concurrency the function had before the operator first changed it (reserved absent means none), restored on deletion.',
      }),
    functionArn: z.string().max(256).optional().meta({
      description:
        'The function this scaler holds, as AWS names it: the one whose values originalConcurrency records and restores, and that no other scaler may scale while this one holds it.',
    }),
    replicas: z.int().min(0).optional().meta({
      description:
        "The /scale subresource's replicas: the reserved concurrency the function has now (status.concurrency).",
    }),
    selector: z.string().optional().meta({
      description:
        "The /scale subresource's label selector (an HPA needs one). It names this scaler; it selects no pods, as a Lambda function has none.",
    }),
    eventSourceMaximumConcurrency: z.int().min(2).max(1000).optional().meta({
      description:
        'With spec.eventSourceMapping.manageMaximumConcurrency: the ScalingConfig.MaximumConcurrency the operator keeps on the event source mappings (the reserved concurrency within 2-1000); with actuator EventSourceMaximumConcurrency, the cap it wrote.',
    }),
    provisionedPollers: pollersSchema.optional().meta({
      description:
        'With actuator ProvisionedPollers: the ProvisionedPollerConfig the operator wrote on the event source mappings.',
    }),
  })
  .meta({ description: 'What the operator observed and did.' });

export type LambdaConcurrencyScalerSpec = z.output<typeof specSchema>;
export type LambdaConcurrencyScalerStatus = z.output<typeof statusSchema>;
export type Condition = z.output<typeof conditionSchema>;

/** Metadata fields the operator reads; the API server owns the rest. */
export interface ObjectMeta {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
}

export interface LambdaConcurrencyScaler {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: LambdaConcurrencyScalerSpec;
  status?: LambdaConcurrencyScalerStatus;
}

/** A spec problem, with the dotted path of the field it blames. */
export interface SpecIssue {
  path: string;
  message: string;
}

/** Validates a spec exactly as the CRD does; returns the parsed spec or the problems found. */
export function parseSpec(
  input: unknown,
): { ok: true; spec: LambdaConcurrencyScalerSpec } | { ok: false; issues: SpecIssue[] } {
  const result = specSchema.safeParse(input);
  if (result.success) return { ok: true, spec: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((i) => ({
      path: ['spec', ...i.path.map(String)].join('.'),
      message: i.message,
    })),
  };
}
