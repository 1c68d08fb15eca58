// CloudWatch GetMetricData and GetMetricStatistics in the three protocols clients send: awsQuery
// (form in, XML out: older SDKs such as aws-sdk-go-v2 of 2023), AWS JSON 1.0 with query
// compatibility (@aws-sdk/client-cloudwatch) and Smithy RPC v2 CBOR (boto3's default).

import {
  CLOUDWATCH_QUERY_CODES,
  cloudWatchErrors,
  getMetricData,
  getMetricStatistics,
  type MetricDataQuery,
} from '../model/cloudwatch.ts';
import type { AwsApiError } from '../model/errors.ts';
import type { World } from '../model/world.ts';
import { decodeCbor, encodeCbor } from './cbor.ts';
import { type WireResponse, xmlEscape } from './errors.ts';

/** The API version and JSON/CBOR service target of CloudWatch. */
export const CLOUDWATCH_VERSION = '2010-08-01';
const TARGET = 'GraniteServiceVersion20100801';
const NS = 'http://monitoring.amazonaws.com/doc/2010-08-01/';

/** How a CloudWatch request arrived. */
export type CloudWatchProtocol = 'query' | 'json' | 'cbor';

/** A parsed CloudWatch request. */
export interface CloudWatchRequest {
  readonly protocol: CloudWatchProtocol;
  readonly op: string;
  /** The input as the protocol carried it (query: nested strings; JSON: epoch seconds; CBOR: Dates). */
  readonly input: Record<string, unknown>;
}

/** `A.member.1.B=x` → `{A: [{B: 'x'}]}`. */
function fromQuery(params: URLSearchParams): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of params) {
    if (key === 'Action' || key === 'Version') continue;
    const parts = key.split('.');
    let node: Record<string, unknown> | unknown[] = root;
    for (let i = 0; i < parts.length; i++) {
      const last = i === parts.length - 1;
      const part = parts[i] as string;
      if (part === 'member' && Array.isArray(node)) continue;
      const container = node as Record<string | number, unknown>;
      const slot = Array.isArray(node) ? Number(part) - 1 : part;
      if (last) {
        container[slot] = value;
        continue;
      }
      if (container[slot] === undefined) container[slot] = parts[i + 1] === 'member' ? [] : {};
      node = container[slot] as Record<string, unknown> | unknown[];
    }
  }
  return root;
}

/** The CloudWatch request in any of the three protocols, or undefined when it is not one. */
export function cloudWatchRequest(
  method: string,
  url: URL,
  headers: Record<string, string | string[] | undefined>,
  body: Buffer,
): CloudWatchRequest | undefined {
  if (method !== 'POST' && method !== 'GET') return undefined;
  const cbor = /^\/service\/GraniteServiceVersion20100801\/operation\/([A-Za-z]+)$/.exec(url.pathname);
  if (cbor && method === 'POST') {
    const input = decodeCbor(body);
    return {
      protocol: 'cbor',
      op: cbor[1] as string,
      input: (input && typeof input === 'object' ? input : {}) as Record<string, unknown>,
    };
  }
  const target = headers['x-amz-target'];
  if (typeof target === 'string' && target.startsWith(`${TARGET}.`)) {
    const text = body.toString('utf8');
    return {
      protocol: 'json',
      op: target.slice(TARGET.length + 1),
      input: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
    };
  }
  if (url.pathname !== '/') return undefined;
  const params = method === 'POST' ? new URLSearchParams(body.toString('utf8')) : url.searchParams;
  const action = params.get('Action');
  if (!action || params.get('Version') !== CLOUDWATCH_VERSION) return undefined;
  return { protocol: 'query', op: action, input: fromQuery(params) };
}

/** A timestamp as any protocol carries it, as epoch ms. */
function timeOf(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number') return v * 1000;
  if (typeof v === 'string') {
    if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
    const t = Date.parse(v);
    return Number.isNaN(t) ? Number.NaN : t;
  }
  return Number.NaN;
}

const numberOf = (v: unknown): number | undefined =>
  v === undefined || v === null ? undefined : typeof v === 'number' ? v : Number(v);
const stringOf = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const listOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const recordOf = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
const dimensionsOf = (v: unknown): { name: string; value: string }[] =>
  listOf(v).map((d) => ({ name: String(recordOf(d).Name ?? ''), value: String(recordOf(d).Value ?? '') }));

function queriesOf(v: unknown): MetricDataQuery[] {
  return listOf(v).map((raw) => {
    const q = recordOf(raw);
    const id = stringOf(q.Id);
    if (!id) throw cloudWatchErrors.missingParameter('MetricDataQueries.member.Id');
    const ms = q.MetricStat === undefined ? undefined : recordOf(q.MetricStat);
    const metric = recordOf(ms?.Metric);
    const label = stringOf(q.Label);
    const expression = stringOf(q.Expression);
    const returnData =
      q.ReturnData === undefined ? undefined : q.ReturnData === true || q.ReturnData === 'true';
    const period = numberOf(ms?.Period);
    const stat = stringOf(ms?.Stat);
    const namespace = stringOf(metric.Namespace);
    const metricName = stringOf(metric.MetricName);
    return {
      id,
      ...(label !== undefined ? { label } : {}),
      ...(expression !== undefined ? { expression } : {}),
      ...(returnData !== undefined ? { returnData } : {}),
      ...(ms
        ? {
            metricStat: {
              ...(namespace !== undefined ? { namespace } : {}),
              ...(metricName !== undefined ? { metricName } : {}),
              dimensions: dimensionsOf(metric.Dimensions),
              ...(period !== undefined ? { period } : {}),
              ...(stat !== undefined ? { stat } : {}),
            },
          }
        : {}),
    };
  });
}

/** A timestamp in the answer: Date for CBOR (tag 1), epoch seconds for JSON, ISO 8601 for XML. */
type Stamp = (ms: number) => unknown;

/** Runs one CloudWatch operation; the output uses `stamp` for timestamps. */
export function handleCloudWatch(world: World, r: CloudWatchRequest, stamp: Stamp): Record<string, unknown> {
  const now = world.now;
  const view = world.sampler.cloudWatch;
  const i = r.input;
  const start = timeOf(i.StartTime);
  const end = timeOf(i.EndTime);
  switch (r.op) {
    case 'GetMetricData':
      return world.call('cloudwatch:GetMetricData', () => {
        const results = getMetricData(view, now, {
          queries: queriesOf(i.MetricDataQueries),
          ...(start !== undefined ? { start } : {}),
          ...(end !== undefined ? { end } : {}),
          ...(typeof i.ScanBy === 'string' ? { scanBy: i.ScanBy } : {}),
        });
        return {
          MetricDataResults: results.map((m) => ({
            Id: m.id,
            Label: m.label,
            Timestamps: m.timestamps.map(stamp),
            Values: m.values,
            StatusCode: m.statusCode,
          })),
          Messages: [],
        };
      });
    case 'GetMetricStatistics':
      return world.call('cloudwatch:GetMetricStatistics', () => {
        const namespace = stringOf(i.Namespace);
        const metricName = stringOf(i.MetricName);
        const period = numberOf(i.Period);
        const out = getMetricStatistics(view, now, {
          ...(namespace !== undefined ? { namespace } : {}),
          ...(metricName !== undefined ? { metricName } : {}),
          dimensions: dimensionsOf(i.Dimensions),
          ...(start !== undefined ? { start } : {}),
          ...(end !== undefined ? { end } : {}),
          ...(period !== undefined ? { period } : {}),
          statistics: listOf(i.Statistics).map(String),
          extendedStatistics: listOf(i.ExtendedStatistics).map(String),
        });
        return {
          Label: out.label,
          Datapoints: out.datapoints.map((d) => ({
            Timestamp: stamp(d.timestamp),
            ...d.values,
            Unit: d.unit,
          })),
        };
      });
    default:
      return world.call(`cloudwatch:${r.op}`, () => {
        throw cloudWatchErrors.invalidAction(r.op);
      });
  }
}

const isoStamp = (ms: number): string => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');

/** XML of a value: objects as elements, lists as `<member>`s. */
function xml(value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => `<member>${xml(v)}</member>`).join('');
  if (value && typeof value === 'object')
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `<${k}>${xml(v)}</${k}>`)
      .join('');
  return xmlEscape(String(value));
}

/** Runs a CloudWatch request and renders its answer or error in its own protocol. */
export function serveCloudWatch(
  world: World,
  r: CloudWatchRequest,
  requestId: string,
): WireResponse & { readonly bytes?: Buffer } {
  const stamp: Stamp =
    r.protocol === 'cbor' ? (ms) => new Date(ms) : r.protocol === 'json' ? (ms) => ms / 1000 : isoStamp;
  const out = handleCloudWatch(world, r, stamp);
  return cloudWatchOk(r, out, requestId);
}

/** A successful answer. CBOR bodies are binary: the server writes `bytes` when present. */
export function cloudWatchOk(
  r: CloudWatchRequest,
  out: Record<string, unknown>,
  requestId: string,
): WireResponse & { readonly bytes?: Buffer } {
  if (r.protocol === 'cbor')
    return {
      status: 200,
      headers: {
        'content-type': 'application/cbor',
        'smithy-protocol': 'rpc-v2-cbor',
        'x-amzn-requestid': requestId,
      },
      body: '',
      bytes: encodeCbor(out),
    };
  if (r.protocol === 'json')
    return {
      status: 200,
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': requestId },
      body: JSON.stringify(out),
    };
  return {
    status: 200,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body:
      `<${r.op}Response xmlns="${NS}"><${r.op}Result>${xml(out)}</${r.op}Result>` +
      `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${r.op}Response>`,
  };
}

/** An error in the request's protocol: `__type` + `x-amzn-query-error` (JSON, CBOR) or `<ErrorResponse>`. */
export function cloudWatchError(
  protocol: CloudWatchProtocol,
  e: AwsApiError,
  requestId: string,
): WireResponse & { readonly bytes?: Buffer } {
  const queryCode = CLOUDWATCH_QUERY_CODES[e.code] ?? e.code;
  if (protocol === 'query')
    return {
      status: e.status,
      headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
      body:
        `<ErrorResponse xmlns="${NS}"><Error><Type>${e.fault}</Type><Code>${xmlEscape(queryCode)}</Code>` +
        `<Message>${xmlEscape(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    };
  const headers = { 'x-amzn-query-error': `${queryCode};${e.fault}`, 'x-amzn-requestid': requestId };
  const body = { __type: `com.amazonaws.cloudwatch#${e.code}`, message: e.message };
  if (protocol === 'cbor')
    return {
      status: e.status,
      headers: { ...headers, 'content-type': 'application/cbor', 'smithy-protocol': 'rpc-v2-cbor' },
      body: '',
      bytes: encodeCbor(body),
    };
  return {
    status: e.status,
    headers: { ...headers, 'content-type': 'application/x-amz-json-1.0' },
    body: JSON.stringify(body),
  };
}
