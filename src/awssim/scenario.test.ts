// Scenario files: the bundled ones load, and a bad one is refused with the field and the problem.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { bundledScenario, loadScenario, parseScenario, ScenarioError } from './scenario.ts';
import { createSimulation } from './simulation.ts';

interface Case {
  readonly input: unknown;
  readonly field: string;
}

const bad = {
  'a string where a number belongs': {
    input: {
      name: 'x',
      functions: [{ name: 'f', duration: { kind: 'lognormal', medianMs: 'fast', sigma: 1 } }],
    },
    field: 'functions[0].duration.medianMs',
  },
  'an unknown traffic shape': {
    input: { name: 'x', queues: [{ name: 'q' }], traffic: { q: [{ kind: 'zigzag' }] } },
    field: 'traffic.q[0].kind',
  },
  'provisioned mode together with maximumConcurrency': {
    input: {
      name: 'x',
      queues: [{ name: 'q' }],
      functions: [{ name: 'f' }],
      eventSourceMappings: [
        { function: 'f', queue: 'q', maximumConcurrency: 10, provisionedPollers: { minimum: 2 } },
      ],
    },
    field: 'eventSourceMappings[0].provisionedPollers',
  },
  'an unknown mapping model': {
    input: { name: 'x', model: { esm: { model: 'optimistic' } } },
    field: 'model.esm.model',
  },
  'an unknown field': { input: { name: 'x', queues: [{ name: 'q', visibility: 3 }] }, field: 'queues[0]' },
  'a MaximumConcurrency below 2': {
    input: {
      name: 'x',
      queues: [{ name: 'q' }],
      functions: [{ name: 'f' }],
      eventSourceMappings: [{ function: 'f', queue: 'q', maximumConcurrency: 1 }],
    },
    field: 'eventSourceMappings[0].maximumConcurrency',
  },
  'a dead-letter queue that is not declared': {
    input: { name: 'x', queues: [{ name: 'q', deadLetter: { queue: 'nope', maxReceiveCount: 3 } }] },
    field: 'queues[0].deadLetter.queue',
  },
  'traffic for a queue that is not declared': {
    input: { name: 'x', traffic: { ghost: [{ kind: 'constant', rate: 1 }] } },
    field: 'traffic.ghost',
  },
  'a missing name': { input: { queues: [] }, field: 'name' },
} satisfies Record<string, Case>;

describe('parseScenario', () => {
  for (const [name, c] of Object.entries(bad))
    it(`names the field when given ${name}`, () => {
      assert.throws(
        () => parseScenario(c.input, 'test.yaml'),
        (e: unknown) =>
          e instanceof ScenarioError &&
          e.issues.some((i) => i.startsWith(`${c.field}:`)) &&
          e.message.includes('test.yaml'),
      );
    });

  it('reads replay counts from a CSV beside the scenario', () => {
    const dir = mkdtempSync(join(tmpdir(), 'awssim-'));
    writeFileSync(join(dir, 'counts.csv'), 'second,count\n0,4\n1,6\n');
    writeFileSync(
      join(dir, 's.yaml'),
      'name: replay\nqueues: [{ name: q }]\ntraffic:\n  q:\n    - { kind: replay, interval: second, file: counts.csv }\n',
    );
    const s = loadScenario(join(dir, 's.yaml'));
    assert.deepEqual(s.traffic.q?.[0], {
      kind: 'replay',
      interval: 'second',
      file: 'counts.csv',
      counts: [4, 6],
    });
  });
});

describe('bundled burst scenario', () => {
  it('is quiet, then bursts for about two minutes, then is quiet again', async () => {
    const sim = createSimulation({ scenario: loadScenario(bundledScenario('burst')) });
    await sim.runUntil(300_000);
    const tl = sim.timeline();
    const arrivals = (from: number, to: number): number =>
      tl.filter((p) => p.t > from && p.t <= to).reduce((s, p) => s + p.arrivals, 0) / (to - from);
    assert.ok(arrivals(0, 55) < 10, `quiet rate ${arrivals(0, 55)}`);
    assert.ok(arrivals(90, 150) > 250, `burst rate ${arrivals(90, 150)}`);
    assert.ok(arrivals(200, 300) < 10, `after rate ${arrivals(200, 300)}`);
    assert.ok(sim.report().throttles > 0, 'the initial reservation of 10 is too small for the burst');
    assert.ok(
      Math.max(...tl.map((p) => p.visible + p.inFlight)) > 1000,
      'the backlog rises during the burst',
    );
  });
});

describe('the mapping model', () => {
  it('is documented by default, chosen by the scenario, and overridden per run', () => {
    const scenario = parseScenario({ name: 'x', model: { esm: { model: 'release' } } });
    assert.equal(createSimulation().world.params.esmModel, 'documented');
    assert.equal(createSimulation({ scenario }).world.params.esmModel, 'release');
    assert.equal(
      createSimulation({ scenario, esmModel: 'retry-then-release' }).world.params.esmModel,
      'retry-then-release',
    );
  });
});
