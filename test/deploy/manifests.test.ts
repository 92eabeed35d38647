// The kustomize overlay, the Helm values snippet, plugin.yaml, the IAM policies (against the AWS calls the code
// sends), the AnalysisTemplate and the Dockerfile, checked against each other and against the sidecar's own
// settings parser and defaults, so a renamed flag, port or path cannot leave the manifests behind.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAllYaml, loadYaml } from '@kubernetes/client-node';
import { DEFAULT_PLUGIN_NAME } from '../../src/plugin/router.js';
import { buildServer } from '../../src/server/app.js';
import { createMetrics } from '../../src/metrics.js';
import { canaryRollout, fakeSource } from '../server/fixtures.js';
import {
  allows,
  checkPodAndEntry,
  defaults,
  read,
  root,
  REQUIRED_ACCESS,
  grantedTriples,
  sidecarSettings,
  type Container,
  type PluginEntry,
  type PolicyRule,
  type Volume,
} from './checks.js';

describe('kustomize overlay', () => {
  const kustomization = loadYaml<{ resources: string[]; patches: Array<{ path: string }> }>(read('deploy/kustomize/kustomization.yaml'));
  const deployment = loadYaml<{
    kind: string;
    metadata: { name: string };
    spec: { template: { spec: { initContainers: Container[]; containers: Container[]; volumes: Volume[] } } };
  }>(read('deploy/kustomize/deployment-patch.yaml'));
  const configMap = loadYaml<{ metadata: { name: string }; data: { trafficRouterPlugins: string; metricProviderPlugins: string } }>(
    read('deploy/kustomize/argo-rollouts-config.yaml'),
  );
  const rbac = loadAllYaml(read('deploy/kustomize/rbac.yaml')) as Array<{
    kind: string;
    metadata: { name: string };
    rules?: PolicyRule[];
    roleRef?: { name: string };
    subjects?: Array<{ kind: string; name: string; namespace: string }>;
  }>;

  it('lists every file it patches and adds', () => {
    expect(kustomization.resources).toContain('rbac.yaml');
    expect(kustomization.resources.some((r) => /argoproj\/argo-rollouts\/releases\/download\/v[\d.]+\/install\.yaml$/.test(r))).toBe(true);
    expect(kustomization.patches.map((p) => p.path).sort()).toEqual(['argo-rollouts-config.yaml', 'deployment-patch.yaml']);
  });

  it('adds the sidecar, the init container, the volume and the plugin entry consistently with the defaults', () => {
    expect(deployment).toMatchObject({ kind: 'Deployment', metadata: { name: 'argo-rollouts' } });
    expect(configMap.metadata.name).toBe('argo-rollouts-config');
    const pod = deployment.spec.template.spec;
    checkPodAndEntry({
      initContainers: pod.initContainers,
      sidecar: pod.containers.find((c) => c.name === 'alb-plugin')!,
      controllerMounts: pod.containers.find((c) => c.name === 'argo-rollouts')!.volumeMounts,
      volumes: pod.volumes,
      entries: loadYaml<PluginEntry[]>(configMap.data.trafficRouterPlugins),
      metricEntries: loadYaml<PluginEntry[]>(configMap.data.metricProviderPlugins),
    });
  });

  it('touches nothing of the controller container but one read-only mount', () => {
    const controller = deployment.spec.template.spec.containers.find((c) => c.name === 'argo-rollouts')!;
    expect(Object.keys(controller).sort()).toEqual(['name', 'volumeMounts']);
  });

  it('grants the ServiceAccount what the plugin calls', () => {
    const role = rbac.find((d) => d.kind === 'ClusterRole')!;
    const binding = rbac.find((d) => d.kind === 'ClusterRoleBinding')!;
    expect(binding.roleRef!.name).toBe(role.metadata.name);
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'argo-rollouts', namespace: 'argo-rollouts' }]);
    for (const [g, r, v] of REQUIRED_ACCESS) expect(allows(role.rules!, g, r, v), `${v} ${r}.${g}`).toBe(true);
    // Read-mostly: the only writes are Ingress, HTTPRoute and GRPCRoute patches and Events.
    const writes = role.rules!.filter((r) => r.verbs.some((v) => !['get', 'list', 'watch'].includes(v)));
    expect(writes.map((r) => r.resources.join(','))).toEqual(['ingresses', 'httproutes,grpcroutes', 'events']);
    // And nothing beyond what the code calls (issue #20): every verb granted is one the sidecar uses.
    expect(grantedTriples(role.rules!)).toEqual([...new Set(REQUIRED_ACCESS.map(([g, r, v]) => `${v} ${r}.${g}`))].sort());
  });

  it('has the same plugin entries as plugin.yaml, and no others', () => {
    const pluginYaml = loadYaml<{ data: Record<string, string> }>(read('plugin.yaml'));
    expect(Object.keys(pluginYaml.data).sort()).toEqual(['metricProviderPlugins', 'trafficRouterPlugins']);
    expect(Object.keys(configMap.data).sort()).toEqual(['metricProviderPlugins', 'trafficRouterPlugins']);
    for (const key of ['trafficRouterPlugins', 'metricProviderPlugins'] as const) {
      expect(loadYaml(pluginYaml.data[key]!), key).toEqual(loadYaml(configMap.data[key]));
    }
  });
});

describe('Helm values snippet', () => {
  const values = loadYaml<{
    controller: {
      initContainers: Container[];
      extraContainers: Container[];
      volumes: Volume[];
      volumeMounts: Container['volumeMounts'];
      trafficRouterPlugins: PluginEntry[];
      metricProviderPlugins: PluginEntry[];
    };
    providerRBAC: { enabled: boolean; additionalRules: PolicyRule[] };
  }>(read('deploy/helm/values.yaml'));

  it('adds the same pod pieces and plugin entry', () => {
    const c = values.controller;
    checkPodAndEntry({
      initContainers: c.initContainers,
      sidecar: c.extraContainers.find((x) => x.name === 'alb-plugin')!,
      controllerMounts: c.volumeMounts,
      volumes: c.volumes,
      entries: c.trafficRouterPlugins,
      metricEntries: c.metricProviderPlugins,
    });
  });

  it('matches the kustomize overlay container for container', () => {
    const patch = loadYaml<{ spec: { template: { spec: { initContainers: Container[]; containers: Container[] } } } }>(read('deploy/kustomize/deployment-patch.yaml'));
    const k = patch.spec.template.spec;
    const h = values.controller;
    const sidecarK = k.containers.find((c) => c.name === 'alb-plugin')!;
    const sidecarH = h.extraContainers.find((c) => c.name === 'alb-plugin')!;
    expect(sidecarSettings(sidecarH)).toEqual(sidecarSettings(sidecarK));
    expect(h.initContainers[0]!.command).toEqual(k.initContainers[0]!.command);
  });

  it('adds the RBAC rules the plugin needs', () => {
    expect(values.providerRBAC.enabled).toBe(true);
    for (const [g, r, v] of REQUIRED_ACCESS) expect(allows(values.providerRBAC.additionalRules, g, r, v), `${v} ${r}.${g}`).toBe(true);
    expect(grantedTriples(values.providerRBAC.additionalRules)).toEqual([...new Set(REQUIRED_ACCESS.map(([g, r, v]) => `${v} ${r}.${g}`))].sort());
  });
});

describe('IAM policies', () => {
  type Policy = { Statement: Array<{ Effect: string; Action: string | string[]; Resource: string | string[] }> };
  const policy = (path: string) => JSON.parse(read(path)) as Policy;
  const actions = (p: Policy) => p.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

  /** `<prefix>:<Command>` for every `new <Command>Command(` in the files under `dir` (or the one file). */
  function sent(paths: string[], prefix: string): string[] {
    const out = new Set<string>();
    for (const path of paths) for (const m of read(path).matchAll(/new (\w+)Command\(/g)) out.add(`${prefix}:${m[1]}`);
    return [...out].sort();
  }
  const srcFiles = (dir: string): string[] =>
    readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => `${dir}/${f}`);

  it('deploy/iam-policy.json grants exactly the ELBv2 reads src/aws/elbv2.ts sends, all Describe*', () => {
    const p = policy('deploy/iam-policy.json');
    expect([...new Set(actions(p))].sort()).toEqual(sent(['src/aws/elbv2.ts'], 'elasticloadbalancing'));
    for (const op of ['DescribeLoadBalancers', 'DescribeListeners', 'DescribeRules', 'DescribeTargetGroups', 'DescribeTargetHealth', 'DescribeTags']) {
      expect(actions(p)).toContain(`elasticloadbalancing:${op}`);
    }
    expect(actions(p).every((a) => /^elasticloadbalancing:Describe/.test(a))).toBe(true);
    expect(p.Statement.every((s) => s.Effect === 'Allow')).toBe(true);
  });

  it('deploy/iam-policy-analysis.json grants exactly the CloudWatch calls src/analysis sends: GetMetricData, on *', () => {
    const p = policy('deploy/iam-policy-analysis.json');
    expect([...new Set(actions(p))].sort()).toEqual(sent(srcFiles('src/analysis'), 'cloudwatch'));
    expect(actions(p)).toEqual(['cloudwatch:GetMetricData']);
    // GetMetricData takes no resource-level permissions.
    expect(p.Statement.every((s) => s.Effect === 'Allow' && s.Resource === '*')).toBe(true);
  });

  it('every AWS call in src is in one of the policies\' files (ELBv2 reads, listener-rule writes, analysis)', () => {
    const covered = new Set(['src/aws/elbv2.ts', ...srcFiles('src/modes/listener-rule'), ...srcFiles('src/analysis')]);
    const senders = srcFiles('src').filter((f) => /new \w+Command\(/.test(read(f)));
    expect(senders.length).toBeGreaterThanOrEqual(4);
    expect(senders.filter((f) => !covered.has(f))).toEqual([]);
  });
});

describe('AnalysisTemplate example', () => {
  const templates = loadAllYaml(read('deploy/analysis-template.yaml')) as Array<{
    kind: string;
    metadata: { name: string };
    spec: { args: Array<{ name: string }>; metrics: Array<{ successCondition: string; provider: { web: { url: string; jsonPath: string } } }> };
  }>;

  it.each(templates.map((t) => [t.metadata.name, t] as const))('%s queries the sidecar API and gates on verified', async (_name, t) => {
    expect(t.kind).toBe('AnalysisTemplate');
    const metric = t.spec.metrics[0]!;
    expect(metric.successCondition).toBe('result.verified == true');
    expect(metric.provider.web.jsonPath).toBe('{$}');
    const url = new URL(
      metric.provider.web.url
        .replace('{{args.namespace}}', 'shop')
        .replace('{{args.rollout}}', 'web')
        .replace('{{args.ingress}}', 'app'),
    );
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.port).toBe(defaults.httpListen.split(':').pop());
    const used = [...metric.provider.web.url.matchAll(/\{\{args\.([\w-]+)\}\}/g)].map((m) => m[1]);
    expect(used.sort()).toEqual(t.spec.args.map((a) => a.name).sort());

    // The URL, as Argo would call it, answers with a report whose `verified` the condition reads.
    const app = buildServer({ registry: createMetrics().registry, readiness: [], reports: fakeSource([canaryRollout('web')]), pluginName: DEFAULT_PLUGIN_NAME });
    try {
      const res = await app.inject(url.pathname + url.search);
      expect(res.statusCode).toBe(200);
      expect(res.json().verified).toBe(true);
    } finally {
      await app.close();
    }
  });
});

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  const froms = text.split('\n').filter((l) => /^FROM /.test(l));
  const args = Object.fromEntries([...text.matchAll(/^ARG (\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  const image = (line: string) => line.replace(/^FROM (--platform=\S+ )?/, '').split(' ')[0]!.replace(/^\$\{(\w+)\}$/, (_m, a: string) => args[a] ?? '');
  const pkg = JSON.parse(read('package.json')) as { engines: { node: string } };

  it('builds the handshake with Go and runs Node as a non-root user', () => {
    expect(froms.map(image)).toEqual([expect.stringMatching(/^golang:1\.26/), expect.stringMatching(/^node:/), expect.stringMatching(/^node:/)]);
    expect(text).toMatch(/COPY --from=handshake \S+ \/usr\/local\/bin\/handshake/);
    const user = /^USER (\S+)/m.exec(text)?.[1];
    expect(user).toBeDefined();
    // Numeric, so the kubelet can check runAsNonRoot without reading /etc/passwd; the manifests pin the same uid.
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(text).toContain('ENTRYPOINT ["node", "dist/src/main.js"]');
  });

  it('runs the Node major package.json engines asks for', () => {
    const major = /\d+/.exec(pkg.engines.node)![0];
    expect(image(froms[froms.length - 1]!)).toBe(`node:${major}-alpine`);
    expect(image(froms[1]!)).toBe(image(froms[froms.length - 1]!));
  });

  it('is multi-arch: build stages on the build platform, the Go binary cross-compiled for the target', () => {
    expect(froms[0]).toMatch(/^FROM --platform=\$BUILDPLATFORM \S+ AS handshake$/);
    expect(froms[1]).toMatch(/^FROM --platform=\$BUILDPLATFORM \S+ AS build$/);
    // The runtime stage is per target platform.
    expect(froms[2]).not.toContain('--platform');
    expect(text).toMatch(/^ARG TARGETARCH$/m);
    expect(text).toMatch(/GOOS=\$TARGETOS GOARCH=\$TARGETARCH/);
    expect(text).toMatch(/CGO_ENABLED=0/);
  });

  it('copies node_modules built on the build platform only because they are platform-neutral', () => {
    // Production dependencies with native code, per-platform variants or install scripts would have to be
    // installed in the target-platform stage instead.
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean; os?: unknown; cpu?: unknown; libc?: unknown; hasInstallScript?: boolean; optional?: boolean }> };
    const prod = Object.entries(lock.packages).filter(([k, v]) => k !== '' && !v.dev && !v.devOptional);
    expect(prod.length).toBeGreaterThan(10);
    const specific = prod.filter(([, v]) => v.os || v.cpu || v.libc || v.hasInstallScript).map(([k]) => k);
    expect(specific).toEqual([]);
  });

  it('exposes the default HTTP port and sends only what the build needs', () => {
    expect(/^EXPOSE (\d+)$/m.exec(text)?.[1]).toBe(defaults.httpListen.split(':').pop());
    const ignore = read('.dockerignore').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('*');
    const copied = [...text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(' ')).map((p) => p.replace(/\/$/, ''));
    expect(copied.sort()).toEqual(ignore.slice(1).map((l) => l.replace(/^!/, '')).sort());
  });
});
