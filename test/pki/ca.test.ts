/** Loading a CA: key formats, bundles and chains, every refusal naming its file, and no key material leaking. */
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import t from 'tap';
import {
  certificateAuthorityFrom, issueCertificate, loadCertificateAuthority, parseRequestDer, readCertificateBundle,
  type CertificateAuthority, type InMemoryKeyProvider, type KeyProvider,
} from '../../src/pki/index.js';
import { bitString, children, encode, encodeOid, readWhole, sequence, slice, Tag } from '../../src/pki/der.js';
import { makeOpensslCa, type TestCa } from '../helpers/ca.js';
import { buildRequest } from '../helpers/requests.js';
import { needTool, opensslVerify, run, tempDir, writeTemp } from '../helpers/tools.js';

if (!needTool(t, 'openssl')) process.exit(0);

const dir = tempDir();
const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
const read = (path: string): Buffer => readFileSync(path);
const openssl = (...args: string[]): void => {
  const r = run('openssl', args);
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
};

function load(certPath: string, keyPath: string, extra: { passphrase?: string; at?: Date } = {}): Promise<CertificateAuthority> {
  return loadCertificateAuthority({
    certificate: { name: certPath, bytes: read(certPath) },
    key: { name: keyPath, bytes: read(keyPath) },
    ...(extra.passphrase === undefined ? {} : { passphrase: extra.passphrase }),
  }, extra.at ?? new Date()); // the time of the call: a CA made after this file started is not valid before it was made
}

async function issuesVerifiable(t: { equal(a: unknown, b: unknown, m: string): unknown }, ca: CertificateAuthority, rootPem: string, untrusted?: string): Promise<string> {
  const issued = await issueCertificate({
    request: parseRequestDer(buildRequest({ commonName: 'leaf', dns: ['leaf.example.com'] })),
    profile: { usages: ['digital signature', 'server auth'], maxDurationMs: 3_600_000, includeChain: true },
    ca, now: new Date(), random,
  });
  const verified = opensslVerify(dir, rootPem, issued.pem, untrusted);
  t.equal(verified.code, 0, `openssl verifies: ${verified.stdout}${verified.stderr}`);
  return issued.pem;
}

/** Signs a CA certificate for `name` with `issuer`, as an intermediate. */
function intermediate(name: string, issuer: TestCa): TestCa {
  const keyPath = join(dir, `${name}-key.pem`);
  const csrPath = join(dir, `${name}.csr`);
  const certPath = join(dir, `${name}.pem`);
  const ext = writeTemp(dir, `${name}.ext`, 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath);
  openssl('req', '-new', '-key', keyPath, '-subj', `/CN=${name}`, '-out', csrPath);
  openssl('x509', '-req', '-in', csrPath, '-CA', issuer.certPath, '-CAkey', issuer.keyPath, '-CAcreateserial', '-days', '365', '-extfile', ext, '-out', certPath);
  return { certPath, keyPath, certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
}

const ec = makeOpensslCa(dir, 'ec', 'p256');
const rsa = makeOpensslCa(dir, 'rsa', 'rsa2048');

void t.test('every private key format Kubernetes tooling writes is accepted', async (t) => {
  const pkcs1 = join(dir, 'rsa-pkcs1.pem');
  openssl('pkey', '-in', rsa.keyPath, '-traditional', '-out', pkcs1);
  t.match(readFileSync(pkcs1, 'utf8'), 'BEGIN RSA PRIVATE KEY', 'fixture is PKCS#1');
  const sec1 = join(dir, 'ec-sec1.pem');
  openssl('ec', '-in', ec.keyPath, '-out', sec1);
  t.match(readFileSync(sec1, 'utf8'), 'BEGIN EC PRIVATE KEY', 'fixture is SEC1');
  const encrypted = join(dir, 'ec-encrypted.pem');
  openssl('pkcs8', '-topk8', '-in', ec.keyPath, '-v2', 'aes-256-cbc', '-passout', 'pass:correct horse', '-out', encrypted);
  const derKey = join(dir, 'ec-key.der');
  openssl('pkey', '-in', ec.keyPath, '-outform', 'DER', '-out', derKey);
  const derCert = join(dir, 'ec.der');
  openssl('x509', '-in', ec.certPath, '-outform', 'DER', '-out', derCert);
  const ed = makeOpensslCa(dir, 'ed', 'ed25519');
  const p384 = makeOpensslCa(dir, 'p384', 'p384');
  const cases: [string, () => Promise<CertificateAuthority>, string, string][] = [
    ['PKCS#8 ECDSA P-256', () => load(ec.certPath, ec.keyPath), ec.certPem, 'ecdsa-with-SHA256'],
    ['PKCS#8 RSA', () => load(rsa.certPath, rsa.keyPath), rsa.certPem, 'sha256WithRSAEncryption'],
    ['PKCS#1 RSA PRIVATE KEY', () => load(rsa.certPath, pkcs1), rsa.certPem, 'sha256WithRSAEncryption'],
    ['SEC1 EC PRIVATE KEY', () => load(ec.certPath, sec1), ec.certPem, 'ecdsa-with-SHA256'],
    ['encrypted PKCS#8 with its passphrase', () => load(ec.certPath, encrypted, { passphrase: 'correct horse' }), ec.certPem, 'ecdsa-with-SHA256'],
    ['DER key and DER certificate', () => load(derCert, derKey), ec.certPem, 'ecdsa-with-SHA256'],
    ['PKCS#8 Ed25519', () => load(ed.certPath, ed.keyPath), ed.certPem, 'Ed25519'],
    ['PKCS#8 ECDSA P-384', () => load(p384.certPath, p384.keyPath), p384.certPem, 'ecdsa-with-SHA384'],
  ];
  for (const [name, loader, rootPem, algorithm] of cases) {
    const ca = await loader();
    t.equal(ca.signatureAlgorithm.name, algorithm, `${name}: signs with ${algorithm}`);
    await issuesVerifiable(t, ca, rootPem);
  }
});

void t.test('a bundle: the certificate matching the key signs, its intermediates form the chain, roots stay out', async (t) => {
  const root = makeOpensslCa(dir, 'root', 'p256');
  const mid = intermediate('mid', root);
  const issuing = intermediate('issuing', mid);
  const bundlePath = writeTemp(dir, 'bundle.pem', issuing.certPem + mid.certPem + root.certPem);
  const ca = await load(bundlePath, issuing.keyPath);
  t.match(ca.certificate.subject, 'CN=issuing', 'the issuing intermediate signs');
  t.equal(ca.chain.length, 2, 'the chain holds the issuing and mid intermediates, not the root');
  t.equal(ca.extraTrust.length, 2, 'the other two certificates are kept as extra trust');
  const pem = await issuesVerifiable(t, ca, root.certPem, issuing.certPem + mid.certPem);
  t.equal(pem.match(/BEGIN CERTIFICATE/g)?.length, 3, 'leaf, then the two intermediates');
  t.ok(pem.endsWith(issuing.certPem + mid.certPem), 'leaf first, then issuing, then mid');
  const selfSigned = await load(ec.certPath, ec.keyPath);
  t.equal(selfSigned.chain.length, 0, 'a self-signed CA has no chain to append');
  const reordered = writeTemp(dir, 'bundle2.pem', root.certPem + mid.certPem + issuing.certPem);
  t.match((await load(reordered, issuing.keyPath)).certificate.subject, 'CN=issuing', 'bundle order does not matter');
});

void t.test('a CA renewed with the same key: the valid certificate signs, in either order, and the expired one stays trusted', async (t) => {
  const fixtures = join(import.meta.dirname, '..', 'fixtures', 'ca');
  const expiredPem = readFileSync(join(fixtures, 'ca-expired.pem'), 'utf8');
  const keyPath = join(fixtures, 'ca-expired-key.pem');
  const renewedPath = join(dir, 'renewed.pem');
  openssl('req', '-x509', '-new', '-key', keyPath, '-subj', '/O=csr-signer tests/CN=csr-signer test CA (renewed)', '-days', '30',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign', '-out', renewedPath);
  const renewedPem = readFileSync(renewedPath, 'utf8');
  for (const [name, text] of [['expired first', expiredPem + renewedPem], ['renewed first', renewedPem + expiredPem]] as const) {
    const ca = await load(writeTemp(dir, `renewed-${name.replace(' ', '-')}.pem`, text), keyPath);
    t.match(ca.certificate.subject, /\(renewed\)/, `${name}: the renewed certificate signs`);
    t.equal(ca.extraTrust.length, 1, `${name}: the expired one is kept as trust`);
  }
  await t.rejects(load(writeTemp(dir, 'expired-only.pem', expiredPem), keyPath), { name: 'CsrSignerError', kind: 'CaExpired' }, 'the expired one alone is still refused');
});

void t.test('every refusal names the file and the problem', async (t) => {
  const other = makeOpensslCa(dir, 'other', 'p256');
  const leafKey = join(dir, 'leaf-key.pem');
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', leafKey);
  const leafCert = join(dir, 'leaf.pem');
  openssl('req', '-x509', '-new', '-key', leafKey, '-subj', '/CN=not a ca', '-addext', 'basicConstraints=critical,CA:FALSE', '-out', leafCert);
  const noSign = makeOpensslCa(dir, 'nosign', 'p256', { extensions: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,digitalSignature', 'subjectKeyIdentifier=hash'] });
  const encrypted = join(dir, 'enc.pem');
  openssl('pkcs8', '-topk8', '-in', ec.keyPath, '-v2', 'aes-256-cbc', '-passout', 'pass:right', '-out', encrypted);
  const weak = join(dir, 'rsa1024-key.pem');
  openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', weak);
  const weakCert = join(dir, 'rsa1024.pem');
  openssl('req', '-x509', '-new', '-key', weak, '-subj', '/CN=weak', '-out', weakCert);
  const garbage = writeTemp(dir, 'garbage.pem', 'this is not a certificate\n');
  const keyInCertFile = writeTemp(dir, 'mixed.pem', ec.certPem + ec.keyPem);
  const brokenCert = writeTemp(dir, 'broken.pem', '-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n');
  const cases: [string, () => Promise<unknown>, string, RegExp][] = [
    ['a key from another CA', () => load(ec.certPath, other.keyPath), 'CaKeyMismatch', new RegExp(`^${other.keyPath}: the private key matches none of the 1 certificate in ${ec.certPath}$`)],
    ['a certificate that is not a CA', () => load(leafCert, leafKey), 'CaNotCa', /leaf\.pem: the certificate "CN=not a ca" is not a CA/],
    ['a CA whose keyUsage lacks keyCertSign', () => load(noSign.certPath, noSign.keyPath), 'CaNoCertSign', /nosign\.pem: .* keyUsage without keyCertSign/],
    ['an expired CA', () => load(ec.certPath, ec.keyPath, { at: new Date(Date.now() + 20 * 365 * 86_400_000) }), 'CaExpired', /ec\.pem: the CA certificate ".*" expired at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC/],
    ['an encrypted key without a passphrase', () => load(ec.certPath, encrypted), 'CaKeyPassphrase', /enc\.pem: the private key is encrypted and no passphrase was given/],
    ['an encrypted key with a wrong passphrase', () => load(ec.certPath, encrypted, { passphrase: 'wrong' }), 'CaKeyPassphrase', /enc\.pem: the private key cannot be decrypted/],
    ['an RSA-1024 CA key', () => load(weakCert, weak), 'CaUnsupportedKey', /rsa1024-key\.pem: RSA 1024-bit CA keys are not supported/],
    ['a certificate file of garbage', () => load(garbage, ec.keyPath), 'CaCertificateInvalid', /garbage\.pem: expected CERTIFICATE PEM blocks, found no PEM block/],
    ['a certificate file holding a private key', () => load(keyInCertFile, ec.keyPath), 'CaCertificateInvalid', /mixed\.pem: holds a PRIVATE KEY block/],
    ['a certificate that does not parse', () => load(brokenCert, ec.keyPath), 'CaCertificateInvalid', /broken\.pem: certificate 1 cannot be parsed/],
    ['a key file of garbage', () => load(ec.certPath, garbage), 'CaKeyInvalid', /garbage\.pem: no private key can be read$/],
    ['a key file holding a certificate', () => load(ec.certPath, ec.certPath), 'CaKeyInvalid', /ec\.pem: no private key can be read \(found one CERTIFICATE block\)/],
  ];
  for (const [name, loader, kind, message] of cases) {
    await t.rejects(loader(), { kind, message, permanent: false }, `refuses ${name}`);
  }
});

void t.test('the CA private key never shows in JSON, inspection, strings or errors', async (t) => {
  const ca = await load(ec.certPath, ec.keyPath);
  const secret = createPrivateKey(ec.keyPem).export({ format: 'jwk' }).d ?? '';
  const secretHex = Buffer.from(secret, 'base64url').toString('hex');
  const keyBody = ec.keyPem.split('\n')[1] ?? '';
  const renderings = [JSON.stringify(ca), inspect(ca, { depth: 20, showHidden: true }), (ca.keyProvider as InMemoryKeyProvider).toString(), inspect(ca.keyProvider, { showHidden: true })];
  for (const text of renderings) {
    t.notOk(text.includes(secret) || text.includes(secretHex) || text.includes(keyBody), 'no key material');
  }
  t.match(JSON.stringify(ca.keyProvider), 'redacted');
  const failure = (await load(ec.certPath, writeTemp(dir, 'partial-key.pem', ec.keyPem.slice(0, 120))).catch((e: unknown) => e)) as Error;
  t.notOk(`${failure.message} ${inspect(failure)}`.includes(keyBody.slice(0, 40)), 'a broken key file is not echoed in the error');
});

void t.test('any key provider can sign: the seam a KMS or PKCS#11 key will use', async (t) => {
  const privateKey = createPrivateKey(ec.keyPem);
  const calls: (string | null)[] = [];
  const provider: KeyProvider = {
    description: 'recording test provider',
    sign: (data, hash) => {
      calls.push(hash);
      return Promise.resolve(sign(hash, data, privateKey));
    },
  };
  const bundle = readCertificateBundle({ name: ec.certPath, bytes: read(ec.certPath) });
  const ca = certificateAuthorityFrom({ name: ec.certPath, bytes: read(ec.certPath) }, bundle, createPublicKey(privateKey), provider, { type: 'ec', curve: 'P-256' }, 'kms://test', new Date());
  await issuesVerifiable(t, ca, ec.certPem);
  t.same(calls, ['sha256'], 'the provider was asked once, with SHA-256');
  const failing: KeyProvider = { description: 'down', sign: () => Promise.reject(new Error('HSM unreachable')) };
  const broken = certificateAuthorityFrom({ name: ec.certPath, bytes: read(ec.certPath) }, bundle, createPublicKey(privateKey), failing, { type: 'ec', curve: 'P-256' }, 'kms://test', new Date());
  await t.rejects(issueCertificate({ request: parseRequestDer(buildRequest({ commonName: 'x' })), profile: { usages: ['client auth'], maxDurationMs: 3_600_000 }, ca: broken, now: new Date(), random }),
    { kind: 'SigningFailed', permanent: false, message: /HSM unreachable/ }, 'a provider failure is a transient SigningFailed');
});

void t.test('the committed CA fixtures load, or fail, as test/fixtures/ca/README.md says', async (t) => {
  const f = (name: string): string => join(import.meta.dirname, '..', 'fixtures', 'ca', name);
  const good: [string, string, string?][] = [
    ['ca-ec.pem', 'ca-ec-key.pem'], ['ca-ec.pem', 'ca-ec-sec1-key.pem'], ['ca-ec.pem', 'ca-encrypted-key.pem', 'correct horse'],
    ['ca-rsa.pem', 'ca-rsa-key.pem'], ['ca-ed25519.pem', 'ca-ed25519-key.pem'], ['ca-p384.pem', 'ca-p384-key.pem'], ['bundle.pem', 'intermediate-key.pem'],
  ];
  for (const [cert, key, passphrase] of good) {
    const ca = await load(f(cert), f(key), passphrase === undefined ? {} : { passphrase });
    t.ok(ca.certificate.isCa, `${cert} with ${key} loads`);
  }
  const bad: [string, string, string][] = [
    ['ca-ec.pem', 'ca-encrypted-key.pem', 'CaKeyPassphrase'], ['bundle-root.pem', 'intermediate-key.pem', 'CaKeyMismatch'],
    ['leaf-not-ca.pem', 'leaf-not-ca-key.pem', 'CaNotCa'], ['ca-no-cert-sign.pem', 'ca-no-cert-sign-key.pem', 'CaNoCertSign'],
    ['ca-expired.pem', 'ca-expired-key.pem', 'CaExpired'], ['garbage-cert.pem', 'ca-ec-key.pem', 'CaCertificateInvalid'], ['ca-ec.pem', 'mismatched-key.pem', 'CaKeyMismatch'],
  ];
  for (const [cert, key, kind] of bad) await t.rejects(load(f(cert), f(key)), { kind, message: new RegExp(`(${cert}|${key})`) }, `${cert} with ${key}: ${kind}`);
});

void t.test('a CA is used only within its validity: not before its notBefore, nor at or after its notAfter', async (t) => {
  const ca = await load(ec.certPath, ec.keyPath);
  const { notBefore, notAfter } = ca.certificate;
  const at = (ms: number): Date => new Date(ms);
  t.ok(await load(ec.certPath, ec.keyPath, { at: notBefore }), 'at its notBefore it loads');
  t.ok(await load(ec.certPath, ec.keyPath, { at: at(notAfter.getTime() - 1) }), 'a millisecond before its notAfter it loads');
  await t.rejects(load(ec.certPath, ec.keyPath, { at: at(notBefore.getTime() - 1000) }), {
    kind: 'CaNotYetValid', code: 'CSR_SIGNER_ERR_CA_NOT_YET_VALID', reason: 'CANotYetValid', permanent: false,
    message: new RegExp(`^${ec.certPath}: the CA certificate ".*" is not valid before \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\+0000 UTC$`),
  }, 'a second before its notBefore it is refused, naming the file and the notBefore');
  await t.rejects(load(ec.certPath, ec.keyPath, { at: notAfter }), { name: 'CsrSignerError', kind: 'CaExpired' }, 'at its notAfter it has expired');
});

void t.test('the authority refuses to sign before the CA\'s notBefore, whatever built it (a clock stepped back since loading)', async (t) => {
  const ca = await load(ec.certPath, ec.keyPath);
  const request = parseRequestDer(buildRequest({ commonName: 'leaf', dns: ['leaf.example.com'] }));
  const profile = { usages: ['client auth'], maxDurationMs: 3_600_000 };
  await t.rejects(issueCertificate({ request, profile, ca, now: new Date(ca.certificate.notBefore.getTime() - 60_000), random }), {
    kind: 'SignerNotYetValid', code: 'CSR_SIGNER_ERR_SIGNER_NOT_YET_VALID', permanent: false,
    message: /^the signer is not yet valid: NotBefore=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$/,
  }, 'a minute before: transient, retried until the CA is valid');
  t.ok(await issueCertificate({ request, profile, ca, now: ca.certificate.notBefore, random }), 'at its notBefore it signs');
});

void t.test('a key file with more than one private key is refused, whatever their formats; other blocks beside one key are not', async (t) => {
  const other = makeOpensslCa(dir, 'second', 'p256');
  const sec1 = join(dir, 'ec-sec1-key.pem');
  openssl('ec', '-in', ec.keyPath, '-out', sec1);
  const rsaPkcs1 = join(dir, 'rsa-pkcs1-key.pem');
  openssl('rsa', '-in', rsa.keyPath, '-traditional', '-out', rsaPkcs1);
  const encrypted = join(dir, 'second-enc.pem');
  openssl('pkcs8', '-topk8', '-in', other.keyPath, '-v2', 'aes-256-cbc', '-passout', 'pass:right', '-out', encrypted);
  const cases: [string, string, RegExp][] = [
    ['the matching key twice', ec.keyPem + ec.keyPem, /holds 2 private keys \(PRIVATE KEY, PRIVATE KEY\); it must hold exactly one$/],
    ['the matching key, then another', ec.keyPem + other.keyPem, /holds 2 private keys/],
    ['another key, then the matching one', other.keyPem + ec.keyPem, /holds 2 private keys/],
    ['a SEC1 and a PKCS#1 key', readFileSync(sec1, 'utf8') + readFileSync(rsaPkcs1, 'utf8'), /holds 2 private keys \(EC PRIVATE KEY, RSA PRIVATE KEY\)/],
    ['the key and an encrypted key', ec.keyPem + readFileSync(encrypted, 'utf8'), /holds 2 private keys \(PRIVATE KEY, ENCRYPTED PRIVATE KEY\)/],
    ['three keys', ec.keyPem + other.keyPem + rsa.keyPem, /holds 3 private keys/],
  ];
  for (const [name, text, message] of cases) {
    const path = writeTemp(dir, 'two-keys.pem', text);
    await t.rejects(load(ec.certPath, path), { kind: 'CaKeyAmbiguous', code: 'CSR_SIGNER_ERR_CA_KEY_AMBIGUOUS', reason: 'InvalidCAKey', permanent: false, message }, `refuses ${name}`);
    await t.rejects(load(ec.certPath, path, { passphrase: 'right' }), { name: 'CsrSignerError', kind: 'CaKeyAmbiguous' }, `${name}: a passphrase changes nothing`);
  }
  const withParams = join(dir, 'ecparam-key.pem');
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-out', withParams);
  const paramsCert = join(dir, 'ecparam.pem');
  openssl('req', '-x509', '-new', '-key', withParams, '-subj', '/CN=ecparam CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-out', paramsCert);
  t.match(readFileSync(withParams, 'utf8'), /BEGIN EC PARAMETERS[^]*BEGIN EC PRIVATE KEY/, 'openssl ecparam -genkey writes EC PARAMETERS before the key');
  t.ok(await load(paramsCert, withParams), 'EC PARAMETERS and one EC PRIVATE KEY load');
  t.ok(await load(ec.certPath, writeTemp(dir, 'key-and-cert.pem', ec.keyPem + ec.certPem)), 'one key followed by a certificate loads');
});

/**
 * A bundle certificate rebuilt with another SubjectPublicKeyInfo (its signature no longer
 * matters: the bundle reader does not verify it, as it does not for trust certificates).
 */
function withSpki(certDer: Uint8Array, spki: Uint8Array): Uint8Array {
  const cert = readWhole(certDer, Tag.sequence, 'Certificate');
  const [tbs, algorithm, signature] = children(certDer, cert);
  if (!tbs || !algorithm || !signature) throw new Error('not a certificate');
  const fields = children(certDer, tbs).map((f) => slice(certDer, f));
  fields[6] = spki; // [0] version, serial, signature, issuer, validity, subject, spki
  return sequence(encode(Tag.sequence, ...fields), slice(certDer, algorithm), slice(certDer, signature));
}
const pemOf = (der: Uint8Array): string => `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;

void t.test('a bundle certificate whose key Go would refuse is refused; one of an algorithm Go does not know is kept', async (t) => {
  const signing = makeOpensslCa(dir, 'bundle-keys', 'p256');
  const other = makeOpensslCa(dir, 'bundle-keys-other', 'p256');
  const otherDer = readCertificateBundle({ name: other.certPath, bytes: read(other.certPath) })[0]!.der;
  const unknownAlgorithm = sequence(sequence(encodeOid('1.3.6.1.4.1.55555.1')), bitString(Uint8Array.of(1, 2, 3)));
  const offCurve = Buffer.from(createPublicKey(read(other.keyPath)).export({ format: 'der', type: 'spki' }));
  offCurve[offCurve.length - 1]! ^= 1; // the last byte of the point's y: no longer on P-256

  const unknownFile = writeTemp(dir, 'bundle-unknown-key.pem', read(signing.certPath).toString() + pemOf(withSpki(otherDer, unknownAlgorithm)));
  const ca = await load(unknownFile, signing.keyPath);
  t.equal(ca.extraTrust.length, 1, 'the certificate with a key of an unknown algorithm stays in the bundle, as Go keeps it');
  await issuesVerifiable(t, ca, read(signing.certPath).toString());

  const offCurveFile = writeTemp(dir, 'bundle-off-curve.pem', read(signing.certPath).toString() + pemOf(withSpki(otherDer, offCurve)));
  await t.rejects(load(offCurveFile, signing.keyPath), {
    code: 'CSR_SIGNER_ERR_CA_CERTIFICATE',
    message: new RegExp(`^${offCurveFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: certificate 2 \\(.*\\) has a public key that cannot be decoded`),
  }, 'an EC point off its curve, which Go refuses, is refused naming the file and the certificate');

  // Found by the fuzz test: a certificate that walks, with a key too broken to name its algorithm.
  const broken = join(import.meta.dirname, '..', 'fixtures', 'ca', 'fuzz-rsa-ca-broken-spki.der');
  t.throws(() => readCertificateBundle({ name: broken, bytes: read(broken) }), { code: 'CSR_SIGNER_ERR_CA_CERTIFICATE', message: /has a public key that cannot be decoded/ },
    'a key too broken to name its algorithm is a CA certificate error, not a stray exception');
});
