// Listener-rule mode: the TrafficRouter for load balancers managed outside Kubernetes. SetWeight rewrites
// only the forward action of the one rule (or listener default action) the Rollout points at, after
// reading it; VerifyWeight reads it back when the answer matters; header routes are extra rules tagged
// with the Rollout. With target verification, the switch back to stable after a promotion waits for the
// stable target group to hold the new pods. This file wires the verbs to the parts: the Rollout's reading
// (config.ts, on src/core), the driven rule (driven-rule.ts), the write (rule-writer.ts), header routes
// (header-routes.ts), the guard (final-switch.ts), the weight check and reports (reports.ts), VerifyWeight's
// verdict (the shared gated path, src/verify/verdict.ts) and the release (release.ts).

import type { Rollout, SetHeaderRoute, SetMirrorRoute, WeightDestination } from '../../core/rollout.js';
import { headerRouteMatches, mirrorRouteRefusal } from '../../core/routes.js';
import type { Logger } from '../../logger.js';
import type { EventSink } from '../../plugin/hooks.js';
import { IDLE_VERBS, type TrafficRouter, type VerifyWeightResult } from '../../plugin/router.js';
import { SerialQueue } from '../../plugin/serial-queue.js';
import { stepSignal, type CallContext } from '../../plugin/call.js';
import { rolloutUid, VerifyGate } from '../../verify/gate.js';
import { gatedVerdict, type VerdictDeps } from '../../verify/verdict.js';
import type { TargetVerifier, VerifyMode } from '../../verify/target-health.js';
import { resolveRole, type BindingReader } from './bindings.js';
import { parseListenerRuleConfig, type ListenerRuleConfig } from './config.js';
import { DrivenRules, ruleKey } from './driven-rule.js';
import { holdFinalSwitch } from './final-switch.js';
import { applyHeaderRoute, DEFAULT_OWNER_TAG_KEY, removeOwnedRules, RuleTagCache, type Owner } from './header-routes.js';
import { elbv2ForCall, type ListenerRuleElbv2 } from './locate.js';
import { releaseRule } from './release.js';
import { checkWeights, reportDrivenTargets, weightReport, type ListenerRuleTargetsReport, type ListenerRuleWeightReport } from './reports.js';
import { planForward, writeForward } from './rule-writer.js';
import { ruleWeightStep } from './weight-step.js';

export interface ListenerRuleRouterDeps extends BindingReader {
  elbv2: ListenerRuleElbv2;
  /** Key under `trafficRouting.plugins` holding this plugin's block. */
  pluginName: string;
  /** Tag key marking header-route rules as owned by a Rollout (value `<namespace>/<name>`). */
  tagKey?: string;
  logger?: Logger;
  /** Kubernetes Events on the Rollout: VerifyWeight's verdicts, as in the other modes. */
  events?: EventSink;
  /**
   * Target-group IP/health verification (`createTargetVerifier` in src/verify/target-health.ts) for the Services
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

export function createListenerRuleRouter(deps: ListenerRuleRouterDeps): ListenerRuleRouter {
  const tagKey = deps.tagKey ?? DEFAULT_OWNER_TAG_KEY;
  // Resolved rule locations per Rollout and selector; a rule that disappears is looked up again once.
  const rules = new DrivenRules();
  // Whether a Rollout still has header-route rules is read from the load balancer every time (its tagged
  // rules), never remembered: after a leader change another sidecar may have created some. Only the tags of
  // rules already seen are kept (they never change), so RemoveManagedRoutes, which Argo calls on every
  // reconcile of a promoted Rollout, costs one DescribeRules once warm.
  const tagCache = new RuleTagCache();
  // VerifyWeight is asked on every reconcile; the gate lets it reach AWS only when the answer matters.
  // SetWeight reads the rule on every reconcile anyway, so it is the one that notices a rule changed
  // behind our back: when it has to write, the remembered answer is dropped, the next VerifyWeight reads
  // the rule again, and a verification running meanwhile is not remembered.
  const gate = new VerifyGate();
  const verdicts: VerdictDeps = { gate, mode: 'listener-rule', where: 'on the listener rule', events: deps.events, log: deps.logger };
  // One Rollout's calls to its rule apply in order; with the per-call client (elbv2ForCall), a call past its
  // RPC deadline sends no write, so the next call starts only after the stale one has stopped.
  const queue = new SerialQueue();

  const owner = (config: ListenerRuleConfig): Owner => ({ tagKey, value: `${config.namespace}/${config.rolloutName}` });
  const checks = { bindings: deps, rules, ...(deps.logger ? { logger: deps.logger } : {}) };
  const guard = { ...checks, ...(deps.targets ? { targets: deps.targets } : {}), ...(deps.guardFinalSwitch !== undefined ? { guardFinalSwitch: deps.guardFinalSwitch } : {}) };

  const router: ListenerRuleRouter = {
    // Target groups do not depend on pod hashes: UpdateHash has nothing to do.
    ...IDLE_VERBS,

    async setWeight(rollout, desiredWeight, additionalDestinations, call) {
      const config = parseListenerRuleConfig(rollout, deps.pluginName);
      const aws = elbv2ForCall(deps.elbv2, call);
      await queue.run(
        ruleKey(config),
        async () => {
          const { desired, sources, stableArn } = await planForward(config, desiredWeight, additionalDestinations, deps);
          const targets = desired.targetGroups.map((t) => t.arn);
          const outcome = await writeForward(aws, config, await rules.read(config, aws), desired, targets, sources, () =>
            holdFinalSwitch(guard, rollout, config, desiredWeight, additionalDestinations, stableArn, call),
          );
          if (outcome.written) {
            gate.invalidate(rolloutUid(rollout));
            deps.logger?.info({ rollout: owner(config).value, desiredWeight, reasons: outcome.reasons }, 'listener rule forward rewritten');
          }
        },
        call?.signal,
      );
    },

    async verifyWeight(rollout, desiredWeight, additionalDestinations, call): Promise<VerifyWeightResult> {
      const config = parseListenerRuleConfig(rollout, deps.pluginName);
      const step = ruleWeightStep(rollout, config, desiredWeight, additionalDestinations);
      return gatedVerdict(verdicts, step, {
        // The call's budget for the reads (the same signal elbv2ForCall would make): a read cut off by it is a
        // deadline, which passes by itself.
        ...(call ? { deadline: () => stepSignal(call) } : {}),
        run: async (_moment, signal) => {
          const check = await checkWeights(checks, elbv2ForCall(deps.elbv2, call, signal), config, desiredWeight, additionalDestinations);
          return { verified: check.reasons.length === 0, reasons: check.reasons };
        },
      });
    },

    async setHeaderRoute(rollout: Rollout, headerRoute: SetHeaderRoute, call?: CallContext) {
      if (!headerRoute) return;
      const config = parseListenerRuleConfig(rollout, deps.pluginName);
      // Refused before any read, with the same text as in Ingress mode.
      const route = { name: headerRoute.name, matches: headerRouteMatches(headerRoute, config.managedRoutes) };
      const aws = elbv2ForCall(deps.elbv2, call);
      await queue.run(
        ruleKey(config),
        async () => {
          const canaryArn = await resolveRole(config.canary, config.namespace, deps);
          const { location, rule } = await rules.read(config, aws);
          const input = { location, driven: rule, canaryArn, owner: owner(config), tagCache };
          await applyHeaderRoute(aws, route, config.stickiness ? { ...input, stickiness: config.stickiness } : input);
        },
        call?.signal,
      );
    },

    async setMirrorRoute(_rollout: Rollout, mirrorRoute: SetMirrorRoute) {
      throw mirrorRouteRefusal(mirrorRoute);
    },

    async removeManagedRoutes(rollout, call) {
      // Header routes only exist for names listed in managedRoutes; without any there is nothing to look for.
      if (!rollout.spec.strategy.canary?.trafficRouting?.managedRoutes?.length) return;
      const config = parseListenerRuleConfig(rollout, deps.pluginName);
      const aws = elbv2ForCall(deps.elbv2, call);
      await queue.run(
        ruleKey(config),
        async () => {
          await removeOwnedRules(aws, await rules.listenerArn(config, aws), owner(config), tagCache);
        },
        call?.signal,
      );
    },

    async release(rollout) {
      const config = parseListenerRuleConfig(rollout, deps.pluginName);
      await queue.run(ruleKey(config), () => releaseRule({ elbv2: deps.elbv2, bindings: deps, rules, tagCache }, config, owner(config)));
    },

    async weightReport(rollout, desiredWeight, additionalDestinations = []) {
      const config = parseListenerRuleConfig(rollout, deps.pluginName);
      return weightReport(checks, deps.elbv2, config, desiredWeight, additionalDestinations);
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
