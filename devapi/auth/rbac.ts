/**
 * RBAC with Kubernetes semantics: rule matching as in
 * `pkg/apis/rbac/v1/evaluation_helpers.go`, binding resolution and reasons as in
 * `plugin/pkg/auth/authorizer/rbac/rbac.go`, the bootstrap roles that give every
 * user discovery and health, the 403 texts of the apiserver, and the `signers`
 * check of the CSR admission plugins (`sign` for /status, `approve` for /approval).
 */
import type { PolicyRule } from './signer-role.js';
import { bootstrapPolicy, parseRbacYaml, type RbacObject, type Subject } from './rbac-objects.js';
import { type ApiError, forbidden, quote } from '../api/errors.js';

export type { PolicyRule } from './signer-role.js';
export { bootstrapPolicy, parseRbacObject, parseRbacYaml, RBAC_V1 } from './rbac-objects.js';
export type { ClusterRole, ClusterRoleBinding, RbacObject, Role, RoleBinding, RoleRef, Subject } from './rbac-objects.js';

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

const namespaceOf = (o: RbacObject): string => (o.kind === 'Role' || o.kind === 'RoleBinding' ? o.metadata.namespace : '');

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
 * `IsAuthorizedForSignerName` (plugin/pkg/admission/certificates/util.go): verb `sign`, `approve` or `attest`
 * on `signers.certificates.k8s.io` named after the signer, or else named `<domain>/*`.
 */
export function isAuthorizedForSignerName(authorizer: RequestAuthorizer, user: UserInfo, verb: 'sign' | 'approve' | 'attest', signerName: string): boolean {
  const attrs = (name: string): ResourceAttributes => ({ verb, apiGroup: 'certificates.k8s.io', resource: 'signers', name });
  if (authorizer.authorize(user, attrs(signerName)).allowed) return true;
  const domain = signerName.split('/')[0] ?? '';
  return authorizer.authorize(user, attrs(`${domain}/*`)).allowed;
}

/** The CSR admission plugins' 403: `… "<csr>" is forbidden: user not permitted to sign requests with signerName "<signer>"`. */
export function signerNotPermitted(csrName: string, verb: 'sign' | 'approve', signerName: string): ApiError {
  return forbidden(
    `certificatesigningrequests.certificates.k8s.io ${quote(csrName)} is forbidden: user not permitted to ${verb} requests with signerName ${quote(signerName)}`,
    { name: csrName, group: 'certificates.k8s.io', kind: 'certificatesigningrequests' },
  );
}
