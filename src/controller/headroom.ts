// Sharing an account's reserved-concurrency headroom between the scalers that want more of it at
// the same time: higher `priority` first, equal priorities fairly (water-filling), and every
// scaler told what it got. Lambda keeps 100 executions unreserved in every account
// (AWS-FACTS.md), so the headroom is `unreserved - 100` plus what each scaler already holds.

/** One scaler's wish for more reserved concurrency. */
export interface Demand {
  /** Stable id (the scaler's uid key). */
  id: string;
  /** spec.priority, default 0: higher is served first. */
  priority: number;
  /** How much more than it holds now it wants (> 0). */
  wanted: number;
}

/**
 * Splits `headroom` (units of reserved concurrency still grantable) between `demands`: whole
 * priority groups in descending order while they fit; the first group that does not fit shares
 * what is left equally, each capped at its wish (water-filling), whole units only, remainders to
 * the earliest ids for determinism. Returns the grant per id (0 for those left out).
 */
export function shareHeadroom(demands: readonly Demand[], headroom: number): Map<string, number> {
  const grants = new Map<string, number>(demands.map((d) => [d.id, 0]));
  let left = Math.max(0, Math.floor(headroom));
  const priorities = [...new Set(demands.map((d) => d.priority))].sort((a, b) => b - a);
  for (const priority of priorities) {
    const group = demands.filter((d) => d.priority === priority).sort((a, b) => (a.id < b.id ? -1 : 1));
    const total = group.reduce((n, d) => n + d.wanted, 0);
    if (total <= left) {
      for (const d of group) grants.set(d.id, d.wanted);
      left -= total;
      continue;
    }
    // Water-fill: raise everyone's level together until the headroom runs out.
    let open = group.filter((d) => d.wanted > 0);
    while (left > 0 && open.length > 0) {
      const share = Math.floor(left / open.length);
      if (share === 0) {
        for (const d of open.slice(0, left)) grants.set(d.id, (grants.get(d.id) ?? 0) + 1);
        left = 0;
        break;
      }
      for (const d of open) {
        const give = Math.min(share, d.wanted - (grants.get(d.id) ?? 0));
        grants.set(d.id, (grants.get(d.id) ?? 0) + give);
        left -= give;
      }
      open = open.filter((d) => (grants.get(d.id) ?? 0) < d.wanted);
    }
    left = 0; // lower priorities get nothing while a higher one is short
  }
  return grants;
}

/**
 * The live view of who in an account wants more right now. Each scaler's reconcile posts its
 * demand (or withdraws it) and asks for its grant; demands older than `ttlMs` are forgotten, so a
 * scaler that stopped asking does not keep a share.
 */
export class HeadroomLedger {
  readonly #ttlMs: number;
  /** Per account, the live demands and when each was posted. */
  readonly #accounts = new Map<string, Map<string, Demand & { at: number }>>();
  /**
   * Per account, the demands whose last grant fell short and when: what contended() reads on every
   * poll, kept apart so that it looks at the few short ones, not at every demand of the account.
   */
  readonly #short = new Map<string, Map<string, number>>();

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  /** Records `demand` (wanted 0 withdraws it) and returns its grant and how many share the account. */
  grant(
    account: string,
    demand: Demand,
    headroom: number,
    now: number,
  ): { granted: number; sharing: number } {
    let demands = this.#accounts.get(account);
    if (demands === undefined) {
      demands = new Map();
      this.#accounts.set(account, demands);
    }
    let short = this.#short.get(account);
    if (short === undefined) {
      short = new Map();
      this.#short.set(account, short);
    }
    for (const [id, d] of demands)
      if (now - d.at > this.#ttlMs) {
        demands.delete(id);
        short.delete(id);
      }
    if (demand.wanted <= 0) {
      demands.delete(demand.id);
      short.delete(demand.id);
      return { granted: 0, sharing: demands.size };
    }
    demands.set(demand.id, { ...demand, at: now });
    const granted = shareHeadroom([...demands.values()], headroom).get(demand.id) ?? 0;
    if (granted < demand.wanted) short.set(demand.id, now);
    else short.delete(demand.id);
    return { granted, sharing: demands.size };
  }

  /**
   * Whether a scaler of `account` other than `id` was granted less than it wanted at its last poll
   * (within the time to live): the units `id` holds beyond its need are wanted elsewhere now.
   */
  contended(account: string, id: string, now: number): boolean {
    for (const [other, at] of this.#short.get(account) ?? [])
      if (other !== id && now - at <= this.#ttlMs) return true;
    return false;
  }

  /** How many scalers of `account` were granted less than they wanted at their last poll (within the TTL). */
  shortCount(account: string, now: number): number {
    let n = 0;
    for (const at of this.#short.get(account)?.values() ?? []) if (now - at <= this.#ttlMs) n++;
    return n;
  }

  /** Withdraws at once the demands of scalers `ids` matches (deleted: no lingering share). */
  forget(ids: (id: string) => boolean): void {
    for (const demands of [...this.#accounts.values(), ...this.#short.values()])
      for (const id of demands.keys()) if (ids(id)) demands.delete(id);
  }
}
