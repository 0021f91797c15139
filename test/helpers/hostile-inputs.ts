/**
 * The extended hostile inputs for `csr-signer sign` (test/fixtures/hostile/README.md,
 * "Built by the test"): request, CA certificate, CA key and passphrase files, each made
 * from a fixed seed by a recipe here, so every run builds the same bytes. Requests are
 * signed by a seeded Ed25519 key (deterministic signatures) unless the recipe says the
 * signature does not matter; the CA-side ones start from the CA fixtures.
 */
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import {
  bits, commonName, concat, dnsName, extension, extensionRequest, extensionRequestOf, join, nested, repeat, nestedIndefinite, nul, octets, oid, OID, pem, request,
  seededBytes, seededEd25519, seededP256Point, seq, set, small, tlv, uint, utf8, type Bytes,
} from './der-build.js';

export const caFixtures = joinPath(import.meta.dirname, '..', 'fixtures', 'ca');
export const requestFixtures = joinPath(import.meta.dirname, '..', 'fixtures', 'requests');
const fixture = (name: string): Buffer => readFileSync(joinPath(caFixtures, name));

/** The well-formed request every byte-level attack starts from (seed "hostile", 210 bytes of DER). */
export const goodRequest = (): Buffer => request('hostile');

/** The base64 body of a PEM block, for attacks that only need to be the body. */
const derOfPem = (text: string): Buffer => Buffer.from(text.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');

/** A junk signature: the key or the structure is refused before any signature is checked. */
const junkSignature = (seed: string): Buffer => concat([0], seededBytes(seed, 64));

const ecSpki = (curveOid: string, point: Bytes): Buffer => seq(seq(oid(OID.ecPublicKey), oid(curveOid)), bits(point));
const rsaSpki = (modulus: Bytes, exponent: Bytes): Buffer => seq(seq(oid(OID.rsaEncryption), nul()), bits(seq(uint(modulus), uint(exponent))));
const ecRequest = (seed: string, spki: Buffer): Buffer => request(seed, { spki, algorithm: seq(oid(OID.ecdsaWithSha256)), signature: junkSignature(seed) });
const rsaRequest = (seed: string, spki: Buffer): Buffer => request(seed, { spki, algorithm: seq(oid(OID.sha256WithRsa), nul()), signature: junkSignature(seed) });

/** An odd-looking 2048-bit modulus whose low bit is cleared: even, so no RSA key. */
const evenModulus = (): Buffer => {
  const m = seededBytes('even-modulus', 256);
  m[0] = (m[0] ?? 0) | 0x80;
  m[255] = (m[255] ?? 0) & 0xfe;
  return m;
};
const oddModulus = (): Buffer => {
  const m = seededBytes('odd-modulus', 256);
  m[0] = (m[0] ?? 0) | 0x80;
  m[255] = (m[255] ?? 0) | 0x01;
  return m;
};

/** The short names a, b, …, z, 10, 11, … (base 36): distinct, 1–4 characters. */
const shortName = (i: number): string => (i + 10).toString(36);

/** `n` attributes (RDNs) in the subject, each CN=x. */
const manyRdns = (n: number): Buffer => seq(join(Array.from({ length: n }, (_, i) => set(seq(oid(OID.commonName), utf8(shortName(i)))))));

/** `n` distinct short dNSNames, written straight into one buffer (100,000 small Buffers take seconds). */
function manyDnsNames(n: number): Buffer {
  const names = Array.from({ length: n }, (_, i) => shortName(i));
  const out = Buffer.alloc(names.reduce((sum, name) => sum + 2 + name.length, 0));
  let at = 0;
  for (const name of names) {
    out[at] = 0x82;
    out[at + 1] = name.length;
    at += 2 + out.write(name, at + 2, 'latin1');
  }
  return out;
}

/** An OID whose one arc is `n` base-128 digits long (an arc of 7n bits). */
const hugeArcOid = (n: number): Buffer => tlv(0x06, [0x2b, ...Array.from({ length: n - 1 }, () => 0xff), 0x7f]);

/** A request whose outer SEQUENCE has the given length octets and no more than the good request's bytes after them. */
const withOuterLength = (lengthOctets: readonly number[]): Buffer => {
  const good = goodRequest();
  return concat([0x30, ...lengthOctets], good.subarray(3)); // the good one's outer header is 30 81 cf
};


/** Every request recipe: file name → bytes. */
export const requestRecipes: Record<string, () => Bytes | string> = {
  // ---- controls: legitimate, must be signed
  'good.der': goodRequest,
  'good-crlf.pem': () => pem('CERTIFICATE REQUEST', goodRequest(), '\r\n'),
  'good-then-text.pem': () => `${pem('CERTIFICATE REQUEST', goodRequest())}This text after the END line is a comment, as Go's pem.Decode and openssl read it.\n`,
  // ---- truncated DER: the good request cut at many points
  ...Object.fromEntries([1, 2, 5, 12, 40, 90, 150, 160, 209].map((cut) => [`truncated-at-${cut}.der`, () => goodRequest().subarray(0, cut)])),
  'truncated-in-pem.pem': () => pem('CERTIFICATE REQUEST', goodRequest().subarray(0, 120)),
  // ---- trailing garbage
  'trailing-zeros.der': () => concat(goodRequest(), Buffer.alloc(1024)),
  // A fourth element after the signature, inside the outer SEQUENCE (whose length covers it).
  'fourth-element-in-outer-sequence.der': () => seq(goodRequest().subarray(3), octets(Buffer.from('smuggled'))),
  'trailing-binary-after-pem.pem': () => concat(Buffer.from(pem('CERTIFICATE REQUEST', goodRequest())), seededBytes('trailing-binary', 512)),
  'second-begin-after-pem.pem': () => `${pem('CERTIFICATE REQUEST', goodRequest())}-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n`,
  // ---- deep nesting, all under the 64 KiB limit
  'nested-sequences-15000.der': () => nested(15_000, 0x30),
  'nested-sequences-15000.pem': () => pem('CERTIFICATE REQUEST', nested(12_000, 0x30)),
  'nested-sets-in-extension-request.der': () => request('nested-sets', { attributes: tlv(0xa0, seq(oid(OID.extensionRequest), nested(10_000, 0x31))) }),
  'nested-sequences-in-san.der': () => request('nested-san', { attributes: extensionRequest(extension(OID.subjectAltName, nested(10_000, 0x30))) }),
  'nested-sequences-in-subject.der': () => request('nested-subject', { subject: seq(set(seq(oid(OID.commonName), nested(10_000, 0x30)))) }),
  'nested-indefinite-15000.der': () => nestedIndefinite(15_000, 0x30),
  // ---- huge counts and huge lengths
  'sans-100000.pem': () => pem('CERTIFICATE REQUEST', request('sans-100000', {
    attributes: extensionRequest(extension(OID.subjectAltName, seq(manyDnsNames(100_000)))),
  })),
  // The same RDN, extension and attribute 100,000 times: both limits refuse them before anything is parsed.
  'rdns-100000.der': () => request('rdns-100000', { subject: seq(repeat(set(seq(oid(OID.commonName), utf8('x'))), 100_000)) }),
  'extensions-100000.der': () => request('extensions-100000', { attributes: extensionRequest(repeat(extension(`${OID.privateArc}.1`, [0, 0, 0, 0, 0]), 100_000)) }),
  // 100,000 request attributes of the smallest kind, SEQUENCE { commonName, SET {} }: 900 KB, under the file limit.
  'attributes-100000.der': () => request('attributes-100000', { attributes: tlv(0xa0, repeat(seq(oid(OID.commonName), set()), 100_000)) }),
  'rdns-4000.der': () => request('rdns-4000', { subject: manyRdns(4000) }),
  'extensions-3000.der': () => request('extensions-3000', {
    attributes: extensionRequestOf(Array.from({ length: 3000 }, (_, i) => extension(`${OID.privateArc}.${i}`, []))),
  }),
  'oid-arc-20000-bytes.der': () => request('oid-arc', { subject: seq(set(seq(hugeArcOid(20_000), utf8('x')))) }),
  'oid-10000-arcs.der': () => request('oid-arcs', { subject: seq(set(seq(tlv(0x06, [0x2b, ...Array.from({ length: 10_000 }, () => 0x01)]), utf8('x')))) }),
  'length-2-pow-63.der': () => withOuterLength([0x88, 0x80, 0, 0, 0, 0, 0, 0, 0]),
  'length-2-pow-64-minus-1.pem': () => pem('CERTIFICATE REQUEST', withOuterLength([0x88, ...Array.from({ length: 8 }, () => 0xff)])),
  'length-of-length-126.der': () => withOuterLength([0xfe, ...Array.from({ length: 126 }, () => 0xff)]),
  'integer-claims-4-gib.der': () => request('integer-claims', { version: [0x02, 0x84, 0xff, 0xff, 0xff, 0xf0, 0x00] }),
  'inner-length-2-pow-63.der': () => request('inner-length', { subject: [0x30, 0x88, 0x80, 0, 0, 0, 0, 0, 0, 0] }),
  'integer-20000-bytes.der': () => request('big-integer', { version: tlv(0x02, [0x01, ...Buffer.alloc(19_999)]) }),
  'indefinite-subject.der': () => request('indefinite-subject', { subject: concat([0x30, 0x80], set(seq(oid(OID.commonName), utf8('x'))), [0, 0]) }),
  // ---- keys: bad points and values (the signature does not matter: the key is refused first)
  'ec-p256-point-at-infinity.der': () => ecRequest('infinity', ecSpki(OID.p256, [0x00])),
  'ec-p256-compressed.der': () => ecRequest('compressed', ecSpki(OID.p256, seededP256Point('compressed').compressed)),
  'ec-p256-hybrid.der': () => {
    const point = Buffer.from(seededP256Point('hybrid').uncompressed);
    point[0] = 0x06 | ((point[64] ?? 0) & 1);
    return ecRequest('hybrid', ecSpki(OID.p256, point));
  },
  'ec-p256-point-64-bytes.der': () => ecRequest('short-point', ecSpki(OID.p256, seededP256Point('short-point').uncompressed.subarray(0, 64))),
  'ec-p256-x-not-below-p.der': () => ecRequest('x-is-p', ecSpki(OID.p256, concat([0x04], Buffer.from('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff', 'hex'), Buffer.alloc(32, 1)))),
  'ec-p384-point-not-on-curve.der': () => ecRequest('p384-off-curve', ecSpki(OID.p384, concat([0x04], seededBytes('p384-off-curve', 96)))),
  'ec-p521-point-not-on-curve.der': () => ecRequest('p521-off-curve', ecSpki(OID.p521, concat([0x04, 0x01], seededBytes('p521-x', 65), [0x01], seededBytes('p521-y', 65)))),
  'rsa-modulus-15.der': () => rsaRequest('rsa-15', rsaSpki([15], [1, 0, 1])),
  'rsa-512.der': () => rsaRequest('rsa-512', rsaSpki(concat([0xc0], seededBytes('rsa-512', 62), [0x01]), [1, 0, 1])),
  'rsa-even-modulus.der': () => rsaRequest('rsa-even', rsaSpki(evenModulus(), [1, 0, 1])),
  'rsa-exponent-1.der': () => rsaRequest('rsa-e1', rsaSpki(oddModulus(), [1])),
  'rsa-exponent-even.der': () => rsaRequest('rsa-e-even', rsaSpki(oddModulus(), [1, 0, 0])),
  'rsa-exponent-2-pow-64-plus-1.der': () => rsaRequest('rsa-e-huge', rsaSpki(oddModulus(), [1, 0, 0, 0, 0, 0, 0, 0, 1])),
  'rsa-negative-modulus.der': () => rsaRequest('rsa-negative', seq(seq(oid(OID.rsaEncryption), nul()), bits(seq(tlv(0x02, concat([0x80], oddModulus())), small(3))))),
  'ed25519-key-31-bytes.der': () => request('ed-31', { spki: seq(seq(oid(OID.ed25519)), bits(seededEd25519('ed-31').spki.subarray(12, 43))), signature: junkSignature('ed-31') }),
  'ed25519-key-33-bytes.der': () => request('ed-33', { spki: seq(seq(oid(OID.ed25519)), bits(concat(seededEd25519('ed-33').spki.subarray(12), [0]))), signature: junkSignature('ed-33') }),
  'ed25519-with-null-parameters.der': () => request('ed-null', { spki: seq(seq(oid(OID.ed25519), nul()), bits(seededEd25519('ed-null').spki.subarray(12))) }),
  // ---- PEM, text and encodings
  'binary-junk.pem': () => seededBytes('binary-junk', 4096),
  'nul-bytes.pem': () => Buffer.alloc(4096),
  'public-key-label.pem': () => pem('PUBLIC KEY', seededEd25519('public-key-label').spki),
  'lowercase-label.pem': () => pem('certificate request', goodRequest()),
  'label-trailing-space.pem': () => pem('CERTIFICATE REQUEST ', goodRequest()),
  'request-then-certificate.pem': () => pem('CERTIFICATE REQUEST', goodRequest()) + readFileSync(joinPath(caFixtures, 'ca-ed25519.pem'), 'utf8'),
  'requests-100.pem': () => Array.from({ length: 100 }, (_, i) => pem('CERTIFICATE REQUEST', request(`many-${i}`))).join(''),
  'utf16be-no-bom.pem': () => Buffer.from(pem('CERTIFICATE REQUEST', goodRequest()), 'utf16le').swap16(),
  'utf16le-with-bom-crlf.pem': () => concat([0xff, 0xfe], Buffer.from(pem('CERTIFICATE REQUEST', goodRequest(), '\r\n'), 'utf16le')),
  'random-body.pem': () => pem('CERTIFICATE REQUEST', seededBytes('random-body', 300)),
  'padding-inside-body.pem': () => pem('CERTIFICATE REQUEST', goodRequest()).replace(/\n(.{10})/, '\n$1=='),
  'body-is-a-certificate.pem': () => pem('CERTIFICATE REQUEST', derOfPem(readFileSync(joinPath(caFixtures, 'ca-ed25519.pem'), 'utf8'))),
};

/**
 * CA-side recipes: file name → bytes, for --ca-cert, --ca-key and
 * --ca-key-passphrase-file. The good pair is the Ed25519 CA fixture.
 */
export const caRecipes: Record<string, () => Bytes | string> = {
  'ca-crlf.pem': () => fixture('ca-ed25519.pem').toString('utf8').replace(/\n/g, '\r\n'),
  'ca-key-crlf.pem': () => fixture('ca-ed25519-key.pem').toString('utf8').replace(/\n/g, '\r\n'),
  'passphrase-crlf.txt': () => 'correct horse\r\n',
  'wrong-passphrase.txt': () => 'wrong horse\n',
  'empty-passphrase.txt': () => '',
  'ca-binary-junk.pem': () => seededBytes('ca-binary-junk', 4096),
  'ca-request-label.pem': () => pem('CERTIFICATE REQUEST', goodRequest()),
  'ca-truncated.pem': () => pem('CERTIFICATE', derOfPem(fixture('ca-ed25519.pem').toString('utf8')).subarray(0, 200)),
  'ca-nested-sequences.pem': () => pem('CERTIFICATE', nested(12_000, 0x30)),
  'ca-utf16le.pem': () => concat([0xff, 0xfe], Buffer.from(fixture('ca-ed25519.pem').toString('utf8'), 'utf16le')),
  'ca-point-not-on-curve.pem': () => {
    // The P-256 CA with the last byte of its public point changed (its signature no longer matters).
    const der = derOfPem(fixture('ca-ec.pem').toString('utf8'));
    const last = der.indexOf(Buffer.from([0x03, 0x42, 0x00, 0x04])) + 3 + 64; // BIT STRING 03 42 00, then the 65-byte point
    der[last] = (der[last] ?? 0) ^ 0x01;
    return pem('CERTIFICATE', der);
  },
  'key-public-key-label.pem': () => pem('PUBLIC KEY', seededEd25519('key-public-key-label').spki),
  'key-ed25519-31-bytes.pem': () => pem('PRIVATE KEY', concat(Buffer.from('302d020100300506032b65700421041f', 'hex'), seededBytes('ed-31-private', 31))),
  'key-nested-sequences.pem': () => pem('PRIVATE KEY', nested(12_000, 0x30)),
  'key-truncated.pem': () => pem('PRIVATE KEY', derOfPem(fixture('ca-ed25519-key.pem').toString('utf8')).subarray(0, 30)),
  'key-binary-junk.pem': () => seededBytes('key-binary-junk', 4096),
  /** A request for the CA's own key: the Ed25519 CA key signs it, so the proof of possession holds. */
  'request-for-ca-key.pem': () => {
    const key = readFileSync(joinPath(caFixtures, 'ca-ed25519-key.pem'));
    const privateKey = createPrivateKey(key);
    const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    const info = seq(small(0), commonName('ca-own-key.example.com'), spki, extensionRequest(extension(OID.subjectAltName, seq(dnsName('ca-own-key.example.com')))));
    return pem('CERTIFICATE REQUEST', seq(info, seq(oid(OID.ed25519)), tlv(0x03, concat([0], sign(null, info, privateKey)))));
  },
};

/** Writes every recipe's output into `dir`; returns the paths by file name. */
export function writeHostileInputs(dir: string): Record<string, string> {
  const paths: Record<string, string> = {};
  for (const [name, make] of Object.entries({ ...requestRecipes, ...caRecipes })) {
    const content = make();
    paths[name] = joinPath(dir, name);
    writeFileSync(paths[name], typeof content === 'string' ? content : Buffer.from(content));
  }
  return paths;
}
