/**
 * devapi's certificates.k8s.io/v1beta1 ClusterTrustBundles over HTTPS: kube-apiserver's
 * validation messages, the ClusterTrustBundleAttest admission (`attest` on `signers`),
 * the update rules, selectors, Table, discovery, persistence, and the DevApi option that
 * turns the beta API off.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { readBoundedText } from '../../../src/files.js';
import { DevApi } from '../../../devapi/server/server.js';
import { signerTrustRules } from '../../../devapi/auth/signer-role.js';
import { devapiCall } from '../../helpers/devapi.js';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'ca');
const pem = (file: string): string => readFileSync(join(fixtures, file), 'utf8');
const caEc = pem('ca-ec.pem');
const caRsa = pem('ca-rsa.pem');

const RBAC = 'rbac.authorization.k8s.io';
const clusterRole = (name: string, rules: object[], user: string): object[] => [
  { apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', metadata: { name }, rules },
  { apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name }, subjects: [{ kind: 'User', name: user }] },
];
// The signer publishes with the trust rules (attest for example.com/*); the requester may write bundles but attest for nothing.
const policyYaml = [
  { apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', metadata: { name: 'trust' }, rules: signerTrustRules({ configMapNames: ['ca-bundle'], clusterTrustBundleNames: ['example.com:demo:bundle'], attestSignerNames: ['example.com/*'] }) },
  { apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: { name: 'trust' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'trust' }, subjects: [{ kind: 'ServiceAccount', name: 'csr-signer', namespace: 'csr-signer' }] },
  ...clusterRole('ctb-writer', [{ apiGroups: ['certificates.k8s.io'], resources: ['clustertrustbundles'], verbs: ['create', 'get', 'update', 'patch'] }], 'requester'),
].map((o) => stringify(o)).join('---\n');

const stateDir = mkdtempSync(join(tmpdir(), 'devapi-ctb-'));
let api = new DevApi({ stateDir, readText: readBoundedText, policyYaml });
await api.start();
t.teardown(() => api.stop());

type Id = 'admin' | 'signer' | 'approver' | 'requester';
const call = (id: Id, method: string, path: string, body?: unknown, contentType?: string): ReturnType<typeof devapiCall> =>
  devapiCall({ url: api.url, stateDir }, id, method, path, body, contentType);
const CTBS = '/apis/certificates.k8s.io/v1beta1/clustertrustbundles';
const ctb = (name: string, trustBundle: string, signerName?: string): object => ({
  apiVersion: 'certificates.k8s.io/v1beta1', kind: 'ClusterTrustBundle', metadata: { name }, spec: { ...(signerName ? { signerName } : {}), trustBundle },
});
const AGGREGATED = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

void t.test('a bundle write needs attest for its signerName, with the upstream 403', async (t) => {
  const denied = await call('requester', 'POST', CTBS, ctb('example.com:demo:denied', caEc, 'example.com/demo'));
  t.match(denied, {
    code: 403,
    body: { reason: 'Forbidden', message: 'clustertrustbundles.certificates.k8s.io "example.com:demo:denied" is forbidden: user not permitted to attest for signerName "example.com/demo"', details: { name: 'example.com:demo:denied', group: 'certificates.k8s.io', kind: 'clustertrustbundles' } },
  }, 'without attest: 403');
  t.equal((await call('requester', 'POST', CTBS, ctb('unlinked', caEc))).code, 201, 'a bundle without signerName needs no attest');
  const bySigner = await call('signer', 'POST', CTBS, ctb('example.com:demo:bundle', caEc, 'example.com/demo'));
  t.equal(bySigner.code, 201, 'with attest on example.com/*: created');
  t.match(bySigner.body, { apiVersion: 'certificates.k8s.io/v1beta1', kind: 'ClusterTrustBundle', spec: { signerName: 'example.com/demo', trustBundle: caEc } });
  const elsewhere = await call('signer', 'POST', CTBS, ctb('other.org:x:b', caEc, 'other.org/x'));
  t.match(elsewhere, { code: 403, body: { message: /user not permitted to attest for signerName "other.org\/x"$/ } }, 'attest for example.com/* is not attest for other.org');
  t.equal((await call('admin', 'POST', CTBS, ctb('other.org:x:b', caEc, 'other.org/x'))).code, 201, 'system:masters may attest for anything');
  const rotated = await call('signer', 'PUT', `${CTBS}/example.com:demo:bundle`, { ...bySigner.body, spec: { signerName: 'example.com/demo', trustBundle: caEc + caRsa } });
  t.equal(rotated.code, 200, 'the signer updates its own bundle');
  const relabel = await call('requester', 'PATCH', `${CTBS}/example.com:demo:bundle`, { metadata: { labels: { a: 'b' } } }, 'application/merge-patch+json');
  t.equal(relabel.code, 403, 'an update without attest is refused, even of labels');
  const gc = await call('requester', 'PATCH', `${CTBS}/example.com:demo:bundle`, { metadata: { finalizers: ['example.com/keep'] } }, 'application/merge-patch+json');
  t.equal(gc.code, 200, 'an update of only finalizers/ownerReferences skips the attest check');
});

void t.test('validation refuses bad bundles and names with kube-apiserver\'s messages', async (t) => {
  const entry = (detail: string): string => `spec.trustBundle: Invalid value: "<value omitted>": ${detail}`;
  const withHeaders = caEc.replace('-----BEGIN CERTIFICATE-----\n', '-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n\n');
  const cases: [string, object, string][] = [
    ['no PEM at all', ctb('b1', 'not pem'), entry('at least one trust anchor must be provided')],
    ['an empty bundle', ctb('b2', ''), entry('at least one trust anchor must be provided')],
    ['a key block', ctb('b3', pem('ca-ec-key.pem')), entry('entry 0 has bad block type: PRIVATE KEY')],
    ['a block with PEM headers', ctb('b4', withHeaders), entry('entry 0 has PEM block headers')],
    ['a CERTIFICATE block that is not X.509', ctb('b5', caEc + pem('garbage-cert.pem')), entry('entry 1 does not parse as X.509')],
    ['a leaf certificate', ctb('b6', pem('leaf-not-ca.pem')), entry('entry 0 does not have the CA bit set')],
    ['the same anchor twice', ctb('b7', caEc + caRsa + caEc), entry('duplicate trust anchor (indices [0 2])')],
    ['a bundle over 1 MiB', ctb('b8', caEc + ' '.repeat(1024 * 1024)), 'spec.trustBundle: Too long: may not be more than 1048576 bytes'],
    ['a linked name without the signer prefix', ctb('bundle', caEc, 'example.com/demo'), 'metadata.name: Invalid value: "bundle": ClusterTrustBundle for signerName example.com/demo must be named with prefix example.com:demo:'],
    ['an unlinked name with a colon', ctb('a:b', caEc), 'metadata.name: Invalid value: "a:b": ClusterTrustBundle without signer name must not have ":" in its name'],
    ['a suffix that is not a DNS subdomain', ctb('example.com:demo:Bad', caEc, 'example.com/demo'), 'metadata.name: Invalid value: "example.com:demo:Bad": a lowercase RFC 1123 subdomain must consist of'],
    ['a signerName without a domain', ctb('nodomain:x:y', caEc, 'nodomain/x'), 'spec.signerName: Invalid value: "nodomain": should be a domain with at least two segments separated by dots'],
  ];
  for (const [name, body, message] of cases) {
    const r = await call('admin', 'POST', CTBS, body);
    t.equal(r.code, 422, `${name} is 422`);
    t.match(String(r.body.message), message, `${name}: the message`);
  }
  t.equal((await call('admin', 'POST', CTBS, ctb('with-text', `comment before\n${caEc}trailing text\n`))).code, 201, 'text around the blocks is ignored, as pem.Decode does');
});

void t.test('updates need a resourceVersion, keep signerName, and re-check only a changed bundle', async (t) => {
  const created = await call('admin', 'POST', CTBS, ctb('example.com:demo:update', caEc, 'example.com/demo'));
  const body = created.body as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
  const noVersion = Object.fromEntries(Object.entries(body.metadata).filter(([k]) => k !== 'resourceVersion'));
  t.match(await call('admin', 'PUT', `${CTBS}/example.com:demo:update`, { ...body, metadata: noVersion }),
    { code: 422, body: { message: 'ClusterTrustBundle.certificates.k8s.io "example.com:demo:update" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update' } });
  const moved = await call('admin', 'PUT', `${CTBS}/example.com:demo:update`, { ...body, spec: { ...body.spec, signerName: 'example.com/other' } });
  t.equal(moved.code, 422);
  t.match(String(moved.body.message), 'spec.signerName: Invalid value: "example.com/other": field is immutable', 'signerName is immutable');
  t.match(await call('admin', 'PUT', `${CTBS}/example.com:demo:update`, { ...body, metadata: { ...body.metadata, resourceVersion: '1' } }), { code: 409, body: { reason: 'Conflict' } }, 'a stale version is 409');
  const broken = await call('admin', 'PATCH', `${CTBS}/example.com:demo:update`, { spec: { trustBundle: pem('leaf-not-ca.pem') } }, 'application/merge-patch+json');
  t.match(String(broken.body.message), 'entry 0 does not have the CA bit set', 'a changed bundle is validated again');
});

void t.test('list and watch filter on spec.signerName; get -o wide columns are NAME and SIGNERNAME', async (t) => {
  const list = await call('admin', 'GET', `${CTBS}?fieldSelector=spec.signerName%3Dexample.com%2Fdemo`);
  const names = (list.body.items as { metadata: { name: string } }[]).map((i) => i.metadata.name);
  t.same(names, ['example.com:demo:bundle', 'example.com:demo:update']);
  t.match(await call('admin', 'GET', `${CTBS}?fieldSelector=spec.trustBundle%3Dx`), { code: 400, body: { message: 'field label not supported: spec.trustBundle' } });
  const table = (await devapiCall({ url: api.url, stateDir }, 'admin', 'GET', CTBS, undefined, 'application/json', 'application/json;as=Table;v=v1;g=meta.k8s.io')).body;
  t.same((table.columnDefinitions as { name: string }[]).map((c) => c.name), ['Name', 'SignerName'], 'upstream prints no AGE for bundles');
  t.match(table.rows, [{ cells: ['example.com:demo:bundle', 'example.com/demo'] }, { cells: ['example.com:demo:update', 'example.com/demo'] }, { cells: ['other.org:x:b', 'other.org/x'] }, { cells: ['unlinked', '<none>'] }, { cells: ['with-text', '<none>'] }]);
  const rv = (list.body.metadata as { resourceVersion: string }).resourceVersion;
  const watching = call('admin', 'GET', `${CTBS}?watch=true&resourceVersion=${rv}&timeoutSeconds=1&fieldSelector=spec.signerName%3Dexample.com%2Fwatched`);
  await call('admin', 'POST', CTBS, ctb('example.com:other:x', caEc, 'example.com/other'));
  await call('admin', 'POST', CTBS, ctb('example.com:watched:x', caEc, 'example.com/watched'));
  const events = (await watching).text.trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string } } });
  t.same(events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED example.com:watched:x'], 'the watch sees only its signer');
});

void t.test('discovery serves certificates.k8s.io v1 (preferred) and v1beta1, and OpenAPI the bundle path', async (t) => {
  const apis = (await devapiCall({ url: api.url, stateDir }, 'admin', 'GET', '/apis', undefined, 'application/json', AGGREGATED)).body;
  const certs = (apis.items as { metadata: { name: string }; versions: { version: string; resources: { resource: string; scope: string; shortNames?: string[] }[] }[] }[])
    .find((g) => g.metadata.name === 'certificates.k8s.io');
  t.same(certs?.versions.map((v) => v.version), ['v1', 'v1beta1']);
  t.match(certs?.versions[1]?.resources, [{ resource: 'clustertrustbundles', scope: 'Cluster', responseKind: { kind: 'ClusterTrustBundle', version: 'v1beta1' } }]);
  t.notOk(certs?.versions[1]?.resources[0]?.shortNames, 'no short name, as upstream');
  const legacy = await call('admin', 'GET', '/apis');
  t.match((legacy.body.groups as object[]).find((g) => (g as { name: string }).name === 'certificates.k8s.io'), {
    versions: [{ groupVersion: 'certificates.k8s.io/v1' }, { groupVersion: 'certificates.k8s.io/v1beta1' }], preferredVersion: { version: 'v1' },
  });
  t.match(await call('admin', 'GET', '/apis/certificates.k8s.io/v1beta1'), { code: 200, body: { resources: [{ name: 'clustertrustbundles', namespaced: false, kind: 'ClusterTrustBundle' }] } });
  const openapi = await call('admin', 'GET', '/openapi/v3');
  t.ok(Object.hasOwn(openapi.body.paths as object, 'apis/certificates.k8s.io/v1beta1'), 'OpenAPI lists the beta group-version');
});

void t.test('bundles survive a restart; with clusterTrustBundles false the beta API is not served at all', async (t) => {
  await api.stop();
  api = new DevApi({ stateDir, readText: readBoundedText, policyYaml });
  await api.start();
  t.match(await call('admin', 'GET', `${CTBS}/example.com:demo:bundle`), { code: 200, body: { spec: { trustBundle: caEc + caRsa } } }, 'kept across a restart');
  await api.stop();
  api = new DevApi({ stateDir, readText: readBoundedText, clusterTrustBundles: false });
  await api.start();
  const notServed = { code: 404, body: { reason: 'NotFound', message: 'the server could not find the requested resource' } };
  t.match(await call('admin', 'GET', CTBS), notServed, 'list is 404');
  t.match(await call('admin', 'POST', CTBS, ctb('x', caEc)), notServed, 'create is 404');
  t.match(await call('admin', 'GET', '/apis/certificates.k8s.io/v1beta1'), notServed, 'the group-version is 404');
  const apis = (await devapiCall({ url: api.url, stateDir }, 'admin', 'GET', '/apis', undefined, 'application/json', AGGREGATED)).body;
  const certs = (apis.items as { metadata: { name: string }; versions: { version: string }[] }[]).find((g) => g.metadata.name === 'certificates.k8s.io');
  t.same(certs?.versions.map((v) => v.version), ['v1'], 'discovery has only v1');
  t.notOk(Object.hasOwn((await call('admin', 'GET', '/openapi/v3')).body.paths as object, 'apis/certificates.k8s.io/v1beta1'), 'nor does OpenAPI');
  t.equal((await call('admin', 'GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests')).code, 200, 'CSRs are still served');
});
