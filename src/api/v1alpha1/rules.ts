// Validation rules written once and enforced twice: as CEL `x-kubernetes-validations` in the
// generated CRD (so `kubectl apply` rejects a bad spec) and as zod refinements at run time (so
// the what-if simulator and the controller reject exactly the same specs).
import type { z } from 'zod';

/** One rule: the CEL the API server runs, and the same predicate in TypeScript. */
export interface Rule<T> {
  /** CEL expression over `self`; true means valid. */
  readonly rule: string;
  /** What the user reads when the rule fails: names the field and the rule in plain words. */
  readonly message: string;
  /** Relative path of the field to blame, for rules on an object (CEL `fieldPath`). */
  readonly fieldPath?: string;
  /** The TypeScript twin of `rule`. */
  readonly check: (value: T) => boolean;
}

/**
 * Attaches `rules` to `schema`: as `x-kubernetes-validations` metadata for CRD generation and
 * as a refinement for run-time parsing. The returned schema has the same type as `schema`.
 */
export function withRules<S extends z.ZodType>(schema: S, rules: readonly Rule<z.output<S>>[]): S {
  const meta = schema.meta() ?? {};
  const validations = rules.map(({ rule, message, fieldPath }) =>
    fieldPath === undefined ? { rule, message } : { rule, message, fieldPath },
  );
  const refined = schema.check((ctx) => {
    for (const r of rules) {
      if (!r.check(ctx.value as z.output<S>)) {
        const path = r.fieldPath?.replace(/^\./, '').split('.') ?? [];
        ctx.issues.push({ code: 'custom', message: r.message, input: ctx.value, path });
      }
    }
  });
  return refined.meta({ ...meta, 'x-kubernetes-validations': validations }) as S;
}

/** A string rule from a regular expression that RE2 (CEL) and JavaScript read alike. */
export function matches(re: RegExp, message: string): Rule<string> {
  if (re.source.includes("'")) throw new Error(`pattern ${re.source} cannot contain a quote`);
  return { rule: `self.matches(r'${re.source}')`, message, check: (v) => re.test(v) };
}
