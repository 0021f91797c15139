/**
 * RBAC with Kubernetes semantics (devapi.md §12): rule matching as in
 * `pkg/apis/rbac/v1/evaluation_helpers.go`, binding resolution and reasons as in
 * `plugin/pkg/auth/authorizer/rbac/rbac.go`, the bootstrap roles that give every
 * user discovery and health, the 403 texts of the apiserver, and the `signers`
 * check of the CSR admission plugins (kcm-signer §1.6).
 */
import { parseAllDocuments } from 'yaml';
import type { PolicyRule } from '../rbac/signer-role.js';
import { type ApiError, type FieldError, forbidden, formatFieldError, quote } from './status.js';

export type { PolicyRule } from '../rbac/signer-role.js';

export interface UserInfo {
  readonly name: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

/** A request on an API resource. `namespace` absent or empty = cluster scope. */
export interface ResourceAttributes {
  readonly verb: string;
  readonly apiGroup: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly name?: string;
  readonly namespace?: string;
}

/** A request on a path outside the resource tree (`/version`, `/healthz`, `/apis`). */
export interface NonResourceAttributes {
  readonly verb: string;
  readonly path: string;
}

export type RequestAttributes = ResourceAttributes | NonResourceAttributes;

export interface Decision {
  readonly allowed: boolean;
  /** `RBAC: allowed by …` when allowed; on denial empty, or the role lookups that failed. */
  readonly reason: string;
}

/** Anything that decides; the admission helper takes this so it can be given a fake. */
export interface RequestAuthorizer {
  authorize(user: UserInfo, attrs: RequestAttributes): Decision;
}

export const RBAC_V1 = 'rbac.authorization.k8s.io/v1';
const RBAC_GROUP = 'rbac.authorization.k8s.io';

export interface Subject {
  readonly kind: 'User' | 'Group' | 'ServiceAccount';
  readonly name: string;
  /** ServiceAccount only; in a RoleBinding it defaults to the binding's namespace. */
  readonly namespace?: string;
  readonly apiGroup?: string;
}

export interface RoleRef<K extends 'ClusterRole' | 'Role' = 'ClusterRole' | 'Role'> {
  readonly apiGroup: typeof RBAC_GROUP;
  readonly kind: K;
  readonly name: string;
}

interface Meta { readonly name: string }
interface NamespacedMeta extends Meta { readonly namespace: string }
export interface ClusterRole { readonly apiVersion: typeof RBAC_V1; readonly kind: 'ClusterRole'; readonly metadata: Meta; readonly rules: readonly PolicyRule[] }
export interface Role { readonly apiVersion: typeof RBAC_V1; readonly kind: 'Role'; readonly metadata: NamespacedMeta; readonly rules: readonly PolicyRule[] }
export interface ClusterRoleBinding {
  readonly apiVersion: typeof RBAC_V1; readonly kind: 'ClusterRoleBinding'; readonly metadata: Meta;
  readonly roleRef: RoleRef<'ClusterRole'>; readonly subjects: readonly Subject[];
}
export interface RoleBinding {
  readonly apiVersion: typeof RBAC_V1; readonly kind: 'RoleBinding'; readonly metadata: NamespacedMeta;
  readonly roleRef: RoleRef; readonly subjects: readonly Subject[];
}
export type RbacObject = ClusterRole | Role | ClusterRoleBinding | RoleBinding;

const namespaceOf = (o: RbacObject): string => (o.kind === 'Role' || o.kind === 'RoleBinding' ? o.metadata.namespace : '');

type Json = Readonly<Record<string, unknown>>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const required = (field: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field, detail });
const notSupported = (field: string, value: unknown, supported: readonly string[]): FieldError =>
  ({ type: 'FieldValueNotSupported', field, value: JSON.stringify(value), detail: `supported values: ${supported.map(quote).join(', ')}` });

function text(v: unknown, field: string, errors: FieldError[]): string {
  if (typeof v === 'string' && v !== '') return v;
  errors.push(v === undefined || v === '' ? required(field) : { type: 'FieldValueInvalid', field, value: JSON.stringify(v), detail: 'must be a string' });
  return '';
}

function strings(v: unknown, field: string, errors: FieldError[]): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  errors.push({ type: 'FieldValueInvalid', field, value: JSON.stringify(v), detail: 'must be a list of strings' });
  return [];
}

/** `ValidatePolicyRule` (pkg/apis/rbac/validation). */
function parseRule(v: unknown, field: string, namespaced: boolean, errors: FieldError[]): PolicyRule {
  const r = isObject(v) ? v : {};
  const [verbs, apiGroups, resources, resourceNames, urls] = (['verbs', 'apiGroups', 'resources', 'resourceNames', 'nonResourceURLs'] as const)
    .map((k) => strings(r[k], `${field}.${k}`, errors)) as [string[], string[], string[], string[], string[]];
  if (verbs.length === 0) errors.push(required(`${field}.verbs`, 'verbs must contain at least one value'));
  if (urls.length > 0) {
    const invalid = (detail: string): FieldError => ({ type: 'FieldValueInvalid', field: `${field}.nonResourceURLs`, value: JSON.stringify(urls), detail });
    if (namespaced) errors.push(invalid('namespaced rules cannot apply to non-resource URLs'));
    if (apiGroups.length + resources.length + resourceNames.length > 0) errors.push(invalid('rules cannot apply to both regular resources and non-resource URLs'));
    return { apiGroups: [], resources: [], verbs, nonResourceURLs: urls };
  }
  if (apiGroups.length === 0) errors.push(required(`${field}.apiGroups`, 'resource rules must supply at least one api group'));
  if (resources.length === 0) errors.push(required(`${field}.resources`, 'resource rules must supply at least one resource'));
  return { apiGroups, resources, verbs, ...(resourceNames.length > 0 ? { resourceNames } : {}) };
}

/** `ValidateRoleBindingSubject`; User/Group `apiGroup` may be empty (v1 defaulting fills it in). */
function parseSubject(v: unknown, field: string, namespaced: boolean, errors: FieldError[]): Subject {
  const s = isObject(v) ? v : {};
  const kinds = ['ServiceAccount', 'User', 'Group'] as const;
  const kind = kinds.find((k) => k === s.kind);
  if (kind === undefined) errors.push(s.kind === undefined ? required(`${field}.kind`) : notSupported(`${field}.kind`, s.kind, kinds));
  const name = text(s.name, `${field}.name`, errors);
  const apiGroup = s.apiGroup ?? '';
  if (kind !== 'ServiceAccount') {
    if (apiGroup !== '' && apiGroup !== RBAC_GROUP) errors.push(notSupported(`${field}.apiGroup`, apiGroup, [RBAC_GROUP]));
    return { kind: kind ?? 'User', name, apiGroup: RBAC_GROUP };
  }
  if (apiGroup !== '') errors.push(notSupported(`${field}.apiGroup`, apiGroup, ['']));
  if (s.namespace === undefined || s.namespace === '') {
    if (!namespaced) errors.push(required(`${field}.namespace`));
    return { kind, name };
  }
  return { kind, name, namespace: text(s.namespace, `${field}.namespace`, errors) };
}

const RBAC_KINDS = ['ClusterRole', 'Role', 'ClusterRoleBinding', 'RoleBinding'] as const;

/** One object: an RBAC object, validated; `undefined` for any other kind. `where` names it in the error. */
export function parseRbacObject(value: unknown, where: string): RbacObject | undefined {
  if (!isObject(value) || typeof value.apiVersion !== 'string' || !value.apiVersion.startsWith(`${RBAC_GROUP}/`)) return undefined;
  const kind = RBAC_KINDS.find((k) => k === value.kind);
  if (kind === undefined) return undefined;
  const meta = isObject(value.metadata) ? value.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '';
  const fail = (errors: readonly string[]): Error =>
    new Error(`${where} (${kind}${name ? ` ${quote(name)}` : ''}) is invalid: ${errors.length === 1 ? errors[0] ?? '' : `[${errors.join(', ')}]`}`);
  if (value.apiVersion !== RBAC_V1) throw fail([`apiVersion: Unsupported value: ${quote(value.apiVersion)}: supported values: ${quote(RBAC_V1)}`]);
  const errors: FieldError[] = [];
  text(meta.name, 'metadata.name', errors);
  const namespaced = kind === 'Role' || kind === 'RoleBinding';
  const namespace = namespaced ? text(meta.namespace, 'metadata.namespace', errors) : '';
  const list = (field: string): unknown[] => {
    const v = value[field] ?? [];
    if (Array.isArray(v)) return v;
    errors.push({ type: 'FieldValueInvalid', field, value: JSON.stringify(v), detail: 'must be a list' });
    return [];
  };
  let object: RbacObject;
  if (kind === 'ClusterRole' || kind === 'Role') {
    if (value.aggregationRule !== undefined) errors.push({ type: 'FieldValueForbidden', field: 'aggregationRule', detail: 'devapi does not aggregate ClusterRoles; list the rules' });
    const rules = list('rules').map((r, i) => parseRule(r, `rules[${i}]`, namespaced, errors));
    object = kind === 'Role' ? { apiVersion: RBAC_V1, kind, metadata: { name, namespace }, rules } : { apiVersion: RBAC_V1, kind, metadata: { name }, rules };
  } else {
    const ref = isObject(value.roleRef) ? value.roleRef : {};
    const refKinds = kind === 'RoleBinding' ? (['Role', 'ClusterRole'] as const) : (['ClusterRole'] as const);
    const refKind = refKinds.find((k) => k === ref.kind);
    if (refKind === undefined) errors.push(ref.kind === undefined ? required('roleRef.kind') : notSupported('roleRef.kind', ref.kind, refKinds));
    if ((ref.apiGroup ?? '') !== '' && ref.apiGroup !== RBAC_GROUP) errors.push(notSupported('roleRef.apiGroup', ref.apiGroup, [RBAC_GROUP]));
    const refName = text(ref.name, 'roleRef.name', errors);
    const subjects = list('subjects').map((s, i) => parseSubject(s, `subjects[${i}]`, namespaced, errors));
    object = kind === 'RoleBinding'
      ? { apiVersion: RBAC_V1, kind, metadata: { name, namespace }, roleRef: { apiGroup: RBAC_GROUP, kind: refKind ?? 'Role', name: refName }, subjects }
      : { apiVersion: RBAC_V1, kind, metadata: { name }, roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: refName }, subjects };
  }
  if (errors.length > 0) throw fail(errors.map(formatFieldError));
  return object;
}

/** Multi-document YAML (Helm output, `kubectl apply -f` files, `kind: List`): the RBAC objects, validated. */
export function parseRbacYaml(source: string): RbacObject[] {
  const out: RbacObject[] = [];
  const visit = (value: unknown, where: string): void => {
    if (isObject(value) && typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items)) {
      value.items.forEach((item, i) => visit(item, `${where}, items[${i}]`));
      return;
    }
    const object = parseRbacObject(value, where);
    if (object !== undefined) out.push(object);
  };
  parseAllDocuments(source).forEach((doc, i) => {
    // Helm marks each document with `# Source: chart/templates/x.yaml`: name it too.
    const origin = /Source: *(\S+)/.exec(`${doc.commentBefore ?? ''} ${isObject(doc.contents) ? String(doc.contents.commentBefore ?? '') : ''}`)?.[1];
    const where = `document ${i + 1}${origin ? ` (${origin})` : ''}`;
    const [error] = doc.errors;
    if (error !== undefined) throw new Error(`${where} is not valid YAML: ${error.message}`, { cause: error });
    visit(doc.toJS(), where);
  });
  return out;
}

/** The apiserver's bootstrap roles that matter here (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go). */
export function bootstrapPolicy(): RbacObject[] {
  const urls = (...nonResourceURLs: string[]): PolicyRule => ({ apiGroups: [], resources: [], verbs: ['get'], nonResourceURLs });
  const role = (name: string, rules: PolicyRule[], groups: string[]): [ClusterRole, ClusterRoleBinding] => [
    { apiVersion: RBAC_V1, kind: 'ClusterRole', metadata: { name }, rules },
    {
      apiVersion: RBAC_V1, kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name },
      subjects: groups.map((group) => ({ kind: 'Group', apiGroup: RBAC_GROUP, name: group })),
    },
  ];
  return [
    ...role('cluster-admin', [
      { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
      { apiGroups: [], resources: [], verbs: ['*'], nonResourceURLs: ['*'] },
    ], ['system:masters']),
    ...role('system:discovery', [urls('/livez', '/readyz', '/healthz', '/version', '/version/', '/openapi', '/openapi/*', '/api', '/api/*', '/apis', '/apis/*')], ['system:authenticated']),
    ...role('system:basic-user', [
      { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
      { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
    ], ['system:authenticated']),
    ...role('system:public-info-viewer', [urls('/livez', '/readyz', '/healthz', '/version', '/version/')], ['system:authenticated', 'system:unauthenticated']),
  ];
}

export const isResourceRequest = (attrs: RequestAttributes): attrs is ResourceAttributes => !('path' in attrs);

const has = (list: readonly string[] | undefined, value: string): boolean => list?.includes(value) ?? false;

function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  return rule.resources.some((r) => r === '*' || r === combined
    // `*/status` matches the status subresource of every resource; there is no `pods/*`.
    || (subresource !== '' && r.length === subresource.length + 2 && r.startsWith('*/') && r.endsWith(subresource)));
}

function nonResourceUrlMatches(rule: PolicyRule, path: string): boolean {
  return (rule.nonResourceURLs ?? []).some((u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.replace(/\*+$/, ''))));
}

/** Whether one rule allows the request (`RuleAllows`). */
export function ruleAllows(attrs: RequestAttributes, rule: PolicyRule): boolean {
  if (!has(rule.verbs, attrs.verb) && !has(rule.verbs, '*')) return false;
  if (!isResourceRequest(attrs)) return nonResourceUrlMatches(rule, attrs.path);
  const subresource = attrs.subresource ?? '';
  const combined = subresource === '' ? attrs.resource : `${attrs.resource}/${subresource}`;
  return (has(rule.apiGroups, attrs.apiGroup) || has(rule.apiGroups, '*'))
    && resourceMatches(rule, combined, subresource)
    // An empty list is any name; otherwise the name must be listed, so never a nameless create/list/watch.
    && (rule.resourceNames === undefined || rule.resourceNames.length === 0 || rule.resourceNames.includes(attrs.name ?? ''));
}

/** The user name of a ServiceAccount (`system:serviceaccount:<ns>:<name>`). */
export const serviceAccountUserName = (namespace: string, name: string): string => `system:serviceaccount:${namespace}:${name}`;

/** A ServiceAccount identity as the apiserver authenticates it (devapi.md A5). */
export const serviceAccountUser = (namespace: string, name: string): UserInfo => ({
  name: serviceAccountUserName(namespace, name),
  groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
});

/** `appliesToUser`: a ServiceAccount subject without a namespace takes the RoleBinding's. */
function appliesTo(user: UserInfo, subject: Subject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User': return user.name === subject.name;
    case 'Group': return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const namespace = subject.namespace ?? bindingNamespace;
      return namespace !== '' && user.name === serviceAccountUserName(namespace, subject.name);
    }
  }
}

/** `describeSubject`: note the real one prints a ServiceAccount as `name/namespace`. */
function describeSubject(subject: Subject, bindingNamespace: string): string {
  return subject.kind === 'ServiceAccount'
    ? `ServiceAccount ${quote(`${subject.name}/${subject.namespace ?? bindingNamespace}`)}`
    : `${subject.kind} ${quote(subject.name)}`;
}

interface Binding {
  readonly source: string;
  readonly namespace: string;
  readonly subjects: readonly Subject[];
  readonly roleKind: 'ClusterRole' | 'Role';
  readonly roleName: string;
}

/** The RBAC authorizer over a fixed set of objects. Bootstrap roles (cluster-admin, discovery, …) are included unless `bootstrap: false`. */
export class Authorizer implements RequestAuthorizer {
  readonly objects: readonly RbacObject[];
  readonly #clusterRoles = new Map<string, readonly PolicyRule[]>();
  readonly #roles = new Map<string, readonly PolicyRule[]>();
  readonly #clusterRoleBindings: Binding[] = [];
  readonly #roleBindings = new Map<string, Binding[]>();

  constructor(objects: readonly RbacObject[], options: { readonly bootstrap?: boolean } = {}) {
    const base = options.bootstrap === false ? [] : bootstrapPolicy();
    // Later objects replace earlier ones of the same kind and name, as `kubectl apply` would.
    const byKey = new Map<string, RbacObject>();
    for (const o of [...base, ...objects]) byKey.set(`${o.kind}/${namespaceOf(o)}/${o.metadata.name}`, o);
    this.objects = [...byKey.values()];
    for (const o of this.objects) {
      const name = o.metadata.name;
      const namespace = namespaceOf(o);
      switch (o.kind) {
        case 'ClusterRole': this.#clusterRoles.set(name, o.rules); break;
        case 'Role': this.#roles.set(`${namespace}/${name}`, o.rules); break;
        case 'ClusterRoleBinding':
          this.#clusterRoleBindings.push({ source: `ClusterRoleBinding ${quote(name)}`, namespace: '', subjects: o.subjects, roleKind: 'ClusterRole', roleName: o.roleRef.name });
          break;
        case 'RoleBinding': {
          const list = this.#roleBindings.get(namespace) ?? [];
          list.push({ source: `RoleBinding ${quote(`${name}/${namespace}`)}`, namespace, subjects: o.subjects, roleKind: o.roleRef.kind, roleName: o.roleRef.name });
          this.#roleBindings.set(namespace, list);
          break;
        }
      }
    }
  }

  /** Parse multi-document YAML (Helm output, `kubectl apply -f` files); other kinds are ignored. Throws naming the bad document. */
  static fromYaml(text: string, options: { readonly bootstrap?: boolean } = {}): Authorizer {
    return new Authorizer(parseRbacYaml(text), options);
  }

  authorize(user: UserInfo, attrs: RequestAttributes): Decision {
    const namespace = isResourceRequest(attrs) ? attrs.namespace ?? '' : '';
    // ClusterRoleBindings apply everywhere; RoleBindings only to requests in their namespace.
    const bindings = namespace === '' ? this.#clusterRoleBindings : [...this.#clusterRoleBindings, ...this.#roleBindings.get(namespace) ?? []];
    const errors = new Set<string>();
    for (const binding of bindings) {
      const subject = binding.subjects.find((s) => appliesTo(user, s, binding.namespace));
      if (subject === undefined) continue;
      const rules = binding.roleKind === 'ClusterRole' ? this.#clusterRoles.get(binding.roleName) : this.#roles.get(`${binding.namespace}/${binding.roleName}`);
      if (rules === undefined) {
        errors.add(`${binding.roleKind.toLowerCase()}.rbac.authorization.k8s.io ${quote(binding.roleName)} not found`);
        continue;
      }
      if (rules.some((rule) => ruleAllows(attrs, rule))) {
        const reason = `RBAC: allowed by ${binding.source} of ${binding.roleKind} ${quote(binding.roleName)} to ${describeSubject(subject, binding.namespace)}`;
        return { allowed: true, reason };
      }
    }
    // Go's aggregate error: one message bare, several in brackets.
    const list = [...errors];
    const reason = list.length === 0 ? '' : `RBAC: ${list.length === 1 ? list[0] ?? '' : `[${list.join(', ')}]`}`;
    return { allowed: false, reason };
  }
}

/**
 * The apiserver's 403 message (`responsewriters.forbiddenMessage` wrapped by `NewForbidden`):
 * `certificatesigningrequests.certificates.k8s.io "x" is forbidden: User "u" cannot update resource
 * "certificatesigningrequests/approval" in API group "certificates.k8s.io" at the cluster scope`.
 * A non-empty `reason` is appended after `: `, as the apiserver does.
 */
export function forbiddenMessage(user: UserInfo, attrs: RequestAttributes, reason = ''): string {
  const why = reason === '' ? '' : `: ${reason}`;
  if (!isResourceRequest(attrs)) return `forbidden: User ${quote(user.name)} cannot ${attrs.verb} path ${quote(attrs.path)}${why}`;
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const scope = attrs.namespace ? `in the namespace ${quote(attrs.namespace)}` : 'at the cluster scope';
  const detail = `User ${quote(user.name)} cannot ${attrs.verb} resource ${quote(resource)} in API group ${quote(attrs.apiGroup)} ${scope}${why}`;
  const qualified = attrs.apiGroup === '' ? attrs.resource : `${attrs.resource}.${attrs.apiGroup}`;
  return attrs.name ? `${qualified} ${quote(attrs.name)} is forbidden: ${detail}` : `${qualified} is forbidden: ${detail}`;
}

/** The 403 Status for a denied request; details as Go serialises them (empty fields omitted, `{}` for a path). */
export function forbiddenError(user: UserInfo, attrs: RequestAttributes, reason = ''): ApiError {
  const details = isResourceRequest(attrs)
    ? { ...(attrs.name ? { name: attrs.name } : {}), ...(attrs.apiGroup ? { group: attrs.apiGroup } : {}), kind: attrs.resource }
    : {};
  return forbidden(forbiddenMessage(user, attrs, reason), details);
}

/**
 * `IsAuthorizedForSignerName` (plugin/pkg/admission/certificates/util.go): verb `sign` or `approve`
 * on `signers.certificates.k8s.io` named after the signer, or else named `<domain>/*`.
 */
export function isAuthorizedForSignerName(authorizer: RequestAuthorizer, user: UserInfo, verb: 'sign' | 'approve', signerName: string): boolean {
  const attrs = (name: string): ResourceAttributes => ({ verb, apiGroup: 'certificates.k8s.io', resource: 'signers', name });
  if (authorizer.authorize(user, attrs(signerName)).allowed) return true;
  const domain = signerName.split('/')[0] ?? '';
  return authorizer.authorize(user, attrs(`${domain}/*`)).allowed;
}

/** The admission plugins' 403 (R14/R15): `… "<csr>" is forbidden: user not permitted to sign requests with signerName "<signer>"`. */
export function signerNotPermitted(csrName: string, verb: 'sign' | 'approve', signerName: string): ApiError {
  return forbidden(
    `certificatesigningrequests.certificates.k8s.io ${quote(csrName)} is forbidden: user not permitted to ${verb} requests with signerName ${quote(signerName)}`,
    { name: csrName, group: 'certificates.k8s.io', kind: 'certificatesigningrequests' },
  );
}
