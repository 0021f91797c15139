/**
 * `csr-signer run` with CA keys on SoftHSM2 tokens, against devapi: a SignerConfiguration
 * for one custom signer, and the checks every issued certificate goes through — openssl
 * and Go's crypto/x509 (the oracle) against the CA that should have signed it, and
 * devapi's audit of certificate writes (exactly one per CSR, never on a Failed one).
 */
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { stringify } from 'yaml';
import { control, type DevapiProcess } from './devapi.js';
import { allCsrs, certificateOf, failedOf } from './e2e.js';
import { goParse } from './go-oracle.js';
import type { SoftToken } from './softhsm.js';
import { opensslVerify } from './tools.js';
import type { Csr } from '../../src/signer/types.js';

export const SIGNER = 'example.com/serving';

/** Writes `signers.yaml` in `dir`: the one signer example.com/serving (unrestricted) with this `ca:` section. */
export function writeSignerConfig(dir: string, ca: Record<string, unknown>, name = 'signers.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, stringify({
    apiVersion: 'csr-signer.io/v1alpha1', kind: 'SignerConfiguration',
    signers: [{ name: SIGNER, ca, policy: { unrestricted: true } }],
  }));
  return file;
}

/** `ca.pkcs11` for a token: its module and PIN file. */
export const pkcs11Of = (token: SoftToken): { module: string; pinFile: string } => ({ module: token.module, pinFile: token.pinFile });

/** `run` flags for a config file, leader election off, the signer's least-privilege kubeconfig. */
export const configRunArgs = (api: DevapiProcess, config: string, ...extra: string[]): string[] => [
  '--config', config, '--kubeconfig', api.kubeconfig('signer'), '--leader-elect=false', '--leader-elect-resource-namespace', 'csr-signer', ...extra,
];

export interface Audit {
  readonly certificateWrites: readonly { csr: string; replaced: boolean; approved: boolean; failed: boolean; denied: boolean }[];
}

/** devapi's audit: how many certificate writes each CSR got (a write that replaced a certificate, or was on a CSR not approved or Failed or Denied, counts 1000). */
export async function certificateWrites(api: DevapiProcess): Promise<Map<string, number>> {
  const audit = await control(api, 'GET', '/devapi/v1/audit') as Audit;
  const writes = new Map<string, number>();
  for (const w of audit.certificateWrites) {
    const wrong = w.replaced || !w.approved || w.failed || w.denied;
    writes.set(w.csr, (writes.get(w.csr) ?? 0) + (wrong ? 1000 : 1));
  }
  return writes;
}

/** The CA PEM (of those given) whose signature `pem` verifies with, by openssl; undefined for none. */
export function issuerOf(dir: string, pem: string, cas: Readonly<Record<string, string>>): string | undefined {
  const by = Object.entries(cas).filter(([, ca]) => opensslVerify(dir, ca, pem).code === 0).map(([name]) => name);
  return by.length === 1 ? by[0] : undefined;
}

/**
 * Checks the named CSRs: each has a certificate and no Failed condition, got exactly one
 * certificate write in devapi's audit, and its certificate verifies with the CA `expected(name)`
 * names (of `cas`) — by openssl and by Go's crypto/x509 (signature and chain) — and with no other.
 * Returns the CA name of each.
 */
export async function checkIssued(
  t: Test, api: DevapiProcess, dir: string, names: readonly string[], cas: Readonly<Record<string, string>>, expected?: (name: string) => string | undefined,
): Promise<Map<string, string>> {
  const csrs: Map<string, Csr> = allCsrs(api);
  const writes = await certificateWrites(api);
  const by = new Map<string, string>();
  const items: { id: string; cert: Uint8Array; issuer: Uint8Array; at: Date }[] = [];
  for (const name of names) {
    const csr = csrs.get(name);
    t.notOk(failedOf(csr), `${name}: no Failed condition`);
    t.equal(writes.get(name), 1, `${name}: exactly one certificate write, on the approved CSR, replacing nothing`);
    const pem = certificateOf(csr) ?? '';
    const ca = issuerOf(dir, pem, cas);
    const want = expected?.(name);
    if (want === undefined) t.ok(ca, `${name}: verifies (openssl) with exactly one of ${Object.keys(cas).join(', ')}`);
    else t.equal(ca, want, `${name}: verifies (openssl) with the ${want} CA only`);
    if (ca === undefined) continue;
    by.set(name, ca);
    // Verified now: a leaf's NotBefore is backdated, and may lie before its (fresh) CA's.
    items.push({ id: name, cert: new X509Certificate(pem).raw, issuer: new X509Certificate(cas[ca] ?? '').raw, at: new Date() });
  }
  const parsed = await goParse(items, { timeoutMs: 120_000 });
  for (const answer of parsed) {
    t.match(answer, { ok: true, signature: 'ok', verify: 'ok' }, `${answer.id}: Go's crypto/x509 parses it and verifies it with the ${by.get(answer.id) ?? '?'} CA`);
  }
  t.equal(parsed.length, items.length, 'Go was asked about every certificate');
  return by;
}
