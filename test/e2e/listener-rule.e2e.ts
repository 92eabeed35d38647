// Listener-rule mode: the ALB, its listener, rule and target groups made directly in moto (as Terraform would),
// Services bound to the target groups by TargetGroupBindings that the real LBC fills with pod IPs.
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DescribeRulesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { rollout, services } from './support/app.js';
import { registeredTargets } from './support/aws.js';
import { e2eSkipped, PLUGIN, useStack } from './support/suite.js';

describe.skipIf(e2eSkipped())('listener-rule mode (ALB managed outside Kubernetes)', () => {
  const { obs } = useStack();

  it('weights on the one rule, header route as its own rule, LBC-registered targets, released on deletion', async () => {
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

    // Deleted: the rule stays at 100 % stable and only the rule's forward was ever touched.
    await o.deleteRollout(ns, 'shop-api');
    expect((await rules()).map((r) => r.Priority).sort()).toEqual(['10', 'default']);
  });
});
