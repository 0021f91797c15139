/**
 * `csr-signer run` with the drop-in flags and its Lease in a namespace where its
 * identity has no Role (kube-system: devapi grants the signer's Lease only in
 * csr-signer), as a replica set up that way on a real cluster would be: it signs
 * nothing, /readyz is not ready and names the missing permission, /livez stays
 * ok, and the refusal is logged once however often it retries. devapi reads its
 * RBAC at start only, so the grant is a restart with a Role and RoleBinding in
 * kube-system (`--policy`); the signer then leads, signs, is ready, and logs the
 * recovery once.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { signerLeaseRules, signerRotationRecordRules } from '../../devapi/auth/signer-role.js';
import { makeOpensslCa } from '../helpers/ca.js';
import { startDevapi, type DevapiProcess } from '../helpers/devapi.js';
import { allCsrs, certificateOf, createAndApprove, servingSpecs, waitSettled } from '../helpers/e2e.js';
import { httpGet } from '../helpers/http.js';
import { startSigner, type SignerProcess } from '../helpers/signer.js';
import { needTool, tempDir } from '../helpers/tools.js';
import { pause, until } from '../helpers/wait.js';

if (!needTool(t, 'kubectl') || !needTool(t, 'openssl')) process.exit(0);

const dir = tempDir('lease-forbidden-');
const ca = makeOpensslCa(dir, 'lease-forbidden', 'p256');
const NAMESPACE = 'kube-system';
const USER = 'system:serviceaccount:csr-signer:csr-signer';
const RETRY_MS = 200;
const refused = `cannot acquire lease: forbidden: user "${USER}" may not get leases (API group coordination.k8s.io) in namespace "${NAMESPACE}"`;
const refusedLine = 'cannot use the leader lease; retrying';
const recoveredLine = 'the lease is usable again';

/** The signer's Lease and rotation record Roles, bound to it in kube-system. */
const grant = join(dir, 'grant.yaml');
writeFileSync(grant, [
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'csr-signer-lease', namespace: NAMESPACE },
    rules: [...signerLeaseRules('csr-signer'), ...signerRotationRecordRules('csr-signer-rotation')] },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'csr-signer-lease', namespace: NAMESPACE },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'csr-signer-lease' },
    subjects: [{ kind: 'ServiceAccount', name: 'csr-signer', namespace: 'csr-signer' }] },
].map((o) => stringify(o)).join('---\n'));

let api: DevapiProcess;
let signer: SignerProcess;
const batch = servingSpecs(dir, 'waiting', 2);

t.before(async () => {
  api = await startDevapi();
  signer = await startSigner([
    '--kubeconfig', api.kubeconfig('signer'),
    '--cluster-signing-cert-file', ca.certPath, '--cluster-signing-key-file', ca.keyPath, '--signer-name', 'example.com/serving', '--signer-unrestricted',
    // Named rather than left to default: a test machine that is itself a pod would otherwise put it in its own namespace.
    '--leader-elect-resource-namespace', NAMESPACE,
    '--leader-elect-lease-duration', '3s', '--leader-elect-renew-deadline', '2s', '--leader-elect-retry-period', `${RETRY_MS}ms`,
  ], { waitFor: 'started' });
});
t.teardown(async () => {
  await signer.stop('SIGKILL');
  await api.stop();
});

const address = (): string => String(signer.logs.find((l) => l.msg === 'started')?.http);
const count = (msg: string): number => signer.logs.filter((l) => l.msg === msg).length;

void t.test('refused its Lease: nothing signed, not ready with the permission named, alive, and one log line for many retries', async (t) => {
  const started = signer.logs.find((l) => l.msg === 'started');
  t.match(started, { lease: `${NAMESPACE}/csr-signer`, leaseNamespaceSource: 'flag' }, 'the start-up line says where the Lease is');
  const line = await signer.waitForLog((l) => l.msg === refusedLine);
  t.match(line, { level: 'error', err: { code: 'CSR_SIGNER_ERR_LEASE_FORBIDDEN', message: refused } });
  createAndApprove(api, batch);
  await pause(20 * RETRY_MS, 'twenty retry periods of a replica that keeps being refused');

  const ready = await httpGet(`http://${address()}/readyz?verbose`);
  t.equal(ready.status, 500, 'not ready');
  t.ok(ready.body.split('\n').some((l) => l.startsWith(`[-]leader-lease failed: ${refused}`)), `the reason names verb, resource, group, namespace and user:\n${ready.body}`);
  t.equal((await httpGet(`http://${address()}/livez`)).status, 200, 'alive: restarting would not help');

  const csrs = allCsrs(api);
  t.same(batch.filter((s) => certificateOf(csrs.get(s.name)) !== undefined).map((s) => s.name), [], 'nothing signed');
  t.notOk(signer.logs.some((l) => l.msg === 'watching'), 'never led');
  t.equal(count(refusedLine), 1, 'one log line, not one per retry');
  t.equal(signer.logs.filter((l) => l.msg === 'lease request failed').length, 0, 'no warning per attempt');
});

void t.test('granted the Lease (devapi restarted with the Role): it leads, signs what waited, is ready, and logs the recovery once', async (t) => {
  const port = Number(new URL(api.url).port);
  await api.stop();
  api = await startDevapi({ stateDir: api.stateDir, port, args: ['--policy', grant] });
  await signer.waitForLog((l) => l.msg === recoveredLine, 30_000);
  await signer.waitForLog((l) => l.msg === 'watching', 30_000);
  const csrs = await waitSettled(api, batch.map((s) => s.name));
  for (const s of batch) t.ok(certificateOf(csrs.get(s.name)), `${s.name} issued`);
  const ready = await until(async () => {
    const r = await httpGet(`http://${address()}/readyz?verbose`);
    return r.status === 200 ? r : undefined;
  }, { what: 'ready', ms: 20_000, intervalMs: 100 });
  t.match(ready.body, /^\[\+\]leader-lease ok$/m);
  await pause(10 * RETRY_MS, 'ten more retry periods of renewals');
  t.equal(count(recoveredLine), 1, 'the recovery logged once');
  t.equal(count(refusedLine), 1, 'and the refusal not again');
});
