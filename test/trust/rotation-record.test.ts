/**
 * RotationRecord against an in-process ConfigMap API: the bound is written before
 * a certificate and runs an hour ahead, so covers within it make no API call; it
 * merges with other writers on 409; a failed write rejects the cover (the
 * reconciler retries); latest() is exact for this process and inherits the figures
 * of earlier ones.
 */
import { pino } from 'pino';
import t from 'tap';
import { KubeApiError } from '../../src/kube/http.js';
import { fingerprint, parseRecord, recordLabel, RotationRecord } from '../../src/trust/rotation-record.js';
import { rotationStatus } from '../../src/trust/rotation-plan.js';
import { readCertificateBundle, type CaCertificate } from '../../src/pki/index.js';
import { makeOpensslCa } from '../helpers/ca.js';
import { FakeTrustApi } from '../helpers/fake-trust-api.js';
import { needTool, run, tempDir } from '../helpers/tools.js';

if (!needTool(t, 'openssl')) process.exit(0);

const SIGNER = 'example.com/serving';
const NS = 'csr-signer';
const NAME = 'csr-signer-rotation-record';
const HOUR = 3_600_000;
const logger = pino({ level: 'silent' });

const dir = tempDir('rotation-record-');
const testCas = [makeOpensslCa(dir, 'one', 'p256'), makeOpensslCa(dir, 'two', 'p256')];
const [caOne, caTwo] = testCas.map((c) => readCertificateBundle({ name: c.certPath, bytes: Buffer.from(c.certPem) })[0]) as [CaCertificate, CaCertificate];
const fpOne = fingerprint(caOne);
const fpTwo = fingerprint(caTwo);

const t0 = new Date('2026-06-01T12:00:00Z');
const plus = (ms: number, from = t0): Date => new Date(from.getTime() + ms);
const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const entry = (notAfter: Date, ca = caOne, signer = SIGNER): string => JSON.stringify({ signer, subject: ca.subject, notAfter: iso(notAfter) });

function setup(api = new FakeTrustApi()): { api: FakeTrustApi; record: RotationRecord } {
  return { api, record: new RotationRecord({ logger, store: { api, namespace: NS, name: NAME } }) };
}
const stored = (api: FakeTrustApi): Readonly<Record<string, string>> => api.configMap(NS, NAME)?.data ?? {};
const boundOf = (api: FakeTrustApi, fp = fpOne): string | undefined => parseRecord(stored(api)).get(fp)?.notAfter.toISOString();

void t.test('the fingerprint is the SHA-256 of the DER, as openssl prints it without colons', (t) => {
  const r = run('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', testCas[0]?.certPath ?? '']);
  t.equal(fpOne, r.stdout.trim().replace(/^.*=/, '').replaceAll(':', '').toLowerCase());
  t.not(fpOne, fpTwo);
  t.end();
});

void t.test('the first cover creates the ConfigMap, labelled, with the bound an hour past the NotAfter', async (t) => {
  const { api, record } = setup();
  await record.cover(SIGNER, caOne, t0);
  t.same(api.calls, ['getConfigMap', 'createConfigMap']);
  const cm = api.configMap(NS, NAME);
  t.match(cm?.metadata, { name: NAME, namespace: NS, labels: { [recordLabel]: 'true' } });
  t.same(cm?.data, { [fpOne]: entry(plus(HOUR)) }, 'keyed by fingerprint: signer, subject, bound');
});

void t.test('covers within the bound make no API call (the hot path), up to the bound itself', async (t) => {
  const { api, record } = setup();
  await record.cover(SIGNER, caOne, t0);
  const before = api.calls.length;
  for (let i = 0; i <= 60; i++) await record.cover(SIGNER, caOne, plus(i * 60_000));
  t.equal(api.calls.length, before, 'sixty-one covers within the hour: no call');
  await record.cover(SIGNER, caOne, plus(-HOUR));
  t.equal(api.calls.length, before, 'an earlier NotAfter: no call');
});

void t.test('a NotAfter past the bound advances it once, and the next hour is free again', async (t) => {
  const { api, record } = setup();
  await record.cover(SIGNER, caOne, t0);
  api.calls.length = 0;
  const later = plus(HOUR + 1000);
  await record.cover(SIGNER, caOne, later);
  t.same(api.calls, ['getConfigMap', 'updateConfigMap']);
  t.equal(boundOf(api), plus(HOUR, later).toISOString());
  await record.cover(SIGNER, caOne, plus(HOUR, later));
  t.same(api.calls, ['getConfigMap', 'updateConfigMap'], 'within the new bound: no call');
});

void t.test('the bound stops at the CA\'s own NotAfter, so a CA removed on the date rotation status gives is not "removed too early"', async (t) => {
  const { api, record } = setup();
  await record.cover(SIGNER, caOne, plus(-10 * 60_000, caOne.notAfter));
  t.equal(boundOf(api), caOne.notAfter.toISOString(), 'the CA\'s NotAfter, not an hour past the certificate');
  api.calls.length = 0;
  await record.cover(SIGNER, caOne, caOne.notAfter);
  t.same(api.calls, [], 'a certificate ending with the CA is still covered');
  const recorded = new Map([...parseRecord(stored(api))].map(([fp, e]) => [fp, e.notAfter]));
  const retireAfter = rotationStatus(SIGNER, [caTwo, caOne], recorded, t0, fingerprint).cas[1]?.retireAfter;
  t.same(retireAfter, caOne.notAfter, 'rotation status: it may leave after its NotAfter');
  const justAfter = plus(1000, caOne.notAfter);
  t.notOk(rotationStatus(SIGNER, [caTwo], recorded, justAfter, fingerprint).removedEarly, 'removed then: not too early');
});

void t.test('each CA has its own bound; a second CA adds its entry and keeps the first', async (t) => {
  const { api, record } = setup();
  await record.cover(SIGNER, caOne, t0);
  await record.cover(SIGNER, caTwo, plus(5 * HOUR));
  t.same(stored(api), { [fpOne]: entry(plus(HOUR)), [fpTwo]: entry(plus(6 * HOUR), caTwo) });
  t.equal(api.count('createConfigMap'), 1);
  t.equal(api.count('updateConfigMap'), 1);
});

void t.test('a 409 on update re-reads and merges: another writer\'s entries are kept', async (t) => {
  const { api, record } = setup();
  await record.cover(SIGNER, caOne, t0);
  api.beforeNext('updateConfigMap', () => {
    const cm = api.configMap(NS, NAME);
    if (cm) api.putConfigMap({ ...cm, data: { ...cm.data, [fpTwo]: entry(plus(9 * HOUR), caTwo, 'example.com/other') } });
  });
  api.calls.length = 0;
  await record.cover(SIGNER, caOne, plus(2 * HOUR));
  t.same(api.calls, ['getConfigMap', 'updateConfigMap', 'getConfigMap', 'updateConfigMap'], 'one conflict, read again, written');
  t.same(stored(api), { [fpOne]: entry(plus(3 * HOUR)), [fpTwo]: entry(plus(9 * HOUR), caTwo, 'example.com/other') });
});

void t.test('a 409 because another writer created the ConfigMap first merges into it', async (t) => {
  const { api, record } = setup();
  api.beforeNext('createConfigMap', () => {
    api.putConfigMap({ metadata: { name: NAME, namespace: NS, labels: { [recordLabel]: 'true' } }, data: { [fpTwo]: entry(plus(4 * HOUR), caTwo) } });
  });
  await record.cover(SIGNER, caOne, t0);
  t.same(api.calls, ['getConfigMap', 'createConfigMap', 'getConfigMap', 'updateConfigMap']);
  t.same(stored(api), { [fpTwo]: entry(plus(4 * HOUR), caTwo), [fpOne]: entry(plus(HOUR)) });
});

void t.test('after a 409 the larger figure wins, whoever wrote it', async (t) => {
  await t.test('another writer\'s larger bound for the same CA is kept and not written over', async (t) => {
    const { api, record } = setup();
    await record.cover(SIGNER, caOne, t0);
    api.beforeNext('updateConfigMap', () => {
      const cm = api.configMap(NS, NAME);
      if (cm) api.putConfigMap({ ...cm, data: { [fpOne]: entry(plus(10 * HOUR)) } });
    });
    api.calls.length = 0;
    await record.cover(SIGNER, caOne, plus(2 * HOUR));
    t.same(api.calls, ['getConfigMap', 'updateConfigMap', 'getConfigMap'], 'covered once read again: no second write');
    t.equal(boundOf(api), plus(10 * HOUR).toISOString());
    api.calls.length = 0;
    await record.cover(SIGNER, caOne, plus(9 * HOUR));
    t.same(api.calls, [], 'and the larger bound is known: no call');
  });
  await t.test('another writer\'s smaller bound for the same CA is advanced', async (t) => {
    const { api, record } = setup();
    await record.cover(SIGNER, caOne, t0);
    api.beforeNext('updateConfigMap', () => {
      const cm = api.configMap(NS, NAME);
      if (cm) api.putConfigMap({ ...cm, data: { [fpOne]: entry(plus(HOUR + 1000)) } });
    });
    await record.cover(SIGNER, caOne, plus(2 * HOUR));
    t.equal(boundOf(api), plus(3 * HOUR).toISOString());
  });
});

void t.test('a record that changes under every write gives up after five attempts with the conflict', async (t) => {
  const { api, record } = setup();
  await record.cover(SIGNER, caOne, t0);
  for (let i = 0; i < 5; i++) {
    api.beforeNext('updateConfigMap', () => {
      const cm = api.configMap(NS, NAME);
      if (cm) api.putConfigMap(cm);
    });
  }
  api.calls.length = 0;
  await t.rejects(record.cover(SIGNER, caOne, plus(2 * HOUR)), { status: 409, message: /modified/ });
  t.equal(api.count('updateConfigMap'), 5);
});

void t.test('a transient API error rejects the cover; the next cover writes', async (t) => {
  for (const method of ['getConfigMap', 'createConfigMap'] as const) {
    await t.test(`an error from ${method}`, async (t) => {
      const { api, record } = setup();
      api.failNext(method, new KubeApiError(503, 'ServiceUnavailable', 'etcd is busy', undefined));
      await t.rejects(record.cover(SIGNER, caOne, t0), { status: 503, message: /etcd is busy/ }, 'the reconciler retries the CSR');
      t.equal(api.configMap(NS, NAME), undefined, 'nothing written');
      await record.cover(SIGNER, caOne, t0);
      t.equal(boundOf(api), plus(HOUR).toISOString(), 'the retry covers it');
    });
  }
  await t.test('an error from updateConfigMap leaves the old bound, and the same NotAfter is tried again', async (t) => {
    const { api, record } = setup();
    await record.cover(SIGNER, caOne, t0);
    api.failNext('updateConfigMap');
    await t.rejects(record.cover(SIGNER, caOne, plus(2 * HOUR)), { status: 500, message: /injected/ });
    t.equal(boundOf(api), plus(HOUR).toISOString());
    api.calls.length = 0;
    await record.cover(SIGNER, caOne, plus(2 * HOUR));
    t.same(api.calls, ['getConfigMap', 'updateConfigMap'], 'not taken as covered');
    t.equal(boundOf(api), plus(3 * HOUR).toISOString());
  });
});

void t.test('concurrent covers for the same CA write once', async (t) => {
  const { api, record } = setup();
  await Promise.all(Array.from({ length: 10 }, (_, i) => record.cover(SIGNER, caOne, plus(i * 1000))));
  t.equal(api.writes.length, 1, 'one create');
  t.equal(boundOf(api), plus(HOUR).toISOString());
});

void t.test('load() brings the figures of earlier processes into latest()', async (t) => {
  const { api, record } = setup();
  api.putConfigMap({ metadata: { name: NAME, namespace: NS }, data: { [fpOne]: entry(plus(5 * HOUR)), [fpTwo]: entry(plus(2 * HOUR), caTwo, 'example.com/other') } });
  t.same([...record.latest()], [], 'nothing before the load');
  await record.load();
  t.same(Object.fromEntries(record.latest()), {
    [fpOne]: { signer: SIGNER, subject: caOne.subject, notAfter: plus(5 * HOUR) },
    [fpTwo]: { signer: 'example.com/other', subject: caTwo.subject, notAfter: plus(2 * HOUR) },
  });
  api.calls.length = 0;
  await record.cover(SIGNER, caOne, plus(4 * HOUR));
  t.same(api.calls, [], 'a loaded bound covers without a call');
});

void t.test('load() of an absent record is an empty one; a failed load rejects and the next cover reads again', async (t) => {
  const { api, record } = setup();
  await record.load();
  t.equal(record.latest().size, 0);
  const other = setup(api).record;
  api.failNext('getConfigMap');
  await t.rejects(other.load(), { status: 500, message: /injected/ });
  api.calls.length = 0;
  await other.cover(SIGNER, caOne, t0);
  t.same(api.calls, ['getConfigMap', 'createConfigMap']);
});

void t.test('issued() makes latest() exact for this process: the NotAfter, not the bound; the later one wins', async (t) => {
  const { record } = setup();
  await record.cover(SIGNER, caOne, plus(HOUR));
  record.issued(SIGNER, caOne, plus(HOUR));
  t.same(record.latest().get(fpOne), { signer: SIGNER, subject: caOne.subject, notAfter: plus(HOUR) }, 'exact, though the ConfigMap holds the bound');
  record.issued(SIGNER, caOne, plus(30 * 60_000));
  t.same(record.latest().get(fpOne)?.notAfter, plus(HOUR), 'an earlier certificate does not move it back');
  record.issued(SIGNER, caOne, plus(HOUR + 1));
  t.same(record.latest().get(fpOne)?.notAfter, plus(HOUR + 1));
});

void t.test('an inherited figure later than this process\'s issuance stays in latest()', async (t) => {
  const { api, record } = setup();
  api.putConfigMap({ metadata: { name: NAME, namespace: NS }, data: { [fpOne]: entry(plus(8 * HOUR)) } });
  await record.load();
  record.issued(SIGNER, caOne, plus(HOUR));
  t.same(record.latest().get(fpOne)?.notAfter, plus(8 * HOUR));
  record.issued(SIGNER, caOne, plus(9 * HOUR));
  t.same(record.latest().get(fpOne)?.notAfter, plus(9 * HOUR));
});

// runtime.ts calls load() at the start of every term. A replica that leads, loses the
// lease, and leads again must see what the leader in between issued, or its metric
// reads earlier than the truth (the record's promise is "late, never early").
void t.test('load() at a later term brings in what a leader in between recorded', async (t) => {
  const { api, record } = setup();
  await record.load();
  await record.cover(SIGNER, caOne, t0);
  record.issued(SIGNER, caOne, t0);
  // Another replica leads meanwhile and issues a later certificate.
  const cm = api.configMap(NS, NAME);
  if (cm) api.putConfigMap({ ...cm, data: { [fpOne]: entry(plus(20 * HOUR)) } });
  await record.load();
  t.same(record.latest().get(fpOne)?.notAfter, plus(20 * HOUR));
});

void t.test('with no store (--rotation-record "") nothing is called and latest() still counts this process', async (t) => {
  const record = new RotationRecord({ logger });
  const api = new FakeTrustApi();
  await record.load();
  await record.cover(SIGNER, caOne, t0);
  record.issued(SIGNER, caOne, t0);
  t.same(api.calls, []);
  t.same(record.latest().get(fpOne), { signer: SIGNER, subject: caOne.subject, notAfter: t0 });
});

void t.test('entries that do not parse are ignored, and kept as they are on write', async (t) => {
  const junk = {
    'not-a-fingerprint': entry(plus(9 * HOUR)),
    ['f'.repeat(64)]: 'not json',
    ['e'.repeat(64)]: JSON.stringify({ signer: 1, subject: 'x', notAfter: iso(t0) }),
    ['d'.repeat(64)]: JSON.stringify({ signer: 'a', subject: 'x', notAfter: 'yesterday' }),
    ['C'.repeat(64)]: entry(plus(9 * HOUR)),
  };
  const { api, record } = setup();
  api.putConfigMap({ metadata: { name: NAME, namespace: NS }, data: { ...junk, [fpTwo]: entry(plus(2 * HOUR), caTwo) } });
  await record.load();
  t.same([...record.latest().keys()], [fpTwo], 'only the well-formed entry');
  await record.cover(SIGNER, caOne, t0);
  t.same(stored(api), { ...junk, [fpTwo]: entry(plus(2 * HOUR), caTwo), [fpOne]: entry(plus(HOUR)) }, 'the others untouched');
});

void t.test('a custom headroom sets how far ahead the bound runs', async (t) => {
  const api = new FakeTrustApi();
  const record = new RotationRecord({ logger, store: { api, namespace: NS, name: NAME }, headroomMs: 60_000 });
  await record.cover(SIGNER, caOne, t0);
  t.equal(boundOf(api), plus(60_000).toISOString());
});

void t.test('a refusal (403, 404, 422) does not hold signing back: the cover resolves, one error is logged, no retry at once', async (t) => {
  for (const [status, reason] of [[403, 'Forbidden'], [404, 'NotFound'], [422, 'Invalid']] as const) {
    await t.test(`${status} ${reason}`, async (t) => {
      const lines: Record<string, unknown>[] = [];
      const api = new FakeTrustApi();
      const record = new RotationRecord({
        logger: pino({ level: 'error' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } }),
        store: { api, namespace: NS, name: NAME },
      });
      api.failNext('createConfigMap', new KubeApiError(status, reason, 'refused', undefined));
      await record.cover(SIGNER, caOne, t0);
      t.equal(api.configMap(NS, NAME), undefined);
      t.match(lines, [{ configMap: `${NS}/${NAME}`, err: { type: 'KubeApiError', message: 'refused', status, stack: String }, msg: /the rotation record cannot be written; signing goes on/ }]);
      api.calls.length = 0;
      await record.cover(SIGNER, caOne, plus(5 * HOUR));
      t.same(api.calls, [], 'not asked again on every certificate');
      record.issued(SIGNER, caOne, plus(5 * HOUR));
      t.same(record.latest().get(fpOne)?.notAfter, plus(5 * HOUR), 'the metric still counts this process');
    });
  }
});
