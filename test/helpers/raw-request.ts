/**
 * PKCS#10 requests assembled byte by byte, for encodings no well-behaved library
 * writes: a subject value of any string type, a key with any AlgorithmIdentifier, any
 * attributes. Signed for real (node:crypto), so a parser gets past the proof of possession
 * and meets the encoding under test.
 */
import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import { asciiBytes, bitString, concat, encode, encodeOid, octetString, sequence, Tag } from '../../src/pki/der.js';

export const set = (...parts: readonly Uint8Array[]): Uint8Array => encode(Tag.set, ...parts);

/** One attribute per RDN: [OID, universal tag, content bytes]. */
export type RawAttribute = readonly [oid: string, tag: number, value: Uint8Array];
export const rawName = (...attributes: readonly RawAttribute[]): Uint8Array =>
  sequence(...attributes.map(([oid, tag, value]) => set(sequence(encodeOid(oid), encode(tag, value)))));
export const text = (s: string): Uint8Array => Buffer.from(s, 'latin1');

/** GeneralNames of [tag number, bytes] (2 dNSName, 1 rfc822Name, 6 URI, 7 iPAddress). */
export const rawSans = (...names: readonly (readonly [number, Uint8Array])[]): Uint8Array =>
  sequence(...names.map(([n, bytes]) => encode(0x80 | n, bytes)));
export const uriSan = (uri: string): Uint8Array => rawSans([6, asciiBytes(uri)]);

/** One Extension: OID, optionally a raw field before the value (the critical BOOLEAN, or anything), value. */
export const rawExtension = (oid: string, value: Uint8Array, between?: Uint8Array): Uint8Array =>
  sequence(encodeOid(oid), ...(between ? [between] : []), octetString(value));
/** The [0] attributes field holding one extensionRequest with these extensions. */
export const extensionRequest = (...extensions: readonly Uint8Array[]): Uint8Array =>
  encode(0xa0, sequence(encodeOid('1.2.840.113549.1.9.14'), set(sequence(...extensions))));
export const noAttributes = encode(0xa0);

export const spkiOf = (key: KeyObject): Uint8Array => new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }));

/** An RSA SubjectPublicKeyInfo with the given AlgorithmIdentifier parameters (undefined: none) and INTEGER encodings. */
export function rawRsaSpki(key: KeyObject, options: { params?: Uint8Array | undefined; nPrefix?: Uint8Array; ePrefix?: Uint8Array } = {}): Uint8Array {
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  const unsigned = (b64: string | undefined): Uint8Array => {
    const bytes = Buffer.from(b64 ?? '', 'base64url');
    return (bytes[0] ?? 0) & 0x80 ? concat([Uint8Array.of(0), bytes]) : bytes;
  };
  const n = concat([options.nPrefix ?? new Uint8Array(0), unsigned(jwk.n)]);
  const e = concat([options.ePrefix ?? new Uint8Array(0), unsigned(jwk.e)]);
  const algorithm = sequence(encodeOid('1.2.840.113549.1.1.1'), ...(options.params ? [options.params] : []));
  return sequence(algorithm, bitString(sequence(encode(Tag.integer, n), encode(Tag.integer, e))));
}

export interface RawRequest {
  readonly privateKey: KeyObject;
  /** Default: the key's own SubjectPublicKeyInfo as OpenSSL writes it. */
  readonly spki?: Uint8Array;
  /** Default: CN=raw. */
  readonly subject?: Uint8Array;
  /** The whole [0] field; null leaves it out. Default: empty. */
  readonly attributes?: Uint8Array | null;
}

/** A DER request signed by `privateKey` with the algorithm Go would pick for it. */
export function rawRequest(spec: RawRequest): Uint8Array {
  const { privateKey } = spec;
  const info = sequence(
    encode(Tag.integer, Uint8Array.of(0)),
    spec.subject ?? rawName(['2.5.4.3', Tag.utf8String, text('raw')]),
    spec.spki ?? spkiOf(privateKey),
    ...(spec.attributes === null ? [] : [spec.attributes ?? noAttributes]),
  );
  const type = privateKey.asymmetricKeyType;
  const curve = privateKey.asymmetricKeyDetails?.namedCurve;
  const [oid, hash, params] = type === 'ed25519' ? ['1.3.101.112', null, []]
    : type === 'rsa' ? ['1.2.840.113549.1.1.11', 'sha256', [encode(Tag.null)]]
      : curve === 'secp384r1' ? ['1.2.840.10045.4.3.3', 'sha384', []]
        : curve === 'secp521r1' ? ['1.2.840.10045.4.3.4', 'sha512', []] : ['1.2.840.10045.4.3.2', 'sha256', []];
  const signature = sign(hash, info, privateKey);
  return sequence(info, sequence(encodeOid(oid), ...params), bitString(new Uint8Array(signature)));
}
