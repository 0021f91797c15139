/**
 * `csr-signer rotation status` as a process, without a cluster (--rotation-record=""):
 * its phases from the CA files alone, both output forms, and its refusals. With a
 * cluster and the record it is driven by test/e2e/rotation.test.ts.
 */
import { join } from 'node:path';
import t from 'tap';
import { makeOpensslCa } from './helpers/ca.js';
import { needTool, run, tempDir, writeTemp, type RunResult } from './helpers/tools.js';
import { pause } from './helpers/wait.js';

if (!needTool(t, 'openssl')) process.exit(0);

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli.js');
const dir = tempDir('rotation-cli-');
const old = makeOpensslCa(dir, 'old', 'p256');
await pause(1100, 'the next CA must be newer, and notBefore has one-second resolution');
const next = makeOpensslCa(dir, 'next', 'p256');

const status = (certFile: string, keyFile: string, ...extra: string[]): RunResult => run(process.execPath, [cli, 'rotation', 'status', ...extra,
  '--cluster-signing-cert-file', certFile, '--cluster-signing-key-file', keyFile, '--signer-name', 'example.com/serving', '--signer-unrestricted', '--rotation-record=']);

interface Json { signers: { signer: string; phase: string; cas: { role: string; subject: string; retireAfter?: string }[]; advice: string[] }[]; note?: string }
const json = (r: RunResult): Json => JSON.parse(r.stdout) as Json;

void t.test('one CA: steady, in text and JSON, with a note that no record is read', (t) => {
  const text = status(old.certPath, old.keyPath);
  t.equal(text.code, 0, text.stderr);
  t.match(text.stdout, /^signer example\.com\/serving: phase steady\n {2}signing {2}CN=old test CA,O=csr-signer tests\n {11}sha256 [0-9a-f]{64}\n/);
  t.match(text.stdout, /note: no rotation record \(--rotation-record ""\): previous CAs are kept until their own expiry\n$/);
  const parsed = json(status(old.certPath, old.keyPath, '--output', 'json'));
  t.same(parsed.signers.map((s) => [s.signer, s.phase, s.cas.length]), [['example.com/serving', 'steady', 1]]);
  t.end();
});

void t.test('prepare: a newer CA in the bundle that has signed nothing is the next one', (t) => {
  const bundle = writeTemp(dir, 'old-then-next.pem', old.certPem + next.certPem);
  const parsed = json(status(bundle, old.keyPath, '-o', 'json'));
  t.equal(parsed.signers[0]?.phase, 'prepare');
  t.same(parsed.signers[0]?.cas.map((c) => c.role), ['signing', 'next']);
  t.match(parsed.signers[0]?.advice[0], /CN=next test CA.*is trusted but does not sign/);
  t.end();
});

void t.test('switch: without a record, the previous CA is kept until its own expiry', (t) => {
  const bundle = writeTemp(dir, 'next-then-old.pem', next.certPem + old.certPem);
  const parsed = json(status(bundle, next.keyPath, '--output=json'));
  const previous = parsed.signers[0]?.cas.find((c) => c.role === 'previous');
  t.equal(parsed.signers[0]?.phase, 'switch');
  t.equal(previous?.subject, 'CN=old test CA,O=csr-signer tests');
  t.ok(previous?.retireAfter && Date.parse(previous.retireAfter) > Date.now() + 3000 * 86_400_000, 'its retirement is its own NotAfter, years away');
  t.match(parsed.signers[0]?.advice[0], /has no issuance record: keep it in the bundle until its own expiry/);
  t.end();
});

void t.test('refusals are command-line errors (exit 2) that say what is wrong', (t) => {
  const cases: [string, string[], RegExp][] = [
    ['a subcommand other than status', [cli, 'rotation', 'start'], /csr-signer rotation takes "status", not "start"/],
    ['an unknown output form', [cli, 'rotation', 'status', '--output', 'yaml', '--cluster-signing-cert-file', old.certPath, '--cluster-signing-key-file', old.keyPath], /--output must be text or json, not "yaml"/],
    ['no signers', [cli, 'rotation', 'status', '--rotation-record='], /./],
  ];
  for (const [name, args, message] of cases) {
    const r = run(process.execPath, args);
    t.equal(r.code, 2, `${name}: exit 2`);
    t.match(r.stderr, message, name);
  }
  const help = run(process.execPath, [cli, 'rotation', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /^Usage: csr-signer rotation status/);
  t.end();
});
