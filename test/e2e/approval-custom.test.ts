/**
 * A workload's certificate without a human, end to end with real processes: a
 * ServiceAccount of namespace `shop` asks example.com/serving
 * for web.shop.svc, and `csr-signer run` with the approver on approves it (the signer's
 * policy `*.{namespace}.svc` and a SubjectAccessReview for `use` on the signer) and
 * issues it; a server using it is accepted by a TLS client that trusts the CA. The same
 * ServiceAccount asking for web.bank.svc is Denied with a reason and one sentence, and
 * another ServiceAccount of shop that RBAC does not let use the signer is Denied too. In
 * audit mode the approver writes nothing (no condition, no certificate, no Event, no
 * audit record of a decision) and logs and counts what it would have done.
 *
 * The ServiceAccount is a client-certificate identity: a certificate whose CN is the
 * ServiceAccount's name (system:serviceaccount:shop:web) and whose O values are its groups,
 * which devapi authenticates as kube-apiserver does a client certificate. So the CSR's
 * spec.extra, and the SubjectAccessReview the approver makes from it, carry the x509
 * credential-id extra (authentication.kubernetes.io/credential-id "X509SHA256=…"), not the
 * uid and the pod-name, pod-uid and node extras a ServiceAccount token would give.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, get } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { makeOpensslCa } from '../helpers/ca.js';
import { kubectl, startDevapi, writeKubeconfig, type DevapiProcess } from '../helpers/devapi.js';
import { manifests } from '../helpers/e2e.js';
import { httpGet } from '../helpers/http.js';
import { makeClientCertificate } from '../helpers/client-certificates.js';
import { sampleOf } from '../helpers/kubelet.js';
import { opensslRequest } from '../helpers/requests.js';
import { startSigner, type SignerProcess } from '../helpers/signer.js';
import { needTool, opensslText, opensslVerify, run, tempDir } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

if (!needTool(t, 'kubectl') || !needTool(t, 'openssl')) process.exit(0);

const SIGNER = 'example.com/serving';
const SA = 'system:serviceaccount:shop:web';
const dir = tempDir('approval-custom-');
const ca = makeOpensslCa(dir, 'serving', 'p256');
const otherCa = makeOpensslCa(dir, 'other', 'p256');
const identities = makeOpensslCa(dir, 'client-identities', 'p256');

// The ServiceAccounts of `shop` may send CSRs; web may `use` the signer (what the approver asks RBAC).
const policy = join(dir, 'policy.yaml');
writeFileSync(policy, `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: csr-requester }
rules:
  - apiGroups: [certificates.k8s.io]
    resources: [certificatesigningrequests]
    verbs: [create, get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: shop-csr-requester }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: csr-requester }
subjects:
  - { apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:serviceaccounts:shop" }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: example-serving-user }
rules:
  - apiGroups: [certificates.k8s.io]
    resources: [signers]
    resourceNames: [${SIGNER}]
    verbs: [use]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: shop-web-uses-example-serving }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: example-serving-user }
subjects:
  - { kind: ServiceAccount, name: web, namespace: shop }
`);

function signerConfig(mode: 'enforce' | 'audit'): string {
  const file = join(dir, `signer-${mode}.yaml`);
  writeFileSync(file, `apiVersion: csr-signer.io/v1alpha1
kind: SignerConfiguration
signers:
  - name: ${SIGNER}
    ca: { certFile: ${ca.certPath}, keyFile: ${ca.keyPath} }
    duration: { max: 24h }
    usages:
      allowed: [digital signature, key encipherment, server auth]
      required: [server auth]
    policy:
      dnsNames: ["*.{namespace}.svc"]
      ipRanges: []
      commonName: dns-name
approver:
  mode: ${mode}
  signers:
    - signerName: ${SIGNER}
      subjectAccessReview: { verb: use, group: certificates.k8s.io, resource: signers, name: ${SIGNER} }
`);
  return file;
}

interface Setup { api: DevapiProcess; signer: SignerProcess; sa: string }
/** devapi and the signer, stopped when `t` ends (also when the signer does not start). */
async function setup(t: Test, mode: 'enforce' | 'audit'): Promise<Setup> {
  const api = await startDevapi({ clientCaFile: identities.certPath, signerApproves: true, args: ['--policy', policy] });
  const running: { signer?: SignerProcess } = {};
  t.teardown(async () => { await running.signer?.stop(); await api.stop(); });
  const signer = running.signer = await startSigner([
    '--kubeconfig', api.kubeconfig('signer'), '--config', signerConfig(mode), '--leader-elect=false', '--leader-elect-resource-namespace', 'csr-signer',
  ], { waitFor: 'watching' });
  const certificate = makeClientCertificate(dir, `shop-web-${mode}`, identities, `/O=system:serviceaccounts/O=system:serviceaccounts:shop/CN=${SA}`);
  const sa = writeKubeconfig(api, join(dir, `shop-web-${mode}.kubeconfig`), SA, { clientCertificatePem: certificate.certPem, clientKeyPem: certificate.keyPem });
  return { api, signer, sa };
}

const metricsOf = async (signer: SignerProcess): Promise<string> => (await httpGet(`http://${String(signer.logs.find((l) => l.msg === 'started')?.http)}/metrics`)).body;

/** The real kubectl as the ServiceAccount. */
function asServiceAccount(s: Setup, args: string[], input?: string): ReturnType<typeof run> {
  const env = { ...process.env, HOME: dir, KUBECACHEDIR: join(dir, 'cache'), KUBECONFIG: s.sa };
  return run('kubectl', args, input === undefined ? { env } : { env, input });
}

function requestFor(s: Setup, name: string, host: string): void {
  const request = opensslRequest(dir, name, { cn: host, sans: [`DNS:${host}`] });
  const created = asServiceAccount(s, ['create', '-f', '-'], manifests([{ name, signerName: SIGNER, usages: ['digital signature', 'server auth'], request }]));
  if (created.code !== 0) throw new Error(`kubectl create ${name} as ${SA}: ${created.stderr}`);
}

interface Seen { certificate?: string; conditions: { type: string; status: string; reason?: string; message?: string }[]; username?: string }
function seen(s: Setup, name: string): Seen {
  const r = kubectl(s.api, 'admin', ['get', 'csr', name, '-o', 'json']);
  if (r.code !== 0) throw new Error(r.stderr);
  const csr = JSON.parse(r.stdout) as { spec: { username?: string }; status?: { certificate?: string; conditions?: Seen['conditions'] } };
  return {
    conditions: csr.status?.conditions ?? [],
    ...(csr.spec.username === undefined ? {} : { username: csr.spec.username }),
    ...(csr.status?.certificate ? { certificate: Buffer.from(csr.status.certificate, 'base64').toString('utf8') } : {}),
  };
}

function httpsAccepts(cert: string, key: string, trust: string, servername: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer({ cert, key }, (_req, res) => res.end('ok'));
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      const req = get({ host: '127.0.0.1', port, servername, ca: trust, path: '/' }, (res) => {
        res.resume();
        res.on('end', () => server.close(() => resolve(res.statusCode === 200)));
      });
      req.on('error', (e: NodeJS.ErrnoException) => server.close(() => (e.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || e.code === 'SELF_SIGNED_CERT_IN_CHAIN' ? resolve(false) : reject(e))));
    });
  });
}

void t.test('enforce: web.shop.svc is approved and issued, web.bank.svc is Denied, without a human', async (t) => {
  const s = await setup(t, 'enforce');

  requestFor(s, 'web-shop', 'web.shop.svc');
  const issued = await until(() => seen(s, 'web-shop').certificate === undefined ? undefined : seen(s, 'web-shop'),
    { what: 'a certificate on web-shop', ms: 30_000, intervalMs: 100, detail: () => JSON.stringify(seen(s, 'web-shop').conditions) });
  t.equal(issued.username, SA, 'sent by the ServiceAccount');
  const spec = (JSON.parse(kubectl(s.api, 'admin', ['get', 'csr', 'web-shop', '-o', 'json']).stdout) as { spec: { extra?: Record<string, string[]> } }).spec;
  t.match(spec.extra, { 'authentication.kubernetes.io/credential-id': [/^X509SHA256=[0-9a-f]{64}$/] }, 'a client certificate\'s credential-id extra');
  t.notOk(Object.keys(spec.extra ?? {}).some((k) => k.startsWith('authentication.kubernetes.io/pod-') || k === 'authentication.kubernetes.io/node-name'), 'no ServiceAccount token extras');
  t.match(issued.conditions.filter((c) => c.type === 'Approved'), [{ status: 'True', reason: 'AutoApproved' }], 'approved once by the approver');
  t.notOk(issued.conditions.some((c) => c.type === 'Denied' || c.type === 'Failed'));
  const certificate = issued.certificate ?? '';
  t.equal(opensslVerify(dir, ca.certPem, certificate, undefined, { strict: true }).code, 0, 'verifies against the CA with -x509_strict');
  const text = opensslText(certificate);
  t.match(text, 'DNS:web.shop.svc');
  t.match(text, 'Subject: CN=web.shop.svc');
  const key = readFileSync(join(dir, 'web-shop.key'), 'utf8');
  t.equal(await httpsAccepts(certificate, key, ca.certPem, 'web.shop.svc'), true, 'a TLS client trusting only the CA accepts the server');
  t.equal(await httpsAccepts(certificate, key, otherCa.certPem, 'web.shop.svc'), false, 'a client trusting another CA refuses it');

  requestFor(s, 'web-bank', 'web.bank.svc');
  const denied = await until(() => seen(s, 'web-bank').conditions.find((c) => c.type === 'Denied'),
    { what: 'a Denied condition on web-bank', ms: 30_000, intervalMs: 100 });
  t.match(denied, { status: 'True', reason: 'CsrSignerPolicyDenied' });
  t.match(denied.message, /^subjectAltName DNS "web\.bank\.svc" is not allowed by signer example\.com\/serving \(allowed: \*\.\{namespace\}\.svc\)$/, 'the signer policy\'s one sentence, naming the name');
  t.notOk(seen(s, 'web-bank').certificate, 'never signed');
  t.notOk(seen(s, 'web-bank').conditions.some((c) => c.type === 'Approved'));

  // Another ServiceAccount of shop, which RBAC does not let `use` the signer: its own namespace's name, denied by the SubjectAccessReview.
  const other = makeClientCertificate(dir, 'shop-other', identities, '/O=system:serviceaccounts/O=system:serviceaccounts:shop/CN=system:serviceaccount:shop:other');
  const otherKubeconfig = writeKubeconfig(s.api, join(dir, 'shop-other.kubeconfig'), 'other', { clientCertificatePem: other.certPem, clientKeyPem: other.keyPem });
  const created = kubectl(s.api, { kubeconfig: otherKubeconfig }, ['create', '-f', '-'], manifests([{
    name: 'other-shop', signerName: SIGNER, usages: ['digital signature', 'server auth'], request: opensslRequest(dir, 'other-shop', { cn: 'other.shop.svc', sans: ['DNS:other.shop.svc'] }),
  }]));
  t.equal(created.code, 0, created.stderr);
  const refused = await until(() => seen(s, 'other-shop').conditions.find((c) => c.type === 'Denied'),
    { what: 'a Denied condition on other-shop', ms: 30_000, intervalMs: 100 });
  t.match(refused, { reason: 'CsrSignerPolicyDenied', message: /system:serviceaccount:shop:other.*may not use signers example\.com\/serving/ }, 'RBAC decides who may use the signer');
  t.notOk(seen(s, 'other-shop').certificate);

  const scrape = await metricsOf(s.signer);
  t.equal(sampleOf(scrape, 'csr_signer_approvals_total', { signer: SIGNER, decision: 'approved', rule: 'policy' }), 1);
  t.equal(sampleOf(scrape, 'csr_signer_approvals_total', { signer: SIGNER, decision: 'denied', rule: 'policy' }), 1);
  t.equal(sampleOf(scrape, 'csr_signer_approvals_total', { signer: SIGNER, decision: 'denied', rule: 'subject-access-review' }), 1);
  // The same query the audit test expects to find nothing with.
  const events = kubectl(s.api, 'admin', ['get', 'events', '-A', '--field-selector', 'involvedObject.name=web-bank', '-o', 'json']);
  t.match(events.stdout, /web\.bank\.svc/, 'the denial is an Event with its sentence');
  t.notMatch(events.stdout, /web-shop/, 'and only the Events of web-bank');
});

void t.test('audit: the approver writes nothing and counts what it would have done', async (t) => {
  const s = await setup(t, 'audit');
  requestFor(s, 'audit-shop', 'web.shop.svc');
  requestFor(s, 'audit-bank', 'web.bank.svc');
  await until(async () => {
    const scrape = await metricsOf(s.signer);
    return sampleOf(scrape, 'csr_signer_approvals_total', { signer: SIGNER, decision: 'approved' }) >= 1
      && sampleOf(scrape, 'csr_signer_approvals_total', { signer: SIGNER, decision: 'denied' }) >= 1;
  }, { what: 'both audit decisions counted', ms: 30_000, intervalMs: 200 });
  const audited = s.signer.logs.filter((l) => l.audit === true);
  t.ok(audited.some((l) => l.csr === 'audit-shop'), 'the would-be approval is logged with audit: true');
  t.ok(audited.some((l) => l.csr === 'audit-bank'), 'the would-be denial is logged with audit: true');
  for (const name of ['audit-shop', 'audit-bank']) {
    const csr = seen(s, name);
    t.same(csr.conditions, [], `${name}: no condition written`);
    t.notOk(csr.certificate, `${name}: nothing issued`);
  }
  t.match(kubectl(s.api, 'admin', ['get', 'csr', 'audit-shop']).stdout, /Pending/);
  for (const name of ['audit-shop', 'audit-bank']) {
    const events = kubectl(s.api, 'admin', ['get', 'events', '-A', '--field-selector', `involvedObject.name=${name}`, '-o', 'json']);
    t.equal(events.code, 0, events.stderr);
    t.same((JSON.parse(events.stdout) as { items: unknown[] }).items, [], `${name}: no Event`);
  }
  const decided = s.signer.logs.filter((l) => l.audit === 'csr-approved' || l.audit === 'csr-denied');
  t.same(decided, [], 'no audit record of an approval or a denial: only audit: true');
  t.ok(s.signer.logs.some((l) => l.audit === true && l.msg === 'would approve (audit mode)'), 'the would-be approval\'s own message');
  t.ok(s.signer.logs.some((l) => l.audit === true && l.msg === 'would deny (audit mode)'), 'the would-be denial\'s own message');
});
