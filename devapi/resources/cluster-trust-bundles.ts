/**
 * certificates.k8s.io/v1beta1 ClusterTrustBundle: kube-apiserver's validation
 * (pkg/apis/certificates/validation ValidateClusterTrustBundle{,Update}, core
 * ValidateClusterTrustBundleName), its strategy (nothing reset, no unconditional
 * update, no create on PUT) and the ClusterTrustBundleAttest admission plugin
 * (plugin/pkg/admission/certificates/ctbattest), with their messages.
 */
import { isObj, str, type Obj } from './json.js';
import { signerNameErrors, subdomainErrors } from './csr-validation.js';
import { GoError, latin1 } from '../../src/pki/index.js';
import { pemDecode } from '../go/encoding.js';
import { parseCertificateDer } from '../go/x509-certificate.js';
import { isAuthorizedForSignerName, type RequestAuthorizer, type UserInfo } from '../auth/rbac.js';
import { forbidden, quote, type ApiError, type FieldError } from '../api/errors.js';
import type { KubeObject } from '../storage/kube-object.js';

/** certificates.MaxTrustBundleSize: 1 MiB. */
export const MAX_TRUST_BUNDLE_SIZE = 1024 * 1024;

const TRUST_BUNDLE = 'spec.trustBundle';
const omitted = quote('<value omitted>');
const bundleError = (detail: string): FieldError => ({ type: 'FieldValueInvalid', field: TRUST_BUNDLE, value: omitted, detail });

const specOf = (o: Obj): Obj => (isObj(o.spec) ? o.spec : {});
const signerNameOf = (o: Obj): string => str(specOf(o).signerName);
const trustBundleOf = (o: Obj): string => str(specOf(o).trustBundle);

/**
 * ValidateClusterTrustBundleName: a bundle linked to a signer is named `<signerName with / as :>:<suffix>`
 * and the suffix is a DNS subdomain; an unlinked one has no `:` and is itself a DNS subdomain.
 */
export function clusterTrustBundleNameErrors(name: string, signerName: string): string[] {
  if (signerName === '') {
    if (name.includes(':')) return ['ClusterTrustBundle without signer name must not have ":" in its name'];
    return subdomainErrors(name);
  }
  const prefix = `${signerName.replaceAll('/', ':')}:`;
  if (!name.startsWith(prefix)) return [`ClusterTrustBundle for signerName ${signerName} must be named with prefix ${prefix}`];
  return subdomainErrors(name.slice(prefix.length));
}

/**
 * validateTrustBundle: every PEM block a CERTIFICATE without headers that parses as X.509 with the CA bit
 * (and valid basic constraints); then at least one, and no two identical. Entries are numbered from 0.
 */
export function trustBundleErrors(bundle: string): FieldError[] {
  if (Buffer.byteLength(bundle, 'utf8') > MAX_TRUST_BUNDLE_SIZE) {
    return [{ type: 'FieldValueTooLong', field: TRUST_BUNDLE, detail: `may not be more than ${MAX_TRUST_BUNDLE_SIZE} bytes` }];
  }
  const errors: FieldError[] = [];
  const seen = new Map<string, number[]>();
  let rest = latin1(Buffer.from(bundle, 'utf8'));
  for (let i = 0, d = pemDecode(rest); d; i++, d = pemDecode(rest)) {
    rest = d.rest;
    const { block } = d;
    if (block.type !== 'CERTIFICATE') errors.push(bundleError(`entry ${i} has bad block type: ${block.type}`));
    else if (block.headers !== 0) errors.push(bundleError(`entry ${i} has PEM block headers`));
    else {
      let flags;
      try {
        flags = parseCertificateDer(block.bytes);
      } catch (e) {
        if (!(e instanceof GoError)) throw e;
        errors.push(bundleError(`entry ${i} does not parse as X.509`));
        continue;
      }
      if (!flags.isCA) errors.push(bundleError(`entry ${i} does not have the CA bit set`));
      else if (!flags.basicConstraintsValid) errors.push(bundleError(`entry ${i} has invalid basic constraints`));
      else {
        const key = Buffer.from(block.bytes).toString('base64');
        seen.set(key, [...(seen.get(key) ?? []), i]);
      }
    }
  }
  // A malformed entry hides the (possibly redundant) complaints about missing or duplicate anchors.
  if (errors.length > 0) return errors;
  if (seen.size === 0) return [bundleError('at least one trust anchor must be provided')];
  for (const indices of seen.values()) {
    if (indices.length > 1) errors.push(bundleError(`duplicate trust anchor (indices [${indices.join(' ')}])`));
  }
  return errors;
}

/** ValidateClusterTrustBundle; with `old`, the update rules too (a bundle left as it was is not parsed again; signerName is immutable). */
export function validateClusterTrustBundle(object: Obj, old?: Obj): FieldError[] {
  const metadata = isObj(object.metadata) ? object.metadata : {};
  const name = str(metadata.name);
  const signerName = signerNameOf(object);
  const errors: FieldError[] = name === '' ? [] : clusterTrustBundleNameErrors(name, signerName)
    .map((detail) => ({ type: 'FieldValueInvalid', field: 'metadata.name', value: quote(name), detail }));
  if (signerName !== '') errors.push(...signerNameErrors('spec.signerName', signerName));
  if (old === undefined || trustBundleOf(object) !== trustBundleOf(old)) errors.push(...trustBundleErrors(trustBundleOf(object)));
  if (old !== undefined && signerName !== signerNameOf(old)) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.signerName', value: quote(signerName), detail: 'field is immutable' });
  }
  return errors;
}

/** IsOnlyMutatingGCFields: the update changes nothing but ownerReferences and finalizers (and the server's own fields). */
function onlyGcFields(next: Obj, old: KubeObject): boolean {
  const ignoredMeta = new Set(['ownerReferences', 'finalizers', 'resourceVersion', 'managedFields']);
  const strip = (o: Obj): string => {
    const metadata = Object.entries(isObj(o.metadata) ? o.metadata : {}).filter(([k]) => !ignoredMeta.has(k)).sort(([a], [b]) => a.localeCompare(b));
    const rest = Object.entries(o).filter(([k]) => k !== 'apiVersion' && k !== 'kind' && k !== 'metadata').sort(([a], [b]) => a.localeCompare(b));
    return JSON.stringify([rest, metadata]);
  };
  return strip(next) === strip(old);
}

/**
 * ClusterTrustBundleAttest: writing a bundle with a signerName needs verb `attest` on `signers` for that
 * name (or `<domain>/*`). Checked on the new object, since validation already refuses a changed signerName.
 */
export function admitClusterTrustBundle(object: Obj, old: KubeObject | undefined, user: UserInfo, authorizer: RequestAuthorizer): ApiError | undefined {
  const signerName = signerNameOf(object);
  if (signerName === '') return undefined;
  if (old !== undefined && onlyGcFields(object, old)) return undefined;
  if (isAuthorizedForSignerName(authorizer, user, 'attest', signerName)) return undefined;
  const name = str(isObj(object.metadata) ? object.metadata.name : undefined);
  return forbidden(
    `clustertrustbundles.certificates.k8s.io ${quote(name)} is forbidden: user not permitted to attest for signerName ${quote(signerName)}`,
    { name, group: 'certificates.k8s.io', kind: 'clustertrustbundles' },
  );
}
