// Optional spec fields that choose and tune the scaling policy (issue 4): pollingIntervalSeconds,
// policy, behavior, metrics, fallback. Every field is optional; leaving them all out reproduces
// the original operator's step policy. Defaults live in code (src/policy resolvePolicyConfig).
import { z } from 'zod';
import { type Rule, withRules } from './rules.ts';

const MAX_INT32 = 2_147_483_647;

/** Names of the three policies; Step is the original operator's. */
export const PolicyType = {
  Step: 'Step',
  TargetTracking: 'TargetTracking',
  LatencySLO: 'LatencySLO',
} as const;
export type PolicyType = (typeof PolicyType)[keyof typeof PolicyType];

/** Kinds of rate policy, as in the HPA (Concurrency plays the part of the HPA's Pods). */
export const ScalingPolicyType = { Concurrency: 'Concurrency', Percent: 'Percent' } as const;
export type ScalingPolicyType = (typeof ScalingPolicyType)[keyof typeof ScalingPolicyType];

/** How several rate policies combine, as in the HPA. */
export const SelectPolicy = { Max: 'Max', Min: 'Min', Disabled: 'Disabled' } as const;
export type SelectPolicy = (typeof SelectPolicy)[keyof typeof SelectPolicy];

/** Where the backlog comes from. */
export const MetricsSource = { QueueAttributes: 'QueueAttributes', CloudWatch: 'CloudWatch' } as const;
export type MetricsSource = (typeof MetricsSource)[keyof typeof MetricsSource];

const percent = (description: string) => z.int().min(0).max(100).optional().meta({ description });

const stepSchema = z
  .object({
    scaleDownThreshold: z.int().min(0).max(MAX_INT32).optional().meta({
      description:
        'Scale down only when the backlog is at or below this many messages; between it and awsSQSMsgCountThreshold the concurrency holds (hysteresis). Must not exceed awsSQSMsgCountThreshold. Default: awsSQSMsgCountThreshold (no hysteresis, as the original operator).',
    }),
  })
  .meta({
    description: 'Parameters of the Step policy (the original operator): one step up or down per decision.',
  });

const targetTrackingSchema = z
  .object({
    targetBacklogPerConcurrency: z.int().min(1).max(MAX_INT32).meta({
      description:
        'How many waiting messages one unit of concurrency should have: desired concurrency = ceil(backlog / targetBacklogPerConcurrency), like KEDA queueLength. Required.',
    }),
    tolerancePercent: percent(
      'No change while the backlog per unit of concurrency is within this percentage of the target, as the HPA tolerance. Default: 10.',
    ),
  })
  .meta({ description: 'Parameters of the TargetTracking policy.' });

const latencySLOSchema = z
  .object({
    maxWaitSeconds: z.int().min(1).max(86_400).meta({
      description:
        'The longest a message should wait in the queue before a function picks it up. The policy sizes concurrency for the estimated arrival rate plus draining the waiting backlog within this time. Required.',
    }),
    targetUtilizationPercent: z.int().min(10).max(100).optional().meta({
      description:
        'How busy each unit of concurrency may be at steady load; lower leaves more headroom for bursts. Default: 80.',
    }),
    tolerancePercent: percent(
      'No change while the estimated need is within this percentage of the current concurrency. Default: 10.',
    ),
    serviceTimeSource: z.enum(['QueueCounts', 'CloudWatch']).optional().meta({
      description:
        "Where the policy learns how long the function holds a batch, and so what one unit of concurrency processes. QueueCounts: from the queue's counts alone, which needs the function saturated at two concurrencies before the estimate settles. CloudWatch: the function's AWS/Lambda Duration (its Average over the last five minutes CloudWatch has published, read at most once a minute; needs cloudwatch:GetMetricData), one unit processing a mapping BatchSize per Duration. The queue's counts serve while no datapoint is published or the read fails. Default: QueueCounts.",
    }),
  })
  .meta({ description: 'Parameters of the LatencySLO policy.' });

const policySchema = withRules(
  z
    .object({
      type: z.enum(['Step', 'TargetTracking', 'LatencySLO']).optional().meta({
        description:
          'Step: one step (awsLambdaStepConcurrency) up when the backlog exceeds awsSQSMsgCountThreshold, one down otherwise (the original operator). TargetTracking: concurrency proportional to the backlog. LatencySLO: concurrency sized from estimated arrival rate and throughput so messages wait at most maxWaitSeconds. Default: Step.',
      }),
      step: stepSchema.optional(),
      targetTracking: targetTrackingSchema.optional(),
      latencySLO: latencySLOSchema.optional(),
    })
    .meta({
      description: 'Which scaling policy decides the concurrency, and its parameters. Default: Step.',
    }),
  [
    {
      rule: "(has(self.type) && self.type == 'TargetTracking') == has(self.targetTracking)",
      message: 'policy.targetTracking must be set exactly when policy.type is TargetTracking',
      check: (p) => (p.type === 'TargetTracking') === (p.targetTracking !== undefined),
    },
    {
      rule: "(has(self.type) && self.type == 'LatencySLO') == has(self.latencySLO)",
      message: 'policy.latencySLO must be set exactly when policy.type is LatencySLO',
      check: (p) => (p.type === 'LatencySLO') === (p.latencySLO !== undefined),
    },
    {
      rule: "!has(self.step) || !has(self.type) || self.type == 'Step'",
      message: 'policy.step is only used when policy.type is Step',
      check: (p) => p.step === undefined || p.type === undefined || p.type === 'Step',
    },
  ],
);

const scalingPolicySchema = withRules(
  z
    .object({
      type: z.enum(['Concurrency', 'Percent']).meta({
        description:
          'Concurrency: change by at most value units per period. Percent: change by at most value percent of the concurrency at the start of the period.',
      }),
      value: z.int().min(1).max(MAX_INT32).meta({
        description:
          'The amount of change allowed per period: units (Concurrency, at least 1) or percent (Percent, 1-1000).',
      }),
      periodSeconds: z.int().min(1).max(1800).meta({
        description:
          'The length of the past interval the policy looks back on, 1-1800 seconds, as in the HPA.',
      }),
    })
    .meta({ description: 'A limit on how fast concurrency may change, as an HPA scaling policy.' }),
  [
    {
      rule: "self.type != 'Percent' || self.value <= 1000",
      message: 'a Percent policy value must be between 1 and 1000',
      fieldPath: '.value',
      check: (p) => p.type !== 'Percent' || p.value <= 1000,
    },
  ],
);

const scalingRulesSchema = (direction: 'up' | 'down', defaults: string) =>
  z
    .object({
      stabilizationWindowSeconds: z
        .int()
        .min(0)
        .max(3600)
        .optional()
        .meta({
          description:
            direction === 'up'
              ? 'Scale up only to the lowest recommendation of this many past seconds, so a short spike does not scale up. 0-3600. Default: 0.'
              : 'Scale down only to the highest recommendation of this many past seconds, so a short dip does not scale down. 0-3600. Default: 300 for TargetTracking and LatencySLO, 0 for Step (whose threshold already gives one step per decision). With the default and the mapping capped (eventSourceMapping.manageMaximumConcurrency, or an actuator other than ReservedConcurrency), a drop to half or less held for 60 s goes down without the rest of the window.',
        }),
      selectPolicy: z
        .enum(['Max', 'Min', 'Disabled'])
        .optional()
        .meta({
          description: `Which policy wins when several apply: Max allows the largest change, Min the smallest, Disabled forbids scaling ${direction}. Default: Max.`,
        }),
      policies: z
        .array(scalingPolicySchema)
        .min(1)
        .max(10)
        .optional()
        .meta({
          description: `Rate limits on scaling ${direction}, 1-10 policies. Default: ${defaults}`,
        }),
    })
    .meta({ description: `How the operator scales ${direction}, with the HPA's semantics.` });

const behaviorSchema = z
  .object({
    scaleUp: scalingRulesSchema(
      'up',
      'none for Step (one step per decision); for the other policies 100 percent or 4 units per 15 seconds, whichever is more (the HPA default).',
    ).optional(),
    scaleDown: scalingRulesSchema(
      'down',
      'none for Step (one step per decision); for the other policies 100 percent per 15 seconds (the HPA default).',
    ).optional(),
    cooldownSeconds: z.int().min(0).max(3600).optional().meta({
      description:
        'After any change, make no further change for this many seconds (metric failures with a fallback concurrency excepted). 0-3600. Default: 0.',
    }),
    idleSeconds: z.int().min(1).max(86_400).optional().meta({
      description:
        'Once the queue has been empty (no visible, in-flight or delayed messages) for this many seconds, go straight to awsLambdaMinConcurrency, skipping scale-down stabilization and rate policies. Default: unset (disabled).',
    }),
  })
  .meta({
    description:
      'How fast concurrency may move: stabilization windows and rate policies (HPA semantics), a cooldown after changes, and scale to minimum when idle.',
  });

const metricsSchema = z
  .object({
    includeInFlight: z.boolean().optional().meta({
      description:
        'Count in-flight messages (received, not yet deleted) as backlog, like KEDA scaleOnInFlight. The LatencySLO policy always reads them. Default: false.',
    }),
    includeDelayed: z.boolean().optional().meta({
      description:
        'Count delayed messages (not yet visible) as backlog, like KEDA scaleOnDelayed. Default: false.',
    }),
    source: z.enum(['QueueAttributes', 'CloudWatch']).optional().meta({
      description:
        'QueueAttributes: read the queue now with GetQueueAttributes (seconds old). CloudWatch: average the last 5 minutes of ApproximateNumberOfMessagesVisible 1-minute datapoints (published minutes late; slower to react). Default: QueueAttributes.',
    }),
  })
  .meta({ description: 'Which queue numbers make up the backlog, and where they are read from.' });

const fallbackSchema = z
  .object({
    failureThreshold: z.int().min(1).max(100).optional().meta({
      description:
        'After this many consecutive polls without metrics, apply the fallback. Before that the concurrency holds. 1-100. Default: 3.',
    }),
    concurrency: z.int().min(0).max(MAX_INT32).optional().meta({
      description:
        'The concurrency to set once failureThreshold is reached, kept within awsLambdaMinConcurrency and the maximum. Default: unset, which holds the current concurrency.',
    }),
  })
  .meta({ description: 'What to do while queue metrics cannot be read.' });

/** Spread into the LambdaConcurrencyScaler spec object. */
export const policySpecShape = {
  pollingIntervalSeconds: z.int().min(1).max(3600).optional().meta({
    description:
      "How often the operator reads the queue and decides, 1-3600 seconds. Default: 30. The original operator's pace is 300.",
  }),
  policy: policySchema.optional(),
  behavior: behaviorSchema.optional(),
  metrics: metricsSchema.optional(),
  fallback: fallbackSchema.optional(),
} satisfies Record<string, z.ZodType>;

interface RootFields {
  awsSQSMsgCountThreshold: number;
  policy?: { step?: { scaleDownThreshold?: number | undefined } | undefined } | undefined;
}

/**
 * Rules that need fields of the whole spec object. They belong in the spec's own `withRules` list
 * in schema.ts; until they are there, `resolvePolicyConfig` clamps the same values at run time.
 */
export const policySpecRules: readonly Rule<RootFields>[] = [
  {
    rule: '!has(self.policy) || !has(self.policy.step) || !has(self.policy.step.scaleDownThreshold) || self.policy.step.scaleDownThreshold <= self.awsSQSMsgCountThreshold',
    message: 'policy.step.scaleDownThreshold must be less than or equal to awsSQSMsgCountThreshold',
    fieldPath: '.policy.step.scaleDownThreshold',
    check: (s) => !((s.policy?.step?.scaleDownThreshold ?? 0) > s.awsSQSMsgCountThreshold),
  },
];
