// Cleanup for listener-rule mode: a Rollout that is deleted, or leaves listener-rule mode, leaves its driven
// rule at 100 % on the effective stable target group (as of its last status, so ping-pong is respected) and
// loses its header-route rules.
// Nothing on the load balancer names the driven rule's Rollout, so there is no sweep to find forgotten ones:
// the release works from the Rollout as the watch last saw it, and one that failed is kept and tried again
// at the next sweeps. Deleting an application often deletes its TargetGroupBindings together with the
// Rollout, so the target groups the bindings point at are remembered while the Rollout lives.
// The header-route rules to delete are found by their Rollout tag on the load balancer at each release (the
// router's `release`), not from memory, so any sidecar (a new leader, a restarted one) releases the same
// rules; this process only remembers binding ARNs and the releases waiting for a retry.

import { ConfigError } from '../core/fields.js';
import type { Rollout } from '../core/rollout.js';
import type { BindingReader } from '../listenerrule/index.js';
import { GoneError } from '../listenerrule/locate.js';
import type { Logger } from '../logger.js';
import { inListenerRuleMode, rolloutId } from './holds.js';
import type { ReleaseOutcome } from './releaser.js';

/** Plugin-block fields that may name a TargetGroupBinding. */
const ROLE_FIELDS = ['stableTargetGroup', 'canaryTargetGroup', 'pingTargetGroup', 'pongTargetGroup'] as const;

export interface ListenerRuleCleanupOptions {
  pluginName: string;
  bindings: BindingReader;
  /** Puts the driven rule back to 100 % stable and deletes the Rollout's header-route rules (the router's `release`). */
  release(rollout: Rollout): Promise<void>;
  logger?: Logger;
  onOutcome?(outcome: ReleaseOutcome): void;
  /** Sweeps a failed release is tried again at before it is given up (default 10). */
  maxRetries?: number;
}

interface Pending {
  rollout: Rollout;
  attempts: number;
}

export class ListenerRuleCleanup {
  /**
   * `namespace/binding` → target group ARN, as last read. Kept after a release (another Rollout may share
   * the binding); a few strings per binding ever seen.
   */
  private readonly arns = new Map<string, string>();
  private readonly pending = new Map<string, Pending>();
  private readonly maxRetries: number;

  constructor(private readonly opts: ListenerRuleCleanupOptions) {
    this.maxRetries = opts.maxRetries ?? 10;
  }

  /** A listener-rule Rollout was added or changed: remember its bindings' target groups (best effort). */
  async observe(rollout: Rollout): Promise<void> {
    const ns = rollout.metadata.namespace || 'default';
    // A Rollout created again under the same name takes over; an old pending release must not hit it.
    this.pending.delete(rolloutId(ns, rollout.metadata.name));
    await Promise.all(
      this.bindingNames(rollout)
        .filter((name) => !this.arns.has(`${ns}/${name}`))
        .map(async (name) => {
          try {
            const arn = (await this.opts.bindings.getTargetGroupBinding(ns, name))?.targetGroupArn;
            if (arn) this.arns.set(`${ns}/${name}`, arn);
          } catch (err) {
            this.opts.logger?.debug({ binding: `${ns}/${name}`, err: message(err) }, 'could not read TargetGroupBinding; reading it again later');
          }
        }),
    );
  }

  /** A listener-rule Rollout was deleted, or left the mode (pass its last listener-rule state): release its rule now. */
  async release(rollout: Rollout): Promise<ReleaseOutcome> {
    const outcome = await this.attempt(rollout, 0);
    this.opts.onOutcome?.(outcome);
    return outcome;
  }

  /**
   * Tries failed releases again (from the sweep). A Rollout that drives a listener rule again is left alone;
   * `readRollout` answers that from the API server, since the watch can lag.
   */
  async retry(readRollout?: (namespace: string, name: string) => Promise<Rollout | undefined>): Promise<ReleaseOutcome[]> {
    const out: ReleaseOutcome[] = [];
    for (const [id, p] of [...this.pending]) {
      const ns = p.rollout.metadata.namespace || 'default';
      if (readRollout) {
        try {
          const now = await readRollout(ns, p.rollout.metadata.name);
          if (now && inListenerRuleMode(now, this.opts.pluginName)) {
            this.pending.delete(id);
            continue;
          }
        } catch (err) {
          this.opts.logger?.warn({ rollout: id, err: message(err) }, 'could not read the Rollout; retrying its listener rule release at the next sweep');
          continue;
        }
      }
      const outcome = await this.attempt(p.rollout, p.attempts);
      this.opts.onOutcome?.(outcome);
      out.push(outcome);
    }
    return out;
  }

  /** Rollouts whose release failed and waits for the next sweep. */
  pendingReleases(): string[] {
    return [...this.pending.keys()];
  }

  private async attempt(rollout: Rollout, attempts: number): Promise<ReleaseOutcome> {
    const id = rolloutId(rollout.metadata.namespace, rollout.metadata.name);
    this.pending.delete(id);
    try {
      await this.opts.release(await this.pinned(rollout));
      this.opts.logger?.info({ rollout: id }, 'released listener rule of a Rollout that no longer drives it');
      return 'released';
    } catch (err) {
      if (err instanceof GoneError) {
        this.opts.logger?.info({ rollout: id, reason: message(err) }, 'listener rule to release is gone; nothing to do');
        return 'rule_gone';
      }
      // The listener-rule block or a rule every mode shares (src/core): reading again will not help.
      if (err instanceof ConfigError) {
        this.opts.logger?.warn({ rollout: id, err: message(err) }, 'unreadable listenerRule block; the rule is left as it is');
        return 'error';
      }
      if (attempts + 1 > this.maxRetries) {
        this.opts.logger?.error({ rollout: id, err: message(err), attempts: attempts + 1 }, 'giving up releasing a listener rule; set its weights by hand');
        return 'error';
      }
      this.pending.set(id, { rollout, attempts: attempts + 1 });
      this.opts.logger?.warn({ rollout: id, err: message(err) }, 'could not release a listener rule; the next sweep retries');
      return 'error';
    }
  }

  /** The Rollout with each binding reference replaced by its target group ARN (live binding first, else remembered). */
  private async pinned(rollout: Rollout): Promise<Rollout> {
    const ns = rollout.metadata.namespace || 'default';
    const block = this.block(rollout);
    if (!block) return rollout;
    const copy: Record<string, unknown> = { ...block };
    for (const field of ROLE_FIELDS) {
      const name = bindingName(block[field]);
      if (name === undefined) continue;
      let arn: string | undefined;
      try {
        arn = (await this.opts.bindings.getTargetGroupBinding(ns, name))?.targetGroupArn;
      } catch {
        // The remembered ARN below stands in; the router reports the failure if there is none.
      }
      arn ??= this.arns.get(`${ns}/${name}`);
      if (arn) copy[field] = { arn };
    }
    const canary = rollout.spec.strategy.canary!;
    const trafficRouting = canary.trafficRouting!;
    return {
      ...rollout,
      spec: {
        ...rollout.spec,
        strategy: {
          ...rollout.spec.strategy,
          canary: { ...canary, trafficRouting: { ...trafficRouting, plugins: { ...trafficRouting.plugins, [this.opts.pluginName]: copy } } },
        },
      },
    };
  }

  private block(rollout: Rollout): Record<string, unknown> | undefined {
    const raw: unknown = rollout.spec.strategy.canary?.trafficRouting?.plugins?.[this.opts.pluginName];
    return typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
  }

  private bindingNames(rollout: Rollout): string[] {
    const block = this.block(rollout);
    if (!block) return [];
    return ROLE_FIELDS.map((f) => bindingName(block[f])).filter((n): n is string => n !== undefined);
  }
}

function bindingName(ref: unknown): string | undefined {
  const name = (ref as { targetGroupBinding?: unknown } | null | undefined)?.targetGroupBinding;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
