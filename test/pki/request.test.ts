/**
 * Requests: what is accepted (made by openssl, cfssl and pkijs), what is refused
 * (the hostile corpus: see hostile.test.ts), and that nothing, however mangled, escapes as an untyped error.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { CsrSignerError, isCsrSignerError } from '../../src/errors.js';
import { describeKey, parseRequest, parseRequestDer } from '../../src/pki/index.js';
import { buildRequest, caTrueBasicConstraints, toPem, type TestKeyType } from '../helpers/requests.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures');
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

void t.test('every valid request in the fixtures parses, with the key type it was made with', (t) => {
  const expected = readJson<Record<string, { key: string }>>(join(fixtures, 'requests', 'expected.json'));
  const files = readdirSync(join(fixtures, 'requests')).filter((f) => /\.(pem|der)$/.test(f));
  t.same(files.sort(), Object.keys(expected).sort(), 'expected.json covers every fixture');
  for (const [file, { key }] of Object.entries(expected)) {
    const request = parseRequest(readFileSync(join(fixtures, 'requests', file)));
    t.equal(describeKey(request.publicKey.kind), key, `${file}: ${key}`);
  }
  t.end();
});

void t.test('names come out of fixtures exactly as they were requested', (t) => {
  const read = (file: string): ReturnType<typeof parseRequest> => parseRequest(readFileSync(join(fixtures, 'requests', file)));
  const all = read('all-san-types.pem');
  t.ok(all.subjectAltNames.dnsNames.length > 0 && all.subjectAltNames.ipAddresses.length > 0 && all.subjectAltNames.emailAddresses.length > 0 && all.subjectAltNames.uris.length > 0, 'DNS, IP, email and URI names are all found');
  t.ok(all.subjectAltNames.ipAddresses.some((ip) => ip.includes(':')) && all.subjectAltNames.ipAddresses.some((ip) => ip.includes('.')), 'IPv4 and IPv6');
  t.match(read('utf8-subject.pem').subject.attributes.map((a) => a.value).join(','), /Zürich/, 'UTF-8 subject values are decoded');
  const empty = read('empty-subject-sans-only.pem');
  t.equal(empty.subject.attributes.length, 0, 'an empty subject');
  t.equal(Buffer.from(empty.subjectDer).toString('hex'), '3000', 'kept as the empty SEQUENCE');
  t.equal(read('sans-1000.pem').subjectAltNames.dnsNames.length, 1000, 'exactly the limit of 1000 names is accepted');
  t.end();
});

// The hostile corpus (test/fixtures/hostile/) is tested in hostile.test.ts, through signRequest.

void t.test('requests from pkijs: every key type, PSS, subject and SANs', (t) => {
  const keys: [TestKeyType, string][] = [['p256', 'ECDSA P-256'], ['p384', 'ECDSA P-384'], ['p521', 'ECDSA P-521'], ['rsa2048', 'RSA 2048-bit'], ['rsa4096', 'RSA 4096-bit'], ['ed25519', 'Ed25519']];
  for (const [key, description] of keys) {
    t.equal(describeKey(parseRequestDer(buildRequest({ key, commonName: key })).publicKey.kind), description, `${key} is ${description}`);
  }
  const pss = parseRequestDer(buildRequest({ key: 'rsa2048', pss: true, commonName: 'pss' }));
  t.match(pss.signatureAlgorithm, { key: 'rsa', hash: 'sha256', pss: { saltLength: 32 } }, 'an RSASSA-PSS signed request verifies');
  const request = parseRequestDer(buildRequest({
    commonName: 'system:node:n1', organizations: ['system:nodes', 'second'], dns: ['a.example.com', 'b.example.com'],
    ips: ['10.0.0.1', '2001:db8::1', '::ffff:102:304'], emails: ['x@example.com'], uris: ['spiffe://cluster.local/ns/default/sa/x'],
    extensions: [{ oid: '1.2.3.4', value: Uint8Array.of(5, 0).buffer }, { oid: '2.5.29.19', value: Uint8Array.of(0x30, 0).buffer }],
  }));
  t.equal(request.subject.commonName, 'system:node:n1');
  t.same(request.subject.organizations, ['system:nodes', 'second']);
  t.same(request.subjectAltNames, {
    dnsNames: ['a.example.com', 'b.example.com'], emailAddresses: ['x@example.com'],
    ipAddresses: ['10.0.0.1', '2001:db8::1', '::ffff:102:304'], uris: ['spiffe://cluster.local/ns/default/sa/x'],
  });
  t.same(request.requestedExtensions, ['2.5.29.17', '1.2.3.4', '2.5.29.19'], 'requested extensions are listed (and dropped at issue)');
  t.equal(request.requestsCa, false, 'an empty basicConstraints is not a CA request');
  t.end();
});

void t.test('basicConstraints: the parser records a CA request and refuses only an unreadable one', (t) => {
  const parse = (value: ArrayBuffer): ReturnType<typeof parseRequestDer> =>
    parseRequestDer(buildRequest({ extensions: [{ oid: '2.5.29.19', critical: true, value }] }));
  const ca = parse(caTrueBasicConstraints());
  t.equal(ca.requestsCa, true, 'CA:TRUE is recorded');
  t.equal(ca.requestedPathLen, undefined, 'no pathLen asked for');
  const withPathLen = parse(Uint8Array.of(0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0x03).buffer);
  t.match(withPathLen, { requestsCa: true, requestedPathLen: 3 }, 'CA:TRUE with pathLen 3');
  const explicitFalse = parse(Uint8Array.of(0x30, 0x03, 0x01, 0x01, 0x00).buffer);
  t.equal(explicitFalse.requestsCa, false, 'an explicit CA:FALSE is not a CA request');
  t.notOk('requestedPathLen' in explicitFalse, 'no pathLen without CA:TRUE');
  const unreadable: [string, number[]][] = [
    ['not a SEQUENCE', [0x04, 0x00]],
    ['a two-byte BOOLEAN', [0x30, 0x04, 0x01, 0x02, 0xff, 0xff]],
    ['a negative pathLen', [0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0x80]],
    ['a field after pathLen', [0x30, 0x08, 0x01, 0x01, 0xff, 0x02, 0x01, 0x00, 0x05, 0x00]],
  ];
  for (const [what, bytes] of unreadable) {
    t.throws(() => parse(Uint8Array.from(bytes).buffer), { kind: 'MalformedRequest', message: /basicConstraints/ }, `${what} is a malformed request`);
  }
  const pem = toPem('CERTIFICATE REQUEST', buildRequest({ commonName: 'pem' }));
  t.equal(parseRequest(pem).subject.commonName, 'pem', 'PEM text is accepted');
  t.equal(parseRequest(`# a comment first\n${pem}`).subject.commonName, 'pem', 'text before the block is ignored');
  t.throws(() => parseRequest(pem.replace('REQUEST-----', 'REQUEST-----\nProc-Type: 4,ENCRYPTED\n')), { kind: 'MalformedRequestPem', message: /PEM headers/ });
  t.throws(() => parseRequest(pem + pem), { kind: 'MalformedRequestPem', message: /found 2 blocks \(CERTIFICATE REQUEST, CERTIFICATE REQUEST\)/ });
  t.throws(() => parseRequest(pem.replace(/CERTIFICATE REQUEST/g, 'NEW CERTIFICATE REQUEST')), { kind: 'MalformedRequestPem', message: /found one NEW CERTIFICATE REQUEST block/ });
  t.end();
});

void t.test('a signature that does not match is refused, wherever the damage is', (t) => {
  const der = buildRequest({ commonName: 'victim', dns: ['victim.example.com'] });
  const lastByte = Uint8Array.from(der);
  lastByte[lastByte.length - 1] = (lastByte[lastByte.length - 1] ?? 0) ^ 0x01;
  t.throws(() => parseRequestDer(lastByte), CsrSignerError, 'a flipped signature bit');
  const swapped = Buffer.from(der).toString('latin1').replace('victim.example.com', 'attack.example.com');
  t.throws(() => parseRequestDer(Uint8Array.from(Buffer.from(swapped, 'latin1'))), { kind: 'InvalidSignature', message: /does not verify/ }, 'a swapped SAN with the original signature');
  t.doesNotThrow(() => parseRequestDer(der), 'control: the untouched request parses');
  t.end();
});

void t.test('limits are parameters: size and number of names', (t) => {
  const der = buildRequest({ dns: ['a.example.com', 'b.example.com', 'c.example.com'] });
  t.throws(() => parseRequestDer(der, { maxBytes: 100, maxSubjectAltNames: 10 }), { kind: 'RequestTooLarge', message: `the request is ${der.length} bytes, more than the limit of 100 bytes` });
  t.throws(() => parseRequestDer(der, { maxBytes: 65536, maxSubjectAltNames: 2 }), { kind: 'TooManySubjectAltNames', message: 'the request has 3 subjectAltNames, more than the limit of 2' });
  t.end();
});

void t.test('no mutation of a valid request escapes as anything but a CsrSignerError', (t) => {
  const originals = [buildRequest({ commonName: 'fuzz', dns: ['f.example.com'], ips: ['10.0.0.1'] }), buildRequest({ key: 'rsa2048', pss: true, commonName: 'fuzz' }), buildRequest({ key: 'ed25519', uris: ['u://x'] })];
  let accepted = 0;
  fc.assert(fc.property(fc.nat({ max: originals.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(), (which, edits, cut) => {
    const original = originals[which] as Uint8Array;
    const bytes = Uint8Array.from(original);
    for (const [at, value] of edits) bytes[at % bytes.length] = value;
    const mutated = cut % 7 === 0 ? bytes.subarray(0, cut % bytes.length) : bytes;
    try {
      parseRequestDer(mutated);
      accepted++;
      return Buffer.from(mutated).equals(Buffer.from(original)) || mutated.length === original.length;
    } catch (e) {
      return isCsrSignerError(e);
    }
  }), { numRuns: 3000 });
  t.pass(`3000 mutations, all typed; ${accepted} left the request intact or valid`);
  t.end();
});
