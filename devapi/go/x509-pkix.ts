/**
 * crypto/x509 ParsePKIXPublicKey: a SubjectPublicKeyInfo (DER) as Go reads it, for the
 * legacy `spec.pkixPublicKey` of a PodCertificateRequest. Go refuses trailing data and an
 * algorithm it does not know (`x509: unknown public key algorithm`); X25519 (which Go parses
 * into a crypto/ecdh key) is returned as a key of no algorithm Go's callers accept.
 */
import { bitStringBytes, GoError, syntaxError } from '../../src/pki/index.js';
import { algorithmIdentifier, field, need } from './asn1.js';
import { parsePublicKey, publicKeyAlgorithms, type GoPublicKey } from './x509-public-key.js';

/** What ParsePKIXPublicKey gives: a key, `other` for a key type Go parses but no PodCertificateRequest rule names, or Go's error text. */
export function parsePkixPublicKey(der: Uint8Array): { readonly key: GoPublicKey | 'other' } | { readonly error: string } {
  try {
    const spki = need(field(der, 0, { name: 'publicKeyInfo', tag: 16, compound: true }));
    if (spki.next !== der.length) throw new GoError('x509: trailing data after ASN.1 of public-key');
    const [ai, after] = algorithmIdentifier(spki.content, 0);
    const bits = bitStringBytes(need(field(spki.content, after, { name: 'BitString', tag: 3, compound: false })).content);
    if (ai.oid === '1.3.101.110') return { key: 'other' };
    const algorithm = publicKeyAlgorithms[ai.oid];
    if (!algorithm) throw new GoError('x509: unknown public key algorithm');
    return { key: parsePublicKey(algorithm, ai, bits) };
  } catch (e) {
    if (e instanceof GoError) return { error: e.message };
    if (e instanceof Error) return { error: syntaxError(e.message).message };
    throw e;
  }
}
