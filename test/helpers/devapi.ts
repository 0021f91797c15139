/**
 * devapi for tests: `startDevapi` runs `csr-signer devapi` as a real process, `kubectl`
 * drives the real kubectl against it, and `DevapiClient` is the one HTTPS client for a
 * running devapi (in-process or not) with an identity's token from its state directory
 * — `devapiCall` and `control` are that client for one request.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { ApiException } from '@kubernetes/client-node';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { kubeconfigFor, type KubeconfigUser } from '../../devapi/auth/identity.js';
import { run, tempDir, type RunResult } from './tools.js';
import { until } from './wait.js';

const root = join(import.meta.dirname, '..', '..');
export const cli = join(root, 'dist', 'cli.js');

export type Identity = 'admin' | 'requester' | 'approver' | 'signer';

export type { KubeconfigUser } from '../../devapi/auth/identity.js';

export interface DevapiProcess {
  readonly url: string;
  readonly stateDir: string;
  readonly child: ChildProcess;
  kubeconfig(id: Identity): string;
  /** The kubeconfig devapi wrote for the bootstrap token with this id (`bootstrapTokens`). */
  bootstrapKubeconfig(id: string): string;
  /** What devapi wrote to stderr so far (with `--verbose`, one line per request). */
  stderr(): string;
  stop(): Promise<void>;
}

export interface StartDevapiOptions {
  readonly stateDir?: string;
  readonly args?: string[];
  readonly port?: number;
  /**
   * Bootstrap tokens: `abcdef.0123456789abcdef` authenticates as system:bootstrap:abcdef in system:bootstrappers.
   * Given in a 0600 file (`--bootstrap-token-file`), so no secret is in devapi's command line.
   */
  readonly bootstrapTokens?: readonly string[];
  /** `--client-ca-file`: client certificates verified against this PEM bundle authenticate as CN, groups O. */
  readonly clientCaFile?: string;
  /** `--signer-approves`: the signer identity also gets the approver's rules (with Nodes), as the chart grants them with `--approve`. */
  readonly signerApproves?: boolean;
  /** `--signer-cleans`: the signer identity also gets the CSR cleaner's rules. */
  readonly signerCleans?: boolean;
}

/** Writes the tokens, one a line, to a new 0600 file (removed when the test process exits) and returns its path. */
export function bootstrapTokenFile(tokens: readonly string[]): string {
  const file = join(tempDir('devapi-tokens-'), 'bootstrap-tokens');
  writeFileSync(file, tokens.map((token) => `${token}\n`).join(''), { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** The `csr-signer devapi` flags for these options (also for a test that starts devapi its own way). */
export function devapiArgs(options: StartDevapiOptions): string[] {
  const tokens = options.bootstrapTokens ?? [];
  return [
    ...(tokens.length === 0 ? [] : ['--bootstrap-token-file', bootstrapTokenFile(tokens)]),
    ...(options.clientCaFile === undefined ? [] : ['--client-ca-file', options.clientCaFile]),
    ...(options.signerApproves === true ? ['--signer-approves'] : []),
    ...(options.signerCleans === true ? ['--signer-cleans'] : []),
    ...(options.args ?? []),
  ];
}

/** Starts devapi on a free port and waits for its "ready" line. */
export async function startDevapi(options: StartDevapiOptions = {}): Promise<DevapiProcess> {
  const stateDir = options.stateDir ?? join(tempDir('devapi-'), 'state');
  mkdirSync(stateDir, { recursive: true });
  const child = spawn(process.execPath, [cli, 'devapi', '--state-dir', stateDir, '--port', String(options.port ?? 0), ...devapiArgs(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`devapi did not get ready in 20 s: ${stderr}`)), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready at (https:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] ?? '');
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`devapi exited with ${code}: ${stderr}`));
    });
  });
  process.on('exit', () => child.kill('SIGKILL'));
  return {
    url, stateDir, child,
    kubeconfig: (id) => join(stateDir, `${id}.kubeconfig`),
    bootstrapKubeconfig: (id) => join(stateDir, `bootstrap-${id}.kubeconfig`),
    stderr: () => stderr,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

/**
 * Writes (0600) a kubeconfig for any token or client certificate against a running devapi (trusting its
 * CA) and returns its path: a client certificate's kubeconfig, or a token devapi has no kubeconfig for.
 */
export function writeKubeconfig(api: { readonly url: string; readonly stateDir: string }, file: string, name: string, user: KubeconfigUser): string {
  writeFileSync(file, kubeconfigFor(api.url, readFileSync(join(api.stateDir, 'ca.pem'), 'utf8'), name, user), { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/**
 * The real kubectl with one identity's kubeconfig (or any kubeconfig file, e.g. a bootstrap token's or
 * one from writeKubeconfig), a private HOME and discovery cache.
 */
export function kubectl(api: DevapiProcess, id: Identity | { readonly kubeconfig: string }, args: string[], input?: string): RunResult {
  const home = join(api.stateDir, '..', 'home');
  mkdirSync(home, { recursive: true });
  const kubeconfig = typeof id === 'string' ? api.kubeconfig(id) : id.kubeconfig;
  const env = { ...process.env, HOME: home, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(home, 'cache') };
  return run('kubectl', args, input === undefined ? { env } : { env, input });
}

export { root, run };


export interface Reply {
  readonly status: number;
  /** The parsed JSON, or the text when it is not JSON. */
  readonly body: unknown;
  readonly text: string;
  readonly headers: IncomingHttpHeaders;
}

export interface CallOptions {
  readonly timeoutMs?: number;
  readonly contentType?: string;
  readonly accept?: string;
}

/** Credentials for one request: any bearer token (or none), and a TLS client certificate and key (PEM). */
export interface Credentials {
  readonly token?: string;
  readonly cert?: string;
  readonly key?: string;
}

/**
 * devapi's REST and control API over HTTPS as any of its identities. A network error
 * or a request with no answer in `timeoutMs` rejects; any HTTP status resolves.
 * `pooled` keeps connections alive for load (the chaos suite); otherwise each request
 * has a connection of its own: a kept-alive socket that devapi closes as idle just as
 * the next request reuses it fails that request with ECONNRESET, which Go's clients
 * retry and this one would not.
 */
export class DevapiClient {
  readonly tokens: Record<string, string>;
  readonly #ca: Buffer;
  #agent: Agent | false;

  constructor(readonly url: string, stateDir: string, private readonly options: { readonly pooled?: boolean } = {}) {
    this.tokens = JSON.parse(readFileSync(join(stateDir, 'tokens.json'), 'utf8')) as Record<string, string>;
    this.#ca = readFileSync(join(stateDir, 'ca.pem'));
    this.#agent = this.#newAgent();
  }

  #newAgent(): Agent | false {
    return this.options.pooled ? new Agent({ keepAlive: true, maxSockets: 16, ca: this.#ca }) : false;
  }

  /** Drops pooled connections (after devapi restarted on the same port). */
  reset(): void {
    if (this.#agent) this.#agent.destroy();
    this.#agent = this.#newAgent();
  }

  /** One request; a string body is sent as it is, anything else as JSON. A number for `options` is the timeout. */
  call(method: string, path: string, body?: unknown, who: Identity = 'admin', options: CallOptions | number = {}): Promise<Reply> {
    return this.callWith(method, path, body, { token: this.tokens[who] ?? '' }, options);
  }

  /** `call` with any credentials: a token of no identity, a client certificate, both, or none (anonymous). */
  callWith(method: string, path: string, body: unknown, credentials: Credentials, options: CallOptions | number = {}): Promise<Reply> {
    const { timeoutMs = 15_000, contentType = 'application/json', accept = 'application/json' } = typeof options === 'number' ? { timeoutMs: options } : options;
    const { token, cert, key } = credentials;
    return new Promise((resolve, reject) => {
      const req = request(`${this.url}${path}`, {
        method, ca: this.#ca, agent: cert === undefined ? this.#agent : false, timeout: timeoutMs, ...(cert === undefined ? {} : { cert, key }),
        headers: { ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }), 'Content-Type': contentType, Accept: accept },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { text += d; });
        res.on('end', () => {
          let parsed: unknown = text;
          try { parsed = JSON.parse(text); } catch { /* not JSON */ }
          resolve({ status: res.statusCode ?? 0, body: parsed, text, headers: res.headers });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
    });
  }

  /** `call` until `done` accepts the reply; network errors and other statuses are retried every 100 ms until `ms`. */
  async until(method: string, path: string, body: unknown, who: Identity, done: (r: Reply) => boolean, ms = 60_000): Promise<Reply> {
    let last = '';
    return until(async () => {
      try {
        const r = await this.call(method, path, body, who);
        if (done(r)) return r;
        last = `${r.status} ${r.text.slice(0, 200)}`;
      } catch (e) {
        last = String(e);
      }
      return undefined;
    }, { what: `${method} ${path} to succeed`, ms, intervalMs: 100, detail: () => last });
  }
}

/** One request to a devapi (in-process or not) as `id`; any status resolves, with the body as a JSON object ({} when it is not one). */
export async function devapiCall(
  target: { readonly url: string; readonly stateDir: string }, id: Identity, method: string, path: string,
  body?: unknown, contentType = 'application/json', accept = 'application/json',
): Promise<{ code: number; body: Record<string, unknown>; text: string; headers: IncomingHttpHeaders }> {
  const r = await new DevapiClient(target.url, target.stateDir).call(method, path, body, id, { contentType, accept });
  const object = typeof r.body === 'object' && r.body !== null ? r.body as Record<string, unknown> : {};
  return { code: r.status, body: object, text: r.text, headers: r.headers };
}

/** devapi's control API as admin: the parsed answer (undefined when empty); a status of 300 or more rejects. */
export async function control(api: { readonly url: string; readonly stateDir: string }, method: string, path: string, body?: unknown): Promise<unknown> {
  const r = await devapiCall(api, 'admin', method, path, body);
  if (r.code >= 300) throw new Error(`${method} ${path}: ${r.code} ${r.text}`);
  return r.text === '' ? undefined : JSON.parse(r.text) as unknown;
}

/** The status code and Status (reason, message) of the ApiException a client-node call must end with. */
export async function apiError(p: Promise<unknown>): Promise<{ code: number; status: { reason: string; message: string } }> {
  try {
    await p;
  } catch (e) {
    const err = e as ApiException<string>;
    return { code: err.code, status: JSON.parse(err.body) as { reason: string; message: string } };
  }
  throw new Error('expected an ApiException');
}
