// Plugin.VerifyWeight in Gateway mode: does the ALB the LBC built from the Gateway carry the weights of the driven
// route rules? The design is docs/gateway-api-facts.md §9.1:
//   * the load balancer from Kubernetes: each parentRef's Gateway, its class must be the LBC's ALB controller, the
//     ARN is the message of Programmed=True (else the DNS name of status.addresses, one DescribeLoadBalancers scan);
//     a Gateway in dry-run (lbc-migrate's default) has no ALB;
//   * the target groups from the TargetGroupBindings the LBC made for the Gateway (no AWS call; when a Service backs
//     several routes of the Gateway, the target group's resource tag names the route, read once);
//   * the rules by their conditions (alb-rules.ts) on the listeners of the parentRef's section/port, forwarding to
//     the route's stable target group.
// Warm (every rule found before), a check is one DescribeRules(RuleArns) over all of them; a rule gone, or one whose
// conditions or target groups no longer match, is a miss and one cold rediscovery. The gate (src/verify/gate.ts)
// decides when a check is worth it, exactly as in the other modes; "not yet" answers carry no Err (Argo asks again
// in 10 s), configuration errors do.

import type { Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import { isNotFound, type Elbv2 } from '../../aws/elbv2.js';
import type { Rollout } from '../../core/rollout.js';
import { stableWeight, type DesiredWeight, type WeightStep } from '../../core/weights.js';
import { REASON_LOAD_BALANCER_NOT_FOUND, REASON_WEIGHT_UNVERIFIED, REASON_WEIGHT_VERIFIED } from '../../events/reasons.js';
import type { Logger } from '../../logger.js';
import { RpcVerified, type VerifyWeightResult } from '../../plugin/router.js';
import { type CallContext } from '../../plugin/call.js';
import type { EventSink } from '../../plugin/hooks.js';
import { rolloutUid, VerifyGate } from '../../verify/gate.js';
import { errorText, isTransientElbv2Failure } from '../../verify/elbv2-failures.js';
import { expectedSignatures, forwardWeights, ruleSignature, weightReasons, type ExpectedWeight, type Signature } from './alb-rules.js';
import type { HTTPRouteClient } from './client.js';
import type { GatewayConfig, RouteRef } from './config.js';
import type { GatewayBinding, GatewayReader } from './k8s.js';
import { GATEWAY_GROUP, selectRules, type HTTPRoute, type ParentRef } from './route.js';
import type { GatewayWeightVerifier } from './router.js';

export const ALB_GATEWAY_CONTROLLER = 'gateway.k8s.aws/alb';
export const DRY_RUN_ANNOTATION = 'gateway.k8s.aws/dry-run';
export const TG_RESOURCE_TAG = 'gateway.k8s.aws.alb/resource';
/** Rule discoveries (and target-group tags) kept for warm checks. */
const MAX_REMEMBERED = 5000;

export interface GatewayVerifierDeps {
  /** `--aws-verify-target-group`; off means NotImplemented and no AWS call, as in Ingress mode. */
  enabled: boolean;
  elbv2: Elbv2;
  routes: HTTPRouteClient;
  gateways: GatewayReader;
  events?: EventSink;
  log?: Logger;
  /** Deadline of one verification (default 20 s). */
  timeoutMs?: number;
}

export interface GatewayRuleReport {
  route: string;
  gateway: string;
  rule: string;
  ruleArn?: string;
  weights?: Record<string, number>;
  /** Target group ARN by Service, as the LBC's TargetGroupBindings for the Gateway name them. */
  targetGroups?: Record<string, string>;
}

export interface GatewayWeightReport {
  verified: boolean;
  reasons: string[];
  /** A failure (not "not yet"); `transient` when it passes by itself. */
  error?: string;
  transient?: boolean;
  rules: GatewayRuleReport[];
  /** ELBv2 calls this check made (the warm path makes one). */
  elbv2Calls: number;
}

/** A configuration problem found on the way: answered with Err, as the Ingress verifier does. */
class GatewayConfigProblem extends Error {
  override name = 'GatewayConfigProblem';
}

/** One (route, parentRef): where its rules are and what they must carry. */
interface Unit {
  key: string;
  route: string;
  gateway: string;
  lbArn: string;
  ports: number[];
  stableTg: string;
  /** Per driven route rule: its label and the signatures of its ALB rules. */
  rules: Array<{ label: string; signatures: Signature[] }>;
  expected: ExpectedWeight[];
  /** Target group ARN → Service, for the report. */
  services: Map<string, string>;
}

/** `host` matches `pattern` (exact, or `*.suffix` matching one or more leading labels). */
function hostMatches(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  return pattern.startsWith('*.') && host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
}

/**
 * The hostnames of a route's ALB rules on one listener: the route's hostnames that the listener's hostname admits
 * (the more specific of the two when one is a wildcard), the listener's hostname when the route has none.
 */
export function effectiveHostnames(routeHosts: readonly string[], listenerHost: string | undefined): string[] {
  if (!listenerHost) return [...routeHosts];
  if (routeHosts.length === 0) return [listenerHost];
  const out: string[] = [];
  for (const h of routeHosts) {
    if (hostMatches(listenerHost, h)) out.push(h);
    else if (hostMatches(h, listenerHost)) out.push(listenerHost);
  }
  return [...new Set(out)];
}

function programmedArn(gw: { status?: { conditions?: Array<{ type: string; status: string; message?: string }> } }): string | undefined {
  const c = gw.status?.conditions?.find((x) => x.type === 'Programmed' && x.status === 'True');
  return c?.message && /^arn:[^:]+:elasticloadbalancing:/.test(c.message) ? c.message : undefined;
}

export function createGatewayVerifier(deps: GatewayVerifierDeps): GatewayWeightVerifier & {
  report(config: GatewayConfig, desired: DesiredWeight[], signal?: AbortSignal): Promise<GatewayWeightReport>;
} {
  const gate = new VerifyGate();
  const timeoutMs = deps.timeoutMs ?? 20_000;
  /** Unit key → rule ARNs per driven rule, in `Unit.rules` order (each rule's ARNs in signature order). */
  const found = new Map<string, string[][]>();
  /** Target group ARN → its resource tag (immutable). */
  const tgTags = new Map<string, string>();

  async function bindingFor(bindings: GatewayBinding[], service: string, ref: RouteRef, config: GatewayConfig, counter: { calls: number }, signal: AbortSignal): Promise<string | undefined> {
    const arns = [...new Set(bindings.filter((b) => b.serviceName === service).map((b) => b.targetGroupArn))];
    if (arns.length <= 1) return arns[0];
    const unknown = arns.filter((a) => !tgTags.has(a));
    if (unknown.length > 0) {
      counter.calls++;
      const tags = await deps.elbv2.describeTags(unknown, { signal });
      for (const a of unknown) tgTags.set(a, tags.get(a)?.[TG_RESOURCE_TAG] ?? '');
      while (tgTags.size > MAX_REMEMBERED) tgTags.delete(tgTags.keys().next().value as string);
    }
    const needle = `:${ref.namespace}-${ref.name}:HTTPRoute-${config.namespace}-${service}:`;
    return arns.find((a) => (tgTags.get(a) ?? '').includes(needle));
  }

  async function units(config: GatewayConfig, desired: DesiredWeight[], counter: { calls: number }, reasons: string[], signal: AbortSignal): Promise<Unit[]> {
    const out: Unit[] = [];
    for (const ref of config.routes) {
      const routeLabel = `HTTPRoute ${ref.namespace}/${ref.name}`;
      const route: HTTPRoute = await deps.routes.get(ref.namespace, ref.name, { signal });
      let indices: number[];
      try {
        indices = selectRules(route, ref, config);
      } catch (err) {
        throw new GatewayConfigProblem((err as Error).message);
      }
      const parents = (route.spec.parentRefs ?? []).filter((p) => (p.kind ?? 'Gateway') === 'Gateway' && (p.group ?? GATEWAY_GROUP) === GATEWAY_GROUP);
      if (parents.length === 0) throw new GatewayConfigProblem(`${routeLabel} has no Gateway in spec.parentRefs; attach it to a Gateway of the ALB controller`);
      for (const parent of parents) {
        const unit = await unitOf(config, desired, ref, route, indices, parent, counter, reasons, signal);
        if (unit) out.push(unit);
      }
    }
    return out;
  }

  async function unitOf(
    config: GatewayConfig,
    desired: DesiredWeight[],
    ref: RouteRef,
    route: HTTPRoute,
    indices: number[],
    parent: ParentRef,
    counter: { calls: number },
    reasons: string[],
    signal: AbortSignal,
  ): Promise<Unit | undefined> {
    const gwNs = parent.namespace ?? ref.namespace;
    const gwLabel = `Gateway ${gwNs}/${parent.name}`;
    const gw = await deps.gateways.getGateway(gwNs, parent.name, signal);
    if (!gw) throw new GatewayConfigProblem(`${gwLabel} (a parentRef of HTTPRoute ${ref.namespace}/${ref.name}) does not exist`);
    if (gw.metadata.annotations?.[DRY_RUN_ANNOTATION] === 'true') {
      throw new GatewayConfigProblem(`${gwLabel} is annotated ${DRY_RUN_ANNOTATION}: "true" (lbc-migrate's default): the LBC builds no ALB for it; remove the annotation`);
    }
    const cls = await deps.gateways.getGatewayClass(gw.spec.gatewayClassName, signal);
    if (!cls) throw new GatewayConfigProblem(`GatewayClass ${gw.spec.gatewayClassName} of ${gwLabel} does not exist`);
    if (cls.spec.controllerName !== ALB_GATEWAY_CONTROLLER) {
      throw new GatewayConfigProblem(
        `GatewayClass ${gw.spec.gatewayClassName} of ${gwLabel} has controllerName ${cls.spec.controllerName}; only ${ALB_GATEWAY_CONTROLLER} (the AWS Load Balancer Controller's ALB) builds an ALB this plugin can verify`,
      );
    }
    let lbArn = programmedArn(gw);
    if (!lbArn) {
      const host = gw.status?.addresses?.find((a) => (a.type ?? 'Hostname') === 'Hostname')?.value?.toLowerCase();
      if (host) {
        counter.calls++;
        lbArn = (await deps.elbv2.findLoadBalancer((lb) => (lb.DNSName ?? '').toLowerCase() === host, { signal }))?.LoadBalancerArn;
      }
    }
    if (!lbArn) {
      reasons.push(`no load balancer found for ${gwLabel} yet (not Programmed, no address)`);
      return undefined;
    }
    const listeners = gw.spec.listeners ?? [];
    let ports: number[];
    if (parent.sectionName) ports = listeners.filter((l) => l.name === parent.sectionName).map((l) => l.port);
    else if (parent.port !== undefined) ports = [parent.port];
    else ports = listeners.filter((l) => l.protocol === 'HTTP' || l.protocol === 'HTTPS').map((l) => l.port);
    ports = [...new Set(ports)].sort((a, b) => a - b);
    if (ports.length === 0) throw new GatewayConfigProblem(`${gwLabel} has no listener for parentRef ${JSON.stringify(parent)} of HTTPRoute ${ref.namespace}/${ref.name}`);

    const bindings = await deps.gateways.listGatewayBindings(config.namespace, gwNs, parent.name, signal);
    const services = new Map<string, string>();
    const expected: ExpectedWeight[] = [];
    for (const d of desired) {
      const arn = await bindingFor(bindings, d.service, ref, config, counter, signal);
      const e: ExpectedWeight = { service: d.service, weight: d.weight };
      if (arn) {
        e.targetGroupArn = arn;
        services.set(arn, d.service);
      }
      expected.push(e);
    }
    const stableTg = expected.find((e) => e.service === config.services.stable)?.targetGroupArn;
    if (!stableTg) {
      reasons.push(`${gwLabel}: no target group for the stable Service ${config.services.stable} of HTTPRoute ${ref.namespace}/${ref.name} yet`);
      return undefined;
    }
    // The LBC's hostnames per listener (listener_attachment_helper.go hostnameCheck), united over the attached ones.
    const attached = listeners.filter((l) => ports.includes(l.port) && (!parent.sectionName || l.name === parent.sectionName));
    const hostnames = [...new Set(attached.flatMap((l) => effectiveHostnames(route.spec.hostnames ?? [], l.hostname)))];
    const rules = indices.map((i) => ({
      label: route.spec.rules![i]!.name ? `rule "${route.spec.rules![i]!.name}"` : `spec.rules[${i}]`,
      signatures: expectedSignatures(route.spec.rules![i]!, hostnames),
    }));
    const key = JSON.stringify([ref, gwNs, parent.name, lbArn, ports, stableTg, rules]);
    return { key, route: `${ref.namespace}/${ref.name}`, gateway: `${gwNs}/${parent.name}`, lbArn, ports, stableTg, rules, expected, services };
  }

  /** The unit's rules in `rules`, or undefined when any is missing or no longer matches. */
  function pick(unit: Unit, byArn: Map<string, Rule>, arns: string[][]): Rule[][] | undefined {
    const out: Rule[][] = [];
    for (let i = 0; i < unit.rules.length; i++) {
      const list: Rule[] = [];
      const sigs = unit.rules[i]!.signatures;
      const ruleArns = arns[i] ?? [];
      if (ruleArns.length !== sigs.length) return undefined;
      for (let j = 0; j < sigs.length; j++) {
        const r = byArn.get(ruleArns[j]!);
        if (!r || ruleSignature(r) !== sigs[j] || !forwardWeights(r).has(unit.stableTg)) return undefined;
        list.push(r);
      }
      out.push(list);
    }
    return out;
  }

  async function cold(unit: Unit, counter: { calls: number }, signal: AbortSignal): Promise<{ rules: Array<Array<Rule | undefined>> }> {
    counter.calls++;
    const listeners = (await deps.elbv2.describeListeners(unit.lbArn, { signal })).filter((l) => l.Port !== undefined && unit.ports.includes(l.Port));
    const all: Rule[] = [];
    for (const l of listeners) {
      counter.calls++;
      all.push(...(await deps.elbv2.describeRules({ listenerArn: l.ListenerArn! }, { signal })).filter((r) => !r.IsDefault));
    }
    const candidates = all.filter((r) => forwardWeights(r).has(unit.stableTg));
    return { rules: unit.rules.map((rule) => rule.signatures.map((s) => candidates.find((r) => ruleSignature(r) === s))) };
  }

  async function check(config: GatewayConfig, desired: DesiredWeight[], signal: AbortSignal): Promise<GatewayWeightReport> {
    const counter = { calls: 0 };
    const reasons: string[] = [];
    const report: GatewayWeightReport = { verified: false, reasons, rules: [], elbv2Calls: 0 };
    try {
      const list = await units(config, desired, counter, reasons, signal);
      // Warm: one DescribeRules over every rule found before.
      const warm = list.filter((u) => found.has(u.key));
      const resolved = new Map<string, Rule[][]>();
      const warmArns = [...new Set(warm.flatMap((u) => found.get(u.key)!.flat()))];
      if (warmArns.length > 0) {
        try {
          counter.calls++;
          const rules = await deps.elbv2.describeRules({ ruleArns: warmArns }, { signal });
          const byArn = new Map(rules.map((r) => [r.RuleArn!, r]));
          for (const u of warm) {
            const picked = pick(u, byArn, found.get(u.key)!);
            if (picked) resolved.set(u.key, picked);
          }
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
      for (const u of list) {
        let rules = resolved.get(u.key);
        if (!rules) {
          found.delete(u.key);
          const c = await cold(u, counter, signal);
          const missing = c.rules.flatMap((list, i) => list.map((r, j) => (r ? undefined : `${u.rules[i]!.label} (match ${j})`)).filter((x): x is string => !!x));
          if (missing.length > 0) {
            reasons.push(`load balancer of Gateway ${u.gateway}: no ALB rule for HTTPRoute ${u.route} ${missing.join(', ')} yet`);
            continue;
          }
          rules = c.rules as Rule[][];
          found.set(u.key, rules.map((l) => l.map((r) => r.RuleArn!)));
          // Bounded: the oldest discoveries go first (a later check of theirs is one cold rediscovery).
          while (found.size > MAX_REMEMBERED) found.delete(found.keys().next().value as string);
        }
        rules.forEach((list, i) =>
          list.forEach((r) => {
            const where = `load balancer of Gateway ${u.gateway}, HTTPRoute ${u.route} ${u.rules[i]!.label}`;
            reasons.push(...weightReasons(r, u.expected, where));
            report.rules.push({
              route: u.route,
              gateway: u.gateway,
              rule: u.rules[i]!.label,
              ruleArn: r.RuleArn!,
              weights: Object.fromEntries([...forwardWeights(r)].map(([arn, w]) => [u.services.get(arn) ?? arn, w])),
              targetGroups: Object.fromEntries([...u.services].map(([arn, svc]) => [svc, arn])),
            });
          }),
        );
      }
      report.verified = reasons.length === 0 && list.length > 0;
    } catch (err) {
      report.error = errorText(err);
      report.transient = !(err instanceof GatewayConfigProblem) && (isTransientElbv2Failure(err) || signal.aborted);
    }
    report.elbv2Calls = counter.calls;
    return report;
  }

  function signalFor(call?: CallContext): AbortSignal {
    const t = AbortSignal.timeout(timeoutMs);
    return call ? AbortSignal.any([t, call.signal]) : t;
  }

  function emit(rollout: Rollout, step: WeightStep, report: GatewayWeightReport): void {
    if (!deps.events) return;
    if (report.verified) {
      deps.events.emit(rollout, {
        type: 'Normal',
        reason: REASON_WEIGHT_VERIFIED,
        message: `Weights verified on the Gateway's load balancer: canary ${step.desiredWeight}, stable ${stableWeight(step)}`,
      });
    } else if (report.error) {
      deps.events.emit(rollout, { type: 'Warning', reason: REASON_WEIGHT_UNVERIFIED, message: report.transient ? `${report.error}; checking again` : report.error });
    } else if (report.reasons.length > 0) {
      const lbMissing = report.reasons[0]!.startsWith('no load balancer found');
      deps.events.emit(rollout, { type: 'Warning', reason: lbMissing ? REASON_LOAD_BALANCER_NOT_FOUND : REASON_WEIGHT_UNVERIFIED, message: report.reasons[0]! });
    }
  }

  return {
    async verifyWeight(step, config, desired, call): Promise<VerifyWeightResult> {
      if (!deps.enabled) return { verified: RpcVerified.NotImplemented };
      const decision = gate.decide(step);
      if (decision.kind === 'remembered') return { verified: RpcVerified.Verified };
      if (decision.kind === 'skip') return { verified: RpcVerified.NotImplemented };
      const uid = gate.uidOf(step);
      const writes = gate.writesOf(uid);
      const report = await check(config, desired, signalFor(call));
      gate.record(uid, decision.key, report.verified ? 'verified' : 'pending', writes);
      deps.log?.debug({ rollout: `${config.namespace}/${config.rolloutName}`, verified: report.verified, reasons: report.reasons, error: report.error, elbv2Calls: report.elbv2Calls }, 'gateway weight verification');
      emit(step.rollout, step, report);
      if (report.verified) return { verified: RpcVerified.Verified };
      return report.error && !report.transient
        ? { verified: RpcVerified.NotVerified, err: `weight verification failed: ${report.error}` }
        : { verified: RpcVerified.NotVerified };
    },
    invalidate(rollout: Rollout): void {
      gate.invalidate(rolloutUid(rollout));
    },
    async carries(config, desired, signal) {
      if (!deps.enabled) return { ok: true };
      const report = await check(config, desired, signal ? AbortSignal.any([AbortSignal.timeout(timeoutMs), signal]) : AbortSignal.timeout(timeoutMs));
      // A configuration problem is VerifyWeight's to report; it must not hold header routes for good.
      if (report.error && !report.transient) return { ok: true };
      return report.verified ? { ok: true } : { ok: false, why: report.error ?? report.reasons[0] ?? 'not verified' };
    },
    report(config, desired, signal) {
      return check(config, desired, signal ?? AbortSignal.timeout(timeoutMs));
    },
  };
}
