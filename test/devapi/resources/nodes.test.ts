/**
 * devapi's Nodes over HTTPS, as kube-apiserver serves them: status set on create, kept by a PUT or PATCH
 * of the Node and changed only through /status (which keeps the spec), duplicate addresses refused on
 * update, NodeRestriction for node identities (client certificates from the client CA), field selectors,
 * the Table kubectl prints, and the RBAC a node and the approver need.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { readBoundedText } from '../../../src/files.js';
import { DevApi } from '../../../devapi/server/server.js';
import { makeOpensslCa } from '../../helpers/ca.js';
import { makeClientCertificate } from '../../helpers/client-certificates.js';
import { DevapiClient, type Credentials } from '../../helpers/devapi.js';
import { needTool, tempDir } from '../../helpers/tools.js';

if (!needTool(t, 'openssl')) process.exit(0);

const dir = tempDir();
const clientCa = makeOpensslCa(dir, 'client-ca', 'p256');
const worker1 = makeClientCertificate(dir, 'worker-1', clientCa, '/CN=system:node:worker-1/O=system:nodes');
const stateDir = mkdtempSync(join(tmpdir(), 'devapi-nodes-'));
const api = new DevApi({ stateDir, readText: readBoundedText, clientCaPem: clientCa.certPem, signerApproves: true });
await api.start();
t.teardown(() => api.stop());
const client = new DevapiClient(api.url, stateDir);

const asNode: Credentials = { cert: worker1.certPem, key: worker1.keyPem };
const asAdmin: Credentials = { token: client.tokens.admin ?? '' };
const asSigner: Credentials = { token: client.tokens.signer ?? '' };
const call = async (credentials: Credentials, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ code: number; body: Record<string, unknown> }> => {
  const r = await client.callWith(method, path, body, credentials, { contentType });
  return { code: r.status, body: typeof r.body === 'object' && r.body !== null ? r.body as Record<string, unknown> : {} };
};
const node = (name: string, addresses: { type: string; address: string }[], extra: Record<string, unknown> = {}): object => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { podCIDR: '10.244.1.0/24' }, status: { addresses, nodeInfo: { kubeletVersion: 'v1.32.4' } }, ...extra,
});
const addressesOf = (r: { body: Record<string, unknown> }): unknown => (r.body.status as { addresses?: unknown } | undefined)?.addresses;

void t.test('a node registers itself with its status, as a kubelet does, and status is written only through /status', async (t) => {
  const created = await call(asNode, 'POST', '/api/v1/nodes', node('worker-1', [{ type: 'InternalIP', address: '10.0.0.1' }, { type: 'Hostname', address: 'worker-1' }]));
  t.equal(created.code, 201, JSON.stringify(created.body));
  t.same(addressesOf(created), [{ type: 'InternalIP', address: '10.0.0.1' }, { type: 'Hostname', address: 'worker-1' }], 'create keeps status');

  const put = await call(asNode, 'PUT', '/api/v1/nodes/worker-1', { ...node('worker-1', [{ type: 'ExternalIP', address: '1.2.3.4' }]), spec: { podCIDR: '10.244.1.0/24', unschedulable: true } });
  t.equal(put.code, 200, JSON.stringify(put.body));
  t.same(addressesOf(put), [{ type: 'InternalIP', address: '10.0.0.1' }, { type: 'Hostname', address: 'worker-1' }], 'a PUT of the Node keeps the stored status');
  t.equal((put.body.spec as { unschedulable?: boolean }).unschedulable, true, 'and changes the spec');

  const patched = await call(asNode, 'PATCH', '/api/v1/nodes/worker-1', { status: { addresses: [] } }, 'application/merge-patch+json');
  t.same(addressesOf(patched), [{ type: 'InternalIP', address: '10.0.0.1' }, { type: 'Hostname', address: 'worker-1' }], 'a PATCH of the Node keeps the stored status too');

  const status = await call(asNode, 'PATCH', '/api/v1/nodes/worker-1/status',
    { spec: { unschedulable: false }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.2' }] } }, 'application/merge-patch+json');
  t.equal(status.code, 200, JSON.stringify(status.body));
  t.same(addressesOf(status), [{ type: 'InternalIP', address: '10.0.0.2' }], '/status changes the addresses');
  t.equal((status.body.spec as { unschedulable?: boolean }).unschedulable, true, '/status keeps the stored spec');

  const read = await call(asAdmin, 'GET', '/api/v1/nodes/worker-1/status');
  t.same(addressesOf(read), [{ type: 'InternalIP', address: '10.0.0.2' }], 'GET /status reads the Node');
});

void t.test('an update repeating an address is 422 as ValidateNodeUpdate words it; any address type is stored', async (t) => {
  const r = await call(asAdmin, 'PUT', '/api/v1/nodes/worker-1/status', node('worker-1', [{ type: 'InternalIP', address: '10.0.0.2' }, { type: 'InternalIP', address: '10.0.0.2' }]));
  t.equal(r.code, 422);
  t.equal(r.body.message, 'Node "worker-1" is invalid: status.addresses[1]: Duplicate value: core.NodeAddress{Type:"InternalIP", Address:"10.0.0.2"}');
  const odd = await call(asAdmin, 'PUT', '/api/v1/nodes/worker-1/status', node('worker-1', [{ type: 'SomethingElse', address: 'x' }, { type: 'InternalIP', address: '10.0.0.2' }]));
  t.equal(odd.code, 200, 'address types are not validated upstream');
  const bad = await call(asAdmin, 'POST', '/api/v1/nodes', node('Worker_9', []));
  t.equal(bad.code, 422);
  t.match(bad.body.message, /^Node "Worker_9" is invalid: metadata.name: Invalid value: "Worker_9": a lowercase RFC 1123 subdomain/);
});

void t.test('NodeRestriction: a node creates, updates and deletes only the Node named after it', async (t) => {
  const other = await call(asNode, 'POST', '/api/v1/nodes', node('worker-2', []));
  t.equal(other.code, 403);
  t.equal(other.body.message, 'nodes "worker-2" is forbidden: node "worker-1" is not allowed to modify node "worker-2"');
  t.equal((await call(asAdmin, 'POST', '/api/v1/nodes', node('worker-2', [{ type: 'InternalIP', address: '10.0.0.3' }]))).code, 201, 'the admin may');
  const update = await call(asNode, 'PATCH', '/api/v1/nodes/worker-2/status', { status: { addresses: [] } }, 'application/merge-patch+json');
  t.equal(update.code, 403);
  t.equal(update.body.message, 'nodes "worker-2" is forbidden: node "worker-1" is not allowed to modify node "worker-2"');
  t.equal((await call(asNode, 'DELETE', '/api/v1/nodes/worker-2')).code, 403, 'nor delete it');
  const all = await call(asNode, 'DELETE', '/api/v1/nodes');
  t.equal(all.code, 403, 'nor delete it with the rest (NodeRules grant no deletecollection)');
  t.match(all.body.message, 'User "system:node:worker-1" cannot deletecollection resource "nodes"');
  t.equal((await call(asAdmin, 'GET', '/api/v1/nodes/worker-1')).code, 200, 'and nothing was deleted');
  t.equal((await call(asNode, 'GET', '/api/v1/nodes/worker-2')).code, 200, 'reading other Nodes is allowed (NodeRules)');
});

void t.test('the approver (here the signer with --signer-approves) reads one Node by name, and may neither list nor write them', async (t) => {
  const one = await call(asSigner, 'GET', '/api/v1/nodes/worker-2');
  t.equal(one.code, 200);
  t.match(one.body, { metadata: { name: 'worker-2' } });
  t.equal((await call(asSigner, 'GET', '/api/v1/nodes?fieldSelector=metadata.name%3Dworker-2')).code, 403, 'get only: no list');
  t.equal((await call(asSigner, 'PATCH', '/api/v1/nodes/worker-2/status', { status: {} }, 'application/merge-patch+json')).code, 403);
  const unschedulable = await call(asAdmin, 'GET', '/api/v1/nodes?fieldSelector=spec.unschedulable%3Dtrue');
  t.same((unschedulable.body.items as { metadata: { name: string } }[]).map((i) => i.metadata.name), ['worker-1']);
});

void t.test('kubectl get nodes columns: NAME STATUS ROLES AGE VERSION, then the wide ones', async (t) => {
  await call(asAdmin, 'PATCH', '/api/v1/nodes/worker-2', { metadata: { labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'etcd' } } }, 'application/merge-patch+json');
  await call(asAdmin, 'PATCH', '/api/v1/nodes/worker-2/status', { status: { conditions: [{ type: 'Ready', status: 'False' }], nodeInfo: { kubeletVersion: 'v1.31.0', osImage: 'Debian' } } }, 'application/merge-patch+json');
  const r = await client.callWith('GET', '/api/v1/nodes', undefined, asAdmin, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
  const table = r.body as { columnDefinitions: { name: string; priority: number }[]; rows: { cells: unknown[] }[] };
  t.same(table.columnDefinitions.map((c) => `${c.name}${c.priority ? '*' : ''}`),
    ['Name', 'Status', 'Roles', 'Age', 'Version', 'Internal-IP*', 'External-IP*', 'OS-Image*', 'Kernel-Version*', 'Container-Runtime*']);
  t.same(table.rows.map((row) => [row.cells[0], row.cells[1], row.cells[2], row.cells[4], row.cells[5], row.cells[6], row.cells[7]]), [
    ['worker-1', 'Unknown,SchedulingDisabled', '<none>', 'v1.32.4', '10.0.0.2', '<none>', '<unknown>'],
    ['worker-2', 'NotReady', 'control-plane,etcd', 'v1.31.0', '10.0.0.3', '<none>', 'Debian'],
  ]);
});

void t.test('a node granted deletecollection (by --policy) still deletes no other Node: admission refuses the collection', async (t) => {
  const policyYaml = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-sweeper}
rules: [{apiGroups: [""], resources: [nodes], verbs: [deletecollection]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: node-sweeper}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-sweeper}
subjects: [{kind: Group, name: system:nodes}]
`;
  const sweeperState = mkdtempSync(join(tmpdir(), 'devapi-nodes-sweep-'));
  const sweeper = new DevApi({ stateDir: sweeperState, readText: readBoundedText, clientCaPem: clientCa.certPem, policyYaml });
  await sweeper.start();
  t.teardown(() => sweeper.stop());
  const other = new DevapiClient(sweeper.url, sweeperState);
  t.equal((await other.callWith('POST', '/api/v1/nodes', node('worker-1', []), asNode)).status, 201);
  t.equal((await other.callWith('POST', '/api/v1/nodes', node('worker-3', []), { token: other.tokens.admin ?? '' })).status, 201);
  const r = await other.callWith('DELETE', '/api/v1/nodes', undefined, asNode);
  t.equal(r.status, 403);
  t.equal((r.body as { message: string }).message, 'nodes "worker-3" is forbidden: node "worker-1" is not allowed to modify node "worker-3"');
  const left = await other.callWith('GET', '/api/v1/nodes', undefined, asNode);
  t.same((left.body as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name), ['worker-1', 'worker-3'], 'nothing was deleted');
});
