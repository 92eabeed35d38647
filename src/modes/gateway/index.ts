// Gateway mode's public surface (weighted backendRefs of Gateway API HTTPRoutes on the LBC's ALB), for the
// sidecar's wiring and the mode router (which mode a Rollout asks for is src/core/plugin-block.ts).
export { parseGatewayConfig, isGatewayBlock, type GatewayConfig, type RouteRef, type RuleSelector } from './config.js';
export { createGatewayRouter, gatewayWeightStep, type GatewayRouter, type GatewayRouterDeps, type GatewayWeightVerifier } from './router.js';
export { createHTTPRouteClient, RouteConflictError, RouteNotFoundError, type HTTPRouteClient } from './client.js';
export { OWNED_ANNOTATION } from './route.js';
export { createGatewayVerifier, type GatewayVerifierDeps, type GatewayWeightReport } from './verify.js';
export { createGatewayReader, createServicePortReader, createServicePortsReader, type GatewayReader } from './k8s.js';
