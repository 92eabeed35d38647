// Target groups behind the roles: an ARN as configured, or the `spec.targetGroupARN` of a
// TargetGroupBinding whose `serviceRef` names the role's Service. Experiments are resolved the same way,
// by looking for the binding of their Service. Only Kubernetes reads happen here (injected).

import type { WeightDestination } from '../../core/rollout.js';
import type { RoleTarget } from './config.js';

/** The parts of an `elbv2.k8s.aws` TargetGroupBinding this mode reads. */
export interface TargetGroupBinding {
  name: string;
  namespace: string;
  /** `spec.targetGroupARN`; absent when the binding names its target group by `targetGroupName` only. */
  targetGroupArn?: string;
  targetGroupName?: string;
  /** `spec.serviceRef.name` */
  serviceName: string;
}

export interface BindingReader {
  /** Undefined when the binding does not exist. */
  getTargetGroupBinding(namespace: string, name: string): Promise<TargetGroupBinding | undefined>;
  listTargetGroupBindings(namespace: string): Promise<TargetGroupBinding[]>;
}

export async function resolveRole(role: RoleTarget, namespace: string, reader: BindingReader): Promise<string> {
  if ('arn' in role.ref) return role.ref.arn;
  const name = role.ref.targetGroupBinding;
  const binding = await reader.getTargetGroupBinding(namespace, name);
  if (!binding) {
    throw new Error(
      `TargetGroupBinding "${name}" (${role.field}.targetGroupBinding) does not exist in namespace "${namespace}"; ` +
        `create it or correct the name`,
    );
  }
  if (role.service !== undefined && binding.serviceName !== role.service) {
    throw new Error(
      `TargetGroupBinding "${name}" (${role.field}.targetGroupBinding) binds Service "${binding.serviceName}", ` +
        `but this role routes to Service "${role.service}"; name the binding whose serviceRef is "${role.service}"`,
    );
  }
  return bindingArn(binding, `${role.field}.targetGroupBinding`);
}

/**
 * Experiment destinations to target groups: each Service needs exactly one binding in the namespace,
 * since that is the only link between an experiment's Service and a target group on this load balancer.
 */
export async function resolveDestinations(
  destinations: WeightDestination[],
  namespace: string,
  reader: BindingReader,
): Promise<Array<{ arn: string; weight: number; serviceName: string }>> {
  if (destinations.length === 0) return [];
  const bindings = await reader.listTargetGroupBindings(namespace);
  return destinations.map((d) => {
    const matches = bindings.filter((b) => b.serviceName === d.serviceName);
    if (matches.length === 0) {
      throw new Error(
        `experiment Service "${d.serviceName}" has no TargetGroupBinding in namespace "${namespace}"; listener-rule mode ` +
          `can only weight Services bound to a target group: create a TargetGroupBinding with serviceRef.name "${d.serviceName}" ` +
          `for a target group on the driven rule's load balancer`,
      );
    }
    if (matches.length > 1) {
      throw new Error(
        `experiment Service "${d.serviceName}" has ${matches.length} TargetGroupBindings in namespace "${namespace}" ` +
          `(${matches.map((b) => b.name).join(', ')}); keep one so the target group to weight is unambiguous`,
      );
    }
    return { arn: bindingArn(matches[0]!, `TargetGroupBinding "${matches[0]!.name}"`), weight: d.weight, serviceName: d.serviceName };
  });
}

function bindingArn(binding: TargetGroupBinding, where: string): string {
  if (binding.targetGroupArn) return binding.targetGroupArn;
  throw new Error(
    `${where}: TargetGroupBinding "${binding.name}" has no spec.targetGroupARN` +
      (binding.targetGroupName ? ` (only targetGroupName "${binding.targetGroupName}")` : '') +
      `; set spec.targetGroupARN on the binding, or configure the target group by {arn}`,
  );
}
