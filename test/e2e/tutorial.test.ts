/**
 * The Kubernetes "Manage TLS Certificates in a Cluster" tutorial with signerName
 * example.com/serving, end to end with real processes and real tools: cfssl makes
 * the key and request, kubectl sends and approves it, `csr-signer run` (least
 * privilege: signer.kubeconfig) issues, openssl checks, and a TLS client that
 * trusts only the CA accepts a server using the certificate.
 */
import { readFileSync } from 'node:fs';
import { createServer, get } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { makeOpensslCa } from '../helpers/ca.js';
import { kubectl, startDevapi, type DevapiProcess } from '../helpers/devapi.js';
import { servingSignerArgs, startSigner, type SignerProcess } from '../helpers/signer.js';
import { needTool, opensslText, opensslVerify, run, tempDir, writeTemp } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

if (!needTool(t, 'kubectl') || !needTool(t, 'openssl') || !needTool(t, 'cfssl') || !needTool(t, 'cfssljson')) process.exit(0);

const dir = tempDir('tutorial-');
const ca = makeOpensslCa(dir, 'serving', 'p256');
const otherCa = makeOpensslCa(dir, 'other', 'p256');
const NAME = 'my-svc.my-namespace';
const HOSTS = ['my-svc.my-namespace.svc.cluster.local', 'my-pod.my-namespace.pod.cluster.local', '192.0.2.24', '10.0.34.2'];

let api: DevapiProcess;
let signer: SignerProcess;
t.before(async () => {
  api = await startDevapi();
  signer = await startSigner(servingSignerArgs(api.kubeconfig('signer'), ca.certPath, ca.keyPath), { waitFor: 'watching' });
});
t.teardown(async () => {
  await signer.stop();
  await api.stop();
});

async function certificateOf(name: string, ms = 20_000): Promise<string> {
  let stderr = '';
  return until(() => {
    const r = kubectl(api, 'admin', ['get', 'csr', name, '-o', 'jsonpath={.status.certificate}']);
    stderr = r.stderr;
    return r.code === 0 && r.stdout !== '' ? Buffer.from(r.stdout, 'base64').toString('utf8') : undefined;
  }, { what: `a certificate on ${name}`, ms, intervalMs: 100, detail: () => stderr });
}

function httpsAccepts(cert: string, key: string, trust: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer({ cert, key }, (_req, res) => res.end('ok'));
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      const req = get({ host: '127.0.0.1', port, servername: HOSTS[0], ca: trust, path: '/' }, (res) => {
        res.resume();
        res.on('end', () => server.close(() => resolve(res.statusCode === 200)));
      });
      req.on('error', (e: NodeJS.ErrnoException) => server.close(() => (e.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || e.code === 'SELF_SIGNED_CERT_IN_CHAIN' ? resolve(false) : reject(e))));
    });
  });
}

void t.test('the tutorial: cfssl request, kubectl apply and approve, csr-signer issues, openssl and a TLS client accept it', async (t) => {
  const genkey = run('sh', ['-c', 'cfssl genkey - | cfssljson -bare server'], {
    cwd: dir, input: JSON.stringify({ hosts: HOSTS, CN: HOSTS[1], key: { algo: 'ecdsa', size: 256 } }),
  });
  t.equal(genkey.code, 0, genkey.stderr);
  const csrPem = readFileSync(join(dir, 'server.csr'), 'utf8');
  const manifest = `apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: ${NAME}
spec:
  request: ${Buffer.from(csrPem).toString('base64')}
  signerName: example.com/serving
  usages:
  - digital signature
  - key encipherment
  - server auth
`;
  const apply = kubectl(api, 'requester', ['apply', '-f', '-'], manifest);
  t.equal(apply.code, 0, apply.stderr);
  t.match(apply.stdout, /created/);

  const pending = kubectl(api, 'admin', ['get', 'csr', NAME]);
  t.match(pending.stdout, /Pending/, 'nothing happens before approval');

  const approve = kubectl(api, 'approver', ['certificate', 'approve', NAME]);
  t.equal(approve.code, 0, approve.stderr);
  const certificate = await certificateOf(NAME);
  writeTemp(dir, 'server.crt', certificate);
  t.match(kubectl(api, 'admin', ['get', 'csr', NAME]).stdout, /Approved,Issued/);

  t.equal(opensslVerify(dir, ca.certPem, certificate, undefined, { strict: true }).code, 0, 'verifies against the CA with -x509_strict');
  t.not(opensslVerify(dir, otherCa.certPem, certificate).code, 0, 'and not against another CA');
  const text = opensslText(certificate);
  for (const name of [`DNS:${HOSTS[0]}`, `DNS:${HOSTS[1]}`, 'IP Address:192.0.2.24', 'IP Address:10.0.34.2']) t.match(text, name);
  t.match(text, /X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment/);
  t.match(text, /X509v3 Extended Key Usage:\s+TLS Web Server Authentication/);
  t.match(text, /CA:FALSE/);
  t.match(text, `Subject: CN=${HOSTS[1]}`);

  const key = readFileSync(join(dir, 'server-key.pem'), 'utf8');
  t.equal(await httpsAccepts(certificate, key, ca.certPem), true, 'a TLS client trusting only the CA accepts the server');
  t.equal(await httpsAccepts(certificate, key, otherCa.certPem), false, 'a client trusting another CA refuses it');
});

void t.test('the issue is recorded: one audit record with serial and fingerprint, and a CertificateIssued event', async (t) => {
  const audit = await signer.waitForLog((l) => l.audit === 'certificate-issued' && l.csr === NAME);
  t.match(audit, { signer: 'example.com/serving', serial: /^[0-9a-f]+$/, sha256: /^[0-9a-f]{64}$/, requester: String, notAfter: String });
  t.equal(signer.logs.filter((l) => l.audit === 'certificate-issued' && l.csr === NAME).length, 1, 'exactly one');
  const events = await until(() => {
    const listed = kubectl(api, 'admin', ['get', 'events', '-n', 'default', '--field-selector', `involvedObject.name=${NAME}`]).stdout;
    return listed.includes('CertificateIssued') ? listed : undefined;
  }, { what: `a CertificateIssued event on ${NAME}`, ms: 5000, intervalMs: 100 });
  t.match(events, /CertificateIssued/);
  t.match(events, new RegExp(`serial ${String(audit.serial)}`));
});

void t.test('the signer logs no key material', (t) => {
  const all = signer.logs.map((l) => JSON.stringify(l)).join('\n') + signer.stderr();
  const keyBody = ca.keyPem.split('\n').filter((l) => l !== '' && !l.startsWith('-----')).join('');
  t.notOk(all.includes(keyBody.slice(0, 40)), 'the CA key does not appear');
  t.notOk(/PRIVATE KEY/.test(all));
  t.end();
});
