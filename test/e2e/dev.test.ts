/**
 * `csr-signer dev` (npm start): devapi and the signer in one process, working on
 * a fresh state directory with the example CA, and the commands it prints work; its
 * temporary state directory is private and removed when it stops; it publishes the
 * trust bundle; it does not warn about the example key it ships, while run still warns
 * about a world-readable key of the user's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { cli, root } from '../helpers/devapi.js';
import { manifests } from '../helpers/e2e.js';
import { opensslRequest } from '../helpers/requests.js';
import { needTool, opensslVerify, run, tempDir } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';


if (!needTool(t, 'kubectl') || !needTool(t, 'openssl')) process.exit(0);

const exampleCa = readFileSync(join(root, 'keys.example', 'ca.pem'), 'utf8');
const blocks = (pem: string): string[] => pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)?.map((b) => b.replace(/\s+/g, '')) ?? [];

/** Starts the built CLI and resolves once its output matches `ready`. */
async function started(args: readonly string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<{ child: ChildProcess; output: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  await Promise.race([
    until(() => ready.test(out), { what: `${args.join(' ')}: ${String(ready)}`, ms: 30_000, intervalMs: 50 }),
    exited.then((code) => { throw new Error(`${args.join(' ')} exited with ${code}: ${out}`); }),
  ]);
  return { child, output: () => out, exited };
}

void t.test('the demo starts, prints the next commands, issues for example.com/serving, and Ctrl-C stops both', async (t) => {
  const dir = tempDir('dev-');
  const child = spawn(process.execPath, [cli, 'dev', '--state-dir', join(dir, 'state')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start in 30 s: ${out}`)), 30_000);
    child.stdout.on('data', () => {
      if (out.includes('Ctrl-C stops both')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`dev exited with ${code}: ${out}`)));
  });
  t.match(out, /devapi ready at https:\/\/127\.0\.0\.1:\d+/);
  t.match(out, /export KUBECONFIG=\S+admin\.kubeconfig/);
  for (const step of ['cfssl genkey', 'kubectl apply -f -', 'kubectl certificate approve my-svc.my-namespace', "jsonpath='{.status.certificate}'", 'openssl verify -CAfile keys.example/ca.pem']) {
    t.ok(out.includes(step), `prints: ${step}`);
  }

  const env = { ...process.env, KUBECONFIG: join(dir, 'state', 'admin.kubeconfig'), HOME: dir };
  const request = opensslRequest(dir, 'demo', { cn: 'web.my-namespace.svc', sans: ['DNS:web.my-namespace.svc'] });
  const created = run('kubectl', ['apply', '-f', '-'], { env, input: manifests([{ name: 'demo', signerName: 'example.com/serving', usages: ['digital signature', 'server auth'], request }]) });
  t.equal(created.code, 0, created.stderr);
  t.equal(run('kubectl', ['certificate', 'approve', 'demo'], { env }).code, 0);
  const certificate = await until(
    () => Buffer.from(run('kubectl', ['get', 'csr', 'demo', '-o', 'jsonpath={.status.certificate}'], { env }).stdout, 'base64').toString(),
    { what: 'a certificate on CSR demo', ms: 10_000, intervalMs: 100 },
  );
  t.equal(opensslVerify(dir, readFileSync(join(root, 'keys.example', 'ca.pem'), 'utf8'), certificate).code, 0, 'issued by the example CA');

  // The demo's policy (keys.example/demo-config.yaml) allows the tutorial's names only.
  const evil = opensslRequest(dir, 'evil', { cn: 'evil.example.org', sans: ['DNS:evil.example.org'] });
  t.equal(run('kubectl', ['apply', '-f', '-'], { env, input: manifests([{ name: 'evil', signerName: 'example.com/serving', usages: ['digital signature', 'server auth'], request: evil }]) }).code, 0);
  t.equal(run('kubectl', ['certificate', 'approve', 'evil'], { env }).code, 0);
  const failed = await until(
    () => run('kubectl', ['get', 'csr', 'evil', '-o', 'jsonpath={.status.conditions[?(@.type=="Failed")].message}'], { env }).stdout || undefined,
    { what: 'a Failed condition on CSR evil', ms: 10_000, intervalMs: 100 },
  );
  t.match(failed, /subjectAltName DNS "evil\.example\.org" is not allowed by signer example\.com\/serving/, 'a name outside the demo policy fails, approved or not');

  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.equal(code, 0);
  t.match(out, /csr-signer dev: stopped/);
  t.notMatch(out, /world-readable/, 'no warning about the example key the demo ships');
  t.ok(existsSync(join(dir, 'state', 'admin.kubeconfig')), '--state-dir is the user\'s: kept');
  t.equal(statSync(join(dir, 'state')).mode & 0o777, 0o700, '--state-dir is created 0700');
});

void t.test('without --state-dir: a private temporary folder, gone after SIGTERM or SIGINT', async (t) => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const tmp = tempDir('dev-tmp-');
    const dev = await started(['dev'], { ...process.env, TMPDIR: tmp }, /Ctrl-C stops both/);
    const made = readdirSync(tmp).filter((f) => f.startsWith('csr-signer-dev-'));
    t.equal(made.length, 1, `${signal}: one csr-signer-dev-* folder while it runs`);
    const state = join(tmp, made[0] ?? 'missing');
    t.equal(statSync(state).mode & 0o777, 0o700, `${signal}: the folder is 0700`);
    for (const f of readdirSync(state)) t.equal(statSync(join(state, f)).mode & 0o077 & ~0o044, 0, `${signal}: ${f} is writable by its owner only`);
    for (const f of ['tokens.json', 'server-key.pem', 'example-ca-key.pem', 'admin.kubeconfig', 'signer.kubeconfig', 'state.log']) {
      t.equal(statSync(join(state, f)).mode & 0o077, 0, `${signal}: ${f} is the owner's only`);
    }
    dev.child.kill(signal);
    t.equal(await dev.exited, 0, `${signal}: stops with status 0`);
    t.same(readdirSync(tmp), [], `${signal}: nothing left in the temporary directory\n${dev.output()}`);
  }
});

void t.test('the demo publishes its trust bundle as the printed step 5 shows, with the shipped RBAC file', async (t) => {
  const dir = tempDir('dev-trust-');
  const dev = await started(['dev', '--state-dir', join(dir, 'state')], process.env, /Ctrl-C stops both/);
  t.teardown(() => { dev.child.kill('SIGKILL'); });
  const env = { ...process.env, KUBECONFIG: join(dir, 'state', 'admin.kubeconfig'), HOME: dir };
  const steps = dev.output().split('\n').map((l) => l.trim()).filter((l) => l.startsWith('kubectl get configmap example-serving-ca') || l.startsWith('kubectl get clustertrustbundle'));
  t.equal(steps.length, 3, `prints three trust commands:\n${steps.join('\n')}`);
  for (const step of steps) {
    const r = await until(() => {
      const r = run('sh', ['-c', step], { env });
      return r.code === 0 && (r.stdout.includes('example.com') || blocks(r.stdout).length > 0) ? r : undefined;
    }, { what: `${step} shows the bundle`, ms: 15_000, intervalMs: 200 });
    if (step.includes('jsonpath')) t.same(blocks(r.stdout), blocks(exampleCa), `${step}: the example CA`);
    else t.match(r.stdout, /example\.com:serving:csr-signer\s+example\.com\/serving/, `${step}: the signer-linked bundle`);
  }
  t.notMatch(dev.output(), /"level":"(warn|error)"[^\n]*(forbidden|trust)/i, 'no publishing refused');
  dev.child.kill('SIGTERM');
  t.equal(await dev.exited, 0);
});

void t.test('run still warns about a world-readable CA key of the user\'s', async (t) => {
  const dir = tempDir('dev-key-');
  const key = join(dir, 'ca-key.pem');
  copyFileSync(join(root, 'keys.example', 'ca-key.pem'), key);
  chmodSync(key, 0o644);
  const kubeconfig = join(dir, 'nowhere.kubeconfig');
  writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{ name: c, cluster: { server: "https://127.0.0.1:9", insecure-skip-tls-verify: true } }]\nusers: [{ name: u, user: { token: t } }]\ncontexts: [{ name: c, context: { cluster: c, user: u } }]\ncurrent-context: c\n');
  const signer = await started([
    'run', '--signer-name', 'example.com/serving', '--signer-unrestricted', '--cluster-signing-cert-file', join(root, 'keys.example', 'ca.pem'), '--cluster-signing-key-file', key,
    '--kubeconfig', kubeconfig, '--leader-elect=false', '--http-address', '127.0.0.1:0',
  ], process.env, /"msg":"CA loaded"/);
  signer.child.kill('SIGTERM');
  await signer.exited;
  t.match(signer.output(), new RegExp(`"file":"${key}","mode":"0644","msg":"CA key file is world-readable"`));
});
