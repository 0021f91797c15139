/**
 * The Node runtime policy (README, "Runtime"): the maintained LTS lines 22 and 24 are
 * supported; the image runs the release pinned in the Dockerfile, and npm's scripts run
 * on the same release, installed from the npm registry as the "node" dev dependency
 * (npm puts node_modules/.bin first on a script's PATH).
 */
import { readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import t from 'tap';
import { run } from './helpers/tools.js';
import { repoRoot, stages } from './docker/dockerfile.js';

interface Pkg { engines: { node: string }; devDependencies: Record<string, string>; allowScripts?: Record<string, boolean> }
interface Lock { packages: Record<string, { version?: string; engines?: { node?: string }; devDependencies?: Record<string, string> }> }
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Pkg;
const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as Lock;
// npm's version-range reader (a dependency of our dependencies; it has no types of its own).
const { satisfies } = createRequire(import.meta.url)('semver') as { satisfies: (version: string, range: string, options: { includePrerelease: boolean }) => boolean };
const imageVersion = /^node:(\d+\.\d+\.\d+)-/.exec(stages()[1]?.image ?? '')?.[1] ?? '';

type Version = [number, number, number];
const parse = (v: string): Version => v.replace(/^v/, '').split('.').map(Number) as Version;
const atLeast = (a: Version, b: Version): boolean => a[0] !== b[0] ? a[0] > b[0] : a[1] !== b[1] ? a[1] > b[1] : a[2] >= b[2];

/** `^22.13.0 || >=24` → each supported major with its lowest release. */
function supportedLines(range: string): Map<number, Version> {
  const lines = new Map<number, Version>();
  for (const part of range.split('||').map((p) => p.trim())) {
    const m = /^(\^|>=)(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(part);
    if (!m) throw new Error(`engines.node: cannot read "${part}"`);
    const low: Version = [Number(m[2]), Number(m[3] ?? 0), Number(m[4] ?? 0)];
    lines.set(low[0], low);
  }
  return lines;
}
const lines = supportedLines(pkg.engines.node);

void t.test('engines names the maintained LTS lines 22 and 24, and every locked package accepts their floors', (t) => {
  t.same([...lines.keys()].sort(), [22, 24], `engines.node is "${pkg.engines.node}"`);
  t.equal(lock.packages['']?.engines?.node, pkg.engines.node, 'package-lock.json has the same engines');
  // npm's own test (npm-install-checks: semver.satisfies): a package that refuses a floor makes npm ci print EBADENGINE there.
  const refusing = [...lines.values()].flatMap((floor) => Object.entries(lock.packages)
    .filter(([path, entry]) => path !== '' && entry.engines?.node !== undefined && !satisfies(floor.join('.'), entry.engines.node, { includePrerelease: true }))
    .map(([path, entry]) => `${path} (${entry.engines?.node ?? ''}) refuses Node ${floor.join('.')}`));
  t.same(refusing, []);
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const [major22, minor22] = lines.get(22) ?? [];
  t.match(readme, `supports the maintained Node LTS lines, 22 (from ${major22}.${minor22}) and 24`, 'the README states the same policy');
  t.end();
});

void t.test("the pinned runtime is the image's Node release", (t) => {
  t.match(imageVersion, /^\d+\.\d+\.\d+$/, 'the Dockerfile pins an exact release');
  t.equal(pkg.devDependencies.node, imageVersion, 'devDependencies.node is exactly the Dockerfile\'s release');
  t.equal(lock.packages['node_modules/node']?.version, imageVersion, 'and so is the locked "node" package');
  t.equal(lock.packages['']?.devDependencies?.node, imageVersion);
  const floor = lines.get(parse(imageVersion)[0]);
  t.ok(floor !== undefined && atLeast(parse(imageVersion), floor), `Node ${imageVersion} is within engines (${pkg.engines.node})`);
  t.equal(pkg.allowScripts?.node, true, 'npm may run its install script (it fetches the platform binary)');
  t.end();
});

void t.test('this test process runs on a supported line, and under npm test on the pinned release', (t) => {
  const version = parse(process.versions.node);
  const floor = lines.get(version[0]);
  t.ok(floor !== undefined && atLeast(version, floor), `Node ${process.versions.node} is within engines (${pkg.engines.node})`);
  if (process.env.npm_lifecycle_event === 'test') {
    // npm test → cert-sink/run.js → tap → this file: each step on node_modules/.bin/node.
    t.equal(process.versions.node, imageVersion, "npm test runs on the image's release");
    t.equal(realpathSync(process.execPath), realpathSync(join(repoRoot, 'node_modules/.bin/node')), 'from node_modules');
  }
  t.end();
});

void t.test('.ci/run runs the tests of .ci/node22-tests on the 22 line\'s floor, fetched without npx', (t) => {
  const ci = readFileSync(join(repoRoot, '.ci/run'), 'utf8');
  t.match(ci, /engines\.node/, 'it reads the release from engines');
  t.ok(lines.has(22));
  t.match(ci, /npm install --no-save --no-package-lock [^\n]*--prefix "\$node22_dir" "node@\$\{node22\}"/, 'into a fresh directory');
  t.notMatch(ci.split('\n').filter((l) => !l.trim().startsWith('#')).join('\n'), /\bnpx\b/, 'nothing through npx or its cache');
  t.match(ci, /node22_files < <\([^\n]*\.ci\/node22-tests/, 'the files listed in .ci/node22-tests (test/meta/node22-tests.test.ts checks the list)');
  t.match(ci, /"\$node22_bin" node_modules\/tap\/dist\/esm\/run\.mjs [^\n]*"\$\{node22_files\[@\]\}"/, 'tap by path on that binary, so node_modules/.bin is not first on the PATH');
  t.end();
});

void t.test('signing prints no deprecation on this Node (Node 24 deprecates handing a CryptoKey to node:crypto, DEP0203)', (t) => {
  const ca = join(repoRoot, 'keys.example');
  const r = run(process.execPath, ['--throw-deprecation', join(repoRoot, 'dist/cli.js'), 'sign', '--ca-cert', join(ca, 'ca.pem'), '--ca-key', join(ca, 'ca-key.pem'),
    '--csr', join(ca, 'example.csr'), '--usages', 'digital signature,server auth'], { cwd: repoRoot });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^-----BEGIN CERTIFICATE-----\n/);
  t.equal(r.stderr.replace(/^.*world-readable.*\n/m, ''), '', 'nothing else on stderr');
  t.end();
});
