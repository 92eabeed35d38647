// What an Ingress's weighted action should look like on the load balancer: one tuple per target group,
// identified by the resource id the LBC tags it with (`<ns>/<ingress>-<svc>:<port>`, lbc-elbv2.md §2.3).
import type { WeightRequest } from '../trafficrouter/types.js';

export type TupleRole = 'canary' | 'stable' | 'experiment';

export interface ExpectedTuple {
  role: TupleRole;
  service: string;
  /** Value of the resource tag on the target group the LBC made for this service. */
  resourceId: string;
  weight: number;
}

export interface ExpectedIngress {
  ingress: string;
  tuples: ExpectedTuple[];
}

export function targetGroupResourceId(namespace: string, ingress: string, service: string, port: number): string {
  return `${namespace}/${ingress}-${service}:${port}`;
}

/**
 * Per Ingress, the weights the router writes: canary = desired, experiments as given, stable = max minus
 * the rest (the same arithmetic as the action annotation, with maxTrafficWeight honoured).
 */
export function expectedWeights(req: WeightRequest): ExpectedIngress[] {
  const ns = req.rollout.metadata.namespace ?? 'default';
  const extra = req.additionalDestinations.reduce((sum, d) => sum + d.weight, 0);
  const stableWeight = req.maxWeight - req.desiredWeight - extra;
  return req.config.ingresses.map((ing) => {
    const id = (svc: string): string => targetGroupResourceId(ns, ing.name, svc, ing.servicePort);
    return {
      ingress: ing.name,
      tuples: [
        { role: 'canary', service: req.services.canary, resourceId: id(req.services.canary), weight: req.desiredWeight },
        ...req.additionalDestinations.map((d): ExpectedTuple => ({
          role: 'experiment',
          service: d.serviceName,
          resourceId: id(d.serviceName),
          weight: d.weight,
        })),
        { role: 'stable', service: req.services.stable, resourceId: id(req.services.stable), weight: stableWeight },
      ],
    };
  });
}
