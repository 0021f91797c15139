/**
 * certificateAuthorityFromKey: a CA whose key can only be asked to sign (a key on a
 * PKCS#11 token). A test signature decides which certificate of the bundle is the key's,
 * never the public key the key's holder shows; none verifies → Pkcs11KeyMismatch.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import t from 'tap';
import { isCsrSignerError } from '../../src/errors.js';
import { caKeyKind } from '../../src/pki/ca.js';
import {
  certificateAuthorityFromKey, InMemoryKeyProvider, readCertificateBundle, signRequest, type KeyProvider, type NamedBytes,
} from '../../src/pki/index.js';
import type { Hash } from '../../src/pki/signature.js';
import { makeOpensslCa, type CaKeyType } from '../helpers/ca.js';
import { rawRequest } from '../helpers/der-build.js';
import { needTool, opensslVerify, tempDir } from '../helpers/tools.js';

if (!needTool(t, 'openssl')) process.exit(0);

const dir = tempDir();
const later = (): Date => new Date(Date.now() + 2000);
const bundleOf = (name: string, ...pems: string[]): NamedBytes => ({ name, bytes: Buffer.from(pems.join('')) });
const providerOf = (key: KeyObject, description: string): InMemoryKeyProvider => InMemoryKeyProvider.fromKeyObject(key, description);

/** A provider that records what it is asked to sign. */
class RecordingProvider implements KeyProvider {
  readonly description = 'recording';
  readonly signed: { data: Uint8Array; hash: Hash | null }[] = [];
  bound: KeyObject | undefined;
  constructor(private readonly inner: KeyProvider) {}
  bindPublicKey(key: KeyObject): void {
    this.bound = key;
  }
  async sign(data: Uint8Array, hash: Hash | null): Promise<Uint8Array> {
    this.signed.push({ data: Uint8Array.from(data), hash });
    return this.inner.sign(data, hash);
  }
}

const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(() => 'loaded', (e: unknown) => {
    if (isCsrSignerError(e)) return `${e.kind}: ${e.message}`;
    throw e;
  });

const types: readonly CaKeyType[] = ['p256', 'p384', 'p521', 'rsa2048', 'ed25519'];

void t.test('the certificate whose key verifies a test signature signs, for each kind of CA key', async (t) => {
  for (const type of types) {
    const ca = makeOpensslCa(dir, `key-${type}`, type);
    const other = makeOpensslCa(dir, `other-${type}`, type);
    const key = createPrivateKey(ca.keyPem);
    const provider = new RecordingProvider(providerOf(key, type));
    const certificates = bundleOf('bundle.pem', other.certPem, ca.certPem);
    const bundle = readCertificateBundle(certificates);
    const loaded = await certificateAuthorityFromKey(certificates, bundle, { provider, keyKind: caKeyKind(key, type) }, 'pkcs11:token=ca;object=k', later());
    t.equal(loaded.certificate.subject, `CN=key-${type} test CA,O=csr-signer tests`, `${type}: the key's certificate, not the first of the bundle`);
    t.equal(loaded.keyProvider, provider, `${type}: signs through the provider`);
    t.equal(loaded.extraTrust.length, 1, `${type}: the other certificate is kept as trust`);
    t.equal(provider.signed.length, 1, `${type}: one test signature`);
    t.equal(provider.signed[0]?.data.length, 32, `${type}: over 32 bytes`);
    t.equal(provider.signed[0]?.hash, loaded.signatureAlgorithm.hash, `${type}: with the CA's own hash`);
    t.ok(provider.bound?.equals(createPublicKey(ca.keyPem)), `${type}: the provider is told the chosen certificate's public key`);
    // What it signs then verifies with openssl against the certificate chosen.
    const request = rawRequest({ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey });
    const leaf = await signRequest(request, { usages: ['digital signature', 'client auth'], maxDurationMs: 3_600_000 }, loaded,
      { now: new Date(), random: (n) => crypto.getRandomValues(new Uint8Array(n)) });
    t.equal(opensslVerify(dir, ca.certPem, leaf.pem).code, 0, `${type}: a certificate it issues verifies with openssl`);
  }
});

void t.test('two challenges never give the same signed bytes', async (t) => {
  const ca = makeOpensslCa(dir, 'fresh', 'p256');
  const key = createPrivateKey(ca.keyPem);
  const provider = new RecordingProvider(providerOf(key, 'p256'));
  const certificates = bundleOf('ca.pem', ca.certPem);
  for (let i = 0; i < 2; i++) await certificateAuthorityFromKey(certificates, readCertificateBundle(certificates), { provider, keyKind: caKeyKind(key, 'k') }, 'k', later());
  t.not(Buffer.from(provider.signed[0]?.data ?? []).toString('hex'), Buffer.from(provider.signed[1]?.data ?? []).toString('hex'));
});

void t.test('a key that matches none of the certificates is refused with one sentence', async (t) => {
  const ca = makeOpensslCa(dir, 'mismatch-ca', 'p256');
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const certificates = bundleOf('/etc/ca/tls.crt', ca.certPem);
  const bundle = readCertificateBundle(certificates);
  const mismatch = 'Pkcs11KeyMismatch: pkcs11:token=ca;object=cakey: a test signature made with the token key verifies with none of the 1 certificate in /etc/ca/tls.crt, so none of them is this key\'s certificate';
  t.equal(await outcome(certificateAuthorityFromKey(certificates, bundle, { provider: providerOf(stranger, 'x'), keyKind: { type: 'ec', curve: 'P-256' } }, 'pkcs11:token=ca;object=cakey', later())),
    mismatch, 'another key of the same kind');
  // The token shows the certificate's public key, but the private key it signs with is another: the signature decides.
  const lying = { provider: providerOf(stranger, 'x'), keyKind: { type: 'ec', curve: 'P-256' } as const, publicKey: createPublicKey(ca.keyPem) };
  t.equal(await outcome(certificateAuthorityFromKey(certificates, bundle, lying, 'pkcs11:token=ca;object=cakey', later())), mismatch,
    'a public key shown by the token is not trusted alone');
  const rsa = createPrivateKey(makeOpensslCa(dir, 'mismatch-rsa', 'rsa2048').keyPem);
  t.equal(await outcome(certificateAuthorityFromKey(certificates, bundle, { provider: providerOf(rsa, 'rsa'), keyKind: { type: 'rsa', bits: 2048 } }, 'pkcs11:token=ca;object=cakey', later())),
    mismatch, 'a key of another kind');
  // The right key, but declared of another kind: its signature is not even tried against the certificate.
  const right = createPrivateKey(ca.keyPem);
  t.equal(await outcome(certificateAuthorityFromKey(certificates, bundle, { provider: providerOf(right, 'p256'), keyKind: { type: 'ec', curve: 'P-384' } }, 'pkcs11:token=ca;object=cakey', later())),
    mismatch, 'a key kind other than the certificate\'s');
});

void t.test('a provider that cannot sign rejects with its own error, and the CA checks still apply', async (t) => {
  const ca = makeOpensslCa(dir, 'checks', 'p256');
  const certificates = bundleOf('ca.pem', ca.certPem);
  const bundle = readCertificateBundle(certificates);
  const failing: KeyProvider = { description: 'failing', sign: () => Promise.reject(new Error('the token does not answer')) };
  await t.rejects(certificateAuthorityFromKey(certificates, bundle, { provider: failing, keyKind: { type: 'ec', curve: 'P-256' } }, 'k', later()),
    { message: 'the token does not answer' });
  const key = createPrivateKey(ca.keyPem);
  const expired = new Date(Date.now() + 3651 * 86_400_000);
  t.match(await outcome(certificateAuthorityFromKey(certificates, bundle, { provider: providerOf(key, 'p256'), keyKind: caKeyKind(key, 'k') }, 'k', expired)),
    /^CaExpired: ca\.pem: the CA certificate "CN=checks test CA,O=csr-signer tests" expired at /, 'an expired certificate of the key');
  const leafOnly = makeOpensslCa(dir, 'not-ca', 'p256', { extensions: ['basicConstraints=critical,CA:FALSE'] });
  const notCa = bundleOf('leaf.pem', leafOnly.certPem);
  const leafKey = createPrivateKey(leafOnly.keyPem);
  t.equal(await outcome(certificateAuthorityFromKey(notCa, readCertificateBundle(notCa), { provider: providerOf(leafKey, 'p256'), keyKind: caKeyKind(leafKey, 'k') }, 'k', later())),
    'CaNotCa: leaf.pem: the certificate "CN=not-ca test CA,O=csr-signer tests" is not a CA (basicConstraints CA:TRUE is missing)');
  await t.rejects(certificateAuthorityFromKey(certificates, bundle, { provider: providerOf(key, 'p256'), keyKind: caKeyKind(key, 'k') }, 'k', later(), new Uint8Array(8)),
    /at least 32 bytes/, 'a short challenge is a programming mistake');
});
