// This plugin's bookkeeping on an HTTPRoute: one annotation that records, per Rollout, what that Rollout added to
// the route (header-route rules, experiment backendRefs), read by the planners and rewritten by the patch that
// changes what it records. Only what is listed there is ever removed.

import type { GatewayConfig } from '../config.js';
import { pointerSegment, type JsonPatchOp } from '../json-patch.js';
import type { HTTPRoute } from './model.js';

/**
 * This plugin's bookkeeping on an HTTPRoute: `<namespace>/<rollout>` → what that Rollout added to the route
 * (header-route rules by rule name → managed route name, experiment backendRefs by Service). Only what is listed
 * here is ever removed.
 */
export const OWNED_ANNOTATION = 'alb.rollouts.argoproj-labs.io/gateway-owned';

export interface Owned {
  /** Header-route rule name → managed route name. */
  rules: Record<string, string>;
  /** Services whose backendRefs this Rollout added for experiments. */
  backends: string[];
}

export function ownerKey(config: Pick<GatewayConfig, 'namespace' | 'rolloutName'>): string {
  return `${config.namespace}/${config.rolloutName}`;
}

function readOwnedMap(route: HTTPRoute): Record<string, Owned> {
  const raw = route.metadata.annotations?.[OWNED_ANNOTATION];
  if (!raw) return {};
  try {
    const parsed = JSON.parse(raw) as unknown;
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, Owned>) : {};
  } catch {
    return {};
  }
}

/** What `owner` added to the route, as the bookkeeping annotation says. */
export function ownedBy(route: HTTPRoute, owner: string): Owned {
  const entry = readOwnedMap(route)[owner];
  return { rules: { ...(entry?.rules ?? {}) }, backends: [...(entry?.backends ?? [])] };
}

/** The ops that make the annotation record `next` for `owner` (the entry dropped when empty); none when it already does. */
export function bookkeepingOps(route: HTTPRoute, owner: string, next: Owned): JsonPatchOp[] {
  const map = readOwnedMap(route);
  const empty = Object.keys(next.rules).length === 0 && next.backends.length === 0;
  const before = map[owner];
  const same = before !== undefined && JSON.stringify({ rules: before.rules ?? {}, backends: before.backends ?? [] }) === JSON.stringify(next);
  if ((empty && before === undefined) || same) return [];
  if (empty) delete map[owner];
  else map[owner] = next;
  const annotations = route.metadata.annotations;
  const key = `/metadata/annotations/${pointerSegment(OWNED_ANNOTATION)}`;
  if (Object.keys(map).length === 0) return annotations?.[OWNED_ANNOTATION] !== undefined ? [{ op: 'remove', path: key }] : [];
  const value = JSON.stringify(map);
  if (!annotations) return [{ op: 'add', path: '/metadata/annotations', value: { [OWNED_ANNOTATION]: value } }];
  return [{ op: 'add', path: key, value }];
}
