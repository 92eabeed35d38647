// The Go tree → Kubernetes JSON conversion, checked against encoding/json's own rendering of the same
// Rollout (fixtures/rollout.json) and against the json tags of every field Argo's arguments reach
// (fixtures/json-names.json); both fixtures come from test/goplugin/gobgen.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GobDecoder, GobInterface, type GobValue } from '../../../src/goplugin/gob/index.js';
import {
  goRolloutToJson,
  goSetHeaderRouteToJson,
  goToJson,
  goWeightDestinationsToJson,
  jsonFieldName,
  pluginArgsFromGob,
} from '../../../src/goplugin/rollout-json.js';
import { decodeChunks, hex, vectors } from './fixtures.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));

interface FieldName {
  type: string;
  field: string;
  json: string;
  inline?: boolean;
  skip?: boolean;
}

// Types that never reach JSON through the generic path: Argo's RPC argument structs (no json tags;
// converted by pluginArgsFromGob) and the types the converter handles as a whole.
const SPECIAL_TYPES = [
  'github.com/argoproj/argo-rollouts/rollout/trafficrouting/plugin/rpc.',
  'k8s.io/apimachinery/pkg/util/intstr.IntOrString',
  'k8s.io/apimachinery/pkg/api/resource.Quantity',
  'k8s.io/apimachinery/pkg/apis/meta/v1.FieldsV1',
  'k8s.io/apimachinery/pkg/apis/meta/v1.Time',
];

const names = (fixture('json-names.json') as FieldName[]).filter((n) => !SPECIAL_TYPES.some((t) => n.type.startsWith(t)));

const argoStream = vectors.find((v) => v.name === 'argo plugin stream')!;
const calls = decodeChunks([Buffer.from(argoStream.hex, 'hex')]);
const setWeight = calls[7] as GobInterface;

/** Drops what gob cannot carry (zero values, quantities) from encoding/json's output. */
function prune(v: unknown, path: string): unknown {
  if (Array.isArray(v)) return v.map((e, i) => prune(e, `${path}[${i}]`) ?? null);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(v)) {
      if (/\.(requests|limits)$/.test(path) || k === 'sizeLimit') continue; // resource.Quantity
      const p = prune(e, `${path}.${k}`);
      if (p !== undefined) out[k] = p;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return v === null || v === '' || v === 0 || v === false ? undefined : v;
}

describe('jsonFieldName', () => {
  it(`matches the json tag of all ${names.length} fields reachable from a Rollout`, () => {
    expect(names.length).toBeGreaterThan(500);
    const wrong = names
      .map((n) => ({ ...n, got: jsonFieldName(n.field) }))
      .filter((n) => n.got !== (n.inline || n.skip ? undefined : n.json))
      .map((n) => `${n.type}.${n.field}: want ${n.json || '(inline/skip)'}, got ${n.got}`);
    expect(wrong).toEqual([]);
  });

  it.each([
    ['APIVersion', 'apiVersion'],
    ['UID', 'uid'],
    ['StableRS', 'stableRS'],
    ['HPAReplicas', 'HPAReplicas'],
    ['ObjectMeta', 'metadata'],
    ['TCPSocket', 'tcpSocket'],
    ['CanaryService', 'canaryService'],
    ['TypeMeta', undefined],
  ])('%s → %s', (go, json) => {
    expect(jsonFieldName(go)).toBe(json);
  });
});

describe('goRolloutToJson', () => {
  const args = setWeight.value as { Rollout: GobValue };
  const rollout = goRolloutToJson(args.Rollout);

  it('equals encoding/json of the same Rollout, minus what gob drops', () => {
    expect(prune(JSON.parse(JSON.stringify(rollout)), '')).toEqual(prune(fixture('rollout.json'), ''));
  });

  it('gives the fields the plugin reads in their JSON form', () => {
    expect(rollout.apiVersion).toBe('argoproj.io/v1alpha1');
    expect(rollout.kind).toBe('Rollout');
    expect(rollout.metadata).toMatchObject({
      name: 'checkout',
      namespace: 'shop',
      uid: '6f1c2a3b-4d5e-6f70-8192-a3b4c5d6e7f8',
      generation: 42,
      creationTimestamp: '2026-03-04T05:06:07Z',
      labels: { 'app.kubernetes.io/name': 'checkout', team: 'payments' },
    });
    expect(rollout.metadata.annotations!.note).toBe('ünïcødé ✓ 🚀');
    const canary = rollout.spec.strategy.canary!;
    expect(canary.canaryService).toBe('checkout-canary');
    expect(canary.stableService).toBe('checkout-stable');
    expect(canary.maxSurge).toBe('25%');
    expect(canary.maxUnavailable).toBe(1);
    expect(canary.trafficRouting!.plugins!['argoproj-labs/alb']).toEqual({
      ingress: 'checkout',
      servicePort: 8080,
      annotationPrefix: 'alb.ingress.kubernetes.io',
      stickinessConfig: { enabled: true, durationSeconds: 3600 },
      note: 'ünïcødé ✓ 🚀',
    });
    expect(canary.trafficRouting!.plugins!['acme/other']).toEqual({});
    expect(canary.trafficRouting!.maxTrafficWeight).toBe(1000);
    expect(canary.trafficRouting!.managedRoutes).toEqual([{ name: 'header-route' }, { name: 'mirror-route' }]);
    expect(canary.steps![1]).toEqual({ pause: { duration: '30s' } });
    expect(canary.steps![2]!.setHeaderRoute).toEqual({
      name: 'header-route',
      match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }],
    });
    const pod = (rollout.spec.template as any).spec;
    expect(pod.containers[0].readinessProbe.httpGet.port).toBe('http');
    expect(pod.containers[0].livenessProbe.tcpSocket.port).toBe(8080);
    // Quantities do not survive gob: the resource names stay, their amounts are gone.
    expect(pod.containers[0].resources).toEqual({ requests: {}, limits: {} });
    expect(pod.volumes[0]).toEqual({ name: 'config', configMap: { name: 'checkout-config', defaultMode: 420 } });
    expect((rollout.metadata.managedFields as any)[0].fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
    const status = rollout.status!;
    expect(status.stableRS).toBe('5c4b3a291');
    expect(status.HPAReplicas).toBe(5);
    expect(status.currentStepIndex).toBe(1);
    expect(status.canary!.weights).toEqual({
      canary: { weight: 10, serviceName: 'checkout-canary', podTemplateHash: '7d9f8c6b5' },
      stable: { weight: 90, serviceName: 'checkout-stable', podTemplateHash: '5c4b3a291' },
      verified: true,
    });
    expect((status.conditions as any)[0].lastTransitionTime).toBe('2026-03-04T05:09:59Z');
  });

  it('fills what a minimal Rollout leaves out', () => {
    const minimal = decodeChunks([Buffer.from(vectors.find((v) => v.name === 'argo minimal SetWeight')!.hex, 'hex')]);
    const args = pluginArgsFromGob(minimal[1]!, 'SetWeightAndVerifyWeightArgs');
    expect(args).toEqual({
      kind: 'SetWeightAndVerifyWeightArgs',
      // Non-pointer struct fields are always sent, so they show up empty.
      rollout: {
        metadata: { name: '' },
        spec: { strategy: {}, template: { metadata: {}, spec: {} } },
        status: { canary: {}, blueGreen: {} },
      },
      desiredWeight: 10,
      additionalDestinations: [],
    });
  });

  it.each([
    ['nil', null],
    ['a string', 'x'],
    ['a list', []],
  ])('refuses %s with the field name', (_what, v) => {
    expect(() => goRolloutToJson(v as GobValue)).toThrow(/^Rollout: expected a Go struct/);
  });
});

describe('pluginArgsFromGob', () => {
  it.each([
    [5, { kind: 'UpdateHashArgs', canaryHash: '7d9f8c6b5', stableHash: '5c4b3a291' }],
    [7, { kind: 'SetWeightAndVerifyWeightArgs', desiredWeight: 30 }],
    [9, { kind: 'SetWeightAndVerifyWeightArgs', desiredWeight: 30, additionalDestinations: [] }],
    [11, { kind: 'SetHeaderArgs', setHeaderRoute: { name: 'header-route', match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }] } }],
    [
      13,
      {
        kind: 'SetMirrorArgs',
        setMirrorRoute: {
          name: 'mirror-route',
          percentage: 50,
          match: [{ method: { exact: 'GET' }, path: { prefix: '/api' }, headers: { 'X-Env': { regex: '^stag.*' } } }],
        },
      },
    ],
    [15, { kind: 'RemoveManagedRoutesArgs' }],
  ])('call %i', (index, want) => {
    const args = pluginArgsFromGob(calls[index]!);
    expect(args).toMatchObject(want);
    expect(args.rollout.metadata.name).toBe('checkout');
  });

  it('converts additional destinations, zero weight included', () => {
    const args = pluginArgsFromGob(calls[7]!);
    expect(args.kind === 'SetWeightAndVerifyWeightArgs' && args.additionalDestinations).toEqual([
      { weight: 5, serviceName: 'extra', podTemplateHash: 'abc123' },
      { weight: 0, serviceName: 'zero' },
    ]);
  });

  it.each([
    ['a nil interface', null, undefined, /^invalid args: expected an interface value, got nil/],
    ['another registered type', calls[15], 'SetWeightAndVerifyWeightArgs', /^invalid args: expected SetWeightAndVerifyWeightArgs, got RemoveManagedRoutesArgs/],
    ['an unknown type', new GobInterface('Other', {}), undefined, /unknown argument type Other/],
  ] as const)('refuses %s', (_what, body, expected, message) => {
    expect(() => pluginArgsFromGob(body as GobValue, expected)).toThrow(message);
  });

  it('refuses AdditionalDestinations that are not a list', () => {
    expect(() => goWeightDestinationsToJson('x')).toThrow(/^AdditionalDestinations: expected a list/);
    expect(() => goSetHeaderRouteToJson(undefined)).toThrow(/^SetHeaderRoute: expected a Go struct, got nothing/);
  });
});

describe('goToJson edge cases', () => {
  it('keeps a "__proto__" map key as data', () => {
    const out = goToJson(new Map([['__proto__', 'x']])) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__']);
  });

  it('shows non-JSON bytes as base64 and JSON bytes parsed', () => {
    expect(goToJson(new Uint8Array([0xff, 0x00]))).toBe('/wA=');
    expect(goToJson(Buffer.from('{"a":[1]}'))).toEqual({ a: [1] });
  });

  it('converts IntOrString zero (sent as an empty struct) to 0', () => {
    // struct "IntOrString" {Type int; IntVal int; StrVal string}, empty value.
    const dec = new GobDecoder();
    dec.feed(hex(`38 ff 81 03 01 01 0b "IntOrString" 01 ff 82 00 01 03 01 04 "Type" 01 04 00 01 06 "IntVal" 01 04 00 01 06 "StrVal" 01 0c 00 00 00 03 ff 82 00`));
    expect(goToJson(dec.next()!)).toBe(0);
  });
});
