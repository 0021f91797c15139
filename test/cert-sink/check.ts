/**
 * The certificate sink's check: every certificate a test run issued (recorded by
 * test/cert-sink/preload.js) is handed to Go's crypto/x509 with the CA that signed it.
 * A certificate Go cannot parse, or whose signature Go does not accept from that CA,
 * fails the run; so does a collection that looks broken (too few certificates from
 * the test processes or from the csr-signer processes the tests start).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { goParse, type GoParseItem, type RunOracleOptions } from '../helpers/go-oracle.js';

export interface SinkMinimums {
  /** Certificates issued inside tap's test processes (`*.test.ts`). */
  readonly fromTests: number;
  /** Certificates issued by the processes the tests start (`dist/cli.js ...`). */
  readonly fromChildren: number;
}

export interface Rejection {
  readonly procs: readonly string[];
  readonly problem: string;
  readonly pem: string;
}

export interface SinkReport {
  /** Lines read, one per certificate issued. */
  readonly lines: number;
  /** Distinct certificates handed to Go. */
  readonly unique: number;
  readonly fromTests: number;
  readonly fromChildren: number;
  /** Certificates Go rejected: cannot parse, or the signature does not check against the issuer. */
  readonly rejected: readonly Rejection[];
  /** Why the collection itself looks broken: unreadable lines, counts under the minimums. */
  readonly problems: readonly string[];
  /**
   * Certificates Go parsed and whose signature checks but whose chain to the issuer does not
   * verify, even at a time both are valid: reported, not failed (a test may mean to issue
   * what a client would refuse), with a few of Go's errors.
   */
  readonly unverified: number;
  readonly verifyErrors: readonly string[];
}

interface Entry {
  readonly cert: string;
  readonly issuer: string;
  readonly procs: Set<string>;
}

/** A test process runs a test file; anything else (dist/cli.js, bench/) is a process a test or script started. */
export const isTestProcess = (proc: string): boolean => /\.test\.[cm]?[jt]s$/.test(proc.split(' ')[0] ?? '');

const isBase64 = (s: unknown): s is string => typeof s === 'string' && s.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(s);

function readSink(dir: string, problems: string[]): { lines: number; entries: Map<string, Entry>; fromTests: number; fromChildren: number } {
  const entries = new Map<string, Entry>();
  let lines = 0;
  let fromTests = 0;
  let fromChildren = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort()) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const [i, line] of text.split('\n').entries()) {
      if (line === '') continue;
      let record: { cert?: unknown; issuer?: unknown; proc?: unknown };
      try {
        record = JSON.parse(line) as typeof record;
      } catch {
        problems.push(`${file} line ${String(i + 1)} is not JSON: ${line.slice(0, 80)}`);
        continue;
      }
      const { cert, issuer, proc } = record;
      if (!isBase64(cert) || !isBase64(issuer) || typeof proc !== 'string') {
        problems.push(`${file} line ${String(i + 1)} lacks cert, issuer (base64) or proc: ${line.slice(0, 80)}`);
        continue;
      }
      lines++;
      if (isTestProcess(proc)) fromTests++;
      else fromChildren++;
      const key = `${cert} ${issuer}`;
      const entry = entries.get(key) ?? { cert, issuer, procs: new Set<string>() };
      entry.procs.add(proc);
      entries.set(key, entry);
    }
  }
  return { lines, entries, fromTests, fromChildren };
}

const pemOf = (b64: string): string => `-----BEGIN CERTIFICATE-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;

/** Reads `dir` and asks Go about every distinct certificate in it, in batches of `batch` per oracle run. */
export async function checkSink(dir: string, minimums: SinkMinimums, batch = 2000): Promise<SinkReport> {
  const problems: string[] = [];
  const { lines, entries, fromTests, fromChildren } = readSink(dir, problems);
  if (fromTests < minimums.fromTests) problems.push(`${String(fromTests)} certificates from test processes, fewer than the ${String(minimums.fromTests)} expected: is the preload loaded into tap's test processes?`);
  if (fromChildren < minimums.fromChildren) problems.push(`${String(fromChildren)} certificates from processes the tests started, fewer than the ${String(minimums.fromChildren)} expected: do they inherit NODE_OPTIONS and CSR_SIGNER_CERT_SINK?`);
  const all = [...entries.values()];
  const rejected: Rejection[] = [];
  const unverified: { entry: Entry; notBefore: string }[] = [];
  const options = { timeoutMs: 120_000, maxOutputBytes: 512 * 1024 * 1024 };
  for (let start = 0; start < all.length; start += batch) {
    const chunk = all.slice(start, start + batch);
    const items: GoParseItem[] = chunk.map((e, i) => ({ id: String(i), cert: Buffer.from(e.cert, 'base64'), issuer: Buffer.from(e.issuer, 'base64') }));
    const answers = await goParse(items, options);
    for (const [i, answer] of answers.entries()) {
      const entry = chunk[i];
      if (entry === undefined || answer.id !== String(i)) throw new Error(`the Go oracle answered out of order at ${String(start + i)}`);
      if (!answer.ok) rejected.push({ procs: [...entry.procs].sort(), problem: `x509.ParseCertificate: ${answer.error}`, pem: pemOf(entry.cert) });
      else if (answer.signature !== 'ok') rejected.push({ procs: [...entry.procs].sort(), problem: `CheckSignatureFrom(issuer): ${answer.signature ?? '(no answer)'}`, pem: pemOf(entry.cert) });
      else if (answer.verify !== 'ok') unverified.push({ entry, notBefore: answer.fields.notBefore });
    }
  }
  const notVerified = await verifyAtCommonStart(unverified, options);
  return { lines, unique: all.length, fromTests, fromChildren, rejected, problems, unverified: notVerified.length, verifyErrors: notVerified.slice(0, 3) };
}

/**
 * Go verifies at the leaf's NotBefore + 1 s by default, which for a backdated leaf under a CA
 * made moments before is before the CA's own NotBefore. Verify those again at the later of
 * the two NotBefores; returns what still fails.
 */
async function verifyAtCommonStart(leaves: readonly { entry: Entry; notBefore: string }[], options: RunOracleOptions): Promise<string[]> {
  if (leaves.length === 0) return [];
  const issuers = [...new Set(leaves.map((l) => l.entry.issuer))];
  const issuerStart = new Map<string, number>();
  for (const [i, answer] of (await goParse(issuers.map((b64, i) => ({ id: String(i), cert: Buffer.from(b64, 'base64') })), options)).entries()) {
    if (answer.ok) issuerStart.set(issuers[i] ?? '', Date.parse(answer.fields.notBefore));
  }
  const items = leaves.map((l, i) => ({
    id: String(i), cert: Buffer.from(l.entry.cert, 'base64'), issuer: Buffer.from(l.entry.issuer, 'base64'),
    at: new Date(Math.max(Date.parse(l.notBefore), issuerStart.get(l.entry.issuer) ?? 0) + 1000),
  }));
  const answers = await goParse(items, options);
  return answers.flatMap((a, i) => (a.ok && a.verify === 'ok' ? [] : [`${[...(leaves[i]?.entry.procs ?? [])].join(', ')}: ${a.ok ? a.verify ?? '' : a.error}`]));
}

/** The report as text: counts, then each rejected certificate (at most `show`) with where it came from, Go's error and its PEM. */
export function formatReport(report: SinkReport, show = 10): string {
  const out = [
    `cert-sink: ${String(report.lines)} certificates issued (${String(report.fromTests)} in test processes, ${String(report.fromChildren)} in processes they started), ${String(report.unique)} distinct, ${String(report.rejected.length)} rejected by Go's crypto/x509, ${String(report.unverified)} parsed but not verified to their issuer`,
  ];
  for (const e of report.verifyErrors) out.push(`cert-sink: not verified (reported only): ${e}`);
  for (const p of report.problems) out.push(`cert-sink: the collection looks broken: ${p}`);
  for (const r of report.rejected.slice(0, show)) {
    out.push(`cert-sink: REJECTED, issued by ${r.procs.slice(0, 3).join(', ')}${r.procs.length > 3 ? ` and ${String(r.procs.length - 3)} more` : ''}: ${r.problem}`, r.pem.trimEnd());
  }
  if (report.rejected.length > show) out.push(`cert-sink: ... and ${String(report.rejected.length - show)} more rejected`);
  return out.join('\n');
}

export const passed = (report: SinkReport): boolean => report.rejected.length === 0 && report.problems.length === 0;
