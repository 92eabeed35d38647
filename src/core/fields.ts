// Field paths in a Rollout and the error every refusal of a Rollout's configuration is: it names the field
// and the fix, e.g. `spec.strategy.canary.trafficRouting.maxTrafficWeight: 1000 is out of range; ...`.
// Argo shows the message as it is (`failed to set weight via plugin: <message>`).

export const CANARY = 'spec.strategy.canary';
export const ROUTING = `${CANARY}.trafficRouting`;

/** Path of this plugin's block, `spec.strategy.canary.trafficRouting.plugins["<name>"]`. */
export function pluginPath(pluginName: string): string {
  return `${ROUTING}.plugins[${JSON.stringify(pluginName)}]`;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    /** Field path, e.g. `spec.strategy.canary.trafficRouting.plugins["argoproj-labs/alb"].servicePort`. */
    readonly field: string,
    problem: string,
    /** The whole message, for errors whose sentence names the field itself; default `<field>: <problem>`. */
    message = `${field}: ${problem}`,
  ) {
    super(message);
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A configured value as a message shows it: `missing`, or its JSON. */
export function describeValue(v: unknown): string {
  return v === undefined ? 'missing' : JSON.stringify(v);
}
