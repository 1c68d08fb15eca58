// Builds the CustomResourceDefinition from the zod schemas in schema.ts, so the CRD the API
// server enforces can never drift from the types and run-time validation the code uses.
import { z } from 'zod';
import { CRD_NAME, GROUP, KIND, LIST_KIND, PLURAL, SHORT_NAMES, SINGULAR, VERSION } from './groupversion.ts';
import { specSchema, statusSchema } from './schema.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Turns zod's OpenAPI 3.0 output into a Kubernetes structural schema: free-form maps become
 * `x-kubernetes-preserve-unknown-fields`, and zod's safe-integer bounds (which say nothing a
 * user needs) are dropped.
 */
function structural(node: Json): Json {
  if (Array.isArray(node)) return node.map(structural);
  if (node === null || typeof node !== 'object') return node;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema') continue;
    if ((key === 'maximum' || key === 'minimum') && Math.abs(value as number) === Number.MAX_SAFE_INTEGER)
      continue;
    if (
      key === 'additionalProperties' &&
      value !== null &&
      typeof value === 'object' &&
      Object.keys(value).length === 0
    ) {
      out['x-kubernetes-preserve-unknown-fields'] = true;
      continue;
    }
    out[key] = structural(value);
  }
  return out;
}

function openApi(schema: z.ZodType): Json {
  return structural(z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' }) as Json);
}

const column = (name: string, type: string, jsonPath: string, extra: Record<string, Json> = {}) => ({
  name,
  type,
  jsonPath,
  ...extra,
});

/** The LambdaConcurrencyScaler CRD as a plain object (apiextensions.k8s.io/v1). */
export function buildCrd(): { [key: string]: Json } {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: CRD_NAME },
    spec: {
      group: GROUP,
      names: {
        kind: KIND,
        listKind: LIST_KIND,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: [...SHORT_NAMES],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: {
            status: {},
            // kubectl scale, HPA and KEDA pin the concurrency through spec.replicas (decide.ts).
            scale: {
              specReplicasPath: '.spec.replicas',
              statusReplicasPath: '.status.replicas',
              labelSelectorPath: '.status.selector',
            },
          },
          additionalPrinterColumns: [
            column('Queue', 'string', '.spec.awsSQSName'),
            column('Function', 'string', '.spec.awsLambdaName'),
            column('Min', 'integer', '.spec.awsLambdaMinConcurrency'),
            // Whichever spelling the manifest uses; the CRD allows exactly one.
            column('Max', 'integer', ".spec['awsLamndaMaxConcurrency','awsLambdaMaxConcurrency']"),
            column('Concurrency', 'integer', '.status.concurrency'),
            column('Backlog', 'integer', '.status.backlog.visible'),
            column('State', 'string', '.status.state'),
            column('Ready', 'string', '.status.conditions[?(@.type=="Ready")].status'),
            column('Age', 'date', '.metadata.creationTimestamp'),
          ],
          schema: {
            openAPIV3Schema: {
              description:
                "LambdaConcurrencyScaler scales an AWS Lambda function's reserved concurrency from the backlog of the SQS queue it consumes.",
              type: 'object',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: openApi(specSchema),
                status: openApi(statusSchema),
              },
            },
          },
        },
      ],
    },
  };
}
