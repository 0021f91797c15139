/**
 * The authority: a verified request, a profile and a CA in; a certificate out.
 * No clock and no randomness of its own. The TBSCertificate is assembled from
 * pre-encoded pieces: the CA's parts are encoded once per CA, the request's
 * subject and public key are copied as they came.
 */
import { createHash } from 'node:crypto';
import { csrErrorWithCause } from '../errors.js';
import {
  contextConstructed, encode, encodeOid, encodeUnsignedInteger, octetString, sequence, Tag,
} from './der.js';
import type { CertificateAuthority } from './ca.js';
import { parseRequest, type CertificateRequest, type RequestLimits } from './csr.js';
import { Oid } from './oids.js';
import { encodePem } from './pem.js';
import { countSubjectAltNames, encodeSubjectAltNames } from './san.js';
import { mapUsages } from './usages.js';
import { effectiveTtlMs, encodeTime, validityWindow, type Validity } from './validity.js';

/** What to issue. Policy decided elsewhere arrives here as plain data. */
export interface SigningProfile {
  readonly usages: readonly string[];
  /** The longest lifetime to issue (`--cluster-signing-duration`). */
  readonly maxDurationMs: number;
  /** Append the CA's intermediates to the PEM (leaf first). */
  readonly includeChain?: boolean;
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
}

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
const ekuOids = new Map<string, Uint8Array>();

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? sequence(encodeOid(oid), trueBoolean, octetString(value)) : sequence(encodeOid(oid), octetString(value));
}

const cachedOid = (oid: string): Uint8Array => {
  let encoded = ekuOids.get(oid);
  if (!encoded) ekuOids.set(oid, (encoded = encodeOid(oid)));
  return encoded;
};

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
  readonly authorityKeyId: Uint8Array | undefined;
}
const caPartsCache = new WeakMap<CertificateAuthority, CaParts>();

function caParts(ca: CertificateAuthority): CaParts {
  let parts = caPartsCache.get(ca);
  if (!parts) {
    const ski = ca.certificate.subjectKeyId;
    parts = {
      issuer: ca.certificate.subjectDer,
      algorithm: ca.signatureAlgorithm.identifier,
      authorityKeyId: ski === undefined ? undefined : extension(Oid.authorityKeyIdentifier, false, sequence(encode(0x80, ski))),
    };
    caPartsCache.set(ca, parts);
  }
  return parts;
}

/** Builds the TBSCertificate and its extensions in Go's order: KU, EKU, BC, SKI, AKI, SAN. */
function tbsCertificate(input: IssueInput, serial: Uint8Array, validity: Validity): Uint8Array {
  const { request, profile, ca } = input;
  const parts = caParts(ca);
  const usages = mapUsages(profile.usages);
  const extensions: Uint8Array[] = [];
  if (usages.keyUsage) extensions.push(extension(Oid.keyUsage, true, encode(Tag.bitString, usages.keyUsage)));
  if (usages.extKeyUsages.length > 0) {
    extensions.push(extension(Oid.extKeyUsage, false, sequence(...usages.extKeyUsages.map(cachedOid))));
  }
  extensions.push(basicConstraintsLeaf);
  const ski = createHash('sha1').update(request.publicKey.keyBits).digest();
  extensions.push(extension(Oid.subjectKeyIdentifier, false, octetString(ski)));
  if (parts.authorityKeyId) extensions.push(parts.authorityKeyId);
  if (countSubjectAltNames(request.subjectAltNames) > 0) {
    const emptySubject = request.subjectDer.length === 2;
    extensions.push(extension(Oid.subjectAltName, emptySubject, encodeSubjectAltNames(request.subjectAltNames)));
  }
  return sequence(
    version3,
    encodeUnsignedInteger(serial),
    parts.algorithm,
    parts.issuer,
    sequence(encodeTime(validity.notBefore), encodeTime(validity.notAfter)),
    request.subjectDer,
    request.publicKey.spki,
    encode(contextConstructed(3), sequence(...extensions)),
  );
}

/** Issues a certificate for a verified request. Throws CsrSignerError (usage, CA expiry, signing). */
export async function issueCertificate(input: IssueInput): Promise<IssuedCertificate> {
  const { ca, profile } = input;
  const ttl = effectiveTtlMs(profile.maxDurationMs, input.expirationSeconds);
  const validity = validityWindow(input.now, ttl, ca.certificate.notAfter);
  const serial = randomSerial(input.random);
  const tbs = tbsCertificate(input, serial, validity);
  let signature: Uint8Array;
  try {
    signature = await ca.keyProvider.sign(tbs, ca.signatureAlgorithm.hash);
  } catch (cause) {
    throw csrErrorWithCause(cause, 'SigningFailed', cause instanceof Error ? cause.message : String(cause));
  }
  const der = sequence(tbs, caParts(ca).algorithm, encode(Tag.bitString, Uint8Array.of(0), signature));
  const pem = [der, ...(profile.includeChain ? ca.chain : [])].map((d) => encodePem('CERTIFICATE', d)).join('');
  return { der, pem, serialHex: Buffer.from(encodeUnsignedInteger(serial).subarray(2)).toString('hex'), validity };
}

export interface SignOptions {
  readonly now: Date;
  readonly random: (size: number) => Uint8Array;
  readonly expirationSeconds?: number;
  readonly limits?: RequestLimits;
}

/** Request bytes (PEM or DER) in, certificate out: parse, verify, issue. */
export async function signRequest(
  requestBytes: Uint8Array | string, profile: SigningProfile, ca: CertificateAuthority, options: SignOptions,
): Promise<IssuedCertificate> {
  const request = parseRequest(requestBytes, options.limits);
  return issueCertificate({ request, profile, ca, now: options.now, random: options.random,
    ...(options.expirationSeconds === undefined ? {} : { expirationSeconds: options.expirationSeconds }) });
}
