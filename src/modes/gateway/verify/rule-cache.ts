// What a Gateway-mode verifier remembers between checks, so that a warm check is one ELBv2 call
// (docs/gateway-api-facts.md §9.1): the ALB rule ARNs found for each unit (discovery.ts) and the resource tags of
// target groups (immutable, read once each). Warm, one DescribeRules(RuleArns) over every unit's remembered rules;
// a rule gone, or one whose conditions or target groups no longer match (the LBC re-pairs rules by priority when a
// weight change and a new rule land in one reconcile), is a miss, and the unit is found again cold:
// DescribeListeners, then DescribeRules per listener of its ports, rules matched by their conditions.

import type { Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import { isNotFound, type Elbv2 } from '../../../aws/elbv2.js';
import { forwardWeights, ruleSignature } from '../alb-rules.js';
import { TG_RESOURCE_TAG, type CallCounter, type Unit } from './discovery.js';

/** Rule discoveries (and target-group tags) kept for warm checks; the oldest go first. */
const MAX_REMEMBERED = 5000;

/** A unit's ALB rules, per driven route rule in `Unit.rules` order; or the route rules without one yet. */
export type ColdResult = { rules: Rule[][] } | { missing: string[] };

function trim<K, V>(map: Map<K, V>): void {
  while (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value as K);
}

export class GatewayRuleCache {
  /** Unit key → rule ARNs per driven rule, in `Unit.rules` order (each rule's ARNs in signature order). */
  private readonly found = new Map<string, string[][]>();
  /** Target group ARN → its resource tag (immutable). */
  private readonly tgTags = new Map<string, string>();

  constructor(private readonly elbv2: Pick<Elbv2, 'describeTags' | 'describeListeners' | 'describeRules'>) {}

  /** The resource tag of each of `arns` ('' without one); DescribeTags only for those never read. */
  async resourceTags(arns: string[], counter: CallCounter, signal: AbortSignal): Promise<Map<string, string>> {
    const unknown = arns.filter((a) => !this.tgTags.has(a));
    if (unknown.length > 0) {
      counter.calls++;
      const tags = await this.elbv2.describeTags(unknown, { signal });
      for (const a of unknown) this.tgTags.set(a, tags.get(a)?.[TG_RESOURCE_TAG] ?? '');
      trim(this.tgTags);
    }
    return new Map(arns.map((a) => [a, this.tgTags.get(a) ?? '']));
  }

  /** Warm: one DescribeRules over every rule found before; the units whose rules all still match, by key. */
  async warm(units: Unit[], counter: CallCounter, signal: AbortSignal): Promise<Map<string, Rule[][]>> {
    const resolved = new Map<string, Rule[][]>();
    const warm = units.filter((u) => this.found.has(u.key));
    const arns = [...new Set(warm.flatMap((u) => this.found.get(u.key)!.flat()))];
    if (arns.length === 0) return resolved;
    try {
      counter.calls++;
      const rules = await this.elbv2.describeRules({ ruleArns: arns }, { signal });
      const byArn = new Map(rules.map((r) => [r.RuleArn!, r]));
      for (const u of warm) {
        const picked = pick(u, byArn, this.found.get(u.key)!);
        if (picked) resolved.set(u.key, picked);
      }
    } catch (err) {
      // One of the rules is gone: every warm unit is a miss and is found again cold.
      if (!isNotFound(err)) throw err;
    }
    return resolved;
  }

  /** Cold: the unit's rules on the listeners of its ports, by their conditions; remembered once all are found. */
  async cold(unit: Unit, counter: CallCounter, signal: AbortSignal): Promise<ColdResult> {
    this.found.delete(unit.key);
    counter.calls++;
    const listeners = (await this.elbv2.describeListeners(unit.lbArn, { signal })).filter((l) => l.Port !== undefined && unit.ports.includes(l.Port));
    const all: Rule[] = [];
    for (const l of listeners) {
      counter.calls++;
      all.push(...(await this.elbv2.describeRules({ listenerArn: l.ListenerArn! }, { signal })).filter((r) => !r.IsDefault));
    }
    const candidates = all.filter((r) => forwardWeights(r).has(unit.stableTg));
    const rules = unit.rules.map((rule) => rule.signatures.map((s) => candidates.find((r) => ruleSignature(r) === s)));
    const missing = rules.flatMap((list, i) => list.map((r, j) => (r ? undefined : `${unit.rules[i]!.label} (match ${j})`)).filter((x): x is string => !!x));
    if (missing.length > 0) return { missing };
    const found = rules as Rule[][];
    this.found.set(unit.key, found.map((l) => l.map((r) => r.RuleArn!)));
    trim(this.found);
    return { rules: found };
  }
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
