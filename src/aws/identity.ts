// Which AWS identity a scaler acts as: the operator's own (the default provider chain), static
// keys from a Secret in the scaler's own namespace, and/or an IAM role assumed through STS with
// cached, self-refreshing credentials. The result keys the client cache, so a rotated Secret
// (a new resourceVersion) gets new clients at the next poll without a restart.
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import type { LambdaConcurrencyScalerSpec } from '../api/v1alpha1/index.ts';
import type { AwsIdentity } from './clients.ts';
import { AwsError, AwsErrorCode, ErrorClass } from './errors.ts';

/** A Secret as the identity resolver needs it: decoded data and its version. */
export interface SecretData {
  data: Record<string, string>;
  resourceVersion: string;
}

/** Reads a Secret; rejects with `{ code: 404 | 403 }`-like errors when it cannot. */
export type SecretReader = (namespace: string, name: string) => Promise<SecretData>;

const ROLE_ACCOUNT = /^arn:aws[a-zA-Z-]*:iam::([0-9]{12}):role\//;

const denied = (message: string) =>
  new AwsError(message, { code: AwsErrorCode.CredentialsUnavailable, errorClass: ErrorClass.Permanent });

/** Resolves and caches identities; one instance per manager. */
export class IdentityResolver {
  readonly #readSecret: SecretReader;
  readonly #now: () => number;
  readonly #secretTtlMs: number;
  readonly #secrets = new Map<string, { at: number; value: SecretData }>();
  readonly #roles = new Map<string, AwsCredentialIdentityProvider>();
  readonly #stsEndpoint: string | undefined;
  readonly #callTimeoutMs: number;

  constructor(options: {
    readSecret: SecretReader;
    now: () => number;
    secretTtlMs?: number;
    stsEndpoint?: string | undefined;
    callTimeoutMs?: number | undefined;
  }) {
    this.#callTimeoutMs = options.callTimeoutMs ?? 10_000;
    this.#readSecret = options.readSecret;
    this.#now = options.now;
    this.#secretTtlMs = options.secretTtlMs ?? 30_000;
    this.#stsEndpoint = options.stsEndpoint;
  }

  /** The identity for a scaler in `namespace` with `spec`. Throws a permanent AwsError when it cannot. */
  async resolve(namespace: string, spec: LambdaConcurrencyScalerSpec, region: string): Promise<AwsIdentity> {
    const c = spec.credentials;
    if (c === undefined || (c.secretRef === undefined && c.roleArn === undefined)) return { key: 'default' };
    let base: AwsIdentity = { key: 'default' };
    if (c.secretRef !== undefined) {
      const ref = c.secretRef;
      if (ref.namespace !== undefined && ref.namespace !== namespace) {
        throw denied(
          `credentials.secretRef names a Secret in namespace ${ref.namespace}; the operator reads Secrets only from the scaler's own namespace (${namespace})`,
        );
      }
      const secret = await this.#secret(namespace, ref.name);
      const keyId = secret.data[ref.accessKeyIdKey ?? 'AWS_ACCESS_KEY_ID'];
      const secretKey = secret.data[ref.secretAccessKeyKey ?? 'AWS_SECRET_ACCESS_KEY'];
      const token = secret.data[ref.sessionTokenKey ?? 'AWS_SESSION_TOKEN'];
      if (keyId === undefined || secretKey === undefined) {
        throw denied(
          `Secret ${namespace}/${ref.name} lacks ${keyId === undefined ? (ref.accessKeyIdKey ?? 'AWS_ACCESS_KEY_ID') : (ref.secretAccessKeyKey ?? 'AWS_SECRET_ACCESS_KEY')}`,
        );
      }
      const credentials: AwsCredentialIdentity =
        token === undefined
          ? { accessKeyId: keyId, secretAccessKey: secretKey }
          : { accessKeyId: keyId, secretAccessKey: secretKey, sessionToken: token };
      base = {
        key: `secret:${namespace}/${ref.name}@${secret.resourceVersion}`,
        credentials,
        secrets: [secretKey, ...(token === undefined ? [] : [token])],
      };
    }
    if (c.roleArn === undefined) return base;
    const key = `role:${c.roleArn}|${c.externalId ?? ''}|${region}|${base.key}`;
    let provider = this.#roles.get(key);
    if (provider === undefined) {
      provider = fromTemporaryCredentials({
        params: {
          RoleArn: c.roleArn,
          RoleSessionName: 'lambda-con-scaler-operator',
          ...(c.externalId === undefined ? {} : { ExternalId: c.externalId }),
        },
        ...(base.credentials === undefined ? {} : { masterCredentials: base.credentials }),
        clientConfig: {
          region,
          // AssumeRole has a deadline like every other AWS call (sdk.ts).
          requestHandler: { connectionTimeout: 3_000, requestTimeout: this.#callTimeoutMs },
          maxAttempts: 2,
          ...(this.#stsEndpoint === undefined ? {} : { endpoint: this.#stsEndpoint }),
        },
      });
      this.#roles.set(key, provider);
    }
    return {
      key,
      account: ROLE_ACCOUNT.exec(c.roleArn)?.[1],
      credentials: provider,
      secrets: base.secrets ?? [],
    };
  }

  async #secret(namespace: string, name: string): Promise<SecretData> {
    const cacheKey = `${namespace}/${name}`;
    const cached = this.#secrets.get(cacheKey);
    if (cached !== undefined && this.#now() - cached.at < this.#secretTtlMs) return cached.value;
    try {
      const value = await this.#readSecret(namespace, name);
      this.#secrets.set(cacheKey, { at: this.#now(), value });
      return value;
    } catch (error) {
      const code = (error as { code?: number }).code;
      if (code === 404)
        throw denied(`Secret ${namespace}/${name} named by credentials.secretRef does not exist`);
      if (code === 403) {
        throw denied(
          `the operator may not read Secret ${namespace}/${name}: bind the ClusterRole lambda-con-scaler-operator-secret-reader-role in namespace ${namespace} with a RoleBinding`,
        );
      }
      throw error;
    }
  }
}
