/**
 * What `csr-signer run` loads at start costs resident memory for the life of the process.
 * Node's bundled undici (fetch, WebSocket) is not used by the signer, but an ES import of
 * node:http loads it: Node builds the module's namespace from every export, reading its lazy
 * WebSocket, CloseEvent and MessageEvent (about 2 MB of heap at idle). The product loads
 * node:http with require instead; this keeps it so, on the built command.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { run } from './helpers/tools.js';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli.js');
if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run "npm run build" (npm test does) before the tests');

void t.test("the modules of csr-signer run do not load Node's bundled undici", (t) => {
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // tap's own loaders are not the product's
  // What dist/cli.js imports for \`run\` (importing cli.js itself would run its main()).
  const script = ['config/index.js', 'commands/run.js'].map((m) => `await import(${JSON.stringify(pathToFileURL(join(root, 'dist', m)).href)});`).join('\n') +
    '\nprocess.stdout.write(JSON.stringify(process.moduleLoadList));';
  const r = run(process.execPath, ['--input-type=module', '-e', script], { cwd: root, env });
  t.equal(r.code, 0, r.stderr);
  const loaded = JSON.parse(r.stdout) as string[];
  t.ok(loaded.some((m) => m === 'NativeModule http'), 'node:http is loaded (the check below means something)');
  t.same(loaded.filter((m) => m.includes('undici')), [], 'no undici');
  t.end();
});
