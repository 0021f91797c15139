/**
 * The error catalogue: every error csr-signer reports is defined here once, with
 * a stable code, the condition reason, whether it is permanent, and its message.
 *
 * Permanent errors are caused by the request itself: retrying cannot help, so
 * the signer marks the CSR Failed with `reason` and the message. Every other
 * error is transient for a CSR (a CA that is missing or expired, an API error):
 * the CSR is retried with backoff until an operator fixes the cause.
 *
 * docs/errors.md documents each entry; test/meta.test.ts keeps the two in step.
 */

interface Definition<A extends readonly unknown[]> {
  readonly code: `CSR_SIGNER_ERR_${string}`;
  readonly reason: string;
  readonly permanent: boolean;
  readonly message: (...args: A) => string;
}

const define = <A extends readonly unknown[]>(
  code: `CSR_SIGNER_ERR_${string}`,
  reason: string,
  permanent: boolean,
  message: (...args: A) => string,
): Definition<A> => ({ code, reason, permanent, message });

/** A byte count as the limits are documented: 1 MiB (1048576 bytes). */
const formatLimit = (bytes: number): string => {
  const unit = bytes % 1_048_576 === 0 ? `${bytes / 1_048_576} MiB` : bytes % 1024 === 0 ? `${bytes / 1024} KiB` : undefined;
  return unit === undefined ? `${bytes} bytes` : `${unit} (${bytes} bytes)`;
};

/** Go's %q rendering of a string list, as Kubernetes prints it: ["a" "b"]. */
const goQuotedList = (values: readonly string[]): string => `[${values.map((v) => JSON.stringify(v)).join(' ')}]`;

export const catalogue = {
  // ---- the request: permanent
  RequestTooLarge: define('CSR_SIGNER_ERR_REQUEST_TOO_LARGE', 'RequestTooLarge', true,
    (size: number, limit: number) => `the request is ${size} bytes, more than the limit of ${limit} bytes`),
  MalformedRequestPem: define('CSR_SIGNER_ERR_REQUEST_PEM', 'MalformedRequest', true,
    (found: string) => `the request must be exactly one CERTIFICATE REQUEST PEM block, found ${found}`),
  MalformedRequest: define('CSR_SIGNER_ERR_REQUEST_DER', 'MalformedRequest', true,
    (detail: string) => `the request is not a valid PKCS#10 structure: ${detail}`),
  UnsupportedKeyType: define('CSR_SIGNER_ERR_UNSUPPORTED_KEY_TYPE', 'UnsupportedKeyType', true,
    (key: string) => `${key} keys are not supported; use RSA 2048–8192 bits, ECDSA P-256, P-384 or P-521, or Ed25519`),
  InvalidPublicKey: define('CSR_SIGNER_ERR_INVALID_PUBLIC_KEY', 'InvalidPublicKey', true,
    (detail: string) => `the request's public key is invalid: ${detail}`),
  UnsupportedSignatureAlgorithm: define('CSR_SIGNER_ERR_UNSUPPORTED_SIGNATURE_ALGORITHM', 'UnsupportedSignatureAlgorithm', true,
    (detail: string) => `the request is signed with ${detail}, which is not accepted`),
  InvalidSignature: define('CSR_SIGNER_ERR_INVALID_SIGNATURE', 'InvalidSignature', true,
    (detail: string) => `the request's signature does not verify with its own public key (${detail}), so it does not prove possession of the private key`),
  InvalidSubject: define('CSR_SIGNER_ERR_INVALID_SUBJECT', 'InvalidSubject', true,
    (detail: string) => `the request's subject is invalid: ${detail}`),
  InvalidSubjectAltName: define('CSR_SIGNER_ERR_INVALID_SUBJECT_ALT_NAME', 'InvalidSubjectAltName', true,
    (detail: string) => `the request's subjectAltName is invalid: ${detail}`),
  DnsLabelTooLong: define('CSR_SIGNER_ERR_DNS_LABEL_TOO_LONG', 'InvalidSubjectAltName', true,
    (name: string, label: string) =>
      `the request's DNS name ${JSON.stringify(name)} has a label of ${label.length} characters, more than the 63 a DNS label may have: ${JSON.stringify(label)}`),
  TooManySubjectAltNames: define('CSR_SIGNER_ERR_TOO_MANY_SUBJECT_ALT_NAMES', 'TooManySubjectAltNames', true,
    (count: number, limit: number) => `the request has ${count} subjectAltNames, more than the limit of ${limit}`),
  RequestKeyIsCaKey: define('CSR_SIGNER_ERR_REQUEST_KEY_IS_CA_KEY', 'RequestKeyIsCaKey', true,
    (ca: string) => `the request's public key is the CA's own key (${ca}); a leaf must have a key of its own`),
  CertificateAuthorityRequested: define('CSR_SIGNER_ERR_CA_REQUESTED', 'CertificateAuthorityRequested', true,
    () => 'the request asks for a CA certificate (basicConstraints CA:TRUE), which this signer does not issue'),
  UnrecognizedUsage: define('CSR_SIGNER_ERR_UNRECOGNIZED_USAGE', 'UnrecognizedUsage', true,
    (usages: readonly string[]) => `unrecognized usage values: ${goQuotedList(usages)}`),

  // ---- pod certificates: the request's key (permanent)
  PodCertificateKeyForm: define('CSR_SIGNER_ERR_POD_CERTIFICATE_KEY_FORM', 'MalformedRequest', true,
    (found: string) => `exactly one of stubPKCS10Request or pkixPublicKey with proofOfPossession must be set; found ${found}`),
  PodCertificateFieldTooLarge: define('CSR_SIGNER_ERR_POD_CERTIFICATE_FIELD_TOO_LARGE', 'RequestTooLarge', true,
    (field: string, size: number, limit: number) => `spec.${field} is ${size} bytes, more than the limit of ${limit} bytes`),
  PodCertificateFieldNotBase64: define('CSR_SIGNER_ERR_POD_CERTIFICATE_FIELD_BASE64', 'MalformedRequest', true,
    (field: string) => `spec.${field} is not valid base64 (padded standard base64, as the API server writes byte fields)`),
  PodCertificateStubNotDer: define('CSR_SIGNER_ERR_POD_CERTIFICATE_STUB_NOT_DER', 'MalformedRequest', true,
    () => 'spec.stubPKCS10Request holds PEM text; it must be the DER bytes of a PKCS#10 request (base64 of the DER in JSON)'),
  PodCertificateKeyUnsupported: define('CSR_SIGNER_ERR_POD_CERTIFICATE_KEY_UNSUPPORTED', 'UnsupportedKeyType', true,
    (key: string) => `${key} keys cannot have pod certificates; use a keyType of RSA3072, RSA4096, ECDSAP256, ECDSAP384, ECDSAP521 or ED25519`),
  ProofOfPossessionInvalid: define('CSR_SIGNER_ERR_POD_CERTIFICATE_PROOF_OF_POSSESSION', 'InvalidProofOfPossession', true,
    (key: string) => `spec.proofOfPossession does not verify with the ${key} key of spec.pkixPublicKey: it must sign the ASCII bytes of spec.podUID `
      + '(Ed25519 over the bytes themselves, ECDSA over their SHA-256 as an ASN.1 DER signature, RSA over their SHA-256 with RSASSA-PSS)'),

  // ---- the signer's rules and policy: permanent
  SignerValidationFailure: define('CSR_SIGNER_ERR_SIGNER_VALIDATION', 'SignerValidationFailure', true,
    (message: string) => message),
  UsageNotAllowed: define('CSR_SIGNER_ERR_USAGE_NOT_ALLOWED', 'UsageNotAllowed', true,
    (signer: string, usage: string, allowed: string) =>
      `spec.usages contains ${JSON.stringify(usage)}, which signer ${signer} does not allow (allowed: ${allowed})`),
  UsageMissing: define('CSR_SIGNER_ERR_USAGE_MISSING', 'UsageMissing', true,
    (signer: string, usage: string) => `spec.usages must contain ${JSON.stringify(usage)} for signer ${signer}`),
  KeyTypeNotAllowed: define('CSR_SIGNER_ERR_KEY_TYPE_NOT_ALLOWED', 'KeyTypeNotAllowed', true,
    (signer: string, key: string, allowed: string) =>
      `the request's public key is ${key}, which signer ${signer} does not accept (allowed: ${allowed})`),
  DurationTooShort: define('CSR_SIGNER_ERR_DURATION_TOO_SHORT', 'DurationTooShort', true,
    (seconds: number, signer: string, minimum: string) =>
      `spec.expirationSeconds is ${seconds}, shorter than the minimum of ${minimum} for signer ${signer}`),
  PolicyViolation: define('CSR_SIGNER_ERR_POLICY_VIOLATION', 'PolicyViolation', true,
    (message: string) => message),

  // ---- issuing: transient (the in-tree signer's exact messages)
  SignerExpired: define('CSR_SIGNER_ERR_SIGNER_EXPIRED', 'SignerExpired', false,
    (notAfter: string) => `the signer has expired: NotAfter=${notAfter}`),
  CertificateExpiredInPast: define('CSR_SIGNER_ERR_CERTIFICATE_EXPIRED_IN_PAST', 'SignerExpired', false,
    (notAfter: string) => `refusing to sign a certificate that expired in the past: NotAfter=${notAfter}`),
  SignerNotYetValid: define('CSR_SIGNER_ERR_SIGNER_NOT_YET_VALID', 'SignerNotYetValid', false,
    (notBefore: string) => `the signer is not yet valid: NotBefore=${notBefore}`),
  SigningFailed: define('CSR_SIGNER_ERR_SIGNING_FAILED', 'SigningFailed', false,
    (detail: string) => `the CA key could not sign the certificate: ${detail}`),
  ValidityOutsideCa: define('CSR_SIGNER_ERR_VALIDITY_OUTSIDE_CA', 'ValidityOutsideCA', false,
    (detail: string) => `refusing to sign a certificate with the validity asked for: ${detail}`),

  // ---- pod certificates: what the controller meets (a PodCertificateRequest's Failed condition, or fatal at start)
  PodCertificateChainTooLong: define('CSR_SIGNER_ERR_POD_CERTIFICATE_CHAIN_TOO_LONG', 'CertificateChainTooLong', false,
    (size: number, limit: number) =>
      `the certificate chain is ${size} bytes of PEM, more than the ${limit} bytes a PodCertificateRequest may carry; give the signer fewer or smaller intermediates`),
  PodCertificateLegacyKeyUnreadable: define('CSR_SIGNER_ERR_POD_CERTIFICATE_LEGACY_KEY', 'LegacyKeyUnreadable', false,
    () => 'the request has no spec.stubPKCS10Request, and its pkixPublicKey and proofOfPossession are visible only through certificates.k8s.io/v1beta1, which this cluster does not serve; '
      + 'the kubelet that made it is older than 1.36: upgrade it, or serve v1beta1 (--runtime-config=certificates.k8s.io/v1beta1=true); the request waits, and discovery is read again at most once a minute'),
  PodCertificatesNotServed: define('CSR_SIGNER_ERR_POD_CERTIFICATES_NOT_SERVED', 'InvalidConfiguration', false,
    (signer: string, detail: string) =>
      `signer ${signer} has podCertificates, but ${detail}; `
      + 'pod certificates need Kubernetes 1.37 (certificates.k8s.io/v1), or 1.35 or 1.36 with the PodCertificateRequest feature gate and --runtime-config=certificates.k8s.io/v1beta1=true'),

  // ---- leader election: the replica runs, is not ready, and retries until the cause is fixed
  LeaseForbidden: define('CSR_SIGNER_ERR_LEASE_FORBIDDEN', 'LeaseForbidden', false,
    (who: string, verb: string, namespace: string, name: string) =>
      `cannot acquire lease: forbidden: ${who} may not ${verb} leases (API group coordination.k8s.io) in namespace ${JSON.stringify(namespace)}; `
      + `grant get, update on Lease ${name} and create on leases there, or name the Lease's namespace with --leader-elect-resource-namespace`),
  LeaseNamespaceNotFound: define('CSR_SIGNER_ERR_LEASE_NOT_FOUND', 'LeaseNotFound', false,
    (namespace: string, name: string, detail: string) =>
      `cannot acquire lease: not found: Lease ${name} cannot be created in namespace ${JSON.stringify(namespace)} (${detail}); `
      + 'create the namespace, or name another with --leader-elect-resource-namespace'),

  // ---- the CA files: transient for every CSR, fatal at start-up
  CaCertificateInvalid: define('CSR_SIGNER_ERR_CA_CERTIFICATE', 'InvalidCACertificate', false,
    (file: string, detail: string) => `${file}: ${detail}`),
  CaKeyInvalid: define('CSR_SIGNER_ERR_CA_KEY', 'InvalidCAKey', false,
    (file: string, detail: string) => `${file}: ${detail}`),
  CaKeyAmbiguous: define('CSR_SIGNER_ERR_CA_KEY_AMBIGUOUS', 'InvalidCAKey', false,
    (file: string, count: number, labels: string) => `${file}: the key file holds ${count} private keys (${labels}); it must hold exactly one`),
  CaKeyPassphrase: define('CSR_SIGNER_ERR_CA_KEY_PASSPHRASE', 'InvalidCAKey', false,
    (file: string, detail: string) => `${file}: ${detail}`),
  CaUnsupportedKey: define('CSR_SIGNER_ERR_CA_UNSUPPORTED_KEY', 'InvalidCAKey', false,
    (file: string, key: string) => `${file}: ${key} CA keys are not supported; use RSA 2048–8192 bits, ECDSA P-256, P-384 or P-521, or Ed25519`),
  CaKeyMismatch: define('CSR_SIGNER_ERR_CA_KEY_MISMATCH', 'CAKeyMismatch', false,
    (keyFile: string, certFile: string, count: number) =>
      `${keyFile}: the private key matches none of the ${count} certificate${count === 1 ? '' : 's'} in ${certFile}`),
  CaNotCa: define('CSR_SIGNER_ERR_CA_NOT_CA', 'NotACertificateAuthority', false,
    (file: string, subject: string) => `${file}: the certificate "${subject}" is not a CA (basicConstraints CA:TRUE is missing)`),
  CaNoCertSign: define('CSR_SIGNER_ERR_CA_NO_CERT_SIGN', 'NotACertificateAuthority', false,
    (file: string, subject: string) => `${file}: the certificate "${subject}" has a keyUsage without keyCertSign, so it may not sign certificates`),
  CaExpired: define('CSR_SIGNER_ERR_CA_EXPIRED', 'CAExpired', false,
    (file: string, subject: string, notAfter: string) => `${file}: the CA certificate "${subject}" expired at ${notAfter}`),
  CaNotYetValid: define('CSR_SIGNER_ERR_CA_NOT_YET_VALID', 'CANotYetValid', false,
    (file: string, subject: string, notBefore: string) => `${file}: the CA certificate "${subject}" is not valid before ${notBefore}`),

  // ---- a CA key on a PKCS#11 token: fatal at start-up; while running, transient for every request (the old CA stays on reload)
  Pkcs11BindingMissing: define('CSR_SIGNER_ERR_PKCS11_BINDING', 'InvalidCAKey', false,
    (detail: string) => `the CA key is on a PKCS#11 token, but the PKCS#11 binding (the npm package pkcs11js) cannot be loaded: ${detail}; `
      + 'the csr-signer image includes it; from a clone, "npm ci" builds it when a C++ compiler, make and python3 are installed'),
  Pkcs11ModuleInvalid: define('CSR_SIGNER_ERR_PKCS11_MODULE', 'InvalidCAKey', false,
    (module: string, detail: string) => `the PKCS#11 module ${module} cannot be loaded: ${detail}`),
  Pkcs11TokenNotFound: define('CSR_SIGNER_ERR_PKCS11_TOKEN_NOT_FOUND', 'InvalidCAKey', false,
    (uri: string, detail: string) => `${uri}: no token matches: ${detail}`),
  Pkcs11LoginFailed: define('CSR_SIGNER_ERR_PKCS11_LOGIN', 'InvalidCAKey', false,
    (uri: string, detail: string) => `${uri}: cannot log in to the token: ${detail}`),
  Pkcs11KeyNotFound: define('CSR_SIGNER_ERR_PKCS11_KEY_NOT_FOUND', 'InvalidCAKey', false,
    (uri: string, detail: string) => `${uri}: ${detail}`),
  Pkcs11CertificateNotFound: define('CSR_SIGNER_ERR_PKCS11_CERTIFICATE_NOT_FOUND', 'InvalidCACertificate', false,
    (uri: string, detail: string) => `${uri}: ${detail}`),
  Pkcs11KeyMismatch: define('CSR_SIGNER_ERR_PKCS11_KEY_MISMATCH', 'CAKeyMismatch', false,
    (uri: string, certificates: string, count: number) =>
      `${uri}: a test signature made with the token key verifies with none of the ${count} certificate${count === 1 ? '' : 's'} in ${certificates}, so none of them is this key's certificate`),
  Pkcs11Unreachable: define('CSR_SIGNER_ERR_PKCS11_UNREACHABLE', 'KeyProviderUnavailable', false,
    (uri: string, detail: string) => `${uri}: the token does not answer (${detail}); signing waits, requests are retried, and the token is reconnected with backoff`),

  // ---- configuration and command line: fatal at start-up
  InvalidDuration: define('CSR_SIGNER_ERR_INVALID_DURATION', 'InvalidConfiguration', false,
    (text: string, detail: string) => `invalid duration ${JSON.stringify(text)}: ${detail}`),
  InvalidArgument: define('CSR_SIGNER_ERR_INVALID_ARGUMENT', 'InvalidConfiguration', false,
    (detail: string) => detail),
  InvalidConfig: define('CSR_SIGNER_ERR_INVALID_CONFIG', 'InvalidConfiguration', false,
    (where: string, field: string, detail: string) => `${where}: ${field}: ${detail}`),
  FileTooLarge: define('CSR_SIGNER_ERR_FILE_TOO_LARGE', 'InvalidConfiguration', false,
    (file: string, what: string, limit: number) =>
      `${file}: the ${what} is larger than ${formatLimit(limit)}, the most csr-signer reads of it; nothing past that was read`),
  DevelopmentCommandMissing: define('CSR_SIGNER_ERR_DEVELOPMENT_COMMAND_MISSING', 'InvalidConfiguration', false,
    (command: string) =>
      `"csr-signer ${command}" is a development command and is not installed here (the image ships the signer only); run it from a clone of the csr-signer repository: "npm ci", then "./csr-signer ${command}"`),
  FileReadTimeout: define('CSR_SIGNER_ERR_FILE_READ_TIMEOUT', 'InvalidConfiguration', false,
    (file: string, what: string, timeoutMs: number) =>
      `${file}: the ${what} did not reach its end within ${timeoutMs / 1000} s (a pipe or FIFO whose writer stalled or is too slow, or a FIFO nobody writes to); csr-signer waits no longer`),
} as const;

export type ErrorName = keyof typeof catalogue;
type ArgsOf<K extends ErrorName> = Parameters<(typeof catalogue)[K]['message']>;

/** Every error csr-signer reports on purpose. Anything else is a bug. */
export class CsrSignerError extends Error {
  override readonly name = 'CsrSignerError';
  readonly code: string;
  readonly reason: string;
  readonly permanent: boolean;

  constructor(readonly kind: ErrorName, message: string, options?: { cause?: unknown }) {
    super(message, options);
    const entry = catalogue[kind];
    this.code = entry.code;
    this.reason = entry.reason;
    this.permanent = entry.permanent;
  }
}

/** Builds the catalogue's error `kind` with its message. */
export function csrError<K extends ErrorName>(kind: K, ...args: ArgsOf<K>): CsrSignerError {
  const message = (catalogue[kind].message as (...a: ArgsOf<K>) => string)(...args);
  return new CsrSignerError(kind, message);
}

/** The same, keeping what caused it. */
export function csrErrorWithCause<K extends ErrorName>(cause: unknown, kind: K, ...args: ArgsOf<K>): CsrSignerError {
  const message = (catalogue[kind].message as (...a: ArgsOf<K>) => string)(...args);
  return new CsrSignerError(kind, message, { cause });
}

export const isCsrSignerError = (e: unknown): e is CsrSignerError => e instanceof CsrSignerError;
