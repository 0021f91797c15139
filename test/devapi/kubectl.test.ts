/**
 * devapi against the real kubectl over HTTPS, with the kubeconfigs devapi writes:
 * the flows an operator uses on CertificateSigningRequests, end to end.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { cli, kubectl, startDevapi, type DevapiProcess } from '../helpers/devapi.js';
import { needTool, opensslVerify, run, tempDir, writeTemp } from '../helpers/tools.js';
import { pause, until } from '../helpers/wait.js';

if (!needTool(t, 'kubectl') || !needTool(t, 'openssl')) process.exit(0);

const dir = tempDir();
function request(cn: string): string {
  const r = run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, `${cn}.key`), '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}.example.com`]);
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout;
}
const manifest = (name: string, extra = ''): string => `apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: ${name}
spec:
  request: ${Buffer.from(request(name)).toString('base64')}
  signerName: example.com/demo
  usages: ["digital signature", "server auth"]
${extra}`;

let api: DevapiProcess;
t.before(async () => {
  api = await startDevapi();
});
t.teardown(() => api.stop());

void t.test('kubectl reaches devapi over HTTPS with the written kubeconfig and sees its version', (t) => {
  const r = kubectl(api, 'admin', ['version', '-o', 'json']);
  t.equal(r.code, 0, r.stderr);
  t.match(JSON.parse(r.stdout), { serverVersion: { major: '1', minor: '32' } });
  t.end();
});

void t.test('kubectl create serviceaccount (a protobuf body) creates it, with a uid', (t) => {
  const created = kubectl(api, 'admin', ['create', 'serviceaccount', 'web', '-n', 'default', '-o', 'json']);
  t.equal(created.code, 0, created.stderr);
  t.match(JSON.parse(created.stdout), { kind: 'ServiceAccount', metadata: { name: 'web', namespace: 'default', uid: /^[0-9a-f-]{36}$/ } });
  const read = kubectl(api, 'admin', ['get', 'serviceaccount', 'web', '-n', 'default', '-o', 'jsonpath={.metadata.name}']);
  t.equal(read.stdout, 'web', read.stderr);
  t.end();
});

void t.test('apply, get, describe, approve, issue, read the certificate, delete', (t) => {
  const applied = kubectl(api, 'requester', ['apply', '-f', '-'], manifest('alice'));
  t.equal(applied.code, 0, applied.stderr);
  t.match(applied.stdout, 'certificatesigningrequest.certificates.k8s.io/alice created');

  const table = kubectl(api, 'admin', ['get', 'csr']);
  t.equal(table.code, 0, table.stderr);
  t.match(table.stdout, /NAME\s+AGE\s+SIGNERNAME\s+REQUESTOR\s+REQUESTEDDURATION\s+CONDITION/);
  t.match(table.stdout, /alice\s+\S+\s+example\.com\/demo\s+requester\s+<none>\s+Pending/);

  const described = kubectl(api, 'admin', ['describe', 'csr', 'alice']);
  t.equal(described.code, 0, described.stderr);
  t.match(described.stdout, /Requesting User:\s+requester/);
  t.match(described.stdout, /Signer:\s+example\.com\/demo/);

  const denied = kubectl(api, 'signer', ['certificate', 'approve', 'alice']);
  t.not(denied.code, 0, 'the signer identity may not approve');
  t.match(denied.stderr, /forbidden/i);

  const approved = kubectl(api, 'approver', ['certificate', 'approve', 'alice']);
  t.equal(approved.code, 0, approved.stderr);
  t.match(approved.stdout, 'certificatesigningrequest.certificates.k8s.io/alice approved');
  t.match(kubectl(api, 'admin', ['get', 'csr', 'alice']).stdout, /Approved/);

  const ca = join(import.meta.dirname, '..', '..', 'keys.example');
  const csrPem = Buffer.from((JSON.parse(kubectl(api, 'admin', ['get', 'csr', 'alice', '-o', 'json']).stdout) as { spec: { request: string } }).spec.request, 'base64').toString();
  const signed = run(process.execPath, [cli, 'sign', '--ca-cert', join(ca, 'ca.pem'), '--ca-key', join(ca, 'ca-key.pem'), '--csr', '-', '--usages', 'digital signature,server auth'], { input: csrPem });
  t.equal(signed.code, 0, signed.stderr);
  // The signer's role has update, not get, on /status: it PUTs the object it watched, as client-node does.
  const putStatus = (id: 'signer' | 'requester', certificate: string): ReturnType<typeof kubectl> => {
    const current = JSON.parse(kubectl(api, 'admin', ['get', 'csr', 'alice', '-o', 'json']).stdout) as { status: Record<string, unknown> };
    current.status.certificate = Buffer.from(certificate).toString('base64');
    const file = writeTemp(dir, 'status.json', JSON.stringify(current));
    return kubectl(api, id, ['replace', '--raw', '/apis/certificates.k8s.io/v1/certificatesigningrequests/alice/status', '-f', file]);
  };
  const requesterWrite = putStatus('requester', signed.stdout);
  t.not(requesterWrite.code, 0, 'the requester may not write status');
  t.match(requesterWrite.stderr, /forbidden/i);
  const issued = putStatus('signer', signed.stdout);
  t.equal(issued.code, 0, issued.stderr);
  t.match(kubectl(api, 'admin', ['get', 'csr', 'alice']).stdout, /Approved,Issued/);

  const b64 = kubectl(api, 'admin', ['get', 'csr', 'alice', '-o', 'jsonpath={.status.certificate}']).stdout;
  const pem = Buffer.from(b64, 'base64').toString();
  t.equal(opensslVerify(dir, readFileSync(join(ca, 'ca.pem'), 'utf8'), pem).code, 0, 'the certificate read back verifies');

  const replaced = putStatus('signer', signed.stdout.replace('-----BEGIN', 'replaced\n-----BEGIN'));
  t.not(replaced.code, 0, 'a certificate cannot be replaced');
  t.match(replaced.stderr, 'updates may not modify existing certificate content');

  const deleted = kubectl(api, 'admin', ['delete', 'csr', 'alice']);
  t.equal(deleted.code, 0, deleted.stderr);
  t.match(deleted.stdout, 'certificatesigningrequest.certificates.k8s.io "alice" deleted');
  t.end();
});

void t.test('deny marks the CSR Denied, and approving it afterwards is refused by kubectl', (t) => {
  t.equal(kubectl(api, 'requester', ['apply', '-f', '-'], manifest('bob')).code, 0);
  const denied = kubectl(api, 'approver', ['certificate', 'deny', 'bob']);
  t.equal(denied.code, 0, denied.stderr);
  t.match(kubectl(api, 'admin', ['get', 'csr', 'bob']).stdout, /Denied/);
  const approve = kubectl(api, 'approver', ['certificate', 'approve', 'bob']);
  t.not(approve.code, 0);
  t.match(approve.stderr, 'is already Denied');
  t.end();
});

void t.test('the API refuses invalid CSRs with the apiserver\'s messages', (t) => {
  const short = kubectl(api, 'requester', ['apply', '-f', '-'], manifest('short', '  expirationSeconds: 599\n'));
  t.not(short.code, 0);
  t.match(short.stderr, 'spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 600 seconds (10 minutes)');
  const legacy = kubectl(api, 'requester', ['apply', '-f', '-'], manifest('legacy').replace('example.com/demo', 'kubernetes.io/legacy-unknown'));
  t.not(legacy.code, 0);
  t.match(legacy.stderr, 'the legacy signerName is not allowed via this API version');
  t.end();
});

void t.test('get -w streams new CSRs as they are created', async (t) => {
  const home = join(api.stateDir, '..', 'home');
  const child = spawn('kubectl', ['get', 'csr', '-w'], { env: { ...process.env, HOME: home, KUBECONFIG: api.kubeconfig('admin'), KUBECACHEDIR: join(home, 'cache') } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  await pause(1500, 'kubectl lists, then starts its watch, and prints nothing to await in between');
  t.equal(kubectl(api, 'requester', ['apply', '-f', '-'], manifest('carol')).code, 0);
  await until(() => out.includes('carol'), { what: 'carol in the watch output', ms: 5000, intervalMs: 100 });
  child.kill();
  t.match(out, /carol\s+\S+\s+example\.com\/demo/);
});

void t.test('leases, events and namespaces can be listed', (t) => {
  const leases = kubectl(api, 'admin', ['get', 'lease', '-n', 'kube-system']);
  t.equal(leases.code, 0, leases.stderr);
  t.match(leases.stderr + leases.stdout, /No resources found/);
  const events = kubectl(api, 'admin', ['get', 'events', '-A']);
  t.equal(events.code, 0, events.stderr);
  const ns = kubectl(api, 'admin', ['get', 'ns']);
  t.match(ns.stdout, /kube-system/);
  t.end();
});

void t.test('auth can-i answers from the signer\'s least-privilege role', (t) => {
  const can = (args: string[]): string => kubectl(api, 'signer', ['auth', 'can-i', ...args]).stdout.trim();
  t.equal(can(['update', 'certificatesigningrequests', '--subresource=status']), 'yes');
  t.equal(can(['watch', 'certificatesigningrequests']), 'yes');
  t.equal(can(['delete', 'certificatesigningrequests']), 'no');
  t.equal(can(['update', 'certificatesigningrequests', '--subresource=approval']), 'no');
  t.equal(kubectl(api, 'approver', ['auth', 'can-i', 'update', 'certificatesigningrequests', '--subresource=approval']).stdout.trim(), 'yes');
  t.equal(can(['get', 'secrets']), 'no');
  t.end();
});

void t.test('an unknown token is refused with Unauthorized', (t) => {
  const bad = writeTemp(dir, 'bad.kubeconfig', readFileSync(api.kubeconfig('admin'), 'utf8').replace(/token: .*/, 'token: not-a-token'));
  const r = run('kubectl', ['get', 'csr'], { env: { ...process.env, HOME: join(api.stateDir, '..', 'home'), KUBECONFIG: bad } });
  t.not(r.code, 0);
  t.match(r.stderr + r.stdout, /Unauthorized|asked for the client to provide credentials/);
  t.end();
});

void t.test('kubectl 1.31 (JSON bodies, chosen by /version) approves as well as 1.32 (protobuf)', async (t) => {
  const old = await startDevapi({ args: ['--kubernetes-minor', '31'] });
  try {
    const version = JSON.parse(kubectl(old, 'admin', ['version', '-o', 'json']).stdout) as { clientVersion: { minor: string } };
    t.equal(version.clientVersion.minor, '31', 'the dispatcher ran kubectl 1.31');
    t.equal(kubectl(old, 'requester', ['apply', '-f', '-'], manifest('dave')).code, 0);
    const approved = kubectl(old, 'approver', ['certificate', 'approve', 'dave']);
    t.equal(approved.code, 0, approved.stderr);
    t.match(kubectl(old, 'admin', ['get', 'csr', 'dave']).stdout, /Approved/);
  } finally {
    await old.stop();
  }
});
