// docs/analysis.md's YAML, read out of the page and checked against the code, so the documented templates
// keep working: every metric block parses, names the metric provider by the sidecar's default name and sets no
// successCondition (Argo ignores it for plugins); the Rollout names the traffic router and the documented
// templates; the registration entry is the one deploy/ ships; the timings the comments claim hold.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadAllYaml, loadYaml } from '@kubernetes/client-node';
import { parseGoDuration } from '../../src/analysis/duration.js';
import { metricConfig } from '../../src/analysis/provider.js';
import type { Rollout } from '../../src/core/rollout.js';
import { DEFAULT_METRIC_PLUGIN_NAME, type Metric } from '../../src/plugin/metric-provider.js';
import { DEFAULT_PLUGIN_NAME } from '../../src/plugin/router.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const page = readFileSync(`${root}docs/analysis.md`, 'utf8');
const blocks = [...page.matchAll(/^( *)```yaml\n([\s\S]*?)^ *```$/gm)].map((m) => m[2]!.replace(new RegExp(`^${m[1]}`, 'gm'), ''));
const docs = blocks.map((b) => loadYaml<Record<string, unknown>>(b));

interface Template {
  kind: string;
  metadata: { name: string };
  spec: { args?: unknown[]; metrics: Metric[] };
}
const templates = docs.filter((d) => d.kind === 'AnalysisTemplate') as unknown as Template[];
const rollouts = docs.filter((d) => d.kind === 'Rollout') as unknown as Rollout[];

describe('docs/analysis.md', () => {
  it('has the block example, two AnalysisTemplates, a Rollout and the registration entry', () => {
    expect(templates.map((t) => t.metadata.name)).toEqual(['alb-canary-step', 'alb-canary-background']);
    expect(rollouts).toHaveLength(1);
    expect(docs.filter((d) => 'metricProviderPlugins' in d)).toHaveLength(1);
    expect(docs.filter((d) => 'provider' in d)).toHaveLength(1);
  });

  it('the block example parses under the provider\'s name', () => {
    const example = docs.find((d) => 'provider' in d) as { provider: Metric['provider'] };
    expect(Object.keys(example.provider.plugin!)).toEqual([DEFAULT_METRIC_PLUGIN_NAME]);
    expect(() => metricConfig({ name: 'example', provider: example.provider }, DEFAULT_METRIC_PLUGIN_NAME)).not.toThrow();
  });

  it.each(templates.map((t) => [t.metadata.name, t] as const))('%s: every metric block parses; no successCondition, no args', (_name, t) => {
    expect(t.spec.args).toBeUndefined();
    for (const m of t.spec.metrics) {
      expect(Object.keys(m.provider.plugin!)).toEqual([DEFAULT_METRIC_PLUGIN_NAME]);
      const config = metricConfig(m, DEFAULT_METRIC_PLUGIN_NAME);
      expect(m.successCondition).toBeUndefined();
      expect(m.failureCondition).toBeUndefined();
      // As the comments say: the first window starts after the weight change, and each sees new minutes only.
      expect(parseGoDuration(m.initialDelay!)).toBe(config.lookbackSeconds + config.settleDelaySeconds);
      expect(parseGoDuration(m.interval!)).toBeGreaterThanOrEqual(config.lookbackSeconds);
    }
  });

  it('the Rollout names the traffic router and the documented templates', () => {
    const r = rollouts[0]!;
    const canary = r.spec!.strategy!.canary! as NonNullable<NonNullable<Rollout['spec']>['strategy']>['canary'] & {
      analysis?: { templates: Array<{ templateName: string }> };
    };
    expect(Object.keys(canary!.trafficRouting!.plugins!)).toEqual([DEFAULT_PLUGIN_NAME]);
    const named = [
      ...(canary!.analysis?.templates ?? []).map((t) => t.templateName),
      ...(canary!.steps ?? []).flatMap((s) => ((s.analysis as { templates?: Array<{ templateName: string }> } | undefined)?.templates ?? []).map((t) => t.templateName)),
    ];
    expect(named.sort()).toEqual(templates.map((t) => t.metadata.name).sort());
  });

  it('the registration entry is the one deploy/ ships', () => {
    const documented = loadAllYaml((docs.find((d) => 'metricProviderPlugins' in d) as { metricProviderPlugins: string }).metricProviderPlugins);
    const shipped = loadYaml<{ data: { metricProviderPlugins: string } }>(readFileSync(`${root}deploy/kustomize/argo-rollouts-config.yaml`, 'utf8'));
    expect(documented).toEqual(loadAllYaml(shipped.data.metricProviderPlugins));
    expect((documented[0] as Array<{ name: string }>)[0]!.name).toBe(DEFAULT_METRIC_PLUGIN_NAME);
  });

  it('names the IAM policy file that exists', () => {
    expect(page).toContain('deploy/iam-policy-analysis.json');
    expect(() => readFileSync(`${root}deploy/iam-policy-analysis.json`)).not.toThrow();
  });
});
