/**
 * devapi's RBAC: rule matching, bindings and reasons as kube-apiserver has them,
 * the bootstrap roles, the 403 texts, the `signers` admission check, and the proof
 * that the default signer identity can do what signerClusterRules grants and no more.
 */
import t from 'tap';
import { stringify } from 'yaml';
import { DEFAULT_SIGNER_NAMES, defaultPolicy } from '../../../devapi/auth/default-policy.js';
import {
  Authorizer, forbiddenError, forbiddenMessage, isAuthorizedForSignerName, type PolicyRule, type RbacObject, type RequestAttributes,
  ruleAllows, serviceAccountUser, signerNotPermitted, type UserInfo,
} from '../../../devapi/auth/rbac.js';
import { approverClusterRules, requesterClusterRules, signerClusterRules, signerLeaseRules, signerRotationRecordRules } from '../../../devapi/auth/signer-role.js';

const CERTS = 'certificates.k8s.io';
const csr = (verb: string, extra: Partial<{ subresource: string; name: string }> = {}): RequestAttributes =>
  ({ verb, apiGroup: CERTS, resource: 'certificatesigningrequests', ...extra });
const signers = (verb: string, name: string): RequestAttributes => ({ verb, apiGroup: CERTS, resource: 'signers', name });
const authenticated = (name: string, ...groups: string[]): UserInfo => ({ name, groups: [...groups, 'system:authenticated'] });
const anonymous: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

void t.test('a rule matches verb, group, resource, subresource, name and URL as Kubernetes does', (t) => {
  const rule = (r: Partial<PolicyRule>): PolicyRule => ({ apiGroups: [CERTS], resources: ['certificatesigningrequests'], verbs: ['get'], ...r });
  const cases: [string, PolicyRule, RequestAttributes, boolean][] = [
    ['an exact verb, group and resource allow', rule({}), csr('get'), true],
    ['another verb is refused', rule({}), csr('list'), false],
    ['verb * allows any verb', rule({ verbs: ['*'] }), csr('deletecollection'), true],
    ['another API group is refused', rule({}), { verb: 'get', apiGroup: '', resource: 'certificatesigningrequests' }, false],
    ['apiGroup * allows any group', rule({ apiGroups: ['*'] }), { verb: 'get', apiGroup: 'x.io', resource: 'certificatesigningrequests' }, true],
    ['the core group is "" and matches only ""', rule({ apiGroups: [''], resources: ['secrets'] }), { verb: 'get', apiGroup: '', resource: 'secrets' }, true],
    ['the main resource does not grant its subresource', rule({ verbs: ['update'] }), csr('update', { subresource: 'status' }), false],
    ['resource/sub grants that subresource', rule({ resources: ['certificatesigningrequests/status'], verbs: ['update'] }), csr('update', { subresource: 'status' }), true],
    ['resource/sub does not grant the main resource', rule({ resources: ['certificatesigningrequests/status'], verbs: ['update'] }), csr('update'), false],
    ['resource/sub does not grant another subresource', rule({ resources: ['certificatesigningrequests/status'], verbs: ['update'] }), csr('update', { subresource: 'approval' }), false],
    ['*/status grants status of any resource', rule({ resources: ['*/status'], verbs: ['update'] }), csr('update', { subresource: 'status' }), true],
    ['*/status does not grant the main resource', rule({ resources: ['*/status'], verbs: ['update'] }), csr('update'), false],
    ['*/status does not grant */approval', rule({ resources: ['*/status'], verbs: ['update'] }), csr('update', { subresource: 'approval' }), false],
    ['there is no resource/* wildcard', rule({ resources: ['certificatesigningrequests/*'], verbs: ['update'] }), csr('update', { subresource: 'status' }), false],
    ['resource * grants every resource and subresource', rule({ resources: ['*'], verbs: ['update'] }), csr('update', { subresource: 'approval' }), true],
    ['a listed resourceName allows get of that name', rule({ resourceNames: ['a'] }), csr('get', { name: 'a' }), true],
    ['an unlisted name is refused', rule({ resourceNames: ['a'] }), csr('get', { name: 'b' }), false],
    ['resourceNames never grant list', rule({ resourceNames: ['a'], verbs: ['list'] }), csr('list'), false],
    ['resourceNames never grant watch', rule({ resourceNames: ['a'], verbs: ['watch'] }), csr('watch'), false],
    ['resourceNames never grant create', rule({ resourceNames: ['a'], verbs: ['create'] }), csr('create'), false],
    ['resourceNames never grant deletecollection', rule({ resourceNames: ['a'], verbs: ['deletecollection'] }), csr('deletecollection'), false],
    ['an empty resourceNames list is any name', rule({ resourceNames: [] }), csr('get', { name: 'z' }), true],
    ['a resource rule never grants a path', rule({ resources: ['*'], apiGroups: ['*'], verbs: ['*'] }), { verb: 'get', path: '/apis' }, false],
    ['an exact URL allows that path', { apiGroups: [], resources: [], verbs: ['get'], nonResourceURLs: ['/apis'] }, { verb: 'get', path: '/apis' }, true],
    ['an exact URL does not allow a longer path', { apiGroups: [], resources: [], verbs: ['get'], nonResourceURLs: ['/apis'] }, { verb: 'get', path: '/apis/x' }, false],
    ['a trailing * is a prefix', { apiGroups: [], resources: [], verbs: ['get'], nonResourceURLs: ['/apis/*'] }, { verb: 'get', path: '/apis/certificates.k8s.io/v1' }, true],
    ['a trailing * prefix needs its slash', { apiGroups: [], resources: [], verbs: ['get'], nonResourceURLs: ['/apis/*'] }, { verb: 'get', path: '/apis' }, false],
    ['a prefix without slash matches more', { apiGroups: [], resources: [], verbs: ['get'], nonResourceURLs: ['/api*'] }, { verb: 'get', path: '/apis' }, true],
    ['URL * matches every path', { apiGroups: [], resources: [], verbs: ['get'], nonResourceURLs: ['*'] }, { verb: 'get', path: '/metrics' }, true],
    ['a URL rule checks the verb too', { apiGroups: [], resources: [], verbs: ['get'], nonResourceURLs: ['*'] }, { verb: 'post', path: '/metrics' }, false],
    ['a URL rule never grants a resource', { apiGroups: [], resources: [], verbs: ['*'], nonResourceURLs: ['*'] }, csr('get'), false],
  ];
  for (const [name, r, attrs, expected] of cases) t.equal(ruleAllows(attrs, r), expected, name);
  t.end();
});

const rbac = (objects: object[]): string => objects.map((o) => stringify(o)).join('---\n');
const readCsrs = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'read-csrs' }, rules: [{ apiGroups: ['', CERTS], resources: ['certificatesigningrequests', 'configmaps'], verbs: ['get'] }] };
const bindings = Authorizer.fromYaml(rbac([
  readCsrs,
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'leases', namespace: 'ns1' }, rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get'] }] },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'rb', namespace: 'ns1' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'read-csrs' }, subjects: [{ kind: 'User', name: 'alice' }, { kind: 'ServiceAccount', name: 'local' }] },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'leases', namespace: 'ns1' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'leases' }, subjects: [{ kind: 'Group', name: 'lease-readers' }] },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'crb' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'read-csrs' }, subjects: [{ kind: 'ServiceAccount', name: 'bot', namespace: 'tools' }] },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'dangling' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'gone' }, subjects: [{ kind: 'User', name: 'dan' }] },
]));

void t.test('bindings grant to their subjects, a RoleBinding only in its namespace, with the real reasons', (t) => {
  const cm = (namespace?: string): RequestAttributes => ({ verb: 'get', apiGroup: '', resource: 'configmaps', name: 'c', ...(namespace ? { namespace } : {}) });
  const cases: [string, UserInfo, RequestAttributes, boolean, string][] = [
    ['a RoleBinding to a ClusterRole grants in its namespace', authenticated('alice'), cm('ns1'), true,
      'RBAC: allowed by RoleBinding "rb/ns1" of ClusterRole "read-csrs" to User "alice"'],
    ['a RoleBinding to a ClusterRole grants nothing in another namespace', authenticated('alice'), cm('ns2'), false, ''],
    ['a RoleBinding to a ClusterRole grants nothing at cluster scope', authenticated('alice'), csr('get', { name: 'x' }), false, ''],
    ['a RoleBinding to a Role grants that Role in its namespace', { name: 'bob', groups: ['lease-readers'] }, { verb: 'get', apiGroup: 'coordination.k8s.io', resource: 'leases', namespace: 'ns1' }, true,
      'RBAC: allowed by RoleBinding "leases/ns1" of Role "leases" to Group "lease-readers"'],
    ['a ServiceAccount subject without namespace takes the RoleBinding\'s', serviceAccountUser('ns1', 'local'), cm('ns1'), true,
      'RBAC: allowed by RoleBinding "rb/ns1" of ClusterRole "read-csrs" to ServiceAccount "local/ns1"'],
    ['a ServiceAccount of the same name in another namespace is someone else', serviceAccountUser('ns2', 'local'), cm('ns1'), false, ''],
    ['a ClusterRoleBinding to a ServiceAccount grants at cluster scope', serviceAccountUser('tools', 'bot'), csr('get', { name: 'x' }), true,
      'RBAC: allowed by ClusterRoleBinding "crb" of ClusterRole "read-csrs" to ServiceAccount "bot/tools"'],
    ['a ClusterRoleBinding grants in every namespace', serviceAccountUser('tools', 'bot'), cm('anywhere'), true,
      'RBAC: allowed by ClusterRoleBinding "crb" of ClusterRole "read-csrs" to ServiceAccount "bot/tools"'],
    ['a User subject matches the name, not a group of that name', { name: 'eve', groups: ['alice'] }, cm('ns1'), false, ''],
    ['a binding to a missing role grants nothing and says so', authenticated('dan'), cm('ns1'), false,
      'RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found'],
    ['system:masters may do anything', { name: 'admin', groups: ['system:masters'] }, { verb: 'delete', apiGroup: '', resource: 'secrets', namespace: 'x', name: 'y' }, true,
      'RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters"'],
    ['system:masters may get any path', { name: 'admin', groups: ['system:masters'] }, { verb: 'get', path: '/metrics' }, true,
      'RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters"'],
  ];
  for (const [name, user, attrs, allowed, reason] of cases) t.same(bindings.authorize(user, attrs), { allowed, reason }, name);
  t.end();
});

void t.test('every user gets discovery and health, and anonymous only health and version', (t) => {
  const path = (p: string): RequestAttributes => ({ verb: 'get', path: p });
  const ssar: RequestAttributes = { verb: 'create', apiGroup: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' };
  const someone = authenticated('someone');
  const cases: [string, UserInfo, RequestAttributes, boolean][] = [
    ...['/api', '/api/v1', '/apis', '/apis/certificates.k8s.io/v1', '/openapi', '/openapi/v3', '/version', '/version/', '/healthz', '/livez', '/readyz']
      .map((p): [string, UserInfo, RequestAttributes, boolean] => [`an authenticated user may get ${p}`, someone, path(p), true]),
    ['an authenticated user may create selfsubjectaccessreviews', someone, ssar, true],
    ['an authenticated user may not create subjectaccessreviews', someone, { ...ssar, resource: 'subjectaccessreviews' }, false],
    ['an authenticated user may not get /metrics', someone, path('/metrics'), false],
    ['an authenticated user may not post to /apis', someone, { verb: 'post', path: '/apis' }, false],
    ['an authenticated user may not list CSRs', someone, csr('list'), false],
    ...['/version', '/healthz', '/livez', '/readyz']
      .map((p): [string, UserInfo, RequestAttributes, boolean] => [`anonymous may get ${p}`, anonymous, path(p), true]),
    ...['/api', '/apis', '/openapi/v2']
      .map((p): [string, UserInfo, RequestAttributes, boolean] => [`anonymous may not get ${p}`, anonymous, path(p), false]),
    ['anonymous may not create selfsubjectaccessreviews', anonymous, ssar, false],
  ];
  for (const [name, user, attrs, allowed] of cases) t.equal(bindings.authorize(user, attrs).allowed, allowed, name);
  t.equal(new Authorizer([], { bootstrap: false }).authorize({ name: 'admin', groups: ['system:masters'] }, path('/version')).allowed, false,
    'without the bootstrap policy not even system:masters is allowed');
  t.end();
});

void t.test('a denial reads exactly as the apiserver writes it', (t) => {
  const u: UserInfo = { name: 'system:serviceaccount:csr-signer:csr-signer', groups: [] };
  const cases: [string, RequestAttributes, string][] = [
    ['a named cluster-scoped subresource', csr('update', { name: 'node-1', subresource: 'approval' }),
      'certificatesigningrequests.certificates.k8s.io "node-1" is forbidden: User "system:serviceaccount:csr-signer:csr-signer" cannot update resource "certificatesigningrequests/approval" in API group "certificates.k8s.io" at the cluster scope'],
    ['a collection has no name', csr('list'),
      'certificatesigningrequests.certificates.k8s.io is forbidden: User "system:serviceaccount:csr-signer:csr-signer" cannot list resource "certificatesigningrequests" in API group "certificates.k8s.io" at the cluster scope'],
    ['a core resource has no group suffix', { verb: 'get', apiGroup: '', resource: 'secrets', namespace: 'kube-system', name: 'ca' },
      'secrets "ca" is forbidden: User "system:serviceaccount:csr-signer:csr-signer" cannot get resource "secrets" in API group "" in the namespace "kube-system"'],
    ['a namespaced create has no name', { verb: 'create', apiGroup: 'coordination.k8s.io', resource: 'leases', namespace: 'csr-signer' },
      'leases.coordination.k8s.io is forbidden: User "system:serviceaccount:csr-signer:csr-signer" cannot create resource "leases" in API group "coordination.k8s.io" in the namespace "csr-signer"'],
    ['a path', { verb: 'get', path: '/apis' }, 'forbidden: User "system:serviceaccount:csr-signer:csr-signer" cannot get path "/apis"'],
  ];
  for (const [name, attrs, message] of cases) t.equal(forbiddenMessage(u, attrs), message, name);
  t.equal(forbiddenMessage({ name: 'dan', groups: [] }, { verb: 'get', path: '/x' }, 'RBAC: role "r" not found'),
    'forbidden: User "dan" cannot get path "/x": RBAC: role "r" not found', 'a reason follows after a colon');
  t.same(forbiddenError(u, csr('get', { name: 'a' })).toStatus(), {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403,
    message: forbiddenMessage(u, csr('get', { name: 'a' })), details: { name: 'a', group: CERTS, kind: 'certificatesigningrequests' },
  }, 'the Status names the resource in details');
  t.same(forbiddenError(u, { verb: 'get', apiGroup: '', resource: 'secrets' }).toStatus().details, { kind: 'secrets' }, 'empty name and core group are omitted from details');
  t.same(forbiddenError(u, { verb: 'get', path: '/apis' }).toStatus().details, {}, 'a path has empty details');
  t.equal(signerNotPermitted('c1', 'sign', 'example.com/foo').message,
    'certificatesigningrequests.certificates.k8s.io "c1" is forbidden: user not permitted to sign requests with signerName "example.com/foo"', 'the signing admission text');
  t.equal(signerNotPermitted('c1', 'approve', 'example.com/foo').message,
    'certificatesigningrequests.certificates.k8s.io "c1" is forbidden: user not permitted to approve requests with signerName "example.com/foo"', 'the approval admission text');
  t.end();
});

void t.test('signer permission is the exact name or the <domain>/* wildcard', (t) => {
  const signerRole = (verb: string, names: string[]): object[] => [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'r' }, rules: [{ apiGroups: [CERTS], resources: ['signers'], resourceNames: names, verbs: [verb] }] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'r' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'r' }, subjects: [{ kind: 'User', name: 'u' }] },
  ];
  const u = authenticated('u');
  const cases: [string, object[], 'sign' | 'approve', string, boolean][] = [
    ['an exact name allows that signer', signerRole('sign', ['example.com/foo']), 'sign', 'example.com/foo', true],
    ['an exact name does not allow a sibling signer', signerRole('sign', ['example.com/foo']), 'sign', 'example.com/bar', false],
    ['<domain>/* allows every signer of the domain', signerRole('sign', ['example.com/*']), 'sign', 'example.com/a/b', true],
    ['<domain>/* refuses another domain', signerRole('sign', ['example.com/*']), 'sign', 'other.org/x', false],
    ['<domain>/* refuses a domain that merely ends the same', signerRole('sign', ['example.com/*']), 'sign', 'badexample.com/x', false],
    ['sign does not allow approve', signerRole('sign', ['example.com/*']), 'approve', 'example.com/foo', false],
    ['approve does not allow sign', signerRole('approve', ['example.com/*']), 'sign', 'example.com/foo', false],
    ['approve allows approve', signerRole('approve', ['example.com/foo']), 'approve', 'example.com/foo', true],
    ['a bare * is not a wildcard signer name', signerRole('sign', ['*']), 'sign', 'example.com/foo', false],
  ];
  for (const [name, objects, verb, signerName, expected] of cases) {
    t.equal(isAuthorizedForSignerName(Authorizer.fromYaml(rbac(objects)), u, verb, signerName), expected, name);
  }
  const asked: string[] = [];
  isAuthorizedForSignerName({ authorize: (_u, a) => { asked.push('name' in a ? a.name ?? '' : ''); return { allowed: false, reason: '' }; } }, u, 'sign', 'kubernetes.io/kube-apiserver-client');
  t.same(asked, ['kubernetes.io/kube-apiserver-client', 'kubernetes.io/*'], 'the exact name is asked first, then the domain wildcard');
  t.end();
});

void t.test('YAML loading ignores other kinds and refuses broken RBAC, naming the document', (t) => {
  const crb = (roleRef: object): object => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'b' }, roleRef, subjects: [] });
  const cases: [string, string, RegExp][] = [
    ['a rule without verbs', rbac([{ kind: 'ConfigMap', apiVersion: 'v1' }, { ...readCsrs, rules: [{ apiGroups: [''], resources: ['pods'] }] }]),
      /^document 2 \(ClusterRole "read-csrs"\) is invalid: rules\[0\]\.verbs: Required value: verbs must contain at least one value$/],
    ['verbs that are not a list', rbac([{ ...readCsrs, rules: [{ apiGroups: [''], resources: ['pods'], verbs: 'get' }] }]),
      /rules\[0\]\.verbs: Invalid value: "get": must be a list of strings/],
    ['a resource rule without resources', rbac([{ ...readCsrs, rules: [{ apiGroups: [''], verbs: ['get'] }] }]), /rules\[0\]\.resources: Required value/],
    ['a rule mixing resources and URLs', rbac([{ ...readCsrs, rules: [{ apiGroups: [''], resources: ['pods'], nonResourceURLs: ['/x'], verbs: ['get'] }] }]),
      /rules cannot apply to both regular resources and non-resource URLs/],
    ['a Role with URLs', rbac([{ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r', namespace: 'n' }, rules: [{ nonResourceURLs: ['/x'], verbs: ['get'] }] }]),
      /namespaced rules cannot apply to non-resource URLs/],
    ['a binding without roleRef kind', rbac([crb({ apiGroup: 'rbac.authorization.k8s.io', name: 'x' })]), /^document 1 \(ClusterRoleBinding "b"\) is invalid: roleRef\.kind: Required value$/],
    ['a ClusterRoleBinding to a Role', rbac([crb({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'x' })]),
      /roleRef\.kind: Unsupported value: "Role": supported values: "ClusterRole"$/],
    ['a binding to an unknown kind', rbac([crb({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Policy', name: 'x' })]), /roleRef\.kind: Unsupported value: "Policy"/],
    ['a ClusterRoleBinding to a ServiceAccount without namespace',
      rbac([{ ...crb({ kind: 'ClusterRole', name: 'x' }), subjects: [{ kind: 'ServiceAccount', name: 's' }] }]), /subjects\[0\]\.namespace: Required value/],
    ['an unknown subject kind', rbac([{ ...crb({ kind: 'ClusterRole', name: 'x' }), subjects: [{ kind: 'Team', name: 's' }] }]), /subjects\[0\]\.kind: Unsupported value: "Team"/],
    ['a Role without namespace', rbac([{ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r' }, rules: [] }]), /metadata\.namespace: Required value/],
    ['an old apiVersion', rbac([{ ...readCsrs, apiVersion: 'rbac.authorization.k8s.io/v1beta1' }]), /apiVersion: Unsupported value: "rbac.authorization.k8s.io\/v1beta1"/],
    ['an aggregated ClusterRole', rbac([{ ...readCsrs, aggregationRule: { clusterRoleSelectors: [] } }]), /aggregationRule: Forbidden/],
    ['a Helm document, by its source', `---\n# Source: csr-signer/templates/rbac.yaml\n${rbac([{ ...readCsrs, rules: [{}] }])}`, /^document 1 \(csr-signer\/templates\/rbac\.yaml\) \(ClusterRole/],
    ['a List item', rbac([{ apiVersion: 'v1', kind: 'List', items: [readCsrs, { ...readCsrs, rules: 'all' }] }]), /^document 1, items\[1\] \(ClusterRole "read-csrs"\) is invalid: rules: Invalid value/],
    ['broken YAML', `${rbac([readCsrs])}---\nrules: [a\n`, /^document 2 is not valid YAML/],
  ];
  for (const [name, yaml, error] of cases) t.throws(() => Authorizer.fromYaml(yaml), error, `${name} is refused`);
  const loaded = Authorizer.fromYaml(`${rbac([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } }, { apiVersion: 'example.com/v1', kind: 'ClusterRole' }])}---\n---\n`, { bootstrap: false });
  t.same(loaded.objects, [], 'other kinds, a same-named kind of another group, and empty documents are ignored');
  t.end();
});

void t.test('the default signer can do exactly what signerClusterRules, its lease and its rotation record grant', (t) => {
  const policy = defaultPolicy();
  const clusterRole = policy.find((o): o is RbacObject & { kind: 'ClusterRole' } => o.kind === 'ClusterRole' && o.metadata.name === 'csr-signer');
  t.same(clusterRole?.rules, signerClusterRules(DEFAULT_SIGNER_NAMES), 'the ClusterRole is built from signerClusterRules');
  t.same(DEFAULT_SIGNER_NAMES, ['example.com/*', 'kubernetes.io/*'], 'the signer names default to example.com/* and kubernetes.io/*');
  const role = (name: string): RbacObject | undefined => policy.find((o) => o.kind === 'Role' && o.metadata.name === name);
  t.match(role('csr-signer-rotation-record'), { metadata: { namespace: 'csr-signer' }, rules: signerRotationRecordRules('csr-signer-rotation') }, 'the rotation-record Role is built from signerRotationRecordRules');
  t.match(policy.find((o) => o.kind === 'RoleBinding' && o.metadata.name === 'csr-signer-rotation-record'), {
    metadata: { namespace: 'csr-signer' }, roleRef: { kind: 'Role', name: 'csr-signer-rotation-record' }, subjects: [{ kind: 'ServiceAccount', name: 'csr-signer', namespace: 'csr-signer' }],
  }, 'and bound to the signer in the lease namespace');
  // Loaded back from YAML, so the policy also passes devapi's own validation.
  const authorizer = Authorizer.fromYaml(rbac(policy));
  const signer = serviceAccountUser('csr-signer', 'csr-signer');
  const lease = (verb: string, name?: string, namespace = 'csr-signer'): RequestAttributes => ({ verb, apiGroup: 'coordination.k8s.io', resource: 'leases', namespace, ...(name ? { name } : {}) });
  const configMap = (verb: string, name?: string, namespace = 'csr-signer'): RequestAttributes => ({ verb, apiGroup: '', resource: 'configmaps', namespace, ...(name ? { name } : {}) });
  const cases: [string, RequestAttributes, boolean][] = [
    ['list CSRs', csr('list'), true],
    ['watch CSRs', csr('watch'), true],
    ['get a CSR', csr('get', { name: 'c' }), true],
    ['update a CSR\'s status', csr('update', { name: 'c', subresource: 'status' }), true],
    ['not patch a CSR\'s status (the client PUTs it)', csr('patch', { name: 'c', subresource: 'status' }), false],
    ['sign for example.com/*', signers('sign', 'example.com/*'), true],
    ['sign for kubernetes.io/*', signers('sign', 'kubernetes.io/*'), true],
    ['create core events', { verb: 'create', apiGroup: '', resource: 'events', namespace: 'default' }, true],
    ['not create events.k8s.io events (the client POSTs core Events)', { verb: 'create', apiGroup: 'events.k8s.io', resource: 'events', namespace: 'default' }, false],
    ['not patch core events', { verb: 'patch', apiGroup: '', resource: 'events', namespace: 'default', name: 'e' }, false],
    ['not patch its lease', lease('patch', 'csr-signer'), false],
    ['get its lease', lease('get', 'csr-signer'), true],
    ['update its lease', lease('update', 'csr-signer'), true],
    ['create a lease', lease('create'), true],
    ['not update another lease', lease('update', 'other'), false],
    ['not get its lease name in another namespace', lease('get', 'csr-signer', 'kube-system'), false],
    ['not list leases', lease('list'), false],
    ['get its rotation record', configMap('get', 'csr-signer-rotation'), true],
    ['update its rotation record', configMap('update', 'csr-signer-rotation'), true],
    ['not patch its rotation record', configMap('patch', 'csr-signer-rotation'), false],
    ['create a configmap in its namespace (the record, the first time)', configMap('create'), true],
    ['not get another configmap of its namespace', configMap('get', 'other'), false],
    ['not delete its rotation record', configMap('delete', 'csr-signer-rotation'), false],
    ['not list configmaps', configMap('list'), false],
    ['not watch configmaps', configMap('watch'), false],
    ['not get its record name in another namespace', configMap('get', 'csr-signer-rotation', 'kube-system'), false],
    ['not create configmaps in another namespace', configMap('create', undefined, 'default'), false],
    ['not list namespaces (trust publishing is not a default)', { verb: 'list', apiGroup: '', resource: 'namespaces' }, false],
    ['not create clustertrustbundles', { verb: 'create', apiGroup: CERTS, resource: 'clustertrustbundles' }, false],
    ['not attest for example.com/*', signers('attest', 'example.com/*'), false],
    ['not approve', signers('approve', 'example.com/*'), false],
    ['not update /approval', csr('update', { name: 'c', subresource: 'approval' }), false],
    ['not update the main resource', csr('update', { name: 'c' }), false],
    ['not patch the main resource', csr('patch', { name: 'c' }), false],
    ['not create CSRs', csr('create'), false],
    ['not delete CSRs', csr('delete', { name: 'c' }), false],
    ['not get secrets', { verb: 'get', apiGroup: '', resource: 'secrets', namespace: 'csr-signer', name: 's' }, false],
    ['not sign for other.org/*', signers('sign', 'other.org/*'), false],
  ];
  for (const [name, attrs, allowed] of cases) t.equal(authorizer.authorize(signer, attrs).allowed, allowed, `the signer may ${name}`);
  const signs: [string, 'sign' | 'approve', string, boolean][] = [
    ['admission lets the signer sign for example.com/foo', 'sign', 'example.com/foo', true],
    ['admission lets the signer sign for kubernetes.io/kube-apiserver-client', 'sign', 'kubernetes.io/kube-apiserver-client', true],
    ['admission refuses the signer signing for other.org/x', 'sign', 'other.org/x', false],
    ['admission refuses the signer approving for example.com/foo', 'approve', 'example.com/foo', false],
  ];
  for (const [name, verb, signerName, allowed] of signs) t.equal(isAuthorizedForSignerName(authorizer, signer, verb, signerName), allowed, name);
  t.end();
});

void t.test('the default approver and requester have their own roles and nothing of the signer\'s', (t) => {
  const authorizer = new Authorizer(defaultPolicy({ signerNames: ['example.com/foo'], leaseNamespace: 'kube-system', leaseName: 'l' }));
  const approver = authenticated('approver');
  const requester = authenticated('requester');
  const node = authenticated('system:node:n1', 'system:nodes');
  const cases: [string, UserInfo, RequestAttributes, boolean][] = [
    ['the approver may update /approval', approver, csr('update', { name: 'c', subresource: 'approval' }), true],
    ['the approver may approve for its signer', approver, signers('approve', 'example.com/foo'), true],
    ['the approver may not approve for another signer', approver, signers('approve', 'example.com/bar'), false],
    ['the approver may not update /status', approver, csr('update', { name: 'c', subresource: 'status' }), false],
    ['the approver may not sign', approver, signers('sign', 'example.com/foo'), false],
    ['the requester may create CSRs', requester, csr('create'), true],
    ['the requester may delete CSRs', requester, csr('delete', { name: 'c' }), true],
    ['the requester may not update /approval', requester, csr('update', { name: 'c', subresource: 'approval' }), false],
    ['a node may create CSRs', node, csr('create'), true],
    ['the signer\'s lease follows leaseNamespace', serviceAccountUser('csr-signer', 'csr-signer'), { verb: 'update', apiGroup: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-system', name: 'l' }, true],
    ['the signer\'s rotation record follows leaseNamespace', serviceAccountUser('csr-signer', 'csr-signer'), { verb: 'update', apiGroup: '', resource: 'configmaps', namespace: 'kube-system', name: 'csr-signer-rotation' }, true],
  ];
  for (const [name, user, attrs, allowed] of cases) t.equal(authorizer.authorize(user, attrs).allowed, allowed, name);
  t.end();
});

void t.test('the rule builders refuse names that would widen or break the grant', (t) => {
  t.throws(() => signerClusterRules([]), /empty resourceNames list would match every signer/, 'no signer names would mean every signer');
  t.throws(() => approverClusterRules(['example.com']), /not a signerName/, 'a name without a path is refused');
  t.throws(() => signerClusterRules(['/x']), /not a signerName/, 'a name without a domain is refused');
  t.throws(() => signerLeaseRules(''), /leaseName is required/, 'an empty lease name is refused');
  t.same(requesterClusterRules(), [{ apiGroups: [CERTS], resources: ['certificatesigningrequests'], verbs: ['create', 'get', 'list', 'watch', 'delete'] }], 'the requester rule');
  t.same(signerLeaseRules('l').map((r) => [r.verbs, r.resourceNames]), [[['get', 'update'], ['l']], [['create'], undefined]], 'create on leases is a separate rule without names');
  t.end();
});
