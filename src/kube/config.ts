/**
 * Who we are and where the API server is. Found as client-go and client-node find
 * it: --kubeconfig, else $KUBECONFIG, else ~/.kube/config, else the in-cluster
 * service account (whose projected token rotates: it is re-read every minute).
 *
 * The kubeconfigs a signer meets (a token, a token file, client certificates, the
 * in-cluster account) are read here with `yaml`; anything else (exec plugins,
 * auth providers, proxies, several merged files) is handed to
 * @kubernetes/client-node, loaded only then: importing it costs ~1 s and ~70 MB
 * of the signer's memory for nothing in the common case.
 */
import { existsSync } from 'node:fs';
import type { AgentOptions } from 'node:https';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { csrError, isCsrSignerError } from '../errors.js';
import { readBounded, readBoundedText, type FileKind } from '../files.js';
import type { KubeEndpoint } from './http.js';

const TOKEN_REFRESH_MS = 60_000;
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface LoadedKubeConfig {
  readonly endpoint: KubeEndpoint;
  /** The user's name in the kubeconfig (or "in-cluster"), for logs. */
  readonly user: string;
}

type Env = Readonly<Record<string, string | undefined>>;
type Named<T> = { name?: string } & T;
interface RawConfig {
  'current-context'?: string;
  contexts?: Named<{ context?: { cluster?: string; user?: string } }>[];
  clusters?: Named<{ cluster?: Record<string, unknown> }>[];
  users?: Named<{ user?: Record<string, unknown> }>[];
}

/** A bearer token read from a file, again at most once a minute. */
function tokenFromFile(path: string): () => string {
  let token = '';
  let readAt = -Infinity;
  return () => {
    if (Date.now() - readAt > TOKEN_REFRESH_MS) {
      try {
        token = readBoundedText(path, 'token', { timeoutMs: 1000 }).trim(); // read again while running: never stall long
      } catch (e) {
        // A rotated token that cannot be read keeps the one read before; a first read must succeed.
        if (token === '' && isCsrSignerError(e)) throw e;
        if (token === '') throw csrError('InvalidArgument', `cannot read the token file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      readAt = Date.now();
    }
    return token;
  };
}

function endpointOf(server: string, tls: AgentOptions, token: (() => string) | undefined, basic: string | undefined): KubeEndpoint {
  return {
    server: server.replace(/\/+$/, ''),
    tls,
    headers() {
      const t = token?.();
      return Promise.resolve(t ? { Authorization: `Bearer ${t}` } : basic ? { Authorization: `Basic ${basic}` } : {});
    },
  };
}

/** Parses a kubeconfig file; undefined when it needs what only client-node provides. */
function readKubeconfigFile(file: string): LoadedKubeConfig | undefined {
  let raw: RawConfig;
  try {
    raw = (parse(readBoundedText(file, 'kubeconfig')) ?? {}) as RawConfig;
  } catch (e) {
    if (isCsrSignerError(e)) throw e;
    throw csrError('InvalidArgument', `cannot load the kubeconfig ${file}: ${(e as Error).message}`);
  }
  const base = dirname(file);
  const path = (p: unknown): string => (isAbsolute(String(p)) ? String(p) : join(base, String(p)));
  const context = raw.contexts?.find((c) => c.name === raw['current-context'])?.context ?? (raw.contexts?.length === 1 ? raw.contexts[0]?.context : undefined);
  if (!context) throw csrError('InvalidArgument', `the kubeconfig ${file} has no current context`);
  const cluster = raw.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster || typeof cluster.server !== 'string') throw csrError('InvalidArgument', `the kubeconfig ${file} has no cluster ${JSON.stringify(context.cluster ?? '')} with a server`);
  const userName = context.user ?? '';
  const user = raw.users?.find((u) => u.name === userName)?.user ?? {};
  if (user.exec !== undefined || user['auth-provider'] !== undefined || cluster['proxy-url'] !== undefined) return undefined;
  const readBytes = (what: string, kind: FileKind, data: unknown, filePath: unknown): Buffer | undefined => {
    if (typeof data === 'string') return Buffer.from(data, 'base64');
    if (typeof filePath !== 'string') return undefined;
    try {
      return readBounded(path(filePath), kind);
    } catch (e) {
      if (isCsrSignerError(e)) throw e;
      throw csrError('InvalidArgument', `the kubeconfig ${file}: cannot read the ${what} ${filePath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const tls: AgentOptions = {};
  const ca = readBytes('certificate authority', 'kubeconfigCertificate', cluster['certificate-authority-data'], cluster['certificate-authority']);
  if (ca) tls.ca = ca;
  if (cluster['insecure-skip-tls-verify'] === true) tls.rejectUnauthorized = false;
  if (typeof cluster['tls-server-name'] === 'string') tls.servername = cluster['tls-server-name'];
  const cert = readBytes('client certificate', 'kubeconfigCertificate', user['client-certificate-data'], user['client-certificate']);
  const key = readBytes('client key', 'kubeconfigKey', user['client-key-data'], user['client-key']);
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  const staticToken = typeof user.token === 'string' ? user.token : undefined;
  const token = staticToken !== undefined ? (): string => staticToken : typeof user.tokenFile === 'string' ? tokenFromFile(path(user.tokenFile)) : undefined;
  const password = typeof user.password === 'string' ? user.password : '';
  const basic = typeof user.username === 'string' ? Buffer.from(`${user.username}:${password}`).toString('base64') : undefined;
  return { endpoint: endpointOf(cluster.server, tls, token, basic), user: userName };
}

function inCluster(env: Env, dir: string): LoadedKubeConfig | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port || !existsSync(join(dir, 'token'))) return undefined;
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const tls: AgentOptions = { ca: readBounded(join(dir, 'ca.crt'), 'kubeconfigCertificate') };
  return { endpoint: endpointOf(server, tls, tokenFromFile(join(dir, 'token')), undefined), user: 'in-cluster' };
}

/**
 * Where the kubeconfig comes from, in client-go's order. `env` is the process
 * environment, passed in; `serviceAccountDir` is where the in-cluster token is.
 */
export async function loadKubeConfig(file: string | undefined, env: Env, serviceAccountDir = SERVICE_ACCOUNT_DIR): Promise<LoadedKubeConfig> {
  const fromEnv = env.KUBECONFIG?.split(':').filter((p) => p !== '') ?? [];
  const home = env.HOME ? join(env.HOME, '.kube', 'config') : undefined;
  const chosen = file ?? (fromEnv.length === 1 ? fromEnv[0] : fromEnv.length === 0 && home && existsSync(home) ? home : undefined);
  if (chosen !== undefined) return readKubeconfigFile(chosen) ?? clientNode(chosen);
  if (fromEnv.length > 1) {
    // client-node reads and merges these itself; each is first read here within the kubeconfig limit.
    for (const f of fromEnv) {
      try {
        readBounded(f, 'kubeconfig');
      } catch (e) {
        if (isCsrSignerError(e)) throw e; // a missing one is skipped, as client-go skips it
      }
    }
    return clientNode(undefined);
  }
  const cluster = inCluster(env, serviceAccountDir);
  if (cluster) return cluster;
  throw csrError('InvalidArgument', 'no kubeconfig: pass --kubeconfig, set KUBECONFIG, or run in a cluster with a service account');
}

/** The rare kubeconfigs: exec plugins, auth providers, proxies, merged files. */
async function clientNode(file: string | undefined): Promise<LoadedKubeConfig> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  try {
    if (file === undefined) kc.loadFromDefault();
    else kc.loadFromFile(file);
  } catch (e) {
    throw csrError('InvalidArgument', `cannot load the kubeconfig${file === undefined ? '' : ` ${file}`}: ${(e as Error).message}`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw csrError('InvalidArgument', `the kubeconfig${file === undefined ? '' : ` ${file}`} has no current cluster`);
  const probe: { headers?: Record<string, string>; ca?: AgentOptions['ca']; cert?: AgentOptions['cert']; key?: AgentOptions['key']; rejectUnauthorized?: boolean } = {};
  try {
    await kc.applyToHTTPSOptions(probe);
  } catch (e) {
    throw csrError('InvalidArgument', `cannot use the kubeconfig's credentials: ${(e as Error).message}`);
  }
  const tls: AgentOptions = {
    ...(probe.ca === undefined ? {} : { ca: probe.ca }),
    ...(probe.cert === undefined ? {} : { cert: probe.cert }),
    ...(probe.key === undefined ? {} : { key: probe.key }),
    ...(probe.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: probe.rejectUnauthorized }),
    ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
  };
  let headers = { ...probe.headers };
  let refreshedAt = Date.now();
  return {
    user: kc.getCurrentUser()?.name ?? 'unknown',
    endpoint: {
      server: cluster.server.replace(/\/+$/, ''),
      tls,
      async headers() {
        if (Date.now() - refreshedAt > 30_000) {
          // Exec plugins and auth providers refresh their own credentials here.
          const next: { headers?: Record<string, string> } = {};
          await kc.applyToHTTPSOptions(next);
          headers = { ...next.headers };
          refreshedAt = Date.now();
        }
        return headers;
      },
    },
  };
}
