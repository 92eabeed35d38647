// What an Ingress's weighted action should look like on the load balancer: one tuple per target group,
// identified by the resource id the LBC tags it with (`<ns>/<ingress>-<svc>:<port>`, lbc-elbv2.md §2.3).
import { desiredWeights, type DestinationRole } from '../../../core/weights.js';
import type { WeightRequest } from '../view.js';

export type TupleRole = DestinationRole;

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

/** Per Ingress, the weights the router writes (src/core/weights.ts), each on the target group of its Service. */
export function expectedWeights(req: WeightRequest): ExpectedIngress[] {
  const ns = req.rollout.metadata.namespace ?? 'default';
  const weights = desiredWeights(req);
  return req.config.ingresses.map((ing) => ({
    ingress: ing.name,
    tuples: weights.map((w) => ({
      role: w.role,
      service: w.service,
      resourceId: targetGroupResourceId(ns, ing.name, w.service, ing.servicePort),
      weight: w.weight,
    })),
  }));
}
