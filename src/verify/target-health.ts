// TargetGroup IP verification (argo-alb-spec.md §8): does every target group bound to a Service hold the
// Service's ready pods? Argo counts any registered target; the default here counts only `healthy`
// ones, because `initial`, `unhealthy` and `draining` targets receive no traffic (§11.7).
//
// Which pods: when the Service selects by `rollouts-pod-template-hash` (Argo puts it on the stable and canary
// Services), the pods its selector picks now, read from the pods API. EndpointSlices lag behind a selector
// switch and may still list the old ReplicaSet's pods (already in the target group) right after Argo
// re-points the stable Service, which would verify the wrong pods. Otherwise the ready EndpointSlice
// endpoints, as Argo does.
import type { TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { CallOptions, Elbv2 } from '../aws/elbv2.js';
import type { VerifyMode } from '../settings.js';
import type { EndpointSliceView, EndpointsView, ServicePortView, ServiceView, TargetGroupBindingView, TargetsK8s } from './k8s.js';

export type { VerifyMode };

/** A pod as target verification reads it. */
export interface PodView {
  name: string;
  /** `status.podIP`; absent until the pod has one. */
  ip?: string;
  /** Condition Ready is True. */
  ready: boolean;
  /** Has a deletionTimestamp. */
  terminating: boolean;
  labels?: Record<string, string>;
  /** Container ports, for a named targetPort. */
  ports: Array<{ name?: string; containerPort: number }>;
}

/** The pods read target verification needs beyond TargetsK8s (src/verify/k8s-targets.ts implements both). */
export interface PodReader {
  /** Pods matching every label of `selector` (a Service's `spec.selector`). */
  listPods(namespace: string, selector: Record<string, string>): Promise<PodView[]>;
}

/** The label Argo Rollouts puts on every pod and on the stable/canary Service selectors. */
export const POD_TEMPLATE_HASH_LABEL = 'rollouts-pod-template-hash';

export interface TargetGroupTargetsReport {
  targetGroupBinding: string;
  targetGroupArn: string;
  targetType: string;
  /** Why the target group was not checked (instance mode, unresolvable port). */
  skipped?: string;
  expected: number;
  registered: number;
  healthy: number;
  verified: boolean;
  /** Expected `ip:port` that are not registered, or not healthy in `healthy` mode (first 20). */
  missing: string[];
  /** Target health states of the expected targets. */
  states: Record<string, number>;
  error?: string;
}

/** JSON-friendly result of `verifyTargets`, also served by the HTTP API. */
export interface TargetsReport {
  namespace: string;
  service: string;
  mode: VerifyMode;
  /**
   * The `rollouts-pod-template-hash` the Service selects: the ReplicaSet whose pods were compared (read from
   * the pods API). Absent when its selector has no such label (then the ready EndpointSlice endpoints were).
   */
  podTemplateHash?: string;
  verified: boolean;
  reasons: string[];
  error?: string;
  targetGroups: TargetGroupTargetsReport[];
}

/** A TGB's `serviceRef.port` names a Service port by number or by name (§9.2 case 7). */
export function matchServicePort(service: ServiceView, ref: number | string): ServicePortView | undefined {
  return service.ports.find((p) => (typeof ref === 'number' ? p.port === ref : p.name === ref || String(p.port) === ref));
}

/**
 * The `ip:port` targets the LBC registers for a Service port: every ready, non-terminating endpoint, at the
 * numeric target port. A named targetPort resolves per EndpointSlice (pods may number it differently) via
 * the slice port carrying the Service port's name; Argo instead looks the targetPort name up (§9.2 case 3),
 * which is kept as a fallback.
 */
export function expectedTargets(servicePort: ServicePortView, slices: EndpointSliceView[]): Set<string> | undefined {
  const out = new Set<string>();
  const tp = servicePort.targetPort ?? servicePort.port;
  for (const slice of slices) {
    let port: number | undefined;
    if (typeof tp === 'number') {
      port = tp;
    } else {
      const byName = (n: string | undefined) => slice.ports.find((p) => p.name === n)?.port;
      port = byName(servicePort.name ?? '') ?? byName(tp);
      if (port === undefined && slice.ports.length === 1 && !servicePort.name) port = slice.ports[0]!.port;
    }
    const ready = slice.endpoints.filter((e) => e.conditions?.ready !== false && e.conditions?.terminating !== true);
    if (ready.length === 0) continue;
    if (port === undefined) return undefined;
    for (const e of ready) for (const a of e.addresses) out.add(`${a}:${port}`);
  }
  return out;
}

/**
 * The `ip:port` targets for a Service port from the pods its selector picks: ready, not terminating, with an
 * IP; a named targetPort resolves per pod through its container ports (a pod without that port is left out,
 * as the endpoints controller does).
 */
export function expectedTargetsFromPods(servicePort: ServicePortView, pods: PodView[]): Set<string> {
  const out = new Set<string>();
  const tp = servicePort.targetPort ?? servicePort.port;
  for (const pod of pods) {
    if (!pod.ready || pod.terminating || !pod.ip) continue;
    const port = typeof tp === 'number' ? tp : pod.ports.find((p) => p.name === tp)?.containerPort;
    if (port !== undefined) out.add(`${pod.ip}:${port}`);
  }
  return out;
}

/** Legacy Endpoints in the EndpointSlice shape: ready addresses only (`notReadyAddresses` are ignored). */
export function slicesFromEndpoints(ep: EndpointsView): EndpointSliceView[] {
  return ep.subsets.map((s) => ({
    ports: s.ports.map((p) => ({ ...(p.name !== undefined ? { name: p.name } : {}), port: p.port })),
    endpoints: s.addresses.map((a) => ({ addresses: [a.ip] })),
  }));
}

const NOT_REGISTERED = new Set(['unused', 'unavailable']);

/** Pure: expected targets against DescribeTargetHealth. Extra targets (old pods, other ports) are ignored. */
export function evaluateTargets(
  expected: Set<string>,
  health: TargetHealthDescription[],
  mode: VerifyMode,
): Pick<TargetGroupTargetsReport, 'expected' | 'registered' | 'healthy' | 'verified' | 'missing' | 'states'> {
  const stateOf = new Map<string, string>();
  for (const h of health) {
    const id = h.Target?.Id;
    const port = h.Target?.Port;
    if (!id || port === undefined) continue;
    stateOf.set(`${id}:${port}`, h.TargetHealth?.State ?? 'unknown');
  }
  let registered = 0;
  let healthy = 0;
  const missing: string[] = [];
  const states: Record<string, number> = {};
  for (const t of [...expected].sort()) {
    const state = stateOf.get(t);
    if (state !== undefined) states[state] = (states[state] ?? 0) + 1;
    const isRegistered = state !== undefined && !NOT_REGISTERED.has(state);
    if (isRegistered) registered++;
    if (state === 'healthy') healthy++;
    if (!(mode === 'healthy' ? state === 'healthy' : isRegistered)) missing.push(state ? `${t} (${state})` : t);
  }
  const counted = mode === 'healthy' ? healthy : registered;
  // With nothing expected, `registered` is trivially complete (Argo); `healthy` refuses to call an empty
  // target group ready, since switching traffic to it would serve 503s.
  const verified = counted === expected.size && (mode === 'registered' || expected.size > 0);
  return { expected: expected.size, registered, healthy, verified, missing: missing.slice(0, 20), states };
}

export interface TargetVerifierDeps {
  elbv2: Elbv2;
  /** With `listPods` (createTargetsK8s has it), Services selecting by pod template hash are checked against their pods. */
  k8s: TargetsK8s & Partial<PodReader>;
  /** `--aws-target-group-binding-api-version`. */
  targetGroupBindingApiVersion: string;
  /** `--verify-mode`. */
  mode: VerifyMode;
  timeoutMs?: number;
}

export interface TargetVerifier {
  verifyTargets(namespace: string, service: string, mode?: VerifyMode): Promise<TargetsReport>;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function createTargetVerifier(deps: TargetVerifierDeps): TargetVerifier {
  async function endpoints(namespace: string, service: string): Promise<EndpointSliceView[]> {
    const slices = await deps.k8s.listEndpointSlices(namespace, service);
    if (slices !== undefined) return slices;
    const ep = await deps.k8s.getEndpoints(namespace, service);
    return ep ? slicesFromEndpoints(ep) : [];
  }

  /** The Service's ready targets per Service port: from its pods (hash selector) or its endpoints. */
  async function targetSource(
    namespace: string,
    svc: ServiceView & { selector?: Record<string, string> },
  ): Promise<{ podTemplateHash?: string; expected: (sp: ServicePortView) => Set<string> | undefined }> {
    const hash = svc.selector?.[POD_TEMPLATE_HASH_LABEL];
    if (hash && deps.k8s.listPods) {
      const pods = await deps.k8s.listPods(namespace, svc.selector!);
      return { podTemplateHash: hash, expected: (sp) => expectedTargetsFromPods(sp, pods) };
    }
    const slices = await endpoints(namespace, svc.name);
    return { expected: (sp) => expectedTargets(sp, slices) };
  }

  async function one(
    tgb: TargetGroupBindingView,
    svc: ServiceView,
    expectedFor: (sp: ServicePortView) => Set<string> | undefined,
    mode: VerifyMode,
    o: CallOptions,
  ): Promise<TargetGroupTargetsReport> {
    const base = {
      targetGroupBinding: tgb.name,
      targetGroupArn: tgb.targetGroupArn,
      targetType: tgb.targetType ?? 'instance',
      expected: 0,
      registered: 0,
      healthy: 0,
      missing: [],
      states: {},
    };
    if (base.targetType !== 'ip') {
      return { ...base, verified: true, skipped: 'instance-mode target group: targets are nodes, not pod IPs' };
    }
    const sp = matchServicePort(svc, tgb.serviceRef.port)!;
    const expected = expectedFor(sp);
    if (!expected) {
      return {
        ...base,
        verified: true,
        skipped: `cannot resolve the numeric target port of Service port ${String(tgb.serviceRef.port)} (targetPort ${String(sp.targetPort)}) from the endpoints`,
      };
    }
    try {
      const health = await deps.elbv2.describeTargetHealth(tgb.targetGroupArn, o);
      return { ...base, ...evaluateTargets(expected, health, mode) };
    } catch (err) {
      return { ...base, expected: expected.size, verified: false, error: message(err) };
    }
  }

  return {
    async verifyTargets(namespace: string, service: string, mode: VerifyMode = deps.mode): Promise<TargetsReport> {
      const report: TargetsReport = { namespace, service, mode, verified: false, reasons: [], targetGroups: [] };
      const o = { signal: AbortSignal.timeout(deps.timeoutMs ?? 20_000) };
      try {
        const svc = await deps.k8s.getService(namespace, service);
        if (!svc) {
          report.error = `Service ${namespace}/${service} not found`;
          return report;
        }
        const tgbs = (await deps.k8s.listTargetGroupBindings(namespace, deps.targetGroupBindingApiVersion)).filter(
          (t) => t.serviceRef.name === service && matchServicePort(svc, t.serviceRef.port) !== undefined,
        );
        if (tgbs.length === 0) {
          report.verified = true;
          report.reasons.push(`no TargetGroupBinding (${deps.targetGroupBindingApiVersion}) refers to Service ${namespace}/${service}; nothing to verify`);
          return report;
        }
        const source = await targetSource(namespace, svc);
        if (source.podTemplateHash) report.podTemplateHash = source.podTemplateHash;
        for (const tgb of tgbs) report.targetGroups.push(await one(tgb, svc, source.expected, mode, o));
      } catch (err) {
        report.error = message(err);
        return report;
      }
      for (const tg of report.targetGroups) {
        if (tg.error) report.reasons.push(`target group ${tg.targetGroupArn}: ${tg.error}`);
        else if (!tg.verified) {
          const counted = mode === 'healthy' ? tg.healthy : tg.registered;
          const where = `target group ${tg.targetGroupArn} (TargetGroupBinding ${tg.targetGroupBinding})`;
          const hash = report.podTemplateHash;
          report.reasons.push(
            hash
              ? tg.expected === 0
                ? `${where}: Service ${service} selects no ready pod of ReplicaSet ${POD_TEMPLATE_HASH_LABEL}=${hash}`
                : `${where}: ${counted}/${tg.expected} pods of ReplicaSet ${POD_TEMPLATE_HASH_LABEL}=${hash} ${mode}`
              : tg.expected === 0
                ? `${where}: Service ${service} has no ready endpoints`
                : `${where}: ${counted}/${tg.expected} endpoints ${mode}`,
          );
        }
      }
      const errors = report.targetGroups.filter((t) => t.error);
      if (errors.length > 0) report.error = errors.map((t) => `${t.targetGroupArn}: ${t.error!}`).join('; ');
      report.verified = report.targetGroups.every((t) => t.verified);
      return report;
    },
  };
}
