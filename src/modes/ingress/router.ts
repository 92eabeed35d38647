// The traffic router for Ingress mode: one method per Argo verb. Each verb reads the Rollout once
// (view.ts), refuses bad input before touching anything, then visits EVERY Ingress (Argo returns early on
// the first unchanged one, SetWeight in rollout/trafficrouting/alb/alb.go) and reports all failures together. One Rollout's calls to one Ingress
// apply in order (a later call waits for the earlier), and a call past its RPC deadline writes nothing more.

import { headerRouteMatches, mirrorRouteRefusal } from '../../core/routes.js';
import type { Rollout, SetHeaderRoute, SetMirrorRoute } from '../../core/rollout.js';
import type { WeightStep } from '../../core/weights.js';
import { REASON_INGRESS_PATCHED } from '../../events/reasons.js';
import type { Ingress, IngressEdit } from '../../k8s/ingress.js';
import type { Logger } from '../../logger.js';
import type { IngressClient } from '../../k8s/ingress-client.js';
import type { ForwardAction } from './action.js';
import { checkIngressClass } from './checks.js';
import { updateIngress } from './update.js';
import { planRemoveManagedRoutes, planSetHeaderRoute, planSetWeight } from './plans.js';
import { IDLE_VERBS, RpcVerified, type TrafficRouter, type VerifyWeightResult } from '../../plugin/router.js';
import { SerialQueue } from '../../plugin/serial-queue.js';
import { throwIfCancelled, type CallContext } from '../../plugin/call.js';
import type { EventSink, GuardDecision } from '../../plugin/hooks.js';
import type { IngressTarget } from './types.js';
import type { WeightVerifier } from './view.js';
import { rolloutContext, weightRequestFrom, type RolloutContext } from './view.js';
import { desiredForwardAction } from './weights.js';

// The consistent view other parts (verifier, guard, HTTP API) use to see what SetWeight writes.
export { rolloutContext, weightRequest } from './view.js';

export interface IngressRouterDeps {
  ingresses: IngressClient;
  pluginName: string;
  /** Ingress classes treated as ALB; '' stands for "no class". */
  albIngressClasses: string[];
  verifier?: WeightVerifier;
  /** The final-switch guard (src/verify/guard.ts); it gets the call so it stays within the call's budget. */
  guard?: { beforeSetWeight(step: WeightStep, call?: CallContext): Promise<GuardDecision>; ingressChanged?(rollout: Rollout): void };
  events?: EventSink;
  /** One info line per Ingress a verb changed (nothing when it changed nothing). */
  logger?: Logger;
  /** Attempts per Ingress when the API server answers 409 Conflict (default 5). */
  maxConflictAttempts?: number;
}

export class IngressErrors extends Error {
  override name = 'IngressErrors';
  constructor(readonly errors: Array<{ ingress: string; error: Error }>, total: number) {
    super(
      errors.length === 1
        ? errors[0]!.error.message
        : `${errors.length} of ${total} Ingresses failed: ${errors.map((e) => e.error.message).join('; ')}`,
    );
  }
}

/** Every per-Ingress error says which Ingress it is about (a managed-annotation error, for one, does not). */
function namingIngress(err: unknown, name: string): Error {
  const error = err instanceof Error ? err : new Error(String(err));
  if (error.message.includes(`\`${name}\``) || error.message.includes(`"${name}"`)) return error;
  error.message = `ingress \`${name}\`: ${error.message}`;
  return error;
}

function namespaceOf(rollout: Rollout): string {
  const ns = rollout.metadata.namespace;
  if (!ns) throw new Error(`Rollout "${rollout.metadata.name}" has no metadata.namespace; the Ingresses are looked up in it`);
  return ns;
}

export function createIngressRouter(deps: IngressRouterDeps): TrafficRouter {
  const { ingresses: client, pluginName, albIngressClasses, events } = deps;
  // Keyed by Rollout and Ingress: a call that timed out is cancelled before it can write, and the next one
  // starts only after it has stopped, so an old weight never lands after a newer one.
  const queue = new SerialQueue();

  /** Runs `plan` on every Ingress, patching those that need it; one failure does not stop the others. */
  async function eachIngress(
    rollout: Rollout,
    ctx: RolloutContext,
    plan: (ingress: Ingress, target: IngressTarget) => IngressEdit,
    message: (name: string) => string,
    call: CallContext | undefined,
  ): Promise<void> {
    const namespace = namespaceOf(rollout);
    const errors: Array<{ ingress: string; error: Error }> = [];
    for (const target of ctx.config.ingresses) {
      try {
        const key = JSON.stringify([namespace, rollout.metadata.name, target.name]);
        const result = await queue.run(
          key,
          () =>
            updateIngress(
              client,
              namespace,
              target.name,
              (ingress) => {
                checkIngressClass(ingress, albIngressClasses);
                return plan(ingress, target);
              },
              deps.maxConflictAttempts,
              call,
            ),
          call?.signal,
        );
        if (result.changed) {
          events?.emit(rollout, { type: 'Normal', reason: REASON_INGRESS_PATCHED, message: message(target.name) });
          deps.logger?.info({ rollout: `${namespace}/${rollout.metadata.name}`, ingress: target.name, keys: Object.keys(result.edit.annotations) }, message(target.name));
        }
        if (result.changed) deps.guard?.ingressChanged?.(rollout); // the remembered weight verdict is stale (src/verify/wiring.ts)
      } catch (err) {
        errors.push({ ingress: target.name, error: namingIngress(err, target.name) });
      }
    }
    if (errors.length > 0) throw new IngressErrors(errors, ctx.config.ingresses.length);
  }

  return {
    ...IDLE_VERBS,

    async setWeight(rollout, desiredWeight, additionalDestinations, call) {
      const ctx = rolloutContext(rollout, pluginName);
      const req = weightRequestFrom(ctx, rollout, desiredWeight, additionalDestinations ?? []);
      // Every Ingress's action is computed (and so validated) before the first write.
      const actions = new Map<string, ForwardAction>(ctx.config.ingresses.map((t) => [t.name, desiredForwardAction(req, t)]));
      if (deps.guard) {
        const decision = await deps.guard.beforeSetWeight(req, call);
        if (decision.hold) throw new Error(decision.reason);
        throwIfCancelled(call, `SetWeight ${desiredWeight}`);
      }
      await eachIngress(
        rollout,
        ctx,
        (ingress, target) => planSetWeight(ingress, ctx, actions.get(target.name)!),
        (name) => `Updating Ingress \`${name}\` to desiredWeight '${desiredWeight}'`,
        call,
      );
    },

    async verifyWeight(rollout, desiredWeight, additionalDestinations): Promise<VerifyWeightResult> {
      if (!deps.verifier) return { verified: RpcVerified.NotImplemented };
      const ctx = rolloutContext(rollout, pluginName);
      return deps.verifier.verifyWeight(weightRequestFrom(ctx, rollout, desiredWeight, additionalDestinations ?? []));
    },

    async setHeaderRoute(rollout, headerRoute: SetHeaderRoute, call) {
      const ctx = rolloutContext(rollout, pluginName);
      // Refused before any read, with the same text as in listener-rule mode.
      headerRouteMatches(headerRoute, ctx.managedRoutes);
      await eachIngress(
        rollout,
        ctx,
        (ingress, target) => planSetHeaderRoute(ingress, ctx, target, headerRoute),
        (name) => `Updating Ingress \`${name}\` to headerRoute '${headerRoute.name}'`,
        call,
      );
    },

    async setMirrorRoute(_rollout, mirrorRoute: SetMirrorRoute) {
      throw mirrorRouteRefusal(mirrorRoute);
    },

    async removeManagedRoutes(rollout, call) {
      const ctx = rolloutContext(rollout, pluginName);
      if (ctx.managedRoutes.length === 0) return;
      await eachIngress(
        rollout,
        ctx,
        (ingress) => planRemoveManagedRoutes(ingress, ctx),
        (name) => `Updating Ingress \`${name}\` removing managed routes`,
        call,
      );
    },
  };
}
