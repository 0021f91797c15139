/**
 * SubjectPublicKeyInfo: which keys we accept, and turning one into a Node
 * KeyObject quickly. Which import is quickest depends on the runtime's OpenSSL
 * (see importPathFor); every path has OpenSSL check that an EC point lies on
 * its curve.
 */
import { constants, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { csrError, csrErrorWithCause } from '../errors.js';
import { bitStringBytes, children, content, readOid, readTlv, Tag, type Tlv } from './der.js';
import { Oid, oidName } from './oids.js';

export type KeyKind =
  | { readonly type: 'rsa'; readonly bits: number }
  | { readonly type: 'ec'; readonly curve: 'P-256' | 'P-384' | 'P-521' }
  | { readonly type: 'ed25519' };

export interface PublicKey {
  readonly kind: KeyKind;
  /** The SubjectPublicKeyInfo DER, as the request carried it. */
  readonly spki: Uint8Array;
  /** The subjectPublicKey BIT STRING's bytes: what the SKI hashes. */
  readonly keyBits: Uint8Array;
  readonly keyObject: KeyObject;
}

export const MIN_RSA_BITS = 2048;
export const MAX_RSA_BITS = 8192;

const curves = {
  [Oid.p256]: { curve: 'P-256', size: 32 },
  [Oid.p384]: { curve: 'P-384', size: 48 },
  [Oid.p521]: { curve: 'P-521', size: 66 },
} as const;

export const describeKey = (kind: KeyKind): string =>
  kind.type === 'rsa' ? `RSA ${kind.bits}-bit` : kind.type === 'ec' ? `ECDSA ${kind.curve}` : 'Ed25519';

const b64url = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');

function stripZeros(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return bytes.subarray(i);
}

/** DER: an INTEGER has content, and no leading byte that only repeats the sign of the next (cryptobyte ReadASN1Integer). */
function minimalInteger(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  if (bytes.length === 1) return true;
  const [first, second] = [bytes[0] as number, bytes[1] as number];
  return !((first === 0 && (second & 0x80) === 0) || (first === 0xff && (second & 0x80) !== 0));
}

function bitLength(magnitude: Uint8Array): number {
  const top = magnitude[0] ?? 0;
  return top === 0 ? 0 : (magnitude.length - 1) * 8 + (32 - Math.clz32(top));
}

function rsaKey(keyBits: Uint8Array): KeyKind {
  const seq = readTlv(keyBits, 0);
  const [n, e, extra] = seq.tag === Tag.sequence && seq.end === keyBits.length ? children(keyBits, seq) : [];
  if (n?.tag !== Tag.integer || e?.tag !== Tag.integer || extra !== undefined) {
    throw csrError('InvalidPublicKey', 'the RSA key is not a SEQUENCE of modulus and exponent');
  }
  for (const [tlv, what] of [[n, 'modulus'], [e, 'public exponent']] as const) {
    if (!minimalInteger(content(keyBits, tlv))) {
      throw csrError('InvalidPublicKey', `the RSA ${what} is not a minimally encoded INTEGER, which Go's crypto/x509 refuses (x509: invalid RSA ${what})`);
    }
  }
  const modulus = stripZeros(content(keyBits, n));
  const exponent = stripZeros(content(keyBits, e));
  if (((keyBits[n.contentStart] as number) & 0x80) !== 0 || ((keyBits[e.contentStart] as number) & 0x80) !== 0) {
    throw csrError('InvalidPublicKey', 'the RSA modulus or exponent is negative');
  }
  const bits = bitLength(modulus);
  if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) throw csrError('UnsupportedKeyType', `RSA ${bits}-bit`);
  const exp = exponent.length <= 4 ? exponent.reduce((a, b) => a * 256 + b, 0) : Infinity;
  if (exp < 3 || exp % 2 === 0 || exponent.length > 4) {
    throw csrError('InvalidPublicKey', 'the RSA public exponent must be an odd number from 3 to 2^32-1');
  }
  return { type: 'rsa', bits };
}

function ecKey(buf: Uint8Array, params: Tlv | undefined, keyBits: Uint8Array): KeyKind {
  if (params?.tag !== Tag.oid) throw csrError('UnsupportedKeyType', 'ECDSA with explicit curve parameters');
  const curveOid = readOid(buf, params, 'named curve');
  const curve = curves[curveOid as keyof typeof curves] as (typeof curves)[keyof typeof curves] | undefined;
  if (!curve) throw csrError('UnsupportedKeyType', `ECDSA ${oidName(curveOid).replace(/^OID /, 'curve ')}`);
  if (keyBits[0] !== 0x04) throw csrError('InvalidPublicKey', 'only uncompressed EC points are accepted');
  if (keyBits.length !== 1 + 2 * curve.size) {
    throw csrError('InvalidPublicKey', `an ${curve.curve} point must be ${1 + 2 * curve.size} bytes, found ${keyBits.length}`);
  }
  return { type: 'ec', curve: curve.curve };
}

/** Reads and checks the SubjectPublicKeyInfo TLV `spki` of `buf`. */
export function readPublicKey(buf: Uint8Array, spki: Tlv): PublicKey {
  const [algorithm, key, extra] = spki.tag === Tag.sequence ? children(buf, spki) : [];
  if (algorithm?.tag !== Tag.sequence || key === undefined || extra !== undefined) {
    throw csrError('InvalidPublicKey', 'SubjectPublicKeyInfo is not a SEQUENCE of algorithm and key');
  }
  const [oidTlv, params, more] = children(buf, algorithm);
  if (oidTlv === undefined || more !== undefined) throw csrError('InvalidPublicKey', 'malformed key algorithm');
  const oid = readOid(buf, oidTlv, 'key algorithm');
  const keyBits = bitStringBytes(buf, key, 'subjectPublicKey');
  let kind: KeyKind;
  switch (oid) {
    case Oid.rsaEncryption:
      // RFC 3279 §2.3.1: the parameters are NULL. Go refuses a key without them, so a certificate holding it is unreadable.
      if (params?.tag !== Tag.null || params.end !== params.contentStart) {
        throw csrError('InvalidPublicKey', `the RSA key's AlgorithmIdentifier has ${params === undefined ? 'no parameters' : 'parameters other than NULL'}; `
          + "RFC 3279 requires NULL, and Go's crypto/x509 refuses the key without it (x509: RSA key missing NULL parameters)");
      }
      kind = rsaKey(keyBits);
      break;
    case Oid.ecPublicKey:
      kind = ecKey(buf, params, keyBits);
      break;
    case Oid.ed25519:
      if (params !== undefined) throw csrError('InvalidPublicKey', 'Ed25519 keys take no parameters');
      if (keyBits.length !== 32) throw csrError('InvalidPublicKey', `an Ed25519 key must be 32 bytes, found ${keyBits.length}`);
      kind = { type: 'ed25519' };
      break;
    default:
      throw csrError('UnsupportedKeyType', oidName(oid));
  }
  const spkiDer = buf.subarray(spki.start, spki.end);
  let keyObject: KeyObject;
  try {
    keyObject = importPublicKey(spkiDer, kind, keyBits, importPathFor(kind));
  } catch (cause) {
    throw csrErrorWithCause(cause, 'InvalidPublicKey', `the ${describeKey(kind)} key is not a valid point or value`);
  }
  return { kind, spki: spkiDer, keyBits, keyObject };
}

/**
 * How a checked SubjectPublicKeyInfo becomes a KeyObject: 'pem', its DER as PEM text; 'der', its DER in an
 * options object; 'jwk', the key's numbers as a JWK. All three give the same key, and OpenSSL checks an EC
 * point on each.
 */
export type KeyImport = 'pem' | 'der' | 'jwk';

/**
 * The quickest import for a key, measured (import plus the first verify, which is the only use a key gets):
 * - OpenSSL 3.5 and later (measured on 3.5.8, Node 24.21): PEM text, for every kind. OpenSSL's decoders are fast there, and a
 *   string is the one input Node 24's createPublicKey takes without first trying it as a KeyObject and as a
 *   CryptoKey: that test throws and catches two errors per object it looks at (the options object and its
 *   `key`), and capturing their stack traces cost more than the import itself. P-256, CPU µs per import +
 *   verify: PEM 226, JWK 332, DER 341; RSA-2048: 140, 204, 229; Ed25519: 272, 344, 390.
 * - Before (measured on OpenSSL 3.0.19, Node 20.20): JWK, whose import is cheap there, but for P-384 and P-521, which
 *   OpenSSL 3.0 imports 3–7× faster from DER (1,094 vs 395 µs, 1,538 vs 216 µs). PEM and DER cost 1.4–4.7× JWK
 *   there for RSA-2048, Ed25519 and P-256.
 */
export function importPathFor(kind: KeyKind, opensslVersion: number = constants.OPENSSL_VERSION_NUMBER): KeyImport {
  if (opensslVersion >= 0x30500000) return 'pem';
  return kind.type === 'ec' && kind.curve !== 'P-256' ? 'der' : 'jwk';
}

/** Imports a SubjectPublicKeyInfo already checked by readPublicKey; `keyBits` is its subjectPublicKey. Throws OpenSSL's error for a bad key. */
export function importPublicKey(spkiDer: Uint8Array, kind: KeyKind, keyBits: Uint8Array, how: KeyImport): KeyObject {
  const der = Buffer.from(spkiDer.buffer, spkiDer.byteOffset, spkiDer.byteLength);
  switch (how) {
    case 'pem':
      return createPublicKey(publicKeyPem(der));
    case 'der':
      return createPublicKey({ key: der, format: 'der', type: 'spki' });
    case 'jwk':
      return createPublicKey({ key: jwkOf(kind, keyBits), format: 'jwk' });
  }
}

/** PEM text of a SubjectPublicKeyInfo, lines of 64 characters as RFC 7468 writes them. */
function publicKeyPem(der: Buffer): string {
  const b64 = der.toString('base64');
  let text = '-----BEGIN PUBLIC KEY-----\n';
  for (let i = 0; i < b64.length; i += 64) text += `${b64.slice(i, i + 64)}\n`;
  return `${text}-----END PUBLIC KEY-----\n`;
}

function jwkOf(kind: KeyKind, keyBits: Uint8Array): JsonWebKey {
  switch (kind.type) {
    case 'ed25519':
      return { kty: 'OKP', crv: 'Ed25519', x: b64url(keyBits) };
    case 'ec': {
      const size = (keyBits.length - 1) / 2;
      return { kty: 'EC', crv: kind.curve, x: b64url(keyBits.subarray(1, 1 + size)), y: b64url(keyBits.subarray(1 + size)) };
    }
    case 'rsa': {
      const [n, e] = children(keyBits, readTlv(keyBits, 0)) as [Tlv, Tlv];
      return { kty: 'RSA', n: b64url(stripZeros(content(keyBits, n))), e: b64url(stripZeros(content(keyBits, e))) };
    }
  }
}
