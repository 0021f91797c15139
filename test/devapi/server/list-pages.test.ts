/**
 * devapi's lists over HTTPS read as kube-apiserver's etcd3 store does: objects in the byte
 * order of their keys, continue tokens that resume in that order, every page of one list
 * from one snapshot, and a token whose revision is compacted answered 410 with a token that
 * reads the rest at the current revision.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { readBoundedText } from '../../../src/files.js';
import { DevApi } from '../../../devapi/server/server.js';
import { DevapiClient } from '../../helpers/devapi.js';
import { buildRequest, toPem } from '../../helpers/requests.js';

const stateDir = mkdtempSync(join(tmpdir(), 'devapi-lists-'));
const api = new DevApi({ stateDir, readText: readBoundedText });
await api.start();
t.teardown(() => api.stop());
const client = new DevapiClient(api.url, stateDir);

interface List {
  readonly metadata: { readonly resourceVersion: string; readonly continue?: string; readonly remainingItemCount?: number };
  readonly items: readonly { readonly metadata: { readonly name: string; readonly namespace?: string; readonly resourceVersion: string }; readonly data?: Record<string, string> }[];
}
interface Status { readonly code: number; readonly reason: string; readonly message: string; readonly metadata: { readonly continue?: string } }

async function ok(method: string, path: string, body?: unknown): Promise<unknown> {
  const r = await client.call(method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
  return r.body;
}
const list = async (path: string): Promise<List> => await ok('GET', path) as List;
const names = (l: List): string[] => l.items.map((i) => (i.metadata.namespace === undefined ? i.metadata.name : `${i.metadata.namespace}/${i.metadata.name}`));
const withQuery = (path: string, query: Record<string, string>): string => `${path}${path.includes('?') ? '&' : '?'}${new URLSearchParams(query).toString()}`;

/** Every page of `path` at `limit` a page, following continue tokens. */
async function allPages(path: string, limit: number): Promise<{ names: string[]; versions: string[] }> {
  const out = { names: [] as string[], versions: [] as string[] };
  let token: string | undefined;
  do {
    const page = await list(withQuery(path, { limit: String(limit), ...(token ? { continue: token } : {}) }));
    out.names.push(...names(page));
    out.versions.push(page.metadata.resourceVersion);
    token = page.metadata.continue;
  } while (token);
  return out;
}

const csrs = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const configMap = (name: string, data: Record<string, string> = {}, labels: Record<string, string> = { list: 'pages' }): unknown => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data });

void t.test('a list and its pages are in the byte order of namespace/name, as etcd keys sort', async (t) => {
  // CSR names are path segments, so upper case is allowed: byte order puts every upper-case letter first.
  for (const name of ['a1', 'B1', 'b2', 'Zed']) {
    const request = Buffer.from(toPem('CERTIFICATE REQUEST', buildRequest({ commonName: name }))).toString('base64');
    await ok('POST', csrs, { metadata: { name }, spec: { request, signerName: 'example.com/demo', usages: ['client auth'] } });
  }
  t.same(names(await list(csrs)), ['B1', 'Zed', 'a1', 'b2'], 'one list');
  t.same((await allPages(csrs, 1)).names, ['B1', 'Zed', 'a1', 'b2'], 'one a page: none skipped, none twice');
  // Across namespaces the key is namespace/name: "a-b/x" sorts before "a/x" ('-' is below '/').
  for (const ns of ['a', 'a-b']) {
    await ok('POST', '/api/v1/namespaces', { metadata: { name: ns } });
    await ok('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap('x', {}, { order: 'yes' }));
  }
  const order = '/api/v1/configmaps?labelSelector=order%3Dyes';
  t.same(names(await list(order)), ['a-b/x', 'a/x']);
  t.same((await allPages(order, 1)).names, ['a-b/x', 'a/x']);
});

void t.test('continue tokens are upstream\'s: base64url JSON of version, list revision and the next key', async (t) => {
  for (const name of ['one', 'two']) await ok('POST', '/api/v1/namespaces/default/configmaps', configMap(`token-${name}`, {}, { token: 'yes' }));
  const first = await list('/api/v1/namespaces/default/configmaps?labelSelector=token%3Dyes&limit=1');
  const token = JSON.parse(Buffer.from(first.metadata.continue ?? '', 'base64url').toString('utf8')) as unknown;
  t.same(token, { v: 'meta.k8s.io/v1', rv: Number(first.metadata.resourceVersion), start: 'token-one\u0000' }, 'in one namespace the key is the name');
  for (const [why, bad, message] of [
    ['not base64url', 'a+b', 'invalid continue token: continue key is not valid: illegal base64 data at input byte 1'],
    ['another version', Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v2', rv: 1, start: 'a' })).toString('base64url'), 'invalid continue token: continue key is not valid: server does not recognize this encoded version meta.k8s.io/v2'],
    ['revision 0', Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 0, start: 'a' })).toString('base64url'), 'invalid continue token: continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)'],
    ['no start key', Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 1, start: '' })).toString('base64url'), 'invalid continue token: continue key is not valid: encoded start key empty (version meta.k8s.io/v1)'],
    ['a key climbing out of the list', Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 1, start: '../secrets' })).toString('base64url'), 'invalid continue token: continue key is not valid: ../secrets'],
  ] as const) {
    const r = await client.call('GET', `/api/v1/namespaces/default/configmaps?limit=1&continue=${bad}`);
    t.match({ status: r.status, body: r.body }, { status: 400, body: { reason: 'BadRequest', message } }, why);
  }
});

void t.test('the pages of one list are one snapshot: later pages read at the first page\'s revision', async (t) => {
  const path = '/api/v1/namespaces/default/configmaps';
  for (const name of ['snap-a', 'snap-b', 'snap-c', 'snap-d']) await ok('POST', path, configMap(name, { v: '1' }, { snap: 'yes' }));
  const first = await list(`${path}?labelSelector=snap%3Dyes&limit=2`);
  t.same(names(first), ['default/snap-a', 'default/snap-b']);
  // Between the pages: one object deleted, one changed, one created after the cursor.
  await ok('DELETE', `${path}/snap-c`);
  const d = await ok('GET', `${path}/snap-d`) as { metadata: Record<string, unknown> };
  await ok('PUT', `${path}/snap-d`, { ...d, data: { v: '2' } });
  await ok('POST', path, configMap('snap-e', { v: '1' }, { snap: 'yes' }));
  const second = await list(`${path}?labelSelector=snap%3Dyes&limit=2&continue=${first.metadata.continue ?? ''}`);
  t.equal(second.metadata.resourceVersion, first.metadata.resourceVersion, 'the list\'s revision, not the current one');
  t.same(names(second), ['default/snap-c', 'default/snap-d'], 'the deleted object is still there; the new one is not');
  t.equal(second.items[1]?.data?.v, '1', 'the changed object as it was');
  t.equal(second.metadata.continue, undefined, 'nothing more in the snapshot');
  t.same(names(await list(`${path}?labelSelector=snap%3Dyes`)), ['default/snap-a', 'default/snap-b', 'default/snap-d', 'default/snap-e'], 'a new list reads the current objects');
});

void t.test('a token whose revision was compacted is 410 Expired, with a token for the rest at the current revision', async (t) => {
  const path = '/api/v1/namespaces/default/configmaps';
  for (const name of ['old-a', 'old-b', 'old-c']) await ok('POST', path, configMap(name, {}, { old: 'yes' }));
  const first = await list(`${path}?labelSelector=old%3Dyes&limit=1`);
  await ok('DELETE', `${path}/old-b`);
  await ok('POST', '/devapi/v1/history/compact', {});
  const r = await client.call('GET', `${path}?labelSelector=old%3Dyes&limit=1&continue=${first.metadata.continue ?? ''}`);
  const status = r.body as Status;
  t.equal(r.status, 410);
  t.match(status, {
    kind: 'Status', status: 'Failure', code: 410, reason: 'Expired',
    message: 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
  });
  const inconsistent = status.metadata.continue ?? '';
  t.same(JSON.parse(Buffer.from(inconsistent, 'base64url').toString('utf8')), { v: 'meta.k8s.io/v1', rv: -1, start: 'old-a\u0000' }, 'the same key at revision -1');
  const rest = await list(`${path}?labelSelector=old%3Dyes&limit=5&continue=${inconsistent}`);
  t.same(names(rest), ['default/old-c'], 'the rest as it is now: the deleted object is gone');
  const now = await list(`${path}?limit=1`);
  t.equal(rest.metadata.resourceVersion, now.metadata.resourceVersion, 'read at the current revision');
});

void t.test('history dropped past a list\'s revision expires its token too', async (t) => {
  const small = mkdtempSync(join(tmpdir(), 'devapi-lists-small-'));
  const api2 = new DevApi({ stateDir: small, readText: readBoundedText, historySize: 2 });
  await api2.start();
  t.teardown(() => api2.stop());
  const c2 = new DevapiClient(api2.url, small);
  for (const name of ['h-a', 'h-b']) await c2.call('POST', '/api/v1/namespaces/default/configmaps', configMap(name));
  const first = (await c2.call('GET', '/api/v1/namespaces/default/configmaps?limit=1')).body as List;
  for (const name of ['h-c', 'h-d', 'h-e']) await c2.call('POST', '/api/v1/namespaces/default/configmaps', configMap(name));
  const r = await c2.call('GET', `/api/v1/namespaces/default/configmaps?limit=1&continue=${first.metadata.continue ?? ''}`);
  t.match({ status: r.status, body: r.body }, { status: 410, body: { reason: 'Expired' } });
});
