import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiPath, KubeApiError } from './kube.ts';

describe('apiPath', () => {
  it('encodes each value as exactly one path segment', () => {
    assert.equal(
      apiPath`/api/v1/namespaces/${'tenant-a'}/secrets/${'../../tenant-b/secrets/aws-creds'}`,
      '/api/v1/namespaces/tenant-a/secrets/..%2F..%2Ftenant-b%2Fsecrets%2Faws-creds',
    );
    assert.equal(apiPath`/x/${'a?b#c d'}`, '/x/a%3Fb%23c%20d');
  });

  it('refuses segments a URL would normalize into another path', () => {
    for (const segment of ['', '.', '..'])
      assert.throws(() => apiPath`/api/v1/namespaces/${'a'}/secrets/${segment}`, KubeApiError);
  });
});
