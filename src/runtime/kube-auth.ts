// Who may read /metrics, decided by the cluster as controller-runtime's secure metrics filter does
// (pkg/metrics/filters): the bearer token goes to a TokenReview, the user it names to a
// SubjectAccessReview for the request's verb on its non-resource path. Results are cached briefly.
import { createHash } from 'node:crypto';
import type { Clock } from './clock.ts';
import type { KubeClient } from './kube.ts';

/** The user a TokenReview names. */
export interface ReviewedUser {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** The outcome of a request's authentication and authorization, as the HTTP status to answer. */
export type AuthDecision =
  | { status: 200; user: ReviewedUser }
  | { status: 401; reason: string }
  | { status: 403; user: ReviewedUser; reason: string }
  /** The API server could not be asked (never cached). */
  | { status: 500; reason: string };

export interface KubeAuthorizerOptions {
  client: KubeClient;
  clock: Clock;
  /** How long a TokenReview is trusted (default 60 s; controller-runtime: 1 min). */
  authenticatedTtlMs?: number;
  /** How long a refused token stays refused (default 10 s). */
  unauthenticatedTtlMs?: number;
  /** How long an allowed SubjectAccessReview is trusted (default 60 s; controller-runtime: 5 min). */
  allowedTtlMs?: number;
  /** How long a denial is kept (default 10 s; controller-runtime: 30 s). */
  deniedTtlMs?: number;
  /** Deadline of each review request (default 10 s, as controller-runtime). */
  timeoutMs?: number;
  /** Entries kept per cache; the oldest go first (default 1024). */
  maxEntries?: number;
}

interface TokenReview {
  status?: { authenticated?: boolean; user?: ReviewedUser; error?: string };
}
interface SubjectAccessReview {
  status?: { allowed?: boolean; denied?: boolean; reason?: string };
}

/** A bounded map whose entries expire; insertion order is age order. */
class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; expires: number }>();
  readonly #max: number;

  constructor(maxEntries: number) {
    this.#max = maxEntries;
  }

  get(key: string, now: number): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires > now) return entry.value;
    this.#entries.delete(key);
    return undefined;
  }

  set(key: string, value: V, expires: number): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expires });
  }
}

/**
 * Authenticates a request's `Authorization: Bearer` token with a TokenReview and authorizes the
 * user for `verb` on the non-resource `path` with a SubjectAccessReview. The operator's identity
 * needs `create` on `tokenreviews` and `subjectaccessreviews`; a reader needs `get` on the path.
 */
export class KubeAuthorizer {
  readonly #client: KubeClient;
  readonly #clock: Clock;
  readonly #ttl: { authn: number; unauthn: number; allowed: number; denied: number };
  readonly #timeoutMs: number;
  readonly #tokens: TtlCache<ReviewedUser | null>;
  readonly #access: TtlCache<{ allowed: boolean; reason: string }>;

  constructor(options: KubeAuthorizerOptions) {
    this.#client = options.client;
    this.#clock = options.clock;
    this.#ttl = {
      authn: options.authenticatedTtlMs ?? 60_000,
      unauthn: options.unauthenticatedTtlMs ?? 10_000,
      allowed: options.allowedTtlMs ?? 60_000,
      denied: options.deniedTtlMs ?? 10_000,
    };
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#tokens = new TtlCache(options.maxEntries ?? 1024);
    this.#access = new TtlCache(options.maxEntries ?? 1024);
  }

  /** Decides a request from its Authorization header, HTTP method and path. */
  async authorize(authorization: string | undefined, method: string, path: string): Promise<AuthDecision> {
    const token = /^bearer +(\S+) *$/i.exec(authorization ?? '')?.[1];
    if (token === undefined) return { status: 401, reason: 'no bearer token' };
    let user: ReviewedUser | null;
    try {
      user = await this.#authenticate(token);
    } catch (error) {
      return { status: 500, reason: `TokenReview failed: ${(error as Error).message}` };
    }
    if (user === null) return { status: 401, reason: 'token not authenticated' };
    // As the API server does: HEAD is a get; any other method is its own (and bound to be refused).
    const verb = method === 'GET' || method === 'HEAD' ? 'get' : method.toLowerCase();
    let access: { allowed: boolean; reason: string };
    try {
      access = await this.#authorizeUser(user, verb, path);
    } catch (error) {
      return { status: 500, reason: `SubjectAccessReview failed: ${(error as Error).message}` };
    }
    return access.allowed
      ? { status: 200, user }
      : { status: 403, user, reason: access.reason || `${verb} ${path} not allowed` };
  }

  async #authenticate(token: string): Promise<ReviewedUser | null> {
    // The cache is keyed by a digest: the token itself is never kept.
    const key = createHash('sha256').update(token).digest('hex');
    const cached = this.#tokens.get(key, this.#clock.now());
    if (cached !== undefined) return cached;
    const review = await this.#client.request<TokenReview>(
      'POST',
      '/apis/authentication.k8s.io/v1/tokenreviews',
      {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
        timeoutMs: this.#timeoutMs,
      },
    );
    const user =
      review.status?.authenticated === true && review.status.user?.username !== undefined
        ? review.status.user
        : null;
    this.#tokens.set(key, user, this.#clock.now() + (user === null ? this.#ttl.unauthn : this.#ttl.authn));
    return user;
  }

  async #authorizeUser(
    user: ReviewedUser,
    verb: string,
    path: string,
  ): Promise<{ allowed: boolean; reason: string }> {
    const spec = {
      user: user.username,
      ...(user.uid === undefined ? {} : { uid: user.uid }),
      ...(user.groups === undefined ? {} : { groups: user.groups }),
      ...(user.extra === undefined ? {} : { extra: user.extra }),
      nonResourceAttributes: { path, verb },
    };
    const key = JSON.stringify(spec);
    const cached = this.#access.get(key, this.#clock.now());
    if (cached !== undefined) return cached;
    const review = await this.#client.request<SubjectAccessReview>(
      'POST',
      '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      {
        body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec },
        timeoutMs: this.#timeoutMs,
      },
    );
    // As the API server's webhook authorizer: allowed only when allowed and not also denied.
    const status = review.status ?? {};
    const access = {
      allowed: status.allowed === true && status.denied !== true,
      reason: status.reason ?? '',
    };
    this.#access.set(
      key,
      access,
      this.#clock.now() + (access.allowed ? this.#ttl.allowed : this.#ttl.denied),
    );
    return access;
  }
}
