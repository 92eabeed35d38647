// The gap in moto that the end-to-end suite's proxy mends: a SetRulePriorities call that swaps two rules, which
// AWS applies as a whole (and the LBC sends when a rule goes), is refused by moto and accepted through the proxy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DescribeRulesCommand,
  SetRulePrioritiesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { startElbv2Proxy, type Elbv2Proxy } from '../support/elbv2-proxy.js';
import { elbv2Client, startMoto, type Moto } from '../support/moto.js';
import { seedVpc } from '../e2e/support/aws.js';

describe('SetRulePriorities swap (moto gap, mended by the proxy)', () => {
  let moto: Moto;
  let proxy: Elbv2Proxy;
  beforeAll(async () => {
    moto = await startMoto();
    proxy = await startElbv2Proxy(moto.endpoint, { atomicRulePriorities: true });
  });
  afterAll(async () => {
    await proxy?.stop();
    await moto?.stop();
  });

  async function twoRules(): Promise<{ listener: string; a: string; b: string }> {
    const elbv2 = elbv2Client(moto.endpoint);
    const { vpcId, subnetIds } = await seedVpc(moto.endpoint);
    const lb = (await elbv2.send(new CreateLoadBalancerCommand({ Name: `lb-${Date.now() % 100000}`, Subnets: subnetIds }))).LoadBalancers![0]!;
    const tg = (await elbv2.send(new CreateTargetGroupCommand({ Name: `tg-${Date.now() % 100000}`, Protocol: 'HTTP', Port: 80, VpcId: vpcId, TargetType: 'ip' }))).TargetGroups![0]!;
    const forward = [{ Type: 'forward' as const, TargetGroupArn: tg.TargetGroupArn! }];
    const listener = (await elbv2.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn!, Protocol: 'HTTP', Port: 80, DefaultActions: forward }))).Listeners![0]!.ListenerArn!;
    const rule = async (priority: number, path: string) =>
      (await elbv2.send(new CreateRuleCommand({ ListenerArn: listener, Priority: priority, Actions: forward, Conditions: [{ Field: 'path-pattern', Values: [path] }] }))).Rules![0]!.RuleArn!;
    return { listener, a: await rule(1, '/a'), b: await rule(2, '/b') };
  }

  const swap = (a: string, b: string) => new SetRulePrioritiesCommand({ RulePriorities: [{ RuleArn: a, Priority: 2 }, { RuleArn: b, Priority: 1 }] });
  // What the LBC sends when a rule goes: the dropped one to 50000, the kept one into the freed priority.
  const pushDown = (a: string, b: string) => new SetRulePrioritiesCommand({ RulePriorities: [{ RuleArn: a, Priority: 50_000 }, { RuleArn: b, Priority: 1 }] });

  it('moto alone refuses the swap', async () => {
    const { a, b } = await twoRules();
    await expect(elbv2Client(moto.endpoint).send(swap(a, b))).rejects.toThrow(/PriorityInUse|priority is in use/i);
  });

  it('moto alone refuses the LBC\'s push-down', async () => {
    const { a, b } = await twoRules();
    await expect(elbv2Client(moto.endpoint).send(pushDown(a, b))).rejects.toThrow(/PriorityInUse|priority is in use/i);
  });

  it('through the proxy the LBC\'s push-down lands', async () => {
    const { listener, a, b } = await twoRules();
    await elbv2Client(proxy.endpoint).send(pushDown(a, b));
    const rules = (await elbv2Client(moto.endpoint).send(new DescribeRulesCommand({ ListenerArn: listener }))).Rules!;
    expect(Object.fromEntries(rules.filter((r) => !r.IsDefault).map((r) => [r.RuleArn, r.Priority]))).toEqual({ [a]: '50000', [b]: '1' });
  });

  it('through the proxy the swap lands as AWS would apply it', async () => {
    const { listener, a, b } = await twoRules();
    await elbv2Client(proxy.endpoint).send(swap(a, b));
    const rules = (await elbv2Client(moto.endpoint).send(new DescribeRulesCommand({ ListenerArn: listener }))).Rules!;
    expect(Object.fromEntries(rules.filter((r) => !r.IsDefault).map((r) => [r.RuleArn, r.Priority]))).toEqual({ [a]: '2', [b]: '1' });
  });
});
