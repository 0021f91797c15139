/**
 * devapi's Namespaces and ConfigMaps over HTTPS, with kube-apiserver's rules and messages:
 * namespace create/label/delete (with what is in it), selectors and watch, ConfigMap
 * validation (keys, size, immutable), conflicts, the namespace-must-exist rule, Tables,
 * discovery, and persistence across a restart.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import t from 'tap';
import { readBoundedText } from '../../../src/files.js';
import { DevApi } from '../../../devapi/server/server.js';
import { devapiCall } from '../../helpers/devapi.js';
import { until } from '../../helpers/wait.js';

const stateDir = mkdtempSync(join(tmpdir(), 'devapi-ns-cm-'));
let api = new DevApi({ stateDir, readText: readBoundedText, namespaceTerminationSeconds: 3600 });
await api.start();
t.teardown(() => api.stop());

type Id = 'admin' | 'signer' | 'approver' | 'requester';
const call = (method: string, path: string, body?: unknown, contentType?: string, id: Id = 'admin'): ReturnType<typeof devapiCall> =>
  devapiCall({ url: api.url, stateDir }, id, method, path, body, contentType);
const ns = (name: string, labels: Record<string, string> = {}): object => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
const cm = (name: string, extra: Record<string, unknown> = {}): object => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, ...extra });
const names = (r: { body: Record<string, unknown> }): string[] => ((r.body.items ?? []) as { metadata: { name: string } }[]).map((i) => i.metadata.name);
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

void t.test('a namespace is created Active with its name label and validated as a DNS-1123 label', async (t) => {
  const created = await call('POST', '/api/v1/namespaces', ns('team-a', { tier: 'web' }));
  t.equal(created.code, 201, 'created');
  t.match(created.body, { status: { phase: 'Active' }, spec: { finalizers: ['kubernetes'] }, metadata: { labels: { tier: 'web', 'kubernetes.io/metadata.name': 'team-a' } } });
  const cases: [string, string, string][] = [
    ['an upper-case name', 'Team-A', 'Namespace "Team-A" is invalid: metadata.name: Invalid value: "Team-A": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character (e.g. \'my-name\',  or \'123-abc\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?\')'],
    ['a name with dots', 'a.b', 'Namespace "a.b" is invalid: metadata.name: Invalid value: "a.b": must not contain dots'],
    ['a name over 63 characters', 'n'.repeat(64), `Namespace "${'n'.repeat(64)}" is invalid: metadata.name: Invalid value: "${'n'.repeat(64)}": must be no more than 63 characters`],
  ];
  for (const [name, value, message] of cases) {
    const r = await call('POST', '/api/v1/namespaces', ns(value));
    t.match(r, { code: 422, body: { reason: 'Invalid', message } }, `${name} is refused`);
  }
  t.match(await call('POST', '/api/v1/namespaces', ns('team-a')), { code: 409, body: { reason: 'AlreadyExists', message: 'namespaces "team-a" already exists' } }, 'a second create is 409');
  const status = await call('POST', '/api/v1/namespaces', { ...ns('sneaky'), status: { phase: 'Terminating' } });
  t.equal((status.body.status as { phase: string }).phase, 'Active', 'create resets status.phase to Active');
});

void t.test('namespaces list by label and field selectors, and a label patch keeps status and finalizers', async (t) => {
  await call('POST', '/api/v1/namespaces', ns('team-b', { tier: 'db' }));
  t.same(names(await call('GET', '/api/v1/namespaces?labelSelector=tier%3Ddb')), ['team-b'], 'labelSelector tier=db');
  t.same(names(await call('GET', '/api/v1/namespaces?labelSelector=tier')), ['team-a', 'team-b'], 'labelSelector tier (exists)');
  t.same(names(await call('GET', '/api/v1/namespaces?fieldSelector=metadata.name%3Dteam-b')), ['team-b'], 'fieldSelector metadata.name');
  t.ok(names(await call('GET', '/api/v1/namespaces?fieldSelector=status.phase%3DActive')).includes('default'), 'fieldSelector status.phase=Active');
  t.match(await call('GET', '/api/v1/namespaces?fieldSelector=spec.finalizers%3Dx'), { code: 400, body: { message: 'field label not supported: spec.finalizers' } });
  const patched = await call('PATCH', '/api/v1/namespaces/team-b', { metadata: { labels: { owner: 'me' } }, spec: { finalizers: [] }, status: { phase: 'Terminating' } }, 'application/merge-patch+json');
  t.equal(patched.code, 200, 'patched');
  t.match(patched.body, { metadata: { labels: { tier: 'db', owner: 'me' } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } }, 'labels merge; finalizers and status are kept');
  const asTable = await devapiCallTable('/api/v1/namespaces/team-b');
  t.same((asTable.columnDefinitions as { name: string }[]).map((c) => c.name), ['Name', 'Status', 'Age'], 'kubectl get ns columns');
  t.match(asTable.rows, [{ cells: ['team-b', 'Active', /^\d+s$/] }]);
});

/** GET with another Accept header (kubectl's Table, aggregated discovery). */
const getAs = async (path: string, accept: string): Promise<Record<string, unknown>> =>
  (await devapiCall({ url: api.url, stateDir }, 'admin', 'GET', path, undefined, 'application/json', accept)).body;
const devapiCallTable = (path: string): Promise<Record<string, unknown>> => getAs(path, TABLE);

void t.test('a namespace watch with a label selector sees a namespace created later', async (t) => {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(api.kubeconfigPath('admin'));
  const seen: string[] = [];
  const watcher = new k8s.Watch(kc);
  const list = await call('GET', '/api/v1/namespaces');
  const rv = (list.body.metadata as { resourceVersion: string }).resourceVersion;
  const req = await watcher.watch('/api/v1/namespaces', { resourceVersion: rv, labelSelector: 'trust=yes' }, (type, obj: k8s.V1Namespace) => {
    seen.push(`${type} ${obj.metadata?.name ?? ''}`);
  }, () => undefined);
  await call('POST', '/api/v1/namespaces', ns('not-selected'));
  await call('POST', '/api/v1/namespaces', ns('late', { trust: 'yes' }));
  await until(() => seen.length > 0, { what: 'a namespace event', ms: 1000, intervalMs: 20 });
  t.same(seen, ['ADDED late'], 'only the matching namespace, created after the watch started');
  req.abort();
});

void t.test('configmaps: create, get, list by selector, update with conflicts, patch, delete', async (t) => {
  await call('POST', '/api/v1/namespaces', ns('apps'));
  const created = await call('POST', '/api/v1/namespaces/apps/configmaps', cm('bundle', { data: { 'ca.crt': 'x' }, metadata: { name: 'bundle', labels: { app: 'trust' } } }));
  t.equal(created.code, 201, 'created');
  t.match(created.body, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bundle', namespace: 'apps', uid: String, resourceVersion: String } });
  await call('POST', '/api/v1/namespaces/apps/configmaps', cm('other'));
  t.same(names(await call('GET', '/api/v1/namespaces/apps/configmaps?labelSelector=app%3Dtrust')), ['bundle'], 'labelSelector');
  t.same(names(await call('GET', '/api/v1/configmaps?fieldSelector=metadata.name%3Dother')), ['other'], 'fieldSelector across namespaces');
  const rv = (created.body.metadata as { resourceVersion: string }).resourceVersion;
  const updated = await call('PUT', '/api/v1/namespaces/apps/configmaps/bundle', { ...created.body, data: { 'ca.crt': 'y' } });
  t.equal(updated.code, 200, 'an update without resourceVersion is allowed (latest wins)');
  t.match(await call('PUT', '/api/v1/namespaces/apps/configmaps/bundle', { ...created.body, metadata: { ...(created.body.metadata as object), resourceVersion: rv }, data: { 'ca.crt': 'z' } }),
    { code: 409, body: { reason: 'Conflict', message: 'Operation cannot be fulfilled on configmaps "bundle": the object has been modified; please apply your changes to the latest version and try again' } }, 'a stale resourceVersion is 409');
  const patched = await call('PATCH', '/api/v1/namespaces/apps/configmaps/bundle', [{ op: 'replace', path: '/data/ca.crt', value: 'w' }], 'application/json-patch+json');
  t.match(patched.body, { data: { 'ca.crt': 'w' } }, 'JSON patch');
  const table = await devapiCallTable('/api/v1/namespaces/apps/configmaps');
  t.same((table.columnDefinitions as { name: string }[]).map((c) => c.name), ['Name', 'Data', 'Age'], 'kubectl get cm columns');
  t.match(table.rows, [{ cells: ['bundle', 1, String] }, { cells: ['other', 0, String] }]);
  t.match(await call('DELETE', '/api/v1/namespaces/apps/configmaps/bundle'), { code: 200, body: { status: 'Success', details: { name: 'bundle', kind: 'configmaps' } } });
  t.match(await call('GET', '/api/v1/namespaces/apps/configmaps/bundle'), { code: 404, body: { message: 'configmaps "bundle" not found' } });
});

void t.test('configmap validation has kube-apiserver\'s messages', async (t) => {
  const keyRule = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
  const cases: [string, object, number, string][] = [
    ['a key with a slash', cm('k1', { data: { 'a/b': 'x' } }), 422, `ConfigMap "k1" is invalid: data[a/b]: Invalid value: "a/b": ${keyRule}`],
    ['a key of ..', cm('k2', { binaryData: { '..': '' } }), 422, 'ConfigMap "k2" is invalid: binaryData[..]: Invalid value: "..": must not be \'..\''],
    ['a key in both data and binaryData', cm('k3', { data: { a: 'x' }, binaryData: { a: 'eA==' } }), 422, 'ConfigMap "k3" is invalid: data[a]: Invalid value: "a": duplicate of key present in binaryData'],
    ['more than 1 MiB in all', cm('k4', { data: { a: 'x'.repeat(1024 * 1024) }, binaryData: { b: 'eA==' } }), 422, 'ConfigMap "k4" is invalid: : Too long: may not be more than 1048576 bytes'],
    ['a name that is not a DNS subdomain', cm('Bad_Name'), 422, 'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain'],
    ['a number as a value', cm('k5', { data: { a: 1 } }), 400, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string'],
    ['binaryData that is not base64', cm('k6', { binaryData: { a: '!!' } }), 400, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: illegal base64 data at input byte 0'],
  ];
  for (const [name, body, code, message] of cases) {
    const r = await call('POST', '/api/v1/namespaces/default/configmaps', body);
    t.equal(r.code, code, `${name} answers ${code}`);
    t.ok(String(r.body.message).startsWith(message), `${name} is refused with the real message`);
  }
  t.equal((await call('POST', '/api/v1/namespaces/default/configmaps', cm('exactly-1mib', { data: { a: 'x'.repeat(1024 * 1024 - 1) }, binaryData: { b: 'eA==' } }))).code, 201, 'exactly 1 MiB is allowed');
});

void t.test('an immutable configmap keeps its data, and may only be deleted', async (t) => {
  const created = await call('POST', '/api/v1/namespaces/default/configmaps', cm('frozen', { data: { a: 'x' }, immutable: true }));
  t.equal(created.code, 201);
  const change = await call('PATCH', '/api/v1/namespaces/default/configmaps/frozen', { data: { a: 'y' } }, 'application/merge-patch+json');
  t.match(change, { code: 422, body: { message: 'ConfigMap "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set' } });
  const thaw = await call('PATCH', '/api/v1/namespaces/default/configmaps/frozen', { immutable: false }, 'application/merge-patch+json');
  t.match(thaw, { code: 422, body: { message: 'ConfigMap "frozen" is invalid: immutable: Forbidden: field is immutable when `immutable` is set' } });
  const label = await call('PATCH', '/api/v1/namespaces/default/configmaps/frozen', { metadata: { labels: { a: 'b' } } }, 'application/merge-patch+json');
  t.equal(label.code, 200, 'metadata may still change');
  t.equal((await call('DELETE', '/api/v1/namespaces/default/configmaps/frozen')).code, 200);
});

void t.test('a configmap in a missing namespace is 404, and a namespace delete takes its objects with it once it ends', async (t) => {
  t.match(await call('POST', '/api/v1/namespaces/nowhere/configmaps', cm('x')), { code: 404, body: { reason: 'NotFound', message: 'namespaces "nowhere" not found', details: { name: 'nowhere', kind: 'namespaces' } } });
  t.same(names(await call('GET', '/api/v1/namespaces/nowhere/configmaps')), [], 'listing in a missing namespace is empty');
  await call('POST', '/api/v1/namespaces', ns('doomed'));
  await call('POST', '/api/v1/namespaces/doomed/configmaps', cm('inside'));
  await call('POST', '/apis/coordination.k8s.io/v1/namespaces/doomed/leases', { metadata: { name: 'l' }, spec: {} });
  const deleted = await call('DELETE', '/api/v1/namespaces/doomed');
  t.match(deleted, { code: 200, body: { kind: 'Namespace', metadata: { name: 'doomed', deletionTimestamp: /Z$/ }, status: { phase: 'Terminating' } } }, 'the answer is the namespace, Terminating');
  t.equal(api.namespaces.finishAll(), 1, 'the namespace controller\'s stand-in ends it');
  t.equal((await call('GET', '/api/v1/namespaces/doomed')).code, 404, 'the namespace is gone');
  t.equal((await call('GET', '/api/v1/namespaces/doomed/configmaps/inside')).code, 404, 'its configmap is gone');
  t.equal((await call('GET', '/apis/coordination.k8s.io/v1/namespaces/doomed/leases/l')).code, 404, 'its lease is gone');
  t.match(await call('POST', '/api/v1/namespaces/doomed/configmaps', cm('again')), { code: 404, body: { message: 'namespaces "doomed" not found' } });
  for (const immortal of ['default', 'kube-system', 'kube-public']) {
    t.match(await call('DELETE', `/api/v1/namespaces/${immortal}`), { code: 403, body: { message: `namespaces "${immortal}" is forbidden: this namespace may not be deleted` } }, `${immortal} may not be deleted`);
  }
});

void t.test('discovery and OpenAPI name configmaps (cm) and the writable namespaces', async (t) => {
  const aggregated = await getAs('/api', 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
  const core = (aggregated.items as { versions: { resources: { resource: string; shortNames?: string[]; verbs: string[]; scope: string }[] }[] }[])[0]?.versions[0]?.resources ?? [];
  t.match(core.find((r) => r.resource === 'configmaps'), { shortNames: ['cm'], scope: 'Namespaced', verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] });
  t.match(core.find((r) => r.resource === 'namespaces'), { shortNames: ['ns'], scope: 'Cluster', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] });
  const openapi = await call('GET', '/openapi/v3/api/v1');
  t.ok(Object.hasOwn(openapi.body.paths as object, '/api/v1/namespaces/{namespace}/configmaps/{name}'), 'the ConfigMap patch path is in the OpenAPI document');
});

void t.test('namespaces and configmaps survive a restart, and a configmap watch gets 410 after compaction', async (t) => {
  await call('POST', '/api/v1/namespaces', ns('kept'));
  await call('POST', '/api/v1/namespaces/kept/configmaps', cm('kept', { data: { a: 'b' } }));
  await api.stop();
  api = new DevApi({ stateDir, readText: readBoundedText, namespaceTerminationSeconds: 3600 });
  await api.start();
  t.match(await call('GET', '/api/v1/namespaces/kept/configmaps/kept'), { code: 200, body: { data: { a: 'b' } } }, 'the configmap is back');
  t.equal((await call('GET', '/api/v1/namespaces/kept')).code, 200, 'the namespace is back');
  const rv = ((await call('GET', '/api/v1/configmaps')).body.metadata as { resourceVersion: string }).resourceVersion;
  await call('POST', '/devapi/v1/history/compact', {});
  await call('POST', '/api/v1/namespaces/kept/configmaps', cm('after'));
  const expired = await call('GET', `/api/v1/namespaces/kept/configmaps?watch=true&resourceVersion=${Number(rv) - 1}`);
  t.match(JSON.parse(expired.text.trim()) as object, { type: 'ERROR', object: { code: 410, reason: 'Expired' } }, 'an old version gets 410 Expired');
});
