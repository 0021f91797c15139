/**
 * `csr-signer rotation status` as a process, without a cluster (--rotation-record=""):
 * its phases from the CA files alone, both output forms, and its refusals. With a
 * cluster and the record it is driven by test/e2e/rotation.test.ts.
 */
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { makeOpensslCa } from './helpers/ca.js';
import { needTool, run, tempDir, writeTemp, type RunResult } from './helpers/tools.js';
import { pause } from './helpers/wait.js';

if (!needTool(t, 'openssl')) process.exit(0);

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli.js');
const dir = tempDir('rotation-cli-');
const old = makeOpensslCa(dir, 'old', 'p256');
await pause(1100, 'the next CA must be newer, and notBefore has one-second resolution');
const next = makeOpensslCa(dir, 'next', 'p256');

const status = (certFile: string, keyFile: string, ...extra: string[]): RunResult => run(process.execPath, [cli, 'rotation', 'status', ...extra,
  '--cluster-signing-cert-file', certFile, '--cluster-signing-key-file', keyFile, '--signer-name', 'example.com/serving', '--signer-unrestricted', '--rotation-record=']);

interface Json { signers: { signer: string; phase: string; cas: { role: string; subject: string; retireAfter?: string }[]; advice: string[] }[]; note?: string }
const json = (r: RunResult): Json => JSON.parse(r.stdout) as Json;

void t.test('one CA: steady, in text and JSON, with a note that no record is read', (t) => {
  const text = status(old.certPath, old.keyPath);
  t.equal(text.code, 0, text.stderr);
  t.match(text.stdout, /^signer example\.com\/serving: phase steady\n {2}signing {2}CN=old test CA,O=csr-signer tests\n {11}sha256 [0-9a-f]{64}\n/);
  t.match(text.stdout, /note: no rotation record \(--rotation-record ""\): previous CAs are kept until their own expiry\n$/);
  const parsed = json(status(old.certPath, old.keyPath, '--output', 'json'));
  t.same(parsed.signers.map((s) => [s.signer, s.phase, s.cas.length]), [['example.com/serving', 'steady', 1]]);
  t.end();
});

void t.test('prepare: a newer CA in the bundle that has signed nothing is the next one', (t) => {
  const bundle = writeTemp(dir, 'old-then-next.pem', old.certPem + next.certPem);
  const parsed = json(status(bundle, old.keyPath, '-o', 'json'));
  t.equal(parsed.signers[0]?.phase, 'prepare');
  t.same(parsed.signers[0]?.cas.map((c) => c.role), ['signing', 'next']);
  t.match(parsed.signers[0]?.advice[0], /CN=next test CA.*is trusted but does not sign/);
  t.end();
});

void t.test('switch: without a record, the previous CA is kept until its own expiry', (t) => {
  const bundle = writeTemp(dir, 'next-then-old.pem', next.certPem + old.certPem);
  const parsed = json(status(bundle, next.keyPath, '--output=json'));
  const previous = parsed.signers[0]?.cas.find((c) => c.role === 'previous');
  t.equal(parsed.signers[0]?.phase, 'switch');
  t.equal(previous?.subject, 'CN=old test CA,O=csr-signer tests');
  t.ok(previous?.retireAfter && Date.parse(previous.retireAfter) > Date.now() + 3000 * 86_400_000, 'its retirement is its own NotAfter, years away');
  t.match(parsed.signers[0]?.advice[0], /has no issuance record: keep it in the bundle until its own expiry/);
  t.end();
});

void t.test('refusals are command-line errors (exit 2) that say what is wrong', (t) => {
  const cases: [string, string[], RegExp][] = [
    ['a subcommand other than status', [cli, 'rotation', 'start'], /csr-signer rotation takes "status", not "start"/],
    ['an unknown output form', [cli, 'rotation', 'status', '--output', 'yaml', '--cluster-signing-cert-file', old.certPath, '--cluster-signing-key-file', old.keyPath], /--output must be text or json, not "yaml"/],
    ['no signers', [cli, 'rotation', 'status', '--rotation-record='], /./],
  ];
  for (const [name, args, message] of cases) {
    const r = run(process.execPath, args);
    t.equal(r.code, 2, `${name}: exit 2`);
    t.match(r.stderr, message, name);
  }
  const help = run(process.execPath, [cli, 'rotation', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /^Usage: csr-signer rotation status/);
  t.end();
});

void t.test('a record the API refuses is one warning on stderr, naming the namespace default and the flag; stdout keeps the status', async (t) => {
  const { createServer } = await import('node:http');
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method ?? ''} ${req.url ?? ''}`);
    res.statusCode = 403;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ kind: 'Status', reason: 'Forbidden', message: 'configmaps "csr-signer-rotation" is forbidden: User "me" cannot get resource "configmaps" in the namespace "kube-system"' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  const kubeconfig = writeTemp(dir, 'http.kubeconfig', `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`);
  const env = { PATH: process.env.PATH ?? '', HOME: dir };
  const args = [cli, 'rotation', 'status', '--kubeconfig', kubeconfig, '--cluster-signing-cert-file', old.certPath, '--cluster-signing-key-file', old.keyPath,
    '--signer-name', 'example.com/serving', '--signer-unrestricted'];
  // run() is synchronous and would block the server in this process: spawn and wait.
  const { spawn } = await import('node:child_process');
  const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, args, { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  t.equal(result.code, 0, 'the status is still printed');
  t.same(requests, ['GET /api/v1/namespaces/kube-system/configmaps/csr-signer-rotation'], 'outside a pod, the record is looked for in kube-system, as run would keep it');
  t.match(result.stdout, /^signer example\.com\/serving: phase steady\n/);
  t.notMatch(result.stdout, /could not read|note:/, 'the warning is not on stdout');
  const warnings = result.stderr.split('\n').filter((l) => l !== '');
  t.equal(warnings.length, 1, 'one line on stderr');
  t.match(warnings[0], /^csr-signer: could not read the rotation record ConfigMap kube-system\/csr-signer-rotation \(kube-system: the default outside a pod, as for run; a signer in a pod keeps it in its own namespace: pass --leader-elect-resource-namespace NAMESPACE\) \(403 Forbidden: configmaps "csr-signer-rotation" is forbidden/);
});
