/**
 * The in-tree signers' validation rules (kubernetes/kubernetes
 * pkg/controller/certificates/signer/signer.go and pkg/apis/certificates/helpers.go), in their order and with their
 * exact messages. Usages are compared as sets. The ML-DSA rule is absent: the
 * PKI core accepts no ML-DSA keys, so it can never apply.
 */
import type { CertificateRequest } from '../pki/index.js';
import type { BuiltinSignerName } from './types.js';

type Rule = (request: CertificateRequest, usages: readonly string[]) => string | undefined;

const sameSet = (usages: readonly string[], expected: readonly string[]): boolean => {
  const have = new Set(usages);
  return have.size === expected.length && expected.every((u) => have.has(u));
};

const nodesOrganization: Rule = (r) => {
  const o = r.subject.organizations;
  return o.length === 1 && o[0] === 'system:nodes' ? undefined : 'subject organization is not system:nodes';
};
const nodeCommonName: Rule = (r) =>
  (r.subject.commonName ?? '').startsWith('system:node:') ? undefined : 'subject common name does not begin with system:node:';
const none = (kind: 'dnsNames' | 'emailAddresses' | 'ipAddresses' | 'uris', label: string): Rule => (r) =>
  r.subjectAltNames[kind].length === 0 ? undefined : `${label} subjectAltNames are not allowed`;
const usagesAre = (sets: readonly (readonly string[])[], message: string): Rule => (_r, usages) =>
  sets.some((s) => sameSet(usages, s)) ? undefined : message;

const clientUsages = ['client auth', 'digital signature', 'key encipherment'];

const kubeApiserverClient: readonly Rule[] = [
  (_r, usages) => {
    const other = usages.find((u) => !clientUsages.includes(u));
    return other === undefined ? undefined : `invalid usage for client certificate: ${other}`;
  },
  (_r, usages) => (usages.includes('client auth') ? undefined : 'missing required usage for client certificate: client auth'),
];

const kubeletClient: readonly Rule[] = [
  nodesOrganization,
  none('dnsNames', 'DNS'),
  none('emailAddresses', 'Email'),
  none('ipAddresses', 'IP'),
  none('uris', 'URI'),
  nodeCommonName,
  usagesAre([['digital signature', 'key encipherment', 'client auth'], ['digital signature', 'client auth']],
    'usages did not match [client auth digital signature key encipherment]'),
];

const kubeletServing: readonly Rule[] = [
  nodesOrganization,
  (r) => (r.subjectAltNames.dnsNames.length + r.subjectAltNames.ipAddresses.length > 0 ? undefined : 'DNS or IP subjectAltName is required'),
  none('emailAddresses', 'Email'),
  none('uris', 'URI'),
  usagesAre([['digital signature', 'key encipherment', 'server auth'], ['digital signature', 'server auth']],
    'usages did not match [digital signature key encipherment server auth]'),
  // After the usages, unlike the client signer: the order decides which message a request gets.
  nodeCommonName,
];

const rules: Record<BuiltinSignerName, readonly Rule[]> = {
  'kubernetes.io/kube-apiserver-client': kubeApiserverClient,
  'kubernetes.io/kube-apiserver-client-kubelet': kubeletClient,
  'kubernetes.io/kubelet-serving': kubeletServing,
  'kubernetes.io/legacy-unknown': [],
};

/** The first in-tree rule the request breaks, as the in-tree message; undefined when it breaks none. */
export function validateBuiltin(signerName: BuiltinSignerName, request: CertificateRequest, usages: readonly string[]): string | undefined {
  for (const rule of rules[signerName]) {
    const message = rule(request, usages);
    if (message !== undefined) return message;
  }
  return undefined;
}
