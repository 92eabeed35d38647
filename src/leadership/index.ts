// The sidecar's leadership from its settings: follow the controller's leader Lease (the default; the Argo
// Rollouts Helm chart runs two controller replicas), or lead alone when the controller runs without leader
// election (--leader-elect=false on both).

import { hostname } from 'node:os';
import type { KubeAccess } from '../k8s/kube-api.js';
import type { Logger } from '../logger.js';
import type { Settings } from '../settings.js';
import { alwaysLeader, followLeader, type Leadership } from './follower.js';
import { controllerNamespace, kubeLeaseReader, leaseName, type LeaseRef } from './lease.js';

export { whileLeader, type LeaderGate, type Stoppable } from './gate.js';
export type { Leadership } from './follower.js';

export type LeadershipSettings = Pick<Settings, 'leaderElect' | 'leaderElectionNamespace' | 'controllerInstanceId' | 'leaderElectionHostname'>;

/** The Lease the controller in this pod elects with. */
export function controllerLease(settings: LeadershipSettings, env: NodeJS.ProcessEnv = process.env): LeaseRef {
  return { namespace: controllerNamespace(settings.leaderElectionNamespace, env), name: leaseName(settings.controllerInstanceId) };
}

export function startLeadership(settings: LeadershipSettings, kc: KubeAccess, logger?: Logger, pollMs?: number): Leadership {
  if (!settings.leaderElect) return alwaysLeader();
  const lease = controllerLease(settings);
  return followLeader({
    lease,
    read: kubeLeaseReader(kc, lease),
    hostname: settings.leaderElectionHostname ?? hostname(),
    ...(pollMs !== undefined ? { pollMs } : {}),
    ...(logger ? { logger } : {}),
  });
}
