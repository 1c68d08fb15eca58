// Lambda over REST-JSON: routes the dated paths of the Lambda API model to the model and renders
// FunctionConfiguration, EventSourceMappingConfiguration and friends.

import { AwsApiError } from '../model/errors.ts';
import type { Esm } from '../model/esm.ts';
import type { SimFunction } from '../model/lambda.ts';
import { REGION, type World } from '../model/world.ts';

/** A parsed Lambda request. */
export interface LambdaRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: Record<string, unknown>;
}

type Handler = (
  world: World,
  m: string[],
  r: LambdaRequest,
  baseUrl: string,
) => { status: number; body: unknown };

function esmView(world: World, e: Esm): Record<string, unknown> {
  const out: Record<string, unknown> = {
    UUID: e.uuid,
    BatchSize: e.batchSize,
    MaximumBatchingWindowInSeconds: e.windowMs / 1000,
    EventSourceArn: e.queueArn,
    FunctionArn: world.lambda.functionArn(e.functionName),
    LastModified: Math.floor(e.lastModified / 1000),
    State: e.transient ?? e.state(),
    StateTransitionReason: 'USER_INITIATED',
    EventSourceMappingArn: `arn:aws:lambda:${REGION}:${world.account.id}:event-source-mapping:${e.uuid}`,
    ...e.extra,
  };
  if (e.maximumConcurrency !== undefined) out.ScalingConfig = { MaximumConcurrency: e.maximumConcurrency };
  if (e.provisionedPollers)
    out.ProvisionedPollerConfig = {
      MinimumPollers: e.provisionedPollers.minimum,
      MaximumPollers: e.provisionedPollers.maximum,
    };
  e.transient = undefined;
  return out;
}

function provisionedView(f: SimFunction): Record<string, unknown> {
  return {
    RequestedProvisionedConcurrentExecutions: f.provisioned,
    AvailableProvisionedConcurrentExecutions: f.provisioned,
    AllocatedProvisionedConcurrentExecutions: f.provisioned,
    Status: 'READY',
    LastModified: new Date(f.provisionedAt).toISOString().replace('Z', '+0000'),
  };
}

/** One page of a listing; `limit` is the most the operation returns whatever MaxItems says. */
const page = <T>(
  items: T[],
  r: LambdaRequest,
  limit = Number.POSITIVE_INFINITY,
): { items: T[]; next: string | undefined } => {
  const start = Number(r.query.get('Marker') ?? '0') || 0;
  const max = Math.min(limit, Number(r.query.get('MaxItems') ?? '50') || 50);
  const items2 = items.slice(start, start + max);
  return { items: items2, next: start + max < items.length ? String(start + max) : undefined };
};

const routes: { method: string; re: RegExp; op: string; run: Handler }[] = [
  {
    method: 'POST',
    re: /^\/2015-03-31\/functions\/?$/,
    op: 'CreateFunction',
    run: (w, _m, r) => ({ status: 201, body: w.lambda.createFunction(r.body).config }),
  },
  {
    method: 'GET',
    re: /^\/2015-03-31\/functions\/?$/,
    op: 'ListFunctions',
    run: (w, _m, r) => {
      const all = [...w.account.functionsByName.values()]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((f) => f.config);
      const p = page(all, r);
      return { status: 200, body: { Functions: p.items, ...(p.next ? { NextMarker: p.next } : {}) } };
    },
  },
  {
    method: 'GET',
    re: /^\/2015-03-31\/functions\/([^/]+)\/?$/,
    op: 'GetFunction',
    run: (w, m, _r, base) => {
      const f = w.lambda.fn(m[1]);
      const out: Record<string, unknown> = {
        Configuration: f.config,
        Code: { RepositoryType: 'S3', Location: `${base}/_awssim/code/${f.name}` },
      };
      if (Object.keys(f.tags).length > 0) out.Tags = f.tags;
      if (f.reserved !== undefined) out.Concurrency = { ReservedConcurrentExecutions: f.reserved };
      return { status: 200, body: out };
    },
  },
  {
    method: 'DELETE',
    re: /^\/2015-03-31\/functions\/([^/]+)\/?$/,
    op: 'DeleteFunction',
    run: (w, m) => {
      w.lambda.deleteFunction(w.lambda.fn(m[1]));
      return { status: 204, body: undefined };
    },
  },
  {
    method: 'GET',
    re: /^\/2019-09-30\/functions\/([^/]+)\/concurrency\/?$/,
    op: 'GetFunctionConcurrency',
    run: (w, m) => {
      const f = w.lambda.fn(m[1]);
      return {
        status: 200,
        body: f.reserved === undefined ? {} : { ReservedConcurrentExecutions: f.reserved },
      };
    },
  },
  {
    method: 'PUT',
    re: /^\/2017-10-31\/functions\/([^/]+)\/concurrency\/?$/,
    op: 'PutFunctionConcurrency',
    run: (w, m, r) => {
      const v = w.lambda.putFunctionConcurrency(
        w.lambda.fn(m[1]),
        r.body.ReservedConcurrentExecutions as number | undefined,
      );
      return { status: 200, body: { ReservedConcurrentExecutions: v } };
    },
  },
  {
    method: 'DELETE',
    re: /^\/2017-10-31\/functions\/([^/]+)\/concurrency\/?$/,
    op: 'DeleteFunctionConcurrency',
    run: (w, m) => {
      w.lambda.deleteFunctionConcurrency(w.lambda.fn(m[1]));
      return { status: 204, body: undefined };
    },
  },
  {
    method: 'GET',
    re: /^\/2016-08-19\/account-settings\/?$/,
    op: 'GetAccountSettings',
    run: (w) => ({ status: 200, body: w.lambda.accountSettings() }),
  },
  {
    method: 'POST',
    re: /^\/2015-03-31\/event-source-mappings\/?$/,
    op: 'CreateEventSourceMapping',
    run: (w, _m, r) => ({ status: 202, body: esmView(w, w.mappings.createEsm(r.body)) }),
  },
  {
    method: 'GET',
    re: /^\/2015-03-31\/event-source-mappings\/?$/,
    op: 'ListEventSourceMappings',
    run: (w, _m, r) => {
      const fnRef = r.query.get('FunctionName');
      const fnName = fnRef ? w.lambda.functionNameOf(fnRef) : undefined;
      const arn = r.query.get('EventSourceArn');
      const all = [...w.account.mappingsByUuid.values()].filter(
        (e) => (fnName === undefined || e.functionName === fnName) && (!arn || e.queueArn === arn),
      );
      // "returns a maximum of 100 items in each response, even if you set the number higher"
      const p = page(all, r, 100);
      return {
        status: 200,
        body: {
          EventSourceMappings: p.items.map((e) => esmView(w, e)),
          ...(p.next ? { NextMarker: p.next } : {}),
        },
      };
    },
  },
  {
    method: 'GET',
    re: /^\/2015-03-31\/event-source-mappings\/([^/]+)\/?$/,
    op: 'GetEventSourceMapping',
    run: (w, m) => ({ status: 200, body: esmView(w, w.mappings.esm(m[1])) }),
  },
  {
    method: 'PUT',
    re: /^\/2015-03-31\/event-source-mappings\/([^/]+)\/?$/,
    op: 'UpdateEventSourceMapping',
    run: (w, m, r) => {
      const e = w.mappings.esm(m[1]);
      w.mappings.updateEsm(e, r.body);
      return { status: 202, body: esmView(w, e) };
    },
  },
  {
    method: 'DELETE',
    re: /^\/2015-03-31\/event-source-mappings\/([^/]+)\/?$/,
    op: 'DeleteEventSourceMapping',
    run: (w, m) => {
      const e = w.mappings.esm(m[1]);
      w.mappings.deleteEsm(e);
      return { status: 202, body: esmView(w, e) };
    },
  },
  {
    method: 'PUT',
    re: /^\/2019-09-30\/functions\/([^/]+)\/provisioned-concurrency\/?$/,
    op: 'PutProvisionedConcurrencyConfig',
    run: (w, m, r) => {
      const f = w.lambda.fn(m[1]);
      w.lambda.putProvisioned(
        f,
        r.query.get('Qualifier') ?? undefined,
        r.body.ProvisionedConcurrentExecutions as number | undefined,
      );
      return {
        status: 202,
        body: { ...provisionedView(f), Status: 'IN_PROGRESS', AvailableProvisionedConcurrentExecutions: 0 },
      };
    },
  },
  {
    method: 'GET',
    re: /^\/2019-09-30\/functions\/([^/]+)\/provisioned-concurrency\/?$/,
    op: 'GetProvisionedConcurrencyConfig',
    run: (w, m, r) => ({
      status: 200,
      body: provisionedView(w.lambda.provisionedOf(w.lambda.fn(m[1]), r.query.get('Qualifier') ?? undefined)),
    }),
  },
  {
    method: 'DELETE',
    re: /^\/2019-09-30\/functions\/([^/]+)\/provisioned-concurrency\/?$/,
    op: 'DeleteProvisionedConcurrencyConfig',
    run: (w, m, r) => {
      w.lambda.deleteProvisioned(w.lambda.fn(m[1]), r.query.get('Qualifier') ?? undefined);
      return { status: 204, body: undefined };
    },
  },
];

/** Finds the operation for a request, or undefined when the path is not a Lambda path. */
export function lambdaOperation(
  method: string,
  path: string,
): { op: string; m: string[]; run: Handler } | undefined {
  for (const r of routes) {
    if (r.method !== method) continue;
    const m = r.re.exec(path);
    if (m) return { op: r.op, m: [...m], run: r.run };
  }
  return undefined;
}

/** Handles one Lambda request; throws AwsApiError for API errors. */
export function handleLambda(
  world: World,
  r: LambdaRequest,
  baseUrl: string,
): { op: string; status: number; body: unknown } {
  const found = lambdaOperation(r.method, r.path);
  if (!found)
    throw new AwsApiError(
      'ResourceNotFoundException',
      404,
      `awssim does not implement ${r.method} ${r.path}`,
    );
  const out = world.call(`lambda:${found.op}`, () => found.run(world, found.m, r, baseUrl));
  return { op: found.op, ...out };
}
