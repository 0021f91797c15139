/**
 * devapi's certificates.k8s.io ClusterTrustBundles over HTTPS: kube-apiserver's
 * validation messages, the ClusterTrustBundleAttest admission (`attest` on `signers`),
 * the update rules, selectors, Table, discovery, persistence, v1 and v1beta1 over one
 * store, and the DevApi options that choose the versions served.
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

void t.test('v1 and v1beta1 are two views of one bundle: written through one, read, updated and deleted through the other', async (t) => {
  const V1 = '/apis/certificates.k8s.io/v1/clustertrustbundles';
  const created = await call('signer', 'POST', V1, { ...ctb('example.com:demo:both', caEc, 'example.com/demo'), apiVersion: 'certificates.k8s.io/v1' });
  t.match(created, { code: 201, body: { apiVersion: 'certificates.k8s.io/v1', kind: 'ClusterTrustBundle', spec: { signerName: 'example.com/demo', trustBundle: caEc } } });
  const beta = await call('admin', 'GET', `${CTBS}/example.com:demo:both`);
  t.match(beta, { code: 200, body: { apiVersion: 'certificates.k8s.io/v1beta1', spec: { signerName: 'example.com/demo', trustBundle: caEc } } }, 'read through v1beta1');
  t.equal((beta.body.metadata as { uid: string }).uid, (created.body.metadata as { uid: string }).uid, 'the same object');
  t.match(await call('admin', 'POST', V1, { ...ctb('example.com:demo:both', caEc, 'example.com/demo'), apiVersion: 'certificates.k8s.io/v1' }), { code: 409, body: { reason: 'AlreadyExists' } });
  t.match(await call('admin', 'POST', V1, ctb('x', caEc)), { code: 400, body: { message: 'the API version in the data (certificates.k8s.io/v1beta1) does not match the expected API version (certificates.k8s.io/v1)' } });
  const rv = (beta.body.metadata as { resourceVersion: string }).resourceVersion;
  const watchV1 = call('admin', 'GET', `${V1}?watch=true&resourceVersion=${rv}&timeoutSeconds=1&fieldSelector=metadata.name%3Dexample.com%3Ademo%3Aboth`);
  const watchBeta = call('admin', 'GET', `${CTBS}?watch=true&resourceVersion=${rv}&timeoutSeconds=1&fieldSelector=metadata.name%3Dexample.com%3Ademo%3Aboth`);
  const updated = await call('admin', 'PUT', `${CTBS}/example.com:demo:both`, { ...beta.body, spec: { signerName: 'example.com/demo', trustBundle: caEc + caRsa } });
  t.match(updated, { code: 200, body: { apiVersion: 'certificates.k8s.io/v1beta1' } }, 'updated through v1beta1 with the resourceVersion v1 gave');
  t.match(await call('admin', 'GET', `${V1}/example.com:demo:both`), { code: 200, body: { apiVersion: 'certificates.k8s.io/v1', spec: { trustBundle: caEc + caRsa } } }, 'v1 reads the update');
  const names = (r: { body: Record<string, unknown> }): string[] => (r.body.items as { metadata: { name: string } }[]).map((i) => i.metadata.name);
  t.same(names(await call('admin', 'GET', V1)), names(await call('admin', 'GET', CTBS)), 'both lists hold the same bundles');
  const seen = async (w: typeof watchV1): Promise<string[]> => (await w).text.trim().split('\n')
    .map((l) => JSON.parse(l) as { type: string; object: { apiVersion: string } }).map((e) => `${e.type} ${e.object.apiVersion}`);
  t.same(await seen(watchV1), ['MODIFIED certificates.k8s.io/v1'], 'a v1 watch sees the change as v1');
  t.same(await seen(watchBeta), ['MODIFIED certificates.k8s.io/v1beta1'], 'a v1beta1 watch sees the same change as v1beta1');
  t.match(await call('admin', 'DELETE', `${V1}/example.com:demo:both`), { code: 200 });
  t.match(await call('admin', 'GET', `${CTBS}/example.com:demo:both`), { code: 404 }, 'deleted through v1, gone from v1beta1');
});

void t.test('clusterTrustBundleVersions serves each combination, in discovery and for every verb', async (t) => {
  const combinations: { name: string; versions: ('v1' | 'v1beta1')[] }[] = [
    { name: 'both (1.37 with the beta API on)', versions: ['v1', 'v1beta1'] },
    { name: 'v1 alone (1.37 on, by default)', versions: ['v1'] },
    { name: 'v1beta1 alone (1.33 to 1.36 with the beta API on)', versions: ['v1beta1'] },
    { name: 'neither', versions: [] },
  ];
  for (const c of combinations) {
    const dir = mkdtempSync(join(tmpdir(), 'devapi-ctb-versions-'));
    const one = new DevApi({ stateDir: dir, readText: readBoundedText, clusterTrustBundleVersions: c.versions });
    await one.start();
    try {
      const at = (id: Id, method: string, path: string, body?: unknown): ReturnType<typeof devapiCall> => devapiCall({ url: one.url, stateDir: dir }, id, method, path, body);
      const apis = (await devapiCall({ url: one.url, stateDir: dir }, 'admin', 'GET', '/apis', undefined, 'application/json', AGGREGATED)).body;
      const certs = (apis.items as { metadata: { name: string }; versions: { version: string; resources: { resource: string }[] }[] }[]).find((g) => g.metadata.name === 'certificates.k8s.io');
      const bundleVersions = (certs?.versions ?? []).filter((v) => v.resources.some((r) => r.resource === 'clustertrustbundles')).map((v) => v.version);
      t.same(bundleVersions, c.versions, `${c.name}: aggregated discovery lists bundles in exactly these versions`);
      for (const version of ['v1', 'v1beta1'] as const) {
        const served = c.versions.includes(version);
        const gv = `/apis/certificates.k8s.io/${version}`;
        const list = await at('admin', 'GET', gv);
        const listed = list.code === 200 && (list.body.resources as { name: string }[]).some((r) => r.name === 'clustertrustbundles');
        t.equal(listed, served, `${c.name}: ${gv} ${served ? 'lists' : 'does not list'} clustertrustbundles`);
        const name = `example.com:demo:${version}`;
        const body = { ...ctb(name, caEc, 'example.com/demo'), apiVersion: `certificates.k8s.io/${version}` };
        const created = await at('admin', 'POST', `${gv}/clustertrustbundles`, body);
        if (!served) {
          t.match(created, { code: 404, body: { reason: 'NotFound' } }, `${c.name}: create through ${version} is 404`);
          t.match(await at('admin', 'GET', `${gv}/clustertrustbundles`), { code: 404 }, `${c.name}: list through ${version} is 404`);
          continue;
        }
        t.equal(created.code, 201, `${c.name}: created through ${version}`);
        t.match(await at('admin', 'GET', `${gv}/clustertrustbundles/${name}`), { code: 200, body: { apiVersion: `certificates.k8s.io/${version}` } }, `${c.name}: read through ${version}`);
        const patched = await devapiCall({ url: one.url, stateDir: dir }, 'admin', 'PATCH', `${gv}/clustertrustbundles/${name}`, { metadata: { labels: { a: 'b' } } }, 'application/merge-patch+json');
        t.match(patched, { code: 200, body: { apiVersion: `certificates.k8s.io/${version}`, metadata: { labels: { a: 'b' } } } }, `${c.name}: patched through ${version}`);
        t.equal((await at('admin', 'DELETE', `${gv}/clustertrustbundles/${name}`)).code, 200, `${c.name}: deleted through ${version}`);
      }
    } finally {
      await one.stop();
    }
  }
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
