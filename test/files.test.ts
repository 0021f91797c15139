/**
 * The bounded reader itself, and the readers that only a running signer reaches
 * (a kubeconfig's token and certificate files, the service account's namespace
 * file). The commands' own files are read through the real CLI in cli-limits.test.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { loadRunConfig, serviceAccountNamespaceFile } from '../src/config/index.js';
import { CaStore } from '../src/trust/ca-store.js';
import { loadKubeConfig } from '../src/kube/config.js';
import { fileLimits, readBounded, readBoundedText } from '../src/files.js';
import { tempDir } from './helpers/tools.js';

const dir = tempDir('files-');
const file = (name: string, content: string | Buffer): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const fifo = (name: string): string => {
  const path = join(dir, name);
  spawnSync('mkfifo', [path]);
  return path;
};

void t.test('reads what is within the limit and refuses what is past it, naming the file and the limit', (t) => {
  const limit = fileLimits.passphrase.bytes;
  t.equal(readBounded(file('at', Buffer.alloc(limit, 'a')), 'passphrase').length, limit, 'exactly the limit is read whole');
  t.equal(readBoundedText(file('small', 'secret\n'), 'passphrase'), 'secret\n');
  t.equal(readBounded(file('empty', ''), 'passphrase').length, 0, 'an empty file is empty');
  const cases: [string, string][] = [
    ['a file one byte over', file('over', Buffer.alloc(limit + 1, 'a'))],
    ['an endless device', '/dev/zero'],
    ['an endless random device', '/dev/urandom'],
  ];
  for (const [name, path] of cases) {
    t.throws(() => readBounded(path, 'passphrase'), {
      kind: 'FileTooLarge', code: 'CSR_SIGNER_ERR_FILE_TOO_LARGE',
      message: `${path}: the passphrase file is larger than 64 KiB (65536 bytes), the most csr-signer reads of it; nothing past that was read`,
    }, name);
  }
  t.end();
});

void t.test('a huge regular file is refused from its size, without reading it', (t) => {
  const sparse = file('sparse', '');
  truncateSync(sparse, 64 * 1024 ** 3);
  const started = process.hrtime.bigint();
  t.throws(() => readBounded(sparse, 'config'), { kind: 'FileTooLarge', message: /sparse: the config file is larger than 4 MiB/ });
  t.ok(process.hrtime.bigint() - started < 500_000_000n, 'no 64 GiB read');
  t.end();
});

void t.test('a directory or a missing file is the system\'s error, with its code', (t) => {
  t.throws(() => readBounded(dir, 'config'), { code: 'EISDIR' }, 'a directory');
  t.throws(() => readBounded(join(dir, 'nope'), 'config'), { code: 'ENOENT' }, 'a missing file');
  t.end();
});

void t.test('a FIFO is read once its writer comes, and given up on when none does', async (t) => {
  const late = fifo('late');
  const writer = spawn('sh', ['-c', 'sleep 0.2; printf "hello" > "$0"', late], { stdio: 'ignore' });
  const exited = new Promise((resolve) => writer.on('exit', resolve));
  t.equal(readBoundedText(late, 'token'), 'hello', 'a writer that opens the FIFO later is waited for');
  await exited;
  t.throws(() => readBounded(fifo('never'), 'token', { timeoutMs: 100 }), {
    kind: 'FileReadTimeout', code: 'CSR_SIGNER_ERR_FILE_READ_TIMEOUT', message: /never: the token file did not reach its end within 0.1 s/,
  }, 'a FIFO nobody writes to');
  const stalled = fifo('stalled');
  const staller = spawn('sh', ['-c', 'exec 3>"$0"; printf abc >&3; exec sleep 30', stalled], { stdio: 'ignore' });
  t.throws(() => readBounded(stalled, 'token', { timeoutMs: 300 }), { kind: 'FileReadTimeout', message: /stalled: the token file did not reach its end within 0.3 s/ }, 'a writer that stalls before the end');
  staller.kill();
});

void t.test('a kubeconfig\'s token and certificate files are read within their limits', async (t) => {
  const kubeconfig = (name: string, user: Record<string, unknown>, cluster: Record<string, unknown> = {}): string => file(name, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
    contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
    clusters: [{ name: 'k', cluster: { server: 'https://10.0.0.1:6443', ...cluster } }],
    users: [{ name: 'u', user }],
  }));
  const k = await loadKubeConfig(kubeconfig('token.yaml', { tokenFile: '/dev/zero' }), {});
  await t.rejects(async () => k.endpoint.headers(), { kind: 'FileTooLarge', message: /^\/dev\/zero: the token file is larger than 64 KiB/ }, 'the token file');
  await t.rejects(loadKubeConfig(kubeconfig('ca.yaml', {}, { 'certificate-authority': '/dev/zero' }), {}),
    { kind: 'FileTooLarge', message: /^\/dev\/zero: the certificate file of the kubeconfig is larger than 4 MiB/ }, 'the certificate authority file');
  await t.rejects(loadKubeConfig(kubeconfig('key.yaml', { 'client-certificate-data': 'eA==', 'client-key': '/dev/zero' }), {}),
    { kind: 'FileTooLarge', message: /^\/dev\/zero: the key file of the kubeconfig is larger than 1 MiB/ }, 'the client key file');
  await t.rejects(loadKubeConfig(undefined, { KUBECONFIG: `/dev/zero:${join(dir, 'token.yaml')}` }),
    { kind: 'FileTooLarge', message: /^\/dev\/zero: the kubeconfig is larger than 4 MiB/ }, 'each of several KUBECONFIG files');
});

void t.test('the service account namespace file is read within its limit', (t) => {
  const ca = join(import.meta.dirname, '..', 'keys.example');
  const argv = ['--cluster-signing-cert-file', join(ca, 'ca.pem'), '--cluster-signing-key-file', join(ca, 'ca-key.pem')];
  const kinds: string[] = [];
  t.throws(() => loadRunConfig(argv, {}, (path, kind) => {
    kinds.push(kind);
    return readBoundedText(path === serviceAccountNamespaceFile ? '/dev/zero' : path, kind);
  }), { kind: 'FileTooLarge', message: /^\/dev\/zero: the service account namespace file is larger than 4 KiB \(4096 bytes\)/ });
  t.same(kinds, ['namespace']);
  t.end();
});

void t.test('a CA file that grows past its limit on reload is refused and the loaded CA keeps signing', async (t) => {
  const keys = join(import.meta.dirname, '..', 'keys.example');
  const certFile = join(dir, 'reload-ca.pem');
  const keyFile = join(dir, 'reload-ca-key.pem');
  copyFileSync(join(keys, 'ca.pem'), certFile);
  copyFileSync(join(keys, 'ca-key.pem'), keyFile);
  const store = new CaStore([{ name: 'example.com/a', source: 'test', ca: { certFile, keyFile }, defaultDurationMs: 3_600_000, maxDurationMs: 3_600_000, includeChain: false }], { logger: pino({ level: 'silent' }) });
  await store.loadAll();
  const loaded = store.lookup('example.com/a');
  writeFileSync(keyFile, Buffer.alloc(fileLimits.caKey.bytes + 1, 'k'));
  await store.check();
  t.equal(store.state('example.com/a').error, `signer example.com/a: ${keyFile}: the CA key file is larger than 1 MiB (1048576 bytes), the most csr-signer reads of it; nothing past that was read`);
  t.equal(store.lookup('example.com/a'), loaded, 'the CA loaded before still signs');
  await store.close();
});
