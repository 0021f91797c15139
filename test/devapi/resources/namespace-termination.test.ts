/**
 * A deleted namespace is Terminating for a while, as on kube-apiserver: the DELETE answers
 * with the namespace (deletionTimestamp set, phase Terminating), watchers see it MODIFIED,
 * creates in it get NamespaceLifecycle's 403 with a NamespaceTerminating cause while
 * updates and deletes go on, a second DELETE is 409, and once it ends its contents and then
 * the namespace are DELETED. A restart resumes a namespace left Terminating.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { readBoundedText } from '../../../src/files.js';
import { DevApi } from '../../../devapi/server/server.js';
import { control, devapiCall } from '../../helpers/devapi.js';
import { until } from '../../helpers/wait.js';

const stateDir = mkdtempSync(join(tmpdir(), 'devapi-ns-terminating-'));
// Ended only through the control API: nothing here waits on a timer.
let api = new DevApi({ stateDir, readText: readBoundedText, namespaceTerminationSeconds: 3600 });
await api.start();
t.teardown(() => api.stop());

const call = (method: string, path: string, body?: unknown, contentType?: string): ReturnType<typeof devapiCall> =>
  devapiCall({ url: api.url, stateDir }, 'admin', method, path, body, contentType);
const ns = (name: string): object => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const cm = (metadata: Record<string, string>, data: Record<string, string> = {}): object => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata, data });

/** Watch lines of a raw watch stream, as `TYPE name phase`. */
async function watchLines(path: string): Promise<{ lines: string[]; stop: () => void }> {
  const { request } = await import('node:https');
  const { readFileSync } = await import('node:fs');
  const tokens = JSON.parse(readFileSync(join(stateDir, 'tokens.json'), 'utf8')) as Record<string, string>;
  const lines: string[] = [];
  const req = request(`${api.url}${path}`, { ca: readFileSync(join(stateDir, 'ca.pem')), headers: { Authorization: `Bearer ${tokens.admin ?? ''}` } }, (res) => {
    let pending = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      pending += d;
      for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
        const e = JSON.parse(pending.slice(0, i)) as { type: string; object: { metadata: { name: string }; status?: { phase?: string } } };
        lines.push(`${e.type} ${e.object.metadata.name}${e.object.status?.phase ? ` ${e.object.status.phase}` : ''}`);
        pending = pending.slice(i + 1);
      }
    });
    res.on('error', () => undefined);
  });
  req.on('error', () => undefined);
  req.end();
  return { lines, stop: () => req.destroy() };
}

void t.test('a deleted namespace is Terminating: readable, listed, watched as MODIFIED; creates in it are 403 as NamespaceLifecycle answers', async (t) => {
  await call('POST', '/api/v1/namespaces', ns('winding-down'));
  await call('POST', '/api/v1/namespaces/winding-down/configmaps', cm({ name: 'inside' }, { a: '1' }));
  const rv = ((await call('GET', '/api/v1/namespaces')).body.metadata as { resourceVersion: string }).resourceVersion;
  const watch = await watchLines(`/api/v1/namespaces?watch=true&resourceVersion=${rv}&fieldSelector=metadata.name%3Dwinding-down`);
  t.teardown(watch.stop);

  const deleted = await call('DELETE', '/api/v1/namespaces/winding-down');
  t.match(deleted, { code: 200, body: { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'winding-down', deletionTimestamp: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/ }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Terminating' } } },
    'the DELETE answers with the namespace, marked');
  t.match(await call('GET', '/api/v1/namespaces/winding-down'), { code: 200, body: { status: { phase: 'Terminating' } } }, 'it is still readable');
  const terminating = await call('GET', '/api/v1/namespaces?fieldSelector=status.phase%3DTerminating');
  t.same((terminating.body.items as { metadata: { name: string } }[]).map((i) => i.metadata.name), ['winding-down'], 'listed by status.phase=Terminating');
  await until(() => watch.lines.length >= 1, { what: 'the MODIFIED event', ms: 5000, intervalMs: 10 });
  t.same(watch.lines, ['MODIFIED winding-down Terminating'], 'watchers see it MODIFIED, Terminating');

  const refused = await call('POST', '/api/v1/namespaces/winding-down/configmaps', cm({ name: 'late' }));
  t.same({ code: refused.code, body: refused.body }, {
    code: 403,
    body: {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403,
      message: 'configmaps "late" is forbidden: unable to create new content in namespace winding-down because it is being terminated',
      details: { name: 'late', kind: 'configmaps', causes: [{ reason: 'NamespaceTerminating', message: 'namespace winding-down is being terminated', field: 'metadata.namespace' }] },
    },
  }, 'a create is 403 with the NamespaceTerminating cause');
  const generated = await call('POST', '/api/v1/namespaces/winding-down/configmaps', cm({ generateName: 'gen-' }));
  t.match(generated.body, { message: 'configmaps "gen-" is forbidden: unable to create new content in namespace winding-down because it is being terminated', details: { name: 'gen-' } }, 'a generateName create is named by its generateName');
  const lease = await call('POST', '/apis/coordination.k8s.io/v1/namespaces/winding-down/leases', { metadata: { name: 'l' }, spec: {} });
  t.match(lease, { code: 403, body: { message: 'leases.coordination.k8s.io "l" is forbidden: unable to create new content in namespace winding-down because it is being terminated', details: { name: 'l', group: 'coordination.k8s.io', kind: 'leases' } } }, 'a grouped resource names its group');
  const invalid = await call('POST', '/api/v1/namespaces/winding-down/configmaps', cm({ name: 'Not_Valid' }));
  t.equal(invalid.code, 403, 'admission refuses before validation');

  const updated = await call('PATCH', '/api/v1/namespaces/winding-down/configmaps/inside', { data: { a: '2' } }, 'application/merge-patch+json');
  t.match(updated, { code: 200, body: { data: { a: '2' } } }, 'an update in a Terminating namespace is allowed');
  const relabelled = await call('PATCH', '/api/v1/namespaces/winding-down', { metadata: { labels: { x: 'y' }, deletionTimestamp: null }, status: { phase: 'Active' } }, 'application/merge-patch+json');
  t.match(relabelled, { code: 200, body: { metadata: { labels: { x: 'y' }, deletionTimestamp: /Z$/ }, status: { phase: 'Terminating' } } }, 'an update of the namespace keeps it Terminating');
  t.match(await call('DELETE', '/api/v1/namespaces/winding-down'), {
    code: 409,
    body: { reason: 'Conflict', message: 'Operation cannot be fulfilled on namespaces "winding-down": The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.' },
  }, 'a second DELETE is 409');

  t.same(await control({ url: api.url, stateDir }, 'POST', '/devapi/v1/namespaces/finish-termination', {}), { finished: 1 });
  await until(() => watch.lines.length >= 3, { what: 'the DELETED event', ms: 5000, intervalMs: 10 });
  t.same(watch.lines.slice(1), ['MODIFIED winding-down Terminating', 'DELETED winding-down Terminating'], 'then the namespace is DELETED');
  t.equal((await call('GET', '/api/v1/namespaces/winding-down/configmaps/inside')).code, 404, 'its contents went first');
  t.match(await call('POST', '/api/v1/namespaces/winding-down/configmaps', cm({ name: 'late' })), { code: 404, body: { message: 'namespaces "winding-down" not found' } }, 'a create in it is now 404');
  t.match(await call('POST', '/api/v1/namespaces', ns('winding-down')), { code: 201, body: { status: { phase: 'Active' } } }, 'the name can be used again');
  t.equal((await call('POST', '/api/v1/namespaces/winding-down/configmaps', cm({ name: 'late' }))).code, 201, 'and takes creates');
});

void t.test('with no termination time the namespace is gone when the DELETE answers, and a restart ends one left Terminating', async (t) => {
  await call('POST', '/api/v1/namespaces', ns('left-over'));
  await call('POST', '/api/v1/namespaces/left-over/configmaps', cm({ name: 'c' }));
  t.match(await call('DELETE', '/api/v1/namespaces/left-over'), { code: 200, body: { status: { phase: 'Terminating' } } });
  await api.stop();
  api = new DevApi({ stateDir, readText: readBoundedText, namespaceTerminationSeconds: 0 });
  await api.start();
  t.equal((await call('GET', '/api/v1/namespaces/left-over')).code, 404, 'the restarted devapi ended it');
  t.equal((await call('GET', '/api/v1/namespaces/left-over/configmaps/c')).code, 404, 'with its contents');
  await call('POST', '/api/v1/namespaces', ns('quick'));
  t.match(await call('DELETE', '/api/v1/namespaces/quick'), { code: 200, body: { status: { phase: 'Terminating' } } }, 'the answer still shows the namespace Terminating');
  t.equal((await call('GET', '/api/v1/namespaces/quick')).code, 404, 'and it is already gone');
});
