/**
 * The Dockerfile, statically (no container engine here): it lints clean with
 * dockerfile-utils, and its runtime stage has the shape the chart and the docs rely on.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { validate } from 'dockerfile-utils';
import { dockerfileText, repoRoot, stages } from './dockerfile.js';

void t.test('the Dockerfile lints clean (dockerfile-utils)', (t) => {
  const problems = validate(dockerfileText()).map((d) => `line ${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`);
  t.same(problems, []);
  t.end();
});

void t.test('two stages on the same Node LTS image, pinned to an exact version', (t) => {
  const [build, runtime, ...more] = stages();
  t.equal(more.length, 0);
  t.equal(build?.name, 'build');
  t.equal(runtime?.name, 'runtime');
  t.equal(build?.image, runtime?.image);
  const m = /^node:(\d+)\.(\d+)\.(\d+)-(bookworm|trixie)-slim$/.exec(runtime?.image ?? '');
  t.ok(m, `an exact node:X.Y.Z-<debian>-slim tag, not ${runtime?.image}`);
  t.equal(Number(m?.[1]) % 2, 0, 'an even major: a release line that becomes LTS');
  // npm test runs on the same release: test/runtime.test.ts checks package.json's pinned "node" against it.
  t.end();
});

void t.test('the build stage builds with dev dependencies', (t) => {
  const build = stages()[0];
  const runs = build?.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args) ?? [];
  t.ok(runs.some((r) => /^npm ci\b/.test(r) && !r.includes('--omit=dev')), 'npm ci with dev dependencies');
  t.ok(runs.includes('npm run build:product'), 'the product build: src/ only');
  const scripts = (JSON.parse(readFileSync(`${repoRoot}package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts;
  t.match(scripts['build:product'], /^tsc -p tsconfig\.build\.json\b/, 'build:product compiles tsconfig.build.json (src/) and nothing else');
  t.notMatch(scripts['build:product'], /devapi/, 'and not devapi/');
  t.match(scripts.build, /^npm run build:product && /, 'npm run build is the product build plus the development tools');
  t.end();
});

void t.test('the runtime stage: production dependencies, the build output, a numeric non-root user, csr-signer as entrypoint', (t) => {
  const runtime = stages()[1];
  const inst = runtime?.instructions ?? [];
  const runs = inst.filter((i) => i.keyword === 'RUN').map((i) => i.args);
  t.ok(runs.some((r) => /^npm ci --omit=dev\b/.test(r) && r.includes('--ignore-scripts')), 'npm ci --omit=dev --ignore-scripts ("prepare" would need tsc)');
  const copies = inst.filter((i) => i.keyword === 'COPY');
  t.same(copies.map((c) => [c.from ?? 'context', c.args]), [['context', 'package.json package-lock.json ./'], ['build', '/src/dist/ dist/']], 'copies only the package files and dist/');
  const user = inst.filter((i) => i.keyword === 'USER').at(-1)?.args ?? '';
  t.match(user, /^[1-9]\d*(:[1-9]\d*)?$/, 'USER is numeric and not root');
  const chart = readFileSync(`${repoRoot}charts/csr-signer/values.yaml`, 'utf8');
  t.match(chart, new RegExp(`runAsUser: ${user.split(':')[0]}\\b`), "the chart's runAsUser is the image's USER");
  t.equal(inst.filter((i) => i.keyword === 'ENTRYPOINT').at(-1)?.args, '["csr-signer"]');
  t.ok(runs.includes('ln -s /app/dist/cli.js /usr/local/bin/csr-signer'), 'csr-signer on PATH is dist/cli.js');
  t.notOk(inst.some((i) => i.keyword === 'VOLUME'), 'no state directory');
  t.end();
});

void t.test('.dockerignore sends only what the build needs, and never keys', (t) => {
  const lines = readFileSync(`${repoRoot}.dockerignore`, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  t.equal(lines[0], '*', 'everything is excluded first');
  t.same(lines.filter((l) => l.startsWith('!')).sort(), ['!package-lock.json', '!package.json', '!src/', '!tsconfig.build.json', '!tsconfig.json']);
  t.ok(lines.includes('**/*.pem') && lines.includes('**/*.key'), 'no PEM or key file even under src/');
  const copied = stages().flatMap((s) => s.instructions.filter((i) => i.keyword === 'COPY' && !i.from).flatMap((i) => i.args.split(/\s+/).slice(0, -1)));
  for (const source of copied) t.ok(lines.includes(`!${source}`), `${source} is sent to the build`);
  t.end();
});
