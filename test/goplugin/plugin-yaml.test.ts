import { readFileSync } from 'node:fs';
import { loadYaml } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../src/settings.js';

interface PluginItem {
  name: string;
  location: string;
  args?: string[];
}

const configMap = loadYaml<{ kind: string; metadata: { name: string }; data: Record<string, string> }>(
  readFileSync(new URL('../../plugin.yaml', import.meta.url), 'utf8'),
);
const items = loadYaml<PluginItem[]>(configMap.data.trafficRouterPlugins!);
const metricItems = loadYaml<PluginItem[]>(configMap.data.metricProviderPlugins!);
const defaults = parseSettings([], {}).settings;

describe('plugin.yaml', () => {
  it('is the argo-rollouts-config ConfigMap with one traffic-router plugin entry', () => {
    expect(configMap.kind).toBe('ConfigMap');
    expect(configMap.metadata.name).toBe('argo-rollouts-config');
    expect(items).toHaveLength(1);
  });

  it("uses a name Argo accepts, equal to the sidecar's default --plugin-name", () => {
    // utils/plugin/types: <namespace>/<name>
    expect(items[0]!.name).toMatch(/^([a-zA-Z0-9-]+)\/{1}([a-zA-Z0-9_\-.]+)$/);
    expect(items[0]!.name).toBe(defaults.pluginName);
  });

  it("points at a file:// handshake binary whose --sidecar is the sidecar's default --plugin-listen", () => {
    expect(items[0]!.location).toMatch(/^file:\/\/\/.+\/handshake$/);
    expect(items[0]!.args).toContain(`--sidecar=${defaults.pluginListen}`);
    expect(items[0]!.args).toContain(`--plugin-name=${defaults.pluginName}`);
  });

  it("registers the metric provider under the sidecar's default --metric-plugin-name, with the same handshake binary", () => {
    expect(metricItems).toHaveLength(1);
    const m = metricItems[0]!;
    expect(m.name).toMatch(/^([a-zA-Z0-9-]+)\/{1}([a-zA-Z0-9_\-.]+)$/);
    expect(m.name).toBe(defaults.metricPluginName);
    // Argo copies each entry to plugin-bin/<namespace>/<name> (utils/config GetPluginDirectoryAndFilename):
    // the two entries must not share a name, so neither overwrites the other's file.
    expect(m.name).not.toBe(items[0]!.name);
    expect(m.location).toBe(items[0]!.location);
    expect(m.args).toEqual([`--sidecar=${defaults.pluginListen}`, `--plugin-name=${defaults.metricPluginName}`]);
  });
});
