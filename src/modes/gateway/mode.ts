// Gateway mode whole (src/plugin/mode.ts): weighted backendRefs of Gateway API HTTPRoutes that the LBC builds
// into the Gateway's ALB (ALBGatewayAPI), verified on the ALB rules it made of the driven route rules.

import type { Mode } from '../../plugin/mode.js';
import type { ModeDeps } from '../deps.js';
import { gatewayAlbTargets } from './alb-targets.js';
import { gatewayRouteCleanup } from './cleanup.js';
import { createHTTPRouteClient, listAllGatewayRoutes } from './client.js';
import { isGatewayBlock, parseGatewayConfig } from './config.js';
import { createGatewayReader, createReferenceGrantReader, createServicePortReader, createServicePortsReader } from './k8s.js';
import { gatewayModeReport } from './report.js';
import { createGatewayRouter } from './router.js';
import { createGatewayVerifier } from './verify/verifier.js';

export function createGatewayMode(deps: ModeDeps): Mode {
  const { settings } = deps;
  const pluginName = settings.pluginName;
  const routes = createHTTPRouteClient(deps.kubeConfig, { onConflict: (kind) => deps.onConflict(kind === 'GRPCRoute' ? 'grpcroute' : 'httproute') });
  const logger = deps.logger.child({ part: 'gateway' });
  const verifier = createGatewayVerifier({
    enabled: settings.awsVerifyTargetGroup,
    elbv2: deps.elbv2,
    discovery: deps.discovery,
    routes,
    gateways: createGatewayReader(deps.kubeConfig, settings.awsTargetGroupBindingApiVersion),
    events: deps.events,
    log: logger,
    timeoutMs: deps.verifyTimeoutMs,
  });
  const router = createGatewayRouter({
    routes,
    servicePort: createServicePortReader(deps.kubeConfig),
    servicePorts: createServicePortsReader(deps.kubeConfig),
    referenceGrants: createReferenceGrantReader(deps.kubeConfig),
    guard: deps.guard,
    pluginName,
    logger,
    verifier,
  });
  return {
    name: 'gateway',
    claims: (block) => isGatewayBlock(block),
    readable(rollout) {
      try {
        parseGatewayConfig(rollout, pluginName);
        return true;
      } catch {
        return false;
      }
    },
    router,
    cleanup: gatewayRouteCleanup({
      pluginName,
      release: (r) => router.release(r),
      listRoutes: listAllGatewayRoutes(deps.kubeConfig),
      releaseOwner: (ref, owner) => router.releaseOwner(ref, owner),
      logger: deps.logger,
      onOutcome: deps.onReleaseOutcome,
    }),
    // The API checks the ALB as Ingress mode's does, whether or not VerifyWeight does.
    report: (rollout, signal) => gatewayModeReport({ pluginName, report: (c, d, s) => verifier.report(c, d, s), targets: deps.targets }, rollout, signal),
    // Only with verification on, as in the other modes (status.alb is Argo's --aws-verify-target-group field).
    albTargets: (rollout, signal) => (settings.awsVerifyTargetGroup ? gatewayAlbTargets(pluginName, (c, d, s) => verifier.report(c, d, s), rollout, signal) : Promise.resolve([])),
  };
}
