/**
 * Which controllers `csr-signer run` starts, in process against devapi over HTTPS:
 * the approver and the cleaner only when configured, no signer (and no CA read at
 * all) with `signing: false`, readiness over the watches that run, and a start-up
 * line that says what runs. The approver approves for real here: devapi checks
 * `approve` on the signer name at /approval, as kube-apiserver's admission does.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { DevApi } from '../devapi/server/server.js';
import { loadRunConfig, type RunConfig } from '../src/config/index.js';
import { readBoundedText } from '../src/files.js';
import { readinessChecks } from '../src/http/health.js';
import { loadKubeConfig } from '../src/kube/config.js';
import { kubeHttp } from '../src/kube/http.js';
import { approverClusterRules } from '../src/kube/rbac.js';
import { SignerRuntime } from '../src/runtime.js';
import type { Csr } from '../src/signer/types.js';
import { makeOpensslCa } from './helpers/ca.js';
import { csrBuilder, signerConfig, withName, withRequest } from './helpers/csr.js';
import { tempDir } from './helpers/tools.js';
import { until } from './helpers/wait.js';

const SERVING = 'example.com/serving';
const HOUR = 3_600_000;
const devapi = new DevApi({ stateDir: mkdtempSync(join(tmpdir(), 'devapi-runtime-')), readText: readBoundedText });
await devapi.start();
const kube = kubeHttp((await loadKubeConfig(devapi.kubeconfigPath('admin'), {})).endpoint);
t.teardown(async () => {
  kube.close();
  await devapi.stop();
});

const ca = makeOpensslCa(tempDir(), 'runtime', 'p256');
const base = loadRunConfig([
  '--kubeconfig', devapi.kubeconfigPath('admin'), '--leader-elect=false', '--http-address', '127.0.0.1:0', '--leader-elect-resource-namespace', 'csr-signer',
  '--cluster-signing-cert-file', ca.certPath, '--cluster-signing-key-file', ca.keyPath,
], {}, readBoundedText);
/** A custom signer whose policy allows web.example.com, with the test CA or (signing off) files that do not exist. */
const serving = (caFiles = { certFile: ca.certPath, keyFile: ca.keyPath }) =>
  signerConfig(SERVING, { ca: caFiles, policy: { allowEmailAddresses: false, allowUris: false, commonName: 'any', allowCA: false, dnsNames: ['web.example.com'] } });
/** Denied CSRs are deleted at once, so the test sees the cleaner work without waiting an hour. */
const cleanup = { issuedMs: HOUR, deniedMs: 0, failedMs: HOUR, pendingMs: 24 * HOUR, approvedUnissuedMs: 24 * HOUR };

async function running(config: RunConfig, lines: Record<string, unknown>[] = []): Promise<SignerRuntime> {
  const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } });
  const runtime = new SignerRuntime(config, logger);
  await runtime.start();
  return runtime;
}

const create = (csr: Csr) => kube.request('POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', {
  body: { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: csr.metadata.name }, spec: csr.spec },
});

void t.test('by default only the signer runs: no approver, no cleaner', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const runtime = await running({ ...base, signers: [serving()] }, lines);
  t.teardown(() => runtime.stop(1000));
  await until(() => runtime.controller?.synced === true);
  t.match(lines.find((l) => l.msg === 'started'), { signing: true, signers: [SERVING], approver: 'off', cleanup: 'off' }, 'the start-up line says what is off too');
  t.equal(runtime.approver, undefined);
  t.equal(runtime.cleaner, undefined);
  t.same(runtime.snapshot().watches, []);
  t.ok(runtime.cas.state(SERVING).ca, 'the CA is loaded');
});

void t.test('signing false, approver and cleaner on: no CA read, no signer; the approver approves through devapi, nothing is issued', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const missing = { certFile: '/nonexistent/ca.pem', keyFile: '/nonexistent/ca-key.pem' };
  const runtime = await running({
    ...base, signers: [serving(missing), signerConfig('kubernetes.io/kube-apiserver-client', { ca: missing })], signing: false, cleanup,
    approver: { mode: 'enforce', signers: [{ signerName: SERVING, profile: 'policy' }] },
  }, lines);
  t.teardown(() => runtime.stop(1000));
  t.equal(runtime.controller, undefined, 'no signing controller');
  t.equal(runtime.publisher, undefined);
  t.ok(runtime.approver && runtime.cleaner, 'approver and cleaner started');
  t.same(runtime.cas.state(SERVING), {}, 'no CA loaded (its files do not even exist)');
  const started = lines.find((l) => l.msg === 'started');
  t.notOk(started && 'signers' in started, 'with signing off no signer is listed as signing');
  t.match(started, {
    signing: false,
    approver: {
      mode: 'enforce', signers: [`${SERVING} (policy)`],
      notApproved: [{ signer: 'kubernetes.io/kube-apiserver-client', reason: /kube-controller-manager never auto-approves it either/ }],
    },
    cleanup: { issued: '3600s', denied: '0s', failed: '3600s', pending: '86400s', approvedUnissued: '86400s' },
  });
  await until(() => runtime.approver?.synced === true && runtime.cleaner?.synced === true);
  const snapshot = runtime.snapshot();
  t.same(snapshot.signers, [], 'no signer to report, no CA to wait for');
  t.same(snapshot.watches?.map((w) => [w.name, w.watchSynced]), [[`approver:${SERVING}`, true], ['cleaner', true]]);
  t.same(readinessChecks(snapshot).filter((c) => c.failure !== undefined), [], 'ready');
  t.same(readinessChecks(snapshot).map((c) => c.name), ['shutdown', `watch-synced:approver:${SERVING}`, `watch-active:approver:${SERVING}`, 'watch-synced:cleaner', 'watch-active:cleaner']);

  await create(csrBuilder(withName('web')));
  const approved = await until(async () => {
    const csr = await kube.request<Csr>('GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests/web');
    return (csr.status?.conditions ?? []).length > 0 ? csr : undefined;
  });
  t.match(approved.status?.conditions, [{ type: 'Approved', status: 'True', reason: 'AutoApproved' }]);
  t.notOk(approved.status?.certificate, 'nothing signs');
  t.match(await runtime.registry.getSingleMetricAsString('csr_signer_approvals_total'), /csr_signer_approvals_total\{signer="example.com\/serving",decision="approved",rule="policy"\} 1/);

  // Denied by the approver, then deleted by the cleaner (denied age 0), and counted.
  await create(csrBuilder(withName('evil'), withRequest({ dns: ['evil.example.org'] })));
  await until(async () => /reason="Denied"\} 1/.test(await runtime.registry.getSingleMetricAsString('csr_signer_cleanup_deleted_total')), 10_000);
  const gone = await kube.request('GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests/evil').then(() => 'still there', (e: unknown) => String(e));
  t.match(gone, /not found/);
  t.ok(lines.some((l) => l.msg === 'deleted CSR' && l.csr === 'evil' && l.reason === 'Denied'));

  // Losing the lease names what stopped: here the approver and the cleaner, no signer.
  await (runtime as unknown as { follow(): Promise<void> }).follow();
  t.match(lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('lost the lease')), { level: 40, msg: 'lost the lease; stopped the approver, cleaner', stopped: ['approver', 'cleaner'] });
});

void t.test('approve and sign in one process with the signer identity and exactly the approver\'s RBAC rules added (src/kube/rbac.ts)', async (t) => {
  // The signer's ServiceAccount gets the approver's rules and nothing else: devapi refuses any call they do not cover.
  const subjects = [{ kind: 'ServiceAccount', namespace: 'csr-signer', name: 'csr-signer' }];
  const roleRef = { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'csr-signer-approver' };
  const policyYaml = [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'csr-signer-approver' }, rules: approverClusterRules({ signerNames: [SERVING], nodes: false }) },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'csr-signer-approver' }, roleRef, subjects },
  ].map((o) => JSON.stringify(o)).join('\n---\n');
  const rbacApi = new DevApi({ stateDir: mkdtempSync(join(tmpdir(), 'devapi-runtime-rbac-')), readText: readBoundedText, policyYaml });
  await rbacApi.start();
  const admin = kubeHttp((await loadKubeConfig(rbacApi.kubeconfigPath('admin'), {})).endpoint);
  const lines: Record<string, unknown>[] = [];
  const runtime = await running({
    ...base, kubeconfig: rbacApi.kubeconfigPath('signer'), signers: [serving()],
    approver: { mode: 'enforce', signers: [{ signerName: SERVING, profile: 'policy', subjectAccessReview: { verb: 'use', group: 'certificates.k8s.io', resource: 'signers', name: SERVING } }] },
  }, lines);
  t.teardown(async () => {
    await runtime.stop(1000);
    admin.close();
    await rbacApi.stop();
  });
  const { metadata, spec } = csrBuilder(withName('web'));
  await admin.request('POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', {
    body: { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: metadata.name }, spec },
  });
  const issued = await until(async () => {
    const csr = await admin.request<Csr>('GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests/web');
    return csr.status?.certificate ? csr : undefined;
  }, 15_000);
  t.match(issued.status?.conditions, [{ type: 'Approved', reason: 'AutoApproved', message: /and the requester may use signers example\.com\/serving/ }]);
  t.same(lines.filter((l) => l.level !== undefined && Number(l.level) >= 40), [], 'no warning: no call was refused');
  t.ok(lines.some((l) => l.audit === 'csr-approved') && lines.some((l) => l.audit === 'certificate-issued'), 'an audit record for each');
});

void t.test('with leader election, the approver and the cleaner run on the leader beside the signer, and all stop together', async (t) => {
  const runtime = await running({
    ...base, leaderElection: { ...base.leaderElection, enabled: true, resourceName: 'runtime-controllers' }, signers: [serving()], cleanup,
    approver: { mode: 'audit', signers: [{ signerName: SERVING, profile: 'policy' }] },
  });
  await until(() => runtime.controller !== undefined && runtime.approver !== undefined && runtime.cleaner !== undefined, 15_000);
  t.equal(runtime.snapshot().leader.leading, true);
  await runtime.stop(1000);
  t.equal(runtime.controller, undefined);
  t.equal(runtime.approver, undefined);
  t.equal(runtime.cleaner, undefined);
});
