/**
 * Loading a CA: a certificate file (one certificate or a bundle) and a private
 * key file. The certificate whose public key matches the key signs; the rest of
 * the bundle is kept as extra trust, and the signer's issuers found in it (but
 * never a self-signed root) form the chain a profile may append.
 *
 * Pure: file contents and `now` come in as parameters.
 */
import { createPrivateKey as createPrivateKeyFrom, createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import * as pkijs from 'pkijs';
import { CsrSignerError, csrError, csrErrorWithCause } from '../errors.js';
import { children, equalBytes, readOid, readWhole, slice, Tag } from './der.js';
import { curveNames, InMemoryKeyProvider, type KeyProvider } from './key-provider.js';
import { formatName, parseName } from './name.js';
import { Oid } from './oids.js';
import { decodePem, describeBlocks, looksLikeDer } from './pem.js';
import type { KeyKind } from './public-key.js';
import { signatureAlgorithmFor, type CertificateSignatureAlgorithm } from './signature.js';
import { formatGoTime } from './validity.js';

export interface CaCertificate {
  readonly der: Uint8Array;
  readonly subjectDer: Uint8Array;
  readonly issuerDer: Uint8Array;
  readonly spki: Uint8Array;
  readonly subject: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly isCa: boolean;
  /** undefined when the certificate has no keyUsage extension. */
  readonly keyCertSign: boolean | undefined;
  readonly subjectKeyId: Uint8Array | undefined;
  readonly selfSigned: boolean;
}

export interface CertificateAuthority {
  readonly certificate: CaCertificate;
  readonly keyKind: KeyKind;
  readonly signatureAlgorithm: CertificateSignatureAlgorithm;
  readonly keyProvider: KeyProvider;
  /** The signer (when not self-signed) and the intermediates above it, DER, self-signed roots left out. */
  readonly chain: readonly Uint8Array[];
  /** Every other certificate of the bundle, DER, for trust publishing. */
  readonly extraTrust: readonly Uint8Array[];
}

export interface NamedBytes {
  /** A file name or other label, used in every error message. */
  readonly name: string;
  readonly bytes: Uint8Array;
}

function readCaCertificate(der: Uint8Array<ArrayBuffer>): CaCertificate {
  const root = readWhole(der, Tag.sequence, 'Certificate');
  const [tbs] = children(der, root);
  if (tbs?.tag !== Tag.sequence) throw new Error('no TBSCertificate');
  const fields = children(der, tbs);
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0;
  const issuer = fields[offset + 2];
  const subject = fields[offset + 4];
  const spki = fields[offset + 5];
  if (!issuer || !subject || !spki) throw new Error('TBSCertificate is missing fields');
  const cert = pkijs.Certificate.fromBER(der);
  const extension = (oid: string): pkijs.Extension | undefined => cert.extensions?.find((e) => e.extnID === oid);
  const basic = extension(Oid.basicConstraints)?.parsedValue as pkijs.BasicConstraints | undefined;
  const keyUsage = extension(Oid.keyUsage)?.parsedValue as { valueBlock: { valueHexView: Uint8Array } } | undefined;
  const ski = extension(Oid.subjectKeyIdentifier)?.parsedValue as { valueBlock: { valueHexView: Uint8Array } } | undefined;
  const subjectDer = slice(der, subject);
  const issuerDer = slice(der, issuer);
  return {
    der,
    subjectDer,
    issuerDer,
    spki: slice(der, spki),
    subject: formatName(parseName(der, subject)),
    notBefore: cert.notBefore.value,
    notAfter: cert.notAfter.value,
    isCa: basic?.cA === true,
    keyCertSign: keyUsage === undefined ? undefined : (((keyUsage.valueBlock.valueHexView[0] ?? 0) & 0x04) !== 0),
    subjectKeyId: ski === undefined ? undefined : new Uint8Array(ski.valueBlock.valueHexView),
    selfSigned: equalBytes(subjectDer, issuerDer),
  };
}

/** Every certificate of a PEM file (or one DER certificate). */
export function readCertificateBundle(file: NamedBytes): CaCertificate[] {
  const { name, bytes } = file;
  let ders: Uint8Array<ArrayBuffer>[];
  if (looksLikeDer(bytes)) {
    ders = [new Uint8Array(bytes)];
  } else {
    let blocks;
    try {
      blocks = decodePem(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'));
    } catch (cause) {
      throw csrErrorWithCause(cause, 'CaCertificateInvalid', name, (cause as Error).message);
    }
    const certs = blocks.filter((b) => b.label === 'CERTIFICATE');
    if (certs.length === 0) throw csrError('CaCertificateInvalid', name, `expected CERTIFICATE PEM blocks, found ${describeBlocks(blocks)}`);
    const other = blocks.find((b) => b.label !== 'CERTIFICATE');
    if (other) throw csrError('CaCertificateInvalid', name, `holds a ${other.label} block; the certificate file may hold only certificates`);
    ders = certs.map((b) => b.der);
  }
  return ders.map((der, i) => {
    let cert: CaCertificate;
    try {
      cert = readCaCertificate(der);
    } catch (cause) {
      throw csrErrorWithCause(cause, 'CaCertificateInvalid', name, `certificate ${i + 1} cannot be parsed: ${(cause as Error).message}`);
    }
    // A malformed key of an algorithm Go reads (an EC point off its curve, say) makes Go's
    // crypto/x509 refuse the whole certificate, so no client could use it. A key of an
    // algorithm Go does not know it keeps as opaque bytes, and so does this bundle.
    if (!goReadsKeyOf(cert.spki)) return cert;
    try {
      createPublicKey({ key: Buffer.from(cert.spki), format: 'der', type: 'spki' });
    } catch (cause) {
      throw csrErrorWithCause(cause, 'CaCertificateInvalid', name,
        `certificate ${i + 1} (${cert.subject}) has a public key that cannot be decoded (for an elliptic-curve key: a point not on its curve)`);
    }
    return cert;
  });
}

/** Key algorithms whose encoding Go's certificate parser checks (parsePublicKey). */
const goParsedKeyAlgorithms = new Set<string>([Oid.rsaEncryption, Oid.ecPublicKey, Oid.ed25519]);

/** True also for a SubjectPublicKeyInfo too broken to name its algorithm: Go refuses that too. */
function goReadsKeyOf(spki: Uint8Array): boolean {
  try {
    const [algorithm] = children(spki, readWhole(spki, Tag.sequence, 'SubjectPublicKeyInfo'));
    const [id] = algorithm === undefined ? [] : children(spki, algorithm);
    return id === undefined || goParsedKeyAlgorithms.has(readOid(spki, id, 'public key algorithm'));
  } catch {
    return true;
  }
}

/** A bundle certificate's key, or undefined for a key OpenSSL cannot decode (it then matches no CA key). */
function publicKeyOf(cert: CaCertificate): KeyObject | undefined {
  try {
    return createPublicKey({ key: Buffer.from(cert.spki), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

/**
 * Every `-----BEGIN … PRIVATE KEY-----` line of a key file (PKCS#8, encrypted PKCS#8,
 * `RSA`/`EC` …), wherever it starts: OpenSSL reads the first and ignores the rest,
 * so a file with two would sign with whichever happens to come first.
 */
const privateKeyBegin = /-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY)-----/g;

/** Reads a private key in any of the formats Kubernetes tooling writes. */
export function readPrivateKey(file: NamedBytes, passphrase?: string): KeyObject {
  const { name, bytes } = file;
  const key = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const der = looksLikeDer(bytes);
  const text = der ? '' : key.toString('latin1');
  const labels = Array.from(text.matchAll(privateKeyBegin), (m) => m[1] as string);
  if (labels.length > 1) throw csrError('CaKeyAmbiguous', name, labels.length, labels.join(', '));
  const encrypted = text.includes('ENCRYPTED PRIVATE KEY') || text.includes('Proc-Type: 4,ENCRYPTED');
  if (encrypted && passphrase === undefined) throw csrError('CaKeyPassphrase', name, 'the private key is encrypted and no passphrase was given');
  try {
    if (!der) return createPrivateKeyFrom({ key, ...(passphrase === undefined ? {} : { passphrase }) });
    for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
      try {
        return createPrivateKeyFrom({ key, format: 'der', type });
      } catch {
        // try the next DER form
      }
    }
    throw new Error('not a PKCS#8, PKCS#1 or SEC1 DER private key');
  } catch (cause) {
    if (encrypted) throw csrErrorWithCause(cause, 'CaKeyPassphrase', name, 'the private key cannot be decrypted with the given passphrase');
    const blocks = text === '' ? [] : safeBlocks(text);
    const found = blocks.length > 0 && !blocks.some((b) => b.label.endsWith('PRIVATE KEY')) ? ` (found ${describeBlocks(blocks)})` : '';
    throw csrErrorWithCause(cause, 'CaKeyInvalid', name, `no private key can be read${found}`);
  }
}

function safeBlocks(text: string): ReturnType<typeof decodePem> {
  try {
    return decodePem(text);
  } catch {
    return [];
  }
}

/** The CA key's kind, or the CaUnsupportedKey error. */
export function caKeyKind(key: KeyObject, file: string): KeyKind {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      if (bits >= 2048 && bits <= 8192) return { type: 'rsa', bits };
      throw csrError('CaUnsupportedKey', file, `RSA ${bits}-bit`);
    }
    case 'ec': {
      const curve = curveNames[details.namedCurve ?? ''];
      if (curve) return { type: 'ec', curve };
      throw csrError('CaUnsupportedKey', file, `ECDSA ${details.namedCurve ?? 'unknown curve'}`);
    }
    case 'ed25519':
      return { type: 'ed25519' };
    default:
      throw csrError('CaUnsupportedKey', file, key.asymmetricKeyType ?? 'unknown');
  }
}

/**
 * What a client needs between the leaf and a root it trusts: the signer itself
 * when it is an intermediate, then its issuers found in the bundle, nearest
 * first, stopping before any self-signed root.
 */
function chainOf(signer: CaCertificate, bundle: readonly CaCertificate[]): Uint8Array[] {
  const chain: Uint8Array[] = [];
  let current: CaCertificate | undefined = signer;
  while (current && !current.selfSigned && chain.length <= bundle.length) {
    chain.push(current.der);
    const issuerOf: CaCertificate = current;
    current = bundle.find((c) => c !== issuerOf && equalBytes(c.subjectDer, issuerOf.issuerDer));
  }
  return chain;
}

/**
 * Checks the signer certificate can sign at `now`: a CA, keyCertSign if keyUsage is
 * present, valid now (not before its notBefore, before its notAfter). A certificate
 * issued by a CA that is not yet valid chains to nothing a client accepts.
 */
export function checkSigningCertificate(cert: CaCertificate, file: string, now: Date): void {
  if (!cert.isCa) throw csrError('CaNotCa', file, cert.subject);
  if (cert.keyCertSign === false) throw csrError('CaNoCertSign', file, cert.subject);
  if (now.getTime() >= cert.notAfter.getTime()) throw csrError('CaExpired', file, cert.subject, formatGoTime(cert.notAfter));
  if (now.getTime() < cert.notBefore.getTime()) throw csrError('CaNotYetValid', file, cert.subject, formatGoTime(cert.notBefore));
}

/**
 * KeyObject.equals, asked only of keys of one type: on Node 20, comparing keys of two types
 * (an RSA bundle certificate and an ECDSA key, say, during a rotation to another key type)
 * answers false but leaves an OpenSSL error queued, and the next PEM private key read in
 * this process (the next CA load) fails with it ("different key types").
 */
const sameKey = (a: KeyObject, b: KeyObject): boolean => a.asymmetricKeyType === b.asymmetricKeyType && a.equals(b);

/** Builds a CA from a bundle and any key provider whose public key is `publicKey`. */
export function certificateAuthorityFrom(
  certificates: NamedBytes, bundle: readonly CaCertificate[], publicKey: KeyObject, keyProvider: KeyProvider, keyKind: KeyKind, keyName: string, now: Date,
): CertificateAuthority {
  const matching = bundle.filter((c) => {
    const key = publicKeyOf(c);
    return key !== undefined && sameKey(key, publicKey);
  });
  if (matching.length === 0) throw csrError('CaKeyMismatch', keyName, certificates.name, bundle.length);
  return authorityOf(certificates, bundle, matching, keyProvider, keyKind, now);
}

/**
 * The certificate that signs, among those of the bundle whose key is the CA key: a CA
 * re-issued for the same key (renewed) may sit beside its old certificate, so the one
 * that passes every check and lasts longest signs, whatever the order; none passing,
 * the first one's error.
 */
function authorityOf(
  certificates: NamedBytes, bundle: readonly CaCertificate[], matching: readonly CaCertificate[], keyProvider: KeyProvider, keyKind: KeyKind, now: Date,
): CertificateAuthority {
  const usable = matching.filter((c) => {
    try {
      checkSigningCertificate(c, certificates.name, now);
      return true;
    } catch {
      return false;
    }
  }).sort((a, b) => b.notAfter.getTime() - a.notAfter.getTime());
  const signer = usable[0] ?? matching[0];
  if (!signer) throw new Error('authorityOf: no matching certificate');
  checkSigningCertificate(signer, certificates.name, now);
  return {
    certificate: signer,
    keyKind,
    signatureAlgorithm: signatureAlgorithmFor(keyKind),
    keyProvider,
    chain: chainOf(signer, bundle),
    extraTrust: bundle.filter((c) => c !== signer).map((c) => c.der),
  };
}

/** Whether a certificate's public key is of `kind` (type, curve, modulus size). */
function ofKind(key: KeyObject, kind: KeyKind): boolean {
  const details = key.asymmetricKeyDetails ?? {};
  switch (kind.type) {
    case 'rsa':
      return key.asymmetricKeyType === 'rsa' && details.modulusLength === kind.bits;
    case 'ec':
      return key.asymmetricKeyType === 'ec' && curveNames[details.namedCurve ?? ''] === kind.curve;
    case 'ed25519':
      return key.asymmetricKeyType === 'ed25519';
  }
}

/** A key whose private half stays elsewhere (a PKCS#11 token): the provider that signs with it and what is known of it. */
export interface ExternalKey {
  readonly provider: KeyProvider;
  readonly keyKind: KeyKind;
  /** The public key, when the key's holder shows it; it is never trusted alone. */
  readonly publicKey?: KeyObject | undefined;
}

/** Bytes signed to learn which certificate is a provider's key's: long enough never to repeat. */
export const keyChallengeBytes = 32;

/**
 * Builds a CA from a bundle and a key that cannot be read, only asked to sign (a key on a
 * PKCS#11 token): the provider signs `challenge` (32 random bytes, fresh for each load; a test may fix them)
 * with the CA's signature algorithm, and the certificates of the bundle whose public key,
 * of the same kind, verifies that signature are the key's. The public key the token shows
 * is not trusted for this: a public-key object beside the private key may be another key's.
 * None verifies → Pkcs11KeyMismatch naming the key and the certificates; then the checks
 * of any CA (CA:TRUE, keyCertSign, validity). A provider that cannot sign rejects with its
 * own error (Pkcs11Unreachable, say).
 */
export async function certificateAuthorityFromKey(
  certificates: NamedBytes, bundle: readonly CaCertificate[], key: ExternalKey, keyName: string, now: Date, challenge: Uint8Array = randomBytes(keyChallengeBytes),
): Promise<CertificateAuthority> {
  if (challenge.length < keyChallengeBytes) throw new Error(`certificateAuthorityFromKey: the challenge must be at least ${keyChallengeBytes} bytes`);
  const { hash } = signatureAlgorithmFor(key.keyKind);
  const signature = await key.provider.sign(challenge, hash);
  let verified: KeyObject | undefined;
  const matching = bundle.filter((c) => {
    const publicKey = publicKeyOf(c);
    if (publicKey === undefined || !ofKind(publicKey, key.keyKind)) return false;
    try {
      if (!verify(hash, challenge, publicKey, signature)) return false;
    } catch {
      return false; // a signature of the wrong shape for this key verifies nothing
    }
    verified ??= publicKey;
    return true;
  });
  if (verified === undefined) throw csrError('Pkcs11KeyMismatch', keyName, certificates.name, bundle.length);
  // The key that made the signature: the provider checks its later signatures with it.
  key.provider.bindPublicKey?.(verified);
  return authorityOf(certificates, bundle, matching, key.provider, key.keyKind, now);
}

export interface CaFiles {
  readonly certificate: NamedBytes;
  readonly key: NamedBytes;
  readonly passphrase?: string;
}

/**
 * Loads a CA from file contents; every failure is a CsrSignerError naming the file (a
 * rejection). Asynchronous for key providers that must reach a device; a key from a
 * file loads at once.
 */
export function loadCertificateAuthority(files: CaFiles, now: Date): Promise<CertificateAuthority> {
  return new Promise((resolve) => {
    resolve(loadFromFiles(files, now));
  });
}

function loadFromFiles(files: CaFiles, now: Date): CertificateAuthority {
  const bundle = readCertificateBundle(files.certificate);
  const privateKey = readPrivateKey(files.key, files.passphrase);
  const keyKind = caKeyKind(privateKey, files.key.name);
  const publicKey = createPublicKey(privateKey);
  let provider: KeyProvider;
  try {
    provider = InMemoryKeyProvider.fromKeyObject(privateKey, `${files.key.name} (${keyKind.type})`);
  } catch (cause) {
    if (cause instanceof CsrSignerError) throw cause;
    throw csrErrorWithCause(cause, 'CaKeyInvalid', files.key.name, 'the private key cannot be imported');
  }
  return certificateAuthorityFrom(files.certificate, bundle, publicKey, provider, keyKind, files.key.name, now);
}
