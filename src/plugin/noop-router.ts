// A router that answers every call at once and touches nothing. Only for the RPC-overhead benchmark
// (`--bench-noop-router`), so the protocol path can be timed against a Go plugin doing the same.
import { IDLE_VERBS, RpcVerified, type TrafficRouter } from './router.js';

export function createNoopRouter(): TrafficRouter {
  return {
    ...IDLE_VERBS,
    setWeight: async () => undefined,
    verifyWeight: async () => ({ verified: RpcVerified.NotImplemented }),
    setHeaderRoute: async () => undefined,
    setMirrorRoute: async () => undefined,
    removeManagedRoutes: async () => undefined,
  };
}
