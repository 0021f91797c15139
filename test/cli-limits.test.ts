/**
 * Every file the commands read is read within a limit, through the real CLI: an
 * endless device, an endless FIFO, a file one byte over its limit and one exactly
 * at it. Each refusal is one line naming the file and the limit, exit 2, no stack
 * trace, in bounded memory (the child's peak RSS, reported by a preloaded hook).
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { fileLimits, type FileKind } from '../src/files.js';
import { needTool, tempDir } from './helpers/tools.js';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli.js');
if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run "npm run build" (npm test does) before the tests');
const dir = tempDir('limits-');
const keys = join(root, 'keys.example');
const ca = { cert: join(keys, 'ca.pem'), key: join(keys, 'ca-key.pem'), csr: join(keys, 'example.csr') };
const rssFile = join(dir, 'max-rss');
/** Writes the child's peak RSS (bytes) to $CSR_SIGNER_TEST_MAX_RSS_FILE on exit. */
const rssHook = `data:text/javascript,${encodeURIComponent("import{writeFileSync}from'node:fs';process.on('exit',()=>writeFileSync(process.env.CSR_SIGNER_TEST_MAX_RSS_FILE,String(process.resourceUsage().maxRSS*1024)))")}`;
/** Far below what reading /dev/zero without a limit takes (gigabytes), well above node's own ~60 MB. */
const rssBound = 160 * 1024 * 1024;

interface Outcome { readonly code: number | null; readonly stderr: string; readonly rss: number }

function csrSigner(args: readonly string[], stdin: number | 'pipe' = 'pipe'): Outcome {
  writeFileSync(rssFile, '0');
  const r = spawnSync(process.execPath, ['--import', rssHook, cli, ...args], {
    cwd: root, encoding: 'utf8', timeout: 30_000, stdio: [stdin, 'pipe', 'pipe'],
    env: { ...process.env, CSR_SIGNER_TEST_MAX_RSS_FILE: rssFile, KUBECONFIG: '', HOME: dir },
  });
  if (r.error) throw r.error;
  return { code: r.status, stderr: r.stderr, rss: Number(readFileSync(rssFile, 'utf8')) };
}

/** A FIFO that a `cat /dev/zero` child keeps writing to; stop() ends the writer. */
function endlessFifo(name: string): { path: string; stop: () => void } {
  const path = join(dir, name);
  spawnSync('mkfifo', [path]);
  const writer = spawn('sh', ['-c', 'exec cat /dev/zero > "$0"', path], { stdio: 'ignore' });
  writer.on('error', () => undefined);
  return { path, stop: () => { if (writer.exitCode === null) writer.kill(); } };
}

/** A file of exactly `bytes` bytes: no PEM block, YAML that is a comment after a flow list left open (so nothing starts). */
function fileOf(name: string, bytes: number): string {
  const path = join(dir, name);
  const head = 'kind: [\n';
  writeFileSync(path, `${head}#${'x'.repeat(bytes - head.length - 2)}\n`);
  return path;
}

const config = (name: string, ca: Record<string, unknown>): string => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ apiVersion: 'csr-signer.io/v1alpha1', kind: 'SignerConfiguration', signers: [{ name: 'example.com/a', ca, policy: { unrestricted: true } }] }));
  return path;
};
const goodConfig = config('good.json', { certFile: ca.cert, keyFile: ca.key });
const sign = ['sign', '--ca-cert', ca.cert, '--ca-key', ca.key, '--csr', ca.csr];
const replace = (args: readonly string[], flag: string, value: string): string[] => args.map((a, i) => (args[i - 1] === flag ? value : a));

/** Each input kind: how the command line reads FILE, and the kind of limit it applies. */
const inputs: { readonly name: string; readonly kind: FileKind; readonly args: (file: string) => string[]; readonly fifo?: true }[] = [
  { name: 'sign --csr', kind: 'request', args: (f) => replace(sign, '--csr', f), fifo: true },
  { name: 'sign --ca-cert', kind: 'caCertificate', args: (f) => replace(sign, '--ca-cert', f) },
  { name: 'sign --ca-key', kind: 'caKey', args: (f) => replace(sign, '--ca-key', f), fifo: true },
  { name: 'sign --ca-key-passphrase-file', kind: 'passphrase', args: (f) => [...sign, '--ca-key-passphrase-file', f] },
  { name: 'run --config', kind: 'config', args: (f) => ['run', '--config', f], fifo: true },
  { name: 'run: a signer\'s ca.keyFile', kind: 'caKey', args: (f) => ['run', '--config', config(`key-${f.replaceAll('/', '_')}.json`, { certFile: ca.cert, keyFile: f })] },
  { name: 'run: a signer\'s ca.trustFile', kind: 'trust', args: (f) => ['run', '--config', config(`trust-${f.replaceAll('/', '_')}.json`, { certFile: ca.cert, keyFile: ca.key, trustFile: f })] },
  { name: 'run: a signer\'s ca.pkcs11.pinFile', kind: 'pkcs11Pin', args: (f) => ['run', '--config', config(`pin-${f.replaceAll('/', '_')}.json`, {
    certFile: ca.cert, key: 'pkcs11:token=ca;object=cakey', pkcs11: { module: '/usr/lib/softhsm/libsofthsm2.so', pinFile: f },
  })] },
  { name: 'run --kubeconfig', kind: 'kubeconfig', args: (f) => ['run', '--config', goodConfig, '--leader-elect=false', '--http-address', '127.0.0.1:0', '--kubeconfig', f] },
  { name: 'rotation status --kubeconfig', kind: 'kubeconfig', args: (f) => ['rotation', 'status', '--config', goodConfig, '--kubeconfig', f] },
  { name: 'devapi --policy', kind: 'policy', args: (f) => ['devapi', '--state-dir', join(dir, 'devapi'), '--policy', f] },
];

const limitText = (kind: FileKind): string => {
  const bytes = fileLimits[kind].bytes;
  return `${bytes % 1_048_576 === 0 ? `${bytes / 1_048_576} MiB` : `${bytes / 1024} KiB`} (${bytes} bytes)`;
};

function refused(t: Test, r: Outcome, file: string, kind: FileKind, label: string): void {
  t.equal(r.code, 2, `${label}: exit 2`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  t.equal(lines.length, 1, `${label}: one line on stderr`);
  t.match(lines[0], `${file}: the ${fileLimits[kind].what} is larger than ${limitText(kind)}`, `${label}: names the file and the limit`);
  t.match(lines[0], /\[CSR_SIGNER_ERR_FILE_TOO_LARGE\]$/, `${label}: with its code`);
  t.notMatch(r.stderr, /\n\s+at /, `${label}: no stack trace`);
  t.ok(r.rss > 0 && r.rss < rssBound, `${label}: peak RSS ${Math.round(r.rss / 1_048_576)} MB is bounded`);
}

for (const input of inputs) {
  void t.test(`${input.name} reads at most ${limitText(input.kind)}`, (t) => {
    refused(t, csrSigner(input.args('/dev/zero')), '/dev/zero', input.kind, '/dev/zero');
    const over = fileOf(`over-${input.kind}`, fileLimits[input.kind].bytes + 1);
    refused(t, csrSigner(input.args(over)), over, input.kind, 'one byte over the limit');
    const at = fileOf(`at-${input.kind}`, fileLimits[input.kind].bytes);
    const exact = csrSigner(input.args(at));
    t.notMatch(exact.stderr, /FILE_TOO_LARGE/, 'a file exactly at the limit is read (and refused, if at all, for what it holds)');
    t.notMatch(exact.stderr, /\n\s+at /, 'exactly at the limit: no stack trace');
    if (input.fifo) {
      const fifo = endlessFifo(`fifo-${input.kind}`);
      try {
        refused(t, csrSigner(input.args(fifo.path)), fifo.path, input.kind, 'an endless FIFO');
      } finally {
        fifo.stop();
      }
    }
    t.end();
  });
}

void t.test('sign --csr - reads stdin within the request limit', (t) => {
  const from = (path: string): Outcome => {
    const fd = openSync(path, 'r');
    try {
      return csrSigner(['sign', '--ca-cert', ca.cert, '--ca-key', ca.key, '--csr', '-'], fd);
    } finally {
      closeSync(fd);
    }
  };
  refused(t, from('/dev/zero'), 'stdin', 'request', 'stdin from /dev/zero');
  refused(t, from(fileOf('stdin-over', fileLimits.request.bytes + 1)), 'stdin', 'request', 'stdin from a file one byte over');
  t.notMatch(from(fileOf('stdin-at', fileLimits.request.bytes)).stderr, /FILE_TOO_LARGE/, 'stdin exactly at the limit is read');
  const fifo = endlessFifo('fifo-stdin');
  try {
    refused(t, from(fifo.path), 'stdin', 'request', 'stdin from an endless FIFO');
  } finally {
    fifo.stop();
  }
  const signed = from(ca.csr);
  t.equal(signed.code, 0, `a request on stdin is still signed: ${signed.stderr}`);
  t.end();
});

void t.test('sign --csr - on a terminal says it wants a pipe instead of waiting', (t) => {
  if (!needTool(t, 'script')) return t.end();
  const command = [process.execPath, cli, 'sign', '--ca-cert', ca.cert, '--ca-key', ca.key, '--csr', '-'].map((a) => `'${a}'`).join(' ');
  // script(1) runs the command on a new pseudo-terminal: stdin is a terminal.
  const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  t.equal(r.status, 2, 'exit 2');
  t.match(r.stdout, /csr-signer: stdin is a terminal: give the request on a pipe or from a file \(… < FILE\) \[CSR_SIGNER_ERR_INVALID_ARGUMENT\]/);
  t.end();
});
