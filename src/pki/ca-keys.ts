/**
 * The public keys of a loaded CA: the signing certificate's and those of every other
 * certificate of its bundle (its chain, and the rest kept as trust, such as the other CA
 * of a rotation). A request for one of them is refused: a leaf sharing a CA's key is never
 * what anyone wants, and whoever holds it could sign as the CA.
 */
import { createPublicKey } from 'node:crypto';
import { csrError } from '../errors.js';
import { readCertificateBundle, type CertificateAuthority } from './ca.js';
import { equalBytes } from './der.js';
import type { PublicKey } from './public-key.js';

interface CaKey {
  readonly spki: Uint8Array;
  readonly subject: string;
}

const keysByCa = new WeakMap<CertificateAuthority, readonly CaKey[]>();

/** Each SubjectPublicKeyInfo as its certificate has it and as OpenSSL re-encodes it (a request's is canonical DER). */
function keysOf(ca: CertificateAuthority): readonly CaKey[] {
  let keys = keysByCa.get(ca);
  if (keys) return keys;
  const others = [...ca.chain, ...ca.extraTrust].flatMap((der) => {
    try {
      return readCertificateBundle({ name: 'the CA bundle', bytes: der });
    } catch {
      return []; // loading read every certificate of the bundle already; one that does not parse again holds no key to compare
    }
  });
  const list: CaKey[] = [];
  for (const cert of [ca.certificate, ...others]) {
    list.push({ spki: cert.spki, subject: cert.subject });
    try {
      const canonical = createPublicKey({ key: Buffer.from(cert.spki), format: 'der', type: 'spki' }).export({ format: 'der', type: 'spki' });
      if (!equalBytes(canonical, cert.spki)) list.push({ spki: new Uint8Array(canonical), subject: cert.subject });
    } catch {
      // A key OpenSSL cannot import has no other encoding to compare.
    }
  }
  keys = list;
  keysByCa.set(ca, keys);
  return keys;
}

/** Throws RequestKeyIsCaKey when `key` is the key of the CA or of another certificate of its bundle. */
export function refuseCaKey(key: PublicKey, ca: CertificateAuthority): void {
  const same = keysOf(ca).find((k) => equalBytes(k.spki, key.spki));
  if (same) throw csrError('RequestKeyIsCaKey', same.subject === '' ? 'a CA with an empty subject' : `"${same.subject}"`);
}
