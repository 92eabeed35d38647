// Our encoders against Go's encoding/json itself (test/modes/ingress/goref, structs with Argo's json tags):
// a few hundred seeded random cases, including every character class Go escapes, compared byte for byte.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encodeForwardAction, type ForwardAction } from '../../../src/modes/ingress/action.js';
import { encodeConditions, type HeaderCondition } from '../../../src/modes/ingress/conditions.js';
import { encodeManagedAnnotations } from '../../../src/modes/ingress/managed.js';

import { prng as rng } from '../../support/prng.js';

const GOREF = fileURLToPath(new URL('./goref', import.meta.url));
const hasGo = spawnSync('go', ['version']).status === 0;


// Everything Go treats specially, plus ordinary and multi-byte text.
const ALPHABET = ['a', 'Z', '0', '-', '.', '/', '*', '<', '>', '&', '"', '\\', '\n', '\t', '\b', '\f', '\r', '\u0001', '\u001f', '\u007f', '\u2028', '\u2029', 'é', 'ß', '中', '😀', ' '];

function cases(count: number) {
  const r = rng(20260101);
  const int = (n: number) => Math.floor(r() * n);
  const text = (max: number) => Array.from({ length: 1 + int(max) }, () => ALPHABET[int(ALPHABET.length)]).join('');
  const out: Array<{ kind: 'action'; value: ForwardAction } | { kind: 'conditions'; value: HeaderCondition[] } | { kind: 'managed'; value: Map<string, string[]> }> = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 3;
    if (kind === 0) {
      const value: ForwardAction = {
        targetGroups: Array.from({ length: 1 + int(5) }, () => ({ serviceName: text(12), servicePort: String(1 + int(65535)), weight: int(1000) })),
      };
      if (r() < 0.5) value.stickiness = { enabled: r() < 0.7, durationSeconds: 1 + int(604800) };
      out.push({ kind: 'action', value });
    } else if (kind === 1) {
      out.push({ kind: 'conditions', value: Array.from({ length: 1 + int(3) }, () => ({ headerName: text(8), values: Array.from({ length: 1 + int(3) }, () => text(10)) })) });
    } else {
      const value = new Map<string, string[]>();
      for (let j = int(5); j >= 0; j--) value.set(text(6), Array.from({ length: int(4) }, () => text(20)));
      out.push({ kind: 'managed', value });
    }
  }
  return out;
}

describe.skipIf(!hasGo)('byte parity with Go encoding/json', () => {
  it('action, conditions and managed annotations encode exactly as Go writes them', () => {
    const all = cases(300);
    const input = all.map((c) => {
      if (c.kind === 'action') return { action: { targetGroups: c.value.targetGroups, stickiness: c.value.stickiness && { Enabled: c.value.stickiness.enabled, DurationSeconds: c.value.stickiness.durationSeconds } } };
      if (c.kind === 'conditions') return { conditions: c.value };
      return { managed: Object.fromEntries(c.value) };
    });
    const go = spawnSync('go', ['run', '.'], {
      cwd: GOREF,
      input: JSON.stringify(input),
      env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' },
      encoding: 'utf8',
      timeout: 180_000,
    });
    expect(go.stderr).toBe('');
    const expected = JSON.parse(go.stdout) as string[];
    const ours = all.map((c) =>
      c.kind === 'action' ? encodeForwardAction(c.value) : c.kind === 'conditions' ? encodeConditions(c.value) : encodeManagedAnnotations(c.value),
    );
    expect(ours).toHaveLength(300);
    ours.forEach((value, i) => expect(value, `case ${i}`).toBe(expected[i]));
  }, 200_000);
});
