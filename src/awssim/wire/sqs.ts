// SQS over AWS JSON 1.0 (`X-Amz-Target: AmazonSQS.<Operation>`): parses requests, calls the
// model, renders responses with the MD5s the SDK verifies.

import { AwsApiError, sqsErrors } from '../model/errors.ts';
import type { InFlight } from '../model/queue.ts';
import type { MessageAttributeValue } from '../model/sqs-api.ts';
import type { World } from '../model/world.ts';
import { md5Hex, md5OfAttributes } from './md5.ts';

type Req = Record<string, unknown>;
type Entry = { Id?: string } & Record<string, unknown>;

const ID_RE = /^[A-Za-z0-9_-]{1,80}$/;
const SYSTEM_ATTRS = [
  'SenderId',
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
];

/** Checks a batch request's entries the way SQS does before looking at any of them. */
function checkBatch(entries: unknown): Entry[] {
  if (!Array.isArray(entries) || entries.length === 0) throw sqsErrors.emptyBatch();
  if (entries.length > 10) throw sqsErrors.tooManyEntries(entries.length);
  const ids = new Set<string>();
  for (const e of entries as Entry[]) {
    if (typeof e.Id !== 'string' || !ID_RE.test(e.Id)) throw sqsErrors.invalidBatchEntryId();
    if (ids.has(e.Id)) throw sqsErrors.idsNotDistinct();
    ids.add(e.Id);
  }
  return entries as Entry[];
}

const intOrUndefined = (v: unknown): number | undefined =>
  v === undefined || v === null ? undefined : Number(v);

/** Runs one entry of a batch, turning its error into a `Failed` entry. */
function perEntry<T>(e: Entry, fn: () => T, ok: T[], failed: unknown[]): void {
  try {
    ok.push(fn());
  } catch (err) {
    const x = err as { code?: string; message?: string; fault?: string };
    failed.push({
      Id: e.Id,
      SenderFault: x.fault !== 'Receiver',
      Code: x.code ?? 'InternalError',
      Message: x.message ?? '',
    });
  }
}

function renderMessage(world: World, b: InFlight, i: number, req: Req): Record<string, unknown> {
  const seq = b.seq[i] as number;
  const m = world.sqs.message(seq);
  const out: Record<string, unknown> = {
    MessageId: m.messageId,
    ReceiptHandle: world.sqs.receiptHandle(b, i),
    MD5OfBody: md5Hex(m.body),
    Body: m.body,
  };
  const wanted = new Set<string>([
    ...((req.AttributeNames as string[] | undefined) ?? []),
    ...((req.MessageSystemAttributeNames as string[] | undefined) ?? []),
  ]);
  if (wanted.size > 0) {
    const all = wanted.has('All');
    const attrs: Record<string, string> = {};
    const values: Record<string, string> = {
      SenderId: 'AIDAAWSSIMSENDER',
      SentTimestamp: String(Math.floor(b.sentAt[i] as number)),
      ApproximateReceiveCount: String(b.rc[i]),
      ApproximateFirstReceiveTimestamp: String(Math.floor(b.first[i] as number)),
    };
    for (const k of SYSTEM_ATTRS) if (all || wanted.has(k)) attrs[k] = values[k] as string;
    out.Attributes = attrs;
  }
  const names = (req.MessageAttributeNames as string[] | undefined) ?? [];
  if (m.attributes && names.length > 0) {
    const pick: Record<string, MessageAttributeValue> = {};
    for (const [k, v] of Object.entries(m.attributes))
      if (
        names.some(
          (n) => n === 'All' || n === '.*' || n === k || (n.endsWith('.*') && k.startsWith(n.slice(0, -1))),
        )
      )
        pick[k] = v;
    if (Object.keys(pick).length > 0) {
      out.MessageAttributes = pick;
      out.MD5OfMessageAttributes = md5OfAttributes(pick);
    }
  }
  return out;
}

function send(world: World, req: Req): Record<string, unknown> {
  const q = world.sqs.queueFromUrl(req.QueueUrl as string | undefined);
  const body = req.MessageBody;
  if (typeof body !== 'string') throw sqsErrors.missingParameter('MessageBody');
  const attrs = req.MessageAttributes as Record<string, MessageAttributeValue> | undefined;
  const m = world.sqs.sendMessage(
    q,
    body,
    intOrUndefined(req.DelaySeconds),
    attrs && Object.keys(attrs).length > 0 ? attrs : undefined,
  );
  const out: Record<string, unknown> = { MD5OfMessageBody: md5Hex(body), MessageId: m.messageId };
  if (m.attributes) out.MD5OfMessageAttributes = md5OfAttributes(m.attributes);
  return out;
}

/** Handles one SQS operation; returns the JSON body of the response. */
export async function handleSqs(world: World, op: string, req: Req, baseUrl: string): Promise<unknown> {
  switch (op) {
    case 'CreateQueue': {
      const q = world.call('sqs:CreateQueue', () =>
        world.sqs.createQueue(
          req.QueueName as string | undefined,
          (req.Attributes as Record<string, string>) ?? {},
          (req.tags as Record<string, string>) ?? {},
        ),
      );
      return { QueueUrl: world.sqs.queueUrl(q, baseUrl) };
    }
    case 'GetQueueUrl':
      return world.call('sqs:GetQueueUrl', () => {
        const name = req.QueueName as string | undefined;
        if (!name) throw sqsErrors.missingParameter('QueueName');
        const q = world.account.queuesByName.get(name);
        if (!q) throw sqsErrors.queueDoesNotExist();
        return { QueueUrl: world.sqs.queueUrl(q, baseUrl) };
      });
    case 'ListQueues':
      return world.call('sqs:ListQueues', () => {
        const prefix = (req.QueueNamePrefix as string | undefined) ?? '';
        const names = [...world.account.queuesByName.keys()].filter((n) => n.startsWith(prefix)).sort();
        const max = intOrUndefined(req.MaxResults);
        if (max !== undefined && (max < 1 || max > 1000))
          throw sqsErrors.invalidParameterValue(
            `Value ${max} for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.`,
          );
        const start = req.NextToken ? Number(Buffer.from(String(req.NextToken), 'base64').toString()) : 0;
        const page = max === undefined ? names.slice(0, 1000) : names.slice(start, start + max);
        const out: Record<string, unknown> = {};
        if (page.length > 0) out.QueueUrls = page.map((n) => `${baseUrl}/${world.account.id}/${n}`);
        if (max !== undefined && start + max < names.length)
          out.NextToken = Buffer.from(String(start + max)).toString('base64');
        return out;
      });
    case 'GetQueueAttributes':
      return world.call('sqs:GetQueueAttributes', () => {
        const q = world.sqs.queueFromUrl(req.QueueUrl as string | undefined);
        const names = (req.AttributeNames as string[] | undefined) ?? [];
        world.sqs.checkAttributeNames(names);
        if (q.attributeReads.push(world.now) > 8) q.attributeReads.shift();
        if (names.length === 0) return {};
        const all = world.sqs.queueAttributes(q);
        const pick: Record<string, string> = {};
        for (const [k, v] of Object.entries(all)) if (names.includes('All') || names.includes(k)) pick[k] = v;
        return Object.keys(pick).length > 0 ? { Attributes: pick } : {};
      });
    case 'SetQueueAttributes':
      return world.call('sqs:SetQueueAttributes', () => {
        const q = world.sqs.queueFromUrl(req.QueueUrl as string | undefined);
        world.sqs.setQueueAttributes(q, (req.Attributes as Record<string, string>) ?? {});
        return {};
      });
    case 'SendMessage':
      return world.call('sqs:SendMessage', () => send(world, req));
    case 'SendMessageBatch':
      return world.call('sqs:SendMessageBatch', () => {
        const q = world.sqs.queueFromUrl(req.QueueUrl as string | undefined);
        const entries = checkBatch(req.Entries);
        const url = req.QueueUrl;
        const ok: unknown[] = [];
        const failed: unknown[] = [];
        for (const e of entries)
          perEntry(e, () => ({ Id: e.Id, ...send(world, { ...e, QueueUrl: url }) }), ok, failed);
        void q;
        return { Successful: ok, Failed: failed };
      });
    case 'ReceiveMessage': {
      const { q, max, vis, wait } = world.call('sqs:ReceiveMessage', () => {
        const q = world.sqs.queueFromUrl(req.QueueUrl as string | undefined);
        const max = intOrUndefined(req.MaxNumberOfMessages) ?? 1;
        if (!Number.isInteger(max) || max < 1 || max > 10)
          throw sqsErrors.invalidParameterValue(
            `Value ${max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`,
          );
        const wait =
          intOrUndefined(req.WaitTimeSeconds) ??
          Number(q.attributes.get('ReceiveMessageWaitTimeSeconds') ?? '0');
        if (!Number.isInteger(wait) || wait < 0 || wait > 20)
          throw sqsErrors.invalidParameterValue(
            `Value ${wait} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.`,
          );
        const vis = intOrUndefined(req.VisibilityTimeout);
        if (vis !== undefined && (!Number.isInteger(vis) || vis < 0 || vis > 43_200))
          throw sqsErrors.invalidParameterValue(
            `Value ${vis} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.`,
          );
        return { q, max, vis: vis === undefined ? q.visibilityTimeoutMs : vis * 1000, wait };
      });
      const got = await world.sqs.receive(q, max, vis, wait * 1000);
      return got.length === 0 ? {} : { Messages: got.map((b) => renderMessage(world, b, 0, req)) };
    }
    case 'DeleteMessage':
      return world.call('sqs:DeleteMessage', () => {
        const q = world.sqs.queueFromUrl(req.QueueUrl as string | undefined);
        world.sqs.deleteMessage(q, req.ReceiptHandle as string | undefined);
        return {};
      });
    case 'DeleteMessageBatch':
      return world.call('sqs:DeleteMessageBatch', () => {
        const q = world.sqs.queueFromUrl(req.QueueUrl as string | undefined);
        const ok: unknown[] = [];
        const failed: unknown[] = [];
        for (const e of checkBatch(req.Entries))
          perEntry(
            e,
            () => {
              world.sqs.deleteMessage(q, e.ReceiptHandle as string | undefined);
              return { Id: e.Id };
            },
            ok,
            failed,
          );
        return { Successful: ok, Failed: failed };
      });
    case 'ChangeMessageVisibility':
      return world.call('sqs:ChangeMessageVisibility', () => {
        const q = world.sqs.queueFromUrl(req.QueueUrl as string | undefined);
        world.sqs.changeVisibility(
          q,
          req.ReceiptHandle as string | undefined,
          intOrUndefined(req.VisibilityTimeout),
        );
        return {};
      });
    case 'ChangeMessageVisibilityBatch':
      return world.call('sqs:ChangeMessageVisibilityBatch', () => {
        const q = world.sqs.queueFromUrl(req.QueueUrl as string | undefined);
        const ok: unknown[] = [];
        const failed: unknown[] = [];
        for (const e of checkBatch(req.Entries))
          perEntry(
            e,
            () => {
              world.sqs.changeVisibility(
                q,
                e.ReceiptHandle as string | undefined,
                intOrUndefined(e.VisibilityTimeout),
              );
              return { Id: e.Id };
            },
            ok,
            failed,
          );
        return { Successful: ok, Failed: failed };
      });
    case 'PurgeQueue':
      return world.call('sqs:PurgeQueue', () => {
        const q = world.sqs.queueFromUrl(req.QueueUrl as string | undefined);
        world.sqs.purgeQueue(q, String(req.QueueUrl));
        return {};
      });
    case 'DeleteQueue':
      return world.call('sqs:DeleteQueue', () => {
        world.sqs.deleteQueue(world.sqs.queueFromUrl(req.QueueUrl as string | undefined));
        return {};
      });
    case 'ListQueueTags':
      return world.call('sqs:ListQueueTags', () => {
        const q = world.sqs.queueFromUrl(req.QueueUrl as string | undefined);
        return q.tags.size > 0 ? { Tags: Object.fromEntries(q.tags) } : {};
      });
    default:
      return world.call(`sqs:${op}`, () => {
        throw new AwsApiError('UnsupportedOperation', 400, `awssim does not implement SQS ${op}.`);
      });
  }
}
