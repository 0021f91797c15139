/**
 * The certificate sink's check (check.ts): a certificate Go cannot parse, or whose
 * signature does not check against the CA recorded, fails it; so does a collection
 * that looks broken; a sound one passes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { signRequest, type SigningProfile } from '../../src/pki/index.js';
import { loadTestCa, makeOpensslCa } from '../helpers/ca.js';
import { buildRequest } from '../helpers/requests.js';
import { needTool, tempDir } from '../helpers/tools.js';
import { checkSink, formatReport, isTestProcess, passed } from './check.js';

if (!needTool(t, 'openssl') || !needTool(t, 'go')) process.exit(0);
t.setTimeout(300_000); // the first test process to need the oracle builds it

const dir = tempDir();
const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
const profile: SigningProfile = { usages: ['digital signature', 'client auth'], maxDurationMs: 3_600_000 };
const caFiles = makeOpensslCa(dir, 'sink-check', 'p256');
const ca = await loadTestCa(caFiles);
const otherCa = await loadTestCa(makeOpensslCa(dir, 'sink-check-other', 'p256'));
const commonName = 'sinkcheck';
const issue = async (): Promise<Uint8Array> =>
  (await signRequest(buildRequest({ commonName, dns: ['sink-check.example.com'] }), profile, ca, { now: new Date(), random })).der;
const good = await issue();

/** The certificate with its UTF8String common name turned into a PrintableString holding '_', which Go refuses. */
function underscoreInPrintableString(der: Uint8Array): Uint8Array {
  const bytes = Buffer.from(der);
  const at = bytes.indexOf(Buffer.concat([Buffer.of(0x0c, commonName.length), Buffer.from(commonName)]));
  if (at < 0) throw new Error('the common name is not in the certificate');
  bytes[at] = 0x13;
  bytes[at + 2] = '_'.charCodeAt(0);
  return bytes;
}

/** The certificate with the last byte of its signature changed: it still parses. */
function badSignature(der: Uint8Array): Uint8Array {
  const bytes = Buffer.from(der);
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x01;
  return bytes;
}

interface Line { readonly cert: Uint8Array | string; readonly issuer?: Uint8Array; readonly proc: string }
let sinks = 0;
function sink(lines: readonly Line[], extra = ''): string {
  const d = join(dir, `sink-${String(++sinks)}`);
  mkdirSync(d);
  const text = lines.map((l) => JSON.stringify({
    cert: typeof l.cert === 'string' ? l.cert : Buffer.from(l.cert).toString('base64'),
    issuer: Buffer.from(l.issuer ?? ca.certificate.der).toString('base64'),
    proc: l.proc,
  })).join('\n');
  writeFileSync(join(d, '100.jsonl'), `${text}\n${extra}`);
  return d;
}

const fromTest = 'test/pki/issue.test.ts';
const fromChild = 'dist/cli.js sign';
const both = { fromTests: 1, fromChildren: 1 };

void t.test('passes on sound certificates from both kinds of process, counting a certificate seen twice once', async (t) => {
  const second = await issue();
  const report = await checkSink(sink([{ cert: good, proc: fromTest }, { cert: good, proc: fromChild }, { cert: second, proc: fromChild }]), both);
  t.ok(passed(report), formatReport(report));
  t.match(report, { lines: 3, unique: 2, fromTests: 1, fromChildren: 2, rejected: [], problems: [], unverified: 0 });
});

const failures: [string, () => string, RegExp][] = [
  ['fails on a certificate Go cannot parse: a PrintableString holding an underscore',
    () => sink([{ cert: good, proc: fromTest }, { cert: underscoreInPrintableString(good), proc: fromChild }]), /x509\.ParseCertificate: .*PrintableString/i],
  ['fails on a certificate whose signature does not check against its CA',
    () => sink([{ cert: good, proc: fromTest }, { cert: badSignature(good), proc: fromChild }]), /CheckSignatureFrom\(issuer\): .*verification/],
  ['fails on a certificate recorded with a CA that did not sign it',
    () => sink([{ cert: good, proc: fromTest }, { cert: good, issuer: otherCa.certificate.der, proc: fromChild }]), /CheckSignatureFrom\(issuer\)/],
];
for (const [name, make, problem] of failures) {
  void t.test(name, async (t) => {
    const report = await checkSink(make(), both);
    t.notOk(passed(report));
    t.equal(report.rejected.length, 1);
    t.match(report.rejected[0], { procs: [fromChild], problem });
    const text = formatReport(report);
    t.match(text, `REJECTED, issued by ${fromChild}: `, 'the report names the process that issued it');
    t.match(text, /-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----/, 'and shows the certificate');
  });
}

const broken: [string, () => string, RegExp][] = [
  ['fails on an empty sink', () => sink([]), /0 certificates from test processes.*\n.*0 certificates from processes the tests started/],
  ['fails when no test process recorded a certificate', () => sink([{ cert: good, proc: fromChild }]), /0 certificates from test processes, fewer than the 1 expected/],
  ['fails when no started process recorded a certificate', () => sink([{ cert: good, proc: fromTest }]), /0 certificates from processes the tests started, fewer than the 1 expected/],
  ['fails on a line that is not JSON', () => sink([{ cert: good, proc: fromTest }, { cert: good, proc: fromChild }], '{"cert": "trunc'), /100\.jsonl line 3 is not JSON/],
  ['fails on a line without a certificate', () => sink([{ cert: good, proc: fromTest }, { cert: good, proc: fromChild }, { cert: '', proc: fromChild }]), /100\.jsonl line 3 lacks cert/],
];
for (const [name, make, problem] of broken) {
  void t.test(name, async (t) => {
    const report = await checkSink(make(), both);
    t.notOk(passed(report));
    t.same(report.rejected, []);
    t.match(report.problems.join('\n'), problem);
    t.match(formatReport(report), 'the collection looks broken');
  });
}

void t.test('bounds its report: at most the given number of rejected certificates, then a count', async (t) => {
  const bad = underscoreInPrintableString(good);
  const lines = [{ cert: good, proc: fromTest }, ...Array.from({ length: 4 }, (_v, i) => ({ cert: bad, proc: `dist/cli.js run-${String(i)}` }))];
  const report = await checkSink(sink(lines), both);
  t.equal(report.rejected.length, 1, 'one distinct certificate');
  t.same(report.rejected[0]?.procs.length, 4, 'seen in four processes');
  t.match(formatReport(report, 1), /issued by dist\/cli\.js run-0, dist\/cli\.js run-1, dist\/cli\.js run-2 and 1 more/);
  const many = await checkSink(sink([{ cert: good, proc: fromTest }, ...Array.from({ length: 3 }, () => ({ cert: badSignature(good), proc: fromChild })), { cert: bad, proc: fromChild }]), both, 1);
  t.equal(many.rejected.length, 2, 'two distinct bad certificates, checked one per oracle run');
  t.match(formatReport(many, 1), /\.\.\. and 1 more rejected$/);
});

const processes: [string, boolean][] = [
  ['test/pki/issue.test.ts', true],
  ['test/e2e/replicas.test.ts', true],
  ['dist/cli.js run', false],
  ['dist/cli.js sign', false],
  ['bench/run.js', false],
  ['test/helpers/e2e.ts', false],
];
void t.test('tells a test process from one a test started by the script it runs', (t) => {
  for (const [proc, test] of processes) t.equal(isTestProcess(proc), test, proc);
  t.end();
});
