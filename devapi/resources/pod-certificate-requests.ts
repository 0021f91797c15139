/**
 * certificates.k8s.io PodCertificateRequests, as kube-apiserver's registry and validation treat them.
 *
 * Strategy (kubernetes pkg/registry/certificates/podcertificaterequest/strategy.go): `PrepareForCreate`
 * wipes the status; `PrepareForUpdate` keeps the stored status (a PUT of the main resource cannot change
 * it); the status strategy's `PrepareForUpdate` keeps the stored spec and `metav1.ResetObjectMetaForStatus`
 * restores labels, annotations, finalizers, ownerReferences, deletionTimestamp and generation. Defaulting
 * (the generated `+default=86400`) sets a missing `spec.maxExpirationSeconds`.
 *
 * Validation (pkg/apis/certificates/validation/validation.go): `ValidatePodCertificateRequestCreate` in
 * its 1.35 form (pkixPublicKey and proofOfPossession only) or its 1.36 form (exactly one of
 * stubPKCS10Request or pkixPublicKey + proofOfPossession), `ValidatePodCertificateRequestUpdate` (the
 * spec is immutable) and `ValidatePodCertificateRequestStatusUpdate`, with their exact texts, including
 * upstream's "CERTFICATE" in the message for a later PEM block of another type.
 *
 * The `sign` check of the status strategy's `ValidateUpdate` needs the authorizer: server/rest.ts makes it
 * after this validation, with `pcrStatusChanged`.
 */
import { createPublicKey, constants, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { quote, type FieldError } from '../api/errors.js';
import { goBase64Json, goBytes, pemDecode } from '../go/encoding.js';
import { parseCertificateDer } from '../go/x509-certificate.js';
import { parsePkixPublicKey } from '../go/x509-pkix.js';
import type { GoPublicKey } from '../go/x509-public-key.js';
import { checkSignature, parseCsrDer } from '../go/x509-request.js';
import { canonicalJson } from '../storage/object-equality.js';
import type { KubeObject } from '../storage/kube-object.js';
import { signerNameErrors, subdomainErrors } from './csr-validation.js';

type Obj = Record<string, unknown>;

/** Which form of the API a request came through. */
export interface PcrForm {
  /** The 1.36+ rules (stubPKCS10Request exists): false for a 1.35 cluster. */
  readonly stub: boolean;
  /** The request came through v1, which has no pkixPublicKey or proofOfPossession. */
  readonly v1: boolean;
}

// pkg/apis/certificates/types.go
const MIN_MAX_EXPIRATION = 3600;
const MAX_MAX_EXPIRATION = 7862400;
const KUBERNETES_MAX_MAX_EXPIRATION = 86400;
const MAX_PKIX_PUBLIC_KEY_SIZE = 10240;
const MAX_PROOF_OF_POSSESSION_SIZE = 10240;
/** MaxStubPKCS10RequestSize: its upstream value could not be read; 10240 as the other key fields. */
const MAX_STUB_SIZE = 10240;
const MAX_CERTIFICATE_CHAIN_SIZE = 102400;
const MAX_UID_LENGTH = 128;
const TERMINAL = ['Issued', 'Denied', 'Failed'];

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const objectAt = (o: Obj, key: string): Obj => (isObj(o[key]) ? o[key] : {});
const stringAt = (o: Obj, key: string): string => (typeof o[key] === 'string' ? o[key] : '');
const invalid = (field: string, value: string | undefined, detail: string): FieldError => ({ type: 'FieldValueInvalid', field, ...(value === undefined ? {} : { value }), detail });
const required = (field: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field, detail });
const tooLong = (field: string, max: number): FieldError => ({ type: 'FieldValueTooLong', field, detail: `may not be more than ${max} bytes` });
/** A []byte field's bytes (JSON base64); an undecodable value never gets here (the decoder refuses it). */
const bytesOf = (v: unknown): Uint8Array => {
  if (typeof v !== 'string') return new Uint8Array(0);
  const r = goBase64Json(v);
  return 'bytes' in r ? r.bytes : new Uint8Array(0);
};
/** A []byte value as field.Error prints it: JSON, a quoted base64 string. */
const bytesValue = (b: Uint8Array): string => JSON.stringify(Buffer.from(b).toString('base64'));

/** PrepareForCreate and defaulting: no status, maxExpirationSeconds 86400 when not given. */
export function preparePcrCreate(body: Obj): Obj {
  const object: Obj = { ...body };
  delete object.status;
  const spec = objectAt(object, 'spec');
  object.spec = { ...spec, ...(typeof spec.maxExpirationSeconds === 'number' ? {} : { maxExpirationSeconds: KUBERNETES_MAX_MAX_EXPIRATION }) };
  return object;
}

const isKubernetesSignerName = (name: string): boolean => {
  const domain = name.split('/')[0] ?? '';
  return domain === 'kubernetes.io' || domain.endsWith('.kubernetes.io');
};

function subdomainField(field: string, value: string): FieldError[] {
  return subdomainErrors(value).map((detail) => invalid(field, quote(value), detail));
}

function uidErrors(field: string, value: string): FieldError[] {
  if (value === '') return [invalid(field, quote(''), 'must not be empty')];
  if (Buffer.byteLength(value, 'utf8') > MAX_UID_LENGTH) return [tooLong(field, MAX_UID_LENGTH)];
  return [];
}

const qualifiedNamePart = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const qualifiedNameMessage = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

/**
 * apivalidation.ValidateUserAnnotations: annotation keys are qualified names (as metadata.annotations),
 * and must carry a domain prefix. The upstream texts of this check could not be read; the qualified-name
 * texts are ValidateAnnotations', the prefix rule is worded here.
 */
function userAnnotationErrors(annotations: Obj): FieldError[] {
  const field = 'spec.unverifiedUserAnnotations';
  const errors: FieldError[] = [];
  let total = 0;
  for (const [key, value] of Object.entries(annotations)) {
    total += key.length + (typeof value === 'string' ? value.length : 0);
    const slash = key.lastIndexOf('/');
    const name = slash < 0 ? key : key.slice(slash + 1);
    const prefix = slash < 0 ? '' : key.slice(0, slash);
    if (name === '') errors.push(invalid(field, quote(key), 'name part must be non-empty'));
    else if (name.length > 63) errors.push(invalid(field, quote(key), 'name part must be no more than 63 characters'));
    else if (!qualifiedNamePart.test(name)) errors.push(invalid(field, quote(key), qualifiedNameMessage));
    if (slash >= 0) {
      for (const e of subdomainErrors(prefix.toLowerCase())) errors.push(invalid(field, quote(key), `prefix part ${e}`));
    } else {
      errors.push(invalid(field, quote(key), 'must have a domain prefix (e.g. \'example.com/key\')'));
    }
  }
  if (total > 256 * 1024) errors.push(tooLong(field, 256 * 1024));
  return errors;
}

/** The key checks shared by the PKIX and stub paths (rows 12–14 / 18): undefined when the key is allowed. */
function keyTypeError(field: string, key: GoPublicKey | 'other' | undefined, unknownValue: string | undefined, curves: string): FieldError | undefined {
  if (key === undefined || key === 'other' || key.algorithm === 'DSA') {
    return invalid(field, unknownValue, 'unknown public key type; supported types are Ed25519, ECDSA, and RSA');
  }
  if (key.algorithm === 'RSA') {
    const size = Math.ceil((key.rsaBits ?? 0) / 8) * 8;
    if (size !== 3072 && size !== 4096) return invalid(field, quote(`${size}-bit modulus`), 'RSA keys must have modulus size 3072 or 4096');
  }
  if (key.algorithm === 'ECDSA' && !['P-256', 'P-384', 'P-521'].includes(key.curve ?? '')) {
    return invalid(field, quote(`curve ${key.curve ?? ''}`), `elliptic public keys must use curve ${curves}`);
  }
  return undefined;
}

/** Proof of possession over the podUID: Ed25519 raw, ECDSA ASN.1 over SHA-256, RSA-PSS SHA-256 with any salt length. */
function proofVerifies(key: GoPublicKey, podUid: string, proof: Uint8Array): boolean {
  const keyObject = key.key();
  if (!keyObject) return false;
  const message = Buffer.from(podUid, 'utf8');
  try {
    switch (key.algorithm) {
      case 'Ed25519': return verify(null, message, keyObject, proof);
      case 'ECDSA': return verify('sha256', message, { key: keyObject, dsaEncoding: 'der' }, proof);
      case 'RSA': return verify('sha256', message, { key: keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, proof);
      default: return false;
    }
  } catch {
    return false;
  }
}

/** Rows 9–15: the legacy key fields. At most one error (each row returns). */
function legacyKeyErrors(spec: Obj): FieldError[] {
  const pkix = bytesOf(spec.pkixPublicKey);
  const proof = bytesOf(spec.proofOfPossession);
  if (pkix.length > MAX_PKIX_PUBLIC_KEY_SIZE) return [tooLong('spec.pkixPublicKey', MAX_PKIX_PUBLIC_KEY_SIZE)];
  if (proof.length > MAX_PROOF_OF_POSSESSION_SIZE) return [tooLong('spec.proofOfPossession', MAX_PROOF_OF_POSSESSION_SIZE)];
  const parsed = parsePkixPublicKey(pkix);
  if ('error' in parsed) return [invalid('spec.pkixPublicKey', bytesValue(pkix), 'must be a valid PKIX-serialized public key')];
  // The PKIX path names only P256 and P384 in its text, though P-521 is accepted (validation.go, both forms).
  const { key } = parsed;
  const refused = keyTypeError('spec.pkixPublicKey', key, bytesValue(pkix), 'P256 or P384');
  if (refused) return [refused];
  if (key === 'other' || !proofVerifies(key, stringAt(spec, 'podUID'), proof)) {
    return [invalid('spec.proofOfPossession', undefined, 'could not verify proof-of-possession signature')];
  }
  return [];
}

/** Rows 16–19: the stub PKCS#10 request (1.36+). */
function stubErrors(stub: Uint8Array): FieldError[] {
  const field = 'spec.stubPKCS10Request';
  if (stub.length > MAX_STUB_SIZE) return [tooLong(field, MAX_STUB_SIZE)];
  const request = parseCsrDer(stub);
  if (typeof request === 'string') return [invalid(field, undefined, 'must be a valid PKCS#10 CSR')];
  const refused = keyTypeError(field, request.publicKey, undefined, 'P256, P384, or P521');
  if (refused) return [refused];
  if (checkSignature(request) !== undefined) return [invalid(field, undefined, 'invalid signature')];
  return [];
}

/** ValidatePodCertificateRequestCreate: rows 1–7 accumulate, from row 8 on the first failure ends it. */
export function validatePcrCreate(object: Obj, form: PcrForm): FieldError[] {
  const metadata = objectAt(object, 'metadata');
  const spec = objectAt(object, 'spec');
  const errors: FieldError[] = [];
  const name = stringAt(metadata, 'name');
  if (name !== '') errors.push(...subdomainField('metadata.name', name));
  const signerName = stringAt(spec, 'signerName');
  if (signerName === '') errors.push(required('spec.signerName'));
  else errors.push(...signerNameErrors('spec.signerName', signerName));
  if (isObj(spec.unverifiedUserAnnotations)) errors.push(...userAnnotationErrors(spec.unverifiedUserAnnotations));
  errors.push(...subdomainField('spec.podName', stringAt(spec, 'podName')));
  errors.push(...uidErrors('spec.podUID', stringAt(spec, 'podUID')));
  errors.push(...subdomainField('spec.serviceAccountName', stringAt(spec, 'serviceAccountName')));
  errors.push(...uidErrors('spec.serviceAccountUID', stringAt(spec, 'serviceAccountUID')));
  errors.push(...subdomainField('spec.nodeName', stringAt(spec, 'nodeName')));
  errors.push(...uidErrors('spec.nodeUID', stringAt(spec, 'nodeUID')));
  const max = spec.maxExpirationSeconds;
  if (typeof max !== 'number') return [...errors, required('spec.maxExpirationSeconds', 'must be set')];
  const upper = isKubernetesSignerName(signerName) ? KUBERNETES_MAX_MAX_EXPIRATION : MAX_MAX_EXPIRATION;
  if (max < MIN_MAX_EXPIRATION || max > upper) errors.push(invalid('spec.maxExpirationSeconds', String(max), `must be in the range [${MIN_MAX_EXPIRATION}, ${upper}]`));
  if (!form.stub) return [...errors, ...legacyKeyErrors(spec)];
  const stub = bytesOf(spec.stubPKCS10Request);
  const pkix = bytesOf(spec.pkixPublicKey);
  const proof = bytesOf(spec.proofOfPossession);
  const stubForm = stub.length > 0 && pkix.length === 0 && proof.length === 0;
  const legacyForm = stub.length === 0 && pkix.length > 0 && proof.length > 0;
  if (!stubForm && !legacyForm) {
    return [...errors, invalid('spec', undefined, 'exactly one of (stubPKCS10Request) or (pkixPublicKey, proofOfPossession) must be set')];
  }
  return [...errors, ...(stubForm ? stubErrors(stub) : legacyKeyErrors(spec))];
}

/** Go's %#v of the internal spec, as field.Invalid prints a struct (a pointer shows its value here, not an address). */
function goSpec(spec: Obj): string {
  const str = (key: string): string => JSON.stringify(stringAt(spec, key));
  const bytes = (key: string): string => (typeof spec[key] === 'string' ? goBytes(bytesOf(spec[key])) : '[]uint8(nil)');
  const annotations = isObj(spec.unverifiedUserAnnotations)
    ? `map[string]string{${Object.keys(spec.unverifiedUserAnnotations).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify((spec.unverifiedUserAnnotations as Obj)[k])}`).join(', ')}}`
    : 'map[string]string(nil)';
  const max = typeof spec.maxExpirationSeconds === 'number' ? `(*int32)(${spec.maxExpirationSeconds})` : '(*int32)(nil)';
  return `certificates.PodCertificateRequestSpec{SignerName:${str('signerName')}, PodName:${str('podName')}, PodUID:${str('podUID')}, `
    + `ServiceAccountName:${str('serviceAccountName')}, ServiceAccountUID:${str('serviceAccountUID')}, NodeName:${str('nodeName')}, NodeUID:${str('nodeUID')}, `
    + `MaxExpirationSeconds:${max}, PKIXPublicKey:${bytes('pkixPublicKey')}, ProofOfPossession:${bytes('proofOfPossession')}, `
    + `StubPKCS10Request:${bytes('stubPKCS10Request')}, UnverifiedUserAnnotations:${annotations}}`;
}

const resetForStatus = ['labels', 'annotations', 'finalizers', 'ownerReferences', 'deletionTimestamp', 'generation'];

/**
 * A status as Go holds it, for apiequality.Semantic.DeepEqual: a null, empty string or empty list is the
 * field's zero value (Semantic.DeepEqual takes an empty slice for a nil one).
 */
function statusKey(o: Obj): string {
  const status = objectAt(o, 'status');
  const kept = Object.fromEntries(Object.entries(status).filter(([, v]) => v !== null && v !== '' && !(Array.isArray(v) && v.length === 0)));
  return canonicalJson(kept);
}

/** True when the two statuses differ (apiequality.Semantic.DeepEqual of the status). */
export function pcrStatusChanged(old: Obj, next: Obj): boolean {
  return statusKey(old) !== statusKey(next);
}

/** The terminal condition type a status carries ('' for none). */
export function pcrTerminalCondition(o: Obj): string {
  const conditions = objectAt(o, 'status').conditions;
  if (!Array.isArray(conditions)) return '';
  const found = conditions.find((c): c is Obj => isObj(c) && TERMINAL.includes(stringAt(c, 'type')));
  return found ? stringAt(found, 'type') : '';
}

/** The update a PUT or PATCH makes, validated: `object` is what would be stored. */
export function preparePcrUpdate(old: KubeObject, incoming: Obj, subresource: '' | 'status', now: Date, form: PcrForm): { object: Obj; errors: FieldError[] } {
  const object: Obj = { ...incoming };
  if (subresource === 'status') {
    if (old.spec === undefined) delete object.spec;
    else object.spec = old.spec;
    const metadata: Obj = { ...objectAt(object, 'metadata') };
    const oldMeta = old.metadata as Obj;
    for (const key of resetForStatus) {
      if (oldMeta[key] === undefined) delete metadata[key];
      else metadata[key] = oldMeta[key];
    }
    object.metadata = metadata;
    return { object, errors: validateStatusUpdate(object, old, now, form) };
  }
  if (old.status === undefined) delete object.status;
  else object.status = old.status;
  // A v1 body cannot carry the legacy key fields: the stored ones stay.
  if (form.v1) {
    const oldSpec = objectAt(old, 'spec');
    const spec = { ...objectAt(object, 'spec') };
    for (const key of ['pkixPublicKey', 'proofOfPossession']) if (oldSpec[key] !== undefined) spec[key] = oldSpec[key];
    object.spec = spec;
  }
  const errors: FieldError[] = [];
  if (canonicalJson(objectAt(object, 'spec')) !== canonicalJson(objectAt(old, 'spec'))) {
    errors.push(invalid('spec', goSpec(objectAt(object, 'spec')), 'field is immutable'));
  }
  return { object, errors };
}

// ------------------------------------------------------------------ status validation

const conditionReason = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;
const conditionReasonMessage = "a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName',  or 'ReasonA,ReasonB',  or 'ReasonA:ReasonB', regex used for validation is '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?')";
const labelNamePrefixless = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Rows 2 and 3: the condition types PodCertificateRequests allow, then metav1validation.ValidateConditions. */
function conditionErrors(conditions: readonly Obj[]): FieldError[] {
  const errors: FieldError[] = [];
  let known = 0;
  conditions.forEach((c, i) => {
    const type = stringAt(c, 'type');
    const at = `status.conditions[${i}]`;
    if (!TERMINAL.includes(type)) {
      errors.push({ type: 'FieldValueNotSupported', field: `${at}.type`, value: quote(type), detail: 'supported values: "Issued", "Denied", "Failed"' });
      return;
    }
    known++;
    if (known > 1) errors.push(invalid(`${at}.type`, quote(type), 'There may be at most one condition with type "Issued", "Denied", or "Failed"'));
    if (stringAt(c, 'status') !== 'True') errors.push({ type: 'FieldValueNotSupported', field: `${at}.status`, value: quote(stringAt(c, 'status')), detail: 'supported values: "True"' });
  });
  const seen = new Set<string>();
  conditions.forEach((c, i) => {
    const at = `status.conditions[${i}]`;
    const type = stringAt(c, 'type');
    if (seen.has(type)) errors.push({ type: 'FieldValueDuplicate', field: at, value: quote(type) });
    seen.add(type);
    if (type === '') errors.push(required(`${at}.type`, 'is required'));
    else if (!labelNamePrefixless.test(type.slice(type.lastIndexOf('/') + 1))) errors.push(invalid(`${at}.type`, quote(type), qualifiedNameMessage));
    const status = stringAt(c, 'status');
    if (status === '') errors.push(required(`${at}.status`));
    else if (!['True', 'False', 'Unknown'].includes(status)) errors.push({ type: 'FieldValueNotSupported', field: `${at}.status`, value: quote(status), detail: 'supported values: "False", "True", "Unknown"' });
    if (typeof c.observedGeneration === 'number' && c.observedGeneration < 0) errors.push(invalid(`${at}.observedGeneration`, String(c.observedGeneration), 'must be greater than or equal to zero'));
    if (stringAt(c, 'lastTransitionTime') === '') errors.push(required(`${at}.lastTransitionTime`));
    const reason = stringAt(c, 'reason');
    if (reason === '') errors.push(required(`${at}.reason`));
    else {
      if (!conditionReason.test(reason)) errors.push(invalid(`${at}.reason`, quote(reason), conditionReasonMessage));
      if (reason.length > 1024) errors.push(tooLong(`${at}.reason`, 1024));
    }
    if (stringAt(c, 'message').length > 32768) errors.push(tooLong(`${at}.message`, 32768));
  });
  return errors;
}

/** A metav1.Time as field.Error prints a time: JSON, RFC 3339 in whole seconds. */
const timeValue = (d: Date): string => JSON.stringify(`${d.toISOString().slice(0, 19)}Z`);
const parseTime = (v: unknown): Date | undefined => (typeof v === 'string' && v !== '' ? new Date(Date.parse(v)) : undefined);
const MINUTE = 60_000;

/** A leaf certificate as the checks read it (node:crypto, after Go's parser accepted it). */
interface Leaf { readonly notBefore: Date; readonly notAfter: Date; readonly publicKey: KeyObject; readonly dnsNames: string[]; readonly emails: string[] }

function readLeaf(der: Uint8Array): Leaf | undefined {
  try {
    parseCertificateDer(der);
    const cert = new X509Certificate(der);
    const names = (cert.subjectAltName ?? '').split(', ').filter((n) => n !== '');
    return {
      notBefore: new Date(Date.parse(cert.validFrom)), notAfter: new Date(Date.parse(cert.validTo)), publicKey: cert.publicKey,
      dnsNames: names.filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4)),
      emails: names.filter((n) => n.startsWith('email:')).map((n) => n.slice(6)),
    };
  } catch {
    return undefined;
  }
}

/** The requested key as a KeyObject (row 6f), or the field error for a stored key that no longer parses. */
function requestedKey(spec: Obj, form: PcrForm): KeyObject | FieldError {
  const stub = bytesOf(spec.stubPKCS10Request);
  if (form.stub && stub.length > 0) {
    const request = parseCsrDer(stub);
    const key = typeof request === 'string' ? undefined : request.publicKey?.key();
    return key ?? invalid('spec.stubPKCS10Request', undefined, 'must be a valid PKCS#10 CSR');
  }
  const pkix = bytesOf(spec.pkixPublicKey);
  try {
    return createPublicKey({ key: Buffer.from(pkix), format: 'der', type: 'spki' });
  } catch {
    return invalid('spec.pkixPublicKey', bytesValue(pkix), 'must be a valid PKIX-serialized public key');
  }
}

/** mail.ParseAddress, for a bare address as a certificate carries it: local@domain, no spaces or angle brackets. */
const plausibleEmail = (s: string): boolean => /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+$/.test(s);

/** Rows 6a–6p: an Issued status. */
function issuedErrors(spec: Obj, status: Obj, now: Date, form: PcrForm): FieldError[] {
  const chainField = 'status.certificateChain';
  const chain = stringAt(status, 'certificateChain');
  const chainValue = quote(chain);
  if (Buffer.byteLength(chain, 'utf8') > MAX_CERTIFICATE_CHAIN_SIZE) return [tooLong(chainField, MAX_CERTIFICATE_CHAIN_SIZE)];
  const first = pemDecode(chain);
  if (!first) return [invalid(chainField, chainValue, 'issued certificate chain must contain at least one certificate')];
  if (first.block.type !== 'CERTIFICATE') return [invalid(chainField, chainValue, 'issued certificate chain must consist entirely of CERTIFICATE PEM blocks')];
  const leaf = readLeaf(first.block.bytes);
  if (!leaf) return [invalid(chainField, chainValue, 'leaf certificate does not parse as valid X.509')];
  const errors: FieldError[] = [];
  for (const name of leaf.dnsNames) {
    if (name === '') errors.push(invalid(chainField, quote(name), 'leaf certificate should not contain empty DNSName'));
    else if (name.includes('..')) errors.push(invalid(chainField, quote(name), "leaf certificate's DNSName should not contain '..'"));
    else if (name.startsWith('.') || name.endsWith('.')) errors.push(invalid(chainField, quote(name), "leaf certificate's DNSName should not start or end with '.'"));
  }
  for (const email of leaf.emails) if (!plausibleEmail(email)) errors.push(invalid(chainField, quote(email), 'leaf certificate should not contain invalid EmailAddress'));
  const wanted = requestedKey(spec, form);
  if (!(wanted instanceof Object && 'equals' in wanted)) return [...errors, wanted];
  if (!wanted.equals(leaf.publicKey)) return [...errors, invalid(chainField, chainValue, 'leaf certificate was not issued to the requested public key')];
  const notBefore = parseTime(status.notBefore);
  const notAfter = parseTime(status.notAfter);
  const beginRefreshAt = parseTime(status.beginRefreshAt);
  const missing: FieldError[] = [];
  if (!notBefore) missing.push(required('status.notBefore', 'must be present and consistent with the issued certificate'));
  if (!notAfter) missing.push(required('status.notAfter', 'must be present and consistent with the issued certificate'));
  if (!beginRefreshAt) missing.push(required('status.beginRefreshAt', 'must be present and in the range [notbefore+10min, notafter-10min]'));
  if (!notBefore || !notAfter || !beginRefreshAt) return [...errors, ...missing];
  if (notBefore.getTime() !== leaf.notBefore.getTime()) return [...errors, invalid('status.notBefore', timeValue(notBefore), 'must be set to the NotBefore time encoded in the leaf certificate')];
  if (!(notBefore.getTime() > now.getTime() - 5 * MINUTE && notBefore.getTime() < now.getTime() + 5 * MINUTE)) {
    return [...errors, invalid('status.notBefore', timeValue(notBefore), "must be set to within 5 minutes of kube-apiserver's current time")];
  }
  if (notAfter.getTime() !== leaf.notAfter.getTime()) return [...errors, invalid('status.notAfter', timeValue(notAfter), 'must be set to the NotAfter time encoded in the leaf certificate')];
  const lifetimeMs = leaf.notAfter.getTime() - leaf.notBefore.getTime();
  const lifetimeNs = `${BigInt(lifetimeMs) * 1_000_000n}`;
  if (lifetimeMs < 60 * MINUTE) return [...errors, invalid(chainField, lifetimeNs, 'leaf certificate lifetime must be >= 1 hour')];
  const max = typeof spec.maxExpirationSeconds === 'number' ? spec.maxExpirationSeconds : KUBERNETES_MAX_MAX_EXPIRATION;
  if (lifetimeMs > max * 1000) return [...errors, invalid(chainField, lifetimeNs, `leaf certificate lifetime must be <= spec.maxExpirationSeconds (${max})`)];
  if (beginRefreshAt.getTime() < notBefore.getTime() + 10 * MINUTE) return [...errors, invalid('status.beginRefreshAt', timeValue(beginRefreshAt), 'must be at least 10 minutes after status.notBefore')];
  if (beginRefreshAt.getTime() > notAfter.getTime() - 10 * MINUTE) return [...errors, invalid('status.beginRefreshAt', timeValue(beginRefreshAt), 'must be at least 10 minutes before status.notAfter')];
  for (let rest = pemDecode(first.rest); rest; rest = pemDecode(rest.rest)) {
    // Upstream's text has the typo "CERTFICATE" here (not in the leaf's message above).
    if (rest.block.type !== 'CERTIFICATE') return [...errors, invalid(chainField, chainValue, 'issued certificate chain must consist entirely of CERTFICATE PEM blocks')];
    try {
      parseCertificateDer(rest.block.bytes);
    } catch {
      return [...errors, invalid(chainField, chainValue, 'intermediate certificate does not parse as valid X.509')];
    }
  }
  return errors;
}

/** ValidatePodCertificateRequestStatusUpdate on the object the status strategy prepared (old spec, reset metadata). */
function validateStatusUpdate(next: Obj, old: KubeObject, now: Date, form: PcrForm): FieldError[] {
  const status = objectAt(next, 'status');
  const conditions = Array.isArray(status.conditions) ? status.conditions.filter(isObj) : [];
  const errors = conditionErrors(conditions);
  if (errors.length > 0) return errors;
  if (pcrTerminalCondition(old) !== '') {
    return !pcrStatusChanged(old, next) ? [] : [invalid('status', undefined, 'immutable after PodCertificateRequest is issued, denied, or failed')];
  }
  const terminal = pcrTerminalCondition(next);
  if (terminal === 'Denied' || terminal === 'Failed') {
    const others = ['certificateChain', 'notBefore', 'beginRefreshAt', 'notAfter'].some((k) => status[k] !== undefined && status[k] !== null && status[k] !== '');
    return others ? [invalid('status', undefined, 'non-condition status fields must be empty when denying or failing the PodCertificateRequest')] : [];
  }
  if (terminal === 'Issued') return issuedErrors(objectAt(next, 'spec'), status, now, form);
  return !pcrStatusChanged(old, next) ? [] : [invalid('status', undefined, 'status is immutable unless transitioning to "Issued", "Denied", or "Failed"')];
}
