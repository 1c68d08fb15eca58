// STS over awsQuery: `POST /` with a form body `Action=AssumeRole&Version=2011-06-15&…`, XML
// answers. Told apart from SQS (X-Amz-Target) and Lambda (REST paths) by the form and its Action.

import { stsErrors } from '../model/errors.ts';
import { isoSeconds } from '../model/sts.ts';
import type { World } from '../model/world.ts';
import { xmlEscape } from './errors.ts';

/** The API version STS speaks. */
export const STS_VERSION = '2011-06-15';

/**
 * The STS action of a request, or undefined when it is not one: `/` with `Action=` in the form body
 * (POST) or the query string (GET), and no other service's `Version`.
 */
export function stsRequest(
  method: string,
  url: URL,
  contentType: string | undefined,
  body: string,
): { action: string; params: URLSearchParams } | undefined {
  if (url.pathname !== '/') return undefined;
  let params: URLSearchParams;
  if (method === 'POST') {
    const isForm = (contentType ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
    if (!isForm && !/^Action=|&Action=/.test(body)) return undefined;
    params = new URLSearchParams(body);
  } else if (method === 'GET') params = url.searchParams;
  else return undefined;
  const action = params.get('Action');
  const version = params.get('Version');
  if (!action || (version !== null && version !== STS_VERSION)) return undefined;
  return { action, params };
}

const el = (name: string, value: string): string => `<${name}>${xmlEscape(value)}</${name}>`;

/** Runs one STS action for `caller` (an access key id); returns the inner XML of `<{Action}Result>`. */
export function handleSts(
  world: World,
  action: string,
  params: URLSearchParams,
  caller: string,
  wallNowMs: number,
): string {
  const p = (k: string): string | undefined => params.get(k) ?? undefined;
  switch (action) {
    case 'AssumeRole':
      return world.call('sts:AssumeRole', () => {
        const s = world.sts.assumeRole(
          {
            RoleArn: p('RoleArn'),
            RoleSessionName: p('RoleSessionName'),
            ExternalId: p('ExternalId'),
            DurationSeconds: p('DurationSeconds'),
          },
          caller,
          wallNowMs,
        );
        return (
          `<Credentials>${el('AccessKeyId', s.accessKeyId)}${el('SecretAccessKey', s.secretAccessKey)}` +
          `${el('SessionToken', s.sessionToken)}${el('Expiration', isoSeconds(s.expiration))}</Credentials>` +
          `<AssumedRoleUser>${el('AssumedRoleId', s.assumedRoleId)}${el('Arn', s.assumedRoleArn)}</AssumedRoleUser>`
        );
      });
    case 'GetCallerIdentity':
      return world.call('sts:GetCallerIdentity', () => {
        const id = world.sts.identity(caller);
        return `${el('UserId', id.userId)}${el('Account', id.account)}${el('Arn', id.arn)}`;
      });
    default:
      return world.call(`sts:${action}`, () => {
        throw stsErrors.invalidAction(action);
      });
  }
}
