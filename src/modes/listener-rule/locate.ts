// Finding and reading the driven rule through ELBv2. The client is the shared wrapper from src/aws
// (rate limit, retries, call counts); this mode only needs the reads below and four writes.

import {
  CreateRuleCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  type DeleteRuleCommand,
  type Listener,
  type LoadBalancer,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Elbv2Discovery } from '../../aws/discovery.js';
import type { CallOptions } from '../../aws/elbv2.js';
import { stepSignal, throwIfCancelled, type CallContext } from '../../plugin/call.js';
import type { RuleSelector } from './config.js';

/** The subset of the shared ELBv2 wrapper (`createElbv2` in src/aws/elbv2.ts) this mode calls. */
export interface ListenerRuleElbv2 {
  describeLoadBalancersByName(names: string[], o?: CallOptions): Promise<LoadBalancer[]>;
  /** Every listener of the load balancer (paginated). */
  describeListeners(loadBalancerArn: string, o?: CallOptions): Promise<Listener[]>;
  /** Every rule of one listener, or the given rules; one call for up to 400 rules. */
  describeRules(selector: { listenerArn: string } | { ruleArns: string[] }, o?: CallOptions): Promise<Rule[]>;
  /** Tags per ARN (batches of 20). */
  describeTags(arns: string[], o?: CallOptions): Promise<Map<string, Record<string, string>>>;
  /**
   * Tags of the driven rule or listener, for the check before a write (driven-tag.ts): through the shared
   * discovery, batched with other Rollouts' asks and kept until `forgetTags`. Without it, DescribeTags each time.
   */
  keptTags?(arns: string[], o?: CallOptions): Promise<Map<string, Record<string, string>>>;
  /** Drops what `keptTags` kept for these ARNs. */
  forgetTags?(arns: string[]): void;
  send(command: ModifyRuleCommand | ModifyListenerCommand | CreateRuleCommand | DeleteRuleCommand, o?: CallOptions): Promise<unknown>;
}

/** What a write does, for the message when it is not sent. */
function operationOf(command: ModifyRuleCommand | ModifyListenerCommand | CreateRuleCommand | DeleteRuleCommand): string {
  if (command instanceof ModifyListenerCommand) return `ModifyListener ${command.input.ListenerArn ?? ''}`;
  if (command instanceof CreateRuleCommand) return `CreateRule on ${command.input.ListenerArn ?? ''}`;
  if (command instanceof ModifyRuleCommand) return `ModifyRule ${command.input.RuleArn ?? ''}`;
  return `DeleteRule ${command.input.RuleArn ?? ''}`;
}

/**
 * The client as one RPC call sees it: every request carries the call's signal (it ends at the call's
 * deadline, or within its budget; `signal`, when the caller made it already with `stepSignal`), and no write
 * is sent once the signal has fired: a call Argo has been answered for must not overwrite what a newer call
 * wrote.
 */
export function elbv2ForCall(elbv2: ListenerRuleElbv2, call: CallContext | undefined, signal?: AbortSignal): ListenerRuleElbv2 {
  if (!call) return elbv2;
  const o: CallOptions = { signal: signal ?? stepSignal(call) };
  return {
    describeLoadBalancersByName: (names) => elbv2.describeLoadBalancersByName(names, o),
    describeListeners: (arn) => elbv2.describeListeners(arn, o),
    describeRules: (selector) => elbv2.describeRules(selector, o),
    describeTags: (arns) => elbv2.describeTags(arns, o),
    ...(elbv2.keptTags ? { keptTags: (arns: string[]) => elbv2.keptTags!(arns, o) } : {}),
    ...(elbv2.forgetTags ? { forgetTags: (arns: string[]) => elbv2.forgetTags!(arns) } : {}),
    send: async (command) => {
      throwIfCancelled(call, operationOf(command));
      return elbv2.send(command, o);
    },
  };
}

/**
 * The mode's client with its load-balancer, listener and listener-rule listings read through the sidecar's shared
 * discovery (src/aws/discovery.ts): every Rollout locating its rule at the same time shares one request per load
 * balancer and listener (names batched, 20 per DescribeLoadBalancers). A listing is never older than the ask (only
 * a request not yet sent, or sent after the ask, is shared), and a write drops the listener's rules. The driven
 * rule's tags (`keptTags`) are the discovery's too: batched, 20 per DescribeTags, and kept until forgotten. Reads
 * of rules by ARN, header-route tags and writes go to the client as they are.
 */
export function withSharedDiscovery(elbv2: ListenerRuleElbv2, discovery: Elbv2Discovery): ListenerRuleElbv2 {
  const read = (o?: CallOptions) => ({ ...(o?.signal ? { signal: o.signal } : {}), minAt: discovery.now() });
  return {
    // A load balancer's name → ARN is kept for the discovery's max age; a listing is read for this ask.
    describeLoadBalancersByName: (names, o) => discovery.loadBalancersByName(names, o?.signal ? { signal: o.signal } : {}),
    describeListeners: async (arn, o) => (await discovery.listeners(arn, read(o))).value,
    describeRules: async (selector, o) =>
      'listenerArn' in selector ? (await discovery.rules(selector.listenerArn, read(o))).value : elbv2.describeRules(selector, o),
    describeTags: (arns, o) => elbv2.describeTags(arns, o),
    keptTags: (arns, o) => discovery.tags(arns, o?.signal ? { signal: o.signal } : {}),
    forgetTags: (arns) => discovery.forgetTags(arns),
    send: async (command, o) => {
      try {
        return await elbv2.send(command, o);
      } finally {
        discovery.forgetRules(listenerOfWrite(command));
      }
    },
  };
}

/** The listener whose rules a write changes. */
function listenerOfWrite(command: ModifyRuleCommand | ModifyListenerCommand | CreateRuleCommand | DeleteRuleCommand): string {
  if (command instanceof ModifyListenerCommand || command instanceof CreateRuleCommand) return command.input.ListenerArn ?? '';
  const ruleArn = command.input.RuleArn ?? '';
  return ruleArn.includes(':listener-rule/') ? listenerArnOfRule(ruleArn) : '';
}

/** Where the driven forward lives: a rule, or (no `ruleArn`) the listener's default action. */
export interface RuleLocation {
  listenerArn: string;
  ruleArn?: string;
}

/** A listener rule ARN is its listener's ARN with `listener-rule/` and one more path segment. */
export function listenerArnOfRule(ruleArn: string): string {
  const i = ruleArn.lastIndexOf('/');
  if (!ruleArn.includes(':listener-rule/') || i < 0) throw new Error(`${ruleArn} is not a listener rule ARN`);
  return ruleArn.slice(0, i).replace(':listener-rule/', ':listener/');
}

/** True when the rule carries exactly the host and path conditions the selector names, and nothing else. */
export function ruleMatches(rule: Rule, host: string[], path: string[]): boolean {
  if (rule.IsDefault) return false;
  const conditions = rule.Conditions ?? [];
  const fields = conditions.map((c) => c.Field);
  const want = [...(host.length ? ['host-header'] : []), ...(path.length ? ['path-pattern'] : [])];
  if (fields.length !== want.length || !want.every((f) => fields.includes(f))) return false;
  for (const c of conditions) {
    const values =
      (c.Field === 'host-header' ? c.HostHeaderConfig?.Values : c.PathPatternConfig?.Values) ?? c.Values ?? [];
    const expected = c.Field === 'host-header' ? host : path;
    if (!sameSet(values, expected)) return false;
  }
  return true;
}

function sameSet(a: string[], b: string[]): boolean {
  const norm = (xs: string[]) => [...new Set(xs)].sort();
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}

export interface LocatedRule {
  location: RuleLocation;
  rule: Rule;
}

/** Resolves the selector to a location and reads the rule (the read is reused by the caller). */
export async function locateRule(elbv2: ListenerRuleElbv2, selector: RuleSelector, field: string): Promise<LocatedRule> {
  if (selector.kind === 'arn') {
    const location = { listenerArn: listenerArnOfRule(selector.ruleArn), ruleArn: selector.ruleArn };
    return { location, rule: await readRule(elbv2, location, `${field}.ruleArn`) };
  }

  let lbArn: string;
  let lbLabel: string;
  if ('arn' in selector.loadBalancer) {
    lbArn = selector.loadBalancer.arn;
    lbLabel = lbArn;
  } else {
    const name = selector.loadBalancer.name;
    lbLabel = `"${name}"`;
    const lbs = await withNotFound(
      () => elbv2.describeLoadBalancersByName([name]),
      `load balancer ${lbLabel} (${field}.loadBalancerName) does not exist in this account and region; check the name`,
    );
    const lb = lbs[0];
    if (!lb?.LoadBalancerArn) throw new Error(`load balancer ${lbLabel} (${field}.loadBalancerName) was not found`);
    lbArn = lb.LoadBalancerArn;
  }
  const listeners = await withNotFound(
    () => elbv2.describeListeners(lbArn),
    `load balancer ${lbLabel} (${field}.loadBalancerArn) does not exist; check the ARN`,
  );
  const listener = listeners.find((l) => l.Port === selector.listenerPort);
  if (!listener?.ListenerArn) {
    throw new Error(
      `load balancer ${lbLabel} has no listener on port ${selector.listenerPort} (${field}.listenerPort); ` +
        `its listeners: ${listeners.map((l) => l.Port).join(', ') || 'none'}`,
    );
  }
  const rules = await elbv2.describeRules({ listenerArn: listener.ListenerArn });
  if (selector.kind === 'default') {
    const rule = rules.find((r) => r.IsDefault);
    if (!rule) throw new Error(`listener ${listener.ListenerArn} returned no default rule`);
    return { location: { listenerArn: listener.ListenerArn }, rule };
  }
  const matches = rules.filter((r) => ruleMatches(r, selector.host, selector.path));
  const wanted = `host ${JSON.stringify(selector.host)}, path ${JSON.stringify(selector.path)}`;
  if (matches.length === 0) {
    throw new Error(
      `no rule on port ${selector.listenerPort} of load balancer ${lbLabel} has exactly the conditions ${wanted} ` +
        `(${field}.conditions); match the rule's host-header and path-pattern values, or use ${field}.ruleArn`,
    );
  }
  if (matches.length > 1) {
    throw new Error(
      `${matches.length} rules on port ${selector.listenerPort} of load balancer ${lbLabel} match ${wanted} ` +
        `(${matches.map((r) => r.RuleArn).join(', ')}); use ${field}.ruleArn to pick one`,
    );
  }
  return { location: { listenerArn: listener.ListenerArn, ruleArn: matches[0]!.RuleArn! }, rule: matches[0]! };
}

/** One DescribeRules call: the rule by ARN, or the listener's rules for its default one. */
export async function readRule(elbv2: ListenerRuleElbv2, location: RuleLocation, field: string): Promise<Rule> {
  if (location.ruleArn) {
    const ruleArn = location.ruleArn;
    const rules = await withNotFound(
      () => elbv2.describeRules({ ruleArns: [ruleArn] }),
      `listener rule ${ruleArn} (${field}) does not exist; it was deleted or the ARN is wrong`,
    );
    const rule = rules.find((r) => r.RuleArn === ruleArn);
    if (!rule) throw new Error(`listener rule ${ruleArn} (${field}) does not exist`);
    return rule;
  }
  const rules = await withNotFound(
    () => elbv2.describeRules({ listenerArn: location.listenerArn }),
    `listener ${location.listenerArn} (${field}) does not exist any more`,
  );
  const rule = rules.find((r) => r.IsDefault);
  if (!rule) throw new Error(`listener ${location.listenerArn} returned no default rule`);
  return rule;
}

/** Marks an error as "the thing we looked for is gone", so a cached location gets rediscovered. */
export class GoneError extends Error {
  override name = 'GoneError';
}

async function withNotFound<T>(run: () => Promise<T>, message: string): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isNotFound(err)) throw new GoneError(message, { cause: err });
    throw err;
  }
}

/** `LoadBalancerNotFound`, `ListenerNotFound`, `RuleNotFound`, `TargetGroupNotFound` (SDK names end in Exception). */
export function isNotFound(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === 'string' && /NotFound(Exception)?$/.test(name);
}
