/**
 * HTTP to the Kubernetes API: JSON requests and line-delimited watch streams on
 * one keep-alive agent. Where the server is, how to trust it and who we are come
 * from client-node's KubeConfig (config.ts); the requests themselves are
 * plain node:https, because the generated client's serializer costs more CPU
 * per status write than signing the certificate does.
 */
import { createRequire } from 'node:module';
import type * as Http from 'node:http';
import * as https from 'node:https';
import { authority, proxyAuthorization, SocksHttpAgent, TunnelAgent } from './proxy.js';

/**
 * node:http by require, not by an ES import: Node builds an ES namespace from every export,
 * which reads node:http's lazy WebSocket, CloseEvent and MessageEvent and so loads its
 * bundled undici (about 2 MB of the idle signer's heap) that nothing here uses.
 */
const http = createRequire(import.meta.url)('node:http') as typeof Http;

/** A non-2xx answer, with the Status object's reason and message when the server sent one. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    /** From Retry-After, when the server asked for a pause (429, 503). */
    readonly retryAfterMs: number | undefined,
    /** The Status's `details.causes` reasons (e.g. `NamespaceTerminating`), when it has any. */
    readonly causes: readonly string[] = [],
  ) {
    super(message);
  }
}

export interface KubeEndpoint {
  /** https://host:port, no trailing slash. */
  readonly server: string;
  readonly tls: https.AgentOptions;
  /** The http://, https:// or socks5:// proxy that carries the requests (proxy.ts decides), if any. */
  readonly proxy?: URL | undefined;
  /** Current request headers (Authorization); called before each request, may refresh a rotated token. */
  headers(): Promise<Readonly<Record<string, string | string[]>>>;
}

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

export interface KubeHttp {
  request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, options?: { query?: Query; body?: unknown; contentType?: string }): Promise<T>;
  /** Streams a watch: one call per JSON line. Resolves when the server ends the stream; rejects on errors. */
  watch(path: string, query: Query, onLine: (line: unknown) => void, signal: AbortSignal): Promise<void>;
  close(): void;
}

/** What the request metrics call a request: its HTTP method, or WATCH for the request that opens a watch. */
export const kubeVerbs = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'WATCH'] as const;
export type KubeVerb = (typeof kubeVerbs)[number];

/**
 * Told of every request to the API server once it is answered: its verb, the HTTP
 * status (or 'error' when no answer came: refused, reset, timed out) and the seconds
 * it took (for a watch, until the answer's headers). The metrics implement it; kube/
 * knows nothing of them.
 */
export interface KubeRequestObserver {
  kubeRequest(verb: KubeVerb, status: number | 'error', seconds: number): void;
}

const REQUEST_TIMEOUT_MS = 30_000;

export interface KubeHttpOptions {
  /**
   * How long a request may take from its start to the end of its answer (for a
   * watch, until the answer's headers): connecting, any proxy handshake and TLS
   * included. 30 s unless given; tests give a short one.
   */
  readonly requestTimeoutMs?: number;
}

/**
 * One deadline for one request, started before anything else is done for it: when
 * it passes, the request is destroyed (its socket with it) and whatever is awaited
 * `within` it fails with the one timeout error, whether the socket had connected,
 * a proxy tunnel was still opening (its own handshake timeout closes that) or the
 * TLS handshake was still going on. Node's req.setTimeout covers none of those: it
 * arms only once the socket has connected.
 */
function deadline(ms: number, message: string): { within<T>(p: Promise<T>): Promise<T>; attach(req: Http.ClientRequest): void; clear(): void } {
  let req: Http.ClientRequest | undefined;
  let error: Error | undefined;
  let fail: (e: Error) => void = () => undefined;
  const expired = new Promise<never>((_resolve, reject) => { fail = reject; });
  expired.catch(() => undefined);
  const timer = setTimeout(() => {
    error = new Error(message);
    req?.destroy(error);
    fail(error);
  }, ms);
  return {
    within: (p) => Promise.race([p, expired]),
    attach(r) {
      req = r;
      if (error) r.destroy(error);
    },
    clear: () => clearTimeout(timer),
  };
}

/** Path and query, encoded once; the host, port and agent are fixed per endpoint. */
function pathWithQuery(path: string, query: Query | undefined): string {
  let out = path;
  let sep = '?';
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined) continue;
    out += `${sep}${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`;
    sep = '&';
  }
  return out;
}

/** The whole body of a response, as text (no async iterator: it costs per chunk). */
function readBody(response: Http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (c: Buffer) => chunks.push(c));
    response.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    response.once('error', reject);
    response.once('aborted', () => reject(new Error('the response was cut off')));
  });
}

function errorFrom(status: number, text: string, retryAfter: string | undefined): KubeApiError {
  let reason = http.STATUS_CODES[status]?.replace(/ /g, '') ?? 'Unknown';
  let message = text.slice(0, 500);
  let causes: string[] = [];
  try {
    const body = JSON.parse(text) as { kind?: string; reason?: string; message?: string; details?: { causes?: unknown } };
    if (body.kind === 'Status') {
      reason = body.reason ?? reason;
      message = body.message ?? message;
      const listed = Array.isArray(body.details?.causes) ? body.details.causes as { reason?: unknown }[] : [];
      causes = listed.map((c) => c.reason).filter((r): r is string => typeof r === 'string').slice(0, 16);
    }
  } catch { /* not JSON: keep the text */ }
  const seconds = retryAfter === undefined ? NaN : Number(retryAfter);
  return new KubeApiError(status, reason, `${status} ${reason}: ${message}`, Number.isFinite(seconds) ? seconds * 1000 : undefined, causes);
}

export function kubeHttp(endpoint: KubeEndpoint, observer?: KubeRequestObserver, options: KubeHttpOptions = {}): KubeHttp {
  const timeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const timeoutError = (method: string, path: string): string => `${method} ${path.split('?')[0] ?? ''}: no answer in ${timeoutMs / 1000} s`;
  const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;
  const secure = endpoint.server.startsWith('https:');
  const base = new URL(endpoint.server);
  const proxy = endpoint.proxy;
  const pool = { keepAlive: true, maxSockets: 16 };
  let agent: Http.Agent;
  let send: typeof http.request;
  let target: Http.RequestOptions;
  let prefix = base.pathname.replace(/\/+$/, '');
  let proxyHeaders: Record<string, string> = {};
  if (secure) {
    // Through a proxy, each connection is a tunnel (CONNECT or SOCKS5) to the server.
    agent = proxy ? new TunnelAgent(proxy, endpoint.tls, { ...endpoint.tls, ...pool }, timeoutMs) : new https.Agent({ ...endpoint.tls, ...pool });
    send = https.request;
    target = { protocol: base.protocol, hostname: base.hostname.replace(/^\[(.*)\]$/, '$1'), port: base.port || 443, agent };
  } else if (proxy?.protocol === 'socks5:') {
    agent = new SocksHttpAgent(proxy, pool, timeoutMs);
    send = http.request;
    target = { protocol: base.protocol, hostname: base.hostname.replace(/^\[(.*)\]$/, '$1'), port: base.port || 80, agent };
  } else if (proxy) {
    // A plain-http server through a proxy: requests in absolute form, to the proxy (Go's Transport does the same).
    const viaTls = proxy.protocol === 'https:';
    agent = viaTls ? new https.Agent({ ...endpoint.tls, ...pool }) : new http.Agent(pool);
    send = viaTls ? https.request : http.request;
    target = { protocol: proxy.protocol, hostname: proxy.hostname.replace(/^\[(.*)\]$/, '$1'), port: authority(proxy).split(':').pop(), agent };
    prefix = `http://${authority(base)}${prefix}`;
    const auth = proxyAuthorization(proxy);
    if (auth) proxyHeaders = { 'Proxy-Authorization': auth };
  } else {
    agent = new http.Agent(pool);
    send = http.request;
    target = { protocol: base.protocol, hostname: base.hostname.replace(/^\[(.*)\]$/, '$1'), port: base.port || 80, agent };
  }

  async function open(method: string, path: string, headers: Record<string, string>, limit: ReturnType<typeof deadline>, signal?: AbortSignal):
  Promise<{ req: Http.ClientRequest; res: Promise<Http.IncomingMessage> }> {
    const auth = await endpoint.headers();
    const req = send({ ...target, method, path: prefix + path, headers: { Accept: 'application/json', ...proxyHeaders, ...auth, ...headers }, ...(signal ? { signal } : {}) });
    limit.attach(req);
    const res = new Promise<Http.IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
    });
    // Destroyed by a deadline that has already failed the request, nobody awaits it any more.
    res.catch(() => undefined);
    return { req, res };
  }

  return {
    async request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, options: { query?: Query; body?: unknown; contentType?: string } = {}): Promise<T> {
      const body = options.body === undefined ? undefined : JSON.stringify(options.body);
      const headers: Record<string, string> = body === undefined ? {} : { 'Content-Type': options.contentType ?? 'application/json', 'Content-Length': String(Buffer.byteLength(body)) };
      const start = process.hrtime.bigint();
      let status: number | 'error' = 'error';
      const limit = deadline(timeoutMs, timeoutError(method, path));
      try {
        const { req, res } = await limit.within(open(method, pathWithQuery(path, options.query), headers, limit));
        req.end(body);
        const response = await limit.within(res);
        const text = await limit.within(readBody(response));
        status = response.statusCode ?? 0;
        if (status < 200 || status > 299) throw errorFrom(status, text, response.headers['retry-after']);
        return (text === '' ? undefined : JSON.parse(text)) as T;
      } finally {
        limit.clear();
        observer?.kubeRequest(method, status, seconds(start));
      }
    },

    async watch(path: string, query: Query, onLine: (line: unknown) => void, signal: AbortSignal): Promise<void> {
      const start = process.hrtime.bigint();
      let response: Http.IncomingMessage;
      // The deadline runs until the answer's headers; the stream itself may stay quiet for long.
      const limit = deadline(timeoutMs, timeoutError('WATCH', path));
      try {
        const { req, res } = await limit.within(open('GET', pathWithQuery(path, { ...query, watch: 1 }), {}, limit, signal));
        req.end();
        response = await limit.within(res);
      } catch (e) {
        // A watch we stopped ourselves is not a failed request.
        if (!signal.aborted) observer?.kubeRequest('WATCH', 'error', seconds(start));
        throw e;
      } finally {
        limit.clear();
      }
      const status = response.statusCode ?? 0;
      observer?.kubeRequest('WATCH', status, seconds(start));
      let pending = '';
      if (status !== 200) throw errorFrom(status, await readBody(response), response.headers['retry-after']);
      response.setEncoding('utf8');
      for await (const chunk of response) {
        pending += chunk as string;
        let newline = pending.indexOf('\n');
        while (newline >= 0) {
          const line = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          if (line.trim() !== '') onLine(JSON.parse(line));
          newline = pending.indexOf('\n');
        }
      }
      if (pending.trim() !== '') onLine(JSON.parse(pending));
    },

    close(): void {
      agent.destroy();
    },
  };
}
