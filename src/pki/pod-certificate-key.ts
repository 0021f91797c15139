/**
 * The subject key of a PodCertificateRequest, read and verified: either the stub
 * PKCS#10 request (v1, and v1beta1 since Kubernetes 1.36; its self-signature is the proof
 * of possession) or the legacy pkixPublicKey + proofOfPossession pair (1.34–1.36 v1beta1;
 * a signature over the ASCII bytes of podUID: Ed25519 over the bytes themselves, ECDSA
 * over their SHA-256 in ASN.1 form, RSA-PSS with SHA-256 and any salt length), as
 * kube-apiserver's ValidatePodCertificateRequestCreate checks them.
 */
import type { CertificateRequest, RequestLimits } from './csr.js';
import type { KeyKind, PublicKey } from './public-key.js';

/** The `keyType` names of the podCertificate projection: the key types the API accepts. */
export const podCertificateKeyTypes = ['RSA3072', 'RSA4096', 'ECDSAP256', 'ECDSAP384', 'ECDSAP521', 'ED25519'] as const;
export type PodCertificateKeyType = (typeof podCertificateKeyTypes)[number];

/** The key fields of a PodCertificateRequest's spec, decoded from base64. */
export interface PodCertificateKeyFields {
  readonly podUID: string;
  readonly pkixPublicKey?: Uint8Array;
  readonly proofOfPossession?: Uint8Array;
  readonly stubPKCS10Request?: Uint8Array;
}

export interface PodCertificateKey {
  readonly publicKey: PublicKey;
  /** The projection keyType this key is, or undefined for one the API would not accept (e.g. RSA 2048). */
  readonly keyType: PodCertificateKeyType | undefined;
  readonly form: 'stub' | 'proof-of-possession';
  /** The parsed stub request (form `stub`). Its subject and extensions are not the identity. */
  readonly stub?: CertificateRequest;
}

/** The keyType name of a key kind; undefined when the API accepts no such key. */
export function podCertificateKeyType(kind: KeyKind): PodCertificateKeyType | undefined {
  if (kind.type === 'ed25519') return 'ED25519';
  if (kind.type === 'ec') return kind.curve === 'P-256' ? 'ECDSAP256' : kind.curve === 'P-384' ? 'ECDSAP384' : 'ECDSAP521';
  // Go's rsa.PublicKey.Size() rounds up to whole bytes: 3065–3072 bits count as 3072.
  const bytes = Math.ceil(kind.bits / 8);
  return bytes === 384 ? 'RSA3072' : bytes === 512 ? 'RSA4096' : undefined;
}

/**
 * Reads and verifies the subject key. Exactly one form must be present (stub, or pkix
 * with proof). Throws a permanent CsrSignerError naming what is wrong.
 */
export function readPodCertificateKey(fields: PodCertificateKeyFields, limits?: RequestLimits): Promise<PodCertificateKey> {
  void fields;
  void limits;
  return Promise.reject(new Error("readPodCertificateKey: not implemented yet"));
}
