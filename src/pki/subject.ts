/**
 * The names of a certificate the signer decides itself (pod certificates: from the
 * PodCertificateRequest's spec and the signer's configuration), not copied from a
 * request: the subject Name encoded from a SubjectSpec, and subjectAltNames checked as
 * the CSR path checks a request's, so that Go's crypto/x509 reads every certificate.
 */
import { csrError } from '../errors.js';
import { cachedOid, concat, DerError, encode, sequence, Tag } from './der.js';
import { Oid } from './oids.js';
import { countSubjectAltNames, decodeSubjectAltNames, MAX_DNS_NAME, subjectAltNamesDer, type SubjectAltNames } from './san.js';

/** A subject built from configuration (pod certificates), not copied from a request. Empty: an empty Name. */
export interface SubjectSpec {
  readonly commonName?: string;
  readonly organizations?: readonly string[];
}

/** The most characters of one name (a subject value, a DNS name, an email address, a URI), as for requests. */
export const MAX_ISSUED_NAME_LENGTH = 1024;
/** The most subjectAltNames of one certificate, as for requests. */
export const MAX_ISSUED_SUBJECT_ALT_NAMES = 1000;

const utf8 = new TextEncoder();
/** Control characters have no place in a certificate name (the request reader refuses them too). */
// eslint-disable-next-line no-control-regex
const controlCharacter = /[\u0000-\u001f\u007f-\u009f]/;
/** A UTF-16 surrogate not part of a pair: no UTF-8 encoding exists for it. */
const loneSurrogate = /\p{Surrogate}/u;

/**
 * Why a subject value cannot be issued, as the end of a sentence ("contains a control
 * character"), or undefined: the checks encodeSubject applies, for callers that decide first.
 */
export function subjectValueProblem(value: string): string | undefined {
  if (value.length === 0) return 'is empty';
  if (value.length > MAX_ISSUED_NAME_LENGTH) return `has ${value.length} characters, more than the limit of ${MAX_ISSUED_NAME_LENGTH}`;
  if (controlCharacter.test(value)) return 'contains a control character';
  if (loneSurrogate.test(value)) return 'is not valid Unicode (a lone surrogate)';
  return undefined;
}

function checkValue(what: string, value: string): void {
  const problem = subjectValueProblem(value);
  if (problem === undefined) return;
  const shown = value.length === 0 || value.length > MAX_ISSUED_NAME_LENGTH ? '' : ` ${JSON.stringify(value)}`;
  throw csrError('InvalidSubject', `the ${what}${shown} ${problem}`);
}

/** One RDN holding one attribute: SET { SEQUENCE { type, UTF8String value } }. */
const rdn = (oid: string, value: string): Uint8Array => encode(Tag.set, sequence(cachedOid(oid), encode(Tag.utf8String, utf8.encode(value))));

/**
 * The subject Name of a SubjectSpec, DER. The attributes come in the order of Go's
 * pkix.Name.ToRDNSequence (crypto/x509/pkix/pkix.go: C, ST, L, street, postal code, O,
 * OU, CN, serialNumber), so O before CN; each value a UTF8String (RFC 5280 §4.1.2.4:
 * UTF8String for new certificates) in an RDN of its own. Go's appendRDNs puts all the
 * values of one type into one multi-valued RDN, which DER then sorts; one RDN each keeps
 * the configured order, as `openssl req -subj /O=a/O=b` writes it, and Go reads back the
 * same Organization list either way (pkix.Name.FillFromRDNSequence). No attribute: the
 * empty Name (SEQUENCE {}), and then the subjectAltName extension is critical.
 * Throws InvalidSubject (permanent) for an empty value, a control character, or text
 * UTF-8 cannot hold.
 */
export function encodeSubject(spec: SubjectSpec): Uint8Array {
  const rdns: Uint8Array[] = [];
  for (const o of spec.organizations ?? []) {
    checkValue('organization', o);
    rdns.push(rdn(Oid.organization, o));
  }
  if (spec.commonName !== undefined && spec.commonName !== '') {
    checkValue('common name', spec.commonName);
    rdns.push(rdn(Oid.commonName, spec.commonName));
  }
  return encode(Tag.sequence, concat(rdns));
}

/** Printable ASCII, '!'…'~': what the request reader accepts in a DNS name, email address or URI. */
const printableAscii = /^[\x21-\x7e]+$/;

/**
 * Checks the subjectAltNames of a certificate the signer decides, as the CSR path checks
 * a request's (san.ts decodeSubjectAltNames, csr.ts checkNameLengths): printable ASCII
 * names, DNS names of at most 253 characters with labels of at most 63, URIs Go's
 * url.Parse and host check accept (go/san.ts uriProblem), IP addresses in text form.
 * Returns the names in Go's order (DNS, email, IP, URI) with their encoding remembered.
 * Throws InvalidSubjectAltName, DnsLabelTooLong or TooManySubjectAltNames (permanent).
 */
export function checkIssuedSubjectAltNames(names: SubjectAltNames): SubjectAltNames {
  const count = countSubjectAltNames(names);
  if (count === 0) return names;
  if (count > MAX_ISSUED_SUBJECT_ALT_NAMES) throw csrError('TooManySubjectAltNames', count, MAX_ISSUED_SUBJECT_ALT_NAMES);
  for (const [kind, list] of [['DNS name', names.dnsNames], ['email address', names.emailAddresses], ['URI', names.uris]] as const) {
    const max = kind === 'DNS name' ? MAX_DNS_NAME : MAX_ISSUED_NAME_LENGTH;
    for (const name of list) {
      if (!printableAscii.test(name)) {
        throw csrError('InvalidSubjectAltName', `the ${kind} ${JSON.stringify(name)} is ${name === '' ? 'empty' : 'not printable ASCII'}`);
      }
      if (name.length > max) throw csrError('InvalidSubjectAltName', `a ${kind} of ${name.length} characters is longer than the limit of ${max}`);
    }
  }
  try {
    // The request reader's checks, on the bytes that will be issued.
    return decodeSubjectAltNames(subjectAltNamesDer(names));
  } catch (e) {
    if (e instanceof DerError) throw csrError('InvalidSubjectAltName', e.message);
    throw e;
  }
}
