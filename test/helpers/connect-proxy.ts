/**
 * A real CONNECT proxy on loopback, over plain HTTP or TLS: it opens a TCP tunnel to
 * the host and port asked for (or where `route` sends that host) and records each
 * CONNECT it was asked for, with its Proxy-Authorization header. A plain-http request
 * in absolute form (http://host:port/path) is forwarded and recorded the same way.
 */
import { createServer as createHttpServer, request, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface Tunnelled {
  /** host:port as the CONNECT line (or the absolute-form request, or the SOCKS request) named it. */
  readonly target: string;
  /** The Proxy-Authorization header; for SOCKS, user:password as the client sent them. */
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

/**
 * A real SOCKS5 proxy on loopback (RFC 1928 CONNECT; RFC 1929 username and password
 * when `user` is given, else no authentication): records each target as host:port.
 */
export async function startSocksProxy(options: { user?: { name: string; password: string } } = {}): Promise<ConnectProxy> {
  const tunnels: Tunnelled[] = [];
  const sockets = new Set<Socket>();
  const server = createNetServer((client) => {
    sockets.add(client);
    let buffered = Buffer.alloc(0);
    let stage: 'greeting' | 'auth' | 'request' | 'open' = 'greeting';
    let login: string | undefined;
    client.on('error', () => client.destroy());
    client.on('data', function onData(chunk: Buffer) {
      buffered = Buffer.concat([buffered, chunk]);
      if (stage === 'greeting' && buffered.length >= 2 && buffered.length >= 2 + (buffered[1] ?? 0)) {
        const methods = [...buffered.subarray(2, 2 + (buffered[1] ?? 0))];
        buffered = buffered.subarray(2 + (buffered[1] ?? 0));
        const method = options.user ? (methods.includes(2) ? 2 : 0xff) : (methods.includes(0) ? 0 : 0xff);
        client.write(Buffer.from([5, method]));
        stage = options.user ? 'auth' : 'request';
      }
      if (stage === 'auth' && buffered.length >= 2) {
        const ulen = buffered[1] ?? 0;
        if (buffered.length < 3 + ulen || buffered.length < 3 + ulen + (buffered[2 + ulen] ?? 0)) return;
        const plen = buffered[2 + ulen] ?? 0;
        const name = buffered.subarray(2, 2 + ulen).toString();
        const password = buffered.subarray(3 + ulen, 3 + ulen + plen).toString();
        buffered = buffered.subarray(3 + ulen + plen);
        login = `${name}:${password}`;
        const ok = name === options.user?.name && password === options.user.password;
        client.write(Buffer.from([1, ok ? 0 : 1]));
        if (!ok) client.end();
        stage = 'request';
      }
      if (stage === 'request' && buffered.length >= 5) {
        const type = buffered[3];
        const alen = type === 1 ? 4 : type === 4 ? 16 : 1 + (buffered[4] ?? 0);
        if (buffered.length < 4 + alen + 2) return;
        const raw = buffered.subarray(4, 4 + alen);
        const host = type === 1 ? [...raw].join('.') : type === 4 ? `[${(raw.toString('hex').match(/.{4}/g) ?? []).join(':')}]` : raw.subarray(1).toString();
        const port = ((buffered[4 + alen] ?? 0) << 8) | (buffered[5 + alen] ?? 0);
        const rest = buffered.subarray(6 + alen);
        stage = 'open';
        client.off('data', onData);
        tunnels.push({ target: `${host}:${port}`, proxyAuthorization: login });
        const upstream = connect(port, host.replace(/^\[(.*)\]$/, '$1'), () => {
          client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
          if (rest.length > 0) upstream.write(rest);
          upstream.pipe(client);
          client.pipe(upstream);
        });
        sockets.add(upstream);
        upstream.on('error', () => {
          client.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0]));
          upstream.destroy();
        });
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `socks5://127.0.0.1:${port}`,
    tunnels,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
