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
  // A digest may follow the tag (a release build passes one: the Dockerfile's header says how).
  const m = /^node:(\d+)\.(\d+)\.(\d+)-(bookworm|trixie)-slim(@sha256:[0-9a-f]{64})?$/.exec(runtime?.image ?? '');
  t.ok(m, `an exact node:X.Y.Z-<debian>-slim tag, not ${runtime?.image}`);
  t.match(dockerfileText(), /--build-arg NODE_IMAGE=node:\S+@sha256:<digest>/, 'the header says how to pin the base by digest');
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

void t.test('the runtime stage carries the OCI annotations, from build arguments where they vary', (t) => {
  const runtime = stages()[1];
  const inst = runtime?.instructions ?? [];
  const pkg = JSON.parse(readFileSync(`${repoRoot}package.json`, 'utf8')) as { version: string; license: string; description: string };
  const labels = new Map([...inst.filter((i) => i.keyword === 'LABEL').map((i) => i.args).join(' ').matchAll(/(org\.opencontainers\.image\.\w+)="([^"]*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
  t.same(labels, new Map([
    ['org.opencontainers.image.title', 'csr-signer'],
    ['org.opencontainers.image.description', pkg.description],
    ['org.opencontainers.image.licenses', pkg.license],
    ['org.opencontainers.image.version', '${VERSION}'],
    ['org.opencontainers.image.revision', '${REVISION}'],
    ['org.opencontainers.image.created', '${CREATED}'],
    ['org.opencontainers.image.source', '${SOURCE}'],
  ]));
  const args = new Map(inst.filter((i) => i.keyword === 'ARG').map((i) => i.args.split('=') as [string, string]));
  t.equal(args.get('VERSION'), pkg.version, "VERSION defaults to package.json's version");
  for (const name of ['REVISION', 'CREATED', 'SOURCE']) t.equal(args.get(name), '', `${name} is a build argument with no made-up default`);
  t.end();
});

void t.test('the runtime stage drops npm, npx and corepack once the dependencies are installed', (t) => {
  const runs = (stages()[1]?.instructions ?? []).filter((i) => i.keyword === 'RUN').map((i) => i.args.replace(/\\\n/g, ' '));
  const install = runs.findIndex((r) => /^npm ci\b/.test(r));
  const removed = runs.slice(install).join(' ');
  for (const path of ['/usr/local/lib/node_modules/npm', '/usr/local/lib/node_modules/corepack', '/usr/local/bin/npm', '/usr/local/bin/npx', '/usr/local/bin/corepack']) {
    t.match(removed, new RegExp(`\\brm -rf [^&]*${path.replace(/\//g, '\\/')}(\\s|$)`), `${path} is removed`);
  }
  const commands = runs.slice(install).flatMap((r) => r.split('&&').map((c) => c.trim()));
  const after = commands.slice(commands.findIndex((c) => c.startsWith('rm -rf /usr/local/lib/node_modules/npm')) + 1);
  t.same(after.filter((c) => /^(npm|npx|corepack)\b/.test(c)), [], 'and nothing runs them afterwards');
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
