// The core/v1 Event this sidecar records on a Rollout, shaped like the ones client-go's recorder writes
// for the Argo controller (name `<rollout>.<hex nanoseconds>`, involvedObject pointing at the Rollout), so
// `kubectl describe rollout` and `kubectl argo rollouts get` show them next to Argo's own.

import type { Rollout } from '../core/rollout.js';
import type { RolloutEvent } from '../plugin/hooks.js';

export const EVENT_COMPONENT = 'rollouts-plugin-trafficrouter-alb';
/** The API server refuses longer notes on events.k8s.io; core/v1 readers truncate too. */
export const MAX_MESSAGE_LENGTH = 1024;

export interface CoreV1Event {
  apiVersion: 'v1';
  kind: 'Event';
  metadata: { name: string; namespace: string };
  involvedObject: {
    apiVersion: string;
    kind: string;
    name: string;
    namespace: string;
    uid?: string;
    resourceVersion?: string;
  };
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  source: { component: string; host?: string };
  reportingComponent: string;
  reportingInstance: string;
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
}

function truncate(message: string): string {
  return message.length <= MAX_MESSAGE_LENGTH ? message : message.slice(0, MAX_MESSAGE_LENGTH - 3) + '...';
}

export function rolloutNamespace(rollout: Rollout): string {
  return rollout.metadata.namespace || 'default';
}

/** `seq` keeps names unique when several events of one Rollout fall in the same millisecond. */
export function buildEvent(rollout: Rollout, event: RolloutEvent, now: Date, instance: string, seq = 0): CoreV1Event {
  const namespace = rolloutNamespace(rollout);
  const nanos = BigInt(now.getTime()) * 1_000_000n + BigInt(seq % 1_000_000);
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const involved: CoreV1Event['involvedObject'] = {
    apiVersion: rollout.apiVersion ?? 'argoproj.io/v1alpha1',
    kind: rollout.kind ?? 'Rollout',
    name: rollout.metadata.name,
    namespace,
  };
  if (rollout.metadata.uid) involved.uid = rollout.metadata.uid;
  if (rollout.metadata.resourceVersion) involved.resourceVersion = rollout.metadata.resourceVersion;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${rollout.metadata.name}.${nanos.toString(16)}`, namespace },
    involvedObject: involved,
    type: event.type,
    reason: event.reason,
    message: truncate(event.message),
    source: { component: EVENT_COMPONENT },
    reportingComponent: EVENT_COMPONENT,
    reportingInstance: instance,
    firstTimestamp: stamp,
    lastTimestamp: stamp,
    count: 1,
  };
}
