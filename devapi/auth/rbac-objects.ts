/**
 * RBAC objects: the rbac.authorization.k8s.io/v1 kinds, their parsing and
 * validation from YAML as the apiserver validates them, and the bootstrap roles that give
 * every user discovery and health. The evaluator over them lives in `rbac.ts`.
 */
import { parseAllDocuments } from 'yaml';
import type { PolicyRule } from './signer-role.js';
import { type FieldError, formatFieldError, quote } from '../api/errors.js';

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
