// A big account: more than 450 load balancers in the region (pagination past one 400-item page) and a
// shared load balancer with more than 25 target groups (more than one DescribeTags batch). The verifier
// must still find its LB with one Names lookup and stay within listeners + 3 calls cold.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CreateLoadBalancerCommand, type ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { RpcVerified } from '../../../../src/plugin/router.js';
import type { IngressStatusView } from '../../../../src/modes/ingress/verify/weight-check.js';
import { createWeightVerifier } from '../../../../src/modes/ingress/verify/verifier.js';
import { startElbv2Proxy, type Elbv2Proxy } from '../../../support/elbv2-proxy.js';
import {
  createForwardRule, createLbcTargetGroup, createListener, createLoadBalancer, createNetwork, seedIngress,
  type Network, type SeededTargetGroup,
} from '../../../support/lbc-seed.js';
import { elbv2Client, startMoto, type Moto } from '../../../support/moto.js';
import { CallLog, request, rollout, testElbv2 } from '../../../verify/fixtures.js';

const FILLERS = 460;
let moto: Moto;
let proxy: Elbv2Proxy;
let aws: ElasticLoadBalancingV2Client;
let net: Network;
let log: CallLog;
const hosts = new Map<string, string[]>();

async function getIngress(ns: string, name: string): Promise<IngressStatusView> {
  return { status: { loadBalancer: { ingress: (hosts.get(`${ns}/${name}`) ?? []).map((hostname) => ({ hostname })) } } };
}

function verifier() {
  return createWeightVerifier({ enabled: true, elbv2: testElbv2(proxy.endpoint, log), getIngress, resourceTagKey: 'ingress.k8s.aws/resource' });
}

/** An LB shared through an IngressGroup: 15 other Ingresses' rules with 2 target groups each, then ours. */
async function sharedLoadBalancer(name: string, ours: { canary: SeededTargetGroup; stable: SeededTargetGroup }) {
  const lb = await createLoadBalancer(aws, net, { name });
  const listener = await createListener(aws, lb.arn, 'http');
  for (let i = 0; i < 15; i++) {
    const ingress = `${name}-web`;
    const a = await createLbcTargetGroup(aws, net, { namespace: `team${i}`, ingress, service: 'front', port: 80 });
    const b = await createLbcTargetGroup(aws, net, { namespace: `team${i}`, ingress, service: 'back', port: 80 });
    await createForwardRule(aws, listener, { priority: 10 + i, path: `/team${i}/*`, tuples: [{ arn: a.arn, weight: 50 }, { arn: b.arn, weight: 50 }] });
  }
  await createForwardRule(aws, listener, { priority: 100, tuples: [{ arn: ours.canary.arn, weight: 10 }, { arn: ours.stable.arn, weight: 90 }] });
  return lb;
}

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startElbv2Proxy(moto.endpoint);
  aws = elbv2Client(moto.endpoint);
  net = await createNetwork(moto.endpoint);
  const names = Array.from({ length: FILLERS }, (_, i) => `filler-${i}`);
  // A few at a time: moto is single-process and the machine is shared.
  for (let i = 0; i < names.length; i += 8) {
    await Promise.all(names.slice(i, i + 8).map((Name) => aws.send(new CreateLoadBalancerCommand({ Name, Subnets: net.subnetIds }))));
  }
}, 300_000);
afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
});
beforeEach(() => {
  log = new CallLog();
});

describe(`${FILLERS}+ load balancers, 30+ target groups on one`, () => {
  it('an LBC-named LB is found with one DescribeLoadBalancers(Names) call', async () => {
    const s = await seedIngress(aws, net, { namespace: 'big', ingress: 'ingress', servicePort: 443, services: ['canary-svc', 'stable-svc'], weights: { 'canary-svc': 10, 'stable-svc': 90 } });
    hosts.set('big/ingress', [s.lb.hostname]);
    expect(await verifier().verifyWeight(request({ rollout: rollout({ namespace: 'big' }) }))).toEqual({ verified: RpcVerified.Verified });
    expect(log.calls.filter(([op]) => op === 'DescribeLoadBalancers')).toEqual([['DescribeLoadBalancers', 'success']]);
    expect(log.total()).toBeLessThanOrEqual(1 + 3);
  });

  it('a name the hostname does not give back (capitals, lower-cased by the LBC) falls back to a paginated scan', async () => {
    const ours = {
      canary: await createLbcTargetGroup(aws, net, { namespace: 'caps', ingress: 'ingress', service: 'canary-svc', port: 443 }),
      stable: await createLbcTargetGroup(aws, net, { namespace: 'caps', ingress: 'ingress', service: 'stable-svc', port: 443 }),
    };
    const lb = await sharedLoadBalancer('Team-Shared-ALB', ours);
    hosts.set('caps/ingress', [lb.hostname]);
    expect(await verifier().verifyWeight(request({ rollout: rollout({ namespace: 'caps' }) }))).toEqual({ verified: RpcVerified.Verified });
    // Names lookup misses, then the scan pages past the first 400 load balancers.
    expect(log.calls.filter(([op]) => op === 'DescribeLoadBalancers').map(([, o]) => o)).toEqual(['not_found', 'success', 'success']);
  });

  it('32 target groups on the shared LB: our two are recognised by name, one DescribeTags call, ≤ listeners + 3 cold', async () => {
    const ours = {
      canary: await createLbcTargetGroup(aws, net, { namespace: 'shared', ingress: 'ingress', service: 'canary-svc', port: 443 }),
      stable: await createLbcTargetGroup(aws, net, { namespace: 'shared', ingress: 'ingress', service: 'stable-svc', port: 443 }),
    };
    const lb = await sharedLoadBalancer('k8s-shared-group-0123456789', ours);
    hosts.set('shared/ingress', [lb.hostname]);
    expect(await verifier().verifyWeight(request({ rollout: rollout({ namespace: 'shared' }) }))).toEqual({ verified: RpcVerified.Verified });
    expect(log.ops().filter((o) => o === 'DescribeTags')).toHaveLength(1);
    expect(log.total()).toBeLessThanOrEqual(1 + 3);
  });

  it('target groups without LBC names are still found: the remaining tags are fetched in batches of 20', async () => {
    const ours = {
      canary: await createLbcTargetGroup(aws, net, { namespace: 'custom', ingress: 'ingress', service: 'canary-svc', port: 443, name: 'custom-canary' }),
      stable: await createLbcTargetGroup(aws, net, { namespace: 'custom', ingress: 'ingress', service: 'stable-svc', port: 443, name: 'custom-stable' }),
    };
    const lb = await sharedLoadBalancer('k8s-custom-group-0123456789', ours);
    hosts.set('custom/ingress', [lb.hostname]);
    expect(await verifier().verifyWeight(request({ rollout: rollout({ namespace: 'custom' }) }))).toEqual({ verified: RpcVerified.Verified });
    // Nothing matched the name prefix, so all 32 ARNs: two batches.
    expect(log.ops().filter((o) => o === 'DescribeTags')).toHaveLength(2);
  });
});
