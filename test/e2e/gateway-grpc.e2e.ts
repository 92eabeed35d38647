// Gateway mode on a GRPCRoute (issue #21), end to end: the real LBC (ALBGatewayAPI) builds a GRPCRoute attached to
// an HTTPS listener (certificate from moto's ACM) into ALB rules whose path pattern is `/<service>/<method>` and
// whose target groups speak gRPC; the plugin drives the weights of the route's backendRefs exactly as it does an
// HTTPRoute's, and VerifyWeight reads them back from those rules.
import { DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { rollout, services } from './support/app.js';
import { acmCertificate } from './support/aws.js';
import { diagnoseGateway, gatewayClass, gatewayPlaces, gatewayRules, grpcRoute, headerCondition, httpsGateway, pathValues, readGRPCRoute, yamlDocs } from './support/gateway.js';
import { Timeline } from './support/observe.js';
import { e2eSkipped, PLUGIN, useStack } from './support/suite.js';

const HOST = 'grpc.example.com';
const SERVICE = 'helloworld.Greeter';
const OWNED = 'alb.rollouts.argoproj-labs.io/gateway-owned';

describe.skipIf(e2eSkipped())('Gateway mode on a GRPCRoute (HTTPS listener, moto ACM certificate)', () => {
  const { obs } = useStack({ gatewayApi: true });

  it('canary 20 → 50 → promote on a GRPCRoute: each step in the route\'s backendRefs and on its ALB rule (gRPC target groups), verified before Argo moves on', async () => {
    const o = obs();
    const ns = await o.namespace('gw-grpc');
    const diag = async () => `${await diagnoseGateway(o, ns, 'greeter')}\n${await o.diagnose(ns, 'greeter')}`;
    const cert = await acmCertificate(o.stack.moto.endpoint, HOST);
    await o.stack.apply(yamlDocs(gatewayClass('alb-plugin')));
    await o.stack.apply(
      yamlDocs(
        services(['greeter-stable', 'greeter-canary'], 'greeter'),
        httpsGateway('greeter', { className: 'alb-plugin', certificateArn: cert, hostname: HOST }),
        grpcRoute('greeter', { gateway: 'greeter', sectionName: 'https' }, [
          { name: 'main', method: { service: SERVICE }, backends: [{ service: 'greeter-stable', weight: 100 }, { service: 'greeter-canary', weight: 0 }] },
        ]),
        rollout('greeter', 'greeter', `
canary:
  stableService: greeter-stable
  canaryService: greeter-canary
  trafficRouting:
    plugins:
      ${PLUGIN}:
        grpcRoute: greeter
  steps:
  - setWeight: 20
  - pause: {}
  - setWeight: 50
  - pause: {}
`),
      ),
      ns,
    );
    await o.untilHealthy(ns, 'greeter');
    const ruleAt = async (canary: number) =>
      o.until(`the GRPCRoute's ALB rule at canary ${canary}`, async () => {
        const r = (await gatewayRules(o, ns, 'greeter')).find((x) => 'greeter-stable' in x.services);
        return r && r.services['greeter-canary'] === canary ? r : undefined;
      }, 120_000, diag);
    const routeWeights = async () => (await readGRPCRoute(o, ns, 'greeter')).spec.rules[0]!.backendRefs!.map((b) => [b.name, b.weight]);

    const initial = await ruleAt(0);
    // What the LBC builds of a GRPCRoute (pkg/gateway/routeutils/route_rule_condition.go, model_build_target_group.go):
    // the method match as a path pattern, the listener's hostname, target groups with protocol version GRPC.
    expect(initial.listenerPort).toBe(443);
    expect(pathValues(initial)).toEqual([`/${SERVICE}/*`]);
    expect(initial.conditions.find((c) => c.Field === 'host-header')?.HostHeaderConfig?.Values).toEqual([HOST]);
    expect(initial.services).toEqual({ 'greeter-stable': 100, 'greeter-canary': 0 });
    const tgs = (await o.stack.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [...initial.weights.keys()] }))).TargetGroups ?? [];
    expect(tgs.map((t) => t.ProtocolVersion)).toEqual(['GRPC', 'GRPC']);

    const timeline = new Timeline(o, ns, 'greeter', () => gatewayPlaces(o, ns, 'greeter', ['greeter'], 'greeter-stable', 'grpcroutes'), undefined, { intervalMs: 50 });
    timeline.start();
    await o.setImage(ns, 'greeter', 'registry.example.com/demo:2.0.0');
    await o.untilPaused(ns, 'greeter');
    expect(await routeWeights()).toEqual([['greeter-stable', 80], ['greeter-canary', 20]]);
    const at20 = await ruleAt(20);
    expect(at20.services).toEqual({ 'greeter-stable': 80, 'greeter-canary': 20 });
    expect(at20.ruleArn).toBe(initial.ruleArn);

    await o.promote(ns, 'greeter');
    await o.until('step 3 (the second pause)', async () => ((await o.rollout(ns, 'greeter')).status?.currentStepIndex === 3 ? true : undefined), 120_000, diag);
    await o.untilPaused(ns, 'greeter');
    expect(await routeWeights()).toEqual([['greeter-stable', 50], ['greeter-canary', 50]]);
    const at50 = await ruleAt(50);
    expect(at50.services).toEqual({ 'greeter-stable': 50, 'greeter-canary': 50 });
    expect(at50.ruleArn).toBe(initial.ruleArn);

    await o.promote(ns, 'greeter');
    await o.untilHealthy(ns, 'greeter');
    const done = await ruleAt(0);
    expect(done.services).toEqual({ 'greeter-stable': 100, 'greeter-canary': 0 });
    expect(done.ruleArn).toBe(initial.ruleArn);
    expect(await routeWeights()).toEqual([['greeter-stable', 100], ['greeter-canary', 0]]);
    await timeline.check({
      canary: 'greeter-canary',
      seen: [20, 50],
      places: ['route greeter main', `alb :443 host=${HOST} path=/${SERVICE}/*`],
      minSamples: 10,
      minMidRollout: 6,
    });

    // VerifyWeight read the GRPCRoute's ALB rule, and Argo completed each setWeight step only after that.
    const events = await o.events(ns, 'greeter');
    const at = (pred: (e: (typeof events)[number]) => boolean) => events.findIndex(pred);
    for (const [w, step] of [[20, '1/4'], [50, '3/4']] as const) {
      const v = at((e) => e.reason === 'ALBPluginWeightVerified' && e.message === `Weights verified on the Gateway's load balancer: canary ${w}, stable ${100 - w}`);
      const completed = at((e) => e.reason === 'RolloutStepCompleted' && e.message.startsWith(`Rollout step ${step} completed (setWeight: ${w})`));
      expect(v, JSON.stringify(events)).toBeGreaterThanOrEqual(0);
      expect(v, JSON.stringify(events)).toBeLessThan(completed);
    }
    const ours = events.filter((e) => e.source === 'rollouts-plugin-trafficrouter-alb' && e.type === 'Warning');
    expect(ours.map((e) => e.reason).filter((r) => r !== 'ALBPluginWeightUnverified'), JSON.stringify(events)).toEqual([]);
  });

  it('a setHeaderRoute step on a GRPCRoute: the header rule (same method match) is ahead of the catch-all on the ALB; abort removes it, weights back on stable', async () => {
    const o = obs();
    const ns = await o.namespace('gw-grpc-header');
    const diag = async () => `${await diagnoseGateway(o, ns, 'greeter')}\n${await o.diagnose(ns, 'greeter')}`;
    const cert = await acmCertificate(o.stack.moto.endpoint, HOST);
    await o.stack.apply(yamlDocs(gatewayClass('alb-plugin')));
    await o.stack.apply(
      yamlDocs(
        services(['greeter-stable', 'greeter-canary'], 'greeter'),
        httpsGateway('greeter', { className: 'alb-plugin', certificateArn: cert, hostname: HOST }),
        grpcRoute('greeter', { gateway: 'greeter', sectionName: 'https' }, [
          { name: 'main', method: { service: SERVICE }, backends: [{ service: 'greeter-stable', weight: 100 }, { service: 'greeter-canary', weight: 0 }] },
        ]),
        rollout('greeter', 'greeter', `
canary:
  stableService: greeter-stable
  canaryService: greeter-canary
  trafficRouting:
    managedRoutes: [{name: beta}]
    plugins:
      ${PLUGIN}:
        grpcRoute: greeter
  steps:
  - setWeight: 10
  - pause: {}
  - setHeaderRoute: {name: beta, match: [{headerName: x-beta, headerValue: {exact: "yes"}}]}
  - pause: {}
`),
      ),
      ns,
    );
    await o.untilHealthy(ns, 'greeter');
    await o.setImage(ns, 'greeter', 'registry.example.com/demo:2.0.0');
    await o.untilPaused(ns, 'greeter');
    const main10 = await o.until('the catch-all at canary 10', async () => {
      const r = (await gatewayRules(o, ns, 'greeter')).find((x) => 'greeter-stable' in x.services);
      return r?.services['greeter-canary'] === 10 ? r : undefined;
    }, 120_000, diag);
    await o.promote(ns, 'greeter');
    const withHeader = await o.until('the header rule on the ALB', async () => {
      const rules = await gatewayRules(o, ns, 'greeter');
      return rules.length === 2 && rules.some((r) => headerCondition(r, 'x-beta')) ? rules : undefined;
    }, 120_000, diag);
    const hdr = withHeader.find((r) => headerCondition(r, 'x-beta'))!;
    expect(headerCondition(hdr, 'x-beta')).toEqual({ values: ['yes'] });
    // The same method match and hostname as the catch-all, plus the header: ahead of it, 100 % canary.
    expect(pathValues(hdr)).toEqual([`/${SERVICE}/*`]);
    expect(hdr.conditions.find((c) => c.Field === 'host-header')?.HostHeaderConfig?.Values).toEqual([HOST]);
    expect(hdr.services).toEqual({ 'greeter-canary': 100 });
    expect(withHeader[0]!.ruleArn).toBe(hdr.ruleArn);
    expect(withHeader[1]!.ruleArn).toBe(main10.ruleArn);
    expect(withHeader[1]!.services).toEqual({ 'greeter-stable': 90, 'greeter-canary': 10 });
    expect((await readGRPCRoute(o, ns, 'greeter')).spec.rules.map((r) => r.name)).toEqual(['main', 'argo-greeter-beta']);

    await o.untilPaused(ns, 'greeter');
    await o.abort(ns, 'greeter');
    const after = await o.until('the ALB back on stable without the header rule', async () => {
      const rules = await gatewayRules(o, ns, 'greeter');
      return rules.length === 1 && rules[0]!.services['greeter-canary'] === 0 ? rules : undefined;
    }, 120_000, diag);
    expect(after[0]!.services).toEqual({ 'greeter-stable': 100, 'greeter-canary': 0 });
    const cleaned = await readGRPCRoute(o, ns, 'greeter');
    expect(cleaned.spec.rules.map((r) => r.name)).toEqual(['main']);
    expect((cleaned.metadata as { annotations?: Record<string, string> }).annotations?.[OWNED]).toBeUndefined();
  });
});
