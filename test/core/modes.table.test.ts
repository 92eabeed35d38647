// One table, every mode: each case is one Rollout and one call (a SetWeight or a SetHeaderRoute), run through
// Ingress mode's planner (the action and conditions annotations it writes), listener-rule mode's writer (the
// forward action and http-header conditions it sends to ELBv2) and Gateway mode's planner (the HTTPRoute after its
// JSON patch: the driven rule's backendRef weights, and the header rule's matches as the LBC splits them into
// ALB condition values). Same input, same refusal text, same weights, same header conditions. Cases marked
// "listener-rule change" are where listener-rule mode used to differ (issue 13): it now refuses what Ingress mode
// refuses, with the same words. The one difference of Gateway mode: stickinessConfig is refused (the LBC takes
// stickiness from a ListenerRuleConfiguration on the route, docs/gateway-api-facts.md §9.4).
import type { Action } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { headerRouteMatches } from '../../src/core/routes.js';
import type { Rollout, SetHeaderRoute, WeightDestination } from '../../src/core/rollout.js';
import { parseGatewayConfig } from '../../src/modes/gateway/config.js';
import { lbcHeaderValues, planHeaderRoute } from '../../src/modes/gateway/route/header-rules.js';
import type { HTTPRoute } from '../../src/modes/gateway/route/model.js';
import { planWeights, ruleWeights } from '../../src/modes/gateway/route/weights.js';
import { desiredWeights } from '../../src/core/weights.js';
import { parseListenerRuleConfig } from '../../src/modes/listener-rule/config.js';
import { currentForward, desiredForward, headerRouteConditions, stepWeights, withForward } from '../../src/modes/listener-rule/forward.js';
import { parseForwardAction } from '../../src/modes/ingress/action.js';
import { actionKey, conditionKey } from '../../src/modes/ingress/keys.js';
import { planSetHeaderRoute, planSetWeight } from '../../src/modes/ingress/plans.js';
import { rolloutContext, weightRequestFrom } from '../../src/modes/ingress/view.js';
import { desiredForwardAction } from '../../src/modes/ingress/weights.js';
import { makeIngress, PLUGIN, PREFIX } from '../modes/ingress/fixtures.js';

const P = `spec.strategy.canary.trafficRouting.plugins["${PLUGIN}"]`;
const RULE = 'arn:aws:elasticloadbalancing:us-west-2:123456789012:listener-rule/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee';
const TG = (service: string) => `arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/${service}/0123456789abcdef`;
const serviceOf = (arn: string) => arn.split('/')[1]!;

/** The Rollout, apart from the mode-specific part of the plugin block. */
interface Spec {
  stable?: string;
  canary?: string;
  pingPong?: { pingService: string; pongService: string };
  stablePingPong?: string;
  maxTrafficWeight?: number;
  stickinessConfig?: unknown;
  managedRoutes?: Array<{ name: string }>;
  steps?: unknown[];
}

type Call = { setWeight: number; experiments?: WeightDestination[] } | { setHeaderRoute: SetHeaderRoute };

type Outcome =
  | { refused: string }
  | { weights: Array<[string, number]>; stickiness: number | null }
  | { conditions: Array<[string, string[]]> };

function rollout(spec: Spec, block: Record<string, unknown>): Rollout {
  const canary: Record<string, unknown> = {
    trafficRouting: {
      plugins: { [PLUGIN]: spec.stickinessConfig !== undefined ? { ...block, stickinessConfig: spec.stickinessConfig } : block },
      ...(spec.managedRoutes ? { managedRoutes: spec.managedRoutes } : {}),
      ...(spec.maxTrafficWeight !== undefined ? { maxTrafficWeight: spec.maxTrafficWeight } : {}),
    },
    ...(spec.steps ? { steps: spec.steps } : {}),
  };
  if (spec.pingPong) canary.pingPong = spec.pingPong;
  else {
    canary.stableService = spec.stable ?? 'stable-svc';
    canary.canaryService = spec.canary ?? 'canary-svc';
  }
  return {
    metadata: { name: 'rollout', namespace: 'default', uid: 'uid-1' },
    spec: { strategy: { canary } },
    status: spec.stablePingPong !== undefined ? { canary: { stablePingPong: spec.stablePingPong } } : {},
  };
}

function outcome(run: () => Outcome): Outcome {
  try {
    return run();
  } catch (err) {
    return { refused: (err as Error).message };
  }
}

/** Ingress mode: the annotations its planner writes on a fresh Ingress (what the router patches). */
function ingressMode(spec: Spec, call: Call): Outcome {
  const block = spec.pingPong ? { ingress: 'ingress', servicePort: 443, rootService: 'root-svc' } : { ingress: 'ingress', servicePort: 443 };
  const r = rollout(spec, block);
  return outcome(() => {
    const ctx = rolloutContext(r, PLUGIN);
    const target = ctx.config.ingresses[0]!;
    const ingress = makeIngress({ actionService: ctx.services.action });
    if ('setWeight' in call) {
      const req = weightRequestFrom(ctx, r, call.setWeight, call.experiments ?? []);
      const edit = planSetWeight(ingress, ctx, desiredForwardAction(req, target));
      const action = parseForwardAction(edit.annotations[actionKey(PREFIX, ctx.services.action)] ?? undefined)!;
      return {
        weights: action.targetGroups.map((t) => [t.serviceName, t.weight]),
        stickiness: action.stickiness?.enabled ? action.stickiness.durationSeconds : null,
      };
    }
    const edit = planSetHeaderRoute(ingress, ctx, target, call.setHeaderRoute);
    const raw = edit.annotations[conditionKey(PREFIX, call.setHeaderRoute.name)];
    const written = raw ? (JSON.parse(raw) as Array<{ httpHeaderConfig: { httpHeaderName: string; values: string[] } }>) : [];
    return { conditions: written.map((c) => [c.httpHeaderConfig.httpHeaderName, c.httpHeaderConfig.values]) };
  });
}

/** Listener-rule mode: the forward action and header-route conditions its writer sends to ELBv2. */
function listenerRuleMode(spec: Spec, call: Call): Outcome {
  const block = spec.pingPong
    ? { listenerRule: { ruleArn: RULE }, pingTargetGroup: { targetGroupBinding: 'ping-tgb' }, pongTargetGroup: { targetGroupBinding: 'pong-tgb' } }
    : { listenerRule: { ruleArn: RULE }, stableTargetGroup: { targetGroupBinding: 'stable-tgb' }, canaryTargetGroup: { targetGroupBinding: 'canary-tgb' } };
  const r = rollout(spec, block);
  return outcome(() => {
    const config = parseListenerRuleConfig(r, PLUGIN);
    if ('setWeight' in call) {
      const experiments = call.experiments ?? [];
      const weights = stepWeights(config, call.setWeight, experiments);
      // The TargetGroupBindings resolve each Service to its own target group.
      const arns = { canary: TG(config.canary.service!), stable: TG(config.stable.service!), experiments: experiments.map((d) => TG(d.serviceName)) };
      const driven: Action[] = [{ Type: 'forward', TargetGroupArn: arns.stable }];
      const forward = withForward(driven, currentForward(driven)!, desiredForward(weights, arns, config.stickiness))[0]!.ForwardConfig!;
      const sticky = forward.TargetGroupStickinessConfig;
      return {
        weights: forward.TargetGroups!.map((t) => [serviceOf(t.TargetGroupArn!), t.Weight!]),
        stickiness: sticky?.Enabled ? sticky.DurationSeconds! : null,
      };
    }
    const conditions = headerRouteConditions(headerRouteMatches(call.setHeaderRoute, config.managedRoutes), []);
    return { conditions: conditions.map((c) => [c.HttpHeaderConfig!.HttpHeaderName!, c.HttpHeaderConfig!.Values!]) };
  });
}

/** Gateway mode: the HTTPRoute its planner leaves (one rule naming stable and canary, as a user writes it). */
function gatewayMode(spec: Spec, call: Call): Outcome {
  const r = rollout(spec, { httpRoute: 'route' });
  return outcome(() => {
    const config = parseGatewayConfig(r, PLUGIN);
    const { stable, canary } = config.services;
    const route: HTTPRoute = {
      metadata: { name: 'route', namespace: 'default', resourceVersion: '7' },
      spec: {
        parentRefs: [{ name: 'gw' }],
        rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: stable, port: 80, weight: 100 }, { name: canary, port: 80, weight: 0 }] }],
      },
    };
    const ref = config.routes[0]!;
    if ('setWeight' in call) {
      const desired = desiredWeights({ desiredWeight: call.setWeight, additionalDestinations: call.experiments ?? [], maxWeight: config.maxWeight, services: config.services });
      const written = ruleWeights(planWeights(route, ref, config, desired).after.spec.rules![0]!);
      // The core's order: canary first, the rest as in the rule (experiments are appended in the call's order), stable last.
      const rank = (svc: string) => (svc === canary ? 0 : svc === stable ? 2 : 1);
      return { weights: [...written].sort((a, b) => rank(a[0]) - rank(b[0])), stickiness: null };
    }
    const after = planHeaderRoute(route, ref, config, call.setHeaderRoute.name, headerRouteMatches(call.setHeaderRoute, config.managedRoutes)).after;
    const added = after.spec.rules!.slice(1);
    return { conditions: added.flatMap((rule) => (rule.matches![0]!.headers ?? []).map((h): [string, string[]] => [h.name, lbcHeaderValues(h.value)])) };
  });
}

/** What Gateway mode answers instead, where it differs on purpose. */
function gatewayWant(spec: Spec, want: Outcome): Outcome {
  if (spec.stickinessConfig === undefined) return want;
  return refused(
    `${P}.stickinessConfig: not supported in Gateway mode: the LBC takes stickiness from a ListenerRuleConfiguration (gateway.k8s.aws) ` +
      "referenced by an ExtensionRef filter on the route's rule; configure it there and remove stickinessConfig",
  );
}

const w = (setWeight: number, experiments?: WeightDestination[]): Call => (experiments ? { setWeight, experiments } : { setWeight });
const exp = (serviceName: string, weight: number): WeightDestination => ({ serviceName, weight });
const route = (name: string, match?: SetHeaderRoute['match']): Call => ({ setHeaderRoute: match === undefined ? { name } : { name, match } });
const weights = (...list: Array<[string, number]>): Outcome => ({ weights: list, stickiness: null });
const refused = (text: string): Outcome => ({ refused: text });
const pingPong = { pingService: 'ping-svc', pongService: 'pong-svc' };
const routes = [{ name: 'beta' }];
const header = (headerName: string, headerValue?: Record<string, string>) => (headerValue ? { headerName, headerValue } : { headerName });

const CASES: Array<[string, Spec, Call, Outcome]> = [
  // Weights: canary first, experiments in order, stable last with what is left.
  ['canary 0', {}, w(0), weights(['canary-svc', 0], ['stable-svc', 100])],
  ['canary 100', {}, w(100), weights(['canary-svc', 100], ['stable-svc', 0])],
  ['canary 10 and two experiments', {}, w(10, [exp('ex-1', 2), exp('ex-2', 3)]), weights(['canary-svc', 10], ['ex-1', 2], ['ex-2', 3], ['stable-svc', 85])],
  ['no setWeight, two templates at 20', {}, w(0, [exp('e1', 20), exp('e2', 20)]), weights(['canary-svc', 0], ['e1', 20], ['e2', 20], ['stable-svc', 60])],
  ['three experiments: five target groups', {}, w(1, [exp('e1', 1), exp('e2', 1), exp('e3', 1)]), weights(['canary-svc', 1], ['e1', 1], ['e2', 1], ['e3', 1], ['stable-svc', 96])],
  ['maxTrafficWeight 999', { maxTrafficWeight: 999 }, w(333), weights(['canary-svc', 333], ['stable-svc', 666])],
  ['maxTrafficWeight 999, all on the canary', { maxTrafficWeight: 999 }, w(999), weights(['canary-svc', 999], ['stable-svc', 0])],
  ['maxTrafficWeight 200, an experiment above 100', { maxTrafficWeight: 200 }, w(0, [exp('e', 150)]), weights(['canary-svc', 0], ['e', 150], ['stable-svc', 50])],
  ['ping-pong before the first promotion: pong is stable', { pingPong }, w(10), weights(['ping-svc', 10], ['pong-svc', 90])],
  ['ping-pong with "ping" stable', { pingPong, stablePingPong: 'ping' }, w(10), weights(['pong-svc', 10], ['ping-svc', 90])],
  ['ping-pong with a Service name in the status (only "ping" counts)', { pingPong, stablePingPong: 'ping-svc' }, w(10), weights(['ping-svc', 10], ['pong-svc', 90])],
  ['stickiness on', { stickinessConfig: { enabled: true, durationSeconds: 300 } }, w(10), { weights: [['canary-svc', 10], ['stable-svc', 90]], stickiness: 300 }],
  ['stickiness off', { stickinessConfig: { enabled: false } }, w(10), weights(['canary-svc', 10], ['stable-svc', 90])],
  ['stickiness of 7 days', { stickinessConfig: { enabled: true, durationSeconds: 604800 } }, w(0), { weights: [['canary-svc', 0], ['stable-svc', 100]], stickiness: 604800 }],

  // Weights an ALB refuses.
  ['canary above maxTrafficWeight', {}, w(101), refused('canary weight 101 is out of range; it must be a whole number from 0 to 100')],
  ['negative canary', {}, w(-1), refused('canary weight -1 is out of range; it must be a whole number from 0 to 100')],
  ['fractional canary', {}, w(2.5), refused('canary weight 2.5 is out of range; it must be a whole number from 0 to 100')],
  ['canary above 999', { maxTrafficWeight: 999 }, w(1000), refused('canary weight 1000 is out of range; it must be a whole number from 0 to 999')],
  ['stable would be negative', {}, w(90, [exp('e', 20)]),
    refused('canary 90 plus experiments 20 exceed the total 100; stable would get -10. Lower the setWeight or experiment weights (or raise maxTrafficWeight)')],
  ['more than 5 target groups', {}, w(0, ['a', 'b', 'c', 'd'].map((s) => exp(s, 1))),
    refused('6 target groups requested (canary, stable and 4 experiment services); ALB forwards to at most 5; use at most 3 weighted experiment templates')],
  ['an experiment without a Service', {}, w(0, [exp('', 1)]), refused('additional destination 0 has no serviceName; each experiment template needs a Service')],
  ['a negative experiment weight', {}, w(0, [exp('e', -1)]), refused('experiment e weight -1 is out of range; it must be a whole number from 0 to 999')],
  ['listener-rule change: experiment weights are capped at 999, not at maxTrafficWeight', { maxTrafficWeight: 999 }, w(0, [exp('e', 1000)]),
    refused('experiment e weight 1000 is out of range; it must be a whole number from 0 to 999')],
  ['listener-rule change: an experiment above maxTrafficWeight is judged by the total', {}, w(0, [exp('e', 150)]),
    refused('canary 0 plus experiments 150 exceed the total 100; stable would get -50. Lower the setWeight or experiment weights (or raise maxTrafficWeight)')],

  // The Rollout's own settings, refused whatever the call.
  ['maxTrafficWeight 1000', { maxTrafficWeight: 1000 }, w(10),
    refused('spec.strategy.canary.trafficRouting.maxTrafficWeight: 1000 is out of range; ALB weights go from 1 to 999')],
  ['maxTrafficWeight 0', { maxTrafficWeight: 0 }, w(0), refused('spec.strategy.canary.trafficRouting.maxTrafficWeight: 0 is out of range; ALB weights go from 1 to 999')],
  ['maxTrafficWeight 2.5', { maxTrafficWeight: 2.5 }, w(0), refused('spec.strategy.canary.trafficRouting.maxTrafficWeight: 2.5 is out of range; ALB weights go from 1 to 999')],
  ['stickiness without a duration', { stickinessConfig: { enabled: true } }, w(10),
    refused(`${P}.stickinessConfig.durationSeconds: TargetGroupStickinessConfig's duration must be between 1 and 604800 seconds (7 days)!`)],
  ['stickiness over 7 days', { stickinessConfig: { enabled: true, durationSeconds: 604801 } }, w(10),
    refused(`${P}.stickinessConfig.durationSeconds: TargetGroupStickinessConfig's duration must be between 1 and 604800 seconds (7 days)!`)],
  ['stickiness not an object', { stickinessConfig: true }, w(10), refused(`${P}.stickinessConfig: true must be {enabled, durationSeconds}`)],
  ['stickiness enabled not a boolean', { stickinessConfig: { enabled: 'yes', durationSeconds: 5 } }, w(10), refused(`${P}.stickinessConfig.enabled: "yes" must be true or false`)],
  ['stickiness with an unknown field', { stickinessConfig: { enabled: true, duration: 5 } }, w(10), refused(`${P}.stickinessConfig.duration: unknown field; use enabled and durationSeconds`)],
  ['stickiness duration not whole', { stickinessConfig: { enabled: true, durationSeconds: 1.5 } }, w(10), refused(`${P}.stickinessConfig.durationSeconds: 1.5 must be a whole number of seconds`)],
  ['the same Service for stable and canary', { stable: 'svc', canary: 'svc' }, w(10),
    refused('spec.strategy.canary.stableService: This rollout uses the same service for the stable and canary services, but two different services are required.')],
  ['ping-pong without a pong Service', { pingPong: { pingService: 'ping-svc', pongService: '' } }, w(10),
    refused('spec.strategy.canary.pingPong.pongService: Ping service and Pong service must to be set to use Ping-Pong feature')],
  ['ping-pong with one Service twice', { pingPong: { pingService: 'p', pongService: 'p' } }, w(10),
    refused('spec.strategy.canary.pingPong.pingService: the ping and pong services are the same; name two different Services')],
  ['a header step without managedRoutes', { steps: [{ setHeaderRoute: { name: 'beta', match: [header('X-Beta', { exact: 'yes' })] } }] }, w(10),
    refused('spec.strategy.canary.trafficRouting.managedRoutes: missing; list the header route "beta" under managedRoutes')],
  ['a header step for a route that is not managed', { managedRoutes: [{ name: 'other' }], steps: [{ setHeaderRoute: { name: 'beta' } }] }, w(10),
    refused('spec.strategy.canary.steps[0].setHeaderRoute: route "beta" is not in spec.strategy.canary.trafficRouting.managedRoutes; add it there')],
  ['a managed route without a name', { managedRoutes: [{ name: '' }] }, w(10), refused('spec.strategy.canary.trafficRouting.managedRoutes[0].name: missing; name the header route')],
  ['listener-rule change: a header step with regex', { managedRoutes: routes, steps: [{ setHeaderRoute: { name: 'beta', match: [header('h', { regex: 'a.*' })] } }] }, w(10),
    refused('spec.strategy.canary.steps[0].setHeaderRoute.match[0].headerValue.regex: regular expressions are not supported by ALB header conditions; use exact (with * and ? wildcards) or prefix')],
  ['listener-rule change: a header step with exact and prefix', { managedRoutes: routes, steps: [{ setHeaderRoute: { name: 'beta', match: [header('h', { exact: 'a', prefix: 'b' })] } }] }, w(10),
    refused('spec.strategy.canary.steps[0].setHeaderRoute.match[0].headerValue: set exactly one of exact or prefix (ALB matches header values with * and ? wildcards)')],
  ['a header step without a header name', { managedRoutes: routes, steps: [{ setHeaderRoute: { name: 'beta', match: [header('', { exact: 'a' })] } }] }, w(10),
    refused('spec.strategy.canary.steps[0].setHeaderRoute.match[0].headerName: missing; name the HTTP header to match')],

  // Header routes: one condition per header name, ALB patterns (prefix as a trailing *).
  ['an exact header', { managedRoutes: routes }, route('beta', [header('X-Beta', { exact: 'yes' })]), { conditions: [['X-Beta', ['yes']]] }],
  ['a prefix as an ALB wildcard', { managedRoutes: routes }, route('beta', [header('User-Agent', { prefix: 'Chrome' })]), { conditions: [['User-Agent', ['Chrome*']]] }],
  ['exact values keep their wildcards', { managedRoutes: routes }, route('beta', [header('X-Team', { exact: 'blue-*' })]), { conditions: [['X-Team', ['blue-*']]] }],
  ['commas and backslashes stay in one value', { managedRoutes: routes }, route('beta', [header('X-List', { exact: 'a,b\\c' })]), { conditions: [['X-List', ['a,b\\c']]] }],
  ['values of one name together, names in order', { managedRoutes: routes },
    route('beta', [header('origin', { exact: 'https://a' }), header('Agent', { prefix: 'Chr' }), header('origin', { exact: 'https://b' })]),
    { conditions: [['origin', ['https://a', 'https://b']], ['Agent', ['Chr*']]] }],
  ['five values, the quota', { managedRoutes: routes }, route('beta', ['a', 'b', 'c', 'd', 'e'].map((v) => header('h', { exact: v }))), { conditions: [['h', ['a', 'b', 'c', 'd', 'e']]] }],
  ['removing a managed route', { managedRoutes: routes }, route('beta'), { conditions: [] }],
  ['listener-rule change: regex', { managedRoutes: routes }, route('beta', [header('h', { regex: '.*' })]),
    refused('setHeaderRoute "beta".match[0].headerValue.regex: regular expressions are not supported by ALB header conditions; use exact (with * and ? wildcards) or prefix')],
  ['listener-rule change: exact and prefix both set', { managedRoutes: routes }, route('beta', [header('h', { exact: 'a', prefix: 'b' })]),
    refused('setHeaderRoute "beta".match[0].headerValue: set exactly one of exact or prefix (ALB matches header values with * and ? wildcards)')],
  ['listener-rule change: six values, over the quota', { managedRoutes: routes }, route('beta', ['a', 'b', 'c'].flatMap((v) => [header('h', { exact: v }), header('g', { prefix: v })])),
    refused('setHeaderRoute "beta".match: 6 header values; an ALB rule takes at most 5 condition values, use wildcards (* ?) to combine them')],
  ['a match without a value', { managedRoutes: routes }, route('beta', [header('h')]),
    refused('setHeaderRoute "beta".match[0].headerValue: StringMatch value missed, match value must have one of the following: exact, regex, prefix')],
  ['a match with an empty value', { managedRoutes: routes }, route('beta', [header('h', { exact: '' })]),
    refused('setHeaderRoute "beta".match[0].headerValue: set exactly one of exact or prefix (ALB matches header values with * and ? wildcards)')],
  ['a match without a header name', { managedRoutes: routes }, route('beta', [header('', { exact: 'x' })]), refused('setHeaderRoute "beta".match[0].headerName: missing; name the HTTP header to match')],
  ['listener-rule change: a route that is not managed', { managedRoutes: routes }, route('other', [header('h', { exact: 'x' })]),
    refused('header route "other" is not listed in spec.strategy.canary.trafficRouting.managedRoutes; add it there so it can be removed again')],
  ['listener-rule change: removing a route that is not managed', {}, route('other'),
    refused('header route "other" is not listed in spec.strategy.canary.trafficRouting.managedRoutes; add it there so it can be removed again')],
];

describe('one table, every mode: same input, same refusal text, same weights', () => {
  it.each(CASES)('%s', (_label, spec, call, want) => {
    expect(ingressMode(spec, call), 'Ingress mode').toEqual(want);
    expect(listenerRuleMode(spec, call), 'listener-rule mode').toEqual(want);
    expect(gatewayMode(spec, call), 'Gateway mode').toEqual(gatewayWant(spec, want));
  });
});
