// The layout rules of src (README "How it fits together"), checked on every import, type-only ones included:
// modes are siblings that never import each other and are entered only through their index.ts; the contract
// (src/plugin) and the core never reach up into modes, cleanup, the server or the composition root; and no
// import cycle anywhere. A new file that breaks a rule fails here, naming the import.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const src = join(root, 'src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative import and re-export of a file, as repo-relative paths of .ts files. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
  return specs.map((s) => relative(root, normalize(join(dirname(file), s))).replace(/\.js$/, '.ts'));
}

const graph = new Map(tsFiles(src).map((f) => [relative(root, f), importsOf(f)]));

/** `src/modes/<name>/…` → name. */
function modeOf(file: string): string | undefined {
  return /^src\/modes\/([^/]+)\//.exec(file)?.[1];
}

/** `src/<top>/…` or `src/<top>.ts` → top; a file outside src (package.json) is its own path. */
function topOf(file: string): string {
  const [root, top] = file.split('/');
  return root === 'src' && top ? top.replace(/\.ts$/, '') : file;
}

describe('src layout', () => {
  it('sees the source tree', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect([...graph.keys()].filter((f) => modeOf(f)).length).toBeGreaterThan(30);
  });

  it('no mode imports another mode', () => {
    const bad = [...graph].flatMap(([file, deps]) =>
      deps.filter((d) => modeOf(file) && modeOf(d) && modeOf(file) !== modeOf(d)).map((d) => `${file} → ${d}`),
    );
    expect(bad).toEqual([]);
  });

  it('outside a mode folder, only the mode list and the modes\' index.ts files are imported', () => {
    const bad = [...graph].flatMap(([file, deps]) =>
      deps.filter((d) => !modeOf(file) && modeOf(d) && !/^src\/modes\/[^/]+\/index\.ts$/.test(d)).map((d) => `${file} → ${d}`),
    );
    expect(bad).toEqual([]);
  });

  it('the contract and the core never import a higher layer', () => {
    const higher = new Set(['modes', 'server', 'cleanup', 'sidecar', 'main', 'goplugin', 'verify', 'aws', 'k8s', 'events', 'settings', 'metrics']);
    const bad = [...graph].flatMap(([file, deps]) => {
      const top = topOf(file);
      if (top !== 'core' && top !== 'plugin') return [];
      const allowed = top === 'core' ? new Set(['core']) : new Set(['core', 'plugin']);
      return deps.filter((d) => higher.has(topOf(d)) || !allowed.has(topOf(d))).map((d) => `${file} → ${d}`);
    });
    expect(bad).toEqual([]);
  });

  it('shared parts never import modes, and only the composition root imports the server', () => {
    const bad = [...graph].flatMap(([file, deps]) => {
      const top = topOf(file);
      return deps
        .filter((d) => {
          if (modeOf(d) && ['verify', 'aws', 'k8s', 'events', 'goplugin', 'cleanup', 'analysis'].includes(top)) return true;
          return topOf(d) === 'server' && top !== 'server' && top !== 'sidecar';
        })
        .map((d) => `${file} → ${d}`);
    });
    expect(bad).toEqual([]);
  });

  it('has no import cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 'open');
      stack.push(f);
      for (const d of graph.get(f) ?? []) {
        if (!graph.has(d)) continue;
        if (state.get(d) === 'open') cycles.push([...stack.slice(stack.indexOf(d)), d].join(' → '));
        else if (!state.has(d)) visit(d);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of graph.keys()) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });
});
