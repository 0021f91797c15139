/**
 * Which proxy, if any, carries the requests to the API server, decided as client-go
 * decides it, and the agent that tunnels through it.
 *
 * - A kubeconfig cluster's `proxy-url` is parsed as clientcmd's parseProxyURL
 *   (k8s.io/client-go/tools/clientcmd/client_config.go) parses it: a URL whose
 *   scheme is http, https or socks5. It carries every request to that cluster.
 * - Otherwise the environment decides, as net/http's ProxyFromEnvironment does:
 *   golang.org/x/net/http/httpproxy/proxy.go (FromEnvironment, parseProxy,
 *   useProxy, init). HTTPS_PROXY (or https_proxy) for https servers, HTTP_PROXY
 *   (or http_proxy) for http ones; NO_PROXY (or no_proxy) lists hosts, `.domains`
 *   and `*.domains`, IPs, CIDRs, any of them with a port, or `*`; localhost and
 *   loopback addresses are never proxied. client-go's rest.InClusterConfig sets no
 *   proxy of its own, so the in-cluster account follows the environment too.
 * - client-go's transport wraps the environment's proxy function in apimachinery's
 *   NewProxierWithNoProxyCIDR (k8s.io/apimachinery/pkg/util/net/http.go,
 *   SetOldTransportDefaults) for NO_PROXY CIDRs, which httpproxy matches itself
 *   now; a kubeconfig's proxy-url is not wrapped: NO_PROXY does not apply to it.
 *
 * The target is fixed per endpoint, so the decision is made once, at start; Go
 * reads the environment once per process too.
 *
 * Where we differ, on purpose: a proxy Go would fail on at every request (a
 * scheme it does not know) or silently skip (an environment value that is not a
 * URL) is refused at start, naming the field or variable.
 */
import { createRequire } from 'node:module';
import type * as Http from 'node:http';
import * as https from 'node:https';
import { connect as netConnect, isIPv4, isIPv6, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { domainToASCII } from 'node:url';
import { csrError } from '../errors.js';

/**
 * node:http by require, not by an ES import: Node builds an ES namespace from every export,
 * which reads node:http's lazy WebSocket, CloseEvent and MessageEvent and so loads its
 * bundled undici (about 2 MB of the idle signer's heap) that nothing here uses.
 */
const http = createRequire(import.meta.url)('node:http') as typeof Http;

type Env = Readonly<Record<string, string | undefined>>;

/** The first of `names` set to a non-empty value (httpproxy getEnvAny). */
function envAny(env: Env, ...names: string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value) return { name, value };
  }
  return undefined;
}

/** The bytes of an IP address (IPv4-mapped IPv6 as 4 bytes, as Go's To4 does); undefined when `s` is not one (a zone is not an IP for Go's ParseIP). */
export function ipBytes(s: string): number[] | undefined {
  if (isIPv4(s)) return s.split('.').map(Number);
  if (!isIPv6(s) || s.includes('%')) return undefined;
  let text = s;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    tail = text.slice(lastColon + 1).split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head = '', rest] = text.split('::');
  const groups = (p: string): number[] => (p === '' ? [] : p.split(':').map((g) => parseInt(g, 16)));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const words = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? bytes.slice(12) : bytes;
}

const sameBytes = (a: number[], b: number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

function isLoopback(ip: number[]): boolean {
  return ip.length === 4 ? ip[0] === 127 : sameBytes(ip, [...new Array<number>(15).fill(0), 1]);
}

interface Cidr { readonly net: number[]; readonly bits: number }

/** Go's net.ParseCIDR: an IP, a slash and a prefix length no longer than the address. */
function parseCidr(s: string): Cidr | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const addr = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  // ParseCIDR takes IPv4 only as dotted quad, and the IPv6 prefix over the whole 128 bits.
  const ip = isIPv4(addr) ? ipBytes(addr) : isIPv6(addr) && !addr.includes('%') ? ipv6Bytes(addr) : undefined;
  if (!ip || !/^\d{1,3}$/.test(bits) || Number(bits) > ip.length * 8) return undefined;
  return { net: ip, bits: Number(bits) };
}

/** All 16 bytes of an IPv6 address, mapped ones too (a CIDR's length counts them all). */
function ipv6Bytes(s: string): number[] | undefined {
  const b = ipBytes(s);
  return b === undefined ? undefined : b.length === 16 ? b : [...new Array<number>(10).fill(0), 0xff, 0xff, ...b];
}

/** IPNet.Contains: an IPv4 (or IPv4-mapped) address matches IPv4 networks, IPv6 ones IPv6 networks. */
function cidrContains(c: Cidr, ip: number[]): boolean {
  let net = c.net;
  let bits = c.bits;
  if (net.length === 16 && ip.length === 4 && net.slice(0, 12).every((b, i) => b === (i < 10 ? 0 : 0xff))) {
    net = net.slice(12);
    bits -= 96;
    if (bits < 0) return false;
  }
  if (net.length !== ip.length) return false;
  for (let i = 0; i < bits; i++) {
    const mask = 0x80 >> (i % 8);
    if (((net[i >> 3] ?? 0) & mask) !== ((ip[i >> 3] ?? 0) & mask)) return false;
  }
  return true;
}

/** Go's net.SplitHostPort, for the forms NO_PROXY entries take; undefined when there is no port. */
function splitHostPort(s: string): { host: string; port: string } | undefined {
  if (s.startsWith('[')) {
    const m = /^\[([^\]]*)\]:([^:]*)$/.exec(s);
    return m ? { host: m[1] ?? '', port: m[2] ?? '' } : undefined;
  }
  const colon = s.indexOf(':');
  if (colon < 0 || s.indexOf(':', colon + 1) >= 0) return undefined;
  return { host: s.slice(0, colon), port: s.slice(colon + 1) };
}

const ascii = (s: string): string => {
  // httpproxy's idnaASCII: only non-ASCII names are converted.
  if ([...s].every((c) => c.charCodeAt(0) < 0x80)) return s;
  const leadingDot = s.startsWith('.') ? '.' : '';
  const converted = domainToASCII(s.slice(leadingDot.length));
  return converted === '' ? s : leadingDot + converted;
};

type Matcher = (host: string, port: string, ip: number[] | undefined) => boolean;

/**
 * httpproxy's useProxy for `host` and `port` under the NO_PROXY value `noProxy`:
 * false when the request must go direct.
 */
export function useProxy(noProxy: string, host: string, port: string): boolean {
  if (host === 'localhost') return false;
  const ip = ipBytes(host);
  if (ip && isLoopback(ip)) return false;
  const ipMatchers: Matcher[] = [];
  const domainMatchers: Matcher[] = [];
  for (let p of noProxy.split(',')) {
    p = p.trim().toLowerCase();
    if (p === '') continue;
    if (p === '*') return false;
    const cidr = parseCidr(p);
    if (cidr) {
      ipMatchers.push((_h, _p, addr) => addr !== undefined && cidrContains(cidr, addr));
      continue;
    }
    let phost = p;
    let pport = '';
    const split = splitHostPort(p);
    if (split) {
      if (split.host === '') continue;
      phost = split.host.replace(/^\[(.*)\]$/, '$1');
      pport = split.port;
    }
    const pip = ipBytes(phost);
    if (pip) {
      ipMatchers.push((_h, port, addr) => addr !== undefined && sameBytes(pip, addr) && (pport === '' || pport === port));
      continue;
    }
    if (phost === '') continue;
    if (phost.startsWith('*.')) phost = phost.slice(1);
    const matchHost = !phost.startsWith('.');
    if (matchHost) phost = `.${phost}`;
    const suffix = ascii(phost);
    domainMatchers.push((h, port) => (h.endsWith(suffix) || (matchHost && h === suffix.slice(1))) && (pport === '' || pport === port));
  }
  const h = host.trim().toLowerCase();
  if (ip && ipMatchers.some((m) => m(h, port, ip))) return false;
  return !domainMatchers.some((m) => m(h, port, ip));
}

/** httpproxy parseProxy: a value with no scheme it knows is read as http://value. */
function parseEnvProxy(value: string): URL | undefined {
  try {
    const u = new URL(value);
    // An unknown scheme written out with "://" stays itself (proxy_test.go: "Preserve unknown schemes").
    if (u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'socks5:' || value.includes('://')) return u;
  } catch { /* try again with http:// in front */ }
  try {
    return new URL(`http://${value}`);
  } catch {
    return undefined;
  }
}

/**
 * A proxy value fit to quote in a message: its password replaced by "xxxxx", as Go's
 * url.URL.Redacted does (net/url/url.go), so `http://user:pass@host` reads
 * `http://user:xxxxx@host`. Done on the text, not on a parsed URL, so that a value
 * that is not a URL is redacted too: what lies between "://" (or the start, when
 * there is none) and the last "@" is the user information, and everything after
 * its first ":" is hidden. An "@" after the host (in a path) hides more than Go
 * would, never less.
 */
export function redactProxy(value: string): string {
  const scheme = value.indexOf('://');
  const start = scheme < 0 ? 0 : scheme + 3;
  const at = value.lastIndexOf('@');
  if (at < start) return value;
  const colon = value.indexOf(':', start);
  if (colon < 0 || colon > at) return value;
  return `${value.slice(0, colon)}:xxxxx${value.slice(at)}`;
}

/** A proxy we can tunnel through (http, https or socks5), or a refusal naming where it came from. */
function usable(u: URL, where: string, value: string): URL {
  if (u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'socks5:') return u;
  throw csrError('InvalidArgument', `${where} is ${JSON.stringify(redactProxy(value))}, whose scheme ${JSON.stringify(u.protocol.slice(0, -1))} is not http, https or socks5`);
}

/** clientcmd parseProxyURL for a kubeconfig cluster's `proxy-url`. */
export function parseProxyUrl(value: unknown, where: string): URL {
  if (typeof value !== 'string') throw csrError('InvalidArgument', `${where} must be a string, not ${JSON.stringify(value)}`);
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw csrError('InvalidArgument', `${where} is ${JSON.stringify(redactProxy(value))}, which is not a URL`);
  }
  return usable(u, where, value);
}

/** The default port of a URL scheme, as httpproxy's canonicalAddr fills it in. */
const defaultPort = (u: URL): string => u.port || (u.protocol === 'https:' ? '443' : u.protocol === 'http:' ? '80' : '');

/**
 * The proxy for requests to `server`: the kubeconfig's `proxy-url` when given
 * (already parsed), else the environment's; undefined for a direct connection.
 */
export function proxyFor(server: URL, proxyUrl: URL | undefined, env: Env): URL | undefined {
  if (proxyUrl) return proxyUrl;
  const host = server.hostname.replace(/^\[(.*)\]$/, '$1');
  const noProxy = envAny(env, 'NO_PROXY', 'no_proxy');
  const variable = server.protocol === 'https:' ? envAny(env, 'HTTPS_PROXY', 'https_proxy') : server.protocol === 'http:' ? envAny(env, 'HTTP_PROXY', 'http_proxy') : undefined;
  if (!variable) return undefined;
  // A CGI environment (REQUEST_METHOD set) refuses HTTP_PROXY, which a request header can set there.
  if (variable.name.toLowerCase() === 'http_proxy' && env.REQUEST_METHOD) {
    throw csrError('InvalidArgument', `${variable.name} cannot be used when REQUEST_METHOD is set (a CGI environment, where a request can set it)`);
  }
  if (!useProxy(noProxy?.value ?? '', ascii(host), defaultPort(server))) return undefined;
  const parsed = parseEnvProxy(variable.value);
  if (!parsed) throw csrError('InvalidArgument', `the environment variable ${variable.name} is ${JSON.stringify(redactProxy(variable.value))}, which is not a URL`);
  return usable(parsed, `the environment variable ${variable.name}`, variable.value);
}

/** Proxy-Authorization for a proxy URL with a user (Go's connectMethod.proxyAuth), else undefined. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (proxy.username === '' && proxy.password === '') return undefined;
  return `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`;
}

/** host:port of a URL, IPv6 in brackets, the scheme's port when none is given. */
export const authority = (u: URL): string => `${u.hostname}:${defaultPort(u)}`;

/** Reads exactly `n` bytes from a socket in a handshake, keeping what comes after. */
function reader(socket: Socket): (n: number) => Promise<Buffer> {
  let buffered = Buffer.alloc(0);
  let want: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  const pump = (): void => {
    if (want && buffered.length >= want.n) {
      const { n, resolve } = want;
      want = undefined;
      const out = buffered.subarray(0, n);
      buffered = buffered.subarray(n);
      resolve(out);
    }
  };
  const onData = (chunk: Buffer): void => {
    buffered = Buffer.concat([buffered, chunk]);
    pump();
  };
  const onEnd = (): void => want?.reject(new Error('the proxy closed the connection during the handshake'));
  socket.on('data', onData).on('end', onEnd).on('error', (e) => want?.reject(e));
  return (n) => new Promise<Buffer>((resolve, reject) => {
    want = { n, resolve, reject };
    pump();
  });
}

/**
 * A SOCKS5 CONNECT on `socket` (RFC 1928), with username and password (RFC 1929) when
 * the proxy URL has a user, as Go's net/http socks dialer does (socks_bundle.go,
 * socksDialer.connect): an IP target by address, any other by name, which the proxy
 * resolves.
 */
async function socksConnect(socket: Socket, proxy: URL, host: string, port: number): Promise<void> {
  const read = reader(socket);
  const user = decodeURIComponent(proxy.username);
  const password = decodeURIComponent(proxy.password);
  const withAuth = proxy.username !== '' || proxy.password !== '';
  socket.write(withAuth ? Buffer.from([5, 2, 0, 2]) : Buffer.from([5, 1, 0]));
  const [version, method] = await read(2);
  if (version !== 5) throw new Error(`the SOCKS proxy answered with protocol version ${version ?? 0}`);
  if (method === 0xff) throw new Error('the SOCKS proxy accepts none of our authentication methods');
  if (method === 2 && withAuth) {
    const u = Buffer.from(user);
    const p = Buffer.from(password);
    if (u.length === 0 || u.length > 255 || p.length === 0 || p.length > 255) throw new Error('the SOCKS proxy needs a user and password of 1 to 255 bytes each');
    socket.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]));
    const [, status] = await read(2);
    if (status !== 0) throw new Error('the SOCKS proxy refused the user and password');
  } else if (method !== 0) {
    throw new Error(`the SOCKS proxy asks for authentication method ${method ?? 0}`);
  }
  const ip = ipBytes(host);
  const name = Buffer.from(host);
  if (!ip && name.length > 255) throw new Error('the server name is too long for SOCKS');
  const address = ip ? Buffer.from([ip.length === 4 ? 1 : 4, ...ip]) : Buffer.concat([Buffer.from([3, name.length]), name]);
  socket.write(Buffer.concat([Buffer.from([5, 1, 0]), address, Buffer.from([port >> 8, port & 0xff])]));
  const [v, reply, , type] = await read(4);
  if (v !== 5) throw new Error(`the SOCKS proxy answered with protocol version ${v ?? 0}`);
  if (reply !== 0) throw new Error(`the SOCKS proxy refused CONNECT ${host}:${port} with reply ${reply ?? 0}`);
  const length = type === 1 ? 4 : type === 4 ? 16 : type === 3 ? ((await read(1))[0] ?? 0) : -1;
  if (length < 0) throw new Error(`the SOCKS proxy answered with address type ${type ?? 0}`);
  await read(length + 2);
}

/**
 * A connection to `host:port` through the proxy: a CONNECT tunnel (http, https) or a
 * SOCKS5 one. The TCP connection to the proxy, its TLS when it is an https proxy, and
 * the CONNECT answer or SOCKS handshake must all be done within `timeoutMs`, else the
 * socket is closed: a proxy that accepts and never answers holds nothing open.
 */
function openTunnel(proxy: URL, tls: https.AgentOptions, host: string, port: number, timeoutMs: number): Promise<Socket> {
  let abandon: () => void = () => undefined;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      abandon();
      reject(new Error(`the proxy ${proxy.host} did not open a tunnel in ${timeoutMs / 1000} s`));
    }, timeoutMs);
  });
  const opening = tunnel(proxy, tls, host, port, (stop) => { abandon = stop; });
  return Promise.race([opening, timedOut]).finally(() => clearTimeout(timer));
}

function tunnel(proxy: URL, tls: https.AgentOptions, host: string, port: number, onAbandon: (stop: () => void) => void): Promise<Socket> {
  const proxyHost = proxy.hostname.replace(/^\[(.*)\]$/, '$1');
  if (proxy.protocol === 'socks5:') {
    return new Promise((resolve, reject) => {
      const socket = netConnect(Number(proxy.port || 1080), proxyHost);
      onAbandon(() => socket.destroy());
      socket.once('error', (e) => reject(new Error(`cannot reach the proxy ${proxy.host}: ${e.message}`)));
      socket.once('connect', () => {
        socksConnect(socket, proxy, host, port).then(() => {
          socket.removeAllListeners('data').removeAllListeners('end').removeAllListeners('error');
          resolve(socket);
        }, (e: Error) => {
          socket.destroy();
          reject(new Error(`through the proxy ${proxy.host}: ${e.message}`));
        });
      });
    });
  }
  const target = `${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const auth = proxyAuthorization(proxy);
  const secure = proxy.protocol === 'https:';
  const send = secure ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = send({
      host: proxyHost,
      port: defaultPort(proxy),
      method: 'CONNECT',
      path: target,
      headers: { Host: target, ...(auth ? { 'Proxy-Authorization': auth } : {}) },
      agent: false,
      // The cluster's TLS settings, tls-server-name included when set (else Node names the proxy's host).
      ...(secure ? tls : {}),
    });
    onAbandon(() => req.destroy());
    req.once('connect', (res: Http.IncomingMessage, socket: Socket, head: Buffer) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new Error(`the proxy ${proxy.host} answered CONNECT ${target} with ${res.statusCode ?? 0} ${res.statusMessage ?? ''}`.trim()));
        return;
      }
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.once('error', (e) => reject(new Error(`cannot reach the proxy ${proxy.host}: ${e.message}`)));
    req.end();
  });
}

type Done = (err: Error | null, socket: Duplex) => void;
const targetOf = (options: Record<string, unknown>): { host: string; port: number } => ({ host: typeof options.host === 'string' ? options.host : '', port: Number(options.port) });

/**
 * A keep-alive agent for an https server behind a proxy: each new connection is a
 * tunnel (Go's Transport.dialConn), then TLS to the server inside it. An https proxy
 * is itself reached over TLS with the cluster's TLS settings (its CA, client
 * certificate, tls-server-name when set, else the proxy's own name), as Go's
 * persistConn.addTLS does with the transport's one TLS config.
 */
export class TunnelAgent extends https.Agent {
  constructor(private readonly proxy: URL, private readonly tls: https.AgentOptions, options: https.AgentOptions, private readonly handshakeTimeoutMs: number) {
    super(options);
  }

  override createConnection(options: Record<string, unknown>, callback?: Done): Duplex | null | undefined {
    const { host, port } = targetOf(options);
    openTunnel(this.proxy, this.tls, host, port, this.handshakeTimeoutMs).then((socket) => {
      callback?.(null, super.createConnection({ ...options, socket } as https.RequestOptions) as Duplex);
    }, (e: Error) => callback?.(e, undefined as unknown as Duplex));
    return undefined;
  }
}

/** The same for a plain-http server behind a SOCKS5 proxy (http and https proxies take absolute-form requests instead). */
export class SocksHttpAgent extends http.Agent {
  constructor(private readonly proxy: URL, options: Http.AgentOptions, private readonly handshakeTimeoutMs: number) {
    super(options);
  }

  override createConnection(options: Record<string, unknown>, callback?: Done): Duplex | null | undefined {
    const { host, port } = targetOf(options);
    openTunnel(this.proxy, {}, host, port, this.handshakeTimeoutMs).then((socket) => callback?.(null, socket), (e: Error) => callback?.(e, undefined as unknown as Duplex));
    return undefined;
  }
}
