/**
 * crypto/x509 parsePublicKey with Go's error texts, and the key as a node:crypto
 * KeyObject for the signature check.
 *
 * Importing a key from its JWK coordinates skips OpenSSL 3's DER decoder: ~20 µs instead
 * of ~400 µs for RSA and Ed25519, ~150 µs instead of ~400 µs for P-256, and OpenSSL still
 * refuses a point off the curve or a coordinate ≥ p. On P-384 and P-521 the JWK path runs
 * a full key check that costs 3 to 8 times the DER import, and Node has no JWK P-224: those
 * curves are imported from DER. A key the JWK path refuses is tried as DER too, so the
 * keys accepted are never fewer than the DER import accepts.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { bitString, cb, encodeOid, encodeUnsignedInteger, GoError, oid, sequence, Tag, type Tlv } from '../../src/pki/index.js';
import type { AlgorithmIdentifier } from './asn1.js';
import { cbInteger } from './cryptobyte.js';
import { equalBytes } from './encoding.js';

export type GoKeyAlgorithm = 'RSA' | 'ECDSA' | 'Ed25519' | 'DSA';

export interface GoPublicKey {
  readonly algorithm: GoKeyAlgorithm;
  /** The key in node:crypto (imported on first use for RSA and Ed25519); undefined when it cannot be imported. */
  readonly key: () => KeyObject | undefined;
  readonly rsaBits?: number;
  readonly rsaOdd?: boolean;
  readonly rsaExponent?: number;
  /** ECDSA: the curve's name as Go's `Params().Name` prints it (`P-256`). */
  readonly curve?: string;
}

const curves: Readonly<Record<string, { name: string; size: number; jwk: boolean }>> = {
  '1.3.132.0.33': { name: 'P-224', size: 28, jwk: false },
  '1.2.840.10045.3.1.7': { name: 'P-256', size: 32, jwk: true },
  '1.3.132.0.34': { name: 'P-384', size: 48, jwk: false },
  '1.3.132.0.35': { name: 'P-521', size: 66, jwk: false },
};
export const publicKeyAlgorithms: Readonly<Record<string, GoKeyAlgorithm>> = {
  '1.2.840.113549.1.1.1': 'RSA', '1.2.840.10040.4.1': 'DSA', '1.2.840.10045.2.1': 'ECDSA', '1.3.101.112': 'Ed25519',
};
export const nullBytes = Uint8Array.of(5, 0);

const b64url = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
const withoutLeadingZeros = (b: Uint8Array): Uint8Array => b.subarray(Math.max(0, b.findIndex((x) => x !== 0)));

function tryImport(input: Parameters<typeof createPublicKey>[0]): KeyObject | undefined {
  try {
    return createPublicKey(input);
  } catch {
    return undefined;
  }
}

/** The key from `jwk` when given, else (or when refused) from the SubjectPublicKeyInfo `spki()` builds. */
function importKey(jwk: JsonWebKey | undefined, spki: () => Uint8Array): KeyObject | undefined {
  return (jwk && tryImport({ key: jwk, format: 'jwk' })) ?? tryImport({ key: Buffer.from(spki()), format: 'der', type: 'spki' });
}

function once<T>(f: () => T): () => T {
  let cached: { value: T } | undefined;
  return () => (cached ??= { value: f() }).value;
}

function rsaKey(ai: AlgorithmIdentifier, der: Uint8Array): GoPublicKey {
  if (!equalBytes(ai.params, nullBytes)) throw new GoError('x509: RSA key missing NULL parameters');
  const seq = cb(der, 0, der.length, Tag.sequence);
  if (!seq) throw new GoError('x509: invalid RSA public key');
  const n = cbInteger(der, seq.contentStart, seq.end);
  if (!n) throw new GoError('x509: invalid RSA modulus');
  const e = cbInteger(der, n.end, seq.end);
  if (!e || e.end - e.contentStart > 8) throw new GoError('x509: invalid RSA public exponent');
  const nBytes = der.subarray(n.contentStart, n.end);
  const eBytes = der.subarray(e.contentStart, e.end);
  if ((nBytes[0] as number) & 0x80 || nBytes.every((x) => x === 0)) throw new GoError('x509: RSA modulus is not a positive number');
  if ((eBytes[0] as number) & 0x80 || eBytes.every((x) => x === 0)) throw new GoError('x509: RSA public exponent is not a positive number');
  const exponent = eBytes.reduce((acc, x) => acc * 256 + x, 0);
  const magnitude = withoutLeadingZeros(nBytes);
  const rsaBits = (magnitude.length - 1) * 8 + (magnitude[0] as number).toString(2).length;
  const key = once(() => importKey(
    { kty: 'RSA', n: b64url(magnitude), e: b64url(withoutLeadingZeros(eBytes)) },
    () => sequence(sequence(encodeOid('1.2.840.113549.1.1.1'), nullBytes), bitString(sequence(encodeUnsignedInteger(nBytes), encodeUnsignedInteger(eBytes)))),
  ));
  return { algorithm: 'RSA', key, rsaBits, rsaOdd: ((nBytes[nBytes.length - 1] as number) & 1) === 1, rsaExponent: exponent };
}

function ecdsaKey(ai: AlgorithmIdentifier, der: Uint8Array): GoPublicKey {
  const p = cb(ai.params, 0, ai.params.length, Tag.oid);
  let curveOid: string | undefined;
  try { curveOid = p ? oid(ai.params.subarray(p.contentStart, p.end)) : undefined; } catch { curveOid = undefined; }
  if (curveOid === undefined) throw new GoError('x509: invalid ECDSA parameters');
  const curve = curves[curveOid];
  if (!curve) throw new GoError('x509: unsupported elliptic curve');
  if (der.length !== 1 + 2 * curve.size || der[0] !== 4) throw new GoError('x509: failed to unmarshal elliptic curve point');
  // Imported at once: OpenSSL's on-curve check is Go's elliptic.Unmarshal check.
  const jwk = { kty: 'EC', crv: curve.name, x: b64url(der.subarray(1, 1 + curve.size)), y: b64url(der.subarray(1 + curve.size)) };
  const key = importKey(curve.jwk ? jwk : undefined, () => sequence(sequence(encodeOid('1.2.840.10045.2.1'), encodeOid(curveOid)), bitString(der)));
  if (!key) throw new GoError('x509: failed to unmarshal elliptic curve point');
  return { algorithm: 'ECDSA', key: () => key, curve: curve.name };
}

function dsaKey(ai: AlgorithmIdentifier, der: Uint8Array): GoPublicKey {
  const y = cbInteger(der, 0, der.length);
  if (!y) throw new GoError('x509: invalid DSA public key');
  const seq = cb(ai.params, 0, ai.params.length, Tag.sequence);
  const pp = seq && cbInteger(ai.params, seq.contentStart, seq.end);
  const q = pp && cbInteger(ai.params, pp.end, seq.end);
  const g = q && cbInteger(ai.params, q.end, seq.end);
  if (!seq || !pp || !q || !g) throw new GoError('x509: invalid DSA parameters');
  const positive = (buf: Uint8Array, t: Tlv): boolean => !((buf[t.contentStart] as number) & 0x80) && buf.subarray(t.contentStart, t.end).some((x) => x !== 0);
  if (!positive(der, y) || !positive(ai.params, pp) || !positive(ai.params, q) || !positive(ai.params, g)) throw new GoError('x509: zero or negative DSA parameter');
  return { algorithm: 'DSA', key: () => undefined };
}

/** crypto/x509 parsePublicKey for a key algorithm Go knows; `der` is the subjectPublicKey's bytes. */
export function parsePublicKey(algorithm: GoKeyAlgorithm, ai: AlgorithmIdentifier, der: Uint8Array): GoPublicKey {
  switch (algorithm) {
    case 'RSA': return rsaKey(ai, der);
    case 'ECDSA': return ecdsaKey(ai, der);
    case 'Ed25519': {
      if (ai.params.length !== 0) throw new GoError('x509: Ed25519 key encoded with illegal parameters');
      if (der.length !== 32) throw new GoError('x509: wrong Ed25519 public key size');
      const key = once(() => importKey({ kty: 'OKP', crv: 'Ed25519', x: b64url(der) }, () => sequence(sequence(encodeOid('1.3.101.112')), bitString(der))));
      return { algorithm, key };
    }
    case 'DSA': return dsaKey(ai, der);
  }
}
