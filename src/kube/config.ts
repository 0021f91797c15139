/**
 * Who we are and where the API server is, found in controller-runtime's order
 * (sigs.k8s.io/controller-runtime pkg/client/config/config.go, loadConfig):
 * --kubeconfig, else $KUBECONFIG (several files merged as client-go's loader.go
 * merges them: the first file to set a name or the current context wins), else the
 * in-cluster service account (whose projected token rotates: it is re-read every
 * minute), else ~/.kube/config. kube-controller-manager's
 * clientcmd.BuildConfigFromFlags tries --kubeconfig, then the in-cluster account
 * and nothing more; wherever it finds a config this order finds the same one,
 * unless $KUBECONFIG is set inside a pod.
 *
 * Kubeconfigs are read here with `yaml`, `proxy-url` and `as:` impersonation
 * included (proxy.ts, and impersonationHeaders below); only the credentials of exec
 * plugins and auth providers come from @kubernetes/client-node, loaded only then:
 * importing it costs ~1 s and ~70 MB of the signer's memory for nothing in the
 * common case.
 */
import { existsSync } from 'node:fs';
import type { AgentOptions } from 'node:https';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { csrError, isCsrSignerError } from '../errors.js';
import { readBounded, readBoundedText, type FileKind } from '../files.js';
import type { KubeEndpoint } from './http.js';
import { parseProxyUrl, proxyFor } from './proxy.js';

const TOKEN_REFRESH_MS = 60_000;
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface LoadedKubeConfig {
  readonly endpoint: KubeEndpoint;
  /** The user's name in the kubeconfig (or "in-cluster"), for logs. */
  readonly user: string;
}

type Env = Readonly<Record<string, string | undefined>>;
type Headers = Record<string, string | string[]>;
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

function endpointOf(server: string, tls: AgentOptions, proxy: URL | undefined, impersonate: Headers, credentials: () => Promise<Headers>): KubeEndpoint {
  return {
    server: server.replace(/\/+$/, ''),
    tls,
    ...(proxy ? { proxy } : {}),
    async headers() {
      return { ...(await credentials()), ...impersonate };
    },
  };
}

/**
 * The impersonation headers of a kubeconfig user, as client-go sends them: only
 * when `as` is set (clientcmd client_config.go, ClientConfig), then Impersonate-User,
 * Impersonate-Uid when set, one Impersonate-Group per group and one
 * Impersonate-Extra-<key> per value, the key escaped as headerKeyEscape does
 * (k8s.io/client-go/transport/round_trippers.go, ImpersonatingRoundTripper).
 */
export function impersonationHeaders(user: Record<string, unknown>, where: string): Headers {
  const as = user.as;
  if (as === undefined || as === '') return {};
  const text = (value: unknown, field: string): string => {
    // A header value cannot hold these; Go's net/http would refuse every request.
    if (typeof value !== 'string' || /[\r\n\0]/.test(value)) throw csrError('InvalidArgument', `${where}: ${field} must be a string on one line, not ${JSON.stringify(value)}`);
    return value;
  };
  const list = (value: unknown, field: string): string[] => {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) throw csrError('InvalidArgument', `${where}: ${field} must be a list of strings, not ${JSON.stringify(value)}`);
    return value.map((v, i) => text(v, `${field}[${i}]`));
  };
  const headers: Headers = { 'Impersonate-User': text(as, 'as') };
  if (user['as-uid'] !== undefined && user['as-uid'] !== '') headers['Impersonate-Uid'] = text(user['as-uid'], 'as-uid');
  const groups = list(user['as-groups'], 'as-groups');
  if (groups.length > 0) headers['Impersonate-Group'] = groups;
  const extra = user['as-user-extra'] ?? {};
  if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) throw csrError('InvalidArgument', `${where}: as-user-extra must map keys to lists of strings, not ${JSON.stringify(extra)}`);
  for (const [key, values] of Object.entries(extra)) {
    const vs = list(values, `as-user-extra.${key}`);
    if (vs.length > 0) headers[`Impersonate-Extra-${headerKeyEscape(key)}`] = vs;
  }
  return headers;
}

/** RFC 7230 token characters other than '%', kept; every other byte is %-encoded (headerKeyEscape). */
const TOKEN = /^[!#$&'*+\-.^_`|~0-9A-Za-z]$/;
function headerKeyEscape(key: string): string {
  let out = '';
  for (const b of Buffer.from(key, 'utf8')) {
    const c = String.fromCharCode(b);
    out += b < 0x7f && TOKEN.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** One kubeconfig file, parsed; its stanzas remember the file, for relative paths. */
function readRaw(file: string): RawConfig {
  try {
    const raw = (parse(readBoundedText(file, 'kubeconfig')) ?? {}) as RawConfig;
    if (typeof raw !== 'object') throw new Error('not a mapping');
    return raw;
  } catch (e) {
    if (isCsrSignerError(e)) throw e;
    throw csrError('InvalidArgument', `cannot load the kubeconfig ${file}: ${(e as Error).message}`);
  }
}

interface Selected {
  /** The file named in messages: the one given, or the list of KUBECONFIG files. */
  readonly label: string;
  readonly cluster: Record<string, unknown>;
  readonly clusterFile: string;
  readonly userName: string;
  readonly user: Record<string, unknown>;
  readonly userFile: string;
}

/**
 * The current context's cluster and user across `files`, merged as client-go's
 * loader.go does: the first file to set the current context, or to define a
 * context, cluster or user of a given name, wins. Missing files are skipped.
 */
function select(files: readonly { file: string; raw: RawConfig }[], label: string): Selected {
  const first = <T>(pick: (raw: RawConfig) => T | undefined): { value: T; file: string } | undefined => {
    for (const { file, raw } of files) {
      const value = pick(raw);
      if (value !== undefined) return { value, file };
    }
    return undefined;
  };
  const currentContext = first((r) => r['current-context'] || undefined)?.value;
  const contexts = files.flatMap(({ raw }) => raw.contexts ?? []);
  const context = currentContext === undefined
    ? (contexts.length === 1 ? contexts[0]?.context : undefined)
    : first((r) => r.contexts?.find((c) => c.name === currentContext)?.context)?.value;
  if (!context) throw csrError('InvalidArgument', `the kubeconfig ${label} has no current context`);
  const cluster = first((r) => r.clusters?.find((c) => c.name === context.cluster)?.cluster);
  if (!cluster || typeof cluster.value.server !== 'string') throw csrError('InvalidArgument', `the kubeconfig ${label} has no cluster ${JSON.stringify(context.cluster ?? '')} with a server`);
  const userName = context.user ?? '';
  const user = first((r) => r.users?.find((u) => u.name === userName)?.user);
  return { label, cluster: cluster.value, clusterFile: cluster.file, userName, user: user?.value ?? {}, userFile: user?.file ?? cluster.file };
}

/** The endpoint for a selected cluster and user. */
async function fromSelected(sel: Selected, env: Env): Promise<LoadedKubeConfig> {
  const { cluster, user, label } = sel;
  const pathIn = (file: string) => (p: unknown): string => (isAbsolute(String(p)) ? String(p) : join(dirname(file), String(p)));
  const readBytes = (what: string, kind: FileKind, data: unknown, filePath: unknown, file: string): Buffer | undefined => {
    if (typeof data === 'string') return Buffer.from(data, 'base64');
    if (typeof filePath !== 'string') return undefined;
    try {
      return readBounded(pathIn(file)(filePath), kind);
    } catch (e) {
      if (isCsrSignerError(e)) throw e;
      throw csrError('InvalidArgument', `the kubeconfig ${label}: cannot read the ${what} ${filePath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const server = String(cluster.server);
  let serverUrl: URL;
  try {
    serverUrl = new URL(server);
  } catch {
    throw csrError('InvalidArgument', `the kubeconfig ${label}: the cluster's server ${JSON.stringify(server)} is not a URL`);
  }
  const proxyUrl = cluster['proxy-url'] === undefined || cluster['proxy-url'] === '' ? undefined : parseProxyUrl(cluster['proxy-url'], `the kubeconfig ${label}: the cluster's proxy-url`);
  const proxy = proxyFor(serverUrl, proxyUrl, env);
  const impersonate = impersonationHeaders(user, `the kubeconfig ${label}: the user ${JSON.stringify(sel.userName)}`);
  const tls: AgentOptions = {};
  const ca = readBytes('certificate authority', 'kubeconfigCertificate', cluster['certificate-authority-data'], cluster['certificate-authority'], sel.clusterFile);
  if (ca) tls.ca = ca;
  if (cluster['insecure-skip-tls-verify'] === true) tls.rejectUnauthorized = false;
  if (typeof cluster['tls-server-name'] === 'string' && cluster['tls-server-name'] !== '') tls.servername = cluster['tls-server-name'];
  if (user.exec !== undefined || user['auth-provider'] !== undefined) {
    return clientNode(sel, server, tls, proxy, impersonate);
  }
  const cert = readBytes('client certificate', 'kubeconfigCertificate', user['client-certificate-data'], user['client-certificate'], sel.userFile);
  const key = readBytes('client key', 'kubeconfigKey', user['client-key-data'], user['client-key'], sel.userFile);
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  const staticToken = typeof user.token === 'string' && user.token !== '' ? user.token : undefined;
  const token = staticToken !== undefined ? (): string => staticToken : typeof user.tokenFile === 'string' ? tokenFromFile(pathIn(sel.userFile)(user.tokenFile)) : undefined;
  const password = typeof user.password === 'string' ? user.password : '';
  const basic = typeof user.username === 'string' ? Buffer.from(`${user.username}:${password}`).toString('base64') : undefined;
  const credentials = (): Promise<Headers> => {
    const t = token?.();
    return Promise.resolve(t ? { Authorization: `Bearer ${t}` } : basic ? { Authorization: `Basic ${basic}` } : {});
  };
  return { endpoint: endpointOf(server, tls, proxy, impersonate, credentials), user: sel.userName };
}

function inCluster(env: Env, dir: string): LoadedKubeConfig | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port || !existsSync(join(dir, 'token'))) return undefined;
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const tls: AgentOptions = { ca: readBounded(join(dir, 'ca.crt'), 'kubeconfigCertificate') };
  const token = tokenFromFile(join(dir, 'token'));
  // rest.InClusterConfig sets no proxy: the transport's default, the environment's, applies.
  const proxy = proxyFor(new URL(server), undefined, env);
  return { endpoint: endpointOf(server, tls, proxy, {}, () => Promise.resolve({ Authorization: `Bearer ${token()}` })), user: 'in-cluster' };
}

/**
 * Where the kubeconfig comes from (see the top of this file). `env` is the process
 * environment, passed in; `serviceAccountDir` is where the in-cluster token is.
 */
export async function loadKubeConfig(file: string | undefined, env: Env, serviceAccountDir = SERVICE_ACCOUNT_DIR): Promise<LoadedKubeConfig> {
  if (file !== undefined) return fromSelected(select([{ file, raw: readRaw(file) }], file), env);
  const fromEnv = env.KUBECONFIG?.split(':').filter((p) => p !== '') ?? [];
  if (fromEnv.length === 1) {
    const only = fromEnv[0] as string;
    return fromSelected(select([{ file: only, raw: readRaw(only) }], only), env);
  }
  if (fromEnv.length > 1) {
    // A missing one is skipped, as client-go skips it; one that cannot be read is an error.
    const present = fromEnv.filter((f) => existsSync(f));
    if (present.length === 0) throw csrError('InvalidArgument', `none of the KUBECONFIG files ${fromEnv.join(', ')} exists`);
    return fromSelected(select(present.map((f) => ({ file: f, raw: readRaw(f) })), fromEnv.join(':')), env);
  }
  const cluster = inCluster(env, serviceAccountDir);
  if (cluster) return cluster;
  const home = env.HOME ? join(env.HOME, '.kube', 'config') : undefined;
  if (home !== undefined && existsSync(home)) return fromSelected(select([{ file: home, raw: readRaw(home) }], home), env);
  throw csrError('InvalidArgument', 'no kubeconfig: pass --kubeconfig, set KUBECONFIG, run in a cluster with a service account, or write ~/.kube/config');
}

/**
 * Exec plugins and auth providers: client-node runs them and hands back the
 * credentials (headers, and a client certificate an exec plugin may return).
 * The cluster, its TLS, the proxy and impersonation are ours, decided above.
 */
async function clientNode(sel: Selected, server: string, tls: AgentOptions, proxy: URL | undefined, impersonate: Headers): Promise<LoadedKubeConfig> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  const user = Object.fromEntries(Object.entries(sel.user).filter(([k]) => k !== 'as' && !k.startsWith('as-')));
  try {
    kc.loadFromString(JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
      contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
      clusters: [{ name: 'k', cluster: { server } }],
      users: [{ name: 'u', user }],
    }));
    kc.makePathsAbsolute(dirname(sel.userFile));
  } catch (e) {
    throw csrError('InvalidArgument', `cannot load the kubeconfig ${sel.label}: ${(e as Error).message}`);
  }
  type Probe = { headers?: Record<string, string>; cert?: AgentOptions['cert']; key?: AgentOptions['key'] };
  const probe: Probe = {};
  try {
    await kc.applyToHTTPSOptions(probe);
  } catch (e) {
    throw csrError('InvalidArgument', `cannot use the kubeconfig's credentials: ${(e as Error).message}`);
  }
  const withCert: AgentOptions = { ...tls, ...(probe.cert === undefined ? {} : { cert: probe.cert }), ...(probe.key === undefined ? {} : { key: probe.key }) };
  let headers: Headers = { ...probe.headers };
  let refreshedAt = Date.now();
  return {
    user: sel.userName,
    endpoint: endpointOf(server, withCert, proxy, impersonate, async () => {
      if (Date.now() - refreshedAt > 30_000) {
        // Exec plugins and auth providers refresh their own credentials here.
        const next: Probe = {};
        await kc.applyToHTTPSOptions(next);
        headers = { ...next.headers };
        refreshedAt = Date.now();
      }
      return headers;
    }),
  };
}
