// Reads this plugin's block from `spec.strategy.canary.trafficRouting.plugins[<name>]`: parse, default,
// fold `ingress` into the list, validate. The fields are those of Argo's built-in `alb` block, so migrating
// is a rename; every rule Argo's own validation applies to `alb` is repeated here, because Argo does not
// apply it to plugins (spec §0.1).

import type { CanaryStrategy, Rollout, StringMatch } from './rollout.js';
import { DEFAULT_ANNOTATION_PREFIX, type AlbPluginConfig, type IngressTarget, type StickinessConfig } from './types.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    /** Field path, e.g. `spec.strategy.canary.trafficRouting.plugins["argoproj-labs/alb"].servicePort`. */
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

export const MAX_STICKINESS_SECONDS = 604800;
/** ALB accepts 0..999 per target group. */
export const MAX_ALB_WEIGHT = 999;
export const DEFAULT_MAX_WEIGHT = 100;

const CANARY = 'spec.strategy.canary';
const ROUTING = `${CANARY}.trafficRouting`;
const KNOWN_FIELDS = ['ingress', 'ingresses', 'servicePort', 'rootService', 'annotationPrefix', 'stickinessConfig'];

export function pluginPath(pluginName: string): string {
  return `${ROUTING}.plugins[${JSON.stringify(pluginName)}]`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function describe(v: unknown): string {
  return v === undefined ? 'missing' : JSON.stringify(v);
}

function port(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new ConfigError(path, `${describe(value)} is not a port; set it to the Service port number (1..65535) the Ingress backends use`);
  }
  return value;
}

function name(value: unknown, path: string, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigError(path, `${describe(value)} is not a name; set it to the ${what}`);
  }
  return value;
}

function parseIngresses(block: Record<string, unknown>, base: string): { list: Array<{ name: string; servicePort?: number }>; single: boolean } {
  const hasOne = block.ingress !== undefined && block.ingress !== '';
  const hasMany = block.ingresses !== undefined && block.ingresses !== null;
  if (hasOne && hasMany) {
    throw new ConfigError(base, 'both ingress and ingresses are set; keep exactly one (ingresses for several Ingresses)');
  }
  if (!hasOne && !hasMany) {
    throw new ConfigError(base, 'neither ingress nor ingresses is set; name the Ingress with ingress: <name> or list them under ingresses');
  }
  if (hasOne) return { list: [{ name: name(block.ingress, `${base}.ingress`, 'Ingress name, in the Rollout\'s namespace') }], single: true };
  const raw = block.ingresses;
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new ConfigError(`${base}.ingresses`, `${describe(raw)} is not a non-empty list; list Ingress names or {name, servicePort} objects`);
  }
  const list = raw.map((entry, i) => {
    const at = `${base}.ingresses[${i}]`;
    if (typeof entry === 'string') return { name: name(entry, at, 'Ingress name') };
    if (!isObject(entry)) throw new ConfigError(at, `${describe(entry)} must be an Ingress name or {name, servicePort}`);
    for (const key of Object.keys(entry)) {
      if (key !== 'name' && key !== 'servicePort') throw new ConfigError(`${at}.${key}`, 'unknown field; an entry has only name and servicePort');
    }
    const item: { name: string; servicePort?: number } = { name: name(entry.name, `${at}.name`, 'Ingress name') };
    if (entry.servicePort !== undefined) item.servicePort = port(entry.servicePort, `${at}.servicePort`);
    return item;
  });
  const seen = new Set<string>();
  list.forEach((item, i) => {
    if (seen.has(item.name)) throw new ConfigError(`${base}.ingresses[${i}]`, `Ingress "${item.name}" is listed twice; list each Ingress once`);
    seen.add(item.name);
  });
  return { list, single: false };
}

function parseStickiness(value: unknown, path: string): StickinessConfig | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new ConfigError(path, `${describe(value)} must be {enabled, durationSeconds}`);
  for (const key of Object.keys(value)) {
    if (key !== 'enabled' && key !== 'durationSeconds') throw new ConfigError(`${path}.${key}`, 'unknown field; use enabled and durationSeconds');
  }
  if (typeof value.enabled !== 'boolean') throw new ConfigError(`${path}.enabled`, `${describe(value.enabled)} must be true or false`);
  const duration = value.durationSeconds ?? 0;
  if (typeof duration !== 'number' || !Number.isInteger(duration)) {
    throw new ConfigError(`${path}.durationSeconds`, `${describe(duration)} must be a whole number of seconds`);
  }
  if (value.enabled && (duration < 1 || duration > MAX_STICKINESS_SECONDS)) {
    throw new ConfigError(
      `${path}.durationSeconds`,
      `TargetGroupStickinessConfig's duration must be between 1 and ${MAX_STICKINESS_SECONDS} seconds (7 days)!`,
    );
  }
  return { enabled: value.enabled, durationSeconds: duration };
}

function checkServices(canary: CanaryStrategy, rootService: string | undefined, base: string): void {
  const pp = canary.pingPong;
  if (pp) {
    if (!pp.pingService || !pp.pongService) {
      const missing = !pp.pingService ? 'pingService' : 'pongService';
      throw new ConfigError(`${CANARY}.pingPong.${missing}`, 'Ping service and Pong service must to be set to use Ping-Pong feature');
    }
    if (pp.pingService === pp.pongService) {
      throw new ConfigError(`${CANARY}.pingPong.pingService`, 'the ping and pong services are the same; name two different Services');
    }
    if (!rootService) {
      throw new ConfigError(
        `${base}.rootService`,
        'required with ping-pong; set it to the backend service name of the Ingress rule whose action is rewritten',
      );
    }
    return;
  }
  if (!canary.stableService) {
    throw new ConfigError(`${CANARY}.stableService`, 'Canary service and Stable service must to be set to use Traffic Routing');
  }
  if (!canary.canaryService) {
    throw new ConfigError(`${CANARY}.canaryService`, 'Canary service and Stable service must to be set to use Traffic Routing');
  }
  if (canary.stableService === canary.canaryService) {
    throw new ConfigError(
      `${CANARY}.stableService`,
      'This rollout uses the same service for the stable and canary services, but two different services are required.',
    );
  }
}

/** `maxTrafficWeight`, 100 when absent; ALB allows up to 999. */
export function maxWeightOf(rollout: Rollout): number {
  const max = rollout.spec.strategy.canary?.trafficRouting?.maxTrafficWeight;
  if (max === undefined || max === null) return DEFAULT_MAX_WEIGHT;
  if (!Number.isInteger(max) || max < 1 || max > MAX_ALB_WEIGHT) {
    throw new ConfigError(`${ROUTING}.maxTrafficWeight`, `${describe(max)} is out of range; ALB weights go from 1 to ${MAX_ALB_WEIGHT}`);
  }
  return max;
}

/** The value an ALB http-header condition gets for one match: exact as is, prefix as an ALB wildcard. */
export function headerMatchValue(value: StringMatch | null | undefined, path: string): string {
  if (!value) {
    throw new ConfigError(`${path}.headerValue`, 'StringMatch value missed, match value must have one of the following: exact, regex, prefix');
  }
  const set = (['exact', 'prefix', 'regex'] as const).filter((k) => value[k] !== undefined && value[k] !== null && value[k] !== '');
  if (set.length !== 1) {
    throw new ConfigError(`${path}.headerValue`, 'set exactly one of exact or prefix (ALB matches header values with * and ? wildcards)');
  }
  if (set[0] === 'regex') {
    throw new ConfigError(
      `${path}.headerValue.regex`,
      'regular expressions are not supported by ALB header conditions; use exact (with * and ? wildcards) or prefix',
    );
  }
  return set[0] === 'exact' ? value.exact! : `${value.prefix!}*`;
}

function checkSteps(canary: CanaryStrategy, actionService: string | undefined): void {
  (canary.trafficRouting?.managedRoutes ?? []).forEach((r, i) => {
    if (!r.name) throw new ConfigError(`${ROUTING}.managedRoutes[${i}].name`, 'missing; name the header route');
    if (r.name === actionService) {
      throw new ConfigError(
        `${ROUTING}.managedRoutes[${i}].name`,
        `"${r.name}" is also the action service; header routes write actions.<name>, so pick another route name`,
      );
    }
  });
  const managed = new Set((canary.trafficRouting?.managedRoutes ?? []).map((r) => r.name));
  (canary.steps ?? []).forEach((step, i) => {
    const route = step.setHeaderRoute;
    if (!route) return;
    const at = `${CANARY}.steps[${i}].setHeaderRoute`;
    if (!canary.trafficRouting?.managedRoutes) {
      throw new ConfigError(`${ROUTING}.managedRoutes`, `missing; list the header route "${route.name}" under managedRoutes`);
    }
    if (!managed.has(route.name)) {
      throw new ConfigError(at, `route "${route.name}" is not in ${ROUTING}.managedRoutes; add it there`);
    }
    (route.match ?? []).forEach((m, j) => {
      if (!m.headerName) throw new ConfigError(`${at}.match[${j}].headerName`, 'missing; name the HTTP header to match');
      headerMatchValue(m.headerValue, `${at}.match[${j}]`);
    });
  });
}

export function parsePluginConfig(rollout: Rollout, pluginName: string): AlbPluginConfig {
  const canary = rollout.spec?.strategy?.canary;
  if (!canary) throw new ConfigError(`${CANARY}`, 'missing; the ALB traffic router works with the canary strategy only');
  const base = pluginPath(pluginName);
  const block = canary.trafficRouting?.plugins?.[pluginName];
  if (!isObject(block)) {
    throw new ConfigError(base, `${block === undefined ? 'missing' : 'not an object'}; configure the plugin under this key (the fields of trafficRouting.alb)`);
  }
  if (block.listenerRule !== undefined) {
    throw new ConfigError(
      `${base}.listenerRule`,
      'this Rollout uses listener-rule mode, which drives the ALB rule directly; it has no Ingress settings',
    );
  }
  for (const key of Object.keys(block)) {
    if (!KNOWN_FIELDS.includes(key)) {
      throw new ConfigError(`${base}.${key}`, `unknown field; the fields are ${KNOWN_FIELDS.join(', ')}`);
    }
  }
  const { list, single } = parseIngresses(block, base);
  const everyIngressHasPort = list.every((i) => i.servicePort !== undefined);
  let servicePort: number;
  if (block.servicePort === undefined && everyIngressHasPort) {
    servicePort = list[0]!.servicePort!;
  } else if (block.servicePort === undefined) {
    throw new ConfigError(`${base}.servicePort`, 'missing; set it to the Service port number the Ingress backends use (for example 80)');
  } else {
    servicePort = port(block.servicePort, `${base}.servicePort`);
  }
  const ingresses: IngressTarget[] = list.map((i) => ({ name: i.name, servicePort: i.servicePort ?? servicePort }));

  let rootService: string | undefined;
  if (block.rootService !== undefined && block.rootService !== '') {
    rootService = name(block.rootService, `${base}.rootService`, 'backend service name of the Ingress rule to take over');
  }
  let annotationPrefix = DEFAULT_ANNOTATION_PREFIX;
  if (block.annotationPrefix !== undefined && block.annotationPrefix !== '') {
    if (typeof block.annotationPrefix !== 'string' || /[\s/]/.test(block.annotationPrefix)) {
      throw new ConfigError(`${base}.annotationPrefix`, `${describe(block.annotationPrefix)} is not an annotation prefix; leave it out (default ${DEFAULT_ANNOTATION_PREFIX})`);
    }
    annotationPrefix = block.annotationPrefix;
  }
  const stickinessConfig = parseStickiness(block.stickinessConfig, `${base}.stickinessConfig`);

  checkServices(canary, rootService, base);
  maxWeightOf(rollout);
  checkSteps(canary, rootService ?? (canary.pingPong ? undefined : canary.stableService));

  const config: AlbPluginConfig = { ingresses, singleIngress: single, servicePort, annotationPrefix };
  if (rootService !== undefined) config.rootService = rootService;
  if (stickinessConfig !== undefined) config.stickinessConfig = stickinessConfig;
  return config;
}
