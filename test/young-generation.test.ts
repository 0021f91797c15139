/**
 * The signer starts with V8's young generation capped (--max-semi-space-size) on every
 * path the product is launched by: the image (its ENV NODE_OPTIONS) and ./csr-signer (which
 * prepends the flag to NODE_OPTIONS). Checked by effect: a process started that way allocates
 * with survivors, as a burst of CSRs does, and its new space must stay within the cap; an
 * operator's own --max-semi-space-size must still win.
 */
import { chmodSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { repoRoot, stages } from './docker/dockerfile.js';
import { run, tempDir } from './helpers/tools.js';

const dir = tempDir();
const capFlag = /--max-semi-space-size=(\d+)/;

/**
 * Stands in for dist/cli.js: allocates 3 million small objects, keeping the last 20,000 alive
 * (survivors make V8 grow the young generation up to its cap), then prints NODE_OPTIONS and
 * the new space's size. Without a cap the new space here grows past 32 MB.
 */
const probe = `import v8 from 'node:v8';
let keep = [];
for (let i = 0; i < 3e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 20000) keep = []; }
const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
process.stdout.write(JSON.stringify({ nodeOptions: process.env.NODE_OPTIONS ?? '', newSpaceMb: space.space_size / 1048576, kept: keep.length }));
`;
/** A clone with the real launcher, the probe as dist/cli.js and this test's Node (the pinned release) as node_modules/.bin/node. */
const clone = join(dir, 'clone');
mkdirSync(join(clone, 'dist'), { recursive: true });
mkdirSync(join(clone, 'node_modules', '.bin'), { recursive: true });
copyFileSync(join(repoRoot, 'csr-signer'), join(clone, 'csr-signer'));
chmodSync(join(clone, 'csr-signer'), 0o755);
writeFileSync(join(clone, 'dist', 'cli.js'), probe);
writeFileSync(join(clone, 'package.json'), '{"type":"module"}');
symlinkSync(process.execPath, join(clone, 'node_modules', '.bin', 'node'));

interface Probe { nodeOptions: string; newSpaceMb: number }
const launch = (env: NodeJS.ProcessEnv): Probe => {
  const r = run(join(clone, 'csr-signer'), [], { cwd: dir, env });
  if (r.code !== 0) throw new Error(`the launcher failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Probe;
};
const withoutNodeOptions = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
};
/** New space = two semi-spaces: the cap in MB, doubled. */
const newSpaceCap = (mb: number): number => 2 * mb;

void t.test('./csr-signer caps the young generation; the cap holds under allocation', (t) => {
  const p = launch(withoutNodeOptions());
  const mb = Number(capFlag.exec(p.nodeOptions)?.[1]);
  t.ok(mb > 0, `NODE_OPTIONS has --max-semi-space-size: ${p.nodeOptions}`);
  t.ok(p.newSpaceMb <= newSpaceCap(mb), `new space ${p.newSpaceMb} MB ≤ ${newSpaceCap(mb)} MB`);
  t.end();
});

void t.test("./csr-signer keeps the caller's NODE_OPTIONS, and a --max-semi-space-size there wins", (t) => {
  const p = launch({ ...withoutNodeOptions(), NODE_OPTIONS: '--max-semi-space-size=32 --no-warnings' });
  // (tap's process tracking quotes the caller's options and adds its own after them.)
  t.match(p.nodeOptions, /^--max-semi-space-size=\d+ "?--max-semi-space-size=32"? "?--no-warnings"?/, 'the cap first, then the caller\'s options');
  t.ok(p.newSpaceMb > 16, `the operator's 32 MB semi-spaces apply: new space grew to ${p.newSpaceMb} MB`);
  t.end();
});

void t.test("the image's NODE_OPTIONS caps the young generation as ./csr-signer does", (t) => {
  const runtime = stages()[1];
  const env = (runtime?.instructions ?? []).filter((i) => i.keyword === 'ENV').map((i) => i.args).join('\n');
  const value = /^NODE_OPTIONS=(\S+)$/m.exec(env)?.[1];
  t.ok(value, 'the runtime stage sets NODE_OPTIONS');
  const launcher = launch(withoutNodeOptions());
  t.equal(capFlag.exec(value ?? '')?.[0], capFlag.exec(launcher.nodeOptions)?.[0], 'the same cap as ./csr-signer');
  // As the image runs it: node with that NODE_OPTIONS (the entrypoint is dist/cli.js, a node script).
  const r = run(process.execPath, [join(clone, 'dist', 'cli.js')], { cwd: dir, env: { ...withoutNodeOptions(), NODE_OPTIONS: value } });
  t.equal(r.code, 0, r.stderr);
  const p = JSON.parse(r.stdout) as Probe;
  t.ok(p.newSpaceMb <= newSpaceCap(Number(capFlag.exec(value ?? '')?.[1])), `new space ${p.newSpaceMb} MB within the cap`);
  t.end();
});
