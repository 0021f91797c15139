/**
 * The extended hostile inputs (test/fixtures/hostile/README.md, "Built by the test")
 * through `csr-signer sign` as a real process: every refusal is a non-zero exit with
 * exactly one line on stderr naming the problem and no stack trace, nothing on stdout,
 * within a kill timeout and under a memory ceiling measured on the child (peak RSS).
 * A few legitimate inputs (CRLF, text after the END line) are in the same table and
 * must be signed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import t from 'tap';
import { inBatches, runNodeBounded, type BoundedOptions, type BoundedResult } from './helpers/bounded-run.js';
import { caFixtures, caRecipes, requestRecipes, writeHostileInputs } from './helpers/hostile-inputs.js';
import { tempDir } from './helpers/tools.js';

const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');
if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run "npm run build" (npm test does) before the tests');

/** Far above what `sign` needs (~130 MiB, most of it Node itself), far below what an unbounded read reaches. */
const CEILING_KIB = 256 * 1024;
/** Generous: a case that needs it has hung. The stalled-FIFO case waits the 10 s read timeout. */
const KILL_AFTER_MS = 20_000;

const dir = tempDir('cli-hostile-');
const input = writeHostileInputs(dir);
const file = (name: string): string => {
  const path = input[name];
  if (path === undefined) throw new Error(`no recipe makes ${name}`);
  return path;
};
const fixture = (name: string): string => join(caFixtures, name);
const edCa = ['--ca-cert', fixture('ca-ed25519.pem'), '--ca-key', fixture('ca-ed25519-key.pem')];
const ecEncrypted = ['--ca-cert', fixture('ca-ec.pem'), '--ca-key', fixture('ca-encrypted-key.pem')];
const csr = (name: string): string[] => [...edCa, '--csr', file(name)];
const withCert = (path: string): string[] => ['--ca-cert', path, '--ca-key', fixture('ca-ed25519-key.pem'), '--csr', file('good.der')];
const withKey = (path: string): string[] => ['--ca-cert', fixture('ca-ed25519.pem'), '--ca-key', path, '--csr', file('good.der')];

const fifoPath = join(dir, 'endless.fifo');
const stalledFifoPath = join(dir, 'stalled.fifo');
for (const path of [fifoPath, stalledFifoPath]) {
  const made = spawnSync('mkfifo', [path]);
  if (made.status !== 0) throw new Error(`mkfifo ${path}: ${String(made.stderr)}`);
}

type Expected =
  | { readonly issued: true }
  | { readonly code: 1 | 2; readonly says: RegExp };

interface Case {
  readonly name: string;
  readonly args: readonly string[];
  readonly stdin?: BoundedOptions['stdin'];
  /** A process writing to a FIFO for the length of the case. */
  readonly writer?: () => ChildProcess;
  readonly expect: Expected;
}

const issued: Expected = { issued: true };
const refused = (code: 1 | 2, says: RegExp): Expected => ({ code, says });
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The request's DER is refused with `detail` (a literal, or a pattern's source). */
const der = (detail: string | RegExp): Expected =>
  refused(1, new RegExp(`the request is not a valid PKCS#10 structure: ${typeof detail === 'string' ? escape(detail) : detail.source} \\[CSR_SIGNER_ERR_REQUEST_DER\\]`));
const pemFound = (found: string): Expected =>
  refused(1, new RegExp(`the request must be exactly one CERTIFICATE REQUEST PEM block, found ${escape(found)} \\[CSR_SIGNER_ERR_REQUEST_PEM\\]`));
const publicKey = (detail: string): Expected => refused(1, new RegExp(`the request's public key is invalid: ${escape(detail)} \\[CSR_SIGNER_ERR_INVALID_PUBLIC_KEY\\]`));
const tooLarge = (path: string, what: string): Expected =>
  refused(2, new RegExp(`^csr-signer: ${escape(path)}: the ${what} is larger than [^\\n]*\\[CSR_SIGNER_ERR_FILE_TOO_LARGE\\]`));
const caFile = (path: string, code: string, detail = ''): Expected => refused(1, new RegExp(`${escape(path)}: ${detail}.*\\[CSR_SIGNER_ERR_${code}\\]`));

/** An endless stream of zeros for stdin, produced as fast as the child reads. */
const endlessZeros = (): Readable => new Readable({ read() { this.push(Buffer.alloc(64 * 1024)); } });

const cases: Case[] = [
  // ---- legitimate: must be signed
  { name: 'the seeded good request is signed (the control)', args: csr('good.der'), expect: issued },
  { name: 'a PEM request with CRLF line endings is signed', args: csr('good-crlf.pem'), expect: issued },
  { name: 'a CA certificate and key with CRLF line endings sign', args: ['--ca-cert', file('ca-crlf.pem'), '--ca-key', file('ca-key-crlf.pem'), '--csr', file('good-crlf.pem')], expect: issued },
  { name: 'a passphrase file ending in CRLF unlocks the encrypted key', args: [...ecEncrypted, '--ca-key-passphrase-file', file('passphrase-crlf.txt'), '--csr', file('good.der')], expect: issued },
  { name: 'a PEM request on stdin is signed', args: [...edCa, '--csr', '-'], stdin: Buffer.from(String(requestRecipes['good-crlf.pem']?.())), expect: issued },
  { name: 'text after the END line is ignored, as Go\'s pem.Decode and openssl ignore it', args: csr('good-then-text.pem'), expect: issued },
  { name: 'binary bytes after the END line are ignored the same way', args: csr('trailing-binary-after-pem.pem'), expect: issued },
  { name: 'a dangling second BEGIN line after the block is ignored the same way', args: csr('second-begin-after-pem.pem'), expect: issued },
  { name: 'a subject attribute type of 10,000 arcs (legal, Go parses it) is signed in bounded memory', args: csr('oid-10000-arcs.der'), expect: issued },
  { name: 'a subject of 4,000 RDNs under the size limit (Go parses it) is signed in bounded memory', args: csr('rdns-4000.der'), expect: issued },
  { name: '3,000 private extensions under the size limit are dropped and the request signed', args: csr('extensions-3000.der'), expect: issued },

  // ---- truncated DER
  { name: 'DER cut after 1 byte', args: csr('truncated-at-1.der'), expect: der('truncated at byte 0') },
  { name: 'DER cut after 2 bytes, inside the outer length', args: csr('truncated-at-2.der'), expect: der('truncated length at byte 0') },
  ...[5, 12, 40, 90, 150, 160, 209].map((cut): Case => ({
    name: `DER cut after ${cut} of 210 bytes`, args: csr(`truncated-at-${cut}.der`), expect: der(`element at byte 0 claims 207 bytes but only ${cut - 3} remain`),
  })),
  { name: 'DER cut after 120 bytes, inside a well-formed PEM block', args: csr('truncated-in-pem.pem'), expect: der('element at byte 0 claims 207 bytes but only 117 remain') },

  // ---- trailing garbage
  { name: '1 KiB of zeros after the DER', args: csr('trailing-zeros.der'), expect: der('CertificationRequest: 1024 trailing bytes after the end') },
  { name: 'a fourth element after the signature, inside the outer SEQUENCE', args: csr('fourth-element-in-outer-sequence.der'), expect: der('CertificationRequest is not a SEQUENCE of info, algorithm and signature') },

  // ---- deep nesting
  { name: '15,000 nested SEQUENCEs as the request', args: csr('nested-sequences-15000.der'), expect: der('CertificationRequest is not a SEQUENCE of info, algorithm and signature') },
  { name: '12,000 nested SEQUENCEs in a CERTIFICATE REQUEST block', args: csr('nested-sequences-15000.pem'), expect: der('CertificationRequest is not a SEQUENCE of info, algorithm and signature') },
  { name: '10,000 nested SETs as the extensionRequest value', args: csr('nested-sets-in-extension-request.der'), expect: der('extensionRequest must hold one Extensions value') },
  { name: '10,000 nested SEQUENCEs as the subjectAltName value', args: csr('nested-sequences-in-san.der'),
    expect: refused(1, /the request's subjectAltName is invalid: .*\[CSR_SIGNER_ERR_INVALID_SUBJECT_ALT_NAME\]/) },
  { name: '10,000 nested SEQUENCEs as a subject attribute value', args: csr('nested-sequences-in-subject.der'),
    expect: refused(1, /the request's subject is invalid: .*\[CSR_SIGNER_ERR_INVALID_SUBJECT\]/) },
  { name: '15,000 nested BER indefinite-length SEQUENCEs', args: csr('nested-indefinite-15000.der'), expect: der('indefinite length is not DER (byte 0)') },
  { name: 'an indefinite-length subject inside a signed request', args: csr('indefinite-subject.der'), expect: der('indefinite length is not DER (byte 8)') },

  // ---- huge counts and lengths
  { name: '100,000 subjectAltNames (a 750 KB PEM, under the file limit)', args: csr('sans-100000.pem'), expect: refused(1, /the request is 7\d{5} bytes, more than the limit of 65536 bytes \[CSR_SIGNER_ERR_REQUEST_TOO_LARGE\]/) },
  { name: 'one RDN 100,000 times (1.2 MB of DER), over both file and request limits', args: csr('rdns-100000.der'),
    expect: refused(2, /rdns-100000\.der: the request is larger than [^\n]*\[CSR_SIGNER_ERR_FILE_TOO_LARGE\]/) },
  { name: 'one extension 100,000 times (2 MB of DER), over both file and request limits', args: csr('extensions-100000.der'),
    expect: refused(2, /extensions-100000\.der: the request is larger than [^\n]*\[CSR_SIGNER_ERR_FILE_TOO_LARGE\]/) },
  { name: '100,000 request attributes (900 KB of DER, under the file limit)', args: csr('attributes-100000.der'),
    expect: refused(1, /the request is 9\d{5} bytes, more than the limit of 65536 bytes \[CSR_SIGNER_ERR_REQUEST_TOO_LARGE\]/) },
  { name: 'an OID arc of 20,000 base-128 digits', args: csr('oid-arc-20000-bytes.der'), expect: refused(1, /the request's subject is invalid: an OBJECT IDENTIFIER arc is larger than 2\^31-1.*\[CSR_SIGNER_ERR_INVALID_SUBJECT\]/) },
  { name: 'an outer length of 2^63', args: csr('length-2-pow-63.der'), expect: der('length of 8 bytes is too large (byte 0)') },
  { name: 'an outer length of 2^64-1, in PEM', args: csr('length-2-pow-64-minus-1.pem'), expect: der('length of 8 bytes is too large (byte 0)') },
  { name: 'a length of 126 length bytes', args: csr('length-of-length-126.der'), expect: der('length of 126 bytes is too large (byte 0)') },
  { name: 'a subject claiming 2^63 bytes inside a signed request', args: csr('inner-length-2-pow-63.der'), expect: der('length of 8 bytes is too large (byte 8)') },
  { name: 'a version INTEGER claiming 4 GiB', args: csr('integer-claims-4-gib.der'), expect: der('element at byte 6 claims 4294967280 bytes but only 142 remain') },
  { name: 'a version INTEGER of 20,000 bytes', args: csr('integer-20000-bytes.der'), expect: der('version must be 0 (v1)') },

  // ---- keys
  { name: 'a P-256 point at infinity', args: csr('ec-p256-point-at-infinity.der'), expect: publicKey('only uncompressed EC points are accepted') },
  { name: 'a compressed P-256 point (Go accepts only uncompressed ones)', args: csr('ec-p256-compressed.der'), expect: publicKey('only uncompressed EC points are accepted') },
  { name: 'a hybrid-form P-256 point', args: csr('ec-p256-hybrid.der'), expect: publicKey('only uncompressed EC points are accepted') },
  { name: 'a P-256 point one byte short', args: csr('ec-p256-point-64-bytes.der'), expect: publicKey('an P-256 point must be 65 bytes, found 64') },
  { name: 'a P-256 point whose x is the field prime', args: csr('ec-p256-x-not-below-p.der'), expect: publicKey('the ECDSA P-256 key is not a valid point or value') },
  { name: 'a P-384 point not on the curve', args: csr('ec-p384-point-not-on-curve.der'), expect: publicKey('the ECDSA P-384 key is not a valid point or value') },
  { name: 'a P-521 point not on the curve', args: csr('ec-p521-point-not-on-curve.der'), expect: publicKey('the ECDSA P-521 key is not a valid point or value') },
  { name: 'an RSA modulus of 15', args: csr('rsa-modulus-15.der'), expect: refused(1, /RSA 4-bit keys are not supported; .*\[CSR_SIGNER_ERR_UNSUPPORTED_KEY_TYPE\]/) },
  { name: 'an RSA 512-bit modulus', args: csr('rsa-512.der'), expect: refused(1, /RSA 512-bit keys are not supported; .*\[CSR_SIGNER_ERR_UNSUPPORTED_KEY_TYPE\]/) },
  // OpenSSL cannot compute with an even modulus, so the signature check is what fails.
  { name: 'an even 2048-bit RSA modulus', args: csr('rsa-even-modulus.der'), expect: refused(1, /the request's signature does not verify with its own public key.*\[CSR_SIGNER_ERR_INVALID_SIGNATURE\]/) },
  { name: 'an RSA exponent of 1', args: csr('rsa-exponent-1.der'), expect: publicKey('the RSA public exponent must be an odd number from 3 to 2^32-1') },
  { name: 'an even RSA exponent (65536)', args: csr('rsa-exponent-even.der'), expect: publicKey('the RSA public exponent must be an odd number from 3 to 2^32-1') },
  { name: 'an RSA exponent of 2^64+1', args: csr('rsa-exponent-2-pow-64-plus-1.der'), expect: publicKey('the RSA public exponent must be an odd number from 3 to 2^32-1') },
  { name: 'a negative RSA modulus', args: csr('rsa-negative-modulus.der'), expect: publicKey('the RSA modulus or exponent is negative') },
  { name: 'an Ed25519 key of 31 bytes', args: csr('ed25519-key-31-bytes.der'), expect: publicKey('an Ed25519 key must be 32 bytes, found 31') },
  { name: 'an Ed25519 key of 33 bytes', args: csr('ed25519-key-33-bytes.der'), expect: publicKey('an Ed25519 key must be 32 bytes, found 33') },
  { name: 'an Ed25519 key with NULL parameters', args: csr('ed25519-with-null-parameters.der'), expect: publicKey('Ed25519 keys take no parameters') },
  { name: 'a request for the CA\'s own key, signed with it', args: csr('request-for-ca-key.pem'), expect: refused(1, /the request's public key is the CA's own key \(.*\); a leaf must have a key of its own \[CSR_SIGNER_ERR_REQUEST_KEY_IS_CA_KEY\]/) },

  // ---- PEM, text and encodings
  { name: '4 KiB of random bytes as a PEM file', args: csr('binary-junk.pem'), expect: pemFound('no PEM block') },
  { name: '4 KiB of NUL bytes', args: csr('nul-bytes.pem'), expect: pemFound('no PEM block') },
  { name: 'a PUBLIC KEY block', args: csr('public-key-label.pem'), expect: pemFound('one PUBLIC KEY block') },
  { name: 'a lower-case "certificate request" label', args: csr('lowercase-label.pem'), expect: pemFound('one certificate request block') },
  { name: 'a label with a trailing space', args: csr('label-trailing-space.pem'), expect: pemFound('one CERTIFICATE REQUEST  block') },
  { name: 'a request followed by a certificate', args: csr('request-then-certificate.pem'), expect: pemFound('2 blocks (CERTIFICATE REQUEST, CERTIFICATE)') },
  { name: '100 requests in one file', args: csr('requests-100.pem'), expect: refused(1, /found 100 blocks \(CERTIFICATE REQUEST, [^\n]*\[CSR_SIGNER_ERR_REQUEST_PEM\]/) },
  { name: 'UTF-16BE text without a byte-order mark', args: csr('utf16be-no-bom.pem'), expect: pemFound('no PEM block') },
  { name: 'UTF-16LE text with a byte-order mark and CRLF', args: csr('utf16le-with-bom-crlf.pem'), expect: pemFound('no PEM block') },
  { name: '300 random bytes in a CERTIFICATE REQUEST block', args: csr('random-body.pem'), expect: der(/.+/) },
  { name: 'padding in the middle of the base64 body', args: csr('padding-inside-body.pem'), expect: pemFound('PEM block "CERTIFICATE REQUEST" is not valid base64') },
  { name: 'a certificate\'s DER in a CERTIFICATE REQUEST block', args: csr('body-is-a-certificate.pem'), expect: der('version must be 0 (v1)') },

  // ---- endless and empty streams
  { name: '--csr /dev/zero', args: [...edCa, '--csr', '/dev/zero'], expect: tooLarge('/dev/zero', 'request') },
  { name: '--csr /dev/urandom', args: [...edCa, '--csr', '/dev/urandom'], expect: tooLarge('/dev/urandom', 'request') },
  { name: '--csr - with /dev/zero as stdin', args: [...edCa, '--csr', '-'], stdin: { path: '/dev/zero' }, expect: tooLarge('stdin', 'request') },
  { name: '--csr - with an endless pipe as stdin', args: [...edCa, '--csr', '-'], stdin: endlessZeros, expect: tooLarge('stdin', 'request') },
  { name: '--csr FIFO whose writer never stops', args: [...edCa, '--csr', fifoPath], writer: () => spawn('sh', ['-c', `exec cat /dev/zero > '${fifoPath}'`], { stdio: 'ignore' }),
    expect: tooLarge(fifoPath, 'request') },
  { name: '--csr FIFO whose writer never writes nor closes', args: [...edCa, '--csr', stalledFifoPath], writer: () => spawn('sh', ['-c', `exec sleep 120 > '${stalledFifoPath}'`], { stdio: 'ignore' }),
    expect: refused(2, new RegExp(`^csr-signer: ${escape(stalledFifoPath)}: the request did not reach its end [^\\n]*\\[CSR_SIGNER_ERR_FILE_READ_TIMEOUT\\]`)) },
  { name: '--ca-cert /dev/zero', args: withCert('/dev/zero'), expect: tooLarge('/dev/zero', 'CA certificate file') },
  { name: '--ca-key /dev/zero', args: withKey('/dev/zero'), expect: tooLarge('/dev/zero', 'CA key file') },
  { name: '--ca-key-passphrase-file /dev/zero', args: [...ecEncrypted, '--ca-key-passphrase-file', '/dev/zero', '--csr', file('good.der')], expect: tooLarge('/dev/zero', 'passphrase file') },
  { name: '--csr /dev/null (empty)', args: [...edCa, '--csr', '/dev/null'], expect: pemFound('no PEM block') },
  { name: '--csr a directory', args: [...edCa, '--csr', dir], expect: refused(2, new RegExp(`cannot read ${escape(dir)}: EISDIR \\[CSR_SIGNER_ERR_INVALID_ARGUMENT\\]`)) },

  // ---- the CA files
  { name: 'a wrong passphrase', args: [...ecEncrypted, '--ca-key-passphrase-file', file('wrong-passphrase.txt'), '--csr', file('good.der')],
    expect: caFile(fixture('ca-encrypted-key.pem'), 'CA_KEY_PASSPHRASE', 'the private key cannot be decrypted with the given passphrase') },
  { name: 'an empty passphrase file', args: [...ecEncrypted, '--ca-key-passphrase-file', file('empty-passphrase.txt'), '--csr', file('good.der')],
    expect: caFile(fixture('ca-encrypted-key.pem'), 'CA_KEY_PASSPHRASE', 'the private key cannot be decrypted') },
  { name: 'an encrypted key and no passphrase', args: [...ecEncrypted, '--csr', file('good.der')],
    expect: caFile(fixture('ca-encrypted-key.pem'), 'CA_KEY_PASSPHRASE', 'the private key is encrypted and no passphrase was given') },
  { name: 'a leaf certificate as the CA', args: ['--ca-cert', fixture('leaf-not-ca.pem'), '--ca-key', fixture('leaf-not-ca-key.pem'), '--csr', file('good.der')],
    expect: caFile(fixture('leaf-not-ca.pem'), 'CA_NOT_CA', 'the certificate "CN=leaf.example.com" is not a CA') },
  { name: 'a CA without keyCertSign', args: ['--ca-cert', fixture('ca-no-cert-sign.pem'), '--ca-key', fixture('ca-no-cert-sign-key.pem'), '--csr', file('good.der')],
    expect: caFile(fixture('ca-no-cert-sign.pem'), 'CA_NO_CERT_SIGN', '.*has a keyUsage without keyCertSign') },
  { name: 'the key of another CA', args: withKey(fixture('ca-ec-key.pem')), expect: caFile(fixture('ca-ec-key.pem'), 'CA_KEY_MISMATCH', 'the private key matches none of the 1 certificate') },
  { name: 'an expired CA', args: ['--ca-cert', fixture('ca-expired.pem'), '--ca-key', fixture('ca-expired-key.pem'), '--csr', file('good.der')],
    expect: caFile(fixture('ca-expired.pem'), 'CA_EXPIRED', '.*expired at 2021-01-01') },
  { name: '4 KiB of random bytes as the CA certificate', args: withCert(file('ca-binary-junk.pem')), expect: caFile(file('ca-binary-junk.pem'), 'CA_CERTIFICATE', 'expected CERTIFICATE PEM blocks, found no PEM block') },
  { name: 'a request as the CA certificate', args: withCert(file('ca-request-label.pem')), expect: caFile(file('ca-request-label.pem'), 'CA_CERTIFICATE', 'expected CERTIFICATE PEM blocks, found one CERTIFICATE REQUEST block') },
  { name: 'a CA certificate cut to 200 bytes', args: withCert(file('ca-truncated.pem')), expect: caFile(file('ca-truncated.pem'), 'CA_CERTIFICATE', 'certificate 1 cannot be parsed') },
  { name: '12,000 nested SEQUENCEs as the CA certificate', args: withCert(file('ca-nested-sequences.pem')), expect: caFile(file('ca-nested-sequences.pem'), 'CA_CERTIFICATE', 'certificate 1 cannot be parsed') },
  { name: 'the CA certificate as UTF-16LE', args: withCert(file('ca-utf16le.pem')), expect: caFile(file('ca-utf16le.pem'), 'CA_CERTIFICATE', 'expected CERTIFICATE PEM blocks, found no PEM block') },
  { name: 'a CA certificate whose public key is not on its curve', args: ['--ca-cert', file('ca-point-not-on-curve.pem'), '--ca-key', fixture('ca-ec-key.pem'), '--csr', file('good.der')],
    expect: caFile(file('ca-point-not-on-curve.pem'), 'CA_CERTIFICATE', 'certificate 1 \\(.*\\) has a public key that cannot be decoded') },
  { name: 'a PUBLIC KEY block as the CA key', args: withKey(file('key-public-key-label.pem')), expect: caFile(file('key-public-key-label.pem'), 'CA_KEY', 'no private key can be read \\(found one PUBLIC KEY block\\)') },
  { name: 'an Ed25519 private key of 31 bytes', args: withKey(file('key-ed25519-31-bytes.pem')), expect: caFile(file('key-ed25519-31-bytes.pem'), 'CA_KEY', 'no private key can be read') },
  { name: '12,000 nested SEQUENCEs as the CA key', args: withKey(file('key-nested-sequences.pem')), expect: caFile(file('key-nested-sequences.pem'), 'CA_KEY', 'no private key can be read') },
  { name: 'a CA key cut to 30 bytes', args: withKey(file('key-truncated.pem')), expect: caFile(file('key-truncated.pem'), 'CA_KEY', 'no private key can be read') },
  { name: '4 KiB of random bytes as the CA key', args: withKey(file('key-binary-junk.pem')), expect: caFile(file('key-binary-junk.pem'), 'CA_KEY', 'no private key can be read') },
];

async function runCase(c: Case): Promise<BoundedResult> {
  const writer = c.writer?.();
  try {
    return await runNodeBounded([cli, 'sign', ...c.args], { timeoutMs: KILL_AFTER_MS, ceilingKiB: CEILING_KIB, ...(c.stdin === undefined ? {} : { stdin: c.stdin }) });
  } finally {
    writer?.kill('SIGKILL');
  }
}

// ~100 Node processes, two at a time: ~0.3 s of CPU each, so about half a minute on a quiet
// two-core machine, but several minutes when other suites share it; the per-case kill
// timeout above is what bounds a hung case, not this.
t.setTimeout(600_000);
void t.test('every hostile input ends with one line naming the problem, in bounded time and memory', async (t) => {
  const refusals = cases.filter((c) => !('issued' in c.expect));
  t.ok(refusals.length >= 80, `${refusals.length} hostile inputs refused, ${cases.length - refusals.length} legitimate ones signed`);
  t.equal(new Set(cases.map((c) => c.name)).size, cases.length, 'case names are unique');
  const unused = Object.keys({ ...requestRecipes, ...caRecipes }).filter((name) => !cases.some((c) => c.args.includes(input[name] ?? '')));
  t.same(unused, [], 'every recipe is used by a case');
  const results = await inBatches(cases.map((c) => () => runCase(c)), 2);
  cases.forEach((c, i) => {
    const r = results[i];
    if (r === undefined) return;
    const peak = `${(r.peakKiB / 1024).toFixed(0)} MiB peak, ${r.ms} ms`;
    t.equal(r.killed, undefined, `${c.name}: ends by itself (${peak})`);
    t.ok(r.peakKiB > 0 && r.peakKiB < CEILING_KIB, `${c.name}: ${peak}, under the ${CEILING_KIB / 1024} MiB ceiling`);
    t.notMatch(r.stderr, /^\s+at /m, `${c.name}: no stack trace`);
    if ('issued' in c.expect) {
      t.equal(r.code, 0, `${c.name}: exit 0 (${r.stderr.trim()})`);
      t.equal(r.stderr, '', `${c.name}: nothing on stderr`);
      t.match(r.stdout, /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n$/, `${c.name}: one certificate on stdout`);
      if (r.code === 0) t.ok(new X509Certificate(r.stdout).issuer.length > 0, `${c.name}: the certificate parses`);
      return;
    }
    t.equal(r.code, c.expect.code, `${c.name}: exit ${c.expect.code}`);
    t.equal(r.stdout, '', `${c.name}: nothing on stdout`);
    t.match(r.stderr, /^csr-signer: [^\n]+\n$/, `${c.name}: exactly one line on stderr`);
    t.match(r.stderr, c.expect.says, `${c.name}: says ${c.expect.says.source}`);
  });
});
