/**
 * CertificateSigningRequest rules of kube-apiserver (certificates.k8s.io/v1), as pure
 * functions over the JSON a client sends: the registry strategy
 * (pkg/registry/certificates/certificates/strategy.go), the validation
 * (pkg/apis/certificates/validation/validation.go, core ValidateSignerName) and the
 * CertificateSubjectRestriction admission plugin. Messages are Go's, byte for byte.
 *
 * This module holds the strategy and the admission plugin and is the public face; the rest
 * lives beside it: csr-decoding.ts (the decoder's 400s, normalisation), csr-validation.ts
 * (the field rules), and Go's own readers in ../go/: x509-request (requests, signature
 * check), x509-public-key, x509-certificate, asn1, cryptobyte, encoding (base64, PEM) and
 * san, built on the readers the PKI core applies to what it issues (src/pki/index.ts: %q,
 * OIDs, url.Parse for URIs, the attribute value strings of a Name).
 *
 * The API server accepts whatever Go's x509.ParseCertificateRequest + CheckSignature
 * accept, which is far more than the signer does (RSA-1024, P-224, SHA-1 signatures):
 * the signer, not the API, refuses those. So devapi carries its own lenient,
 * Go-compatible reader (encoding/pem, encoding/base64, the subset of encoding/asn1 and
 * crypto/x509 a CSR and a certificate go through) instead of src/pki's strict parser.
 * status.certificate is read the way parser.go reads it, not with pkijs: checked against
 * Go's own x509 on ~12,000 mutated requests and certificates, pkijs refused a certificate
 * Go accepts and let through dozens Go refuses.
 *
 * Target: kube-apiserver 1.32 texts ("usages must be provided", "signerName must be
 * provided": newer masters say plain "Required value") built with Go 1.24 (RSA keys under
 * 1024 bits refused; SHA-1 still accepted on requests). Not reproduced: the heap address
 * Go prints for an implicitly tagged field in a "tags don't match" error, the content of
 * times inside request subjects, certificate name constraints, and url.Parse's IPv6 zones.
 *
 * An update that sets status.certificate or adds Approved/Denied through the main resource:
 * which rule refuses it? `PrepareForUpdate` runs before `ValidateUpdate` in the generic
 * store, and:
 *  - the main resource's strategy copies the stored spec AND status into the new object,
 *    so an attempt to set status.certificate or to add Approved/Denied there never reaches
 *    validation: it is silently discarded (200, nothing changes);
 *  - the /approval strategy copies the stored status and keeps only the new conditions,
 *    so a certificate sent there is silently reset too.
 * "updates may not set certificate content" and "may not add a condition of type" on the
 * main resource are therefore validation-level vectors (validation_test calls
 * ValidateCertificateSigningRequestUpdate directly); `validateCsrUpdate` reproduces them,
 * `prepareCsrUpdate` (the REST path) never returns them.
 */
import { kubeTime } from '../storage/kube-object.js';
import { csrDecodeError, normaliseStatus, spec } from './csr-decoding.js';
import { clone, isObj, list, obj, str, type Obj } from './json.js';
import { validateCsrUpdate, type CsrSubresource } from './csr-validation.js';
import { jsonBytes, toBase64 } from '../go/encoding.js';
import { parseCsr } from '../go/x509-request.js';
import { ApiError, forbidden, quote, type FieldError } from '../api/errors.js';

export { csrDecodeError } from './csr-decoding.js';
export { supportedUsages, validateCsrCreate, validateCsrUpdate, type CsrSubresource } from './csr-validation.js';

export interface CsrUser {
  readonly name: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

const kubeApiserverClient = 'kubernetes.io/kube-apiserver-client';
const group = 'certificates.k8s.io';
const specFields = ['request', 'signerName', 'expirationSeconds', 'usages', 'username', 'uid', 'groups', 'extra'] as const;

function assertDecodable(body: Obj): void {
  const error = csrDecodeError(body);
  if (error) throw error;
}

// ------------------------------------------------------------------ the strategy

/**
 * PrepareForCreate: status wiped to `{}`, spec.username/uid/groups/extra
 * replaced by the authenticated user's, spec reduced to the fields the v1 type has.
 * @throws ApiError 400 when Go's decoder would refuse the body (see csrDecodeError).
 */
export function prepareCsrCreate(body: Record<string, unknown>, user: CsrUser): Record<string, unknown> {
  assertDecodable(body);
  const source = spec(body);
  const next: Obj = {};
  for (const key of specFields) {
    const value = source[key];
    if (value !== undefined && value !== null) next[key] = clone(value);
  }
  if (typeof next.request === 'string') next.request = toBase64(jsonBytes(next.request));
  for (const key of ['username', 'uid', 'groups', 'extra']) delete next[key];
  if (user.name !== '') next.username = user.name;
  if (user.uid) next.uid = user.uid;
  if (user.groups.length > 0) next.groups = [...user.groups];
  if (user.extra && Object.keys(user.extra).length > 0) next.extra = Object.fromEntries(Object.entries(user.extra).map(([k, v]) => [k, [...v]]));
  // Only the fields kept as sent are copied: spec is rebuilt above and status reset.
  const copy: Obj = {};
  for (const [key, value] of Object.entries(body)) copy[key] = key === 'spec' || key === 'status' ? undefined : clone(value);
  return { ...copy, spec: next, status: {} };
}


/**
 * The CertificateSubjectRestriction admission plugin (create only): a
 * kube-apiserver-client request may not ask for O=system:masters.
 */
export function admitCsrCreate(o: Record<string, unknown>): ApiError | undefined {
  const s = spec(o);
  if (str(s.signerName) !== kubeApiserverClient) return undefined;
  const metadata = obj(o.metadata);
  const name = str(metadata.name) || str(metadata.generateName) || 'Unknown';
  const deny = (message: string): ApiError =>
    forbidden(`certificatesigningrequests.${group} ${quote(name)} is forbidden: ${message}`, { name, group, kind: 'certificatesigningrequests' });
  const parsed = parseCsr(jsonBytes(s.request));
  if (typeof parsed === 'string') return deny(`failed to parse CSR: ${parsed}`);
  if (parsed.organizations.includes('system:masters')) return deny(`use of ${kubeApiserverClient} signer with system:masters group is not allowed`);
  return undefined;
}

/** The metadata an update may change on every path (the strategies do not reset metadata). */
function updatedMetadata(old: Obj, incoming: Obj): Obj {
  const metadata = { ...obj(old.metadata) };
  const from = obj(incoming.metadata);
  for (const key of ['labels', 'annotations', 'finalizers', 'ownerReferences']) {
    if (from[key] === undefined || from[key] === null) delete metadata[key];
    else metadata[key] = clone(from[key]);
  }
  return metadata;
}

/** preserveConditionInstances: when the count of `type` is unchanged, the stored instances come back. */
function preserveInstances(next: Obj[], old: readonly Obj[], type: string): void {
  const oldIndexes = old.flatMap((c, i) => (c.type === type ? [i] : []));
  const newIndexes = next.flatMap((c, i) => (c.type === type ? [i] : []));
  if (oldIndexes.length !== newIndexes.length) return;
  newIndexes.forEach((n, k) => { next[n] = clone(old[oldIndexes[k] ?? 0] ?? {}); });
}

/** populateConditionTimestamps. */
function populateTimestamps(next: Obj[], old: readonly Obj[], now: string): void {
  for (const c of next) {
    c.lastUpdateTime ??= now;
    if (c.lastTransitionTime === undefined) {
      const same = old.find((o) => o.type === c.type && o.status === c.status && typeof o.lastTransitionTime === 'string' && o.lastTransitionTime !== '');
      c.lastTransitionTime = same?.lastTransitionTime ?? now;
    }
  }
}

/**
 * An update of the main resource, /status or /approval, as PrepareForUpdate
 * then ValidateUpdate do it. `old` is the stored object, `incoming` the client's.
 * - main: spec and status come back from `old` (changes silently discarded);
 * - status: spec from `old`; existing Approved/Denied instances restored; certificate
 *   may be set once; timestamps filled;
 * - approval: only the conditions are taken (timestamps filled); spec and certificate
 *   from `old`.
 * On every path labels, annotations, finalizers and ownerReferences come from `incoming`.
 * @throws ApiError 400 when Go's decoder would refuse `incoming` (see csrDecodeError).
 */
export function prepareCsrUpdate(old: Record<string, unknown>, incoming: Record<string, unknown>, subresource: CsrSubresource, now: Date): { object: Record<string, unknown>; errors: FieldError[] } {
  assertDecodable(incoming);
  const stamp = kubeTime(now);
  const oldStatus = obj(old.status);
  const oldConditions = list(oldStatus.conditions).filter(isObj);
  let status: Obj;
  switch (subresource) {
    case 'main':
      status = { ...oldStatus };
      break;
    case 'status': {
      const sent = normaliseStatus(obj(incoming.status));
      const conditions = list(sent.conditions).filter(isObj);
      preserveInstances(conditions, oldConditions, 'Approved');
      preserveInstances(conditions, oldConditions, 'Denied');
      populateTimestamps(conditions, oldConditions, stamp);
      status = { ...(conditions.length > 0 ? { conditions } : {}), ...(sent.certificate === undefined ? {} : { certificate: sent.certificate }) };
      break;
    }
    case 'approval': {
      const conditions = list(normaliseStatus(obj(incoming.status)).conditions).filter(isObj);
      populateTimestamps(conditions, oldConditions, stamp);
      status = { ...oldStatus };
      if (conditions.length > 0) status.conditions = conditions;
      else delete status.conditions;
      break;
    }
  }
  // Stored objects are never changed in place, so the new one shares what it keeps of the old (the spec above all) instead of copying it.
  const object: Obj = { ...old, metadata: updatedMetadata(old, incoming), spec: spec(old), status };
  return { object, errors: validateCsrUpdate(object, old, subresource) };
}

/**
 * The 400 the store's key function answers for names that cannot be a path segment
 * (after validation and admission): `Name parameter invalid: "a/b": may not contain '/'`.
 */
export function csrNameError(name: string): ApiError | undefined {
  const problems = name === '.' || name === '..' ? [`may not be '${name}'`] : ['/', '%'].filter((c) => name.includes(c)).map((c) => `may not contain '${c}'`);
  return problems.length === 0 ? undefined : new ApiError(400, 'BadRequest', `Name parameter invalid: ${quote(name)}: ${problems.join(';')}`);
}

