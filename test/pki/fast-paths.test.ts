/**
 * The hot path's shortcuts against the straightforward code they replace:
 * PEM decoding, times, OIDs, SAN re-encoding and the TBSCertificate writer are
 * compared with reference implementations (the earlier, simple versions), and
 * the threadpool paths with the synchronous ones. Also: an EC point that is
 * not on its curve is refused, and the request-key imports (PEM, DER, JWK)
 * give the same key.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { isCsrSignerError } from '../../src/errors.js';
import {
  children, contextConstructed, decodeOid, encode, encodeOid, encodeUnsignedInteger, knownOidEntries, octetString, readOid, readWhole, sequence, slice, Tag,
} from '../../src/pki/der.js';
import { Oid } from '../../src/pki/oids.js';
import {
  encodePem, issueCertificate, mapUsages, parseRequest, parseRequestAsync, parseRequestDer, parseRequestDerAsync, signRequest,
  type CertificateAuthority, type CertificateRequest, type SigningProfile,
} from '../../src/pki/index.js';
import { decodePem, PemError, type PemBlock } from '../../src/pki/pem.js';
import { importPathFor, importPublicKey, readPublicKey, type KeyImport } from '../../src/pki/public-key.js';
import { decodeSubjectAltNames, encodeSubjectAltNames, formatIp, parseIp, type SubjectAltNames } from '../../src/pki/san.js';
import { encodeTime } from '../../src/pki/validity.js';
import { loadTestCa, makeOpensslCa, type CaKeyType } from '../helpers/ca.js';
import { buildRequest, testKey, type RequestSpec } from '../helpers/requests.js';
import { needTool, tempDir } from '../helpers/tools.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// ------------------------------------------------------------------ references

/** decodePem as it was before the single-block fast path. */
function referenceDecodePem(text: string): PemBlock[] {
  const blockPattern = /-----BEGIN ([^-\r\n]*)-----\r?\n([\s\S]*?)-----END ([^-\r\n]*)-----/g;
  const base64Line = /^[A-Za-z0-9+/]*={0,2}$/;
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(blockPattern)) {
    const [, label = '', body = '', endLabel = ''] = match;
    if (label !== endLabel) throw new PemError(`PEM block "${label}" ends with "END ${endLabel}"`);
    const lines = body.split(/\r?\n/).map((l) => l.trim());
    const headers = lines.some((l) => l.includes(':'));
    const data = lines.filter((l) => l !== '' && !l.includes(':')).join('');
    if (!base64Line.test(data) || data.length % 4 !== 0) throw new PemError(`PEM block "${label}" is not valid base64`);
    blocks.push({ label, headers, der: new Uint8Array(Buffer.from(data, 'base64')) });
  }
  return blocks;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** encodeTime as it was before it wrote digits directly. */
function referenceEncodeTime(d: Date): Uint8Array {
  const year = d.getUTCFullYear();
  const rest = `${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  if (year >= 1950 && year < 2050) return encode(Tag.utcTime, Buffer.from(`${pad(year % 100)}${rest}`, 'latin1'));
  return encode(Tag.generalizedTime, Buffer.from(`${pad(year, 4)}${rest}`, 'latin1'));
}

/** decodeOid as it was before it built the string directly. */
function referenceDecodeOid(bytes: Uint8Array): string {
  const arcs: number[] = [];
  let value = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) {
        const first = value < 40 ? 0 : value < 80 ? 1 : 2;
        arcs.push(first, value - first * 40);
      } else {
        arcs.push(value);
      }
      value = 0;
    }
  }
  return arcs.join('.');
}

/** The TBSCertificate as the issuer built it before the single-buffer writer: generic encode() calls throughout. */
function referenceTbs(request: CertificateRequest, profile: SigningProfile, ca: CertificateAuthority, serial: Uint8Array, notBefore: Date, notAfter: Date): Uint8Array {
  const extension = (oid: string, critical: boolean, value: Uint8Array): Uint8Array =>
    critical ? sequence(encodeOid(oid), Uint8Array.of(1, 1, 0xff), octetString(value)) : sequence(encodeOid(oid), octetString(value));
  const usages = mapUsages(profile.usages);
  const extensions: Uint8Array[] = [];
  if (usages.keyUsage) extensions.push(extension('2.5.29.15', true, encode(Tag.bitString, usages.keyUsage)));
  if (usages.extKeyUsages.length > 0) extensions.push(extension('2.5.29.37', false, sequence(...usages.extKeyUsages.map(encodeOid))));
  extensions.push(extension('2.5.29.19', true, sequence()));
  extensions.push(extension('2.5.29.14', false, octetString(createHash('sha1').update(request.publicKey.keyBits).digest())));
  const ski = ca.certificate.subjectKeyId;
  if (ski) extensions.push(extension('2.5.29.35', false, sequence(encode(0x80, ski))));
  const names = request.subjectAltNames;
  if (names.dnsNames.length + names.emailAddresses.length + names.ipAddresses.length + names.uris.length > 0) {
    // A fresh copy of the names, so that nothing the decoder remembered is used.
    const copy: SubjectAltNames = { dnsNames: [...names.dnsNames], emailAddresses: [...names.emailAddresses], ipAddresses: [...names.ipAddresses], uris: [...names.uris] };
    extensions.push(extension('2.5.29.17', request.subjectDer.length === 2, encodeSubjectAltNames(copy)));
  }
  return sequence(
    encode(contextConstructed(0), encode(Tag.integer, Uint8Array.of(2))),
    encodeUnsignedInteger(serial),
    ca.signatureAlgorithm.identifier,
    ca.certificate.subjectDer,
    sequence(referenceEncodeTime(notBefore), referenceEncodeTime(notAfter)),
    request.subjectDer,
    request.publicKey.spki,
    encode(contextConstructed(3), sequence(...extensions)),
  );
}

const tbsOf = (certDer: Uint8Array): Uint8Array => {
  const [tbs] = children(certDer, readWhole(certDer, Tag.sequence, 'Certificate'));
  if (!tbs) throw new Error('no TBSCertificate');
  return slice(certDer, tbs);
};

const outcome = <T>(f: () => T): { ok: true; value: T } | { ok: false; error: unknown } => {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    return { ok: false, error };
  }
};

// ------------------------------------------------------------------------ PEM

void t.test('decodePem: the single-block fast path gives what the general path gives, errors included', (t) => {
  const labels = ['CERTIFICATE REQUEST', 'CERTIFICATE', 'X', 'NEW CERTIFICATE REQUEST', 'A-B', ''];
  const junk = fc.constantFrom('', 'junk\n', '# note -----\n', '-----\n', 'x-----BEGIN', '\n\n', 'text before\r\n', ':');
  const damage = fc.constantFrom('', ' ', '\t', '\r', ':', '*', '=', '==', '-', '\u00e9', 'A', 'Proc-Type: 4,ENCRYPTED\n', '\n');
  const block = fc.record({
    label: fc.constantFrom(...labels), otherEnd: fc.boolean(), endLabel: fc.constantFrom(...labels), der: fc.uint8Array({ maxLength: 200 }),
    width: fc.constantFrom(64, 76, 4, 1000), crlf: fc.boolean(), crlfAfterBegin: fc.boolean(), at: fc.nat(), damage, finalNewline: fc.boolean(),
  }).map((b) => {
    const b64 = Buffer.from(b.der).toString('base64');
    const lines: string[] = [];
    for (let i = 0; i < b64.length; i += b.width) lines.push(b64.slice(i, i + b.width));
    const eol = b.crlf ? '\r\n' : '\n';
    let body = lines.map((l) => l + eol).join('');
    if (!b.finalNewline && body.endsWith(eol)) body = body.slice(0, -eol.length);
    const at = body.length === 0 ? 0 : b.at % (body.length + 1);
    body = body.slice(0, at) + b.damage + body.slice(at);
    return `-----BEGIN ${b.label}-----${b.crlfAfterBegin ? '\r\n' : '\n'}${body}-----END ${b.otherEnd ? b.endLabel : b.label}-----`;
  });
  fc.assert(fc.property(junk, fc.array(block, { minLength: 0, maxLength: 3 }), junk, fc.constantFrom('', '\n', '\r\n', '-----', 'after\n'), (before, blocks, between, after) => {
    const text = before + blocks.join(between) + after;
    const mine = outcome(() => decodePem(text));
    const theirs = outcome(() => referenceDecodePem(text));
    if (!mine.ok || !theirs.ok) {
      return !mine.ok && !theirs.ok && String(mine.error) === String(theirs.error);
    }
    return mine.value.length === theirs.value.length && mine.value.every((m, i) => {
      const r = theirs.value[i] as PemBlock;
      return m.label === r.label && m.headers === r.headers && hex(m.der) === hex(r.der) && m.der.constructor === Uint8Array;
    });
  }), { numRuns: 5000 });
  t.pass('5000 generated texts decode the same way');
  const pem = encodePem('CERTIFICATE REQUEST', Uint8Array.of(1, 2, 3, 4, 5));
  t.same([...(decodePem(pem)[0]?.der ?? [])], [1, 2, 3, 4, 5], 'one plain block, padded');
  t.throws(() => decodePem(pem.replace('AQIDBAU=', 'AQIDBA=U')), /not valid base64/, "'=' inside the data");
  t.end();
});

// ------------------------------------------------------------- times and OIDs

void t.test('encodeTime writes what the string version wrote, in every century', (t) => {
  const date = fc.date({ min: new Date(Date.UTC(1, 0, 1)), max: new Date(Date.UTC(20000, 0, 1)), noInvalidDate: true });
  fc.assert(fc.property(date, (d) => hex(encodeTime(d)) === hex(referenceEncodeTime(d))), { numRuns: 3000 });
  for (const d of [Date.UTC(1949, 11, 31, 23, 59, 59), Date.UTC(1950, 0, 1), Date.UTC(2049, 11, 31, 23, 59, 59, 999), Date.UTC(2050, 0, 1), Date.UTC(9999, 11, 31), Date.UTC(10000, 0, 1)]) {
    t.equal(hex(encodeTime(new Date(d))), hex(referenceEncodeTime(new Date(d))), new Date(d).toISOString());
  }
  t.end();
});

void t.test('decodeOid gives the dotted form the array version gave', (t) => {
  // Arcs up to 2^31-1, the largest Go reads (larger ones are refused: see encoding.test.ts).
  fc.assert(fc.property(fc.nat({ max: 2 }), fc.nat({ max: 39 }), fc.array(fc.nat({ max: 2 ** 31 - 1 }), { maxLength: 10 }), (a, b, rest) => {
    const dotted = [a, a === 2 ? b + 100 : b, ...rest].join('.');
    const der = encodeOid(dotted);
    const value = der.subarray(2);
    return decodeOid(value) === dotted && referenceDecodeOid(value) === dotted;
  }), { numRuns: 2000 });
  t.pass('2000 OIDs');
  t.end();
});

void t.test('readOid answers from its table of known OIDs exactly as decodeOid would, and decodes anything else', (t) => {
  const entries = knownOidEntries();
  t.equal(entries.length, new Set(Object.values(Oid)).size, 'every OID of oids.ts is in the table');
  for (const { bytes, dotted } of entries) {
    t.equal(decodeOid(bytes), dotted, `${dotted}: decodeOid agrees`);
    const der = encode(Tag.oid, bytes);
    t.equal(readOid(der, readWhole(der, Tag.oid, 'OID'), 'test'), dotted, `${dotted}: read from the table`);
  }
  // Bytes whose hash equals 2.5.4.3's (commonName) are another OID: the table compares bytes, not only hashes.
  const collision = encode(Tag.oid, Uint8Array.of(0x54, 0x23, 0x03));
  t.equal(readOid(collision, readWhole(collision, Tag.oid, 'OID'), 'test'), '2.4.35.3', 'a hash collision with a known OID is decoded');
  // Unknown OIDs, OIDs one byte away from a known one, and bytes no OID has: decodeOid's answer or error.
  const known = entries.map((e) => e.bytes);
  const near = fc.tuple(fc.constantFrom(...known), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([bytes, at, b]) => {
    const copy = bytes.slice();
    copy[at % copy.length] = b;
    return copy;
  });
  fc.assert(fc.property(fc.oneof(near, fc.uint8Array({ minLength: 1, maxLength: 12 })), (bytes) => {
    const der = encode(Tag.oid, bytes);
    const viaTable = outcome(() => readOid(der, readWhole(der, Tag.oid, 'OID'), 'test'));
    const direct = outcome(() => decodeOid(bytes));
    if (viaTable.ok && direct.ok) return viaTable.value === direct.value;
    if (!viaTable.ok && !direct.ok) return String(viaTable.error) === String(direct.error);
    return false;
  }), { numRuns: 3000 });
  t.pass('3000 near and random OIDs');
  t.end();
});

// ----------------------------------------------------------------------- SANs

const ipBytes = fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 }));
const sanName = fc.oneof(
  fc.domain().map((v) => ({ tag: 0x82, text: v })),
  fc.emailAddress().filter((e) => /^[\x21-\x7e]+$/.test(e)).map((v) => ({ tag: 0x81, text: v })),
  ipBytes.map((v) => ({ tag: 0x87, bytes: v })),
  fc.webUrl().filter((u) => /^[\x21-\x7e]+$/.test(u)).map((v) => ({ tag: 0x86, text: v })),
);

void t.test('SANs read from a request re-encode exactly as fresh names do, whatever their order', (t) => {
  fc.assert(fc.property(fc.array(sanName, { minLength: 1, maxLength: 12 }), (names) => {
    // GeneralNames in the generated (any) order, as a request may carry them.
    const der = sequence(...names.map((n) => encode(n.tag, 'bytes' in n ? n.bytes : Buffer.from(n.text, 'latin1'))));
    const decoded = decodeSubjectAltNames(der);
    const fresh: SubjectAltNames = { dnsNames: [...decoded.dnsNames], emailAddresses: [...decoded.emailAddresses], ipAddresses: [...decoded.ipAddresses], uris: [...decoded.uris] };
    const expected = hex(encodeSubjectAltNames(fresh));
    const again = encodeSubjectAltNames(decoded);
    again.fill(0); // the result is the caller's to change: it must not be the request's bytes
    return hex(encodeSubjectAltNames(decoded)) === expected && hex(der).length > 0;
  }), { numRuns: 1000 });
  t.pass('1000 name lists');
  t.end();
});

void t.test('SANs changed after decoding are encoded as changed, never as they were read', (t) => {
  const der = sequence(encode(0x82, Buffer.from('a.example.com')), encode(0x87, Uint8Array.of(10, 0, 0, 1)), encode(0x87, Buffer.from('20010db8000000000000000000000001', 'hex')));
  const names = decodeSubjectAltNames(der);
  t.equal(hex(encodeSubjectAltNames(names)), hex(der), 'unchanged names in Go order encode to the request bytes');
  (names.ipAddresses as string[])[0] = '10.0.0.2';
  (names.dnsNames as string[]).push('b.example.com');
  const changed = decodeSubjectAltNames(encodeSubjectAltNames(names));
  t.same(changed.ipAddresses, ['10.0.0.2', '2001:db8::1'], 'a replaced IP address is encoded from its new text');
  t.same(changed.dnsNames, ['a.example.com', 'b.example.com'], 'an added DNS name is encoded');
  (names.ipAddresses as string[])[0] = 'not an address';
  t.throws(() => encodeSubjectAltNames(names), /not an IP address: not an address/, 'a bad address is still refused');
  t.equal(formatIp(parseIp('10.0.0.2') ?? new Uint8Array(0)), '10.0.0.2');
  t.end();
});

// ------------------------------------------------------------ EC point checks

void t.test('an EC public key whose point is not on its curve is refused, on both paths', async (t) => {
  for (const [key, size] of [['p256', 32], ['p384', 48], ['p521', 66]] as const) {
    const der = buildRequest({ key, commonName: `off-curve-${key}` });
    const point = testKey(key).publicKey.export({ type: 'spki', format: 'der' }).subarray(-(1 + 2 * size));
    const at = Buffer.from(der).indexOf(point);
    t.ok(at > 0, `${key}: the point is found in the request`);
    for (const [what, offset] of [['y', 2 * size], ['x', 1]] as const) {
      const bad = Uint8Array.from(der);
      bad[at + offset] = (bad[at + offset] as number) ^ 0x01;
      t.throws(() => parseRequestDer(bad), { kind: 'InvalidPublicKey', message: /is not a valid point or value/ }, `${key}, ${what} altered: refused`);
      await t.rejects(parseRequestDerAsync(bad), { kind: 'InvalidPublicKey', message: /is not a valid point or value/ }, `${key}, ${what} altered: refused by the async path`);
    }
    const zero = Uint8Array.from(der);
    zero.fill(0, at + 1, at + 1 + 2 * size);
    t.throws(() => parseRequestDer(zero), { kind: 'InvalidPublicKey', message: /is not a valid point or value/ }, `${key}: the all-zero point is refused`);
  }
});

// ------------------------------------------------------------ key imports

const importPaths: readonly KeyImport[] = ['pem', 'der', 'jwk'];

void t.test('every request-key import gives the same key, and refuses a point off its curve', (t) => {
  for (const type of ['p256', 'p384', 'p521', 'rsa2048', 'rsa4096', 'ed25519'] as const) {
    const expected = testKey(type).publicKey;
    const spki = new Uint8Array(expected.export({ type: 'spki', format: 'der' }));
    const { kind, keyBits } = readPublicKey(spki, readWhole(spki, Tag.sequence, 'spki'));
    for (const how of importPaths) {
      const key = importPublicKey(spki, kind, keyBits, how);
      t.ok(key.equals(expected), `${type} through ${how}: the same public key`);
      t.equal(key.asymmetricKeyType, expected.asymmetricKeyType, `${type} through ${how}: the same key type`);
    }
    if (kind.type !== 'ec') continue;
    const bad = Uint8Array.from(spki);
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0x01;
    const badBits = bad.subarray(bad.length - keyBits.length);
    for (const how of importPaths) t.throws(() => importPublicKey(bad, kind, badBits, how), `${type} through ${how}: a point off its curve is refused`);
  }
  t.end();
});

void t.test('the import path follows the runtime\'s OpenSSL', (t) => {
  const openssl30 = 0x30000130;
  const openssl35 = 0x30500080;
  t.equal(importPathFor({ type: 'ec', curve: 'P-256' }, openssl30), 'jwk');
  t.equal(importPathFor({ type: 'rsa', bits: 2048 }, openssl30), 'jwk');
  t.equal(importPathFor({ type: 'ed25519' }, openssl30), 'jwk');
  t.equal(importPathFor({ type: 'ec', curve: 'P-384' }, openssl30), 'der');
  t.equal(importPathFor({ type: 'ec', curve: 'P-521' }, openssl30), 'der');
  for (const kind of [{ type: 'ec', curve: 'P-256' }, { type: 'ec', curve: 'P-521' }, { type: 'rsa', bits: 4096 }, { type: 'ed25519' }] as const) {
    t.equal(importPathFor(kind, openssl35), 'pem', `${JSON.stringify(kind)} on OpenSSL 3.5: PEM`);
  }
  t.end();
});

// ------------------------------------------------------- sync and async paths

const fixtures = join(import.meta.dirname, '..', 'fixtures');

const describeOutcome = (o: ReturnType<typeof outcome<CertificateRequest>> | { ok: false; error: unknown }): string =>
  o.ok ? `ok ${hex(o.value.subjectDer)} ${JSON.stringify(o.value.subjectAltNames)} ${o.value.requestedExtensions.join()}`
    : isCsrSignerError(o.error) ? `${o.error.kind}: ${o.error.message}` : `untyped ${String(o.error)}`;

async function asyncOutcome(p: () => Promise<CertificateRequest>): Promise<string> {
  try {
    return describeOutcome({ ok: true, value: await p() });
  } catch (error) {
    return describeOutcome({ ok: false, error });
  }
}

void t.test('parseRequestAsync gives parseRequest\'s result or error for every fixture and mutation', async (t) => {
  for (const dir of ['requests', 'hostile']) {
    for (const file of readdirSync(join(fixtures, dir)).filter((f) => /\.(pem|der)$/.test(f))) {
      const bytes = readFileSync(join(fixtures, dir, file));
      t.equal(await asyncOutcome(() => parseRequestAsync(bytes)), describeOutcome(outcome(() => parseRequest(bytes))), `${dir}/${file}`);
    }
  }
  // A bad signature wins over bad attributes on both paths.
  const der = buildRequest({ commonName: 'both', dns: ['ok.example.com'] });
  const text = Buffer.from(der).toString('latin1');
  const broken = Uint8Array.from(Buffer.from(text.replace('ok.example.com', 'o\u0001.example.com'), 'latin1'));
  t.match(describeOutcome(outcome(() => parseRequestDer(broken))), /^InvalidSignature/, 'sync: the signature is reported first');
  t.match(await asyncOutcome(() => parseRequestDerAsync(broken)), /^InvalidSignature/, 'async: the signature is reported first');
  const originals = [buildRequest({ commonName: 'fuzz', dns: ['f.example.com'], ips: ['10.0.0.1'] }), buildRequest({ key: 'rsa2048', pss: true, commonName: 'fuzz' }), buildRequest({ key: 'ed25519', uris: ['u://x'] })];
  let runs = 0;
  await fc.assert(fc.asyncProperty(fc.nat({ max: originals.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 3 }), async (which, edits) => {
    const bytes = Uint8Array.from(originals[which] as Uint8Array);
    for (const [at, value] of edits) bytes[at % bytes.length] = value;
    runs++;
    return await asyncOutcome(() => parseRequestDerAsync(bytes)) === describeOutcome(outcome(() => parseRequestDer(bytes)));
  }), { numRuns: 500 });
  t.equal(runs, 500, '500 mutations: same outcome on both paths');
});

// ----------------------------------------------------------------- issuing

if (!needTool(t, 'openssl')) process.exit(0);
const dir = tempDir();
const cas = new Map<string, CertificateAuthority>();
async function testCa(type: CaKeyType, extensions?: string[]): Promise<CertificateAuthority> {
  const name = `ca-${type}${extensions ? '-custom' : ''}`;
  let ca = cas.get(name);
  if (!ca) {
    ca = await loadTestCa(makeOpensslCa(dir, name, type, { days: 36500, ...(extensions ? { extensions } : {}) }));
    cas.set(name, ca);
  }
  return ca;
}

void t.test('the TBSCertificate writer writes what the generic encoder wrote', async (t) => {
  const HOUR = 3_600_000;
  const everyUsage = ['signing', 'digital signature', 'content commitment', 'key encipherment', 'key agreement', 'data encipherment', 'cert sign', 'crl sign', 'encipher only', 'decipher only',
    'any', 'server auth', 'client auth', 'code signing', 'email protection', 's/mime', 'ipsec end system', 'ipsec tunnel', 'ipsec user', 'timestamping', 'ocsp signing', 'microsoft sgc', 'netscape sgc'];
  const server: SigningProfile = { usages: ['digital signature', 'key encipherment', 'server auth'], maxDurationMs: 24 * HOUR };
  const many = Array.from({ length: 400 }, (_, i) => `node-${i}.example.com`);
  const cases: { name: string; ca: CaKeyType; noSki?: boolean; spec: RequestSpec; profile: SigningProfile; now?: Date }[] = [
    { name: 'kubelet serving, P-256 CA', ca: 'p256', spec: { commonName: 'system:node:n1', organizations: ['system:nodes'], dns: ['n1', 'n1.cluster.local'], ips: ['10.0.0.1'] }, profile: server },
    { name: 'names out of Go order', ca: 'p256', spec: { commonName: 'x', uris: ['spiffe://a/b'], ips: ['fd00::7', '10.1.2.3'], emails: ['a@example.com'], dns: ['z.example.com'] }, profile: server },
    { name: 'empty subject: critical SAN', ca: 'rsa2048', spec: { dns: ['only.example.com'] }, profile: server },
    { name: 'no SAN, client auth only (no keyUsage)', ca: 'ed25519', spec: { commonName: 'c' }, profile: { usages: ['client auth'], maxDurationMs: HOUR } },
    { name: 'every usage, RSA-4096 request key', ca: 'p384', spec: { key: 'rsa4096', commonName: 'big' }, profile: { usages: everyUsage, maxDurationMs: HOUR } },
    { name: '400 DNS names: multi-byte lengths', ca: 'p256', spec: { commonName: 'many', dns: many }, profile: server },
    { name: 'CA without SKI: no AKI', ca: 'p256', noSki: true, spec: { commonName: 'n', dns: ['n.example.com'] }, profile: server },
    { name: 'GeneralizedTime after 2049', ca: 'p256', spec: { commonName: 'y2050', dns: ['y.example.com'] }, profile: { usages: ['client auth'], maxDurationMs: 2 * HOUR }, now: new Date(Date.UTC(2049, 11, 31, 23, 30, 0)) },
  ];
  for (const c of cases) {
    const ca = await testCa(c.ca, c.noSki ? ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign', 'subjectKeyIdentifier=none', 'authorityKeyIdentifier=none'] : undefined);
    const request = parseRequestDer(buildRequest(c.spec));
    for (const threadpool of ['never', 'always'] as const) {
      const issued = await issueCertificate({ request, profile: c.profile, ca, now: c.now ?? new Date(), random: (n) => crypto.getRandomValues(new Uint8Array(n)), threadpool });
      const expected = referenceTbs(request, c.profile, ca, Buffer.from(issued.serialHex, 'hex'), issued.validity.notBefore, issued.validity.notAfter);
      t.equal(hex(tbsOf(issued.der)), hex(expected), `${c.name} (threadpool ${threadpool})`);
      t.equal(issued.der.constructor, Uint8Array, 'the certificate is a plain Uint8Array');
    }
  }
});

void t.test('threadpool or not, a deterministic CA key gives the same certificate, byte for byte', async (t) => {
  const profile: SigningProfile = { usages: ['digital signature', 'server auth'], maxDurationMs: 3_600_000 };
  const now = new Date(Date.UTC(2030, 5, 1));
  const random = (n: number): Uint8Array => new Uint8Array(n).fill(7);
  for (const type of ['ed25519', 'rsa2048'] as const) {
    const ca = await testCa(type);
    const pem = buildRequest({ key: 'p256', commonName: 'same', dns: ['same.example.com'] });
    const never = await signRequest(pem, profile, ca, { now, random, threadpool: 'never' });
    const always = await signRequest(pem, profile, ca, { now, random, threadpool: 'always' });
    const auto = await signRequest(pem, profile, ca, { now, random });
    t.equal(hex(always.der), hex(never.der), `${type}: threadpool 'always' = 'never'`);
    t.equal(hex(auto.der), hex(never.der), `${type}: 'auto' = 'never'`);
    t.equal(always.pem, never.pem);
  }
});

void t.test("'auto' signs on this thread for one request at a time, and on the threadpool while others are in flight", async (t) => {
  const base = await testCa('p256');
  const provider = base.keyProvider;
  const where: string[] = [];
  const ca: CertificateAuthority = {
    ...base,
    keyProvider: {
      description: provider.description,
      sign: (data, hash) => {
        where.push('this thread');
        return provider.sign(data, hash);
      },
      signOffThread: (data, hash) => {
        where.push('threadpool');
        return (provider.signOffThread as NonNullable<typeof provider.signOffThread>)(data, hash);
      },
    },
  };
  const profile: SigningProfile = { usages: ['digital signature', 'server auth'], maxDurationMs: 3_600_000 };
  const random = (n: number): Uint8Array => new Uint8Array(n).fill(3);
  const pem = buildRequest({ key: 'p256', commonName: 'auto', dns: ['auto.example.com'] });
  for (let i = 0; i < 3; i++) await signRequest(pem, profile, ca, { now: new Date(), random });
  t.same(where, ['this thread', 'this thread', 'this thread'], 'one at a time: on this thread');
  where.length = 0;
  await Promise.all(Array.from({ length: 8 }, () => signRequest(pem, profile, ca, { now: new Date(), random })));
  t.equal(where.length, 8, 'eight signatures');
  t.ok(where.filter((w) => w === 'threadpool').length >= 4, `eight at once: most on the threadpool (${where.join(', ')})`);
});

void t.test('many requests in flight: every certificate verifies with the CA key, and errors stay typed', async (t) => {
  for (const type of ['p256', 'rsa2048'] as const) {
    const ca = await testCa(type);
    const caKey = new X509Certificate(Buffer.from(ca.certificate.der)).publicKey;
    const profile: SigningProfile = { usages: ['digital signature', 'server auth'], maxDurationMs: 3_600_000 };
    const good = Array.from({ length: 6 }, (_, i) => buildRequest({ key: i % 2 === 0 ? 'p256' : 'ed25519', commonName: `burst-${i}`, dns: [`b${i}.example.com`] }));
    const bad = Uint8Array.from(good[0] as Uint8Array);
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1;
    const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
    const results = await Promise.allSettled([...good, bad, ...good].map((der) => signRequest(der, profile, ca, { now: new Date(), random })));
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    t.equal(fulfilled.length, 12, `${type}: twelve issued`);
    t.ok(fulfilled.every((r) => new X509Certificate(Buffer.from(r.value.der)).verify(caKey)), `${type}: every certificate verifies`);
    const rejected = results.filter((r) => r.status === 'rejected');
    t.equal(rejected.length, 1, `${type}: one refused`);
    t.match(rejected[0]?.reason, { kind: 'InvalidSignature' }, `${type}: the tampered request, as InvalidSignature`);
  }
  const failing = { ...(await testCa('p256')), keyProvider: { description: 'broken', sign: (): Uint8Array => { throw new Error('HSM offline'); }, signOffThread: (): Promise<Uint8Array> => Promise.reject(new Error('HSM offline')) } };
  for (const threadpool of ['never', 'always'] as const) {
    await t.rejects(signRequest(buildRequest({ commonName: 'x' }), { usages: ['client auth'], maxDurationMs: 3_600_000 }, failing, { now: new Date(), random: (n) => new Uint8Array(n).fill(1), threadpool }),
      { kind: 'SigningFailed', message: /HSM offline/ }, `a provider failure is SigningFailed (threadpool ${threadpool})`);
  }
});
