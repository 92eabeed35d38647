// Listener-rule mode: the ALB, its listener, rule and target groups made directly in moto (as Terraform would),
// Services bound to the target groups by TargetGroupBindings that the real LBC fills with pod IPs.
import {
  AddTagsCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DescribeRulesCommand,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { rollout, services } from './support/app.js';
import { registeredTargets } from './support/aws.js';
import { Timeline } from './support/observe.js';
import { e2eSkipped, PLUGIN, useStack } from './support/suite.js';
import { DRIVEN_TAG_KEY, DRIVEN_TAG_VALUE } from '../../src/modes/listener-rule/driven-tag.js';

/** The opt-in tag an operator puts on a rule the plugin may drive (docs/listener-rule-mode.md). */
const DRIVEN_TAGS = [{ Key: DRIVEN_TAG_KEY, Value: DRIVEN_TAG_VALUE }];

describe.skipIf(e2eSkipped())('listener-rule mode (ALB managed outside Kubernetes)', () => {
  const { obs } = useStack();

  it('an untagged rule is refused with the fix; tagged: weights on the one rule, header route as its own rule, LBC-registered targets, released on deletion', async () => {
    const o = obs();
    const { elbv2, vpcId, subnetIds } = o.stack;
    const ns = await o.namespace('tf');
    const lb = (await elbv2.send(new CreateLoadBalancerCommand({ Name: 'tf-shop', Subnets: subnetIds, Type: 'application', Scheme: 'internal' }))).LoadBalancers![0]!;
    const tg = async (name: string) =>
      (await elbv2.send(new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 8080, VpcId: vpcId, TargetType: 'ip' }))).TargetGroups![0]!.TargetGroupArn!;
    const blue = await tg('tf-shop-blue');
    const green = await tg('tf-shop-green');
    const listener = (await elbv2.send(new CreateListenerCommand({
      LoadBalancerArn: lb.LoadBalancerArn!,
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain', MessageBody: 'no route' } }],
    }))).Listeners![0]!;
    // Made without the opt-in tag: the plugin must refuse it until the operator tags it.
    const rule = (await elbv2.send(new CreateRuleCommand({
      ListenerArn: listener.ListenerArn!,
      Priority: 10,
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/api/*'] } }],
      Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: blue, Weight: 1 }] } }],
    }))).Rules![0]!;

    const binding = (name: string, arn: string) => `
apiVersion: elbv2.k8s.aws/v1beta1
kind: TargetGroupBinding
metadata: {name: ${name}}
spec:
  serviceRef: {name: ${name}, port: 80}
  targetGroupARN: ${arn}
  targetType: ip
---`;
    await o.stack.apply(
      services(['shop-api-stable', 'shop-api-canary'], 'shop-api') +
        binding('shop-api-stable', blue) +
        binding('shop-api-canary', green) +
        rollout('shop-api', 'shop-api', `
canary:
  stableService: shop-api-stable
  canaryService: shop-api-canary
  trafficRouting:
    managedRoutes:
    - name: beta-testers
    plugins:
      ${PLUGIN}:
        listenerRule:
          loadBalancerName: tf-shop
          listenerPort: 80
          conditions: {path: /api/*}
        stableTargetGroup: {targetGroupBinding: shop-api-stable}
        canaryTargetGroup: {targetGroupBinding: shop-api-canary}
  steps:
  # Header routes after the first setWeight: while the canary has no available pod, Argo removes managed routes
  # on every reconcile (a header step first would be undone at once).
  - setWeight: 10
  - setHeaderRoute:
      name: beta-testers
      match:
      - headerName: X-Beta
        headerValue: {exact: "yes"}
  - pause: {}
  - setHeaderRoute: {name: beta-testers}
  - setWeight: 50
  - pause: {}
`),
      ns,
    );
    // The first SetWeight would rewrite the forward (1 → 100 on blue, green at 0): refused, and Argo shows why.
    const fix = `aws elbv2 add-tags --resource-arns ${rule.RuleArn!} --tags Key=${DRIVEN_TAG_KEY},Value=${DRIVEN_TAG_VALUE}`;
    const refusal = await o.until('the refusal of the untagged rule as a TrafficRoutingError event', async () =>
      (await o.events(ns, 'shop-api')).find((e) => e.reason === 'TrafficRoutingError' && e.message.includes(fix)),
    120_000, () => o.diagnose(ns, 'shop-api'));
    expect(refusal.message).toContain(`listener rule ${rule.RuleArn!} (spec.strategy.canary.trafficRouting.plugins["${PLUGIN}"].listenerRule) does not carry the tag ${DRIVEN_TAG_KEY}`);
    const untouched = (await elbv2.send(new DescribeRulesCommand({ RuleArns: [rule.RuleArn!] }))).Rules![0]!;
    expect(untouched.Actions!.find((a) => a.Type === 'forward')!.ForwardConfig!.TargetGroups!.map((t) => [t.TargetGroupArn, t.Weight])).toEqual([[blue, 1]]);
    await elbv2.send(new AddTagsCommand({ ResourceArns: [rule.RuleArn!], Tags: DRIVEN_TAGS }));
    await o.untilHealthy(ns, 'shop-api');
    const rules = async () => (await elbv2.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn! }))).Rules ?? [];
    const weightsOf = async () => {
      const r = (await rules()).find((x) => x.RuleArn === rule.RuleArn)!;
      const tgs = r.Actions!.find((a) => a.Type === 'forward')!.ForwardConfig!.TargetGroups!;
      return Object.fromEntries(tgs.map((t) => [t.TargetGroupArn === blue ? 'blue' : t.TargetGroupArn === green ? 'green' : t.TargetGroupArn!, t.Weight ?? 1]));
    };
    // The LBC registers the stable pods into the Terraform-made target group through the binding.
    const stableIps = await o.podIPs(ns, 'app=shop-api');
    await o.until('blue to hold the stable pods', async () => {
      const ips = (await registeredTargets(elbv2, blue)).map((t) => t.ip).sort();
      return JSON.stringify(ips) === JSON.stringify(stableIps) ? true : undefined;
    }, 120_000, () => o.diagnose(ns, 'shop-api'));

    // The driven rule sampled after the status from here to the end of the rollout (the shared rules).
    const timeline = new Timeline(o, ns, 'shop-api', async () => ({ 'alb :80 rule 10': await weightsOf() }));
    timeline.start();
    await o.setImage(ns, 'shop-api', 'registry.example.com/shop-api:2');
    await o.untilPaused(ns, 'shop-api');
    expect(await weightsOf()).toEqual({ green: 10, blue: 90 });
    const header = (await rules()).find((r) => (r.Conditions ?? []).some((c) => c.Field === 'http-header'));
    expect(header, 'the header-route rule').toBeDefined();
    expect(Number(header!.Priority)).toBe(9);
    expect(header!.Actions!.find((a) => a.Type === 'forward')!.ForwardConfig!.TargetGroups!.map((t) => t.TargetGroupArn)).toEqual([green]);

    await o.promote(ns, 'shop-api');
    await o.until('the rule at 50 % green and the header rule gone', async () => {
      const w = await weightsOf();
      const hdr = (await rules()).some((r) => (r.Conditions ?? []).some((c) => c.Field === 'http-header'));
      return w.green === 50 && !hdr ? true : undefined;
    }, 180_000, () => o.diagnose(ns, 'shop-api'));
    const canaryIps = await o.podIPs(ns, `rollouts-pod-template-hash=${(await o.rollout(ns, 'shop-api')).status!.currentPodHash}`);
    await o.until('green to hold the canary pods', async () => {
      const ips = (await registeredTargets(elbv2, green)).map((t) => t.ip).sort();
      return JSON.stringify(ips) === JSON.stringify(canaryIps) ? true : undefined;
    });

    await o.promote(ns, 'shop-api');
    await o.untilHealthy(ns, 'shop-api', 240_000);
    await o.until('the rule back at 100 % on the stable target group', async () => {
      const w = await weightsOf();
      return (w.blue ?? 0) + (w.green ?? 0) > 0 && (w.green === 0 || w.green === undefined) ? true : undefined;
    }, 120_000, () => o.diagnose(ns, 'shop-api'));

    await timeline.check({ canary: 'green', seen: [10, 50], minSamples: 20, minMidRollout: 10 });

    // Deleted: the rule stays at 100 % stable and only the rule's forward was ever touched.
    await o.deleteRollout(ns, 'shop-api');
    expect((await rules()).map((r) => r.Priority).sort()).toEqual(['10', 'default']);
  });

  it('deleted mid-canary with a header route: its header rule goes, the driven rule is back at 100 % stable, no other rule is touched', async () => {
    const o = obs();
    const { elbv2, vpcId, subnetIds, proxy } = o.stack;
    const ns = await o.namespace('tf-del');
    const lb = (await elbv2.send(new CreateLoadBalancerCommand({ Name: 'tf-del', Subnets: subnetIds, Type: 'application', Scheme: 'internal' }))).LoadBalancers![0]!;
    const tg = async (name: string) =>
      (await elbv2.send(new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 8080, VpcId: vpcId, TargetType: 'ip' }))).TargetGroups![0]!.TargetGroupArn!;
    const blue = await tg('tf-del-blue');
    const green = await tg('tf-del-green');
    const other = await tg('tf-del-other');
    const listener = (await elbv2.send(new CreateListenerCommand({
      LoadBalancerArn: lb.LoadBalancerArn!,
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain', MessageBody: 'no route' } }],
    }))).Listeners![0]!;
    const create = async (priority: number, conditions: Rule['Conditions'], actions: Rule['Actions'], tags?: typeof DRIVEN_TAGS) =>
      (await elbv2.send(new CreateRuleCommand({ ListenerArn: listener.ListenerArn!, Priority: priority, Conditions: conditions, Actions: actions, ...(tags ? { Tags: tags } : {}) }))).Rules![0]!;
    // Someone else's rules around the driven one: before it, right after it, and far after it.
    await create(5, [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/health'] } }], [
      { Type: 'fixed-response', FixedResponseConfig: { StatusCode: '200', ContentType: 'text/plain', MessageBody: 'ok' } },
    ]);
    const driven = await create(10, [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/api/*'] } }], [
      { Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: blue, Weight: 1 }] } },
    ], DRIVEN_TAGS);
    await create(11, [{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Legacy', Values: ['1'] } }], [
      { Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: other, Weight: 1 }] } },
    ]);
    await create(30, [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/static/*'] } }], [
      { Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: other, Weight: 7 }, { TargetGroupArn: blue, Weight: 3 }] } },
    ]);
    const rules = async () => (await elbv2.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn! }))).Rules ?? [];
    const snapshot = (r: Rule) => JSON.stringify({ arn: r.RuleArn, priority: r.Priority, conditions: r.Conditions, actions: r.Actions });

    const binding = (name: string, arn: string) => `
apiVersion: elbv2.k8s.aws/v1beta1
kind: TargetGroupBinding
metadata: {name: ${name}}
spec:
  serviceRef: {name: ${name}, port: 80}
  targetGroupARN: ${arn}
  targetType: ip
---`;
    await o.stack.apply(
      services(['del-stable', 'del-canary'], 'del') +
        binding('del-stable', blue) +
        binding('del-canary', green) +
        rollout('del', 'del', `
canary:
  stableService: del-stable
  canaryService: del-canary
  trafficRouting:
    managedRoutes:
    - name: beta
    plugins:
      ${PLUGIN}:
        listenerRule:
          loadBalancerName: tf-del
          listenerPort: 80
          conditions: {path: /api/*}
        stableTargetGroup: {targetGroupBinding: del-stable}
        canaryTargetGroup: {targetGroupBinding: del-canary}
  steps:
  - setWeight: 20
  - setHeaderRoute:
      name: beta
      match:
      - headerName: X-Beta
        headerValue: {exact: "yes"}
  - pause: {}
`),
      ns,
    );
    await o.untilHealthy(ns, 'del');
    // What the plugin may touch: the driven rule and the header rules it creates; everything else is someone else's.
    const before = new Map((await rules()).filter((r) => r.RuleArn !== driven.RuleArn).map((r) => [r.RuleArn!, snapshot(r)]));
    expect(before.size).toBe(4); // three other rules and the default action

    await o.setImage(ns, 'del', 'registry.example.com/del:2');
    await o.untilPaused(ns, 'del');
    const mid = await o.until('20 % on the driven rule and the header rule on the ALB', async () => {
      const all = await rules();
      const d = all.find((r) => r.RuleArn === driven.RuleArn)!;
      const tgs = d.Actions!.find((a) => a.Type === 'forward')!.ForwardConfig!.TargetGroups!;
      const w = Object.fromEntries(tgs.map((t) => [t.TargetGroupArn, t.Weight ?? 1]));
      const header = all.find((r) => (r.Conditions ?? []).some((c) => c.Field === 'http-header' && c.HttpHeaderConfig?.HttpHeaderName === 'X-Beta'));
      return w[green] === 20 && w[blue] === 80 && header ? { all, header } : undefined;
    }, 180_000, () => o.diagnose(ns, 'del'));
    const headerArn = mid.header.RuleArn!;
    expect(mid.header.Actions!.find((a) => a.Type === 'forward')!.ForwardConfig!.TargetGroups!.map((t) => t.TargetGroupArn)).toEqual([green]);
    // The header rule is new; nothing else changed on the way to 20 %.
    for (const r of mid.all) if (r.RuleArn !== driven.RuleArn && r.RuleArn !== headerArn) expect(snapshot(r)).toBe(before.get(r.RuleArn!));

    proxy.resetLog();
    await o.deleteRollout(ns, 'del');
    const after = await o.until('the header rule gone and the driven rule at 100 % stable', async () => {
      const all = await rules();
      const d = all.find((r) => r.RuleArn === driven.RuleArn)!;
      const tgs = d.Actions!.find((a) => a.Type === 'forward')!.ForwardConfig!.TargetGroups!.filter((t) => (t.Weight ?? 1) > 0);
      const gone = !all.some((r) => r.RuleArn === headerArn);
      return gone && tgs.length === 1 && tgs[0]!.TargetGroupArn === blue ? all : undefined;
    }, 120_000, () => o.diagnose(ns, 'del'));
    // The driven rule keeps its ARN, priority and conditions; every other rule is byte for byte what it was.
    const d = after.find((r) => r.RuleArn === driven.RuleArn)!;
    expect(d.Priority).toBe('10');
    expect(d.Conditions).toEqual(driven.Conditions);
    expect(new Map(after.filter((r) => r.RuleArn !== driven.RuleArn).map((r) => [r.RuleArn!, snapshot(r)]))).toEqual(before);
    // And no call wrote to any rule but the plugin's two (whoever made it: the sidecar or the LBC).
    const writes = proxy.log().filter((c) => ['ModifyRule', 'DeleteRule', 'CreateRule', 'SetRulePriorities', 'AddTags', 'RemoveTags', 'ModifyListener', 'DeleteListener'].includes(c.action));
    const touched = new Set(writes.flatMap((c) => [...c.params.entries()].filter(([k]) => /RuleArn$|ResourceArns\.member\.\d+$|ListenerArn$/.test(k)).map(([, v]) => v)));
    expect([...touched].sort(), JSON.stringify(writes.map((c) => [c.action, Object.fromEntries(c.params)]))).toEqual([driven.RuleArn!, headerArn].sort());
    // Quiet afterwards: nothing puts the canary back.
    await new Promise((r) => setTimeout(r, 3000));
    const later = await rules();
    expect(later.map(snapshot)).toEqual(after.map(snapshot));
  });
});
