// What a tenant may write as a queue or function reference, and what such a reference says about
// its Region and account. Every field a tenant writes is hostile until checked: a queue URL may
// only name an SQS endpoint of an AWS partition (never an IP literal, a port or another host), and
// the Regions and accounts that ARNs and URLs name must agree with each other and with the scaler.
// Each rule is written twice, as CEL for the CRD and as TypeScript for the controller, and the
// integration tests run both on the same inputs.

/** An AWS Region name (us-east-1, us-gov-west-1, us-isob-east-1, ...). */
export const REGION_SOURCE = '[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]';

const QUEUE_NAME = '[A-Za-z0-9_-]{1,75}\\.fifo|[A-Za-z0-9_-]{1,80}';

/**
 * The DNS suffixes of AWS partitions that serve SQS: aws and aws-us-gov (amazonaws.com, dual-stack
 * api.aws), aws-cn (amazonaws.com.cn), aws-iso (c2s.ic.gov), aws-iso-b (sc2s.sgov.gov), aws-iso-e
 * (cloud.adc-e.uk), aws-iso-f (csp.hci.ic.gov) and aws-eusc (amazonaws.eu).
 */
const PARTITION_SUFFIX =
  'amazonaws\\.com|amazonaws\\.com\\.cn|api\\.aws|c2s\\.ic\\.gov|sc2s\\.sgov\\.gov|cloud\\.adc-e\\.uk|csp\\.hci\\.ic\\.gov|amazonaws\\.eu';

/**
 * SQS endpoints of AWS partitions: sqs.REGION.SUFFIX (and sqs-fips), and the legacy
 * REGION.queue.amazonaws.com and queue.amazonaws.com (us-east-1) that older queue URLs carry.
 */
const SQS_HOST = `sqs(-fips)?\\.${REGION_SOURCE}\\.(${PARTITION_SUFFIX})|${REGION_SOURCE}\\.queue\\.amazonaws\\.com(\\.cn)?|queue\\.amazonaws\\.com`;

/** A queue URL as AWS issues it: https, an SQS host of an AWS partition, no port or user, account/name. */
export const QUEUE_URL_SOURCE = `https://(${SQS_HOST})/[0-9]{12}/(${QUEUE_NAME})`;

const QUEUE_ARN_SOURCE = `arn:aws[a-zA-Z-]*:sqs:${REGION_SOURCE}:[0-9]{12}:(${QUEUE_NAME})`;

/** A queue name, a queue URL of an AWS SQS endpoint, or a queue ARN. */
export const QUEUE_PATTERN = new RegExp(`^(${QUEUE_NAME}|${QUEUE_URL_SOURCE}|${QUEUE_ARN_SOURCE})$`);

/**
 * Lambda's own FunctionName pattern (name, ARN or partial ARN) without the version/alias
 * qualifier: reserved concurrency belongs to the function, not to a version or alias.
 */
export const FUNCTION_PATTERN =
  /^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9_-]+)$/;

/** A Kubernetes object name (DNS-1123 subdomain), as the API server requires of a Secret's name. */
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A Kubernetes namespace name (DNS-1123 label). */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const REGION = new RegExp(REGION_SOURCE);
const REGION_PREFIX = new RegExp(`^${REGION_SOURCE}:`);
const ACCOUNT_IN_FUNCTION = /(^|:)[0-9]{12}:/;

/** The Region a queue URL or ARN names; '' for a plain name (it has none). */
export function queueRegion(queue: string): string {
  if (queue.startsWith('arn:')) return queue.split(':')[3] ?? '';
  if (queue.startsWith('https://')) {
    const host = queue.split('/')[2] ?? '';
    return host === 'queue.amazonaws.com' ? 'us-east-1' : (REGION.exec(host)?.[0] ?? '');
  }
  return '';
}

/** The account a queue URL or ARN names; '' for a plain name. */
export function queueAccount(queue: string): string {
  if (queue.startsWith('arn:')) return queue.split(':')[4] ?? '';
  if (queue.startsWith('https://')) return queue.split('/')[3] ?? '';
  return '';
}

/** The Region a function ARN (or a Region-prefixed partial ARN) names; '' when it names none. */
export function functionRegion(fn: string): string {
  if (fn.startsWith('arn:')) return fn.split(':')[3] ?? '';
  return REGION_PREFIX.test(fn) ? (fn.split(':')[0] ?? '') : '';
}

/** The account a function ARN or partial ARN names; '' when it names none. */
export function functionAccount(fn: string): string {
  return (ACCOUNT_IN_FUNCTION.exec(fn)?.[0] ?? '').replaceAll(':', '');
}

/** The account of an IAM role ARN; '' when it is not one. */
export function roleAccount(roleArn: string): string {
  return roleArn.startsWith('arn:') ? (roleArn.split(':')[4] ?? '') : '';
}

/** The bare function name of a name, ARN or partial ARN. */
export function functionName(fn: string): string {
  return FUNCTION_PATTERN.exec(fn)?.[7] ?? fn;
}

// The same functions in CEL, over the spec (`self`). `find` is Kubernetes' regex library and
// `split`/`replace` its strings extension (both in every supported Kubernetes release).
const Q = 'self.awsSQSName';
const F = 'self.awsLambdaName';
export const CEL = {
  queueRegion: `(${Q}.startsWith('arn:') ? ${Q}.split(':')[3] : (${Q}.startsWith('https://') ? (${Q}.split('/')[2] == 'queue.amazonaws.com' ? 'us-east-1' : ${Q}.split('/')[2].find('${REGION_SOURCE}')) : ''))`,
  functionRegion: `(${F}.startsWith('arn:') ? ${F}.split(':')[3] : (${F}.matches('^${REGION_SOURCE}:') ? ${F}.split(':')[0] : ''))`,
  functionAccount: `${F}.find('(^|:)[0-9]{12}:').replace(':', '')`,
  roleAccount: `self.credentials.roleArn.split(':')[4]`,
} as const;

/** A reference that contradicts another, or the scaler's Region or identity. */
export interface Contradiction {
  path: string;
  message: string;
}

/**
 * The contradictions between the queue, the function, the Region and the role a spec names.
 * `region` is the scaler's effective Region (spec.region, else what the references name, else the
 * operator's default), undefined when unknown (then no Region is checked); `identityAccount` the
 * account the scaler acts as, when known.
 */
export function contradictions(
  spec: { awsSQSName: string; awsLambdaName: string; region?: string | undefined },
  region: string | undefined,
  identityAccount: string | undefined,
): Contradiction[] {
  const out: Contradiction[] = [];
  const q = region === undefined ? '' : queueRegion(spec.awsSQSName);
  const f = region === undefined ? '' : functionRegion(spec.awsLambdaName);
  if (q !== '' && q !== region)
    out.push({
      path: 'spec.awsSQSName',
      message: `the queue is in Region ${q} but the scaler acts in ${region}`,
    });
  if (f !== '' && f !== region)
    out.push({
      path: 'spec.awsLambdaName',
      message: `the function is in Region ${f} but the scaler acts in ${region}`,
    });
  const account = functionAccount(spec.awsLambdaName);
  if (identityAccount !== undefined && account !== '' && account !== identityAccount)
    out.push({
      path: 'spec.awsLambdaName',
      message: `the function is in account ${account} but the scaler acts as account ${identityAccount}`,
    });
  return out;
}

/**
 * The Region a scaler acts in: spec.region, else the Region its function or queue reference
 * names (an ARN or URL is never silently sent to another Region), else the operator's default.
 */
export function scalerRegion(
  spec: { awsSQSName: string; awsLambdaName: string; region?: string | undefined },
  defaultRegion: string,
): string {
  return spec.region ?? (functionRegion(spec.awsLambdaName) || queueRegion(spec.awsSQSName) || defaultRegion);
}
