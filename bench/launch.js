// The processes a bench starts. How the product starts the signer, for the benches that start it with process.execPath and
// dist/cli.js: the Node flags the ./csr-signer launcher puts in NODE_OPTIONS (the image's
// Dockerfile sets the same; test/young-generation.test.ts keeps the two equal). Read from the
// launcher, so a bench measures the signer as shipped; flags given on a bench's own command
// line (BENCH_SIGNER_NODE_ARGS) come after NODE_OPTIONS and win.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';

const launcher = readFileSync(join(import.meta.dirname, '..', 'csr-signer'), 'utf8');
const flags = /^NODE_OPTIONS="(--[^$"]+?)\$\{NODE_OPTIONS/m.exec(launcher)?.[1]?.trim();
if (flags === undefined) throw new Error('bench/launch.js: ./csr-signer sets no NODE_OPTIONS flags any more; update this file');

/** The flags ./csr-signer adds, e.g. "--max-semi-space-size=4". */
export const productNodeFlags = flags;

/** The environment the signer runs with when ./csr-signer starts it from this environment. */
export function productEnv(env = process.env) {
  return { ...env, NODE_OPTIONS: env.NODE_OPTIONS ? `${flags} ${env.NODE_OPTIONS}` : flags };
}

/**
 * A bench's scratch space: a new temporary directory, and the child processes the bench starts, both gone when the
 * bench exits (normally, or on SIGINT/SIGTERM). `track(child)` registers a child and resolves with its exit code.
 */
export function scratch(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const children = new Set();
  process.on('exit', () => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));
  const track = (child) => {
    children.add(child);
    return new Promise((resolve) => child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    }));
  };
  return { dir, children, track };
}
