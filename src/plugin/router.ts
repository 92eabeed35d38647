import type { Rollout, SetHeaderRoute, SetMirrorRoute, WeightDestination } from '../core/rollout.js';
import type { CallContext } from './call.js';

/** Argo's `types.RpcVerified`: the values travel as int32 on the wire. */
export enum RpcVerified {
  NotVerified = 0,
  Verified = 1,
  NotImplemented = 2,
}

export interface VerifyWeightResult {
  verified: RpcVerified;
  /** Non-empty only when something failed; Argo turns it into a `WeightVerifyError` event. */
  err?: string;
}

/**
 * One method per Argo traffic-router RPC verb. Every method takes the Rollout as Argo sent it, already
 * converted to the Kubernetes JSON shape. Failures are thrown as `Error`s whose message is what Argo
 * shows the user (`failed to set weight via plugin: <message>`), so messages name the field and the fix.
 *
 * `call` is the RPC call the method runs for (absent outside an RPC: HTTP API, cleanup, tests). Once its
 * signal fires, a method writes nothing more.
 */
export interface TrafficRouter {
  /** Called once per plugin session. */
  initPlugin(call?: CallContext): Promise<void>;
  type(): string;
  updateHash(
    rollout: Rollout,
    canaryHash: string,
    stableHash: string,
    additionalDestinations: WeightDestination[],
    call?: CallContext,
  ): Promise<void>;
  setWeight(rollout: Rollout, desiredWeight: number, additionalDestinations: WeightDestination[], call?: CallContext): Promise<void>;
  verifyWeight(
    rollout: Rollout,
    desiredWeight: number,
    additionalDestinations: WeightDestination[],
    call?: CallContext,
  ): Promise<VerifyWeightResult>;
  setHeaderRoute(rollout: Rollout, headerRoute: SetHeaderRoute, call?: CallContext): Promise<void>;
  setMirrorRoute(rollout: Rollout, mirrorRoute: SetMirrorRoute, call?: CallContext): Promise<void>;
  removeManagedRoutes(rollout: Rollout, call?: CallContext): Promise<void>;
}

/**
 * What the router reports back as its `Type()`. Argo logs it (`Reconciling TrafficRouting with type ...`);
 * the built-in router says `ALB`, so this must differ for an operator to tell the two apart.
 */
export const ROUTER_TYPE = 'ALBPlugin';

/** Plugin name used when the sidecar is not told otherwise (the key under `trafficRouting.plugins`). */
export const DEFAULT_PLUGIN_NAME = 'argoproj-labs/alb';

/**
 * The verbs every mode answers without work: InitPlugin (nothing to set up per session), Type, and
 * UpdateHash (neither an Ingress action nor a listener rule names pod hashes).
 */
export const IDLE_VERBS: Pick<TrafficRouter, 'initPlugin' | 'type' | 'updateHash'> = {
  async initPlugin() {},
  type: () => ROUTER_TYPE,
  async updateHash() {},
};
