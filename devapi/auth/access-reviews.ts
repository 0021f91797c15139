/**
 * The review APIs, answered by the same RBAC engine as every request:
 * SubjectAccessReview and SelfSubjectAccessReview (kubernetes pkg/registry/authorization/subjectaccessreview
 * and selfsubjectaccessreview `REST.Create`), and SelfSubjectReview (`kubectl auth whoami`,
 * pkg/registry/authentication/selfsubjectreview `REST.Create`).
 *
 * As upstream: the body is validated (pkg/apis/authorization/validation `ValidateSubjectAccessReview`,
 * `ValidateSelfSubjectAccessReview`), the attributes are built from the spec alone
 * (pkg/registry/authorization/util `AuthorizationAttributesFrom`, `ResourceAttributesFrom`: the
 * groups as given, no `system:authenticated` added; `extra` carried but ignored by RBAC, as
 * plugin/pkg/auth/authorizer/rbac `RBACAuthorizer.Authorize` never reads it), and the status is
 * `allowed`, `denied` only from an authorizer that can deny (RBAC cannot, so never here), `reason`.
 * The spec comes back as sent, through the Go type (unknown fields dropped, empty ones omitted).
 */
import type { RequestAuthorizer, RequestAttributes, UserInfo } from './rbac.js';
import { invalid, type FieldError } from '../api/errors.js';

type Obj = Record<string, unknown>;

const str = (o: Obj, k: string): string => (typeof o[k] === 'string' ? o[k] : '');
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Go's `%#v` of a string-keyed map of strings, as field errors print it. */
const goMap = (v: unknown): string => {
  if (!isObj(v)) return 'map[string]string(nil)';
  const keys = Object.keys(v).sort();
  return `map[string]string{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(String(v[k]))}`).join(', ')}}`;
};

/**
 * The `metadata: Invalid value: v1.ObjectMeta{…}: must be empty` error: Go prints the whole ObjectMeta with
 * `%#v`; devapi prints the fields a client can send in a review as Go does and the others as their zero values.
 */
function metadataNotEmpty(metadata: Obj): FieldError {
  const s = (k: string): string => JSON.stringify(str(metadata, k));
  const value = `v1.ObjectMeta{Name:${s('name')}, GenerateName:${s('generateName')}, Namespace:${s('namespace')}, SelfLink:"", UID:${s('uid')}, `
    + `ResourceVersion:${s('resourceVersion')}, Generation:0, CreationTimestamp:time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC), `
    + 'DeletionTimestamp:<nil>, DeletionGracePeriodSeconds:(*int64)(nil), '
    + `Labels:${goMap(metadata.labels)}, Annotations:${goMap(metadata.annotations)}, OwnerReferences:[]v1.OwnerReference(nil), `
    + 'Finalizers:[]string(nil), ManagedFields:[]v1.ManagedFieldsEntry(nil)}';
  return { type: 'FieldValueInvalid', field: 'metadata', value, detail: 'must be empty' };
}

/** Go's `%#v` of the internal NonResourceAttributes, as the "cannot be specified in combination" error prints it. */
const goNonResource = (a: Obj): string => `authorization.NonResourceAttributes{Path:${JSON.stringify(str(a, 'path'))}, Verb:${JSON.stringify(str(a, 'verb'))}}`;

/** ValidateSubjectAccessReviewSpec / ValidateSelfSubjectAccessReviewSpec, then the metadata rule, in upstream's order. */
function validate(body: Obj, spec: Obj, withSubject: boolean): FieldError[] {
  const errors: FieldError[] = [];
  const resource = spec.resourceAttributes;
  const nonResource = spec.nonResourceAttributes;
  if (isObj(resource) && isObj(nonResource)) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.nonResourceAttributes', value: goNonResource(nonResource), detail: 'cannot be specified in combination with resourceAttributes' });
  }
  if (!isObj(resource) && !isObj(nonResource)) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.resourceAttributes', value: '"null"', detail: 'exactly one of nonResourceAttributes or resourceAttributes must be specified' });
  }
  const groups = Array.isArray(spec.groups) ? spec.groups : [];
  if (withSubject && str(spec, 'user') === '' && groups.length === 0) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.user', value: '""', detail: 'at least one of user or group must be specified' });
  }
  const metadata = isObj(body.metadata) ? body.metadata : {};
  // managedFields are ignored; a creationTimestamp of null is the zero value a client sends.
  const set = Object.entries(metadata).filter(([k, v]) => k !== 'managedFields' && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0) && !(isObj(v) && Object.keys(v).length === 0));
  if (set.length > 0) errors.push(metadataNotEmpty(metadata));
  return errors;
}

/** ResourceAttributesFrom / NonResourceAttributesFrom. The version is not part of an RBAC decision. */
function attributesOf(spec: Obj): RequestAttributes {
  if (isObj(spec.nonResourceAttributes) && !isObj(spec.resourceAttributes)) {
    const a = spec.nonResourceAttributes;
    return { verb: str(a, 'verb'), path: str(a, 'path') };
  }
  const r = isObj(spec.resourceAttributes) ? spec.resourceAttributes : {};
  return {
    verb: str(r, 'verb'), apiGroup: str(r, 'group'), resource: str(r, 'resource'),
    ...(str(r, 'subresource') ? { subresource: str(r, 'subresource') } : {}), ...(str(r, 'name') ? { name: str(r, 'name') } : {}), ...(str(r, 'namespace') ? { namespace: str(r, 'namespace') } : {}),
  };
}

/** The spec as Go writes it back: every field of SubjectAccessReviewSpec and ResourceAttributes is omitempty. */
function omitEmpty(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(omitEmpty);
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === null || x === undefined || x === '' || (Array.isArray(x) && x.length === 0) || (isObj(x) && Object.keys(x).length === 0 && k !== 'resourceAttributes' && k !== 'nonResourceAttributes')) continue;
    out[k] = omitEmpty(x);
  }
  return out;
}

function answer(kind: string, body: Obj, spec: Obj, authorizer: RequestAuthorizer, subject: UserInfo, withSubject: boolean): Obj {
  const errors = validate(body, spec, withSubject);
  if (errors.length > 0) throw invalid(kind, 'authorization.k8s.io', '', errors);
  const decision = authorizer.authorize(subject, attributesOf(spec));
  return {
    kind, apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null }, spec: omitEmpty(spec),
    // SubjectAccessReviewStatus: `allowed` always; `denied`, `reason`, `evaluationError` omitempty.
    status: { allowed: decision.allowed, ...(decision.reason === '' ? {} : { reason: decision.reason }) },
  };
}

/** The subject of a SubjectAccessReview: user, uid, groups and extra exactly as given. */
function subjectOf(spec: Obj): UserInfo {
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const extra = isObj(spec.extra) ? Object.fromEntries(Object.entries(spec.extra).map(([k, v]) => [k, strings(v)])) : undefined;
  return {
    name: str(spec, 'user'), groups: strings(spec.groups),
    ...(str(spec, 'uid') === '' ? {} : { uid: str(spec, 'uid') }), ...(extra === undefined ? {} : { extra }),
  };
}

export function subjectAccessReview(body: Obj, authorizer: RequestAuthorizer): Obj {
  const spec = isObj(body.spec) ? body.spec : {};
  return answer('SubjectAccessReview', body, spec, authorizer, subjectOf(spec), true);
}

export function selfSubjectAccessReview(body: Obj, authorizer: RequestAuthorizer, caller: UserInfo): Obj {
  return answer('SelfSubjectAccessReview', body, isObj(body.spec) ? body.spec : {}, authorizer, caller, false);
}

/** `kubectl auth whoami`: the caller as authenticated (authentication.k8s.io/v1 SelfSubjectReview). */
export function selfSubjectReview(caller: UserInfo, now: Date): Obj {
  return {
    kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: now.toISOString().replace(/\.\d+Z$/, 'Z') },
    status: {
      userInfo: {
        username: caller.name, ...(caller.uid ? { uid: caller.uid } : {}), ...(caller.groups.length > 0 ? { groups: [...caller.groups] } : {}),
        ...(caller.extra && Object.keys(caller.extra).length > 0 ? { extra: caller.extra } : {}),
      },
    },
  };
}

/** The review a virtual resource answers. */
export function review(resource: string, body: Obj, authorizer: RequestAuthorizer, caller: UserInfo, now: Date): Obj {
  switch (resource) {
    case 'subjectaccessreviews': return subjectAccessReview(body, authorizer);
    case 'selfsubjectaccessreviews': return selfSubjectAccessReview(body, authorizer, caller);
    default: return selfSubjectReview(caller, now);
  }
}
