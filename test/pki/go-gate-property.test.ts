/**
 * A property over generated requests, with devapi's port of Go's crypto/x509 (checked
 * against Go itself) as the oracle: whenever Go's x509.ParseCertificateRequest refuses a
 * request, the core refuses it too; whenever the core issues, Go's request parser reads the
 * request and Go's certificate parser reads the certificate. The requests are assembled
 * from parts that sit on either side of Go's rules: subject values of every string type
 * with awkward characters, URIs with odd hosts, escapes and ports, IP addresses of any
 * length, RSA keys with and without their NULL parameters.
 */
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import t from 'tap';
import { parseCertificateDer } from '../../src/devapi/go-x509-cert.js';
import { parseCsr } from '../../src/devapi/go-x509.js';
import { isCsrSignerError } from '../../src/errors.js';
import { encode, Tag } from '../../src/pki/der.js';
import { signRequest, type SigningProfile } from '../../src/pki/index.js';
import { loadTestCa, makeOpensslCa } from '../helpers/ca.js';
import { extensionRequest, rawExtension, rawName, rawRequest, rawRsaSpki, rawSans, text } from '../helpers/raw-request.js';
import { toPem } from '../helpers/requests.js';
import { needTool, tempDir } from '../helpers/tools.js';

if (!needTool(t, 'openssl')) process.exit(0);

const ca = await loadTestCa(makeOpensslCa(tempDir(), 'property', 'p256'));
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const profile: SigningProfile = { usages: ['digital signature', 'client auth'], maxDurationMs: 3_600_000 };
const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));

/** Characters on both sides of PrintableString, IA5String, UTF-8 and URL rules. */
/** Mostly the harmless kind, so that both sides of the property are exercised. */
const mostly = <T>(usual: fc.Arbitrary<T>, rare: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ weight: 12, arbitrary: usual }, { weight: 1, arbitrary: rare });
const chars = mostly(fc.constantFrom('a', 'Z', '0', ' ', '.', '-', ':'),
  fc.constantFrom('*', '&', '_', '@', '!', '%', '/', '?', '#', '[', ']', '\xe9', '\x7f', '\xc3', '\xa9', '\xff', '\x00'));
const latin1Text = fc.array(chars, { maxLength: 8 }).map((a) => a.join(''));
const stringTag = mostly(fc.constantFrom(Tag.utf8String, Tag.printableString, Tag.teletexString, Tag.ia5String),
  fc.constantFrom(Tag.bmpString, Tag.universalString, 0x12, 0x1a));
const bmpUnits = fc.array(fc.constantFrom(0x61, 0xe9, 0x4e2d, 0xd800, 0xdc00, 0xfffe, 0xfdd0, 0), { maxLength: 4 })
  .map((u) => Uint8Array.from(u.flatMap((x) => [x >> 8, x & 0xff])));
const attribute = fc.oneof(
  fc.tuple(fc.constantFrom('2.5.4.3', '2.5.4.10', '2.5.4.11'), stringTag, latin1Text.map(text)),
  fc.tuple(fc.constant('2.5.4.3'), fc.constant(Tag.bmpString), bmpUnits),
);

const host = fc.array(mostly(fc.constantFrom('a', 'b', '.b', '-', 'xn--e1a', ':8443'), fc.constantFrom('.', '%41', '%zz', '%', '_', ':x', '[::1]')), { maxLength: 5 })
  .map((a) => a.join(''));
const uri = fc.tuple(mostly(fc.constantFrom('https://', 'spiffe://', 'urn:'), fc.constantFrom('', ':', 'a:', '//')), host,
  mostly(fc.constantFrom('', '/', '/x', '/%20', '?q', '#f'), fc.constantFrom('/%g0', '#%zz', '/%')))
  .map(([scheme, h, rest]) => `${scheme}${h}${rest}`);
const san = fc.oneof(
  uri.map((u): [number, Uint8Array] => [6, text(u)]),
  latin1Text.map((d): [number, Uint8Array] => [2, text(`${d}a.example`)]),
  latin1Text.map((e): [number, Uint8Array] => [1, text(`${e}x@example.com`)]),
  mostly(fc.constantFrom(4, 16), fc.integer({ min: 0, max: 17 })).map((n): [number, Uint8Array] => [7, new Uint8Array(n).fill(10)]),
);
const rsaSpki = fc.constantFrom<Uint8Array | undefined>(undefined, rawRsaSpki(rsa), rawRsaSpki(rsa, { params: encode(Tag.null) }),
  rawRsaSpki(rsa, { params: Uint8Array.of(5, 1, 0) }), rawRsaSpki(rsa, { params: encode(Tag.null), nPrefix: Uint8Array.of(0) }));

const request = fc.record({
  subject: fc.array(attribute, { maxLength: 3 }),
  sans: fc.array(san, { maxLength: 3 }),
  rsa: fc.option(rsaSpki, { nil: null }),
}).map(({ subject, sans, rsa: spki }) => rawRequest({
  privateKey: spki === null ? p256 : rsa,
  ...(spki ? { spki } : {}),
  subject: rawName(...subject),
  attributes: sans.length > 0 ? extensionRequest(rawExtension('2.5.29.17', rawSans(...sans))) : encode(0xa0),
}));

const goRequestRefusal = (der: Uint8Array): string | undefined => {
  const parsed = parseCsr(Buffer.from(toPem('CERTIFICATE REQUEST', der)));
  return typeof parsed === 'string' ? parsed : undefined;
};
const goCertificateRefusal = (der: Uint8Array): string | undefined => {
  try {
    parseCertificateDer(der);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
};

void t.test('what Go refuses in a request the core refuses; what the core issues Go reads, request and certificate', async (t) => {
  let issued = 0;
  let refused = 0;
  await fc.assert(fc.asyncProperty(request, async (der) => {
    const goRequest = goRequestRefusal(der);
    const outcome = await signRequest(der, profile, ca, { now: new Date(), random }).then(
      (cert) => ({ cert: cert.der }),
      (e: unknown) => {
        if (isCsrSignerError(e) && e.permanent) return { refused: e.message };
        throw e;
      },
    );
    if ('refused' in outcome) {
      refused++;
      return;
    }
    issued++;
    if (goRequest !== undefined) throw new Error(`the core issued a request Go refuses (${goRequest})`);
    const goCertificate = goCertificateRefusal(outcome.cert);
    if (goCertificate !== undefined) throw new Error(`the core issued a certificate Go cannot read (${goCertificate})`);
  }), { numRuns: 1000 });
  t.ok(issued > 50 && refused > 50, `both sides are exercised: ${issued} issued, ${refused} refused`);
  t.end();
});
