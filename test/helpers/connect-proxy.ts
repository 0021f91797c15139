/**
 * A real CONNECT proxy on loopback, over plain HTTP or TLS: it opens a TCP tunnel to
 * the host and port asked for (or where `route` sends that host) and records each
 * CONNECT it was asked for, with its Proxy-Authorization header. A plain-http request
 * in absolute form (http://host:port/path) is forwarded and recorded the same way.
 */
import { createServer as createHttpServer, request, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface Tunnelled {
  /** host:port as the CONNECT line (or the absolute-form request) named it. */
  readonly target: string;
  readonly proxyAuthorization: string | undefined;
}

export interface ConnectProxy {
  /** http://127.0.0.1:port or https://…, to put in a kubeconfig or HTTPS_PROXY. */
  readonly url: string;
  readonly tunnels: Tunnelled[];
  close(): Promise<void>;
}

export async function startConnectProxy(options: { tls?: { cert: string; key: string }; route?: Record<string, string> } = {}): Promise<ConnectProxy> {
  const tunnels: Tunnelled[] = [];
  const sockets = new Set<Duplex>();
  const server: Server = options.tls ? createHttpsServer(options.tls) : createHttpServer();
  server.on('request', (req: IncomingMessage, res) => {
    if (!req.url?.startsWith('http://')) {
      res.writeHead(400).end('absolute-form requests only\n');
      return;
    }
    const url = new URL(req.url);
    tunnels.push({ target: url.host, proxyAuthorization: req.headers['proxy-authorization'] });
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const upstream = request({ host: options.route?.[url.hostname] ?? url.hostname, port: url.port || 80, path: url.pathname + url.search, method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    const target = req.url ?? '';
    tunnels.push({ target, proxyAuthorization: req.headers['proxy-authorization'] });
    const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(target);
    if (!m) {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const host = options.route?.[m[1] ?? ''] ?? m[1] ?? '';
    const upstream: Socket = connect(Number(m[2]), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(client).add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', () => {
      client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      drop();
    });
    client.on('error', drop);
    upstream.on('close', drop);
    client.on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    tunnels,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
