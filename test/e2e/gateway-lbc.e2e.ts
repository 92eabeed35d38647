// Gateway API on the real AWS Load Balancer Controller against moto, with no plugin and no Rollout involved: what
// the LBC's ALBGatewayAPI feature makes of an HTTPRoute with weighted backendRefs, and how fast a change of the
// weights in the HTTPRoute reaches the ALB. The ground the plugin's gateway mode (issue 15) stands on; the facts
// with references into the LBC source are in docs/gateway-api-facts.md.
import { describe, expect, it } from 'vitest';
import { services } from './support/app.js';
import { registeredTargets } from './support/aws.js';
import {
  ALB_GATEWAY_CONTROLLER,
  appPods,
  diagnoseGateway,
  gateway,
  gatewayClass,
  gatewayHostname,
  gatewayRules,
  headerCondition,
  httpRoute,
  loadBalancerByDnsName,
  patchBackendWeights,
  patchHTTPRoute,
  pathValues,
  programmedArn,
  readGateway,
  readHTTPRoute,
  resourceTags,
  targetGroupResourceId,
  type GatewayRule,
  yamlDocs,
} from './support/gateway.js';
import { KWOK_NODE } from './support/stack.js';
import { e2eSkipped, useStack } from './support/suite.js';

/** Milliseconds from `since` until `read` answers, polling every 250 ms. */
async function timeUntil<T>(o: { until<U>(what: string, read: () => Promise<U | undefined>, timeoutMs?: number, onTimeout?: () => Promise<string>): Promise<U> }, what: string, since: number, read: () => Promise<T | undefined>, onTimeout: () => Promise<string>): Promise<{ value: T; ms: number }> {
  const value = await o.until(what, read, 120_000, onTimeout);
  return { value, ms: Date.now() - since };
}

describe.skipIf(e2eSkipped())('Gateway API on the real LBC (ALBGatewayAPI), no plugin', () => {
  const { obs } = useStack({ gatewayApi: true });
  /** What the first test leaves for the second: the namespace with Gateway and HTTPRoute `shop`, the catch-all's rule ARN. */
  let shared: { ns: string; mainArn: string } | undefined;

  it('backendRefs weights 80/20 become the forward weights of the route rule\'s ALB rule, and weight patches follow', async () => {
    const o = obs();
    const ns = await o.namespace('gw');
    const diag = () => diagnoseGateway(o, ns, 'shop');
    const timings: Record<string, number> = {};

    await o.stack.apply(yamlDocs(gatewayClass('alb')));
    const t0 = Date.now();
    // Rule order in the route is deliberately not precedence order: the LBC sorts by specificity.
    await o.stack.apply(
      yamlDocs(
        services(['shop-stable', 'shop-canary'], 'shop'),
        appPods('shop', KWOK_NODE),
        gateway('shop', { className: 'alb' }),
        httpRoute('shop', { gateway: 'shop', sectionName: 'http' }, [
          { name: 'main', backends: [{ service: 'shop-stable', weight: 80 }, { service: 'shop-canary', weight: 20 }] },
          { name: 'beta', headers: [{ name: 'X-Beta', value: 'yes' }], backends: [{ service: 'shop-canary' }] },
          { name: 'api', path: { type: 'PathPrefix', value: '/api' }, backends: [{ service: 'shop-stable' }] },
        ]),
      ),
      ns,
    );

    // Gateway.status.addresses carries the ALB's DNS name; the Programmed condition's message its ARN.
    const host = await gatewayHostname(o, ns, 'shop');
    timings.gatewayAddress = Date.now() - t0;
    const lbArn = await loadBalancerByDnsName(o.stack.elbv2, host);
    expect(lbArn, `a load balancer named ${host} in moto`).toBeDefined();
    const programmed = await o.until('Gateway Programmed=True', async () => programmedArn(await readGateway(o, ns, 'shop')), 60_000, diag);
    expect(programmed).toBe(lbArn);

    const byName = (rules: GatewayRule[]) => ({
      api: rules.find((r) => pathValues(r).includes('/api')),
      beta: rules.find((r) => headerCondition(r, 'X-Beta') !== undefined),
      main: rules.find((r) => pathValues(r).join() === '/*' && headerCondition(r, 'X-Beta') === undefined),
    });
    const first = await timeUntil(o, 'the three rules of the route on the ALB', t0, async () => {
      const rules = await gatewayRules(o, ns, 'shop');
      const r = byName(rules);
      return rules.length === 3 && r.main?.services['shop-canary'] === 20 ? { rules, ...r } : undefined;
    }, diag);
    timings.rulesAfterCreate = first.ms;
    const { api, beta, main, rules } = first.value;

    // Weights per Service as written in backendRefs; an omitted weight is 1.
    expect(main!.services).toEqual({ 'shop-stable': 80, 'shop-canary': 20 });
    expect(beta!.services).toEqual({ 'shop-canary': 1 });
    expect(api!.services).toEqual({ 'shop-stable': 1 });
    // Priorities 1..n on the listener in precedence order: longer path first, then more header matches.
    expect(rules.map((r) => r.priority)).toEqual(['1', '2', '3']);
    expect([api!.priority, beta!.priority, main!.priority]).toEqual(['1', '2', '3']);
    // PathPrefix /api → ["/api", "/api/*"]; PathPrefix / → ["/*"]; an Exact header value is passed as is.
    expect(pathValues(api!)).toEqual(['/api', '/api/*']);
    expect(headerCondition(beta!, 'X-Beta')).toEqual({ values: ['yes'] });
    expect(pathValues(beta!)).toEqual(['/*']);
    // One target group per (route, Service, port), shared by every rule of the route that names the Service.
    const tgServices = await o.targetGroupServices(ns);
    const stableTg = [...tgServices].find(([, svc]) => svc === 'shop-stable')![0];
    expect(api!.weights.has(stableTg) && main!.weights.has(stableTg)).toBe(true);

    // Rule tags name the Gateway and the priority, never the route or the rule; target-group tags name the route.
    const ruleTags = await resourceTags(o, rules.map((r) => r.ruleArn));
    for (const r of rules) {
      expect(ruleTags.get(r.ruleArn)).toEqual({
        'elbv2.k8s.aws/cluster': 'e2e',
        'gateway.k8s.aws.alb/stack': `${ns}/shop`,
        'gateway.k8s.aws.alb/resource': `80:${r.priority}`,
      });
    }
    const tgTags = await resourceTags(o, [...main!.weights.keys()]);
    for (const [arn, tags] of tgTags) {
      const svc = tgServices.get(arn)!;
      expect(tags['gateway.k8s.aws.alb/resource']).toBe(targetGroupResourceId(ns, 'shop', ns, 'shop', ns, svc, 8080));
      expect(tags['gateway.k8s.aws.alb/stack']).toBe(`${ns}/shop`);
    }

    // The route's status: accepted by the ALB controller, references resolved.
    const route = await readHTTPRoute(o, ns, 'shop');
    const parent = route.status?.parents?.[0];
    expect(parent?.controllerName).toBe(ALB_GATEWAY_CONTROLLER);
    expect(Object.fromEntries((parent?.conditions ?? []).map((c) => [c.type, c.status]))).toEqual({ Accepted: 'True', ResolvedRefs: 'True' });

    // The TargetGroupBindings the LBC made register the pods (IP targets).
    const podIps = await o.podIPs(ns, 'app=shop');
    await o.until('the stable target group to hold the pods', async () => {
      const ips = (await registeredTargets(o.stack.elbv2, stableTg)).map((t) => t.ip).sort();
      return JSON.stringify(ips) === JSON.stringify(podIps) ? true : undefined;
    }, 120_000, diag);

    // Weight changes in the HTTPRoute, each a JSON patch of weight fields only, followed on the ALB by an in-place
    // ModifyRule: same rule ARN, same priority.
    for (const [stable, canary] of [[50, 50], [0, 100], [100, 0], [80, 20]] as const) {
      const t = Date.now();
      await patchBackendWeights(o, ns, 'shop', 0, { 'shop-stable': stable, 'shop-canary': canary });
      const seen = await timeUntil(o, `the ALB rule at ${stable}/${canary}`, t, async () => {
        const r = byName(await gatewayRules(o, ns, 'shop')).main;
        return r && r.services['shop-stable'] === stable && r.services['shop-canary'] === canary ? r : undefined;
      }, diag);
      timings[`patch${stable}/${canary}`] = seen.ms;
      // A zero weight keeps its target group in the forward action.
      expect(seen.value.services).toEqual({ 'shop-stable': stable, 'shop-canary': canary });
      expect(seen.value.ruleArn).toBe(main!.ruleArn);
      expect(seen.value.priority).toBe(main!.priority);
    }

    // Optimistic concurrency of the weight patch: a route read before someone else's change is refused.
    const stale = await readHTTPRoute(o, ns, 'shop');
    await patchBackendWeights(o, ns, 'shop', 0, { 'shop-stable': 70, 'shop-canary': 30 });
    const refused = await patchBackendWeights(o, ns, 'shop', 0, { 'shop-stable': 10, 'shop-canary': 90 }, stale).then(
      () => undefined,
      (err: unknown) => (err as { code?: number }).code,
    );
    expect(refused).toBe(422);
    expect((await readHTTPRoute(o, ns, 'shop')).spec.rules[0]!.backendRefs!.map((b) => b.weight)).toEqual([70, 30]);
    await o.until('the ALB rule at 70/30', async () => {
      const r = byName(await gatewayRules(o, ns, 'shop')).main;
      return r?.services['shop-stable'] === 70 && r.ruleArn === main!.ruleArn ? true : undefined;
    }, 120_000, diag);

    console.log(`gateway-lbc timings (ms): ${JSON.stringify(timings)}`);
    shared = { ns, mainArn: main!.ruleArn };
  });

  it('a header route as one more rule of the HTTPRoute wins over the catch-all, and goes again without moving the catch-all\'s rule ARN', async () => {
    const o = obs();
    expect(shared, 'the first test set up the Gateway').toBeDefined();
    const { ns, mainArn } = shared!;
    const diag = () => diagnoseGateway(o, ns, 'shop');
    const timings: Record<string, number> = {};
    // A header route as the gateway mode would add it: one more rule in the same HTTPRoute, the catch-all's match
    // plus a header match (a prefix as an ALB wildcard value), appended at the end of spec.rules. It wins over the
    // catch-all by its header count; the catch-all's ALB rule keeps its ARN and moves down one priority (SetRulePriorities).
    const route0 = await readHTTPRoute(o, ns, 'shop');
    let t = Date.now();
    await patchHTTPRoute(o, ns, 'shop', [
      { op: 'test', path: '/metadata/resourceVersion', value: route0.metadata.resourceVersion },
      { op: 'add', path: '/spec/rules/-', value: {
        name: 'rollout-shop-header-canary',
        matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'X-Canary', value: 'on*' }] }],
        backendRefs: [{ name: 'shop-canary', port: 80, weight: 1 }],
      } },
    ]);
    const withHeader = await timeUntil(o, 'the header-route rule on the ALB', t, async () => {
      const rules = await gatewayRules(o, ns, 'shop');
      return rules.length === 4 ? rules : undefined;
    }, diag);
    timings.headerRuleAdded = withHeader.ms;
    console.log(`gateway-lbc header rule on the ALB after ${withHeader.ms} ms`);
    const hdr = withHeader.value.find((r) => headerCondition(r, 'X-Canary') !== undefined)!;
    expect(headerCondition(hdr, 'X-Canary')).toEqual({ values: ['on*'] });
    expect(hdr.services).toEqual({ 'shop-canary': 1 });
    // Equal specificity with the earlier header rule: the rule index breaks the tie.
    expect(withHeader.value.map((r) => [r.priority, pathValues(r).join(), headerCondition(r, 'X-Beta') ? 'beta' : headerCondition(r, 'X-Canary') ? 'canary' : '']))
      .toEqual([['1', '/api,/api/*', ''], ['2', '/*', 'beta'], ['3', '/*', 'canary'], ['4', '/*', '']]);
    const mainMoved = withHeader.value.at(-1)!;
    expect(mainMoved.ruleArn).toBe(mainArn);
    expect(mainMoved.services).toEqual({ 'shop-stable': 70, 'shop-canary': 30 });
    expect((await resourceTags(o, [mainMoved.ruleArn])).get(mainMoved.ruleArn)!['gateway.k8s.aws.alb/resource']).toBe('80:4');

    // Removed again (guarded by its name): the header rule is deleted, the catch-all moves back up.
    t = Date.now();
    await patchHTTPRoute(o, ns, 'shop', [
      { op: 'test', path: '/spec/rules/3/name', value: 'rollout-shop-header-canary' },
      { op: 'remove', path: '/spec/rules/3' },
    ]);
    const without = await timeUntil(o, 'the header-route rule gone', t, async () => {
      const rules = await gatewayRules(o, ns, 'shop');
      return rules.length === 3 ? rules : undefined;
    }, diag);
    timings.headerRuleRemoved = without.ms;
    expect(without.value.at(-1)!.ruleArn).toBe(mainArn);
    expect(without.value.at(-1)!.priority).toBe('3');

    console.log(`gateway-lbc header-route timings (ms): ${JSON.stringify(timings)}`);
  });

  it('one write that changes the weights and adds a header rule: the LBC turns the catch-all\'s ALB rule into the header rule and creates the catch-all anew', async () => {
    // The synthesizer pairs rules first by settings (actions, conditions), then by priority, and modifies a pair
    // in place. With the weights changed in the same reconcile, the catch-all no longer matches its ALB rule by
    // settings; the new header rule takes the catch-all's priority and so its rule (ModifyRule), and the
    // catch-all is created at the next priority. A cached rule ARN can therefore come to mean another rule.
    // A Gateway of its own, so the test does not depend on the first Gateway's state.
    const o = obs();
    expect(shared, 'the first test set up the namespace').toBeDefined();
    const { ns } = shared!;
    const diag = () => diagnoseGateway(o, ns, 'combo');
    await o.stack.apply(
      yamlDocs(
        gateway('combo', { className: 'alb' }),
        httpRoute('combo', { gateway: 'combo', sectionName: 'http' }, [
          { name: 'main', backends: [{ service: 'shop-stable', weight: 90 }, { service: 'shop-canary', weight: 10 }] },
        ]),
      ),
      ns,
    );
    const before = await o.until('the combo rule at 90/10', async () => {
      const rules = await gatewayRules(o, ns, 'combo');
      return rules.length === 1 && rules[0]!.services['shop-canary'] === 10 ? rules[0] : undefined;
    }, 120_000, diag);

    const route = await readHTTPRoute(o, ns, 'combo');
    await patchHTTPRoute(o, ns, 'combo', [
      { op: 'test', path: '/metadata/resourceVersion', value: route.metadata.resourceVersion },
      { op: 'replace', path: '/spec/rules/0/backendRefs/0/weight', value: 60 },
      { op: 'replace', path: '/spec/rules/0/backendRefs/1/weight', value: 40 },
      { op: 'add', path: '/spec/rules/-', value: {
        name: 'rollout-combo-header-canary',
        matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'X-Canary', value: 'yes' }] }],
        backendRefs: [{ name: 'shop-canary', port: 80, weight: 1 }],
      } },
    ]);
    const after = await o.until('the header rule and the catch-all at 60/40', async () => {
      const rules = await gatewayRules(o, ns, 'combo');
      return rules.length === 2 && rules[1]!.services['shop-canary'] === 40 ? rules : undefined;
    }, 120_000, diag);
    const [hdr, main] = after;
    expect(headerCondition(hdr!, 'X-Canary')).toEqual({ values: ['yes'] });
    expect(hdr!.services).toEqual({ 'shop-canary': 1 });
    expect(hdr!.ruleArn).toBe(before.ruleArn);
    expect(main!.ruleArn).not.toBe(before.ruleArn);
    expect([hdr!.priority, main!.priority]).toEqual(['1', '2']);
  });
});
