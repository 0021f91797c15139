/** Building blocks for end-to-end tests against devapi: manifests, CSR state, waiting for it. (Requests: helpers/requests.ts.) */
import { X509Certificate } from 'node:crypto';
import { kubectl, type DevapiProcess } from './devapi.js';
import { opensslRequest } from './requests.js';
import { until } from './wait.js';
import type { Csr } from '../../src/signer/types.js';

export interface CsrSpec {
  readonly name: string;
  readonly signerName: string;
  readonly usages: readonly string[];
  readonly request: string;
  readonly expirationSeconds?: number;
}

export const manifests = (specs: readonly CsrSpec[]): string => specs.map((s) => `apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: ${s.name}
spec:
  request: ${Buffer.from(s.request).toString('base64')}
  signerName: ${s.signerName}
  usages: ${JSON.stringify(s.usages)}
${s.expirationSeconds === undefined ? '' : `  expirationSeconds: ${s.expirationSeconds}\n`}`).join('---\n');

/** Every CSR, by name, as admin sees it. */
export function allCsrs(api: DevapiProcess): Map<string, Csr> {
  const r = kubectl(api, 'admin', ['get', 'csr', '-o', 'json']);
  if (r.code !== 0) throw new Error(r.stderr);
  return new Map((JSON.parse(r.stdout) as { items: Csr[] }).items.map((c) => [c.metadata.name, c]));
}

export const failedOf = (csr: Csr | undefined): { reason?: string; message?: string } | undefined =>
  csr?.status?.conditions?.find((c) => c.type === 'Failed');

export const certificateOf = (csr: Csr | undefined): string | undefined =>
  csr?.status?.certificate ? Buffer.from(csr.status.certificate, 'base64').toString('utf8') : undefined;

/** Polls until every named CSR has a certificate or a Failed condition. */
export async function waitSettled(api: DevapiProcess, names: readonly string[], ms = 30_000): Promise<Map<string, Csr>> {
  let open: readonly string[] = names;
  return until(() => {
    const csrs = allCsrs(api);
    open = names.filter((n) => !certificateOf(csrs.get(n)) && !failedOf(csrs.get(n)));
    return open.length === 0 ? csrs : undefined;
  }, { what: 'every CSR to have a certificate or a Failed condition', ms, intervalMs: 200, detail: () => `still open: ${open.join(', ')}` });
}

/** NotAfter − NotBefore of a PEM certificate, in seconds. */
export function lifetimeSeconds(pem: string): number {
  const cert = new X509Certificate(pem);
  return (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 1000;
}

/** `n` serving CSRs for example.com/serving named PREFIX-i, each with its own key and DNS name. */
export const servingSpecs = (dir: string, prefix: string, n: number): CsrSpec[] => Array.from({ length: n }, (_v, i) => ({
  name: `${prefix}-${i}`, signerName: 'example.com/serving', usages: ['digital signature', 'server auth'],
  request: opensslRequest(dir, `${prefix}-${i}`, { sans: [`DNS:${prefix}-${i}.example.com`] }),
}));

/** Creates the CSRs as admin and approves them as the approver, with the real kubectl. */
export function createAndApprove(api: DevapiProcess, batch: readonly CsrSpec[]): void {
  const created = kubectl(api, 'admin', ['create', '-f', '-'], manifests(batch));
  if (created.code !== 0) throw new Error(created.stderr);
  const approved = kubectl(api, 'approver', ['certificate', 'approve', ...batch.map((s) => s.name)]);
  if (approved.code !== 0) throw new Error(approved.stderr);
}
