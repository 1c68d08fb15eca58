// What an administrator lets each namespace do with the operator. The operator's own AWS identity
// (its IAM role or the original's secret) may set any function its policy allows, so only the
// namespaces the administrator lists may use it; and each namespace may be held to functions and
// queues whose ARNs match its patterns. The settings come from the manager's flags and an optional
// file (--tenancy-config), see docs/production.md.
import { z } from 'zod';

const patterns = z.array(z.string().min(1).max(2048)).max(1000);

/** The --tenancy-config file. */
export const tenancyFileSchema = z
  .object({
    /** Namespaces whose scalers may act as the operator's own identity; ['*'] for all. */
    operatorIdentityNamespaces: z.array(z.string().min(1).max(63)).optional(),
    /**
     * Per namespace (or '*' for every namespace not listed): ARN patterns (`*` matches anything)
     * of the functions and queues its scalers may name. A namespace with no entry, and no '*'
     * entry, is not restricted; an empty list allows nothing.
     */
    namespaces: z
      .record(
        z.string().min(1).max(63),
        z.object({ functions: patterns.optional(), queues: patterns.optional() }).strict(),
      )
      .optional(),
  })
  .strict();
export type TenancyFile = z.output<typeof tenancyFileSchema>;

export interface TenancyOptions {
  /** The operator's own namespace: allowed the operator's identity when no list is given. */
  operatorNamespace: string;
  /**
   * Namespaces allowed the operator's identity ('*' = all). Undefined keeps the original's
   * behaviour: every namespace may, and those other than the operator's are warned about.
   */
  operatorIdentityNamespaces?: readonly string[] | undefined;
  namespaces?: TenancyFile['namespaces'];
}

/** The verdict on a scaler's use of the operator's identity. */
export type IdentityVerdict = { allowed: true; warning?: string } | { allowed: false; message: string };

export class Tenancy {
  readonly #o: TenancyOptions;
  readonly #compiled = new Map<string, RegExp>();

  constructor(options: TenancyOptions) {
    this.#o = options;
  }

  /** Whether a scaler in `namespace` may act as the operator's own identity. */
  operatorIdentity(namespace: string): IdentityVerdict {
    const listed = this.#o.operatorIdentityNamespaces;
    if (listed === undefined) {
      if (namespace === this.#o.operatorNamespace) return { allowed: true };
      return {
        allowed: true,
        warning: `this scaler in namespace ${namespace} acts as the operator's own AWS identity, which can change any function the operator's IAM policy allows; an administrator should list the namespaces allowed to (--allow-operator-identity-namespaces) or give this scaler credentials of its own (spec.credentials.secretRef, or a roleArn with a secretRef)`,
      };
    }
    if (listed.includes('*') || listed.includes(namespace)) return { allowed: true };
    return {
      allowed: false,
      message: `namespace ${namespace} may not use the operator's own AWS identity (allowed: ${listed.length === 0 ? 'none' : listed.join(', ')}): give the scaler credentials of its own in spec.credentials.secretRef (optionally with a roleArn), or ask an administrator to allow the namespace`,
    };
  }

  /**
   * Undefined when a scaler in `namespace` may name this function or queue ARN, else why not.
   */
  refuses(namespace: string, kind: 'functions' | 'queues', arn: string): string | undefined {
    const entries = this.#o.namespaces;
    const entry = entries?.[namespace] ?? entries?.['*'];
    const allowed = entry?.[kind];
    if (allowed === undefined) return undefined;
    if (allowed.some((p) => this.#pattern(p).test(arn))) return undefined;
    const what = kind === 'functions' ? 'function' : 'queue';
    return `the ${what} ${arn} is not among those namespace ${namespace} may scale (${allowed.length === 0 ? 'none' : allowed.join(', ')})`;
  }

  #pattern(glob: string): RegExp {
    let re = this.#compiled.get(glob);
    if (re === undefined) {
      const source = glob
        .split('*')
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*');
      re = new RegExp(`^${source}$`);
      this.#compiled.set(glob, re);
    }
    return re;
  }
}
