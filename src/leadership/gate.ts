// Runs a piece of background work only while this sidecar leads: started when it becomes leader, stopped
// (and waited for) when it turns standby. Transitions run one at a time, in order, so a quick
// standby → leader → standby never has two terms running at once, and a new term starts only after the
// previous one has stopped. Each term starts from scratch (`start` builds everything again): a new leader
// starts cold, as a restarted sidecar does.

import type { Logger } from '../logger.js';
import type { Leadership } from './follower.js';

export interface Stoppable {
  stop(): Promise<void>;
}

export interface LeaderGate {
  /** True while a term's work is running. */
  running(): boolean;
  /** Resolves once the work matches the current verdict (tests). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function whileLeader(leadership: Leadership, what: string, start: () => Stoppable, logger?: Logger): LeaderGate {
  let term: Stoppable | undefined;
  let stopped = false;
  let chain: Promise<void> = Promise.resolve();

  async function converge(): Promise<void> {
    for (;;) {
      const want = !stopped && leadership.isLeader();
      if (want && !term) {
        try {
          term = start();
          logger?.info(`leader: started the ${what}`);
        } catch (err) {
          // Tried again at the next change of leadership.
          logger?.error({ err: message(err) }, `could not start the ${what}`);
          return;
        }
      } else if (!want && term) {
        const t = term;
        term = undefined;
        try {
          await t.stop();
        } catch (err) {
          logger?.error({ err: message(err) }, `stopping the ${what} failed`);
        }
        if (!stopped) logger?.info(`standby: stopped the ${what}`);
      } else {
        return;
      }
    }
  }

  const sync = (): void => {
    chain = chain.then(converge);
  };
  const unsubscribe = leadership.onChange(sync);
  sync();

  return {
    running: () => term !== undefined,
    settled: () => chain,
    async stop() {
      stopped = true;
      unsubscribe();
      sync();
      await chain;
    },
  };
}
