import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from './clock.ts';
import { KubeApiError as ApiError, type KubeClient, type RequestOptions } from './kube.ts';
import { KubeAuthorizer } from './kube-auth.ts';

/** An API server that knows tokens by value and grants `get` on /metrics to the listed users. */
class ScriptedApiServer implements KubeClient {
  readonly calls: string[] = [];
  readonly tokens = new Map<string, string>([
    ['reader-token', 'reader'],
    ['stranger-token', 'stranger'],
  ]);
  readonly readers = new Set(['reader']);
  down = false;

  async request<T>(method: string, path: string, options?: RequestOptions): Promise<T> {
    const body = options?.body as { spec: Record<string, unknown> };
    const kind = path.endsWith('tokenreviews') ? 'TokenReview' : 'SubjectAccessReview';
    this.calls.push(kind);
    assert.equal(method, 'POST');
    assert.equal(options?.timeoutMs, 10_000);
    if (this.down) throw new ApiError('connect ECONNREFUSED', { code: 0, reason: 'NetworkError' });
    if (kind === 'TokenReview') {
      const username = this.tokens.get(String(body.spec.token));
      return (
        username === undefined
          ? { status: { authenticated: false, error: 'invalid bearer token' } }
          : { status: { authenticated: true, user: { username, uid: `${username}-uid`, groups: ['g'] } } }
      ) as T;
    }
    const attrs = body.spec.nonResourceAttributes as { path: string; verb: string };
    const allowed =
      this.readers.has(String(body.spec.user)) && attrs.path === '/metrics' && attrs.verb === 'get';
    return { status: { allowed, ...(allowed ? {} : { reason: 'no RBAC policy matched' }) } } as T;
  }

  watch(): Promise<AsyncIterable<never>> {
    throw new Error('not used');
  }
}

function setup() {
  const api = new ScriptedApiServer();
  const clock = new ManualClock();
  const authorizer = new KubeAuthorizer({ client: api, clock, maxEntries: 3 });
  return { api, clock, authorizer };
}

describe('KubeAuthorizer', () => {
  const cases = {
    'no header': { header: undefined, status: 401 },
    'another scheme': { header: 'Basic cmVhZGVyOng=', status: 401 },
    'an empty bearer': { header: 'Bearer ', status: 401 },
    'an unknown token': { header: 'Bearer forged', status: 401 },
    'a user without get on /metrics': { header: 'Bearer stranger-token', status: 403 },
    'a reader (scheme in any case)': { header: 'bearer reader-token', status: 200 },
  } satisfies Record<string, { header: string | undefined; status: number }>;
  for (const [name, c] of Object.entries(cases)) {
    it(`answers ${c.status} to ${name}`, async () => {
      const { authorizer } = setup();
      assert.equal((await authorizer.authorize(c.header, 'GET', '/metrics')).status, c.status);
    });
  }

  it('asks for the verb and path of the request: a reader may not POST, nor read another path', async () => {
    const { authorizer } = setup();
    assert.equal((await authorizer.authorize('Bearer reader-token', 'HEAD', '/metrics')).status, 200);
    assert.equal((await authorizer.authorize('Bearer reader-token', 'POST', '/metrics')).status, 403);
    assert.equal((await authorizer.authorize('Bearer reader-token', 'GET', '/debug')).status, 403);
  });

  it('caches a reader for a minute, then asks again and sees a revoked binding', async () => {
    const { api, clock, authorizer } = setup();
    await authorizer.authorize('Bearer reader-token', 'GET', '/metrics');
    assert.deepEqual(api.calls, ['TokenReview', 'SubjectAccessReview']);
    api.readers.delete('reader');
    await clock.advance(59_000);
    assert.equal((await authorizer.authorize('Bearer reader-token', 'GET', '/metrics')).status, 200);
    assert.equal(api.calls.length, 2, 'both answers came from the cache');
    await clock.advance(1_000);
    assert.equal((await authorizer.authorize('Bearer reader-token', 'GET', '/metrics')).status, 403);
    assert.equal(api.calls.length, 4);
  });

  it('keeps a denial and an unknown token for only 10 s', async () => {
    const { api, clock, authorizer } = setup();
    assert.equal((await authorizer.authorize('Bearer stranger-token', 'GET', '/metrics')).status, 403);
    assert.equal((await authorizer.authorize('Bearer late-token', 'GET', '/metrics')).status, 401);
    api.readers.add('stranger');
    api.tokens.set('late-token', 'reader');
    await clock.advance(9_999);
    assert.equal((await authorizer.authorize('Bearer stranger-token', 'GET', '/metrics')).status, 403);
    assert.equal((await authorizer.authorize('Bearer late-token', 'GET', '/metrics')).status, 401);
    await clock.advance(1);
    assert.equal((await authorizer.authorize('Bearer stranger-token', 'GET', '/metrics')).status, 200);
    assert.equal((await authorizer.authorize('Bearer late-token', 'GET', '/metrics')).status, 200);
  });

  it('answers 500 and caches nothing while the API server cannot be asked', async () => {
    const { api, authorizer } = setup();
    api.down = true;
    const decision = await authorizer.authorize('Bearer reader-token', 'GET', '/metrics');
    assert.equal(decision.status, 500);
    assert.match('reason' in decision ? decision.reason : '', /TokenReview failed: connect ECONNREFUSED/);
    api.down = false;
    assert.equal((await authorizer.authorize('Bearer reader-token', 'GET', '/metrics')).status, 200);
  });

  it('keeps at most maxEntries tokens, dropping the oldest, so a flood of tokens cannot grow it', async () => {
    const { api, authorizer } = setup();
    await authorizer.authorize('Bearer reader-token', 'GET', '/metrics');
    for (const t of ['a', 'b', 'c']) await authorizer.authorize(`Bearer ${t}`, 'GET', '/metrics');
    const before = api.calls.length;
    await authorizer.authorize('Bearer reader-token', 'GET', '/metrics');
    assert.deepEqual(
      api.calls.slice(before),
      ['TokenReview'],
      'the oldest token was evicted; its access was not',
    );
  });
});
