// Ingress mode whole (src/plugin/mode.ts): the LBC's `actions.*` / `conditions.*` annotations on the Rollout's
// Ingresses, verified on the ALB rules the LBC built from them. The mode every plugin block not claimed by
// another mode belongs to, so its parser is the one that refuses a block no mode can read.

import { createIngressClient, listAllIngresses } from '../../k8s/ingress-client.js';
import type { Mode } from '../../plugin/mode.js';
import type { ModeDeps } from '../deps.js';
import { ingressAlbTargets } from './alb-targets.js';
import { IngressCleanup } from './cleanup.js';
import { ingressModeReport } from './report.js';
import { createReleaser } from './releaser.js';
import { createIngressRouter } from './router.js';
import { createWeightVerifier } from './verify/verifier.js';
import { rolloutContext } from './view.js';

export function createIngressMode(deps: ModeDeps): Mode {
  const { settings } = deps;
  const pluginName = settings.pluginName;
  const ingresses = createIngressClient(deps.kubeConfig, { onConflict: () => deps.onConflict('ingress') });
  const weights = createWeightVerifier({
    enabled: settings.awsVerifyTargetGroup,
    elbv2: deps.elbv2,
    getIngress: (ns, name) => ingresses.get(ns, name),
    resourceTagKey: settings.albTagKeyResourceId,
    timeoutMs: deps.verifyTimeoutMs,
    events: deps.events,
    log: deps.logger,
  });
  const router = createIngressRouter({
    ingresses,
    pluginName,
    albIngressClasses: settings.albIngressClasses,
    verifier: weights,
    guard: {
      beforeSetWeight: (step, call) => deps.guard.beforeSetWeight(step, call),
      // A write changed one of the Rollout's Ingresses: the remembered weight verdict is stale.
      ingressChanged: (rollout) => weights.ingressChanged(rollout),
    },
    events: deps.events,
    logger: deps.logger,
  });
  const cleanup = new IngressCleanup({
    pluginName,
    albIngressClasses: settings.albIngressClasses,
    releaser: createReleaser({ ingresses, logger: deps.logger, onOutcome: deps.onReleaseOutcome }),
    listIngresses: listAllIngresses(deps.kubeConfig),
    logger: deps.logger,
  });
  return {
    name: 'ingress',
    // The last mode of the list: every block no other mode claims.
    claims: () => true,
    readable(rollout) {
      try {
        rolloutContext(rollout, pluginName);
        return true;
      } catch {
        return false;
      }
    },
    router,
    cleanup,
    report: (rollout) => ingressModeReport({ pluginName, weights, targets: deps.targets }, rollout),
    albTargets: (rollout) => ingressAlbTargets(pluginName, weights, rollout),
  };
}
