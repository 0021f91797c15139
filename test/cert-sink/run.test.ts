/**
 * The certificate sink end to end (run.js): the preload reaches a csr-signer process the
 * command starts, and the check after the command passes or fails the run.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { certificateIssuedChannelName } from '../../src/pki/index.js';
import { makeOpensslCa } from '../helpers/ca.js';
import { buildRequest, toPem } from '../helpers/requests.js';
import { needTool, run, tempDir, writeTemp, type RunResult } from '../helpers/tools.js';

if (!needTool(t, 'openssl') || !needTool(t, 'go')) process.exit(0);
t.setTimeout(300_000);

const root = join(import.meta.dirname, '..', '..');
const dir = tempDir();
const ca = makeOpensslCa(dir, 'sink-run', 'p256');
const csr = writeTemp(dir, 'sink-run.csr', toPem('CERTIFICATE REQUEST', buildRequest({ commonName: 'sink-run', dns: ['sink-run.example.com'] })));
const sign = `${JSON.stringify(process.execPath)} dist/cli.js sign --ca-cert ${ca.certPath} --ca-key ${ca.keyPath} --csr ${csr} --usages 'digital signature,client auth' >/dev/null`;
/** Publishes, from a plain node process, a certificate Go refuses: DER that is one empty SEQUENCE. */
const plant = `${JSON.stringify(process.execPath)} -e "require('node:diagnostics_channel').channel('${certificateIssuedChannelName}').publish({ der: Uint8Array.of(0x30, 0), issuerDer: Uint8Array.of(0x30, 0) })"`;

const withSink = (minTests: number, minChildren: number, script: string): RunResult =>
  run(process.execPath, ['test/cert-sink/run.js', String(minTests), String(minChildren), '--', 'sh', '-c', script], { cwd: root, timeoutMs: 240_000 });

void t.test('passes when the started csr-signer process recorded its certificate and Go accepts it', (t) => {
  const r = withSink(0, 1, sign);
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.match(r.stdout, /cert-sink: 1 certificates issued \(0 in test processes, 1 in processes they started\), 1 distinct, 0 rejected/);
  t.end();
});

/** The run keeps a failed sink for a look; the test does not need it. */
function removeKept(r: RunResult): void {
  const kept = /kept in (\/\S+)/.exec(r.stderr)?.[1];
  if (kept !== undefined) rmSync(kept, { recursive: true, force: true });
}

void t.test('fails, naming the process and keeping the certificates, when Go rejects one or too few were collected', (t) => {
  const r = withSink(1, 1, `${sign} && ${plant}`);
  removeKept(r);
  t.equal(r.code, 1);
  t.match(r.stdout, /2 certificates issued \(0 in test processes, 2 in processes they started\), 2 distinct, 1 rejected/);
  t.match(r.stdout, /REJECTED, issued by \[eval\]: x509\.ParseCertificate: /);
  t.match(r.stdout, /the collection looks broken: 0 certificates from test processes, fewer than the 1 expected/);
  t.match(r.stderr, /cert-sink: the certificates are kept in \//);
  t.end();
});

void t.test('exits with the command\'s status when the command fails, and still checks', (t) => {
  const r = withSink(0, 0, 'exit 3');
  removeKept(r);
  t.equal(r.code, 3);
  t.match(r.stdout, /cert-sink: 0 certificates issued/);
  t.end();
});

void t.test('refuses a command line without minimums and a command', (t) => {
  for (const args of [[], ['1', '1'], ['1', '1', '--'], ['x', '1', '--', 'true'], ['1', '--', 'true']]) {
    const r = run(process.execPath, ['test/cert-sink/run.js', ...args], { cwd: root });
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, /^usage: /);
  }
  t.end();
});

void t.test('a partial tap run (tap given files or flags) checks every certificate but not the whole suite\'s minimums', (t) => {
  const env = { ...process.env, PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` };
  const partial = run(process.execPath, ['test/cert-sink/run.js', '5', '5', '--', 'tap', '--version'], { cwd: root, env, timeoutMs: 120_000 });
  removeKept(partial);
  t.equal(partial.code, 0, partial.stdout + partial.stderr);
  t.match(partial.stderr, /cert-sink: a partial tap run; the minimum counts are not checked/);
  const other = withSink(5, 5, 'true');
  removeKept(other);
  t.equal(other.code, 1, 'any other command keeps its minimums');
  t.end();
});
