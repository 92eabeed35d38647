// One plugin name serves three modes: Ingress annotations (the default, Argo-compatible), a listener rule
// driven directly on the ALB (load balancers managed outside Kubernetes) and Gateway API HTTPRoutes (weighted
// backendRefs the LBC builds into the Gateway's ALB). Each call picks the mode from the Rollout's own plugin
// block (src/core/plugin-block.ts), so Rollouts of every kind can share one sidecar.
import { modeOfBlock, pluginBlock } from '../core/plugin-block.js';
import type { Rollout, SetHeaderRoute, SetMirrorRoute, WeightDestination } from '../core/rollout.js';
import { RpcVerified, type TrafficRouter, type VerifyWeightResult } from './router.js';
import { type CallContext } from './call.js';

export interface ModeRouterDeps {
  pluginName: string;
  ingress: TrafficRouter;
  /** Absent when the sidecar has no AWS client; a listener-rule Rollout then gets a clear error. */
  listenerRule?: TrafficRouter;
  /** Absent when the sidecar has no Kubernetes access; a Gateway-mode Rollout then gets a clear error. */
  gateway?: TrafficRouter;
}

export function createModeRouter(deps: ModeRouterDeps): TrafficRouter {
  const pick = (rollout: Rollout): TrafficRouter => {
    const mode = modeOfBlock(pluginBlock(rollout, deps.pluginName));
    if (mode === 'ingress') return deps.ingress;
    if (mode === 'gateway') {
      if (!deps.gateway) {
        throw new Error(
          `spec.strategy.canary.trafficRouting.plugins["${deps.pluginName}"].httpRoute: Gateway mode needs the sidecar to reach ` +
            'the Kubernetes API (HTTPRoutes); run it with in-cluster credentials or --kubeconfig',
        );
      }
      return deps.gateway;
    }
    if (!deps.listenerRule) {
      throw new Error(
        `spec.strategy.canary.trafficRouting.plugins["${deps.pluginName}"].listenerRule: listener-rule mode needs ` +
          'the sidecar to reach the ELBv2 API; set the AWS region (--aws-region or AWS_REGION) and credentials for the sidecar',
      );
    }
    return deps.listenerRule;
  };

  return {
    async initPlugin(call?: CallContext): Promise<void> {
      await deps.ingress.initPlugin(call);
      await deps.listenerRule?.initPlugin(call);
      await deps.gateway?.initPlugin(call);
    },
    type: () => deps.ingress.type(),
    updateHash: async (rollout: Rollout, canaryHash: string, stableHash: string, extra: WeightDestination[], call?: CallContext) =>
      pick(rollout).updateHash(rollout, canaryHash, stableHash, extra, call),
    setWeight: async (rollout: Rollout, desiredWeight: number, extra: WeightDestination[], call?: CallContext) =>
      pick(rollout).setWeight(rollout, desiredWeight, extra, call),
    async verifyWeight(rollout: Rollout, desiredWeight: number, extra: WeightDestination[], call?: CallContext): Promise<VerifyWeightResult> {
      let router: TrafficRouter;
      try {
        router = pick(rollout);
      } catch (err) {
        return { verified: RpcVerified.NotVerified, err: err instanceof Error ? err.message : String(err) };
      }
      return router.verifyWeight(rollout, desiredWeight, extra, call);
    },
    setHeaderRoute: async (rollout: Rollout, route: SetHeaderRoute, call?: CallContext) => pick(rollout).setHeaderRoute(rollout, route, call),
    setMirrorRoute: async (rollout: Rollout, route: SetMirrorRoute, call?: CallContext) => pick(rollout).setMirrorRoute(rollout, route, call),
    removeManagedRoutes: async (rollout: Rollout, call?: CallContext) => pick(rollout).removeManagedRoutes(rollout, call),
  };
}
