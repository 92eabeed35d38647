// The verifier's pure parts, exhaustively and without I/O: hostname → LB name, expected weights, rule
// scoping and comparison, the gate, and target evaluation.
import { describe, expect, it } from 'vitest';
import type { Rule, TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import { actionRules, compareRules, forwardTuples } from '../../src/modes/ingress/verify/compare.js';
import { expectedWeights, targetGroupResourceId } from '../../src/modes/ingress/verify/expected.js';
import { stepMoment, VerifyGate } from '../../src/verify/gate.js';
import { isFinalSwitch } from '../../src/verify/guard.js';
import { loadBalancerNameFromHostname, sameLoadBalancerHost } from '../../src/modes/ingress/verify/hostname.js';
import { lbcTargetGroupPrefix, targetGroupNameFromArn } from '../../src/modes/ingress/verify/inventory.js';
import { targetGroupBindingResource } from '../../src/verify/k8s.js';
import { evaluateTargets, expectedTargets, matchServicePort, slicesFromEndpoints } from '../../src/verify/target-health.js';
import { request, rollout } from './fixtures.js';

describe('loadBalancerNameFromHostname', () => {
  it.each([
    ['k8s-game2048-ingress2-399cd4b400-1861204396.us-west-2.elb.amazonaws.com', 'k8s-game2048-ingress2-399cd4b400'],
    ['internal-k8s-default-app-0123456789-42.eu-west-1.elb.amazonaws.com', 'k8s-default-app-0123456789'],
    ['INTERNAL-My-LB-7.us-east-1.elb.amazonaws.com', 'my-lb'],
    ['my-lb-1.cn-north-1.elb.amazonaws.com.cn', 'my-lb'],
    ['verify-weight-test-abc-123.us-west-2.elb.amazonaws.com', 'verify-weight-test-abc'],
    ['nodash.us-west-2.elb.amazonaws.com', undefined],
    ['', undefined],
  ])('%s → %s', (host, name) => {
    expect(loadBalancerNameFromHostname(host)).toBe(name);
  });

  it.each([
    ['My-LB-1.us-west-2.elb.amazonaws.com', 'my-lb-1.us-west-2.elb.amazonaws.com', true],
    ['my-lb-1.us-west-2.elb.amazonaws.com', 'internal-my-lb-1.us-west-2.elb.amazonaws.com', true],
    ['my-lb-1.us-west-2.elb.amazonaws.com.', 'my-lb-1.us-west-2.elb.amazonaws.com', true],
    ['my-lb-2.us-west-2.elb.amazonaws.com', 'my-lb-1.us-west-2.elb.amazonaws.com', false],
    [undefined, 'my-lb-1.us-west-2.elb.amazonaws.com', false],
  ])('sameLoadBalancerHost(%s, %s) = %s', (dns, host, same) => {
    expect(sameLoadBalancerHost(dns, host)).toBe(same);
  });
});

describe('expectedWeights', () => {
  it('§9.2 case 5: resource id', () => {
    expect(targetGroupResourceId('default', 'ingress', 'svc', 80)).toBe('default/ingress-svc:80');
  });

  it('canary, experiments, then stable = max − rest, per Ingress with its own port', () => {
    const req = request({ ingresses: ['a', 'b'], desired: 10, destinations: [{ serviceName: 'ex', weight: 20 }], maxWeight: 200 });
    req.config.ingresses[1]!.servicePort = 8443;
    expect(expectedWeights(req)).toEqual([
      { ingress: 'a', tuples: [
        { role: 'canary', service: 'canary-svc', resourceId: 'default/a-canary-svc:443', weight: 10 },
        { role: 'experiment', service: 'ex', resourceId: 'default/a-ex:443', weight: 20 },
        { role: 'stable', service: 'stable-svc', resourceId: 'default/a-stable-svc:443', weight: 170 },
      ] },
      { ingress: 'b', tuples: [
        { role: 'canary', service: 'canary-svc', resourceId: 'default/b-canary-svc:8443', weight: 10 },
        { role: 'experiment', service: 'ex', resourceId: 'default/b-ex:8443', weight: 20 },
        { role: 'stable', service: 'stable-svc', resourceId: 'default/b-stable-svc:8443', weight: 170 },
      ] },
    ]);
  });
});

const TG = (n: string) => `arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/${n}/0123456789abcdef`;
const ids: Record<string, string> = {
  [TG('canary')]: 'default/ingress-canary-svc:443',
  [TG('stable')]: 'default/ingress-stable-svc:443',
  [TG('ex')]: 'default/ingress-ex:443',
  [TG('foreign')]: 'other/ingress-x:80',
};
const idOf = (arn: string) => ids[arn];
const weighted = (arn: string, tuples: Array<[string, number]>): Rule => ({
  RuleArn: arn,
  Priority: '1',
  Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: tuples.map(([n, w]) => ({ TargetGroupArn: TG(n), Weight: w })) } }],
});

describe('forwardTuples', () => {
  it.each([
    ['ForwardConfig weights', weighted('r', [['canary', 10], ['stable', 90]]), [[TG('canary'), 10], [TG('stable'), 90]]],
    ['single TargetGroupArn = 100 %', { Actions: [{ Type: 'forward', TargetGroupArn: TG('stable') }] }, [[TG('stable'), 100]]],
    ['a lone tuple (real AWS says Weight 1) = 100 %', weighted('r', [['stable', 1]]), [[TG('stable'), 100]]],
    ['ForwardConfig wins over TargetGroupArn', { Actions: [{ Type: 'forward', TargetGroupArn: TG('stable'), ForwardConfig: { TargetGroups: [{ TargetGroupArn: TG('canary'), Weight: 5 }, { TargetGroupArn: TG('stable'), Weight: 95 }] } }] }, [[TG('canary'), 5], [TG('stable'), 95]]],
    ['auth action before the forward', { Actions: [{ Type: 'authenticate-oidc', Order: 1 }, { Type: 'forward', Order: 2, TargetGroupArn: TG('stable') }] }, [[TG('stable'), 100]]],
    ['redirect: not a forward', { Actions: [{ Type: 'redirect' }] }, undefined],
  ] as Array<[string, Rule, Array<[string, number]> | undefined]>)('%s', (_n, rule, out) => {
    const got = forwardTuples(rule, 100);
    expect(got?.map((t) => [t.targetGroupArn, t.weight])).toEqual(out);
  });
});

describe('rule scoping and comparison', () => {
  const exp = expectedWeights(request({ desired: 10 }))[0]!.tuples;

  it('scopes to rules forwarding to stable and another action TG; header routes and plain stable backends are left out', () => {
    const action = weighted('action', [['canary', 10], ['stable', 90]]);
    const header = weighted('header', [['canary', 100]]);
    const plain: Rule = { RuleArn: 'plain', Actions: [{ Type: 'forward', TargetGroupArn: TG('stable') }] };
    const other = weighted('other', [['foreign', 100]]);
    expect(actionRules([header, plain, action, other], exp, idOf, 100).map((r) => r.RuleArn)).toEqual(['action']);
    // Before the LBC has made the canary TG: the stable-only rule is the action.
    expect(actionRules([header, plain, other], exp, idOf, 100).map((r) => r.RuleArn)).toEqual(['plain']);
  });

  it.each([
    ['exact', [['canary', 10], ['stable', 90]], true, []],
    ['canary lags', [['canary', 5], ['stable', 95]], false, ['rule r: canary weight (Service canary-svc) 10 not yet set (current: 5)', 'rule r: stable weight (Service stable-svc) 90 not yet set (current: 95)']],
    ['stable wrong only (Argo would say verified)', [['canary', 10], ['stable', 11]], false, ['rule r: stable weight (Service stable-svc) 90 not yet set (current: 11)']],
    ['canary TG missing entirely', [['stable', 90]], false, ['rule r: canary weight (Service canary-svc) 10 not yet set: no target group tagged default/ingress-canary-svc:443 in the rule', 'rule r: stable weight (Service stable-svc) 90 not yet set (current: 100)']],
    ['a foreign TG with weight', [['canary', 10], ['stable', 90], ['foreign', 5]], false, [`rule r forwards weight 5 to target group ${TG('foreign')}, which is not part of this action`]],
    ['a foreign TG at weight 0 is harmless', [['canary', 10], ['stable', 90], ['foreign', 0]], true, []],
  ] as Array<[string, Array<[string, number]>, boolean, string[]]>)('%s', (_n, tuples, verified, reasons) => {
    const v = compareRules([weighted('r', tuples)], exp, idOf, 100);
    expect(v.verified).toBe(verified);
    expect(v.reasons).toEqual(reasons);
  });

  it('a canary expected at 0 may be absent (same traffic)', () => {
    const zero = expectedWeights(request({ desired: 0 }))[0]!.tuples;
    const v = compareRules([{ RuleArn: 'r', Actions: [{ Type: 'forward', TargetGroupArn: TG('stable') }] }], zero, idOf, 100);
    expect(v.verified).toBe(true);
  });

  it('every action rule must agree (two listeners)', () => {
    const v = compareRules([weighted('https', [['canary', 10], ['stable', 90]]), weighted('http', [['canary', 0], ['stable', 100]])], exp, idOf, 100);
    expect(v.rules.map((r) => [r.ruleArn, r.verified])).toEqual([['https', true], ['http', false]]);
    expect(v.verified).toBe(false);
  });

  it('no rule at all', () => {
    expect(compareRules([], exp, idOf, 100)).toEqual({
      verified: false, rules: [], reasons: ['no listener rule forwards to the stable target group (tag default/ingress-stable-svc:443)'],
    });
  });
});

describe('gate', () => {
  const steps = [{ setWeight: 10 }, { pause: {} }, { experiment: {} }];
  it.each([
    ['setWeight step', rollout({ steps, stepIndex: 0 }), 10, 'setWeight step'],
    ['pause step', rollout({ steps, stepIndex: 1 }), 10, undefined],
    ['experiment step', rollout({ steps, stepIndex: 2 }), 10, undefined],
    ['end of steps at max weight', rollout({ steps, stepIndex: 3 }), 100, 'end of steps'],
    ['end of steps below max weight', rollout({ steps, stepIndex: 3 }), 50, undefined],
    ['no stable RS yet', rollout({ steps, stepIndex: 0, stableRS: '' }), 10, undefined],
    ['fully promoted', rollout({ steps, stepIndex: 3, stableRS: 'h', currentPodHash: 'h' }), 100, undefined],
  ])('%s → %s', (_n, r, desired, moment) => {
    expect(stepMoment(r, desired, 100)).toBe(moment);
  });

  it('verifies after a change until verified, then remembers; fully promoted on first sight is skipped', () => {
    const gate = new VerifyGate();
    const paused = rollout({ steps, stepIndex: 1, uid: 'g' });
    const first = gate.decide(request({ rollout: paused }));
    expect(first).toMatchObject({ kind: 'verify', moment: 'weight change' });
    gate.record('g', (first as { key: string }).key, 'pending');
    expect(gate.decide(request({ rollout: paused }))).toMatchObject({ kind: 'verify' });
    gate.record('g', (first as { key: string }).key, 'verified');
    expect(gate.decide(request({ rollout: paused }))).toEqual({ kind: 'remembered' });
    expect(gate.decide(request({ rollout: paused, desired: 20 }))).toMatchObject({ kind: 'verify', moment: 'weight change' });

    const promoted = rollout({ steps, stepIndex: 3, stableRS: 'h', currentPodHash: 'h', uid: 'p' });
    expect(gate.decide(request({ rollout: promoted, desired: 0 }))).toEqual({ kind: 'skip' });
    expect(gate.decide(request({ rollout: promoted, desired: 0 }))).toEqual({ kind: 'skip' });
    // ... but a later change of its weights is checked.
    expect(gate.decide(request({ rollout: promoted, desired: 0, destinations: [{ serviceName: 'x', weight: 1 }] }))).toMatchObject({ kind: 'verify' });
  });

  // Issue #12 item 5: a write to the Ingress makes the remembered verdict stale.
  it('a write invalidates the remembered verdict; a verdict reached while a write landed is not remembered', () => {
    const gate = new VerifyGate();
    const atStep = rollout({ steps, stepIndex: 0, uid: 'w' });
    const d = gate.decide(request({ rollout: atStep }));
    expect(d).toMatchObject({ kind: 'verify', moment: 'setWeight step' });
    const key = (d as { key: string }).key;
    gate.record('w', key, 'verified');
    expect(gate.decide(request({ rollout: atStep }))).toEqual({ kind: 'remembered' });
    gate.invalidate('w');
    expect(gate.decide(request({ rollout: atStep }))).toMatchObject({ kind: 'verify', key });

    // A check that started before a write and answered "verified" after it: checked again next time.
    const writes = gate.writesOf('w');
    gate.invalidate('w');
    gate.record('w', key, 'verified', writes);
    expect(gate.decide(request({ rollout: atStep }))).toMatchObject({ kind: 'verify' });
    gate.record('w', key, 'verified', gate.writesOf('w'));
    expect(gate.decide(request({ rollout: atStep }))).toEqual({ kind: 'remembered' });

    // Outside any verify moment (a pause step), a written Rollout is still checked once, even one never seen.
    const paused = rollout({ steps, stepIndex: 1, uid: 'fresh', stableRS: 'h', currentPodHash: 'h' });
    expect(gate.decide(request({ rollout: paused }))).toEqual({ kind: 'skip' });
    gate.invalidate('fresh');
    expect(gate.decide(request({ rollout: paused }))).toMatchObject({ kind: 'verify', moment: 'weight change' });
    gate.invalidate('never-seen');
    expect(gate.decide(request({ rollout: rollout({ steps, stepIndex: 1, uid: 'never-seen', stableRS: 'h', currentPodHash: 'h' }) }))).toMatchObject({ kind: 'verify' });
  });

  it('forgets the oldest Rollouts beyond its bound', () => {
    const gate = new VerifyGate(2);
    for (const uid of ['a', 'b', 'c']) gate.record(uid, 'k', 'verified');
    const r = (uid: string) => request({ rollout: rollout({ uid, steps, stepIndex: 1 }) });
    expect(gate.decide(r('a')).kind).toBe('verify');
  });
});

describe('final switch detection', () => {
  const promoted = (o: Parameters<typeof rollout>[0] = {}) => rollout({ stableRS: 'n', currentPodHash: 'n', canaryWeight: 100, ...o });
  it.each([
    ['promoted, last canary 100, desired 0', request({ rollout: promoted(), desired: 0 }), true],
    ['ping-pong', request({ rollout: promoted(), desired: 0, services: { pingPong: true } }), false],
    ['abort', request({ rollout: promoted({ abort: true }), desired: 0 }), false],
    ['not promoted', request({ rollout: promoted({ stableRS: 'o' }), desired: 0 }), false],
    ['last canary weight below max', request({ rollout: promoted({ canaryWeight: 50 }), desired: 0 }), false],
    ['desired not 0', request({ rollout: promoted(), desired: 100 }), false],
  ])('%s → %s', (_n, req, yes) => {
    expect(isFinalSwitch(req)).toBe(yes);
  });
});

describe('target evaluation', () => {
  const h = (id: string, port: number, state: string): TargetHealthDescription => ({ Target: { Id: id, Port: port }, TargetHealth: { State: state as never } });

  it.each([
    ['all healthy', [h('a', 1, 'healthy'), h('b', 1, 'healthy')], 'healthy', { registered: 2, healthy: 2, verified: true }],
    ['initial does not count as healthy', [h('a', 1, 'healthy'), h('b', 1, 'initial')], 'healthy', { registered: 2, healthy: 1, verified: false }],
    ['registered mode counts initial', [h('a', 1, 'healthy'), h('b', 1, 'initial')], 'registered', { registered: 2, verified: true }],
    ['unused (not registered) never counts', [h('a', 1, 'healthy'), h('b', 1, 'unused')], 'registered', { registered: 1, verified: false }],
    ['wrong port is not the target', [h('a', 1, 'healthy'), h('b', 2, 'healthy')], 'registered', { registered: 1, verified: false }],
    ['extra targets are ignored', [h('a', 1, 'healthy'), h('b', 1, 'healthy'), h('c', 1, 'draining')], 'healthy', { verified: true }],
  ] as Array<[string, TargetHealthDescription[], 'healthy' | 'registered', object]>)('%s', (_n, health, mode, out) => {
    expect(evaluateTargets(new Set(['a:1', 'b:1']), health, mode)).toMatchObject({ expected: 2, ...out });
  });

  it('§9.2 case 3: named target port via the Endpoints port name', () => {
    const slices = slicesFromEndpoints({ subsets: [{ addresses: [{ ip: '1.1.1.1' }], ports: [{ name: 'asdf', port: 1234 }, { name: 'http', port: 4567 }] }] });
    expect([...expectedTargets({ name: 'web', port: 80, targetPort: 'http' }, slices)!]).toEqual(['1.1.1.1:4567']);
  });

  it('an unresolvable named port is reported (undefined), an unnamed single port is used', () => {
    const slices = [{ ports: [{ name: 'x', port: 1 }], endpoints: [{ addresses: ['1.1.1.1'] }] }];
    expect(expectedTargets({ name: 'web', port: 80, targetPort: 'http' }, slices)).toBeUndefined();
    expect([...expectedTargets({ port: 80, targetPort: 'http' }, [{ ports: [{ port: 9 }], endpoints: [{ addresses: ['2.2.2.2'] }] }])!]).toEqual(['2.2.2.2:9']);
  });

  it.each([
    [80, { ports: [{ name: 'foo', port: 80 }] }, 'foo'],
    ['foo', { ports: [{ name: 'foo', port: 80 }] }, 'foo'],
    ['bar', { ports: [{ name: 'foo', port: 80 }] }, undefined],
  ] as Array<[number | string, { ports: Array<{ name: string; port: number }> }, string | undefined]>)('matchServicePort(%s)', (ref, svc, name) => {
    expect(matchServicePort({ name: 's', ...svc }, ref)?.name).toBe(name);
  });

  it('§9.2 case 1: TGB resource from the apiVersion; a malformed one names the fix', () => {
    expect(targetGroupBindingResource('eks.amazonaws.com/v1')).toEqual({ group: 'eks.amazonaws.com', version: 'v1', plural: 'targetgroupbindings' });
    expect(() => targetGroupBindingResource('v1')).toThrow('use elbv2.k8s.aws/v1beta1 or eks.amazonaws.com/v1');
  });
});

describe('LBC naming helpers', () => {
  it('target-group name prefix and ARN parsing', () => {
    expect(lbcTargetGroupPrefix('game-2048', 'service-2048')).toBe('k8s-game2048-service2-');
    expect(targetGroupNameFromArn(TG('k8s-a-b-0123456789'))).toBe('k8s-a-b-0123456789');
    expect(targetGroupNameFromArn('arn:aws:elasticloadbalancing:x:1:loadbalancer/app/n/1')).toBeUndefined();
  });
});
