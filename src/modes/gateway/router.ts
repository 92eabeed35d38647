// Gateway mode: the TrafficRouter for Rollouts whose plugin block names HTTPRoutes or GRPCRoutes (one planner for
// both kinds, route/model.ts). The LBC builds the Gateway's
// ALB from the routes (docs/gateway-api-facts.md), so every verb is a guarded JSON patch of the routes: SetWeight
// rewrites the weights of the driven rules' stable, canary and experiment backendRefs, SetHeaderRoute adds or
// removes the Rollout's own header rule, RemoveManagedRoutes removes them all. Weights, refusals, ping-pong roles
// and header matches come from src/core, as in the other modes. One Rollout's calls to one route apply in order,
// and a call past its deadline writes nothing (update.ts).

import type { Rollout, SetHeaderRoute, SetMirrorRoute, WeightDestination } from '../../core/rollout.js';
import { headerRouteMatches, mirrorRouteRefusal } from '../../core/routes.js';
import { desiredWeights, weightStep, type DesiredWeight, type WeightStep } from '../../core/weights.js';
import type { Logger } from '../../logger.js';
import { IDLE_VERBS, RpcVerified, type TrafficRouter, type VerifyWeightResult } from '../../plugin/router.js';
import { SerialQueue } from '../../plugin/serial-queue.js';
import { throwIfCancelled, type CallContext } from '../../plugin/call.js';
import type { GuardDecision } from '../../plugin/hooks.js';
import { RouteNotFoundError, type HTTPRouteClient } from './client.js';
import { parseGatewayConfig, type GatewayConfig, type RouteRef } from './config.js';
import { selectRules } from './route/driven-rules.js';
import { planHeaderRoute, planRemoveHeaderRoutes } from './route/header-rules.js';
import { planReleaseOwner } from './route/release.js';
import { grantsServiceRef, type ReferenceGrantView } from './k8s.js';
import { DEFAULT_BACKEND_WEIGHT, refersTo, type HTTPRoute } from './route/model.js';
import { planWeights } from './route/weights.js';
import { updateRoute } from './update.js';

/** Checks the Gateway's ALB for the weights (verify.ts); absent: VerifyWeight answers NotImplemented, as Ingress mode without AWS. */
export interface GatewayWeightVerifier {
  verifyWeight(step: WeightStep, config: GatewayConfig, desired: DesiredWeight[], call?: CallContext): Promise<VerifyWeightResult>;
  /** A write changed the routes of this Rollout: a remembered verdict no longer holds. */
  invalidate(rollout: Rollout): void;
  /**
   * Whether the ALB already carries `desired` on the route rules of `config` (ungated). Absent, or with
   * verification off, every answer is yes.
   */
  carries?(config: GatewayConfig, desired: DesiredWeight[], signal?: AbortSignal): Promise<{ ok: boolean; why?: string }>;
}

/**
 * Before a header rule is added to a route: the route's catch-all must already be on the ALB with the route's
 * current weights. When the LBC sees a weight change and a new rule in one reconcile, it pairs the catch-all's ALB
 * rule with the new rule by priority, and between its two calls requests without the header match nothing
 * (docs/gateway-api-facts.md §3, §9.3). "Not yet" is a retryable error: the next reconcile adds the rule.
 */
async function checkCatchAllSettled(verifier: GatewayWeightVerifier, config: GatewayConfig, ref: RouteRef, route: HTTPRoute, call?: CallContext): Promise<void> {
  if (!verifier.carries) return;
  const rule = route.spec.rules?.[selectRules(route, ref, config)[0]!];
  const weightOf = (svc: string) =>
    (rule?.backendRefs ?? []).find((b) => refersTo(b, svc, config.namespace, ref.namespace))?.weight ?? DEFAULT_BACKEND_WEIGHT;
  const current: DesiredWeight[] = [
    { role: 'canary', service: config.services.canary, weight: weightOf(config.services.canary) },
    { role: 'stable', service: config.services.stable, weight: weightOf(config.services.stable) },
  ];
  const answer = await verifier.carries({ ...config, routes: [ref] }, current, call?.signal);
  if (!answer.ok) {
    throw new Error(
      `${ref.kind} ${ref.namespace}/${ref.name}: the header route is added once the Gateway's ALB carries the route's current weights ` +
        `(${answer.why ?? 'not yet'}); adding it in the same LBC reconcile as a weight change would re-pair the catch-all's ALB rule. The next reconcile adds it`,
    );
  }
}

export interface GatewayRouterDeps {
  routes: HTTPRouteClient;
  /**
   * The port of a Service (its first), for the backendRef of an experiment Service the plugin adds: Argo creates
   * experiment Services with the container port, and the LBC drops a backendRef whose port the Service lacks.
   * Absent, or undefined: the stable backendRef's port.
   */
  servicePort?(namespace: string, name: string, signal?: AbortSignal): Promise<number | undefined>;
  /**
   * The ports of a Service (undefined: it does not exist; null: it could not be read). Before a weight write, the
   * stable and canary backendRefs are checked against their Services: the LBC silently leaves a backend whose
   * Service or port is missing out of the forward, so the others would get its share.
   */
  servicePorts?(namespace: string, name: string, signal?: AbortSignal): Promise<number[] | undefined | null>;
  /**
   * The ReferenceGrants of a namespace (null: they could not be read). A route in another namespace than the Rollout's
   * Services may refer to them only through a ReferenceGrant there; without one the LBC drops the backendRef
   * (ResolvedRefs False, RefNotPermitted) and its share goes to the others, so SetWeight refuses first.
   */
  referenceGrants?(namespace: string, signal?: AbortSignal): Promise<ReferenceGrantView[] | null>;
  pluginName: string;
  verifier?: GatewayWeightVerifier;
  /**
   * The final-switch guard (src/verify/guard.ts): the switch back to stable after a promotion waits until the
   * stable Service's target groups (the LBC's TargetGroupBindings for the Gateway) hold the new pods. A hold
   * fails SetWeight with its reason and writes nothing, so the canary keeps the traffic.
   */
  guard?: { beforeSetWeight(step: WeightStep, call?: CallContext): Promise<GuardDecision> };
  logger?: Logger;
}

/** What releasing one entry of a route found: `gone` when the route no longer exists. */
export interface OwnerRelease {
  outcome: 'released' | 'unchanged' | 'gone';
  /** Why the weights were left as they are (route/release.ts). */
  weightsLeft?: string;
}

export interface GatewayRouter extends TrafficRouter {
  /** For a deleted Rollout, or one that left Gateway mode: its header rules go and the driven rules carry 100 % on the effective stable Service. */
  release(rollout: Rollout): Promise<void>;
  /** The sweep's release of `owner`'s entry on one route, from what the entry records (the Rollout may be gone). */
  releaseOwner(ref: RouteRef, owner: string): Promise<OwnerRelease>;
}

/** The step the verifier's gate and the final-switch guard take (src/core/weights.ts). */
export function gatewayWeightStep(rollout: Rollout, config: GatewayConfig, desiredWeight: number, additionalDestinations: WeightDestination[]): WeightStep {
  return weightStep(rollout, { mode: 'gateway', target: [config.routes, config.rule], services: config.services, desiredWeight, additionalDestinations, maxWeight: config.maxWeight });
}

/** The driven rules' stable and canary backendRefs name Services that exist and have the backendRef's port. */
async function checkBackendServices(
  servicePorts: NonNullable<GatewayRouterDeps['servicePorts']>,
  referenceGrants: GatewayRouterDeps['referenceGrants'],
  config: GatewayConfig,
  ref: RouteRef,
  route: HTTPRoute,
  call?: CallContext,
): Promise<void> {
  const seen = new Map<string, number[] | undefined | null>();
  let grants: ReferenceGrantView[] | null | undefined;
  for (const i of selectRules(route, ref, config)) {
    const rule = route.spec.rules![i]!;
    for (const svc of [config.services.stable, config.services.canary]) {
      const backend = (rule.backendRefs ?? []).find((b) => refersTo(b, svc, config.namespace, ref.namespace));
      if (!backend) continue;
      if (!seen.has(svc)) seen.set(svc, await servicePorts(config.namespace, svc, call?.signal));
      const ports = seen.get(svc);
      const where = `${ref.kind} ${ref.namespace}/${ref.name} ${rule.name ? `rule "${rule.name}"` : `spec.rules[${i}]`}`;
      if (ports === undefined) {
        throw new Error(
          `${where}: Service ${config.namespace}/${svc} does not exist; the LBC would leave its backendRef out of the forward and send its share to the other backends. Create the Service`,
        );
      }
      if (config.namespace !== ref.namespace && referenceGrants) {
        grants ??= await referenceGrants(config.namespace, call?.signal);
        if (grants !== null && !grantsServiceRef(grants, ref.namespace, svc, ref.kind)) {
          throw new Error(
            `${where}: refers to Service ${config.namespace}/${svc} in another namespace, and no ReferenceGrant in ${config.namespace} allows ${ref.kind}s of ` +
              `${ref.namespace} to refer to it; the LBC would leave the backendRef out of the forward (ResolvedRefs False, RefNotPermitted). ` +
              `Create a ReferenceGrant in ${config.namespace} from {group: gateway.networking.k8s.io, kind: ${ref.kind}, namespace: ${ref.namespace}} to {group: "", kind: Service}`,
          );
        }
      }
      if (ports !== null && backend.port !== undefined && !ports.includes(backend.port)) {
        throw new Error(
          `${where}: the backendRef of Service ${config.namespace}/${svc} names port ${backend.port}, which the Service does not have (ports: ${ports.join(', ') || 'none'}); ` +
            'the LBC would leave it out of the forward and send its share to the other backends. Use one of the Service ports',
        );
      }
    }
  }
}

export function createGatewayRouter(deps: GatewayRouterDeps): GatewayRouter {
  const queue = new SerialQueue();
  const key = (ref: RouteRef) => `${ref.kind.toLowerCase()}:${ref.namespace}/${ref.name}`;

  async function eachRoute(config: GatewayConfig, call: CallContext | undefined, work: (ref: RouteRef) => Promise<boolean>, rollout: Rollout): Promise<void> {
    let changed = false;
    try {
      for (const ref of config.routes) {
        if (await queue.run(key(ref), () => work(ref), call?.signal)) changed = true;
      }
    } finally {
      if (changed) deps.verifier?.invalidate(rollout);
    }
  }

  const router: GatewayRouter = {
    ...IDLE_VERBS,

    async setWeight(rollout, desiredWeight, destinations, call) {
      // Argo's Go side may send a nil list.
      const additionalDestinations = destinations ?? [];
      const config = parseGatewayConfig(rollout, deps.pluginName);
      const desired = desiredWeights({ desiredWeight, additionalDestinations, maxWeight: config.maxWeight, services: config.services });
      if (deps.guard) {
        const decision = await deps.guard.beforeSetWeight(gatewayWeightStep(rollout, config, desiredWeight, additionalDestinations), call);
        if (decision.hold) throw new Error(decision.reason);
        throwIfCancelled(call, `SetWeight ${desiredWeight}`);
      }
      const ports = new Map<string, number>();
      if (deps.servicePort) {
        for (const d of additionalDestinations) {
          const port = await deps.servicePort(config.namespace, d.serviceName, call?.signal);
          if (port !== undefined) ports.set(d.serviceName, port);
        }
      }
      await eachRoute(
        config,
        call,
        async (ref) => {
          const out = await updateRoute(
            deps.routes,
            ref,
            (route) => planWeights(route, ref, config, desired, ports).ops,
            call,
            undefined,
            deps.servicePorts ? (route) => checkBackendServices(deps.servicePorts!, deps.referenceGrants, config, ref, route, call) : undefined,
          );
          if (out.changed) {
            deps.logger?.info({ rollout: `${config.namespace}/${config.rolloutName}`, route: `${ref.namespace}/${ref.name}`, kind: ref.kind, desiredWeight }, 'route weights written');
          }
          return out.changed;
        },
        rollout,
      );
    },

    async verifyWeight(rollout, desiredWeight, destinations, call): Promise<VerifyWeightResult> {
      if (!deps.verifier) return { verified: RpcVerified.NotImplemented };
      const additionalDestinations = destinations ?? [];
      const config = parseGatewayConfig(rollout, deps.pluginName);
      const desired = desiredWeights({ desiredWeight, additionalDestinations, maxWeight: config.maxWeight, services: config.services });
      return deps.verifier.verifyWeight(gatewayWeightStep(rollout, config, desiredWeight, additionalDestinations), config, desired, call);
    },

    async setHeaderRoute(rollout: Rollout, headerRoute: SetHeaderRoute, call?: CallContext) {
      if (!headerRoute) return;
      const config = parseGatewayConfig(rollout, deps.pluginName);
      // Refused before any read, with the same text as in the other modes.
      const matches = headerRouteMatches(headerRoute, config.managedRoutes);
      await eachRoute(
        config,
        call,
        async (ref) => {
          if (matches.length > 0 && deps.verifier) {
            const route = await deps.routes.get(ref.namespace, ref.name, call ? { signal: call.signal } : undefined, ref.kind);
            const adds = planHeaderRoute(route, ref, config, headerRoute.name, matches).ops.some((op) => op.op === 'add' && /^\/spec\/rules\/(\d+|-)$/.test(op.path));
            if (adds) await checkCatchAllSettled(deps.verifier, config, ref, route, call);
          }
          return (await updateRoute(deps.routes, ref, (route) => planHeaderRoute(route, ref, config, headerRoute.name, matches).ops, call)).changed;
        },
        rollout,
      );
    },

    async setMirrorRoute(_rollout: Rollout, mirrorRoute: SetMirrorRoute) {
      throw mirrorRouteRefusal(mirrorRoute);
    },

    async removeManagedRoutes(rollout, call) {
      if (!rollout.spec.strategy.canary?.trafficRouting?.managedRoutes?.length) return;
      const config = parseGatewayConfig(rollout, deps.pluginName);
      await eachRoute(
        config,
        call,
        async (ref) => (await updateRoute(deps.routes, ref, (route) => planRemoveHeaderRoutes(route, config).ops, call)).changed,
        rollout,
      );
    },

    async release(rollout) {
      const config = parseGatewayConfig(rollout, deps.pluginName);
      // As in Ingress mode: the Rollout's header rules go and the weights go back to 100 % on the effective
      // stable Service (and experiment backendRefs it added go), since a deleted Rollout's canary pods go too.
      const stableOnly = desiredWeights({ desiredWeight: 0, additionalDestinations: [], maxWeight: config.maxWeight, services: config.services });
      // A route already deleted holds nothing of the Rollout; the others are still released.
      await eachRoute(
        config,
        undefined,
        async (ref) => {
          try {
            const headers = (await updateRoute(deps.routes, ref, (route) => planRemoveHeaderRoutes(route, config).ops)).changed;
            const weights = (await updateRoute(deps.routes, ref, (route) => planWeights(route, ref, config, stableOnly, new Map()).ops)).changed;
            return headers || weights;
          } catch (err) {
            if (err instanceof RouteNotFoundError) return false;
            throw err;
          }
        },
        rollout,
      );
    },

    async releaseOwner(ref, owner) {
      let weightsLeft: string | undefined;
      try {
        const out = await queue.run(key(ref), () =>
          updateRoute(deps.routes, ref, (route) => {
            const plan = planReleaseOwner(route, ref, owner, deps.pluginName);
            weightsLeft = plan.weightsLeft;
            return plan.ops;
          }),
        );
        return { outcome: out.changed ? 'released' : 'unchanged', ...(out.changed && weightsLeft !== undefined ? { weightsLeft } : {}) };
      } catch (err) {
        if (err instanceof RouteNotFoundError) return { outcome: 'gone' };
        throw err;
      }
    },
  };
  return router;
}
