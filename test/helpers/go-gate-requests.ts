/**
 * Requests assembled from parts that sit on either side of Go's crypto/x509 rules: subject
 * values of every string type with awkward characters, URIs with odd hosts, escapes and
 * ports, IP addresses of any length, RSA keys with and without their NULL parameters.
 * Mostly harmless parts, so that both refusals and certificates come out.
 */
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { extensionRequest, noAttributes, nul, rawExtension, rawName, rawRequest, rawRsaSpki, rawSans, text } from './der-build.js';

/** ASN.1 universal tags of the string types (X.680). */
const Tag = { utf8String: 0x0c, printableString: 0x13, teletexString: 0x14, ia5String: 0x16, universalString: 0x1c, bmpString: 0x1e } as const;

const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

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
const rsaSpki = fc.constantFrom<Uint8Array | undefined>(undefined, rawRsaSpki(rsa), rawRsaSpki(rsa, { params: nul() }),
  rawRsaSpki(rsa, { params: Uint8Array.of(5, 1, 0) }), rawRsaSpki(rsa, { params: nul(), nPrefix: Uint8Array.of(0) }));

export const gateRequest: fc.Arbitrary<Uint8Array> = fc.record({
  subject: fc.array(attribute, { maxLength: 3 }),
  sans: fc.array(san, { maxLength: 3 }),
  rsa: fc.option(rsaSpki, { nil: null }),
}).map(({ subject, sans, rsa: spki }) => rawRequest({
  privateKey: spki === null ? p256 : rsa,
  ...(spki ? { spki } : {}),
  subject: rawName(...subject),
  attributes: sans.length > 0 ? extensionRequest(rawExtension('2.5.29.17', rawSans(...sans))) : noAttributes,
}));

