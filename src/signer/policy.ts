/**
 * A custom signer's policy, checked against a parsed request and the CSR's spec.
 * The approver may be a rubber stamp; this is the last line. Each rule returns
 * undefined or one sentence naming the field and the offending value; the first
 * rule broken wins, in the order of `rules` below.
 */
import { countSubjectAltNames, type CertificateRequest } from '../pki/index.js';
import { ipInRanges } from './cidr.js';
import { matchesAnyDnsPattern, serviceAccountNamespace } from './dns-pattern.js';
import type { Csr, Policy } from './types.js';

interface Subject {
  readonly policy: Policy;
  readonly request: CertificateRequest;
  readonly spec: Csr['spec'];
  readonly signer: string;
}

type Rule = (s: Subject) => string | undefined;

const quote = (value: string): string => JSON.stringify(value);
const list = (values: readonly string[]): string => (values.length === 0 ? 'none' : values.join(', '));

const requester: Rule = ({ policy, spec, signer }) => {
  const allowed = policy.requesters;
  if (allowed === undefined || (allowed.usernames === undefined && allowed.groups === undefined)) return undefined;
  const username = spec.username ?? '';
  if (allowed.usernames?.includes(username) === true) return undefined;
  if ((spec.groups ?? []).some((g) => allowed.groups?.includes(g) === true)) return undefined;
  return `requester ${quote(username)} is not allowed by signer ${signer} (allowed usernames: ${list(allowed.usernames ?? [])}; groups: ${list(allowed.groups ?? [])})`;
};

const certificateAuthority: Rule = ({ policy, request, signer }) =>
  request.requestsCa && !policy.allowCA
    ? `basicConstraints CA:TRUE is not allowed by signer ${signer} (allowCA is false)`
    : undefined;

const subjectAltNameCount: Rule = ({ policy, request, signer }) => {
  const count = countSubjectAltNames(request.subjectAltNames);
  const max = policy.maxSubjectAltNames;
  return max !== undefined && count > max
    ? `the request has ${count} subjectAltNames, more than signer ${signer} allows (maxSubjectAltNames: ${max})`
    : undefined;
};

const dnsNames: Rule = ({ policy, request, spec, signer }) => {
  const patterns = policy.dnsNames;
  if (patterns === undefined) return undefined;
  const namespace = serviceAccountNamespace(spec.username);
  const bad = request.subjectAltNames.dnsNames.find((n) => !matchesAnyDnsPattern(n, patterns, namespace));
  return bad === undefined ? undefined : `subjectAltName DNS ${quote(bad)} is not allowed by signer ${signer} (allowed: ${list(patterns)})`;
};

const ipAddresses: Rule = ({ policy, request, signer }) => {
  const ranges = policy.ipRanges;
  if (ranges === undefined) return undefined;
  const bad = request.subjectAltNames.ipAddresses.find((ip) => !ipInRanges(ip, ranges));
  return bad === undefined ? undefined : `subjectAltName IP ${quote(bad)} is not allowed by signer ${signer} (allowed: ${list(ranges)})`;
};

const emailAddresses: Rule = ({ policy, request, signer }) => {
  const [bad] = request.subjectAltNames.emailAddresses;
  return policy.allowEmailAddresses || bad === undefined
    ? undefined
    : `subjectAltName email ${quote(bad)} is not allowed by signer ${signer} (allowEmailAddresses is false)`;
};

const uris: Rule = ({ policy, request, signer }) => {
  const [bad] = request.subjectAltNames.uris;
  return policy.allowUris || bad === undefined ? undefined : `subjectAltName URI ${quote(bad)} is not allowed by signer ${signer} (allowUris is false)`;
};

const commonName: Rule = ({ policy, request, spec, signer }) => {
  const cn = request.subject.commonName ?? '';
  const isDnsName = request.subjectAltNames.dnsNames.some((n) => n.toLowerCase() === cn.toLowerCase());
  switch (policy.commonName) {
    case 'any':
      return undefined;
    case 'dns-name':
      return cn === '' || isDnsName ? undefined
        : `subject commonName ${quote(cn)} is not one of the request's DNS subjectAltNames, which signer ${signer} requires when a commonName is present`;
    case 'required-dns-name':
      if (cn === '') return `subject commonName is empty, but signer ${signer} requires one of the request's DNS subjectAltNames`;
      return isDnsName ? undefined : `subject commonName ${quote(cn)} is not one of the request's DNS subjectAltNames, as signer ${signer} requires`;
    case 'requester':
      return cn === (spec.username ?? '') ? undefined
        : `subject commonName ${quote(cn)} is not the requester's username ${quote(spec.username ?? '')}, as signer ${signer} requires`;
  }
};

const organizations: Rule = ({ policy, request, signer }) => {
  const allowed = policy.organizations;
  if (allowed === undefined) return undefined;
  const bad = request.subject.organizations.find((o) => !allowed.includes(o));
  return bad === undefined ? undefined : `subject organization ${quote(bad)} is not allowed by signer ${signer} (allowed: ${list(allowed)})`;
};

/** Who asks first, then what kind of certificate, then the names in it. */
const rules: readonly Rule[] = [requester, certificateAuthority, subjectAltNameCount, dnsNames, ipAddresses, emailAddresses, uris, commonName, organizations];

/** The first policy rule the request breaks, as one sentence; undefined when it breaks none. */
export function checkPolicy(policy: Policy, request: CertificateRequest, spec: Csr['spec'], signer: string): string | undefined {
  const subject: Subject = { policy, request, spec, signer };
  for (const rule of rules) {
    const message = rule(subject);
    if (message !== undefined) return message;
  }
  return undefined;
}
