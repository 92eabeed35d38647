// What the end-to-end scenarios look at, the way a user would: the Rollout's status, the Ingress and every
// revision of it, the listener rules the LBC wrote into the load balancer (weights per Service, through the
// TargetGroupBindings the LBC made), registered targets, Events, and the sidecar's API and metrics.
import { CoreV1Api, CustomObjectsApi, NetworkingV1Api, PatchStrategy, setHeaderOptions, Watch, type V1Ingress } from '@kubernetes/client-node';
import { forwardRules, loadBalancerByHostname, registeredTargets, type ForwardRule } from './aws.js';
import { SIDECAR_HTTP, type Stack } from './stack.js';
import { sleep } from '../../support/processes.js';
import { canaryShare, conditionText, fieldOwners, foreignWeightWrites, noEarlyStep, noRevert, placesOf, requireSamples, RuleViolation, sharesAt, type ManagedField, type Places, type Sample, type StepView, type WeightRevision } from './rules.js';

export type { Places, Sample } from './rules.js';

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

  /**
   * The places an Ingress's action carries weights: every ALB rule, on every listener, that forwards to
   * `stableService` without an http-header condition, keyed `alb :<port> <conditions>`.
   */
  async ingressPlaces(ns: string, ingress: string, stableService: string): Promise<Places> {
    const out: Places = {};
    for (const r of await this.albRules(ns, ingress)) {
      if (!(stableService in r.services) || (r.conditions ?? []).some((c) => c.Field === 'http-header')) continue;
      out[`alb :${r.listenerPort} ${conditionText(r.conditions)}`] = r.services;
    }
    return out;
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

/** The field manager of every write the plugin makes to Kubernetes (src/version.ts: its User-Agent's product). */
export const PLUGIN_FIELD_MANAGER = 'rollouts-plugin-trafficrouter-alb';

export interface IngressRevision {
  resourceVersion: string;
  annotations: Record<string, string>;
  /** Managers of the newest managedFields entry (who wrote this revision, to the second). */
  manager: string;
  /**
   * Who wrote this revision: the managers whose managedFields entry changed from the previous revision (time or
   * fields); for the first revision seen, or when no entry changed (two writes in one second with the same
   * fields), the owners of the annotations that changed.
   */
  writers: string[];
  /** Annotation key → the manager owning it in this revision's managedFields. */
  owners: Record<string, string>;
  at: number;
}


function entryKey(f: ManagedField): string {
  return `${f.manager ?? ''}|${f.operation ?? ''}|${f.subresource ?? ''}`;
}

/** Annotation key → owning manager, from managedFields (`f:metadata` → `f:annotations` → `f:<key>`). */
export function annotationOwners(fields: ManagedField[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields) {
    const ann = ((f.fieldsV1 as Record<string, Record<string, Record<string, unknown>>> | undefined)?.['f:metadata']?.['f:annotations'] ?? {}) as Record<string, unknown>;
    for (const k of Object.keys(ann)) if (k.startsWith('f:')) out[k.slice(2)] = f.manager ?? '';
  }
  return out;
}

/**
 * Records every revision of the Ingresses in a namespace through a watch (nothing is sampled), with who wrote each
 * and who owns each annotation. A watch error fails `stop()`.
 */
export class IngressRecorder {
  readonly revisions = new Map<string, IngressRevision[]>();
  private readonly lastFields = new Map<string, Map<string, string>>();
  private req: { abort(): void } | undefined;
  private stopped = false;
  private watchError: unknown;

  constructor(private readonly stack: Stack, private readonly ns: string) {}

  async start(): Promise<void> {
    const watch = new Watch(this.stack.admin);
    this.req = await watch.watch(
      `/apis/networking.k8s.io/v1/namespaces/${this.ns}/ingresses`,
      {},
      (_type: string, obj: V1Ingress) => this.record(obj),
      (err: unknown) => {
        if (!this.stopped) this.watchError = err ?? new Error('the Ingress watch ended before stop()');
      },
    );
  }

  private record(obj: V1Ingress): void {
    const name = obj.metadata?.name ?? '';
    const raw = (obj.metadata?.managedFields ?? []) as ManagedField[];
    const fields = [...raw].sort((a, b) => String(a.time ?? '').localeCompare(String(b.time ?? '')));
    const list = this.revisions.get(name) ?? [];
    if (list.at(-1)?.resourceVersion === obj.metadata?.resourceVersion) return;
    const annotations = { ...(obj.metadata?.annotations ?? {}) };
    const owners = annotationOwners(raw);
    const now = new Map(raw.map((f) => [entryKey(f), JSON.stringify([f.time, f.fieldsV1])]));
    const before = this.lastFields.get(name);
    let writers: string[] = [];
    if (before) writers = [...now].filter(([k, v]) => before.get(k) !== v).map(([k]) => k.split('|')[0]!);
    if (writers.length === 0) {
      const prev = list.at(-1)?.annotations;
      const changed = Object.keys({ ...annotations, ...(prev ?? {}) }).filter((k) => prev?.[k] !== annotations[k]);
      writers = [...new Set(changed.map((k) => owners[k]).filter((m): m is string => !!m))];
    }
    this.lastFields.set(name, now);
    list.push({
      resourceVersion: obj.metadata?.resourceVersion ?? '',
      annotations,
      manager: fields.at(-1)?.manager ?? '',
      writers: [...new Set(writers)].sort(),
      owners,
      at: Date.now(),
    });
    this.revisions.set(name, list);
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

  /** Every revision after the first that changed annotation `key` (not merged: one entry per revision). */
  changes(ingress: string, key: string): IngressRevision[] {
    const list = this.revisions.get(ingress) ?? [];
    return list.filter((r, i) => i > 0 && list[i - 1]!.annotations[key] !== r.annotations[key]);
  }

  /** Every revision (after the first) that `manager` wrote. */
  writtenBy(ingress: string, manager: string): IngressRevision[] {
    return (this.revisions.get(ingress) ?? []).filter((r, i) => i > 0 && r.writers.includes(manager));
  }

  /**
   * The field-manager rule for weight-carrying annotations: every revision that changed one of `keys` was written by
   * `manager` alone, and `manager` owns the key in it. Returns the violations.
   */
  ownershipViolations(ingress: string, keys: string[], manager = PLUGIN_FIELD_MANAGER): string[] {
    const out: string[] = [];
    for (const key of keys) {
      for (const r of this.changes(ingress, key)) {
        if (r.annotations[key] !== undefined && r.owners[key] !== manager) out.push(`${key} in revision ${r.resourceVersion} is owned by ${r.owners[key] ?? 'nobody'}, not ${manager}`);
        if (r.writers.length !== 1 || r.writers[0] !== manager) out.push(`revision ${r.resourceVersion} changing ${key} was written by [${r.writers.join(', ')}], not ${manager} alone`);
      }
    }
    return out;
  }

  /** Stops the watch; throws when it failed while recording (a recording with a hole proves nothing). */
  stop(): void {
    this.stopped = true;
    this.req?.abort();
    if (this.watchError) throw new Error(`the Ingress watch of ${this.ns} failed while recording: ${String(this.watchError)}`);
  }
}

/** An HTTPRoute as the recorder reads it: the weights of each rule's backendRefs. */
interface RouteView {
  metadata?: { name?: string; resourceVersion?: string; managedFields?: unknown[] };
  spec?: { rules?: Array<{ name?: string; backendRefs?: Array<{ name: string; weight?: number }> }> };
}

/** Rule (name, else index) → Service → weight (absent: 1, Gateway API's default), as JSON: what two revisions compare by. */
export function routeWeights(route: RouteView): string {
  return JSON.stringify((route.spec?.rules ?? []).map((r, i) => [r.name ?? `rules[${i}]`, (r.backendRefs ?? []).map((b) => [b.name, b.weight ?? 1])]));
}

/**
 * Records every revision of the HTTPRoutes in a namespace through a watch (nothing is sampled), with who wrote each
 * and who owns `spec.rules` (an atomic list: the weights' field) in it. A watch error fails `stop()`.
 */
export class HTTPRouteRecorder {
  readonly revisions = new Map<string, WeightRevision[]>();
  private readonly lastFields = new Map<string, Map<string, string>>();
  private req: { abort(): void } | undefined;
  private stopped = false;
  private watchError: unknown;

  constructor(private readonly stack: Stack, private readonly ns: string) {}

  async start(): Promise<void> {
    const watch = new Watch(this.stack.admin);
    this.req = await watch.watch(
      `/apis/gateway.networking.k8s.io/v1/namespaces/${this.ns}/httproutes`,
      {},
      (_type: string, obj: RouteView) => this.record(obj),
      (err: unknown) => {
        if (!this.stopped) this.watchError = err ?? new Error('the HTTPRoute watch ended before stop()');
      },
    );
  }

  private record(obj: RouteView): void {
    const name = obj.metadata?.name ?? '';
    const raw = (obj.metadata?.managedFields ?? []) as ManagedField[];
    const list = this.revisions.get(name) ?? [];
    if (list.at(-1)?.resourceVersion === obj.metadata?.resourceVersion) return;
    const owners = fieldOwners(raw, ['spec', 'rules']);
    // By time only: a manager whose fields another write took over has its entry changed without writing anything.
    const now = new Map(raw.map((f) => [entryKey(f), JSON.stringify(f.time ?? null)]));
    const before = this.lastFields.get(name);
    let writers = before ? [...now].filter(([k, v]) => before.get(k) !== v).map(([k]) => k.split('|')[0]!) : [];
    const weights = routeWeights(obj);
    // Two writes by one manager within a second leave its entry as it was: the owner of the changed field wrote it.
    if (writers.length === 0 && list.length > 0 && list.at(-1)!.weights !== weights) writers = owners;
    this.lastFields.set(name, now);
    list.push({ resourceVersion: obj.metadata?.resourceVersion ?? '', weights, writers: [...new Set(writers)].sort(), owners });
    this.revisions.set(name, list);
  }

  /** The successive distinct weights of one route. */
  weights(route: string): string[] {
    const out: string[] = [];
    for (const r of this.revisions.get(route) ?? []) if (out.at(-1) !== r.weights) out.push(r.weights);
    return out;
  }

  /** The field-manager rule (rules.ts) over every recorded revision of `route`. */
  weightViolations(route: string, manager = PLUGIN_FIELD_MANAGER): string[] {
    return foreignWeightWrites(this.revisions.get(route) ?? [], manager);
  }

  /** Stops the watch; throws when it failed while recording (a recording with a hole proves nothing). */
  stop(): void {
    this.stopped = true;
    this.req?.abort();
    if (this.watchError) throw new Error(`the HTTPRoute watch of ${this.ns} failed while recording: ${String(this.watchError)}`);
  }
}

/** Where a Timeline reads the weights, after the Rollout status. */
export type PlaceReader = () => Promise<Places>;

export interface TimelineOptions {
  /** Pause between samples (default 200 ms). */
  intervalMs?: number;
  /**
   * Read errors that may happen (a peer the scenario restarts on purpose): counted, not failures. Everything else
   * fails the timeline at `stop()`.
   */
  tolerate?: (err: unknown) => boolean;
}

export interface TimelineCheck {
  /** The canary Service (whose share the rules judge). */
  canary: string;
  /** At least this many samples (default 10) ... */
  minSamples?: number;
  /** ... and this many taken mid-rollout (default 5). */
  minMidRollout?: number;
  /** Every place must have carried each of these canary shares in some sample (each step's weight was sampled). */
  seen?: number[];
  /** Places that must have been sampled (default: at least one). */
  places?: string[];
  /** Places not judged by the no-early-step rule in a sample (not built yet). */
  exempt?: (place: string, s: Sample) => boolean;
}

/**
 * Samples the Rollout status and then every place that carries weights, in that order, until stopped. Read errors
 * fail `stop()` (unless tolerated), and `check()` applies the safety rules of rules.ts: enough samples, no early
 * step, no revert, and optionally that every step's weight was seen at every place.
 */
export class Timeline {
  readonly samples: Sample[] = [];
  readonly errors: string[] = [];
  tolerated = 0;
  private running = true;
  private loop: Promise<void> | undefined;
  private steps: StepView[] = [];
  private readonly read: PlaceReader;

  /**
   * `source`: an Ingress name (its ALB's action rules on every listener, `stable` naming the action's Service), or a
   * reader of the places to sample.
   */
  constructor(
    private readonly obs: Observer,
    private readonly ns: string,
    private readonly rollout: string,
    source: string | PlaceReader,
    stable?: string,
    private readonly opts: TimelineOptions = {},
  ) {
    this.read = typeof source === 'string' ? () => obs.ingressPlaces(ns, source, stable!) : source;
  }

  start(): void {
    this.loop = (async () => {
      while (this.running) {
        await this.sample();
        await sleep(this.opts.intervalMs ?? 200);
      }
      // One more after the caller's last wait, so the final state is in the record.
      await this.sample();
    })();
  }

  private async sample(): Promise<void> {
    try {
      const ro = await this.obs.rollout(this.ns, this.rollout);
      const places = await this.read();
      const st = ro.status;
      this.steps = (ro.spec.strategy.canary?.steps ?? []) as StepView[];
      const albPlace = Object.keys(places).find((p) => p.startsWith('alb'));
      this.samples.push({
        at: Date.now(),
        ...(st?.currentStepIndex !== undefined ? { step: st.currentStepIndex } : {}),
        steps: this.steps.length,
        ...(st?.phase ? { phase: st.phase } : {}),
        ...(st?.abort ? { abort: true } : {}),
        ...(st?.currentPodHash ? { podHash: st.currentPodHash } : {}),
        fullyPromoted: !!st?.stableRS && st.stableRS === st.currentPodHash,
        ...(st?.canary?.weights ? { statusCanaryWeight: st.canary.weights.canary.weight } : {}),
        places,
        ...(albPlace ? { alb: places[albPlace] } : {}),
      });
    } catch (err) {
      if (this.opts.tolerate?.(err)) this.tolerated++;
      else this.errors.push(`${new Date().toISOString()} ${String(err)}`);
    }
  }

  /** Stops sampling; a read that failed (and was not tolerated) fails here. */
  async stop(): Promise<Sample[]> {
    this.running = false;
    await this.loop;
    if (this.errors.length > 0) {
      throw new Error(`the timeline of ${this.ns}/${this.rollout} could not read ${this.errors.length} time(s) (${this.samples.length} samples):\n${this.errors.slice(0, 10).join('\n')}`);
    }
    return this.samples;
  }

  /** Stops (if running) and applies the safety rules; throws with every violation. Returns the samples. */
  async check(c: TimelineCheck): Promise<Sample[]> {
    if (this.running) await this.stop();
    const what = `timeline of ${this.ns}/${this.rollout}`;
    const places = placesOf(this.samples);
    const violations: string[] = [];
    try {
      requireSamples(what, this.samples, c.minSamples ?? 10, c.minMidRollout ?? 5);
    } catch (err) {
      violations.push((err as Error).message);
    }
    if (places.length === 0) violations.push('no place carrying weights was ever sampled');
    for (const p of c.places ?? []) if (!places.includes(p)) violations.push(`place ${p} was never sampled (sampled: ${places.join(', ')})`);
    violations.push(...noEarlyStep(this.samples, this.steps, c.canary, c.exempt ? { exempt: c.exempt } : {}));
    violations.push(...noRevert(this.samples, c.canary));
    for (const p of places) {
      const seen = sharesAt(this.samples, p, c.canary);
      for (const w of c.seen ?? []) if (!seen.includes(w)) violations.push(`${p} never carried canary ${w} % in ${this.samples.length} samples (carried ${seen.join(' → ')})`);
    }
    const mid = this.samples.filter((x) => x.step !== undefined && x.step < (x.steps ?? 0) && !x.abort && !x.fullyPromoted).length;
    console.log(
      `${what}: ${this.samples.length} samples (${mid} mid-rollout, ${this.tolerated} tolerated read errors); ` +
        places.map((p) => `${p}: ${sharesAt(this.samples, p, c.canary).join(' → ')}`).join('; '),
    );
    if (violations.length > 0) throw new RuleViolation(`${what}: ${violations.length} violation(s):\n${violations.slice(0, 8).join('\n')}`);
    return this.samples;
  }
}

/**
 * Polls `read` until it returns `done`; every sample is kept. A read error fails at once (not retried: a poll whose
 * reads fail saw nothing), and fewer than `minSamples` samples fail too.
 */
export async function poll<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, opts: { timeoutMs?: number; minSamples?: number; intervalMs?: number; onTimeout?: () => Promise<string> } = {}): Promise<T[]> {
  const deadline = Date.now() + (opts.timeoutMs ?? 180_000);
  const seen: T[] = [];
  for (;;) {
    let v: T;
    try {
      v = await read();
    } catch (err) {
      throw new Error(`${what}: read ${seen.length + 1} failed: ${String(err)}; samples so far: ${JSON.stringify(seen)}`);
    }
    seen.push(v);
    if (done(v)) break;
    if (Date.now() > deadline) {
      const extra = opts.onTimeout ? await opts.onTimeout().catch((e: unknown) => String(e)) : '';
      throw new Error(`timed out waiting for ${what}; samples: ${JSON.stringify(seen.slice(-20))}\n${extra}`);
    }
    await sleep(opts.intervalMs ?? 200);
  }
  const min = opts.minSamples ?? 3;
  if (seen.length < min) throw new RuleViolation(`${what}: ${seen.length} samples, fewer than the ${min} needed to judge anything: ${JSON.stringify(seen)}`);
  return seen;
}

export { canaryShare };
