/**
 * The kubeconfig's proxy and impersonation through the product's own HTTP client,
 * against devapi over HTTPS: a real CONNECT proxy on loopback (test/helpers/
 * connect-proxy.ts) records what it tunnelled, for a kubeconfig proxy-url (http and
 * https, with a user) and for HTTPS_PROXY / NO_PROXY. 0.0.0.0 reaches devapi's
 * loopback socket on Linux but is no loopback address to Go's rules, so the
 * environment's proxy applies to it. The environment is always passed in.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parse, stringify } from 'yaml';
import { DevApi } from '../../devapi/server/server.js';
import { readBoundedText } from '../../src/files.js';
import { loadKubeConfig } from '../../src/kube/config.js';
import { kubeHttp } from '../../src/kube/http.js';
import { startConnectProxy, startSocksProxy } from '../helpers/connect-proxy.js';

const stateDir = mkdtempSync(join(tmpdir(), 'devapi-kubeconfig-'));
const devapi = new DevApi({ stateDir, readText: readBoundedText });
await devapi.start();
const port = new URL(devapi.url).port;
t.teardown(() => devapi.stop());

interface Raw { clusters: { cluster: Record<string, unknown> }[]; users: { user: Record<string, unknown> }[] }
/** The signer's kubeconfig from devapi with its cluster and user changed. */
function signerKubeconfig(name: string, cluster: Record<string, unknown>, user: Record<string, unknown> = {}): string {
  const raw = parse(readFileSync(devapi.kubeconfigPath('signer'), 'utf8')) as Raw;
  Object.assign((raw.clusters[0] as Raw['clusters'][0]).cluster, cluster);
  Object.assign((raw.users[0] as Raw['users'][0]).user, user);
  const file = join(stateDir, name);
  writeFileSync(file, stringify(raw));
  return file;
}

/** Lists CSRs as the signer through the product's client: the request devapi answers. */
async function listVia(file: string, env: Record<string, string>): Promise<string> {
  const kube = kubeHttp((await loadKubeConfig(file, env)).endpoint);
  try {
    return (await kube.request<{ kind: string }>('GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests')).kind;
  } finally {
    kube.close();
  }
}

void t.test('a kubeconfig proxy-url carries the requests through a CONNECT tunnel, with its user', async (t) => {
  const proxy = await startConnectProxy();
  t.teardown(() => proxy.close());
  const file = signerKubeconfig('proxy-url.yaml', { 'proxy-url': proxy.url.replace('http://', 'http://ops:s%40cret@') });
  const kube = kubeHttp((await loadKubeConfig(file, {})).endpoint);
  t.teardown(() => kube.close());
  for (let i = 0; i < 3; i++) await kube.request('GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests');
  t.equal(proxy.tunnels.length, 1, 'one tunnel, kept alive for the next requests');
  t.equal(await listVia(file, {}), 'CertificateSigningRequestList');
  t.same(proxy.tunnels.slice(1), [{ target: `127.0.0.1:${port}`, proxyAuthorization: `Basic ${Buffer.from('ops:s@cret').toString('base64')}` }], 'loopback too: proxy-url has no exceptions');
});

void t.test('an https:// proxy-url is reached over TLS, trusted with the cluster\'s CA', async (t) => {
  const tls = { cert: readFileSync(join(stateDir, 'server.pem'), 'utf8'), key: readFileSync(join(stateDir, 'server-key.pem'), 'utf8') };
  const proxy = await startConnectProxy({ tls });
  t.teardown(() => proxy.close());
  t.equal(await listVia(signerKubeconfig('https-proxy-url.yaml', { 'proxy-url': proxy.url }), { HTTPS_PROXY: 'http://127.0.0.1:9', NO_PROXY: '*' }), 'CertificateSigningRequestList');
  t.same(proxy.tunnels.map((x) => x.target), [`127.0.0.1:${port}`], 'proxy-url wins over the environment, and NO_PROXY does not apply to it');
});

void t.test('HTTPS_PROXY carries the requests unless NO_PROXY matches; loopback goes direct', async (t) => {
  const proxy = await startConnectProxy();
  t.teardown(() => proxy.close());
  const file = signerKubeconfig('env.yaml', { server: `https://0.0.0.0:${port}`, 'tls-server-name': 'localhost' });
  t.equal(await listVia(file, { HTTPS_PROXY: proxy.url }), 'CertificateSigningRequestList');
  t.same(proxy.tunnels.map((x) => x.target), [`0.0.0.0:${port}`], 'through the proxy');
  t.equal(await listVia(file, { https_proxy: proxy.url.replace('http://', '') }), 'CertificateSigningRequestList');
  t.equal(proxy.tunnels.length, 2, 'https_proxy, with no scheme: http:// is meant');
  for (const noProxy of ['0.0.0.0/8', '0.0.0.0', `0.0.0.0:${port}`, '*']) {
    t.equal(await listVia(file, { HTTPS_PROXY: proxy.url, no_proxy: `example.com, ${noProxy}` }), 'CertificateSigningRequestList');
  }
  t.equal(await listVia(file, { HTTPS_PROXY: proxy.url, NO_PROXY: '0.0.0.0:1' }), 'CertificateSigningRequestList');
  t.equal(await listVia(devapi.kubeconfigPath('signer'), { HTTPS_PROXY: proxy.url }), 'CertificateSigningRequestList');
  t.same(proxy.tunnels.map((x) => x.target), [`0.0.0.0:${port}`, `0.0.0.0:${port}`, `0.0.0.0:${port}`], 'only another port in NO_PROXY was proxied; 127.0.0.1 never');
});

void t.test('a socks5:// proxy-url or HTTPS_PROXY carries the requests too, with its user and password', async (t) => {
  const socks = await startSocksProxy({ user: { name: 'ops', password: 's@cret' } });
  t.teardown(() => socks.close());
  const withUser = socks.url.replace('socks5://', 'socks5://ops:s%40cret@');
  t.equal(await listVia(signerKubeconfig('socks.yaml', { server: `https://localhost:${port}`, 'proxy-url': withUser }), {}), 'CertificateSigningRequestList');
  t.equal(await listVia(signerKubeconfig('socks-env.yaml', { server: `https://0.0.0.0:${port}`, 'tls-server-name': 'localhost' }), { HTTPS_PROXY: withUser }), 'CertificateSigningRequestList');
  t.same(socks.tunnels, [{ target: `localhost:${port}`, proxyAuthorization: 'ops:s@cret' }, { target: `0.0.0.0:${port}`, proxyAuthorization: 'ops:s@cret' }],
    'a name is sent for the proxy to resolve, an IP as an address');
  await t.rejects(listVia(signerKubeconfig('socks-bad.yaml', { 'proxy-url': socks.url.replace('socks5://', 'socks5://ops:wrong@') }), {}),
    /through the proxy 127\.0\.0\.1:\d+: the SOCKS proxy refused the user and password/);
  await t.rejects(listVia(signerKubeconfig('socks-none.yaml', { 'proxy-url': socks.url }), {}),
    /through the proxy 127\.0\.0\.1:\d+: the SOCKS proxy accepts none of our authentication methods/);
  const open = await startSocksProxy();
  t.teardown(() => open.close());
  await t.rejects(listVia(signerKubeconfig('socks-refused.yaml', { server: 'https://127.0.0.1:1', 'proxy-url': open.url }), {}),
    /the SOCKS proxy refused CONNECT 127\.0\.0\.1:1 with reply 5/);
});

void t.test('a proxy that cannot be reached, or refuses the tunnel, fails the request saying so', async (t) => {
  const proxy = await startConnectProxy();
  t.teardown(() => proxy.close());
  await t.rejects(listVia(signerKubeconfig('refused.yaml', { server: 'https://127.0.0.1:1', 'proxy-url': proxy.url }), {}),
    /the proxy 127\.0\.0\.1:\d+ answered CONNECT 127\.0\.0\.1:1 with 502 Bad Gateway/);
  const gone = await startConnectProxy();
  await gone.close();
  await t.rejects(listVia(signerKubeconfig('dead-proxy.yaml', { 'proxy-url': gone.url }), {}), /cannot reach the proxy 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
});

void t.test('as, as-uid, as-groups and as-user-extra become client-go\'s Impersonate-* headers', async (t) => {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    res.setHeader('Content-Type', 'application/json').end('{"kind":"Status"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const at = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const user = { token: 'tok', as: 'system:serviceaccount:csr-signer:signer', 'as-uid': 'u-1', 'as-groups': ['system:serviceaccounts', 'team a'], 'as-user-extra': { scopes: ['view', 'sign'], 'example.com/Key Name%': ['v'] } };
  const kube = kubeHttp((await loadKubeConfig(signerKubeconfig('as.yaml', { server: at }, user), {})).endpoint);
  await kube.request('GET', '/api');
  kube.close();
  const pairs: string[] = [];
  const raw = seen[0]?.rawHeaders ?? [];
  for (let i = 0; i < raw.length; i += 2) if (/^(impersonate-|authorization)/i.test(raw[i] ?? '')) pairs.push(`${raw[i] ?? ''}: ${raw[i + 1] ?? ''}`);
  t.same(pairs.sort(), [
    'Authorization: Bearer tok',
    'Impersonate-Extra-example.com%2FKey%20Name%25: v',
    'Impersonate-Extra-scopes: sign',
    'Impersonate-Extra-scopes: view',
    'Impersonate-Group: system:serviceaccounts',
    'Impersonate-Group: team a',
    'Impersonate-Uid: u-1',
    'Impersonate-User: system:serviceaccount:csr-signer:signer',
  ], 'one header line per group and per extra value');
  const noAs = kubeHttp((await loadKubeConfig(signerKubeconfig('groups-only.yaml', { server: at }, { token: 'tok', 'as-groups': ['g'] }), {})).endpoint);
  await noAs.request('GET', '/api');
  noAs.close();
  t.same(Object.keys(seen[1]?.headers ?? {}).filter((h) => h.startsWith('impersonate-')), [], 'without as: nothing, as clientcmd drops the rest');

  // A plain-http server behind HTTP_PROXY: the request goes to the proxy in absolute form.
  const proxy = await startConnectProxy();
  t.teardown(() => proxy.close());
  const viaProxy = kubeHttp((await loadKubeConfig(signerKubeconfig('http-proxy.yaml', { server: at.replace('127.0.0.1', '0.0.0.0') }, { token: 'tok' }), { HTTP_PROXY: proxy.url.replace('http://', 'http://a:b@'), HTTPS_PROXY: 'http://127.0.0.1:9' })).endpoint);
  await viaProxy.request('GET', '/api');
  viaProxy.close();
  t.same(proxy.tunnels, [{ target: at.replace('http://127.0.0.1', '0.0.0.0'), proxyAuthorization: `Basic ${Buffer.from('a:b').toString('base64')}` }], 'HTTP_PROXY for an http server');
  t.equal(seen[2]?.headers.authorization, 'Bearer tok', 'the request reached the server');

  // And behind a socks5 proxy: a plain connection through it.
  const socks = await startSocksProxy();
  t.teardown(() => socks.close());
  const viaSocks = kubeHttp((await loadKubeConfig(signerKubeconfig('http-socks.yaml', { server: at, 'proxy-url': socks.url }, { token: 'tok' }), {})).endpoint);
  await viaSocks.request('GET', '/api');
  viaSocks.close();
  t.same(socks.tunnels.map((x) => x.target), [at.replace('http://', '')], 'SOCKS5 for an http server');
  t.equal(seen[3]?.headers.authorization, 'Bearer tok');
});
