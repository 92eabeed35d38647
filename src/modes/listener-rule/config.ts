// Listener-rule mode configuration: the plugin block names one ALB listener rule (or a listener's default
// action) and the target groups to weight, instead of Ingresses. Parsing is pure: it reads the Rollout as
// Argo sent it and returns a normalised config or throws an error naming the field path and the fix. The
// rules every mode shares (Services, ping-pong roles, maxTrafficWeight, stickiness, header routes) come
// from src/core; the rule selector and the target groups are this mode's own.

import { ConfigError, isObject, pluginPath } from '../../core/fields.js';
import { checkHeaderRouteSteps, managedRoutes } from '../../core/routes.js';
import type { Rollout } from '../../core/rollout.js';
import { checkServices, serviceRoles } from '../../core/services.js';
import { parseStickiness, type StickinessConfig } from '../../core/stickiness.js';
import { maxTrafficWeight } from '../../core/weights.js';

export type LoadBalancerRef = { name: string } | { arn: string };

/** Which rule SetWeight rewrites. */
export type RuleSelector =
  | { kind: 'arn'; ruleArn: string }
  | {
      kind: 'conditions';
      loadBalancer: LoadBalancerRef;
      listenerPort: number;
      /** Exact host-header / path-pattern values the rule must carry (empty = the rule has no such condition). */
      host: string[];
      path: string[];
    }
  | { kind: 'default'; loadBalancer: LoadBalancerRef; listenerPort: number };

/** A target group given directly, or through a TargetGroupBinding in the Rollout's namespace. */
export type TargetGroupRef = { arn: string } | { targetGroupBinding: string };

/** One weighted role (stable or canary) after ping-pong resolution. */
export interface RoleTarget {
  ref: TargetGroupRef;
  /** The Service the role routes to; a binding's serviceRef must name it. Absent when the Rollout names none. */
  service?: string;
  /** Config path of the ref, for error messages. */
  field: string;
}

export interface ListenerRuleConfig {
  pluginName: string;
  namespace: string;
  rolloutName: string;
  /** Config path of the plugin block, for error messages. */
  path: string;
  rule: RuleSelector;
  stable: RoleTarget;
  canary: RoleTarget;
  pingPong: boolean;
  stickiness?: StickinessConfig;
  /** `maxTrafficWeight`, 100 when absent; stable gets what the canary and experiments leave of it. */
  maxWeight: number;
  /** `trafficRouting.managedRoutes` names, in order. */
  managedRoutes: string[];
}

/** A refusal of this mode's own fields; its sentence starts with the field's path. */
export class ListenerRuleConfigError extends ConfigError {
  override name = 'ListenerRuleConfigError';
  constructor(message: string) {
    super(message.split(' ', 1)[0]!, '', message);
  }
}

const MODE_KEYS = [
  'listenerRule',
  'stableTargetGroup',
  'canaryTargetGroup',
  'pingTargetGroup',
  'pongTargetGroup',
  'stickinessConfig',
];
const INGRESS_ONLY_KEYS = ['ingress', 'ingresses', 'servicePort', 'rootService', 'annotationPrefix'];
const RULE_KEYS = ['ruleArn', 'loadBalancerName', 'loadBalancerArn', 'listenerPort', 'conditions', 'defaultAction'];

export function parseListenerRuleConfig(rollout: Rollout, pluginName: string): ListenerRuleConfig {
  const canary = rollout.spec.strategy.canary;
  const base = pluginPath(pluginName);
  const raw = canary?.trafficRouting?.plugins?.[pluginName];
  if (!canary || !isObject(raw)) {
    throw new ListenerRuleConfigError(`${base} is missing or not an object; add the plugin block with a listenerRule`);
  }
  for (const key of Object.keys(raw)) {
    if (INGRESS_ONLY_KEYS.includes(key)) {
      throw new ListenerRuleConfigError(
        `${base}.${key} belongs to Ingress mode and cannot be combined with ${base}.listenerRule; ` +
          `remove ${key}, or remove listenerRule to use Ingress mode`,
      );
    }
    if (!MODE_KEYS.includes(key)) {
      throw new ListenerRuleConfigError(`${base}.${key} is not a listener-rule mode field; known: ${MODE_KEYS.join(', ')}`);
    }
  }

  const rule = parseRuleSelector(raw.listenerRule, `${base}.listenerRule`);
  checkServices(canary, false);
  const roles = serviceRoles(rollout);
  const pingPong = canary.pingPong;
  let stable: RoleTarget;
  let canaryRole: RoleTarget;
  if (pingPong) {
    for (const key of ['stableTargetGroup', 'canaryTargetGroup']) {
      if (raw[key] !== undefined) {
        throw new ListenerRuleConfigError(
          `${base}.${key} cannot be used with canary.pingPong: the stable and canary roles swap between ping and pong; ` +
            `name pingTargetGroup and pongTargetGroup instead`,
        );
      }
    }
    const ping: RoleTarget = {
      ref: parseTargetGroupRef(raw.pingTargetGroup, `${base}.pingTargetGroup`, 'the ping Service'),
      service: pingPong.pingService,
      field: `${base}.pingTargetGroup`,
    };
    const pong: RoleTarget = {
      ref: parseTargetGroupRef(raw.pongTargetGroup, `${base}.pongTargetGroup`, 'the pong Service'),
      service: pingPong.pongService,
      field: `${base}.pongTargetGroup`,
    };
    stable = roles.stableRole === 'ping' ? ping : pong;
    canaryRole = roles.stableRole === 'ping' ? pong : ping;
  } else {
    for (const key of ['pingTargetGroup', 'pongTargetGroup']) {
      if (raw[key] !== undefined) {
        throw new ListenerRuleConfigError(
          `${base}.${key} needs spec.strategy.canary.pingPong; without ping-pong use stableTargetGroup and canaryTargetGroup`,
        );
      }
    }
    stable = {
      ref: parseTargetGroupRef(raw.stableTargetGroup, `${base}.stableTargetGroup`, 'the stable Service'),
      service: roles.stable || undefined,
      field: `${base}.stableTargetGroup`,
    };
    canaryRole = {
      ref: parseTargetGroupRef(raw.canaryTargetGroup, `${base}.canaryTargetGroup`, 'the canary Service'),
      service: roles.canary || undefined,
      field: `${base}.canaryTargetGroup`,
    };
  }
  if (sameRef(stable.ref, canaryRole.ref)) {
    throw new ListenerRuleConfigError(
      `${stable.field} and ${canaryRole.field} name the same target group; the canary needs its own target group`,
    );
  }

  const stickiness = parseStickiness(raw.stickinessConfig, `${base}.stickinessConfig`);
  const maxWeight = maxTrafficWeight(rollout);
  checkHeaderRouteSteps(canary);

  const config: ListenerRuleConfig = {
    pluginName,
    namespace: rollout.metadata.namespace || 'default',
    rolloutName: rollout.metadata.name,
    path: base,
    rule,
    stable,
    canary: canaryRole,
    pingPong: roles.pingPong,
    maxWeight,
    managedRoutes: managedRoutes(rollout),
  };
  if (stickiness) config.stickiness = stickiness;
  return config;
}

function parseRuleSelector(raw: unknown, path: string): RuleSelector {
  if (!isObject(raw)) {
    throw new ListenerRuleConfigError(
      `${path} must be an object: {ruleArn}, {loadBalancerName|loadBalancerArn, listenerPort, conditions: {host, path}} ` +
        `or {loadBalancerName|loadBalancerArn, listenerPort, defaultAction: true}`,
    );
  }
  for (const key of Object.keys(raw)) {
    if (!RULE_KEYS.includes(key)) {
      throw new ListenerRuleConfigError(`${path}.${key} is not a listenerRule field; known: ${RULE_KEYS.join(', ')}`);
    }
  }
  if (raw.ruleArn !== undefined) {
    const others = Object.keys(raw).filter((k) => k !== 'ruleArn');
    if (others.length > 0) {
      throw new ListenerRuleConfigError(
        `${path}.ruleArn identifies the rule on its own; remove ${others.map((k) => `${path}.${k}`).join(', ')}`,
      );
    }
    if (typeof raw.ruleArn !== 'string' || !/^arn:[^:]+:elasticloadbalancing:[^:]*:[^:]*:listener-rule\/app\//.test(raw.ruleArn)) {
      throw new ListenerRuleConfigError(
        `${path}.ruleArn must be an ALB listener rule ARN (arn:aws:elasticloadbalancing:<region>:<account>:listener-rule/app/...); ` +
          `got ${JSON.stringify(raw.ruleArn)}`,
      );
    }
    return { kind: 'arn', ruleArn: raw.ruleArn };
  }

  if (raw.loadBalancerName !== undefined && raw.loadBalancerArn !== undefined) {
    throw new ListenerRuleConfigError(`${path} sets both loadBalancerName and loadBalancerArn; keep one`);
  }
  let loadBalancer: LoadBalancerRef;
  if (raw.loadBalancerArn !== undefined) {
    if (typeof raw.loadBalancerArn !== 'string' || !/^arn:[^:]+:elasticloadbalancing:[^:]*:[^:]*:loadbalancer\/app\//.test(raw.loadBalancerArn)) {
      throw new ListenerRuleConfigError(
        `${path}.loadBalancerArn must be an ALB ARN (arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app/<name>/<id>); ` +
          `got ${JSON.stringify(raw.loadBalancerArn)}`,
      );
    }
    loadBalancer = { arn: raw.loadBalancerArn };
  } else if (raw.loadBalancerName !== undefined) {
    if (typeof raw.loadBalancerName !== 'string' || raw.loadBalancerName === '') {
      throw new ListenerRuleConfigError(`${path}.loadBalancerName must be a non-empty string (the ALB's name)`);
    }
    loadBalancer = { name: raw.loadBalancerName };
  } else {
    throw new ListenerRuleConfigError(
      `${path} names no rule; set ruleArn, or loadBalancerName (or loadBalancerArn) with listenerPort and conditions or defaultAction: true`,
    );
  }

  const port = raw.listenerPort;
  if (port === undefined) {
    throw new ListenerRuleConfigError(`${path}.listenerPort is required with a load balancer: the port of the listener that holds the rule`);
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ListenerRuleConfigError(`${path}.listenerPort must be an integer from 1 to 65535; got ${JSON.stringify(port)}`);
  }

  if (raw.defaultAction !== undefined) {
    if (raw.defaultAction !== true) {
      throw new ListenerRuleConfigError(`${path}.defaultAction can only be true (drive the listener's default action); remove it otherwise`);
    }
    if (raw.conditions !== undefined) {
      throw new ListenerRuleConfigError(
        `${path} sets both conditions and defaultAction; the default action has no conditions, keep one of them`,
      );
    }
    return { kind: 'default', loadBalancer, listenerPort: port };
  }
  if (!isObject(raw.conditions)) {
    throw new ListenerRuleConfigError(
      `${path}.conditions is required to find the rule: {host, path} as on the rule, or use defaultAction: true or ruleArn`,
    );
  }
  for (const key of Object.keys(raw.conditions)) {
    if (key !== 'host' && key !== 'path') {
      throw new ListenerRuleConfigError(
        `${path}.conditions.${key} is not supported; rules are found by host and path, use ruleArn for other rules`,
      );
    }
  }
  const host = stringList(raw.conditions.host, `${path}.conditions.host`);
  const pathValues = stringList(raw.conditions.path, `${path}.conditions.path`);
  if (host.length === 0 && pathValues.length === 0) {
    throw new ListenerRuleConfigError(`${path}.conditions needs host, path or both`);
  }
  return { kind: 'conditions', loadBalancer, listenerPort: port, host, path: pathValues };
}

function parseTargetGroupRef(raw: unknown, path: string, service: string): TargetGroupRef {
  if (raw === undefined) {
    throw new ListenerRuleConfigError(
      `${path} is required: {arn: <target group ARN>} or {targetGroupBinding: <name of the binding for ${service}>}`,
    );
  }
  if (!isObject(raw)) {
    throw new ListenerRuleConfigError(`${path} must be {arn} or {targetGroupBinding}; got ${JSON.stringify(raw)}`);
  }
  const keys = Object.keys(raw);
  if (keys.length !== 1 || (keys[0] !== 'arn' && keys[0] !== 'targetGroupBinding')) {
    throw new ListenerRuleConfigError(`${path} must have exactly one of arn or targetGroupBinding; got ${keys.join(', ') || 'none'}`);
  }
  if (raw.arn !== undefined) {
    if (typeof raw.arn !== 'string' || !/^arn:[^:]+:elasticloadbalancing:[^:]*:[^:]*:targetgroup\//.test(raw.arn)) {
      throw new ListenerRuleConfigError(
        `${path}.arn must be a target group ARN (arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>); ` +
          `got ${JSON.stringify(raw.arn)}`,
      );
    }
    return { arn: raw.arn };
  }
  if (typeof raw.targetGroupBinding !== 'string' || raw.targetGroupBinding === '') {
    throw new ListenerRuleConfigError(`${path}.targetGroupBinding must be the name of a TargetGroupBinding in the Rollout's namespace`);
  }
  return { targetGroupBinding: raw.targetGroupBinding };
}

function stringList(raw: unknown, path: string): string[] {
  if (raw === undefined) return [];
  const list = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string' && v !== '')) {
    throw new ListenerRuleConfigError(`${path} must be a non-empty string or a non-empty list of strings, as on the rule`);
  }
  return list as string[];
}

function sameRef(a: TargetGroupRef, b: TargetGroupRef): boolean {
  if ('arn' in a && 'arn' in b) return a.arn === b.arn;
  if ('targetGroupBinding' in a && 'targetGroupBinding' in b) return a.targetGroupBinding === b.targetGroupBinding;
  return false;
}
