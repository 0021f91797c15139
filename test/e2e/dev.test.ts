/**
 * `csr-signer dev` (npm start): devapi and the signer (with the approver) in one process,
 * working on a fresh state directory with the example CA, and the commands it prints —
 * a ServiceAccount's certificate approved and issued with no human, another namespace's
 * name denied — run as printed and do what they say, and so does the printed pod
 * certificate walk-through (the kubelet of node worker-1 asks for a pod's certificate and
 * it is issued for the pod's SPIFFE ID); its
 * temporary state directory is private and removed when it stops; it publishes the
 * trust bundle; it does not warn about the example key it ships, while run still warns
 * about a world-readable key of the user's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
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

/** The commands dev prints to try next, steps 1 to `last`, as one shell script (the display's two-space indent removed). */
function printedSteps(out: string, last: number): string {
  const lines = out.split('\n');
  const from = lines.findIndex((l) => l.startsWith('Try it'));
  const to = lines.findIndex((l) => l.trim().startsWith(`# ${last + 1}.`));
  if (from < 0 || to < 0) throw new Error(`no steps 1 to ${last} in:\n${out}`);
  return lines.slice(from + 1, to).map((l) => l.replace(/^ {2}/, '')).join('\n');
}

void t.test('the demo starts, prints the no-human flow, and the printed commands work as shown; Ctrl-C stops both', async (t) => {
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
  for (const step of ['openssl req -new', 'shop-web.kubeconfig create -f -', 'kubectl wait --for=condition=Approved csr/web.shop', "jsonpath='{.status.certificate}'",
    'openssl verify -CAfile keys.example/ca.pem', 'kubectl wait --for=condition=Denied csr/web.bank']) {
    t.ok(out.includes(step), `prints: ${step}`);
  }
  t.notMatch(out, /certificate approve/, 'no human approval in the flow');

  // Steps 1–5 exactly as printed, in a folder of their own (keys.example/ linked in, as from the repository's root).
  const work = join(dir, 'work');
  mkdirSync(work);
  symlinkSync(join(root, 'keys.example'), join(work, 'keys.example'));
  const script = printedSteps(out, 5);
  const ran = run('sh', ['-e', '-c', script], { cwd: work, env: { ...process.env, HOME: dir, KUBECACHEDIR: join(dir, 'cache') } });
  t.equal(ran.code, 0, `the printed steps run:\n${script}\n${ran.stdout}\n${ran.stderr}`);
  t.match(ran.stdout, /certificatesigningrequest\.certificates\.k8s\.io\/web\.shop created/);
  t.match(ran.stdout, /certificatesigningrequest\.certificates\.k8s\.io\/web\.shop condition met/);
  t.match(ran.stdout, /web\.shop\s+\S+\s+example\.com\/serving\s+system:serviceaccount:shop:web\s+.*Approved,Issued/, 'asked by the ServiceAccount, approved and issued');
  t.match(ran.stdout, /web\.crt: OK/, 'openssl verifies it against the example CA');
  t.match(ran.stdout, /DNS:web\.shop\.svc/);
  t.match(ran.stdout, /certificatesigningrequest\.certificates\.k8s\.io\/web\.bank condition met/);
  t.match(ran.stdout, /subjectAltName DNS "web\.bank\.svc" is not allowed by signer example\.com\/serving/, 'the denial says why');
  const certificate = readFileSync(join(work, 'web.crt'), 'utf8');
  t.equal(opensslVerify(dir, readFileSync(join(root, 'keys.example', 'ca.pem'), 'utf8'), certificate).code, 0, 'issued by the example CA');

  const env = { ...process.env, KUBECONFIG: join(dir, 'state', 'admin.kubeconfig'), HOME: dir };
  const conditions = JSON.parse(run('kubectl', ['get', 'csr', 'web.bank', '-o', 'jsonpath={.status.conditions}'], { env }).stdout) as { type: string; reason: string }[];
  t.match(conditions, [{ type: 'Denied', reason: 'CsrSignerPolicyDenied' }], 'web.bank: Denied by the approver, nothing else');
  t.equal(conditions.length, 1);
  t.notOk(run('kubectl', ['get', 'csr', 'web.bank', '-o', 'jsonpath={.status.certificate}'], { env }).stdout, 'web.bank: never issued');

  // The demo's policy (keys.example/demo-config.yaml) gives no one a name outside it, not even admin: Denied, never signed.
  const evil = opensslRequest(dir, 'evil', { cn: 'evil.example.org', sans: ['DNS:evil.example.org'] });
  t.equal(run('kubectl', ['apply', '-f', '-'], { env, input: manifests([{ name: 'evil', signerName: 'example.com/serving', usages: ['digital signature', 'server auth'], request: evil }]) }).code, 0);
  const denied = await until(
    () => run('kubectl', ['get', 'csr', 'evil', '-o', 'jsonpath={.status.conditions[?(@.type=="Denied")].message}'], { env }).stdout || undefined,
    { what: 'a Denied condition on CSR evil', ms: 10_000, intervalMs: 100 },
  );
  t.match(denied, /subjectAltName DNS "evil\.example\.org" is not allowed by signer example\.com\/serving/, 'a name outside the demo policy is denied');
  t.notOk(run('kubectl', ['get', 'csr', 'evil', '-o', 'jsonpath={.status.certificate}'], { env }).stdout, 'and never issued');

  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.equal(code, 0);
  t.match(out, /csr-signer dev: stopped/);
  t.notMatch(out, /world-readable/, 'no warning about the example key the demo ships');
  t.ok(existsSync(join(dir, 'state', 'admin.kubeconfig')), '--state-dir is the user\'s: kept');
  t.equal(statSync(join(dir, 'state')).mode & 0o777, 0o700, '--state-dir is created 0700');
});

/** The printed pod certificate walk-through, steps 7 to 9, as one shell script (the display's indent removed). */
function printedPodSteps(out: string): string {
  const lines = out.split('\n');
  const from = lines.findIndex((l) => l.startsWith('Pod certificates:'));
  const to = lines.findIndex((l) => l.startsWith('Ctrl-C stops both'));
  if (from < 0 || to < from) throw new Error(`no pod certificate steps in:\n${out}`);
  return lines.slice(from + 1, to).map((l) => l.replace(/^ {2}/, '')).join('\n');
}

void t.test('the printed pod certificate walk-through runs as shown: the node\'s request is Issued for the pod\'s SPIFFE ID', async (t) => {
  const dir = tempDir('dev-pods-');
  const dev = await started(['dev', '--state-dir', join(dir, 'state')], process.env, /Ctrl-C stops both/);
  t.teardown(() => { dev.child.kill('SIGKILL'); });
  const out = dev.output();
  for (const step of ['kubectl create namespace shop', 'node-worker-1.kubeconfig create -f -', 'kind: PodCertificateRequest', 'openssl req -new -key web-pod-key.pem -subj /',
    'kubectl wait --for=condition=Issued podcertificaterequests/web-identity -n shop']) {
    t.ok(out.includes(step), `prints: ${step}`);
  }
  const work = join(dir, 'work');
  mkdirSync(work);
  symlinkSync(join(root, 'keys.example'), join(work, 'keys.example'));
  const env = { ...process.env, HOME: dir, KUBECACHEDIR: join(dir, 'cache'), KUBECONFIG: join(dir, 'state', 'admin.kubeconfig') };
  const script = printedPodSteps(out);
  const ran = run('sh', ['-e', '-c', script], { cwd: work, env });
  t.equal(ran.code, 0, `the printed steps run:\n${script}\n${ran.stdout}\n${ran.stderr}`);
  t.match(ran.stdout, /podcertificaterequest\.certificates\.k8s\.io\/web-identity created/);
  t.match(ran.stdout, /podcertificaterequest\.certificates\.k8s\.io\/web-identity condition met/);
  t.match(ran.stdout, /web-identity\.pem: OK/, 'openssl verifies it against the example CA');
  t.match(ran.stdout, /URI:spiffe:\/\/cluster\.local\/ns\/shop\/sa\/web/, 'the pod\'s SPIFFE ID');
  const pcr = JSON.parse(run('kubectl', ['get', 'podcertificaterequests', 'web-identity', '-n', 'shop', '-o', 'json'], { env }).stdout) as {
    spec: { nodeName: string }; status: { conditions: { type: string; reason: string }[] };
  };
  t.match(pcr.status.conditions, [{ type: 'Issued', reason: 'Issued' }], 'Issued, one condition');
  t.equal(pcr.status.conditions.length, 1);
  t.equal(pcr.spec.nodeName, 'worker-1', 'asked by the node');
  dev.child.kill('SIGTERM');
  t.equal(await dev.exited, 0);
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
    for (const f of ['tokens.json', 'server-key.pem', 'example-ca-key.pem', 'admin.kubeconfig', 'signer.kubeconfig', 'shop-web.kubeconfig', 'state.log']) {
      t.equal(statSync(join(state, f)).mode & 0o077, 0, `${signal}: ${f} is the owner's only`);
    }
    dev.child.kill(signal);
    t.equal(await dev.exited, 0, `${signal}: stops with status 0`);
    t.same(readdirSync(tmp), [], `${signal}: nothing left in the temporary directory\n${dev.output()}`);
  }
});

void t.test('the demo publishes its trust bundle as the printed step 6 shows, with the shipped RBAC file', async (t) => {
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
