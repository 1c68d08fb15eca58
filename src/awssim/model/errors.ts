// Typed errors of the simulated AWS APIs. The model throws them with the AWS error code and HTTP
// status; the wire layer only renders them in each protocol's format.

/** An AWS API error as the real service would return it. */
export class AwsApiError extends Error {
  override readonly name = 'AwsApiError';
  /** AWS error code, the shape name in the API model (e.g. `QueueDoesNotExist`). */
  readonly code: string;
  /** HTTP status code the real service uses for this error. */
  readonly status: number;
  /** Whether the caller (Sender) or the service (Receiver) is at fault. */
  readonly fault: 'Sender' | 'Receiver';
  /** Seconds to put in `Retry-After`, for throttling errors. */
  readonly retryAfterSeconds: number | undefined;
  /** Extra body fields (e.g. Lambda's `Reason`). */
  readonly extra: Record<string, string>;

  constructor(
    code: string,
    status: number,
    message: string,
    opts: { fault?: 'Sender' | 'Receiver'; retryAfterSeconds?: number; extra?: Record<string, string> } = {},
  ) {
    super(message);
    this.code = code;
    this.status = status;
    this.fault = opts.fault ?? (status >= 500 ? 'Receiver' : 'Sender');
    this.retryAfterSeconds = opts.retryAfterSeconds;
    this.extra = opts.extra ?? {};
  }
}

/** SQS errors (status codes and messages from the SQS API model and the live service). */
export const sqsErrors = {
  queueDoesNotExist: () => new AwsApiError('QueueDoesNotExist', 400, 'The specified queue does not exist.'),
  queueNameExists: (name: string) =>
    new AwsApiError(
      'QueueNameExists',
      400,
      `A queue already exists with the same name and a different value for attribute(s) of ${name}`,
    ),
  invalidAttributeName: (name: string) =>
    new AwsApiError('InvalidAttributeName', 400, `Unknown Attribute ${name}.`),
  invalidAttributeValue: (message: string) => new AwsApiError('InvalidAttributeValue', 400, message),
  invalidParameterValue: (message: string) => new AwsApiError('InvalidParameterValue', 400, message),
  receiptHandleIsInvalid: (handle: string) =>
    new AwsApiError(
      'ReceiptHandleIsInvalid',
      404,
      `The input receipt handle "${handle}" is not a valid receipt handle.`,
    ),
  messageNotInflight: () =>
    new AwsApiError('MessageNotInflight', 400, 'The message referred to is not in flight.'),
  purgeInProgress: (url: string) =>
    new AwsApiError(
      'PurgeQueueInProgress',
      403,
      `Only one PurgeQueue operation on ${url} is allowed every 60 seconds.`,
    ),
  emptyBatch: () =>
    new AwsApiError(
      'EmptyBatchRequest',
      400,
      'There should be at least one SendMessageBatchRequestEntry in the request.',
    ),
  tooManyEntries: (n: number) =>
    new AwsApiError(
      'TooManyEntriesInBatchRequest',
      400,
      `Maximum number of entries per request are 10. You have sent ${n}.`,
    ),
  idsNotDistinct: () =>
    new AwsApiError(
      'BatchEntryIdsNotDistinct',
      400,
      'Two or more batch entries in the request have the same Id.',
    ),
  invalidBatchEntryId: () =>
    new AwsApiError(
      'InvalidBatchEntryId',
      400,
      'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
    ),
  invalidMessageContents: () =>
    new AwsApiError(
      'InvalidMessageContents',
      400,
      'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF',
    ),
  missingParameter: (name: string) =>
    new AwsApiError('MissingParameter', 400, `The request must contain the parameter ${name}.`),
  throttled: () => new AwsApiError('RequestThrottled', 403, 'Request is throttled.'),
  internal: () =>
    new AwsApiError('InternalError', 500, 'We encountered an internal error. Please try again.'),
} as const;

/** Lambda errors (status codes from the Lambda API model, messages as the live service words them). */
export const lambdaErrors = {
  functionNotFound: (arn: string) =>
    new AwsApiError('ResourceNotFoundException', 404, `Function not found: ${arn}`),
  resourceNotFound: (message = 'The resource you requested does not exist.') =>
    new AwsApiError('ResourceNotFoundException', 404, message),
  invalidParameter: (message: string) => new AwsApiError('InvalidParameterValueException', 400, message),
  validation: (message: string) => new AwsApiError('ValidationException', 400, message),
  conflict: (message: string) => new AwsApiError('ResourceConflictException', 409, message),
  provisionedNotFound: (name: string) =>
    new AwsApiError(
      'ProvisionedConcurrencyConfigNotFoundException',
      404,
      `No Provisioned Concurrency Config found for this function: ${name}`,
    ),
  tooManyRequests: (retryAfterSeconds = 1) =>
    new AwsApiError('TooManyRequestsException', 429, 'Rate exceeded', {
      retryAfterSeconds,
      extra: { Reason: 'CallerRateLimitExceeded' },
    }),
  service: () => new AwsApiError('ServiceException', 500, 'An internal error occurred (simulated fault).'),
  /** A resource of another account without a resource-based policy granting the caller (IAM's 403). */
  accessDenied: (resource: string, principal: string) =>
    new AwsApiError(
      'AccessDeniedException',
      403,
      `User: ${principal} is not authorized to perform this action on resource: ${resource} because no resource-based policy allows it`,
    ),
} as const;

/** The message AWS uses when a reservation would leave fewer than the minimum unreserved. */
export const unreservedFloorMessage = (floor: number): string =>
  `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${floor}].`;

/** STS errors (awsQuery codes as the live service returns them; STS words validation like Coral). */
export const stsErrors = {
  accessDenied: (caller: string, roleArn: string) =>
    new AwsApiError(
      'AccessDenied',
      403,
      `User: ${caller} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
    ),
  validation: (message: string) => new AwsApiError('ValidationError', 400, message),
  /** A constraint violation, worded as STS's "1 validation error detected" messages. */
  constraint: (field: string, value: string | null, constraint: string) =>
    new AwsApiError(
      'ValidationError',
      400,
      `1 validation error detected: Value ${value === null ? 'null' : `'${value}'`} at '${field}' failed to satisfy constraint: ${constraint}`,
    ),
  invalidAction: (action: string) =>
    new AwsApiError('InvalidAction', 400, `Could not find operation ${action} for version 2011-06-15`),
  throttled: () => new AwsApiError('Throttling', 400, 'Rate exceeded'),
  internal: () => new AwsApiError('InternalFailure', 500, 'An internal error occurred (simulated fault).'),
} as const;
