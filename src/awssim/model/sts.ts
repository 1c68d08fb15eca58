// Identities of the simulated account: the roles that may be assumed (scenario or admin API), the
// temporary credentials AssumeRole hands out, and which access key id made each AWS call.
// Signatures are never verified; the access key id is read from the SigV4 Authorization header.

import { createHash } from 'node:crypto';
import { Rng } from '../engine/rng.ts';
import { stsErrors } from './errors.ts';

/** The account the simulator pretends to be (same as world.ts, kept here to avoid a cycle). */
const ACCOUNT = '000000000000';
/** Who a long-term (non-session) access key is. */
export const USER_ARN = `arn:aws:iam::${ACCOUNT}:user/awssim`;
export const USER_ID = 'AIDAAWSSIMUSER';
/** The key recorded for a request without a SigV4 Authorization header. */
export const ANONYMOUS = 'anonymous';

/** `arn:aws:iam::<12 digits>:role/<optional path/>name` */
export const ROLE_ARN_RE = /^arn:aws(?:-[a-z]+)*:iam::(\d{12}):role\/(?:[\x21-\x7e]+\/)?([\w+=,.@-]{1,64})$/;
/** STS's pattern for RoleSessionName (2–64 characters). */
const SESSION_NAME_RE = /^[\w+=,.@-]{2,64}$/;
/** STS's pattern for ExternalId (2–1,224 characters). */
export const EXTERNAL_ID_RE = /^[\w+=,.@:/-]{2,1224}$/;

/** A role that may be assumed. */
export interface RoleSpec {
  /** `arn:aws:iam::ACCOUNT:role/NAME` */
  readonly arn: string;
  /** When set, AssumeRole must pass exactly this `ExternalId` (the `sts:ExternalId` trust condition). */
  readonly externalId?: string | undefined;
  /** The role's MaxSessionDuration in seconds (3,600–43,200; default 3,600). */
  readonly maxSessionDuration?: number | undefined;
}

/** Temporary credentials handed out by AssumeRole. */
export interface Session {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** Epoch ms (wall clock: SDKs compare it with their own clock). */
  readonly expiration: number;
  readonly roleArn: string;
  readonly roleSessionName: string;
  /** `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION` */
  readonly assumedRoleArn: string;
  /** `AROA…:SESSION` */
  readonly assumedRoleId: string;
  /** The access key id that called AssumeRole. */
  readonly sourceAccessKeyId: string;
}

/** The identity GetCallerIdentity reports for an access key id. */
export interface CallerIdentity {
  readonly account: string;
  readonly arn: string;
  readonly userId: string;
}

/** The AssumeRole request parameters (as strings from the form body). */
export interface AssumeRoleInput {
  readonly RoleArn?: string | undefined;
  readonly RoleSessionName?: string | undefined;
  readonly ExternalId?: string | undefined;
  readonly DurationSeconds?: string | undefined;
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Reads the access key id from `Authorization: AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, …`. */
export function accessKeyIdOf(authorization: string | undefined, query?: URLSearchParams): string {
  const m = /Credential=([^/,\s]+)\//.exec(authorization ?? '');
  if (m?.[1]) return m[1];
  const q = query?.get('X-Amz-Credential');
  return q ? (q.split('/')[0] ?? ANONYMOUS) : ANONYMOUS;
}

/** The control-plane writes the journal keeps (who changed what, for fencing tests). */
const JOURNALED = new Set([
  'lambda:PutFunctionConcurrency',
  'lambda:DeleteFunctionConcurrency',
  'lambda:UpdateEventSourceMapping',
]);
const JOURNAL_MAX = 50_000;

/** One control-plane write: when, which operation, in which account, and whose keys made it. */
export interface JournaledWrite {
  /** Epoch ms on the simulation's clock. */
  at: number;
  op: string;
  /** The account the call acted in (the assumed role's, else awssim's own). */
  account: string;
  accessKeyId: string;
  /** For a session key, the long-term key that assumed the role; else the key itself. */
  sourceAccessKeyId: string;
}

/** Roles, sessions and calls by access key id. */
export class Sts {
  readonly roles = new Map<string, RoleSpec>();
  readonly sessions = new Map<string, Session>();
  readonly #calls = new Map<string, Map<string, number>>();
  readonly #journal: JournaledWrite[] = [];
  readonly #rng: Rng;

  constructor(seed: number) {
    this.#rng = Rng.stream(seed, 'sts');
  }

  /** Declares (or replaces) a role. Throws on a malformed ARN or external id. */
  addRole(role: RoleSpec): void {
    if (!ROLE_ARN_RE.test(role.arn))
      throw new Error(`role arn "${role.arn}" is not an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)`);
    if (role.externalId !== undefined && !EXTERNAL_ID_RE.test(role.externalId))
      throw new Error(`externalId of ${role.arn} must be 2–1224 characters of [\\w+=,.@:/-]`);
    const max = role.maxSessionDuration;
    if (max !== undefined && (!Number.isInteger(max) || max < 3600 || max > 43_200))
      throw new Error(`maxSessionDuration of ${role.arn} must be an integer from 3600 to 43200`);
    this.roles.set(role.arn, {
      arn: role.arn,
      ...(role.externalId !== undefined ? { externalId: role.externalId } : {}),
      maxSessionDuration: max ?? 3600,
    });
  }

  /** Removes a role (sessions already handed out stay usable, as on AWS). */
  removeRole(arn: string): boolean {
    return this.roles.delete(arn);
  }

  /** Who an access key id is: the assumed role for a session key, else the awssim IAM user. */
  identity(accessKeyId: string): CallerIdentity {
    const s = this.sessions.get(accessKeyId);
    if (s)
      return {
        account: ROLE_ARN_RE.exec(s.roleArn)?.[1] ?? ACCOUNT,
        arn: s.assumedRoleArn,
        userId: s.assumedRoleId,
      };
    return { account: ACCOUNT, arn: USER_ARN, userId: USER_ID };
  }

  /** AssumeRole: validates like STS, checks the trust (declared role, external id), mints credentials. */
  assumeRole(input: AssumeRoleInput, caller: string, nowMs: number): Session {
    const { RoleArn: arn, RoleSessionName: name, ExternalId: externalId } = input;
    if (arn === undefined || arn === '')
      throw stsErrors.constraint('roleArn', null, 'Member must not be null');
    if (arn.length < 20 || arn.length > 2048)
      throw stsErrors.constraint(
        'roleArn',
        arn,
        arn.length < 20
          ? 'Member must have length greater than or equal to 20'
          : 'Member must have length less than or equal to 2048',
      );
    if (name === undefined || name === '')
      throw stsErrors.constraint('roleSessionName', null, 'Member must not be null');
    if (!SESSION_NAME_RE.test(name))
      throw stsErrors.constraint(
        'roleSessionName',
        name,
        name.length < 2
          ? 'Member must have length greater than or equal to 2'
          : name.length > 64
            ? 'Member must have length less than or equal to 64'
            : 'Member must satisfy regular expression pattern: [\\w+=,.@-]*',
      );
    if (externalId !== undefined && !EXTERNAL_ID_RE.test(externalId))
      throw stsErrors.constraint(
        'externalId',
        externalId,
        externalId.length < 2
          ? 'Member must have length greater than or equal to 2'
          : 'Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*',
      );
    const duration = input.DurationSeconds === undefined ? 3600 : Number(input.DurationSeconds);
    if (!Number.isInteger(duration) || duration < 900 || duration > 43_200)
      throw stsErrors.constraint(
        'durationSeconds',
        String(input.DurationSeconds),
        duration > 43_200
          ? 'Member must have value less than or equal to 43200'
          : 'Member must have value greater than or equal to 900',
      );
    const m = ROLE_ARN_RE.exec(arn);
    const role = this.roles.get(arn);
    const callerArn = this.identity(caller).arn;
    if (!m || !role) throw stsErrors.accessDenied(callerArn, arn);
    if (role.externalId !== undefined && externalId !== role.externalId)
      throw stsErrors.accessDenied(callerArn, arn);
    if (this.sessions.has(caller) && duration > 3600)
      throw stsErrors.validation(
        'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
      );
    if (duration > (role.maxSessionDuration ?? 3600))
      throw stsErrors.validation(
        'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
      );
    const account = m[1] as string;
    const roleName = m[2] as string;
    const s: Session = {
      accessKeyId: `ASIA${this.#chars(B32, 16)}`,
      secretAccessKey: this.#chars(B64, 40),
      sessionToken: `IQoJb3JpZ2luX2VjE${this.#chars(B64, 340)}`,
      expiration: Math.floor(nowMs / 1000) * 1000 + duration * 1000,
      roleArn: arn,
      roleSessionName: name,
      assumedRoleArn: `arn:aws:sts::${account}:assumed-role/${roleName}/${name}`,
      assumedRoleId: `${roleIdOf(arn)}:${name}`,
      sourceAccessKeyId: caller,
    };
    this.sessions.set(s.accessKeyId, s);
    return s;
  }

  /**
   * Counts one AWS call (`sqs:GetQueueAttributes`, …) made with an access key id, and journals it
   * (with `at`, epoch ms) when it is a control-plane write.
   */
  recordCall(accessKeyId: string, op: string, at?: number): void {
    if (at !== undefined && JOURNALED.has(op)) {
      if (this.#journal.length >= JOURNAL_MAX) this.#journal.shift();
      this.#journal.push({
        at,
        op,
        account: this.identity(accessKeyId).account,
        accessKeyId,
        sourceAccessKeyId: this.sessions.get(accessKeyId)?.sourceAccessKeyId ?? accessKeyId,
      });
    }
    let m = this.#calls.get(accessKeyId);
    if (!m) {
      m = new Map();
      this.#calls.set(accessKeyId, m);
    }
    m.set(op, (m.get(op) ?? 0) + 1);
  }

  /** The control-plane writes, oldest first (the newest 50,000). */
  writes(): readonly JournaledWrite[] {
    return this.#journal;
  }

  /** Forgets the call counts (roles and sessions stay). */
  resetCalls(): void {
    this.#calls.clear();
  }

  /**
   * Calls by access key id → operation → count. With `byRole`, calls made with session keys are
   * summed under their role ARN instead (long-term keys stay under their key id).
   */
  calls(byRole = false): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [key, ops] of [...this.#calls].sort(([a], [b]) => a.localeCompare(b))) {
      const k = byRole ? (this.sessions.get(key)?.roleArn ?? key) : key;
      const into = out[k] ?? {};
      out[k] = into;
      for (const [op, n] of [...ops].sort(([a], [b]) => a.localeCompare(b))) into[op] = (into[op] ?? 0) + n;
    }
    return out;
  }

  /** Roles and sessions as plain JSON (secrets left out). */
  toJSON(): {
    roles: RoleSpec[];
    sessions: Record<
      string,
      Omit<Session, 'secretAccessKey' | 'sessionToken' | 'expiration'> & { expiration: string }
    >;
  } {
    const sessions: Record<
      string,
      Omit<Session, 'secretAccessKey' | 'sessionToken' | 'expiration'> & { expiration: string }
    > = {};
    for (const [k, s] of this.sessions) {
      const { secretAccessKey: _s, sessionToken: _t, expiration, ...rest } = s;
      sessions[k] = { ...rest, expiration: isoSeconds(expiration) };
    }
    return { roles: [...this.roles.values()], sessions };
  }

  #chars(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.#rng.next() * alphabet.length)];
    return s;
  }
}

/** A stable role id (`AROA` + 17 characters) derived from the role ARN. */
export function roleIdOf(arn: string): string {
  const h = createHash('sha256').update(arn).digest();
  let s = 'AROA';
  for (let i = 0; i < 17; i++) s += B32[(h[i] as number) % 32];
  return s;
}

/** ISO 8601 without milliseconds, as STS writes timestamps. */
export const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
