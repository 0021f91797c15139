/**
 * The API client tells its request observer of every request, with its verb, the
 * status or "error", and the time; against a real local HTTP server, no mocks.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { kubeHttp, type KubeRequestObserver, type KubeVerb } from '../../src/kube/http.js';

type Seen = [KubeVerb, number | 'error'];

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

const recorder = (): { observer: KubeRequestObserver; seen: Seen[]; seconds: number[] } => {
  const seen: Seen[] = [];
  const seconds: number[] = [];
  return { seen, seconds, observer: { kubeRequest: (verb, status, s) => { seen.push([verb, status]); seconds.push(s); } } };
};

void t.test('each request, answered or refused, is observed once with its verb and status', async (t) => {
  const server = await serve((req, res) => {
    if (req.url?.startsWith('/ok')) return res.end('{"kind":"Thing"}');
    if (req.url?.includes('watch=1')) {
      res.write('{"type":"ADDED","object":{}}\n');
      return res.end();
    }
    res.statusCode = req.url?.startsWith('/conflict') ? 409 : 503;
    res.end('{"kind":"Status","reason":"Conflict","message":"no"}');
  });
  t.teardown(server.close);
  const { observer, seen, seconds } = recorder();
  const client = kubeHttp({ server: server.url, tls: {}, headers: () => Promise.resolve({}) }, observer);
  t.teardown(() => client.close());
  await client.request('GET', '/ok');
  await client.request('PUT', '/ok', { body: {} });
  await t.rejects(client.request('PUT', '/conflict', { body: {} }), { message: /^409 Conflict: no$/ });
  await t.rejects(client.request('DELETE', '/unavailable'), { message: /^503 / });
  const lines: unknown[] = [];
  await client.watch('/things', {}, (l) => lines.push(l), new AbortController().signal);
  t.same(seen, [['GET', 200], ['PUT', 200], ['PUT', 409], ['DELETE', 503], ['WATCH', 200]]);
  t.ok(seconds.every((s) => s >= 0 && s < 30), 'times in seconds');
  t.equal(lines.length, 1, 'the watch still delivers');
});

void t.test('a request no server answers is observed as "error"; a watch we stop is not', async (t) => {
  const server = await serve(() => undefined);
  const url = server.url;
  await server.close();
  const { observer, seen } = recorder();
  const client = kubeHttp({ server: url, tls: {}, headers: () => Promise.resolve({}) }, observer);
  t.teardown(() => client.close());
  await t.rejects(client.request('GET', '/gone'));
  await t.rejects(client.watch('/gone', {}, () => undefined, new AbortController().signal));
  const stopped = new AbortController();
  stopped.abort();
  await t.rejects(client.watch('/gone', {}, () => undefined, stopped.signal));
  t.same(seen, [['GET', 'error'], ['WATCH', 'error']]);
});
