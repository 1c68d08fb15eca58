// Shard keys spread over members through Leases, against a real API server with short timings
// (lease 2 s, renew deadline 1.5 s, retry 0.3 s). Sampled every 25 ms throughout: no key is ever
// held by two members at once; every key ends with the member rendezvous hashing names; a crashed
// member's keys move within the lease duration; a joining member takes its share; a stopping member
// hands over at once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/runtime/kube.ts';
import { KubeApiError } from '../../src/runtime/kube.ts';
import { ownerOf, ShardSet } from '../../src/runtime/shards.ts';
import { type Env, eventually, newNamespace, sleep, startEnv } from './helpers.ts';

const timing = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 300 };
const keys = Array.from({ length: 12 }, (_, i) => `account-${i}|us-east-1`);

let env: Env;
before(async () => {
  env = await startEnv();
});
after(async () => {
  await env?.cp.stop();
});

interface Member {
  identity: string;
  set: ShardSet;
  stop: AbortController;
  running: Promise<void>;
  /** Makes every API request fail at once, as for a process cut off from the API server. */
  crashed: boolean;
  /** Keys whose work is running (from onHeld until its wind-down ends). */
  working: Set<string>;
}

function member(ns: string, identity: string): Member {
  const m = { identity, stop: new AbortController(), crashed: false, working: new Set<string>() } as Member;
  const client: KubeClient = {
    request: (method, path, options) =>
      m.crashed
        ? Promise.reject(new KubeApiError('connection refused', { code: 0, reason: 'NetworkError' }))
        : env.client.request(method, path, options),
    watch: (path, query, signal) => env.client.watch(path, query, signal),
  } as KubeClient;
  m.set = new ShardSet({
    client,
    namespace: ns,
    group: 'lcs-shards',
    identity,
    keys: () => keys,
    ...timing,
    onHeld: async (key, signal) => {
      m.working.add(key);
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      await sleep(100); // the work winds down before the Lease is released
      m.working.delete(key);
    },
  });
  m.running = m.set.run(m.stop.signal);
  return m;
}

/** Samples every member's holds() for every key until stopped; fails on any overlap. */
function watchOverlap(members: () => Member[]): { stop(): Promise<string[]> } {
  const overlaps: string[] = [];
  let on = true;
  const loop = (async () => {
    while (on) {
      for (const key of keys) {
        const holders = members().filter((m) => m.set.holds(key));
        if (holders.length > 1) overlaps.push(`${key}: ${holders.map((h) => h.identity).join(' & ')}`);
      }
      await sleep(25);
    }
  })();
  return {
    async stop() {
      on = false;
      await loop;
      return overlaps;
    },
  };
}

const holderOf = (members: Member[], key: string) =>
  members.filter((m) => m.set.holds(key)).map((m) => m.identity);

describe('ShardSet against a real API server', { timeout: 90_000 }, () => {
  it('spreads keys by rendezvous hashing, moves a crashed member’s keys, shares with a newcomer, never twice', async () => {
    const ns = await newNamespace(env, 'shards');
    const members: Member[] = [member(ns, 'replica-a'), member(ns, 'replica-b'), member(ns, 'replica-c')];
    const live = () => members.filter((m) => !m.crashed && !m.stop.signal.aborted);
    const overlap = watchOverlap(() => members);
    try {
      const expectOwners = async (what: string, timeoutMs: number) =>
        eventually(() => {
          const ids = live()
            .map((m) => m.identity)
            .sort();
          for (const key of keys)
            assert.deepEqual(holderOf(members, key), [ownerOf(key, ids)], `${what}: ${key}`);
        }, timeoutMs);

      await expectOwners('all three', 10_000);
      assert.ok(
        live().every((m) => keys.some((k) => m.set.holds(k))),
        'each member holds a share',
      );

      const crashed = members[1] as Member;
      const itsKeys = keys.filter((k) => crashed.set.holds(k));
      const t0 = Date.now();
      crashed.crashed = true;
      await eventually(() => assert.ok(itsKeys.every((k) => !crashed.set.holds(k))), 5_000);
      const fencedAfter = Date.now() - t0;
      assert.ok(
        fencedAfter <= timing.renewDeadlineMs + 500,
        `the crashed member stopped after ${fencedAfter} ms`,
      );
      await expectOwners('after a crash', 10_000);
      const movedAfter = Date.now() - t0;
      // A member is seen dead after leaseDuration; its key Leases then expire for the new owner.
      assert.ok(
        movedAfter < 2 * timing.leaseDurationMs + 6 * timing.retryPeriodMs + 2000,
        `moved after ${movedAfter} ms`,
      );

      members.push(member(ns, 'replica-d'));
      await expectOwners('with a newcomer', 15_000);
      assert.ok(
        keys.some((k) => members[3]?.set.holds(k)),
        'the newcomer took its share',
      );

      const leaving = members[0] as Member;
      const leavingKeys = keys.filter((k) => leaving.set.holds(k));
      const t1 = Date.now();
      leaving.stop.abort();
      await leaving.running;
      await expectOwners('after a graceful stop', 10_000);
      assert.equal(leaving.working.size, 0, 'its work wound down before it let go');
      assert.ok(leavingKeys.length === 0 || Date.now() - t1 < timing.leaseDurationMs * 2 + 2000);
    } finally {
      const overlaps = await overlap.stop();
      for (const m of members) m.stop.abort();
      await Promise.all(members.map((m) => m.running));
      assert.deepEqual(overlaps, [], 'a key was held by two members at once');
    }
  });
});
