/** Signature algorithms: the ones a request may use, and the one a CA key signs with. */
import { constants, verify } from 'node:crypto';
import { csrError } from '../errors.js';
import { children, content, contextConstructed, DerError, encodeOid, readOid, sequence, Tag, type Tlv } from './der.js';
import { Oid, oidName } from './oids.js';
import type { KeyKind, PublicKey } from './public-key.js';

export type Hash = 'sha256' | 'sha384' | 'sha512';

/** How a request's signature is to be checked. */
export type RequestSignature =
  | { readonly key: 'rsa'; readonly hash: Hash; readonly pss?: { readonly saltLength: number } }
  | { readonly key: 'ec'; readonly hash: Hash }
  | { readonly key: 'ed25519' };

const plain: Record<string, RequestSignature> = {
  [Oid.sha256WithRsa]: { key: 'rsa', hash: 'sha256' },
  [Oid.sha384WithRsa]: { key: 'rsa', hash: 'sha384' },
  [Oid.sha512WithRsa]: { key: 'rsa', hash: 'sha512' },
  [Oid.ecdsaWithSha256]: { key: 'ec', hash: 'sha256' },
  [Oid.ecdsaWithSha384]: { key: 'ec', hash: 'sha384' },
  [Oid.ecdsaWithSha512]: { key: 'ec', hash: 'sha512' },
  [Oid.ed25519]: { key: 'ed25519' },
};

const insecure = new Set<string>([Oid.md5WithRsa, Oid.sha1WithRsa, Oid.ecdsaWithSha1, Oid.dsaWithSha1]);

const hashes: Record<string, { hash: Hash; size: number }> = {
  [Oid.sha256]: { hash: 'sha256', size: 32 },
  [Oid.sha384]: { hash: 'sha384', size: 48 },
  [Oid.sha512]: { hash: 'sha512', size: 64 },
};

/** RSASSA-PSS parameters, accepted as Go accepts them: SHA-2, MGF1 with the same hash, salt = hash size. */
function pssParameters(buf: Uint8Array, params: Tlv | undefined): RequestSignature {
  const bad = (why: string): never => {
    throw csrError('UnsupportedSignatureAlgorithm', `RSASSA-PSS ${why}`);
  };
  if (params?.tag !== Tag.sequence) return bad('without parameters');
  let hashOid: string = Oid.sha1;
  let mgfHashOid: string = Oid.sha1;
  let saltLength = 20;
  for (const field of children(buf, params)) {
    const [inner] = children(buf, field);
    if (inner === undefined) return bad('with malformed parameters');
    if (field.tag === contextConstructed(0)) {
      const [oid] = children(buf, inner);
      if (oid) hashOid = readOid(buf, oid, 'PSS hash');
    } else if (field.tag === contextConstructed(1)) {
      const [mgf, mgfParams] = children(buf, inner);
      if (mgf === undefined || readOid(buf, mgf, 'PSS mask generation') !== Oid.mgf1 || mgfParams?.tag !== Tag.sequence) {
        return bad('with a mask generation function other than MGF1');
      }
      const [oid] = children(buf, mgfParams);
      if (oid) mgfHashOid = readOid(buf, oid, 'MGF1 hash');
    } else if (field.tag === contextConstructed(2)) {
      if (inner.tag !== Tag.integer || inner.end - inner.contentStart > 2) return bad('with a malformed salt length');
      saltLength = content(buf, inner).reduce((a, b) => a * 256 + b, 0);
    } else if (field.tag === contextConstructed(3)) {
      if (inner.tag !== Tag.integer || content(buf, inner).length !== 1 || buf[inner.contentStart] !== 1) return bad('with a trailer field other than 1');
    } else {
      return bad('with unknown parameters');
    }
  }
  const hash = hashes[hashOid];
  if (!hash) return bad(`with hash ${oidName(hashOid)}`);
  if (mgfHashOid !== hashOid) return bad(`with MGF1 hash ${oidName(mgfHashOid)} unlike the message hash ${oidName(hashOid)}`);
  if (saltLength !== hash.size) return bad(`with salt length ${saltLength} (must be ${hash.size} for ${oidName(hashOid)})`);
  return { key: 'rsa', hash: hash.hash, pss: { saltLength } };
}

/** Reads the request's signatureAlgorithm AlgorithmIdentifier. */
export function readRequestSignatureAlgorithm(buf: Uint8Array, algorithm: Tlv): RequestSignature {
  const [oidTlv, params, extra] = algorithm.tag === Tag.sequence ? children(buf, algorithm) : [];
  if (oidTlv === undefined || extra !== undefined) throw new DerError('malformed signatureAlgorithm');
  const oid = readOid(buf, oidTlv, 'signature algorithm');
  if (oid === Oid.rsassaPss) return pssParameters(buf, params);
  const known = plain[oid];
  if (insecure.has(oid)) throw csrError('UnsupportedSignatureAlgorithm', `${oidName(oid)}, an insecure algorithm`);
  if (!known) throw csrError('UnsupportedSignatureAlgorithm', oidName(oid));
  if (params !== undefined && !(known.key === 'rsa' && params.tag === Tag.null && params.end === params.contentStart)) {
    throw csrError('UnsupportedSignatureAlgorithm', `${oidName(oid)} with unexpected parameters`);
  }
  return known;
}

/** Proof of possession: the request is signed by the key it carries. */
export function verifyRequestSignature(tbs: Uint8Array, signature: Uint8Array, algorithm: RequestSignature, key: PublicKey): void {
  checkKeyMatches(algorithm, key);
  let ok: boolean;
  try {
    if (algorithm.key === 'ed25519') {
      ok = verify(null, tbs, key.keyObject, signature);
    } else if (algorithm.key === 'rsa' && algorithm.pss) {
      ok = verify(algorithm.hash, tbs, { key: key.keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: algorithm.pss.saltLength }, signature);
    } else {
      ok = verify(algorithm.hash, tbs, key.keyObject, signature);
    }
  } catch {
    ok = false;
  }
  if (!ok) throw csrError('InvalidSignature', 'signature mismatch');
}

/**
 * verifyRequestSignature, computed on libuv's threadpool (the same OpenSSL
 * call, through crypto.verify's callback form). Resolves when the signature
 * verifies; rejects with the same errors otherwise.
 */
export function verifyRequestSignatureOffThread(
  tbs: Uint8Array, signature: Uint8Array, algorithm: RequestSignature, key: PublicKey,
): Promise<void> {
  return new Promise((resolve, reject) => {
    checkKeyMatches(algorithm, key);
    const done = (error: Error | null, ok: boolean): void => {
      if (error === null && ok) resolve();
      else reject(csrError('InvalidSignature', 'signature mismatch'));
    };
    try {
      if (algorithm.key === 'ed25519') {
        verify(null, tbs, key.keyObject, signature, done);
      } else if (algorithm.key === 'rsa' && algorithm.pss) {
        verify(algorithm.hash, tbs, { key: key.keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: algorithm.pss.saltLength }, signature, done);
      } else {
        verify(algorithm.hash, tbs, key.keyObject, signature, done);
      }
    } catch {
      reject(csrError('InvalidSignature', 'signature mismatch'));
    }
  });
}

function checkKeyMatches(algorithm: RequestSignature, key: PublicKey): void {
  if (algorithm.key !== key.kind.type) {
    throw csrError('InvalidSignature', `an ${algorithm.key.toUpperCase()} signature algorithm with ${describeKind(key.kind)} key`);
  }
}

const describeKind = (kind: KeyKind): string => (kind.type === 'rsa' ? 'an RSA' : kind.type === 'ec' ? 'an ECDSA' : 'an Ed25519');

// ------------------------------------------------------------- issuing side

/** What a CA key signs with, decided by its type as Go decides it. */
export interface CertificateSignatureAlgorithm {
  /** Node's digest name, or null for Ed25519. */
  readonly hash: Hash | null;
  /** The pre-encoded AlgorithmIdentifier written into TBS and certificate. */
  readonly identifier: Uint8Array;
  readonly name: string;
}

const nullParams = Uint8Array.of(Tag.null, 0);

export function signatureAlgorithmFor(kind: KeyKind): CertificateSignatureAlgorithm {
  switch (kind.type) {
    case 'rsa':
      return { hash: 'sha256', identifier: sequence(encodeOid(Oid.sha256WithRsa), nullParams), name: 'sha256WithRSAEncryption' };
    case 'ed25519':
      return { hash: null, identifier: sequence(encodeOid(Oid.ed25519)), name: 'Ed25519' };
    case 'ec': {
      const [oid, hash, name] = kind.curve === 'P-256'
        ? [Oid.ecdsaWithSha256, 'sha256', 'ecdsa-with-SHA256'] as const
        : kind.curve === 'P-384'
          ? [Oid.ecdsaWithSha384, 'sha384', 'ecdsa-with-SHA384'] as const
          : [Oid.ecdsaWithSha512, 'sha512', 'ecdsa-with-SHA512'] as const;
      return { hash, identifier: sequence(encodeOid(oid)), name };
    }
  }
}
