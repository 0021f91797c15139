/**
 * Every command in the docs a user reads is marked `# cluster-only` or exercised here:
 * run as written (paths moved into a temporary directory where the doc's would land in
 * the repository), against the real openssl, cfssl, kubectl, `./csr-signer` (the script that runs dist/cli.js)
 * and a devapi, with a check on what it printed or made. `npm ci` and `npm test` are
 * CI's own steps (.ci/run runs them); bench/README.md's runs take minutes and are
 * bench-only. See test/helpers/doc-commands.ts for what counts as a command.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import t, { type Test } from 'tap';
import { coverage, extractCommands, oneLine, ruleFor, uncovered, type DocCommand } from '../helpers/doc-commands.js';
import { root } from '../helpers/devapi.js';
import { needTool, run, tempDir } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';
import { EXERCISES, setups, type Ctx, type Exercise } from './exercises.js';

/** Markdown files that are not instructions, and why. */
const NOT_SCANNED: Record<string, string> = {
  'CHANGELOG.md': 'history: it names commands (`csr-signer sign`, `npm start`) but asks no one to run them',
  'test/fixtures/ca/README.md': 'provenance of pinned fixtures: re-running makes new keys the tests do not expect, and the arguments are elided (…)',
  'test/fixtures/hostile/README.md': 'provenance of pinned fixtures (hand-made hostile inputs), not steps for a user',
  'test/fixtures/requests/README.md': 'provenance of pinned fixtures, with placeholders (KEY, SUBJECT)',
};

function markdownFiles(dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (['node_modules', '.git', 'dist', '.tap', 'coverage'].includes(e.name)) return [];
    const path = join(dir, e.name);
    if (e.isDirectory()) return markdownFiles(path);
    return e.name.endsWith('.md') ? [relative(root, path)] : [];
  });
}

const scratch = tempDir('doc-commands-');
const servers: ChildProcess[] = [];
process.on('exit', () => {
  for (const child of servers) {
    try { process.kill(-(child.pid ?? 0), 'SIGKILL'); } catch { /* already gone */ }
  }
});
const docs = markdownFiles().filter((f) => NOT_SCANNED[f] === undefined).sort();
const commands = docs.flatMap((f) => extractCommands(f, readFileSync(join(root, f), 'utf8')));
const covered = coverage(commands, EXERCISES);

void t.test('every Markdown file is scanned or excluded with a reason', (t) => {
  const all = markdownFiles();
  for (const f of Object.keys(NOT_SCANNED)) t.ok(all.includes(f), `${f} still exists`);
  t.ok(docs.includes('README.md') && docs.includes('docs/install.md') && docs.includes('bench/README.md'));
  t.end();
});

void t.test('every command in the docs is marked # cluster-only or exercised by a test', (t) => {
  const missing = uncovered(covered);
  t.same(missing, [], `neither marked "# cluster-only" nor exercised by test/docs/commands.test.ts:\n${missing.join('\n')}`);
  for (const rule of EXERCISES) t.ok(commands.some((c) => ruleFor(EXERCISES, c) === rule), `${rule.doc} ${String(rule.match)} matches a command`);
  // A command run by a test file of its own: that file exists and reads the doc.
  for (const rule of EXERCISES.filter((r) => r.how === 'elsewhere')) {
    const by = rule.by === undefined ? '' : readFileSync(join(root, rule.by), 'utf8');
    t.ok(by.includes(rule.doc), `${rule.doc} ${String(rule.match)}: ${rule.by ?? '(no test named)'} runs the doc's commands`);
  }
  const counts = new Map<string, Record<string, number>>();
  for (const [c, how] of covered) {
    const row = counts.get(c.file) ?? {};
    row[how ?? 'none'] = (row[how ?? 'none'] ?? 0) + 1;
    counts.set(c.file, row);
  }
  for (const [f, row] of counts) t.comment(`${f}: ${Object.entries(row).map(([k, v]) => `${v} ${k}`).join(', ')}`);
  t.end();
});

/**
 * From a clone the command is `./csr-signer` (the script at the repository's root), so a
 * command run from another directory gets the script's full path. No `csr-signer` is put
 * on the PATH: a doc that tells a clone's user to run a bare `csr-signer` fails when run.
 */
const fromClone = (text: string): string => text.replace(/(^|[\s|;(])\.\/csr-signer(?=\s|$)/g, `$1${join(root, 'csr-signer')}`);

/** How a doc may not run the command, and why. */
function refusedForm(c: DocCommand, how: string | undefined): string | undefined {
  const line = oneLine(c.text);
  if (/(^|[\s|;(])(npx|npm exec|npm x)( --?[\w-]+)*( --)? csr-signer\b/.test(line)) {
    return 'runs csr-signer through npx, which copies and rebuilds the project into the npx cache: use ./csr-signer from a clone';
  }
  if (how === 'exercised' && /(^|[|;(]\s*|&&\s*)csr-signer /.test(line)) return 'runs a bare csr-signer, which a clone does not have on its PATH: use ./csr-signer';
  return undefined;
}

void t.test('no doc runs csr-signer through npx, nor a bare csr-signer from a clone', (t) => {
  const refused = [...covered].flatMap(([c, how]) => {
    const why = refusedForm(c, how);
    return why ? [`${c.file}:${c.line}: ${oneLine(c.text)}: ${why}`] : [];
  });
  t.same(refused, []);
  const sample = (text: string, clusterOnly = false): DocCommand => ({ file: 'docs/sample.md', line: 1, text, clusterOnly, from: 'block', block: 0, section: '' });
  t.match(refusedForm(sample('npx csr-signer sign --csr x.csr'), 'exercised'), /npx/);
  t.match(refusedForm(sample('npm exec -- csr-signer --help', true), 'cluster-only'), /npx/);
  t.match(refusedForm(sample('npx --no-install csr-signer run'), undefined), /npx/);
  t.match(refusedForm(sample('csr-signer run --config signers.yaml'), 'exercised'), /bare csr-signer/);
  t.equal(refusedForm(sample('./csr-signer run --config signers.yaml'), 'exercised'), undefined);
  t.equal(refusedForm(sample('kubectl exec deploy/csr-signer -- csr-signer rotation status', true), 'cluster-only'), undefined, 'the image has csr-signer on its PATH');
  t.equal(fromClone('./csr-signer sign --csr - < a.csr | ./csr-signer x'), `${join(root, 'csr-signer')} sign --csr - < a.csr | ${join(root, 'csr-signer')} x`);
  t.end();
});

void t.test('a sample doc with an unmarked, untested command fails, naming its file, line and command', (t) => {
  const sample = [
    '# Sample', '', 'Run `kubectl -n demo delete csr demo --wait` or `csr-signer run` (a name, not a command).', '',
    '```console', '$ kubectl get csr demo \\', '>   -o yaml', 'apiVersion: v1', '$ helm list # cluster-only', '```', '',
    '```sh', '# a comment', 'openssl genpkey -algorithm ED25519 \\', '  -out k.pem && cat k.pem', 'cat <<EOF | kubectl apply -f - # cluster-only', 'kind: x', 'EOF', '```', '',
    '```', 'csr-signer sign --ca-cert FILE [options]', '```',
  ].join('\n');
  const found = extractCommands('docs/sample.md', sample);
  t.same(found.map((c) => [c.line, oneLine(c.text), c.clusterOnly]), [
    [3, 'kubectl -n demo delete csr demo --wait', false],
    [6, 'kubectl get csr demo -o yaml', false],
    [9, 'helm list # cluster-only', true],
    [14, 'openssl genpkey -algorithm ED25519 -out k.pem', false],
    [14, 'cat k.pem', false],
    [16, 'cat <<EOF | kubectl apply -f - # cluster-only', true],
  ]);
  t.same(uncovered(coverage(found, [{ doc: 'docs/sample.md', match: /^openssl genpkey /, how: 'run' }])).sort(), [
    'docs/sample.md:14: cat k.pem',
    'docs/sample.md:3: kubectl -n demo delete csr demo --wait',
    'docs/sample.md:6: kubectl get csr demo -o yaml',
  ]);
  t.end();
});

/** Runs consecutive commands of one block in one shell (umask and files carry), each one's output apart. */
function runGroup(t: Test, group: readonly { c: DocCommand; e: Exercise; text: string }[], cwd: string, ctx: Ctx): { stdout: string; ok: boolean }[] {
  const script = ['set -euo pipefail', ...group.flatMap((g, i) => [`printf '\\n@@doc-command %d@@\\n' ${i}`, g.text])].join('\n');
  const r = run('bash', ['-c', `${script}\n`], { cwd, env: ctx.env, timeoutMs: 60_000 });
  const parts = r.stdout.split(/\n?@@doc-command (\d+)@@\n/);
  const last = Number(parts.at(-2) ?? -1);
  return group.map((g, i) => {
    const ok = r.code === 0 || i < last;
    if (!ok) t.fail(`${g.c.file}:${g.c.line}: ${oneLine(g.c.text)}\n${i === last ? `exit ${r.code}: ${r.stderr}` : 'not run: an earlier command failed'}`);
    return { stdout: parts[2 * i + 2] ?? '', ok };
  });
}

interface Server { child: ChildProcess; exited: Promise<number | null>; stop: NodeJS.Signals; stopped?: RegExp; name: string; output: () => string }

async function startServer(t: Test, c: DocCommand, text: string, cwd: string, ctx: Ctx, ready: RegExp): Promise<{ server: Server; stdout: string } | undefined> {
  const child = spawn('bash', ['-c', text], { cwd, env: ctx.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  servers.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const name = `${c.file}:${c.line}: ${oneLine(c.text)}`;
  const up = await new Promise<boolean>((resolve) => {
    const timer = setInterval(() => { if (ready.test(out)) { clearInterval(timer); resolve(true); } }, 50);
    setTimeout(() => { clearInterval(timer); resolve(ready.test(out)); }, 30_000);
    void exited.then(() => { clearInterval(timer); resolve(ready.test(out)); });
  });
  if (!up) {
    t.fail(`${name}\nnot up (${String(ready)}): ${out}`);
    try { process.kill(-(child.pid ?? 0), 'SIGKILL'); } catch { /* gone */ }
    return undefined;
  }
  return { server: { child, exited, stop: 'SIGTERM', name, output: () => out }, stdout: out };
}

for (const doc of docs) {
  // Commands a test file of their own runs (how: 'elsewhere') are not run here.
  const own = commands.filter((c) => c.file === doc && covered.get(c) !== 'cluster-only' && covered.get(c) !== 'restates' && ![undefined, 'elsewhere'].includes(ruleFor(EXERCISES, c)?.how));
  if (own.length === 0) continue;
  void t.test(`${doc}: its commands run as written`, async (t) => {
    if (!['openssl', 'cfssl', 'cfssljson', 'kubectl'].every((tool) => needTool(t, tool))) return;
    const work = join(scratch, doc.replaceAll('/', '_'));
    mkdirSync(work);
    mkdirSync(join(work, 'home'));
    const ctx: Ctx = {
      work,
      env: { ...process.env, KUBECONFIG: join(work, 'no-cluster.kubeconfig'), KUBECACHEDIR: join(work, 'home', 'kube-cache'), TMPDIR: work, npm_config_offline: 'true', npm_config_update_notifier: 'false' },
    };
    await setups[doc]?.(ctx);
    const running: Server[] = [];
    let pending: { c: DocCommand; e: Exercise; text: string }[] = [];
    let pendingDir = '';
    const dirOf = (e: Exercise): string => (e.dir === 'root' ? root : join(work, e.dir ?? '.'));
    const flush = async (): Promise<void> => {
      const group = pending;
      pending = [];
      if (group.length === 0) return;
      const results = runGroup(t, group, pendingDir, ctx);
      for (const [i, g] of group.entries()) {
        if (results[i]?.ok) await g.e.check?.(t, { stdout: results[i].stdout, dir: pendingDir }, ctx);
      }
    };
    try {
      for (const c of own) {
        const e = ruleFor(EXERCISES, c);
        if (!e) continue;
        const dir = dirOf(e);
        mkdirSync(dir, { recursive: true });
        const text = fromClone(e.rewrite ? e.rewrite(c.text, ctx) : c.text);
        if (e.how === 'run') {
          if (pending.length > 0 && (pending[0]?.c.block !== c.block || c.block === -1 || pendingDir !== dir)) await flush();
          pendingDir = dir;
          pending.push({ c, e, text });
          continue;
        }
        await flush();
        if (e.how === 'server') {
          const started = await startServer(t, c, text, dir, ctx, e.ready ?? /./);
          if (!started) continue;
          running.push({ ...started.server, stop: e.stop ?? 'SIGTERM', ...(e.stopped ? { stopped: e.stopped } : {}) });
          await e.check?.(t, { stdout: started.stdout, dir, output: started.server.output }, ctx);
        } else {
          // CI and bench commands are not run here; their check gets the command text.
          await e.check?.(t, { stdout: c.text, dir }, ctx);
        }
      }
      await flush();
    } finally {
      for (const s of running.reverse()) {
        process.kill(-(s.child.pid ?? 0), s.stop);
        const code = await Promise.race([s.exited, new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 10_000))]);
        const said = s.stopped;
        if (said) {
          await until(() => said.test(s.output()), { what: `${s.name} to say it stops`, ms: 5000, intervalMs: 50 }).catch(() => undefined); // the match below says what was missing
          t.match(s.output(), said, `${s.name}: stops on ${s.stop}`);
        } else t.equal(code, 0, `${s.name}: stops on ${s.stop} with status 0\n${s.output().slice(-2000)}`);
      }
      await ctx.api?.stop();
    }
  });
}
