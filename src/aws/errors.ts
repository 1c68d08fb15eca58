// One place that decides what an AWS failure means for a scaler: permanent (the user must fix
// something: Stalled) or transient (retry with backoff, hold the last value), and that strips
// request ids and credentials from messages before they reach status, events or logs.

/** How the controller should treat a failure. */
export const ErrorClass = {
  /** Queue or function missing, access denied, invalid request: needs a human; retry slowly. */
  Permanent: 'Permanent',
  /** Throttling, 5xx, timeouts, connection errors: retry with backoff. */
  Transient: 'Transient',
} as const;
export type ErrorClass = (typeof ErrorClass)[keyof typeof ErrorClass];

/** Stable codes the controller maps to condition reasons. */
export const AwsErrorCode = {
  QueueNotFound: 'QueueNotFound',
  FunctionNotFound: 'FunctionNotFound',
  AccessDenied: 'AccessDenied',
  InvalidParameter: 'InvalidParameter',
  Throttled: 'Throttled',
  Unavailable: 'Unavailable',
  CredentialsUnavailable: 'CredentialsUnavailable',
  /** PutFunctionConcurrency refused: it would leave the account less than 100 unreserved. */
  InsufficientHeadroom: 'InsufficientHeadroom',
  /** The caller gave up (its scaler was deleted, or the manager is stopping). */
  Cancelled: 'Cancelled',
  /** The endpoint answered something that is not an AWS answer (an HTML page, a proxy's error). */
  MalformedResponse: 'MalformedResponse',
  /**
   * Not sent: the operator's own budget for the account is booked for longer than a poll (the
   * token bucket's line is full). Nothing failed; the scaler tries again after `retryAfterSeconds`.
   */
  Deferred: 'Deferred',
  Unknown: 'Unknown',
} as const;
export type AwsErrorCode = (typeof AwsErrorCode)[keyof typeof AwsErrorCode];

/** A classified AWS failure; `message` is already safe to show. */
export class AwsError extends Error {
  override readonly name = 'AwsError';
  readonly code: AwsErrorCode;
  readonly errorClass: ErrorClass;
  /** The AWS error name (e.g. `ResourceNotFoundException`), when there was one. */
  readonly awsName: string | undefined;
  /** Seconds the server asked us to wait (Retry-After), when it did. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    message: string,
    options: {
      code: AwsErrorCode;
      errorClass: ErrorClass;
      awsName?: string | undefined;
      retryAfterSeconds?: number | undefined;
      cause?: unknown;
    },
  ) {
    super(message, { cause: options.cause });
    this.code = options.code;
    this.errorClass = options.errorClass;
    this.awsName = options.awsName;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

const SECRET_PATTERNS: [RegExp, string][] = [
  [/\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}\b/g, '[REDACTED]'],
  [
    /(Credential|Signature|X-Amz-Security-Token|SessionToken|SecretAccessKey|aws_secret_access_key)([=:]\s*)[^\s,;"&]+/gi,
    '$1$2[REDACTED]',
  ],
  [/\b(Request ?Id|RequestId|x-amzn-RequestId|x-amz-request-id)\s*[:=]?\s*[A-Za-z0-9-]+/gi, ''],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<id>'],
];

/**
 * Removes credentials and per-request identifiers from a message, so the same failure reads the
 * same way on every poll (no status churn) and nothing secret leaves the process.
 */
export function sanitize(message: string, secrets: readonly string[] = []): string {
  let out = message;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[REDACTED]');
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out
    .replace(/\s{2,}/g, ' ')
    .replace(/[\s.,;:]+$/, '')
    .trim();
}

interface SdkLikeError {
  name?: string;
  message?: string;
  code?: string;
  Code?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
  $retryable?: { throttling?: boolean };
}

const THROTTLING = new Set([
  'TooManyRequestsException',
  'ThrottlingException',
  'Throttling',
  'RequestThrottled',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'RequestThrottledException',
  'SlowDown',
]);
const NOT_FOUND_QUEUE = new Set([
  'QueueDoesNotExist',
  'AWS.SimpleQueueService.NonExistentQueue',
  'NonExistentQueue',
]);
const ACCESS_DENIED = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'ExpiredTokenException',
  'KMSAccessDeniedException',
]);
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'TimeoutError',
  'AbortError',
]);

/** Classifies any error thrown by an SDK v3 client (or the network under it). */
export function classify(error: unknown, context: string, secrets: readonly string[] = []): AwsError {
  if (error instanceof AwsError) return error;
  const e = (error ?? {}) as SdkLikeError;
  const name = e.name ?? e.Code ?? e.code ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const retryAfter = Number(e.$response?.headers?.['retry-after']);
  const text = sanitize(`${context}: ${e.message ?? String(error)}`, secrets);
  const make = (code: AwsErrorCode, errorClass: ErrorClass) =>
    new AwsError(text, {
      code,
      errorClass,
      awsName: name,
      retryAfterSeconds: Number.isFinite(retryAfter) ? retryAfter : undefined,
      cause: error,
    });

  if (THROTTLING.has(name) || status === 429 || e.$retryable?.throttling === true) {
    return make(AwsErrorCode.Throttled, ErrorClass.Transient);
  }
  if (name === 'SyntaxError' || /Deserialization error/.test(e.message ?? '')) {
    // Not an AWS answer at all (an HTML page, a proxy's error): say so, never "access denied",
    // and keep the body out of the message.
    return new AwsError(
      sanitize(
        `${context}: the endpoint answered${status === undefined ? '' : ` HTTP ${status}`} with something that is not an AWS response`,
        secrets,
      ),
      { code: AwsErrorCode.MalformedResponse, errorClass: ErrorClass.Transient, awsName: name, cause: error },
    );
  }
  if (NOT_FOUND_QUEUE.has(name)) return make(AwsErrorCode.QueueNotFound, ErrorClass.Permanent);
  if (name === 'ResourceNotFoundException') return make(AwsErrorCode.FunctionNotFound, ErrorClass.Permanent);
  if (ACCESS_DENIED.has(name) || status === 403) return make(AwsErrorCode.AccessDenied, ErrorClass.Permanent);
  if (name === 'CredentialsProviderError')
    return make(AwsErrorCode.CredentialsUnavailable, ErrorClass.Permanent);
  if (NETWORK.has(name) || NETWORK.has(e.code ?? ''))
    return make(AwsErrorCode.Unavailable, ErrorClass.Transient);
  if (e.$fault === 'server' || (status !== undefined && status >= 500)) {
    return make(AwsErrorCode.Unavailable, ErrorClass.Transient);
  }
  if (name === 'InvalidParameterValueException' && /UnreservedConcurrentExecution/i.test(e.message ?? '')) {
    // AWS's words: "...decreases account's UnreservedConcurrentExecution below its minimum value
    // of [100]". Not the user's fault and not permanent: the pool moves as other functions scale.
    return make(AwsErrorCode.InsufficientHeadroom, ErrorClass.Transient);
  }
  if (
    name === 'InvalidParameterValueException' ||
    name === 'ValidationException' ||
    name === 'InvalidAttributeName' ||
    name === 'InvalidParameterValue'
  ) {
    return make(AwsErrorCode.InvalidParameter, ErrorClass.Permanent);
  }
  if (e.$fault === 'client') return make(AwsErrorCode.Unknown, ErrorClass.Permanent);
  // No response at all (socket errors surface with assorted names): worth retrying.
  return make(status === undefined ? AwsErrorCode.Unavailable : AwsErrorCode.Unknown, ErrorClass.Transient);
}
