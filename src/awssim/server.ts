// The HTTP face of the simulator: SQS (AWS JSON 1.0), Lambda (REST-JSON), STS (awsQuery) and
// CloudWatch (awsQuery, AWS JSON 1.0, RPC v2 CBOR) on one loopback endpoint, plus an admin JSON API
// under /_awssim/ that no AWS path can reach.

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type SqsMetricName, sqsMetricNames } from './model/cloudwatch.ts';
import { AwsApiError } from './model/errors.ts';
import { accessKeyIdOf } from './model/sts.ts';
import type { Fault } from './model/world.ts';
import { parseAccount, roleSchema, zodIssues } from './scenario.ts';
import type { Simulation } from './simulation.ts';
import {
  type CloudWatchRequest,
  cloudWatchError,
  cloudWatchRequest,
  serveCloudWatch,
} from './wire/cloudwatch.ts';
import {
  asApiError,
  lambdaError,
  lambdaOk,
  sqsError,
  sqsOk,
  stsError,
  stsOk,
  type WireResponse,
} from './wire/errors.ts';
import { handleLambda, lambdaOperation } from './wire/lambda.ts';
import { handleSqs } from './wire/sqs.ts';
import { handleSts, stsRequest } from './wire/sts.ts';

/** A listening simulator endpoint. */
export interface AwsSimServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections and closes open ones. */
  close(): Promise<void>;
}

/** Options of `startServer`. */
export interface ServerOptions {
  /** Port on 127.0.0.1 (0 picks a free one). */
  readonly port?: number;
}

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

/** A response, with a binary body (CBOR) in `bytes` when there is one. */
type Answer = WireResponse & { readonly bytes?: Buffer };

const json = (status: number, body: unknown): WireResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body, null, 2),
});

async function route(sim: Simulation, req: IncomingMessage, raw: Buffer): Promise<Answer> {
  const body = raw.toString('utf8');
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const baseUrl = `http://${req.headers.host ?? '127.0.0.1'}`;
  const requestId = randomUUID();
  const method = req.method ?? 'GET';
  if (url.pathname.startsWith('/_awssim/')) return admin(sim, method, url, body);
  sim.sync();
  const caller = accessKeyIdOf(req.headers.authorization, url.searchParams);
  // The caller's account (an assumed role's, else awssim's own) picks the entities and quotas.
  const world = sim.worldOf(sim.world.sts.identity(caller).account);
  const target = req.headers['x-amz-target'];
  if (method === 'POST' && typeof target === 'string' && target.startsWith('AmazonSQS.')) {
    const op = target.slice('AmazonSQS.'.length);
    world.sts.recordCall(caller, `sqs:${op}`);
    const delay = world.faultLatency(`sqs:${op}`);
    if (delay > 0) await sleep(delay);
    try {
      const parsed = body === '' ? {} : (JSON.parse(body) as Record<string, unknown>);
      return sqsOk(await handleSqs(world, op, parsed, baseUrl), requestId);
    } catch (e) {
      return sqsError(asApiError(e, 'sqs'), requestId);
    }
  }
  let cw: CloudWatchRequest | undefined;
  try {
    cw = cloudWatchRequest(method, url, req.headers, raw);
  } catch (e) {
    const protocol = url.pathname.startsWith('/service/') ? 'cbor' : 'json';
    return cloudWatchError(
      protocol,
      new AwsApiError('SerializationException', 400, `cannot parse the request: ${(e as Error).message}`),
      requestId,
    );
  }
  if (cw) {
    world.sts.recordCall(caller, `cloudwatch:${cw.op}`);
    const delay = world.faultLatency(`cloudwatch:${cw.op}`);
    if (delay > 0) await sleep(delay);
    try {
      return serveCloudWatch(world, cw, requestId);
    } catch (e) {
      return cloudWatchError(cw.protocol, asApiError(e, 'cloudwatch'), requestId);
    }
  }
  const sts = stsRequest(method, url, req.headers['content-type'], body);
  if (sts) {
    world.sts.recordCall(caller, `sts:${sts.action}`);
    const delay = world.faultLatency(`sts:${sts.action}`);
    if (delay > 0) await sleep(delay);
    try {
      return stsOk(sts.action, handleSts(world, sts.action, sts.params, caller, Date.now()), requestId);
    } catch (e) {
      return stsError(asApiError(e, 'sts'), requestId);
    }
  }
  const lop = lambdaOperation(method, url.pathname);
  if (lop) {
    world.sts.recordCall(caller, `lambda:${lop.op}`, world.now);
    const delay = world.faultLatency(`lambda:${lop.op}`);
    if (delay > 0) await sleep(delay);
    try {
      const parsed = body === '' ? {} : (JSON.parse(body) as Record<string, unknown>);
      const out = handleLambda(
        world,
        { method, path: url.pathname, query: url.searchParams, body: parsed },
        baseUrl,
      );
      return lambdaOk(out.status, out.body, requestId);
    } catch (e) {
      return lambdaError(asApiError(e, 'lambda'), requestId);
    }
  }
  return lambdaError(asApiError(new Error(`no such route: ${method} ${url.pathname}`), 'lambda'), requestId);
}

/** The admin API: report, timeline, metrics, faults, traffic, and time travel in virtual mode. */
async function admin(sim: Simulation, method: string, url: URL, body: string): Promise<WireResponse> {
  const path = url.pathname.slice('/_awssim'.length);
  const input = (): Record<string, unknown> =>
    body === '' ? {} : (JSON.parse(body) as Record<string, unknown>);
  try {
    if (method === 'GET' && path === '/health')
      return json(200, {
        ok: true,
        clock: sim.clock,
        seed: sim.seed,
        scenario: sim.scenarioName,
        now: sim.now(),
      });
    const account = url.searchParams.get('account') ?? undefined;
    if (method === 'GET' && path === '/report') return json(200, sim.report({ account }));
    if (path === '/accounts') {
      if (method === 'POST') {
        const raw = JSON.parse(body === '' ? '{}' : body) as unknown;
        for (const a of Array.isArray(raw) ? raw : [raw]) sim.declareAccount(parseAccount(a));
      } else if (method !== 'GET') return json(405, { error: `${method} /_awssim/accounts` });
      return json(200, accountsView(sim));
    }
    if (method === 'GET' && path === '/reads') {
      // When each queue's attributes were last read (GetQueueAttributes), from `since` (epoch ms) on.
      const since = Number(url.searchParams.get('since') ?? '0');
      const w = account === undefined ? sim.world : sim.worldOf(account);
      const reads: Record<string, number[]> = {};
      for (const [name, q] of w.queues) reads[name] = q.attributeReads.filter((t) => t >= since);
      return json(200, reads);
    }
    if (method === 'GET' && path === '/timeline')
      return json(200, sim.timeline(Number(url.searchParams.get('since') ?? '0')));
    if (method === 'GET' && path === '/metrics') {
      const r = sim.report({ account });
      const queues: Record<string, unknown> = {};
      const w = account === undefined ? sim.world : sim.worldOf(account);
      for (const name of w.queues.keys()) queues[name] = sim.queueTruth(name, account);
      return json(200, {
        now: sim.now(),
        apiCalls: r.apiCalls,
        latency: r.latency,
        messages: r.messages,
        throttles: r.throttles,
        queues,
        functions: r.functions,
      });
    }
    if (method === 'GET' && path === '/cloudwatch') {
      const metric = url.searchParams.get('metric') ?? 'ApproximateNumberOfMessagesVisible';
      if (!(sqsMetricNames as readonly string[]).includes(metric))
        return json(400, { error: `unknown metric ${metric}` });
      return json(200, sim.cloudWatch(url.searchParams.get('queue') ?? '', metric as SqsMetricName));
    }
    if (path === '/faults') {
      if (method === 'GET') return json(200, sim.world.faults.toJSON());
      if (method === 'DELETE') {
        sim.clearFaults(url.searchParams.get('op') ?? undefined);
        return json(200, sim.world.faults.toJSON());
      }
      if (method === 'POST') {
        for (const [op, f] of Object.entries(input())) {
          if (f === null) sim.clearFaults(op);
          else sim.injectFault(op, f as Fault);
        }
        return json(200, sim.world.faults.toJSON());
      }
    }
    if (method === 'POST' && path === '/traffic') {
      const b = input();
      if (typeof b.enabled === 'boolean') sim.setTrafficEnabled(b.enabled);
      if (typeof b.queue === 'string' && Array.isArray(b.specs))
        sim.setTraffic(b.queue, b.specs as never, typeof b.account === 'string' ? b.account : undefined);
      return json(200, { enabled: sim.world.traffic.enabled, traffic: sim.world.traffic.toJSON() });
    }
    if (path === '/roles') {
      if (method === 'POST') {
        const raw = JSON.parse(body === '' ? '{}' : body) as unknown;
        const list = Array.isArray(raw) ? raw : [raw];
        const r = roleSchema.array().safeParse(list);
        if (!r.success) return json(400, { error: zodIssues(r.error).join('; ') });
        for (const role of r.data) sim.addRole(role);
      } else if (method === 'DELETE') {
        const arn = url.searchParams.get('arn');
        if (arn === null) return json(400, { error: 'DELETE /_awssim/roles needs ?arn=ROLE_ARN' });
        if (!sim.removeRole(arn)) return json(404, { error: `no role ${arn}` });
      } else if (method !== 'GET') return json(405, { error: `${method} /_awssim/roles` });
      return json(200, sim.world.sts.toJSON());
    }
    if (method === 'GET' && path === '/writes') return json(200, sim.world.sts.writes());
    if (path === '/callers') {
      if (method === 'DELETE') {
        sim.world.sts.resetCalls();
        return json(200, {});
      }
      if (method === 'GET') return json(200, sim.callers({ byRole: url.searchParams.get('by') === 'role' }));
    }
    if (method === 'POST' && path === '/advance') {
      if (sim.clock !== 'virtual') return json(409, { error: 'advance needs --clock virtual' });
      const ms = Number(input().ms ?? 0);
      await sim.runFor(ms);
      return json(200, { now: sim.now(), elapsedMs: sim.elapsedMs() });
    }
    return json(404, { error: `no admin route ${method} ${path}` });
  } catch (e) {
    return json(400, { error: (e as Error).message });
  }
}

/** Every account awssim serves: its id, quotas, how many entities it holds, and its API calls. */
function accountsView(sim: Simulation): Record<string, unknown>[] {
  return sim.worlds().map((w) => ({
    id: w.account.id,
    concurrency: w.account.concurrencyLimit,
    controlPlaneRps: w.params.controlPlaneRps,
    getFunctionRps: w.params.getFunctionRps,
    queues: w.queues.size,
    functions: w.functions.size,
    eventSourceMappings: w.esms.size,
    apiCalls: w.api.toJSON(),
  }));
}

/** Serves a simulation over HTTP on 127.0.0.1. */
export async function startServer(sim: Simulation, opts: ServerOptions = {}): Promise<AwsSimServer> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    readBody(req)
      .then((body) => route(sim, req, body))
      .then((out) => {
        const payload = out.bytes ?? out.body;
        res.writeHead(out.status, { ...out.headers, 'content-length': Buffer.byteLength(payload) });
        res.end(payload);
      })
      .catch((e: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: String(e) }));
      });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
