// A mode is one way the AWS Load Balancer Controller builds an ALB that a Rollout's weights reach: Ingress
// annotations, a listener rule driven through ELBv2, Gateway API routes. Each mode folder (src/modes/<mode>)
// exports one `Mode` whole, and everything outside the folder works through it: the RPC verbs arrive on its
// router, the cleanup controller asks its cleanup, the HTTP API asks its report. Which mode a Rollout is in is
// decided in one place, the mode table (mode-table.ts), from the modes' own `claims`.

import type { Rollout } from '../core/rollout.js';
import type { ModeReport } from './report.js';
import type { TrafficRouter } from './router.js';

/**
 * What releasing a Rollout's hold did. `ingress_gone` / `rule_gone`: the object (an Ingress; a listener rule or
 * its load balancer) no longer exists, so there is nothing to release.
 */
export type ReleaseOutcome = 'released' | 'unchanged' | 'ingress_gone' | 'rule_gone' | 'error';

/** What a mode's cleanup may ask about any Rollout (the cleanup controller answers, from the mode table). */
export interface CleanupContext {
  /** `here`: the Rollout is in this mode; `elsewhere`: in another mode of this plugin; `none`: it does not use the plugin. */
  placeOf(rollout: Rollout): 'here' | 'elsewhere' | 'none';
  /** The mode that claims the Rollout's block can read it (true for a Rollout that does not use the plugin). */
  readable(rollout: Rollout): boolean;
  /** The Rollout as the watch last saw it; undefined when it was never seen (or is gone). */
  seen(namespace: string, name: string): Rollout | undefined;
  /** The API server's copy (undefined: it does not exist); throws when it cannot be read. Absent in some tests. */
  read?(namespace: string, name: string): Promise<Rollout | undefined>;
}

/**
 * What a Rollout leaves behind in one mode when it is deleted or stops using the mode (Argo has no plugin call
 * for either). Every method is told about every Rollout, whatever its mode, and decides itself whether it
 * holds anything: a Rollout that moved from this mode to another is released here. An unreadable block
 * concludes nothing.
 */
export interface ModeCleanup {
  /** A Rollout was added or changed; `prev` is the state last seen (undefined: first sight). */
  changed(now: Rollout, prev: Rollout | undefined, ctx: CleanupContext): Promise<ReleaseOutcome[]>;
  /** A Rollout was deleted; `last` is the state seen before, for when the deleted object cannot tell. */
  deleted(rollout: Rollout, last: Rollout | undefined, ctx: CleanupContext): Promise<ReleaseOutcome[]>;
  /** Periodic, once every Rollout has been listed: retries failed releases and finds what was left behind. */
  sweep(ctx: CleanupContext): Promise<ReleaseOutcome[]>;
  /**
   * Forgets what this process remembered (holds, releases waiting for a retry): called when a new term of
   * leadership starts, which starts cold, as a restarted sidecar does (another sidecar led in between).
   */
  reset?(): void;
}

/**
 * One load balancer a Rollout's traffic goes through, with the target groups of its canary and stable roles
 * (ping-pong roles resolved), as the mode's verification finds them. What `status.alb(s)` and the ALB analysis
 * are made of.
 */
export interface AlbTargets {
  /** Ingress mode: the Ingress whose rules these are (Argo's `status.albs[].ingress`). */
  ingress?: string;
  loadBalancerArn: string;
  canaryTargetGroupArn?: string;
  stableTargetGroupArn?: string;
}

export interface Mode {
  /** For messages, logs and metrics: `ingress`, `listener-rule`, `gateway`. */
  readonly name: string;
  /**
   * The plugin block asks for this mode (readable or not; the mode's parser refuses what it cannot read). The
   * mode table asks the modes in their list order; the last one takes every block no other mode claims.
   */
  claims(block: Record<string, unknown>): boolean;
  /** Can the mode read this Rollout's plugin block? (Cleanup concludes nothing from a block it cannot read.) */
  readable(rollout: Rollout): boolean;
  readonly router: TrafficRouter;
  readonly cleanup: ModeCleanup;
  /**
   * The HTTP API's check of the Rollout's current weights (status.canary.weights) on the load balancers and of
   * the target groups that should carry traffic, run now; fails only when the plugin block cannot be read.
   */
  report(rollout: Rollout, signal: AbortSignal): Promise<ModeReport>;
  /**
   * The load balancers and target groups of the Rollout's current weights, found as verification finds them
   * (ungated; empty with AWS verification off). Throws when the check could not finish.
   */
  albTargets(rollout: Rollout, signal: AbortSignal): Promise<AlbTargets[]>;
}
