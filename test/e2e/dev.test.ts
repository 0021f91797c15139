/**
 * `csr-signer dev` (npm start): devapi and the signer in one process, working on
 * a fresh state directory with the example CA, and the commands it prints work.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { cli, root } from '../helpers/devapi.js';
import { manifests } from '../helpers/e2e.js';
import { opensslRequest } from '../helpers/requests.js';
import { needTool, opensslVerify, run, tempDir } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';


if (!needTool(t, 'kubectl') || !needTool(t, 'openssl')) process.exit(0);

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
});
