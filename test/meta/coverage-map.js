#!/usr/bin/env node
/**
 * Tests mirror the tree: every source file under src/ and devapi/ has a test of the
 * same relative name (src/x/y.ts ↔ test/x/y.test.ts, devapi/a/b.ts ↔
 * test/devapi/a/b.test.ts) or an entry in test/coverage-map.json naming the tests
 * that exercise it — or saying it has no logic ("types only", "re-exports only"),
 * which is checked. The tree is read at run time, so moving files only asks for
 * the map to be brought along:
 *
 *   node test/meta/coverage-map.js --check     print the problems as JSON (test/meta/coverage-map.test.ts runs this)
 *   node test/meta/coverage-map.js --suggest   print map entries for files that need one: the tests that import
 *                                              each, directly or through a non-test module under test/
 *   node test/meta/coverage-map.js --write     the same, written into the map; entries of files that no longer
 *                                              exist are dropped, named tests that no longer exist too, and an
 *                                              entry left empty or with a reason that no longer holds is redone
 *
 * A file no test imports is exercised, if at all, through the built CLI (test/e2e,
 * test/docs, test/chaos): `--suggest` lists it with no tests, and its entry is
 * written by hand naming those tests.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const mapPath = join(root, 'test', 'coverage-map.json');
const SOURCE_ROOTS = ['src', 'devapi'];
/** Reasons an entry may give instead of tests; each is checked against the file. */
const REASONS = ['types only', 're-exports only'];

/** Every .ts file (not .d.ts) under `dir`, as a path relative to the repository root. */
function tsFiles(dir) {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  }).sort();
}

export const sourceFiles = () => SOURCE_ROOTS.flatMap(tsFiles);

/** The test of the same relative name. */
export const mirrorOf = (source) => join('test', source.replace(/^src\//, '')).replace(/\.ts$/, '.test.ts');

export function readMap() {
  return existsSync(mapPath) ? JSON.parse(readFileSync(mapPath, 'utf8')) : { files: {} };
}

const withoutComments = (text) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');

/** The statements at the top level of a file (unindented lines, comments removed, continuations left out). */
const topLevel = (source) => withoutComments(readFileSync(join(root, source), 'utf8')).split('\n').filter((line) => /^[^\s})\]|&]/.test(line));

const isTypeStatement = (line) => /^(export\s+)?(declare\s+)?(interface|type)\s|^import\s+type\s|^export\s+type\s*\{/.test(line);
const isReexport = (line) => /^export\s+(type\s+)?(\*|\{[^}]*\})\s*from\s/.test(line);

/** Whether `source` really has no logic of its own, as `reason` claims. */
function reasonHolds(source, reason) {
  const lines = topLevel(source);
  if (reason === 'types only') return lines.every(isTypeStatement);
  if (reason === 're-exports only') return lines.every((line) => isReexport(line) || isTypeStatement(line)) && lines.some((line) => isReexport(line) && !/^export\s+type/.test(line));
  return false;
}

/** Everything wrong with the map against the tree, as sentences. */
export function problems(map = readMap()) {
  const out = [];
  const sources = sourceFiles();
  const entries = map.files ?? {};
  for (const source of sources) {
    const entry = entries[source];
    if (entry === undefined && !existsSync(join(root, mirrorOf(source)))) {
      out.push(`${source} has no ${mirrorOf(source)} and no entry in test/coverage-map.json`);
    }
  }
  for (const [source, entry] of Object.entries(entries)) {
    if (!sources.includes(source)) out.push(`test/coverage-map.json names ${source}, which no longer exists`);
    else if (typeof entry === 'string') {
      if (!REASONS.includes(entry)) out.push(`${source}: "${entry}" is not a reason the map accepts (${REASONS.join(', ')})`);
      else if (!reasonHolds(source, entry)) out.push(`${source} is listed as "${entry}" but has logic of its own`);
    } else if (!Array.isArray(entry) || entry.length === 0) {
      out.push(`${source}: an entry is a non-empty list of tests or one of ${REASONS.join(', ')}`);
    } else {
      for (const test of entry) if (!existsSync(join(root, test))) out.push(`${source}: ${test} does not exist`);
    }
  }
  return out;
}

/** Relative imports (and re-exports) of a file, resolved to repository paths (.js → .ts). */
function importsOf(file) {
  const text = readFileSync(join(root, file), 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]);
  return specs.map((s) => relative(root, resolve(root, dirname(file), s)).replace(/\.js$/, '.ts')).filter((p) => existsSync(join(root, p)));
}

const isSource = (path) => SOURCE_ROOTS.some((r) => path.startsWith(`${r}/`));

/**
 * For each source file, the tests that import it, directly or through modules under
 * test/ that are not tests; with `transitive`, through every source module on the way
 * too (an index.ts, a caller: what runs, not what is named).
 */
export function importers(transitive = false) {
  const tests = tsFiles('test').filter((f) => f.endsWith('.test.ts'));
  const found = new Map();
  for (const test of tests) {
    const seen = new Set();
    const walk = (file) => {
      if (isSource(file) && !transitive) return;
      for (const target of importsOf(file)) {
        if (seen.has(target) || target.endsWith('.test.ts')) continue;
        seen.add(target);
        if (isSource(target)) found.set(target, [...(found.get(target) ?? []), test]);
        if (target.startsWith('test/') || isSource(target)) walk(target);
      }
    };
    walk(test);
  }
  return found;
}

/** Entries for the source files that need one and have none. */
export function suggestions(map = readMap()) {
  const direct = importers();
  const transitive = importers(true);
  const out = {};
  for (const source of sourceFiles()) {
    if (map.files?.[source] !== undefined || existsSync(join(root, mirrorOf(source)))) continue;
    const reason = REASONS.find((r) => reasonHolds(source, r));
    if (reason) {
      out[source] = reason;
      continue;
    }
    // The tests that name it if any do; else those that run it, the nearest to where its mirror would be.
    const reached = direct.get(source) ?? transitive.get(source) ?? [];
    let chosen = reached;
    if (!direct.has(source)) {
      for (let dir = dirname(mirrorOf(source)); dir !== '.'; dir = dirname(dir)) {
        const near = reached.filter((t) => t.startsWith(`${dir}/`));
        if (near.length > 0) {
          chosen = near;
          break;
        }
      }
    }
    out[source] = [...new Set(chosen)].sort();
  }
  return out;
}

function write() {
  const map = readMap();
  const sources = new Set(sourceFiles());
  const files = {};
  for (const [source, entry] of Object.entries(map.files ?? {})) {
    if (!sources.has(source)) continue;
    // Kept: the tests that still exist, or a reason that still holds; otherwise suggested afresh below.
    const kept = Array.isArray(entry) ? entry.filter((test) => existsSync(join(root, test))) : entry;
    if (Array.isArray(kept) ? kept.length > 0 : reasonHolds(source, kept)) files[source] = kept;
  }
  Object.assign(files, suggestions({ files }));
  const sorted = Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(mapPath, `${JSON.stringify({ ...map, files: sorted }, null, 2)}\n`);
  return Object.entries(sorted).filter(([, e]) => Array.isArray(e) && e.length === 0).map(([s]) => s);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const mode = process.argv[2];
  if (mode === '--check') {
    console.log(JSON.stringify(problems(), null, 2));
  } else if (mode === '--suggest') {
    console.log(JSON.stringify(suggestions(), null, 2));
  } else if (mode === '--write') {
    const empty = write();
    if (empty.length > 0) console.error(`no test imports these; name the end-to-end tests by hand:\n  ${empty.join('\n  ')}`);
  } else {
    console.error('usage: node test/meta/coverage-map.js --check | --suggest | --write');
    process.exit(2);
  }
}
