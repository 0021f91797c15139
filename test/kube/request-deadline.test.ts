/**
 * One deadline per request, from its start to the whole answer (for a watch, to
 * its answer's headers): connecting, a proxy's CONNECT answer or SOCKS handshake
 * and the TLS handshake included. Against real loopback servers that accept a
 * connection and then never answer; the deadline is made short, and the tests
 * only wait for the request to fail with the timeout error, never for how long
 * that took.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import t from 'tap';
import { kubeHttp, type KubeEndpoint, type KubeRequestObserver, type KubeVerb } from '../../src/kube/http.js';

const TIMEOUT = /: no answer in 0\.2 s$/;

/** A TCP server on loopback that accepts each connection and never writes a byte; `closed` settles when the client gives its first one up. */
async function silent(): Promise<{ port: number; closed: Promise<void>; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let gone: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => { gone = resolve; });
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', gone);
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    closed,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

function client(t: { teardown(fn: () => void): void }, server: string, proxy?: string): { kube: ReturnType<typeof kubeHttp>; seen: [KubeVerb, number | 'error'][] } {
  const seen: [KubeVerb, number | 'error'][] = [];
  const observer: KubeRequestObserver = { kubeRequest: (verb, status) => seen.push([verb, status]) };
  const endpoint: KubeEndpoint = { server, tls: {}, ...(proxy ? { proxy: new URL(proxy) } : {}), headers: () => Promise.resolve({}) };
  const kube = kubeHttp(endpoint, observer, { requestTimeoutMs: 200 });
  t.teardown(() => kube.close());
  return { kube, seen };
}

void t.test('a CONNECT proxy that accepts and never answers: the request and the watch time out, and the tunnel is closed', async (t) => {
  const proxy = await silent();
  t.teardown(proxy.close);
  const { kube, seen } = client(t, 'https://api.example:6443', `http://127.0.0.1:${proxy.port}`);
  await t.rejects(kube.request('GET', '/api/v1/namespaces/x'), { message: /^GET \/api\/v1\/namespaces\/x: no answer in 0\.2 s$/ });
  await t.rejects(kube.watch('/apis/certificates.k8s.io/v1/certificatesigningrequests', {}, () => undefined, new AbortController().signal), { message: TIMEOUT });
  t.same(seen, [['GET', 'error'], ['WATCH', 'error']], 'observed as errors');
  await proxy.closed;
  t.pass('the connection to the proxy was given up, not left open');
});

void t.test('a SOCKS5 proxy that accepts and never answers the greeting: the request times out, and the tunnel is closed', async (t) => {
  const proxy = await silent();
  t.teardown(proxy.close);
  const { kube } = client(t, 'https://api.example:6443', `socks5://127.0.0.1:${proxy.port}`);
  await t.rejects(kube.request('POST', '/apis/x', { body: {} }), { message: TIMEOUT });
  await proxy.closed;
  t.pass('the connection to the proxy was given up, not left open');
});

void t.test('an https server that accepts TCP and never answers the TLS handshake: the request and the watch time out', async (t) => {
  const server = await silent();
  t.teardown(server.close);
  const { kube, seen } = client(t, `https://127.0.0.1:${server.port}`);
  await t.rejects(kube.request('GET', '/version'), { message: TIMEOUT });
  await t.rejects(kube.watch('/api/v1/secrets', {}, () => undefined, new AbortController().signal), { message: TIMEOUT });
  t.same(seen, [['GET', 'error'], ['WATCH', 'error']]);
  await server.closed;
  t.pass('the half-open connection was closed');
});

void t.test('a server that sends the headers and never the rest of the body: the request times out', async (t) => {
  const server = createHttpServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write('{"kind":');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  const { kube } = client(t, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  await t.rejects(kube.request('GET', '/stalled'), { message: TIMEOUT });
});
