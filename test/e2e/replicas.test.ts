/**
 * Two `csr-signer run` replicas with leader election against devapi: only the
 * leader signs; kill -9 of the leader mid-burst hands over within the lease
 * duration and every CSR ends issued exactly once; SIGTERM releases the lease so
 * the standby takes over at once. Health and metrics are scraped over HTTP and
 * the scrape passes `promtool check metrics`.
 */
import t from 'tap';
import { makeOpensslCa } from '../helpers/ca.js';
import { control, kubectl, startDevapi, type DevapiProcess } from '../helpers/devapi.js';
import { certificateOf, createAndApprove, manifests, servingSpecs, waitSettled } from '../helpers/e2e.js';
import { httpGet } from '../helpers/http.js';
import { startSigner, type SignerProcess } from '../helpers/signer.js';
import { needTool, run, tempDir } from '../helpers/tools.js';
import { pause } from '../helpers/wait.js';

if (!needTool(t, 'kubectl') || !needTool(t, 'openssl') || !needTool(t, 'promtool')) process.exit(0);

const dir = tempDir('replicas-');
const ca = makeOpensslCa(dir, 'replicas', 'p256');
const LEASE_S = 3;

let api: DevapiProcess;
const replicas: SignerProcess[] = [];

async function replica(): Promise<SignerProcess> {
  const p = await startSigner([
    '--kubeconfig', api.kubeconfig('signer'),
    '--cluster-signing-cert-file', ca.certPath, '--cluster-signing-key-file', ca.keyPath, '--signer-name', 'example.com/serving', '--signer-unrestricted',
    '--leader-elect-resource-namespace', 'csr-signer', '--leader-elect-lease-duration', `${LEASE_S}s`,
    '--leader-elect-renew-deadline', '2s', '--leader-elect-retry-period', '500ms', '--http-address', '127.0.0.1:0', '--retry-base-delay', '50ms',
  ], { waitFor: 'started' });
  replicas.push(p);
  return p;
}

const addressOf = (p: SignerProcess): string => String(p.logs.find((l) => l.msg === 'started')?.http);
const isLeading = (p: SignerProcess): boolean => p.logs.some((l) => l.msg === 'watching');

t.before(async () => {
  api = await startDevapi();
});
t.teardown(async () => {
  for (const r of replicas) await r.stop('SIGKILL');
  await api.stop();
});

let a: SignerProcess;
let b: SignerProcess;

void t.test('of two replicas exactly one leads and signs; both are ready; the lease names the holder', async (t) => {
  a = await replica();
  await a.waitForLog((l) => l.msg === 'watching');
  b = await replica();
  const batch = servingSpecs(dir, 'first', 5);
  createAndApprove(api, batch);
  await waitSettled(api, batch.map((s) => s.name));
  await a.waitForLog((l) => l.audit === 'certificate-issued' && l.csr === 'first-4');
  t.ok(isLeading(a), 'the first replica leads');
  t.notOk(isLeading(b), 'the second waits');
  t.notOk(b.logs.some((l) => l.audit === 'certificate-issued'), 'only the leader signs');
  for (const p of [a, b]) {
    const ready = await httpGet(`http://${addressOf(p)}/readyz?verbose`);
    t.equal(ready.status, 200, `ready: ${ready.body}`);
    t.equal((await httpGet(`http://${addressOf(p)}/livez`)).status, 200);
  }
  const lease = kubectl(api, 'admin', ['get', 'lease', 'csr-signer', '-n', 'csr-signer', '-o', 'jsonpath={.spec.holderIdentity}']);
  t.equal(lease.stdout, String(a.logs.find((l) => l.msg === 'started')?.identity), 'kubectl shows the leader as holder');
});

void t.test('metrics after real signings pass promtool and count what happened', async (t) => {
  const scrape = await httpGet(`http://${addressOf(a)}/metrics`);
  t.equal(scrape.status, 200);
  const lint = run('promtool', ['check', 'metrics'], { input: scrape.body });
  t.equal(lint.code, 0, `promtool: ${lint.stdout}${lint.stderr}`);
  t.match(scrape.body, /csr_signer_certificates_issued_total\{signer="example.com\/serving"\} 5/);
  t.match(scrape.body, /csr_signer_leader 1/);
  t.match((await httpGet(`http://${addressOf(b)}/metrics`)).body, /csr_signer_leader 0/);
  t.notMatch(scrape.body, /first-\d/, 'no CSR names in labels');
  t.notMatch(scrape.body, /PRIVATE KEY/);
});

void t.test('kill -9 of the leader mid-burst: the standby takes over within the lease and every CSR is issued once', async (t) => {
  const batch = servingSpecs(dir, 'burst', 30);
  const created = kubectl(api, 'admin', ['create', '-f', '-'], manifests(batch));
  t.equal(created.code, 0, created.stderr);
  await control(api, 'POST', '/devapi/v1/latency', { ms: 30 });
  kubectl(api, 'approver', ['certificate', 'approve', ...batch.map((s) => s.name)]);
  const killedAt = Date.now();
  await a.stop('SIGKILL');
  await b.waitForLog((l) => l.msg === 'watching', (LEASE_S + 10) * 1000);
  const tookOverMs = Date.now() - killedAt;
  t.ok(tookOverMs < (LEASE_S + 3) * 1000, `took over in ${tookOverMs} ms (lease ${LEASE_S} s, retry 0.5 s)`);
  await control(api, 'DELETE', '/devapi/v1/faults');
  const csrs = await waitSettled(api, batch.map((s) => s.name), 60_000);
  for (const s of batch) t.ok(certificateOf(csrs.get(s.name)), `${s.name} issued`);
  const audit = await control(api, 'GET', '/devapi/v1/audit') as { certificateWrites: { csr: string; replaced: boolean }[] };
  const counts = new Map<string, number>();
  for (const w of audit.certificateWrites) counts.set(w.csr, (counts.get(w.csr) ?? 0) + 1);
  t.same([...counts].filter(([, n]) => n !== 1), [], 'no CSR issued twice');
  t.notOk(audit.certificateWrites.some((w) => w.replaced), 'no certificate replaced');
});

void t.test('SIGTERM of the leader releases the lease: a standby takes over at once, and the leader exits 0', async (t) => {
  const c = await replica();
  await pause(700, 'the new replica meets the held lease and stands by before the leader goes');
  const stoppedAt = Date.now();
  t.equal(await b.stop('SIGTERM'), 0);
  await c.waitForLog((l) => l.msg === 'watching', 10_000);
  const tookOverMs = Date.now() - stoppedAt;
  t.ok(tookOverMs < LEASE_S * 1000, `took over in ${tookOverMs} ms, before the lease (${LEASE_S} s) could have expired`);
  const batch = servingSpecs(dir, 'after', 3);
  createAndApprove(api, batch);
  await waitSettled(api, batch.map((s) => s.name));
  await c.waitForLog((l) => l.audit === 'certificate-issued' && l.csr === 'after-2');
});
