// Builds the verification side of the sidecar from its settings: the one ELBv2 client, the weight
// verifier (router hook + HTTP report), target verification and the final-switch guard.
import type { KubeConfig } from '@kubernetes/client-node';
import { createElbv2, type CallOutcome, type Elbv2 } from '../aws/elbv2.js';
import type { Logger } from '../logger.js';
import type { Settings } from '../settings.js';
import type { Rollout } from '../core/rollout.js';
import type { EventSink } from '../plugin/hooks.js';
import { createSetWeightGuard, type CallAwareGuard } from './guard.js';
import type { TargetsK8s } from './k8s.js';
import { createTargetsK8s } from './k8s-targets.js';
import { createTargetVerifier, type TargetVerifier } from './target-health.js';
import type { IngressStatusView } from '../modes/ingress/verify/weight-check.js';
import { createWeightVerifier, type WeightVerifierApi } from '../modes/ingress/verify/verifier.js';

export interface VerificationDeps {
  /** The router's IngressClient.get. */
  getIngress(namespace: string, name: string): Promise<IngressStatusView>;
  /** Kubernetes access for target verification: a ready TargetsK8s, or a KubeConfig to build one. */
  targetsK8s?: TargetsK8s;
  kubeConfig?: KubeConfig;
  events?: EventSink;
  log?: Logger;
  /** ELBv2 call counter (metrics). */
  onCall?(operation: string, outcome: CallOutcome): void;
  /** A ready client instead of one built from the settings (tests). */
  elbv2?: Elbv2;
}

/**
 * What the Ingress router is handed as its `guard`: the final-switch guard it asks before SetWeight, and the
 * hook it calls after a write changed an Ingress, which drops the Rollout's remembered weight verdict. It
 * travels on the guard because the sidecar hands the guard to the router as built here, while the weight
 * verifier reaches the router wrapped (metrics), without its other methods.
 */
export interface SetWeightHooks extends CallAwareGuard {
  ingressChanged(rollout: Rollout): void;
}

export interface Verification {
  elbv2: Elbv2;
  weights: WeightVerifierApi;
  targets: TargetVerifier;
  guard: SetWeightHooks;
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
      ...(deps.onCall ? { onCall: deps.onCall } : {}),
    });
  const timeoutMs = verificationTimeoutMs(settings.rpcTimeoutSeconds);
  const weights = createWeightVerifier({
    enabled: settings.awsVerifyTargetGroup,
    elbv2,
    getIngress: deps.getIngress,
    resourceTagKey: settings.albTagKeyResourceId,
    timeoutMs,
    ...(deps.events ? { events: deps.events } : {}),
    ...(deps.log ? { log: deps.log } : {}),
  });
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
  const finalSwitch = createSetWeightGuard({
    enabled: settings.awsVerifyTargetGroup && k8s !== undefined,
    verifyTargets: (ns, svc) => targets.verifyTargets(ns, svc),
  });
  const guard: SetWeightHooks = {
    beforeSetWeight: (req, call) => finalSwitch.beforeSetWeight(req, call),
    ingressChanged: (rollout) => weights.ingressChanged(rollout),
  };
  return { elbv2, weights, targets, guard };
}
