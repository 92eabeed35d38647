// Bookkeeping annotations: Rollout name → the annotation keys it owns on this Ingress. The plugin's own key
// (PLUGIN_MANAGED_KEY) and Argo's (ARGO_MANAGED_KEY) share one format (compact JSON, map keys sorted as Go
// sorts them, lists in insertion order), so the same code reads both.

import { goArray, goObject, goSortedKeys, goString } from './gojson.js';
import { PLUGIN_MANAGED_KEY } from './types.js';

export type ManagedAnnotations = Map<string, string[]>;

export class ManagedAnnotationsError extends Error {
  override name = 'ManagedAnnotationsError';
}

/** Missing or empty means no entries; anything that is not `{name: [keys]}` is an error (never guessed at). */
export function parseManagedAnnotations(value: string | undefined, key: string = PLUGIN_MANAGED_KEY): ManagedAnnotations {
  const out: ManagedAnnotations = new Map();
  if (value === undefined || value === '') return out;
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch (err) {
    throw new ManagedAnnotationsError(
      `annotation ${key} is not valid JSON (${(err as Error).message}); ` +
        'fix or delete it (the owning Rollouts rewrite it on their next SetWeight)',
    );
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ManagedAnnotationsError(
      `annotation ${key} must be a JSON object of Rollout name to key list; fix or delete it`,
    );
  }
  for (const [rollout, keys] of Object.entries(json as Record<string, unknown>)) {
    // Go decodes a JSON null into a nil slice, which it writes back as null; treat it as an empty list.
    if (keys === null) {
      out.set(rollout, []);
      continue;
    }
    if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) {
      throw new ManagedAnnotationsError(
        `annotation ${key}: entry "${rollout}" must be a list of annotation keys; fix or delete it`,
      );
    }
    out.set(rollout, [...(keys as string[])]);
  }
  return out;
}

export function encodeManagedAnnotations(managed: ManagedAnnotations): string {
  return goObject(
    goSortedKeys(managed.keys()).map((name) => [name, goArray(managed.get(name)!.map(goString))]),
  );
}

export function sameManagedAnnotations(a: ManagedAnnotations, b: ManagedAnnotations): boolean {
  if (a.size !== b.size) return false;
  for (const [name, keys] of a) {
    const other = b.get(name);
    if (!other || other.length !== keys.length || keys.some((k, i) => other[i] !== k)) return false;
  }
  return true;
}

/** A copy with `keys` appended to the Rollout's list (each key once). */
export function withManagedKeys(managed: ManagedAnnotations, rollout: string, keys: string[]): ManagedAnnotations {
  const out = new Map(managed);
  const list = [...(out.get(rollout) ?? [])];
  for (const key of keys) if (!list.includes(key)) list.push(key);
  out.set(rollout, list);
  return out;
}

/** A copy with `keys` removed from the Rollout's list; the entry itself stays (Argo keeps `[]`). */
export function withoutManagedKeys(managed: ManagedAnnotations, rollout: string, keys: string[]): ManagedAnnotations {
  const out = new Map(managed);
  const list = out.get(rollout);
  if (list) out.set(rollout, list.filter((k) => !keys.includes(k)));
  return out;
}

/** The other Rollout, if any, that lists `key` as its own. */
export function ownerOtherThan(managed: ManagedAnnotations, rollout: string, key: string): string | undefined {
  for (const [name, keys] of managed) if (name !== rollout && keys.includes(key)) return name;
  return undefined;
}
