/**
 * Every `pattern` in the chart's values.schema.json compiles with Go's regexp package.
 * Helm validates values with a Go JSON-schema library that compiles each pattern with
 * regexp.Compile (RE2: no lookahead, no backreference) when it loads the schema, so one
 * pattern Go cannot compile makes every helm install, upgrade, template and lint fail —
 * while ajv, with JavaScript's regular expressions, takes it. test/chart/schema-patterns/main.go
 * is the Go side.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { chartDir } from './render.js';

const sourceDir = join(dirname(fileURLToPath(import.meta.url)), 'schema-patterns');

/** Every string under a "pattern" key (not the "patternProperties" maps, whose keys are patterns too). */
function patternsOf(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const item of node) patternsOf(item, found);
  } else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'pattern' && typeof value === 'string') found.push(value);
      if (key === 'patternProperties' && value !== null && typeof value === 'object') found.push(...Object.keys(value as object));
      patternsOf(value, found);
    }
  }
  return found;
}

/** The patterns Go's regexp.Compile refuses, with Go's error. */
function goRefuses(patterns: string[]): { pattern: string; error: string }[] {
  const cache = mkdtempSync(join(tmpdir(), 'csr-signer-schema-patterns-'));
  try {
    const env = {
      ...process.env, GO111MODULE: 'off', GOPROXY: 'off', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', CGO_ENABLED: '0',
      GOPATH: join(cache, 'gopath'), GOCACHE: process.env.GOCACHE ?? join(cache, 'gocache'),
    };
    const r = spawnSync('go', ['run', 'main.go'], { cwd: sourceDir, env, input: JSON.stringify(patterns), encoding: 'utf8', timeout: 300_000 });
    if (r.error !== undefined) throw r.error;
    if (r.status !== 0) throw new Error(`go run failed (${String(r.status)}): ${r.stderr}`);
    return JSON.parse(r.stdout) as { pattern: string; error: string }[];
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

void t.test("every pattern of values.schema.json compiles with Go's regexp, as Helm compiles it", (t) => {
  const patterns = patternsOf(JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')));
  t.ok(patterns.length > 10, `the schema has patterns (${patterns.length})`);
  t.same(goRefuses(patterns), [], 'Go compiles every pattern');
  t.end();
});

void t.test('the check itself: Go refuses a lookahead and takes the same rule written with not', (t) => {
  t.same(goRefuses(['^pkcs11:(?!.*pin-value=)', '^pkcs11:', '[:;?&]pin-(value|source)=']).map((f) => f.pattern), ['^pkcs11:(?!.*pin-value=)']);
  t.end();
});
