// The RBAC the project ships, applied to a test cluster: every ClusterRole found in deploy/ is created
// as-is and bound to a fresh ServiceAccount, whose token is then the only credential the code under test
// gets. A missing permission in deploy/ therefore fails the integration suite.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadAllYaml, type KubeConfig, type V1ClusterRole, type V1ClusterRoleBinding, type V1PolicyRule } from '@kubernetes/client-node';
import { REPO_ROOT } from './assets.js';
import type { Envtest } from './envtest.js';

export interface ShippedClusterRole {
  /** Repository-relative file it came from. */
  file: string;
  role: V1ClusterRole;
}

function yamlFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

/** Every `kind: ClusterRole` document under deploy/ (kustomize patches and Helm values are not roles). */
export function shippedClusterRoles(deployDir = join(REPO_ROOT, 'deploy')): ShippedClusterRole[] {
  return yamlFiles(deployDir).flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    // Helm templates are not plain YAML; the chart's values snippet carries no role of its own.
    if (text.includes('{{')) return [];
    const docs = (loadAllYaml(text) as unknown[]).filter((d): d is V1ClusterRole => {
      const doc = d as { kind?: unknown; rules?: unknown } | null;
      return doc !== null && typeof doc === 'object' && doc.kind === 'ClusterRole' && Array.isArray(doc.rules);
    });
    return docs.map((role) => ({ file: relative(REPO_ROOT, file), role }));
  });
}

/** Creates ClusterRole `name` with `rules` and binds it to ServiceAccount `namespace/serviceAccount`. */
export async function grantClusterRole(
  env: Envtest,
  name: string,
  rules: V1PolicyRule[],
  namespace: string,
  serviceAccount: string,
): Promise<void> {
  const role: V1ClusterRole = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules };
  const binding: V1ClusterRoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: `${name}-${namespace}-${serviceAccount}` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
    subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
  };
  await env.apply([role, binding]);
}

export interface SidecarIdentity {
  namespace: string;
  serviceAccount: string;
  token: string;
  roles: ShippedClusterRole[];
  kubeconfig(): KubeConfig;
}

/**
 * Creates the shipped ClusterRoles, a ServiceAccount in `namespace`, and ClusterRoleBindings from the
 * roles to it. Throws when deploy/ holds no ClusterRole (the RBAC proof would prove nothing).
 */
export async function sidecarIdentity(env: Envtest, namespace: string, serviceAccount = 'rollouts-plugin-alb'): Promise<SidecarIdentity> {
  const roles = shippedClusterRoles();
  if (roles.length === 0) {
    throw new Error('no ClusterRole found under deploy/: the sidecar RBAC must ship as a ClusterRole manifest');
  }
  for (const { role } of roles) await grantClusterRole(env, role.metadata?.name ?? '', role.rules ?? [], namespace, serviceAccount);
  const token = await env.serviceAccountToken(namespace, serviceAccount);
  return { namespace, serviceAccount, token, roles, kubeconfig: () => env.configForToken(token) };
}
