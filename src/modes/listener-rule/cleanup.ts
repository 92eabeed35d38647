// Cleanup for listener-rule mode: a Rollout that is deleted, or leaves listener-rule mode, leaves its driven
// rule at 100 % on the effective stable target group (as of its last status, so ping-pong is respected) and
// loses its header-route rules.
// Nothing on the load balancer names the driven rule's Rollout, so there is no sweep to find forgotten ones:
// the release works from the Rollout as the watch last saw it, and one that failed is kept and tried again
// at the next sweeps. Deleting an application often deletes its TargetGroupBindings together with the
// Rollout, so the target groups the bindings point at are remembered while the Rollout lives.
// The header-route rules to delete are found by their Rollout tag on the load balancer at each release (the
// router's `release`), not from memory, so any sidecar (a new leader, a restarted one) releases the same
// rules; this process only remembers binding ARNs and the releases waiting for a retry (retrying-release.ts).

import { message, RetryingRelease } from '../../cleanup/retrying-release.js';
import { rolloutId, type Rollout } from '../../core/rollout.js';
import type { Logger } from '../../logger.js';
import type { CleanupContext, ModeCleanup, ReleaseOutcome } from '../../plugin/mode.js';
import type { BindingReader } from './bindings.js';
import { GoneError } from './locate.js';

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

export class ListenerRuleCleanup implements ModeCleanup {
  /**
   * `namespace/binding` → target group ARN, as last read. Kept after a release (another Rollout may share
   * the binding); a few strings per binding ever seen.
   */
  private readonly arns = new Map<string, string>();
  private readonly releases: RetryingRelease;

  constructor(private readonly opts: ListenerRuleCleanupOptions) {
    this.releases = new RetryingRelease({
      what: 'listener rule',
      byHand: 'set its weights by hand',
      observe: (r) => this.observe(r),
      run: async (r) => {
        try {
          await opts.release(await this.pinned(r));
        } catch (err) {
          if (!(err instanceof GoneError)) throw err;
          opts.logger?.info({ rollout: rolloutId(r.metadata.namespace, r.metadata.name), reason: message(err) }, 'listener rule to release is gone; nothing to do');
          return 'rule_gone';
        }
      },
      ...(opts.logger ? { logger: opts.logger } : {}),
      ...(opts.onOutcome ? { onOutcome: opts.onOutcome } : {}),
      ...(opts.maxRetries !== undefined ? { maxRetries: opts.maxRetries } : {}),
    });
  }

  changed(now: Rollout, prev: Rollout | undefined, ctx: CleanupContext): Promise<ReleaseOutcome[]> {
    return this.releases.changed(now, prev, ctx);
  }

  deleted(rollout: Rollout, last: Rollout | undefined, ctx: CleanupContext): Promise<ReleaseOutcome[]> {
    return this.releases.deleted(rollout, last, ctx);
  }

  sweep(ctx: CleanupContext): Promise<ReleaseOutcome[]> {
    return this.releases.sweep(ctx);
  }

  reset(): void {
    this.arns.clear();
    this.releases.reset();
  }

  /** A listener-rule Rollout was added or changed: remember its bindings' target groups (best effort). */
  private async observe(rollout: Rollout): Promise<void> {
    const ns = rollout.metadata.namespace || 'default';
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

  /** Rollouts whose release failed and waits for the next sweep. */
  pendingReleases(): string[] {
    return this.releases.pendingReleases();
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
