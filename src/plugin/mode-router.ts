// One plugin name serves every mode: each call goes to the router of the Rollout's mode (mode-table.ts), so
// Rollouts of every kind can share one sidecar.
import type { Rollout } from '../core/rollout.js';
import type { ModeTable } from './mode-table.js';
import { RpcVerified, type TrafficRouter, type VerifyWeightResult } from './router.js';

export function createModeRouter(table: ModeTable): TrafficRouter {
  const pick = (rollout: Rollout): TrafficRouter => table.ofBlock(rollout.spec?.strategy?.canary?.trafficRouting?.plugins?.[table.pluginName]).router;
  const first = table.modes[0]!.router;

  return {
    async initPlugin(call) {
      for (const mode of table.modes) await mode.router.initPlugin(call);
    },
    type: () => first.type(),
    updateHash: async (rollout, canaryHash, stableHash, extra, call) => pick(rollout).updateHash(rollout, canaryHash, stableHash, extra, call),
    setWeight: async (rollout, desiredWeight, extra, call) => pick(rollout).setWeight(rollout, desiredWeight, extra, call),
    async verifyWeight(rollout, desiredWeight, extra, call): Promise<VerifyWeightResult> {
      let router: TrafficRouter;
      try {
        router = pick(rollout);
      } catch (err) {
        return { verified: RpcVerified.NotVerified, err: err instanceof Error ? err.message : String(err) };
      }
      return router.verifyWeight(rollout, desiredWeight, extra, call);
    },
    setHeaderRoute: async (rollout, route, call) => pick(rollout).setHeaderRoute(rollout, route, call),
    setMirrorRoute: async (rollout, route, call) => pick(rollout).setMirrorRoute(rollout, route, call),
    removeManagedRoutes: async (rollout, call) => pick(rollout).removeManagedRoutes(rollout, call),
  };
}
