/**
 * issueForKey: a certificate for a verified key with a subject, subjectAltNames and a
 * validity the caller decided (pod certificates). Each certificate is verified by
 * openssl and read back with pkijs; Go reads them in test/oracle/issue-for-key.test.ts.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pkijs from 'pkijs';
import t, { type Test } from 'tap';
import { CsrSignerError } from '../../src/errors.js';
import {
  issueForKey, loadCertificateAuthority, readPodCertificateKey, signRequest, type CertificateAuthority, type IssuedCertificate, type KeyIssueInput,
  type PublicKey, type SigningProfile,
} from '../../src/pki/index.js';
import { noSubjectAltNames } from '../../src/pki/san.js';
import { loadTestCa, makeOpensslCa, must } from '../helpers/ca.js';
import { buildRequest, type TestKeyType } from '../helpers/requests.js';
import { needTool, opensslVerify, run, tempDir, writeTemp } from '../helpers/tools.js';

if (!needTool(t, 'openssl')) process.exit(0);

const dir = tempDir();
const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
const profile: SigningProfile = { usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'], maxDurationMs: 3_600_000 };
const rootFiles = makeOpensslCa(dir, 'root', 'p256');
const ca = await loadTestCa(rootFiles);
const spiffe = 'spiffe://cluster.local/ns/shop/sa/builder';

/** A key as the signer has it: read from a stub request, as for a PodCertificateRequest. */
async function keyOf(type: TestKeyType): Promise<PublicKey> {
  return (await readPodCertificateKey({ podUID: 'uid', stubPKCS10Request: buildRequest({ key: type }) })).publicKey;
}

/** A validity inside the CA's: from the next whole second after its NotBefore plus `startSeconds`, for `seconds`. */
function validity(startSeconds = 60, seconds = 3600, of: CertificateAuthority = ca): { notBefore: Date; notAfter: Date } {
  const start = Math.ceil(of.certificate.notBefore.getTime() / 1000) * 1000 + startSeconds * 1000;
  return { notBefore: new Date(start), notAfter: new Date(start + seconds * 1000) };
}

async function input(change: Partial<KeyIssueInput> = {}): Promise<KeyIssueInput> {
  return {
    publicKey: await keyOf('p256'), subject: {}, subjectAltNames: { ...noSubjectAltNames, uris: [spiffe] },
    profile, ca, validity: validity(), random, ...change,
  };
}

function read(issued: IssuedCertificate): pkijs.Certificate {
  return pkijs.Certificate.fromBER(Uint8Array.from(issued.der));
}

function verifies(t: Test, issued: IssuedCertificate, rootPem = rootFiles.certPem, untrusted?: string): void {
  const at = new Date(read(issued).notBefore.value.getTime() + 1000);
  const r = opensslVerify(dir, rootPem, issued.pem.split(/(?<=-----END CERTIFICATE-----\n)/)[0] ?? '', untrusted, { at });
  t.equal(r.code, 0, `openssl -x509_strict verifies: ${r.stdout}${r.stderr}`);
}

const extension = (cert: pkijs.Certificate, oid: string): pkijs.Extension | undefined => cert.extensions?.find((e) => e.extnID === oid);

void t.test('the validity is written exactly as given: no backdate, no cut', async (t) => {
  const v = validity(3600, 86400);
  const issued = await issueForKey(await input({ validity: v }));
  const cert = read(issued);
  t.equal(cert.notBefore.value.toISOString(), v.notBefore.toISOString());
  t.equal(cert.notAfter.value.toISOString(), v.notAfter.toISOString());
  t.same(issued.validity, v, 'and returned as written');
  verifies(t, issued);
});

void t.test('each key type the API accepts gets its certificate, with the key and its SKI', async (t) => {
  for (const type of ['rsa3072', 'rsa4096', 'p256', 'p384', 'p521', 'ed25519'] as const) {
    const publicKey = await keyOf(type);
    const issued = await issueForKey(await input({ publicKey }));
    const cert = read(issued);
    t.same(Buffer.from(cert.subjectPublicKeyInfo.toSchema().toBER(false)), Buffer.from(publicKey.spki), `${type}: the key as given`);
    t.ok(extension(cert, '2.5.29.14'), `${type}: a subjectKeyIdentifier`);
    verifies(t, issued);
  }
});

void t.test('an empty subject is the empty Name, and then the subjectAltName extension is critical', async (t) => {
  const cert = read(await issueForKey(await input()));
  t.equal(Buffer.from(cert.subject.toSchema().toBER(false)).toString('hex'), '3000');
  t.equal(extension(cert, '2.5.29.17')?.critical, true);
  const uris = (extension(cert, '2.5.29.17')?.parsedValue as pkijs.AltName).altNames.map((n) => [n.type, n.value as string]);
  t.same(uris, [[6, spiffe]], 'the SPIFFE ID as a URI subjectAltName');
});

void t.test('a subject: O then CN, UTF8Strings, one RDN each; the subjectAltName is then not critical', async (t) => {
  const issued = await issueForKey(await input({ subject: { commonName: 'builder', organizations: ['shop', 'team'] } }));
  const cert = read(issued);
  t.same(cert.subject.typesAndValues.map((a) => [a.type, a.value.idBlock.tagNumber, a.value.valueBlock.value]), [
    ['2.5.4.10', 12, 'shop'], ['2.5.4.10', 12, 'team'], ['2.5.4.3', 12, 'builder'],
  ]);
  const text = run('openssl', ['x509', '-noout', '-subject', '-nameopt', 'RFC2253'], { input: issued.pem });
  t.equal(text.stdout.trim(), 'subject=CN=builder,O=team,O=shop', 'openssl reads three RDNs');
  t.equal(extension(cert, '2.5.29.17')?.critical, false);
  verifies(t, issued);
});

void t.test('DNS and URI names together, in Go\'s order; usages as the profile says', async (t) => {
  const issued = await issueForKey(await input({
    subject: { commonName: 'builder' },
    subjectAltNames: { ...noSubjectAltNames, uris: [spiffe], dnsNames: ['builder.shop.svc', 'builder.shop.svc.cluster.local'] },
  }));
  const cert = read(issued);
  const names = (extension(cert, '2.5.29.17')?.parsedValue as pkijs.AltName).altNames.map((n) => [n.type, n.value as string]);
  t.same(names, [[2, 'builder.shop.svc'], [2, 'builder.shop.svc.cluster.local'], [6, spiffe]]);
  t.same((extension(cert, '2.5.29.37')?.parsedValue as pkijs.ExtKeyUsage).keyPurposes, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  t.same((extension(cert, '2.5.29.19')?.parsedValue as pkijs.BasicConstraints).cA, false, 'a leaf');
  t.match(issued.serialHex, /^[0-9a-f]+$/);
  verifies(t, issued);
});

void t.test('the extensions are those of a CSR issued the same way, in the same order', async (t) => {
  const viaCsr = read(await signRequest(buildRequest({ key: 'p256', dns: ['a.example'] }), profile, ca, { now: new Date(), random }));
  const viaKey = read(await issueForKey(await input({ subjectAltNames: { ...noSubjectAltNames, dnsNames: ['a.example'] } })));
  t.same(viaKey.extensions?.map((e) => e.extnID), viaCsr.extensions?.map((e) => e.extnID));
});

void t.test('with includeChain the PEM holds the leaf, then the CA\'s chain', async (t) => {
  const keyPath = join(dir, 'intermediate-key.pem');
  const csrPath = join(dir, 'intermediate.csr');
  const certPath = join(dir, 'intermediate.pem');
  const ext = writeTemp(dir, 'intermediate.ext', 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  must(run('openssl', ['genpkey', '-algorithm', 'ED25519', '-out', keyPath]), 'genpkey');
  must(run('openssl', ['req', '-new', '-key', keyPath, '-subj', '/CN=pods intermediate', '-out', csrPath]), 'req');
  must(run('openssl', ['x509', '-req', '-in', csrPath, '-CA', rootFiles.certPath, '-CAkey', rootFiles.keyPath, '-CAcreateserial', '-days', '30', '-extfile', ext, '-out', certPath]), 'x509');
  const intermediatePem = readFileSync(certPath, 'utf8');
  const intermediate = await loadCertificateAuthority({
    certificate: { name: certPath, bytes: Buffer.from(intermediatePem + rootFiles.certPem) }, key: { name: keyPath, bytes: readFileSync(keyPath) },
  }, new Date());
  t.ok(intermediate.chain.length >= 1, 'the intermediate has a chain');
  const issued = await issueForKey(await input({ ca: intermediate, profile: { ...profile, includeChain: true }, validity: validity(1, 3600, intermediate) }));
  const blocks = issued.pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g) ?? [];
  t.equal(blocks.length, 1 + intermediate.chain.length);
  t.equal(blocks[1]?.replace(/\s/g, ''), intermediatePem.replace(/\s/g, ''), 'the leaf, then its issuer');
  verifies(t, issued, rootFiles.certPem, intermediatePem);
  const without = await issueForKey(await input({ ca: intermediate, validity: validity(1, 3600, intermediate) }));
  t.equal(without.pem.match(/BEGIN CERTIFICATE/g)?.length, 1, 'without includeChain: the leaf only');
});

async function refusal(t: Test, change: Partial<KeyIssueInput>, kind: string, message: RegExp, permanent: boolean): Promise<void> {
  const e = await issueForKey(await input(change)).then(() => undefined, (error: unknown) => error);
  t.ok(e instanceof CsrSignerError, `a CsrSignerError: ${String(e)}`);
  if (!(e instanceof CsrSignerError)) return;
  t.equal(e.kind, kind);
  t.match(e.message, message);
  t.equal(e.permanent, permanent, permanent ? 'permanent' : 'transient');
}

void t.test('a validity the CA cannot give, or not in whole seconds, is refused transiently', async (t) => {
  const caFrom = ca.certificate.notBefore.getTime();
  const caTo = ca.certificate.notAfter.getTime();
  const cases: [string, { notBefore: Date; notAfter: Date }, RegExp][] = [
    ['past the CA\'s NotAfter', { notBefore: new Date(caTo - 3_600_000), notAfter: new Date(caTo + 1000) }, /is not inside the CA's NotBefore=.*, NotAfter=/],
    ['before the CA\'s NotBefore', { notBefore: new Date(Math.floor(caFrom / 1000) * 1000 - 1000), notAfter: new Date(Math.floor(caFrom / 1000) * 1000 + 3_600_000) }, /is not inside the CA's/],
    ['NotBefore in milliseconds', { notBefore: new Date(validity().notBefore.getTime() + 1), notAfter: validity().notAfter }, /is not in whole seconds/],
    ['NotAfter in milliseconds', { notBefore: validity().notBefore, notAfter: new Date(validity().notAfter.getTime() + 500) }, /is not in whole seconds/],
    ['empty', { notBefore: validity().notBefore, notAfter: validity().notBefore }, /NotAfter is not after NotBefore/],
    ['not a time', { notBefore: new Date(NaN), notAfter: validity().notAfter }, /not a valid time/],
  ];
  for (const [name, v, message] of cases) await t.test(name, (t) => refusal(t, { validity: v }, 'ValidityOutsideCa', message, false));
  const edge = { notBefore: new Date(Math.ceil(caFrom / 1000) * 1000), notAfter: new Date(Math.floor(caTo / 1000) * 1000) };
  t.same((await issueForKey(await input({ validity: edge }))).validity, edge, 'exactly the CA\'s window is fine');
});

void t.test('the CA\'s own key, bad names and a certificate naming no one are refused permanently', async (t) => {
  const caKey = (await readPodCertificateKey({
    podUID: 'uid',
    stubPKCS10Request: buildRequest({ keyPair: { privateKey: createPrivateKey(rootFiles.keyPem), publicKey: createPublicKey(rootFiles.keyPem) } }),
  })).publicKey;
  await refusal(t, { publicKey: caKey }, 'RequestKeyIsCaKey', /the CA's own key/, true);
  await refusal(t, { subjectAltNames: { ...noSubjectAltNames, uris: ['spiffe://a..b/x'] } }, 'InvalidSubjectAltName', /invalid domain/, true);
  await refusal(t, { subjectAltNames: { ...noSubjectAltNames, dnsNames: ['bad name'] } }, 'InvalidSubjectAltName', /not printable ASCII/, true);
  await refusal(t, { subject: { commonName: 'a\u0000b' } }, 'InvalidSubject', /control character/, true);
  await refusal(t, { subjectAltNames: noSubjectAltNames }, 'InvalidSubject', /the subject is empty and there is no subjectAltName/, true);
  await refusal(t, { profile: { ...profile, usages: ['server auth', 'flying'] } }, 'UnrecognizedUsage', /"flying"/, true);
  await t.rejects(issueForKey(await input({ profile: { ...profile, isCa: true } })), /issues leaf certificates only/, 'a CA profile is a caller\'s bug');
});
