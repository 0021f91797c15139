/**
 * PKCS#10 requests: decode (PEM or DER), check the proof of possession, and
 * keep offsets into the original bytes so the subject and public key can be
 * copied into the certificate byte for byte.
 */
import { CsrSignerError, csrError } from '../errors.js';
import {
  bitStringBytes, children, content, contextConstructed, DerError, readOid, readWhole, slice, Tag, type Tlv,
} from './der.js';
import { parseName, type DistinguishedName } from './name.js';
import { Oid, oidName } from './oids.js';
import { decodePem, describeBlocks, looksLikeDer, PemError } from './pem.js';
import { readPublicKey, type PublicKey } from './public-key.js';
import { countSubjectAltNames, decodeSubjectAltNames, MAX_DNS_NAME, noSubjectAltNames, type SubjectAltNames } from './san.js';
import {
  readRequestSignatureAlgorithm, verifyRequestSignature, verifyRequestSignatureOffThread, type RequestSignature,
} from './signature.js';

export interface RequestLimits {
  /** Largest accepted request, PEM or DER, in bytes. */
  readonly maxBytes: number;
  /** Most subjectAltNames of all kinds together. */
  readonly maxSubjectAltNames: number;
  /** Longest single name: a subject attribute value or a DNS, email or URI subjectAltName. Default 1024. */
  readonly maxNameLength?: number;
}

export const defaultRequestLimits: RequestLimits = { maxBytes: 64 * 1024, maxSubjectAltNames: 1000, maxNameLength: 1024 };

export interface CertificateRequest {
  /** The DER of the whole request. */
  readonly der: Uint8Array;
  /** The subject Name DER, exactly as requested. */
  readonly subjectDer: Uint8Array;
  readonly subject: DistinguishedName;
  readonly publicKey: PublicKey;
  readonly signatureAlgorithm: RequestSignature;
  readonly subjectAltNames: SubjectAltNames;
  /** OIDs of every extension the request asked for, in order (all but SAN are dropped at issue). */
  readonly requestedExtensions: readonly string[];
  /**
   * The request asks for basicConstraints CA:TRUE. Parsing records it; the
   * refusal (or a CA certificate, when a profile allows it) is decided later.
   */
  readonly requestsCa: boolean;
  /** The pathLenConstraint asked for with CA:TRUE, when there is one. Informative: a CA is issued with pathLen 0. */
  readonly requestedPathLen?: number;
}

/** What the request's basicConstraints extension asked for. */
interface RequestedConstraints {
  readonly ca: boolean;
  readonly pathLen: number | undefined;
}

const noConstraints: RequestedConstraints = { ca: false, pathLen: undefined };

/** Accepts PEM text (exactly one CERTIFICATE REQUEST block) or DER bytes. */
export function decodeRequestBytes(input: Uint8Array | string, limits: RequestLimits = defaultRequestLimits): Uint8Array {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > limits.maxBytes) throw csrError('RequestTooLarge', size, limits.maxBytes);
  if (typeof input !== 'string' && looksLikeDer(input)) return input;
  const text = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
  // Binary that starts like DER but is not exactly one element: let the DER reader say what is wrong.
  if (typeof input !== 'string' && input[0] === 0x30 && !text.includes('-----BEGIN')) return input;
  let blocks;
  try {
    blocks = decodePem(text);
  } catch (e) {
    if (e instanceof PemError) throw csrError('MalformedRequestPem', e.message);
    throw e;
  }
  const [block] = blocks;
  if (blocks.length !== 1 || block?.label !== 'CERTIFICATE REQUEST') throw csrError('MalformedRequestPem', describeBlocks(blocks));
  if (block.headers) throw csrError('MalformedRequestPem', 'a CERTIFICATE REQUEST block with PEM headers, which are not allowed');
  return block.der;
}

/** Reads the extensionRequest attribute; other attributes (challengePassword…) are ignored. */
function readAttributes(
  buf: Uint8Array, attributes: Tlv | undefined,
): { sans: SubjectAltNames; extensions: string[]; constraints: RequestedConstraints } {
  const extensions: string[] = [];
  let sans = noSubjectAltNames;
  let constraints = noConstraints;
  // Go reads the attributes as a field that is not OPTIONAL (an empty [0] when there are none), so it refuses a request without them.
  if (attributes === undefined) throw new DerError("the attributes field ([0], empty when there are none) is missing; Go's crypto/x509 requires it");
  if (attributes.tag !== contextConstructed(0)) throw new DerError('attributes are not [0] IMPLICIT SET');
  let seenExtensionRequest = false;
  for (const attribute of children(buf, attributes)) {
    const [typeTlv, values] = attribute.tag === Tag.sequence ? children(buf, attribute) : [];
    if (typeTlv === undefined || values?.tag !== Tag.set) throw new DerError('malformed attribute');
    if (readOid(buf, typeTlv, 'attribute type') !== Oid.extensionRequest) continue;
    if (seenExtensionRequest) throw new DerError('more than one extensionRequest attribute');
    seenExtensionRequest = true;
    const [extensionsTlv, extraValue] = children(buf, values);
    if (extensionsTlv?.tag !== Tag.sequence || extraValue !== undefined) throw new DerError('extensionRequest must hold one Extensions value');
    for (const extension of children(buf, extensionsTlv)) {
      const parts = extension.tag === Tag.sequence ? children(buf, extension) : [];
      const [oidTlv] = parts;
      const valueTlv = parts.at(-1);
      if (oidTlv === undefined || valueTlv?.tag !== Tag.octetString || parts.length > 3) throw new DerError('malformed extension');
      const oid = readOid(buf, oidTlv, 'extension');
      const critical = parts.length === 3 ? parts[1] as Tlv : undefined;
      // Go reads critical as a DER BOOLEAN (one byte, 0x00 or 0xff) and refuses anything else in its place.
      if (critical && (critical.tag !== Tag.boolean || critical.end - critical.contentStart !== 1
        || (buf[critical.contentStart] !== 0 && buf[critical.contentStart] !== 0xff))) {
        throw new DerError(`extension ${oidName(oid)}: the field between its OID and its value is not a DER BOOLEAN (critical)`);
      }
      if (extensions.includes(oid)) throw new DerError(`extension ${oidName(oid)} is requested twice`);
      extensions.push(oid);
      const value = content(buf, valueTlv);
      if (oid === Oid.subjectAltName) {
        try {
          sans = decodeSubjectAltNames(value);
        } catch (e) {
          if (e instanceof DerError) throw csrError('InvalidSubjectAltName', e.message);
          throw e;
        }
      } else if (oid === Oid.basicConstraints) {
        constraints = readBasicConstraints(value);
      }
    }
  }
  return { sans, extensions, constraints };
}

/**
 * basicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL }.
 * An unreadable one is a malformed request: guessing either way would be wrong.
 */
function readBasicConstraints(value: Uint8Array): RequestedConstraints {
  const seq = readWhole(value, Tag.sequence, 'basicConstraints');
  const fields = children(value, seq);
  let at = 0;
  let ca = false;
  const first = fields[0];
  if (first?.tag === Tag.boolean) {
    if (first.end - first.contentStart !== 1) throw new DerError('basicConstraints cA is not a one-byte BOOLEAN');
    ca = value[first.contentStart] !== 0;
    at = 1;
  }
  let pathLen: number | undefined;
  const second = fields[at];
  if (second !== undefined) {
    const bytes = content(value, second);
    if (second.tag !== Tag.integer || bytes.length === 0 || bytes.length > 4 || ((bytes[0] as number) & 0x80) !== 0) {
      throw new DerError('basicConstraints pathLenConstraint is not a small non-negative INTEGER');
    }
    pathLen = bytes.reduce((n, b) => n * 256 + b, 0);
    at++;
  }
  if (at !== fields.length) throw new DerError('basicConstraints has unexpected fields');
  return { ca, pathLen: ca ? pathLen : undefined };
}

/** A request read up to its proof of possession, which is still to be checked. */
interface UnverifiedRequest {
  readonly der: Uint8Array;
  readonly info: Tlv;
  readonly subjectTlv: Tlv;
  readonly attributes: Tlv | undefined;
  readonly subject: DistinguishedName;
  readonly publicKey: PublicKey;
  readonly signatureAlgorithm: RequestSignature;
  readonly signatureBytes: Uint8Array;
}

/** DER errors become MalformedRequest; CsrSignerErrors and anything else pass through. */
function requestError(e: unknown): unknown {
  if (e instanceof CsrSignerError) return e;
  if (e instanceof DerError) return csrError('MalformedRequest', e.message);
  return e;
}

/** Everything that comes before the signature check: structure, subject, key, algorithm. */
function readUnverified(der: Uint8Array, limits: RequestLimits): UnverifiedRequest {
  if (der.length > limits.maxBytes) throw csrError('RequestTooLarge', der.length, limits.maxBytes);
  try {
    const root = readWhole(der, Tag.sequence, 'CertificationRequest');
    const [info, algorithm, signature, extra] = children(der, root);
    if (info?.tag !== Tag.sequence || algorithm === undefined || signature === undefined || extra !== undefined) {
      throw new DerError('CertificationRequest is not a SEQUENCE of info, algorithm and signature');
    }
    const [version, subjectTlv, spkiTlv, attributes, more] = children(der, info);
    if (version?.tag !== Tag.integer || version.end - version.contentStart !== 1 || der[version.contentStart] !== 0) {
      throw new DerError('version must be 0 (v1)');
    }
    if (subjectTlv === undefined || spkiTlv === undefined || more !== undefined) {
      throw new DerError('CertificationRequestInfo is not version, subject, key and attributes');
    }
    let subject: DistinguishedName;
    try {
      subject = parseName(der, subjectTlv);
    } catch (e) {
      if (e instanceof DerError) throw csrError('InvalidSubject', e.message);
      throw e;
    }
    // The key first: for an unsupported key (Ed448, DSA) its type is the message worth giving.
    const publicKey = readPublicKey(der, spkiTlv);
    const signatureAlgorithm = readRequestSignatureAlgorithm(der, algorithm);
    const signatureBytes = bitStringBytes(der, signature, 'signature');
    return { der, info, subjectTlv, attributes, subject, publicKey, signatureAlgorithm, signatureBytes };
  } catch (e) {
    throw requestError(e);
  }
}

/** No single name longer than the limit; DNS names no longer than DNS allows. */
function checkNameLengths(subject: DistinguishedName, sans: SubjectAltNames, limit: number): void {
  for (const a of subject.attributes) {
    if (a.value.length > limit) throw csrError('InvalidSubject', `an attribute value of ${a.value.length} characters is longer than the limit of ${limit}`);
  }
  checkLengths(sans.dnsNames, 'DNS name', Math.min(limit, MAX_DNS_NAME));
  checkLengths(sans.emailAddresses, 'email address', limit);
  checkLengths(sans.uris, 'URI', limit);
}

function checkLengths(names: readonly string[], kind: string, max: number): void {
  for (const name of names) {
    if (name.length > max) throw csrError('InvalidSubjectAltName', `a ${kind} of ${name.length} characters is longer than the limit of ${max}`);
  }
}

/** Everything that comes after the signature check: attributes, SANs and their limit. */
function finishRequest(request: UnverifiedRequest, limits: RequestLimits): CertificateRequest {
  const { der, subjectTlv, subject, publicKey, signatureAlgorithm } = request;
  try {
    const { sans, extensions, constraints } = readAttributes(der, request.attributes);
    const count = countSubjectAltNames(sans);
    if (count > limits.maxSubjectAltNames) throw csrError('TooManySubjectAltNames', count, limits.maxSubjectAltNames);
    checkNameLengths(subject, sans, limits.maxNameLength ?? 1024);
    return {
      der,
      subjectDer: slice(der, subjectTlv),
      subject,
      publicKey,
      signatureAlgorithm,
      subjectAltNames: sans,
      requestedExtensions: extensions,
      requestsCa: constraints.ca,
      ...(constraints.pathLen === undefined ? {} : { requestedPathLen: constraints.pathLen }),
    };
  } catch (e) {
    throw requestError(e);
  }
}

/** Parses a DER request and verifies its signature; throws CsrSignerError. */
export function parseRequestDer(der: Uint8Array, limits: RequestLimits = defaultRequestLimits): CertificateRequest {
  const request = readUnverified(der, limits);
  verifyRequestSignature(slice(der, request.info), request.signatureBytes, request.signatureAlgorithm, request.publicKey);
  return finishRequest(request, limits);
}

/**
 * parseRequestDer, with the signature checked on libuv's threadpool: while it
 * runs, this thread reads the attributes (and serves other requests). The
 * outcome, errors and their precedence included, is parseRequestDer's: a bad
 * signature is reported before anything wrong in the attributes.
 */
export async function parseRequestDerAsync(der: Uint8Array, limits: RequestLimits = defaultRequestLimits): Promise<CertificateRequest> {
  const request = readUnverified(der, limits);
  const verified = verifyRequestSignatureOffThread(slice(der, request.info), request.signatureBytes, request.signatureAlgorithm, request.publicKey);
  let parsed: CertificateRequest | undefined;
  let failure: unknown;
  let failed = false;
  try {
    parsed = finishRequest(request, limits);
  } catch (e) {
    failure = e;
    failed = true;
  }
  await verified;
  if (failed) throw failure;
  return parsed as CertificateRequest;
}

/** PEM or DER in, a verified request out. */
export const parseRequest = (input: Uint8Array | string, limits: RequestLimits = defaultRequestLimits): CertificateRequest =>
  parseRequestDer(decodeRequestBytes(input, limits), limits);

/** parseRequest, with the signature checked on libuv's threadpool (see parseRequestDerAsync). */
export const parseRequestAsync = async (input: Uint8Array | string, limits: RequestLimits = defaultRequestLimits): Promise<CertificateRequest> =>
  parseRequestDerAsync(decodeRequestBytes(input, limits), limits);
