// Optional spec fields for running the operator in production (issue 6): whose AWS identity and
// which Region a scaler uses, how it shares account headroom, what happens on deletion, and a
// dry-run mode. Leaving them all out keeps the original behaviour (the operator's own identity).
import { z } from 'zod';
import { DNS1123_LABEL, DNS1123_SUBDOMAIN } from './aws-names.ts';
import { matches, withRules } from './rules.ts';

/** What the operator does to the function's reserved concurrency when the scaler is deleted. */
export const OnDelete = { Restore: 'Restore', Retain: 'Retain' } as const;
export type OnDelete = (typeof OnDelete)[keyof typeof OnDelete];

/**
 * What the operator writes to act on its decision (issue 15): the function's reserved concurrency
 * (the original's lever), or only the SQS event source mapping — ScalingConfig.MaximumConcurrency
 * (AWS's advice against overpull), or ProvisionedPollerConfig for a mapping in provisioned mode.
 */
export const Actuator = {
  ReservedConcurrency: 'ReservedConcurrency',
  EventSourceMaximumConcurrency: 'EventSourceMaximumConcurrency',
  ProvisionedPollers: 'ProvisionedPollers',
} as const;
export type Actuator = (typeof Actuator)[keyof typeof Actuator];

/**
 * Concurrent invokes one provisioned poller handles: "up to 1 MB/s or 10 concurrent invokes"
 * (services-sqs-scaling; /work/shared/ESM-EVIDENCE.md §6).
 */
export const INVOKES_PER_POLLER = 10;
/**
 * ProvisionedPollerConfig ranges every source accepts for SQS (ESM-EVIDENCE.md §6, docs/simulator.md
 * "Ranges"): MinimumPollers 2–200, MaximumPollers 2–2,000 (the newest API reference allows up to
 * 10,000; CloudFormation and botocore stop at 2,000, so the operator does too).
 */
export const POLLERS = { min: 2, maxMinimum: 200, maxMaximum: 2000 } as const;
/** ScalingConfig.MaximumConcurrency: 2–1,000 (API_ScalingConfig; AWS-FACTS.md). */
export const MAXIMUM_CONCURRENCY = { min: 2, max: 1000 } as const;

const ROLE_ARN = /^arn:aws[a-zA-Z-]*:iam::[0-9]{12}:role\/[A-Za-z0-9+=,.@_/-]{1,512}$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

const secretKey = (description: string) =>
  withRules(z.string().min(1).max(253).meta({ description }), [
    matches(SECRET_KEY, 'a Secret key must consist of letters, digits, -, _ or .'),
  ]).optional();

const credentialsSchema = withRules(
  z
    .object({
      secretRef: z
        .object({
          name: withRules(
            z.string().min(1).max(253).meta({
              description: "Name of a Secret in the scaler's own namespace holding static AWS keys.",
            }),
            [
              matches(
                DNS1123_SUBDOMAIN,
                'credentials.secretRef.name must be a Secret name: lowercase letters, digits, - and . (a DNS-1123 subdomain), no / or ..',
              ),
            ],
          ),
          namespace: withRules(
            z.string().max(63).meta({
              description:
                "Must be left out or equal to the scaler's namespace: the operator reads Secrets only from the scaler's own namespace.",
            }),
            [
              matches(
                DNS1123_LABEL,
                'credentials.secretRef.namespace must be a namespace name (a DNS-1123 label)',
              ),
            ],
          ).optional(),
          accessKeyIdKey: secretKey('Key of the access key id in the Secret. Default: AWS_ACCESS_KEY_ID.'),
          secretAccessKeyKey: secretKey(
            'Key of the secret access key in the Secret. Default: AWS_SECRET_ACCESS_KEY.',
          ),
          sessionTokenKey: secretKey(
            'Key of an optional session token in the Secret. Default: AWS_SESSION_TOKEN.',
          ),
        })
        .optional()
        .meta({
          description:
            "Static AWS keys from a Secret in the scaler's namespace. A rotated Secret takes effect at the next poll. Prefer roleArn or the operator's own IAM role (IRSA / EKS Pod Identity).",
        }),
      roleArn: withRules(
        z.string().max(2048).meta({
          description:
            "An IAM role to assume (sts:AssumeRole) with the operator's identity, or with secretRef's keys when given. Credentials are cached and refreshed before they expire.",
        }),
        [
          matches(
            ROLE_ARN,
            'credentials.roleArn must be an IAM role ARN (arn:aws:iam::123456789012:role/name)',
          ),
        ],
      ).optional(),
      externalId: withRules(
        z
          .string()
          .min(2)
          .max(1224)
          .meta({ description: "The external id the role's trust policy requires, if any." }),
        [
          matches(
            /^[\w+=,.@:/-]+$/,
            'credentials.externalId may contain only letters, digits and +=,.@:/-_ (as sts:AssumeRole requires)',
          ),
        ],
      ).optional(),
    })
    .meta({
      description:
        "Whose AWS identity this scaler uses. Default: the operator's own (the AWS default credential chain: IRSA, EKS Pod Identity, environment, or the original lambdaconcurrencyscaler-secret).",
    }),
  [
    {
      rule: '!has(self.externalId) || has(self.roleArn)',
      message: 'credentials.externalId is only used with credentials.roleArn',
      fieldPath: '.externalId',
      check: (c) => c.externalId === undefined || c.roleArn !== undefined,
    },
  ],
);

/** Spread into the LambdaConcurrencyScaler spec object. */
export const lifecycleSpecShape = {
  region: withRules(
    z.string().max(32).meta({
      description: "The AWS Region of the queue and the function. Default: the operator's AWS_REGION.",
    }),
    [matches(REGION, 'region must be an AWS Region name such as us-east-1')],
  ).optional(),
  credentials: credentialsSchema.optional(),
  priority: z.int().min(0).max(1000).optional().meta({
    description:
      'When scalers in one account want more reserved concurrency than the account can give while keeping 100 unreserved, higher priorities are served first, equal ones share fairly. 0-1000. Default: 0.',
  }),
  onDelete: z.enum(['Restore', 'Retain']).optional().meta({
    description:
      'On deletion of the scaler, Restore puts back the reserved concurrency the function had before the operator first changed it (or removes the limit if it had none); Retain leaves the last value. Default: Restore.',
  }),
  dryRun: z.boolean().optional().meta({
    description: 'Decide and report (status, events, metrics) without changing the function. Default: false.',
  }),
  actuator: z
    .enum(['ReservedConcurrency', 'EventSourceMaximumConcurrency', 'ProvisionedPollers'])
    .optional()
    .meta({
      description:
        "What the operator writes. ReservedConcurrency: the function's reserved concurrency (PutFunctionConcurrency), as the original operator. EventSourceMaximumConcurrency: only ScalingConfig.MaximumConcurrency of every SQS event source mapping from this queue to this function, never a reservation (AWS's advice: \"use the maximum concurrency setting instead of reserved concurrency\" to limit concurrency without overpull); the bounds are the cap's, so they must lie within AWS's 2-1000. ProvisionedPollers: ProvisionedPollerConfig of mappings in provisioned mode: MaximumPollers = concurrency / 10, the cap under which the mapping scales by itself (as MaximumConcurrency caps a standard mapping), and MinimumPollers = awsLambdaMinConcurrency / 10, the pollers always kept ready; one poller handles up to 10 concurrent invokes, so the bounds must be multiples of 10, the minimum 20-2000 (MinimumPollers 2-200) and the maximum at most 20000 (MaximumPollers 2000). The mapping must already be in provisioned mode (the operator does not turn on a billed mode). Either mapping lever records each mapping's own value and restores it on deletion (onDelete: Restore) or when the actuator changes, and needs lambda:ListEventSourceMappings and lambda:UpdateEventSourceMapping instead of lambda:PutFunctionConcurrency. Default: ReservedConcurrency.",
    }),
  eventSourceMapping: z
    .object({
      manageMaximumConcurrency: z.boolean().optional().meta({
        description:
          "When true, the operator also keeps ScalingConfig.MaximumConcurrency of every SQS event source mapping from this queue to this function at the reserved concurrency it sets (within AWS's 2-1000), so the mapping stops reading at the cap instead of pulling batches that are then throttled (overpull). It raises the cap after raising the reserved concurrency and lowers it before lowering it, records the mapping's own value and restores it on deletion (onDelete: Restore) or when this is turned off. Needs lambda:UpdateEventSourceMapping. Default: false (the mapping is not touched).",
      }),
    })
    .optional()
    .meta({ description: 'What the operator may do to the SQS event source mapping. Default: nothing.' }),
};
