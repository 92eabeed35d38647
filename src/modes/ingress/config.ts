// Ingress mode's reading of this plugin's block from `spec.strategy.canary.trafficRouting.plugins[<name>]`:
// parse, default, fold `ingress` into the list, validate. The fields are those of Argo's built-in `alb`
// block, so migrating is a rename; every rule Argo's own validation applies to `alb` is repeated, because
// Argo does not apply it to plugins (pkg/apis/rollouts/validation in argo-rollouts validates `alb` only): the rules every mode shares (Services, ping-pong,
// maxTrafficWeight, stickiness, header routes) come from src/core, the Ingress-only ones are here.

import { CANARY, ConfigError, describeValue, isObject, pluginPath } from '../../core/fields.js';
import { checkHeaderRouteSteps } from '../../core/routes.js';
import type { Rollout } from '../../core/rollout.js';
import { checkServices } from '../../core/services.js';
import { parseStickiness } from '../../core/stickiness.js';
import { maxTrafficWeight } from '../../core/weights.js';
import { DEFAULT_ANNOTATION_PREFIX, type AlbPluginConfig, type IngressTarget } from './types.js';

const KNOWN_FIELDS = ['ingress', 'ingresses', 'servicePort', 'rootService', 'annotationPrefix', 'stickinessConfig'];

function port(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new ConfigError(path, `${describeValue(value)} is not a port; set it to the Service port number (1..65535) the Ingress backends use`);
  }
  return value;
}

function name(value: unknown, path: string, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigError(path, `${describeValue(value)} is not a name; set it to the ${what}`);
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
    throw new ConfigError(`${base}.ingresses`, `${describeValue(raw)} is not a non-empty list; list Ingress names or {name, servicePort} objects`);
  }
  const list = raw.map((entry, i) => {
    const at = `${base}.ingresses[${i}]`;
    if (typeof entry === 'string') return { name: name(entry, at, 'Ingress name') };
    if (!isObject(entry)) throw new ConfigError(at, `${describeValue(entry)} must be an Ingress name or {name, servicePort}`);
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

export function parsePluginConfig(rollout: Rollout, pluginName: string): AlbPluginConfig {
  const canary = rollout.spec?.strategy?.canary;
  if (!canary) throw new ConfigError(CANARY, 'missing; the ALB traffic router works with the canary strategy only');
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
      throw new ConfigError(`${base}.annotationPrefix`, `${describeValue(block.annotationPrefix)} is not an annotation prefix; leave it out (default ${DEFAULT_ANNOTATION_PREFIX})`);
    }
    annotationPrefix = block.annotationPrefix;
  }
  const stickinessConfig = parseStickiness(block.stickinessConfig, `${base}.stickinessConfig`);

  checkServices(canary, true);
  if (canary.pingPong && !rootService) {
    throw new ConfigError(
      `${base}.rootService`,
      'required with ping-pong; set it to the backend service name of the Ingress rule whose action is rewritten',
    );
  }
  maxTrafficWeight(rollout);
  const actionService = rootService ?? (canary.pingPong ? undefined : canary.stableService);
  checkHeaderRouteSteps(
    canary,
    actionService === undefined
      ? undefined
      : {
          name: actionService,
          problem: `"${actionService}" is also the action service; header routes write actions.<name>, so pick another route name`,
        },
  );

  const config: AlbPluginConfig = { ingresses, singleIngress: single, servicePort, annotationPrefix };
  if (rootService !== undefined) config.rootService = rootService;
  if (stickinessConfig !== undefined) config.stickinessConfig = stickinessConfig;
  return config;
}
