// Condition bookkeeping with apimachinery/Flux semantics, as pure functions over arrays: the
// transition time moves only when the status really changes, and kstatus' "abnormal-true"
// conditions (Reconciling, Stalled) are present only while they are true.
import { metaTime } from './time.ts';

/** A metav1.Condition. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number | undefined;
  /** RFC 3339, second precision (metav1.Time). */
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** What a caller sets; the transition time is the setter's business. */
export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

/** kstatus conditions that must be absent rather than False. */
export const ABNORMAL_TRUE_TYPES: readonly string[] = ['Reconciling', 'Stalled'];

export { metaTime };

/**
 * Returns `conditions` with `input` set (order kept, new types appended). The transition time is
 * `now` for a new condition or a changed status, and is kept otherwise; reason, message and
 * observedGeneration always take the new values. Never mutates its arguments.
 */
export function setCondition(
  conditions: readonly Condition[],
  input: ConditionInput,
  now: number,
): Condition[] {
  const existing = conditions.find((c) => c.type === input.type);
  const lastTransitionTime =
    existing !== undefined && existing.status === input.status ? existing.lastTransitionTime : metaTime(now);
  const next: Condition = { ...input, lastTransitionTime };
  if (existing === undefined) return [...conditions, next];
  return conditions.map((c) => (c.type === input.type ? next : c));
}

/** Returns `conditions` without the condition of `type`. */
export function removeCondition(conditions: readonly Condition[], type: string): Condition[] {
  return conditions.filter((c) => c.type !== type);
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/**
 * kstatus-aware setter: for `Reconciling` and `Stalled` (or any type in `abnormalTrue`), a status
 * other than True removes the condition; every other type is set as usual.
 */
export function setKstatusCondition(
  conditions: readonly Condition[],
  input: ConditionInput,
  now: number,
  abnormalTrue: readonly string[] = ABNORMAL_TRUE_TYPES,
): Condition[] {
  if (abnormalTrue.includes(input.type) && input.status !== 'True')
    return removeCondition(conditions, input.type);
  return setCondition(conditions, input, now);
}
