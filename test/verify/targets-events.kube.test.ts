// Reads and writes of the verifier and the event sink against a real kube-apiserver, as the sidecar's
// ServiceAccount: Services, EndpointSlices and TargetGroupBindings (both API groups) read for target
// verification (ELBv2 from moto), and Events created on a stored Rollout and de-duplicated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomObjectsApi, type KubernetesObject } from '@kubernetes/client-node';
import { createEventSink, kubeEventWriter } from '../../src/events/sink.js';
import { createIngressClient } from '../../src/k8s/ingress-client.js';
import { createIngressRouter } from '../../src/modes/ingress/router.js';
import type { Rollout } from '../../src/core/rollout.js';
import { createTargetsK8s } from '../../src/verify/k8s-targets.js';
import { createTargetVerifier } from '../../src/verify/target-health.js';
import { skipKubeTests } from '../support/kube/assets.js';
import { createLbcTargetGroup, createNetwork, registerTargets, type Network } from '../support/lbc-seed.js';
import { elbv2Client, startMoto, type Moto } from '../support/moto.js';
import { CallLog, testElbv2 } from './fixtures.js';
import { listEvents, useCluster } from '../support/kube/cluster.js';
import { ingress, PLUGIN, rollout, service } from '../support/kube/fixtures.js';

function endpointSlice(namespace: string, svc: string, ips: Array<{ ip: string; ready: boolean }>): KubernetesObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${svc}-abc12`, namespace, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: ips.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready } })),
  } as KubernetesObject;
}

function tgb(apiVersion: string, namespace: string, name: string, arn: string, svc: string, port: number | string): KubernetesObject {
  return {
    apiVersion,
    kind: 'TargetGroupBinding',
    metadata: { name, namespace },
    spec: { targetGroupARN: arn, targetType: 'ip', serviceRef: { name: svc, port } },
  } as KubernetesObject;
}

describe.skipIf(skipKubeTests())('target verification reads and Events against kube-apiserver', () => {
  const cluster = useCluster();
  let moto: Moto;
  let net: Network;
  beforeAll(async () => {
    moto = await startMoto();
    net = await createNetwork(moto.endpoint);
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it.each(['elbv2.k8s.aws/v1beta1', 'eks.amazonaws.com/v1'])(
    'verifies a Service\'s ready EndpointSlice IPs against the target group its %s TargetGroupBinding names',
    async (apiVersion) => {
      const c = cluster();
      const ns = await c.createNamespace('targets');
      const aws = elbv2Client(moto.endpoint);
      const tg = await createLbcTargetGroup(aws, net, { namespace: ns, ingress: 'ingress', service: 'canary-svc', port: 80 });
      await c.env.apply([
        service(ns, 'canary-svc', 80, 'http'),
        endpointSlice(ns, 'canary-svc', [
          { ip: '10.1.0.1', ready: true },
          { ip: '10.1.0.2', ready: true },
          { ip: '10.1.0.3', ready: false },
        ]),
        tgb(apiVersion, ns, tg.name, tg.arn, 'canary-svc', 80),
      ]);
      const verifier = createTargetVerifier({
        elbv2: testElbv2(moto.endpoint, new CallLog()),
        k8s: createTargetsK8s(c.sidecarConfig()),
        targetGroupBindingApiVersion: apiVersion,
        mode: 'registered',
      });

      await registerTargets(aws, tg.arn, [{ ip: '10.1.0.1', port: 8080 }]);
      const partial = await verifier.verifyTargets(ns, 'canary-svc');
      expect(partial.error).toBeUndefined();
      expect(partial.targetGroups.map((t) => [t.targetGroupBinding, t.expected, t.registered, t.verified])).toEqual([[tg.name, 2, 1, false]]);
      expect(partial.targetGroups[0]!.missing).toEqual(['10.1.0.2:8080']);

      await registerTargets(aws, tg.arn, [{ ip: '10.1.0.2', port: 8080 }]);
      const full = await verifier.verifyTargets(ns, 'canary-svc');
      expect(full.verified).toBe(true);
      expect(full.targetGroups.map((t) => [t.expected, t.registered, t.verified])).toEqual([[2, 2, true]]);
    },
  );

  it('reads the EndpointSlices and TargetGroupBindings of exactly the asked Service and namespace', async () => {
    const c = cluster();
    const ns = await c.createNamespace('reads');
    const other = await c.createNamespace('reads-other');
    await c.env.apply([
      endpointSlice(ns, 'svc-a', [{ ip: '10.2.0.1', ready: true }]),
      endpointSlice(ns, 'svc-b', [{ ip: '10.2.0.2', ready: false }]),
      endpointSlice(other, 'svc-a', [{ ip: '10.2.0.3', ready: true }]),
      tgb('elbv2.k8s.aws/v1beta1', ns, 'tgb-a', 'arn:aws:elasticloadbalancing:us-west-2:111122223333:targetgroup/a/1', 'svc-a', 'http'),
      tgb('elbv2.k8s.aws/v1beta1', other, 'tgb-other', 'arn:aws:elasticloadbalancing:us-west-2:111122223333:targetgroup/o/1', 'svc-a', 80),
    ]);
    const k8s = createTargetsK8s(c.sidecarConfig());
    expect(await k8s.listEndpointSlices(ns, 'svc-a')).toEqual([
      { ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: ['10.2.0.1'], conditions: { ready: true, terminating: null } }] },
    ]);
    expect(await k8s.listTargetGroupBindings(ns, 'elbv2.k8s.aws/v1beta1')).toEqual([
      { name: 'tgb-a', targetGroupArn: 'arn:aws:elasticloadbalancing:us-west-2:111122223333:targetgroup/a/1', targetType: 'ip', serviceRef: { name: 'svc-a', port: 'http' } },
    ]);
    // v1alpha1 is still served by the LBC's CRD; the same object is visible there.
    expect((await k8s.listTargetGroupBindings(ns, 'elbv2.k8s.aws/v1alpha1')).map((t) => t.name)).toEqual(['tgb-a']);
    expect(await k8s.getService(ns, 'missing')).toBeUndefined();
  });

  it('Events land on the stored Rollout, once per state change', async () => {
    const c = cluster();
    const ns = await c.createNamespace('events');
    const stored = (await c.admin.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: 'argoproj.io',
      version: 'v1alpha1',
      plural: 'rollouts',
      namespace: ns,
      body: rollout({ namespace: ns }),
    })) as Rollout;
    const emitted: string[] = [];
    const sink = createEventSink({ write: kubeEventWriter(c.sidecarConfig()), onEmitted: (reason) => emitted.push(reason), instance: 'test' });
    const unverified = { type: 'Warning' as const, reason: 'ALBPluginWeightUnverified', message: 'Service canary-svc (TargetGroup arn:x) not verified: 1 of 2 targets registered' };
    const verified = { type: 'Normal' as const, reason: 'ALBPluginWeightVerified', message: 'Service canary-svc (TargetGroup arn:x) verified: 2 targets registered' };
    for (const e of [unverified, unverified, unverified, verified, verified]) {
      sink.emit(stored, e);
      await sink.flush();
    }
    expect(emitted).toEqual(['ALBPluginWeightUnverified', 'ALBPluginWeightVerified']);
    const events = await listEvents(c.admin, ns);
    expect(events.map((e) => [e.type, e.reason, e.message, e.count])).toEqual([
      ['Warning', 'ALBPluginWeightUnverified', unverified.message, 1],
      ['Normal', 'ALBPluginWeightVerified', verified.message, 1],
    ]);
    for (const e of events) {
      expect(e.involvedObject).toMatchObject({ kind: 'Rollout', name: 'rollout', uid: stored.metadata.uid });
    }
  });

  it('the router\'s ALBPluginIngressPatched Events reach the server once per actual change', async () => {
    const c = cluster();
    const ns = await c.createNamespace('router-events');
    await c.create(ingress({ namespace: ns }));
    const stored = (await c.admin.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: 'argoproj.io',
      version: 'v1alpha1',
      plural: 'rollouts',
      namespace: ns,
      body: rollout({ namespace: ns }),
    })) as Rollout;
    const kc = c.sidecarConfig();
    const sink = createEventSink({ write: kubeEventWriter(kc), instance: 'test' });
    const router = createIngressRouter({ ingresses: createIngressClient(kc), pluginName: PLUGIN, albIngressClasses: ['alb'], events: sink });
    for (const w of [10, 10, 20, 20]) await router.setWeight(stored, w, []);
    await sink.flush();
    const events = await listEvents(c.admin, ns);
    expect(events.map((e) => [e.reason, e.message])).toEqual([
      ['ALBPluginIngressPatched', "Updating Ingress `ingress` to desiredWeight '10'"],
      ['ALBPluginIngressPatched', "Updating Ingress `ingress` to desiredWeight '20'"],
    ]);
  });
});
