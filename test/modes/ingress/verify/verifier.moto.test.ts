// VerifyWeight against a real moto_server seeded as the AWS Load Balancer Controller would, behind the
// fault-injecting proxy that counts ELBv2 calls. Ports of Argo's own VerifyWeight tests (argo-rollouts
// rollout/trafficrouting/alb/alb_test.go) are marked with a number and a letter per sub-case: 26 TestVerifyWeight,
// 27 TestVerifyWeightMultiIngress, 30 TestVerifyWeightWithAdditionalDestinations, 31
// TestVerifyWeightWithAdditionalDestinationsMultiIngress; where Argo's answer is wrong, the expectation is
// corrected and the test's name says why.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeleteRuleCommand, ModifyListenerCommand, ModifyRuleCommand, type ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { RpcVerified } from '../../../../src/plugin/router.js';
import type { IngressStatusView } from '../../../../src/modes/ingress/verify/weight-check.js';
import { createWeightVerifier, type WeightVerifierApi } from '../../../../src/modes/ingress/verify/verifier.js';
import { elbv2Client, startMoto, type Moto } from '../../../support/moto.js';
import { startElbv2Proxy, type Elbv2Proxy } from '../../../support/elbv2-proxy.js';
import {
  createForwardRule, createLbcTargetGroup, createListener, createLoadBalancer, createNetwork, seedIngress, setRuleWeights,
  type Network, type SeededIngress,
} from '../../../support/lbc-seed.js';
import { CallLog, instantClock, request, rollout, testElbv2 } from '../../../verify/fixtures.js';
import type { RolloutEvent } from '../../../../src/plugin/hooks.js';

let moto: Moto;
let proxy: Elbv2Proxy;
let aws: ElasticLoadBalancingV2Client;
let net: Network;
let seq = 0;

const hosts = new Map<string, string[]>();
async function getIngress(ns: string, name: string): Promise<IngressStatusView> {
  const h = hosts.get(`${ns}/${name}`);
  if (!h) throw new Error(`ingresses.networking.k8s.io "${name}" not found`);
  return { status: { loadBalancer: { ingress: h.map((hostname) => ({ hostname })) } } };
}

let log: CallLog;
let events: RolloutEvent[];
function verifier(extra: Partial<Parameters<typeof createWeightVerifier>[0]> = {}): WeightVerifierApi {
  return createWeightVerifier({
    enabled: true,
    elbv2: testElbv2(proxy.endpoint, log, { clock: instantClock, maxAttempts: 4 }),
    getIngress,
    resourceTagKey: 'ingress.k8s.aws/resource',
    events: { emit: (_r, e) => events.push(e) },
    ...extra,
  });
}

/** A fresh namespace per test keeps LB and TG names apart in the one moto. */
function ns(): string {
  return `t${++seq}`;
}

async function seed(
  namespace: string,
  ingress: string,
  weights: Record<string, number>,
  opts: Partial<Parameters<typeof seedIngress>[2]> = {},
): Promise<SeededIngress> {
  const s = await seedIngress(aws, net, {
    namespace, ingress, servicePort: 443, services: Object.keys(weights), weights, ...opts,
  });
  hosts.set(`${namespace}/${ingress}`, [s.lb.hostname]);
  return s;
}

const tuples = (s: SeededIngress, weights: Record<string, number>) =>
  Object.entries(weights).map(([svc, weight]) => ({ arn: s.tgs[svc]!.arn, weight }));

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startElbv2Proxy(moto.endpoint);
  aws = elbv2Client(moto.endpoint);
  net = await createNetwork(moto.endpoint);
});
afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
});
beforeEach(() => {
  log = new CallLog();
  events = [];
  proxy.resetCounts();
});

describe('canary weight (ports of Argo\'s TestVerifyWeight, 26)', () => {
  it('26d/then LBC catches up: not verified at canary 11, verified once the rule says 10/90; cold ≤ L+3, warm 1', async () => {
    const n = ns();
    const s = await seed(n, 'ingress', { 'canary-svc': 11, 'stable-svc': 89 });
    const v = verifier();
    const req = request({ rollout: rollout({ namespace: n }) });

    expect(await v.verifyWeight(req)).toEqual({ verified: RpcVerified.NotVerified });
    // One listener: DescribeLoadBalancers + DescribeListeners + 1 DescribeRules + DescribeTags.
    expect(log.ops().sort()).toEqual(['DescribeListeners', 'DescribeLoadBalancers', 'DescribeRules', 'DescribeTags']);
    expect(log.total()).toBeLessThanOrEqual(1 + 3);
    expect(events.at(-1)).toMatchObject({ type: 'Warning', reason: 'ALBPluginWeightUnverified' });
    expect(events.at(-1)?.message).toContain('canary weight (Service canary-svc) 10 not yet set (current: 11)');

    await setRuleWeights(aws, s.rules[0]!, tuples(s, { 'canary-svc': 10, 'stable-svc': 90 }));
    log.clear();
    expect(await v.verifyWeight(req)).toEqual({ verified: RpcVerified.Verified });
    expect(log.calls).toEqual([['DescribeRules', 'success']]);
    expect(proxy.count('DescribeRules')).toBe(2);

    // Remembered: the same step is not checked again.
    log.clear();
    expect(await v.verifyWeight(req)).toEqual({ verified: RpcVerified.Verified });
    expect(log.total()).toBe(0);
  });

  it('26e corrected: canary 10 with stable 11 is NOT verified (Argo never checks the stable weight)', async () => {
    const n = ns();
    await seed(n, 'ingress', { 'canary-svc': 10, 'stable-svc': 11 });
    const report = await verifier().report(request({ rollout: rollout({ namespace: n }) }));
    expect(report.verified).toBe(false);
    expect(report.reasons).toEqual([expect.stringContaining('stable weight (Service stable-svc) 90 not yet set (current: 11)')]);
    expect(report.ingresses[0]!.loadBalancers[0]!.rules[0]!.targetGroups.map((t) => [t.role, t.expected, t.actual, t.ok])).toEqual([
      ['canary', 10, 10, true],
      ['stable', 90, 11, false],
    ]);
  });

  it('26f: end of rollout, desired 100 = canary 100 / stable 0 is verified', async () => {
    const n = ns();
    await seed(n, 'ingress', { 'canary-svc': 100, 'stable-svc': 0 });
    const r = rollout({ namespace: n, stepIndex: 1 });
    expect(await verifier().verifyWeight(request({ rollout: r, desired: 100 }))).toEqual({ verified: RpcVerified.Verified });
  });

  it('26a: no load balancer matches the hostname: not verified, no Err, LoadBalancerNotFound event', async () => {
    const n = ns();
    hosts.set(`${n}/ingress`, ['verify-weight-test-abc-123.us-west-2.elb.amazonaws.com']);
    const v = verifier();
    expect(await v.verifyWeight(request({ rollout: rollout({ namespace: n }) }))).toEqual({ verified: RpcVerified.NotVerified });
    // Names lookup fails, then one page of the scan (moto has fewer than 400 LBs here).
    expect(log.calls).toEqual([['DescribeLoadBalancers', 'not_found'], ['DescribeLoadBalancers', 'success']]);
    expect(events.at(-1)).toMatchObject({ reason: 'ALBPluginLoadBalancerNotFound' });
  });

  it('no hostname in the Ingress status yet: not verified without any AWS call', async () => {
    const n = ns();
    hosts.set(`${n}/ingress`, []);
    const report = await verifier().report(request({ rollout: rollout({ namespace: n }) }));
    expect(report.verified).toBe(false);
    expect(report.reasons).toEqual([`Ingress ${n}/ingress has no load-balancer hostname in its status yet`]);
    expect(log.total()).toBe(0);
  });

  it('26b corrected: no stable ReplicaSet yet and nothing changed: NotImplemented, no AWS call (Argo runs once anyway)', async () => {
    const n = ns();
    await seed(n, 'ingress', { 'canary-svc': 0, 'stable-svc': 100 });
    const r = rollout({ namespace: n, stableRS: '' });
    expect(await verifier().verifyWeight(request({ rollout: r, desired: 0 }))).toEqual({ verified: RpcVerified.NotImplemented });
    expect(log.total()).toBe(0);
  });

  it('an Ingress that cannot be read gives NotVerified with an Err naming it', async () => {
    const n = ns();
    const res = await verifier().verifyWeight(request({ rollout: rollout({ namespace: n }), ingresses: ['missing'] }));
    expect(res.verified).toBe(RpcVerified.NotVerified);
    expect(res.err).toContain(`Ingress ${n}/missing: ingresses.networking.k8s.io "missing" not found`);
  });
});

describe('experiments (ports of Argo\'s TestVerifyWeightWithAdditionalDestinations and its MultiIngress variant, 30, 31)', () => {
  const dests = [
    { serviceName: 'ex-svc-1', weight: 2 },
    { serviceName: 'ex-svc-2', weight: 3 },
  ];

  it('30a: experiment target groups missing from the rule: not verified', async () => {
    const n = ns();
    await seed(n, 'ingress', { 'canary-svc': 10, 'stable-svc': 85 });
    const report = await verifier().report(request({ rollout: rollout({ namespace: n }), destinations: dests }));
    expect(report.verified).toBe(false);
    expect(report.reasons.join('\n')).toContain(`no target group tagged ${n}/ingress-ex-svc-1:443 in the rule`);
  });

  it('30b: experiment weights wrong (100): not verified', async () => {
    const n = ns();
    await seed(n, 'ingress', { 'canary-svc': 10, 'ex-svc-1': 100, 'ex-svc-2': 100, 'stable-svc': 85 });
    const report = await verifier().report(request({ rollout: rollout({ namespace: n }), destinations: dests }));
    expect(report.verified).toBe(false);
    expect(report.reasons).toHaveLength(2);
  });

  it('30c: canary 10, experiments 2 and 3, stable 85: verified', async () => {
    const n = ns();
    await seed(n, 'ingress', { 'canary-svc': 10, 'ex-svc-1': 2, 'ex-svc-2': 3, 'stable-svc': 85 });
    expect(await verifier().verifyWeight(request({ rollout: rollout({ namespace: n }), destinations: dests }))).toEqual({
      verified: RpcVerified.Verified,
    });
  });

  it('31c corrected: two Ingresses with experiments verify when both carry every weight (Argo miscounts N·(1+D) ≠ N+D)', async () => {
    const n = ns();
    const w = { 'canary-svc': 10, 'ex-svc-1': 2, 'ex-svc-2': 3, 'stable-svc': 85 };
    await seed(n, 'ingress', w);
    await seed(n, 'multi-ingress', w);
    const report = await verifier().report(
      request({ rollout: rollout({ namespace: n }), ingresses: ['ingress', 'multi-ingress'], destinations: dests }),
    );
    expect(report.verified).toBe(true);
    expect(report.ingresses.map((i) => [i.ingress, i.verified, i.loadBalancers.length])).toEqual([
      ['ingress', true, 1],
      ['multi-ingress', true, 1],
    ]);
  });

  it('31 corrected: experiment tagged only on the first Ingress is NOT enough (Argo says verified)', async () => {
    const n = ns();
    await seed(n, 'ingress', { 'canary-svc': 10, 'ex-svc-1': 2, 'ex-svc-2': 3, 'stable-svc': 85 });
    await seed(n, 'multi-ingress', { 'canary-svc': 10, 'stable-svc': 85 });
    const report = await verifier().report(
      request({ rollout: rollout({ namespace: n }), ingresses: ['ingress', 'multi-ingress'], destinations: dests }),
    );
    expect(report.verified).toBe(false);
    expect(report.ingresses.map((i) => i.verified)).toEqual([true, false]);
  });
});

describe('several Ingresses, listeners and load balancers (ports of Argo\'s TestVerifyWeightMultiIngress, 27)', () => {
  it.each([
    ['27e: canary 11 on both', 11, 11, false, [false, false]],
    ['only the second lags', 10, 11, false, [true, false]],
    ['27f: canary 10 on both', 10, 10, true, [true, true]],
  ])('%s', async (_name, w1, w2, verified, perIngress) => {
    const n = ns();
    const a = await seed(n, 'ingress', { 'canary-svc': w1, 'stable-svc': 100 - w1 });
    const b = await seed(n, 'multi-ingress', { 'canary-svc': w2, 'stable-svc': 100 - w2 });
    const report = await verifier().report(request({ rollout: rollout({ namespace: n }), ingresses: ['ingress', 'multi-ingress'] }));
    expect(report.verified).toBe(verified);
    expect(report.ingresses.map((i) => i.verified)).toEqual(perIngress);
    expect(report.ingresses.map((i) => i.loadBalancers[0]!.arn)).toEqual([a.lb.arn, b.lb.arn]);
    // Each LB cold: ≤ listeners + 3.
    expect(log.total()).toBeLessThanOrEqual(2 * (1 + 3));
  });

  it('two Ingresses warm: exactly one DescribeRules for the whole verification', async () => {
    const n = ns();
    const a = await seed(n, 'ingress', { 'canary-svc': 5, 'stable-svc': 95 });
    const b = await seed(n, 'multi-ingress', { 'canary-svc': 5, 'stable-svc': 95 });
    const v = verifier();
    const req = request({ rollout: rollout({ namespace: n }), ingresses: ['ingress', 'multi-ingress'] });
    expect((await v.verifyWeight(req)).verified).toBe(RpcVerified.NotVerified);
    await setRuleWeights(aws, a.rules[0]!, tuples(a, { 'canary-svc': 10, 'stable-svc': 90 }));
    await setRuleWeights(aws, b.rules[0]!, tuples(b, { 'canary-svc': 10, 'stable-svc': 90 }));
    log.clear();
    expect((await v.verifyWeight(req)).verified).toBe(RpcVerified.Verified);
    expect(log.calls).toEqual([['DescribeRules', 'success']]);
  });

  it('HTTP listener that redirects plus HTTPS listener that forwards: only the forward rule is checked', async () => {
    const n = ns();
    await seed(n, 'ingress', { 'canary-svc': 10, 'stable-svc': 90 }, { listeners: ['http-redirect', 'https'] });
    const report = await verifier().report(request({ rollout: rollout({ namespace: n }) }));
    expect(report.verified).toBe(true);
    expect(report.ingresses[0]!.loadBalancers[0]!.rules).toHaveLength(1);
    // Two listeners: ≤ 2 + 3 calls.
    expect(log.total()).toBeLessThanOrEqual(2 + 3);
  });

  it('HTTP and HTTPS both forward: a lagging listener is caught (Argo lets the last rule win)', async () => {
    const n = ns();
    const s = await seed(n, 'ingress', { 'canary-svc': 10, 'stable-svc': 90 }, { listeners: ['https', 'http'] });
    await setRuleWeights(aws, s.rules[0]!, tuples(s, { 'canary-svc': 5, 'stable-svc': 95 }));
    const report = await verifier().report(request({ rollout: rollout({ namespace: n }) }));
    expect(report.verified).toBe(false);
    expect(report.ingresses[0]!.loadBalancers[0]!.rules.map((r) => r.verified)).toEqual([false, true]);
  });

  it('ignores a header-route rule (canary only) and a plain backend sharing the stable target group', async () => {
    const n = ns();
    const s = await seed(n, 'ingress', { 'canary-svc': 10, 'stable-svc': 90 });
    await createForwardRule(aws, (s.listeners[0])!, { priority: 2, path: '/header', tuples: [{ arn: s.tgs['canary-svc']!.arn, weight: 100 }] });
    await createForwardRule(aws, (s.listeners[0])!, { priority: 3, path: '/plain', singleTargetGroupArn: s.tgs['stable-svc']!.arn });
    const report = await verifier().report(request({ rollout: rollout({ namespace: n }) }));
    expect(report.verified).toBe(true);
    expect(report.ingresses[0]!.loadBalancers[0]!.rules.map((r) => r.ruleArn)).toEqual(s.rules);
  });

  it('a single-TargetGroupArn forward counts as 100 % (stable-only rule at desired 0)', async () => {
    const n = ns();
    hosts.delete(`${n}/ingress`);
    const s = await seed(n, 'ingress', { 'stable-svc': 100 });
    await aws.send(new DeleteRuleCommand({ RuleArn: s.rules[0]! }));
    await createForwardRule(aws, s.listeners[0]!, { priority: 1, singleTargetGroupArn: s.tgs['stable-svc']!.arn });
    const r = rollout({ namespace: n, stableRS: 'h', currentPodHash: 'h' });
    const v = verifier();
    const report = await v.report(request({ rollout: r, desired: 0 }));
    expect(report.verified).toBe(true);
    const bad = await v.report(request({ rollout: r, desired: 10 }));
    expect(bad.verified).toBe(false);
  });

  it('a second hostname for the LBC frontend NLB is skipped; the ALB alone decides', async () => {
    const n = ns();
    const s = await seed(n, 'ingress', { 'canary-svc': 10, 'stable-svc': 90 });
    const nlb = await createLoadBalancer(aws, net, { name: `${n}-frontend-nlb`, type: 'network' });
    hosts.set(`${n}/ingress`, [s.lb.hostname, nlb.hostname]);
    const report = await verifier().report(request({ rollout: rollout({ namespace: n }) }));
    expect(report.verified).toBe(true);
    expect(report.ingresses[0]!.loadBalancers.map((lb) => [lb.name, lb.verified, lb.skipped])).toEqual([
      [s.lb.name, true, undefined],
      [`${n}-frontend-nlb`, true, 'network load balancer: no weighted listener rules to check'],
    ]);
    // Only the NLB alone is not enough.
    hosts.set(`${n}/ingress`, [nlb.hostname]);
    expect((await verifier().report(request({ rollout: rollout({ namespace: n }) }))).verified).toBe(false);
  });

  it('internal load balancer: hostname with internal- is found with one Names lookup', async () => {
    const n = ns();
    const s = await seed(n, 'ingress', { 'canary-svc': 10, 'stable-svc': 90 }, { internal: true });
    expect(s.lb.hostname.startsWith('internal-')).toBe(true);
    const report = await verifier().report(request({ rollout: rollout({ namespace: n }) }));
    expect(report.verified).toBe(true);
    expect(log.calls.filter(([op]) => op === 'DescribeLoadBalancers')).toEqual([['DescribeLoadBalancers', 'success']]);
  });

  it('ping-pong: weights are checked on the ping/pong roles the router resolved', async () => {
    const n = ns();
    await seed(n, 'ingress', { ping: 25, pong: 75 });
    const pp = { stable: 'pong', canary: 'ping', action: 'root', pingPong: true };
    const v = verifier();
    expect((await v.report(request({ rollout: rollout({ namespace: n }), desired: 25, services: pp }))).verified).toBe(true);
    // After a swap (ping stable, pong canary at 75) the same rule serves the new roles: no new discovery.
    const swappedRoles = { ...pp, stable: 'ping', canary: 'pong' };
    expect((await v.report(request({ rollout: rollout({ namespace: n }), desired: 75, services: swappedRoles }))).verified).toBe(true);
    expect(log.ops().filter((o) => o === 'DescribeListeners')).toHaveLength(1);
    // Roles the other way round at 25 do not match this rule (and "not verified" reads the listeners once more).
    const swapped = await v.report(request({ rollout: rollout({ namespace: n }), desired: 25, services: swappedRoles }));
    expect(swapped.verified).toBe(false);
  });
});

describe('caches, gating and faults', () => {
  it('gated off: disabled, a pause step, and fully promoted after a restart cost no AWS call', async () => {
    const n = ns();
    await seed(n, 'ingress', { 'canary-svc': 10, 'stable-svc': 90 });
    const off = verifier({ enabled: false });
    expect(await off.verifyWeight(request({ rollout: rollout({ namespace: n }) }))).toEqual({ verified: RpcVerified.NotImplemented });
    const v = verifier();
    const paused = rollout({ namespace: n, steps: [{ setWeight: 10 }, { pause: {} }], stepIndex: 1 });
    // First sight of a paused Rollout counts as a change once (nothing remembered yet) ...
    expect((await v.verifyWeight(request({ rollout: paused }))).verified).toBe(RpcVerified.Verified);
    log.clear();
    // ... then it is remembered; the pause step itself never triggers a check.
    expect(await v.verifyWeight(request({ rollout: paused }))).toEqual({ verified: RpcVerified.Verified });
    const promoted = rollout({ namespace: n, stableRS: 'x', currentPodHash: 'x', stepIndex: 2, steps: [{ setWeight: 10 }, { pause: {} }] });
    expect(await v.verifyWeight(request({ rollout: promoted, desired: 0 }))).toEqual({ verified: RpcVerified.NotImplemented });
    expect(log.total()).toBe(0);
  });

  it('a deleted and recreated rule is rediscovered (RuleNotFound invalidates the cache)', async () => {
    const n = ns();
    const s = await seed(n, 'ingress', { 'canary-svc': 5, 'stable-svc': 95 });
    const v = verifier();
    const req = request({ rollout: rollout({ namespace: n }) });
    expect((await v.verifyWeight(req)).verified).toBe(RpcVerified.NotVerified);
    await aws.send(new DeleteRuleCommand({ RuleArn: s.rules[0]! }));
    await createForwardRule(aws, s.listeners[0]!, { priority: 1, tuples: tuples(s, { 'canary-svc': 10, 'stable-svc': 90 }) });
    log.clear();
    expect(await v.verifyWeight(req)).toEqual({ verified: RpcVerified.Verified });
    expect(log.calls[0]).toEqual(['DescribeRules', 'not_found']);
  });

  it('a new experiment target group on the same rule is picked up warm (one DescribeRules, one DescribeTags)', async () => {
    const n = ns();
    const s = await seed(n, 'ingress', { 'canary-svc': 10, 'stable-svc': 90 });
    const v = verifier();
    expect((await v.verifyWeight(request({ rollout: rollout({ namespace: n, uid: 'exp' }) }))).verified).toBe(RpcVerified.Verified);
    const ex = await createLbcTargetGroup(aws, net, { namespace: n, ingress: 'ingress', service: 'ex-svc-1', port: 443 });
    await setRuleWeights(aws, s.rules[0]!, [...tuples(s, { 'canary-svc': 10 }), { arn: ex.arn, weight: 20 }, ...tuples(s, { 'stable-svc': 70 })]);
    log.clear();
    const req = request({ rollout: rollout({ namespace: n, uid: 'exp' }), destinations: [{ serviceName: 'ex-svc-1', weight: 20 }] });
    expect(await v.verifyWeight(req)).toEqual({ verified: RpcVerified.Verified });
    expect(log.ops()).toEqual(['DescribeRules', 'DescribeTags']);
  });

  it('concurrent verifications of the same rules share one DescribeRules request', async () => {
    const n = ns();
    await seed(n, 'ingress', { 'canary-svc': 10, 'stable-svc': 90 });
    const v = verifier();
    await v.report(request({ rollout: rollout({ namespace: n }) }));
    log.clear();
    proxy.delay('DescribeRules', 200);
    const results = await Promise.all([1, 2, 3].map(() => v.report(request({ rollout: rollout({ namespace: n }) }))));
    proxy.delay('DescribeRules', 0);
    expect(results.map((r) => r.verified)).toEqual([true, true, true]);
    expect(log.calls).toEqual([['DescribeRules', 'success']]);
  });

  it('Throttling is retried with backoff and the check still verifies', async () => {
    const n = ns();
    await seed(n, 'ingress', { 'canary-svc': 10, 'stable-svc': 90 });
    proxy.throttle('DescribeRules', 2);
    const res = await verifier().verifyWeight(request({ rollout: rollout({ namespace: n }) }));
    expect(res).toEqual({ verified: RpcVerified.Verified });
    expect(log.calls.filter(([op]) => op === 'DescribeRules').map(([, o]) => o)).toEqual(['throttled', 'throttled', 'success']);
  });

  // Issue #12 item 6: a transient failure answers NotVerified without Err, so Argo re-queues in 10 s (an Err
  // waits for the next resync, argo-rollouts rollout/trafficrouting.go); the reason goes into the event and the report.
  it('Throttling that does not stop: NotVerified with the reason and no Err; checked again on the next call', async () => {
    const n = ns();
    await seed(n, 'ingress', { 'canary-svc': 10, 'stable-svc': 90 });
    const v = verifier();
    const req = request({ rollout: rollout({ namespace: n }) });
    proxy.throttle('DescribeListeners', 100);
    const res = await v.verifyWeight(req);
    proxy.throttle('DescribeListeners', 0);
    expect(res).toEqual({ verified: RpcVerified.NotVerified });
    expect(events.at(-1)).toMatchObject({ type: 'Warning', reason: 'ALBPluginWeightUnverified' });
    expect(events.at(-1)?.message).toMatch(/ELBv2 DescribeListeners was throttled 4 times in a row \(Rate exceeded\)/);
    expect(await v.verifyWeight(req)).toEqual({ verified: RpcVerified.Verified });
  });

  it('slow answers: the verification ends at its deadline with NotVerified, the reason, and no Err', async () => {
    const n = ns();
    await seed(n, 'ingress', { 'canary-svc': 10, 'stable-svc': 90 });
    proxy.delay('DescribeListeners', 3_000);
    const v = verifier({ timeoutMs: 300 });
    const req = request({ rollout: rollout({ namespace: n }) });
    const res = await v.verifyWeight(req);
    expect(res).toEqual({ verified: RpcVerified.NotVerified });
    expect(events.at(-1)?.message).toBe('no complete answer from ELBv2 within 300 ms (slow or throttled); checking again');
    const report = await v.report(req);
    proxy.delay('DescribeListeners', 0);
    expect(report).toMatchObject({ verified: false, transient: true, error: 'no complete answer from ELBv2 within 300 ms (slow or throttled)' });
  });

  it.each([
    ['503 ServiceUnavailable', 'DescribeRules', { status: 503, code: 'ServiceUnavailable', message: 'Service is unavailable' }, /ServiceUnavailable/],
    ['500 InternalFailure', 'DescribeListeners', { status: 500, code: 'InternalFailure', message: 'internal error' }, /InternalFailure/],
    ['connection reset', 'DescribeLoadBalancers', { reset: true as const }, /socket hang up|ECONNRESET|reset/i],
  ])('transient ELBv2 failure (%s): NotVerified with the reason, no Err', async (_name, action, fault, text) => {
    const n = ns();
    await seed(n, 'ingress', { 'canary-svc': 10, 'stable-svc': 90 });
    const v = verifier();
    const req = request({ rollout: rollout({ namespace: n }) });
    proxy.fail(action, 100, fault);
    const res = await v.verifyWeight(req);
    proxy.fail(action, 0, fault);
    expect(res).toEqual({ verified: RpcVerified.NotVerified });
    expect(events.at(-1)).toMatchObject({ type: 'Warning', reason: 'ALBPluginWeightUnverified' });
    expect(events.at(-1)?.message).toMatch(text);
    expect(await v.verifyWeight(req)).toEqual({ verified: RpcVerified.Verified });
  });

  it('transient failure of the warm call: NotVerified without Err, the report still names the load balancer', async () => {
    const n = ns();
    await seed(n, 'ingress', { 'canary-svc': 10, 'stable-svc': 90 });
    const v = verifier();
    const req = request({ rollout: rollout({ namespace: n }) });
    expect((await v.report(req)).verified).toBe(true);
    log.clear();
    proxy.fail('DescribeRules', 100, { status: 503, code: 'ServiceUnavailable', message: 'Service is unavailable' });
    const res = await v.verifyWeight(req);
    const report = await v.report(req);
    proxy.fail('DescribeRules', 0, { reset: true });
    expect(res).toEqual({ verified: RpcVerified.NotVerified });
    // One failed warm call per verification; a failure is not a "not verified" that would read everything again.
    expect(log.calls).toEqual([['DescribeRules', 'error'], ['DescribeRules', 'error']]);
    expect(report).toMatchObject({ verified: false, transient: true });
    expect(report.ingresses[0]!.loadBalancers[0]!.reasons).toEqual(['ServiceUnavailable: Service is unavailable']);
  });

  it.each([
    ['AccessDenied (IAM policy without elasticloadbalancing:DescribeRules)', 'DescribeRules',
      { status: 403, code: 'AccessDenied', message: 'User is not authorized to perform: elasticloadbalancing:DescribeRules' }, /AccessDenied/],
    ['ValidationError', 'DescribeListeners', { status: 400, code: 'ValidationError', message: "'arn' is not a valid load balancer ARN" }, /ValidationError/],
    ['InvalidClientTokenId (bad credentials)', 'DescribeLoadBalancers', { status: 403, code: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.' }, /InvalidClientTokenId/],
  ])('configuration error (%s): NotVerified with an Err, and the error as a Warning Event', async (_name, action, fault, text) => {
    const n = ns();
    await seed(n, 'ingress', { 'canary-svc': 10, 'stable-svc': 90 });
    proxy.fail(action, 100, fault);
    const res = await verifier().verifyWeight(request({ rollout: rollout({ namespace: n }) }));
    proxy.fail(action, 0, fault);
    expect(res.verified).toBe(RpcVerified.NotVerified);
    expect(res.err).toMatch(/^weight verification failed: /);
    expect(res.err).toMatch(text);
    // The Event every mode emits for a configuration error (src/verify/verdict.ts), besides Argo's WeightVerifyError.
    expect(events.at(-1)).toEqual({ type: 'Warning', reason: 'ALBPluginWeightUnverified', message: res.err!.replace(/^weight verification failed: /, '') });
  });
});

// Issue #12 item 2: the listener list was cached for the life of the process, so rules that moved to a new
// listener (HTTPS added, ssl-redirect) left every later verification of that load balancer "not verified"
// until a restart. Discoveries now have a bounded age, and an answer that would be "not verified" is given
// only after the listeners and rules were read again.
describe('listener, host and path changes after the first verification (issue #12 item 2)', () => {
  const steps = [{ setWeight: 10 }, { setWeight: 20 }];
  const at = (namespace: string, uid: string, stepIndex: number, desired: number) =>
    request({ rollout: rollout({ namespace, uid, steps, stepIndex }), desired });

  it('HTTPS added with ssl-redirect: the rule moves from :80 to :443 and the next step verifies there', async () => {
    const n = ns();
    const s = await seed(n, 'ingress', { 'canary-svc': 10, 'stable-svc': 90 });
    const v = verifier();
    expect(await v.verifyWeight(at(n, 'moved', 0, 10))).toEqual({ verified: RpcVerified.Verified });

    // What the LBC does: a new HTTPS listener carrying the action (already at the new weights), the HTTP
    // listener's default action becomes the redirect, and its forward rule is deleted.
    const https = await createListener(aws, s.lb.arn, 'https', net.certificateArn);
    await createForwardRule(aws, https, { priority: 1, tuples: tuples(s, { 'canary-svc': 20, 'stable-svc': 80 }) });
    await aws.send(new ModifyListenerCommand({
      ListenerArn: s.listeners[0]!,
      DefaultActions: [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } }],
    }));
    await aws.send(new DeleteRuleCommand({ RuleArn: s.rules[0]! }));

    log.clear();
    expect(await v.verifyWeight(at(n, 'moved', 1, 20))).toEqual({ verified: RpcVerified.Verified });
    // RuleNotFound on the warm call, then the listeners and their rules again (the tags are known).
    expect(log.calls).toEqual([
      ['DescribeRules', 'not_found'], ['DescribeListeners', 'success'], ['DescribeRules', 'success'], ['DescribeRules', 'success'],
    ]);
    const report = await v.report(at(n, 'moved', 1, 20));
    expect(report.ingresses[0]!.loadBalancers[0]!.rules.map((r) => [r.listenerArn, r.verified])).toEqual([[https, true]]);
  });

  it('the cached rule still exists but no longer carries the action: re-read before answering not verified', async () => {
    const n = ns();
    const s = await seed(n, 'ingress', { 'canary-svc': 10, 'stable-svc': 90 });
    const v = verifier();
    expect(await v.verifyWeight(at(n, 'rewritten', 0, 10))).toEqual({ verified: RpcVerified.Verified });

    // The action moves to a new HTTPS listener; the HTTP rule stays, now a plain forward to the stable
    // target group (what the LBC writes for a path whose backend is the stable Service's real port).
    const https = await createListener(aws, s.lb.arn, 'https', net.certificateArn);
    await createForwardRule(aws, https, { priority: 1, tuples: tuples(s, { 'canary-svc': 20, 'stable-svc': 80 }) });
    await aws.send(new ModifyRuleCommand({ RuleArn: s.rules[0]!, Actions: [{ Type: 'forward', Order: 1, TargetGroupArn: s.tgs['stable-svc']!.arn }] }));

    log.clear();
    expect(await v.verifyWeight(at(n, 'rewritten', 1, 20))).toEqual({ verified: RpcVerified.Verified });
    // The warm call reads "canary 0" on the old rule; the answer waits for one fresh read of listeners and rules.
    expect(log.calls).toEqual([
      ['DescribeRules', 'success'], ['DescribeListeners', 'success'], ['DescribeRules', 'success'], ['DescribeRules', 'success'],
    ]);
  });

  it('a listener and a host added later are noticed once the discovery is older than its max age', async () => {
    const n = ns();
    const s = await seed(n, 'ingress', { 'canary-svc': 10, 'stable-svc': 90 });
    let t = Date.now();
    const v = verifier({ now: () => t });
    expect(await v.verifyWeight(at(n, 'aged', 0, 10))).toEqual({ verified: RpcVerified.Verified });

    // HTTPS and a second host appear, and the LBC is moving to the next step: the HTTP rule already has the
    // new weights, the two new rules still have the old ones.
    const https = await createListener(aws, s.lb.arn, 'https', net.certificateArn);
    const r443 = await createForwardRule(aws, https, { priority: 1, tuples: tuples(s, { 'canary-svc': 10, 'stable-svc': 90 }) });
    const hostRule = await createForwardRule(aws, s.listeners[0]!, { priority: 2, host: 'b.example.com', tuples: tuples(s, { 'canary-svc': 10, 'stable-svc': 90 }) });
    await setRuleWeights(aws, s.rules[0]!, tuples(s, { 'canary-svc': 20, 'stable-svc': 80 }));

    // Within the max age (30 s by default) the warm call alone answers, from the rules already known.
    t += 5_000;
    log.clear();
    expect((await v.report(at(n, 'aged', 1, 20))).verified).toBe(true);
    expect(log.calls).toEqual([['DescribeRules', 'success']]);

    // Past it, the listeners and rules are read again: the two lagging rules are found.
    t += 30_000;
    log.clear();
    const res = await v.verifyWeight(at(n, 'aged', 1, 20));
    expect(res).toEqual({ verified: RpcVerified.NotVerified });
    expect(log.ops()).toEqual(['DescribeListeners', 'DescribeRules', 'DescribeRules']);
    expect(events.at(-1)?.message).toMatch(/canary weight \(Service canary-svc\) 20 not yet set \(current: 10\)/);

    await setRuleWeights(aws, r443, tuples(s, { 'canary-svc': 20, 'stable-svc': 80 }));
    await setRuleWeights(aws, hostRule, tuples(s, { 'canary-svc': 20, 'stable-svc': 80 }));
    log.clear();
    expect(await v.verifyWeight(at(n, 'aged', 1, 20))).toEqual({ verified: RpcVerified.Verified });
    // Warm again: one call for the three rules now known.
    expect(log.calls).toEqual([['DescribeRules', 'success']]);
    const report = await v.report(at(n, 'aged', 1, 20));
    expect(report.ingresses[0]!.loadBalancers[0]!.rules.map((r) => r.ruleArn).sort()).toEqual([s.rules[0]!, r443, hostRule].sort());
  });
});
