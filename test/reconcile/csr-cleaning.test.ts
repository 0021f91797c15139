/**
 * The cleaner on the generic loop, against an in-process API and a manual clock:
 * it deletes what is old enough, looks again when something will be, never deletes
 * a newer object of the same name, and runs beside the signing controller on the
 * same API (two controllers, one loop implementation).
 */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import { csrCleaningController } from '../../src/reconcile/csr-cleaning.js';
import { csrSigningController } from '../../src/reconcile/csr-signing.js';
import { KubeApiError } from '../../src/kube/http.js';
import type { CertificateAuthority } from '../../src/pki/index.js';
import type { CleanupReason } from '../../src/signer/cleanup.js';
import type { Csr } from '../../src/signer/types.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { snapshotBuilder } from '../http/fixtures/snapshots.js';
import { loadTestCa, makeOpensslCa } from '../helpers/ca.js';
import { ManualClock } from '../helpers/clock.js';
import { approved, csrBuilder, denied, signerConfig, withName } from '../helpers/csr.js';
import { until } from '../helpers/wait.js';
import { FakeCsrApi } from '../helpers/fake-csr-api.js';
import { tempDir } from '../helpers/tools.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Whole seconds, as Kubernetes times are. */
const start = new Date(Math.floor(Date.now() / 1000) * 1000);
const retry = { baseDelayMs: 5, maxDelayMs: 50, qps: 1000, burst: 1000 };
const ca: CertificateAuthority = await loadTestCa(makeOpensslCa(tempDir(), 'cleaner', 'p256'), start);

/** A cleaner on a manual clock (started at `start`). */
function cleaner(api: FakeCsrApi, clock: ManualClock, deleted: [string, CleanupReason][] = []) {
  return csrCleaningController({
    api, logger: pino({ level: 'silent' }), retry, watchQuietTimeoutMs: 24 * HOUR, clock,
    onDeleted: (csr, reason) => deleted.push([csr.metadata.name, reason]),
  });
}

const stamped = (lastUpdateTime: Date) => (csr: Csr): Csr =>
  ({ ...csr, status: { ...csr.status, conditions: (csr.status?.conditions ?? []).map((c) => ({ ...c, lastUpdateTime: lastUpdateTime.toISOString() })) } });

void t.test('an old denied CSR is deleted, a young one when it has aged, of every signer', async (t) => {
  const api = new FakeCsrApi();
  const clock = new ManualClock(start.getTime());
  const deleted: [string, CleanupReason][] = [];
  api.put(csrBuilder(withName('old'), denied(), stamped(new Date(start.getTime() - 2 * HOUR))));
  api.put(csrBuilder(withName('young'), denied(), stamped(new Date(start.getTime() - 10 * MINUTE)), (c) => ({ ...c, spec: { ...c.spec, signerName: 'other.example/x' } })));
  api.put(csrBuilder(withName('pending')));
  const controller = cleaner(api, clock, deleted);
  controller.start();
  await until(() => deleted.length === 1);
  t.same(deleted, [['old', 'Denied']]);
  t.ok(api.objects.has('young') && api.objects.has('pending'));
  clock.advance(50 * MINUTE);
  t.notOk(api.deletes.includes('young'), 'not at 50 min: 1 h has not passed');
  clock.advance(1);
  await until(() => deleted.length === 2);
  t.same(deleted[1], ['young', 'Denied'], 'deleted once its hour has passed, without a relist');
  t.ok(api.objects.has('pending'), 'a pending CSR without a creation time is never old');
  await controller.stop();
});

void t.test('a CSR replaced by a new one of the same name is not deleted in its place', async (t) => {
  const api = new FakeCsrApi();
  const clock = new ManualClock(start.getTime());
  const old = csrBuilder(withName('reused'), denied(), stamped(new Date(start.getTime() - 2 * HOUR)));
  // The API now holds a new object of that name (another uid); the cleaner still has the old one.
  api.put({ ...old, metadata: { ...old.metadata, uid: 'new-uid' } });
  const controller = cleaner(api, clock);
  controller.cache.set({ ...old, metadata: { ...old.metadata, uid: 'old-uid', resourceVersion: '999999' } });
  controller.queue.add('reused');
  controller.start();
  await until(() => api.calls.includes('delete'));
  await controller.stop();
  t.equal(api.objects.get('reused')?.metadata.uid, 'new-uid', 'the uid precondition refused the delete');
  t.same(api.deletes, []);
});

void t.test('a transient delete error is retried', async (t) => {
  const api = new FakeCsrApi();
  const clock = new ManualClock(start.getTime());
  api.failNext('delete', new KubeApiError(503, 'ServiceUnavailable', 'injected', undefined));
  api.put(csrBuilder(withName('old'), denied(), stamped(new Date(start.getTime() - 2 * HOUR))));
  const controller = cleaner(api, clock);
  controller.start();
  await until(() => api.calls.filter((c) => c === 'delete').length === 1 && clock.pending > 0);
  clock.advance(1000);
  await until(() => !api.objects.has('old'));
  await controller.stop();
  t.same(api.deletes, ['old']);
});

void t.test('the signer and the cleaner run side by side on one API: signed, then cleaned an hour after approval', async (t) => {
  const api = new FakeCsrApi();
  const clock = new ManualClock(start.getTime());
  const deleted: [string, CleanupReason][] = [];
  api.put(csrBuilder(withName('web'), approved(), stamped(start)));
  const signing = csrSigningController({
    signers: [signerConfig('example.com/serving')], ca: () => ca, api, logger: pino({ level: 'silent' }), workers: 1, retry,
    watchQuietTimeoutMs: 24 * HOUR, limits: { maxBytes: 65_536, maxSubjectAltNames: 100 }, events: false, clock,
  });
  const cleaning = cleaner(api, clock, deleted);
  signing.start();
  cleaning.start();
  await until(() => (api.objects.get('web')?.status?.certificate ?? '') !== '');
  await until(() => clock.pending > 0 && cleaning.cache.get('web')?.status?.certificate !== undefined);
  t.same(deleted, [], 'issued just now: kept');
  clock.advance(HOUR + 1000);
  await until(() => deleted.length === 1);
  t.same(deleted, [['web', 'Issued']]);
  t.notOk(api.objects.has('web'));
  await Promise.all([signing.stop(), cleaning.stop()]);
});

void t.test('an expired certificate is read from the first PEM block, as upstream reads it, whatever follows', async (t) => {
  const api = new FakeCsrApi();
  const clock = new ManualClock(start.getTime());
  const deleted: [string, CleanupReason][] = [];
  const csr = csrBuilder(withName('expiring'));
  const { issueCertificate, parseRequest } = await import('../../src/pki/index.js');
  const issued = await issueCertificate({
    request: parseRequest(Buffer.from(csr.spec.request, 'base64')), profile: { usages: ['server auth'], maxDurationMs: HOUR, defaultDurationMs: HOUR, includeChain: false },
    ca, now: start, random: (n) => crypto.getRandomValues(new Uint8Array(n)),
  });
  // Approved without a lastUpdateTime, so only the certificate's expiry can make it old; a block after the certificate that is no certificate at all.
  const pem = `${issued.pem}-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n`;
  api.put({ ...csr, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'Test', message: 'ok' }], certificate: Buffer.from(pem).toString('base64') } });
  const controller = cleaner(api, clock, deleted);
  controller.start();
  await until(() => clock.pending > 0 && controller.cache.get('expiring') !== undefined);
  t.same(deleted, [], 'valid for an hour: kept');
  clock.advance(issued.validity.notAfter.getTime() - clock.now() + 1000);
  await until(() => deleted.length === 1);
  t.same(deleted, [['expiring', 'CertificateExpired']]);
  await controller.stop();
});

void t.test('an approved CSR never issued is deleted 24 h after its approval (ApprovedUnissued) and counted by reason', async (t) => {
  const api = new FakeCsrApi();
  const clock = new ManualClock(start.getTime());
  const registry = new Registry();
  const metrics = createMetrics(registry, () => snapshotBuilder(), { runtime: false });
  api.put(csrBuilder(withName('stale'), approved(), stamped(new Date(start.getTime() - 25 * HOUR))));
  api.put(csrBuilder(withName('recent'), approved(), stamped(new Date(start.getTime() - 23 * HOUR))));
  const deleted: string[] = [];
  const controller = csrCleaningController({
    api, logger: pino({ level: 'silent' }), retry, watchQuietTimeoutMs: 24 * HOUR, clock,
    onDeleted: (csr, reason) => {
      deleted.push(csr.metadata.name);
      metrics.cleanupDeleted?.(reason);
    },
  });
  controller.start();
  await until(() => deleted.length === 1);
  const count = async (): Promise<string> => registry.getSingleMetricAsString('csr_signer_cleanup_deleted_total');
  t.match(await count(), /csr_signer_cleanup_deleted_total\{reason="ApprovedUnissued"\} 1$/m);
  t.same(deleted, ['stale']);
  // Time moves a minute per look (the recheck of `recent` may be scheduled before or after any one step).
  await until(() => {
    if (deleted.length < 2) clock.advance(MINUTE);
    return deleted.length === 2;
  }, { what: 'recent deleted once its day is up', ms: 20_000 });
  t.ok(clock.now() > start.getTime() + HOUR, 'not before 24 h after its approval');
  t.match(await count(), /csr_signer_cleanup_deleted_total\{reason="ApprovedUnissued"\} 2$/m);
  await controller.stop();
});
