// Gateway mode beyond one route on one listener, under the real Argo controller, the real LBC (ALBGatewayAPI) and
// moto: two HTTPRoutes driven by one Rollout, and one route attached (no sectionName) to both listeners of a Gateway,
// HTTP:80 without a hostname and HTTPS:443 with one. In each, one ALB rule is held back by the ELBv2 proxy (the LBC's
// ModifyRule on it fails) while Argo asks for a step: the step must not be verified before that rule carries it, and
// the sidecar's own report must name every rule it judged.
import { describe, expect, it, onTestFinished } from 'vitest';
import { rollout, services } from './support/app.js';
import { acmCertificate } from './support/aws.js';
import { diagnoseGateway, gateway, gatewayClass, gatewayPlaces, gatewayRules, httpRoute, readHTTPRoute, yamlDocs, type GatewayRule } from './support/gateway.js';
import { canaryShare, Timeline } from './support/observe.js';
import { sleep } from '../support/processes.js';
import { e2eSkipped, PLUGIN, useStack } from './support/suite.js';

/** The sidecar's report of the Rollout's last check, as GET /api/v1/rollouts/{ns}/{name}/verify serves it. */
type Report = { verified: boolean; reasons: string[]; gateway?: { rules: Array<{ route: string; ruleArn: string | null; actualWeights: Record<string, number> }> } };

/**
 * Holds `held` back: the LBC's ModifyRule on it fails until `release`, for at most `maxMs` or until the Rollout
 * leaves step `step`. Returns the step the Rollout was at when the hold ended and how many calls failed.
 */
async function holdRule(
  o: ReturnType<ReturnType<typeof useStack>['obs']>,
  ns: string,
  name: string,
  held: string,
  whileAt: () => Promise<boolean>,
  maxMs: number,
): Promise<{ left: boolean; faulted: number; ms: number }> {
  const since = Date.now();
  let left = false;
  while (Date.now() - since < maxMs) {
    if (!(await whileAt())) {
      left = true;
      break;
    }
    await sleep(500);
  }
  // A step taken while the rule lagged stays in the timeline's record for 3 s before the rule catches up.
  if (left) await sleep(3000);
  const faulted = o.stack.proxy.faulted(name);
  o.stack.proxy.clearFault(name);
  void held;
  return { left, faulted, ms: Date.now() - since };
}

describe.skipIf(e2eSkipped())('Gateway mode: several routes, several listeners', () => {
  const { obs } = useStack({ gatewayApi: true });

  it('httpRoutes [a, b]: both routes and both ALB rules carry every step; a lagging rule of route b holds the step', async () => {
    const o = obs();
    const { proxy } = o.stack;
    const ns = await o.namespace('gw-two-routes');
    const diag = async () => `${await diagnoseGateway(o, ns, 'shop')}\n${await o.diagnose(ns, 'shop')}`;
    await o.stack.apply(yamlDocs(gatewayClass('alb-plugin')));
    await o.stack.apply(
      yamlDocs(
        services(['shop-stable', 'shop-canary'], 'shop'),
        gateway('shop', { className: 'alb-plugin' }),
        httpRoute('shop-a', { gateway: 'shop', sectionName: 'http' }, [
          { name: 'main', path: { type: 'PathPrefix', value: '/a' }, backends: [{ service: 'shop-stable', weight: 100 }, { service: 'shop-canary', weight: 0 }] },
        ]),
        httpRoute('shop-b', { gateway: 'shop', sectionName: 'http' }, [
          { name: 'main', path: { type: 'PathPrefix', value: '/b' }, backends: [{ service: 'shop-stable', weight: 100 }, { service: 'shop-canary', weight: 0 }] },
        ]),
        rollout('shop', 'shop', `
canary:
  stableService: shop-stable
  canaryService: shop-canary
  trafficRouting:
    plugins:
      ${PLUGIN}:
        httpRoutes: [shop-a, shop-b]
  steps:
  - setWeight: 20
  - pause: {}
  - setWeight: 50
  - pause: {}
`),
      ),
      ns,
    );
    await o.untilHealthy(ns, 'shop');
    const places = () => gatewayPlaces(o, ns, 'shop', ['shop-a', 'shop-b'], 'shop-stable');
    const ruleOf = (rules: GatewayRule[], path: string) => rules.find((r) => r.conditions.some((c) => (c.PathPatternConfig?.Values ?? []).includes(path)) && 'shop-stable' in r.services);
    const initial = await o.until('an ALB rule per route', async () => {
      const rules = await gatewayRules(o, ns, 'shop');
      const a = ruleOf(rules, '/a');
      const b = ruleOf(rules, '/b');
      return a && b ? { a, b } : undefined;
    }, 120_000, diag);
    // Each route has its own target groups (the LBC makes them per route and Service).
    expect(Object.keys(initial.a.services).sort()).toEqual(['shop-canary', 'shop-stable']);
    expect([...initial.a.weights.keys()].sort()).not.toEqual([...initial.b.weights.keys()].sort());

    const timeline = new Timeline(o, ns, 'shop', places, undefined, { intervalMs: 100 });
    timeline.start();
    onTestFinished(() => proxy.clearFault('route b lags'));
    // Route b's ALB rule lags: the LBC cannot modify it until released.
    proxy.failWhen('route b lags', (action, params) => action === 'ModifyRule' && params.get('RuleArn') === initial.b.ruleArn, {
      // A 5xx: the SDK's own retries pace the LBC's attempts (a 4xx would back its queue off for 20 s and more).
      status: 500,
      code: 'InternalFailure',
      message: 'injected: route b lags',
    });
    await o.setImage(ns, 'shop', 'registry.example.com/demo:2.0.0');
    await o.until("route a's ALB rule at 20 %", async () => (canaryShare(ruleOf(await gatewayRules(o, ns, 'shop'), '/a')?.services, 'shop-canary') === 20 ? true : undefined), 120_000, diag);
    const held = await holdRule(o, ns, 'route b lags', initial.b.ruleArn, async () => ((await o.rollout(ns, 'shop')).status?.currentStepIndex ?? 0) < 1, 15_000);
    console.log(`route b held ${held.ms} ms (${held.faulted} ModifyRule calls failed); the Rollout left step 0 while it lagged: ${held.left}`);
    expect(held.faulted, "route b's rule was held back").toBeGreaterThan(0);

    await o.untilPaused(ns, 'shop');
    await o.until('both ALB rules at 20 %', async () => {
      const p = await places();
      return Object.values(p).length === 4 && Object.values(p).every((w) => canaryShare(w, 'shop-canary') === 20) ? true : undefined;
    }, 120_000, diag);
    await o.promote(ns, 'shop');
    await o.until('step 3', async () => ((await o.rollout(ns, 'shop')).status?.currentStepIndex === 3 ? true : undefined), 120_000, diag);
    const report = (await o.sidecarApi(ns, 'shop')) as unknown as Report;
    for (const route of ['shop-a', 'shop-b']) {
      expect((await readHTTPRoute(o, ns, route)).spec.rules[0]!.backendRefs!.map((b) => [b.name, b.weight])).toEqual([['shop-stable', 50], ['shop-canary', 50]]);
    }
    await o.promote(ns, 'shop');
    await o.untilHealthy(ns, 'shop');
    await o.until('both ALB rules back at 0 %', async () => {
      const p = await places();
      return Object.values(p).length === 4 && Object.values(p).every((w) => canaryShare(w, 'shop-canary') === 0) ? true : undefined;
    }, 120_000, diag);
    await timeline.check({
      canary: 'shop-canary',
      seen: [20, 50],
      places: ['route shop-a main', 'route shop-b main', 'alb :80 path=/a,/a/*', 'alb :80 path=/b,/b/*'],
      minSamples: 20,
      minMidRollout: 10,
    });
    // The sidecar judged both routes' rules at 50 %.
    expect(report.verified, JSON.stringify(report)).toBe(true);
    expect(new Set((report.gateway?.rules ?? []).map((r) => r.ruleArn)), JSON.stringify(report)).toEqual(new Set([initial.a.ruleArn, initial.b.ruleArn]));
  });

  it('one route on both listeners (HTTP:80 without hostname, HTTPS:443 with one), no sectionName: both listeners\' rules are verified', async () => {
    const o = obs();
    const { proxy } = o.stack;
    const ns = await o.namespace('gw-listeners');
    const diag = async () => `${await diagnoseGateway(o, ns, 'web')}\n${await o.diagnose(ns, 'web')}`;
    const cert = await acmCertificate(o.stack.moto.endpoint, 'web.example.com');
    await o.stack.apply(yamlDocs(gatewayClass('alb-plugin')));
    await o.stack.apply(
      yamlDocs(
        services(['web-stable', 'web-canary'], 'web'),
        `
apiVersion: gateway.k8s.aws/v1
kind: TargetGroupConfiguration
metadata: {name: web-ip-targets}
spec:
  defaultConfiguration: {targetType: ip}
---
apiVersion: gateway.k8s.aws/v1
kind: LoadBalancerConfiguration
metadata: {name: web}
spec:
  scheme: internet-facing
  defaultTargetGroupConfiguration: {name: web-ip-targets}
  listenerConfigurations:
  - {protocolPort: "HTTPS:443", defaultCertificate: "${cert}"}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web}
spec:
  gatewayClassName: alb-plugin
  infrastructure:
    parametersRef: {group: gateway.k8s.aws, kind: LoadBalancerConfiguration, name: web}
  listeners:
  - {name: http, protocol: HTTP, port: 80, allowedRoutes: {namespaces: {from: Same}}}
  - {name: https, protocol: HTTPS, port: 443, hostname: web.example.com, allowedRoutes: {namespaces: {from: Same}}}
`,
        httpRoute('web', { gateway: 'web' }, [
          { name: 'main', backends: [{ service: 'web-stable', weight: 100 }, { service: 'web-canary', weight: 0 }] },
        ]),
        rollout('web', 'web', `
canary:
  stableService: web-stable
  canaryService: web-canary
  trafficRouting:
    plugins:
      ${PLUGIN}:
        httpRoute: web
  steps:
  - setWeight: 20
  - pause: {}
  - setWeight: 50
  - pause: {}
`),
      ),
      ns,
    );
    await o.untilHealthy(ns, 'web');
    const places = () => gatewayPlaces(o, ns, 'web', ['web'], 'web-stable');
    const initial = await o.until('the route\'s rule on both listeners', async () => {
      const rules = (await gatewayRules(o, ns, 'web')).filter((r) => 'web-stable' in r.services);
      const http = rules.find((r) => r.listenerPort === 80);
      const https = rules.find((r) => r.listenerPort === 443);
      return http && https ? { http, https } : undefined;
    }, 180_000, diag);
    // As the LBC builds them: no host condition on :80, the listener's hostname on :443.
    expect(initial.http.conditions.some((c) => c.Field === 'host-header')).toBe(false);
    expect(initial.https.conditions.find((c) => c.Field === 'host-header')?.HostHeaderConfig?.Values).toEqual(['web.example.com']);

    const timeline = new Timeline(o, ns, 'web', places, undefined, { intervalMs: 100 });
    timeline.start();
    onTestFinished(() => proxy.clearFault('http lags'));
    // The :80 rule lags: the LBC cannot modify it until released.
    proxy.failWhen('http lags', (action, params) => action === 'ModifyRule' && params.get('RuleArn') === initial.http.ruleArn, {
      // A 4xx the SDK does not retry: the LBC's reconcile fails at once and is queued again (in a random listener order).
      status: 400,
      code: 'ValidationError',
      message: 'injected: the :80 rule lags',
    });
    await o.setImage(ns, 'web', 'registry.example.com/web:2');
    await o.until('the :443 rule at 20 %', async () => {
      const r = (await gatewayRules(o, ns, 'web')).find((x) => x.ruleArn === initial.https.ruleArn);
      return canaryShare(r?.services, 'web-canary') === 20 ? true : undefined;
    }, 120_000, diag);
    const held = await holdRule(o, ns, 'http lags', initial.http.ruleArn, async () => ((await o.rollout(ns, 'web')).status?.currentStepIndex ?? 0) < 1, 15_000);
    console.log(`:80 rule held ${held.ms} ms (${held.faulted} ModifyRule calls failed); the Rollout left step 0 while it lagged: ${held.left}`);
    expect(held.faulted, 'the :80 rule was held back').toBeGreaterThan(0);

    await o.untilPaused(ns, 'web');
    await o.promote(ns, 'web');
    await o.until('step 3', async () => ((await o.rollout(ns, 'web')).status?.currentStepIndex === 3 ? true : undefined), 120_000, diag);
    const report = (await o.sidecarApi(ns, 'web')) as unknown as Report;
    await o.promote(ns, 'web');
    await o.untilHealthy(ns, 'web');
    await o.until('both listeners back at 0 %', async () => {
      const p = await places();
      return Object.keys(p).length === 3 && Object.values(p).every((w) => canaryShare(w, 'web-canary') === 0) ? true : undefined;
    }, 120_000, diag);
    await timeline.check({
      canary: 'web-canary',
      seen: [20, 50],
      places: ['route web main', 'alb :80 path=/*', 'alb :443 host=web.example.com path=/*'],
      minSamples: 20,
      minMidRollout: 10,
    });
    // The sidecar's report at 50 % judged the route's rule on both listeners.
    expect(new Set((report.gateway?.rules ?? []).map((r) => r.ruleArn)), JSON.stringify(report)).toEqual(new Set([initial.http.ruleArn, initial.https.ruleArn]));
  });
});
