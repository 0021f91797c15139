/**
 * A status write the API stored although its answer was lost (a 504 from the
 * timeout filter, a reset connection): the certificate in the CSR still gets
 * exactly one audit record, one Event, its metrics and its rotation record,
 * once the signer sees the CSR again; a certificate signed that never reached
 * its CSR gets one `certificate-not-delivered` audit record instead.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { pino } from 'pino';
import t from 'tap';
import { csrSigningController, Reconciler } from '../../src/reconcile/csr-signing.js';
import { ObjectCache } from '../../src/controller/cache.js';
import { KubeApiError } from '../../src/kube/http.js';
import type { Observer } from '../../src/telemetry/observer.js';
import type { RotationRecord } from '../../src/trust/rotation-record.js';
import type { CertificateAuthority } from '../../src/pki/index.js';
import type { Csr, SignerConfig } from '../../src/signer/types.js';
import { loadTestCa, makeOpensslCa } from '../helpers/ca.js';
import { until } from '../helpers/wait.js';
import { FakeCsrApi } from '../helpers/fake-csr-api.js';
import { buildRequest, toPem } from '../helpers/requests.js';
import { tempDir } from '../helpers/tools.js';

const SIGNER = 'example.com/serving';
const signer: SignerConfig = {
  name: SIGNER, source: 'test', ca: { certFile: 'unused', keyFile: 'unused' },
  defaultDurationMs: 3_600_000, maxDurationMs: 86_400_000, includeChain: false,
  policy: { allowEmailAddresses: false, allowUris: false, commonName: 'any', allowCA: false },
};
const ca: CertificateAuthority = await loadTestCa(makeOpensslCa(tempDir(), 'lost', 'p256'));
const approved = [{ type: 'Approved', status: 'True', reason: 'Test', message: 'ok', lastUpdateTime: new Date().toISOString() }];
const HOUR = 3_600_000;

function csr(name: string): Csr {
  return {
    metadata: { name },
    spec: {
      request: Buffer.from(toPem('CERTIFICATE REQUEST', buildRequest({ dns: ['a.example.com'] }))).toString('base64'),
      signerName: SIGNER, usages: ['digital signature', 'server auth'], username: 'system:serviceaccount:apps:web',
    },
    status: { conditions: approved },
  };
}

const timeout = (): KubeApiError => new KubeApiError(504, 'Timeout', 'Timeout: request did not complete within the allotted timeout', undefined);

/** A controller whose audit lines, observer calls and rotation-record calls are kept; `retryMs` is the first retry's delay. */
function setup(api: FakeCsrApi, retryMs: number) {
  const lines: Record<string, unknown>[] = [];
  const issued: string[] = [];
  const recordIssued: Date[] = [];
  const observer: Observer = {
    issued: (_s, _sec, c) => { issued.push(c.metadata.name); },
    failed: () => undefined, conflict: () => undefined, retried: () => undefined, watchRestarted: () => undefined, caReloaded: () => undefined,
  };
  // Only the two calls the signer makes; the record itself has its own tests.
  const record = { cover: () => Promise.resolve(), issued: (_s: string, _ca: unknown, notAfter: Date) => { recordIssued.push(notAfter); } } as unknown as RotationRecord;
  const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } });
  const controller = csrSigningController({
    signers: [signer], ca: () => ca, api, logger, workers: 2, record,
    retry: { baseDelayMs: retryMs, maxDelayMs: retryMs, qps: 1000, burst: 1000 },
    watchQuietTimeoutMs: HOUR, limits: { maxBytes: 65_536, maxSubjectAltNames: 100 }, events: true, observer,
  });
  const audits = (kind: string): Record<string, unknown>[] => lines.filter((l) => l.audit === kind);
  return { controller, issued, recordIssued, audits };
}

const sha256Of = (certificate: string | undefined): string =>
  createHash('sha256').update(new X509Certificate(Buffer.from(certificate ?? '', 'base64')).raw).digest('hex');

void t.test('a reply lost, then the watch shows our certificate: one audit record, one Event, the metrics and the rotation record', async (t) => {
  const api = new FakeCsrApi();
  const { controller, issued, recordIssued, audits } = setup(api, HOUR);
  api.put(csr('lost'));
  api.failAfterNext('updateStatus', timeout());
  controller.start();
  await until(() => audits('certificate-issued').length === 1 && api.events.length === 1);
  await controller.stop();
  t.equal(api.statusWrites.length, 1, 'written once, although its answer was an error');
  t.equal(audits('certificate-issued')[0]?.sha256, sha256Of(api.objects.get('lost')?.status?.certificate), 'the record names the stored certificate');
  t.same(audits('certificate-not-delivered'), []);
  t.match(api.events, [{ type: 'Normal', reason: 'CertificateIssued' }]);
  t.same(issued, ['lost']);
  t.equal(recordIssued.length, 1);
});

void t.test('a reply lost, then a 409 re-read shows our certificate: the same, and the second certificate is recorded as not delivered', async (t) => {
  // The reconciler alone, on a cache the test feeds: the retry decides on the object as it was before the lost write.
  const api = new FakeCsrApi();
  const lines: Record<string, unknown>[] = [];
  const issued: string[] = [];
  const observer: Observer = {
    issued: (_s, _sec, c) => { issued.push(c.metadata.name); },
    failed: () => undefined, conflict: () => undefined, retried: () => undefined, watchRestarted: () => undefined, caReloaded: () => undefined,
  };
  const cache = new ObjectCache<Csr>();
  const reconciler = new Reconciler({
    signers: new Map([[SIGNER, signer]]), ca: () => ca, api, cache, events: true, observer,
    logger: pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } }),
    limits: { maxBytes: 65_536, maxSubjectAltNames: 100 },
  });
  const audits = (kind: string): Record<string, unknown>[] => lines.filter((l) => l.audit === kind);
  cache.set(api.put(csr('stale')));
  api.failAfterNext('updateStatus', timeout());
  await t.rejects(reconciler.reconcile('stale'), new KubeApiError(504, 'Timeout', 'Timeout: request did not complete within the allotted timeout', undefined), 'the write is stored, its answer lost');
  t.equal(reconciler.pendingCertificates, 1, 'held: its fate is not known');
  t.same(lines.filter((l) => typeof l.audit === 'string'), [], 'nothing recorded yet');
  t.equal(await reconciler.reconcile('stale'), 'done-elsewhere', 'the retry signs again, meets a conflict and re-reads');
  const stored = sha256Of(api.objects.get('stale')?.status?.certificate);
  t.equal(api.statusWrites.length, 1);
  t.equal(audits('certificate-issued').length, 1);
  t.equal(audits('certificate-issued')[0]?.sha256, stored, 'the record names the stored certificate');
  t.match(audits('certificate-not-delivered'), [{ csr: 'stale', why: 'other-certificate', serial: /^[0-9a-f]+$/ }]);
  t.not(audits('certificate-not-delivered')[0]?.sha256, stored, 'the one refused is the second certificate');
  t.equal(reconciler.pendingCertificates, 0);
  await until(() => api.events.length === 1);
  t.match(api.events, [{ reason: 'CertificateIssued' }]);
  t.same(issued, ['stale']);
});

void t.test('a write whose fate is unknown, then another writer\'s certificate: ours is recorded as not delivered', async (t) => {
  const api = new FakeCsrApi();
  const { controller, issued, audits } = setup(api, HOUR);
  api.put(csr('other'));
  api.failNext('updateStatus', timeout());
  controller.start();
  await until(() => api.calls.includes('updateStatus'));
  const current = api.objects.get('other') as Csr;
  await api.updateStatus({ ...current, status: { ...current.status, certificate: Buffer.from('by another writer').toString('base64') } });
  await until(() => audits('certificate-not-delivered').length === 1);
  await controller.stop();
  t.match(audits('certificate-not-delivered')[0], { csr: 'other', why: 'other-certificate', sha256: /^[0-9a-f]{64}$/ });
  t.same(audits('certificate-issued'), []);
  t.same(api.events, []);
  t.same(issued, []);
});

void t.test('a write whose fate is unknown, then the CSR deleted: ours is recorded as of unknown delivery (it may have been stored and read first)', async (t) => {
  const api = new FakeCsrApi();
  const { controller, audits } = setup(api, HOUR);
  api.put(csr('gone'));
  api.failNext('updateStatus', timeout());
  controller.start();
  await until(() => api.calls.includes('updateStatus'));
  api.remove('gone');
  await until(() => audits('certificate-delivery-unknown').length === 1);
  await controller.stop();
  t.match(audits('certificate-delivery-unknown')[0], { csr: 'gone', why: 'deleted' });
  t.same(audits('certificate-not-delivered'), []);
  t.same(audits('certificate-issued'), []);
  t.same(api.events, []);
});

void t.test('a reply lost, then the signer stops before it sees the CSR again: it reads the CSR once more and records the certificate', async (t) => {
  const api = new FakeCsrApi();
  api.silent = true;
  const { controller, issued, audits } = setup(api, HOUR);
  api.put(csr('stopping'));
  api.failAfterNext('updateStatus', timeout());
  controller.start();
  await until(() => api.statusWrites.length === 1);
  await controller.stop();
  t.equal(audits('certificate-issued').length, 1);
  t.equal(audits('certificate-issued')[0]?.sha256, sha256Of(api.objects.get('stopping')?.status?.certificate));
  t.equal(api.events.length, 1);
  t.same(issued, ['stopping']);
});

void t.test('a write unanswered and not stored, then the signer stops: the certificate is recorded as of unknown delivery (the write might still land)', async (t) => {
  const api = new FakeCsrApi();
  api.silent = true;
  const { controller, audits } = setup(api, HOUR);
  api.put(csr('refused'));
  api.failNext('updateStatus', timeout());
  controller.start();
  await until(() => api.calls.includes('updateStatus'));
  await controller.stop();
  t.match(audits('certificate-delivery-unknown'), [{ csr: 'refused', why: 'abandoned' }]);
  t.same(audits('certificate-not-delivered'), []);
  t.same(audits('certificate-issued'), []);
});
