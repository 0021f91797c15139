/** Reading kubeconfigs without client-node, and handing the rare kinds to it. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { runUsage } from '../../src/config/flags.js';
import { loadKubeConfig } from '../../src/kube/config.js';
import { tempDir } from '../helpers/tools.js';

const dir = tempDir('kubeconfig-');
const kubeconfig = (name: string, user: Record<string, unknown>, cluster: Record<string, unknown> = {}): string => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
    contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
    clusters: [{ name: 'k', cluster: { server: 'https://10.0.0.1:6443/', 'certificate-authority-data': Buffer.from('CA PEM').toString('base64'), ...cluster } }],
    users: [{ name: 'u', user }],
  }));
  return path;
};

void t.test('a token, the CA data and the server, with no trailing slash', async (t) => {
  const k = await loadKubeConfig(kubeconfig('token.yaml', { token: 'abc' }), {});
  t.equal(k.endpoint.server, 'https://10.0.0.1:6443');
  t.same(await k.endpoint.headers(), { Authorization: 'Bearer abc' });
  t.equal(String(k.endpoint.tls.ca), 'CA PEM');
  t.equal(k.user, 'u');
});

void t.test('a token file and client certificate files relative to the kubeconfig', async (t) => {
  writeFileSync(join(dir, 'tok'), 'from-file\n');
  writeFileSync(join(dir, 'client.crt'), 'CERT');
  writeFileSync(join(dir, 'client.key'), 'KEY');
  const k = await loadKubeConfig(kubeconfig('files.yaml', { tokenFile: 'tok', 'client-certificate': 'client.crt', 'client-key': 'client.key' }, { 'tls-server-name': 'api.internal' }), {});
  t.same(await k.endpoint.headers(), { Authorization: 'Bearer from-file' });
  t.equal(String(k.endpoint.tls.cert), 'CERT');
  t.same(k.endpoint.tls.key, Buffer.from('KEY'));
  t.equal(k.endpoint.tls.servername, 'api.internal');
});

void t.test('KUBECONFIG is used when no flag is given; a flag wins over it', async (t) => {
  const viaEnv = await loadKubeConfig(undefined, { KUBECONFIG: kubeconfig('env.yaml', { token: 'env' }) });
  t.same(await viaEnv.endpoint.headers(), { Authorization: 'Bearer env' });
  const viaFlag = await loadKubeConfig(kubeconfig('flag.yaml', { token: 'flag' }), { KUBECONFIG: join(dir, 'env.yaml') });
  t.same(await viaFlag.endpoint.headers(), { Authorization: 'Bearer flag' });
});

void t.test('in a cluster: the service host and port, the mounted CA and the rotating token', async (t) => {
  const sa = join(dir, 'sa');
  mkdirSync(sa);
  writeFileSync(join(sa, 'token'), 'projected');
  writeFileSync(join(sa, 'ca.crt'), 'CLUSTER CA');
  const k = await loadKubeConfig(undefined, { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, sa);
  t.equal(k.endpoint.server, 'https://[fd00::1]:443');
  t.same(await k.endpoint.headers(), { Authorization: 'Bearer projected' });
  t.equal(String(k.endpoint.tls.ca), 'CLUSTER CA');
});

void t.test('nothing to go on is a clear error; a broken file names itself', async (t) => {
  await t.rejects(loadKubeConfig(undefined, {}, join(dir, 'none')), /no kubeconfig: pass --kubeconfig, set KUBECONFIG, run in a cluster with a service account, or write ~\/\.kube\/config/);
  writeFileSync(join(dir, 'broken.yaml'), 'clusters: [');
  await t.rejects(loadKubeConfig(join(dir, 'broken.yaml'), {}), /cannot load the kubeconfig .*broken\.yaml/);
  await t.rejects(loadKubeConfig(kubeconfig('nocert.yaml', { 'client-certificate': 'missing.crt' }), {}), /cannot read the client certificate missing\.crt: ENOENT/);
});

void t.test('an exec plugin is handed to client-node, which runs it', async (t) => {
  const k = await loadKubeConfig(kubeconfig('exec.yaml', {
    exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'sh', args: ['-c', 'echo \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-exec"}}\''] },
  }), {});
  t.equal(k.endpoint.server, 'https://10.0.0.1:6443');
  t.equal(k.user, 'u');
  t.same(await k.endpoint.headers(), { Authorization: 'Bearer from-exec' }, 'the plugin\'s token');
});

/** A fake HOME with a ~/.kube/config, and a service account directory, for the lookup order. */
function places(name: string): { home: string; sa: string; inCluster: Record<string, string> } {
  const home = join(dir, `${name}-home`);
  mkdirSync(join(home, '.kube'), { recursive: true });
  writeFileSync(join(home, '.kube', 'config'), readFileSync(kubeconfig(`${name}-home.yaml`, { token: 'home' })));
  const sa = join(dir, `${name}-sa`);
  mkdirSync(sa);
  writeFileSync(join(sa, 'token'), 'in-cluster');
  writeFileSync(join(sa, 'ca.crt'), 'CLUSTER CA');
  return { home, sa, inCluster: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' } };
}

void t.test('the lookup order: --kubeconfig, KUBECONFIG, the in-cluster account, then ~/.kube/config', async (t) => {
  const { home, sa, inCluster } = places('order');
  const token = async (file: string | undefined, env: Record<string, string>): Promise<unknown> => (await (await loadKubeConfig(file, env, sa)).endpoint.headers()).Authorization;
  const env = kubeconfig('order-env.yaml', { token: 'env' });
  t.equal(await token(kubeconfig('order-flag.yaml', { token: 'flag' }), { ...inCluster, HOME: home, KUBECONFIG: env }), 'Bearer flag');
  t.equal(await token(undefined, { ...inCluster, HOME: home, KUBECONFIG: env }), 'Bearer env');
  t.equal(await token(undefined, { ...inCluster, HOME: home }), 'Bearer in-cluster', 'the service account before ~/.kube/config');
  t.equal(await token(undefined, { HOME: home }), 'Bearer home', 'outside a cluster');
  t.equal(await token(undefined, { KUBERNETES_SERVICE_HOST: '10.96.0.1', HOME: home }), 'Bearer home', 'no port: not in a cluster');
  // The same order, in the same words, in --help and in docs/configuration.md.
  t.match(runUsage.replace(/\s+/g, ' '), 'default: $KUBECONFIG, then the in-cluster service account, then ~/.kube/config', '--help');
  const docs = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');
  t.match(docs, '| `--kubeconfig FILE` | `$KUBECONFIG`, then the in-cluster service account, then `~/.kube/config` |', 'docs/configuration.md');
});

void t.test('several KUBECONFIG files merge as client-go merges them: the first to set a name wins', async (t) => {
  const first = join(dir, 'merge-1.yaml');
  writeFileSync(first, JSON.stringify({ 'current-context': 'c', users: [{ name: 'u', user: { token: 'first', as: 'someone' } }] }));
  const second = kubeconfig('merge-2.yaml', { token: 'second' }, { 'proxy-url': 'http://proxy.corp:3128' });
  const k = await loadKubeConfig(undefined, { KUBECONFIG: `${join(dir, 'missing.yaml')}:${first}:${second}` });
  t.same(await k.endpoint.headers(), { Authorization: 'Bearer first', 'Impersonate-User': 'someone' });
  t.equal(k.endpoint.server, 'https://10.0.0.1:6443', 'the context and cluster from the second');
  t.equal(k.endpoint.proxy?.href, 'http://proxy.corp:3128/');
  await t.rejects(loadKubeConfig(undefined, { KUBECONFIG: `${join(dir, 'missing.yaml')}:${join(dir, 'missing2.yaml')}` }), /none of the KUBECONFIG files .*missing\.yaml, .*missing2\.yaml exists/);
});

void t.test('the environment\'s proxy applies to the in-cluster account too, as rest.InClusterConfig leaves it', async (t) => {
  const { sa, inCluster } = places('icc');
  const proxied = await loadKubeConfig(undefined, { ...inCluster, HTTPS_PROXY: 'http://proxy.corp:3128' }, sa);
  t.equal(proxied.endpoint.proxy?.href, 'http://proxy.corp:3128/');
  const direct = await loadKubeConfig(undefined, { ...inCluster, HTTPS_PROXY: 'http://proxy.corp:3128', NO_PROXY: '10.96.0.0/12' }, sa);
  t.equal(direct.endpoint.proxy, undefined, 'the service CIDR in NO_PROXY');
});

void t.test('a bad proxy-url or impersonation field is one sentence naming the kubeconfig field', async (t) => {
  await t.rejects(loadKubeConfig(kubeconfig('bad-proxy.yaml', { token: 't' }, { 'proxy-url': 'proxy.corp:3128' }), {}),
    { code: 'CSR_SIGNER_ERR_INVALID_ARGUMENT', message: /^the kubeconfig .*bad-proxy\.yaml: the cluster's proxy-url is "proxy\.corp:3128", whose scheme "proxy\.corp" is not http, https or socks5$/ });
  await t.rejects(loadKubeConfig(kubeconfig('socks4.yaml', { token: 't' }, { 'proxy-url': 'socks4://proxy.corp:1080' }), {}),
    /socks4\.yaml: the cluster's proxy-url is "socks4:\/\/proxy\.corp:1080", whose scheme "socks4" is not http, https or socks5/);
  await t.rejects(loadKubeConfig(kubeconfig('not-url.yaml', { token: 't' }, { 'proxy-url': 'http://[::1' }), {}), /not-url\.yaml: the cluster's proxy-url is "http:\/\/\[::1", which is not a URL/);
  await t.rejects(loadKubeConfig(kubeconfig('env-ftp.yaml', { token: 't' }), { HTTPS_PROXY: 'ftp://p:21' }), /the environment variable HTTPS_PROXY is "ftp:\/\/p:21", whose scheme "ftp" is not http, https or socks5/);
  await t.rejects(loadKubeConfig(kubeconfig('groups.yaml', { as: 'x', 'as-groups': 'admins' }), {}), /groups\.yaml: the user "u": as-groups must be a list of strings, not "admins"/);
  await t.rejects(loadKubeConfig(kubeconfig('extra.yaml', { as: 'x', 'as-user-extra': { k: 'v' } }), {}), /the user "u": as-user-extra\.k must be a list of strings, not "v"/);
  await t.rejects(loadKubeConfig(kubeconfig('newline.yaml', { as: 'x\ny' }), {}), /the user "u": as must be a string on one line, not "x\\ny"/);
});

void t.test('an exec plugin\'s user keeps its impersonation and proxy: client-node gives only the credentials', async (t) => {
  const k = await loadKubeConfig(kubeconfig('exec-as.yaml', {
    as: 'someone', 'as-groups': ['g1', 'g2'],
    exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'sh', args: ['-c', 'echo \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-exec"}}\''] },
  }, { 'proxy-url': 'https://proxy.corp' }), {});
  t.same(await k.endpoint.headers(), { Authorization: 'Bearer from-exec', 'Impersonate-User': 'someone', 'Impersonate-Group': ['g1', 'g2'] });
  t.equal(k.endpoint.proxy?.href, 'https://proxy.corp/');
  t.equal(String(k.endpoint.tls.ca), 'CA PEM', 'the cluster\'s CA, read here');
});
