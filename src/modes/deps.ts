// What every mode is built from: the sidecar's settings and the clients it makes once (one rate-limited ELBv2
// client and the one discovery over it, the shared target verification and final-switch guard, Events, logs,
// metrics hooks). A mode takes
// what it needs and builds its own objects' clients.

import type { KubeAccess } from '../k8s/kube-api.js';
import type { Elbv2Discovery } from '../aws/discovery.js';
import type { Elbv2 } from '../aws/elbv2.js';
import type { Logger } from '../logger.js';
import type { EventSink } from '../plugin/hooks.js';
import type { Mode, ReleaseOutcome } from '../plugin/mode.js';
import type { Settings } from '../settings.js';
import type { CallAwareGuard } from '../verify/guard.js';
import type { TargetVerifier } from '../verify/target-health.js';

export interface ModeDeps {
  settings: Settings;
  kubeConfig: KubeAccess;
  elbv2: Elbv2;
  /**
   * Load balancers, listeners, listener rules and target-group tags as every mode discovers them, one request in
   * flight per load balancer and listener whatever the number of Rollouts asking (src/aws/discovery.ts).
   */
  discovery: Elbv2Discovery;
  /** Target groups against their Services' ready pods (src/verify/target-health.ts). */
  targets: TargetVerifier;
  /** Target verification can answer (`--aws-verify-target-group` with Kubernetes access); else modes skip it. */
  targetsEnabled: boolean;
  /** The final-switch guard every mode asks before SetWeight moves traffic back to stable. */
  guard: CallAwareGuard;
  events: EventSink;
  logger: Logger;
  /** Deadline of one weight verification (below the RPC deadline). */
  verifyTimeoutMs: number;
  /** A guarded write was refused with 409/422 (metrics), by the kind of object. */
  onConflict(resource: string): void;
  /** What a cleanup release did (metrics). */
  onReleaseOutcome(outcome: ReleaseOutcome): void;
}

export type ModeFactory = (deps: ModeDeps) => Mode;
