// The thin fetching layer in front of the pure comparison: which load balancer a hostname names, its
// listeners, the resource tag of each target group, and which rules implement an Ingress's action. The reads
// themselves go through the sidecar's shared discovery (src/aws/discovery.ts: one request per load balancer and
// listener however many Rollouts ask, tags batched); what is kept here is this mode's view of them. The
// hostname → load balancer and target group → tag answers never change and are kept; listeners and rules do
// change (HTTPS or ssl-redirect added, a host or path added to the Ingress), so they are kept for a bounded
// age only, dropped on NotFound or when a cached rule no longer forwards to the action (lbc-elbv2.md §4.3),
// and read again whenever the verifier is about to answer "not verified" from older data (weights.ts).
import type { Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DEFAULT_DISCOVERY_MAX_AGE_MS, Elbv2Discovery } from '../../../aws/discovery.js';
import type { CallOptions, Elbv2 } from '../../../aws/elbv2.js';
import { Flights } from '../../../aws/flight.js';
import { actionRules } from './compare.js';
import type { ExpectedTuple } from './expected.js';

export interface LoadBalancerRef {
  arn: string;
  name: string;
  dnsName: string;
  /** `application`, `network`, `gateway`. */
  type?: string;
}

export interface InventoryOptions {
  elbv2: Elbv2;
  /** The sidecar's shared discovery; without one (tests), a discovery of this inventory's own over `elbv2`. */
  discovery?: Elbv2Discovery;
  resourceTagKey: string;
  /**
   * Max age of a listener list and of a discovery of an action's rules; older ones are read again, which
   * picks up new listeners, hosts and paths. Default 30 s (DEFAULT_DISCOVERY_MAX_AGE_MS).
   */
  discoveryTtlMs?: number;
  now?: () => number;
}

export { DEFAULT_DISCOVERY_MAX_AGE_MS };

export interface Discovery {
  ruleArns: string[];
  /** Rule ARN → listener ARN, for reports. */
  listenerOf: Map<string, string>;
  /** When the rules were read. */
  at: number;
  /** When the listener list the rules were read from was read (at or before `at`). */
  listenersAt: number;
  /** Ports the Ingress asks for that have no listener on the load balancer (such a discovery is not remembered). */
  missingPorts: number[];
}

/** ARN `...:targetgroup/<name>/<id>` → name. */
export function targetGroupNameFromArn(arn: string): string | undefined {
  return /:targetgroup\/([^/]+)\//.exec(arn)?.[1];
}

/** Name prefix the LBC gives a target group of this Service: `k8s-<ns, 8>-<svc, 8>-` (lbc-elbv2.md §2.2). */
export function lbcTargetGroupPrefix(namespace: string, service: string): string {
  const clean = (s: string): string => s.replace(/[^A-Za-z0-9]/g, '').slice(0, 8);
  return `k8s-${clean(namespace)}-${clean(service)}-`;
}

const MAX_CACHE = 10_000;

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  if (map.size >= MAX_CACHE && !map.has(key)) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}

export class Elbv2Inventory {
  private readonly lbByHost = new Map<string, LoadBalancerRef>();
  /** Target-group ARN → its resource tag ('' when it has none). LBC tags never change for an ARN. */
  private readonly resourceIdByTg = new Map<string, string>();
  private readonly discoveries = new Map<string, Discovery>();
  private readonly flights = new Flights<unknown>();
  private readonly discovery: Elbv2Discovery;
  private readonly elbv2: Elbv2;
  private readonly tagKey: string;
  private readonly ttl: number;
  private readonly now: () => number;

  constructor(opts: InventoryOptions) {
    this.elbv2 = opts.elbv2;
    this.tagKey = opts.resourceTagKey;
    this.ttl = opts.discoveryTtlMs ?? DEFAULT_DISCOVERY_MAX_AGE_MS;
    this.now = opts.now ?? Date.now;
    this.discovery = opts.discovery ?? new Elbv2Discovery(opts.elbv2, { maxAgeMs: this.ttl, now: this.now });
  }

  /** One request per key at a time, on its own signal: a caller that gives up leaves it to the others. */
  private shared<T>(key: string, fn: (o: CallOptions) => Promise<T>, o?: CallOptions): Promise<T> {
    return this.flights.run(key, (signal) => fn({ signal }), o?.signal) as Promise<T>;
  }

  resourceIdOf = (tgArn: string): string | undefined => {
    const id = this.resourceIdByTg.get(tgArn);
    return id === '' ? undefined : id;
  };

  /**
   * The LB behind a status hostname (src/aws/discovery.ts: one DescribeLoadBalancers(Names) call on the derived
   * name, batched with other Rollouts', and a paginated scan comparing DNS names only when that finds nothing).
   * Kept until it turns out to be gone. Undefined when no LB matches.
   */
  async loadBalancer(hostname: string, o?: CallOptions): Promise<LoadBalancerRef | undefined> {
    const key = hostname.toLowerCase();
    const cached = this.lbByHost.get(key);
    if (cached) return cached;
    const found = await this.discovery.loadBalancerByHostname(hostname, o?.signal ? { signal: o.signal } : {});
    if (!found?.LoadBalancerArn) return undefined;
    const ref: LoadBalancerRef = {
      arn: found.LoadBalancerArn,
      name: found.LoadBalancerName ?? '',
      dnsName: found.DNSName ?? '',
      ...(found.Type ? { type: found.Type } : {}),
    };
    remember(this.lbByHost, key, ref);
    return ref;
  }

  /**
   * Fetches resource tags of target groups not seen before. The LBC's naming lets the first call ask only
   * for this rollout's services' target groups; the rest are fetched only if an expected tag is still missing.
   * The shared discovery batches the asks of every Rollout (20 ARNs per DescribeTags).
   */
  async learnTags(tgArns: string[], expected: ExpectedTuple[], namespace: string, o?: CallOptions): Promise<void> {
    const unknown = [...new Set(tgArns)].filter((a) => !this.resourceIdByTg.has(a));
    if (unknown.length === 0) return;
    const prefixes = [...new Set(expected.map((t) => lbcTargetGroupPrefix(namespace, t.service)))];
    const likely = unknown.filter((a) => prefixes.some((p) => targetGroupNameFromArn(a)?.startsWith(p)));
    const fetch = async (arns: string[]): Promise<void> => {
      if (arns.length === 0) return;
      const tags = await this.discovery.tags(arns, o?.signal ? { signal: o.signal } : {});
      for (const arn of arns) remember(this.resourceIdByTg, arn, tags.get(arn)?.[this.tagKey] ?? '');
    };
    await fetch(likely);
    const known = new Set(tgArns.map((a) => this.resourceIdOf(a)));
    if (expected.some((t) => !known.has(t.resourceId))) {
      await fetch(unknown.filter((a) => !likely.includes(a)));
    }
  }

  discoveryKey(lbArn: string, ingress: string, expected: ExpectedTuple[]): string {
    // Stable and canary swap roles with ping-pong; the rule implementing the action stays the same.
    const core = expected.filter((t) => t.role !== 'experiment').map((t) => t.resourceId).sort();
    return `${lbArn}|${ingress}|${core.join(',')}`;
  }

  /** Cached rule ARNs of an action, or undefined when they must be discovered. */
  cachedRules(key: string): Discovery | undefined {
    const d = this.discoveries.get(key);
    if (!d) return undefined;
    if (this.now() - d.at > this.ttl) {
      this.discoveries.delete(key);
      return undefined;
    }
    return d;
  }

  forget(key: string): void {
    this.discoveries.delete(key);
  }

  forgetLoadBalancer(hostname: string, lbArn: string): void {
    this.lbByHost.delete(hostname.toLowerCase());
    this.discovery.forgetLoadBalancer(lbArn);
    for (const k of [...this.discoveries.keys()]) if (k.startsWith(`${lbArn}|`)) this.discoveries.delete(k);
  }

  /**
   * Reads every rule of every listener of the LB (one DescribeRules per listener, shared with every Rollout
   * whose check began before it was sent), learns the tags it needs, and remembers which rules implement the
   * action. Returns those rules. The rules are never older than `started` (this check's start). The listener
   * list is taken from the shared discovery when it is within the max age, or, with `listenersSince`, only when
   * it was read at that time or later (a fresh read: something changed, or the answer would be "not verified").
   */
  async discover(
    key: string,
    lb: LoadBalancerRef,
    expected: ExpectedTuple[],
    namespace: string,
    fullWeight: number,
    started: number,
    o?: CallOptions,
    listenersSince?: number,
    /** The listener ports the Ingress asks for: one without a listener yet is reported, and nothing is remembered. */
    ports?: number[],
  ): Promise<Discovery & { rules: Rule[] }> {
    const fresh = listenersSince !== undefined;
    return this.shared(`discover|${fresh ? 'fresh' : 'cached'}|${key}`, async (so) => {
      const listeners = await this.discovery.listeners(lb.arn, { ...so, minAt: listenersSince ?? this.now() - this.ttl });
      const arns = listeners.value.map((l) => l.ListenerArn).filter((a): a is string => !!a);

      let at = this.now();
      const all: Rule[] = [];
      const listenerOf = new Map<string, string>();
      for (const listenerArn of arns) {
        // A listener that went away makes the shared discovery drop the listener list.
        const read = await this.discovery.rules(listenerArn, { ...so, minAt: started });
        at = Math.min(at, read.at);
        for (const r of read.value) if (r.RuleArn) listenerOf.set(r.RuleArn, listenerArn);
        all.push(...read.value);
      }
      const tgArns = all.flatMap((r) =>
        (r.Actions ?? []).flatMap((a) => [
          ...(a.TargetGroupArn ? [a.TargetGroupArn] : []),
          ...(a.ForwardConfig?.TargetGroups ?? []).map((t) => t.TargetGroupArn).filter((x): x is string => !!x),
        ]),
      );
      await this.learnTags(tgArns, expected, namespace, so);
      const scoped = actionRules(all, expected, this.resourceIdOf, fullWeight);
      const ruleArns = scoped.map((r) => r.RuleArn).filter((a): a is string => !!a);
      // Every port the Ingress asks for needs a listener with a rule of the action (the LBC makes both).
      const portOf = new Map(listeners.value.map((l) => [l.ListenerArn, l.Port]));
      const carried = new Set(ruleArns.map((a) => portOf.get(listenerOf.get(a))));
      const missingPorts = (ports ?? []).filter((p) => !carried.has(p));
      const discovery: Discovery = { ruleArns, listenerOf, at, listenersAt: listeners.at, missingPorts };
      // Only a positive discovery is cached: an action the LBC has not deployed yet, or a listener it has not made
      // yet, must be looked for again.
      if (ruleArns.length > 0 && missingPorts.length === 0) remember(this.discoveries, key, discovery);
      return { ...discovery, rules: scoped };
    }, o);
  }

  /** One DescribeRules(RuleArns) for the given rules; concurrent callers asking for the same set share it. */
  async rulesByArn(ruleArns: string[], o?: CallOptions): Promise<Rule[]> {
    const sorted = [...new Set(ruleArns)].sort();
    return this.shared(`rules|${sorted.join(',')}`, (so) => this.elbv2.describeRules({ ruleArns: sorted }, so), o);
  }
}
