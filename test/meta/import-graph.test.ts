/**
 * No import cycles in src/ or devapi/: the relative imports of every .ts file form a graph
 * that must have none, so a module can be read (and loaded) after the ones it needs. A cycle
 * fails with its path, e.g. `devapi/storage/store.ts → devapi/storage/state-log.ts →
 * devapi/storage/store.ts`. Type-only imports count: they tie the files together just the same.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import t from 'tap';

const root = join(import.meta.dirname, '..', '..');

type Graph = ReadonlyMap<string, readonly string[]>;

/** `from '…'`, `import '…'` and `import('…')` specifiers that start with ./ or ../ (comments removed first). */
function relativeSpecifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return [...code.matchAll(/\b(?:from|import)\s*\(?\s*(['"])(\.{1,2}\/[^'"]+)\1/g)].map((m) => m[2] ?? '');
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** The graph of relative imports among `files`, keyed by path relative to the repository. */
function importGraph(files: readonly string[]): Graph {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = relativeSpecifiers(readFileSync(file, 'utf8'))
      .map((spec) => resolve(dirname(file), spec).replace(/\.js$/, '.ts'))
      .filter((target) => known.has(target));
    graph.set(relative(root, file), [...new Set(targets)].map((target) => relative(root, target)));
  }
  return graph;
}

/** One cycle per strongly connected component that has one (Tarjan), each as a closed path. */
function cycles(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(to) ?? 0));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node) ?? 0, index.get(to) ?? 0));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component = new Set<string>();
    for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
      onStack.delete(top);
      component.add(top);
      if (top === node) break;
    }
    if (component.size > 1 || (graph.get(node) ?? []).includes(node)) found.push(pathWithin(graph, component, node));
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return found;
}

/** A closed path from `start` back to it through `component` (breadth first: a shortest one). */
function pathWithin(graph: Graph, component: ReadonlySet<string>, start: string): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let node = queue.shift(); node !== undefined; node = queue.shift()) {
    for (const to of graph.get(node) ?? []) {
      if (!component.has(to)) continue;
      if (to === start) {
        const path = [start];
        for (let at: string | undefined = node; at !== undefined && at !== start; at = cameFrom.get(at)) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!cameFrom.has(to)) {
        cameFrom.set(to, node);
        queue.push(to);
      }
    }
  }
  return [start, start];
}

void t.test('the cycle finder', (t) => {
  const graph = (edges: Record<string, string[]>): Graph => new Map(Object.entries(edges));
  const cases: [string, Graph, string[][]][] = [
    ['finds nothing in a graph without cycles', graph({ a: ['b', 'c'], b: ['c'], c: [] }), []],
    ['finds a two-file cycle', graph({ a: ['b'], b: ['a'] }), [['a', 'b', 'a']]],
    ['finds a longer cycle with its whole path', graph({ a: ['b'], b: ['c'], c: ['a'], d: ['a'] }), [['a', 'b', 'c', 'a']]],
    ['finds a file that imports itself', graph({ a: ['a'] }), [['a', 'a']]],
    ['finds each separate cycle', graph({ a: ['b'], b: ['a'], c: ['d'], d: ['c'] }), [['a', 'b', 'a'], ['c', 'd', 'c']]],
  ];
  for (const [name, g, expected] of cases) t.same(cycles(g), expected, name);
  t.same(
    relativeSpecifiers("import { a } from './a.js';\nimport type { B } from '../b.js';\n// import { c } from './c.js';\nconst d = await import('./d.js');\nimport x from 'node:fs';\nexport { e } from './e.js';"),
    ['./a.js', '../b.js', './d.js', './e.js'],
    'reads static, type-only, dynamic and re-export specifiers, and skips comments and packages',
  );
  t.end();
});

void t.test('src/ and devapi/ have no import cycle', (t) => {
  const files = [...tsFiles(join(root, 'src')), ...tsFiles(join(root, 'devapi'))];
  const graph = importGraph(files);
  t.ok(graph.size > 100, `the graph holds every file (${graph.size})`);
  const found = cycles(graph);
  t.same(found.map((c) => c.join(' → ')), [], found.length === 0 ? 'no cycle' : `import cycles:\n${found.map((c) => `  ${c.join(' → ')}`).join('\n')}`);
  t.end();
});
