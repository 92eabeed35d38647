// Builds the verification every mode shares from the sidecar's settings: the one ELBv2 client and the one
// discovery over it, target verification and the final-switch guard. (Each mode builds its own weight verifier on these.)
import type { KubeAccess } from '../k8s/kube-api.js';
import { Elbv2Discovery } from '../aws/discovery.js';
import { API_BUDGET } from '../aws/budget.js';
import { createElbv2, type CallOutcome, type Elbv2 } from '../aws/elbv2.js';
import type { Logger } from '../logger.js';
import type { Settings } from '../settings.js';
import { createSetWeightGuard, type CallAwareGuard } from './guard.js';
import type { TargetsK8s } from './k8s.js';
import { createTargetsK8s } from './k8s-targets.js';
import { createTargetVerifier, type TargetVerifier } from './target-health.js';

export interface VerificationDeps {
  /** Kubernetes access for target verification: a ready TargetsK8s, or a KubeConfig to build one. */
  targetsK8s?: TargetsK8s;
  kubeConfig?: KubeAccess;
  log?: Logger;
  /** ELBv2 call counter (metrics). */
  onCall?(operation: string, outcome: CallOutcome): void;
  /** A ready client instead of one built from the settings (tests). */
  elbv2?: Elbv2;
}

export interface Verification {
  elbv2: Elbv2;
  /** Shared by every mode: one request per load balancer and listener however many Rollouts ask. */
  discovery: Elbv2Discovery;
  targets: TargetVerifier;
  /** Target verification can answer (AWS verification on, Kubernetes access). */
  targetsEnabled: boolean;
  guard: CallAwareGuard;
}

/** Leaves the RPC deadline some room: a verification that runs out still answers in time. */
export function verificationTimeoutMs(rpcTimeoutSeconds: number): number {
  return Math.max(1000, Math.floor(rpcTimeoutSeconds * 1000 * 0.8));
}

export function createVerification(settings: Settings, deps: VerificationDeps): Verification {
  const elbv2 =
    deps.elbv2 ??
    createElbv2({
      ...(settings.awsRegion ? { region: settings.awsRegion } : {}),
      ...(settings.awsEndpoint ? { endpoint: settings.awsEndpoint } : {}),
      rateLimit: settings.awsRateLimit,
      rateBurst: settings.awsRateBurst,
      // The HTTP API's reports have a budget of their own: on-demand checks never take VerifyWeight's tokens.
      budgets: { [API_BUDGET]: { rateLimit: settings.apiAwsRateLimit, rateBurst: settings.apiAwsRateBurst } },
      ...(deps.onCall ? { onCall: deps.onCall } : {}),
    });
  const timeoutMs = verificationTimeoutMs(settings.rpcTimeoutSeconds);
  const k8s: TargetsK8s | undefined = deps.targetsK8s ?? (deps.kubeConfig ? createTargetsK8s(deps.kubeConfig) : undefined);
  const targets: TargetVerifier = k8s
    ? createTargetVerifier({
        elbv2,
        k8s,
        targetGroupBindingApiVersion: settings.awsTargetGroupBindingApiVersion,
        mode: settings.verifyMode,
        timeoutMs,
      })
    : {
        async verifyTargets(namespace, service, mode = settings.verifyMode) {
          return { namespace, service, mode, verified: false, reasons: [], targetGroups: [], error: 'no Kubernetes access configured for target verification' };
        },
      };
  const targetsEnabled = settings.awsVerifyTargetGroup && k8s !== undefined;
  const guard = createSetWeightGuard({ enabled: targetsEnabled, verifyTargets: (ns, svc) => targets.verifyTargets(ns, svc) });
  return { elbv2, discovery: new Elbv2Discovery(elbv2), targets, targetsEnabled, guard };
}
