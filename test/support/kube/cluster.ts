// One real control plane per test file, and the two identities every kube test uses: the admin (seeding
// fixtures, reading results back) and the sidecar's ServiceAccount bound only to the ClusterRole from
// deploy/ (everything the code under test does).
import { afterAll, beforeAll } from 'vitest';
import { CoreV1Api, KubernetesObjectApi, NetworkingV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Ingress } from '../../../src/k8s/ingress.js';
import { startEnvtest, type Envtest, type EnvtestOptions } from './envtest.js';
import { sidecarIdentity, type SidecarIdentity } from './rbac.js';

export const START_TIMEOUT_MS = 300_000;

export interface Cluster {
  env: Envtest;
  admin: KubeConfig;
  sidecar: SidecarIdentity;
  /** Kubeconfig of the sidecar's ServiceAccount: the only credential handed to code under test. */
  sidecarConfig(): KubeConfig;
  createNamespace(prefix: string): Promise<string>;
  create<T extends KubernetesObject>(obj: T): Promise<T>;
  readIngress(namespace: string, name: string): Promise<Ingress>;
}

/** Registers beforeAll/afterAll for the file; call the returned function inside tests. */
export function useCluster(options: EnvtestOptions = {}): () => Cluster {
  let cluster: Cluster | undefined;
  let env: Envtest | undefined;
  beforeAll(async () => {
    env = await startEnvtest(options);
    const admin = env.adminConfig();
    const sidecar = await sidecarIdentity(env, await env.createNamespace('argo-rollouts'));
    const objects = KubernetesObjectApi.makeApiClient(admin);
    const net = admin.makeApiClient(NetworkingV1Api);
    const e = env;
    cluster = {
      env: e,
      admin,
      sidecar,
      sidecarConfig: () => sidecar.kubeconfig(),
      createNamespace: (prefix) => e.createNamespace(prefix),
      create: async (obj) => (await objects.create(obj)) as typeof obj,
      readIngress: async (namespace, name) =>
        JSON.parse(JSON.stringify(await net.readNamespacedIngress({ namespace, name }))) as Ingress,
    };
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await env?.stop();
  });
  return () => {
    if (!cluster) throw new Error('the kube test cluster did not start; see the beforeAll error');
    return cluster;
  };
}

/** Lists core/v1 Events in `namespace` as plain JSON. */
export async function listEvents(admin: KubeConfig, namespace: string): Promise<Array<{ reason?: string; message?: string; type?: string; count?: number; involvedObject: { kind?: string; name?: string; uid?: string } }>> {
  const list = await admin.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace });
  return JSON.parse(JSON.stringify(list.items)) as Array<{ reason?: string; message?: string; type?: string; count?: number; involvedObject: { kind?: string; name?: string; uid?: string } }>;
}
