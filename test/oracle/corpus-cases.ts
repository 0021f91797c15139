/**
 * The differential corpus's ingredients (corpus.ts combines them): subjects, SAN
 * mixes, requested extensions, durations, usage sets, requests Go refuses,
 * requests csr-signer refuses on purpose, and the built-in signers' cases.
 */
import type { AltNameSpec, NameAttributeSpec, RequestSpec, TestKeyType } from '../helpers/requests.js';
import { caTrueBasicConstraints } from '../helpers/requests.js';

const HOUR = 3600;
const YEAR = 8760 * HOUR;

export const usageStrings = [
  'signing', 'digital signature', 'content commitment', 'key encipherment', 'key agreement', 'data encipherment',
  'cert sign', 'crl sign', 'encipher only', 'decipher only', 'any', 'server auth', 'client auth', 'code signing',
  'email protection', 's/mime', 'ipsec end system', 'ipsec tunnel', 'ipsec user', 'timestamping', 'ocsp signing',
  'microsoft sgc', 'netscape sgc',
] as const;

export const requestKeys: readonly TestKeyType[] = ['rsa2048', 'rsa3072', 'rsa4096', 'p256', 'p384', 'p521', 'ed25519'];

/** Attribute types by OID. Go models C, ST, L, street, postalCode, O, OU, CN and serialNumber; the rest it drops. */
export const At = {
  C: '2.5.4.6', ST: '2.5.4.8', L: '2.5.4.7', street: '2.5.4.9', postalCode: '2.5.4.17', O: '2.5.4.10', OU: '2.5.4.11',
  CN: '2.5.4.3', serialNumber: '2.5.4.5', emailAddress: '1.2.840.113549.1.9.1', UID: '0.9.2342.19200300.100.1.1',
  DC: '0.9.2342.19200300.100.1.25', title: '2.5.4.12', givenName: '2.5.4.42', surname: '2.5.4.4', description: '2.5.4.13',
  pseudonym: '2.5.4.65',
} as const;

const a = (type: string, value: string, as?: NameAttributeSpec['as']): NameAttributeSpec => (as === undefined ? { type, value } : { type, value, as });
/** One attribute per RDN. */
const rdns = (...attributes: NameAttributeSpec[]): NameAttributeSpec[][] => attributes.map((x) => [x]);

/** Subjects with unusual but legal attribute types, string types and shapes. */
export const subjects: readonly { readonly name: string; readonly subject: readonly (readonly NameAttributeSpec[])[] }[] = [
  { name: 'CN only', subject: rdns(a(At.CN, 'web.example.com')) },
  { name: 'O then CN', subject: rdns(a(At.O, 'Example Org'), a(At.CN, 'svc.example.com')) },
  { name: 'all attributes Go models, in reverse of its order', subject: rdns(
    a(At.serialNumber, '4711', 'printable'), a(At.CN, 'full.example.com'), a(At.OU, 'Platform'), a(At.O, 'Example Org'),
    a(At.postalCode, '8001'), a(At.street, 'Bahnhofstrasse 1'), a(At.L, 'Zurich'), a(At.ST, 'ZH'), a(At.C, 'CH', 'printable')) },
  { name: 'all attributes Go models, in its order', subject: rdns(
    a(At.C, 'DE', 'printable'), a(At.ST, 'Berlin'), a(At.L, 'Berlin'), a(At.street, 'Unter den Linden 1'), a(At.postalCode, '10117'),
    a(At.O, 'Beispiel GmbH'), a(At.OU, 'IT'), a(At.CN, 'beispiel.example'), a(At.serialNumber, 'A-1')) },
  { name: 'two organizations (Go merges them into one RDN)', subject: rdns(a(At.O, 'system:nodes'), a(At.O, 'extra'), a(At.CN, 'system:node:n1')) },
  { name: 'two OUs around the CN', subject: rdns(a(At.OU, 'a'), a(At.CN, 'ou.example.com'), a(At.OU, 'b')) },
  { name: 'two CNs (Go keeps the last)', subject: rdns(a(At.CN, 'first.example.com'), a(At.CN, 'second.example.com')) },
  { name: 'a multi-valued RDN of O and CN', subject: [[a(At.O, 'Multi'), a(At.CN, 'multi.example.com')]] },
  { name: 'a multi-valued RDN of two OUs', subject: [[a(At.OU, 'x'), a(At.OU, 'y')], [a(At.CN, 'mv.example.com')]] },
  { name: 'emailAddress in IA5String', subject: rdns(a(At.CN, 'mail.example.com'), a(At.emailAddress, 'ops@example.com', 'ia5')) },
  { name: 'UID', subject: rdns(a(At.UID, 'jdoe'), a(At.CN, 'John Doe')) },
  { name: 'DC components in IA5String', subject: rdns(a(At.DC, 'com', 'ia5'), a(At.DC, 'example', 'ia5'), a(At.CN, 'dc.example.com')) },
  { name: 'title, givenName, surname, pseudonym, description', subject: rdns(
    a(At.title, 'Engineer'), a(At.givenName, 'Ada'), a(At.surname, 'Lovelace'), a(At.pseudonym, 'al'), a(At.description, 'test'), a(At.CN, 'Ada')) },
  { name: 'PrintableString values', subject: rdns(a(At.C, 'US', 'printable'), a(At.O, "Acme (Test) Co., Ltd. 2=1+1?", 'printable'), a(At.CN, 'printable.example.com', 'printable')) },
  { name: 'PrintableString with an asterisk (Go allows it)', subject: rdns(a(At.CN, '*.wild.example.com', 'printable')) },
  { name: 'PrintableString with an ampersand (Go allows it)', subject: rdns(a(At.O, 'Smith & Sons', 'printable'), a(At.CN, 'amp.example.com', 'printable')) },
  { name: 'a NumericString serialNumber', subject: rdns(a(At.serialNumber, '0123 456', 'numeric'), a(At.CN, 'numeric.example.com')) },
  { name: 'IA5String CN', subject: rdns(a(At.CN, 'ia5.example.com', 'ia5')) },
  { name: 'BMPString O', subject: rdns(a(At.O, 'Bmp Ünïcode', 'bmp'), a(At.CN, 'bmp.example.com')) },
  { name: 'TeletexString O', subject: rdns(a(At.O, 'Teletex Org', 'teletex'), a(At.CN, 't61.example.com')) },
  { name: 'non-ASCII UTF8String', subject: rdns(a(At.C, 'CH', 'printable'), a(At.L, 'Zürich'), a(At.O, 'Bäckerei Müller AG'), a(At.CN, '日本語.example')) },
  { name: 'an empty UTF8String value', subject: rdns(a(At.O, ''), a(At.CN, 'empty-o.example.com')) },
  { name: 'spaces at both ends of a value', subject: rdns(a(At.CN, '  padded  ')) },
  { name: 'a 200-character CN', subject: rdns(a(At.CN, 'x'.repeat(200))) },
  { name: 'the kubelet client shape', subject: rdns(a(At.O, 'system:nodes'), a(At.CN, 'system:node:worker-1')) },
  { name: 'an empty subject', subject: [] },
  { name: 'serialNumber and street with CN first', subject: rdns(a(At.CN, 'sn.example.com'), a(At.street, 'Main St 5'), a(At.serialNumber, '00:11:22')) },
  { name: 'repeated C, ST and L', subject: rdns(a(At.C, 'US', 'printable'), a(At.C, 'CA', 'printable'), a(At.ST, 'A'), a(At.ST, 'B'), a(At.L, 'x'), a(At.L, 'y'), a(At.CN, 'rep.example.com')) },
  { name: 'unmodelled types only', subject: rdns(a(At.UID, 'u1'), a(At.emailAddress, 'only@example.com', 'ia5')) },
];

/** SAN mixes: names in request order. */
export const sanMixes: readonly { readonly name: string; readonly altNames: readonly AltNameSpec[] }[] = [
  { name: 'no SANs', altNames: [] },
  { name: 'one DNS name', altNames: [{ dns: 'web.example.com' }] },
  { name: 'a wildcard DNS name', altNames: [{ dns: '*.apps.example.com' }] },
  { name: 'an upper-case DNS name', altNames: [{ dns: 'UPPER.Example.COM' }] },
  { name: 'a DNS name with a trailing dot', altNames: [{ dns: 'dot.example.com.' }] },
  { name: 'a single-label DNS name', altNames: [{ dns: 'localhost' }] },
  { name: 'IPv4', altNames: [{ ip: '192.0.2.10' }] },
  { name: 'IPv4 0.0.0.0', altNames: [{ ip: '0.0.0.0' }] },
  { name: 'IPv6', altNames: [{ ip: '2001:db8::10' }] },
  { name: 'IPv6 loopback', altNames: [{ ip: '::1' }] },
  { name: 'an IPv4-mapped IPv6 address', altNames: [{ ip: '::ffff:192.0.2.1' }] },
  { name: 'an email address', altNames: [{ email: 'user@example.com' }] },
  { name: 'a SPIFFE URI', altNames: [{ uri: 'spiffe://cluster.local/ns/default/sa/web' }] },
  { name: 'an https URI with port, query and fragment', altNames: [{ uri: 'https://svc.example.com:8443/p/a?q=1&r=2#frag' }] },
  { name: 'a URI with userinfo', altNames: [{ uri: 'help://me@what:8080/where/when?why=true' }] },
  { name: 'a URI with an upper-case scheme and host', altNames: [{ uri: 'HTTPS://Svc.Example.COM/Path' }] },
  { name: 'a URI with percent escapes', altNames: [{ uri: 'spiffe://td/a%2Fb/c%20d' }] },
  { name: 'a URI with an IPv6 host', altNames: [{ uri: 'https://[2001:db8::1]:8443/x' }] },
  { name: 'a mailto URI', altNames: [{ uri: 'mailto:someone@example.com' }] },
  { name: 'a URI with no path', altNames: [{ uri: 'https://example.com' }] },
  { name: 'a URI with an empty query', altNames: [{ uri: 'https://example.com/?' }] },
  { name: 'a DNS name with an underscore', altNames: [{ dns: '_svc._tcp.example.com' }] },
  { name: 'an upper-case email address', altNames: [{ email: 'Some.One@Example.COM' }] },
  { name: 'an email address without a domain', altNames: [{ email: 'postmaster' }] },
  { name: 'a URN', altNames: [{ uri: 'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66' }] },
  { name: 'every kind, in Go order', altNames: [{ dns: 'a.example.com' }, { email: 'a@example.com' }, { ip: '10.0.0.1' }, { uri: 'spiffe://a/b' }] },
  { name: 'every kind, reversed (Go writes DNS, email, IP, URI)', altNames: [{ uri: 'spiffe://r/s' }, { ip: '2001:db8::1' }, { email: 'r@example.com' }, { dns: 'r.example.com' }] },
  { name: 'every kind, interleaved', altNames: [{ ip: '10.1.1.1' }, { dns: 'i1.example.com' }, { ip: '10.1.1.2' }, { dns: 'i2.example.com' }, { uri: 'spiffe://i/1' }, { email: 'i@example.com' }] },
  { name: 'IPv4, IPv6 and IPv4-mapped together', altNames: [{ ip: '198.51.100.7' }, { ip: 'fe80::1' }, { ip: '::ffff:198.51.100.8' }] },
  { name: 'a repeated DNS name', altNames: [{ dns: 'dup.example.com' }, { dns: 'dup.example.com' }] },
  { name: '100 DNS names', altNames: Array.from({ length: 100 }, (_, i) => ({ dns: `n${i}.many.example.com` })) },
  { name: '300 names of every kind', altNames: Array.from({ length: 300 }, (_, i): AltNameSpec =>
    [{ dns: `h${i}.example.com` }, { ip: `10.2.${i >> 8}.${i & 255}` }, { email: `m${i}@example.com` }, { uri: `spiffe://td/w/${i}` }][i % 4] as AltNameSpec) },
];

/** Requested extensions: the in-tree signer drops them all; basicConstraints CA:TRUE csr-signer refuses. */
export const requestedExtensions: readonly { readonly name: string; readonly extensions: NonNullable<RequestSpec['extensions']>; readonly refusal?: string }[] = [
  { name: 'basicConstraints CA:TRUE', extensions: [{ oid: '2.5.29.19', critical: true, value: caTrueBasicConstraints() }] },
  { name: 'basicConstraints CA:TRUE, pathLen 2', extensions: [{ oid: '2.5.29.19', critical: true, value: hex('30060101ff020102') }] },
  { name: 'basicConstraints CA:FALSE', extensions: [{ oid: '2.5.29.19', critical: true, value: hex('3000') }] },
  { name: 'keyUsage keyCertSign', extensions: [{ oid: '2.5.29.15', critical: true, value: hex('03020204') }] },
  { name: 'extKeyUsage codeSigning', extensions: [{ oid: '2.5.29.37', value: hex('300a06082b06010505070303') }] },
  { name: 'a custom non-critical extension', extensions: [{ oid: '1.3.6.1.4.1.55555.1', value: hex('0c0568656c6c6f') }] },
  { name: 'a custom critical extension', extensions: [{ oid: '1.3.6.1.4.1.55555.2', critical: true, value: hex('0500') }] },
  { name: 'a subjectKeyIdentifier', extensions: [{ oid: '2.5.29.14', value: hex('0414' + '11'.repeat(20)) }] },
  { name: 'nameConstraints', extensions: [{ oid: '2.5.29.30', critical: true, value: hex('300fa00d300b82092e6578616d706c65') }] },
  { name: 'a subjectAltName with an otherName (a UPN) and a DNS name', refusal: 'unsupported-subject-alt-name', extensions: [{ oid: '2.5.29.17', value: hex('3020a013060a2b060104018237140203a0050c037540788209612e6578616d706c65') }] },
  { name: 'a subjectAltName with a registeredID and a DNS name', refusal: 'unsupported-subject-alt-name', extensions: [{ oid: '2.5.29.17', value: hex('30108209612e6578616d706c6588032a0304') }] },
  { name: 'a subjectAltName with a directoryName and a DNS name', refusal: 'unsupported-subject-alt-name', extensions: [{ oid: '2.5.29.17', value: hex('301da410300e310c300a06035504030c036469728209612e6578616d706c65') }] },
  { name: 'an empty subjectAltName', refusal: 'unsupported-subject-alt-name', extensions: [{ oid: '2.5.29.17', value: hex('3000') }] },
  { name: 'the same custom extension twice', extensions: [{ oid: '1.3.6.1.4.1.55555.3', value: hex('0500') }, { oid: '1.3.6.1.4.1.55555.3', value: hex('0500') }] },
  { name: 'the OCSP must-staple TLS feature', extensions: [{ oid: '1.3.6.1.5.5.7.1.24', value: hex('3003020105') }] },
];

function hex(text: string): ArrayBuffer {
  const bytes = Buffer.from(text, 'hex');
  return Uint8Array.from(bytes).buffer;
}

/** Duration edge cases: [cluster duration, expirationSeconds, name]. */
export const durations: readonly { readonly name: string; readonly cluster: number; readonly expiration?: number }[] = [
  { name: 'no expirationSeconds, the default year', cluster: YEAR },
  { name: 'no expirationSeconds, a 1h cluster duration (short-lived)', cluster: HOUR },
  { name: 'no expirationSeconds, an 8h cluster duration (the short-lived boundary)', cluster: 8 * HOUR },
  { name: 'no expirationSeconds, a 5-minute cluster duration', cluster: 300 },
  { name: 'expirationSeconds 599 (below the minimum)', cluster: YEAR, expiration: 599 },
  { name: 'expirationSeconds 600', cluster: YEAR, expiration: 600 },
  { name: 'expirationSeconds 601', cluster: YEAR, expiration: 601 },
  { name: 'expirationSeconds 60', cluster: YEAR, expiration: 60 },
  { name: 'expirationSeconds 0', cluster: YEAR, expiration: 0 },
  { name: 'expirationSeconds -60', cluster: HOUR, expiration: -60 },
  { name: 'expirationSeconds 3600', cluster: YEAR, expiration: 3600 },
  { name: 'expirationSeconds one second under 8h', cluster: YEAR, expiration: 8 * HOUR - 1 },
  { name: 'expirationSeconds 8h', cluster: YEAR, expiration: 8 * HOUR },
  { name: 'expirationSeconds one second over 8h', cluster: YEAR, expiration: 8 * HOUR + 1 },
  { name: 'expirationSeconds a day', cluster: YEAR, expiration: 24 * HOUR },
  { name: 'expirationSeconds over the cluster maximum', cluster: 24 * HOUR, expiration: 48 * HOUR },
  { name: 'expirationSeconds equal to the cluster maximum', cluster: 24 * HOUR, expiration: 24 * HOUR },
  { name: 'expirationSeconds 2^31-1 (huge)', cluster: YEAR, expiration: 2 ** 31 - 1 },
  { name: 'expirationSeconds 600 with a 5-minute cluster maximum', cluster: 300, expiration: 600 },
  { name: 'a 10-year cluster duration', cluster: 10 * YEAR },
  { name: 'a 100-year cluster duration (the CA NotAfter caps it)', cluster: 100 * YEAR },
];

/** Usage sets beyond each string alone. */
export const usageSets: readonly (readonly string[])[] = [
  [],
  ['digital signature', 'key encipherment', 'server auth'],
  ['digital signature', 'key encipherment', 'client auth'],
  ['digital signature', 'client auth'],
  ['signing', 'key encipherment', 'server auth', 'client auth'],
  ['client auth', 'client auth'],
  ['server auth', 'client auth', 'server auth'],
  ['s/mime', 'email protection'],
  ['signing', 'digital signature'],
  ['key agreement', 'encipher only'],
  ['key agreement', 'decipher only'],
  ['key agreement', 'encipher only', 'decipher only'],
  ['data encipherment', 'key encipherment'],
  ['cert sign', 'crl sign'],
  ['cert sign', 'encipher only'],
  ['ocsp signing', 'crl sign', 's/mime', 'content commitment'],
  ['netscape sgc', 'microsoft sgc', 'ocsp signing', 'timestamping', 'ipsec user', 'ipsec tunnel', 'ipsec end system', 'email protection', 'code signing', 'client auth', 'server auth', 'any'],
  [...usageStrings],
  [...usageStrings].reverse(),
  ['unsupported string'],
  ['digital signature', 'Server Auth'],
];

/** Requests Go's parser refuses (so the apiserver refuses them at create) and csr-signer must refuse too. */
export const goRefuses: readonly { readonly name: string; readonly request: RequestSpec; readonly refusal?: string }[] = [
  { name: 'a PrintableString CN with an underscore', request: { subject: rdns(a(At.CN, 'under_score.example.com', 'printable')) } },
  { name: 'a PrintableString O with an at sign', request: { subject: rdns(a(At.O, 'ops@example', 'printable'), a(At.CN, 'at.example.com')) } },
  // Go's request parser leaves the value out (so the in-tree signer drops the attribute); its certificate parser refuses it.
  { name: 'a UniversalString O', refusal: 'subject-string-type', request: { subject: rdns(a(At.O, 'Universal', 'universal'), a(At.CN, 'u.example.com')) } },
  { name: 'a URI whose host has an empty label', request: { altNames: [{ uri: 'https://a..b/x' }] } },
  { name: 'a URI with a bad percent escape', request: { altNames: [{ uri: 'https://example.com/%zz' }] } },
  { name: 'an RSA key without the NULL parameters', request: { key: 'rsa2048', commonName: 'nonull.example.com', rsaKeyWithoutNull: true } },
  { name: 'a DNS name with a non-ASCII byte', request: { commonName: 'n', altNames: [{ dns: 'bücher.example' }] } },
  { name: 'an email with a non-ASCII byte', request: { commonName: 'n', altNames: [{ email: 'jürgen@example.com' }] } },
];

/** Requests the in-tree signer issues and csr-signer refuses on purpose (docs/replacing-kcm.md). */
export const weRefuse: readonly { readonly name: string; readonly refusal: string; readonly request: RequestSpec & { readonly caKey?: boolean } }[] = [
  { name: 'a DNS name with a space', refusal: 'unusable-subject-alt-name', request: { commonName: 'n', altNames: [{ dns: 'has space.example.com' }] } },
  { name: 'a DNS name with a 64-character label', refusal: 'dns-label-too-long', request: { commonName: 'n', altNames: [{ dns: `${'l'.repeat(64)}.example.com` }] } },
  // 4 labels of 60 and a dot each (244), then 'abcdef.com' (10): 254 characters.
  { name: 'a 254-character DNS name', refusal: 'unusable-subject-alt-name', request: { commonName: 'n', altNames: [{ dns: `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.abcdef.com` }] } },
  { name: 'an empty DNS name', refusal: 'unusable-subject-alt-name', request: { commonName: 'n', altNames: [{ dns: '' }] } },
  { name: 'a URI with a space', refusal: 'unusable-subject-alt-name', request: { commonName: 'n', altNames: [{ uri: 'https://example.com/a b' }] } },
  { name: 'a subject value with a control character', refusal: 'subject-control-character', request: { subject: rdns(a(At.CN, 'bell\u0007.example.com')) } },
  { name: 'an email with a space', refusal: 'unusable-subject-alt-name', request: { commonName: 'n', altNames: [{ email: 'a b@example.com' }] } },
  { name: 'a subject attribute longer than 1024 characters', refusal: 'subject-value-too-long', request: { subject: rdns(a(At.CN, 'y'.repeat(1025))) } },
  { name: '1001 subjectAltNames', refusal: 'too-many-subject-alt-names', request: { commonName: 'n', altNames: Array.from({ length: 1001 }, (_, i) => ({ dns: `d${i}.x` })) } },
  { name: "the CA's own public key", refusal: 'ca-own-key', request: { commonName: 'own-key.example.com', dns: ['own-key.example.com'], caKey: true } },
];

/** Built-in signers: their rules, valid and broken, as the controller applies them. */
export const builtinCases: readonly { readonly name: string; readonly signerName: string; readonly request: RequestSpec; readonly usages: readonly string[] }[] = [
  ...(['kubernetes.io/kube-apiserver-client', 'kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving'] as const).flatMap((signerName) => [
    { name: 'a kubelet client request', signerName, request: { organizations: ['system:nodes'], commonName: 'system:node:w1' }, usages: ['digital signature', 'key encipherment', 'client auth'] },
    { name: 'a kubelet client request without key encipherment', signerName, request: { organizations: ['system:nodes'], commonName: 'system:node:w1' }, usages: ['digital signature', 'client auth'] },
    { name: 'a kubelet serving request', signerName, request: { organizations: ['system:nodes'], commonName: 'system:node:w1', dns: ['w1.example.com'], ips: ['10.0.0.5'] }, usages: ['digital signature', 'key encipherment', 'server auth'] },
    { name: 'a serving request with only IP 0.0.0.0', signerName, request: { organizations: ['system:nodes'], commonName: 'system:node:w1', ips: ['0.0.0.0'] }, usages: ['digital signature', 'server auth'] },
    { name: 'a node request with an extra organization', signerName, request: { organizations: ['system:nodes', 'extra'], commonName: 'system:node:w1', dns: ['w1'] }, usages: ['digital signature', 'client auth'] },
    { name: 'a node request with a CN not system:node:', signerName, request: { organizations: ['system:nodes'], commonName: 'node1', dns: ['w1'] }, usages: ['digital signature', 'key encipherment', 'client auth'] },
    { name: 'a node request with server and client auth', signerName, request: { organizations: ['system:nodes'], commonName: 'system:node:w1', dns: ['w1'] }, usages: ['digital signature', 'key encipherment', 'client auth', 'server auth'] },
    { name: 'a serving request with wrong CN and wrong usages', signerName, request: { organizations: ['system:nodes'], commonName: 'x', dns: ['w1'] }, usages: ['digital signature', 'client auth'] },
    { name: 'a node request with an email SAN', signerName, request: { organizations: ['system:nodes'], commonName: 'system:node:w1', dns: ['w1'], emails: ['a@b.c'] }, usages: ['digital signature', 'server auth'] },
    { name: 'a node request with a URI SAN', signerName, request: { organizations: ['system:nodes'], commonName: 'system:node:w1', ips: ['10.0.0.1'], uris: ['spiffe://x/y'] }, usages: ['digital signature', 'client auth'] },
    { name: 'a client request using signing', signerName, request: { commonName: 'alice', organizations: ['dev'] }, usages: ['signing', 'client auth'] },
    { name: 'a client request without client auth', signerName, request: { commonName: 'alice' }, usages: ['digital signature'] },
    { name: 'an apiserver client request with every SAN kind', signerName, request: { commonName: 'bob', dns: ['b'], ips: ['10.9.9.9'], emails: ['b@x.y'], uris: ['spiffe://b'] }, usages: ['client auth'] },
  ]),
];
