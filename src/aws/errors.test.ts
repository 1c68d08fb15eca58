import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsErrorCode, classify, ErrorClass, sanitize } from './errors.ts';

interface Case {
  error: unknown;
  code: AwsErrorCode;
  errorClass: ErrorClass;
}

const sdkError = (name: string, status?: number, fault?: 'client' | 'server') =>
  Object.assign(new Error(`${name} happened`), {
    name,
    $fault: fault,
    $metadata: status === undefined ? {} : { httpStatusCode: status },
  });

const cases = {
  'Lambda throttling': {
    error: sdkError('TooManyRequestsException', 429, 'client'),
    code: AwsErrorCode.Throttled,
    errorClass: ErrorClass.Transient,
  },
  'a bare 429': {
    error: sdkError('Unknown', 429),
    code: AwsErrorCode.Throttled,
    errorClass: ErrorClass.Transient,
  },
  'a missing queue': {
    error: sdkError('QueueDoesNotExist', 400, 'client'),
    code: AwsErrorCode.QueueNotFound,
    errorClass: ErrorClass.Permanent,
  },
  'a missing function': {
    error: sdkError('ResourceNotFoundException', 404, 'client'),
    code: AwsErrorCode.FunctionNotFound,
    errorClass: ErrorClass.Permanent,
  },
  'access denied': {
    error: sdkError('AccessDeniedException', 403, 'client'),
    code: AwsErrorCode.AccessDenied,
    errorClass: ErrorClass.Permanent,
  },
  'a service error': {
    error: sdkError('ServiceException', 500, 'server'),
    code: AwsErrorCode.Unavailable,
    errorClass: ErrorClass.Transient,
  },
  'a refused connection': {
    error: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
    code: AwsErrorCode.Unavailable,
    errorClass: ErrorClass.Transient,
  },
  'the unreserved-100 rule': {
    error: sdkError('InvalidParameterValueException', 400, 'client'),
    code: AwsErrorCode.InvalidParameter,
    errorClass: ErrorClass.Permanent,
  },
} satisfies Record<string, Case>;

describe('classify', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(`treats ${name} as ${c.errorClass} ${c.code}`, () => {
      const classified = classify(c.error, 'lambda GetFunction');
      assert.equal(classified.code, c.code);
      assert.equal(classified.errorClass, c.errorClass);
      assert.match(classified.message, /^lambda GetFunction: /);
    });
  }

  it('keeps the server-requested Retry-After', () => {
    const error = Object.assign(sdkError('TooManyRequestsException', 429), {
      $response: { headers: { 'retry-after': '3' } },
    });
    assert.equal(classify(error, 'x').retryAfterSeconds, 3);
  });
});

describe('sanitize', () => {
  it('removes access keys, signatures and request ids, and keeps the sense', () => {
    const message =
      'The security token AKIAIOSFODNN7EXAMPLE is invalid. Credential=AKIAIOSFODNN7EXAMPLE/20260101 Signature=abcdef0123 RequestId: 8f2b6c1e-1111-2222-3333-444455556666';
    const clean = sanitize(message);
    assert.doesNotMatch(clean, /AKIA|abcdef0123|8f2b6c1e/);
    assert.match(clean, /security token \[REDACTED\] is invalid/);
  });

  it('removes the secret values it is given, wherever they appear', () => {
    assert.equal(
      sanitize('bad key wJalrXUtnFEMI/K7MDENG here', ['wJalrXUtnFEMI/K7MDENG']),
      'bad key [REDACTED] here',
    );
  });

  it('reads the same for the same failure with different request ids', () => {
    const a = sanitize('Rate exceeded (Request ID: 11111111-aaaa-bbbb-cccc-000000000001)');
    const b = sanitize('Rate exceeded (Request ID: 22222222-aaaa-bbbb-cccc-000000000002)');
    assert.equal(a, b);
  });
});

describe('classify, on answers that are not AWS answers', () => {
  it('reads a non-JSON body as a malformed response, not as access denied, and drops the body', () => {
    const error = Object.assign(
      new SyntaxError(`Unexpected token '<', "<html>secret page</html>" is not valid JSON`),
      {
        $metadata: { httpStatusCode: 403 },
      },
    );
    error.message += ' Deserialization error: to see the raw response, inspect the hidden field';
    const classified = classify(error, 'sqs GetQueueAttributes');
    assert.equal(classified.code, AwsErrorCode.MalformedResponse);
    assert.equal(classified.errorClass, ErrorClass.Transient);
    assert.equal(
      classified.message,
      'sqs GetQueueAttributes: the endpoint answered HTTP 403 with something that is not an AWS response',
    );
  });

  it('reads the refusal of a reservation that would leave less than 100 unreserved as headroom, not as a bad spec', () => {
    const error = Object.assign(
      new Error(
        "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].",
      ),
      { name: 'InvalidParameterValueException', $fault: 'client', $metadata: { httpStatusCode: 400 } },
    );
    const classified = classify(error, 'lambda PutFunctionConcurrency');
    assert.equal(classified.code, AwsErrorCode.InsufficientHeadroom);
    assert.equal(classified.errorClass, ErrorClass.Transient);
  });
});
