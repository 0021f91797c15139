/**
 * Tests mirror the tree: every file under src/ and devapi/ has a test of the same
 * relative name or an entry in test/coverage-map.json naming tests that exist (or
 * saying, truthfully, that it holds only types or re-exports); the map names no
 * file that is gone. The rules and the updater are in test/meta/coverage-map.js.
 */
import { join } from 'node:path';
import t from 'tap';
import { run } from '../helpers/tools.js';

const root = join(import.meta.dirname, '..', '..');
const script = join(root, 'test', 'meta', 'coverage-map.js');

void t.test('every source file has a test of its own name or an entry in the coverage map, and every entry is true', (t) => {
  const r = run(process.execPath, [script, '--check'], { cwd: root });
  t.equal(r.code, 0, r.stderr);
  t.same(JSON.parse(r.stdout), [], 'run `node test/meta/coverage-map.js --write`, then name end-to-end tests by hand where it asks');
  t.end();
});

void t.test('the check finds a source file with neither, an entry for a file that is gone, and a false "types only"', (t) => {
  const r = run(process.execPath, ['--input-type=module', '-e', `
    import { problems } from ${JSON.stringify(script)};
    console.log(JSON.stringify(problems({ files: {
      'src/gone.ts': ['test/cli.test.ts'],
      'src/cli.ts': 'types only',
      'src/errors.ts': ['test/no-such.test.ts'],
      'src/clock.ts': [],
    } })));
  `], { cwd: root });
  t.equal(r.code, 0, r.stderr);
  const found = JSON.parse(r.stdout) as string[];
  t.ok(found.includes('test/coverage-map.json names src/gone.ts, which no longer exists'));
  t.ok(found.includes('src/cli.ts is listed as "types only" but has logic of its own'));
  t.ok(found.includes('src/errors.ts: test/no-such.test.ts does not exist'));
  t.ok(found.some((p) => p.startsWith('src/clock.ts: an entry is')));
  t.ok(found.some((p) => p.startsWith('src/pki/authority.ts has no test/pki/authority.test.ts')), 'a file the given map leaves out');
  t.end();
});
