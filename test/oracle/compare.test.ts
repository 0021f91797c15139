/**
 * The differential test's own parts: the comparison finds each kind of
 * difference under its key (a swapped keyUsage bit must never pass as
 * documented), and the tables of docs/replacing-kcm.md read as the test expects.
 */
import t from 'tap';
import type { GoFields, GoName } from '../helpers/go-oracle.js';
import { compareCertificates } from './compare.js';
import { certificateDifferencesHeading, readDocumented, refusalsHeading, tableUnder } from './documented.js';

const name = (cn: string, o: string[] = []): GoName => ({
  country: [], organization: o, organizationalUnit: [], locality: [], province: [], streetAddress: [], postalCode: [],
  serialNumber: '', commonName: cn, names: [...o.map((value) => ({ type: '2.5.4.10', value })), { type: '2.5.4.3', value: cn }],
});
const b64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');

const base: GoFields = {
  version: 3, serialHex: '1f', rawIssuer: b64('3000'), rawSubject: b64('300d310b300906035504030c0278'),
  issuer: name('ca'), subject: name('x'), notBefore: '2027-01-01T00:00:00Z', notAfter: '2028-01-01T00:00:00Z',
  keyUsage: 5, extKeyUsage: [1, 2], unknownExtKeyUsage: [], basicConstraintsValid: true, isCA: false, maxPathLen: -1,
  maxPathLenZero: false, dnsNames: ['x'], emailAddresses: [], ipAddresses: ['192.0.2.1'], uris: [], subjectKeyId: '', authorityKeyId: 'aa',
  signatureAlgorithm: 'ECDSA-SHA256', publicKeyAlgorithm: 'ECDSA', rawSubjectPublicKeyInfo: 'AAAA',
  extensions: [
    { id: '2.5.29.15', critical: true, value: b64('030205a0') },
    { id: '2.5.29.37', critical: false, value: b64('301406082b0601050507030106082b06010505070302') },
    { id: '2.5.29.19', critical: true, value: b64('3000') },
    { id: '2.5.29.35', critical: false, value: b64('30038001aa') },
    { id: '2.5.29.17', critical: false, value: b64('30098201788704c0000201') },
  ],
};

const withExtension = (f: GoFields, id: string, value: string, critical = false): GoFields =>
  ({ ...f, extensions: f.extensions.map((e) => (e.id === id ? { id, critical, value: b64(value) } : e)) });

const cases: readonly { readonly name: string; readonly ours: GoFields; readonly theirs?: GoFields; readonly keys: readonly string[] }[] = [
  { name: 'identical certificates differ in nothing', ours: base, keys: [] },
  { name: 'keyAgreement written where dataEncipherment was asked for is a keyUsage difference', ours: { ...withExtension(base, '2.5.29.15', '03020308', true), keyUsage: 16 }, keys: ['key-usage'] },
  { name: 'a keyUsage that is not critical is a keyUsage difference', ours: withExtension(base, '2.5.29.15', '030205a0', false), keys: ['key-usage', 'extensions'] },
  { name: 'extKeyUsages in another order are an extKeyUsage difference', ours: { ...withExtension(base, '2.5.29.37', '301406082b0601050507030206082b06010505070301'), extKeyUsage: [2, 1] }, keys: ['ext-key-usage'] },
  { name: 'an added SKI is ski-added', ours: { ...base, subjectKeyId: '11'.repeat(20), extensions: [...base.extensions.slice(0, 3), { id: '2.5.29.14', critical: false, value: b64(`0414${'11'.repeat(20)}`) }, ...base.extensions.slice(3)] }, keys: ['ski-added'] },
  { name: 'the same subject in other bytes is subject-encoding', ours: { ...base, rawSubject: b64('300d310b300906035504031302 78'.replace(/ /g, '')) }, keys: ['subject-encoding'] },
  { name: 'organizations in another order are subject-value-order', ours: { ...base, subject: name('x', ['b', 'a']), rawSubject: 'AQ==' }, theirs: { ...base, subject: name('x', ['a', 'b']) }, keys: ['subject-value-order', 'subject-encoding'] },
  { name: 'another CN is a subject difference', ours: { ...base, subject: name('y') }, keys: ['subject'] },
  { name: 'an IPv4-mapped IPv6 address kept whole is san-ipv4-mapped-ipv6', ours: withExtension(base, '2.5.29.17', '30158201788710' + '00000000000000000000ffff' + 'c0000201'), keys: ['san-ipv4-mapped-ipv6'] },
  { name: 'another IP address is a SAN difference', ours: { ...base, ipAddresses: ['192.0.2.2'] }, keys: ['san'] },
  { name: 'a NotAfter a second later is a validity difference', ours: { ...base, notAfter: '2028-01-01T00:00:01Z' }, keys: ['validity'] },
  { name: 'CA:TRUE is a basicConstraints difference', ours: { ...withExtension(base, '2.5.29.19', '30030101ff', true), isCA: true }, keys: ['basic-constraints'] },
  { name: 'another signature algorithm is a difference', ours: { ...base, signatureAlgorithm: 'ECDSA-SHA384' }, keys: ['signature-algorithm'] },
  { name: 'an extra extension is an extension-list difference', ours: { ...base, extensions: [...base.extensions, { id: '1.2.3.4', critical: false, value: '' }] }, keys: ['extensions'] },
];

void t.test('the comparison names each kind of difference', (t) => {
  for (const c of cases) t.same(compareCertificates(c.ours, c.theirs ?? base).map((d) => d.key).sort(), [...c.keys].sort(), c.name);
  t.end();
});

void t.test('docs/replacing-kcm.md has both tables, keyed, with an error code for each refusal', (t) => {
  const documented = readDocumented();
  t.ok(documented.certificateDifferences.has('ski-added'));
  t.ok(documented.certificateDifferences.has('subject-encoding'));
  for (const row of documented.refusals.values()) t.match(row.code, /^CSR_SIGNER_ERR_[A-Z0-9_]+$/, row.key);
  t.end();
});

void t.test('a table is read up to the next heading, and a missing heading is an error', (t) => {
  const md = `${certificateDifferencesHeading}\n\ntext\n\n| Key | A |\n| --- | --- |\n| \`one\` | a |\n| \`two\` | b |\n\n## Next\n\n| Key | A |\n| --- | --- |\n| \`three\` | c |\n`;
  t.same(tableUnder(md, certificateDifferencesHeading).map((r) => r.key), ['one', 'two']);
  t.throws(() => tableUnder(md, refusalsHeading), /no heading/);
  t.end();
});
