/**
 * PodCertificateRequest objects and pod-certificate signer configurations for unit tests:
 * builders with modifiers, as helpers/csr.ts does for CSRs. Keys are real: a stub request
 * built by pkijs (helpers/requests.ts) and read by pki's parseRequestDer, so a
 * PodCertificateKey here is what the PKI core makes of a kubelet's request.
 */
import { parseRequestDer, podCertificateKeyType, type PodCertificateKey } from '../../src/pki/index.js';
import type { PodCertificateConfig, PodCertificateRequest, SignerConfig } from '../../src/signer/types.js';
import { signerConfig } from './csr.js';
import { buildRequest, type RequestSpec, type TestKeyType } from './requests.js';

export type PcrModifier = (pcr: PodCertificateRequest) => PodCertificateRequest;

export const podSignerName = 'example.com/pods';

/** A pending PCR of pod shop/web-0 (ServiceAccount web) on node worker-1, for example.com/pods. */
export function pcrBuilder(...modifiers: readonly PcrModifier[]): PodCertificateRequest {
  const base: PodCertificateRequest = {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'PodCertificateRequest',
    metadata: { name: 'req-abc12', namespace: 'shop', uid: '11111111-1111-1111-1111-111111111111', resourceVersion: '7' },
    spec: {
      signerName: podSignerName,
      podName: 'web-0',
      podUID: '22222222-2222-2222-2222-222222222222',
      serviceAccountName: 'web',
      serviceAccountUID: '33333333-3333-3333-3333-333333333333',
      nodeName: 'worker-1',
      nodeUID: '44444444-4444-4444-4444-444444444444',
      maxExpirationSeconds: 86_400,
      stubPKCS10Request: 'MA==',
    },
  };
  return modifiers.reduce((pcr, modify) => modify(pcr), base);
}

const spec = (change: Partial<PodCertificateRequest['spec']>): PcrModifier => (pcr) => ({ ...pcr, spec: { ...pcr.spec, ...change } });
export const withPcrSpec = spec;
export const inNamespace = (namespace: string): PcrModifier => (pcr) => ({ ...pcr, metadata: { ...pcr.metadata, namespace } });
export const withServiceAccount = (serviceAccountName: string): PcrModifier => spec({ serviceAccountName });
export const withMaxExpirationSeconds = (seconds: number | undefined): PcrModifier => (pcr) => {
  const rest = { ...pcr.spec };
  delete rest.maxExpirationSeconds;
  return { ...pcr, spec: seconds === undefined ? rest : { ...rest, maxExpirationSeconds: seconds } };
};
export const withAnnotations = (annotations: Record<string, string>): PcrModifier => spec({ unverifiedUserAnnotations: annotations });
export const withPcrStatus = (status: NonNullable<PodCertificateRequest['status']>): PcrModifier => (pcr) => ({ ...pcr, status });

/** podCertificates as the configuration defaults it, for namespace shop, with overrides. */
export function podCertificateConfig(overrides: Partial<PodCertificateConfig> = {}): PodCertificateConfig {
  return {
    trustDomain: 'cluster.local',
    uris: ['spiffe://{trustDomain}/ns/{namespace}/sa/{serviceAccountName}'],
    dnsNames: [],
    usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'],
    maxLifetimeMs: 24 * 3_600_000,
    refresh: { from: 0.5, to: 0.7 },
    namespaces: { names: ['shop'] },
    keyTypes: ['RSA3072', 'RSA4096', 'ECDSAP256', 'ECDSAP384', 'ECDSAP521', 'ED25519'],
    nonEmptyStub: 'deny',
    podCheck: false,
    apiVersion: 'auto',
    ...overrides,
  };
}

/** Signer example.com/pods serving pod certificates only. */
export const podSigner = (overrides: Partial<PodCertificateConfig> = {}, signer: Partial<SignerConfig> = {}): SignerConfig =>
  signerConfig(podSignerName, { certificateSigningRequests: false, podCertificates: podCertificateConfig(overrides), ...signer });

const keyCache = new Map<string, PodCertificateKey>();

/**
 * A verified key of `type`: form `stub` read from a request built with `stub` (default: empty,
 * just the key), or form `proof-of-possession` (the legacy fields; no stub).
 */
export function podCertificateKey(type: TestKeyType, form: 'stub' | 'proof-of-possession' = 'stub', stub: Omit<RequestSpec, 'key'> = {}): PodCertificateKey {
  const cacheKey = JSON.stringify([type, form, stub]);
  let key = keyCache.get(cacheKey);
  if (key === undefined) {
    const request = parseRequestDer(new Uint8Array(buildRequest({ key: type, ...stub })));
    const keyType = podCertificateKeyType(request.publicKey.kind);
    key = form === 'stub'
      ? { publicKey: request.publicKey, keyType, form, stub: request }
      : { publicKey: request.publicKey, keyType, form };
    keyCache.set(cacheKey, key);
  }
  return key;
}
