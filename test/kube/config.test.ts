/** Reading kubeconfigs without client-node, and handing the rare kinds to it. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
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
  await t.rejects(loadKubeConfig(undefined, {}, join(dir, 'none')), /no kubeconfig: pass --kubeconfig, set KUBECONFIG, or run in a cluster/);
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
