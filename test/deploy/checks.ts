// What every install flavour of the plugin must satisfy, shared by the static manifest tests, the kustomize
// rendering (test/deploy/kustomize-build.test.ts) and its installation on a real API server
// (test/deploy/install-manifests.kube.test.ts): pod pieces and plugin entry agree with the sidecar's own settings
// parser and defaults, and the RBAC grants what the plugin calls.
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { OPTIONS, parseSettings, type Settings } from '../../src/settings.js';
import { DEFAULT_PLUGIN_NAME } from '../../src/plugin/router.js';
import { REPO_ROOT } from '../support/kube/assets.js';

export const root = `${REPO_ROOT}/`;
export const read = (p: string) => readFileSync(root + p, 'utf8');

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; readOnlyRootFilesystem?: boolean };
}
export interface Volume {
  name: string;
  emptyDir?: object;
}
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
export interface PluginEntry {
  name: string;
  location: string;
  args?: string[];
}

export const defaults = parseSettings([], {}).settings;

/** The sidecar's settings as the container would start with them: the real parser, flags then env. */
export function sidecarSettings(c: Container): Settings {
  const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? '']));
  return parseSettings(c.args ?? [], env).settings;
}

export function flagValue(args: readonly string[] | undefined, flag: string): string | undefined {
  return args?.find((a) => a.startsWith(`--${flag}=`))?.slice(flag.length + 3);
}

export const REQUIRED_ACCESS: Array<[group: string, resource: string, verb: string]> = [
  ['networking.k8s.io', 'ingresses', 'get'],
  ['networking.k8s.io', 'ingresses', 'patch'],
  ['networking.k8s.io', 'ingresses', 'list'],
  ['', 'services', 'get'],
  ['', 'endpoints', 'get'],
  ['discovery.k8s.io', 'endpointslices', 'list'],
  // The HTTP API's report, and the ALB analysis's read of the Rollout that owns an AnalysisRun.
  ['argoproj.io', 'rollouts', 'get'],
  ['argoproj.io', 'rollouts', 'list'],
  ['argoproj.io', 'rollouts', 'watch'],
  ['', 'events', 'create'],
  // src/leadership: one GET of the controller's leader Lease every 2 s (no list or watch).
  ['coordination.k8s.io', 'leases', 'get'],
  // Gateway mode (src/modes/gateway): the routes it patches, the Gateways and classes it reads.
  ['gateway.networking.k8s.io', 'httproutes', 'get'],
  ['gateway.networking.k8s.io', 'httproutes', 'patch'],
  ['gateway.networking.k8s.io', 'grpcroutes', 'get'],
  ['gateway.networking.k8s.io', 'grpcroutes', 'patch'],
  // The cleanup sweep's cluster-wide lists (the gateway-owned entries of Rollouts deleted while no sidecar watched).
  ['gateway.networking.k8s.io', 'httproutes', 'list'],
  ['gateway.networking.k8s.io', 'grpcroutes', 'list'],
  ['gateway.networking.k8s.io', 'gateways', 'get'],
  ['gateway.networking.k8s.io', 'gatewayclasses', 'get'],
  // A route in another namespace than the Rollout's Services: the ReferenceGrants there (Gateway mode's SetWeight).
  ['gateway.networking.k8s.io', 'referencegrants', 'list'],
  ['', 'pods', 'list'],
  // Every apiVersion --aws-target-group-binding-api-version accepts: listed for a Service's target groups, read by
  // name for a listener-rule role.
  ...OPTIONS.find((o) => o.key === 'awsTargetGroupBindingApiVersion')!.choices!.flatMap((v) =>
    (['list', 'get'] as const).map((verb) => [v.split('/')[0]!, 'targetgroupbindings', verb] as [string, string, string]),
  ),
];

/** Every (group, resource, verb) a role grants, for the "nothing beyond what the code calls" checks. */
export function grantedTriples(rules: PolicyRule[]): string[] {
  return rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${v} ${res}.${g}`)))).sort();
}

export function allows(rules: PolicyRule[], group: string, resource: string, verb: string): boolean {
  return rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
}

/**
 * What must hold for any install flavour: init container, sidecar, volume, mounts and the plugin entries
 * (`entries`: trafficRouterPlugins, `metricEntries`: metricProviderPlugins) agree.
 */
export function checkPodAndEntry(p: {
  initContainers: Container[];
  sidecar: Container;
  controllerMounts: Container['volumeMounts'];
  volumes: Volume[];
  entries: PluginEntry[];
  metricEntries: PluginEntry[];
}): void {
  const entry = p.entries.find((e) => e.name === DEFAULT_PLUGIN_NAME);
  expect(entry, `plugin entry ${DEFAULT_PLUGIN_NAME}`).toBeDefined();
  // Argo's own check of plugin names (utils/plugin/types): <namespace>/<name>.
  expect(entry!.name).toMatch(/^([a-zA-Z0-9-]+)\/{1}([a-zA-Z0-9_\-.]+)$/);
  expect(entry!.location).toMatch(/^file:\/\/\//);
  const binaryPath = entry!.location.slice('file://'.length);
  const binaryDir = binaryPath.slice(0, binaryPath.lastIndexOf('/'));

  const init = p.initContainers.find((c) => c.command?.includes(binaryPath));
  expect(init, `an init container copying the handshake binary to ${binaryPath}`).toBeDefined();
  expect(init!.command![0]).toBe('cp');
  expect(init!.command![1]).toBe('/usr/local/bin/handshake');
  const initMount = init!.volumeMounts?.find((m) => m.mountPath === binaryDir);
  expect(initMount).toBeDefined();

  const volume = p.volumes.find((v) => v.name === initMount!.name);
  expect(volume?.emptyDir, `emptyDir volume ${initMount!.name}`).toBeDefined();
  expect(p.controllerMounts).toContainEqual({ name: volume!.name, mountPath: binaryDir, readOnly: true });

  const settings = sidecarSettings(p.sidecar);
  expect(settings.pluginName).toBe(entry!.name);
  expect(flagValue(entry!.args, 'sidecar')).toBe(settings.pluginListen);
  expect(flagValue(entry!.args, 'plugin-name')).toBe(settings.pluginName);
  // The metric provider: the same handshake binary and sidecar listener, under the sidecar's
  // --metric-plugin-name, which is not the traffic router's name (Argo copies every entry to
  // plugin-bin/<name> by name alone, utils/plugin/downloader.go).
  const metric = p.metricEntries.find((e) => e.name === defaults.metricPluginName);
  expect(metric, `metric-provider plugin entry ${defaults.metricPluginName}`).toBeDefined();
  expect(metric!.name).toMatch(/^([a-zA-Z0-9-]+)\/{1}([a-zA-Z0-9_\-.]+)$/);
  expect(metric!.name).not.toBe(entry!.name);
  expect(metric!.location).toBe(entry!.location);
  expect(settings.metricPluginName).toBe(metric!.name);
  expect(flagValue(metric!.args, 'sidecar')).toBe(settings.pluginListen);
  expect(flagValue(metric!.args, 'plugin-name')).toBe(metric!.name);

  // The go-plugin listener must stay on loopback: the controller reaches it through the handshake proxy.
  expect(settings.pluginListen.startsWith('127.0.0.1:')).toBe(true);
  expect(settings.pluginListen).toBe(defaults.pluginListen);

  const httpPort = Number(settings.httpListen.split(':').pop());
  expect(httpPort).toBe(Number(defaults.httpListen.split(':').pop()));
  const port = p.sidecar.ports?.find((x) => x.containerPort === httpPort);
  expect(port?.name).toBeDefined();
  expect(p.sidecar.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: port!.name });
  expect(p.sidecar.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: port!.name });
  for (const c of [p.sidecar, init!]) {
    expect(c.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true });
    expect(c.securityContext!.runAsUser).toBeGreaterThan(0);
    expect(c.image).toBe(p.sidecar.image);
  }
}

