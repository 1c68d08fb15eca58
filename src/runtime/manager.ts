// The manager ties the machinery together the way controller-runtime's does: informers (caches)
// run on every replica so a standby is warm, controllers' workers run only while this replica
// holds the Lease, and a SIGTERM stops workers, drains, releases the Lease and returns.
import type { HealthServer } from './health.ts';
import { type ElectionOutcome, type LeaderElectionOptions, LeaderElector } from './leaderelection.ts';
import { type Logger, silentLogger } from './logger.ts';

/** What the manager needs of an Informer or a Controller (of any object type). */
export interface Runnable {
  readonly name: string;
  run(signal: AbortSignal): Promise<void>;
  /** Informers only: true once the cache is filled. */
  hasSynced?(): boolean;
}

export interface ManagerOptions {
  informers: Runnable[];
  controllers: Runnable[];
  /** Without it the controllers run at once (a single replica, or local runs). */
  leaderElection?: Omit<LeaderElectionOptions, 'onStartedLeading' | 'onStoppedLeading'>;
  /** If given, readiness checks for the caches and the election are registered on it. */
  health?: HealthServer;
  logger?: Logger;
}

/** How the manager ended: stopped by its signal, or the Lease was lost (→ exit non-zero). */
export type ManagerOutcome = 'stopped' | 'lost';

export class Manager {
  readonly elector: LeaderElector | undefined;
  readonly #o: ManagerOptions;
  readonly #log: Logger;
  #electing = false;

  constructor(options: ManagerOptions) {
    this.#o = options;
    this.#log = (options.logger ?? silentLogger).child({ component: 'manager' });
    if (options.leaderElection !== undefined) {
      this.elector = new LeaderElector({
        ...options.leaderElection,
        onStartedLeading: (signal) => this.#runControllers(signal),
      });
    }
    options.health?.addReadyzCheck('informers', () => {
      const pending = options.informers.filter((i) => i.hasSynced?.() === false).map((i) => i.name);
      return pending.length === 0 || `not synced: ${pending.join(', ')}`;
    });
    if (this.elector !== undefined)
      options.health?.addReadyzCheck('leader-election', () => this.#electing || 'not campaigning');
  }

  /** True when every cache has synced and, with leader election, this replica leads or stands by. */
  ready(): boolean {
    return (
      this.#o.informers.every((i) => i.hasSynced?.() !== false) &&
      (this.elector === undefined || this.#electing)
    );
  }

  /**
   * Runs until `signal` aborts (resolves 'stopped' once workers finished, the queue drained, the
   * Lease was released and the informers stopped) or the Lease is lost (resolves 'lost').
   */
  async run(signal: AbortSignal): Promise<ManagerOutcome> {
    const caches = new AbortController();
    const informers = Promise.all(this.#o.informers.map((i) => i.run(caches.signal)));
    let outcome: ManagerOutcome = 'stopped';
    try {
      if (this.elector === undefined) {
        await this.#runControllers(signal);
      } else {
        this.#electing = true;
        const result: ElectionOutcome = await this.elector.run(signal);
        this.#electing = false;
        if (result === 'lost') outcome = 'lost';
      }
    } finally {
      this.#electing = false;
      caches.abort();
      await informers;
    }
    this.#log.info({ outcome }, 'manager stopped');
    return outcome;
  }

  async #runControllers(signal: AbortSignal): Promise<void> {
    this.#log.info({ controllers: this.#o.controllers.map((c) => c.name) }, 'starting controllers');
    await Promise.all(this.#o.controllers.map((c) => c.run(signal)));
  }
}

/**
 * An AbortSignal that aborts on the first of `signals` (SIGTERM, SIGINT) emitted by `proc`;
 * `onRepeat` runs if one arrives again (e.g. to exit at once). Pass `process` from src/cmd.
 */
export function terminationSignal(
  proc: { once(event: string, listener: () => void): unknown },
  options: { signals?: string[]; onRepeat?: () => void } = {},
): AbortSignal {
  const ac = new AbortController();
  for (const name of options.signals ?? ['SIGTERM', 'SIGINT']) {
    proc.once(name, () => {
      if (ac.signal.aborted) options.onRepeat?.();
      else ac.abort(new Error(`received ${name}`));
      proc.once(name, () => options.onRepeat?.());
    });
  }
  return ac.signal;
}
