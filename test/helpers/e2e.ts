/** Building blocks for end-to-end tests against devapi: requests by openssl, manifests, polling CSR state. */
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { kubectl, type DevapiProcess } from './devapi.js';
import { run } from './tools.js';
import type { Csr } from '../../src/signer/types.js';

export interface RequestOptions {
  readonly cn?: string;
  readonly o?: readonly string[];
  /** subjectAltName entries in openssl syntax: DNS:x, IP:y, email:z, URI:u. */
  readonly sans?: readonly string[];
  readonly extensions?: readonly string[];
  readonly key?: 'p256' | 'rsa2048';
}

/** A PEM request made by openssl, with a fresh key in `dir`. */
export function opensslRequest(dir: string, name: string, options: RequestOptions = {}): string {
  const subject = `/${[...(options.o ?? []).map((o) => `O=${o}`), ...(options.cn === undefined ? [] : [`CN=${options.cn}`])].join('/')}`;
  const keyArgs = options.key === 'rsa2048' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  const ext = [...(options.sans?.length ? [`subjectAltName=${options.sans.join(',')}`] : []), ...(options.extensions ?? [])];
  const r = run('openssl', ['req', '-new', ...keyArgs, '-nodes', '-keyout', join(dir, `${name}.key`), '-subj', subject === '/' ? '/' : subject,
    ...ext.flatMap((e) => ['-addext', e])]);
  if (r.code !== 0) throw new Error(`openssl req for ${name}: ${r.stderr}`);
  return r.stdout;
}

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
  const end = Date.now() + ms;
  for (;;) {
    const csrs = allCsrs(api);
    const open = names.filter((n) => !certificateOf(csrs.get(n)) && !failedOf(csrs.get(n)));
    if (open.length === 0) return csrs;
    if (Date.now() > end) throw new Error(`not settled after ${ms} ms: ${open.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** NotAfter − NotBefore of a PEM certificate, in seconds. */
export function lifetimeSeconds(pem: string): number {
  const cert = new X509Certificate(pem);
  return (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 1000;
}

/** devapi's control API, as admin. */
export async function control(api: DevapiProcess, method: string, path: string, body?: unknown): Promise<unknown> {
  const { readFileSync } = await import('node:fs');
  const { request } = await import('node:https');
  const kubeconfig = readFileSync(api.kubeconfig('admin'), 'utf8');
  const token = /token: (\S+)/.exec(kubeconfig)?.[1] ?? '';
  const ca = Buffer.from(/certificate-authority-data: (\S+)/.exec(kubeconfig)?.[1] ?? '', 'base64');
  return new Promise((resolve, reject) => {
    const req = request(`${api.url}${path}`, { method, ca, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => { text += d.toString(); });
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 300) return reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`));
        resolve(text === '' ? undefined : JSON.parse(text));
      });
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
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
