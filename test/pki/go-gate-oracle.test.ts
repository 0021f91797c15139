/**
 * The Go gate against Go itself (test/oracle/, Go's crypto/x509 as a child process), over
 * a seeded sample of generated requests: a request kube-apiserver would refuse at create
 * (x509.ParseCertificateRequest or the self-signature) the core refuses too, and every
 * certificate the core issues Go parses and verifies against the CA; and the in-tree
 * signers issue nothing kube-controller-manager's signer would not.
 */
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import t from 'tap';
import { isCsrSignerError } from '../../src/errors.js';
import { signRequest, type SigningProfile, parseRequest } from '../../src/pki/index.js';
import { loadTestCa, makeOpensslCa } from '../helpers/ca.js';
import { decide } from '../../src/signer/decide.js';
import { approved, csrBuilder, signerConfig, withRawRequest, withSigner, withUsages } from '../helpers/csr.js';
import { gateRequest } from '../helpers/go-gate-requests.js';
import { goParse, kcmSign } from '../helpers/go-oracle.js';
import { extensionRequest, rawExtension, rawRequest, uriSan } from '../helpers/der-build.js';
import { toPem } from '../helpers/requests.js';
import { needTool, tempDir } from '../helpers/tools.js';

if (!needTool(t, 'openssl') || !needTool(t, 'go')) process.exit(0);

const files = makeOpensslCa(tempDir(), 'oracle-gate', 'p256');
const ca = await loadTestCa(files);
const profile: SigningProfile = { usages: ['digital signature', 'client auth'], maxDurationMs: 3_600_000 };
const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
/**
 * URIs written out, beside the sample: url.Parse's forms that a random sample rarely hits
 * (a fragment after an opaque URI, escapes in each part, hosts Go's domain check refuses).
 * The gate's own table (go-gate.test.ts) checks the core against devapi's port of Go, which
 * shares the core's URI reader, so only real Go can catch a form both get wrong.
 */
const trickyUris = [
  'urn:a#%zz', 'mailto:x@y#%zz', 'a:b#%zz', 'urn:a#ok', 'urn:a%zz', 'https://a.b/x#%zz', 'https://a.b/x#%41', 'https://a..b/x',
  'https://a.b/%zz', 'https://a%zzb/', 'https://a%41b/', 'https://[::1]/x', 'https://[::1/x', 'https://a.b:80x/', 'https://u%zz@a.b/',
  'https://u@a.b/', '//a.b/x', '///x', 'x:', 'x:#', 'https://a.b/#', 'spiffe://td/ns/a/sa/b', 'https://a_b.c/', 'https://a.b./',
];
const requestKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const requests = [
  ...fc.sample(gateRequest, { numRuns: 300, seed: 20261207 }),
  ...trickyUris.map((uri) => rawRequest({ privateKey: requestKey, attributes: extensionRequest(rawExtension('2.5.29.17', uriSan(uri))) })),
];

void t.test('what Go refuses at create the core refuses; what the core issues Go parses and verifies', async (t) => {
  const now = new Date();
  const ours = await Promise.all(requests.map((der) => signRequest(der, profile, ca, { now, random, threadpool: 'never' }).then(
    (issued) => ({ cert: issued.der }),
    (e: unknown) => {
      if (isCsrSignerError(e) && e.permanent) return { refused: e.message };
      throw e;
    },
  )));
  const theirs = await kcmSign(requests.map((der, i) => ({
    id: String(i), csr: toPem('CERTIFICATE REQUEST', der), signerName: 'kubernetes.io/legacy-unknown', usages: profile.usages,
    clusterSigningDurationSeconds: 3600, now, caCert: files.certPem, caKey: files.keyPem,
  })), { timeoutMs: 120_000 });
  const issued = ours.flatMap((o, i) => ('cert' in o ? [{ id: String(i), cert: o.cert }] : []));
  const parsed = await goParse(issued.map((x) => ({ ...x, issuer: ca.certificate.der, at: now })), { timeoutMs: 120_000 });
  const createRefusedButIssued = theirs.filter((r, i) => r.stage === 'create' && 'cert' in (ours[i] ?? {}))
    .map((r) => `request ${r.id}: Go refuses it at create (${'error' in r ? r.error : ''}) and the core issued it`);
  const unreadable = parsed.filter((p) => !p.ok || p.verify !== 'ok')
    .map((p) => `certificate ${p.id}: ${p.ok ? `verify: ${p.verify ?? ''}` : p.error}`);
  t.same(createRefusedButIssued, [], 'no request the apiserver would refuse is issued');
  t.same(unreadable, [], 'Go parses and verifies every certificate the core issued');
  t.ok(issued.length > 30 && issued.length < requests.length - 30, `both sides are exercised: ${issued.length} of ${requests.length} issued`);

  // The in-tree signers never issue what the in-tree signer would not (it fails at create, or at signing and retries forever).
  const legacy = 'kubernetes.io/legacy-unknown';
  const decided = await Promise.all(requests.map((der) => decide(csrBuilder(withSigner(legacy), withRawRequest(Buffer.from(toPem('CERTIFICATE REQUEST', der)).toString('base64')),
    withUsages(...profile.usages), approved()), signerConfig(legacy), parseRequest)));
  const inTreeWouldNot = theirs.filter((r, i) => r.stage !== 'issued' && decided[i]?.kind === 'issue')
    .map((r) => `request ${r.id}: the in-tree signer stops at ${r.stage} (${'error' in r ? r.error : ''}) and ${legacy} would issue it`);
  t.same(inTreeWouldNot, [], `${legacy} issues nothing the in-tree signer would not`);
  t.ok(theirs.some((r) => r.stage === 'sign'), 'some requests reach the in-tree signer and fail there');
  t.end();
});
