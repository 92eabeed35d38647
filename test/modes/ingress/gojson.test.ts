import { describe, expect, it } from 'vitest';
import { goSortedKeys, goString } from '../../../src/modes/ingress/gojson.js';

describe('goString matches Go encoding/json', () => {
  // Expected bytes are what json.Marshal(string) prints in Go 1.22+.
  it.each([
    ['plain', 'stable-svc', '"stable-svc"'],
    ['HTML characters', 'a<b>&c', '"a\\u003cb\\u003e\\u0026c"'],
    ['quote and backslash', 'say "hi" \\ there', '"say \\"hi\\" \\\\ there"'],
    ['short escapes', '\b\f\n\r\t', '"\\b\\f\\n\\r\\t"'],
    ['other control characters', '\u0000\u001f', '"\\u0000\\u001f"'],
    ['line separators', '\u2028\u2029', '"\\u2028\\u2029"'],
    ['non-ASCII kept raw', 'héllo 😀', '"héllo 😀"'],
    ['lone surrogate', 'a\ud800b', '"a\\ufffdb"'],
    ['DEL kept raw', '\u007f', '"\u007f"'],
  ])('%s', (_name, input, expected) => {
    expect(goString(input)).toBe(expected);
  });

  it('sorts map keys by UTF-8 bytes as Go does', () => {
    expect(goSortedKeys(['b', 'B', 'a', 'é', 'z'])).toEqual(['B', 'a', 'b', 'z', 'é']);
  });
});
