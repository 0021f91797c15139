/**
 * CertificateSigningRequest objects for the signer's tests: a builder with
 * modifiers, after cert-manager's test/unit/gen. `csrBuilder(withSigner(x), approved())`.
 * The request inside is built by pkijs (helpers/requests.ts) and carried as the
 * API carries it: base64 of the PEM.
 */
import type { Csr, CsrCondition, SignerConfig } from '../../src/signer/types.js';
import { buildRequest, toPem, type RequestSpec } from './requests.js';

export type CsrModifier = (csr: Csr) => Csr;

const encodeRequest = (spec: RequestSpec): string => Buffer.from(toPem('CERTIFICATE REQUEST', buildRequest(spec))).toString('base64');

/** Requests are slow to build with RSA keys; tests reuse them by spec. */
const requestCache = new Map<string, string>();
function cachedRequest(spec: RequestSpec): string {
  const key = JSON.stringify(spec, (_k, v: unknown) => (v instanceof ArrayBuffer ? Buffer.from(v).toString('hex') : v));
  let encoded = requestCache.get(key);
  if (encoded === undefined) {
    encoded = encodeRequest(spec);
    requestCache.set(key, encoded);
  }
  return encoded;
}

export const defaultRequestSpec: RequestSpec = { commonName: 'web.example.com', dns: ['web.example.com'] };

/** An unapproved CSR for example.com/serving, usages for a TLS server, from user `alice`. */
export function csrBuilder(...modifiers: readonly CsrModifier[]): Csr {
  const base: Csr = {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name: 'csr-test', uid: '00000000-0000-0000-0000-000000000001', resourceVersion: '1' },
    spec: {
      request: cachedRequest(defaultRequestSpec),
      signerName: 'example.com/serving',
      usages: ['digital signature', 'key encipherment', 'server auth'],
      username: 'alice',
      groups: ['system:authenticated'],
    },
  };
  return modifiers.reduce((csr, modify) => modify(csr), base);
}

const spec = (change: Partial<Csr['spec']>): CsrModifier => (csr) => ({ ...csr, spec: { ...csr.spec, ...change } });
const condition = (c: CsrCondition): CsrModifier => (csr) =>
  ({ ...csr, status: { ...csr.status, conditions: [...(csr.status?.conditions ?? []), c] } });

export const withName = (name: string): CsrModifier => (csr) => ({ ...csr, metadata: { ...csr.metadata, name } });
export const withSigner = (signerName: string): CsrModifier => spec({ signerName });
export const withUsages = (...usages: string[]): CsrModifier => spec({ usages });
export const withoutUsages = (): CsrModifier => (csr) => {
  const rest = { ...csr.spec };
  delete rest.usages;
  return { ...csr, spec: rest };
};
export const withUsername = (username: string): CsrModifier => spec({ username });
export const withGroups = (...groups: string[]): CsrModifier => spec({ groups });
export const withExpirationSeconds = (expirationSeconds: number): CsrModifier => spec({ expirationSeconds });
/** The request built from `requestSpec` (pkijs, signed by a cached test key). */
export const withRequest = (requestSpec: RequestSpec): CsrModifier => spec({ request: cachedRequest(requestSpec) });
/** spec.request exactly as given (for malformed values). */
export const withRawRequest = (request: string): CsrModifier => spec({ request });

export const withCondition = condition;
export const approved = (): CsrModifier => condition({ type: 'Approved', status: 'True', reason: 'Test', message: 'approved by the test' });
export const denied = (): CsrModifier => condition({ type: 'Denied', status: 'True', reason: 'Test', message: 'denied by the test' });
export const failed = (status = 'True'): CsrModifier => condition({ type: 'Failed', status, reason: 'Test', message: 'failed in the test' });
export const withCertificate = (pem = '-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n'): CsrModifier => (csr) =>
  ({ ...csr, status: { ...csr.status, certificate: Buffer.from(pem).toString('base64') } });

const HOUR = 3_600_000;

/** A signer's configuration: `kubernetes.io/*` names get the in-tree shape, others a permissive policy. */
export function signerConfig(name: string, overrides: Partial<SignerConfig> = {}): SignerConfig {
  const custom = !name.startsWith('kubernetes.io/');
  return {
    name,
    source: 'test',
    ca: { certFile: '/dev/null/ca.pem', keyFile: '/dev/null/ca-key.pem' },
    defaultDurationMs: HOUR,
    maxDurationMs: HOUR,
    includeChain: false,
    ...(custom ? { policy: { allowEmailAddresses: false, allowUris: false, commonName: 'any', allowCA: false } } : {}),
    ...overrides,
  };
}

/** The smallest CSR object the loop's tests need (no request inside). */
export const bareCsr = (name: string, signerName = 'example.com/serving'): Csr => ({
  metadata: { name },
  spec: { request: '', signerName, usages: ['server auth'] },
});
