// Converts what the gob decoder produced from Argo's RPC arguments (Go field names, Maps, GobTime,
// IntOrString structs, raw JSON bytes) into the Kubernetes JSON shape the traffic-router core reads
// (src/core/rollout.ts), so the core never sees Go shapes.
//
// Field names follow the `json` tags of the Go types. Most are the Go name with its leading capital (or
// leading acronym) lowered; the exceptions reachable from a Rollout, and from an AnalysisRun and Metric
// (analysis-json.ts converts those with goToJson too), are listed below, and tests check this file against
// the tags of every field Argo's argument types reach (fixtures/json-names.json and
// fixtures/metric-json-names.json, written by test/goplugin/gobgen).
//
// What gob cannot carry stays absent: zero values (0, "", false, empty lists; so `replicas: 0` arrives as
// no replicas), and resource.Quantity amounts (only their Format survives, so quantities are dropped).

import {
  GobComplex,
  GobInterface,
  GobOpaque,
  GobTime,
  gobTypeName,
  isGobStruct,
  type GobStruct,
  type GobValue,
} from './gob/index.js';
import type { Rollout, SetHeaderRoute, SetMirrorRoute, WeightDestination } from '../core/rollout.js';

/** JSON value after conversion. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Go field names whose json tag is not the lowered Go name. */
const IRREGULAR_NAMES: Readonly<Record<string, string>> = {
  ObjectMeta: 'metadata',
  HPAReplicas: 'HPAReplicas',
  ALBs: 'albs',
  WWIDs: 'wwids',
  CephFS: 'cephfs',
  StorageOS: 'storageos',
  CephMonitors: 'monitors',
  RBDImage: 'image',
  RBDPool: 'pool',
  RadosUser: 'user',
  DataDiskURI: 'diskURI',
  DeprecatedServiceAccount: 'serviceAccount',
  DiscoveryCHAPAuth: 'chapAuthDiscovery',
  SessionCHAPAuth: 'chapAuthSession',
  EndpointsName: 'endpoints',
  // Reachable from the metric-provider arguments only (pkg/apis/rollouts/v1alpha1/analysis_types.go).
  SkyWalking: 'skywalking',
  OAuth2: 'oauth2',
  TokenURL: 'tokenUrl',
  ClientID: 'clientId',
  RoleARN: 'roleArn',
};

/** Embedded structs without a json name: encoding/json merges their fields into the parent. */
const INLINE_FIELDS: ReadonlySet<string> = new Set([
  'TypeMeta',
  'RolloutAnalysis',
  'LocalObjectReference',
  'EphemeralContainerCommon',
  'ProbeHandler',
  'VolumeSource',
]);

/** `json:"-"` fields. */
const SKIPPED_FIELDS: ReadonlySet<string> = new Set(['SelectorResolvedFromRef', 'TemplateResolvedFromRef']);

/** The JSON key of a Go struct field, or undefined for inlined and skipped fields. */
export function jsonFieldName(goName: string): string | undefined {
  if (INLINE_FIELDS.has(goName) || SKIPPED_FIELDS.has(goName)) return undefined;
  const irregular = IRREGULAR_NAMES[goName];
  if (irregular !== undefined) return irregular;
  // Leading acronym: lower all of it but the capital that starts the next word (APIVersion → apiVersion,
  // UID → uid, TCPSocket → tcpSocket, StableRS → stableRS).
  let run = 0;
  while (run < goName.length && goName[run]! >= 'A' && goName[run]! <= 'Z') run++;
  if (run === goName.length) return goName.toLowerCase();
  if (run <= 1) return goName.charAt(0).toLowerCase() + goName.slice(1);
  return goName.slice(0, run - 1).toLowerCase() + goName.slice(run - 1);
}

const INLINE = 0;
const SKIP = 1;
type FieldKey = string | typeof INLINE | typeof SKIP;

/**
 * jsonFieldName per Go field name, remembered: every call converts the same few hundred names. The names
 * come from the peer's type definitions, so the table stops growing at a bound instead of trusting them.
 */
const fieldKeys = new Map<string, FieldKey>();
const MAX_FIELD_KEYS = 4096;

function fieldKey(goName: string): FieldKey {
  let key = fieldKeys.get(goName);
  if (key === undefined) {
    key = jsonFieldName(goName) ?? (INLINE_FIELDS.has(goName) ? INLINE : SKIP);
    if (fieldKeys.size < MAX_FIELD_KEYS) fieldKeys.set(goName, key);
  }
  return key;
}

function setKey(obj: { [key: string]: JsonValue }, key: string, value: JsonValue): void {
  // Keys come from the peer (map keys); never let one reach a prototype.
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

function bytesToJson(b: Uint8Array): JsonValue {
  // In a Rollout every []byte is raw JSON (json.RawMessage, FieldsV1); anything else is shown the way
  // encoding/json shows []byte.
  const text = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return Buffer.from(b).toString('base64');
  }
}

/**
 * Converts any decoded Go value to its Kubernetes JSON form. Returns undefined for values JSON would
 * not show (resource.Quantity, whose amount gob drops).
 */
export function goToJson(v: GobValue): JsonValue | undefined {
  if (typeof v !== 'object' || v === null) return typeof v === 'bigint' ? Number(v) : v;
  // Ordered by how often each shape occurs in a Rollout: structs, then lists, then the rest.
  const typeName = gobTypeName(v);
  if (typeName !== undefined) return structToJson(v as GobStruct, typeName);
  if (Array.isArray(v)) {
    const out: JsonValue[] = [];
    for (let i = 0; i < v.length; i++) out.push(goToJson(v[i]!) ?? null);
    return out;
  }
  if (v instanceof Map) {
    const out: { [key: string]: JsonValue } = {};
    for (const [k, e] of v) {
      const j = goToJson(e);
      if (j !== undefined) setKey(out, typeof k === 'string' ? k : String(k), j);
    }
    return out;
  }
  if (v instanceof Uint8Array) return bytesToJson(v);
  if (v instanceof GobTime) return v.toRFC3339();
  if (v instanceof GobInterface) return goToJson(v.value);
  if (v instanceof GobOpaque) return Buffer.from(v.bytes).toString('base64');
  if (v instanceof GobComplex) return [v.real, v.imag];
  return structToJson(v, '');
}

function structToJson(s: GobStruct, typeName: string): JsonValue | undefined {
  switch (typeName) {
    case 'IntOrString':
      // {Type 0|1, IntVal, StrVal}; zero fields are not sent, so {} is the integer 0.
      return s.Type === 1 ? ((s.StrVal as string | undefined) ?? '') : Number(s.IntVal ?? 0);
    case 'Quantity':
      return undefined;
    case 'FieldsV1':
      return s.Raw instanceof Uint8Array ? bytesToJson(s.Raw) : {};
  }
  const out: { [key: string]: JsonValue } = {};
  mergeStruct(out, s);
  return out;
}

function mergeStruct(out: { [key: string]: JsonValue }, s: GobStruct): void {
  // for-in sees only the fields: a decoded struct's prototype chain holds nothing enumerable.
  for (const goName in s) {
    const value = s[goName]!;
    const key = fieldKey(goName);
    if (key === INLINE) {
      if (isGobStruct(value)) mergeStruct(out, value);
    } else if (key !== SKIP) {
      // Most fields are strings and numbers: skip the call for them.
      const j = typeof value === 'object' && value !== null ? goToJson(value) : typeof value === 'bigint' ? Number(value) : value;
      // A Go field name is an exported identifier, so its JSON key can never be __proto__.
      if (j !== undefined) out[key] = j;
    }
  }
}

export type JsonObject = { [key: string]: JsonValue };

/** The JSON object, or an empty one for anything else (gob leaves out an empty struct). */
export function asObject(v: JsonValue | undefined): JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};
}

/** The Go struct `v` must be; otherwise a `Shape` error (an Error unless given) naming `what` and what came. */
export function requireStruct(v: GobValue | undefined, what: string, Shape: new (message: string) => Error = Error): GobStruct {
  if (!isGobStruct(v)) {
    throw new Shape(`${what}: expected a Go struct, got ${describeKind(v)}`);
  }
  return v;
}

/** What a decoded Go value is, for error messages. */
export function describeKind(v: GobValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'nil';
  if (v instanceof GobInterface) return `interface ${v.name}`;
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Map) return 'a map';
  return typeof v;
}

/** `v1alpha1.Rollout` (as decoded) → the Kubernetes JSON shape. */
export function goRolloutToJson(v: GobValue | undefined): Rollout {
  const json = asObject(goToJson(requireStruct(v, 'Rollout')));
  const metadata = asObject(json.metadata);
  if (typeof metadata.name !== 'string') metadata.name = '';
  const spec = asObject(json.spec);
  spec.strategy = asObject(spec.strategy);
  return { ...json, metadata, spec } as unknown as Rollout;
}

/** `[]v1alpha1.WeightDestination`; absent (an empty slice is not sent) means none. */
export function goWeightDestinationsToJson(v: GobValue | undefined): WeightDestination[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Error(`AdditionalDestinations: expected a list, got ${describeKind(v)}`);
  return v.map((e, i) => {
    const d = asObject(goToJson(requireStruct(e, `AdditionalDestinations[${i}]`)));
    const out: WeightDestination = { weight: Number(d.weight ?? 0), serviceName: String(d.serviceName ?? '') };
    if (typeof d.podTemplateHash === 'string') out.podTemplateHash = d.podTemplateHash;
    return out;
  });
}

/** `v1alpha1.SetHeaderRoute`. */
export function goSetHeaderRouteToJson(v: GobValue | undefined): SetHeaderRoute {
  const j = asObject(goToJson(requireStruct(v, 'SetHeaderRoute')));
  return { ...j, name: String(j.name ?? '') } as unknown as SetHeaderRoute;
}

/** `v1alpha1.SetMirrorRoute`. */
export function goSetMirrorRouteToJson(v: GobValue | undefined): SetMirrorRoute {
  const j = asObject(goToJson(requireStruct(v, 'SetMirrorRoute')));
  return { ...j, name: String(j.name ?? '') } as unknown as SetMirrorRoute;
}

/** The argument of one `Plugin.*` call, converted. `kind` is the name Argo registered the Go type under. */
export type PluginArgs =
  | {
      kind: 'UpdateHashArgs';
      rollout: Rollout;
      canaryHash: string;
      stableHash: string;
      additionalDestinations: WeightDestination[];
    }
  | { kind: 'SetWeightAndVerifyWeightArgs'; rollout: Rollout; desiredWeight: number; additionalDestinations: WeightDestination[] }
  | { kind: 'SetHeaderArgs'; rollout: Rollout; setHeaderRoute: SetHeaderRoute }
  | { kind: 'SetMirrorArgs'; rollout: Rollout; setMirrorRoute: SetMirrorRoute }
  | { kind: 'RemoveManagedRoutesArgs'; rollout: Rollout };

export type PluginArgsKind = PluginArgs['kind'];

const ARG_KINDS: ReadonlySet<string> = new Set<PluginArgsKind>([
  'UpdateHashArgs',
  'SetWeightAndVerifyWeightArgs',
  'SetHeaderArgs',
  'SetMirrorArgs',
  'RemoveManagedRoutesArgs',
]);

/**
 * Converts a decoded call body (Argo sends the argument struct inside an `any`). Throws an Error naming
 * what was wrong; `expected` makes a body of another registered type an error too (Go's stubs answer
 * `invalid args`).
 */
export function pluginArgsFromGob(body: GobValue, expected?: PluginArgsKind): PluginArgs {
  if (!(body instanceof GobInterface)) throw new Error(`invalid args: expected an interface value, got ${describeKind(body)}`);
  if (expected !== undefined && body.name !== expected) throw new Error(`invalid args: expected ${expected}, got ${body.name}`);
  if (!ARG_KINDS.has(body.name)) throw new Error(`invalid args: unknown argument type ${body.name}`);
  const s = requireStruct(body.value, body.name);
  const rollout = goRolloutToJson(s.Rollout);
  switch (body.name) {
    case 'UpdateHashArgs':
      return {
        kind: body.name,
        rollout,
        canaryHash: String(s.CanaryHash ?? ''),
        stableHash: String(s.StableHash ?? ''),
        additionalDestinations: goWeightDestinationsToJson(s.AdditionalDestinations),
      };
    case 'SetWeightAndVerifyWeightArgs':
      return {
        kind: body.name,
        rollout,
        desiredWeight: Number(s.DesiredWeight ?? 0),
        additionalDestinations: goWeightDestinationsToJson(s.AdditionalDestinations),
      };
    case 'SetHeaderArgs':
      return { kind: body.name, rollout, setHeaderRoute: goSetHeaderRouteToJson(s.SetHeaderRoute) };
    case 'SetMirrorArgs':
      return { kind: body.name, rollout, setMirrorRoute: goSetMirrorRouteToJson(s.SetMirrorRoute) };
    case 'RemoveManagedRoutesArgs':
      return { kind: body.name, rollout };
  }
  throw new Error(`invalid args: unknown argument type ${body.name}`);
}
