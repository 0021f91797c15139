/**
 * `csr-signer sign` as a user runs it: a real process, requests made by openssl
 * and cfssl, certificates checked by openssl.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { makeOpensslCa } from './helpers/ca.js';
import { needTool, opensslText, opensslVerify, run, tempDir, writeTemp, type RunResult } from './helpers/tools.js';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli.js');
const dir = tempDir();
/** The command from a clone, as the README says to run it. */
const wrapper = join(root, 'csr-signer');
/** No npx and no registry: an npm that tried either would fail here. */
const offline = { ...process.env, npm_config_offline: 'true', npm_config_cache: join(dir, 'no-npm-cache'), npm_config_registry: 'http://127.0.0.1:9/' };
const signer = (args: string[], input?: string): RunResult => run(process.execPath, [cli, ...args], input === undefined ? { cwd: root } : { cwd: root, input });

if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run "npm run build" (npm test does) before the tests');
if (!needTool(t, 'openssl')) process.exit(0);

const ca = makeOpensslCa(dir, 'cli-ca', 'p256');
function opensslRequest(name: string, keyArgs: string[], subject: string, sans?: string): string {
  const csr = join(dir, `${name}.csr`);
  const r = run('openssl', ['req', '-new', ...keyArgs, '-nodes', '-keyout', join(dir, `${name}.key`), '-subj', subject, ...(sans ? ['-addext', `subjectAltName=${sans}`] : []), '-out', csr]);
  if (r.code !== 0) throw new Error(r.stderr);
  return csr;
}
const ecRequest = opensslRequest('ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/CN=web.example.com/O=example', 'DNS:web.example.com,IP:192.0.2.10');

void t.test('./csr-signer --help works from the repository, as the README promises (no npx, no network)', (t) => {
  const r = run(wrapper, ['--help'], { cwd: root, env: offline });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /csr-signer sign --ca-cert FILE --ca-key FILE --csr FILE/);
  t.match(r.stdout, /From a clone: \.\/csr-signer COMMAND/, 'the help says how to run it from a clone');
  const sign = signer(['sign', '--help']);
  t.equal(sign.code, 0);
  t.match(sign.stdout, /--expiration-seconds N/);
  t.match(sign.stdout, /microsoft sgc/, 'the help lists the usage strings');
  t.end();
});

void t.test('./csr-signer runs the build from any directory and through a symlink, and says when there is no build', (t) => {
  const link = join(dir, 'linked-csr-signer');
  symlinkSync(wrapper, link);
  for (const command of [wrapper, link]) {
    const r = run(command, ['--version'], { cwd: dir, env: offline });
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout, `${(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version}\n`, `${command} --version`);
  }
  // A clone before "npm ci": the same script with no dist/ beside it.
  const clone = join(dir, 'unbuilt-clone');
  mkdirSync(clone);
  copyFileSync(wrapper, join(clone, 'csr-signer'));
  chmodSync(join(clone, 'csr-signer'), 0o755);
  const r = run(join(clone, 'csr-signer'), ['--help'], { cwd: clone, env: offline });
  t.equal(r.code, 1);
  t.equal(r.stdout, '');
  t.equal(r.stderr, `csr-signer: ${join(realpathSync(clone), 'dist', 'cli.js')} is missing: run "npm ci" (or "npm run build") in ${realpathSync(clone)} first\n`);
  t.end();
});

void t.test('signs an openssl request; openssl verifies the certificate and sees the requested profile', (t) => {
  const r = signer(['sign', '--ca-cert', ca.certPath, '--ca-key', ca.keyPath, '--csr', ecRequest, '--usages', 'digital signature, server auth', '--duration', '720h']);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, '', 'nothing on stderr');
  t.match(r.stdout, /^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/, 'one PEM certificate on stdout');
  t.equal(opensslVerify(dir, ca.certPem, r.stdout).code, 0, 'openssl -x509_strict verifies it');
  const text = opensslText(r.stdout);
  t.match(text, /Key Usage: critical\s+Digital Signature\n/);
  t.match(text, /TLS Web Server Authentication\n/);
  t.match(text, /DNS:web.example.com, IP Address:192.0.2.10/);
  const dates = run('openssl', ['x509', '-noout', '-startdate', '-enddate'], { input: r.stdout }).stdout;
  const [start, end] = [...dates.matchAll(/=(.*)\n/g)].map((m) => Date.parse(m[1] ?? ''));
  t.equal((end ?? 0) - (start ?? 0), 720 * 3_600_000, '--duration 720h gives a 720 h certificate');
  t.end();
});

void t.test('--expiration-seconds is honoured and clamped like spec.expirationSeconds', (t) => {
  const lifetime = (seconds: string): number => {
    const r = signer(['sign', '--ca-cert', ca.certPath, '--ca-key', ca.keyPath, '--csr', ecRequest, '--expiration-seconds', seconds, '--duration', '24h']);
    const dates = run('openssl', ['x509', '-noout', '-startdate', '-enddate'], { input: r.stdout }).stdout;
    const [start, end] = [...dates.matchAll(/=(.*)\n/g)].map((m) => Date.parse(m[1] ?? ''));
    return ((end ?? 0) - (start ?? 0)) / 60_000;
  };
  t.equal(lifetime('3600'), 65, '1 h is short-lived: 65 minutes');
  t.equal(lifetime('60'), 15, 'under 10 minutes is raised to 10 (plus the backdate)');
  t.equal(lifetime('172800'), 24 * 60, 'over --duration is capped');
  t.end();
});

void t.test('reads the request from stdin and accepts RSA, Ed25519 and DER requests', (t) => {
  const rsa = opensslRequest('rsa', ['-newkey', 'rsa:2048'], '/CN=rsa');
  const ed = opensslRequest('ed', ['-newkey', 'ed25519'], '/CN=ed');
  const der = join(dir, 'ec.der');
  run('openssl', ['req', '-in', ecRequest, '-outform', 'DER', '-out', der]);
  for (const [name, args, input] of [
    ['stdin', ['--csr', '-'], readFileSync(ecRequest, 'utf8')],
    ['RSA 2048', ['--csr', rsa], undefined],
    ['Ed25519', ['--csr', ed], undefined],
    ['DER', ['--csr', der], undefined],
  ] as const) {
    const r = signer(['sign', '--ca-cert', ca.certPath, '--ca-key', ca.keyPath, ...args], input);
    t.equal(r.code, 0, `${name}: ${r.stderr}`);
    t.equal(opensslVerify(dir, ca.certPem, r.stdout).code, 0, `${name}: openssl verifies`);
  }
  t.end();
});

void t.test('signs a request made by cfssl genkey, and cfssl reads the certificate', (t) => {
  if (!needTool(t, 'cfssl') || !needTool(t, 'cfssljson')) return t.end();
  const spec = writeTemp(dir, 'csr.json', JSON.stringify({ CN: 'cfssl.example.com', hosts: ['cfssl.example.com', '10.1.2.3'], key: { algo: 'ecdsa', size: 256 }, names: [{ O: 'cfssl' }] }));
  const genkey = run('cfssl', ['genkey', spec]);
  t.equal(genkey.code, 0, genkey.stderr);
  const csr = (JSON.parse(genkey.stdout) as { csr: string }).csr;
  const r = signer(['sign', '--ca-cert', ca.certPath, '--ca-key', ca.keyPath, '--csr', '-', '--usages', 'digital signature,key encipherment,server auth,client auth'], csr);
  t.equal(r.code, 0, r.stderr);
  t.equal(opensslVerify(dir, ca.certPem, r.stdout).code, 0, 'openssl verifies');
  const info = run('cfssl', ['certinfo', '-cert', '-'], { input: r.stdout });
  t.equal(info.code, 0, info.stderr);
  const parsed = JSON.parse(info.stdout) as { subject: { common_name: string }; sans: string[] };
  t.equal(parsed.subject.common_name, 'cfssl.example.com');
  t.same(parsed.sans.sort(), ['10.1.2.3', 'cfssl.example.com']);
  t.end();
});

void t.test('an encrypted CA key is read with --ca-key-passphrase-file', (t) => {
  const encrypted = join(dir, 'enc.pem');
  run('openssl', ['pkcs8', '-topk8', '-in', ca.keyPath, '-v2', 'aes-256-cbc', '-passout', 'pass:s3cret phrase', '-out', encrypted]);
  const passFile = writeTemp(dir, 'pass.txt', 's3cret phrase\n');
  const r = signer(['sign', '--ca-cert', ca.certPath, '--ca-key', encrypted, '--ca-key-passphrase-file', passFile, '--csr', ecRequest]);
  t.equal(r.code, 0, r.stderr);
  const wrong = signer(['sign', '--ca-cert', ca.certPath, '--ca-key', encrypted, '--ca-key-passphrase-file', writeTemp(dir, 'bad.txt', 'nope'), '--csr', ecRequest]);
  t.equal(wrong.code, 1);
  t.match(wrong.stderr, /enc\.pem: the private key cannot be decrypted with the given passphrase \[CSR_SIGNER_ERR_CA_KEY_PASSPHRASE\]/);
  t.end();
});

void t.test('errors go to stderr with a code and a non-zero exit; nothing reaches stdout', (t) => {
  const tampered = readFileSync(ecRequest, 'utf8').replace(/\n([A-Za-z0-9+/]{10})([A-Za-z0-9+/])/, (_m, a: string, b: string) => `\n${a}${b === 'A' ? 'B' : 'A'}`);
  const other = makeOpensslCa(dir, 'other', 'p256');
  const cases: [string, string[], string | undefined, number, RegExp][] = [
    ['no --csr', ['--ca-cert', ca.certPath, '--ca-key', ca.keyPath], undefined, 2, /--csr is required/],
    ['an unknown flag', ['--ca-cert', ca.certPath, '--bogus'], undefined, 2, /^csr-signer: unknown flag --bogus \(csr-signer sign --help lists the flags\) \[CSR_SIGNER_ERR_INVALID_ARGUMENT\]\n$/],
    ['a bad duration', ['--ca-cert', ca.certPath, '--ca-key', ca.keyPath, '--csr', ecRequest, '--duration', '1y'], undefined, 2, /invalid duration "1y"/],
    ['a fractional --expiration-seconds', ['--ca-cert', ca.certPath, '--ca-key', ca.keyPath, '--csr', ecRequest, '--expiration-seconds', '1.5'], undefined, 2, /whole number of seconds/],
    ['a missing file', ['--ca-cert', ca.certPath, '--ca-key', ca.keyPath, '--csr', join(dir, 'nope.csr')], undefined, 2, /cannot read .*nope\.csr: ENOENT/],
    ['a tampered request', ['--ca-cert', ca.certPath, '--ca-key', ca.keyPath, '--csr', '-'], tampered, 1, /\[CSR_SIGNER_ERR_(INVALID_SIGNATURE|REQUEST_DER|INVALID_SUBJECT|INVALID_PUBLIC_KEY)\]/],
    ['a certificate instead of a request', ['--ca-cert', ca.certPath, '--ca-key', ca.keyPath, '--csr', ca.certPath], undefined, 1, /found one CERTIFICATE block \[CSR_SIGNER_ERR_REQUEST_PEM\]/],
    ['an unknown usage', ['--ca-cert', ca.certPath, '--ca-key', ca.keyPath, '--csr', ecRequest, '--usages', 'server auth,teleport'], undefined, 1, /unrecognized usage values: \["teleport"\]/],
    ['a key that does not match the certificate', ['--ca-cert', ca.certPath, '--ca-key', other.keyPath, '--csr', ecRequest], undefined, 1, /other-key\.pem: the private key matches none of the 1 certificate in .*cli-ca\.pem \[CSR_SIGNER_ERR_CA_KEY_MISMATCH\]/],
    ['an unknown command', [], undefined, 2, /unknown command "frobnicate"/],
  ];
  for (const [name, args, input, code, message] of cases) {
    const r = name === 'an unknown command' ? signer(['frobnicate']) : signer(['sign', ...args], input);
    t.equal(r.code, code, `${name}: exit ${code}`);
    t.match(r.stderr, message, `${name}: says why`);
    t.equal(r.stdout, '', `${name}: nothing on stdout`);
    t.notMatch(r.stderr, /\n\s+at /, `${name}: no stack trace`);
  }
  t.end();
});

void t.test('the README quick start works on keys.example/', (t) => {
  const exampleCa = join(root, 'keys.example', 'ca.pem');
  const r = run(wrapper, ['sign', '--ca-cert', 'keys.example/ca.pem', '--ca-key', 'keys.example/ca-key.pem', '--csr', 'keys.example/example.csr'], { cwd: root, env: offline });
  t.equal(r.code, 0, r.stderr);
  t.equal(opensslVerify(dir, readFileSync(exampleCa, 'utf8'), r.stdout).code, 0, 'the example certificate verifies against the example CA');
  t.match(opensslText(r.stdout), /DNS:demo.example.com/);
  t.end();
});
