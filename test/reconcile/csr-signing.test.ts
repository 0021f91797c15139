/**
 * The loop against an in-process API: each CSR ends with exactly one status
 * write (a certificate or a Failed condition), conflicts and transient errors
 * are retried without ever writing twice, and events and audit records follow.
 */
import { pino } from 'pino';
import t from 'tap';
import { csrSigningController } from '../../src/reconcile/csr-signing.js';
import { KubeApiError } from '../../src/kube/http.js';
import type { Observer } from '../../src/telemetry/observer.js';
import type { CertificateAuthority } from '../../src/pki/index.js';
import type { Csr, SignerConfig } from '../../src/signer/types.js';
import { loadTestCa, makeOpensslCa } from '../helpers/ca.js';
import { pause, until } from '../helpers/wait.js';
import { FakeCsrApi, RacingCsrApi } from '../helpers/fake-csr-api.js';
import { buildRequest, toPem, type RequestSpec } from '../helpers/requests.js';
import { tempDir } from '../helpers/tools.js';

const SIGNER = 'example.com/serving';
const signer: SignerConfig = {
  name: SIGNER, source: 'test', ca: { certFile: 'unused', keyFile: 'unused' },
  defaultDurationMs: 3_600_000, maxDurationMs: 86_400_000, includeChain: false,
  policy: { allowEmailAddresses: false, allowUris: false, commonName: 'any', allowCA: false },
};
const ca: CertificateAuthority = await loadTestCa(makeOpensslCa(tempDir(), 'loop', 'p256'));
const now = new Date();

const approved = [{ type: 'Approved', status: 'True', reason: 'Test', message: 'ok', lastUpdateTime: now.toISOString() }];

function csr(name: string, spec: RequestSpec = { dns: ['a.example.com'] }, options: { approve?: boolean; signerName?: string } = {}): Csr {
  return {
    metadata: { name },
    spec: {
      request: Buffer.from(toPem('CERTIFICATE REQUEST', buildRequest(spec))).toString('base64'),
      signerName: options.signerName ?? SIGNER,
      usages: ['digital signature', 'server auth'],
      username: 'system:serviceaccount:apps:web',
    },
    ...(options.approve === false ? {} : { status: { conditions: approved } }),
  };
}

interface Recorded { issued: string[]; failed: string[]; conflicts: number; retries: number }

function setup(api: FakeCsrApi, lines: Record<string, unknown>[] = []) {
  const recorded: Recorded = { issued: [], failed: [], conflicts: 0, retries: 0 };
  const observer: Observer = {
    issued: (_s, _sec, c) => { recorded.issued.push(c.metadata.name); },
    failed: (_s, reason) => { recorded.failed.push(reason); },
    conflict: () => { recorded.conflicts++; },
    retried: () => { recorded.retries++; },
    watchRestarted: () => undefined,
    caReloaded: () => undefined,
  };
  const logger = pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } });
  const controller = csrSigningController({
    signers: [signer], ca: () => ca, api, logger, workers: 3,
    retry: { baseDelayMs: 5, maxDelayMs: 50, qps: 1000, burst: 1000 },
    watchQuietTimeoutMs: 60_000, limits: { maxBytes: 65_536, maxSubjectAltNames: 100 }, events: true, observer,
  });
  return { controller, recorded };
}

const certificateOf = (api: FakeCsrApi, name: string): string | undefined => api.objects.get(name)?.status?.certificate;

void t.test('an approved CSR gets one certificate, one event and one audit record', async (t) => {
  const api = new FakeCsrApi();
  const lines: Record<string, unknown>[] = [];
  const { controller, recorded } = setup(api, lines);
  api.put(csr('one'));
  controller.start();
  await until(() => certificateOf(api, 'one') !== undefined && api.events.length === 1);
  await controller.stop();
  t.equal(api.statusWrites.length, 1);
  t.same(recorded.issued, ['one']);
  t.match(api.events[0], { type: 'Normal', reason: 'CertificateIssued', message: /serial [0-9a-f]+, valid until/ });
  const audit = lines.filter((l) => l.audit === 'certificate-issued');
  t.equal(audit.length, 1);
  t.match(audit[0], { csr: 'one', requester: 'system:serviceaccount:apps:web', signer: SIGNER, sha256: /^[0-9a-f]{64}$/, sans: { dnsNames: ['a.example.com'] } });
});

void t.test('unapproved and foreign CSRs are never written', async (t) => {
  const api = new FakeCsrApi();
  const { controller } = setup(api);
  api.put(csr('pending', undefined, { approve: false }));
  api.put(csr('foreign', undefined, { signerName: 'example.com/other' }));
  api.put(csr('sentinel'));
  controller.start();
  await until(() => certificateOf(api, 'sentinel') !== undefined);
  await controller.stop();
  t.same(api.statusWrites.map((c) => c.metadata.name), ['sentinel']);
});

void t.test('a signer of pod certificates alone has no CSR watch, and CSRs naming it are left alone', async (t) => {
  const api = new FakeCsrApi();
  const podsOnly: SignerConfig = {
    ...signer, name: 'example.com/pods', certificateSigningRequests: false,
    podCertificates: {
      trustDomain: 'cluster.local', uris: ['spiffe://{trustDomain}/ns/{namespace}/sa/{serviceAccountName}'], dnsNames: [], usages: ['digital signature'],
      maxLifetimeMs: 86_400_000, refresh: { from: 0.5, to: 0.7 }, namespaces: { all: true }, keyTypes: ['ED25519'], nonEmptyStub: 'deny', podCheck: false, apiVersion: 'auto',
    },
  };
  const controller = csrSigningController({
    signers: [signer, podsOnly], ca: () => ca, api, logger: pino({ level: 'silent' }), workers: 1,
    retry: { baseDelayMs: 5, maxDelayMs: 50, qps: 1000, burst: 1000 },
    watchQuietTimeoutMs: 60_000, limits: { maxBytes: 65_536, maxSubjectAltNames: 100 }, events: false,
  });
  t.same([...controller.sources.keys()], [SIGNER], 'one watch: the CSR-serving signer');
  api.put(csr('pods', undefined, { signerName: 'example.com/pods' }));
  api.put(csr('sentinel'));
  controller.start();
  await until(() => certificateOf(api, 'sentinel') !== undefined);
  await controller.stop();
  t.same(api.statusWrites.map((c) => c.metadata.name), ['sentinel'], 'the approved CSR naming the pod signer is not signed');
});

void t.test('a request the policy refuses gets one Failed condition and a warning event', async (t) => {
  const api = new FakeCsrApi();
  const { controller, recorded } = setup(api);
  api.put(csr('mail', { dns: ['a.example.com'], emails: ['x@example.com'] }));
  controller.start();
  await until(() => api.events.length === 1);
  await controller.stop();
  const failed = api.objects.get('mail')?.status?.conditions?.find((c) => c.type === 'Failed');
  t.match(failed, { status: 'True', reason: 'PolicyViolation', message: /x@example\.com/, lastUpdateTime: /Z$/ });
  t.notOk(certificateOf(api, 'mail'));
  t.same(recorded.failed, ['PolicyViolation']);
  t.match(api.events[0], { type: 'Warning', reason: 'SigningFailed' });
});

void t.test('transient status-write errors are retried until one write succeeds', async (t) => {
  const api = new FakeCsrApi();
  const { controller, recorded } = setup(api);
  api.failNext('updateStatus', new KubeApiError(500, 'InternalError', 'boom', undefined));
  api.failNext('updateStatus', new KubeApiError(429, 'TooManyRequests', 'slow down', 10));
  api.failNext('updateStatus', new KubeApiError(503, 'ServiceUnavailable', 'later', undefined));
  api.put(csr('flaky'));
  controller.start();
  await until(() => certificateOf(api, 'flaky') !== undefined);
  await controller.stop();
  t.equal(api.statusWrites.length, 1, 'one successful write');
  t.equal(recorded.retries, 3);
});

void t.test('a 409 whose re-read shows a certificate ends the work without a second write', async (t) => {
  const api = new FakeCsrApi();
  const { controller, recorded } = setup(api);
  api.put(csr('raced'));
  // Another replica issues first: the object changes under us and already carries a certificate.
  const original = api.updateStatus.bind(api);
  let first = true;
  api.updateStatus = async (c: Csr) => {
    if (first) {
      first = false;
      const current = api.objects.get(c.metadata.name) as Csr;
      await original({ ...current, status: { ...current.status, certificate: Buffer.from('by another replica').toString('base64') } });
    }
    return original(c);
  };
  controller.start();
  await until(() => recorded.conflicts === 1);
  await pause(50, 'no second write may follow the conflict');
  await controller.stop();
  t.equal(Buffer.from(certificateOf(api, 'raced') ?? '', 'base64').toString(), 'by another replica', 'never overwritten');
  t.equal(api.statusWrites.length, 1, 'only the other replica wrote');
  t.same(recorded.issued, []);
});

void t.test('a 409 on a CSR still pending decides again from the fresh object and writes once', async (t) => {
  const api = new FakeCsrApi();
  const { controller } = setup(api);
  api.put(csr('bumped'));
  api.failNext('updateStatus', new KubeApiError(409, 'Conflict', 'modified', undefined));
  controller.start();
  await until(() => certificateOf(api, 'bumped') !== undefined);
  await controller.stop();
  t.equal(api.statusWrites.length, 1);
});

void t.test('a CSR deleted while the re-read after a 409 was in flight is not put back: no certificate signed again and again', async (t) => {
  const api = new RacingCsrApi();
  const lines: Record<string, unknown>[] = [];
  const { controller, recorded } = setup(api, lines);
  api.put(csr('deleted-in-race'));
  const original = api.updateStatus.bind(api);
  let first = true;
  api.updateStatus = (c: Csr) => {
    if (first) {
      first = false;
      const current = api.objects.get(c.metadata.name) as Csr;
      api.resource.put({ ...current, metadata: { ...current.metadata, labels: { edited: 'yes' } } });
      api.raceNextGet = true;
    }
    return original(c);
  };
  controller.start();
  await until(() => recorded.conflicts === 1 && api.deletedDelivered === 1);
  await pause(100, 'a CSR put back in the cache would be signed and written again within this');
  await controller.stop();
  t.equal(api.calls.filter((c) => c === 'updateStatus').length, 1, 'written once');
  t.equal(lines.filter((l) => l.audit === 'certificate-not-delivered' || l.audit === 'certificate-delivery-unknown').length, 1, 'signed once, recorded once');
});

void t.test('a write answered 404 (deleted, its DELETED event not seen yet) ends the work: nothing is retried', async (t) => {
  const api = new RacingCsrApi();
  const { controller, recorded } = setup(api);
  api.put(csr('gone'));
  api.lagging = true;
  const original = api.updateStatus.bind(api);
  api.updateStatus = (c: Csr) => {
    api.remove('gone');
    return original(c);
  };
  controller.start();
  await until(() => api.calls.includes('updateStatus'));
  await pause(100, 'a retry would sign and write again within this');
  await controller.stop();
  t.equal(api.calls.filter((c) => c === 'updateStatus').length, 1, 'written once');
  t.equal(recorded.retries, 0, 'not retried');
});

void t.test('a CA that cannot sign is transient: retried, never Failed', async (t) => {
  const api = new FakeCsrApi();
  let broken = true;
  const patched = csrSigningController({
    signers: [signer], ca: () => { if (broken) throw new Error('no CA loaded'); return ca; }, api, logger: pino({ level: 'silent' }), workers: 1,
    retry: { baseDelayMs: 5, maxDelayMs: 20, qps: 1000, burst: 1000 }, watchQuietTimeoutMs: 60_000, limits: { maxBytes: 65_536, maxSubjectAltNames: 100 }, events: false,
  });
  api.put(csr('waiting'));
  patched.start();
  await until(() => api.calls.filter((c) => c === 'list').length === 1);
  await pause(100, 'nothing may be written while the CA is missing');
  t.equal(api.statusWrites.length, 0, 'nothing written while the CA is missing');
  broken = false;
  await until(() => certificateOf(api, 'waiting') !== undefined);
  await patched.stop();
  t.equal(api.statusWrites.length, 1);
});

void t.test('many CSRs with several workers: each is written exactly once', async (t) => {
  const api = new FakeCsrApi();
  const { controller } = setup(api);
  for (let i = 0; i < 60; i++) api.put(csr(`bulk-${i}`));
  controller.start();
  for (let i = 60; i < 90; i++) api.put(csr(`bulk-${i}`));
  await until(() => api.statusWrites.length >= 90, 20_000);
  await pause(50, 'no CSR may be written twice');
  await controller.stop();
  const names = api.statusWrites.map((c) => c.metadata.name);
  t.equal(new Set(names).size, 90);
  t.equal(names.length, 90);
});

void t.test('a 409 that keeps coming back on the very version written is backed off, not retried at once', async (t) => {
  const api = new FakeCsrApi();
  const lines: Record<string, unknown>[] = [];
  const { controller, recorded } = setup(api, lines);
  api.put(csr('refused'));
  let puts = 0;
  api.updateStatus = () => {
    puts++;
    return Promise.reject(new KubeApiError(409, 'Conflict', 'refused again', undefined));
  };
  controller.start();
  await until(() => recorded.retries >= 2);
  await controller.stop();
  t.notOk(lines.some((l) => l.msg === 'changed meanwhile; looking again'), 'never a retry-now');
  t.ok(puts <= recorded.retries + 1, 'every PUT after the first followed a backoff');
  t.match(lines.find((l) => l.msg === 'will retry'), { level: 40, csr: 'refused', err: { message: 'refused again' } });
});
