/** The PKI core's public surface. Pure: no files, no network, no process state. */
export { signRequest, issueCertificate, randomSerial } from './authority.js';
export type { IssuedCertificate, IssueInput, SignOptions, SigningProfile, ThreadpoolMode } from './authority.js';
export { certificateIssuedChannelName } from './issued-channel.js';
export type { CertificateIssuedMessage } from './issued-channel.js';
export { loadCertificateAuthority, certificateAuthorityFrom, readCertificateBundle, readPrivateKey } from './ca.js';
export type { CaCertificate, CaFiles, CertificateAuthority, NamedBytes } from './ca.js';
export { parseRequest, parseRequestAsync, parseRequestDer, parseRequestDerAsync, decodeRequestBytes, defaultRequestLimits } from './csr.js';
export type { CertificateRequest, RequestLimits } from './csr.js';
export { InMemoryKeyProvider } from './key-provider.js';
export type { KeyProvider } from './key-provider.js';
export { describeKey } from './public-key.js';
export { certificateFingerprint } from './fingerprint.js';
export type { KeyKind } from './public-key.js';
export { knownUsages, mapUsages } from './usages.js';
export { effectiveTtlMs, validityWindow, formatGoTime } from './validity.js';
export { encodePem, decodePem } from './pem.js';
export { countSubjectAltNames, parseIp, formatIp } from './san.js';
export type { SubjectAltNames } from './san.js';
