// What the end-to-end scenarios look at, the way a user would: the Rollout's status, the Ingress and every
// revision of it, the listener rules the LBC wrote into the load balancer (weights per Service, through the
// TargetGroupBindings the LBC made), registered targets, Events, and the sidecar's API and metrics.
import { CoreV1Api, CustomObjectsApi, NetworkingV1Api, PatchStrategy, setHeaderOptions, Watch, type V1Ingress } from '@kubernetes/client-node';
import { forwardRules, loadBalancerByHostname, registeredTargets, type ForwardRule } from './aws.js';
import { SIDECAR_HTTP, type Stack } from './stack.js';
import { sleep } from '../../support/processes.js';

/** `kubectl patch --type merge` */
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface RolloutStatus {
  phase?: string;
  message?: string;
  abort?: boolean;
  currentStepIndex?: number;
  currentPodHash?: string;
  stableRS?: string;
  observedGeneration?: string;
  canary?: { weights?: { canary: { weight: number }; stable: { weight: number } }; stablePingPong?: string };
  conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
}

export interface RolloutObject {
  metadata: { name: string; namespace: string; generation?: number; uid?: string };
  spec: { strategy: { canary?: { steps?: unknown[] } } };
  status?: RolloutStatus;
}

export class Observer {
  readonly custom: CustomObjectsApi;
  readonly core: CoreV1Api;
  readonly net: NetworkingV1Api;

  constructor(readonly stack: Stack) {
    this.custom = stack.admin.makeApiClient(CustomObjectsApi);
    this.core = stack.admin.makeApiClient(CoreV1Api);
    this.net = stack.admin.makeApiClient(NetworkingV1Api);
  }

  async namespace(prefix: string): Promise<string> {
    return this.stack.env.createNamespace(prefix);
  }

  async rollout(ns: string, name: string): Promise<RolloutObject> {
    return (await this.custom.getNamespacedCustomObject({ group: 'argoproj.io', version: 'v1alpha1', namespace: ns, plural: 'rollouts', name })) as RolloutObject;
  }

  async patchRollout(ns: string, name: string, patch: Record<string, unknown>): Promise<void> {
    await this.custom.patchNamespacedCustomObject(
      { group: 'argoproj.io', version: 'v1alpha1', namespace: ns, plural: 'rollouts', name, body: patch },
      // A merge patch, as `kubectl patch --type merge` sends it.
      MERGE,
    );
  }

  /** What `kubectl argo rollouts abort` does: status.abort on the status subresource. */
  async abort(ns: string, name: string): Promise<void> {
    await this.custom.patchNamespacedCustomObjectStatus(
      { group: 'argoproj.io', version: 'v1alpha1', namespace: ns, plural: 'rollouts', name, body: { status: { abort: true } } },
      MERGE,
    );
  }

  /** Paused at an indefinite pause step (what `kubectl argo rollouts promote` then moves on). */
  async untilPaused(ns: string, name: string, timeoutMs = 180_000): Promise<RolloutObject> {
    return this.until(
      `Rollout ${ns}/${name} paused at a step`,
      async () => {
        const ro = await this.rollout(ns, name);
        const conditions = (ro.status as { pauseConditions?: unknown[] } | undefined)?.pauseConditions ?? [];
        return conditions.length > 0 ? ro : undefined;
      },
      timeoutMs,
      () => this.diagnose(ns, name),
    );
  }

  /**
   * What `kubectl argo rollouts promote` does: unpause, and clear the pause conditions of the current step.
   * Waits for the pause first: promoting a Rollout that has not paused yet does nothing.
   */
  async promote(ns: string, name: string): Promise<void> {
    await this.untilPaused(ns, name);
    const ro = (await this.rollout(ns, name)) as unknown as { spec: { paused?: boolean } };
    if (ro.spec.paused) await this.patchRollout(ns, name, { spec: { paused: false } });
    await this.custom.patchNamespacedCustomObjectStatus(
      { group: 'argoproj.io', version: 'v1alpha1', namespace: ns, plural: 'rollouts', name, body: { status: { pauseConditions: null } } },
      MERGE,
    );
  }

  /** A new revision: what `kubectl argo rollouts set image` amounts to. */
  async setImage(ns: string, name: string, image: string): Promise<void> {
    const ro = (await this.rollout(ns, name)) as unknown as { spec: { template: { spec: { containers: Array<{ name: string }> } } } };
    const containers = ro.spec.template.spec.containers.map((c, i) => (i === 0 ? { ...c, image } : c));
    await this.patchRollout(ns, name, { spec: { template: { spec: { containers } } } });
  }

  async deleteRollout(ns: string, name: string): Promise<void> {
    await this.custom.deleteNamespacedCustomObject({ group: 'argoproj.io', version: 'v1alpha1', namespace: ns, plural: 'rollouts', name });
  }

  async until<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 120_000, onTimeout?: () => Promise<string>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const v = await read();
        if (v !== undefined) return v;
      } catch (err) {
        last = err;
      }
      await sleep(250);
    }
    const extra = onTimeout ? await onTimeout().catch((e: unknown) => String(e)) : '';
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}\n${extra}`);
  }

  /** Healthy, fully promoted, at the latest generation. */
  async untilHealthy(ns: string, name: string, timeoutMs = 180_000): Promise<RolloutObject> {
    return this.until(
      `Rollout ${ns}/${name} Healthy and fully promoted`,
      async () => {
        const ro = await this.rollout(ns, name);
        const s = ro.status;
        const ok = s?.phase === 'Healthy' && s.stableRS !== undefined && s.stableRS === s.currentPodHash && String(ro.metadata.generation) === s.observedGeneration;
        return ok ? ro : undefined;
      },
      timeoutMs,
      () => this.diagnose(ns, name),
    );
  }

  async ingress(ns: string, name: string): Promise<V1Ingress> {
    return this.net.readNamespacedIngress({ namespace: ns, name });
  }

  async hostname(ns: string, ingress: string, timeoutMs = 120_000): Promise<string> {
    return this.until(`a load-balancer hostname on Ingress ${ns}/${ingress}`, async () => {
      const ing = await this.ingress(ns, ingress);
      return ing.status?.loadBalancer?.ingress?.[0]?.hostname || undefined;
    }, timeoutMs, () => this.diagnose(ns));
  }

  /** Target group ARN → Service name, from the TargetGroupBindings the LBC created. */
  async targetGroupServices(ns: string): Promise<Map<string, string>> {
    const list = (await this.custom.listNamespacedCustomObject({ group: 'elbv2.k8s.aws', version: 'v1beta1', namespace: ns, plural: 'targetgroupbindings' })) as {
      items: Array<{ spec: { targetGroupARN: string; serviceRef: { name: string } } }>;
    };
    return new Map(list.items.map((t) => [t.spec.targetGroupARN, t.spec.serviceRef.name]));
  }

  /** Every forwarding rule of the Ingress's load balancer, with weights keyed by Service name. */
  async albRules(ns: string, ingress: string): Promise<Array<ForwardRule & { services: Record<string, number> }>> {
    const host = await this.hostname(ns, ingress);
    const lb = await loadBalancerByHostname(this.stack.elbv2, host);
    if (!lb) return [];
    const names = await this.targetGroupServices(ns);
    return (await forwardRules(this.stack.elbv2, lb)).map((r) => ({
      ...r,
      services: Object.fromEntries([...r.weights].map(([arn, w]) => [names.get(arn) ?? arn, w])),
    }));
  }

  /** Weights of the rule that forwards to `stableService` without header conditions (the action's rule). */
  async albWeights(ns: string, ingress: string, stableService: string): Promise<Record<string, number> | undefined> {
    const rules = await this.albRules(ns, ingress);
    const main = rules.find((r) => stableService in r.services && !(r.conditions ?? []).some((c) => c.Field === 'http-header'));
    return main?.services;
  }

  async targets(ns: string, service: string): Promise<Array<{ ip: string; state: string }>> {
    const names = await this.targetGroupServices(ns);
    const arn = [...names].find(([, svc]) => svc === service)?.[0];
    return arn ? registeredTargets(this.stack.elbv2, arn) : [];
  }

  async podIPs(ns: string, labelSelector: string): Promise<string[]> {
    const pods = await this.core.listNamespacedPod({ namespace: ns, labelSelector });
    return pods.items.filter((p) => !p.metadata?.deletionTimestamp && p.status?.podIP).map((p) => p.status!.podIP!).sort();
  }

  async events(ns: string, involvedName: string): Promise<Array<{ reason: string; message: string; type: string; source: string }>> {
    const list = await this.core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${involvedName}` });
    return list.items.map((e) => ({ reason: e.reason ?? '', message: e.message ?? '', type: e.type ?? '', source: e.source?.component ?? e.reportingComponent ?? '' }));
  }

  async sidecarApi(ns: string, name: string): Promise<{ verified: boolean; reasons: string[] } & Record<string, unknown>> {
    const res = await fetch(`${SIDECAR_HTTP}/api/v1/rollouts/${ns}/${name}/verify`, { signal: AbortSignal.timeout(20_000) });
    return (await res.json()) as { verified: boolean; reasons: string[] };
  }

  /**
   * Polls the sidecar's verdict the way an AnalysisRun's web metric does, until verified. Argo updates
   * status.canary.weights a reconcile after the final switch, and the API judges the weights the status names,
   * so the first answer after a promotion can still be about the last step's weight.
   */
  async untilApiVerified(ns: string, name: string, timeoutMs = 60_000): Promise<Array<{ desired: unknown; verified: boolean; live: unknown }>> {
    const answers: Array<{ desired: unknown; verified: boolean; live: unknown }> = [];
    await this.until(`the sidecar API to say ${ns}/${name} is verified`, async () => {
      const api = await this.sidecarApi(ns, name);
      const live = (await this.rollout(ns, name)).status?.canary?.weights?.canary.weight;
      answers.push({ desired: (api.rollout as { desiredWeight?: unknown } | undefined)?.desiredWeight, verified: api.verified, live });
      return api.verified ? true : undefined;
    }, timeoutMs, async () => JSON.stringify(answers));
    return answers;
  }

  async metrics(): Promise<string> {
    const res = await fetch(`${SIDECAR_HTTP}/metrics`, { signal: AbortSignal.timeout(5000) });
    return res.text();
  }

  async diagnose(ns: string, rollout?: string): Promise<string> {
    const parts: string[] = [];
    if (rollout) {
      const ro = await this.rollout(ns, rollout).catch((e: unknown) => String(e));
      parts.push(`rollout: ${JSON.stringify(typeof ro === 'string' ? ro : ro.status)}`);
      parts.push(`events: ${JSON.stringify(await this.events(ns, rollout).catch(() => []))}`);
    }
    const ings = await this.net.listNamespacedIngress({ namespace: ns }).catch(() => undefined);
    for (const i of ings?.items ?? []) parts.push(`ingress ${i.metadata?.name}: ${JSON.stringify({ a: i.metadata?.annotations, s: i.status })}`);
    for (const name of ['controller', 'sidecar', 'lbc'] as const) parts.push(`--- ${name} log:\n${this.stack.logs(name, 2500)}`);
    return parts.join('\n');
  }
}

export interface IngressRevision {
  resourceVersion: string;
  annotations: Record<string, string>;
  /** Managers of the newest managedFields entry (who wrote this revision). */
  manager: string;
  at: number;
}

/** Records every revision of the Ingresses in a namespace through a watch (nothing is sampled). */
export class IngressRecorder {
  readonly revisions = new Map<string, IngressRevision[]>();
  private req: { abort(): void } | undefined;

  constructor(private readonly stack: Stack, private readonly ns: string) {}

  async start(): Promise<void> {
    const watch = new Watch(this.stack.admin);
    this.req = await watch.watch(
      `/apis/networking.k8s.io/v1/namespaces/${this.ns}/ingresses`,
      {},
      (_type: string, obj: V1Ingress) => {
        const name = obj.metadata?.name ?? '';
        const fields = [...(obj.metadata?.managedFields ?? [])].sort((a, b) => String(a.time ?? '').localeCompare(String(b.time ?? '')));
        const list = this.revisions.get(name) ?? [];
        if (list.at(-1)?.resourceVersion === obj.metadata?.resourceVersion) return;
        list.push({
          resourceVersion: obj.metadata?.resourceVersion ?? '',
          annotations: { ...(obj.metadata?.annotations ?? {}) },
          manager: fields.at(-1)?.manager ?? '',
          at: Date.now(),
        });
        this.revisions.set(name, list);
      },
      () => undefined,
    );
  }

  /** The successive distinct values of one annotation (undefined when absent). */
  values(ingress: string, key: string): Array<string | undefined> {
    const out: Array<string | undefined> = [];
    for (const r of this.revisions.get(ingress) ?? []) {
      const v = r.annotations[key];
      if (out.length === 0 || out.at(-1) !== v) out.push(v);
    }
    return out;
  }

  stop(): void {
    this.req?.abort();
  }
}

export interface Sample {
  at: number;
  step?: number;
  phase?: string;
  abort?: boolean;
  statusCanaryWeight?: number;
  alb?: Record<string, number>;
}

/**
 * Samples the Rollout status and then the ALB rule, in that order, until stopped: a sample whose Rollout is past
 * a step and whose ALB (read after it) does not yet carry that step's weight is a step that advanced too early.
 */
export class Timeline {
  readonly samples: Sample[] = [];
  private running = true;
  private loop: Promise<void> | undefined;

  constructor(private readonly obs: Observer, private readonly ns: string, private readonly rollout: string, private readonly ingress: string, private readonly stable: string) {}

  start(): void {
    this.loop = (async () => {
      while (this.running) {
        await this.sample();
        await sleep(200);
      }
      // One more after the caller's last wait, so the final state is in the record.
      await this.sample();
    })();
  }

  private async sample(): Promise<void> {
    try {
      const ro = await this.obs.rollout(this.ns, this.rollout);
      const alb = await this.obs.albWeights(this.ns, this.ingress, this.stable);
      this.samples.push({
        at: Date.now(),
        ...(ro.status?.currentStepIndex !== undefined ? { step: ro.status.currentStepIndex } : {}),
        ...(ro.status?.phase ? { phase: ro.status.phase } : {}),
        ...(ro.status?.abort ? { abort: true } : {}),
        ...(ro.status?.canary?.weights ? { statusCanaryWeight: ro.status.canary.weights.canary.weight } : {}),
        ...(alb ? { alb } : {}),
      });
    } catch {
      // A read can fail while a peer restarts; the next sample tries again.
    }
  }

  async stop(): Promise<Sample[]> {
    this.running = false;
    await this.loop;
    return this.samples;
  }
}

/** The canary share of an ALB sample as a percentage of the total weight. */
export function canaryShare(alb: Record<string, number> | undefined, canary: string): number | undefined {
  if (!alb) return undefined;
  const total = Object.values(alb).reduce((a, b) => a + b, 0);
  return total === 0 ? 0 : Math.round(((alb[canary] ?? 0) * 100) / total);
}
