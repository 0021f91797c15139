/**
 * Building the Go oracle: test processes that start at the same time end up with one
 * binary (each may build it; a rename puts it in place whole), no half-written file is left behind, and a machine without go gets a
 * message naming the package to install. Each case runs the helper in fresh
 * child processes with their own temporary directory (so nothing is cached yet).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { tempDir } from '../helpers/tools.js';

const dir = tempDir('oracle-build-');
const helper = pathToFileURL(join(import.meta.dirname, '..', 'helpers', 'go-oracle.ts')).href.replace(/\.ts$/, '.js');
const script = join(dir, 'child.mts');
writeFileSync(script, [
  `import { goOracle, runOracle } from ${JSON.stringify(helper)};`,
  'const binary = await goOracle();',
  'const answers = await runOracle("parse", [{ id: "x", cert: "" }]);',
  'console.log(JSON.stringify({ binary, answers }));',
  '',
].join('\n'));
// The TypeScript loader tap runs this file with, so the children can import the helper.
const loader = process.execArgv.filter((a) => a.includes('@tapjs/typescript'));
// The Go build cache the other tests warmed (the helper's default), so a build here only links.
const goCache = process.env.GOCACHE ?? join(tmpdir(), 'csr-signer-oracle', 'gocache');

function child(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...loader, script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

void t.test('two processes building at once share one binary and leave no temporary file', async (t) => {
  t.ok(loader.length > 0, 'runs under tap\'s TypeScript loader');
  const fresh = join(dir, 'fresh');
  mkdirSync(fresh);
  const env = { TMPDIR: fresh, GOCACHE: goCache };
  const [a, b] = await Promise.all([child(env), child(env)]);
  t.equal(a.code, 0, `the first process succeeds ${a.stderr}`);
  t.equal(b.code, 0, `the second process succeeds ${b.stderr}`);
  const first = JSON.parse(a.stdout) as { binary: string; answers: unknown[] };
  const second = JSON.parse(b.stdout) as { binary: string; answers: unknown[] };
  t.equal(first.binary, second.binary, 'the same path');
  t.ok(first.binary.startsWith(join(fresh, 'csr-signer-oracle')), 'under the OS temporary directory');
  t.same(first.answers, [{ id: 'x', ok: false, error: 'x509: malformed certificate' }], 'and it runs');
  const buildDirs = readdirSync(join(fresh, 'csr-signer-oracle')).filter((d) => /^[0-9a-f]{32}$/.test(d));
  t.equal(buildDirs.length, 1, 'one build directory, named by the sources\' hash');
  t.same(readdirSync(join(fresh, 'csr-signer-oracle', buildDirs[0] ?? '')), ['oracle'], 'holding only the binary');
});

void t.test('without go, the error names the package to install', async (t) => {
  const fresh = join(dir, 'no-go');
  mkdirSync(fresh);
  const r = await child({ TMPDIR: fresh, PATH: join(dir, 'empty-path') });
  t.not(r.code, 0, 'the process fails');
  t.match(r.stderr, /the Go oracle needs go, which is not installed: apt-get install golang-go/, "with one sentence naming the package");
});
