/**
 * Issuing: the in-tree signer's certificate profile and validity rules
 * (upstream's pkg/controller/certificates/authority and the vectors of its tests), every certificate checked by
 * openssl and parsed back with pkijs.
 */
import { createHash } from 'node:crypto';
import * as pkijs from 'pkijs';
import t from 'tap';
import { join } from 'node:path';
import {
  effectiveTtlMs, issueCertificate, mapUsages, parseRequestDer, signRequest, type CertificateAuthority, type SigningProfile,
} from '../../src/pki/index.js';
import { isCsrSignerError } from '../../src/errors.js';
import { loadTestCa, makeOpensslCa, type CaKeyType, type TestCa } from '../helpers/ca.js';
import { buildRequest, caTrueBasicConstraints, testKey, type RequestSpec, type TestKeyType } from '../helpers/requests.js';
import { needTool, opensslText, opensslVerify, run, tempDir, writeTemp } from '../helpers/tools.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const dir = tempDir();
const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
const serverProfile: SigningProfile = { usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'], maxDurationMs: 24 * HOUR };

if (!needTool(t, 'openssl')) process.exit(0);

const cas = new Map<CaKeyType, { files: TestCa; ca: CertificateAuthority }>();
async function testCa(type: CaKeyType): Promise<{ files: TestCa; ca: CertificateAuthority }> {
  let entry = cas.get(type);
  if (!entry) {
    const files = makeOpensslCa(dir, `ca-${type}`, type, { days: 36500 });
    entry = { files, ca: await loadTestCa(files) };
    cas.set(type, entry);
  }
  return entry;
}

interface Issued {
  readonly pem: string;
  readonly cert: pkijs.Certificate;
  readonly lifetimeMs: number;
}

async function issue(caType: CaKeyType, spec: RequestSpec, profile: SigningProfile, extra: { now?: Date; expirationSeconds?: number } = {}): Promise<Issued> {
  const { ca } = await testCa(caType);
  const request = parseRequestDer(buildRequest(spec));
  const issued = await issueCertificate({ request, profile, ca, now: extra.now ?? new Date(), random, ...(extra.expirationSeconds === undefined ? {} : { expirationSeconds: extra.expirationSeconds }) });
  const cert = pkijs.Certificate.fromBER(new Uint8Array(issued.der));
  // Every certificate issued here is also verified by openssl, at the time it was issued for. openssl's strict
  // mode refuses keyCertSign on a non-CA leaf, which the in-tree signer issues for `cert sign`: check those unstrict.
  const verified = opensslVerify(dir, (await testCa(caType)).files.certPem, issued.pem, undefined, { at: extra.now ?? new Date(), strict: !profile.usages.includes('cert sign') });
  if (verified.code !== 0) throw new Error(`openssl refused the certificate: ${verified.stdout}${verified.stderr}`);
  return { pem: issued.pem, cert, lifetimeMs: cert.notAfter.value.getTime() - cert.notBefore.value.getTime() };
}

const extensionIds = (cert: pkijs.Certificate): string[] => (cert.extensions ?? []).map((e) => e.extnID);

void t.test('every CA key type signs every request key type, and openssl -x509_strict verifies the result', async (t) => {
  const caTypes: [CaKeyType, string][] = [
    ['p256', 'ecdsa-with-SHA256'], ['p384', 'ecdsa-with-SHA384'], ['p521', 'ecdsa-with-SHA512'],
    ['rsa2048', 'sha256WithRSAEncryption'], ['ed25519', 'ED25519'],
  ];
  const requestTypes: TestKeyType[] = ['p256', 'p384', 'p521', 'rsa2048', 'ed25519'];
  for (const [caType, algorithm] of caTypes) {
    for (const key of requestTypes) {
      const { pem } = await issue(caType, { key, commonName: `leaf-${key}`, dns: ['leaf.example.com'] }, serverProfile);
      const verified = opensslVerify(dir, (await testCa(caType)).files.certPem, pem);
      t.equal(verified.code, 0, `${caType} CA, ${key} request: ${verified.stdout}${verified.stderr}`);
      t.match(opensslText(pem), `Signature Algorithm: ${algorithm}`, `${caType} CA signs with ${algorithm}`);
    }
  }
  const leaf = writeTemp(dir, 'sslserver.pem', (await issue('p256', { dns: ['srv.example.com'] }, serverProfile)).pem);
  const serverCheck = run('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', (await testCa('p256')).files.certPath, leaf]);
  t.equal(serverCheck.code, 0, 'a server-auth certificate passes openssl -purpose sslserver');
});

void t.test('the certificate carries exactly the in-tree profile, in Go\'s extension order', async (t) => {
  const { files, ca } = await testCa('p256');
  const spec: RequestSpec = {
    key: 'rsa2048', commonName: 'system:node:worker-1', organizations: ['system:nodes'],
    dns: ['worker-1.example.com'], ips: ['10.0.0.7', 'fd00::7'], emails: ['ops@example.com'], uris: ['help://me@what:8080/where/when?why=true'],
    extensions: [
      { oid: '1.2.3.4.5', value: Uint8Array.of(0x05, 0x00).buffer },
      { oid: '2.5.29.15', critical: true, value: Uint8Array.of(0x03, 0x02, 0x01, 0x06).buffer },
    ],
  };
  const { pem, cert } = await issue('p256', spec, serverProfile);
  const text = opensslText(pem);
  t.equal(cert.version, 2, 'version is v3');
  t.same(extensionIds(cert), ['2.5.29.15', '2.5.29.37', '2.5.29.19', '2.5.29.14', '2.5.29.35', '2.5.29.17'], 'KU, EKU, BC, SKI, AKI, SAN; the requested extra extensions are dropped');
  t.match(text, /Key Usage: critical\s+Digital Signature, Key Encipherment\n/, 'keyUsage is critical with the requested bits');
  t.match(text, /Extended Key Usage: \s*\n\s+TLS Web Server Authentication, TLS Web Client Authentication\n/, 'EKU server then client auth');
  t.match(text, /Basic Constraints: critical\s+CA:FALSE\n/, 'basicConstraints CA:FALSE, critical');
  t.match(text, /DNS:worker-1.example.com, email:ops@example.com, IP Address:10.0.0.7, IP Address:FD00:0:0:0:0:0:0:7, URI:help:\/\/me@what:8080\/where\/when\?why=true/, 'SANs in Go order DNS, email, IP, URI');
  t.notMatch(text, /Subject Alternative Name: critical/, 'SAN is not critical when the subject is not empty');
  t.match(text, `Issuer: O=csr-signer tests,CN=ca-p256 test CA`, 'issuer is the CA subject');
  t.match(text, 'Subject: CN=system:node:worker-1,O=system:nodes', 'subject as requested');
  const request = parseRequestDer(buildRequest(spec));
  const certSubject = new Uint8Array(cert.subject.toSchema().toBER(false));
  t.same(Buffer.from(certSubject), Buffer.from(request.subjectDer), 'subject bytes are copied byte for byte');
  const ski = cert.extensions?.find((e) => e.extnID === '2.5.29.14')?.parsedValue as { valueBlock: { valueHexView: Uint8Array } };
  t.same(Buffer.from(ski.valueBlock.valueHexView), createHash('sha1').update(request.publicKey.keyBits).digest(), 'SKI is SHA-1 of the subjectPublicKey bits');
  const aki = cert.extensions?.find((e) => e.extnID === '2.5.29.35')?.parsedValue as pkijs.AuthorityKeyIdentifier;
  t.same(Buffer.from(aki.keyIdentifier?.valueBlock.valueHexView ?? []), Buffer.from(ca.certificate.subjectKeyId ?? []), 'AKI is the CA SKI');
  t.equal(cert.issuer.toString(), pkijs.Certificate.fromBER(Buffer.from(files.certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64')).subject.toString(), 'issuer equals CA subject');
  if (run('sh', ['-c', 'command -v cfssl']).code === 0) {
    const info = run('cfssl', ['certinfo', '-cert', '-'], { input: pem });
    t.equal(info.code, 0, `Go's x509 parser (cfssl certinfo) accepts the certificate: ${info.stderr}`);
  }
});

void t.test('a request with an empty subject gets a critical SAN', async (t) => {
  const { pem } = await issue('p256', { dns: ['only-san.example.com'] }, serverProfile);
  t.match(opensslText(pem), /Subject Alternative Name: critical/);
});

void t.test('a request asking for no key usage bits gets no keyUsage extension (vector 21)', async (t) => {
  const clientOnly = await issue('p256', { commonName: 'c' }, { usages: ['client auth'], maxDurationMs: HOUR });
  t.same(extensionIds(clientOnly.cert), ['2.5.29.37', '2.5.29.19', '2.5.29.14', '2.5.29.35']);
  const signingOnly = await issue('p256', { commonName: 'c' }, { usages: ['signing'], maxDurationMs: HOUR });
  t.same(extensionIds(signingOnly.cert), ['2.5.29.15', '2.5.29.19', '2.5.29.14', '2.5.29.35']);
  t.match(opensslText(signingOnly.pem), /Key Usage: critical\s+Digital Signature\n/);
});

void t.test('usage strings map to keyUsage and extKeyUsage as the in-tree signer maps them', async (t) => {
  const bits = (usages: string[]): string => Buffer.from(mapUsages(usages).keyUsage ?? []).toString('hex');
  const cases: { name: string; usages: string[]; keyUsage: string; eku: string[] }[] = [
    { name: 'client auth twice gives one clientAuth (vector 28)', usages: ['client auth', 'client auth'], keyUsage: '', eku: ['1.3.6.1.5.5.7.3.2'] },
    { name: 'cert sign and encipher only set keyCertSign|encipherOnly, no EKU (vector 29)', usages: ['cert sign', 'encipher only'], keyUsage: '0005', eku: [] },
    { name: 'ocsp signing, crl sign, s/mime, content commitment (vector 30)', usages: ['ocsp signing', 'crl sign', 's/mime', 'content commitment'], keyUsage: '0142', eku: ['1.3.6.1.5.5.7.3.4', '1.3.6.1.5.5.7.3.9'] },
    { name: 'digital signature and key encipherment', usages: ['digital signature', 'key encipherment'], keyUsage: '05a0', eku: [] },
    { name: 'decipher only uses the second byte', usages: ['decipher only'], keyUsage: '070080', eku: [] },
    { name: 'EKUs come out in Go enum order whatever the request order', usages: ['netscape sgc', 'microsoft sgc', 'timestamping', 'ipsec user', 'ipsec tunnel', 'ipsec end system', 'email protection', 'code signing', 'client auth', 'server auth', 'any'], keyUsage: '',
      eku: ['2.5.29.37.0', '1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.3', '1.3.6.1.5.5.7.3.4', '1.3.6.1.5.5.7.3.5', '1.3.6.1.5.5.7.3.6', '1.3.6.1.5.5.7.3.7', '1.3.6.1.5.5.7.3.8', '1.3.6.1.4.1.311.10.3.3', '2.16.840.1.113730.4.1'] },
    { name: 'key agreement and data encipherment', usages: ['key agreement', 'data encipherment'], keyUsage: '0318', eku: [] },
    { name: 'key agreement alone is bit 4 (RFC 5280 keyAgreement), not dataEncipherment', usages: ['key agreement'], keyUsage: '0308', eku: [] },
    { name: 'data encipherment alone is bit 3 (RFC 5280 dataEncipherment), not keyAgreement', usages: ['data encipherment'], keyUsage: '0410', eku: [] },
  ];
  for (const c of cases) {
    t.equal(bits(c.usages), c.keyUsage, `${c.name}: keyUsage`);
    t.same(mapUsages(c.usages).extKeyUsages, c.eku, `${c.name}: EKU`);
  }
  t.throws(() => mapUsages(['unsupported string']), { kind: 'UnrecognizedUsage', message: 'unrecognized usage values: ["unsupported string"]' }, 'an unknown usage is refused with the in-tree message (vector 31)');
  t.throws(() => mapUsages(['server auth', 'bogus', 'x y']), { message: 'unrecognized usage values: ["bogus" "x y"]' }, 'every unknown usage is listed');
  const all = ['signing', 'digital signature', 'content commitment', 'key encipherment', 'key agreement', 'data encipherment', 'cert sign', 'crl sign', 'encipher only', 'decipher only',
    'any', 'server auth', 'client auth', 'code signing', 'email protection', 's/mime', 'ipsec end system', 'ipsec tunnel', 'ipsec user', 'timestamping', 'ocsp signing', 'microsoft sgc', 'netscape sgc'];
  t.equal(all.length, 23);
  const { pem } = await issue('p256', { commonName: 'everything' }, { usages: all, maxDurationMs: HOUR });
  const text = opensslText(pem);
  t.match(text, 'Digital Signature, Non Repudiation, Key Encipherment, Data Encipherment, Key Agreement, Certificate Sign, CRL Sign, Encipher Only, Decipher Only', 'all 23 usages: every keyUsage bit');
  t.match(text, 'Any Extended Key Usage, TLS Web Server Authentication, TLS Web Client Authentication, Code Signing, E-mail Protection, IPSec End System, IPSec Tunnel, IPSec User, Time Stamping, OCSP Signing, Microsoft Server Gated Crypto, Netscape Server Gated Crypto', 'all 23 usages: every EKU');
  t.match(text, /Basic Constraints: critical\s+CA:FALSE/, 'cert sign never makes a CA certificate');
});

void t.test('lifetimes follow spec.expirationSeconds and the cluster maximum (vectors 18, 32, 33)', async (t) => {
  const now = new Date(Date.UTC(2030, 0, 1, 12, 0, 0));
  const cases: { name: string; max: number; seconds?: number; lifetime: number }[] = [
    { name: '1800 s under a 1 h maximum gives 30 min, plus the 5 min backdate', max: HOUR, seconds: 1800, lifetime: 35 * MINUTE },
    { name: '10800 s under a 1 h maximum is capped at 1 h', max: HOUR, seconds: 10800, lifetime: HOUR + 5 * MINUTE },
    { name: '-60 s is raised to 10 min', max: HOUR, seconds: -60, lifetime: 15 * MINUTE },
    { name: '599 s is raised to 10 min', max: HOUR, seconds: 599, lifetime: 15 * MINUTE },
    { name: '600 s gives 10 min', max: HOUR, seconds: 600, lifetime: 15 * MINUTE },
    { name: '3600 s gives 1 h', max: HOUR, seconds: 3600, lifetime: HOUR + 5 * MINUTE },
    { name: 'no expirationSeconds gives the maximum, 1 h', max: HOUR, lifetime: HOUR + 5 * MINUTE },
    { name: 'no expirationSeconds under 24 h gives exactly 24 h', max: 24 * HOUR, lifetime: 24 * HOUR },
    { name: '24 h under 24 h gives 24 h', max: 24 * HOUR, seconds: 86400, lifetime: 24 * HOUR },
    { name: '48 h under 24 h is capped at 24 h', max: 24 * HOUR, seconds: 172800, lifetime: 24 * HOUR },
    { name: '20 h gives 20 h', max: 24 * HOUR, seconds: 72000, lifetime: 20 * HOUR },
    { name: '10 h gives 10 h', max: 24 * HOUR, seconds: 36000, lifetime: 10 * HOUR },
    { name: '8 h is not short-lived: exactly 8 h', max: 24 * HOUR, seconds: 28800, lifetime: 8 * HOUR },
    { name: '2 h is short-lived: 2 h 5 min', max: 24 * HOUR, seconds: 7200, lifetime: 2 * HOUR + 5 * MINUTE },
    { name: '30 min gives 35 min', max: 24 * HOUR, seconds: 1800, lifetime: 35 * MINUTE },
    { name: '10 min gives 15 min', max: 24 * HOUR, seconds: 600, lifetime: 15 * MINUTE },
    { name: 'a maximum under 10 minutes wins when the request asks for more', max: 5 * MINUTE, seconds: 1200, lifetime: 10 * MINUTE },
    { name: 'a request under 10 minutes is raised to 10 minutes even above a smaller maximum', max: 5 * MINUTE, seconds: 60, lifetime: 15 * MINUTE },
  ];
  for (const c of cases) {
    const issued = await issue('p256', { commonName: 'panda' }, { usages: ['client auth'], maxDurationMs: c.max }, { now, ...(c.seconds === undefined ? {} : { expirationSeconds: c.seconds }) });
    t.equal(issued.lifetimeMs, c.lifetime, c.name);
    t.equal(issued.cert.notBefore.value.getTime(), now.getTime() - 5 * MINUTE, `${c.name}: NotBefore is backdated 5 minutes`);
  }
});

void t.test('NotAfter never passes the CA, and an expired CA refuses with the in-tree messages (vectors 24, 26, 27)', async (t) => {
  const { ca } = await testCa('p256');
  const caEnd = ca.certificate.notAfter;
  const at = (ms: number): Date => new Date(caEnd.getTime() + ms);
  const capped = await issue('p256', { commonName: 'c' }, { usages: ['client auth'], maxDurationMs: 48 * HOUR }, { now: at(-24 * HOUR) });
  t.equal(capped.cert.notAfter.value.getTime(), caEnd.getTime(), 'a 48 h certificate from a CA with 24 h left ends with the CA');
  const goTime = (d: Date): string => d.toISOString().replace('T', ' ').replace(/\.000Z$/, ' +0000 UTC');
  await t.rejects(issue('p256', { commonName: 'c' }, serverProfile, { now: at(0) }), {
    kind: 'CertificateExpiredInPast', permanent: false, message: `refusing to sign a certificate that expired in the past: NotAfter=${goTime(caEnd)}`,
  }, 'a CA that expired just now: the certificate would have expired in the past');
  await t.rejects(issue('p256', { commonName: 'c' }, serverProfile, { now: at(10 * MINUTE) }), {
    kind: 'SignerExpired', permanent: false, message: `the signer has expired: NotAfter=${goTime(caEnd)}`,
  }, 'a CA that expired more than 5 minutes ago: the signer has expired');
});

void t.test('times are UTCTime through 2049 and GeneralizedTime from 2050', async (t) => {
  const { pem } = await issue('p256', { commonName: 'y2050' }, { usages: ['client auth'], maxDurationMs: 2 * HOUR }, { now: new Date(Date.UTC(2049, 11, 31, 23, 30, 0)) });
  const parsed = run('openssl', ['asn1parse', '-i'], { input: pem });
  t.match(parsed.stdout, /UTCTIME\s+:491231232500Z/, 'NotBefore in 2049 is UTCTime');
  t.match(parsed.stdout, /GENERALIZEDTIME\s+:20500101013000Z/, 'NotAfter in 2050 is GeneralizedTime');
  t.match(opensslText(pem), 'Not After : Jan  1 01:30:00 2050 GMT');
});

void t.test('serial numbers are random, positive, at most 128 bits, and never zero', async (t) => {
  const { ca } = await testCa('p256');
  const request = parseRequestDer(buildRequest({ commonName: 's' }));
  const serials = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const issued = await issueCertificate({ request, profile: serverProfile, ca, now: new Date(), random });
    t.equal(opensslVerify(dir, (await testCa('p256')).files.certPem, issued.pem).code, 0, 'openssl verifies it');
    const serial = pkijs.Certificate.fromBER(new Uint8Array(issued.der)).serialNumber.toBigInt();
    t.ok(serial > 0n && serial < 2n ** 128n, `serial ${issued.serialHex} is in (0, 2^128)`);
    serials.add(issued.serialHex);
  }
  t.equal(serials.size, 20, 'twenty issues, twenty serials');
  let calls = 0;
  const zeroFirst = (n: number): Uint8Array => (calls++ === 0 ? new Uint8Array(n) : new Uint8Array(n).fill(0xff));
  const issued = await issueCertificate({ request, profile: serverProfile, ca, now: new Date(), random: zeroFirst });
  t.equal(issued.serialHex, '00' + 'ff'.repeat(16), 'an all-zero draw is drawn again; a high bit gets a leading zero byte');
});

void t.test('an unknown usage at issue time is a typed, permanent error and nothing is signed', async (t) => {
  const err = await issue('p256', { commonName: 'x' }, { usages: ['server auth', 'teleport'], maxDurationMs: HOUR }).catch((e: unknown) => e);
  t.ok(isCsrSignerError(err), 'a CsrSignerError');
  t.match(err, { kind: 'UnrecognizedUsage', permanent: true, reason: 'UnrecognizedUsage', code: 'CSR_SIGNER_ERR_UNRECOGNIZED_USAGE' });
});

void t.test('a CA without a subjectKeyIdentifier issues certificates without AKI, as Go does', async (t) => {
  const files = makeOpensslCa(dir, 'ca-no-ski', 'p256', { extensions: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign', 'subjectKeyIdentifier=none', 'authorityKeyIdentifier=none'] });
  const ca = await loadTestCa(files);
  t.equal(ca.certificate.subjectKeyId, undefined);
  const issued = await issueCertificate({ request: parseRequestDer(buildRequest({ commonName: 'n' })), profile: serverProfile, ca, now: new Date(), random });
  t.notOk(extensionIds(pkijs.Certificate.fromBER(new Uint8Array(issued.der))).includes('2.5.29.35'), 'no AKI');
  t.equal(opensslVerify(dir, files.certPem, issued.pem, undefined, { strict: false }).code, 0, 'openssl verifies it (not strictly: strict mode requires an AKI)');
  t.match(opensslVerify(dir, files.certPem, issued.pem).stdout + opensslVerify(dir, files.certPem, issued.pem).stderr, /Authority Key Identifier/i, 'and strict mode says why it refuses');
});

void t.test('a request for a CA under a profile with isCa gets CA:TRUE, critical, pathlen 0, and can sign a leaf', async (t) => {
  const { files } = await testCa('p256');
  const caProfile: SigningProfile = { usages: ['cert sign', 'crl sign', 'digital signature'], maxDurationMs: 24 * HOUR, isCa: true };
  const spec: RequestSpec = { commonName: 'intermediate', extensions: [{ oid: '2.5.29.19', critical: true, value: caTrueBasicConstraints() }] };
  const { pem, cert } = await issue('p256', spec, caProfile);
  const text = opensslText(pem);
  t.match(text, /Basic Constraints: critical\s+CA:TRUE, pathlen:0\n/, 'openssl shows CA:TRUE, pathlen:0, critical');
  t.match(text, /Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign\n/, 'keyUsage still comes from the usages');
  t.same(extensionIds(cert), ['2.5.29.15', '2.5.29.19', '2.5.29.14', '2.5.29.35'], 'the same extensions in the same order as a leaf');
  t.equal(opensslVerify(dir, files.certPem, pem).code, 0, 'openssl -x509_strict verifies the new CA against the root');
  // The new CA signs a leaf with openssl; the chain root → intermediate → leaf verifies.
  const key = writeTemp(dir, 'intermediate-key.pem', testKey('p256').privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const intermediate = writeTemp(dir, 'intermediate.pem', pem);
  const leafKey = join(dir, 'leaf-under-intermediate-key.pem');
  const leafCsr = join(dir, 'leaf-under-intermediate.csr');
  t.equal(run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', leafKey, '-subj', '/CN=leaf', '-out', leafCsr]).code, 0, 'openssl makes a leaf request');
  const leaf = run('openssl', ['x509', '-req', '-in', leafCsr, '-CA', intermediate, '-CAkey', key, '-days', '1', '-extfile', writeTemp(dir, 'leaf.ext', 'basicConstraints=critical,CA:FALSE\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\nsubjectAltName=DNS:leaf\n')]);
  t.equal(leaf.code, 0, `openssl signs a leaf with the new CA: ${leaf.stderr}`);
  const chained = opensslVerify(dir, files.certPem, leaf.stdout, pem);
  t.equal(chained.code, 0, `openssl verifies root → new CA → leaf: ${chained.stdout}${chained.stderr}`);
});

void t.test('a request for a CA under a leaf profile is refused, by issueCertificate and signRequest alike', async (t) => {
  const { ca } = await testCa('p256');
  const der = buildRequest({ commonName: 'wants-ca', extensions: [{ oid: '2.5.29.19', critical: true, value: caTrueBasicConstraints() }] });
  const expected = { kind: 'CertificateAuthorityRequested', permanent: true, message: /basicConstraints CA:TRUE/ };
  await t.rejects(issueCertificate({ request: parseRequestDer(der), profile: serverProfile, ca, now: new Date(), random }), expected, 'issueCertificate refuses');
  await t.rejects(signRequest(der, serverProfile, ca, { now: new Date(), random }), expected, 'signRequest refuses');
  await t.rejects(signRequest(der, { ...serverProfile, isCa: false }, ca, { now: new Date(), random }), expected, 'isCa false is no permission');
  const issued = await signRequest(der, { ...serverProfile, isCa: true }, ca, { now: new Date(), random });
  t.match(opensslText(issued.pem), /CA:TRUE, pathlen:0/, 'with isCa signRequest issues the CA');
});

void t.test('defaultDurationMs is the lifetime when the request names none, never above the maximum', async (t) => {
  const now = new Date(Date.UTC(2030, 0, 1, 12, 0, 0));
  const cases: { name: string; profile: Pick<SigningProfile, 'maxDurationMs' | 'defaultDurationMs'>; seconds?: number; lifetime: number }[] = [
    { name: 'no expirationSeconds: the default of 24 h under a 720 h maximum', profile: { maxDurationMs: 720 * HOUR, defaultDurationMs: 24 * HOUR }, lifetime: 24 * HOUR },
    { name: 'no expirationSeconds: a short default of 1 h is short-lived (+5 min)', profile: { maxDurationMs: 720 * HOUR, defaultDurationMs: HOUR }, lifetime: HOUR + 5 * MINUTE },
    { name: 'no default: the maximum', profile: { maxDurationMs: 48 * HOUR }, lifetime: 48 * HOUR },
    { name: 'a default above the maximum is capped at the maximum', profile: { maxDurationMs: 10 * HOUR, defaultDurationMs: 20 * HOUR }, lifetime: 10 * HOUR },
    { name: 'expirationSeconds wins over the default', profile: { maxDurationMs: 720 * HOUR, defaultDurationMs: 24 * HOUR }, seconds: 72 * 3600, lifetime: 72 * HOUR },
    { name: 'expirationSeconds above the maximum is capped, whatever the default', profile: { maxDurationMs: 48 * HOUR, defaultDurationMs: 24 * HOUR }, seconds: 96 * 3600, lifetime: 48 * HOUR },
  ];
  for (const c of cases) {
    const issued = await issue('p256', { commonName: 'd' }, { usages: ['client auth'], ...c.profile }, { now, ...(c.seconds === undefined ? {} : { expirationSeconds: c.seconds }) });
    t.equal(issued.lifetimeMs, c.lifetime, c.name);
    const ttl = effectiveTtlMs(c.profile.maxDurationMs, c.seconds, c.profile.defaultDurationMs);
    t.ok(ttl === c.lifetime || ttl + 5 * MINUTE === c.lifetime, `${c.name}: effectiveTtlMs agrees (${ttl} ms)`);
  }
});
