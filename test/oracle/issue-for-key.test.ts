/**
 * Pod certificates read by Go: every certificate issueForKey makes here goes through Go's
 * x509.ParseCertificate, CheckSignatureFrom and Verify (the oracle's parse mode), as the
 * kubelet and every Go client will read it. Go must read back the subject, the URI and
 * DNS subjectAltNames, the subjectAltName's criticality, and NotBefore/NotAfter exactly
 * as they were asked for.
 */
import t from 'tap';
import { issueForKey, readPodCertificateKey, type CertificateAuthority, type SigningProfile, type SubjectSpec } from '../../src/pki/index.js';
import { noSubjectAltNames, type SubjectAltNames } from '../../src/pki/san.js';
import { loadTestCa, makeOpensslCa, type CaKeyType } from '../helpers/ca.js';
import { goParse } from '../helpers/go-oracle.js';
import { buildRequest, type TestKeyType } from '../helpers/requests.js';
import { needTool, tempDir } from '../helpers/tools.js';

if (!needTool(t, 'openssl') || !needTool(t, 'go')) process.exit(0);

const dir = tempDir();
const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
const profile: SigningProfile = { usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'], maxDurationMs: 86_400_000 };
const spiffe = 'spiffe://cluster.local/ns/shop/sa/builder';
const rfc3339 = (d: Date): string => d.toISOString().replace(/\.000Z$/, 'Z');

interface Case {
  readonly id: string;
  readonly key: TestKeyType;
  readonly subject: SubjectSpec;
  readonly sans: SubjectAltNames;
}

const subjects: [string, SubjectSpec][] = [
  ['empty subject', {}],
  ['CN and O', { commonName: 'builder', organizations: ['shop', 'équipe'] }],
];
const sanSets: [string, SubjectAltNames][] = [
  ['URI', { ...noSubjectAltNames, uris: [spiffe] }],
  ['URI and DNS', { ...noSubjectAltNames, uris: [spiffe], dnsNames: ['builder.shop.svc', 'builder.shop.svc.cluster.local'] }],
];
const cases: Case[] = (['p256', 'p384', 'rsa3072', 'ed25519'] as const).flatMap((key) =>
  subjects.flatMap(([subjectName, subject]) => sanSets.map(([sanName, sans]) => ({ id: `${key}, ${subjectName}, ${sanName}`, key, subject, sans }))));

void t.test('Go parses, verifies and reads back every certificate issueForKey makes', async (t) => {
  const items = [];
  const expected = new Map<string, { c: Case; notBefore: Date; notAfter: Date; ca: CertificateAuthority }>();
  for (const caType of ['p256', 'ed25519'] as CaKeyType[]) {
    const ca = await loadTestCa(makeOpensslCa(dir, `pods-${caType}`, caType));
    // Whole seconds inside the CA, as the decision chooses them: an hour from just after the CA's NotBefore.
    const notBefore = new Date(Math.ceil(ca.certificate.notBefore.getTime() / 1000) * 1000 + 1000);
    const notAfter = new Date(notBefore.getTime() + 3_600_000);
    for (const c of cases) {
      const key = await readPodCertificateKey({ podUID: 'uid', stubPKCS10Request: buildRequest({ key: c.key }) });
      const issued = await issueForKey({ publicKey: key.publicKey, subject: c.subject, subjectAltNames: c.sans, profile, ca, validity: { notBefore, notAfter }, random });
      const id = `CA ${caType}, key ${c.id}`;
      items.push({ id, cert: issued.der, issuer: ca.certificate.der, at: new Date(notBefore.getTime() + 60_000) });
      expected.set(id, { c, notBefore, notAfter, ca });
    }
  }
  const parsed = await goParse(items, { timeoutMs: 120_000 });
  t.equal(parsed.length, items.length);
  for (const p of parsed) {
    const want = expected.get(p.id);
    if (!want) throw new Error(`unexpected ${p.id}`);
    if (!p.ok) {
      t.fail(`${p.id}: Go refused it: ${p.error}`);
      continue;
    }
    const f = p.fields;
    t.equal(p.signature, 'ok', `${p.id}: CheckSignatureFrom`);
    t.equal(p.verify, 'ok', `${p.id}: Verify`);
    t.equal(f.notBefore, rfc3339(want.notBefore), `${p.id}: NotBefore exactly`);
    t.equal(f.notAfter, rfc3339(want.notAfter), `${p.id}: NotAfter exactly`);
    t.same(f.uris, want.c.sans.uris, `${p.id}: the URI`);
    t.same(f.dnsNames, want.c.sans.dnsNames, `${p.id}: the DNS names`);
    t.equal(f.subject.commonName, want.c.subject.commonName ?? '', `${p.id}: CN`);
    t.same(f.subject.organization, want.c.subject.organizations ?? [], `${p.id}: O, in order`);
    const empty = want.c.subject.commonName === undefined && want.c.subject.organizations === undefined;
    if (empty) t.equal(f.rawSubject, Buffer.from([0x30, 0]).toString('base64'), `${p.id}: the empty Name`);
    const names = [...(want.c.subject.organizations ?? []).map((o) => ({ type: '2.5.4.10', value: o })),
      ...(want.c.subject.commonName === undefined ? [] : [{ type: '2.5.4.3', value: want.c.subject.commonName }])];
    t.same(f.subject.names, names, `${p.id}: the attributes in certificate order, O then CN`);
    const san = f.extensions.find((e) => e.id === '2.5.29.17');
    t.equal(san?.critical, empty, `${p.id}: subjectAltName critical exactly when the subject is empty`);
    t.same(f.extKeyUsage, [1, 2], `${p.id}: serverAuth, clientAuth`);
    t.equal(f.isCA, false, `${p.id}: a leaf`);
    t.equal(f.authorityKeyId, want.ca.certificate.subjectKeyId === undefined ? '' : Buffer.from(want.ca.certificate.subjectKeyId).toString('hex'), `${p.id}: AKI`);
  }
});
