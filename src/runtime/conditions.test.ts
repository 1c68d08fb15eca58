import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Condition,
  findCondition,
  isConditionTrue,
  metaTime,
  removeCondition,
  setCondition,
  setKstatusCondition,
} from './conditions.ts';

const t0 = Date.UTC(2026, 0, 1, 12, 0, 0, 123);
const t1 = t0 + 60_000;
const ready = (status: Condition['status'], reason = 'Succeeded', observedGeneration = 1) => ({
  type: 'Ready',
  status,
  reason,
  message: `ready is ${status}`,
  observedGeneration,
});

describe('conditions', () => {
  it('formats times as metav1.Time (RFC 3339, whole seconds, UTC)', () => {
    assert.equal(metaTime(t0), '2026-01-01T12:00:00Z');
  });

  it('adds a new condition with the current time', () => {
    const out = setCondition([], ready('True'), t0);
    assert.deepEqual(out, [{ ...ready('True'), lastTransitionTime: '2026-01-01T12:00:00Z' }]);
  });

  it('keeps the transition time when only reason, message or generation change', () => {
    const first = setCondition([], ready('False', 'Progressing', 1), t0);
    const second = setCondition(first, ready('False', 'Throttled', 2), t1);
    assert.equal(second[0]?.lastTransitionTime, '2026-01-01T12:00:00Z');
    assert.equal(second[0]?.reason, 'Throttled');
    assert.equal(second[0]?.observedGeneration, 2);
  });

  it('moves the transition time when the status changes', () => {
    const first = setCondition([], ready('False'), t0);
    const second = setCondition(first, ready('True'), t1);
    assert.equal(second[0]?.lastTransitionTime, '2026-01-01T12:01:00Z');
  });

  it('keeps the order of other conditions and never mutates its input', () => {
    const input: Condition[] = [
      { type: 'A', status: 'True', reason: 'R', message: '', lastTransitionTime: 'x' },
      { ...ready('False'), lastTransitionTime: 'y' },
      { type: 'B', status: 'True', reason: 'R', message: '', lastTransitionTime: 'z' },
    ];
    const frozen = structuredClone(input);
    const out = setCondition(input, ready('True'), t0);
    assert.deepEqual(
      out.map((c) => c.type),
      ['A', 'Ready', 'B'],
    );
    assert.deepEqual(input, frozen);
    assert.deepEqual(
      removeCondition(out, 'Ready').map((c) => c.type),
      ['A', 'B'],
    );
  });

  it('drops Reconciling and Stalled unless they are True (kstatus)', () => {
    const cases = {
      'Reconciling True is set': { type: 'Reconciling', status: 'True', present: true },
      'Reconciling False is removed': { type: 'Reconciling', status: 'False', present: false },
      'Stalled Unknown is removed': { type: 'Stalled', status: 'Unknown', present: false },
      'Ready False is kept': { type: 'Ready', status: 'False', present: true },
    } satisfies Record<string, { type: string; status: Condition['status']; present: boolean }>;
    for (const [name, c] of Object.entries(cases)) {
      const start = setCondition([], { type: c.type, status: 'True', reason: 'R', message: '' }, t0);
      const out = setKstatusCondition(
        start,
        { type: c.type, status: c.status, reason: 'R', message: '' },
        t1,
      );
      assert.equal(findCondition(out, c.type) !== undefined, c.present, name);
    }
    assert.equal(isConditionTrue(setCondition([], ready('True'), t0), 'Ready'), true);
    assert.equal(isConditionTrue(undefined, 'Ready'), false);
  });
});
