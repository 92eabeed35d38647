// Keeps the last seen state of every Rollout and releases Ingresses when a Rollout is deleted or stops naming
// them; a listener-rule mode Rollout that is deleted or leaves the mode has its rule released (listener-rules.ts),
// a Gateway-mode Rollout that is deleted or leaves the mode its HTTPRoutes' header-route rules (gateway-routes.ts). Fed by the
// Rollout watch (watch.ts); the sweep catches what the watch could not see (deletions while the sidecar was
// down, releases that failed). Every Rollout is remembered, not only this plugin's, so the
// sweep can tell "gone" from "managed by someone else".

import type { Rollout } from '../core/rollout.js';
import type { Ingress } from '../k8s/ingress.js';
import type { Logger } from '../logger.js';
import { ingressClass } from '../modes/ingress/checks.js';
import { ManagedAnnotationsError, parseManagedAnnotations } from '../modes/ingress/managed.js';
import { PLUGIN_MANAGED_KEY } from '../modes/ingress/types.js';
import type { GatewayRouteCleanup } from '../modes/gateway/cleanup.js';
import { builtInAlbIngresses, droppedHolds, holdsOf, inGatewayMode, inListenerRuleMode, rolloutId, type Hold } from './holds.js';
import { inferTarget } from '../modes/ingress/release.js';
import type { ListenerRuleCleanup } from '../modes/listener-rule/cleanup.js';
import type { Releaser, ReleaseOutcome } from '../modes/ingress/releaser.js';

export interface CleanupControllerOptions {
  pluginName: string;
  /** Ingress classes the sweep looks at (`--alb-ingress-classes`); `''` means Ingresses without a class. */
  albIngressClasses: readonly string[];
  releaser: Releaser;
  logger?: Logger;
  /** Told about every deleted Rollout (the event sink drops its state). */
  onDeleted?: (rollout: Rollout) => void;
  /** Deleted Rollouts whose holds are remembered for the sweep. */
  maxTombstones?: number;
  /**
   * Reads a Rollout from the API server (undefined: it does not exist). The sweep asks it before releasing,
   * because the watch can lag: a Rollout created a moment ago may already have written its entry.
   */
  readRollout?: (namespace: string, name: string) => Promise<Rollout | undefined>;
  /** Releases listener rules of deleted listener-rule mode Rollouts; without it they are left as they are. */
  listenerRules?: ListenerRuleCleanup;
  /** Releases the HTTPRoute header-route rules of deleted Gateway-mode Rollouts; without it they are left as they are. */
  gatewayRoutes?: GatewayRouteCleanup;
}

interface Seen {
  rollout: Rollout;
  holds: Hold[];
}

export class CleanupController {
  private readonly seen = new Map<string, Seen>();
  private readonly tombstones = new Map<string, Hold[]>();
  private readonly maxTombstones: number;

  constructor(private readonly opts: CleanupControllerOptions) {
    this.maxTombstones = opts.maxTombstones ?? 1000;
  }

  get(namespace: string, name: string): Rollout | undefined {
    return this.seen.get(rolloutId(namespace, name))?.rollout;
  }

  /** A Rollout was added or changed: release the Ingresses it no longer names. */
  async upsert(rollout: Rollout): Promise<ReleaseOutcome[]> {
    const id = rolloutId(rollout.metadata.namespace, rollout.metadata.name);
    const now = holdsOf(rollout, this.opts.pluginName);
    const prev = this.seen.get(id);
    this.tombstones.delete(id);
    let holds: Hold[];
    if (now.kind === 'holds') holds = now.holds;
    else if (now.kind === 'none' || now.kind === 'listenerRule' || now.kind === 'gateway') holds = [];
    else {
      this.opts.logger?.debug({ rollout: id, reason: now.reason }, 'plugin block unreadable; keeping the Ingresses it held');
      holds = prev?.holds ?? [];
    }
    this.seen.set(id, { rollout, holds });
    // An Ingress the built-in router now drives for this Rollout (the documented way back) is Argo's: the
    // plugin only drops its own bookkeeping entry and never writes the action or the header routes.
    const builtIn = builtInAlbIngresses(rollout);
    const dropped = (prev ? droppedHolds(prev.holds, now) : []).map((h) =>
      builtIn.includes(h.ingress) ? { ...h, target: { ...h.target, builtInTakesOver: true } } : h,
    );
    // Leaving listener-rule mode (plugin block removed, or back to Ingress mode) frees the rule, like an
    // Ingress no longer named. An unreadable block concludes nothing; a rule re-pointed within the mode is
    // not released (its header-route rules could not be told from the new rule's).
    const leftRule = prev && now.kind !== 'listenerRule' && now.kind !== 'unknown' && inListenerRuleMode(prev.rollout, this.opts.pluginName);
    // Leaving Gateway mode the same way takes the Rollout's header-route rules out of its HTTPRoutes (weights stay).
    const leftGateway = prev && now.kind !== 'gateway' && now.kind !== 'unknown' && inGatewayMode(prev.rollout, this.opts.pluginName);
    if (now.kind === 'gateway') this.opts.gatewayRoutes?.observe(rollout);
    const [outcomes, rule, routes] = await Promise.all([
      this.releaseAll(rollout.metadata.namespace, dropped),
      now.kind === 'listenerRule'
        ? this.opts.listenerRules?.observe(rollout)
        : leftRule
          ? this.opts.listenerRules?.release(prev.rollout)
          : undefined,
      leftGateway ? this.opts.gatewayRoutes?.release(prev.rollout) : undefined,
    ]);
    return [...outcomes, ...(rule ? [rule] : []), ...(routes ? [routes] : [])];
  }

  /** A Rollout was deleted: release every Ingress it held, as of its last state. */
  async remove(rollout: Rollout): Promise<ReleaseOutcome[]> {
    const id = rolloutId(rollout.metadata.namespace, rollout.metadata.name);
    const now = holdsOf(rollout, this.opts.pluginName);
    const last = this.seen.get(id);
    const holds = now.kind === 'holds' ? now.holds : (last?.holds ?? []);
    // The deleted object is the Rollout's final state; the last seen one only stands in if it cannot tell.
    const ruleRollout = inListenerRuleMode(rollout, this.opts.pluginName)
      ? rollout
      : now.kind === 'unknown' && last && inListenerRuleMode(last.rollout, this.opts.pluginName)
        ? last.rollout
        : undefined;
    const gatewayRollout = inGatewayMode(rollout, this.opts.pluginName)
      ? rollout
      : now.kind === 'unknown' && last && inGatewayMode(last.rollout, this.opts.pluginName)
        ? last.rollout
        : undefined;
    this.seen.delete(id);
    if (holds.length > 0) {
      this.tombstones.set(id, holds);
      while (this.tombstones.size > this.maxTombstones) this.tombstones.delete(this.tombstones.keys().next().value as string);
    }
    this.opts.onDeleted?.(rollout);
    const [outcomes, rule, routes] = await Promise.all([
      this.releaseAll(rollout.metadata.namespace, holds),
      ruleRollout && this.opts.listenerRules ? this.opts.listenerRules.release(ruleRollout) : undefined,
      gatewayRollout && this.opts.gatewayRoutes ? this.opts.gatewayRoutes.release(gatewayRollout) : undefined,
    ]);
    return [...outcomes, ...(rule ? [rule] : []), ...(routes ? [routes] : [])];
  }

  /**
   * Releases every managed entry on the given Ingresses whose Rollout is gone, or uses this plugin and no longer
   * names the Ingress. Only call this once the watch has listed every Rollout.
   */
  async sweep(ingresses: readonly Ingress[]): Promise<ReleaseOutcome[]> {
    const work: Array<Promise<ReleaseOutcome | ReleaseOutcome[]>> = [];
    if (this.opts.listenerRules) work.push(this.opts.listenerRules.retry(this.opts.readRollout));
    if (this.opts.gatewayRoutes) work.push(this.opts.gatewayRoutes.retry(this.opts.readRollout));
    for (const ing of ingresses) {
      const raw = ing.metadata.annotations?.[PLUGIN_MANAGED_KEY];
      if (!raw || !this.opts.albIngressClasses.includes(ingressClass(ing))) continue;
      const ns = ing.metadata.namespace || 'default';
      let names: string[];
      try {
        names = [...parseManagedAnnotations(raw).keys()];
      } catch (err) {
        if (!(err instanceof ManagedAnnotationsError)) throw err;
        this.opts.logger?.warn({ ingress: `${ns}/${ing.metadata.name}`, err: err.message }, 'sweep skipped an Ingress');
        continue;
      }
      for (const name of names) {
        const cached = this.seen.get(rolloutId(ns, name))?.rollout;
        if (this.sweepDecision(ns, ing.metadata.name, name, cached) === 'keep') continue;
        work.push(this.confirmAndRelease(ns, ing.metadata.name, name));
      }
    }
    return (await Promise.all(work)).flat();
  }

  /** What the sweep should do about one managed entry, given the Rollout as known (undefined: gone). */
  private sweepDecision(ns: string, ingress: string, name: string, rollout: Rollout | undefined): 'keep' | (() => Promise<ReleaseOutcome>) {
    if (!rollout) {
      const remembered = this.tombstones.get(rolloutId(ns, name))?.find((h) => h.ingress === ingress);
      return () => this.opts.releaser.release(ns, ingress, remembered?.target ?? ((live) => inferTarget(live, name)));
    }
    const holds = holdsOf(rollout, this.opts.pluginName);
    const ours = holds.kind === 'holds' && holds.holds.some((h) => h.ingress === ingress);
    // The Rollout went back to the built-in router on this Ingress: only our bookkeeping entry goes.
    if (!ours && builtInAlbIngresses(rollout).includes(ingress)) {
      return () => this.opts.releaser.release(ns, ingress, { rolloutName: name, stableService: '', servicePort: 0, builtInTakesOver: true });
    }
    // An entry left from before the Rollout moved to listener-rule or Gateway mode: they never write Ingresses.
    if (holds.kind === 'listenerRule' || holds.kind === 'gateway') {
      return () => this.opts.releaser.release(ns, ingress, (live) => inferTarget(live, name));
    }
    if (holds.kind !== 'holds' || holds.holds.length === 0 || ours) return 'keep';
    const base = holds.holds[0]!.target;
    return () =>
      this.opts.releaser.release(ns, ingress, (live) => ({
        ...base,
        servicePort: inferTarget(live, name)?.servicePort || base.servicePort,
      }));
  }

  private async confirmAndRelease(ns: string, ingress: string, name: string): Promise<ReleaseOutcome> {
    let rollout = this.seen.get(rolloutId(ns, name))?.rollout;
    if (this.opts.readRollout) {
      try {
        rollout = await this.opts.readRollout(ns, name);
      } catch (err) {
        this.opts.logger?.warn({ rollout: rolloutId(ns, name), err: err instanceof Error ? err.message : String(err) }, 'sweep could not read the Rollout; leaving its entry for the next sweep');
        return 'unchanged';
      }
    }
    const action = this.sweepDecision(ns, ingress, name, rollout);
    return action === 'keep' ? 'unchanged' : action();
  }

  private releaseAll(namespace: string | undefined, holds: Hold[]): Promise<ReleaseOutcome[]> {
    const ns = namespace || 'default';
    return Promise.all(holds.map((h) => this.opts.releaser.release(ns, h.ingress, h.target)));
  }
}
