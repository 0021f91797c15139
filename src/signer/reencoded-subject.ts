/**
 * What the in-tree signer cannot write. It does not copy the subject: Go parses the
 * request into a pkix.Name and x509.CreateCertificate encodes the nine attribute types
 * Go models again, each as a PrintableString or a UTF8String. A TeletexString is read as
 * its raw bytes, so one whose bytes are not UTF-8 cannot be written, CreateCertificate
 * fails, and the in-tree signer retries the CSR forever without issuing it.
 * csr-signer copies the subject as it came (Go reads TeletexString), so for the
 * kubernetes.io signers it refuses such a subject instead, permanently.
 */
import { csrError, type CsrSignerError } from '../errors.js';
import type { CertificateRequest } from '../pki/index.js';

/** pkix.Name's fields (FillFromRDNSequence, ToRDNSequence). */
const goModelled: Readonly<Record<string, string>> = {
  '2.5.4.6': 'C', '2.5.4.8': 'ST', '2.5.4.7': 'L', '2.5.4.9': 'STREET', '2.5.4.17': 'POSTALCODE',
  '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.3': 'CN', '2.5.4.5': 'SERIALNUMBER',
};
const teletexString = 0x14;
/** pkix.Name holds one CN and one serialNumber: FillFromRDNSequence keeps the last of each. */
const singleValued = new Set(['2.5.4.3', '2.5.4.5']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

const isUtf8 = (latin1Text: string): boolean => {
  try {
    utf8.decode(Buffer.from(latin1Text, 'latin1'));
    return true;
  } catch {
    return false;
  }
};

/** The refusal for a subject the in-tree signer could not re-encode; undefined when it could. */
export function unreencodableSubject(request: CertificateRequest): CsrSignerError | undefined {
  const attributes = request.subject.attributes;
  // An earlier CN or serialNumber is overwritten by a later one, never encoded.
  const encoded = (oid: string, i: number): boolean => !singleValued.has(oid) || attributes.findLastIndex((a) => a.oid === oid) === i;
  const bad = attributes.find((a, i) => goModelled[a.oid] !== undefined && encoded(a.oid, i) && a.tag === teletexString && !isUtf8(a.value));
  if (bad === undefined) return undefined;
  const bytes = [...Buffer.from(bad.value, 'latin1')].map((b) => (b < 0x20 || b > 0x7e ? `\\x${b.toString(16).padStart(2, '0')}` : String.fromCharCode(b))).join('');
  return csrError('InvalidSubject', `attribute ${goModelled[bad.oid] as string} (${bad.oid}) is a TeletexString whose bytes "${bytes}" are not UTF-8; `
    + 'the in-tree signer re-encodes the subject as UTF8String and cannot write them (it retries such a request forever), so a kubernetes.io signer refuses it');
}
