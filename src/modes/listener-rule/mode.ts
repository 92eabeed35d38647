// Listener-rule mode whole (src/plugin/mode.ts): one ALB listener rule (or default action) of a load balancer
// managed outside Kubernetes, driven through ELBv2, its target groups bound to Services by TargetGroupBindings.

import type { Mode } from '../../plugin/mode.js';
import type { ModeDeps } from '../deps.js';
import { listenerRuleAlbTargets } from './alb-targets.js';
import { ListenerRuleCleanup } from './cleanup.js';
import { parseListenerRuleConfig } from './config.js';
import { createBindingReader } from './k8s.js';
import { listenerRuleModeReport } from './report.js';
import { createListenerRuleRouter } from './router.js';

export function createListenerRuleMode(deps: ModeDeps): Mode {
  const { settings } = deps;
  const pluginName = settings.pluginName;
  const bindings = createBindingReader(deps.kubeConfig, settings.awsTargetGroupBindingApiVersion);
  // Target verification, and with it the final-switch guard, only when it can answer: a verifier that never
  // can would hold the final switch for good.
  const router = createListenerRuleRouter({
    elbv2: deps.elbv2,
    ...bindings,
    pluginName,
    logger: deps.logger.child({ part: 'listener-rule' }),
    events: deps.events,
    ...(deps.targetsEnabled ? { targets: deps.targets } : {}),
  });
  const cleanup = new ListenerRuleCleanup({
    pluginName,
    bindings,
    // The live router's release also drops what it cached about the Rollout.
    release: (r) => router.release(r),
    logger: deps.logger,
    onOutcome: deps.onReleaseOutcome,
  });
  return {
    name: 'listener-rule',
    claims: (block) => block.listenerRule !== undefined,
    readable(rollout) {
      try {
        parseListenerRuleConfig(rollout, pluginName);
        return true;
      } catch {
        return false;
      }
    },
    router,
    cleanup,
    report: (rollout) =>
      listenerRuleModeReport(
        {
          weightReport: (r, desired, extra) => router.weightReport(r, desired, extra),
          ...(deps.targetsEnabled ? { targetsReport: (r) => router.targetsReport(r) } : {}),
        },
        rollout,
      ),
    // Only with verification on, as in the other modes (status.alb is Argo's --aws-verify-target-group field).
    albTargets: (rollout) =>
      settings.awsVerifyTargetGroup ? listenerRuleAlbTargets((r, desired, extra) => router.weightReport(r, desired, extra), rollout) : Promise.resolve([]),
  };
}
