/**
 * The authority: a verified request (or, for pod certificates, a verified key with the
 * names and validity the caller decided), a profile and a CA in; a certificate out.
 * No clock and no randomness of its own. The TBSCertificate is assembled from
 * pre-encoded pieces: the CA's parts are encoded once per CA, the request's
 * subject and public key are copied as they came.
 */
import { hash } from 'node:crypto';
import { csrError, csrErrorWithCause } from '../errors.js';
import {
  cachedOid, concat, contextConstructed, encode, encodeUnsignedInteger, octetString, sequence, Tag, tlvSize, writeHeader,
} from './der.js';
import type { CertificateAuthority } from './ca.js';
import { refuseCaKey } from './ca-keys.js';
import { decodeRequestBytes, parseRequestDer, parseRequestDerAsync, type CertificateRequest, type RequestLimits } from './csr.js';
import { announceIssued } from './issued-channel.js';
import { Oid } from './oids.js';
import { encodePem } from './pem.js';
import type { PublicKey } from './public-key.js';
import { countSubjectAltNames, subjectAltNamesDer, type SubjectAltNames } from './san.js';
import { checkIssuedSubjectAltNames, encodeSubject, type SubjectSpec } from './subject.js';
import { mapUsages } from './usages.js';
import { effectiveTtlMs, encodeTime, formatGoTime, validityWindow, type Validity } from './validity.js';

/** What to issue. Policy decided elsewhere arrives here as plain data. */
export interface SigningProfile {
  readonly usages: readonly string[];
  /** The longest lifetime to issue (`--cluster-signing-duration`). */
  readonly maxDurationMs: number;
  /** The lifetime when the request asks for none (no expirationSeconds). Default: maxDurationMs. */
  readonly defaultDurationMs?: number;
  /** Append the CA's intermediates to the PEM (leaf first). */
  readonly includeChain?: boolean;
  /**
   * Issue a CA: basicConstraints CA:TRUE, critical, pathLenConstraint 0, in place of
   * the leaf's CA:FALSE; nothing else changes (the usages still decide keyUsage).
   * Meant for a request that asks for CA:TRUE; such a request under a profile
   * without isCa is refused with CertificateAuthorityRequested.
   */
  readonly isCa?: boolean;
}

export interface IssueInput {
  readonly request: CertificateRequest;
  readonly profile: SigningProfile;
  readonly ca: CertificateAuthority;
  /** `spec.expirationSeconds`, when the CSR has it. */
  readonly expirationSeconds?: number;
  readonly now: Date;
  /** Fills a buffer with cryptographically random bytes. */
  readonly random: (size: number) => Uint8Array;
  /** Where the CA key signs; see ThreadpoolMode. Default 'auto'. */
  readonly threadpool?: ThreadpoolMode;
}

/**
 * Where the OpenSSL work of an issue runs: verifying the request and signing
 * the certificate. 'never': on the calling thread, synchronously, the fastest
 * for one request at a time. 'always': on libuv's threadpool, so that with
 * several requests in flight the crypto of one overlaps the parsing and
 * encoding of others on a second core. 'auto' (the default): the threadpool
 * while another signRequest or issueCertificate call of this process is in
 * flight, else the calling thread. The certificate is the same either way.
 */
export type ThreadpoolMode = 'auto' | 'always' | 'never';

/** signRequest and issueCertificate calls started and not yet settled, in this process. */
let inFlight = 0;

const useThreadpool = (mode: ThreadpoolMode = 'auto'): boolean => mode === 'always' || (mode === 'auto' && inFlight > 1);

export interface IssuedCertificate {
  readonly der: Uint8Array;
  /** The leaf, then the chain when the profile asks for it. */
  readonly pem: string;
  readonly serialHex: string;
  readonly validity: Validity;
}

const version3 = encode(contextConstructed(0), encode(Tag.integer, Uint8Array.of(2)));
const trueBoolean = Uint8Array.of(Tag.boolean, 1, 0xff);
const basicConstraintsLeaf = extension(Oid.basicConstraints, true, sequence());
/** CA:TRUE, pathLenConstraint 0: a CA that may sign leaves only. */
const basicConstraintsCa = extension(Oid.basicConstraints, true, sequence(trueBoolean, encode(Tag.integer, Uint8Array.of(0))));

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? sequence(cachedOid(oid), trueBoolean, octetString(value)) : sequence(cachedOid(oid), octetString(value));
}

/** A random positive serial of up to 128 bits, never zero. */
export function randomSerial(random: (size: number) => Uint8Array): Uint8Array {
  for (;;) {
    const bytes = random(16);
    if (bytes.some((b) => b !== 0)) return bytes;
  }
}

/** The CA's part of every certificate, encoded once and reused. */
interface CaParts {
  readonly issuer: Uint8Array;
  readonly algorithm: Uint8Array;
  readonly authorityKeyId: Uint8Array;
}
const caPartsCache = new WeakMap<CertificateAuthority, CaParts>();

function caParts(ca: CertificateAuthority): CaParts {
  let parts = caPartsCache.get(ca);
  if (!parts) {
    const ski = ca.certificate.subjectKeyId;
    parts = {
      issuer: ca.certificate.subjectDer,
      algorithm: ca.signatureAlgorithm.identifier,
      authorityKeyId: ski === undefined ? new Uint8Array(0) : extension(Oid.authorityKeyIdentifier, false, sequence(encode(0x80, ski))),
    };
    caPartsCache.set(ca, parts);
  }
  return parts;
}

/**
 * The extensions a profile's usages decide, encoded: KU and EKU, in that order. Remembered per list of usages: first by the
 * list itself while its contents are what they were, then by the list's JSON
 * (no two lists share one). An unknown usage throws every time, as mapUsages does.
 */
const profileExtensionsByText = new Map<string, Uint8Array>();
const profileExtensionsByList = new WeakMap<readonly string[], { readonly usages: readonly string[]; readonly encoded: Uint8Array }>();

function profileExtensions(usageList: readonly string[]): Uint8Array {
  const known = profileExtensionsByList.get(usageList);
  if (known !== undefined && sameStrings(known.usages, usageList)) return known.encoded;
  const key = JSON.stringify(usageList);
  let encoded = profileExtensionsByText.get(key);
  if (encoded === undefined) {
    const usages = mapUsages(usageList);
    const parts: Uint8Array[] = [];
    if (usages.keyUsage) parts.push(extension(Oid.keyUsage, true, encode(Tag.bitString, usages.keyUsage)));
    if (usages.extKeyUsages.length > 0) {
      parts.push(extension(Oid.extKeyUsage, false, sequence(...usages.extKeyUsages.map(cachedOid))));
    }
    encoded = concat(parts);
    if (profileExtensionsByText.size >= 256) profileExtensionsByText.clear();
    profileExtensionsByText.set(key, encoded);
  }
  profileExtensionsByList.set(usageList, { usages: usageList.slice(), encoded });
  return encoded;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** SEQUENCE { OID subjectKeyIdentifier, OCTET STRING { OCTET STRING (20 bytes) } }, before the 20 bytes. */
const skiPrefix = Uint8Array.of(0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14);
const skiExtensionSize = skiPrefix.length + 20;
const sanOid = cachedOid(Oid.subjectAltName);

/**
 * Builds the TBSCertificate and its extensions in Go's order: KU, EKU, BC, SKI, AKI, SAN.
 * Every piece is either remembered (CA, profile) or given ready: the subject Name's DER
 * (a request's own bytes, or encodeSubject's), the key's SubjectPublicKeyInfo, the
 * subjectAltNames (a request's own extension bytes when they come from one). They are
 * written once into a buffer of the exact size. Both issuing paths use it.
 */
function tbsCertificate(
  subjectDer: Uint8Array, publicKey: PublicKey, subjectAltNames: SubjectAltNames, profile: SigningProfile, ca: CertificateAuthority,
  serialInteger: Uint8Array, validity: Validity,
): Uint8Array {
  const parts = caParts(ca);
  const profileExts = profileExtensions(profile.usages);
  const basicConstraints = profile.isCa === true ? basicConstraintsCa : basicConstraintsLeaf;
  // As 'binary' (latin1) text, one character per byte: the cheapest output of Node's one-shot hash (no Buffer object).
  const keyId = hash('sha1', publicKey.keyBits, 'binary');
  const notBefore = encodeTime(validity.notBefore);
  const notAfter = encodeTime(validity.notAfter);
  // subjectAltName: SEQUENCE { OID, [BOOLEAN TRUE,] OCTET STRING { GeneralNames } }, critical when the subject is empty.
  let san: Uint8Array | undefined;
  let sanCritical = false;
  let sanContentSize = 0;
  if (countSubjectAltNames(subjectAltNames) > 0) {
    san = subjectAltNamesDer(subjectAltNames);
    sanCritical = subjectDer.length === 2;
    sanContentSize = sanOid.length + (sanCritical ? trueBoolean.length : 0) + tlvSize(san.length);
  }
  const extensionsSize = profileExts.length + basicConstraints.length + skiExtensionSize + parts.authorityKeyId.length + (san === undefined ? 0 : tlvSize(sanContentSize));
  const validitySize = notBefore.length + notAfter.length;
  const tbsContentSize = version3.length + serialInteger.length + parts.algorithm.length + parts.issuer.length
    + tlvSize(validitySize) + subjectDer.length + publicKey.spki.length + tlvSize(tlvSize(extensionsSize));
  // From Buffer's pool (the TBS only lives until it is signed and copied); every byte is written below.
  const out = Buffer.allocUnsafe(tlvSize(tbsContentSize));
  let at = writeHeader(out, 0, Tag.sequence, tbsContentSize);
  const put = (bytes: Uint8Array): void => {
    out.set(bytes, at);
    at += bytes.length;
  };
  put(version3);
  put(serialInteger);
  put(parts.algorithm);
  put(parts.issuer);
  at = writeHeader(out, at, Tag.sequence, validitySize);
  put(notBefore);
  put(notAfter);
  put(subjectDer);
  put(publicKey.spki);
  at = writeHeader(out, at, contextConstructed(3), tlvSize(extensionsSize));
  at = writeHeader(out, at, Tag.sequence, extensionsSize);
  put(profileExts);
  put(basicConstraints);
  put(skiPrefix);
  at += out.write(keyId, at, 'latin1');
  put(parts.authorityKeyId);
  if (san !== undefined) {
    at = writeHeader(out, at, Tag.sequence, sanContentSize);
    put(sanOid);
    if (sanCritical) put(trueBoolean);
    at = writeHeader(out, at, Tag.octetString, san.length);
    put(san);
  }
  if (at !== out.length) throw new Error(`TBSCertificate size mismatch: wrote ${at} of ${out.length} bytes`);
  return out;
}

/**
 * Issues a certificate for a verified request. Throws CsrSignerError (a request for a
 * key of the CA's bundle, a CA request the profile does not allow, usage, CA expiry, signing).
 */
export async function issueCertificate(input: IssueInput): Promise<IssuedCertificate> {
  inFlight++;
  try {
    return await issue(input.request, input.profile, input.ca, input.now, input.random, input.expirationSeconds, input.threadpool);
  } finally {
    inFlight--;
  }
}

/** IssueInput's fields as parameters: signRequest calls it for every certificate without building one. */
async function issue(
  request: CertificateRequest, profile: SigningProfile, ca: CertificateAuthority, now: Date, random: (size: number) => Uint8Array,
  expirationSeconds: number | undefined, threadpool: ThreadpoolMode | undefined,
): Promise<IssuedCertificate> {
  refuseCaKey(request.publicKey, ca);
  if (request.requestsCa && profile.isCa !== true) throw csrError('CertificateAuthorityRequested');
  const ttl = effectiveTtlMs(profile.maxDurationMs, expirationSeconds, profile.defaultDurationMs);
  // Loading refuses such a CA (CaNotYetValid); this holds whatever built `ca`, or if the clock stepped back since.
  if (now.getTime() < ca.certificate.notBefore.getTime()) throw csrError('SignerNotYetValid', formatGoTime(ca.certificate.notBefore));
  const validity = validityWindow(now, ttl, ca.certificate.notAfter);
  const serialInteger = encodeUnsignedInteger(randomSerial(random));
  const tbs = tbsCertificate(request.subjectDer, request.publicKey, request.subjectAltNames, profile, ca, serialInteger, validity);
  return signTbs(tbs, serialInteger, validity, profile, ca, threadpool);
}

/** Signs a TBSCertificate with the CA key and finishes the certificate: DER, announcement, PEM (with the chain if asked), serial. */
async function signTbs(
  tbs: Uint8Array, serialInteger: Uint8Array, validity: Validity, profile: SigningProfile, ca: CertificateAuthority, threadpool: ThreadpoolMode | undefined,
): Promise<IssuedCertificate> {
  let signature: Uint8Array;
  try {
    const provider = ca.keyProvider;
    signature = provider.signOffThread !== undefined && useThreadpool(threadpool)
      ? await provider.signOffThread(tbs, ca.signatureAlgorithm.hash)
      : await provider.sign(tbs, ca.signatureAlgorithm.hash);
  } catch (cause) {
    throw csrErrorWithCause(cause, 'SigningFailed', cause instanceof Error ? cause.message : String(cause));
  }
  const der = certificate(tbs, caParts(ca).algorithm, signature);
  announceIssued(der, ca.certificate.der);
  let pem = encodePem('CERTIFICATE', der);
  if (profile.includeChain) for (const d of ca.chain) pem += encodePem('CERTIFICATE', d);
  const serialHex = Buffer.from(serialInteger.buffer, serialInteger.byteOffset + 2, serialInteger.length - 2).toString('hex');
  return { der, pem, serialHex, validity };
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, BIT STRING signature }, in one buffer. */
function certificate(tbs: Uint8Array, algorithm: Uint8Array, signature: Uint8Array): Uint8Array {
  const bitStringSize = 1 + signature.length;
  const contentSize = tbs.length + algorithm.length + tlvSize(bitStringSize);
  const out = new Uint8Array(tlvSize(contentSize));
  let at = writeHeader(out, 0, Tag.sequence, contentSize);
  out.set(tbs, at);
  at += tbs.length;
  out.set(algorithm, at);
  at += algorithm.length;
  at = writeHeader(out, at, Tag.bitString, bitStringSize);
  out[at++] = 0; // no unused bits
  out.set(signature, at);
  return out;
}

export interface SignOptions {
  readonly now: Date;
  readonly random: (size: number) => Uint8Array;
  readonly expirationSeconds?: number;
  readonly limits?: RequestLimits;
  /** Where the request is verified and the CA key signs; see ThreadpoolMode. Default 'auto'. */
  readonly threadpool?: ThreadpoolMode;
}

/** Request bytes (PEM or DER) in, certificate out: parse, verify, issue. */
export async function signRequest(
  requestBytes: Uint8Array | string, profile: SigningProfile, ca: CertificateAuthority, options: SignOptions,
): Promise<IssuedCertificate> {
  inFlight++;
  try {
    const der = decodeRequestBytes(requestBytes, options.limits);
    const request = useThreadpool(options.threadpool) ? await parseRequestDerAsync(der, options.limits) : parseRequestDer(der, options.limits);
    return await issue(request, profile, ca, options.now, options.random, options.expirationSeconds, options.threadpool);
  } finally {
    inFlight--;
  }
}

export type { SubjectSpec } from './subject.js';

/**
 * Issue for a verified key with a subject, subjectAltNames and validity decided by the
 * caller (pod certificates: the identity comes from the PodCertificateRequest's spec,
 * the times are written to its status and must equal the leaf's). The profile's usages
 * and includeChain apply; its durations do not; a profile with isCa is a caller's bug.
 * Rejects with CsrSignerError: permanent for the CA's own key, a subject or
 * subjectAltName no certificate should hold (as the CSR path refuses them), an unknown
 * usage; transient (ValidityOutsideCa) for a validity the CA cannot give or not in whole
 * seconds, and for signing failures.
 */
export interface KeyIssueInput {
  readonly publicKey: PublicKey;
  readonly subject: SubjectSpec;
  readonly subjectAltNames: SubjectAltNames;
  readonly profile: SigningProfile;
  readonly ca: CertificateAuthority;
  /** Whole seconds; inside the CA's validity. */
  readonly validity: Validity;
  readonly random: (size: number) => Uint8Array;
  readonly threadpool?: ThreadpoolMode;
}

export async function issueForKey(input: KeyIssueInput): Promise<IssuedCertificate> {
  inFlight++;
  try {
    const { publicKey, profile, ca, validity } = input;
    if (profile.isCa === true) throw new Error('issueForKey issues leaf certificates only; the profile asks for a CA (isCa)');
    refuseCaKey(publicKey, ca);
    const subjectDer = encodeSubject(input.subject);
    const subjectAltNames = checkIssuedSubjectAltNames(input.subjectAltNames);
    if (subjectDer.length === 2 && countSubjectAltNames(subjectAltNames) === 0) {
      throw csrError('InvalidSubject', 'the subject is empty and there is no subjectAltName, so the certificate would name no one');
    }
    checkValidity(validity, ca);
    const serialInteger = encodeUnsignedInteger(randomSerial(input.random));
    const tbs = tbsCertificate(subjectDer, publicKey, subjectAltNames, profile, ca, serialInteger, validity);
    return await signTbs(tbs, serialInteger, validity, profile, ca, input.threadpool);
  } finally {
    inFlight--;
  }
}

/**
 * The validity of issueForKey is written as it is: the caller chose it and writes the same
 * times elsewhere (a PodCertificateRequest's status must equal the leaf's). So it is not
 * backdated or cut: one the CA cannot give is refused, transiently (a CA that expires too
 * soon, or not valid yet, is the problem, not the request), as is one not in whole seconds
 * (a certificate holds whole seconds only) or empty.
 */
function checkValidity(validity: Validity, ca: CertificateAuthority): void {
  const notBefore = validity.notBefore.getTime();
  const notAfter = validity.notAfter.getTime();
  if (!Number.isFinite(notBefore) || !Number.isFinite(notAfter)) throw csrError('ValidityOutsideCa', 'NotBefore or NotAfter is not a valid time');
  const window = `NotBefore=${formatGoTime(validity.notBefore)}, NotAfter=${formatGoTime(validity.notAfter)}`;
  const caWindow = `the CA's NotBefore=${formatGoTime(ca.certificate.notBefore)}, NotAfter=${formatGoTime(ca.certificate.notAfter)}`;
  if (notBefore % 1000 !== 0 || notAfter % 1000 !== 0) throw csrError('ValidityOutsideCa', `${window} is not in whole seconds`);
  if (notAfter <= notBefore) throw csrError('ValidityOutsideCa', `${window}: NotAfter is not after NotBefore`);
  if (notBefore < ca.certificate.notBefore.getTime() || notAfter > ca.certificate.notAfter.getTime()) {
    throw csrError('ValidityOutsideCa', `${window} is not inside ${caWindow}`);
  }
}
