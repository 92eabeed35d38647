// Issue #12 item 8: the final-switch guard against a real kube-apiserver (as the sidecar's ServiceAccount) and
// moto. It compares the stable target group with the pods of the ReplicaSet becoming stable, not with
// EndpointSlices that still list the old pods right after the selector switch; and a cluster that does not
// serve the TargetGroupBinding API of --aws-target-group-binding-api-version is a clear error in readiness
// and in the guard's answer, never "nothing to verify".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { CoreV1Api, NetworkingV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { createIngressClient } from '../../src/k8s/ingress-client.js';
import { createBindingReader } from '../../src/modes/listener-rule/k8s.js';
import { healthRoutes } from '../../src/server/health.js';
import { createIngressRouter, weightRequest } from '../../src/modes/ingress/router.js';
import type { Rollout } from '../../src/core/rollout.js';
import { createSetWeightGuard } from '../../src/verify/guard.js';
import { createTargetsK8s, targetGroupBindingApiCheck } from '../../src/verify/k8s-targets.js';
import { createTargetVerifier } from '../../src/verify/target-health.js';
import { skipKubeTests } from '../support/kube/assets.js';
import { startEnvtest, type Envtest } from '../support/kube/envtest.js';
import { grantClusterRole, sidecarIdentity, type SidecarIdentity } from '../support/kube/rbac.js';
import { createLbcTargetGroup, createNetwork, registerTargets, type Network } from '../support/lbc-seed.js';
import { elbv2Client, startMoto, type Moto } from '../support/moto.js';
import { CallLog, testElbv2 } from './fixtures.js';
import { useCluster } from '../support/kube/cluster.js';
import { action, ingress, PLUGIN, PREFIX, rollout } from '../support/kube/fixtures.js';

const TGB_API = 'elbv2.k8s.aws/v1beta1';
const ACTION = `${PREFIX}/actions.stable-svc`;
const OLD = 'old-hash';
const NEW = 'new-hash';

/**
 * Argo's own controller ClusterRole gives the argo-rollouts ServiceAccount (which the sidecar runs as) list
 * and watch on pods; deploy/ adds only what the controller lacks, so the test grants that rule itself.
 */
const granted = new WeakSet<Envtest>();
async function grantControllerPods(env: Envtest, id: SidecarIdentity): Promise<void> {
  if (granted.has(env)) return;
  granted.add(env);
  await grantClusterRole(env, 'argo-rollouts-controller-pods', [{ apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] }], id.namespace, id.serviceAccount);
}

/** A promoted Rollout about to switch back to stable: stableRS = currentPodHash, last canary weight 100. */
function promoted(namespace: string): Rollout {
  const r = rollout({ namespace });
  r.status = {
    stableRS: NEW,
    currentPodHash: NEW,
    canary: { weights: { canary: { weight: 100, serviceName: 'canary-svc' }, stable: { weight: 0, serviceName: 'stable-svc' } } },
  } as Rollout['status'];
  return r;
}

function stableService(namespace: string, hash: string): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'stable-svc', namespace },
    spec: { selector: { app: 'shop', 'rollouts-pod-template-hash': hash }, ports: [{ name: 'web', port: 80, targetPort: 'http' }] },
  } as KubernetesObject;
}

function tgb(namespace: string, arn: string): KubernetesObject {
  return {
    apiVersion: TGB_API,
    kind: 'TargetGroupBinding',
    metadata: { name: 'stable-tgb', namespace },
    spec: { targetGroupARN: arn, targetType: 'ip', serviceRef: { name: 'stable-svc', port: 80 } },
  } as KubernetesObject;
}

/** EndpointSlices lag behind the selector switch: this one still lists the old pods. */
function laggingSlice(namespace: string, ips: string[]): KubernetesObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'stable-svc-abc12', namespace, labels: { 'kubernetes.io/service-name': 'stable-svc' } },
    addressType: 'IPv4',
    ports: [{ name: 'web', port: 8080, protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  } as KubernetesObject;
}

/** A running, ready pod of one ReplicaSet (no kubelet here: the status is written as the kubelet would). */
async function readyPod(admin: KubeConfig, namespace: string, name: string, hash: string, ip: string): Promise<void> {
  const core = admin.makeApiClient(CoreV1Api);
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name, labels: { app: 'shop', 'rollouts-pod-template-hash': hash } },
      spec: { containers: [{ name: 'app', image: 'registry.example.com/shop:1', ports: [{ name: 'http', containerPort: 8080 }] }] },
    },
  });
  await core.patchNamespacedPodStatus(
    {
      namespace,
      name,
      body: { status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

async function readyz(checks: Parameters<typeof healthRoutes>[1]['checks']): Promise<{ status: number; body: { checks: Array<{ name: string; ok: boolean; message?: string }> } }> {
  const app = Fastify();
  await app.register(healthRoutes, { checks, checkTimeoutMs: 5000 });
  const res = await app.inject({ method: 'GET', url: '/readyz' });
  await app.close();
  return { status: res.statusCode, body: res.json() };
}

let moto: Moto;
let net: Network;
let aws: ElasticLoadBalancingV2Client;
beforeAll(async () => {
  moto = await startMoto();
  net = await createNetwork(moto.endpoint);
  aws = elbv2Client(moto.endpoint);
});
afterAll(async () => {
  await moto?.stop();
});

describe.skipIf(skipKubeTests())('final-switch guard: the pods of the ReplicaSet becoming stable (kube-apiserver + moto)', () => {
  const cluster = useCluster();

  function guardedRouter(kc: KubeConfig) {
    const verifier = createTargetVerifier({
      elbv2: testElbv2(moto.endpoint, new CallLog()),
      k8s: createTargetsK8s(kc),
      targetGroupBindingApiVersion: TGB_API,
      mode: 'healthy',
    });
    // As src/verify/wiring.ts builds it.
    const guard = createSetWeightGuard({ enabled: true, verifyTargets: (ns, svc) => verifier.verifyTargets(ns, svc) });
    return { verifier, router: createIngressRouter({ ingresses: createIngressClient(kc), pluginName: PLUGIN, albIngressClasses: ['alb'], guard }) };
  }

  it('holds while the stable target group lacks the new pods, though the lagging EndpointSlices list only old pods it holds', async () => {
    const c = cluster();
    await grantControllerPods(c.env, c.sidecar);
    const ns = await c.createNamespace('final-switch');
    const tg = await createLbcTargetGroup(aws, net, { namespace: ns, ingress: 'ingress', service: 'stable-svc', port: 80 });
    const ing = ingress({ namespace: ns });
    ing.metadata.annotations = { ...ing.metadata.annotations, [ACTION]: action('canary-svc', 'stable-svc', 80, 100) };
    await c.create(ing);
    await c.env.apply([stableService(ns, NEW), tgb(ns, tg.arn), laggingSlice(ns, ['10.1.7.1', '10.1.7.2'])]);
    await readyPod(c.admin, ns, 'shop-old-1', OLD, '10.1.7.1');
    await readyPod(c.admin, ns, 'shop-old-2', OLD, '10.1.7.2');
    await readyPod(c.admin, ns, 'shop-new-1', NEW, '10.1.7.11');
    await readyPod(c.admin, ns, 'shop-new-2', NEW, '10.1.7.12');
    // The stable target group still holds the old pods; the LBC has not registered the new ones yet.
    await registerTargets(aws, tg.arn, [{ ip: '10.1.7.1', port: 8080 }, { ip: '10.1.7.2', port: 8080 }]);
    const { verifier, router } = guardedRouter(c.sidecarConfig());

    const report = await verifier.verifyTargets(ns, 'stable-svc');
    expect(report).toMatchObject({ podTemplateHash: NEW, verified: false });
    expect(report.targetGroups[0]!.missing).toEqual(['10.1.7.11:8080', '10.1.7.12:8080']);
    await expect(router.setWeight(promoted(ns), 0, [])).rejects.toThrow(
      `holding traffic on the canary: waiting for the target groups of stable Service ${ns}/stable-svc to hold the new pods (healthy) ` +
        `before switching back to stable: target group ${tg.arn} (TargetGroupBinding stable-tgb): 0/2 pods of ReplicaSet rollouts-pod-template-hash=${NEW} healthy`,
    );
    expect((await c.readIngress(ns, 'ingress')).metadata.annotations?.[ACTION]).toBe(action('canary-svc', 'stable-svc', 80, 100));

    // Registered (moto reports them healthy): the switch goes through.
    await registerTargets(aws, tg.arn, [{ ip: '10.1.7.11', port: 8080 }, { ip: '10.1.7.12', port: 8080 }]);
    await router.setWeight(promoted(ns), 0, []);
    expect((await c.readIngress(ns, 'ingress')).metadata.annotations?.[ACTION]).toBe(action('canary-svc', 'stable-svc', 80, 0));
  });

  it('holds while the stable Service still selects another ReplicaSet than status.stableRS', async () => {
    const c = cluster();
    await grantControllerPods(c.env, c.sidecar);
    const ns = await c.createNamespace('not-switched');
    const tg = await createLbcTargetGroup(aws, net, { namespace: ns, ingress: 'ingress', service: 'stable-svc', port: 80 });
    await c.env.apply([stableService(ns, OLD), tgb(ns, tg.arn)]);
    await readyPod(c.admin, ns, 'shop-old-1', OLD, '10.1.8.1');
    await registerTargets(aws, tg.arn, [{ ip: '10.1.8.1', port: 8080 }]);
    const guard = createSetWeightGuard({
      enabled: true,
      verifyTargets: (n, svc) =>
        createTargetVerifier({ elbv2: testElbv2(moto.endpoint, new CallLog()), k8s: createTargetsK8s(c.sidecarConfig()), targetGroupBindingApiVersion: TGB_API, mode: 'healthy' }).verifyTargets(n, svc),
    });
    const decision = await guard.beforeSetWeight(weightRequest(promoted(ns), PLUGIN, 0, []));
    expect(decision).toEqual({
      hold: true,
      reason:
        `holding traffic on the canary: waiting for the target groups of stable Service ${ns}/stable-svc to hold the new pods (healthy) ` +
        `before switching back to stable: Service ${ns}/stable-svc still selects rollouts-pod-template-hash=${OLD}, not the ReplicaSet ` +
        `becoming stable (${NEW}, status.stableRS); Argo switches the selector first`,
    });
  });

  it('readiness is green when the TargetGroupBinding API is served', async () => {
    const res = await readyz([targetGroupBindingApiCheck(cluster().sidecarConfig(), TGB_API)]);
    expect(res.status).toBe(200);
    expect(res.body.checks).toEqual([{ name: 'target-group-binding-api', ok: true }]);
  });
});

describe.skipIf(skipKubeTests())('final-switch guard: a cluster without the TargetGroupBinding CRD (kube-apiserver)', () => {
  let env: Envtest | undefined;
  let sidecar: SidecarIdentity;
  beforeAll(async () => {
    env = await startEnvtest({ crds: false });
    sidecar = await sidecarIdentity(env, await env.createNamespace('argo-rollouts'));
    await grantControllerPods(env, sidecar);
  }, 300_000);
  afterAll(async () => {
    await env?.stop();
  });

  const missing =
    'the cluster does not serve targetgroupbindings.elbv2.k8s.aws at elbv2.k8s.aws/v1beta1 ' +
    '(--aws-target-group-binding-api-version=elbv2.k8s.aws/v1beta1): install the AWS Load Balancer Controller and its CRDs, ' +
    'or set --aws-target-group-binding-api-version to the TargetGroupBinding API the cluster serves ' +
    '(elbv2.k8s.aws/v1beta1 with the AWS Load Balancer Controller, eks.amazonaws.com/v1 on EKS Auto Mode)';

  it('/readyz is not ready and names the setting and the fix', async () => {
    const res = await readyz([targetGroupBindingApiCheck(sidecar.kubeconfig(), TGB_API)]);
    expect(res.status).toBe(503);
    expect(res.body.checks).toEqual([{ name: 'target-group-binding-api', ok: false, message: missing }]);
  });

  it('the guard holds the final switch with that reason instead of reading "nothing to verify"', async () => {
    const ns = await env!.createNamespace('no-crd');
    const ing = ingress({ namespace: ns });
    ing.metadata.annotations = { ...ing.metadata.annotations, [ACTION]: action('canary-svc', 'stable-svc', 80, 100) };
    await env!.apply([ing as KubernetesObject, stableService(ns, NEW)]);
    const kc = sidecar.kubeconfig();
    const verifier = createTargetVerifier({ elbv2: testElbv2(moto.endpoint, new CallLog()), k8s: createTargetsK8s(kc), targetGroupBindingApiVersion: TGB_API, mode: 'healthy' });
    const guard = createSetWeightGuard({ enabled: true, verifyTargets: (n, svc) => verifier.verifyTargets(n, svc) });
    const router = createIngressRouter({ ingresses: createIngressClient(kc), pluginName: PLUGIN, albIngressClasses: ['alb'], guard });

    expect(await verifier.verifyTargets(ns, 'stable-svc')).toMatchObject({ verified: false, error: missing, targetGroups: [] });
    await expect(router.setWeight(promoted(ns), 0, [])).rejects.toThrow(
      `holding traffic on the canary: waiting for the target groups of stable Service ${ns}/stable-svc to hold the new pods (healthy) ` +
        `before switching back to stable: ${missing}`,
    );
    const after = await env!.adminConfig().makeApiClient(NetworkingV1Api).readNamespacedIngress({ namespace: ns, name: 'ingress' });
    expect(after.metadata?.annotations?.[ACTION]).toBe(action('canary-svc', 'stable-svc', 80, 100));
  });

  it('listener-rule mode\'s binding reads say the same instead of "binding does not exist"', async () => {
    const reader = createBindingReader(sidecar.kubeconfig(), TGB_API);
    await expect(reader.getTargetGroupBinding('default', 'stable-tgb')).rejects.toThrow(missing);
    await expect(reader.listTargetGroupBindings('default')).rejects.toThrow(missing);
  });
});
