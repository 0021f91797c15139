/**
 * ValidateCertificateSigningRequest{Create,Update,StatusUpdate,ApprovalUpdate}
 * (pkg/apis/certificates/validation/validation.go, with core ValidateSignerName) over
 * the JSON object, every FieldError in Go's order with Go's text.
 */
import { certificateOf, conditionsOf, spec, usagesOf } from './csr-decoding.js';
import { obj, str, type Obj } from './json.js';
import { equalBytes, goBytes, jsonBytes } from '../go/encoding.js';
import { certificateError } from '../go/x509-certificate.js';
import { requestVerdict } from '../go/request-verifier.js';
import { quote, type FieldError } from '../api/errors.js';

export type CsrSubresource = 'main' | 'status' | 'approval';

/** The 23 usages certificates.k8s.io accepts, in Go's sorted order (sets.String.List). */
export const supportedUsages: readonly string[] = [
  'signing', 'digital signature', 'content commitment', 'key encipherment', 'key agreement', 'data encipherment',
  'cert sign', 'crl sign', 'encipher only', 'decipher only', 'any', 'server auth', 'client auth', 'code signing',
  'email protection', 's/mime', 'ipsec end system', 'ipsec tunnel', 'ipsec user', 'timestamping', 'ocsp signing',
  'microsoft sgc', 'netscape sgc',
].sort();

export const legacyUnknown = 'kubernetes.io/legacy-unknown';

const invalidField = (field: string, value: string, detail: string): FieldError => ({ type: 'FieldValueInvalid', field, value, detail });
const required = (field: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field, detail });
const forbiddenField = (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail });

// ------------------------------------------------------------------ signer names (core/validation/names.go)

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const labelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const subdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');

/** IsDNS1123Label. */
export function labelErrors(value: string): string[] {
  const errors = byteLength(value) > 63 ? ['must be no more than 63 characters'] : [];
  if (!dns1123Label.test(value)) errors.push(dns1123Subdomain.test(value) ? 'must not contain dots' : labelMessage);
  return errors;
}
/** IsDNS1123Subdomain. */
export function subdomainErrors(value: string): string[] {
  const errors = byteLength(value) > 253 ? ['must be no more than 253 characters'] : [];
  if (!dns1123Subdomain.test(value)) errors.push(subdomainMessage);
  return errors;
}

/** core ValidateSignerName (also used for ClusterTrustBundle spec.signerName). */
export function signerNameErrors(path: string, signerName: string): FieldError[] {
  if (signerName === '') return [required(path, 'signerName must be provided')];
  const segments = signerName.split('/');
  if (segments.length !== 2) return [invalidField(path, quote(signerName), "must be a fully qualified domain and path of the form 'example.com/signer-name'")];
  const [domain = '', rest = ''] = segments;
  const errors: FieldError[] = [];
  if (byteLength(domain) > 253) errors.push({ type: 'FieldValueTooLong', field: path, detail: 'may not be more than 253 bytes' });
  const domainLabels = domain.split('.');
  for (const label of domainLabels) {
    const found = labelErrors(label);
    for (const e of found) errors.push(invalidField(path, quote(domain), `validating label ${quote(label)}: ${e}`));
    if (found.length > 0) break;
  }
  if (domainLabels.length < 2) errors.push(invalidField(path, quote(domain), 'should be a domain with at least two segments separated by dots'));
  for (const label of rest.split('.')) {
    const found = subdomainErrors(label);
    for (const e of found) errors.push(invalidField(path, quote(rest), `validating label ${quote(label)}: ${e}`));
    if (found.length > 0) break;
  }
  if (byteLength(signerName) > 571) errors.push({ type: 'FieldValueTooLong', field: path, detail: 'may not be more than 571 bytes' });
  return errors;
}

// ------------------------------------------------------------------ the object validation (validation.go)

interface Options {
  allowSettingApprovalConditions?: boolean;
  allowSettingCertificate?: boolean;
  allowBothApprovedAndDenied?: boolean;
  allowLegacySignerName?: boolean;
  allowDuplicateConditionTypes?: boolean;
  allowEmptyConditionType?: boolean;
  allowArbitraryCertificate?: boolean;
  allowUnknownUsages?: boolean;
  allowDuplicateUsages?: boolean;
}

const trueOnly = new Set(['Approved', 'Denied', 'Failed']);

function conditionErrors(conditions: readonly Obj[], opts: Options): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  let approved = false;
  let denied = false;
  conditions.forEach((c, i) => {
    const path = `status.conditions[${i}]`;
    const type = str(c.type);
    const status = str(c.status);
    if (!opts.allowEmptyConditionType && type === '') errors.push(required(`${path}.type`));
    const allowed = trueOnly.has(type) ? ['True'] : ['False', 'True', 'Unknown'];
    if (status === '') errors.push(required(`${path}.status`));
    else if (!allowed.includes(status)) {
      errors.push({ type: 'FieldValueNotSupported', field: `${path}.status`, value: quote(status), detail: `supported values: ${allowed.map(quote).join(', ')}` });
    }
    if (!opts.allowBothApprovedAndDenied) {
      if (type === 'Approved') { approved = true; if (denied) errors.push(invalidField(`${path}.type`, quote(type), 'Approved and Denied conditions are mutually exclusive')); }
      if (type === 'Denied') { denied = true; if (approved) errors.push(invalidField(`${path}.type`, quote(type), 'Approved and Denied conditions are mutually exclusive')); }
    }
    if (!opts.allowDuplicateConditionTypes) {
      if (seen.has(type)) errors.push({ type: 'FieldValueDuplicate', field: `${path}.type`, value: quote(type) });
      seen.add(type);
    }
  });
  return errors;
}

/**
 * Parsing and verifying a request depends only on its bytes, and every update
 * re-validates the (immutable) request as the apiserver does: remember recent
 * verdicts so a /status write does not verify the same signature again.
 */
const verdicts = new Map<string, string | undefined>();
function remember(encoded: string, verdict: string | undefined): void {
  if (verdicts.size >= 4096) verdicts.delete(verdicts.keys().next().value as string);
  verdicts.set(encoded, verdict);
}

function requestErrorOf(encoded: unknown): string | undefined {
  if (typeof encoded !== 'string') return requestVerdict(encoded);
  if (verdicts.has(encoded)) return verdicts.get(encoded);
  const verdict = requestVerdict(encoded);
  remember(encoded, verdict);
  return verdict;
}

/**
 * Verifies a request ahead of validation, which then finds the verdict remembered;
 * `verify` computes it elsewhere (a worker thread: go/request-verifier.ts).
 */
export async function warmRequestVerdict(encoded: unknown, verify: (encoded: string) => Promise<string | undefined>): Promise<void> {
  if (typeof encoded !== 'string' || verdicts.has(encoded)) return;
  remember(encoded, await verify(encoded));
}

function validateObject(o: Obj, opts: Options): FieldError[] {
  const metadata = obj(o.metadata);
  const errors: FieldError[] = [];
  // ValidateObjectMeta with a name validator that accepts every name (ValidateCertificateRequestName).
  if (str(metadata.name) === '' && str(metadata.generateName) === '') errors.push(required('metadata.name', 'name or generateName is required'));
  const s = spec(o);
  const requestError = requestErrorOf(s.request);
  if (requestError !== undefined) errors.push(invalidField('spec.request', s.request === undefined || s.request === null ? '[]byte(nil)' : goBytes(jsonBytes(s.request)), requestError));
  const usages = usagesOf(o);
  if (usages.length === 0) errors.push(required('spec.usages', 'usages must be provided'));
  if (!opts.allowUnknownUsages) {
    usages.forEach((u, i) => {
      if (!supportedUsages.includes(u)) {
        errors.push({ type: 'FieldValueNotSupported', field: `spec.usages[${i}]`, value: quote(u), detail: `supported values: ${supportedUsages.map(quote).join(', ')}` });
      }
    });
  }
  if (!opts.allowDuplicateUsages) {
    const seen = new Set<string>();
    usages.forEach((u, i) => {
      if (seen.has(u)) errors.push({ type: 'FieldValueDuplicate', field: `spec.usages[${i}]`, value: quote(u) });
      seen.add(u);
    });
  }
  const signerName = str(s.signerName);
  if (!opts.allowLegacySignerName && signerName === legacyUnknown) {
    errors.push(invalidField('spec.signerName', quote(signerName), 'the legacy signerName is not allowed via this API version'));
  } else {
    errors.push(...signerNameErrors('spec.signerName', signerName));
  }
  if (typeof s.expirationSeconds === 'number' && s.expirationSeconds < 600) {
    errors.push(invalidField('spec.expirationSeconds', String(s.expirationSeconds), 'may not specify a duration less than 600 seconds (10 minutes)'));
  }
  errors.push(...conditionErrors(conditionsOf(o), opts));
  if (!opts.allowArbitraryCertificate) {
    const problem = certificateError(certificateOf(o));
    if (problem !== undefined) errors.push(invalidField('status.certificate', quote('<certificate data>'), problem));
  }
  return errors;
}

/** getValidationOptions: tolerate what the stored object already gets wrong. */
function compatibilityOptions(next: Obj, old: Obj): Options {
  const types = conditionsOf(old).map((c) => str(c.type));
  const usages = usagesOf(old);
  return {
    allowBothApprovedAndDenied: types.includes('Approved') && types.includes('Denied'),
    allowLegacySignerName: str(spec(old).signerName) === legacyUnknown,
    allowDuplicateConditionTypes: new Set(types).size !== types.length,
    allowEmptyConditionType: types.includes(''),
    allowArbitraryCertificate: equalBytes(certificateOf(next), certificateOf(old)) || certificateError(certificateOf(old)) !== undefined,
    allowUnknownUsages: usages.some((u) => !supportedUsages.includes(u)),
    allowDuplicateUsages: new Set(usages).size !== usages.length,
  };
}

/**
 * ValidateCertificateSigningRequest{,Status,Approval}Update on objects the strategy
 * has already prepared. Metadata update rules (immutable name, uid…) are the generic
 * layer's. "updates may not modify a condition of type" is not produced: it carries a
 * go-cmp diff, and no REST path can reach it (see csr.ts).
 */
export function validateCsrUpdate(next: Obj, old: Obj, subresource: CsrSubresource): FieldError[] {
  const opts: Options = {
    ...compatibilityOptions(next, old),
    allowSettingCertificate: subresource === 'status',
    allowSettingApprovalConditions: subresource === 'approval',
  };
  const errors = validateObject(next, opts);
  const count = (o: Obj, type: string): number => conditionsOf(o).filter((c) => c.type === type).length;
  for (const type of ['Approved', 'Denied', 'Failed']) {
    if (count(next, type) < count(old, type)) errors.push(forbiddenField('status.conditions', `updates may not remove a condition of type ${quote(type)}`));
  }
  if (!opts.allowSettingApprovalConditions) {
    for (const type of ['Approved', 'Denied']) {
      if (count(next, type) > count(old, type)) errors.push(forbiddenField('status.conditions', `updates may not add a condition of type ${quote(type)}`));
    }
  }
  const oldCertificate = certificateOf(old);
  if (!equalBytes(certificateOf(next), oldCertificate)) {
    if (!opts.allowSettingCertificate) errors.push(forbiddenField('status.certificate', 'updates may not set certificate content'));
    else if (oldCertificate.length > 0) errors.push(forbiddenField('status.certificate', 'updates may not modify existing certificate content'));
  }
  return errors;
}

/** ValidateCertificateSigningRequestCreate on the prepared object; every error, in Go's order. */
export function validateCsrCreate(obj: Record<string, unknown>): FieldError[] {
  return validateObject(obj, {});
}
