/**
 * Raw DER for tests: a tiny writer for building requests and certificates byte by
 * byte, plus seeded keys and seeded bytes so that what it builds is the same on every
 * run. No parser here, and none of our own encoders: the point is to write what a
 * parser must refuse, including lengths that lie. Two entry points for PKCS#10:
 *
 *   request(seed, parts)    any part replaced by any bytes, signed by a seeded Ed25519 key
 *                           (or not at all: `signature`), for the hostile-input corpus
 *   rawRequest({ privateKey, subject, spki, attributes })
 *                           signed for real by any key with the algorithm Go would pick,
 *                           so a parser gets past the proof of possession and meets the
 *                           encoding under test (subject string types, RSA parameters)
 *
 * Well-formed requests come from helpers/requests.ts (pkijs, openssl); this module stays
 * apart from it because it must be able to write what no library would.
 */
import { createECDH, createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';

/** The DER length octets of `n`: short form under 128, else the minimal long form. */
export function lengthOctets(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
}

export type Bytes = Uint8Array | readonly number[];

export const concat = (...parts: readonly Bytes[]): Buffer => Buffer.concat(parts.map((p) => Buffer.from(p)));
/** `item` `n` times over: for the 100,000-element inputs, which a size limit must refuse before reading one. */
export const repeat = (item: Bytes, n: number): Buffer => Buffer.alloc(item.length * n, Buffer.from(item));
/** `concat` for long lists (100,000 items would overflow the stack as spread arguments). */
export const join = (items: readonly Bytes[]): Buffer => Buffer.concat(items.map((p) => Buffer.from(p)));

export const tlv = (tag: number, ...parts: readonly Bytes[]): Buffer => {
  const body = concat(...parts);
  return concat([tag, ...lengthOctets(body.length)], body);
};

export const seq = (...parts: readonly Bytes[]): Buffer => tlv(0x30, ...parts);
export const set = (...parts: readonly Bytes[]): Buffer => tlv(0x31, ...parts);
export const octets = (bytes: Bytes): Buffer => tlv(0x04, bytes);
export const utf8 = (text: string): Buffer => tlv(0x0c, Buffer.from(text, 'utf8'));
export const nul = (): Buffer => tlv(0x05);
/** BIT STRING with no unused bits. */
export const bits = (bytes: Bytes): Buffer => tlv(0x03, [0], bytes);
/** INTEGER from an unsigned big-endian magnitude (a 0x00 is prepended when the top bit is set). */
export const uint = (magnitude: Bytes): Buffer => {
  const m = Buffer.from(magnitude);
  return tlv(0x02, (m[0] ?? 0) & 0x80 ? concat([0], m) : m);
};
export const small = (n: number): Buffer => tlv(0x02, [n]);

export function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const out: number[] = [];
  for (const arc of [a * 40 + b, ...rest]) {
    const group = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) group.unshift(0x80 | (v & 0x7f));
    out.push(...group);
  }
  return tlv(0x06, out);
}

/** `depth` SEQUENCEs (or SETs) each holding the next, around `inner`, built from the inside out. */
export function nested(depth: number, tag: number, inner: Bytes = []): Buffer {
  // Headers from the inside out (each length is all that is inside it), written from the outside in:
  // linear, where wrapping a buffer `depth` times would copy it `depth` times.
  const headers: number[][] = [];
  let length = inner.length;
  for (let i = 0; i < depth; i++) {
    const header = [tag, ...lengthOctets(length)];
    headers.push(header);
    length += header.length;
  }
  const out = Buffer.alloc(length);
  let at = 0;
  for (const header of headers.reverse()) {
    out.set(header, at);
    at += header.length;
  }
  out.set(inner, at);
  return out;
}

/** The same nesting with BER indefinite lengths: `tag 0x80 … 00 00` at every level. */
export function nestedIndefinite(depth: number, tag: number, inner: Bytes = []): Buffer {
  return concat(...Array.from({ length: depth }, () => [tag, 0x80]), inner, ...Array.from({ length: depth }, () => [0, 0]));
}

/** `n` bytes from a SHA-256 counter stream over `seed`: the same bytes for the same seed, always. */
export function seededBytes(seed: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0, block = 0; i < n; block++) {
    const digest = createHash('sha256').update(`${seed}/${block}`).digest();
    i += digest.copy(out, i, 0, Math.min(digest.length, n - i));
  }
  return out;
}

/** An Ed25519 key pair whose private key is SHA-256(seed): Ed25519 signatures are deterministic, so requests signed with it are too. */
export function seededEd25519(seed: string): { privateKey: KeyObject; publicKey: KeyObject; spki: Buffer } {
  const pkcs8 = concat(Buffer.from('302e020100300506032b657004220420', 'hex'), createHash('sha256').update(seed).digest());
  const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, spki: publicKey.export({ type: 'spki', format: 'der' }) };
}

/** A P-256 public point derived from `seed` (uncompressed, 65 bytes) and its compressed form. */
export function seededP256Point(seed: string): { uncompressed: Buffer; compressed: Buffer } {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(createHash('sha256').update(seed).digest());
  return { uncompressed: ecdh.getPublicKey(undefined, 'uncompressed'), compressed: ecdh.getPublicKey(undefined, 'compressed') };
}

export const OID = {
  commonName: '2.5.4.3',
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
  ed25519: '1.3.101.112',
  ecPublicKey: '1.2.840.10045.2.1',
  p256: '1.2.840.10045.3.1.7',
  p384: '1.3.132.0.34',
  p521: '1.3.132.0.35',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  privateArc: '1.3.6.1.4.1.99999',
} as const;

export const dnsName = (name: string): Buffer => tlv(0x82, Buffer.from(name, 'latin1'));
export const extension = (id: string, value: Bytes): Buffer => seq(oid(id), octets(value));
export const commonName = (text: string): Buffer => seq(set(seq(oid(OID.commonName), utf8(text))));
export const extensionRequest = (...extensions: readonly Bytes[]): Buffer => extensionRequestOf(extensions);
export const extensionRequestOf = (extensions: readonly Bytes[]): Buffer => tlv(0xa0, seq(oid(OID.extensionRequest), set(seq(join(extensions)))));

export interface RequestParts {
  readonly version?: Bytes;
  readonly subject?: Bytes;
  /** The SubjectPublicKeyInfo; default the signing key's. */
  readonly spki?: Bytes;
  /** The whole [0] attributes TLV; default an extensionRequest with one DNS SAN. */
  readonly attributes?: Bytes;
  readonly algorithm?: Bytes;
  /** Raw signature BIT STRING content (with its unused-bits byte); default a real Ed25519 signature. */
  readonly signature?: Bytes;
}

/** A PKCS#10 request from its parts, signed by the seeded Ed25519 key of `seed` unless `signature` is given. */
export function request(seed: string, parts: RequestParts = {}): Buffer {
  const key = seededEd25519(seed);
  const info = seq(
    parts.version ?? small(0),
    parts.subject ?? commonName(`${seed}.example.com`),
    parts.spki ?? key.spki,
    parts.attributes ?? extensionRequest(extension(OID.subjectAltName, seq(dnsName(`${seed}.example.com`)))),
  );
  const signature = parts.signature ?? concat([0], sign(null, info, key.privateKey));
  return seq(info, parts.algorithm ?? seq(oid(OID.ed25519)), tlv(0x03, signature));
}

export function pem(label: string, der: Bytes, eol = '\n'): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return [`-----BEGIN ${label}-----`, ...lines, `-----END ${label}-----`, ''].join(eol);
}

// ------------------------------------------------------- requests signed by any key

/** One attribute per RDN: [OID, universal tag, content bytes]. */
export type RawAttribute = readonly [oid: string, tag: number, value: Uint8Array];
export const rawName = (...attributes: readonly RawAttribute[]): Buffer =>
  seq(...attributes.map(([id, tag, value]) => set(seq(oid(id), tlv(tag, value)))));
export const text = (s: string): Buffer => Buffer.from(s, 'latin1');

/** GeneralNames of [tag number, bytes] (2 dNSName, 1 rfc822Name, 6 URI, 7 iPAddress). */
export const rawSans = (...names: readonly (readonly [number, Uint8Array])[]): Buffer =>
  seq(...names.map(([n, bytes]) => tlv(0x80 | n, bytes)));
export const uriSan = (uri: string): Buffer => rawSans([6, Buffer.from(uri, 'utf8')]);

/** One Extension: OID, optionally a raw field before the value (the critical BOOLEAN, or anything), value. */
export const rawExtension = (id: string, value: Bytes, between?: Bytes): Buffer =>
  seq(oid(id), ...(between ? [between] : []), octets(value));
export const noAttributes = tlv(0xa0);

export const spkiOf = (key: KeyObject): Buffer => createPublicKey(key).export({ type: 'spki', format: 'der' });

/** An RSA SubjectPublicKeyInfo with the given AlgorithmIdentifier parameters (undefined: none) and INTEGER encodings. */
export function rawRsaSpki(key: KeyObject, options: { params?: Bytes | undefined; nPrefix?: Bytes; ePrefix?: Bytes } = {}): Buffer {
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  const unsigned = (b64: string | undefined): Buffer => {
    const bytes = Buffer.from(b64 ?? '', 'base64url');
    return (bytes[0] ?? 0) & 0x80 ? concat([0], bytes) : bytes;
  };
  const n = concat(options.nPrefix ?? [], unsigned(jwk.n));
  const e = concat(options.ePrefix ?? [], unsigned(jwk.e));
  const algorithm = seq(oid(OID.rsaEncryption), ...(options.params ? [options.params] : []));
  return seq(algorithm, bits(seq(tlv(0x02, n), tlv(0x02, e))));
}

export interface RawRequest {
  readonly privateKey: KeyObject;
  /** Default: the key's own SubjectPublicKeyInfo as OpenSSL writes it. */
  readonly spki?: Bytes;
  /** Default: CN=raw. */
  readonly subject?: Bytes;
  /** The whole [0] field; null leaves it out. Default: empty. */
  readonly attributes?: Bytes | null;
}

/** A DER request signed by `privateKey` with the algorithm Go would pick for it. */
export function rawRequest(spec: RawRequest): Buffer {
  const { privateKey } = spec;
  const info = seq(
    small(0),
    spec.subject ?? rawName([OID.commonName, 0x0c, text('raw')]),
    spec.spki ?? spkiOf(privateKey),
    ...(spec.attributes === null ? [] : [spec.attributes ?? noAttributes]),
  );
  const type = privateKey.asymmetricKeyType;
  const curve = privateKey.asymmetricKeyDetails?.namedCurve;
  const [algorithm, hash, params] = type === 'ed25519' ? [OID.ed25519, null, []]
    : type === 'rsa' ? [OID.sha256WithRsa, 'sha256', [nul()]]
      : curve === 'secp384r1' ? ['1.2.840.10045.4.3.3', 'sha384', []]
        : curve === 'secp521r1' ? ['1.2.840.10045.4.3.4', 'sha512', []] : [OID.ecdsaWithSha256, 'sha256', []];
  return seq(info, seq(oid(algorithm), ...params), bits(sign(hash, info, privateKey)));
}
