/**
 * The differential test: every request of the seeded corpus (corpus.ts) goes
 * through our issuer — `signRequest`, what `csr-signer sign` runs, or the
 * signer's decision ladder for the other built-in signers — and through the
 * in-tree signer rebuilt on Go's crypto/x509 (the oracle's kcm-sign), with the
 * same CA, time and durations. Both must decide alike, and when both issue, Go
 * must read the two certificates alike field by field. A difference passes
 * only when docs/replacing-kcm.md lists it; every certificate we issue must
 * parse in Go and verify against its CA.
 */
import { createPrivateKey, createPublicKey, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { CsrSignerError, catalogue } from '../../src/errors.js';
import {
  decodePem, issueCertificate, loadCertificateAuthority, signRequest, type CertificateAuthority, parseRequest } from '../../src/pki/index.js';
import { decide } from '../../src/signer/decide.js';
import { approved, csrBuilder, signerConfig, withExpirationSeconds, withRawRequest, withSigner, withUsages } from '../helpers/csr.js';
import { goParse, kcmSign, type GoFields, type KcmSignOutput } from '../helpers/go-oracle.js';
import { buildRequest, toPem } from '../helpers/requests.js';
import { makeOpensslCa } from '../helpers/ca.js';
import { tempDir } from '../helpers/tools.js';
import { compareCertificates, type Difference } from './compare.js';
import { buildCorpus, corpusCas, legacyUnknown, type CorpusCa, type CorpusEntry } from './corpus.js';
import { readDocumented, type DocumentedRow } from './documented.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'ca');
const fixtureCas: Partial<Record<CorpusCa, string>> = { rsa: 'ca-rsa', p256: 'ca-ec', p384: 'ca-p384', ed25519: 'ca-ed25519' };

interface LoadedCa {
  readonly ca: CertificateAuthority;
  readonly certDer: Uint8Array;
  readonly keyPkcs8: Uint8Array;
  readonly keyPair: { readonly privateKey: ReturnType<typeof createPrivateKey>; readonly publicKey: ReturnType<typeof createPublicKey> };
}

/** The fixture CAs (test/fixtures/ca), and a P-521 CA made by openssl for this run (there is no fixture). */
async function loadCa(kind: CorpusCa): Promise<LoadedCa> {
  const fixture = fixtureCas[kind];
  const made = fixture === undefined ? makeOpensslCa(tempDir('csr-signer-differential-'), kind, 'p521') : undefined;
  const certPath = made?.certPath ?? join(fixtures, `${fixture ?? ''}.pem`);
  const keyPath = made?.keyPath ?? join(fixtures, `${fixture ?? ''}-key.pem`);
  const certPem = readFileSync(certPath);
  const keyPem = readFileSync(keyPath);
  // Loaded as of a day into its validity: the corpus signs at times relative to it.
  const loadedAt = new Date(Date.parse(new X509Certificate(certPem).validFrom) + 86_400_000);
  const ca = await loadCertificateAuthority({ certificate: { name: certPath, bytes: certPem }, key: { name: keyPath, bytes: keyPem } }, loadedAt);
  const [block] = decodePem(certPem.toString('latin1'));
  if (block === undefined) throw new Error(`${certPath} holds no PEM block`);
  const privateKey = createPrivateKey(keyPem);
  return {
    ca, certDer: block.der, keyPkcs8: privateKey.export({ type: 'pkcs8', format: 'der' }),
    keyPair: { privateKey, publicKey: createPublicKey(privateKey) },
  };
}

/** What our side did with an entry. */
type Ours =
  | { readonly issued: true; readonly der: Uint8Array }
  | { readonly issued: false; readonly code: string; readonly reason: string; readonly message: string };

/** The catalogue code of a decision's reason, for the reasons the ladder itself fails with (unique among them). */
const codeOfReason = (reason: string): string =>
  Object.values(catalogue).find((d) => d.reason === reason)?.code ?? `(reason ${reason})`;

function refusal(e: unknown): Ours {
  if (e instanceof CsrSignerError) return { issued: false, code: e.code, reason: e.reason, message: e.message };
  throw e;
}

function signingTime(entry: CorpusEntry, ca: CertificateAuthority): Date {
  const { now } = entry;
  if ('afterCaNotAfter' in now) return new Date(ca.certificate.notAfter.getTime() + now.afterCaNotAfter * 1000);
  return new Date(ca.certificate.notBefore.getTime() + now.afterCaNotBefore * 1000);
}

async function issueOurs(entry: CorpusEntry, pem: string, ca: CertificateAuthority, now: Date): Promise<Ours> {
  const random = (n: number): Uint8Array => randomBytes(n);
  const maxDurationMs = entry.clusterDurationSeconds * 1000;
  try {
    if (entry.signerName === legacyUnknown) {
      // What `csr-signer sign --duration … --usages … [--expiration-seconds …]` does (src/commands/sign.ts).
      const issued = await signRequest(pem, { usages: entry.usages, maxDurationMs }, ca, {
        now, random, threadpool: 'never', ...(entry.expirationSeconds === undefined ? {} : { expirationSeconds: entry.expirationSeconds }),
      });
      return { issued: true, der: issued.der };
    }
    const csr = csrBuilder(withSigner(entry.signerName), withUsages(...entry.usages), withRawRequest(Buffer.from(pem).toString('base64')), approved(),
      ...(entry.expirationSeconds === undefined ? [] : [withExpirationSeconds(entry.expirationSeconds)]));
    const decision = await decide(csr, signerConfig(entry.signerName, { maxDurationMs, defaultDurationMs: maxDurationMs }), parseRequest);
    if (decision.kind === 'skip') throw new Error(`${entry.id}: the ladder skipped an approved CSR (${decision.reason})`);
    if (decision.kind === 'fail') return { issued: false, code: codeOfReason(decision.reason), reason: decision.reason, message: decision.message };
    const issued = await issueCertificate({
      request: decision.request, profile: decision.profile, ca, now, random, threadpool: 'never',
      ...(decision.expirationSeconds === undefined ? {} : { expirationSeconds: decision.expirationSeconds }),
    });
    return { issued: true, der: issued.der };
  } catch (e) {
    return refusal(e);
  }
}

const documented = readDocumented();
const corpus = buildCorpus();
const cas = Object.fromEntries(await Promise.all(corpusCas.map(async (k) => [k, await loadCa(k)] as const))) as Record<CorpusCa, LoadedCa>;

interface Run {
  readonly entry: CorpusEntry;
  readonly pem: string;
  readonly now: Date;
  readonly ours: Ours;
}

const runs: Run[] = [];
for (const entry of corpus) {
  const loaded = cas[entry.ca];
  const { caKey, ...spec } = entry.request;
  const pem = toPem('CERTIFICATE REQUEST', buildRequest(caKey === true ? { ...spec, keyPair: loaded.keyPair } : spec));
  const now = signingTime(entry, loaded.ca);
  runs.push({ entry, pem, now, ours: await issueOurs(entry, pem, loaded.ca, now) });
}

const theirs: KcmSignOutput[] = await kcmSign(runs.map(({ entry, pem, now }) => ({
  id: entry.id, csr: pem, signerName: entry.signerName, usages: entry.usages, now,
  clusterSigningDurationSeconds: entry.clusterDurationSeconds,
  ...(entry.expirationSeconds === undefined ? {} : { expirationSeconds: entry.expirationSeconds }),
  caCert: cas[entry.ca].certDer, caKey: cas[entry.ca].keyPkcs8,
})), { timeoutMs: 120_000 });

const issuedByUs = runs.filter((r) => r.ours.issued);
const parsed = await goParse(issuedByUs.map((r) => ({ id: r.entry.id, cert: (r.ours as { der: Uint8Array }).der, issuer: cas[r.entry.ca].certDer })),
  { timeoutMs: 120_000 });
const goFieldsOfOurs = new Map<string, GoFields>();
for (const p of parsed) if (p.ok) goFieldsOfOurs.set(p.id, p.fields);

/** Documented keys the corpus showed, to find rows that no longer describe anything. */
const seenDifferences = new Set<string>();
const seenRefusals = new Set<string>();

void t.test('the corpus is large, and every entry has a unique name', (t) => {
  t.ok(corpus.length >= 300, `${corpus.length} entries`);
  t.equal(new Set(corpus.map((e) => e.id)).size, corpus.length);
  t.equal(theirs.length, corpus.length);
  t.end();
});

void t.test('Go parses every certificate we issue, and it verifies against its CA', (t) => {
  t.ok(issuedByUs.length > 200, `${issuedByUs.length} certificates issued`);
  for (const p of parsed) {
    if (!p.ok) {
      t.fail(`${p.id}: Go cannot parse our certificate: ${p.error}`);
      continue;
    }
    if (p.signature !== 'ok' || p.verify !== 'ok') t.fail(`${p.id}: signature ${p.signature ?? '?'}, verify ${p.verify ?? '?'}`);
  }
  t.equal(goFieldsOfOurs.size, issuedByUs.length, 'every certificate parsed');
  t.end();
});

/**
 * The refusal table's row for our refusal of an entry the in-tree signer signs (or
 * retries): the row the entry names, else the only row with our error code.
 */
function documentedRefusal(entry: CorpusEntry, ours: Extract<Ours, { issued: false }>): string | undefined {
  if (entry.refusal !== undefined) {
    const row = documented.refusals.get(entry.refusal);
    if (row === undefined) return `the corpus names refusal ${entry.refusal}, which docs/replacing-kcm.md does not list`;
    if (row.code !== ours.code) return `we refuse with ${ours.code} (${ours.message}), the refusal table says ${row.code} for ${row.key}`;
    seenRefusals.add(row.key);
    return undefined;
  }
  const rows = [...documented.refusals.values()].filter((r) => r.code === ours.code);
  if (rows.length === 1) {
    seenRefusals.add((rows[0] as DocumentedRow).key);
    return undefined;
  }
  return rows.length === 0
    ? `we refuse with ${ours.code} (${ours.reason}): ${ours.message} — not in the refusal table of docs/replacing-kcm.md`
    : `we refuse with ${ours.code} (${ours.message}); the refusal table's rows for that code (${rows.map((r) => r.key).join(', ')}) cover it only when the corpus entry names one`;
}

/** Whether our refusal agrees with the oracle's outcome; undefined when it does, else why not. */
function judgeRefusal(run: Run, ours: Extract<Ours, { issued: false }>, oracle: KcmSignOutput): string | undefined {
  switch (oracle.stage) {
    case 'create':
      return undefined; // the apiserver would not even store it
    case 'validation':
      return ours.reason === 'SignerValidationFailure' && ours.message === oracle.error
        ? undefined
        : `the in-tree signer fails it with "${oracle.error}", we with ${ours.code}: ${ours.message}`;
    case 'sign':
      // The same refusal (an expired CA: both retry with the same message), or one the docs list.
      if (ours.message === oracle.error && run.entry.refusal === undefined) return undefined;
      return documentedRefusal(run.entry, ours);
    case 'issued':
      return documentedRefusal(run.entry, ours);
  }
  return `unknown oracle stage in ${JSON.stringify(oracle)}`;
}

void t.test('we decide every request as the in-tree signer does, or as docs/replacing-kcm.md says', (t) => {
  runs.forEach((run, i) => {
    const oracle = theirs[i] as KcmSignOutput;
    const { entry, ours } = run;
    if (oracle.id !== entry.id) throw new Error(`oracle answered ${oracle.id} for ${entry.id}`);
    if (entry.expect === 'refused' && ours.issued) {
      t.fail(`${entry.id}: we issue a certificate for a request we must refuse (in-tree: ${oracle.stage}${oracle.stage === 'issued' ? '' : `, ${oracle.error}`})`);
      return;
    }
    if (ours.issued) {
      if (oracle.stage !== 'issued') t.fail(`${entry.id}: we issue; the in-tree signer stops at ${oracle.stage}: ${oracle.error}`);
      return;
    }
    const problem = judgeRefusal(run, ours, oracle);
    if (problem !== undefined) t.fail(`${entry.id}: ${problem}`);
  });
  t.pass('decisions compared');
  t.end();
});

void t.test('when both issue, Go reads both certificates alike, but for the documented differences', (t) => {
  let compared = 0;
  runs.forEach((run, i) => {
    const oracle = theirs[i] as KcmSignOutput;
    if (!run.ours.issued || oracle.stage !== 'issued') return;
    const ours = goFieldsOfOurs.get(run.entry.id);
    if (ours === undefined) return; // reported above
    compared++;
    const undocumented: Difference[] = [];
    for (const d of compareCertificates(ours, oracle.fields)) {
      if (documented.certificateDifferences.has(d.key)) seenDifferences.add(d.key);
      else undocumented.push(d);
    }
    for (const d of undocumented) t.fail(`${run.entry.id}: ${d.key}: ${d.detail}`);
  });
  t.ok(compared > 200, `${compared} pairs of certificates compared`);
  t.end();
});

void t.test('every documented difference is one the corpus shows', (t) => {
  for (const key of documented.certificateDifferences.keys()) t.ok(seenDifferences.has(key), `certificate difference ${key} is seen`);
  for (const row of documented.refusals.values()) t.ok(seenRefusals.has(row.key), `refusal ${row.key} is seen`);
  t.end();
});
