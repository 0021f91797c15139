/** The PKI core's public surface. Pure: no files, no network, no process state. */
export { signRequest, issueCertificate, issueForKey, randomSerial } from './authority.js';
export { randomSource } from './random.js';
export type { IssuedCertificate, IssueInput, KeyIssueInput, SignOptions, SigningProfile, SubjectSpec, ThreadpoolMode } from './authority.js';
export { podCertificateKeyTypes, podCertificateKeyType, readPodCertificateKey } from './pod-certificate-key.js';
export type { PodCertificateKey, PodCertificateKeyFields, PodCertificateKeyType } from './pod-certificate-key.js';
export { MAX_POD_CERTIFICATE_KEY_FIELD_BYTES, MAX_STUB_PKCS10_REQUEST_BYTES } from './pod-certificate-key.js';
export { certificateIssuedChannelName } from './issued-channel.js';
export type { CertificateIssuedMessage } from './issued-channel.js';
export { loadCertificateAuthority, certificateAuthorityFrom, certificateAuthorityFromKey, keyChallengeBytes, readCertificateBundle, readPrivateKey } from './ca.js';
export type { CaCertificate, CaFiles, CertificateAuthority, ExternalKey, NamedBytes } from './ca.js';
export { parseRequest, parseRequestAsync, parseRequestDer, parseRequestDerAsync, decodeRequestBytes, defaultRequestLimits } from './csr.js';
export type { CertificateRequest, RequestLimits } from './csr.js';
export { InMemoryKeyProvider } from './key-provider.js';
export { keyProviderOperations } from './key-provider.js';
export type { KeyProvider, KeyProviderOperation } from './key-provider.js';
export { describeKey } from './public-key.js';
// Signature encodings for keys that sign on a device (src/hsm/).
export { ecdsaRawToDer, digestInfo } from './signature-encoding.js';
export type { Hash } from './signature.js';
export { certificateFingerprint } from './fingerprint.js';
export type { KeyKind, PublicKey } from './public-key.js';
export { knownUsages, mapUsages } from './usages.js';
export { effectiveTtlMs, validityWindow, formatGoTime } from './validity.js';
export type { Validity } from './validity.js';
export { encodePem, decodePem } from './pem.js';
export { countSubjectAltNames, parseIp, formatIp } from './san.js';
export type { SubjectAltNames } from './san.js';

// Go's readers, as the core applies them to what it issues so that every Go client reads it.
// devapi's Go-compatible request and certificate parser (devapi/go/) is built on these same
// functions, so the two cannot drift apart.
export { GoError, syntaxError, structuralError, base128, checkInteger, oid, bitStringBytes, printable } from './go/asn1.js';
export { cb } from './go/cryptobyte.js';
export { latin1, goQuote, goQuoteBytes } from './go/encoding.js';
export { asn1StringProblem } from './go/name.js';
export { uriProblem } from './go/san.js';
export { subjectValueProblem } from './subject.js';
// DER building blocks, for the keys devapi re-encodes to import them into node:crypto.
export { Tag, sequence, encodeOid, encodeUnsignedInteger, bitString } from './der.js';
export type { Tlv } from './der.js';
