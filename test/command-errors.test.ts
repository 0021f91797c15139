/**
 * Every command says what is wrong with its command line in one sentence with a code
 * from the catalogue, exits 2, and prints no stack: a flag it does not know, and a port
 * another process holds. Real processes of the built CLI.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { cli, root } from './helpers/devapi.js';
import { run, tempDir, type RunResult } from './helpers/tools.js';

if (!existsSync(cli) || !existsSync(join(root, 'dist-dev'))) throw new Error('dist/ or dist-dev/ is missing: run "npm run build" (npm test does) before the tests');

const dir = tempDir('command-errors-');
const csrSigner = (args: readonly string[]): RunResult => run(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, TMPDIR: dir }, timeoutMs: 30_000 });

/** A kubeconfig the signer accepts; nothing listens at its server, and nothing is asked of it before the sidecar listens. */
const kubeconfig = join(dir, 'nowhere.kubeconfig');
writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:9", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: c, context: { cluster: c, user: u } }]
current-context: c
`, { mode: 0o600 });
const runFlags = ['--signer-name', 'example.com/serving', '--signer-unrestricted', '--cluster-signing-cert-file', 'test/fixtures/ca/ca-ec.pem', '--cluster-signing-key-file', 'test/fixtures/ca/ca-ec-key.pem', '--kubeconfig', kubeconfig, '--leader-elect=false'];

const oneSentence = (t: Test, r: RunResult, what: string, message: RegExp): void => {
  t.equal(r.code, 2, `${what}: exit 2\n${r.stderr}`);
  t.match(r.stderr, message, `${what}: says why`);
  t.match(r.stderr, /^csr-signer: [^\n]+ \[CSR_SIGNER_ERR_INVALID_ARGUMENT\]\n$/, `${what}: one line with its code`);
  t.notMatch(`${r.stdout}${r.stderr}`, /\n\s+at |node:internal|Node\.js v/, `${what}: no stack trace`);
};

void t.test('a flag a command does not know: one sentence that points at the command\'s --help', (t) => {
  const commands: [string, string[]][] = [
    ['run', ['run', '--bogus']],
    ['dev', ['dev', '--bogus']],
    ['devapi', ['devapi', '--bogus']],
    ['sign', ['sign', '--bogus']],
    ['rotation', ['rotation', 'status', '--bogus']],
  ];
  for (const [name, args] of commands) {
    // rotation status takes the run flags, and says so.
    const help = name === 'rotation' ? 'run' : name;
    oneSentence(t, csrSigner(args), `${name} --bogus`, new RegExp(`^csr-signer: unknown flag --bogus \\(csr-signer ${help} --help lists the flags\\)`));
  }
  oneSentence(t, csrSigner(['dev', 'extra']), 'dev extra', /unexpected argument "extra": csr-signer dev takes only flags \(csr-signer dev --help\)/);
  oneSentence(t, csrSigner(['devapi', '--state-dir']), 'devapi --state-dir', /--state-dir needs a value \(csr-signer devapi --help\)/);
  t.end();
});

void t.test('a port another process holds: one sentence naming the address and the flag, and nothing left behind', async (t) => {
  const holder: Server = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.teardown(() => holder.close());
  const port = (holder.address() as AddressInfo).port;
  const inUse = (flag: string): RegExp =>
    new RegExp(`^csr-signer: cannot listen on 127\\.0\\.0\\.1:${port} \\(${flag}\\): the address is already in use \\(EADDRINUSE\\); stop what listens there or choose another port`);
  oneSentence(t, csrSigner(['run', ...runFlags, '--http-address', `127.0.0.1:${port}`]), 'run --http-address', inUse('--http-address'));
  oneSentence(t, csrSigner(['devapi', '--state-dir', join(dir, 'devapi'), '--port', String(port)]), 'devapi --port', inUse('--port'));
  oneSentence(t, csrSigner(['dev', '--port', String(port)]), 'dev --port', inUse('--port'));
  t.same(readdirSync(dir).filter((f) => f.startsWith('csr-signer-dev-')), [], 'dev removed the temporary folder it made');
  oneSentence(t, csrSigner(['dev', '--state-dir', join(dir, 'dev'), '--port', String(port)]), 'dev --state-dir --port', inUse('--port'));
  t.end();
});
