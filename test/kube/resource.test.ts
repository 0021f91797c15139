/**
 * The generic resource client builds each verb's path, query and body once: cluster
 * and namespaced paths, selectors on list and watch, typed bodies, preconditions on
 * delete, a 404 as undefined from find and as an error from get.
 */
import t from 'tap';
import { KubeApiError, type KubeHttp, type Query } from '../../src/kube/http.js';
import type { ConfigMap } from '../../src/kube/objects.js';
import { resource, type WatchEvent } from '../../src/kube/resource.js';

interface Sent { method: string; path: string; query?: Query; body?: unknown }

function recorder(answer: (s: Sent) => unknown = () => ({})): { kube: KubeHttp; sent: Sent[] } {
  const sent: Sent[] = [];
  const kube: KubeHttp = {
    request<T>(method: string, path: string, options: { query?: Query; body?: unknown } = {}): Promise<T> {
      const s = { method, path, ...options };
      sent.push(s);
      try {
        return Promise.resolve(answer(s) as T);
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    },
    watch(path, query, onLine) {
      sent.push({ method: 'WATCH', path, query });
      onLine({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '7' } } });
      return Promise.resolve();
    },
    close: () => undefined,
  };
  return { kube, sent };
}

const kind = { groupVersionPath: '/api/v1', plural: 'configmaps', apiVersion: 'v1', kind: 'ConfigMap' };
const cm: ConfigMap = { metadata: { name: 'ca bundle', namespace: 'team a', resourceVersion: '5' }, data: { 'ca.crt': 'x' } };

void t.test('each verb: its method, path (names and namespaces escaped), query and typed body', async (t) => {
  const { kube, sent } = recorder((s) => (s.method === 'GET' && !s.path.includes('ca%20bundle') ? { items: [cm], metadata: { resourceVersion: '9', continue: 'c2' } } : cm));
  const client = resource<ConfigMap>(kube, kind);
  t.same(await client.list({ limit: 50, continue: 'c1', namespace: 'team a', labelSelector: 'a=b' }), { items: [cm], resourceVersion: '9', continue: 'c2' });
  await client.get('ca bundle', 'team a');
  await client.create(cm);
  await client.update(cm);
  await client.updateStatus(cm);
  await client.delete('ca bundle', { uid: 'u1' }, 'team a');
  const events: WatchEvent<ConfigMap>[] = [];
  await client.watch({ resourceVersion: '9', timeoutSeconds: 300, namespace: 'team a', fieldSelector: 'metadata.name=x' }, (e) => events.push(e), new AbortController().signal);
  const item = '/api/v1/namespaces/team%20a/configmaps/ca%20bundle';
  t.same(sent.map(({ method, path }) => `${method} ${path}`), [
    'GET /api/v1/namespaces/team%20a/configmaps', `GET ${item}`, 'POST /api/v1/namespaces/team%20a/configmaps', `PUT ${item}`, `PUT ${item}/status`, `DELETE ${item}`,
    'WATCH /api/v1/namespaces/team%20a/configmaps',
  ]);
  t.same(sent[0]?.query, { fieldSelector: undefined, labelSelector: 'a=b', limit: 50, continue: 'c1' }, 'the namespace is in the path, not the query');
  t.same(sent[2]?.body, { apiVersion: 'v1', kind: 'ConfigMap', ...cm }, 'a typed body');
  t.same(sent[5]?.body, { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: 'u1' } });
  t.same(sent[6]?.query, { fieldSelector: 'metadata.name=x', labelSelector: undefined, resourceVersion: '9', allowWatchBookmarks: true, timeoutSeconds: 300 });
  t.same(events, [{ type: 'BOOKMARK', resourceVersion: '7' }]);
});

void t.test('a cluster-wide list and feed, and 404: undefined from find, an error from get', async (t) => {
  const { kube, sent } = recorder((s) => {
    if (s.path.endsWith('/gone')) throw new KubeApiError(404, 'NotFound', 'configmaps "gone" not found', undefined);
    return { items: [] };
  });
  const client = resource<ConfigMap>(kube, kind);
  await client.feed({ labelSelector: 'x' }).list({ limit: 10 });
  t.equal(sent[0]?.path, '/api/v1/configmaps');
  t.equal(sent[0]?.query?.labelSelector, 'x');
  t.equal(await client.find('gone', 'ns'), undefined);
  await t.rejects(client.get('gone', 'ns'), new KubeApiError(404, 'NotFound', 'configmaps "gone" not found', undefined));
});
