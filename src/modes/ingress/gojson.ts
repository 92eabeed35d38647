// Go's encoding/json string escaping. Argo writes the annotations with json.Marshal, which escapes HTML
// characters and the JS line separators; writing the same bytes lets the built-in controller and this plugin
// take an Ingress over from each other without a spurious rewrite.

const SHORT_ESCAPES: Record<number, string> = {
  0x22: '\\"',
  0x5c: '\\\\',
  0x08: '\\b',
  0x0c: '\\f',
  0x0a: '\\n',
  0x0d: '\\r',
  0x09: '\\t',
};

function hex4(code: number): string {
  return '\\u' + code.toString(16).padStart(4, '0');
}

/** A JSON string literal exactly as Go's json.Marshal writes it (HTML-safe escaping on). */
export function goString(value: string): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const short = SHORT_ESCAPES[c];
    if (short !== undefined) out += short;
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) out += hex4(c);
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      out += value[i]! + value[i + 1]!;
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // A lone surrogate cannot come from a Go string; Go writes invalid UTF-8 as an escaped U+FFFD.
      out += '\\ufffd';
    } else out += value[i]!;
  }
  return out + '"';
}

/** A JSON number as Go writes an integer field; refuses what Go could not have held in an int64. */
export function goInt(value: number): string {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${value} is not an integer`);
  return String(value);
}

/** `{"k":v,...}` with the keys in the given order; `undefined` values are left out (Go's omitempty). */
export function goObject(fields: Array<[string, string | undefined]>): string {
  const parts = fields.filter((f): f is [string, string] => f[1] !== undefined).map(([k, v]) => `${goString(k)}:${v}`);
  return `{${parts.join(',')}}`;
}

export function goArray(items: string[]): string {
  return `[${items.join(',')}]`;
}

/** Go sorts map keys by their UTF-8 bytes; for strings without surrogates code-unit order is the same. */
export function goSortedKeys(keys: Iterable<string>): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}
