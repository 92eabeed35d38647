// This plugin's bookkeeping on an HTTPRoute: one annotation that records, per Rollout, what that Rollout holds on
// the route (header-route rules, experiment backendRefs, weights off the stable Service) and what a release needs
// without the Rollout object (its stable and canary Services, rule selector, maxTrafficWeight), read by the
// planners and rewritten by the patch that changes what it records. Only what is listed there is ever removed.

import type { GatewayConfig } from '../config.js';
import { pointerSegment, type JsonPatchOp } from '../json-patch.js';
import type { HTTPRoute } from './model.js';

/**
 * This plugin's bookkeeping on an HTTPRoute: `<namespace>/<rollout>` → what that Rollout holds on the route
 * (header-route rules by rule name → managed route name, experiment backendRefs by Service, whether the weights
 * are off stable) and how to release it. Only what is listed here is ever removed.
 */
export const OWNED_ANNOTATION = 'alb.rollouts.argoproj-labs.io/gateway-owned';

/**
 * What releasing the driven rules' weights needs when the Rollout is gone (a deletion no sidecar saw): the
 * Services and rule selector as of the Rollout's last write to the route (ping-pong roles resolved).
 */
export interface ReleaseRecord {
  /** The effective stable Service: it gets the whole weight back. */
  stable: string;
  canary: string;
  /** `ruleName` of the plugin block; absent: the rules naming both Services. */
  ruleName?: string;
  /** `maxTrafficWeight` when it is not 100 (the stable weight of a release). */
  maxWeight?: number;
}

export interface Owned {
  /** Header-route rule name → managed route name. */
  rules: Record<string, string>;
  /** Services whose backendRefs this Rollout added for experiments. */
  backends: string[];
  /** The Rollout's last weight write left a share off the stable Service (a canary or experiment weight). */
  shifted?: boolean;
  /** Written with every entry since issue #21; absent in an entry an older sidecar wrote. */
  release?: ReleaseRecord;
}

export function ownerKey(config: Pick<GatewayConfig, 'namespace' | 'rolloutName'>): string {
  return `${config.namespace}/${config.rolloutName}`;
}

/** The Rollout an owner key names; undefined for a key that is not `<namespace>/<name>`. */
export function parseOwnerKey(owner: string): { namespace: string; name: string } | undefined {
  const i = owner.indexOf('/');
  if (i <= 0 || i === owner.length - 1 || owner.indexOf('/', i + 1) >= 0) return undefined;
  return { namespace: owner.slice(0, i), name: owner.slice(i + 1) };
}

/** What the Rollout's config says a release needs. */
export function releaseRecord(config: Pick<GatewayConfig, 'services' | 'rule' | 'maxWeight'>): ReleaseRecord {
  const rec: ReleaseRecord = { stable: config.services.stable, canary: config.services.canary };
  if (config.rule.kind === 'name') rec.ruleName = config.rule.name;
  if (config.maxWeight !== 100) rec.maxWeight = config.maxWeight;
  return rec;
}

const isString = (v: unknown): v is string => typeof v === 'string' && v !== '';

function readRecord(raw: unknown): ReleaseRecord | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const r = raw as Record<string, unknown>;
  if (!isString(r.stable) || !isString(r.canary)) return undefined;
  const rec: ReleaseRecord = { stable: r.stable, canary: r.canary };
  if (isString(r.ruleName)) rec.ruleName = r.ruleName;
  if (typeof r.maxWeight === 'number' && Number.isInteger(r.maxWeight) && r.maxWeight > 0) rec.maxWeight = r.maxWeight;
  return rec;
}

/** One entry as stored, with anything of the wrong type left out (a hand-edited annotation removes nothing it does not name). */
function readEntry(raw: unknown): Owned {
  const e = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const rules: Record<string, string> = {};
  if (e.rules !== null && typeof e.rules === 'object' && !Array.isArray(e.rules)) {
    for (const [k, v] of Object.entries(e.rules as Record<string, unknown>)) if (typeof v === 'string') rules[k] = v;
  }
  const out: Owned = { rules, backends: Array.isArray(e.backends) ? e.backends.filter(isString) : [] };
  if (e.shifted === true) out.shifted = true;
  const rec = readRecord(e.release);
  if (rec) out.release = rec;
  return out;
}

function readOwnedMap(route: HTTPRoute): Record<string, unknown> {
  const raw = route.metadata.annotations?.[OWNED_ANNOTATION];
  if (!raw) return {};
  try {
    const parsed = JSON.parse(raw) as unknown;
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** What `owner` holds on the route, as the bookkeeping annotation says. */
export function ownedBy(route: HTTPRoute, owner: string): Owned {
  return readEntry(readOwnedMap(route)[owner]);
}

/** Every owner recorded on the route (the sweep's list). */
export function owners(route: HTTPRoute): string[] {
  return Object.keys(readOwnedMap(route));
}

/** The stored form of an entry, fields in a fixed order (so "unchanged" is a string comparison). */
function stored(o: Owned): Record<string, unknown> {
  return {
    rules: o.rules,
    backends: o.backends,
    ...(o.shifted ? { shifted: true } : {}),
    ...(o.release ? { release: { stable: o.release.stable, canary: o.release.canary, ...(o.release.ruleName !== undefined ? { ruleName: o.release.ruleName } : {}), ...(o.release.maxWeight !== undefined ? { maxWeight: o.release.maxWeight } : {}) } } : {}),
  };
}

/**
 * The ops that make the annotation record `next` for `owner`; none when it already does. An entry that holds
 * nothing (no rules, no backendRefs, weights all on stable) is dropped: its release record alone is no hold.
 */
export function bookkeepingOps(route: HTTPRoute, owner: string, next: Owned): JsonPatchOp[] {
  const map = readOwnedMap(route);
  const empty = Object.keys(next.rules).length === 0 && next.backends.length === 0 && !next.shifted;
  const before = map[owner];
  const same = before !== undefined && JSON.stringify(before) === JSON.stringify(stored(next));
  if ((empty && before === undefined) || same) return [];
  if (empty) delete map[owner];
  else map[owner] = stored(next);
  const annotations = route.metadata.annotations;
  const key = `/metadata/annotations/${pointerSegment(OWNED_ANNOTATION)}`;
  if (Object.keys(map).length === 0) return annotations?.[OWNED_ANNOTATION] !== undefined ? [{ op: 'remove', path: key }] : [];
  const value = JSON.stringify(map);
  if (!annotations) return [{ op: 'add', path: '/metadata/annotations', value: { [OWNED_ANNOTATION]: value } }];
  return [{ op: 'add', path: key, value }];
}
