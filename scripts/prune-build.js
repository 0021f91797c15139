// Removes from dist/ and dist-dev/ the compiled files whose source is gone (a moved or
// deleted module), after tsc has written the current ones. The build never empties the
// folders first: tests that run in parallel with a documented `npm run build` keep
// finding every file they use.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
/** Output folder → where its sources are, relative to the repository. */
const builds = { dist: 'src', 'dist-dev': '.' };

const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]);

for (const [out, sources] of Object.entries(builds)) {
  const outDir = join(root, out);
  if (!existsSync(outDir)) continue;
  for (const file of walk(outDir)) {
    const compiled = relative(outDir, file).replace(/\.js(\.map)?$/, '.ts');
    if (!compiled.endsWith('.ts')) continue;
    if (!existsSync(join(root, sources, compiled))) rmSync(file);
  }
}
