/**
 * Signature encodings for keys that sign elsewhere (a PKCS#11 token): what the device
 * returns or expects, turned into what X.509 carries. Pure.
 *
 * - ECDSA: a token's CKM_ECDSA returns r‖s, each the curve's field size, big-endian
 *   (PKCS#11 v2.40 section 2.3.1); X.509 carries Ecdsa-Sig-Value, SEQUENCE { r INTEGER,
 *   s INTEGER } (RFC 5480 section 2.2.3), as Go's crypto/ecdsa writes it (encodeSignature).
 * - RSA PKCS#1 v1.5: CKM_RSA_PKCS signs a DigestInfo the caller builds (RFC 8017
 *   section 9.2, step 2; its note 1 lists the prefixes, as Go's crypto/rsa hashPrefixes).
 */
import { encodeUnsignedInteger, sequence } from './der.js';
import type { Hash } from './signature.js';

/** r‖s (two equal halves) → DER SEQUENCE { INTEGER r, INTEGER s }. */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new Error(`an ECDSA signature r‖s has two halves of equal size, not ${raw.length} bytes`);
  const half = raw.length / 2;
  return sequence(encodeUnsignedInteger(raw.subarray(0, half)), encodeUnsignedInteger(raw.subarray(half)));
}

/** DER of DigestInfo's AlgorithmIdentifier and the OCTET STRING header, by hash (RFC 8017 section 9.2, note 1). */
const digestInfoPrefixes: Readonly<Record<Hash, Uint8Array>> = {
  sha256: Uint8Array.of(0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20),
  sha384: Uint8Array.of(0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30),
  sha512: Uint8Array.of(0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40),
};

const digestSizes: Readonly<Record<Hash, number>> = { sha256: 32, sha384: 48, sha512: 64 };

/** DigestInfo { AlgorithmIdentifier(hash, NULL), OCTET STRING digest }: what CKM_RSA_PKCS signs for RSASSA-PKCS1-v1_5. */
export function digestInfo(hash: Hash, digest: Uint8Array): Uint8Array {
  if (digest.length !== digestSizes[hash]) throw new Error(`a ${hash} digest is ${digestSizes[hash]} bytes, not ${digest.length}`);
  const prefix = digestInfoPrefixes[hash];
  const out = new Uint8Array(prefix.length + digest.length);
  out.set(prefix);
  out.set(digest, prefix.length);
  return out;
}
