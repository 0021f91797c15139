/**
 * Names the signer decides itself: the subject Name of a SubjectSpec, byte for byte, and
 * subjectAltNames checked as a request's are. Certificates holding them: issue-for-key.test.ts
 * and, read by Go, test/oracle/issue-for-key.test.ts.
 */
import * as asn1js from 'asn1js';
import t, { type Test } from 'tap';
import { CsrSignerError } from '../../src/errors.js';
import { checkIssuedSubjectAltNames, encodeSubject } from '../../src/pki/subject.js';
import { noSubjectAltNames, type SubjectAltNames } from '../../src/pki/san.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** The Name as pkijs's asn1js reads it: each RDN's attributes as [OID, tag, text]. */
function rdns(der: Uint8Array): [string, number, string][][] {
  const { result, offset } = asn1js.fromBER(Uint8Array.from(der));
  if (offset === -1 || !(result instanceof asn1js.Sequence)) throw new Error('not a SEQUENCE');
  return result.valueBlock.value.map((rdn) => (rdn as asn1js.Set).valueBlock.value.map((atv) => {
    const [oid, value] = (atv as asn1js.Sequence).valueBlock.value as [asn1js.ObjectIdentifier, asn1js.Utf8String];
    return [oid.valueBlock.toString(), value.idBlock.tagNumber, value.valueBlock.value];
  }));
}

function refused(t: Test, f: () => unknown, kind: string, message: RegExp): void {
  try {
    f();
    t.fail(`expected ${kind}`);
  } catch (e) {
    t.ok(e instanceof CsrSignerError && e.kind === kind && e.permanent, `${kind}: ${String(e)}`);
    t.match((e as Error).message, message);
  }
}

void t.test('the empty subject is the empty SEQUENCE', (t) => {
  t.equal(hex(encodeSubject({})), '3000');
  t.equal(hex(encodeSubject({ commonName: '', organizations: [] })), '3000', 'an empty common name is no common name, as in Go');
  t.end();
});

void t.test('a common name is one RDN holding a UTF8String', (t) => {
  // SEQUENCE { SET { SEQUENCE { OID 2.5.4.3, UTF8String "web" } } }
  t.equal(hex(encodeSubject({ commonName: 'web' })), '300e310c300a06035504030c03776562');
  t.end();
});

void t.test('organizations come before the common name, as Go\'s pkix.Name.ToRDNSequence orders them, one RDN each', (t) => {
  t.same(rdns(encodeSubject({ commonName: 'builder', organizations: ['shop', 'système'] })), [
    [['2.5.4.10', 12, 'shop']], [['2.5.4.10', 12, 'système']], [['2.5.4.3', 12, 'builder']],
  ]);
  t.same(rdns(encodeSubject({ organizations: ['b', 'a'] })), [[['2.5.4.10', 12, 'b']], [['2.5.4.10', 12, 'a']]], 'in the order given');
  t.end();
});

void t.test('long values get long-form lengths', (t) => {
  const cn = 'x'.repeat(300);
  t.same(rdns(encodeSubject({ commonName: cn })), [[['2.5.4.3', 12, cn]]]);
  t.end();
});

void t.test('values no certificate should hold are refused as InvalidSubject', (t) => {
  refused(t, () => encodeSubject({ organizations: [''] }), 'InvalidSubject', /the organization is empty/);
  refused(t, () => encodeSubject({ commonName: 'a\nb' }), 'InvalidSubject', /the common name "a\\nb" contains a control character/);
  refused(t, () => encodeSubject({ commonName: 'a\u0085' }), 'InvalidSubject', /control character/);
  refused(t, () => encodeSubject({ commonName: 'a\ud800b' }), 'InvalidSubject', /not valid Unicode/);
  refused(t, () => encodeSubject({ commonName: 'x'.repeat(1025) }), 'InvalidSubject', /1025 characters, more than the limit of 1024/);
  t.equal(rdns(encodeSubject({ commonName: '😀' }))[0]?.[0]?.[2], '😀', 'a surrogate pair is fine');
  t.end();
});

const sans = (names: Partial<SubjectAltNames>): SubjectAltNames => ({ ...noSubjectAltNames, ...names });

void t.test('subjectAltNames the request reader accepts pass, in Go\'s order', (t) => {
  const checked = checkIssuedSubjectAltNames(sans({
    uris: ['spiffe://cluster.local/ns/shop/sa/builder'], dnsNames: ['builder.shop.svc'], ipAddresses: ['10.0.0.1', '2001:db8::1'], emailAddresses: ['a@b.example'],
  }));
  t.same(checked, {
    dnsNames: ['builder.shop.svc'], emailAddresses: ['a@b.example'], ipAddresses: ['10.0.0.1', '2001:db8::1'], uris: ['spiffe://cluster.local/ns/shop/sa/builder'],
  });
  t.equal(checkIssuedSubjectAltNames(noSubjectAltNames), noSubjectAltNames, 'none: nothing to check');
  t.end();
});

void t.test('subjectAltNames Go or a resolver could not use are refused, naming the name', (t) => {
  refused(t, () => checkIssuedSubjectAltNames(sans({ uris: ['https://a..b/x'] })), 'InvalidSubjectAltName', /URI "https:\/\/a\.\.b\/x" is one Go's crypto\/x509 cannot read \(invalid domain\)/);
  refused(t, () => checkIssuedSubjectAltNames(sans({ uris: ['spiffe://td/%zz'] })), 'InvalidSubjectAltName', /invalid URL escape/);
  refused(t, () => checkIssuedSubjectAltNames(sans({ dnsNames: ['é.example'] })), 'InvalidSubjectAltName', /the DNS name "é\.example" is not printable ASCII/);
  refused(t, () => checkIssuedSubjectAltNames(sans({ dnsNames: [''] })), 'InvalidSubjectAltName', /the DNS name "" is empty/);
  refused(t, () => checkIssuedSubjectAltNames(sans({ dnsNames: ['a b.example'] })), 'InvalidSubjectAltName', /not printable ASCII/);
  refused(t, () => checkIssuedSubjectAltNames(sans({ dnsNames: [`${'a'.repeat(64)}.example`] })), 'DnsLabelTooLong', /a label of 64 characters/);
  refused(t, () => checkIssuedSubjectAltNames(sans({ dnsNames: [`${'a.'.repeat(127)}ab`] })), 'InvalidSubjectAltName', /a DNS name of 256 characters is longer than the limit of 253/);
  refused(t, () => checkIssuedSubjectAltNames(sans({ ipAddresses: ['10.0.0.256'] })), 'InvalidSubjectAltName', /not an IP address: 10\.0\.0\.256/);
  refused(t, () => checkIssuedSubjectAltNames(sans({ dnsNames: Array.from({ length: 1001 }, (_v, i) => `n${i}.example`) })), 'TooManySubjectAltNames', /1001 subjectAltNames, more than the limit of 1000/);
  t.end();
});
