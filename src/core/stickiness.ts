// `stickinessConfig` of the plugin block: target-group stickiness of the weighted forward, as in Argo's
// `trafficRouting.alb.stickinessConfig`.

import { ConfigError, describeValue, isObject } from './fields.js';
import { MAX_STICKINESS_SECONDS } from './limits.js';

export interface StickinessConfig {
  enabled: boolean;
  /** 1..604800 when enabled (checked at parse time). */
  durationSeconds: number;
}

/** Undefined when absent; `path` is the field's path, for the refusal. */
export function parseStickiness(value: unknown, path: string): StickinessConfig | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new ConfigError(path, `${describeValue(value)} must be {enabled, durationSeconds}`);
  for (const key of Object.keys(value)) {
    if (key !== 'enabled' && key !== 'durationSeconds') throw new ConfigError(`${path}.${key}`, 'unknown field; use enabled and durationSeconds');
  }
  if (typeof value.enabled !== 'boolean') throw new ConfigError(`${path}.enabled`, `${describeValue(value.enabled)} must be true or false`);
  const duration = value.durationSeconds ?? 0;
  if (typeof duration !== 'number' || !Number.isInteger(duration)) {
    throw new ConfigError(`${path}.durationSeconds`, `${describeValue(duration)} must be a whole number of seconds`);
  }
  if (value.enabled && (duration < 1 || duration > MAX_STICKINESS_SECONDS)) {
    throw new ConfigError(
      `${path}.durationSeconds`,
      `TargetGroupStickinessConfig's duration must be between 1 and ${MAX_STICKINESS_SECONDS} seconds (7 days)!`,
    );
  }
  return { enabled: value.enabled, durationSeconds: duration };
}
