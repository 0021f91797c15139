/**
 * What `csr-signer run` does to each kind of CSR, through the real API with real
 * processes: the built-in signers' vectors (1–17, as in test/signer/builtin-signers.test.ts), durations,
 * the custom signer's rules and policy, and the CSRs it must never touch.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { makeOpensslCa } from '../helpers/ca.js';
import { kubectl, startDevapi, type DevapiProcess } from '../helpers/devapi.js';
import { until } from '../helpers/wait.js';
import {
  allCsrs, certificateOf, failedOf, lifetimeSeconds, manifests, waitSettled, type CsrSpec,
} from '../helpers/e2e.js';
import { opensslRequest, type RequestOptions } from '../helpers/requests.js';
import { startSigner, type SignerProcess } from '../helpers/signer.js';
import { needTool, opensslVerify, tempDir } from '../helpers/tools.js';

if (!needTool(t, 'kubectl') || !needTool(t, 'openssl')) process.exit(0);

const dir = tempDir('decisions-');
const ca = makeOpensslCa(dir, 'decisions', 'p256');
const config = join(dir, 'signers.yaml');
writeFileSync(config, `apiVersion: csr-signer.io/v1alpha1
kind: SignerConfiguration
signers:
  - name: kubernetes.io/kube-apiserver-client
    ca: { certFile: ${ca.certPath}, keyFile: ${ca.keyPath} }
    duration: { max: 24h }
  - name: kubernetes.io/kube-apiserver-client-kubelet
    ca: { certFile: ${ca.certPath}, keyFile: ${ca.keyPath} }
  - name: kubernetes.io/kubelet-serving
    ca: { certFile: ${ca.certPath}, keyFile: ${ca.keyPath} }
  - name: example.com/serving
    ca: { certFile: ${ca.certPath}, keyFile: ${ca.keyPath} }
    duration: { default: 1h, max: 2h, min: 20m }
    usages:
      allowed: [digital signature, key encipherment, server auth]
      required: [server auth]
    keyTypes: [ecdsa-p256]
    policy:
      dnsNames: ["*.example.com"]
      ipRanges: [10.0.0.0/8]
      commonName: dns-name
`);

const KUBE_CLIENT = ['client auth', 'digital signature', 'key encipherment'];
const SERVING = ['digital signature', 'key encipherment', 'server auth'];
const node = { cn: 'system:node:hello-world', o: ['system:nodes'] };

interface Case {
  readonly name: string;
  readonly signer: string;
  readonly usages: readonly string[];
  readonly request: RequestOptions;
  readonly expirationSeconds?: number;
  /** undefined: issued; else the Failed reason and a message pattern. */
  readonly failed?: { reason: string; message: string | RegExp };
  readonly lifetime?: number;
}

const SVF = 'SignerValidationFailure';
const cases: Case[] = [
  { name: 'v01-client-issued', signer: 'kubernetes.io/kube-apiserver-client', usages: KUBE_CLIENT, request: { cn: 'hello-world', o: ['some-org'] } },
  { name: 'v02-client-two-usages', signer: 'kubernetes.io/kube-apiserver-client', usages: ['client auth', 'digital signature'], request: { cn: 'hello-world' } },
  { name: 'v03-client-server-auth', signer: 'kubernetes.io/kube-apiserver-client', usages: ['server auth', ...KUBE_CLIENT], request: { cn: 'hello-world' },
    failed: { reason: SVF, message: 'invalid usage for client certificate: server auth' } },
  { name: 'v04-kubelet-client', signer: 'kubernetes.io/kube-apiserver-client-kubelet', usages: KUBE_CLIENT, request: node },
  { name: 'v05-kubelet-client-ec', signer: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['client auth', 'digital signature'], request: node },
  { name: 'v07-serving', signer: 'kubernetes.io/kubelet-serving', usages: SERVING, request: { cn: 'system:node:testnode', o: ['system:nodes'], sans: ['DNS:example.com'] } },
  { name: 'v08-serving-ec', signer: 'kubernetes.io/kubelet-serving', usages: ['digital signature', 'server auth'], request: { cn: 'system:node:testnode', o: ['system:nodes'], sans: ['DNS:example.com'] } },
  { name: 'v12-extra-org', signer: 'kubernetes.io/kube-apiserver-client-kubelet', usages: KUBE_CLIENT, request: { cn: node.cn, o: ['system:nodes', 'extra'] },
    failed: { reason: SVF, message: 'subject organization is not system:nodes' } },
  { name: 'v13-kubelet-client-dns', signer: 'kubernetes.io/kube-apiserver-client-kubelet', usages: KUBE_CLIENT, request: { ...node, sans: ['DNS:node.example'] },
    failed: { reason: SVF, message: 'DNS subjectAltNames are not allowed' } },
  { name: 'v13-kubelet-client-ip', signer: 'kubernetes.io/kube-apiserver-client-kubelet', usages: KUBE_CLIENT, request: { ...node, sans: ['IP:10.0.0.1'] },
    failed: { reason: SVF, message: 'IP subjectAltNames are not allowed' } },
  { name: 'v14-kubelet-client-cn', signer: 'kubernetes.io/kube-apiserver-client-kubelet', usages: KUBE_CLIENT, request: { cn: 'node1', o: ['system:nodes'] },
    failed: { reason: SVF, message: 'subject common name does not begin with system:node:' } },
  { name: 'v15-kubelet-client-usages', signer: 'kubernetes.io/kube-apiserver-client-kubelet', usages: [...KUBE_CLIENT, 'server auth'], request: node,
    failed: { reason: SVF, message: 'usages did not match [client auth digital signature key encipherment]' } },
  { name: 'v16-serving-no-san', signer: 'kubernetes.io/kubelet-serving', usages: SERVING, request: { cn: 'system:node:n', o: ['system:nodes'] },
    failed: { reason: SVF, message: 'DNS or IP subjectAltName is required' } },
  { name: 'v16-serving-ip-only', signer: 'kubernetes.io/kubelet-serving', usages: SERVING, request: { cn: 'system:node:n', o: ['system:nodes'], sans: ['IP:0.0.0.0'] } },
  { name: 'v17-serving-cn-and-usages', signer: 'kubernetes.io/kubelet-serving', usages: ['digital signature', 'client auth'], request: { cn: 'node1', o: ['system:nodes'], sans: ['DNS:a.example'] },
    failed: { reason: SVF, message: 'usages did not match [digital signature key encipherment server auth]' } },
  // Durations (kube-apiserver-client, max 24h): the in-tree arithmetic, short-lived certificates get the 5-minute backdate on top.
  { name: 'd-unset', signer: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], request: { cn: 'panda' }, lifetime: 86_400 },
  { name: 'd-48h', signer: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], request: { cn: 'panda' }, expirationSeconds: 172_800, lifetime: 86_400 },
  { name: 'd-10h', signer: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], request: { cn: 'panda' }, expirationSeconds: 36_000, lifetime: 36_000 },
  { name: 'd-2h', signer: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], request: { cn: 'panda' }, expirationSeconds: 7200, lifetime: 7500 },
  { name: 'd-10m', signer: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], request: { cn: 'panda' }, expirationSeconds: 600, lifetime: 900 },
  // The custom signer: its rules and policy.
  { name: 'c-issued', signer: 'example.com/serving', usages: SERVING, request: { cn: 'web.example.com', sans: ['DNS:web.example.com', 'IP:10.1.2.3'] }, lifetime: 3900 },
  { name: 'c-capped', signer: 'example.com/serving', usages: SERVING, request: { sans: ['DNS:web.example.com'] }, expirationSeconds: 86_400, lifetime: 7500 },
  { name: 'c-too-short', signer: 'example.com/serving', usages: SERVING, request: { sans: ['DNS:web.example.com'] }, expirationSeconds: 600,
    failed: { reason: 'DurationTooShort', message: /spec\.expirationSeconds is 600/ } },
  { name: 'c-usage-not-allowed', signer: 'example.com/serving', usages: [...SERVING, 'client auth'], request: { sans: ['DNS:web.example.com'] },
    failed: { reason: 'UsageNotAllowed', message: /"client auth"/ } },
  { name: 'c-usage-missing', signer: 'example.com/serving', usages: ['digital signature'], request: { sans: ['DNS:web.example.com'] },
    failed: { reason: 'UsageMissing', message: /"server auth"/ } },
  { name: 'c-key-type', signer: 'example.com/serving', usages: SERVING, request: { sans: ['DNS:web.example.com'], key: 'rsa2048' },
    failed: { reason: 'KeyTypeNotAllowed', message: /RSA/ } },
  { name: 'c-dns', signer: 'example.com/serving', usages: SERVING, request: { sans: ['DNS:evil.example.org'] },
    failed: { reason: 'PolicyViolation', message: /evil\.example\.org/ } },
  { name: 'c-ip', signer: 'example.com/serving', usages: SERVING, request: { sans: ['DNS:web.example.com', 'IP:192.168.1.1'] },
    failed: { reason: 'PolicyViolation', message: /192\.168\.1\.1/ } },
  { name: 'c-email', signer: 'example.com/serving', usages: SERVING, request: { sans: ['DNS:web.example.com', 'email:a@example.com'] },
    failed: { reason: 'PolicyViolation', message: /a@example\.com/ } },
  { name: 'c-cn', signer: 'example.com/serving', usages: SERVING, request: { cn: 'other.example.com', sans: ['DNS:web.example.com'] },
    failed: { reason: 'PolicyViolation', message: /other\.example\.com/ } },
  { name: 'c-ca', signer: 'example.com/serving', usages: SERVING, request: { sans: ['DNS:web.example.com'], extensions: ['basicConstraints=critical,CA:TRUE'] },
    failed: { reason: 'PolicyViolation', message: /CA/ } },
];

let api: DevapiProcess;
let signer: SignerProcess;
t.before(async () => {
  api = await startDevapi({ args: ['--verbose'] });
  signer = await startSigner(['--kubeconfig', api.kubeconfig('signer'), '--config', config, '--leader-elect=false', '--log-level', 'debug'], { waitFor: 'watching' });
});
t.teardown(async () => {
  await signer.stop();
  await api.stop();
});

void t.test('every vector ends issued or Failed with its reason and message, and never both', async (t) => {
  const specs: CsrSpec[] = cases.map((c) => ({
    name: c.name, signerName: c.signer, usages: c.usages, request: opensslRequest(dir, c.name, c.request),
    ...(c.expirationSeconds === undefined ? {} : { expirationSeconds: c.expirationSeconds }),
  }));
  const created = kubectl(api, 'admin', ['create', '-f', '-'], manifests(specs));
  t.equal(created.code, 0, created.stderr);
  const approve = kubectl(api, 'approver', ['certificate', 'approve', ...cases.map((c) => c.name)]);
  t.equal(approve.code, 0, approve.stderr);
  const csrs = await waitSettled(api, cases.map((c) => c.name));
  for (const c of cases) {
    const csr = csrs.get(c.name);
    const certificate = certificateOf(csr);
    const failed = failedOf(csr);
    if (c.failed) {
      t.notOk(certificate, `${c.name}: no certificate`);
      t.match(failed, { reason: c.failed.reason, message: c.failed.message, status: 'True', lastUpdateTime: String }, `${c.name}: Failed ${c.failed.reason}`);
    } else {
      t.notOk(failed, `${c.name}: not Failed (${failed?.message ?? ''})`);
      t.equal(opensslVerify(dir, ca.certPem, certificate ?? '').code, 0, `${c.name}: issued and verifies`);
      if (c.lifetime !== undefined) t.equal(lifetimeSeconds(certificate ?? ''), c.lifetime, `${c.name}: lifetime ${c.lifetime} s`);
    }
  }
});

void t.test('never touched: unapproved, denied, another signer, already Failed, already issued', async (t) => {
  const request = (n: string): string => opensslRequest(dir, n, { sans: ['DNS:web.example.com'] });
  const names = ['n-unapproved', 'n-denied', 'n-other-signer', 'n-failed', 'n-issued', 'n-sentinel'];
  const specs: CsrSpec[] = names.map((name) => ({ name, signerName: name === 'n-other-signer' ? 'example.com/other' : 'example.com/serving', usages: SERVING, request: request(name) }));
  t.equal(kubectl(api, 'admin', ['create', '-f', '-'], manifests(specs)).code, 0);
  // Admin writes a Failed condition on one and a certificate on another before approval.
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  for (const [name, status] of [
    ['n-failed', { conditions: [{ type: 'Failed', status: 'True', reason: 'ByHand', message: 'failed by an operator', lastUpdateTime: now }] }],
    ['n-issued', { certificate: Buffer.from(ca.certPem).toString('base64') }],
  ] as const) {
    const current = allCsrs(api).get(name);
    const put = kubectl(api, 'admin', ['replace', '--raw', `/apis/certificates.k8s.io/v1/certificatesigningrequests/${name}/status`, '-f', '-'],
      JSON.stringify({ ...current, status }));
    t.equal(put.code, 0, put.stderr);
  }
  t.equal(kubectl(api, 'approver', ['certificate', 'deny', 'n-denied']).code, 0);
  t.equal(kubectl(api, 'approver', ['certificate', 'approve', 'n-other-signer', 'n-failed', 'n-issued', 'n-sentinel']).code, 0);
  await waitSettled(api, ['n-sentinel']);
  for (const [csr, reason] of [['n-unapproved', 'NotApproved'], ['n-denied', 'Denied'], ['n-failed', 'AlreadyFailed'], ['n-issued', 'AlreadyIssued']]) {
    await signer.waitForLog((l) => l.msg === 'skipped' && l.csr === csr && l.reason === reason);
  }
  const csrs = allCsrs(api);
  t.notOk(csrs.get('n-unapproved')?.status?.certificate, 'unapproved: no certificate');
  t.notOk(failedOf(csrs.get('n-unapproved')), 'unapproved: no Failed');
  t.notOk(csrs.get('n-denied')?.status?.certificate);
  t.notOk(failedOf(csrs.get('n-denied')), 'denied: no Failed');
  t.notOk(csrs.get('n-other-signer')?.status?.certificate, 'another signer: untouched');
  t.equal(csrs.get('n-failed')?.status?.conditions?.filter((c) => c.type === 'Failed').length, 1, 'already Failed: nothing added');
  t.notOk(csrs.get('n-failed')?.status?.certificate);
  t.equal(certificateOf(csrs.get('n-issued')), ca.certPem, 'already issued: the certificate is untouched');
  t.notOk(signer.logs.some((l) => l.csr === 'n-other-signer'), 'the signer never even saw another signer\'s CSR');
});

void t.test('the signer sends kube-apiserver nothing it would warn about (no unknown or repeated fields)', async (t) => {
  // devapi's --verbose request log names each request, with the Warning headers it answered.
  await until(() => /\nPOST \/api\/v1\/namespaces\/default\/events 201 /.test(api.stderr()), { what: 'the request log', ms: 10_000, intervalMs: 100 });
  const lines = api.stderr().split('\n');
  t.ok(lines.some((l) => /^PUT \/apis\/certificates\.k8s\.io\/v1\/certificatesigningrequests\/\S+\/status\S* 200 /.test(l)), 'status writes were logged');
  t.same(lines.filter((l) => l.includes(' warning: ')), []);
});
