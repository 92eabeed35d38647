// RFC 6902 JSON patches as Gateway mode writes them (test, add, replace, remove), and a local applier: the
// planners build a patch against a copy of the route they read, applying each operation as they go so that
// later operations' indices are right, and tests apply a patch as the API server would.

export type JsonPatchOp =
  | { op: 'test'; path: string; value: unknown }
  | { op: 'add'; path: string; value: unknown }
  | { op: 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

/** One path segment, escaped (`~` → `~0`, `/` → `~1`). */
export function pointerSegment(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

function segments(path: string): string[] {
  if (!path.startsWith('/')) throw new Error(`JSON pointer ${JSON.stringify(path)} must start with /`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export class JsonPatchTestFailed extends Error {
  override name = 'JsonPatchTestFailed';
}

function isEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  }
  return v;
}

/** Applies `ops` to `doc` in place, as the API server would; a failed `test` throws JsonPatchTestFailed. */
export function applyJsonPatch(doc: unknown, ops: readonly JsonPatchOp[]): void {
  for (const op of ops) {
    const segs = segments(op.path);
    const last = segs.pop()!;
    let parent: unknown = doc;
    for (const s of segs) {
      parent = Array.isArray(parent) ? parent[Number(s)] : (parent as Record<string, unknown> | undefined)?.[s];
      if (parent === undefined || parent === null) throw new Error(`JSON patch ${op.op} ${op.path}: no such path`);
    }
    if (Array.isArray(parent)) {
      const i = last === '-' ? parent.length : Number(last);
      if (op.op === 'test') {
        if (!isEqual(parent[i], op.value)) throw new JsonPatchTestFailed(`test ${op.path} failed`);
      } else if (op.op === 'add') parent.splice(i, 0, structuredClone(op.value));
      else if (op.op === 'replace') parent[i] = structuredClone(op.value);
      else parent.splice(i, 1);
      continue;
    }
    const obj = parent as Record<string, unknown>;
    if (op.op === 'test') {
      if (!isEqual(obj[last], op.value)) throw new JsonPatchTestFailed(`test ${op.path} failed`);
    } else if (op.op === 'add' || op.op === 'replace') obj[last] = structuredClone(op.value);
    else delete obj[last];
  }
}
