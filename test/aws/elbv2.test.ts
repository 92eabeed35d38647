import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DescribeRulesCommand, ModifyRuleCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { createElbv2, isNotFound, ThrottledError, type CallOutcome, type Elbv2 } from '../../src/aws/elbv2.js';
import type { Clock } from '../../src/aws/token-bucket.js';
import { elbv2Client, MOTO_CREDENTIALS, MOTO_REGION, startMoto, type Moto } from '../support/moto.js';
import { startElbv2Proxy, type Elbv2Proxy } from '../support/elbv2-proxy.js';
import { createLbcTargetGroup, createNetwork, seedIngress, type Network, type SeededIngress } from '../support/lbc-seed.js';

describe('createElbv2 against moto behind the fault-injecting proxy', () => {
  let moto: Moto;
  let proxy: Elbv2Proxy;
  let net: Network;
  let seeded: SeededIngress;
  let calls: Array<[string, CallOutcome]>;
  let sleeps: number[];
  let elbv2: Elbv2;

  // Backoff sleeps are recorded and skipped: the test checks the delays chosen, not the wall clock.
  const recordingClock: Clock = {
    now: () => Date.now(),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  };

  const make = (extra: Partial<Parameters<typeof createElbv2>[0]> = {}): Elbv2 =>
    createElbv2({
      rateLimit: 1000,
      rateBurst: 1000,
      client: new ElasticLoadBalancingV2Client({ region: MOTO_REGION, endpoint: proxy.endpoint, credentials: MOTO_CREDENTIALS, maxAttempts: 1 }),
      onCall: (op, outcome) => calls.push([op, outcome]),
      clock: recordingClock,
      random: () => 0.5,
      ...extra,
    });

  beforeAll(async () => {
    moto = await startMoto();
    proxy = await startElbv2Proxy(moto.endpoint);
    net = await createNetwork(moto.endpoint);
    seeded = await seedIngress(elbv2Client(moto.endpoint), net, {
      namespace: 'default', ingress: 'app', servicePort: 80, services: ['canary', 'stable'], weights: { canary: 10, stable: 90 },
    });
  });
  afterAll(async () => {
    await proxy?.stop();
    await moto?.stop();
  });
  beforeEach(() => {
    calls = [];
    sleeps = [];
    proxy.resetCounts();
    elbv2 = make();
  });

  it('retries Throttling with jittered exponential backoff and counts every attempt', async () => {
    proxy.throttle('DescribeRules', 3);
    const rules = await elbv2.describeRules({ ruleArns: seeded.rules });
    expect(rules.map((r) => r.RuleArn)).toEqual(seeded.rules);
    expect(proxy.count('DescribeRules')).toBe(4);
    expect(calls).toEqual([
      ['DescribeRules', 'throttled'],
      ['DescribeRules', 'throttled'],
      ['DescribeRules', 'throttled'],
      ['DescribeRules', 'success'],
    ]);
    // random() = 0.5 → half of 200, 400, 800 ms.
    expect(sleeps).toEqual([100, 200, 400]);
  });

  it('gives up after maxAttempts with a message that says it was throttled', async () => {
    proxy.throttle('DescribeListeners', 10);
    elbv2 = make({ maxAttempts: 3 });
    const err = await elbv2.describeListeners(seeded.lb.arn).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    expect(String((err as Error).message)).toBe(
      'ELBv2 DescribeListeners was throttled 3 times in a row (Rate exceeded); giving up for now',
    );
    expect(proxy.count('DescribeListeners')).toBe(3);
    proxy.throttle('DescribeListeners', 0);
  });

  it('caps the backoff at maxDelayMs', async () => {
    proxy.throttle('DescribeRules', 5);
    elbv2 = make({ random: () => 1, baseDelayMs: 100, maxDelayMs: 300 });
    await elbv2.describeRules({ ruleArns: seeded.rules });
    expect(sleeps).toEqual([100, 200, 300, 300, 300]);
  });

  it('does not retry other errors and labels NotFound', async () => {
    const err = await elbv2.describeLoadBalancersByName(['no-such-lb']).catch((e: unknown) => e);
    expect(isNotFound(err)).toBe(true);
    expect(calls).toEqual([['DescribeLoadBalancers', 'not_found']]);
    expect(sleeps).toEqual([]);
  });

  it('a slow answer ends at the caller deadline instead of hanging', async () => {
    proxy.delay('DescribeListeners', 5_000);
    const ac = new AbortController();
    const pending = elbv2.describeListeners(seeded.lb.arn, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('verification deadline reached')), 50);
    await expect(pending).rejects.toThrow('verification deadline reached');
    proxy.delay('DescribeListeners', 0);
  });

  it('batches DescribeTags 20 ARNs at a time', async () => {
    const c = elbv2Client(moto.endpoint);
    const arns: string[] = [];
    for (let i = 0; i < 25; i++) {
      arns.push((await createLbcTargetGroup(c, net, { namespace: 'batch', ingress: 'ing', service: `svc${i}`, port: 80 })).arn);
    }
    const tags = await elbv2.describeTags([...arns, arns[0]!]);
    expect(proxy.count('DescribeTags')).toBe(2);
    expect(tags.size).toBe(25);
    expect(tags.get(arns[24]!)?.['ingress.k8s.aws/resource']).toBe('batch/ing-svc24:80');
  });

  it('paginates DescribeRules of a listener', async () => {
    const rules = await elbv2.describeRules({ listenerArn: seeded.listeners[0]! });
    // The weighted rule plus the listener's default rule.
    expect(rules).toHaveLength(2);
    expect(rules.filter((r) => r.IsDefault)).toHaveLength(1);
  });

  it('send() goes through the same limiter and counting', async () => {
    proxy.throttle('ModifyRule', 1);
    await elbv2.send(
      new ModifyRuleCommand({
        RuleArn: seeded.rules[0]!,
        Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [
          { TargetGroupArn: seeded.tgs.canary!.arn, Weight: 20 },
          { TargetGroupArn: seeded.tgs.stable!.arn, Weight: 80 },
        ] } }],
      }),
    );
    expect(calls).toEqual([['ModifyRule', 'throttled'], ['ModifyRule', 'success']]);
    const out = await elbv2Client(moto.endpoint).send(new DescribeRulesCommand({ RuleArns: seeded.rules }));
    expect(out.Rules?.[0]?.Actions?.[0]?.ForwardConfig?.TargetGroups?.map((t) => t.Weight)).toEqual([20, 80]);
  });

  it('waits for tokens when the bucket is empty', async () => {
    elbv2 = make({ rateLimit: 2, rateBurst: 1, clock: { now: () => 0, sleep: recordingClock.sleep } });
    await elbv2.describeRules({ ruleArns: seeded.rules });
    await elbv2.describeRules({ ruleArns: seeded.rules });
    await elbv2.describeRules({ ruleArns: seeded.rules });
    // Frozen clock: the second caller waits 1/2 s, the third 1 s (it queued behind the second).
    expect(sleeps).toEqual([500, 1000]);
  });
});
