// Fixtures shaped like Argo's alb_test.go: Rollout `rollout` in `default`, stable-svc/canary-svc, port 443,
// and `ingress(...)` building a networking/v1 Ingress whose single rule's backend is the action service.

import type { Ingress } from '../../../src/k8s/ingress.js';
import type { Rollout } from '../../../src/core/rollout.js';
import { DEFAULT_PLUGIN_NAME } from '../../../src/plugin/router.js';

export const PLUGIN = DEFAULT_PLUGIN_NAME;
export const MANAGED = 'alb.rollouts.argoproj-labs.io/managed-annotations';
export const PREFIX = 'alb.ingress.kubernetes.io';

export interface RolloutOptions {
  name?: string;
  stable?: string;
  canary?: string;
  plugin?: Record<string, unknown>;
  pingPong?: { pingService: string; pongService: string };
  stablePingPong?: string;
  managedRoutes?: string[];
  maxTrafficWeight?: number;
  steps?: unknown[];
}

export function makeRollout(o: RolloutOptions = {}): Rollout {
  const canary: Record<string, unknown> = {
    trafficRouting: {
      plugins: { [PLUGIN]: o.plugin ?? { ingress: 'ingress', servicePort: 443 } },
      ...(o.managedRoutes ? { managedRoutes: o.managedRoutes.map((name) => ({ name })) } : {}),
      ...(o.maxTrafficWeight !== undefined ? { maxTrafficWeight: o.maxTrafficWeight } : {}),
    },
    ...(o.steps ? { steps: o.steps } : {}),
  };
  if (o.pingPong) canary.pingPong = o.pingPong;
  else {
    canary.stableService = o.stable ?? 'stable-svc';
    canary.canaryService = o.canary ?? 'canary-svc';
  }
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: o.name ?? 'rollout', namespace: 'default', uid: 'uid-1' },
    spec: { strategy: { canary } },
    status: o.stablePingPong !== undefined ? { canary: { stablePingPong: o.stablePingPong } } : {},
  };
}

/** Argo's expected action string (canary first, stable last). */
export function action(canary: string, stable: string, port: number, canaryWeight: number, sticky?: number, max = 100): string {
  const tail = sticky ? `,"TargetGroupStickinessConfig":{"Enabled":true,"DurationSeconds":${sticky}}` : '';
  return (
    `{"Type":"forward","ForwardConfig":{"TargetGroups":[` +
    `{"ServiceName":"${canary}","ServicePort":"${port}","Weight":${canaryWeight}},` +
    `{"ServiceName":"${stable}","ServicePort":"${port}","Weight":${max - canaryWeight}}]${tail}}}`
  );
}

export interface IngressOptions {
  name?: string;
  actionService?: string;
  port?: number;
  /** Canary weight of the existing action; undefined means no annotations at all. */
  weight?: number;
  stable?: string;
  canary?: string;
  managedBy?: string;
  sticky?: number;
  className?: string;
  resourceVersion?: string;
  backendPort?: { name?: string; number?: number };
}

export function makeIngress(o: IngressOptions = {}): Ingress {
  const actionService = o.actionService ?? 'stable-svc';
  const annotations: Record<string, string> = {};
  if (o.weight !== undefined) {
    annotations[`${PREFIX}/actions.${actionService}`] = action(o.canary ?? 'canary-svc', o.stable ?? 'stable-svc', o.port ?? 443, o.weight, o.sticky);
    annotations[MANAGED] = JSON.stringify({ [o.managedBy ?? 'rollout']: [`${PREFIX}/actions.${actionService}`] });
  }
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: o.name ?? 'ingress',
      namespace: 'default',
      resourceVersion: o.resourceVersion ?? '1',
      ...(o.weight !== undefined ? { annotations } : {}),
    },
    spec: {
      ingressClassName: o.className ?? 'alb',
      rules: [
        {
          http: {
            paths: [
              {
                path: '/api',
                pathType: 'Prefix',
                backend: { service: { name: actionService, port: o.backendPort ?? { name: 'use-annotation' } } },
              },
            ],
          },
        },
      ],
    },
  };
}
