// verifyTargets and the final-switch guard, with Kubernetes answered by nock at the HTTP level (through the
// real client-node adapter) and ELBv2 by moto behind the fault-injecting proxy, which supplies the health
// states moto never reports. Ports of argo-alb-spec.md §9.2 cases 1, 3, 7, 8, 9.
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { createIngressClient } from '../../src/k8s/ingress-client.js';
import { createIngressRouter } from '../../src/modes/ingress/router.js';
import { createSetWeightGuard } from '../../src/verify/guard.js';
import { createTargetsK8s } from '../../src/verify/k8s-targets.js';
import { targetGroupBindingResource } from '../../src/verify/k8s.js';
import { createTargetVerifier, type TargetVerifier, type VerifyMode } from '../../src/verify/target-health.js';
import { fakeKubeConfig, freePort, ingressPath } from '../k8s/fake-cluster.js';
import { makeIngress, makeRollout, PLUGIN } from '../modes/ingress/fixtures.js';
import { startElbv2Proxy, type Elbv2Proxy } from '../support/elbv2-proxy.js';
import { createLbcTargetGroup, createNetwork, registerTargets, type Network } from '../support/lbc-seed.js';
import { elbv2Client, startMoto, type Moto } from '../support/moto.js';
import { CallLog, testElbv2 } from './fixtures.js';

const json = { 'content-type': 'application/json' };
let moto: Moto;
let proxy: Elbv2Proxy;
let aws: ElasticLoadBalancingV2Client;
let net: Network;
let base: string;
let kubeHost: string;
let seq = 0;
let ipSeq = 0;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startElbv2Proxy(moto.endpoint);
  aws = elbv2Client(moto.endpoint);
  net = await createNetwork(moto.endpoint);
  kubeHost = `127.0.0.1:${await freePort()}`;
  base = `http://${kubeHost}`;
  // Only the fake API server is answered by nock; moto and the proxy are real loopback peers.
  nock.disableNetConnect();
  nock.enableNetConnect((host) => host.startsWith('127.0.0.1:') && host !== kubeHost);
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending, 'every expected Kubernetes request was made').toEqual([]);
});
afterAll(async () => {
  nock.enableNetConnect();
  await proxy?.stop();
  await moto?.stop();
});

const ip = (): string => `10.0.${Math.floor(++ipSeq / 250)}.${(ipSeq % 250) + 1}`;

interface SvcPort { name?: string; port: number; targetPort?: number | string }

class Kube {
  constructor(readonly ns: string) {}
  service(name: string, ports: SvcPort[]): this {
    nock(base).get(`/api/v1/namespaces/${this.ns}/services/${name}`).reply(200, { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: this.ns }, spec: { ports } }, json);
    return this;
  }
  missingService(name: string): this {
    nock(base).get(`/api/v1/namespaces/${this.ns}/services/${name}`).reply(404, { kind: 'Status', code: 404, message: `services "${name}" not found` }, json);
    return this;
  }
  tgbs(items: Array<{ name: string; arn: string; type?: string; svc: string; port: number | string }>, apiVersion = 'elbv2.k8s.aws/v1beta1'): this {
    const { group, version } = targetGroupBindingResource(apiVersion);
    nock(base).get(`/apis/${group}/${version}/namespaces/${this.ns}/targetgroupbindings`).reply(200, {
      apiVersion, kind: 'TargetGroupBindingList',
      items: items.map((t) => ({ apiVersion, kind: 'TargetGroupBinding', metadata: { name: t.name, namespace: this.ns }, spec: { targetGroupARN: t.arn, ...(t.type ? { targetType: t.type } : {}), serviceRef: { name: t.svc, port: t.port } } })),
    }, json);
    return this;
  }
  slices(svc: string, slices: Array<{ ports: Array<{ name?: string; port: number }>; endpoints: Array<{ ip: string; ready?: boolean; terminating?: boolean }> }>): this {
    nock(base).get(`/apis/discovery.k8s.io/v1/namespaces/${this.ns}/endpointslices`).query({ labelSelector: `kubernetes.io/service-name=${svc}` }).reply(200, {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSliceList',
      items: slices.map((s, i) => ({
        metadata: { name: `${svc}-${i}` }, addressType: 'IPv4', ports: s.ports,
        endpoints: s.endpoints.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready ?? true, ...(e.terminating !== undefined ? { terminating: e.terminating } : {}) } })),
      })),
    }, json);
    return this;
  }
  noSlicesApi(): this {
    nock(base).get(`/apis/discovery.k8s.io/v1/namespaces/${this.ns}/endpointslices`).query(true).reply(404, { kind: 'Status', code: 404 }, json);
    return this;
  }
  endpoints(name: string, subsets: Array<{ ips: string[]; notReady?: string[]; ports: Array<{ name?: string; port: number }> }>): this {
    nock(base).get(`/api/v1/namespaces/${this.ns}/endpoints/${name}`).reply(200, {
      apiVersion: 'v1', kind: 'Endpoints', metadata: { name },
      subsets: subsets.map((s) => ({ addresses: s.ips.map((i) => ({ ip: i })), notReadyAddresses: (s.notReady ?? []).map((i) => ({ ip: i })), ports: s.ports })),
    }, json);
    return this;
  }
}

let log: CallLog;
function targets(mode: VerifyMode = 'healthy', apiVersion = 'elbv2.k8s.aws/v1beta1'): TargetVerifier {
  log = new CallLog();
  return createTargetVerifier({
    elbv2: testElbv2(proxy.endpoint, log),
    k8s: createTargetsK8s(fakeKubeConfig(base)),
    targetGroupBindingApiVersion: apiVersion,
    mode,
  });
}

async function tg(ns: string, svc: string, registered: Array<{ ip: string; port: number }>, targetType: 'ip' | 'instance' = 'ip') {
  const t = await createLbcTargetGroup(aws, net, { namespace: ns, ingress: 'ingress', service: svc, port: 80, targetType });
  if (registered.length > 0) await registerTargets(aws, t.arn, registered);
  return t;
}

describe('verifyTargets', () => {
  it('§9.2 case 9 (registered mode, Endpoints fallback): 2 of 3 endpoints registered on the right port', async () => {
    const ns = `v${++seq}`;
    const [a, b, c, d] = [ip(), ip(), ip(), ip()];
    const t = await tg(ns, 'active', [{ ip: a, port: 8080 }, { ip: b, port: 8080 }, { ip: c, port: 8081 }, { ip: d, port: 8080 }]);
    new Kube(ns).service('active', [{ port: 80, targetPort: 8080 }]).tgbs([{ name: 'tgb', arn: t.arn, type: 'ip', svc: 'active', port: 80 }])
      .noSlicesApi().endpoints('active', [{ ips: [a, b, c], notReady: [ip()], ports: [{ port: 8080 }] }]);
    const report = await targets('registered').verifyTargets(ns, 'active');
    expect(report.verified).toBe(false);
    expect(report.targetGroups.map((g) => [g.expected, g.registered, g.verified])).toEqual([[3, 2, false]]);
    expect(report.targetGroups[0]!.missing).toEqual([`${c}:8080`]);
    expect(report.reasons).toEqual([`target group ${t.arn} (TargetGroupBinding tgb): 2/3 endpoints registered`]);
    expect(log.calls).toEqual([['DescribeTargetHealth', 'success']]);
  });

  it('§9.2 case 8: instance-mode target groups are reported as skipped, without an AWS call', async () => {
    const ns = `v${++seq}`;
    const t = await tg(ns, 'svc', [], 'instance');
    new Kube(ns).service('svc', [{ port: 80, targetPort: 8080 }]).tgbs([{ name: 'tgb', arn: t.arn, type: 'instance', svc: 'svc', port: 80 }])
      .slices('svc', [{ ports: [{ port: 8080 }], endpoints: [{ ip: ip() }] }]);
    const report = await targets().verifyTargets(ns, 'svc');
    expect(report.verified).toBe(true);
    expect(report.targetGroups[0]!.skipped).toContain('instance-mode');
    expect(log.total()).toBe(0);
  });

  it.each([
    ['§9.2 case 7a: TGB port 80 matches Service port 80', 80, [{ name: 'http', port: 80, targetPort: 8080 }]],
    ['§9.2 case 7b: TGB port "foo" matches the Service port named foo', 'foo', [{ name: 'foo', port: 80, targetPort: 8080 }]],
  ] as Array<[string, number | string, SvcPort[]]>)('%s', async (_n, tgbPort, ports) => {
    const ns = `v${++seq}`;
    const e = ip();
    const t = await tg(ns, 'svc', [{ ip: e, port: 8080 }]);
    new Kube(ns).service('svc', ports).tgbs([
      { name: 'match', arn: t.arn, type: 'ip', svc: 'svc', port: tgbPort },
      { name: 'other-port', arn: t.arn, type: 'ip', svc: 'svc', port: 9999 },
      { name: 'other-svc', arn: t.arn, type: 'ip', svc: 'other', port: tgbPort },
    ]).slices('svc', [{ ports: [{ name: ports[0]!.name!, port: 8080 }], endpoints: [{ ip: e }] }]);
    const report = await targets().verifyTargets(ns, 'svc');
    expect(report.targetGroups.map((g) => g.targetGroupBinding)).toEqual(['match']);
    expect(report.verified).toBe(true);
  });

  it('§9.2 case 3: a named targetPort resolves through the endpoint ports (Argo: by the targetPort name)', async () => {
    const ns = `v${++seq}`;
    const e = ip();
    const t = await tg(ns, 'svc', [{ ip: e, port: 4567 }]);
    new Kube(ns).service('svc', [{ name: 'web', port: 80, targetPort: 'http' }]).tgbs([{ name: 'tgb', arn: t.arn, type: 'ip', svc: 'svc', port: 'web' }])
      .noSlicesApi().endpoints('svc', [{ ips: [e], ports: [{ name: 'asdf', port: 1234 }, { name: 'http', port: 4567 }] }]);
    const report = await targets().verifyTargets(ns, 'svc');
    expect(report.targetGroups[0]).toMatchObject({ expected: 1, registered: 1, healthy: 1, verified: true });
  });

  it('EndpointSlices: a named port resolves per slice; not-ready and terminating endpoints are not expected', async () => {
    const ns = `v${++seq}`;
    const [a, b, notReady, terminating] = [ip(), ip(), ip(), ip()];
    const t = await tg(ns, 'svc', [{ ip: a, port: 8080 }, { ip: b, port: 9090 }]);
    new Kube(ns).service('svc', [{ name: 'web', port: 80, targetPort: 'http' }]).tgbs([{ name: 'tgb', arn: t.arn, type: 'ip', svc: 'svc', port: 80 }])
      .slices('svc', [
        { ports: [{ name: 'web', port: 8080 }], endpoints: [{ ip: a }, { ip: notReady, ready: false }] },
        { ports: [{ name: 'web', port: 9090 }], endpoints: [{ ip: b }, { ip: terminating, terminating: true }] },
      ]);
    const report = await targets().verifyTargets(ns, 'svc');
    expect(report.targetGroups[0]).toMatchObject({ expected: 2, registered: 2, healthy: 2, verified: true });
  });

  it.each([
    // state reported by the proxy, mode, verified, registered, healthy
    ['healthy', 'healthy', true, 2, 2],
    ['initial', 'healthy', false, 2, 1],
    ['unhealthy', 'healthy', false, 2, 1],
    ['draining', 'healthy', false, 2, 1],
    ['initial', 'registered', true, 2, 1],
    ['draining', 'registered', true, 2, 1],
  ] as Array<[string, VerifyMode, boolean, number, number]>)('one target %s in %s mode → verified %s', async (state, mode, verified, registered, healthy) => {
    const ns = `v${++seq}`;
    const [a, b] = [ip(), ip()];
    const t = await tg(ns, 'svc', [{ ip: a, port: 8080 }, { ip: b, port: 8080 }]);
    proxy.setHealth(b, { state, reason: 'Elb.InitialHealthChecking' });
    new Kube(ns).service('svc', [{ port: 80, targetPort: 8080 }]).tgbs([{ name: 'tgb', arn: t.arn, type: 'ip', svc: 'svc', port: 80 }])
      .slices('svc', [{ ports: [{ port: 8080 }], endpoints: [{ ip: a }, { ip: b }] }]);
    const report = await targets(mode).verifyTargets(ns, 'svc');
    proxy.setHealth(b, undefined);
    expect(report.targetGroups[0]).toMatchObject({ registered, healthy, verified, expected: 2 });
    if (!verified) expect(report.targetGroups[0]!.missing).toEqual([`${b}:8080 (${state})`]);
  });

  it('§9.2 case 1: TargetGroupBindings are listed at the configured apiVersion (eks.amazonaws.com/v1)', async () => {
    const ns = `v${++seq}`;
    const e = ip();
    const t = await tg(ns, 'svc', [{ ip: e, port: 8080 }]);
    new Kube(ns).service('svc', [{ port: 80, targetPort: 8080 }]).tgbs([{ name: 'tgb', arn: t.arn, type: 'ip', svc: 'svc', port: 80 }], 'eks.amazonaws.com/v1')
      .slices('svc', [{ ports: [{ port: 8080 }], endpoints: [{ ip: e }] }]);
    expect((await targets('healthy', 'eks.amazonaws.com/v1').verifyTargets(ns, 'svc')).verified).toBe(true);
  });

  it('no TargetGroupBinding for the Service: nothing to verify; a missing Service is an error', async () => {
    const ns = `v${++seq}`;
    new Kube(ns).service('svc', [{ port: 80 }]).tgbs([]).missingService('gone');
    const v = targets();
    const none = await v.verifyTargets(ns, 'svc');
    expect(none).toMatchObject({ verified: true, targetGroups: [] });
    const gone = await v.verifyTargets(ns, 'gone');
    expect(gone).toMatchObject({ verified: false, error: `Service ${ns}/gone not found` });
  });

  it.each([
    [403, 'reading targetgroupbindings.elbv2.k8s.aws in NS: forbidden; grant the plugin list on targetgroupbindings in elbv2.k8s.aws'],
    [500, 'reading targetgroupbindings.elbv2.k8s.aws in NS: HTTP 500'],
  ])('TargetGroupBinding list answered %s: the report carries an error naming the fix', async (code, message) => {
    const ns = `v${++seq}`;
    new Kube(ns).service('svc', [{ port: 80 }]);
    nock(base).get(`/apis/elbv2.k8s.aws/v1beta1/namespaces/${ns}/targetgroupbindings`).reply(code, { kind: 'Status', code }, json);
    const report = await targets().verifyTargets(ns, 'svc');
    expect(report).toMatchObject({ verified: false, error: message.replace('NS', ns) });
  });

  // Issue #12 item 8: a 404 used to read as "nothing is bound", so the final-switch guard failed open.
  it('the TargetGroupBinding API not served (404) is an error naming the setting and the fix, never "nothing to verify"', async () => {
    const ns = `v${++seq}`;
    new Kube(ns).service('svc', [{ port: 80 }]);
    nock(base)
      .get(`/apis/elbv2.k8s.aws/v1beta1/namespaces/${ns}/targetgroupbindings`)
      .reply(404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'the server could not find the requested resource', details: {} }, json);
    const report = await targets().verifyTargets(ns, 'svc');
    expect(report).toMatchObject({ verified: false, targetGroups: [] });
    expect(report.error).toMatch(/does not serve targetgroupbindings\.elbv2\.k8s\.aws at elbv2\.k8s\.aws\/v1beta1 \(--aws-target-group-binding-api-version=elbv2\.k8s\.aws\/v1beta1\): install the AWS Load Balancer Controller/);
  });

  it('healthy mode refuses an empty target group (no ready endpoints); registered mode accepts it like Argo', async () => {
    const ns = `v${++seq}`;
    const t = await tg(ns, 'svc', []);
    for (let i = 0; i < 2; i++) {
      new Kube(ns).service('svc', [{ port: 80, targetPort: 8080 }]).tgbs([{ name: 'tgb', arn: t.arn, type: 'ip', svc: 'svc', port: 80 }])
        .slices('svc', [{ ports: [{ port: 8080 }], endpoints: [] }]);
    }
    expect((await targets('healthy').verifyTargets(ns, 'svc')).verified).toBe(false);
    expect((await targets('registered').verifyTargets(ns, 'svc')).verified).toBe(true);
  });
});

describe('final-switch guard through the TrafficRouter (Argo #2864, #4433)', () => {
  function promotedRollout(opts: { pingPong?: boolean } = {}) {
    const r = opts.pingPong
      ? makeRollout({ pingPong: { pingService: 'ping', pongService: 'pong' }, stablePingPong: 'ping', plugin: { ingress: 'ingress', servicePort: 443, rootService: 'root' } })
      : makeRollout();
    r.metadata.namespace = 'default';
    r.status = {
      ...r.status,
      stableRS: 'new-hash',
      currentPodHash: 'new-hash',
      canary: {
        ...(r.status?.canary ?? {}),
        weights: { canary: { weight: 100, serviceName: 'canary-svc' }, stable: { weight: 0, serviceName: 'stable-svc' } },
      },
    };
    return r;
  }

  function routerWithGuard() {
    const verifier = targets('healthy');
    const router = createIngressRouter({
      ingresses: createIngressClient(fakeKubeConfig(base)),
      pluginName: PLUGIN,
      albIngressClasses: ['alb'],
      guard: createSetWeightGuard({ enabled: true, verifyTargets: (ns, svc) => verifier.verifyTargets(ns, svc) }),
    });
    return router;
  }

  it('holds canary 100 while the stable target group lacks healthy new pods, then lets SetWeight(0) through', async () => {
    const [a, b] = [ip(), ip()];
    const t = await tg('default', `stable${++seq}`, [{ ip: a, port: 8080 }, { ip: b, port: 8080 }]);
    const stableTgb = { name: 'tgb-stable', arn: t.arn, type: 'ip', svc: 'stable-svc', port: 80 };
    const router = routerWithGuard();

    // The LBC registered the new pods but their health checks have not passed yet.
    proxy.setHealth(a, { state: 'initial', reason: 'Elb.InitialHealthChecking' });
    new Kube('default').service('stable-svc', [{ port: 80, targetPort: 8080 }]).tgbs([stableTgb])
      .slices('stable-svc', [{ ports: [{ port: 8080 }], endpoints: [{ ip: a }, { ip: b }] }]);
    // No Ingress request is registered: a held SetWeight must not touch the Ingress.
    await expect(router.setWeight(promotedRollout(), 0, [])).rejects.toThrow(
      `holding traffic on the canary: waiting for the target groups of stable Service default/stable-svc to hold the new pods (healthy) before switching back to stable: target group ${t.arn} (TargetGroupBinding tgb-stable): 1/2 endpoints healthy`,
    );

    // Healthy now: the guard lets the switch happen and the action is written.
    proxy.setHealth(a, undefined);
    new Kube('default').service('stable-svc', [{ port: 80, targetPort: 8080 }]).tgbs([stableTgb])
      .slices('stable-svc', [{ ports: [{ port: 8080 }], endpoints: [{ ip: a }, { ip: b }] }]);
    const ingress = makeIngress({ weight: 100 });
    let patched: unknown;
    nock(base).get(ingressPath('default', 'ingress')).reply(200, ingress, json);
    nock(base).patch(ingressPath('default', 'ingress')).reply((_uri, body) => {
      patched = typeof body === 'string' ? JSON.parse(body) : body;
      return [200, makeIngress({ weight: 0, resourceVersion: '2' }), json];
    });
    await router.setWeight(promotedRollout(), 0, []);
    expect(JSON.stringify(patched)).toContain('\\"ServiceName\\":\\"canary-svc\\",\\"ServicePort\\":\\"443\\",\\"Weight\\":0');
  });

  it.each([
    ['ping-pong (the stable Service is never re-pointed)', { pingPong: true }, 0, 100],
    ['a normal setWeight step', {}, 20, 10],
    ['an abort back to stable', { abort: true }, 0, 100],
  ] as Array<[string, { pingPong?: boolean; abort?: boolean }, number, number]>)('does not consult targets for %s', async (_n, o, desired, lastCanary) => {
    const r = promotedRollout(o.pingPong ? { pingPong: true } : {});
    if (o.abort) r.status = { ...r.status, abort: true };
    if (desired !== 0) r.status = { ...r.status, stableRS: 'old-hash' };
    r.status!.canary!.weights!.canary.weight = lastCanary;
    const ingress = o.pingPong ? makeIngress({ actionService: 'root' }) : makeIngress({ weight: lastCanary });
    nock(base).get(ingressPath('default', 'ingress')).reply(200, ingress, json);
    nock(base).patch(ingressPath('default', 'ingress')).reply(200, ingress, json);
    await routerWithGuard().setWeight(r, desired, []);
  });
});
