// Issue #12 item 5: a remembered "verified" must not outlive a write. The Ingress router and the verifier
// as the sidecar wires them (createIngressMode: the verifier and the hook the router calls after a write),
// Kubernetes at the HTTP level (nock), ELBv2 on a real moto_server behind the counting proxy.
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { parseSettings } from '../../../../src/settings.js';
import { createIngressMode } from '../../../../src/modes/ingress/mode.js';
import { RpcVerified } from '../../../../src/plugin/router.js';
import type { Rollout } from '../../../../src/core/rollout.js';
import { testModeDeps } from '../../../support/mode-deps.js';
import { FakeIngressStore, fakeKubeConfig, freePort } from '../../../k8s/fake-cluster.js';
import { startElbv2Proxy, type Elbv2Proxy } from '../../../support/elbv2-proxy.js';
import { createNetwork, seedIngress, setRuleWeights, type SeededIngress } from '../../../support/lbc-seed.js';
import { elbv2Client, startMoto, type Moto } from '../../../support/moto.js';
import { action, makeIngress, makeRollout, PREFIX } from '../fixtures.js';
import { CallLog, testElbv2 } from '../../../verify/fixtures.js';

let moto: Moto;
let proxy: Elbv2Proxy;
let aws: ElasticLoadBalancingV2Client;
let base: string;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startElbv2Proxy(moto.endpoint);
  aws = elbv2Client(moto.endpoint);
  base = `http://127.0.0.1:${await freePort()}`;
  // Kubernetes is nock; ELBv2 (the proxy and moto behind it) is real.
  const allowed = new Set([new URL(proxy.endpoint).host, new URL(moto.endpoint).host]);
  nock.disableNetConnect();
  nock.enableNetConnect((host) => allowed.has(host));
});
afterAll(async () => {
  nock.cleanAll();
  nock.enableNetConnect();
  await proxy?.stop();
  await moto?.stop();
});

const ACTION = `${PREFIX}/actions.stable-svc`;

function atStep(): Rollout {
  const r = makeRollout({ steps: [{ setWeight: 10 }, { pause: {} }] });
  r.status = { stableRS: 'old', currentPodHash: 'new', currentStepIndex: 0 };
  return r;
}

const tuples = (s: SeededIngress, canary: number) => [
  { arn: s.tgs['canary-svc']!.arn, weight: canary },
  { arn: s.tgs['stable-svc']!.arn, weight: 100 - canary },
];

describe('a write invalidates the remembered verdict (issue #12 item 5)', () => {
  it('SetWeight that changes the Ingress makes the next VerifyWeight check the load balancer again', async () => {
    const net = await createNetwork(moto.endpoint);
    const s = await seedIngress(aws, net, {
      namespace: 'default', ingress: 'ingress', servicePort: 443, services: ['canary-svc', 'stable-svc'],
      weights: { 'canary-svc': 10, 'stable-svc': 90 },
    });
    const ing = makeIngress({ weight: 10 });
    ing.status = { loadBalancer: { ingress: [{ hostname: s.lb.hostname }] } };
    const store = new FakeIngressStore(base, ing);
    // SetWeight reads every time; the verifier reads the status whenever it checks (not when it remembers).
    const api = store.intercept({ gets: 6, patches: 1 });

    const log = new CallLog();
    const { settings } = parseSettings(['--aws-verify-target-group'], {});
    // Ingress mode as the sidecar builds it: its writes drop the remembered verdict (src/modes/ingress/mode.ts).
    const { router } = createIngressMode(testModeDeps(settings, fakeKubeConfig(base), testElbv2(proxy.endpoint, log)));
    const rollout = atStep();

    // The step's weights are on the Ingress and on the load balancer: checked once, then remembered.
    await router.setWeight(rollout, 10, []);
    expect(await router.verifyWeight(rollout, 10, [])).toEqual({ verified: RpcVerified.Verified });
    log.clear();
    expect(await router.verifyWeight(rollout, 10, [])).toEqual({ verified: RpcVerified.Verified });
    expect(log.total()).toBe(0);

    // Someone puts the Ingress back to stable 100 (a GitOps sync, a person) and the LBC follows.
    store.ingress.metadata.annotations![ACTION] = action('canary-svc', 'stable-svc', 443, 0);
    store.ingress.metadata.resourceVersion = String(Number(store.ingress.metadata.resourceVersion) + 1);
    await setRuleWeights(aws, s.rules[0]!, tuples(s, 0));

    // The next reconcile's SetWeight writes canary 10 again; the LBC has not applied it yet.
    await router.setWeight(rollout, 10, []);
    expect(store.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
    log.clear();
    // Same Rollout, same weights as the remembered verdict: it must not be answered from memory.
    expect(await router.verifyWeight(rollout, 10, [])).toEqual({ verified: RpcVerified.NotVerified });
    expect(log.total()).toBeGreaterThan(0);

    // The LBC catches up: verified, and remembered again until the next write.
    await setRuleWeights(aws, s.rules[0]!, tuples(s, 10));
    expect(await router.verifyWeight(rollout, 10, [])).toEqual({ verified: RpcVerified.Verified });
    log.clear();
    await router.setWeight(rollout, 10, []);
    expect(await router.verifyWeight(rollout, 10, [])).toEqual({ verified: RpcVerified.Verified });
    expect(log.total()).toBe(0);
    expect(api.pendingMocks()).toEqual([]);
  });
});
