/**
 * The PodCertificateRequest signer on the loop against an in-process API: each request
 * ends with exactly one status write (Issued with the chain and the leaf's times, or
 * Denied, or Failed), conflicts and lost answers never write twice nor sign twice, `wait`
 * never writes, the facts are read as the decision asks, and the Event, the audit record
 * and the count follow once. The key is read for real (pki readPodCertificateKey of a stub
 * request or the legacy fields); the issuer is a recording stand-in so each test can count
 * what was signed.
 */
import { sign, X509Certificate } from 'node:crypto';
import { pino } from 'pino';
import t from 'tap';
import { podCertificateSigningController, MAX_CERTIFICATE_CHAIN_BYTES } from '../../src/reconcile/pcr-signing.js';
import { KubeApiError } from '../../src/kube/http.js';
import type { WatchEvent } from '../../src/kube/resource.js';
import type { CertificateAuthority, IssuedCertificate, KeyIssueInput } from '../../src/pki/index.js';
import type { PodCertificateConfig, PodCertificateRequest, SignerConfig } from '../../src/signer/types.js';
import type { Observer, PodCertificateResult } from '../../src/telemetry/observer.js';
import { loadTestCa, makeOpensslCa } from '../helpers/ca.js';
import { FakePcrApi, FakePodFacts } from '../helpers/fake-pcr-api.js';
import { pcrBuilder, podSigner, podSignerName, withPcrSpec, type PcrModifier } from '../helpers/pod-certificates.js';
import { buildRequest, testKey } from '../helpers/requests.js';
import { tempDir } from '../helpers/tools.js';
import { pause, until } from '../helpers/wait.js';

const ca: CertificateAuthority = await loadTestCa(makeOpensslCa(tempDir(), 'pods', 'p256'));
const HOUR = 3_600_000;

const stub = Buffer.from(buildRequest({ key: 'p256' })).toString('base64');
const named = (name: string, namespace = 'shop'): PcrModifier => (pcr) => {
  const metadata = { ...pcr.metadata, name, namespace };
  delete (metadata as { uid?: string }).uid;
  delete (metadata as { resourceVersion?: string }).resourceVersion;
  return { ...pcr, metadata };
};
const request = (name: string, ...modifiers: PcrModifier[]): PodCertificateRequest => pcrBuilder(named(name), withPcrSpec({ stubPKCS10Request: stub }), ...modifiers);

/** The legacy fields of a 1.35 kubelet: the P-256 key's SPKI and its ECDSA-SHA256 signature over podUID. */
const legacyFields = (podUID: string): Partial<PodCertificateRequest['spec']> => {
  const key = testKey('p256');
  return {
    pkixPublicKey: key.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    proofOfPossession: sign('sha256', Buffer.from(podUID), key.privateKey).toString('base64'),
  };
};
const legacy = (pcr: PodCertificateRequest): PodCertificateRequest => {
  const spec: Record<string, unknown> = { ...pcr.spec, ...legacyFields(pcr.spec.podUID) };
  delete spec.stubPKCS10Request;
  return { ...pcr, spec: spec as PodCertificateRequest['spec'] };
};

/** A stand-in for pki issueForKey that records each call and returns a distinct certificate. */
function recordingIssuer(pemBytes = 0): { calls: KeyIssueInput[]; issue: (input: KeyIssueInput) => Promise<IssuedCertificate> } {
  const calls: KeyIssueInput[] = [];
  return {
    calls,
    issue: (input) => {
      calls.push(input);
      const der = new Uint8Array(Buffer.from(`certificate ${calls.length} ${'x'.repeat(pemBytes)}`));
      const body = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
      return Promise.resolve({
        der, pem: `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`,
        serialHex: `0${calls.length}aa`, validity: input.validity,
      });
    },
  };
}

interface Setup {
  api?: FakePcrApi;
  facts?: FakePodFacts;
  signer?: SignerConfig;
  config?: Partial<PodCertificateConfig>;
  ca?: () => CertificateAuthority;
  issuer?: ReturnType<typeof recordingIssuer>;
  /** Issue with pki issueForKey itself, not the recording stand-in. */
  realIssuer?: boolean;
}

function setup(options: Setup = {}) {
  const api = options.api ?? new FakePcrApi();
  const facts = options.facts ?? new FakePodFacts();
  const issuer = options.issuer ?? recordingIssuer();
  const signer = options.signer ?? podSigner(options.config ?? {});
  const ends: { signer: string; result: PodCertificateResult; seconds: number | undefined }[] = [];
  const recorded = { conflicts: 0, retries: 0 };
  const observer: Observer = {
    issued: () => undefined, failed: () => undefined, watchRestarted: () => undefined, caReloaded: () => undefined,
    conflict: () => { recorded.conflicts++; },
    retried: () => { recorded.retries++; },
    podCertificate: (s, result, seconds) => { ends.push({ signer: s, result, seconds }); },
  };
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } });
  const controller = podCertificateSigningController({
    signers: [signer], ca: options.ca ?? (() => ca), apis: new Map([[signer.name, api]]), facts, logger, workers: 3,
    retry: { baseDelayMs: 5, maxDelayMs: 50, qps: 1000, burst: 1000 },
    watchQuietTimeoutMs: 60_000, limits: { maxBytes: 65_536, maxSubjectAltNames: 100 }, events: true, observer,
    ...(options.realIssuer ? {} : { issue: issuer.issue }), jitter: () => 0.5,
  });
  return { api, facts, issuer, controller, ends, recorded, lines };
}

const stored = (api: FakePcrApi, name: string, namespace = 'shop'): PodCertificateRequest | undefined => api.objects.get(`${namespace}/${name}`);
const conditionOf = (api: FakePcrApi, name: string, namespace = 'shop') => stored(api, name, namespace)?.status?.conditions?.[0];

void t.test('a request gets one Issued status with the chain and the leaf\'s times, one Event, one audit record and one count', async (t) => {
  const { api, issuer, controller, ends, lines } = setup();
  api.put(request('req-1'));
  controller.start();
  await until(() => conditionOf(api, 'req-1') !== undefined && api.events.length === 1);
  await controller.stop();
  t.equal(api.statusWrites.length, 1, 'one write');
  t.equal(issuer.calls.length, 1, 'one certificate signed');
  const status = stored(api, 'req-1')?.status;
  const input = issuer.calls[0];
  t.match(status?.conditions, [{ type: 'Issued', status: 'True', reason: 'Issued', message: 'issued by csr-signer, serial 01aa', lastTransitionTime: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/ }]);
  t.equal(status?.conditions?.length, 1, 'exactly one condition');
  t.match(status?.certificateChain, /^-----BEGIN CERTIFICATE-----\n/);
  t.equal(status?.notBefore, input?.validity.notBefore.toISOString().replace('.000Z', 'Z'), 'notBefore is the leaf\'s');
  t.equal(status?.notAfter, input?.validity.notAfter.toISOString().replace('.000Z', 'Z'), 'notAfter is the leaf\'s');
  t.equal(Date.parse(status?.notAfter ?? '') - Date.parse(status?.notBefore ?? ''), 24 * HOUR, 'the 24 h default');
  t.ok(status?.beginRefreshAt, 'a refresh time');
  t.same(input?.subjectAltNames.uris, ['spiffe://cluster.local/ns/shop/sa/web'], 'the identity comes from the spec');
  t.equal(input?.ca, ca, 'the signer\'s CA signs');
  t.match(api.events, [{ type: 'Normal', reason: 'PodCertificateIssued', message: /^Issued certificate serial 01aa, valid until .*Z, refresh from .*Z$/, pcr: { metadata: { namespace: 'shop', name: 'req-1' } } }]);
  t.match(ends, [{ signer: podSignerName, result: 'issued' }]);
  t.ok((ends[0]?.seconds ?? -1) >= 0, 'seconds since the creation');
  const audit = lines.filter((l) => l.audit === 'certificate-issued');
  t.equal(audit.length, 1);
  t.match(audit[0], {
    kind: 'PodCertificateRequest', namespace: 'shop', name: 'req-1', pod: 'web-0', serviceAccount: 'web', node: 'worker-1', signer: podSignerName,
    serial: '01aa', sha256: /^[0-9a-f]{64}$/, sans: { uris: ['spiffe://cluster.local/ns/shop/sa/web'] },
  });
  t.notOk(JSON.stringify(lines).includes(stub), 'the request\'s bytes are never logged');
});

void t.test('a request the policy refuses gets one Denied condition, a Warning Event and a count, and nothing is signed', async (t) => {
  const { api, issuer, controller, ends, lines } = setup();
  api.put(request('req-elsewhere', named('req-elsewhere', 'payments')));
  controller.start();
  await until(() => api.events.length === 1);
  await pause(30, 'no second write may follow');
  await controller.stop();
  t.equal(api.statusWrites.length, 1);
  t.equal(issuer.calls.length, 0);
  const status = stored(api, 'req-elsewhere', 'payments')?.status;
  t.match(status, { conditions: [{ type: 'Denied', status: 'True', reason: 'CsrSignerPolicyDenied', message: /payments/ }] });
  t.same(Object.keys(status ?? {}), ['conditions'], 'no other status field');
  t.match(api.events[0], { type: 'Warning', reason: 'PodCertificateDenied', message: /^CsrSignerPolicyDenied: .*payments/ });
  t.match(ends, [{ result: 'denied' }]);
  t.match(lines.filter((l) => l.audit === 'request-denied'), [{ kind: 'PodCertificateRequest', namespace: 'payments', reason: 'CsrSignerPolicyDenied' }]);
});

void t.test('a key type the signer does not take is Denied UnsupportedKeyType naming the one to use', async (t) => {
  const { api, controller } = setup({ config: { keyTypes: ['ED25519', 'ECDSAP384'] } });
  api.put(request('req-p256'));
  controller.start();
  await until(() => conditionOf(api, 'req-p256') !== undefined);
  await controller.stop();
  t.match(conditionOf(api, 'req-p256'), { type: 'Denied', reason: 'UnsupportedKeyType', message: /use keyType ED25519/ });
});

void t.test('the Pod check reads the Pod the request names: a match is issued, a mismatch is Failed once', async (t) => {
  const facts = new FakePodFacts();
  const good = request('req-good');
  facts.pods.set('shop/web-0', { metadata: { name: 'web-0', namespace: 'shop', uid: good.spec.podUID }, spec: { nodeName: 'worker-1', serviceAccountName: 'web' } });
  // A transient error reading the Pod is retried, never a condition.
  facts.faults.failNext('getPod', new KubeApiError(503, 'ServiceUnavailable', 'later', undefined));
  const { api, controller, ends, recorded } = setup({ facts, config: { podCheck: true } });
  api.put(good);
  api.put(request('req-other-pod', withPcrSpec({ podName: 'web-1', stubPKCS10Request: stub })));
  controller.start();
  await until(() => api.events.length === 2);
  await controller.stop();
  t.match(conditionOf(api, 'req-good'), { type: 'Issued' });
  t.match(conditionOf(api, 'req-other-pod'), { type: 'Failed', reason: 'PodMismatch' });
  t.match(api.events.find((e) => e.pcr.metadata.name === 'req-other-pod'), { type: 'Warning', reason: 'PodCertificateFailed', message: /^PodMismatch: / });
  t.equal(api.statusWrites.length, 2, 'one write each');
  t.ok(recorded.retries >= 1, 'the failed read was retried');
  t.same(ends.map((e) => e.result).sort(), ['failed', 'issued']);
  t.ok(facts.faults.count('getPod') >= 3);
});

void t.test('a namespace selector reads the request\'s Namespace for its labels', async (t) => {
  const facts = new FakePodFacts();
  facts.namespaces.set('team-a', { metadata: { name: 'team-a', labels: { 'pod-certificates': 'on' } } });
  facts.namespaces.set('team-b', { metadata: { name: 'team-b', labels: {} } });
  const { api, controller } = setup({ facts, config: { namespaces: { selector: { matchLabels: { 'pod-certificates': 'on' } } } } });
  api.put(request('req-a', named('req-a', 'team-a')));
  api.put(request('req-b', named('req-b', 'team-b')));
  controller.start();
  await until(() => api.statusWrites.length === 2);
  await controller.stop();
  t.match(conditionOf(api, 'req-a', 'team-a'), { type: 'Issued' });
  t.match(conditionOf(api, 'req-b', 'team-b'), { type: 'Denied', reason: 'CsrSignerPolicyDenied' });
  t.equal(facts.faults.count('getNamespace'), 2);
  t.equal(facts.faults.count('getPod'), 0, 'no Pod read without the Pod check');
});

void t.test('requests of the same name in two namespaces are two requests', async (t) => {
  const { api, controller } = setup({ config: { namespaces: { all: true } } });
  api.put(request('req-1', named('req-1', 'a')));
  api.put(request('req-1', named('req-1', 'b')));
  controller.start();
  await until(() => api.statusWrites.length === 2);
  await controller.stop();
  t.match(conditionOf(api, 'req-1', 'a'), { type: 'Issued' });
  t.match(conditionOf(api, 'req-1', 'b'), { type: 'Issued' });
});

void t.test('terminal requests and another signer\'s are never written', async (t) => {
  const { api, controller, issuer } = setup();
  api.put(request('req-done', (p) => ({ ...p, status: { conditions: [{ type: 'Failed', status: 'True', reason: 'X', message: 'y', lastTransitionTime: '2030-01-01T00:00:00Z' }] } })));
  api.put(request('req-foreign', withPcrSpec({ signerName: 'example.com/other', stubPKCS10Request: stub })));
  api.put(request('sentinel'));
  controller.start();
  await until(() => conditionOf(api, 'sentinel') !== undefined);
  await controller.stop();
  t.same(api.statusWrites.map((p) => p.metadata.name), ['sentinel']);
  t.equal(issuer.calls.length, 1);
});

void t.test('a 409 whose re-read shows another writer\'s condition ends the work: no second write, the certificate is recorded as not delivered', async (t) => {
  const { api, controller, recorded, lines, ends } = setup();
  api.put(request('raced'));
  api.faults.beforeNext('updateStatus', () => {
    const current = stored(api, 'raced');
    if (current) api.resource.put({ ...current, status: { conditions: [{ type: 'Denied', status: 'True', reason: 'Other', message: 'another signer', lastTransitionTime: '2030-01-01T00:00:00Z' }] } });
  });
  controller.start();
  await until(() => recorded.conflicts === 1);
  await pause(50, 'no second write may follow the conflict');
  await controller.stop();
  t.equal(api.statusWrites.length, 0, 'ours was refused, and none followed');
  t.match(conditionOf(api, 'raced'), { reason: 'Other' });
  t.equal(api.events.length, 0);
  t.same(ends, []);
  t.match(lines.filter((l) => l.audit === 'certificate-not-delivered'), [{ name: 'raced', why: 'other-status' }]);
});

void t.test('a 409 from an edit that left the request open decides again at once and writes once', async (t) => {
  const { api, controller, recorded } = setup();
  api.put(request('relabelled'));
  api.faults.beforeNext('updateStatus', () => {
    const current = stored(api, 'relabelled');
    if (current) api.resource.put({ ...current, metadata: { ...current.metadata, labels: { edited: 'yes' } } });
  });
  controller.start();
  await until(() => conditionOf(api, 'relabelled') !== undefined);
  await controller.stop();
  t.equal(recorded.conflicts, 1);
  t.equal(recorded.retries, 0, 'looked at again at once, not after a backoff');
  t.equal(api.statusWrites.length, 1);
  t.match(conditionOf(api, 'relabelled'), { type: 'Issued' });
});

for (const [what, error] of [
  ['a 504 from the API server\'s timeout', new KubeApiError(504, 'Timeout', 'the request timed out', undefined)],
  ['a reset connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
] as const) {
  void t.test(`a write stored whose answer was lost (${what}) costs no second certificate and is recorded once`, async (t) => {
    const { api, controller, issuer, ends, lines } = setup();
    api.put(request('lost'));
    // The watch lags: the retry sees the request as it was before the write landed.
    api.lagging = true;
    api.faults.failAfterNext('updateStatus', error);
    controller.start();
    await until(() => api.events.length === 1);
    await pause(50, 'no second certificate or record may follow');
    await controller.stop();
    t.equal(issuer.calls.length, 1, 'one certificate signed');
    t.equal(api.statusWrites.length, 1, 'one write stored');
    t.match(conditionOf(api, 'lost'), { type: 'Issued' });
    t.match(ends, [{ result: 'issued' }]);
    t.equal(lines.filter((l) => l.audit === 'certificate-issued').length, 1);
    t.equal(lines.filter((l) => l.audit === 'certificate-not-delivered').length, 0);
  });
}

/** A FakePcrApi whose next get reads the request, deletes it and answers only once the watch delivered the DELETED event. */
class DeletedDuringGet extends FakePcrApi {
  deletedDelivered = 0;
  raceNextGet = false;

  override watch(signerName: string, resourceVersion: string, timeout: number, onEvent: (e: WatchEvent<PodCertificateRequest>) => void, signal: AbortSignal): Promise<void> {
    return super.watch(signerName, resourceVersion, timeout, (e) => {
      onEvent(e);
      if (e.type === 'DELETED') this.deletedDelivered++;
    }, signal);
  }

  override async get(namespace: string, name: string): Promise<PodCertificateRequest> {
    if (!this.raceNextGet) return super.get(namespace, name);
    this.raceNextGet = false;
    const answer = await super.get(namespace, name);
    this.remove(namespace, name);
    await until(() => this.deletedDelivered > 0);
    return answer;
  }
}

void t.test('a request deleted while the re-read after a 409 was in flight is not put back: no certificate signed again and again', async (t) => {
  const api = new DeletedDuringGet();
  const { controller, issuer, recorded } = setup({ api });
  api.put(request('deleted-in-race'));
  api.faults.beforeNext('updateStatus', () => {
    const current = stored(api, 'deleted-in-race');
    if (current) api.resource.put({ ...current, metadata: { ...current.metadata, labels: { edited: 'yes' } } });
    api.raceNextGet = true;
  });
  controller.start();
  await until(() => recorded.conflicts === 1 && api.deletedDelivered === 1);
  await pause(100, 'a request put back in the cache would be signed and written again within this');
  await controller.stop();
  t.equal(issuer.calls.length, 1, 'signed once');
  t.equal(api.faults.count('updateStatus'), 1, 'written once');
  t.equal(api.faults.count('get'), 1);
});

void t.test('a write answered 404 (deleted, its DELETED event not seen yet) ends the work: nothing is retried', async (t) => {
  const { api, controller, issuer, recorded, lines } = setup();
  api.put(request('gone'));
  // The watch lags: the event that the request was deleted never arrives.
  api.lagging = true;
  api.faults.beforeNext('updateStatus', () => api.remove('shop', 'gone'));
  controller.start();
  await until(() => api.faults.count('updateStatus') === 1);
  await pause(100, 'a retry would sign and write again within this');
  await controller.stop();
  t.equal(issuer.calls.length, 1, 'signed once');
  t.equal(api.faults.count('updateStatus'), 1, 'written once');
  t.equal(recorded.retries, 0, 'not retried');
  t.equal(lines.filter((l) => l.audit === 'certificate-issued').length, 0);
  t.match(lines.filter((l) => l.audit === 'certificate-delivery-unknown'), [{ name: 'gone', why: 'deleted' }]);
});

void t.test('a write whose answer was lost, then the request deleted: the certificate is recorded as of unknown delivery, not as undelivered', async (t) => {
  const { api, controller, lines } = setup();
  api.put(request('deleted-unanswered'));
  // The write goes unanswered, and the request is deleted meanwhile (its DELETED event arrives).
  api.faults.failNext('updateStatus', new KubeApiError(504, 'Timeout', 'the request timed out', undefined));
  api.faults.beforeNext('updateStatus', () => api.remove('shop', 'deleted-unanswered'));
  controller.start();
  await until(() => lines.some((l) => l.audit === 'certificate-delivery-unknown'));
  await controller.stop();
  t.match(lines.filter((l) => l.audit === 'certificate-delivery-unknown'), [{ name: 'deleted-unanswered', why: 'deleted', serial: '01aa' }]);
  t.equal(lines.filter((l) => l.audit === 'certificate-not-delivered').length, 0);
});

void t.test('a write not stored and unanswered is sent again with the same certificate', async (t) => {
  const { api, controller, issuer } = setup();
  api.put(request('unanswered'));
  api.faults.failNext('updateStatus', new KubeApiError(504, 'Timeout', 'the request timed out', undefined));
  controller.start();
  await until(() => conditionOf(api, 'unanswered') !== undefined);
  await controller.stop();
  t.equal(issuer.calls.length, 1, 'the certificate of the first try is the one written');
  t.equal(api.faults.count('updateStatus'), 2);
  t.equal(api.statusWrites.length, 1);
});

void t.test('a write refused (422) is not sent again as it was: the next look decides anew', async (t) => {
  const { api, controller, issuer } = setup();
  api.put(request('refused'));
  api.faults.failNext('updateStatus', new KubeApiError(422, 'Invalid', 'spec.signerName: Forbidden: User "x" is not permitted to "sign" for signer "example.com/pods"', undefined));
  controller.start();
  await until(() => conditionOf(api, 'refused') !== undefined);
  await controller.stop();
  t.equal(issuer.calls.length, 2, 'a new decision, a new certificate');
  t.equal(api.statusWrites.length, 1);
});

void t.test('a denial whose answer was lost is recorded once, when seen', async (t) => {
  const { api, controller, ends } = setup();
  api.put(request('lost-denial', named('lost-denial', 'payments')));
  api.lagging = true;
  api.faults.failAfterNext('updateStatus', new KubeApiError(504, 'Timeout', 'the request timed out', undefined));
  controller.start();
  await until(() => api.events.length === 1);
  await pause(50, 'no second record may follow');
  await controller.stop();
  t.equal(api.statusWrites.length, 1);
  t.match(ends, [{ result: 'denied' }]);
});

void t.test('a CA that cannot give an hour: no condition, looked at again with a log line, and issued once the CA is renewed', async (t) => {
  const expiring: CertificateAuthority = { ...ca, certificate: { ...ca.certificate, notAfter: new Date(Date.now() + 30 * 60_000) } };
  let current = expiring;
  const { api, controller, lines, issuer } = setup({ ca: () => current });
  api.put(request('waiting'));
  controller.start();
  await until(() => lines.filter((l) => l.msg === 'not signed yet; looking again later').length >= 3);
  t.equal(api.statusWrites.length, 0, 'never a terminal condition for a CA problem');
  t.equal(issuer.calls.length, 0);
  t.match(lines.find((l) => l.msg === 'not signed yet; looking again later'), { level: 40, pcr: 'shop/waiting', reason: /\w/, retryInMs: /\d/ });
  current = ca;
  await until(() => conditionOf(api, 'waiting') !== undefined);
  await controller.stop();
  t.match(conditionOf(api, 'waiting'), { type: 'Issued' });
  t.equal(api.statusWrites.length, 1);
});

void t.test('while the CA cannot give an hour, a signer that reads Pods and Namespaces reads neither at each look', async (t) => {
  const expiring: CertificateAuthority = { ...ca, certificate: { ...ca.certificate, notAfter: new Date(Date.now() + 30 * 60_000) } };
  let current = expiring;
  const facts = new FakePodFacts();
  const pcr = request('waiting-facts', named('waiting-facts', 'team-a'));
  facts.namespaces.set('team-a', { metadata: { name: 'team-a', labels: { 'pod-certificates': 'on' } } });
  facts.pods.set('team-a/web-0', { metadata: { name: 'web-0', namespace: 'team-a', uid: pcr.spec.podUID }, spec: { nodeName: 'worker-1', serviceAccountName: 'web' } });
  const { api, controller, lines } = setup({ facts, ca: () => current, config: { podCheck: true, namespaces: { selector: { matchLabels: { 'pod-certificates': 'on' } } } } });
  api.put(pcr);
  controller.start();
  await until(() => lines.filter((l) => l.reason === 'CaExpiresTooSoon').length >= 3);
  t.equal(facts.faults.count('getPod', 'getNamespace'), 0, 'no reads while waiting on the CA');
  current = ca;
  await until(() => conditionOf(api, 'waiting-facts', 'team-a') !== undefined);
  await controller.stop();
  t.match(conditionOf(api, 'waiting-facts', 'team-a'), { type: 'Issued' });
  t.equal(facts.faults.count('getPod'), 1);
  t.equal(facts.faults.count('getNamespace'), 1);
});

void t.test('no CA loaded is a transient error: retried, never a condition', async (t) => {
  let loaded = false;
  const { api, controller, recorded } = setup({
    ca: () => {
      if (!loaded) throw new Error('no CA loaded for example.com/pods');
      return ca;
    },
  });
  api.put(request('early'));
  controller.start();
  await until(() => recorded.retries >= 2);
  t.equal(api.statusWrites.length, 0);
  loaded = true;
  await until(() => conditionOf(api, 'early') !== undefined);
  await controller.stop();
  t.match(conditionOf(api, 'early'), { type: 'Issued' });
});

void t.test('a chain over 100 KiB is the signer\'s configuration: no condition (never Failed), the request waits with one sentence, the certificate signed is recorded as not delivered', async (t) => {
  const { api, controller, lines } = setup({ issuer: recordingIssuer(MAX_CERTIFICATE_CHAIN_BYTES) });
  api.put(request('huge'));
  controller.start();
  await until(() => lines.filter((l) => l.reason === 'CertificateChainTooLong').length >= 2);
  await controller.stop();
  t.equal(api.statusWrites.length, 0, 'nothing written');
  t.match(lines.find((l) => l.reason === 'CertificateChainTooLong'), { level: 40, msg: 'not signed yet; looking again later', message: /more than the 102400 bytes a PodCertificateRequest may carry/ });
  t.match(lines.find((l) => l.audit === 'certificate-not-delivered'), { name: 'huge', why: 'chain-too-long' });
});

void t.test('a CA whose intermediates alone are over 100 KiB: the request waits and nothing is signed', async (t) => {
  const long: CertificateAuthority = { ...ca, chain: [new Uint8Array(80_000)] };
  const { api, controller, lines, issuer } = setup({ ca: () => long, signer: { ...podSigner({}), includeChain: true } });
  api.put(request('long-ca'));
  controller.start();
  await until(() => lines.filter((l) => l.reason === 'CertificateChainTooLong').length >= 2);
  await controller.stop();
  t.equal(issuer.calls.length, 0, 'nothing signed');
  t.equal(api.statusWrites.length, 0, 'nothing written');
  t.match(lines.find((l) => l.reason === 'CertificateChainTooLong'), { message: /^the certificate chain is 10\d{4} bytes of PEM, more than the 102400/ });
});

void t.test('v1 hides a 1.35 kubelet\'s legacy key fields: the request is read again through v1beta1 and issued', async (t) => {
  const { api, controller, issuer } = setup({ api: new FakePcrApi('v1', true) });
  api.put(legacy(request('legacy')));
  controller.start();
  await until(() => conditionOf(api, 'legacy') !== undefined);
  await controller.stop();
  t.match(conditionOf(api, 'legacy'), { type: 'Issued' });
  t.equal(api.faults.count('getLegacy'), 1);
  t.equal(issuer.calls[0]?.publicKey.kind.type, 'ec');
  t.notOk(stored(api, 'legacy')?.status?.certificateChain?.includes('pkix'), 'written through v1');
});

void t.test('v1 without v1beta1 cannot see the legacy key: no condition (the kubelet takes Failed as final), it waits with the sentence that says why, and is signed once v1beta1 is served', async (t) => {
  const { api, controller, lines } = setup({ api: new FakePcrApi('v1', false) });
  api.put(legacy(request('unreadable')));
  controller.start();
  await until(() => lines.filter((l) => l.reason === 'LegacyKeyUnreadable').length >= 2);
  t.equal(conditionOf(api, 'unreadable'), undefined, 'nothing written');
  t.match(lines.find((l) => l.reason === 'LegacyKeyUnreadable'), { level: 40, msg: 'not signed yet; looking again later', message: /no spec\.stubPKCS10Request.*v1beta1, which this cluster does not serve/ });
  t.ok(api.rediscoveries >= 2, 'discovery read again at each look (the real API bounds it to once a minute)');
  t.equal(api.faults.count('getLegacy'), 0);
  api.servesLegacy = true;
  await until(() => conditionOf(api, 'unreadable') !== undefined);
  await controller.stop();
  t.match(conditionOf(api, 'unreadable'), { type: 'Issued' });
  t.equal(api.statusWrites.length, 1);
});

void t.test('a getLegacy 404 because v1beta1 stopped being served: discovery is read again and the request waits, never Failed', async (t) => {
  const api = new FakePcrApi('v1', true);
  api.servesLegacy = false;
  const { controller, lines } = setup({ api });
  api.put(legacy(request('stopped')));
  controller.start();
  await until(() => lines.some((l) => l.reason === 'LegacyKeyUnreadable'));
  await controller.stop();
  t.ok(api.faults.count('getLegacy') >= 1);
  t.ok(api.rediscoveries >= 1);
  t.equal(api.statusWrites.length, 0, 'nothing written');
});

void t.test('v1beta1 reads the legacy fields itself', async (t) => {
  const { api, controller } = setup({ api: new FakePcrApi('v1beta1', true) });
  api.put(legacy(request('beta')));
  controller.start();
  await until(() => conditionOf(api, 'beta') !== undefined);
  await controller.stop();
  t.match(conditionOf(api, 'beta'), { type: 'Issued' });
  t.equal(api.faults.count('getLegacy'), 0);
});

void t.test('a bad proof of possession is Failed, never signed', async (t) => {
  const { api, controller, issuer } = setup({ api: new FakePcrApi('v1beta1', true) });
  const bad = legacy(request('forged'));
  api.put({ ...bad, spec: { ...bad.spec, podUID: 'another-pod-uid' } });
  controller.start();
  await until(() => conditionOf(api, 'forged') !== undefined);
  await controller.stop();
  t.match(conditionOf(api, 'forged'), { type: 'Failed' });
  t.equal(issuer.calls.length, 0);
});

void t.test('with pki issueForKey: the chain is a certificate for the request\'s key, with the SPIFFE URI and exactly the times written', async (t) => {
  const { api, controller } = setup({ realIssuer: true });
  api.put(request('real'));
  controller.start();
  await until(() => conditionOf(api, 'real') !== undefined);
  await controller.stop();
  const status = stored(api, 'real')?.status;
  t.match(status?.conditions, [{ type: 'Issued' }]);
  const leaf = new X509Certificate(status?.certificateChain ?? '');
  t.ok(leaf.publicKey.equals(testKey('p256').publicKey), 'issued to the requested key');
  t.ok(leaf.checkIssued(new X509Certificate(ca.certificate.der)), 'by the signer\'s CA');
  t.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/shop/sa/web');
  t.equal(new Date(leaf.validFrom).toISOString().replace('.000Z', 'Z'), status?.notBefore);
  t.equal(new Date(leaf.validTo).toISOString().replace('.000Z', 'Z'), status?.notAfter);
  t.match(status?.conditions?.[0]?.message, new RegExp(`serial ${leaf.serialNumber.toLowerCase().replace(/^0+/, '')}$`));
});
