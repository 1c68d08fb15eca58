// Renders model errors in each protocol's wire format: SQS AWS JSON 1.0 (with the awsQuery
// compatibility header), Lambda REST-JSON (X-Amzn-ErrorType) and STS awsQuery (XML).

import { AwsApiError } from '../model/errors.ts';

/** An HTTP response the server writes out. */
export interface WireResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** The `x-amzn-query-error` codes of the SQS model's error shapes (`aws.protocols#awsQueryError`). */
const SQS_QUERY_CODES: Record<string, string> = {
  BatchEntryIdsNotDistinct: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
  BatchRequestTooLong: 'AWS.SimpleQueueService.BatchRequestTooLong',
  EmptyBatchRequest: 'AWS.SimpleQueueService.EmptyBatchRequest',
  InvalidBatchEntryId: 'AWS.SimpleQueueService.InvalidBatchEntryId',
  MessageNotInflight: 'AWS.SimpleQueueService.MessageNotInflight',
  PurgeQueueInProgress: 'AWS.SimpleQueueService.PurgeQueueInProgress',
  QueueDeletedRecently: 'AWS.SimpleQueueService.QueueDeletedRecently',
  QueueDoesNotExist: 'AWS.SimpleQueueService.NonExistentQueue',
  QueueNameExists: 'QueueAlreadyExists',
  TooManyEntriesInBatchRequest: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
  UnsupportedOperation: 'AWS.SimpleQueueService.UnsupportedOperation',
};

const JSON10 = 'application/x-amz-json-1.0';

/** Any thrown value as an AwsApiError (unexpected errors become InternalError/ServiceException). */
export function asApiError(e: unknown, service: 'sqs' | 'lambda' | 'sts' | 'cloudwatch'): AwsApiError {
  if (e instanceof AwsApiError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const code = {
    sqs: 'InternalError',
    lambda: 'ServiceException',
    sts: 'InternalFailure',
    cloudwatch: 'InternalServiceFault',
  }[service];
  return new AwsApiError(code, 500, `awssim internal error: ${message}`);
}

/** SQS error: `__type` with the model namespace, `x-amzn-query-error: Code;Sender`. */
export function sqsError(e: AwsApiError, requestId: string): WireResponse {
  return {
    status: e.status,
    headers: {
      'content-type': JSON10,
      'x-amzn-query-error': `${SQS_QUERY_CODES[e.code] ?? e.code};${e.fault}`,
      'x-amzn-requestid': requestId,
    },
    body: JSON.stringify({ __type: `com.amazonaws.sqs#${e.code}`, message: e.message }),
  };
}

/** Lambda error: `X-Amzn-ErrorType`, body `{Type, message}`, `Retry-After` when throttled. */
export function lambdaError(e: AwsApiError, requestId: string): WireResponse {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-amzn-errortype': e.code,
    'x-amzn-requestid': requestId,
  };
  if (e.retryAfterSeconds !== undefined) headers['retry-after'] = String(e.retryAfterSeconds);
  return {
    status: e.status,
    headers,
    body: JSON.stringify({ Type: e.fault === 'Sender' ? 'User' : 'Service', message: e.message, ...e.extra }),
  };
}

/** A successful SQS response. */
export function sqsOk(body: unknown, requestId: string): WireResponse {
  return {
    status: 200,
    headers: { 'content-type': JSON10, 'x-amzn-requestid': requestId },
    body: JSON.stringify(body ?? {}),
  };
}

/** A successful Lambda response (no body for 204). */
export function lambdaOk(status: number, body: unknown, requestId: string): WireResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId },
    body: status === 204 ? '' : JSON.stringify(body ?? {}),
  };
}

const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

/** Escapes text for an XML element. */
export const xmlEscape = (v: string): string =>
  v.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );

/** STS (awsQuery) error: `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`. */
export function stsError(e: AwsApiError, requestId: string): WireResponse {
  return {
    status: e.status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body:
      `<ErrorResponse xmlns="${STS_NS}"><Error><Type>${e.fault}</Type><Code>${xmlEscape(e.code)}</Code>` +
      `<Message>${xmlEscape(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}

/** A successful STS response: `<{Action}Response><{Action}Result>…</{Action}Result><ResponseMetadata/>`. */
export function stsOk(action: string, resultXml: string, requestId: string): WireResponse {
  return {
    status: 200,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body:
      `<${action}Response xmlns="${STS_NS}"><${action}Result>${resultXml}</${action}Result>` +
      `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
  };
}
