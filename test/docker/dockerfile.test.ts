/**
 * The Dockerfile, statically (no container engine here): it lints clean with
 * dockerfile-utils, and its runtime stage has the shape the chart and the docs rely on.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { validate } from 'dockerfile-utils';
import { dockerfileText, repoRoot, stages } from './dockerfile.js';

/** The file pkcs11js's entry point loads: its native addon, which node-gyp builds. */
const addon = ((): string => {
  const entry = readFileSync(`${repoRoot}node_modules/pkcs11js/index.js`, 'utf8');
  const required = /require\("\.\/(build\/Release\/[\w.]+\.node)"\)/.exec(entry)?.[1];
  if (required === undefined) throw new Error('node_modules/pkcs11js/index.js no longer requires ./build/Release/*.node: read it again');
  return `node_modules/pkcs11js/${required}`;
})();

/** Package installers and the tools that compile: none may reach the runtime stage. */
const compilerWords = /\b(apt-get|apt|apk|dnf|yum|microdnf|g\+\+|gcc|cc|c\+\+|clang|make|cmake|build-essential|python3?|node-gyp|npm rebuild|npm install)\b/;

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
  t.same(copies.map((c) => [c.from ?? 'context', c.args]), [
    ['context', 'package.json package-lock.json ./'],
    ['build', `/src/${addon} ${addon}`],
    ['build', '/src/dist/ dist/'],
  ], 'copies only the package files, the built PKCS#11 addon and dist/');
  const user = inst.filter((i) => i.keyword === 'USER').at(-1)?.args ?? '';
  t.match(user, /^[1-9]\d*(:[1-9]\d*)?$/, 'USER is numeric and not root');
  const chart = readFileSync(`${repoRoot}charts/csr-signer/values.yaml`, 'utf8');
  t.match(chart, new RegExp(`runAsUser: ${user.split(':')[0]}\\b`), "the chart's runAsUser is the image's USER");
  t.equal(inst.filter((i) => i.keyword === 'ENTRYPOINT').at(-1)?.args, '["csr-signer"]');
  t.ok(runs.includes('ln -s /app/dist/cli.js /usr/local/bin/csr-signer'), 'csr-signer on PATH is dist/cli.js');
  t.notOk(inst.some((i) => i.keyword === 'VOLUME'), 'no state directory');
  t.end();
});

void t.test('the build stage builds pkcs11js, the native PKCS#11 binding, with a compiler installed there', (t) => {
  const runs = (stages()[0]?.instructions ?? []).filter((i) => i.keyword === 'RUN').map((i) => i.args.replace(/\\\n/g, ' '));
  const apt = runs.find((r) => r.includes('apt-get install'));
  t.match(apt, /apt-get update\s+&&\s+apt-get install -y --no-install-recommends python3 make g\+\+\s+&&\s+rm -rf \/var\/lib\/apt\/lists\/\*/, 'python3, make and g++ (what node-gyp needs), no recommends, no apt lists left');
  const ci = runs.findIndex((r) => /^npm ci\b/.test(r));
  const rebuild = runs.findIndex((r) => /\bnpm rebuild pkcs11js\b/.test(r));
  t.ok(ci >= 0 && rebuild > ci, 'npm rebuild pkcs11js after npm ci --ignore-scripts (which skips its install script)');
  t.match(runs[rebuild], /^npm_config_nodedir=\/usr\/local npm rebuild pkcs11js/, "against the base image's Node headers, not downloaded ones");
  t.match(runs[rebuild], new RegExp(`&& test -f ${addon.replace(/\./g, '\\.')}$`), 'and fails when the addon was not built (npm leaves out a failed optional dependency)');
  t.ok(runs.indexOf(apt ?? '') < rebuild, 'the compiler is installed before the build');
  t.end();
});

void t.test('the runtime stage has the PKCS#11 addon and no compiler', (t) => {
  const [build, runtime] = stages();
  const inst = runtime?.instructions ?? [];
  const runs = inst.filter((i) => i.keyword === 'RUN').map((i) => i.args.replace(/\\\n/g, ' '));
  t.same(runs.filter((r) => compilerWords.test(r.replace(/npm ci --omit=dev --ignore-scripts/, ''))), [], 'no RUN installs packages or compiles');
  t.equal(runtime?.image, build?.image, 'the addon runs on the Node it was built for');
  const copy = inst.findIndex((i) => i.keyword === 'COPY' && i.from === 'build' && i.args === `/src/${addon} ${addon}`);
  const ci = inst.findIndex((i) => i.keyword === 'RUN' && /^npm ci\b/.test(i.args));
  t.ok(copy > ci && ci >= 0, 'the addon is copied from the build stage after npm ci, which would remove it');
  t.notOk(inst.some((i) => i.keyword === 'FROM' || (i.keyword === 'COPY' && i.from !== undefined && i.from !== 'build')), 'from the build stage only');
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
