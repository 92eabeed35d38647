// Ingress mode's cleanup: the Ingresses a Rollout held are released when it is deleted, stops naming them or
// leaves the mode, as of its last readable state (holds.ts); the sweep finds managed entries whose Rollout is
// gone or no longer names the Ingress (deletions while no sidecar watched, releases that failed), from the
// plugin's bookkeeping annotation on every ALB Ingress. The edit is release.ts's; releaser.ts applies it.

import { rolloutId, type Rollout } from '../../core/rollout.js';
import type { Ingress } from '../../k8s/ingress.js';
import type { Logger } from '../../logger.js';
import type { CleanupContext, ModeCleanup, ReleaseOutcome } from '../../plugin/mode.js';
import { ingressClass } from './checks.js';
import { builtInAlbIngresses, droppedHolds, holdsOf, type Hold } from './holds.js';
import { ManagedAnnotationsError, parseManagedAnnotations } from './managed.js';
import { inferTarget } from './release.js';
import type { Releaser } from './releaser.js';
import { PLUGIN_MANAGED_KEY } from './types.js';

export interface IngressCleanupOptions {
  pluginName: string;
  /** Ingress classes the sweep looks at (`--alb-ingress-classes`); `''` means Ingresses without a class. */
  albIngressClasses: readonly string[];
  releaser: Releaser;
  /** Every Ingress of the cluster (the sweep reads the bookkeeping annotation of the ALB ones). */
  listIngresses(): Promise<Ingress[]>;
  logger?: Logger;
  /** Deleted Rollouts whose holds are remembered for the sweep. */
  maxTombstones?: number;
}

export class IngressCleanup implements ModeCleanup {
  /** Rollout id → the Ingresses it holds, as of its last readable state. */
  private readonly holds = new Map<string, Hold[]>();
  private readonly tombstones = new Map<string, Hold[]>();
  private readonly maxTombstones: number;

  constructor(private readonly opts: IngressCleanupOptions) {
    this.maxTombstones = opts.maxTombstones ?? 1000;
  }

  async changed(rollout: Rollout, _prev: Rollout | undefined, ctx: CleanupContext): Promise<ReleaseOutcome[]> {
    const id = rolloutId(rollout.metadata.namespace, rollout.metadata.name);
    const now = holdsOf(rollout, this.opts.pluginName, (r) => ctx.placeOf(r));
    const before = this.holds.get(id);
    this.tombstones.delete(id);
    if (now.kind === 'unknown') {
      this.opts.logger?.debug({ rollout: id, reason: now.reason }, 'plugin block unreadable; keeping the Ingresses it held');
      return [];
    }
    const held = now.kind === 'holds' ? now.holds : [];
    if (held.length > 0) this.holds.set(id, held);
    else this.holds.delete(id);
    // An Ingress the built-in router now drives for this Rollout (the documented way back) is Argo's: the
    // plugin only drops its own bookkeeping entry and never writes the action or the header routes.
    const builtIn = builtInAlbIngresses(rollout);
    const dropped = (before ? droppedHolds(before, now) : []).map((h) =>
      builtIn.includes(h.ingress) ? { ...h, target: { ...h.target, builtInTakesOver: true } } : h,
    );
    return this.releaseAll(rollout.metadata.namespace, dropped);
  }

  async deleted(rollout: Rollout, _last: Rollout | undefined, ctx: CleanupContext): Promise<ReleaseOutcome[]> {
    const id = rolloutId(rollout.metadata.namespace, rollout.metadata.name);
    const now = holdsOf(rollout, this.opts.pluginName, (r) => ctx.placeOf(r));
    // The deleted object is the Rollout's final state; the holds last seen only stand in when it cannot tell.
    const holds = now.kind === 'holds' ? now.holds : (this.holds.get(id) ?? []);
    this.holds.delete(id);
    if (holds.length > 0) {
      this.tombstones.set(id, holds);
      while (this.tombstones.size > this.maxTombstones) this.tombstones.delete(this.tombstones.keys().next().value as string);
    }
    return this.releaseAll(rollout.metadata.namespace, holds);
  }

  /**
   * Releases every managed entry on the ALB Ingresses whose Rollout is gone, or uses this plugin and no longer
   * names the Ingress. The controller calls it only once the watch has listed every Rollout.
   */
  async sweep(ctx: CleanupContext): Promise<ReleaseOutcome[]> {
    const work: Array<Promise<ReleaseOutcome>> = [];
    for (const ing of await this.opts.listIngresses()) {
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
        if (this.sweepDecision(ns, ing.metadata.name, name, ctx.seen(ns, name), ctx) === 'keep') continue;
        work.push(this.confirmAndRelease(ns, ing.metadata.name, name, ctx));
      }
    }
    return Promise.all(work);
  }

  reset(): void {
    this.holds.clear();
    this.tombstones.clear();
  }

  /** What the sweep should do about one managed entry, given the Rollout as known (undefined: gone). */
  private sweepDecision(ns: string, ingress: string, name: string, rollout: Rollout | undefined, ctx: CleanupContext): 'keep' | (() => Promise<ReleaseOutcome>) {
    if (!rollout) {
      const remembered = this.tombstones.get(rolloutId(ns, name))?.find((h) => h.ingress === ingress);
      return () => this.opts.releaser.release(ns, ingress, remembered?.target ?? ((live) => inferTarget(live, name)));
    }
    const holds = holdsOf(rollout, this.opts.pluginName, (r) => ctx.placeOf(r));
    const ours = holds.kind === 'holds' && holds.holds.some((h) => h.ingress === ingress);
    // The Rollout went back to the built-in router on this Ingress: only our bookkeeping entry goes.
    if (!ours && builtInAlbIngresses(rollout).includes(ingress)) {
      return () => this.opts.releaser.release(ns, ingress, { rolloutName: name, stableService: '', servicePort: 0, builtInTakesOver: true });
    }
    // An entry left from before the Rollout moved to another mode: those never write Ingresses.
    if (holds.kind === 'elsewhere') {
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

  /** The watch can lag: a Rollout created a moment ago may already have written its entry, so ask the API server. */
  private async confirmAndRelease(ns: string, ingress: string, name: string, ctx: CleanupContext): Promise<ReleaseOutcome> {
    let rollout = ctx.seen(ns, name);
    if (ctx.read) {
      try {
        rollout = await ctx.read(ns, name);
      } catch (err) {
        this.opts.logger?.warn({ rollout: rolloutId(ns, name), err: err instanceof Error ? err.message : String(err) }, 'sweep could not read the Rollout; leaving its entry for the next sweep');
        return 'unchanged';
      }
    }
    const action = this.sweepDecision(ns, ingress, name, rollout, ctx);
    return action === 'keep' ? 'unchanged' : action();
  }

  private releaseAll(namespace: string | undefined, holds: Hold[]): Promise<ReleaseOutcome[]> {
    const ns = namespace || 'default';
    return Promise.all(holds.map((h) => this.opts.releaser.release(ns, h.ingress, h.target)));
  }
}
