// Objects as a user would apply them: an ALB Ingress whose rule sends /api to the action service through
// `use-annotation`, the Services behind it, and Rollouts naming this plugin. Valid for a real API server
// (pathType set, port names within 15 characters).
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Ingress } from '../../../src/k8s/ingress.js';
import type { Rollout } from '../../../src/core/rollout.js';
import { DEFAULT_PLUGIN_NAME } from '../../../src/plugin/router.js';
import { DEFAULT_ANNOTATION_PREFIX, PLUGIN_MANAGED_KEY } from '../../../src/modes/ingress/types.js';

export const PLUGIN = DEFAULT_PLUGIN_NAME;
export const PREFIX = DEFAULT_ANNOTATION_PREFIX;
export const MANAGED = PLUGIN_MANAGED_KEY;
/** An annotation the plugin does not own; every test checks it survives. */
export const FOREIGN = { key: `${PREFIX}/scheme`, value: 'internet-facing' };

export interface RolloutFixture {
  namespace: string;
  name?: string;
  stable?: string;
  canary?: string;
  ingresses?: Array<string | { name: string; servicePort: number }>;
  servicePort?: number;
  rootService?: string;
  managedRoutes?: string[];
}

export function rollout(o: RolloutFixture): Rollout & KubernetesObject {
  const ingresses = o.ingresses ?? ['ingress'];
  const plugin: Record<string, unknown> = {
    ...(ingresses.length === 1 && typeof ingresses[0] === 'string' ? { ingress: ingresses[0] } : { ingresses }),
    servicePort: o.servicePort ?? 80,
    ...(o.rootService ? { rootService: o.rootService } : {}),
  };
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: o.name ?? 'rollout', namespace: o.namespace },
    spec: {
      strategy: {
        canary: {
          stableService: o.stable ?? 'stable-svc',
          canaryService: o.canary ?? 'canary-svc',
          trafficRouting: {
            plugins: { [PLUGIN]: plugin },
            ...(o.managedRoutes ? { managedRoutes: o.managedRoutes.map((name) => ({ name })) } : {}),
          },
        },
      },
    },
    status: {},
  } as Rollout & KubernetesObject;
}

export interface IngressFixture {
  namespace: string;
  name?: string;
  /** Services that each get a `use-annotation` path (one path per service: /<service>). */
  actionServices?: string[];
  className?: string;
}

export function ingress(o: IngressFixture): Ingress & KubernetesObject {
  const services = o.actionServices ?? ['stable-svc'];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: o.name ?? 'ingress', namespace: o.namespace, annotations: { [FOREIGN.key]: FOREIGN.value } },
    spec: {
      ingressClassName: o.className ?? 'alb',
      rules: [
        {
          http: {
            paths: services.map((svc) => ({
              path: services.length === 1 ? '/api' : `/${svc}`,
              pathType: 'Prefix',
              backend: { service: { name: svc, port: { name: 'use-annotation' } } },
            })),
          },
        },
      ],
    },
  } as Ingress & KubernetesObject;
}

export function service(namespace: string, name: string, port = 80, targetPort: number | string = 8080): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { selector: { app: name }, ports: [{ name: 'http', port, targetPort }] },
  } as KubernetesObject;
}

/** Argo's action JSON (canary first, stable last, ServicePort as a string). */
export function action(canary: string, stable: string, port: number, canaryWeight: number): string {
  return (
    `{"Type":"forward","ForwardConfig":{"TargetGroups":[` +
    `{"ServiceName":"${canary}","ServicePort":"${port}","Weight":${canaryWeight}},` +
    `{"ServiceName":"${stable}","ServicePort":"${port}","Weight":${100 - canaryWeight}}]}}`
  );
}
