// Optional spec fields that choose and tune the scaling policy (issue 4): pollingIntervalSeconds,
// policy, behavior, metrics, fallback. Every field is optional; leaving them all out reproduces
// the original operator's step policy.
import type { z } from 'zod';

/** Spread into the LambdaConcurrencyScaler spec object. Filled in by the policy engine work. */
export const policySpecShape = {} satisfies Record<string, z.ZodType>;
