/**
 * A request for a CA's own public key is refused, by every path that issues: a leaf
 * sharing the CA's key is never what anyone wants. Compared on the SubjectPublicKeyInfo
 * bytes, against the signing CA and every other certificate of its bundle.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import t from 'tap';
import { isCsrSignerError } from '../../src/errors.js';
import { issueCertificate, loadCertificateAuthority, parseRequestDer, signRequest, type CertificateAuthority, type SigningProfile } from '../../src/pki/index.js';
import { loadTestCa, makeOpensslCa, type CaKeyType, type TestCa } from '../helpers/ca.js';
import { rawRequest } from '../helpers/der-build.js';
import { needTool, tempDir } from '../helpers/tools.js';

if (!needTool(t, 'openssl')) process.exit(0);

const dir = tempDir();
/** Read at each use: a CA openssl has just made is not valid before the second it was made in. */
let now = new Date();
const later = (): Date => (now = new Date());
const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
const profile: SigningProfile = { usages: ['digital signature', 'client auth'], maxDurationMs: 3_600_000 };
const keyOf = (ca: TestCa): KeyObject => createPrivateKey(ca.keyPem);

/** "Reason: message" of the refusal, or 'issued'. */
const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(() => 'issued', (e: unknown) => {
    if (isCsrSignerError(e)) return `${e.reason}: ${e.message}`;
    throw e;
  });

const types: readonly CaKeyType[] = ['rsa2048', 'p256', 'ed25519'];

void t.test("a request for the CA's own key is refused with RequestKeyIsCaKey, for each kind of CA key", async (t) => {
  for (const type of types) {
    const files = makeOpensslCa(dir, `own-${type}`, type);
    const ca = await loadTestCa(files, later());
    const der = rawRequest({ privateKey: keyOf(files) });
    const expected = new RegExp(`^RequestKeyIsCaKey: the request's public key is the CA's own key \\("CN=own-${type} test CA,O=csr-signer tests"\\); a leaf must have a key of its own$`);
    t.match(await outcome(signRequest(der, profile, ca, { now, random })), expected, `${type}: signRequest refuses it`);
    t.match(await outcome(issueCertificate({ request: parseRequestDer(der), profile, ca, now, random })), expected, `${type}: issueCertificate refuses it`);
    const other = { ed25519: () => generateKeyPairSync('ed25519'), p256: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }), rsa2048: () => generateKeyPairSync('rsa', { modulusLength: 2048 }) }[type as 'p256']();
    t.equal(await outcome(signRequest(rawRequest({ privateKey: other.privateKey }), profile, ca, { now, random })), 'issued', `${type}: control: a key of its own is issued`);
  }
  t.end();
});

void t.test('the refusal is permanent', async (t) => {
  const files = makeOpensslCa(dir, 'permanent', 'p256');
  const ca = await loadTestCa(files, later());
  const error = await signRequest(rawRequest({ privateKey: keyOf(files) }), profile, ca, { now, random }).then(() => undefined, (e: unknown) => e);
  t.ok(isCsrSignerError(error) && error.permanent && error.code === 'CSR_SIGNER_ERR_REQUEST_KEY_IS_CA_KEY');
  t.end();
});

void t.test('the key of another certificate of the CA bundle (the other CA of a rotation) is refused too', async (t) => {
  const current = makeOpensslCa(dir, 'current', 'p256');
  const next = makeOpensslCa(dir, 'next', 'ed25519');
  const ca: CertificateAuthority = await loadCertificateAuthority({
    certificate: { name: 'bundle.pem', bytes: Buffer.from(current.certPem + next.certPem) },
    key: { name: 'current-key.pem', bytes: Buffer.from(current.keyPem) },
  }, later());
  t.equal(ca.extraTrust.length, 1, 'the next CA is in the bundle as trust');
  t.match(await outcome(signRequest(rawRequest({ privateKey: keyOf(next) }), profile, ca, { now, random })),
    /^RequestKeyIsCaKey: .*\("CN=next test CA,O=csr-signer tests"\)/, "the next CA's key");
  t.match(await outcome(signRequest(rawRequest({ privateKey: keyOf(current) }), profile, ca, { now, random })),
    /^RequestKeyIsCaKey: .*\("CN=current test CA,O=csr-signer tests"\)/, 'the signing CA key');
  t.end();
});

void t.test('loading a bundle of two key types leaves nothing behind that breaks the next CA load', async (t) => {
  // Node 20's KeyObject.equals across key types leaves an OpenSSL error queued that the next PEM key read trips on.
  const rsa = makeOpensslCa(dir, 'mixed-rsa', 'rsa2048');
  const ec = makeOpensslCa(dir, 'mixed-ec', 'p256');
  const ed = makeOpensslCa(dir, 'mixed-ed', 'ed25519');
  await loadCertificateAuthority({
    certificate: { name: 'mixed.pem', bytes: Buffer.from(rsa.certPem + ec.certPem) },
    key: { name: 'mixed-ec-key.pem', bytes: Buffer.from(ec.keyPem) },
  }, later());
  t.equal(await outcome(loadTestCa(ed, later())), 'issued', 'the next CA (an Ed25519 key, read from PEM) loads');
  t.end();
});
