// The conditions the LBC builds for a route rule (route_rule_condition.go, route_rule_precedence.go and the
// listener hostname check of listener_attachment_helper.go in LBC v3.6.2), as signatures compared with DescribeRules
// output.
import type { Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { expectedSignatures, ruleSignature } from '../../../src/modes/gateway/alb-rules.js';
import { effectiveHostnames } from '../../../src/modes/gateway/verify/hostnames.js';

const rule = (...Conditions: NonNullable<Rule['Conditions']>): Rule => ({ Conditions });
const path = (...Values: string[]) => ({ Field: 'path-pattern', PathPatternConfig: { Values } });

describe('expectedSignatures equal the signature of the ALB rule the LBC builds', () => {
  it.each([
    ['PathPrefix /', { matches: [{ path: { type: 'PathPrefix', value: '/' } }] }, [], [rule(path('/*'))]],
    ['PathPrefix /api', { matches: [{ path: { type: 'PathPrefix', value: '/api' } }] }, [], [rule(path('/api', '/api/*'))]],
    ['PathPrefix /api/ (one trailing slash trimmed)', { matches: [{ path: { type: 'PathPrefix', value: '/api/' } }] }, [], [rule(path('/api', '/api/*'))]],
    ['Exact', { matches: [{ path: { type: 'Exact', value: '/x' } }] }, [], [rule(path('/x'))]],
    ['no matches: the CRD default PathPrefix /', {}, [], [rule(path('/*'))]],
    ['a header, its value split on unescaped commas, the name in any case',
      { matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ name: 'X-Beta', value: 'a\\,b,c' }] }] }, [],
      [rule(path('/*'), { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'x-beta', Values: ['c', 'a,b'] } })]],
    ['a method', { matches: [{ path: { type: 'PathPrefix', value: '/' }, method: 'POST' }] }, [],
      [rule(path('/*'), { Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['POST'] } })]],
    ['query parameters: one query-string condition each (buildHttpQueryParamCondition)',
      { matches: [{ path: { type: 'PathPrefix', value: '/' }, queryParams: [{ type: 'Exact', name: 'v', value: '2' }, { type: 'Exact', name: 'beta', value: 'on' }] }] }, [],
      [rule(path('/*'), { Field: 'query-string', QueryStringConfig: { Values: [{ Key: 'beta', Value: 'on' }] } }, { Field: 'query-string', QueryStringConfig: { Values: [{ Key: 'v', Value: '2' }] } })]],
    ['one rule per match × hostname', { matches: [{ path: { type: 'PathPrefix', value: '/a' } }, { path: { type: 'Exact', value: '/b' } }] }, ['x.io', 'Y.io'],
      [
        rule({ Field: 'host-header', HostHeaderConfig: { Values: ['x.io'] } }, path('/a', '/a/*')),
        rule({ Field: 'host-header', HostHeaderConfig: { Values: ['y.io'] } }, path('/a', '/a/*')),
        rule({ Field: 'host-header', HostHeaderConfig: { Values: ['x.io'] } }, path('/b')),
        rule({ Field: 'host-header', HostHeaderConfig: { Values: ['y.io'] } }, path('/b')),
      ]],
  ] as const)('%s', (_label, routeRule, hosts, albRules) => {
    expect(expectedSignatures(routeRule as never, hosts)).toEqual(albRules.map((r) => ruleSignature(r as Rule)));
  });

  it('a stable-only rule with the same path and a query match is not the driven rule (issue #21)', () => {
    const driven = expectedSignatures({ matches: [{ path: { type: 'PathPrefix', value: '/' } }] }, []);
    const withQuery = ruleSignature(rule(path('/*'), { Field: 'query-string', QueryStringConfig: { Values: [{ Key: 'legacy', Value: '1' }] } }));
    expect(driven).not.toContain(withQuery);
  });

  it('a header rule is not its catch-all', () => {
    const catchAll = expectedSignatures({ matches: [{ path: { type: 'PathPrefix', value: '/' } }] }, []);
    expect(catchAll).not.toEqual([ruleSignature(rule(path('/*'), { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'x', Values: ['1'] } }))]);
  });
});

// buildGrpcRuleConditions and buildGrpcMethodCondition of LBC v3.6.2's route_rule_condition.go.
describe('expectedSignatures of a GRPCRoute rule equal the signature of the ALB rule the LBC builds', () => {
  const header = (name: string, ...Values: string[]) => ({ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: name, Values } });
  it.each([
    ['no matches: every service and method, /*', {}, [], [rule(path('/*'))]],
    ['a match without method: /*', { matches: [{ headers: [{ type: 'Exact', name: 'x-env', value: 'beta' }] }] }, [], [rule(path('/*'), header('x-env', 'beta'))]],
    ['service and method: /<service>/<method>', { matches: [{ method: { type: 'Exact', service: 'helloworld.Greeter', method: 'SayHello' } }] }, [],
      [rule(path('/helloworld.Greeter/SayHello'))]],
    ['service only: /<service>/*', { matches: [{ method: { service: 'helloworld.Greeter' } }] }, [], [rule(path('/helloworld.Greeter/*'))]],
    ['method only: /*/<method>', { matches: [{ method: { method: 'SayHello' } }] }, [], [rule(path('/*/SayHello'))]],
    ['a RegularExpression method is written as it is (ALB wildcards)', { matches: [{ method: { type: 'RegularExpression', service: 'hello.*' } }] }, [],
      [rule(path('/hello.*/*'))]],
    ['a RegularExpression header is read as Exact values (the LBC ignores the type of a GRPC header match)',
      { matches: [{ method: { service: 's' }, headers: [{ type: 'RegularExpression', name: 'X-A', value: 'a\\,b,c' }] }] }, [],
      [rule(path('/s/*'), header('x-a', 'a,b', 'c'))]],
    ['one rule per match × hostname', { matches: [{ method: { service: 'a' } }, { method: { service: 'b' } }] }, ['g.io'],
      [
        rule({ Field: 'host-header', HostHeaderConfig: { Values: ['g.io'] } }, path('/a/*')),
        rule({ Field: 'host-header', HostHeaderConfig: { Values: ['g.io'] } }, path('/b/*')),
      ]],
  ] as const)('%s', (_label, routeRule, hosts, albRules) => {
    expect(expectedSignatures(routeRule as never, hosts, 'GRPCRoute')).toEqual(albRules.map((r) => ruleSignature(r as Rule)));
  });

  it('the same rule read as an HTTPRoute rule has other conditions (the kind decides the rendering)', () => {
    const r = { matches: [{ method: { service: 'helloworld.Greeter' } }] };
    expect(expectedSignatures(r as never, [], 'HTTPRoute')).not.toEqual(expectedSignatures(r as never, [], 'GRPCRoute'));
    expect(expectedSignatures({}, [], 'GRPCRoute')).toEqual(expectedSignatures({}, [], 'HTTPRoute'));
  });
});

describe('effectiveHostnames: the hostnames a route has on one listener', () => {
  it.each([
    [[], undefined, []],
    [['a.io'], undefined, ['a.io']],
    [[], 'shop.io', ['shop.io']],
    [['shop.io', 'other.io'], 'shop.io', ['shop.io']],
    [['*.shop.io'], 'api.shop.io', ['api.shop.io']],
    [['api.shop.io'], '*.shop.io', ['api.shop.io']],
    [['other.io'], '*.shop.io', []],
  ] as const)('route %j on listener %s → %j', (route, listener, want) => {
    expect(effectiveHostnames(route, listener)).toEqual(want);
  });
});
