// The EventSink the router and verifier report to. `emit` never blocks a plugin call and never throws: the
// Event is written in the background, and a failed write only costs a log line (and is retried the next
// time the same state is reported).

import os from 'node:os';
import { kubeRequest, type KubeAccess } from '../k8s/kube-api.js';
import type { Logger } from '../logger.js';
import type { Rollout } from '../core/rollout.js';
import type { EventSink, RolloutEvent } from '../plugin/hooks.js';
import { EventDeduper, type SinkEvent } from './dedup.js';
import { buildEvent, rolloutNamespace, type CoreV1Event } from './event-object.js';

/** Writes one Event; the Kubernetes adapter is `kubeEventWriter`. */
export type EventWriter = (namespace: string, event: CoreV1Event) => Promise<void>;

export interface EventSinkOptions {
  write: EventWriter;
  logger?: Logger;
  /** Called once per Event actually written (metrics). */
  onEmitted?: (reason: string) => void;
  /** Identifies this sidecar replica in `reportingInstance` (the pod name). */
  instance?: string;
  now?: () => Date;
  maxRollouts?: number;
}

export interface ManagedEventSink extends EventSink {
  emit(rollout: Rollout, event: RolloutEvent | SinkEvent): void;
  /** Forgets a deleted Rollout's state. */
  forget(rollout: Rollout): void;
  /** Resolves when every Event emitted so far has been written or has failed. */
  flush(): Promise<void>;
}

export function rolloutKey(rollout: Rollout): string {
  return rollout.metadata.uid || `${rolloutNamespace(rollout)}/${rollout.metadata.name}`;
}

export function createEventSink(opts: EventSinkOptions): ManagedEventSink {
  const dedup = new EventDeduper({ maxRollouts: opts.maxRollouts });
  const pending = new Set<Promise<void>>();
  const now = opts.now ?? (() => new Date());
  const instance = opts.instance ?? os.hostname();
  let seq = 0;

  return {
    emit(rollout, event) {
      const key = rolloutKey(rollout);
      if (!dedup.admit(key, event)) return;
      const body = buildEvent(rollout, event, now(), instance, seq++);
      const p = opts
        .write(body.metadata.namespace, body)
        .then(() => opts.onEmitted?.(event.reason))
        .catch((err: unknown) => {
          dedup.retract(key, event);
          opts.logger?.warn(
            { err: err instanceof Error ? err.message : String(err), reason: event.reason, rollout: `${body.metadata.namespace}/${rollout.metadata.name}` },
            'could not record Event on the Rollout (grant create on events in its namespace)',
          );
        })
        .finally(() => pending.delete(p));
      pending.add(p);
    },
    forget(rollout) {
      dedup.forget(rolloutKey(rollout));
    },
    async flush() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}

/** Writes Events with the Kubernetes API (POST /api/v1/namespaces/<ns>/events). */
export function kubeEventWriter(kc: KubeAccess): EventWriter {
  return async (namespace, event) => {
    await kubeRequest(kc, { method: 'POST', path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, body: event });
  };
}
