/** SubjectAccessReview and SelfSubjectAccessReview, answered by the same RBAC engine as every request. */
import type { RequestAuthorizer, RequestAttributes, UserInfo } from './rbac.js';
import { invalid, type FieldError } from '../api/errors.js';

type Obj = Record<string, unknown>;

function attributesOf(spec: Obj): { attrs: RequestAttributes | undefined; errors: FieldError[] } {
  const resource = spec.resourceAttributes as Obj | undefined;
  const nonResource = spec.nonResourceAttributes as Obj | undefined;
  if ((resource === undefined) === (nonResource === undefined)) {
    return { attrs: undefined, errors: [{ type: 'FieldValueInvalid', field: 'spec.resourceAttributes', value: '', detail: 'exactly one of nonResourceAttributes or resourceAttributes must be specified' }] };
  }
  if (nonResource) return { attrs: { verb: typeof nonResource.verb === 'string' ? nonResource.verb : '', path: typeof nonResource.path === 'string' ? nonResource.path : '' }, errors: [] };
  const r = resource ?? {};
  const str = (k: string): string => (typeof r[k] === 'string' ? (r[k]) : '');
  return {
    attrs: {
      verb: str('verb'), apiGroup: str('group'), resource: str('resource'),
      ...(str('subresource') ? { subresource: str('subresource') } : {}), ...(str('name') ? { name: str('name') } : {}), ...(str('namespace') ? { namespace: str('namespace') } : {}),
    },
    errors: [],
  };
}

function answer(kind: string, body: Obj, spec: Obj, authorizer: RequestAuthorizer, subject: UserInfo): Obj {
  const { attrs, errors } = attributesOf(spec);
  if (!attrs) throw invalid(kind, 'authorization.k8s.io', '', errors);
  const decision = authorizer.authorize(subject, attrs);
  return {
    apiVersion: 'authorization.k8s.io/v1', kind, metadata: { ...((body.metadata) ?? {}), creationTimestamp: null }, spec,
    status: { allowed: decision.allowed, ...(decision.allowed ? {} : { denied: false }), reason: decision.reason },
  };
}

export function subjectAccessReview(body: Obj, authorizer: RequestAuthorizer): Obj {
  const spec = (body.spec ?? {}) as Obj;
  const groups = Array.isArray(spec.groups) ? (spec.groups as string[]) : [];
  if (!spec.user && groups.length === 0) {
    throw invalid('SubjectAccessReview', 'authorization.k8s.io', '', [{ type: 'FieldValueInvalid', field: 'spec.user', value: '""', detail: 'at least one of user or group must be specified' }]);
  }
  const subject: UserInfo = { name: typeof spec.user === 'string' ? spec.user : '', groups, ...(typeof spec.uid === 'string' && spec.uid !== '' ? { uid: spec.uid } : {}) };
  return answer('SubjectAccessReview', body, spec, authorizer, subject);
}

export function selfSubjectAccessReview(body: Obj, authorizer: RequestAuthorizer, caller: UserInfo): Obj {
  return answer('SelfSubjectAccessReview', body, (body.spec ?? {}) as Obj, authorizer, caller);
}
