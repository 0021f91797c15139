/**
 * The subject key of a PodCertificateRequest, read and verified: either the stub
 * PKCS#10 request (v1, and v1beta1 since Kubernetes 1.36; its self-signature is the proof
 * of possession) or the legacy pkixPublicKey + proofOfPossession pair (1.34–1.36 v1beta1;
 * a signature over the ASCII bytes of podUID: Ed25519 over the bytes themselves, ECDSA
 * over their SHA-256 in ASN.1 form, RSA-PSS with SHA-256 and any salt length), as
 * kube-apiserver's ValidatePodCertificateRequestCreate checks them.
 */
import { constants, verify, type VerifyKeyObjectInput, type VerifyPublicKeyInput, type KeyObject } from 'node:crypto';
import { CsrSignerError, csrError } from '../errors.js';
import { DerError, readTlv } from './der.js';
import { defaultRequestLimits, parseRequestDerAsync, type CertificateRequest, type RequestLimits } from './csr.js';
import { describeKey, readPublicKey, type KeyKind, type PublicKey } from './public-key.js';

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
 * The most bytes of pkixPublicKey and of proofOfPossession (kube-apiserver's
 * MaxPKIXPublicKeySize and MaxProofOfPossessionSize, pkg/apis/certificates/types.go).
 */
export const MAX_POD_CERTIFICATE_KEY_FIELD_BYTES = 10240;
/**
 * The most bytes of stubPKCS10Request. kube-apiserver has a MaxStubPKCS10RequestSize
 * (pkg/apis/certificates/validation/validation.go since 1.36) whose value could not be
 * verified; 10240, the limit of the other two byte fields, is assumed. A stub the
 * kubelet makes (an empty subject, no extensions, the largest key RSA 4096) is under 1 KiB.
 */
export const MAX_STUB_PKCS10_REQUEST_BYTES = 10240;

const present = (bytes: Uint8Array | undefined): bytes is Uint8Array => bytes !== undefined && bytes.length > 0;

function checkSize(field: string, bytes: Uint8Array, limit: number): void {
  if (bytes.length > limit) throw csrError('PodCertificateFieldTooLarge', field, bytes.length, limit);
}

/** The key kinds readPublicKey refuses as unsupported, named for pod certificates instead of CSRs. */
function podKeyError(e: unknown): unknown {
  if (e instanceof CsrSignerError && e.kind === 'UnsupportedKeyType') {
    const key = /^(.*) keys are not supported/.exec(e.message)?.[1] ?? 'such';
    return new CsrSignerError('PodCertificateKeyUnsupported', csrError('PodCertificateKeyUnsupported', key).message, { cause: e });
  }
  return e;
}

/**
 * Reads and verifies the subject key. Exactly one form must be present (stub, or pkix
 * with proof); an empty field counts as absent, as kube-apiserver counts it. Rejects with
 * a permanent CsrSignerError naming what is wrong. The signature checks (the stub's
 * self-signature, the proof of possession) run on libuv's threadpool.
 */
export async function readPodCertificateKey(fields: PodCertificateKeyFields, limits: RequestLimits = defaultRequestLimits): Promise<PodCertificateKey> {
  const { stubPKCS10Request: stub, pkixPublicKey: pkix, proofOfPossession: proof } = fields;
  const form = present(stub) && !present(pkix) && !present(proof) ? 'stub'
    : !present(stub) && present(pkix) && present(proof) ? 'proof-of-possession' : undefined;
  if (form === undefined) {
    const found = [['stubPKCS10Request', stub], ['pkixPublicKey', pkix], ['proofOfPossession', proof]] as const;
    const names = found.filter(([, bytes]) => present(bytes)).map(([name]) => name);
    throw csrError('PodCertificateKeyForm', names.length === 0 ? 'none of them' : `only ${names.join(' and ')}`);
  }
  return form === 'stub' ? readStub(stub as Uint8Array, limits) : readProofOfPossession(fields.podUID, pkix as Uint8Array, proof as Uint8Array);
}

/** `-----BEGIN` at the start, after any whitespace: a PEM block where DER belongs. */
const looksLikePem = (bytes: Uint8Array): boolean =>
  /^\s*-----BEGIN /.test(Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 64)).toString('latin1'));

async function readStub(der: Uint8Array, limits: RequestLimits): Promise<PodCertificateKey> {
  checkSize('stubPKCS10Request', der, MAX_STUB_PKCS10_REQUEST_BYTES);
  if (looksLikePem(der)) throw csrError('PodCertificateStubNotDer');
  let stub: CertificateRequest;
  try {
    // The strict CSR reader: the structure as Go's x509.ParseCertificateRequest reads it, and the self-signature.
    stub = await parseRequestDerAsync(der, limits);
  } catch (e) {
    throw podKeyError(e);
  }
  return { publicKey: stub.publicKey, keyType: podCertificateKeyType(stub.publicKey.kind), form: 'stub', stub };
}

function readPkix(pkix: Uint8Array): PublicKey {
  let spki;
  try {
    spki = readTlv(pkix, 0);
    if (spki.end !== pkix.length) throw new DerError(`${pkix.length - spki.end} trailing bytes after the SubjectPublicKeyInfo`);
  } catch (e) {
    if (e instanceof DerError) throw csrError('InvalidPublicKey', `spec.pkixPublicKey is not a DER SubjectPublicKeyInfo: ${e.message}`);
    throw e;
  }
  try {
    return readPublicKey(pkix, spki);
  } catch (e) {
    if (e instanceof DerError) throw csrError('InvalidPublicKey', `spec.pkixPublicKey is not a DER SubjectPublicKeyInfo: ${e.message}`);
    throw podKeyError(e);
  }
}

/**
 * How the proof over podUID is checked, as kube-apiserver checks it (kubernetes/kubernetes
 * pkg/apis/certificates/validation/validation.go, ValidatePodCertificateRequestCreate, 1.35):
 * ed25519.Verify over the bytes; ecdsa.VerifyASN1 over their SHA-256 (whatever the curve);
 * rsa.VerifyPSS with SHA-256 and nil options, that is any salt length (PSSSaltLengthAuto).
 * (An early draft of that function, and the KEP's text, used PKCS#1 v1.5 for RSA: refused here, as by the apiserver.)
 */
function proofCheck(key: PublicKey): { hash: 'sha256' | null; key: KeyObject | VerifyKeyObjectInput | VerifyPublicKeyInput } {
  switch (key.kind.type) {
    case 'ed25519': return { hash: null, key: key.keyObject };
    // A DER (ASN.1) signature is what verify takes by default. The KeyObject alone, not in an options object: Node 24 tests
    // an object for being a KeyObject or a CryptoKey by throwing and catching, which cost more than the verify (P-256:
    // 180 vs 115 CPU µs per check).
    case 'ec': return { hash: 'sha256', key: key.keyObject };
    case 'rsa': return { hash: 'sha256', key: { key: key.keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO } };
  }
}

async function readProofOfPossession(podUID: string, pkix: Uint8Array, proof: Uint8Array): Promise<PodCertificateKey> {
  checkSize('pkixPublicKey', pkix, MAX_POD_CERTIFICATE_KEY_FIELD_BYTES);
  checkSize('proofOfPossession', proof, MAX_POD_CERTIFICATE_KEY_FIELD_BYTES);
  const publicKey = readPkix(pkix);
  const check = proofCheck(publicKey);
  // Go's []byte(podUID): the string's UTF-8 bytes (a UID is ASCII).
  const message = Buffer.from(podUID, 'utf8');
  const ok = await new Promise<boolean>((resolve) => {
    try {
      // The callback form runs on libuv's threadpool.
      verify(check.hash, message, check.key, proof, (error, valid) => resolve(error === null && valid));
    } catch {
      resolve(false);
    }
  });
  if (!ok) throw csrError('ProofOfPossessionInvalid', describeKey(publicKey.kind));
  return { publicKey, keyType: podCertificateKeyType(publicKey.kind), form: 'proof-of-possession' };
}
