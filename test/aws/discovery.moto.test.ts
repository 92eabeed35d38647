// The shared discovery (src/aws/discovery.ts) against moto behind the counting proxy: however many askers, one
// request in flight per load balancer and listener; DescribeTags and DescribeLoadBalancers(Names) carry up to 20
// asks; a read is shared only with askers whose `minAt` it satisfies (sent at or after it, or not sent yet); one
// asker giving up never fails another; a missing name or ARN in a batch fails only its own askers.
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Elbv2Discovery } from '../../src/aws/discovery.js';
import { isNotFound } from '../../src/aws/elbv2.js';
import { startElbv2Proxy, type Elbv2Proxy } from '../support/elbv2-proxy.js';
import { createLbcTargetGroup, createNetwork, seedIngress, type Network, type SeededIngress } from '../support/lbc-seed.js';
import { elbv2Client, startMoto, type Moto } from '../support/moto.js';
import { CallLog, testElbv2 } from '../verify/fixtures.js';

let moto: Moto;
let proxy: Elbv2Proxy;
let aws: ElasticLoadBalancingV2Client;
let net: Network;
let a: SeededIngress;
let b: SeededIngress;
let log: CallLog;

const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startElbv2Proxy(moto.endpoint);
  aws = elbv2Client(moto.endpoint);
  net = await createNetwork(moto.endpoint);
  const seed = (ingress: string) =>
    seedIngress(aws, net, { namespace: 'disc', ingress, servicePort: 80, services: ['canary', 'stable'], weights: { canary: 10, stable: 90 }, listeners: ['http-redirect', 'https'] });
  a = await seed('a');
  b = await seed('b');
}, 60_000);
afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
});
beforeEach(() => {
  log = new CallLog();
  proxy.resetCounts();
});

function discovery(extra: Parameters<typeof testElbv2>[2] = {}, now?: () => number): Elbv2Discovery {
  return new Elbv2Discovery(testElbv2(proxy.endpoint, log, extra), now ? { now } : {});
}

describe('one request per load balancer and listener, whatever the number of askers', () => {
  it('30 concurrent asks: one DescribeLoadBalancers, one DescribeListeners, one DescribeRules per listener', async () => {
    const d = discovery();
    const lbs = await Promise.all(times(30, () => d.loadBalancerByHostname(a.lb.hostname)));
    expect(new Set(lbs.map((lb) => lb?.LoadBalancerArn))).toEqual(new Set([a.lb.arn]));
    const listeners = await Promise.all(times(30, () => d.listeners(a.lb.arn)));
    expect(listeners.every((l) => l.value.length === 2)).toBe(true);
    const since = d.now();
    const rules = await Promise.all(times(30, (i) => d.rules(a.listeners[i % 2]!, { minAt: since })));
    expect(rules.every((r) => r.at >= since)).toBe(true);
    expect(proxy.counts()).toEqual({ DescribeLoadBalancers: 1, DescribeListeners: 1, DescribeRules: 2 });
  });

  it('load balancers of different names asked in the same tick: one DescribeLoadBalancers(Names) for both', async () => {
    const d = discovery();
    const [x, y] = await Promise.all([d.loadBalancerByHostname(a.lb.hostname), d.loadBalancerByHostname(b.lb.hostname)]);
    expect([x?.LoadBalancerArn, y?.LoadBalancerArn]).toEqual([a.lb.arn, b.lb.arn]);
    expect(proxy.counts()).toEqual({ DescribeLoadBalancers: 1 });
    // Kept for the max age: no call at all.
    await d.loadBalancersByName([a.lb.name, b.lb.name]);
    expect(proxy.total()).toBe(1);
  });

  it('45 target groups asked by 45 askers at once: ⌈45/20⌉ = 3 DescribeTags, then none (tags never change)', async () => {
    const tgs = await Promise.all(times(45, (i) => createLbcTargetGroup(aws, net, { namespace: 'tags', ingress: 'ing', service: `svc-${i}`, port: 80 })));
    const d = discovery();
    const answers = await Promise.all(tgs.map((tg) => d.tags([tg.arn])));
    expect(answers.map((m, i) => m.get(tgs[i]!.arn)?.['ingress.k8s.aws/resource'])).toEqual(tgs.map((tg) => tg.resourceId));
    expect(proxy.counts()).toEqual({ DescribeTags: 3 });
    await d.tags(tgs.map((tg) => tg.arn));
    expect(proxy.total()).toBe(3);
  });
});

describe('freshness: minAt', () => {
  it('a listing sent before an asker\'s minAt is not shared with it; one sent after is, and so is one still queued', async () => {
    let t = 1_000;
    const d = discovery({}, () => t);
    const first = await d.rules(a.listeners[1]!, { minAt: t });
    expect(first.at).toBe(1_000);
    // The same round (minAt at or before the read): from memory.
    expect((await d.rules(a.listeners[1]!, { minAt: 1_000 })).at).toBe(1_000);
    expect(proxy.count('DescribeRules')).toBe(1);
    // A check that began after that read: read again.
    t = 2_000;
    expect((await d.rules(a.listeners[1]!, { minAt: 1_500 })).at).toBe(2_000);
    expect(proxy.count('DescribeRules')).toBe(2);
    // Without minAt, an answer within the max age (30 s) will do.
    t = 20_000;
    await d.rules(a.listeners[1]!);
    expect(proxy.count('DescribeRules')).toBe(2);
    t = 40_000;
    await d.rules(a.listeners[1]!);
    expect(proxy.count('DescribeRules')).toBe(3);
  });

  it('an asker arriving while a listing waits for its token joins it, even with a later minAt', async () => {
    // One token, refilled every second: the first read takes it, the second waits for the next.
    const d = discovery({ rateLimit: 1, rateBurst: 1 });
    await d.listeners(a.lb.arn);
    const early = d.rules(a.listeners[1]!, { minAt: d.now() });
    await new Promise((r) => setTimeout(r, 100));
    const late = d.rules(a.listeners[1]!, { minAt: d.now() });
    const [x, y] = await Promise.all([early, late]);
    expect(x).toBe(y);
    expect(proxy.counts()).toEqual({ DescribeListeners: 1, DescribeRules: 1 });
  });

  it('a write to a listener\'s rules (forgetRules) drops the listing and the request in flight for later askers', async () => {
    const d = discovery();
    proxy.delay('DescribeRules', 150);
    const before = d.rules(a.listeners[1]!);
    d.forgetRules(a.listeners[1]!);
    const after = d.rules(a.listeners[1]!);
    await Promise.all([before, after]);
    proxy.delay('DescribeRules', 0);
    expect(proxy.count('DescribeRules')).toBe(2);
    // The answer of the request started after the write is the one kept.
    await d.rules(a.listeners[1]!);
    expect(proxy.count('DescribeRules')).toBe(2);
  });
});

describe('failures and cancellation stay with their askers', () => {
  it('a missing name in a batch fails only its asker: a name the batch does not answer is asked on its own', async () => {
    const d = discovery();
    const asks = [a.lb.name, 'no-such-lb', b.lb.name].map((n) => d.loadBalancersByName([n]).then((lbs) => lbs[0]?.LoadBalancerArn, (e: unknown) => e));
    const [x, missing, y] = await Promise.all(asks);
    expect([x, y]).toEqual([a.lb.arn, b.lb.arn]);
    expect(isNotFound(missing)).toBe(true);
    // ELBv2 fails the whole batch (then every name is asked on its own); moto answers with the names it found
    // (then only the missing one is). Either way its asker gets LoadBalancerNotFound, the others their load balancer.
    const outcomes = log.calls.filter(([op]) => op === 'DescribeLoadBalancers').map(([, o]) => o);
    expect(outcomes[0]).toMatch(/^(success|not_found)$/);
    expect(outcomes.filter((o) => o === 'not_found').length).toBeGreaterThanOrEqual(1);
    expect(outcomes.length).toBeLessThanOrEqual(1 + 3);
  });

  it('one asker giving up leaves the shared request to the others; the last one to leave cancels it', async () => {
    const d = discovery();
    proxy.delay('DescribeListeners', 300);
    const quitter = new AbortController();
    const gaveUp = d.listeners(b.lb.arn, { signal: quitter.signal });
    const stays = d.listeners(b.lb.arn, { signal: AbortSignal.timeout(10_000) });
    setTimeout(() => quitter.abort(new Error('deadline')), 50);
    await expect(gaveUp).rejects.toThrow('deadline');
    expect((await stays).value).toHaveLength(2);
    expect(log.calls).toEqual([['DescribeListeners', 'success']]);

    log.clear();
    const alone = new AbortController();
    const lone = d.listeners(a.lb.arn, { signal: alone.signal });
    setTimeout(() => alone.abort(new Error('deadline')), 50);
    await expect(lone).rejects.toThrow('deadline');
    // Cancelled: counted as an error, not remembered; the next asker sends its own request.
    await vi.waitFor(() => expect(log.calls).toEqual([['DescribeListeners', 'error']]));
    proxy.delay('DescribeListeners', 0);
    expect((await d.listeners(a.lb.arn)).value).toHaveLength(2);
    expect(log.calls.map(([, o]) => o)).toEqual(['error', 'success']);
  });

  it('a load balancer that is gone (LoadBalancerNotFound on its listeners) is forgotten with what was known about it', async () => {
    const d = discovery();
    await d.loadBalancerByHostname(a.lb.hostname);
    proxy.fail('DescribeListeners', 1, { status: 400, code: 'LoadBalancerNotFound', message: 'gone' });
    await expect(d.listeners(a.lb.arn)).rejects.toSatisfy(isNotFound);
    proxy.resetCounts();
    await d.loadBalancerByHostname(a.lb.hostname);
    expect(proxy.counts()).toEqual({ DescribeLoadBalancers: 1 });
  });
});
