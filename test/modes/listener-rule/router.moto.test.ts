// Listener-rule mode against a real moto_server, through a counting proxy and the shared ELBv2 wrapper.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AddTagsCommand,
  CreateRuleCommand,
  DeleteRuleCommand,
  ModifyRuleCommand,
  RemoveTagsCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { createElbv2 } from '../../../src/aws/elbv2.js';
import { createListenerRuleRouter, releaseListenerRule, type ListenerRuleRouter, type ListenerRuleRouterDeps } from '../../../src/modes/listener-rule/router.js';
import type { ListenerRuleElbv2 } from '../../../src/modes/listener-rule/locate.js';
import { DRIVEN_TAG_KEY, DRIVEN_TAG_VALUE } from '../../../src/modes/listener-rule/driven-tag.js';
import { DEFAULT_OWNER_TAG_KEY, ROUTE_TAG_KEY } from '../../../src/modes/listener-rule/header-routes.js';
import { RpcVerified } from '../../../src/plugin/router.js';
import { startElbv2Proxy, type Elbv2Proxy } from '../../support/elbv2-proxy.js';
import { elbv2Client, startMoto, type Moto } from '../../support/moto.js';
import {
  bindingReader,
  defaultActions,
  DRIVEN_TAGS,
  HOST,
  keepingTags,
  LB_NAME,
  listenerRules,
  NS,
  PATH,
  PLUGIN,
  rollout,
  ruleByArn,
  seed,
  tagsOf,
  weightsOf,
  type Fixture,
} from './fixtures.js';

let moto: Moto;
let proxy: Elbv2Proxy;
let direct: ElasticLoadBalancingV2Client;
let fx: Fixture;
let router: ListenerRuleRouter;
let deps: ListenerRuleRouterDeps;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startElbv2Proxy(moto.endpoint);
  direct = elbv2Client(moto.endpoint);
});

afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  fx = await seed(moto.endpoint, direct);
  // The shared wrapper (rate limit, retries) over a client that talks to moto through the counting proxy.
  const elbv2: ListenerRuleElbv2 = keepingTags(createElbv2({ client: elbv2Client(proxy.endpoint), rateLimit: 1000, rateBurst: 1000 }));
  deps = { elbv2, ...bindingReader(fx.bindings), pluginName: PLUGIN };
  router = createListenerRuleRouter(deps);
  proxy.resetCounts();
});

const tgbs = { stableTargetGroup: { targetGroupBinding: 'app-stable-tgb' }, canaryTargetGroup: { targetGroupBinding: 'app-canary-tgb' } };

describe('SetWeight / VerifyWeight on a rule', () => {
  const selectors = [
    ['ruleArn', () => ({ ruleArn: fx.drivenRule })],
    ['load balancer name + port + host/path', () => ({ loadBalancerName: LB_NAME, listenerPort: 80, conditions: { host: HOST, path: PATH } })],
    ['load balancer ARN + port + host/path', () => ({ loadBalancerArn: fx.lbArn, listenerPort: 80, conditions: { host: [HOST], path: PATH } })],
  ] as const;

  it.each(selectors)('walks a canary step series on the rule found by %s, verifying each step', async (_label, selector) => {
    const ro = rollout({ block: { listenerRule: selector(), ...tgbs } });
    const neighbourBefore = await ruleByArn(direct, fx.neighbourRule);
    const authBefore = await ruleByArn(direct, fx.authRule);
    const defaultBefore = await defaultActions(direct, fx.httpListener);

    for (const weight of [0, 10, 25, 50, 100, 0]) {
      await router.setWeight(ro, weight, []);
      const rule = await ruleByArn(direct, fx.drivenRule);
      expect(weightsOf(rule.Actions!)).toEqual({ [fx.tg['app-canary']]: weight, [fx.tg['app-stable']]: 100 - weight });
      expect(rule.Conditions).toEqual([
        { Field: 'host-header', HostHeaderConfig: { Values: [HOST] } },
        { Field: 'path-pattern', PathPatternConfig: { Values: [PATH] } },
      ]);
      await expect(router.verifyWeight(ro, weight, [])).resolves.toEqual({ verified: RpcVerified.Verified });
      await expect(router.verifyWeight(ro, weight === 100 ? 99 : weight + 1, [])).resolves.toEqual({ verified: RpcVerified.NotVerified });
    }

    expect(await ruleByArn(direct, fx.neighbourRule)).toEqual(neighbourBefore);
    expect(await ruleByArn(direct, fx.authRule)).toEqual(authBefore);
    expect(await defaultActions(direct, fx.httpListener)).toEqual(defaultBefore);
    expect(proxy.count('CreateRule') + proxy.count('DeleteRule') + proxy.count('ModifyListener')).toBe(0);
  });

  it('adds experiment target groups between canary and stable, and drops them afterwards', async () => {
    const ro = rollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs } });
    await router.setWeight(ro, 10, [{ serviceName: 'app-exp', weight: 20 }]);
    let rule = await ruleByArn(direct, fx.drivenRule);
    const forward = rule.Actions!.find((a) => a.Type === 'forward')!;
    expect(forward.ForwardConfig!.TargetGroups).toEqual([
      { TargetGroupArn: fx.tg['app-canary'], Weight: 10 },
      { TargetGroupArn: fx.tg['app-exp'], Weight: 20 },
      { TargetGroupArn: fx.tg['app-stable'], Weight: 70 },
    ]);
    await expect(router.verifyWeight(ro, 10, [{ serviceName: 'app-exp', weight: 20 }])).resolves.toEqual({
      verified: RpcVerified.Verified,
    });

    await router.setWeight(ro, 10, []);
    rule = await ruleByArn(direct, fx.drivenRule);
    expect(weightsOf(rule.Actions!)).toEqual({ [fx.tg['app-canary']]: 10, [fx.tg['app-stable']]: 90 });
  });

  it('writes stickiness when configured', async () => {
    const ro = rollout({
      block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs, stickinessConfig: { enabled: true, durationSeconds: 3600 } },
    });
    await router.setWeight(ro, 20, []);
    const forward = (await ruleByArn(direct, fx.drivenRule)).Actions!.find((a) => a.Type === 'forward')!;
    expect(forward.ForwardConfig!.TargetGroupStickinessConfig).toEqual({ Enabled: true, DurationSeconds: 3600 });
    await expect(router.verifyWeight(ro, 20, [])).resolves.toEqual({ verified: RpcVerified.Verified });
  });

  it('keeps an authenticate-oidc action in front of the forward intact', async () => {
    const ro = rollout({
      block: { listenerRule: { ruleArn: fx.authRule }, stableTargetGroup: { arn: fx.tg['app-stable'] }, canaryTargetGroup: { arn: fx.tg['app-canary'] } },
    });
    await router.setWeight(ro, 30, []);
    const rule = await ruleByArn(direct, fx.authRule);
    expect(rule.Actions).toHaveLength(2);
    expect(rule.Actions![0]).toEqual(fx.authAction);
    expect(rule.Actions![1]).toMatchObject({ Type: 'forward', Order: 2 });
    expect(weightsOf(rule.Actions!)).toEqual({ [fx.tg['app-canary']]: 30, [fx.tg['app-stable']]: 70 });
  });

  it('reads once and writes nothing when the weights already match', async () => {
    const ro = rollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs } });
    await router.setWeight(ro, 20, []);
    expect(proxy.count('ModifyRule')).toBe(1);
    proxy.resetCounts();

    await router.setWeight(ro, 20, []);
    expect(proxy.counts()).toEqual({ DescribeRules: 1 });
    proxy.resetCounts();

    await router.verifyWeight(ro, 20, []);
    expect(proxy.counts()).toEqual({ DescribeRules: 1 });
  });

  it('finds a rule by conditions once, then reads it by ARN', async () => {
    const ro = rollout({
      block: { listenerRule: { loadBalancerName: LB_NAME, listenerPort: 80, conditions: { host: HOST, path: PATH } }, ...tgbs },
    });
    await router.setWeight(ro, 20, []);
    // The first write reads the rule's opt-in tag (driven-tag.ts), once: it is kept afterwards.
    expect(proxy.counts()).toEqual({ DescribeLoadBalancers: 1, DescribeListeners: 1, DescribeRules: 1, DescribeTags: 1, ModifyRule: 1 });
    proxy.resetCounts();
    await router.setWeight(ro, 30, []);
    expect(proxy.counts()).toEqual({ DescribeRules: 1, ModifyRule: 1 });
  });

  it('finds the rule again when it was recreated or lost its conditions', async () => {
    const ro = rollout({
      block: { listenerRule: { loadBalancerName: LB_NAME, listenerPort: 80, conditions: { host: HOST, path: PATH } }, ...tgbs },
    });
    await router.setWeight(ro, 20, []);
    const conditions = (await ruleByArn(direct, fx.drivenRule)).Conditions!;
    // Terraform replaces the rule: the old ARN is gone, a new rule has the same conditions (and tags).
    await direct.send(new DeleteRuleCommand({ RuleArn: fx.drivenRule }));
    const recreated = await direct.send(
      new CreateRuleCommand({ ListenerArn: fx.httpListener, Priority: 11, Conditions: conditions, Actions: [{ Type: 'forward', TargetGroupArn: fx.tg['app-stable'] }], Tags: DRIVEN_TAGS }),
    );
    const newArn = recreated.Rules![0]!.RuleArn!;
    await router.setWeight(ro, 30, []);
    expect(weightsOf((await ruleByArn(direct, newArn)).Actions!)).toEqual({ [fx.tg['app-canary']]: 30, [fx.tg['app-stable']]: 70 });

    // Someone repoints the conditions of that rule elsewhere and creates a new matching one.
    await direct.send(
      new ModifyRuleCommand({ RuleArn: newArn, Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['old.example.com'] } }] }),
    );
    const third = await direct.send(
      new CreateRuleCommand({ ListenerArn: fx.httpListener, Priority: 12, Conditions: conditions, Actions: [{ Type: 'forward', TargetGroupArn: fx.tg['app-stable'] }], Tags: DRIVEN_TAGS }),
    );
    await router.setWeight(ro, 40, []);
    expect(weightsOf((await ruleByArn(direct, third.Rules![0]!.RuleArn!)).Actions!)).toEqual({ [fx.tg['app-canary']]: 40, [fx.tg['app-stable']]: 60 });
    expect(weightsOf((await ruleByArn(direct, newArn)).Actions!)).toEqual({ [fx.tg['app-canary']]: 30, [fx.tg['app-stable']]: 70 });
  });

  it('detects a rule changed behind its back, and the next SetWeight repairs it', async () => {
    const ro = rollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs } });
    await router.setWeight(ro, 20, []);
    await direct.send(
      new ModifyRuleCommand({
        RuleArn: fx.drivenRule,
        Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [
          { TargetGroupArn: fx.tg['app-canary'], Weight: 50 },
          { TargetGroupArn: fx.tg['app-stable'], Weight: 50 },
        ] } }],
      }),
    );
    await expect(router.verifyWeight(ro, 20, [])).resolves.toEqual({ verified: RpcVerified.NotVerified });
    await router.setWeight(ro, 20, []);
    await expect(router.verifyWeight(ro, 20, [])).resolves.toEqual({ verified: RpcVerified.Verified });
  });
});

describe('the default action of a listener', () => {
  it('is rewritten with ModifyListener and verified', async () => {
    const ro = rollout({ block: { listenerRule: { loadBalancerName: LB_NAME, listenerPort: 8080, defaultAction: true }, ...tgbs } });
    const rulesBefore = await listenerRules(direct, fx.httpListener);
    for (const weight of [15, 100, 0]) {
      await router.setWeight(ro, weight, []);
      expect(weightsOf(await defaultActions(direct, fx.defaultListener))).toEqual({
        [fx.tg['app-canary']]: weight,
        [fx.tg['app-stable']]: 100 - weight,
      });
      await expect(router.verifyWeight(ro, weight, [])).resolves.toEqual({ verified: RpcVerified.Verified });
    }
    expect(proxy.count('ModifyListener')).toBe(3);
    expect(proxy.count('ModifyRule')).toBe(0);
    expect(await listenerRules(direct, fx.httpListener)).toEqual(rulesBefore);
  });
});

describe('the opt-in tag (issue #20: the IAM policy lets ModifyRule/ModifyListener change only tagged rules)', () => {
  const fix = (arn: string) => `aws elbv2 add-tags --resource-arns ${arn} --tags Key=${DRIVEN_TAG_KEY},Value=${DRIVEN_TAG_VALUE}`;
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  it('refuses to change an untagged rule, naming the rule, the tag and the command; tagged, the next SetWeight writes', async () => {
    await direct.send(new RemoveTagsCommand({ ResourceArns: [fx.drivenRule], TagKeys: [DRIVEN_TAG_KEY] }));
    const ro = rollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs } });
    const before = await ruleByArn(direct, fx.drivenRule);
    const refusal = router.setWeight(ro, 20, []);
    await expect(refusal).rejects.toThrow(
      new RegExp(`^listener rule ${escape(fx.drivenRule)} \\(spec\\.strategy.*\\.listenerRule\\) does not carry the tag ${escape(DRIVEN_TAG_KEY)};`),
    );
    await expect(refusal).rejects.toThrow(`the plugin changes only rules tagged ${DRIVEN_TAG_KEY}=${DRIVEN_TAG_VALUE}`);
    await expect(refusal).rejects.toThrow(fix(fx.drivenRule));
    expect(await ruleByArn(direct, fx.drivenRule)).toEqual(before);
    expect(proxy.count('ModifyRule')).toBe(0);
    // Reads need no tag: the weight check answers as for any rule (the rule still forwards as before).
    const report = await router.weightReport(ro, 20);
    expect(report).toMatchObject({ verified: false, ruleArn: fx.drivenRule });
    expect(report.error).toBeUndefined();

    // A refusal is not remembered: once the operator tags the rule, the next SetWeight reads the tag and writes.
    await direct.send(new AddTagsCommand({ ResourceArns: [fx.drivenRule], Tags: DRIVEN_TAGS }));
    proxy.resetCounts();
    await router.setWeight(ro, 20, []);
    expect(proxy.counts()).toEqual({ DescribeRules: 1, DescribeTags: 1, ModifyRule: 1 });
    expect(weightsOf((await ruleByArn(direct, fx.drivenRule)).Actions!)).toEqual({ [fx.tg['app-canary']]: 20, [fx.tg['app-stable']]: 80 });
  });

  it('refuses a rule whose tag has another value, and names the value', async () => {
    await direct.send(new AddTagsCommand({ ResourceArns: [fx.drivenRule], Tags: [{ Key: DRIVEN_TAG_KEY, Value: 'no' }] }));
    const ro = rollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs } });
    await expect(router.setWeight(ro, 20, [])).rejects.toThrow(`carries ${DRIVEN_TAG_KEY}=no; the plugin changes only rules tagged`);
    expect(proxy.count('ModifyRule')).toBe(0);
  });

  it('needs no tag while the weights are in place: a SetWeight that writes nothing reads no tag', async () => {
    const ro = rollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs } });
    await router.setWeight(ro, 20, []);
    await direct.send(new RemoveTagsCommand({ ResourceArns: [fx.drivenRule], TagKeys: [DRIVEN_TAG_KEY] }));
    proxy.resetCounts();
    await createListenerRuleRouter(deps).setWeight(ro, 20, []);
    expect(proxy.counts()).toEqual({ DescribeRules: 1 });
  });

  it('refuses a default action whose listener is untagged, naming the listener', async () => {
    await direct.send(new RemoveTagsCommand({ ResourceArns: [fx.defaultListener], TagKeys: [DRIVEN_TAG_KEY] }));
    const ro = rollout({ block: { listenerRule: { loadBalancerName: LB_NAME, listenerPort: 8080, defaultAction: true }, ...tgbs } });
    const refusal = router.setWeight(ro, 20, []);
    await expect(refusal).rejects.toThrow(`listener ${fx.defaultListener} (its default action is driven)`);
    await expect(refusal).rejects.toThrow(fix(fx.defaultListener));
    expect(proxy.count('ModifyListener')).toBe(0);
  });

  it('the release of a deleted Rollout refuses an untagged rule too, and still deletes its header-route rules', async () => {
    const ro = rollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs }, managedRoutes: ['beta'] });
    await router.setWeight(ro, 30, []);
    await router.setHeaderRoute(ro, { name: 'beta', match: [{ headerName: 'X-Beta', headerValue: { exact: 'yes' } }] });
    await direct.send(new RemoveTagsCommand({ ResourceArns: [fx.drivenRule], TagKeys: [DRIVEN_TAG_KEY] }));
    // A restarted sidecar (nothing kept) releases: it reads the tag before its write.
    const fresh = keepingTags(createElbv2({ client: elbv2Client(proxy.endpoint), rateLimit: 1000, rateBurst: 1000 }));
    await expect(releaseListenerRule({ ...deps, elbv2: fresh }, ro)).rejects.toThrow(fix(fx.drivenRule));
    const owned = await Promise.all((await listenerRules(direct, fx.httpListener)).map((r) => tagsOf(direct, r.RuleArn!)));
    expect(owned.filter((t) => t[DEFAULT_OWNER_TAG_KEY])).toEqual([]);
  });
});

describe('ping-pong', () => {
  it('swaps the roles of ping and pong across promotions', async () => {
    const block = {
      listenerRule: { ruleArn: fx.drivenRule },
      pingTargetGroup: { targetGroupBinding: 'app-ping-tgb' },
      pongTargetGroup: { targetGroupBinding: 'app-pong-tgb' },
    };
    const ping = fx.tg['app-ping'];
    const pong = fx.tg['app-pong'];
    // The rule starts on the stable ping target group, as after the first promotion.
    await direct.send(new ModifyRuleCommand({ RuleArn: fx.drivenRule, Actions: [{ Type: 'forward', TargetGroupArn: ping }] }));
    const steps = [
      { stable: 'ping', weight: 0, want: { [pong]: 0, [ping]: 100 } },
      { stable: 'ping', weight: 25, want: { [pong]: 25, [ping]: 75 } },
      { stable: 'ping', weight: 100, want: { [pong]: 100, [ping]: 0 } },
      { stable: 'pong', weight: 0, want: { [ping]: 0, [pong]: 100 } },
      { stable: 'pong', weight: 25, want: { [ping]: 25, [pong]: 75 } },
      { stable: 'ping', weight: 0, want: { [pong]: 0, [ping]: 100 } },
    ] as const;
    for (const step of steps) {
      const ro = rollout({ block, pingPong: true, stablePingPong: step.stable });
      await router.setWeight(ro, step.weight, []);
      expect(weightsOf((await ruleByArn(direct, fx.drivenRule)).Actions!)).toEqual(step.want);
      await expect(router.verifyWeight(ro, step.weight, [])).resolves.toEqual({ verified: RpcVerified.Verified });
    }
  });
});

describe('header routes', () => {
  const route = { name: 'beta', match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }] };

  it('creates one rule just ahead of the driven rule, and removes only rules carrying its tag', async () => {
    const ro = rollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs }, managedRoutes: ['beta'] });
    // Another Rollout's header rule on the same listener: same tag key, other owner.
    const foreign = await direct.send(
      new CreateRuleCommand({
        ListenerArn: fx.httpListener,
        Priority: 5,
        Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['x.example.com'] } }],
        Actions: [{ Type: 'forward', TargetGroupArn: fx.tg.other }],
        Tags: [{ Key: DEFAULT_OWNER_TAG_KEY, Value: `${NS}/someone-else` }, { Key: ROUTE_TAG_KEY, Value: 'beta' }],
      }),
    );
    await router.setWeight(ro, 10, []);
    await router.setHeaderRoute(ro, route);
    await router.setHeaderRoute(ro, route);
    expect(proxy.count('CreateRule')).toBe(1);

    const rules = await listenerRules(direct, fx.httpListener);
    const created = rules.filter((r) => ![fx.drivenRule, fx.neighbourRule, fx.authRule, foreign.Rules![0]!.RuleArn].includes(r.RuleArn) && !r.IsDefault);
    expect(created).toHaveLength(1);
    const headerRule = created[0]!;
    expect(headerRule.Priority).toBe('9');
    expect(headerRule.Conditions).toEqual([
      { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Canary', Values: ['yes'] } },
      { Field: 'host-header', HostHeaderConfig: { Values: [HOST] } },
      { Field: 'path-pattern', PathPatternConfig: { Values: [PATH] } },
    ]);
    expect(weightsOf(headerRule.Actions!)).toEqual({ [fx.tg['app-canary']]: 100 });
    expect(await tagsOf(direct, headerRule.RuleArn!)).toEqual({ [DEFAULT_OWNER_TAG_KEY]: `${NS}/shop-api`, [ROUTE_TAG_KEY]: 'beta' });

    await router.removeManagedRoutes(ro);
    const after = (await listenerRules(direct, fx.httpListener)).map((r) => r.RuleArn);
    expect(after).not.toContain(headerRule.RuleArn);
    expect(after).toEqual(expect.arrayContaining([fx.drivenRule, fx.neighbourRule, fx.authRule, foreign.Rules![0]!.RuleArn]));
    expect(weightsOf((await ruleByArn(direct, fx.drivenRule)).Actions!)).toEqual({ [fx.tg['app-canary']]: 10, [fx.tg['app-stable']]: 90 });
  });

  it('RemoveManagedRoutes reads the tagged rules every time: one DescribeRules once the tags are known', async () => {
    const ro = rollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs }, managedRoutes: ['beta'] });
    await router.setWeight(ro, 0, []);
    proxy.resetCounts();
    await router.removeManagedRoutes(ro);
    expect(proxy.counts()).toEqual({ DescribeRules: 1, DescribeTags: 1 });
    proxy.resetCounts();
    await router.removeManagedRoutes(ro);
    expect(proxy.counts()).toEqual({ DescribeRules: 1 });

    await router.setHeaderRoute(ro, route);
    proxy.resetCounts();
    await router.removeManagedRoutes(ro);
    // The rule it created itself: its tags are known, so no DescribeTags.
    expect(proxy.counts()).toEqual({ DescribeRules: 1, DeleteRule: 1 });
    expect(await listenerRules(direct, fx.httpListener)).toHaveLength(4);
  });

  // Issue #12 item 7: Argo's leader can move to another controller pod, whose sidecar has its own memory.
  it('survives a leader change: a sidecar that swept before still removes a header rule another sidecar created since', async () => {
    const ro = rollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs }, managedRoutes: ['beta'] });
    const before = createListenerRuleRouter(deps); // the old leader's sidecar
    const other = createListenerRuleRouter(deps); // the leader in between
    await before.removeManagedRoutes(ro); // a clean sweep
    await other.setHeaderRoute(ro, route);
    expect(await listenerRules(direct, fx.httpListener)).toHaveLength(5);

    await before.removeManagedRoutes(ro); // leader again
    expect(await listenerRules(direct, fx.httpListener)).toHaveLength(4);

    // A fresh sidecar (nothing in memory) given the same load balancer decides the same way, both ways.
    await other.setHeaderRoute(ro, route);
    proxy.resetCounts();
    await createListenerRuleRouter(deps).removeManagedRoutes(ro);
    expect(proxy.count('DeleteRule')).toBe(1);
    proxy.resetCounts();
    await createListenerRuleRouter(deps).removeManagedRoutes(ro);
    await before.removeManagedRoutes(ro);
    expect(proxy.count('DeleteRule')).toBe(0);
    expect(await listenerRules(direct, fx.httpListener)).toHaveLength(4);
  });

  it('does nothing on RemoveManagedRoutes without managedRoutes', async () => {
    await router.removeManagedRoutes(rollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs } }));
    expect(proxy.total()).toBe(0);
  });

  it('copies the authenticate action so the header cannot skip it, and deletes the rule on an empty match', async () => {
    const ro = rollout({ block: { listenerRule: { ruleArn: fx.authRule }, ...tgbs }, managedRoutes: ['beta'] });
    await router.setHeaderRoute(ro, route);
    const headerRule = (await listenerRules(direct, fx.httpListener)).find((r) => r.Priority === '29')!;
    expect(headerRule.Actions![0]).toEqual(fx.authAction);
    expect(weightsOf(headerRule.Actions!)).toEqual({ [fx.tg['app-canary']]: 100 });

    await router.setHeaderRoute(ro, { name: 'beta', match: [] });
    expect((await listenerRules(direct, fx.httpListener)).find((r) => r.Priority === '29')).toBeUndefined();
  });

  it('goes after every rule of the listener for a default action', async () => {
    const ro = rollout({ block: { listenerRule: { loadBalancerName: LB_NAME, listenerPort: 8080, defaultAction: true }, ...tgbs }, managedRoutes: ['beta'] });
    await direct.send(
      new CreateRuleCommand({
        ListenerArn: fx.defaultListener,
        Priority: 7,
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/static/*'] } }],
        Actions: [{ Type: 'forward', TargetGroupArn: fx.tg.other }],
      }),
    );
    await router.setHeaderRoute(ro, route);
    const headerRule = (await listenerRules(direct, fx.defaultListener)).find((r) => r.Priority === '8')!;
    expect(headerRule.Conditions).toEqual([{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Canary', Values: ['yes'] } }]);
    expect(weightsOf(headerRule.Actions!)).toEqual({ [fx.tg['app-canary']]: 100 });
  });

  it('refuses a default action that does not forward', async () => {
    const ro = rollout({ block: { listenerRule: { loadBalancerArn: fx.lbArn, listenerPort: 80, defaultAction: true }, ...tgbs }, managedRoutes: ['beta'] });
    // Port 80's default is a fixed 404: not a forward, so the plugin refuses to drive it.
    await expect(router.setWeight(ro, 10, [])).rejects.toThrow(/has no forward action/);
    await expect(router.setHeaderRoute(ro, route)).rejects.toThrow(/has no forward action/);
    expect(proxy.count('CreateRule') + proxy.count('ModifyListener')).toBe(0);
  });

  it('refuses to squeeze in front of a foreign rule', async () => {
    const ro = rollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs }, managedRoutes: ['beta'] });
    await direct.send(
      new CreateRuleCommand({
        ListenerArn: fx.httpListener,
        Priority: 9,
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/health'] } }],
        Actions: [{ Type: 'forward', TargetGroupArn: fx.tg.other }],
      }),
    );
    await expect(router.setHeaderRoute(ro, route)).rejects.toThrow(/priority 9, just ahead of the driven rule \(priority 10\), is taken/);
    expect(proxy.count('CreateRule')).toBe(0);
  });
});

// Issue #12 item 3: Argo is answered at the RPC deadline and may send the next call at once; the old call
// must not write after it.
describe('calls past their RPC deadline', () => {
  function deferred(): { promise: Promise<void>; resolve: () => void } {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  }
  const callCtx = (ac: AbortController) => ({ signal: ac.signal, deadline: Date.now() + 25_000, timeoutMs: 25_000 });

  it('SetWeight 20 whose deadline passed while reading its bindings writes nothing; the abort\'s SetWeight 0 stays', async () => {
    // The Kubernetes API is slow for the first call's binding reads.
    const slow = deferred();
    let reads = 0;
    const reader = bindingReader(fx.bindings);
    const r = createListenerRuleRouter({
      ...deps,
      getTargetGroupBinding: async (ns, name) => {
        if (++reads <= 2) await slow.promise;
        return reader.getTargetGroupBinding(ns, name);
      },
    });
    const ro = rollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs } });
    const first = new AbortController();
    const stale = r.setWeight(ro, 20, [], callCtx(first)).catch((e: unknown) => e);
    await new Promise((res) => setTimeout(res, 20));
    first.abort(new Error('Plugin.SetWeight did not finish within 25s'));
    const newer = r.setWeight(ro, 0, [], callCtx(new AbortController()));
    await new Promise((res) => setTimeout(res, 50));
    slow.resolve();
    await newer;
    expect(await stale).toBeInstanceOf(Error);
    expect(weightsOf((await ruleByArn(direct, fx.drivenRule)).Actions!)).toEqual({ [fx.tg['app-canary']]: 0, [fx.tg['app-stable']]: 100 });
    expect(proxy.count('ModifyRule')).toBe(1);
  });

  it('one Rollout\'s calls to its rule apply in order: a later SetWeight waits for the earlier one', async () => {
    const slow = deferred();
    let reads = 0;
    const reader = bindingReader(fx.bindings);
    const r = createListenerRuleRouter({
      ...deps,
      getTargetGroupBinding: async (ns, name) => {
        if (++reads <= 2) await slow.promise;
        return reader.getTargetGroupBinding(ns, name);
      },
    });
    const ro = rollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs } });
    const earlier = r.setWeight(ro, 20, []);
    await new Promise((res) => setTimeout(res, 20));
    const later = r.setWeight(ro, 0, []);
    await new Promise((res) => setTimeout(res, 100));
    expect(reads).toBe(2);
    expect(proxy.count('ModifyRule')).toBe(0);
    slow.resolve();
    await Promise.all([earlier, later]);
    expect(proxy.count('ModifyRule')).toBe(2);
    expect(weightsOf((await ruleByArn(direct, fx.drivenRule)).Actions!)).toEqual({ [fx.tg['app-canary']]: 0, [fx.tg['app-stable']]: 100 });
  });

  it('a header route of a call past its deadline is not created', async () => {
    const ro = rollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs }, managedRoutes: ['beta'] });
    const ac = new AbortController();
    ac.abort(new Error('Plugin.SetHeaderRoute did not finish within 25s'));
    await expect(
      router.setHeaderRoute(ro, { name: 'beta', match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }] }, callCtx(ac)),
    ).rejects.toThrow(/did not finish within 25s/);
    expect(proxy.count('CreateRule')).toBe(0);
  });
});

describe('abort, promotion and deletion', () => {
  it('release leaves 100 % on the effective stable target group and deletes its header rules', async () => {
    const block = {
      listenerRule: { ruleArn: fx.drivenRule },
      pingTargetGroup: { targetGroupBinding: 'app-ping-tgb' },
      pongTargetGroup: { targetGroupBinding: 'app-pong-tgb' },
    };
    const ro = rollout({ block, pingPong: true, stablePingPong: 'pong', managedRoutes: ['beta'] });
    await direct.send(new ModifyRuleCommand({ RuleArn: fx.drivenRule, Actions: [{ Type: 'forward', TargetGroupArn: fx.tg['app-pong'] }] }));
    await router.setWeight(ro, 40, []);
    await router.setHeaderRoute(ro, { name: 'beta', match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }] });
    expect(await listenerRules(direct, fx.httpListener)).toHaveLength(5);

    // The deletion watch uses a router of its own, with nothing cached.
    await releaseListenerRule(deps, ro);
    expect(weightsOf((await ruleByArn(direct, fx.drivenRule)).Actions!)).toEqual({ [fx.tg['app-pong']]: 100 });
    expect(await listenerRules(direct, fx.httpListener)).toHaveLength(4);
  });

  it('SetWeight(0) after an abort sends everything to stable', async () => {
    const ro = rollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs } });
    await router.setWeight(ro, 60, []);
    await router.setWeight(ro, 0, []);
    expect(weightsOf((await ruleByArn(direct, fx.drivenRule)).Actions!)).toEqual({ [fx.tg['app-canary']]: 0, [fx.tg['app-stable']]: 100 });
  });
});

describe('clear errors', () => {
  const cases = [
    [
      'a missing TargetGroupBinding',
      () => ({ listenerRule: { ruleArn: fx.drivenRule }, stableTargetGroup: { targetGroupBinding: 'app-stable-tgb' }, canaryTargetGroup: { targetGroupBinding: 'nope' } }),
      [],
      /TargetGroupBinding "nope" \(spec\.strategy\.canary\.trafficRouting\.plugins\["argoproj-labs\/alb"\]\.canaryTargetGroup\.targetGroupBinding\) does not exist in namespace "shop"/,
    ],
    [
      'a binding of another Service',
      () => ({ listenerRule: { ruleArn: fx.drivenRule }, stableTargetGroup: { targetGroupBinding: 'app-stable-tgb' }, canaryTargetGroup: { targetGroupBinding: 'other-tgb' } }),
      [],
      /binds Service "other", but this role routes to Service "app-canary"/,
    ],
    [
      'a target group that does not exist',
      () => ({
        listenerRule: { ruleArn: fx.drivenRule },
        stableTargetGroup: { targetGroupBinding: 'app-stable-tgb' },
        canaryTargetGroup: { arn: 'arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/gone/0123456789abcdef' },
      }),
      [],
      /ELBv2 refused the new forward action: .*gone.*canaryTargetGroup = arn:.*targetgroup\/gone/,
    ],
    [
      'an experiment Service without a binding',
      () => ({ listenerRule: { ruleArn: fx.drivenRule }, ...tgbs }),
      [{ serviceName: 'exp-unbound', weight: 10 }],
      /experiment Service "exp-unbound" has no TargetGroupBinding in namespace "shop"/,
    ],
    [
      'a rule ARN that does not exist',
      () => ({ listenerRule: { ruleArn: `${fx.drivenRule.slice(0, -4)}ffff` }, ...tgbs }),
      [],
      /listener rule .*ffff \(.*listenerRule\.ruleArn\) does not exist/,
    ],
    [
      'a listener port with no listener',
      () => ({ listenerRule: { loadBalancerName: LB_NAME, listenerPort: 443, defaultAction: true }, ...tgbs }),
      [],
      /load balancer "shared-alb" has no listener on port 443 .*its listeners: 80, 8080/,
    ],
    [
      'conditions no rule has',
      () => ({ listenerRule: { loadBalancerName: LB_NAME, listenerPort: 80, conditions: { host: HOST } }, ...tgbs }),
      [],
      /no rule on port 80 of load balancer "shared-alb" has exactly the conditions host \["app.example.com"\], path \[\]/,
    ],
    [
      'a load balancer that does not exist',
      () => ({ listenerRule: { loadBalancerName: 'nope', listenerPort: 80, defaultAction: true }, ...tgbs }),
      [],
      /load balancer "nope" .* does not exist/,
    ],
    [
      'a rule forwarding somewhere unrelated',
      () => ({ listenerRule: { ruleArn: fx.neighbourRule }, ...tgbs }),
      [],
      /forwards to .*tf-other.* none of which is the stable or canary target group/,
    ],
  ] as const;

  it.each(cases)('SetWeight names %s', async (_label, block, additional, message) => {
    const before = await ruleByArn(direct, fx.drivenRule);
    await expect(router.setWeight(rollout({ block: block() }), 20, [...additional])).rejects.toThrow(message);
    expect(await ruleByArn(direct, fx.drivenRule)).toEqual(before);
  });

  it('SetMirrorRoute says ALB cannot mirror', async () => {
    const ro = rollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs } });
    await expect(router.setMirrorRoute(ro, { name: 'm', percentage: 10 })).rejects.toThrow(/ALB cannot mirror traffic/);
  });
});
