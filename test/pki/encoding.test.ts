/**
 * Encoders and decoders: DER, OIDs, PEM, SANs, times, Go durations. Round trips
 * are property tests (fast-check) and are decoded a second time by asn1js/pkijs,
 * an independent parser.
 */
import * as asn1js from 'asn1js';
import fc from 'fast-check';
import * as pkijs from 'pkijs';
import t from 'tap';
import { formatDuration, parseDuration } from '../../src/duration.js';
import {
  children, decodeOid, DerError, encode, encodeOid, encodeUnsignedInteger, octetString, readTlv, readWhole, sequence, Tag,
} from '../../src/pki/der.js';
import { decodePem, encodePem } from '../../src/pki/pem.js';
import { decodeSubjectAltNames, encodeSubjectAltNames, formatIp, parseIp, type SubjectAltNames } from '../../src/pki/san.js';
import { encodeTime, formatGoTime } from '../../src/pki/validity.js';

const ab = (b: Uint8Array): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
const ipBytes = fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 }));

void t.test('any SAN list encodes and decodes to itself, and pkijs reads the same names', (t) => {
  fc.assert(fc.property(
    fc.array(fc.domain(), { maxLength: 5 }), fc.array(fc.emailAddress().filter((e) => /^[\x21-\x7e]+$/.test(e)), { maxLength: 3 }),
    fc.array(ipBytes, { maxLength: 4 }), fc.array(fc.webUrl().filter((u) => /^[\x21-\x7e]+$/.test(u)), { maxLength: 3 }),
    (dnsNames, emailAddresses, ips, uris) => {
      fc.pre(dnsNames.length + emailAddresses.length + ips.length + uris.length > 0);
      const names: SubjectAltNames = { dnsNames, emailAddresses, ipAddresses: ips.map(formatIp), uris };
      const der = encodeSubjectAltNames(names);
      if (JSON.stringify(decodeSubjectAltNames(der)) !== JSON.stringify(names)) return false;
      const theirs = pkijs.GeneralNames.fromBER(new Uint8Array(der)).names;
      const expected = [
        ...dnsNames.map((v) => [2, v]), ...emailAddresses.map((v) => [1, v]),
        ...ips.map((b) => [7, Buffer.from(b).toString('hex')]), ...uris.map((v) => [6, v]),
      ];
      const got = theirs.map((n) => [n.type, n.type === 7 ? Buffer.from((n.value as asn1js.OctetString).valueBlock.valueHexView).toString('hex') : n.value as string]);
      return JSON.stringify(got) === JSON.stringify(expected);
    }), { numRuns: 300 });
  t.pass('300 random SAN lists round-tripped through both decoders');
  t.end();
});

void t.test('IP addresses format as RFC 5952 text and parse back to the same bytes', (t) => {
  fc.assert(fc.property(ipBytes, (bytes) => Buffer.from(parseIp(formatIp(bytes)) ?? []).equals(Buffer.from(bytes))), { numRuns: 1000 });
  const cases: [string, string][] = [
    ['20010db8000000000000000000000001', '2001:db8::1'],
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['20010db8000000010000000000000000', '2001:db8:0:1::'],
    ['20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'],
    ['20010000000000010000000000000001', '2001:0:0:1::1'],
    ['fd000000000000000000000000000007', 'fd00::7'],
    ['0a000007', '10.0.0.7'],
  ];
  for (const [hex, text] of cases) t.equal(formatIp(Buffer.from(hex, 'hex')), text, `${hex} is ${text}`);
  for (const bad of ['1.2.3', '256.1.1.1', '1::2::3', '12345::', 'fe80::1%eth0', '1:2:3:4:5:6:7:8:9', '']) t.equal(parseIp(bad), undefined, `"${bad}" is not an IP address`);
  t.throws(() => formatIp(Uint8Array.of(1, 2, 3, 4, 5)), DerError, 'a 5-byte address is refused');
  t.end();
});

void t.test('extensions we encode are read back by asn1js/pkijs unchanged', (t) => {
  fc.assert(fc.property(fc.array(fc.nat({ max: 2 ** 31 - 1 }), { minLength: 1, maxLength: 8 }), fc.boolean(), fc.uint8Array({ maxLength: 300 }), (arcs, critical, value) => {
    const oid = ['2', '999', ...arcs.map(String)].join('.');
    const der = critical ? sequence(encodeOid(oid), Uint8Array.of(1, 1, 0xff), octetString(value)) : sequence(encodeOid(oid), octetString(value));
    const ext = pkijs.Extension.fromBER(new Uint8Array(der));
    return ext.extnID === oid && ext.critical === critical && Buffer.from(ext.extnValue.valueBlock.valueHexView).equals(Buffer.from(value))
      && decodeOid(der.subarray(readTlv(der, 2).contentStart, readTlv(der, 2).end)) === oid;
  }), { numRuns: 300 });
  t.pass('300 random extensions');
  t.end();
});

void t.test('an OBJECT IDENTIFIER arc over 2^31-1 is refused, as Go refuses it', (t) => {
  for (const [arc, ok] of [[2 ** 31 - 1, true], [2 ** 31, false], [2 ** 40, false]] as const) {
    const value = encodeOid(`1.2.${arc}`).subarray(2);
    if (ok) t.equal(decodeOid(value), `1.2.${arc}`, `arc ${arc} is read`);
    else t.throws(() => decodeOid(value), /larger than 2\^31-1/, `arc ${arc} is refused`);
  }
  t.throws(() => decodeOid(encodeOid(`2.${2 ** 31}`).subarray(2)), /larger than 2\^31-1/, 'so is a first sub-identifier over 2^31-1');
  t.end();
});

void t.test('any content length encodes minimally and reads back, short and long form', (t) => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 70_000 }), (n) => {
    const der = encode(Tag.octetString, new Uint8Array(n).fill(7));
    const tlv = readWhole(der, Tag.octetString, 'x');
    const asn = asn1js.fromBER(ab(der));
    return tlv.end - tlv.contentStart === n && asn.offset === der.length && !asn.result.error;
  }), { numRuns: 200 });
  t.pass('200 lengths');
  t.end();
});

void t.test('integers are minimal and positive', (t) => {
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  t.equal(hex(encodeUnsignedInteger(Uint8Array.of(0, 0, 5))), '020105', 'leading zeros are dropped');
  t.equal(hex(encodeUnsignedInteger(Uint8Array.of(0x80))), '02020080', 'a high bit gets a zero byte');
  t.equal(hex(encodeUnsignedInteger(Uint8Array.of(0, 0))), '020100', 'zero is one byte');
  fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 20 }), (bytes) => {
    const asn = asn1js.fromBER(ab(encodeUnsignedInteger(bytes))).result as asn1js.Integer;
    return asn.toBigInt() === BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
  }));
  t.end();
});

void t.test('the DER reader refuses what is not DER', (t) => {
  const cases: [string, number[]][] = [
    ['a truncated header', [0x30]],
    ['content shorter than its length', [0x30, 0x05, 0x02, 0x01, 0x00]],
    ['an indefinite length (BER)', [0x30, 0x80, 0x00, 0x00]],
    ['a long-form length under 128', [0x04, 0x81, 0x05, 1, 2, 3, 4, 5]],
    ['a length with a leading zero byte', [0x04, 0x82, 0x00, 0x85, ...new Array<number>(0x85).fill(0)]],
    ['a five-byte length', [0x04, 0x85, 1, 0, 0, 0, 0]],
    ['a high tag number', [0x1f, 0x81, 0x00, 0x00]],
    ['trailing bytes', [0x05, 0x00, 0x00]],
  ];
  for (const [name, bytes] of cases) t.throws(() => readWhole(Uint8Array.from(bytes), bytes[0] ?? 0, 'x'), DerError, `refuses ${name}`);
  t.throws(() => decodeOid(Uint8Array.of(0x2a, 0x80, 0x01)), DerError, 'refuses a non-minimal OID arc');
  t.throws(() => decodeOid(Uint8Array.of(0x2a, 0x86)), DerError, 'refuses a truncated OID');
  t.throws(() => children(Uint8Array.of(0x30, 0x03, 0x02, 0x05, 0x00), readTlv(Uint8Array.of(0x30, 0x03, 0x02, 0x05, 0x00), 0)), DerError, 'a child may not overrun its parent');
  t.end();
});

void t.test('PEM: blocks, labels, headers and bad base64 are reported as found', (t) => {
  const pem = encodePem('CERTIFICATE REQUEST', Uint8Array.of(1, 2, 3));
  t.same(decodePem(`junk before\n${pem}junk after`).map((b) => b.label), ['CERTIFICATE REQUEST'], 'text around blocks is ignored');
  t.same([...decodePem(pem.replace(/\n/g, '\r\n'))[0]?.der ?? []], [1, 2, 3], 'CRLF line ends are accepted');
  t.equal(decodePem(pem.replace('-----\n', '-----\nProc-Type: 4,ENCRYPTED\n\n'))[0]?.headers, true, 'headers are flagged');
  t.throws(() => decodePem('-----BEGIN A-----\nAAAA\n-----END B-----\n'), /ends with "END B"/, 'mismatched END');
  t.throws(() => decodePem('-----BEGIN A-----\nA*AA\n-----END A-----\n'), /not valid base64/, 'bad base64');
  const long = encodePem('X', new Uint8Array(100));
  t.ok(long.split('\n').every((l) => l.length <= 64), 'lines are at most 64 characters');
  t.end();
});

void t.test('times: UTCTime through 2049, GeneralizedTime from 2050, whole seconds; Go rendering', (t) => {
  const text = (d: Date): string => Buffer.from(encodeTime(d)).toString('latin1').slice(2);
  t.equal(encodeTime(new Date(Date.UTC(2049, 11, 31, 23, 59, 59)))[0], Tag.utcTime);
  t.equal(text(new Date(Date.UTC(2049, 11, 31, 23, 59, 59, 999))), '491231235959Z', 'milliseconds are truncated');
  t.equal(encodeTime(new Date(Date.UTC(2050, 0, 1)))[0], Tag.generalizedTime);
  t.equal(text(new Date(Date.UTC(2050, 0, 1))), '20500101000000Z');
  t.equal(text(new Date(Date.UTC(1999, 5, 7, 8, 9, 10))), '990607080910Z');
  t.equal(formatGoTime(new Date(Date.UTC(2025, 0, 1))), '2025-01-01 00:00:00 +0000 UTC');
  t.equal(formatGoTime(new Date(Date.UTC(2025, 0, 1, 1, 2, 3, 450))), '2025-01-01 01:02:03.45 +0000 UTC');
  t.end();
});

void t.test('durations use Go syntax', (t) => {
  const ok: [string, number][] = [
    ['8760h', 8760 * 3_600_000], ['1h30m', 5_400_000], ['1.5h', 5_400_000], ['300ms', 300], ['2h45m0.5s', 9_900_500],
    ['0', 0], ['10m', 600_000], ['1us', 0], ['1500000ns', 1], ['+5s', 5000], ['.5s', 500], ['1h1m1s1ms', 3_661_001],
  ];
  for (const [text, ms] of ok) t.equal(parseDuration(text), ms, `"${text}" is ${ms} ms`);
  const bad: [string, RegExp][] = [
    ['', /empty/], ['-1h', /negative/], ['10', /needs a unit/], ['1d', /unexpected "1d"/], ['h', /unexpected/], ['1h ', /unexpected " "/], ['1e3s', /unexpected/],
  ];
  for (const [text, message] of bad) t.throws(() => parseDuration(text), { kind: 'InvalidDuration', message }, `"${text}" is refused`);
  t.equal(formatDuration(8760 * 3_600_000), '8760h0m0s');
  t.equal(formatDuration(5_400_000), '1h30m0s');
  t.equal(formatDuration(90_500), '1m30.5s');
  t.equal(formatDuration(500), '500ms');
  t.end();
});
