/**
 * The SubjectAccessReviews the approver asks, against devapi's default policy (kubeadm's kubelet
 * bindings), answered as kube-apiserver answers them: the decision table, the response's shape, `extra`
 * carried and ignored, validation texts, the caller's own `create`; and the approver's and cleaner's rules
 * for the signer identity only when asked (--signer-approves, --signer-cleans), with `approve` on /approval.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { readBoundedText } from '../../../src/files.js';
import { defaultPolicy } from '../../../devapi/auth/default-policy.js';
import { Authorizer, serviceAccountUser } from '../../../devapi/auth/rbac.js';
import { DevApi } from '../../../devapi/server/server.js';
import { DevapiClient, type Identity } from '../../helpers/devapi.js';
import { buildRequest, toPem } from '../../helpers/requests.js';

const start = async (options: { signerApproves?: boolean; signerCleans?: boolean } = {}): Promise<{ api: DevApi; client: DevapiClient }> => {
  const stateDir = mkdtempSync(join(tmpdir(), 'devapi-kubelet-policy-'));
  const api = new DevApi({ stateDir, readText: readBoundedText, ...options });
  await api.start();
  return { api, client: new DevapiClient(api.url, stateDir) };
};
const plain = await start();
const approving = await start({ signerApproves: true, signerCleans: true });
t.teardown(async () => {
  await plain.api.stop();
  await approving.api.stop();
});

const SAR = '/apis/authorization.k8s.io/v1/subjectaccessreviews';
const review = (spec: Record<string, unknown>, metadata?: Record<string, unknown>): Record<string, unknown> =>
  ({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', ...(metadata ? { metadata } : {}), spec });
const ask = async (spec: Record<string, unknown>, client = plain.client, who: Identity = 'admin'): Promise<{ status: number; body: Record<string, unknown> }> => {
  const r = await client.call('POST', SAR, review(spec), who);
  return { status: r.status, body: r.body as Record<string, unknown> };
};
const csrCreate = (subresource: string): Record<string, unknown> => ({ verb: 'create', group: 'certificates.k8s.io', resource: 'certificatesigningrequests', subresource });
const bootstrapper = { user: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:authenticated'] };
const worker1 = { user: 'system:node:worker-1', groups: ['system:nodes', 'system:authenticated'] };
const alice = { user: 'alice', groups: ['system:authenticated'] };

void t.test('the approver\'s reviews on nodeclient and selfnodeclient come out as in a kubeadm cluster', async (t) => {
  const cases: [string, Record<string, unknown>, string, boolean][] = [
    ['a bootstrap token may have a nodeclient certificate', bootstrapper, 'nodeclient', true],
    ['a bootstrap token may not have a selfnodeclient one', bootstrapper, 'selfnodeclient', false],
    ['a node may renew its own (selfnodeclient)', worker1, 'selfnodeclient', true],
    ['a node may not have a nodeclient one', worker1, 'nodeclient', false],
    ['a plain user may have neither: nodeclient', alice, 'nodeclient', false],
    ['a plain user may have neither: selfnodeclient', alice, 'selfnodeclient', false],
    ['the groups alone decide: system:nodes without a user', { groups: ['system:nodes'] }, 'selfnodeclient', true],
    ['a node user name without the group is not a node', { user: 'system:node:worker-1' }, 'selfnodeclient', false],
  ];
  for (const [name, subject, subresource, allowed] of cases) {
    const r = await ask({ ...subject, resourceAttributes: csrCreate(subresource) });
    t.equal(r.status, 201, name);
    t.equal((r.body.status as { allowed: boolean }).allowed, allowed, name);
  }
});

void t.test('the answer: the spec as sent (extra and uid included), allowed, a reason only when there is one, never denied', async (t) => {
  const spec = { ...worker1, uid: 'u-1', extra: { 'authentication.kubernetes.io/credential-id': ['X509SHA256=abc'] }, resourceAttributes: csrCreate('selfnodeclient') };
  const allowed = await ask(spec);
  t.same(allowed.body, {
    kind: 'SubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null }, spec,
    status: {
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "kubeadm:node-autoapprove-certificate-rotation" of ClusterRole "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient" to Group "system:nodes"',
    },
  });
  const denied = await ask({ ...spec, resourceAttributes: csrCreate('nodeclient') });
  t.same(denied.body.status, { allowed: false }, 'RBAC cannot deny: no denied, and no reason without a failed role lookup');
  const withoutExtra = await ask({ ...worker1, resourceAttributes: csrCreate('selfnodeclient') });
  t.equal((withoutExtra.body.status as { allowed: boolean }).allowed, true, 'extra does not change an RBAC decision');
  const nodeclientFor = await ask({ ...bootstrapper, resourceAttributes: csrCreate('nodeclient') });
  t.equal((nodeclientFor.body.status as { reason: string }).reason,
    'RBAC: allowed by ClusterRoleBinding "kubeadm:node-autoapprove-bootstrap" of ClusterRole "system:certificates.k8s.io:certificatesigningrequests:nodeclient" to Group "system:bootstrappers"');
});

void t.test('name and namespace are part of the decision, and subresources are not the resource', async (t) => {
  const signer = { user: 'system:serviceaccount:csr-signer:csr-signer', groups: ['system:serviceaccounts', 'system:serviceaccounts:csr-signer', 'system:authenticated'] };
  const lease = (name: string, namespace: string): Record<string, unknown> => ({ ...signer, resourceAttributes: { verb: 'update', group: 'coordination.k8s.io', resource: 'leases', name, namespace } });
  t.equal(((await ask(lease('csr-signer', 'csr-signer'))).body.status as { allowed: boolean }).allowed, true, 'its own Lease');
  t.equal(((await ask(lease('other', 'csr-signer'))).body.status as { allowed: boolean }).allowed, false, 'not another name');
  t.equal(((await ask(lease('csr-signer', 'default'))).body.status as { allowed: boolean }).allowed, false, 'not another namespace');
  const mainResource = await ask({ ...bootstrapper, resourceAttributes: { verb: 'create', group: 'certificates.k8s.io', resource: 'certificatesigningrequests' } });
  t.equal((mainResource.body.status as { allowed: boolean }).allowed, true, 'a bootstrap token may create CSRs (system:node-bootstrapper)');
});

void t.test('invalid reviews are 422 with pkg/apis/authorization/validation\'s texts', async (t) => {
  const prefix = 'SubjectAccessReview.authorization.k8s.io "" is invalid: ';
  const cases: [string, Record<string, unknown>, Record<string, unknown> | undefined, string][] = [
    ['no user and no groups', { resourceAttributes: csrCreate('nodeclient') }, undefined, 'spec.user: Invalid value: "": at least one of user or group must be specified'],
    ['no attributes', { user: 'x' }, undefined, 'spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified'],
    ['both attributes', { user: 'x', resourceAttributes: csrCreate('nodeclient'), nonResourceAttributes: { path: '/healthz', verb: 'get' } }, undefined,
      'spec.nonResourceAttributes: Invalid value: authorization.NonResourceAttributes{Path:"/healthz", Verb:"get"}: cannot be specified in combination with resourceAttributes'],
    ['metadata', { user: 'x', resourceAttributes: csrCreate('nodeclient') }, { name: 'r' },
      'metadata: Invalid value: v1.ObjectMeta{Name:"r", GenerateName:"", Namespace:"", SelfLink:"", UID:"", ResourceVersion:"", Generation:0, CreationTimestamp:time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC), DeletionTimestamp:<nil>, DeletionGracePeriodSeconds:(*int64)(nil), Labels:map[string]string(nil), Annotations:map[string]string(nil), OwnerReferences:[]v1.OwnerReference(nil), Finalizers:[]string(nil), ManagedFields:[]v1.ManagedFieldsEntry(nil)}: must be empty'],
  ];
  for (const [name, spec, metadata, message] of cases) {
    const r = await plain.client.call('POST', SAR, review(spec, metadata), 'admin');
    t.equal(r.status, 422, name);
    t.equal((r.body as { message: string }).message, `${prefix}${message}`, name);
  }
});

void t.test('the caller needs create on subjectaccessreviews', async (t) => {
  const r = await ask({ ...worker1, resourceAttributes: csrCreate('selfnodeclient') }, plain.client, 'requester');
  t.equal(r.status, 403);
  t.equal(r.body.message, 'subjectaccessreviews.authorization.k8s.io is forbidden: User "requester" cannot create resource "subjectaccessreviews" in API group "authorization.k8s.io" at the cluster scope');
  const signer = await ask({ ...worker1, resourceAttributes: csrCreate('selfnodeclient') }, plain.client, 'signer');
  t.equal(signer.status, 403, 'the signer may not, unless it approves');
  const approver = await ask({ ...worker1, resourceAttributes: csrCreate('selfnodeclient') }, approving.client, 'signer');
  t.equal(approver.status, 201, 'with --signer-approves it may');
});

void t.test('--signer-approves and --signer-cleans give the signer the approver\'s and cleaner\'s rules, and only then', async (t) => {
  const signer = { user: 'system:serviceaccount:csr-signer:csr-signer', groups: ['system:serviceaccounts', 'system:serviceaccounts:csr-signer', 'system:authenticated'] };
  const checks: [string, Record<string, unknown>][] = [
    ['approve for kubernetes.io/*', { verb: 'approve', group: 'certificates.k8s.io', resource: 'signers', name: 'kubernetes.io/*' }],
    ['update /approval', { verb: 'update', group: 'certificates.k8s.io', resource: 'certificatesigningrequests', subresource: 'approval' }],
    ['read a Node by name', { verb: 'get', group: '', resource: 'nodes', name: 'worker-1' }],
    ['delete CSRs', { verb: 'delete', group: 'certificates.k8s.io', resource: 'certificatesigningrequests' }],
  ];
  for (const [name, resourceAttributes] of checks) {
    t.equal(((await ask({ ...signer, resourceAttributes }, plain.client)).body.status as { allowed: boolean }).allowed, false, `by default the signer may not ${name}`);
    t.equal(((await ask({ ...signer, resourceAttributes }, approving.client)).body.status as { allowed: boolean }).allowed, true, `asked, it may ${name}`);
  }
  for (const verb of ['list', 'watch']) {
    const nodes = { verb, group: '', resource: 'nodes' };
    t.equal(((await ask({ ...signer, resourceAttributes: nodes }, approving.client)).body.status as { allowed: boolean }).allowed, false, `it never may ${verb} Nodes: it reads one by name`);
  }
  const approveOther = { verb: 'approve', group: 'certificates.k8s.io', resource: 'signers', name: 'other.io/*' };
  t.equal(((await ask({ ...signer, resourceAttributes: approveOther }, approving.client)).body.status as { allowed: boolean }).allowed, false, 'only its signer names');
});

void t.test('Approved or Denied through /approval by a non-approver is 403 with the apiserver\'s messages', async (t) => {
  const { client } = approving;
  const csr = (name: string, signerName: string): Record<string, unknown> => ({
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name },
    spec: { request: Buffer.from(toPem('CERTIFICATE REQUEST', buildRequest({ commonName: name }))).toString('base64'), signerName, usages: ['digital signature', 'client auth'] },
  });
  const decide = (name: string, signerName: string, type: 'Approved' | 'Denied'): Record<string, unknown> => ({
    ...csr(name, signerName), status: { conditions: [{ type, status: 'True', reason: 'Test', message: 'by a test' }] },
  });
  for (const [name, signerName] of [['mine', 'example.com/serving'], ['theirs', 'other.io/serving']] as const) {
    t.equal((await client.call('POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', csr(name, signerName), 'requester')).status, 201);
  }
  for (const type of ['Approved', 'Denied'] as const) {
    const noRbac = await client.call('PUT', '/apis/certificates.k8s.io/v1/certificatesigningrequests/mine/approval', decide('mine', 'example.com/serving', type), 'requester');
    t.equal(noRbac.status, 403, `${type} by the requester`);
    t.equal((noRbac.body as { message: string }).message,
      'certificatesigningrequests.certificates.k8s.io "mine" is forbidden: User "requester" cannot update resource "certificatesigningrequests/approval" in API group "certificates.k8s.io" at the cluster scope');
    const otherSigner = await client.call('PUT', '/apis/certificates.k8s.io/v1/certificatesigningrequests/theirs/approval', decide('theirs', 'other.io/serving', type), 'signer');
    t.equal(otherSigner.status, 403, `${type} for a signer it may not approve for`);
    t.equal((otherSigner.body as { message: string }).message,
      'certificatesigningrequests.certificates.k8s.io "theirs" is forbidden: user not permitted to approve requests with signerName "other.io/serving"');
  }
  const denied = await client.call('PUT', '/apis/certificates.k8s.io/v1/certificatesigningrequests/mine/approval', decide('mine', 'example.com/serving', 'Denied'), 'signer');
  t.equal(denied.status, 200, 'the approving signer may deny for its own signer names');
});

void t.test('signerApproves { nodes: false } is the approver without reading Nodes (no kubelet-serving profile)', (t) => {
  const signer = serviceAccountUser('csr-signer', 'csr-signer');
  const authorizer = new Authorizer(defaultPolicy({ signerApproves: { nodes: false } }));
  t.equal(authorizer.authorize(signer, { verb: 'approve', apiGroup: 'certificates.k8s.io', resource: 'signers', name: 'example.com/*' }).allowed, true);
  t.equal(authorizer.authorize(signer, { verb: 'create', apiGroup: 'authorization.k8s.io', resource: 'subjectaccessreviews' }).allowed, true);
  t.equal(authorizer.authorize(signer, { verb: 'get', apiGroup: '', resource: 'nodes', name: 'worker-1' }).allowed, false);
  t.equal(authorizer.authorize(signer, { verb: 'delete', apiGroup: 'certificates.k8s.io', resource: 'certificatesigningrequests', name: 'x' }).allowed, false, 'no cleaning unless asked');
  t.end();
});

void t.test('signerApproves in audit mode may read and ask, and write nothing', (t) => {
  const signer = serviceAccountUser('csr-signer', 'csr-signer');
  const authorizer = new Authorizer(defaultPolicy({ signerApproves: { nodes: true, mode: 'audit' } }));
  const may = (verb: string, apiGroup: string, resource: string, extra: { name?: string; subresource?: string } = {}): boolean =>
    authorizer.authorize(signer, { verb, apiGroup, resource, ...extra }).allowed;
  t.equal(may('watch', 'certificates.k8s.io', 'certificatesigningrequests'), true, 'watch CSRs');
  t.equal(may('create', 'authorization.k8s.io', 'subjectaccessreviews'), true, 'ask SubjectAccessReviews');
  t.equal(may('get', '', 'nodes', { name: 'worker-1' }), true, 'read a Node by name');
  t.equal(may('list', '', 'nodes'), false, 'never list Nodes');
  t.equal(may('approve', 'certificates.k8s.io', 'signers', { name: 'example.com/*' }), false, 'no approve');
  t.equal(may('update', 'certificates.k8s.io', 'certificatesigningrequests', { name: 'x', subresource: 'approval' }), false, 'no /approval');
  t.equal(may('create', '', 'events'), true, 'Events: only through the signing rules, which the signer identity keeps');
  t.end();
});
