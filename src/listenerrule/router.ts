// Listener-rule mode: the TrafficRouter for load balancers managed outside Kubernetes. SetWeight rewrites
// only the forward action of the one rule (or listener default action) the Rollout points at, after
// reading it; VerifyWeight reads it back when the answer matters; header routes are extra rules tagged
// with the Rollout. With target verification, the switch back to stable after a promotion waits for the
// stable target group to hold the new pods.

import { ModifyListenerCommand, ModifyRuleCommand, type Action, type Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Logger } from '../logger.js';
import { verificationKey, VerifyGate } from '../verify/gate.js';
import { createSetWeightGuard, isFinalSwitch } from '../verify/guard.js';
import type { TargetVerifier, VerifyMode } from '../verify/targets.js';
import type { Rollout, SetHeaderRoute, SetMirrorRoute, WeightDestination } from '../core/rollout.js';
import { ROUTER_TYPE, RpcVerified, SerialQueue, type CallContext, type TrafficRouter, type VerifyWeightResult } from '../trafficrouter/router.js';
import { resolveDestinations, resolveRole, type BindingReader } from './bindings.js';
import { parseListenerRuleConfig, type ListenerRuleConfig } from './config.js';
import { headerRouteMatches } from '../core/header-routes.js';
import {
  currentForward,
  desiredForward,
  forwardDifferences,
  stepWeights,
  withForward,
  type CurrentForward,
  type DesiredForward,
} from './forward.js';
import { applyHeaderRoute, DEFAULT_OWNER_TAG_KEY, removeOwnedRules, RuleTagCache, type Owner } from './header-routes.js';
import {
  elbv2ForCall,
  GoneError,
  isNotFound,
  listenerArnOfRule,
  locateRule,
  readRule,
  ruleMatches,
  type ListenerRuleElbv2,
  type RuleLocation,
} from './locate.js';
import { drivenTargets, reportDrivenTargets, roleService, type ListenerRuleTargetsReport } from './targets.js';
import { ruleWeightStep } from './weight-step.js';

export interface ListenerRuleRouterDeps extends BindingReader {
  elbv2: ListenerRuleElbv2;
  /** Key under `trafficRouting.plugins` holding this plugin's block. */
  pluginName: string;
  /** Tag key marking header-route rules as owned by a Rollout (value `<namespace>/<name>`). */
  tagKey?: string;
  logger?: Logger;
  /**
   * Target-group IP/health verification (`createTargetVerifier` in src/verify/targets.ts) for the Services
   * the TargetGroupBindings name. Enables `targetsReport` and the final-switch guard. Pass it only when
   * target verification is on (`--aws-verify-target-group` with Kubernetes access): a verifier that can
   * never answer would hold the final switch for good.
   */
  targets?: TargetVerifier;
  /** With `targets`: hold the switch back to stable after a promotion until the stable target group is ready (default true). */
  guardFinalSwitch?: boolean;
}

export interface ListenerRuleRouter extends TrafficRouter {
  /**
   * For a deleted Rollout: the forward goes to 100 % on the effective stable target group (from the
   * Rollout's last status) and this Rollout's header-route rules are deleted.
   */
  release(rollout: Rollout): Promise<void>;
  /**
   * For the HTTP API: do the driven stable and canary (ping and pong) target groups hold their Services'
   * ready pods? Ungated; never throws for AWS or Kubernetes failures (they are in `error`).
   */
  targetsReport(rollout: Rollout, mode?: VerifyMode): Promise<ListenerRuleTargetsReport>;
  /** For the HTTP API: the driven rule's weights against the desired ones, now (ungated); never throws after parsing. */
  weightReport(rollout: Rollout, desiredWeight: number, additionalDestinations?: WeightDestination[]): Promise<ListenerRuleWeightReport>;
}

/** JSON-friendly result of an ungated weight check, for the HTTP API. */
export interface ListenerRuleWeightReport {
  rollout: string;
  verified: boolean;
  desiredWeight: number;
  maxWeight: number;
  /** The driven rule; absent for a listener's default action. */
  ruleArn?: string;
  listenerArn?: string;
  /** Canary, experiments, stable, as SetWeight writes them. */
  expected: Array<{ targetGroupArn: string; weight: number }>;
  /** The forward action as ELBv2 reports it now. */
  actual: Array<{ targetGroupArn: string; weight: number }>;
  reasons: string[];
  /** Set when the check could not finish (configuration, binding, AWS error). */
  error?: string;
}

interface WeightCheck {
  location: RuleLocation;
  expected: ListenerRuleWeightReport['expected'];
  actual: ListenerRuleWeightReport['actual'];
  /** Empty when the rule carries the desired weights. */
  reasons: string[];
}

/** The outcome of one SetWeight-like write, for logs and tests. */
export type WriteOutcome = { written: false } | { written: true; reasons: string[] };

export function createListenerRuleRouter(deps: ListenerRuleRouterDeps): ListenerRuleRouter {
  const tagKey = deps.tagKey ?? DEFAULT_OWNER_TAG_KEY;
  // Resolved rule locations per Rollout and selector; a rule that disappears is looked up again once.
  const locations = new Map<string, RuleLocation>();
  // Whether a Rollout still has header-route rules is read from the load balancer every time (its tagged
  // rules), never remembered: after a leader change another sidecar may have created some. Only the tags of
  // rules already seen are kept (they never change), so RemoveManagedRoutes, which Argo calls on every
  // reconcile of a promoted Rollout, costs one DescribeRules once warm.
  const tagCache = new RuleTagCache();
  // VerifyWeight is asked on every reconcile; the gate lets it reach AWS only when the answer matters.
  // SetWeight reads the rule on every reconcile anyway, so it is the one that notices a rule changed
  // behind our back: when it has to write, the remembered answer is dropped and the next VerifyWeight
  // reads the rule again.
  const gate = new VerifyGate();
  // One Rollout's calls to its rule apply in order; with the per-call client (elbv2ForCall), a call past its
  // RPC deadline sends no write, so the next call starts only after the stale one has stopped.
  const queue = new SerialQueue();

  const owner = (config: ListenerRuleConfig): Owner => ({ tagKey, value: `${config.namespace}/${config.rolloutName}` });
  const cacheKey = (config: ListenerRuleConfig): string =>
    JSON.stringify([config.namespace, config.rolloutName, config.rule]);

  async function driven(config: ListenerRuleConfig, aws: ListenerRuleElbv2): Promise<{ location: RuleLocation; rule: Rule }> {
    const field = `${config.path}.listenerRule`;
    const key = cacheKey(config);
    const cached = locations.get(key);
    if (cached) {
      try {
        const rule = await readRule(aws, cached, field);
        // A rule found by its conditions stays ours only while it still has them.
        const selector = config.rule;
        if (selector.kind !== 'conditions' || ruleMatches(rule, selector.host, selector.path)) return { location: cached, rule };
        locations.delete(key);
      } catch (err) {
        if (!(err instanceof GoneError) || config.rule.kind === 'arn') throw err;
        locations.delete(key);
      }
    }
    const found = await locateRule(aws, config.rule, field);
    locations.set(key, found.location);
    return found;
  }

  async function plan(
    config: ListenerRuleConfig,
    desiredWeight: number,
    additional: WeightDestination[],
  ): Promise<{ canaryArn: string; desired: DesiredForward; stableArn: string; sources: string }> {
    // Refused before any lookup when an ALB could not take the weights.
    const weights = stepWeights(config, desiredWeight, additional);
    const [stableArn, canaryArn, extra] = await Promise.all([
      resolveRole(config.stable, config.namespace, deps),
      resolveRole(config.canary, config.namespace, deps),
      resolveDestinations(additional, config.namespace, deps),
    ]);
    const desired = desiredForward(weights, { canary: canaryArn, stable: stableArn, experiments: extra.map((d) => d.arn) }, config.stickiness);
    const sources = [
      `${config.canary.field} = ${canaryArn}`,
      ...extra.map((d) => `experiment Service ${d.serviceName} = ${d.arn}`),
      `${config.stable.field} = ${stableArn}`,
    ].join('; ');
    return { canaryArn, stableArn, desired, sources };
  }

  function forwardOf(rule: Rule, config: ListenerRuleConfig, ours: string[]): CurrentForward {
    const where = rule.IsDefault ? `the default action of listener` : `listener rule ${rule.RuleArn}`;
    const current = currentForward(rule.Actions ?? []);
    if (!current) {
      throw new Error(
        `${where} (${config.path}.listenerRule) has no forward action; point listenerRule at the rule that forwards to the stable target group`,
      );
    }
    // Refuse to take over a rule that routes somewhere unrelated: a wrong selector must not move traffic.
    if (![...current.weights.keys()].some((arn) => ours.includes(arn))) {
      throw new Error(
        `${where} (${config.path}.listenerRule) forwards to ${[...current.weights.keys()].join(', ') || 'nothing'}, none of which is ` +
          `the stable or canary target group; check listenerRule and the target groups, the rule must already forward to the stable one`,
      );
    }
    return current;
  }

  async function write(aws: ListenerRuleElbv2, location: RuleLocation, actions: Action[]): Promise<void> {
    if (location.ruleArn) await aws.send(new ModifyRuleCommand({ RuleArn: location.ruleArn, Actions: actions }));
    else await aws.send(new ModifyListenerCommand({ ListenerArn: location.listenerArn, DefaultActions: actions }));
  }

  async function converge(
    aws: ListenerRuleElbv2,
    config: ListenerRuleConfig,
    { location, rule }: { location: RuleLocation; rule: Rule },
    desired: DesiredForward,
    ours: string[],
    sources: string,
    beforeWrite?: () => Promise<void>,
  ): Promise<WriteOutcome> {
    const current = forwardOf(rule, config, ours);
    const reasons = forwardDifferences(current, desired);
    if (reasons.length === 0) return { written: false };
    await beforeWrite?.();
    try {
      await write(aws, location, withForward(rule.Actions ?? [], current, desired));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`ELBv2 refused the new forward action: ${message}; check the target groups (${sources})`, { cause: err });
    }
    return { written: true, reasons };
  }

  /**
   * The final-switch guard (Argo #2864, #4433): right after a promotion without ping-pong, SetWeight(0)
   * would move all traffic from the canary target group to the stable one, whose binding may not have
   * registered the new pods yet. Throwing keeps the rule at canary 100 and tells Argo what is awaited.
   */
  async function holdFinalSwitch(
    rollout: Rollout,
    config: ListenerRuleConfig,
    desiredWeight: number,
    additional: WeightDestination[],
    stableArn: string,
    call: CallContext | undefined,
  ): Promise<void> {
    const verifier = deps.targets;
    if (!verifier || deps.guardFinalSwitch === false) return;
    if (!isFinalSwitch(ruleWeightStep(rollout, config, desiredWeight, additional))) return;
    const service = await roleService(config.stable, config.namespace, stableArn, deps);
    if (!service) return;
    const guard = createSetWeightGuard({
      enabled: true,
      verifyTargets: (namespace, svc) => drivenTargets(verifier, namespace, svc, stableArn),
    });
    const decision = await guard.beforeSetWeight(ruleWeightStep(rollout, config, desiredWeight, additional, service), call);
    if (!decision.hold) return;
    deps.logger?.info({ rollout: owner(config).value, stableTargetGroup: stableArn, reason: decision.reason }, 'final switch to stable held');
    throw new Error(`${decision.reason} (${config.stable.field} = ${stableArn})`);
  }

  async function checkWeights(
    config: ListenerRuleConfig,
    desiredWeight: number,
    additional: WeightDestination[],
    aws: ListenerRuleElbv2 = deps.elbv2,
  ): Promise<WeightCheck> {
    const { desired } = await plan(config, desiredWeight, additional);
    const { location, rule } = await driven(config, aws);
    const current = currentForward(rule.Actions ?? []);
    const reasons = current ? forwardDifferences(current, desired) : ['the rule has no forward action'];
    if (reasons.length > 0) {
      deps.logger?.info({ rollout: owner(config).value, desiredWeight, reasons }, 'listener rule weights not verified');
    }
    return {
      location,
      expected: desired.targetGroups.map((t) => ({ targetGroupArn: t.arn, weight: t.weight })),
      actual: [...(current?.weights ?? new Map<string, number>())].map(([targetGroupArn, weight]) => ({ targetGroupArn, weight })),
      reasons,
    };
  }

  const router: ListenerRuleRouter = {
    async initPlugin() {},

    type() {
      return ROUTER_TYPE;
    },

    // Target groups do not depend on pod hashes: nothing to do.
    async updateHash() {},

    async setWeight(rollout, desiredWeight, additionalDestinations, call) {
      const config = parseListenerRuleConfig(rollout, deps.pluginName);
      const aws = elbv2ForCall(deps.elbv2, call);
      await queue.run(
        cacheKey(config),
        async () => {
          const { desired, sources, stableArn } = await plan(config, desiredWeight, additionalDestinations);
          const targets = desired.targetGroups.map((t) => t.arn);
          const outcome = await converge(aws, config, await driven(config, aws), desired, targets, sources, () =>
            holdFinalSwitch(rollout, config, desiredWeight, additionalDestinations, stableArn, call),
          );
          if (outcome.written) {
            const step = ruleWeightStep(rollout, config, desiredWeight, additionalDestinations);
            gate.record(gate.uidOf(step), verificationKey(step), 'pending');
            deps.logger?.info(
              { rollout: owner(config).value, desiredWeight, reasons: outcome.reasons },
              'listener rule forward rewritten',
            );
          }
        },
        call?.signal,
      );
    },

    async verifyWeight(rollout, desiredWeight, additionalDestinations, call): Promise<VerifyWeightResult> {
      const config = parseListenerRuleConfig(rollout, deps.pluginName);
      const step = ruleWeightStep(rollout, config, desiredWeight, additionalDestinations);
      const decision = gate.decide(step);
      if (decision.kind === 'remembered') return { verified: RpcVerified.Verified };
      if (decision.kind === 'skip') return { verified: RpcVerified.NotImplemented };
      let verified = false;
      try {
        verified = (await checkWeights(config, desiredWeight, additionalDestinations, elbv2ForCall(deps.elbv2, call))).reasons.length === 0;
      } finally {
        gate.record(gate.uidOf(step), decision.key, verified ? 'verified' : 'pending');
      }
      return { verified: verified ? RpcVerified.Verified : RpcVerified.NotVerified };
    },

    async setHeaderRoute(rollout: Rollout, headerRoute: SetHeaderRoute, call?: CallContext) {
      if (!headerRoute) return;
      const config = parseListenerRuleConfig(rollout, deps.pluginName);
      const route = { name: headerRoute.name, matches: headerRouteMatches(headerRoute, config.managedRoutes) };
      const aws = elbv2ForCall(deps.elbv2, call);
      await queue.run(
        cacheKey(config),
        async () => {
          const canaryArn = await resolveRole(config.canary, config.namespace, deps);
          const { location, rule } = await driven(config, aws);
          const input = { location, driven: rule, canaryArn, owner: owner(config), tagCache };
          await applyHeaderRoute(aws, route, config.stickiness ? { ...input, stickiness: config.stickiness } : input);
        },
        call?.signal,
      );
    },

    async setMirrorRoute(_rollout: Rollout, _mirrorRoute: SetMirrorRoute) {
      throw new Error(
        'ALB cannot mirror traffic: listener rules only forward, redirect or answer; remove the setMirrorRoute step ' +
          '(traffic mirroring needs a service mesh router)',
      );
    },

    async removeManagedRoutes(rollout, call) {
      // Header routes only exist for names listed in managedRoutes; without any there is nothing to look for.
      if (!rollout.spec.strategy.canary?.trafficRouting?.managedRoutes?.length) return;
      const config = parseListenerRuleConfig(rollout, deps.pluginName);
      const key = cacheKey(config);
      const aws = elbv2ForCall(deps.elbv2, call);
      await queue.run(
        key,
        async () => {
          const listenerArn =
            config.rule.kind === 'arn'
              ? listenerArnOfRule(config.rule.ruleArn)
              : (locations.get(key)?.listenerArn ?? (await driven(config, aws)).location.listenerArn);
          await removeOwnedRules(aws, listenerArn, owner(config), tagCache);
        },
        call?.signal,
      );
    },

    async release(rollout) {
      const config = parseListenerRuleConfig(rollout, deps.pluginName);
      await queue.run(cacheKey(config), async () => {
        const stableArn = await resolveRole(config.stable, config.namespace, deps);
        const canaryArn = await resolveRole(config.canary, config.namespace, deps);
        const desired: DesiredForward = { targetGroups: [{ arn: stableArn, weight: 100 }] };
        const target = await driven(config, deps.elbv2);
        await removeOwnedRules(deps.elbv2, target.location.listenerArn, owner(config), tagCache);
        await converge(deps.elbv2, config, target, desired, [stableArn, canaryArn], `${config.stable.field} = ${stableArn}`);
        locations.delete(cacheKey(config));
      });
    },

    async weightReport(rollout, desiredWeight, additionalDestinations = []) {
      const config = parseListenerRuleConfig(rollout, deps.pluginName);
      const report: ListenerRuleWeightReport = {
        rollout: `${config.namespace}/${config.rolloutName}`,
        verified: false,
        desiredWeight,
        maxWeight: config.maxWeight,
        expected: [],
        actual: [],
        reasons: [],
      };
      try {
        const check = await checkWeights(config, desiredWeight, additionalDestinations);
        if (check.location.ruleArn) report.ruleArn = check.location.ruleArn;
        report.listenerArn = check.location.listenerArn;
        report.expected = check.expected;
        report.actual = check.actual;
        report.reasons = check.reasons;
        report.verified = check.reasons.length === 0;
      } catch (err) {
        report.error = err instanceof Error ? err.message : String(err);
      }
      return report;
    },

    async targetsReport(rollout, mode) {
      const config = parseListenerRuleConfig(rollout, deps.pluginName);
      if (!deps.targets) {
        return {
          rollout: `${config.namespace}/${config.rolloutName}`,
          verified: false,
          reasons: [],
          error: 'target verification is not configured for listener-rule mode (it needs Kubernetes access and AWS verification on)',
          roles: [],
        };
      }
      return reportDrivenTargets({ targets: deps.targets, bindings: deps }, config, mode);
    },
  };
  return router;
}

/**
 * For the Rollout deletion watch: leaves the driven rule at 100 % on the effective stable target group
 * and deletes the Rollout's header-route rules (a one-off router; nothing is cached between calls).
 */
export function releaseListenerRule(deps: ListenerRuleRouterDeps, rollout: Rollout): Promise<void> {
  return createListenerRuleRouter(deps).release(rollout);
}
