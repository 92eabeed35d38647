// The argument converters the Plugin service uses in production.
// INTERIM: a generic Go-name → camelCase conversion, enough for the fields the router reads, until
// `goRolloutToJson` and its argument converters (src/goplugin/rollout-json.ts, another engineer's) land;
// then this file only re-exports them.
import type { ArgConverters } from './dispatch.js';
import { GobInterface, isGobStruct, type GobValue } from './gob/values.js';
import { GobTime } from './gob/time.js';

function camel(k: string): string {
  if (k === 'ObjectMeta') return 'metadata';
  if (k === 'Spec') return 'spec';
  if (k === 'Status') return 'status';
  return k.charAt(0).toLowerCase() + k.slice(1);
}

function conv(v: GobValue | undefined, key = ''): unknown {
  if (v === undefined || v === null) return v;
  if (v instanceof GobTime) return v.toRFC3339();
  if (v instanceof Uint8Array) {
    try {
      return JSON.parse(Buffer.from(v).toString('utf8'));
    } catch {
      return Buffer.from(v).toString('base64');
    }
  }
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v) o[String(k)] = conv(x);
    return o;
  }
  if (Array.isArray(v)) return v.map((x) => conv(x));
  if (v instanceof GobInterface) return conv(v.value);
  if (isGobStruct(v)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === 'TypeMeta') continue;
      o[camel(k)] = conv(x, k);
    }
    return o;
  }
  void key;
  return v;
}

export const rolloutArgConverters: ArgConverters = {
  rollout: (go) => conv(go) as never,
  weightDestinations: (go) => ((conv(go) as never[] | undefined) ?? []) as never,
  setHeaderRoute: (go) => conv(go) as never,
  setMirrorRoute: (go) => conv(go) as never,
};
