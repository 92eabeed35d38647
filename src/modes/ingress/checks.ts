// Checks Argo never makes (rollout/trafficrouting/alb/alb.go writes whatever the Ingress is): without them a wrong Ingress silently ignores every weight.

import type { Ingress } from '../../k8s/ingress.js';
import { actionKey } from './keys.js';
import { ownerOtherThan, type ManagedAnnotations } from './managed.js';

export const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
export const USE_ANNOTATION_PORT = 'use-annotation';

export class IngressCheckError extends Error {
  override name = 'IngressCheckError';
}

/** The annotation wins when set and non-empty, then spec.ingressClassName, else "" (no class). */
export function ingressClass(ingress: Ingress): string {
  const fromAnnotation = ingress.metadata.annotations?.[INGRESS_CLASS_ANNOTATION];
  if (fromAnnotation) return fromAnnotation;
  return ingress.spec?.ingressClassName ?? '';
}

export function checkIngressClass(ingress: Ingress, albClasses: readonly string[]): void {
  const cls = ingressClass(ingress);
  if (albClasses.includes(cls)) return;
  const shown = cls === '' ? 'has no class' : `has class "${cls}"`;
  const list = albClasses.map((c) => JSON.stringify(c)).join(', ');
  throw new IngressCheckError(
    `ingress \`${ingress.metadata.name}\` ${shown}, which is not one of the ALB classes [${list}]; ` +
      `set spec.ingressClassName to an ALB class or add it with --alb-ingress-classes`,
  );
}

/** Every path whose backend is the action service must use port name `use-annotation`. */
export function checkActionBackend(ingress: Ingress, actionService: string, prefix: string): void {
  const name = ingress.metadata.name;
  const paths = (ingress.spec?.rules ?? []).flatMap((r) => r.http?.paths ?? []);
  const mine = paths.filter((p) => p.backend.service?.name === actionService);
  if (mine.length === 0) {
    throw new IngressCheckError(
      `ingress \`${name}\` does not have service \`${actionService}\` in rules; ` +
        'add a path whose backend is that service with port name use-annotation (or fix rootService/stableService)',
    );
  }
  const wrong = mine.find((p) => p.backend.service?.port?.name !== USE_ANNOTATION_PORT);
  if (wrong) {
    const port = wrong.backend.service?.port;
    const shown = port?.name ?? (port?.number !== undefined ? String(port.number) : 'no port');
    throw new IngressCheckError(
      `ingress \`${name}\`: backend \`${actionService}\` of path ${JSON.stringify(wrong.path ?? '')} uses port ${shown}; ` +
        `set service.port.name to use-annotation, otherwise the ALB controller ignores ${actionKey(prefix, actionService)}`,
    );
  }
}

/**
 * Refuses to write keys another Rollout already lists as its own, through this plugin (`managed`) or through
 * the built-in router (`argoManaged`).
 */
export function checkClaims(ingress: Ingress, managed: ManagedAnnotations, argoManaged: ManagedAnnotations, rolloutName: string, keys: string[]): void {
  for (const key of keys) {
    const owner = ownerOtherThan(managed, rolloutName, key);
    const builtIn = owner === undefined ? ownerOtherThan(argoManaged, rolloutName, key) : undefined;
    if (owner !== undefined || builtIn !== undefined) {
      const by = owner !== undefined ? `Rollout "${owner}"` : `Rollout "${builtIn}" (built-in trafficRouting.alb)`;
      throw new IngressCheckError(
        `ingress \`${ingress.metadata.name}\`: ${key} is already managed by ${by}; ` +
          'two Rollouts cannot drive one action, give each its own rootService (or delete the other Rollout first)',
      );
    }
  }
}
