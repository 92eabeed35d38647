// Streams written by Go's encoder (test/goplugin/gobgen, committed as fixtures/vectors.json), decoded
// whole, byte by byte, in random small chunks and (small ones) split at every byte boundary, and
// compared with Go's own description of every value.

import { describe, expect, it } from 'vitest';
import { GobDecoder, GobInterface, GobTime, gobTypeName, type GobStruct } from '../../../src/goplugin/gob/index.js';
import { byteByByte, canonical, decodeChunks, normaliseGo, randomChunks, splitAt, vector, vectors, whole } from './fixtures.js';

const strategies = [
  ['whole', whole],
  ['byte by byte', byteByByte],
  ['random 1-7 byte chunks', (b: Uint8Array) => randomChunks(b, 0x9e3779b9)],
  ['random 1-4096 byte chunks', (b: Uint8Array) => randomChunks(b, 12345, 4096)],
] as const;

describe('Go-encoded vectors', () => {
  it('has the vectors the tests below rely on', () => {
    expect(vectors.map((v) => v.name)).toEqual(
      expect.arrayContaining(['struct with every kind', 'interfaces', 'times', 'argo plugin stream', 'argo minimal SetWeight']),
    );
  });

  it.each(vectors.flatMap((v) => strategies.map(([s, fn]) => ({ ...v, strategy: s, fn }))))(
    '$name ($strategy)',
    ({ hex, values, fn }) => {
      const dec = new GobDecoder();
      const got = decodeChunks(fn(Buffer.from(hex, 'hex')), dec);
      expect(got.map(canonical)).toEqual(values.map(normaliseGo));
      expect(dec.bufferedBytes).toBe(0);
    },
  );

  it.each(vectors.filter((v) => v.hex.length <= 2 * 1024))('$name (split at every byte boundary)', ({ hex, values }) => {
    const b = Buffer.from(hex, 'hex');
    const want = values.map(normaliseGo);
    for (let k = 0; k <= b.length; k++) expect(decodeChunks(splitAt(b, k)).map(canonical), `split at ${k}`).toEqual(want);
  });
});

describe('a realistic Rollout as the controller sends it', () => {
  const stream = Buffer.from(vector('argo plugin stream').hex, 'hex');
  const values = decodeChunks(randomChunks(stream, 7, 512));

  it('decodes eight calls: header, then the argument in an interface', () => {
    expect(values).toHaveLength(16);
    expect(values.filter((_, i) => i % 2 === 0).map((h) => (h as GobStruct).ServiceMethod)).toEqual([
      'Plugin.InitPlugin',
      'Plugin.Type',
      'Plugin.UpdateHash',
      'Plugin.SetWeight',
      'Plugin.VerifyWeight',
      'Plugin.SetHeaderRoute',
      'Plugin.SetMirrorRoute',
      'Plugin.RemoveManagedRoutes',
    ]);
    expect(values[0]).toEqual({ ServiceMethod: 'Plugin.InitPlugin' }); // Seq 0 is not sent
    expect(values[1]).toBeNull();
    expect((values[12] as GobStruct).Seq).toBe(300);
    expect((values[14] as GobStruct).Seq).toBe(2 ** 40);
    expect(values.filter((_, i) => i % 2 === 1 && i > 3).map((a) => (a as GobInterface).name)).toEqual([
      'UpdateHashArgs',
      'SetWeightAndVerifyWeightArgs',
      'SetWeightAndVerifyWeightArgs',
      'SetHeaderArgs',
      'SetMirrorArgs',
      'RemoveManagedRoutesArgs',
    ]);
  });

  it('SetWeightAndVerifyWeightArgs: field values', () => {
    const args = (values[7] as GobInterface).value as any;
    expect(gobTypeName(args)).toBe('SetWeightAndVerifyWeightArgs');
    expect(args.DesiredWeight).toBe(30);
    expect(args.AdditionalDestinations).toEqual([
      { Weight: 5, ServiceName: 'extra', PodTemplateHash: 'abc123' },
      { ServiceName: 'zero' },
    ]);
    const ro = args.Rollout;
    expect(gobTypeName(ro)).toBe('Rollout');
    // TypeMeta is a non-pointer struct field: always sent, here with its fields.
    expect(ro.TypeMeta).toEqual({ Kind: 'Rollout', APIVersion: 'argoproj.io/v1alpha1' });
    const meta = ro.ObjectMeta;
    expect(meta.Name).toBe('checkout');
    expect(meta.Namespace).toBe('shop');
    expect(meta.UID).toBe('6f1c2a3b-4d5e-6f70-8192-a3b4c5d6e7f8');
    expect(meta.Generation).toBe(42);
    expect(meta.CreationTimestamp).toBeInstanceOf(GobTime);
    expect(meta.CreationTimestamp.toRFC3339()).toBe('2026-03-04T05:06:07Z');
    expect(meta.Labels).toEqual(new Map([['app.kubernetes.io/name', 'checkout'], ['team', 'payments']]));
    expect(meta.Annotations.get('note')).toBe('ünïcødé ✓ 🚀');
    expect(Buffer.from(meta.ManagedFields[0].FieldsV1.Raw).toString()).toBe('{"f:spec":{"f:replicas":{}}}');

    expect(ro.Spec.Replicas).toBe(5);
    const canary = ro.Spec.Strategy.Canary;
    expect(canary.CanaryService).toBe('checkout-canary');
    expect(canary.StableService).toBe('checkout-stable');
    expect(gobTypeName(canary.MaxSurge)).toBe('IntOrString');
    expect(canary.MaxSurge).toEqual({ Type: 1, StrVal: '25%' });
    expect(canary.MaxUnavailable).toEqual({ IntVal: 1 });
    expect(canary.DynamicStableScale).toBe(true);
    const tr = canary.TrafficRouting;
    expect(tr.MaxTrafficWeight).toBe(1000);
    expect(tr.ManagedRoutes).toEqual([{ Name: 'header-route' }, { Name: 'mirror-route' }]);
    expect(tr.Plugins).toBeInstanceOf(Map);
    expect(JSON.parse(Buffer.from(tr.Plugins.get('argoproj-labs/alb')).toString('utf8'))).toEqual({
      ingress: 'checkout',
      servicePort: 8080,
      annotationPrefix: 'alb.ingress.kubernetes.io',
      stickinessConfig: { enabled: true, durationSeconds: 3600 },
      note: 'ünïcødé ✓ 🚀',
    });
    expect(Buffer.from(tr.Plugins.get('acme/other')).toString()).toBe('{}');
    expect(canary.Steps[0]).toEqual({ SetWeight: 10 });
    expect(canary.Steps[1].Pause.Duration).toEqual({ Type: 1, StrVal: '30s' });
    expect(canary.Steps[4]).toEqual({}); // setWeight: 0 is a *int32 pointing at zero: indistinguishable from absent
    expect(canary.Steps[5]).toEqual({ Pause: {} });

    const pod = ro.Spec.Template.Spec;
    expect(ro.Spec.Template.ObjectMeta.Annotations.get('prometheus.io/scrape')).toBe('true');
    const app = pod.Containers[0];
    expect(app.Image).toBe('registry.example.com/checkout:1.2.3');
    expect(app.Env[0]).toEqual({ Name: 'GREETING', Value: 'héllo' });
    expect(app.Env[1].ValueFrom.FieldRef.FieldPath).toBe('status.podIP');
    expect(app.ReadinessProbe.ProbeHandler.HTTPGet.Port).toEqual({ Type: 1, StrVal: 'http' });
    expect(app.LivenessProbe.ProbeHandler.TCPSocket.Port).toEqual({ IntVal: 8080 });
    // resource.Quantity has only unexported amount fields: just its Format survives gob.
    expect(app.Resources.Requests.get('cpu')).toEqual({ Format: 'DecimalSI' });
    expect(app.Resources.Requests.get('memory')).toEqual({ Format: 'BinarySI' });
    expect(pod.Containers[1].Resources).toEqual({});
    expect(pod.Volumes[0].VolumeSource.ConfigMap).toEqual({ LocalObjectReference: { Name: 'checkout-config' }, DefaultMode: 420 });
    expect(pod.SecurityContext).toMatchObject({ RunAsNonRoot: true, FSGroup: 2000 });

    const st = ro.Status;
    expect(st.HPAReplicas).toBe(5);
    expect(st.StableRS).toBe('5c4b3a291');
    expect(st.CurrentStepIndex).toBe(1);
    expect(st.Phase).toBe('Paused');
    expect(st.Conditions[0].LastTransitionTime.toRFC3339()).toBe('2026-03-04T05:09:59Z');
    expect(st.PauseConditions[0].StartTime.toRFC3339()).toBe('2026-03-04T05:10:00Z');
    expect(st.Canary.Weights).toEqual({
      Canary: { Weight: 10, ServiceName: 'checkout-canary', PodTemplateHash: '7d9f8c6b5' },
      Stable: { Weight: 90, ServiceName: 'checkout-stable', PodTemplateHash: '5c4b3a291' },
      Verified: true,
    });
  });

  it('SetHeaderArgs, SetMirrorArgs, UpdateHashArgs: field values', () => {
    const update = (values[5] as GobInterface).value as any;
    expect(update.CanaryHash).toBe('7d9f8c6b5');
    expect(update.StableHash).toBe('5c4b3a291');
    const header = (values[11] as GobInterface).value as any;
    expect(header.SetHeaderRoute).toEqual({ Name: 'header-route', Match: [{ HeaderName: 'X-Canary', HeaderValue: { Exact: 'yes' } }] });
    const mirror = (values[13] as GobInterface).value as any;
    expect(mirror.SetMirrorRoute.Name).toBe('mirror-route');
    expect(mirror.SetMirrorRoute.Percentage).toBe(50);
    expect(mirror.SetMirrorRoute.Match[0].Method).toEqual({ Exact: 'GET' });
    expect(mirror.SetMirrorRoute.Match[0].Headers).toEqual(new Map([['X-Env', { Regex: '^stag.*' }]]));
    const remove = (values[15] as GobInterface).value as any;
    expect(remove.Rollout.ObjectMeta.Name).toBe('checkout');
  });

  it('a second stream starts from an empty type table', () => {
    const again = decodeChunks([stream]);
    expect(again.map(canonical)).toEqual(values.map(canonical));
  });

  it('decodes a known-type call quickly (reported, not asserted)', () => {
    // The VerifyWeight call (header + full Rollout) follows SetWeight and needs no new definitions, so its bytes
    // can be fed again and again to a decoder that has seen the stream: the steady state of a session.
    const dec = new GobDecoder();
    const ends: number[] = [];
    for (let i = 0; i < stream.length; i++) {
      dec.feed(stream.subarray(i, i + 1));
      while (dec.next() !== undefined) ends.push(i + 1);
    }
    const call = stream.subarray(ends[7]!, ends[9]!);
    const rounds = 2000;
    const start = performance.now();
    for (let i = 0; i < rounds; i++) {
      dec.feed(call);
      dec.next();
      expect((dec.next() as GobInterface).name).toBe('SetWeightAndVerifyWeightArgs');
    }
    const ms = (performance.now() - start) / rounds;
    console.log(`VerifyWeight call with a full Rollout (${call.length} bytes): ${ms.toFixed(3)} ms per decode`);
  });
});
