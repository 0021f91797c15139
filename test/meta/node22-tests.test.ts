/**
 * .ci/node22-tests, the test files .ci/run runs on the lowest supported Node 22 release:
 * each named file exists and is a test file tap runs, each line says why it is there, and
 * no file is named twice. A file renamed or removed would otherwise drop out of the Node 22
 * pass without a word (tap would refuse the missing name, but only in CI).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

const root = join(import.meta.dirname, '..', '..');
const lines = readFileSync(join(root, '.ci', 'node22-tests'), 'utf8').split('\n')
  .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));

void t.test('.ci/node22-tests names existing test files, each with its reason', (t) => {
  t.ok(lines.length > 0, 'it names at least one file');
  const files = lines.map((line) => {
    const match = /^(\S+)\s+#\s*(\S.*)$/.exec(line);
    t.ok(match, `a file then a comment saying why: ${line}`);
    return match?.[1] ?? line;
  });
  for (const file of files) {
    t.ok(existsSync(join(root, file)), `${file} exists`);
    t.match(file, /^test\/.+\.test\.ts$/, `${file} is a test file tap runs (.taprc: test/**/*.test.ts)`);
  }
  t.equal(new Set(files).size, files.length, 'no file is named twice');
  t.end();
});
