/**
 * Transient API trouble ends in one certificate per CSR, never two: devapi fails
 * status writes with 500, 429 (Retry-After), 409 and 503, stores some whose
 * answer it then loses (504, 500, a dropped connection), drops every watch, and
 * compacts its history so resumed watches get 410. devapi's audit log of
 * certificate writes is the witness; the signer's audit records and Events
 * count each certificate once, even when the signer never heard its write succeed.
 */
import { X509Certificate } from 'node:crypto';
import t from 'tap';
import { makeOpensslCa } from '../helpers/ca.js';
import { control, startDevapi, type DevapiProcess } from '../helpers/devapi.js';
import { certificateOf, createAndApprove, failedOf, servingSpecs, waitSettled } from '../helpers/e2e.js';
import { servingSignerArgs, startSigner, type SignerProcess } from '../helpers/signer.js';
import { needTool, tempDir } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

if (!needTool(t, 'kubectl') || !needTool(t, 'openssl')) process.exit(0);

const dir = tempDir('faults-');
const ca = makeOpensslCa(dir, 'faults', 'p256');

interface Audit {
  certificateWrites: { csr: string; replaced: boolean; approved: boolean; failed: boolean; denied: boolean }[];
  faultsInjected: number;
}

let api: DevapiProcess;
let signer: SignerProcess;
t.before(async () => {
  api = await startDevapi();
  signer = await startSigner(servingSignerArgs(api.kubeconfig('signer'), ca.certPath, ca.keyPath, '--retry-base-delay', '20ms', '--workers', '4'), { waitFor: 'watching' });
});
t.teardown(async () => {
  await signer.stop();
  await api.stop();
});

void t.test('failed status writes (500, 429 with Retry-After, 409, 503) are retried into exactly one certificate each', async (t) => {
  await control(api, 'POST', '/devapi/v1/faults', { method: 'PUT', path: '/status', status: 500, count: 4 });
  await control(api, 'POST', '/devapi/v1/faults', { method: 'PUT', path: '/status', status: 429, count: 2, retryAfterSeconds: 1 });
  await control(api, 'POST', '/devapi/v1/faults', { method: 'PUT', path: '/status', status: 409, count: 3 });
  await control(api, 'POST', '/devapi/v1/faults', { method: 'PUT', path: '/status', status: 503, count: 2 });
  const batch = servingSpecs(dir, 'w', 10);
  createAndApprove(api, batch);
  const csrs = await waitSettled(api, batch.map((s) => s.name));
  for (const s of batch) {
    t.ok(certificateOf(csrs.get(s.name)), `${s.name} issued`);
    t.notOk(failedOf(csrs.get(s.name)), `${s.name} not Failed`);
  }
  const audit = await control(api, 'GET', '/devapi/v1/audit') as Audit;
  t.ok(audit.faultsInjected >= 11, `devapi injected the faults (${audit.faultsInjected})`);
  t.match(await signer.waitForLog((l) => l.msg === 'will retry'), { level: 'warn', csr: /^w-/, retryInMs: Number }, 'the signer logged its retries');
});

void t.test('status writes stored whose answer is lost (504, 500, a dropped connection): one audit record and one Event per certificate', async (t) => {
  await control(api, 'POST', '/devapi/v1/faults', { method: 'PUT', path: '/status', mode: 'apply-then-fail', status: 504, count: 2 });
  await control(api, 'POST', '/devapi/v1/faults', { method: 'PUT', path: '/status', mode: 'apply-then-fail', status: 500, count: 1 });
  await control(api, 'POST', '/devapi/v1/faults', { method: 'PUT', path: '/status', mode: 'apply-then-drop', count: 2 });
  const batch = servingSpecs(dir, 'r', 6);
  createAndApprove(api, batch);
  const csrs = await waitSettled(api, batch.map((s) => s.name));
  const sha256 = (pem: string | undefined): string => new X509Certificate(pem ?? '').fingerprint256.replace(/:/g, '').toLowerCase();
  await until(() => batch.every((s) => signer.logs.some((l) => l.audit === 'certificate-issued' && l.csr === s.name)), { what: 'an audit record for every CSR', ms: 10_000 });
  const events = await until(async () => {
    const list = await control(api, 'GET', '/api/v1/namespaces/default/events') as { items: { involvedObject: { name: string }; reason: string }[] };
    const issued = list.items.filter((e) => e.reason === 'CertificateIssued' && e.involvedObject.name.startsWith('r-'));
    return issued.length >= batch.length ? issued : undefined;
  }, { what: 'an Event for every CSR', ms: 10_000 });
  for (const s of batch) {
    const audits = signer.logs.filter((l) => l.audit === 'certificate-issued' && l.csr === s.name);
    t.equal(audits.length, 1, `${s.name}: one audit record`);
    t.equal(audits[0]?.sha256, sha256(certificateOf(csrs.get(s.name))), `${s.name}: the record names the certificate in the CSR`);
    t.equal(events.filter((e) => e.involvedObject.name === s.name).length, 1, `${s.name}: one Event`);
  }
  const audit = await control(api, 'GET', '/devapi/v1/audit') as Audit;
  t.equal(audit.faultsInjected, 11 + 5, 'every answer was lost as asked');
});

void t.test('dropped watches and a compacted history (410) lose no approved CSR', async (t) => {
  const first = servingSpecs(dir, 'x', 5);
  createAndApprove(api, first);
  await control(api, 'POST', '/devapi/v1/watches/close', { mode: 'reset' });
  const second = servingSpecs(dir, 'y', 5);
  createAndApprove(api, second);
  await control(api, 'POST', '/devapi/v1/history/compact', {});
  await control(api, 'POST', '/devapi/v1/watches/close', { mode: 'clean' });
  const third = servingSpecs(dir, 'z', 5);
  createAndApprove(api, third);
  const csrs = await waitSettled(api, [...first, ...second, ...third].map((s) => s.name));
  for (const s of [...first, ...second, ...third]) t.ok(certificateOf(csrs.get(s.name)), `${s.name} issued`);
});

void t.test('the audit shows one certificate write per CSR, none replacing a certificate, all on approved CSRs', async (t) => {
  const audit = await control(api, 'GET', '/devapi/v1/audit') as Audit;
  const writes = new Map<string, number>();
  for (const w of audit.certificateWrites) writes.set(w.csr, (writes.get(w.csr) ?? 0) + 1);
  t.equal(writes.size, 31, 'every CSR has a certificate write');
  t.same([...writes.entries()].filter(([, n]) => n !== 1), [], 'none has two');
  t.notOk(audit.certificateWrites.some((w) => w.replaced), 'no write tried to replace a certificate');
  t.ok(audit.certificateWrites.every((w) => w.approved && !w.denied && !w.failed), 'only approved, never Failed or Denied');
  t.ok(audit.faultsInjected >= 16, `faults were injected (${audit.faultsInjected})`);
});

void t.test('through all of it the signer kept running, and SIGTERM stops it cleanly with exit 0', async (t) => {
  t.equal(signer.child.exitCode, null, 'still running');
  t.equal(await signer.stop('SIGTERM'), 0);
  await until(() => signer.logs.some((l) => l.msg === 'stopped'), { what: 'the "stopped" log line', ms: 5000 });
  t.ok(signer.logs.some((l) => l.msg === 'stopped'), 'logged its stop');
});
