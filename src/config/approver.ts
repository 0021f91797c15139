/**
 * The approver's configuration: `approver:` of the config file, or --approve for every
 * signer that can be approved. Each signerName implies its profile; a custom signer is
 * approved by its own policy, which must say who gets what (no policy is not "allow
 * everything"). docs/configuration.md documents every field.
 */
import { isIPv4 } from 'node:net';
import type { ApprovalProfile, ApproverConfig, ApproverMode, ApproverSignerConfig, Policy, ResourceAttributes, SignerConfig } from '../signer/types.js';
import { Fields } from './fields.js';
import { impliedProfile as signerProfile } from '../signer/approval.js';
import { compileDnsRegex, dnsRegexProblem, matchesDnsRegex, nodePlaceholder } from '../signer/dns-regex.js';
import { cidrProblem, dnsPatternProblem, namespacePlaceholder } from './names.js';
import { signerNameIssue } from './signer-entry.js';

export const approverKeys = ['mode', 'signers'] as const;
export const approverSignerKeys = [
  'signerName', 'profile', 'extraDnsNames', 'extraDnsRegexes', 'extraIpRanges', 'maxSubjectAltNames', 'subjectAccessReview',
] as const;
export const accessKeys = ['verb', 'group', 'resource', 'subresource', 'name', 'namespace'] as const;
export const approverModes: readonly ApproverMode[] = ['enforce', 'audit'];
export const approvalProfiles: readonly ApprovalProfile[] = ['kubelet-client', 'kubelet-serving', 'policy'];
const servingOnlyKeys = ['extraDnsNames', 'extraDnsRegexes', 'extraIpRanges', 'maxSubjectAltNames'] as const;

/**
 * The built-in signers csr-signer never approves, and why. kube-controller-manager's
 * csrapproving approves only kubernetes.io/kube-apiserver-client-kubelet
 * (pkg/controller/certificates/approver/sarapprove.go, recognizers()).
 */
export const neverApproved: Readonly<Record<string, string>> = {
  'kubernetes.io/kube-apiserver-client': 'its certificates log in to the API server as whatever user and groups the request names, which no rule here can judge; kube-controller-manager never auto-approves it either',
  'kubernetes.io/legacy-unknown': 'its certificates have no defined use, so no rule can say what a requester is entitled to; kube-controller-manager never auto-approves it either',
};

/**
 * The profile a signerName implies (the approver's own rule, signer/approval.ts
 * `impliedProfile`, so what loads is what the approver decides by), or why it is never
 * approved.
 */
export function impliedProfile(signerName: string): { profile: ApprovalProfile } | { never: string } {
  const profile = signerProfile(signerName);
  if (profile !== undefined) return { profile };
  const never = Object.hasOwn(neverApproved, signerName) ? neverApproved[signerName] : undefined;
  return { never: never ?? 'Kubernetes reserves the kubernetes.io domain, and csr-signer has approval rules only for its kubelet signers' };
}

/**
 * A policy that binds who gets what by the requester's namespace alone: every DNS name
 * pattern holds {namespace}, and nothing else a requester could ask for is open (no IP,
 * email or URI names, no CA, a CN bound to those names or to the requester).
 */
export function bindsByNamespace(policy: Policy): boolean {
  const dnsNames = policy.dnsNames ?? [];
  return policy.unrestricted !== true && dnsNames.length > 0 && dnsNames.every((p) => p.split('.').includes(namespacePlaceholder))
    && policy.ipRanges?.length === 0 && !policy.allowEmailAddresses && !policy.allowUris && !policy.allowCA && policy.commonName !== 'any';
}

/** Why a custom signer cannot be approved by its policy with this entry, or undefined. */
export function policyApprovalProblem(signer: SignerConfig, index: number, access: ResourceAttributes | undefined): string | undefined {
  if (access !== undefined) return undefined;
  const which = `signers[${index}] (${JSON.stringify(signer.name)})`;
  if (signer.policy?.unrestricted === true) {
    return `${which} is unrestricted, so its policy does not say who gets which names and only a SubjectAccessReview can: give its approver: entry a subjectAccessReview`;
  }
  if (signer.policy === undefined || signer.policy.requesters !== undefined || bindsByNamespace(signer.policy)) return undefined;
  return `the policy of ${which} does not say who gets what, so every request within it would be approved: add policy.requesters to the signer, `
    + 'or a subjectAccessReview to its approver: entry, or bind names to the requester\'s namespace (every policy.dnsNames pattern with {namespace}, '
    + 'ipRanges: [], no email or URI names, no CA, commonName other than any)';
}

function readAccess(fields: Fields, value: unknown, path: string): ResourceAttributes | undefined {
  if (value === undefined) return undefined;
  const m = fields.mapping(value, path, accessKeys);
  for (const key of ['verb', 'resource'] as const) {
    if (m[key] === undefined) throw fields.fail(`${path}.${key}`, 'is required');
  }
  const optional = (key: 'subresource' | 'name' | 'namespace'): Partial<Record<typeof key, string>> => {
    const text = fields.optionalString(m[key], `${path}.${key}`);
    return text === undefined ? {} : { [key]: text };
  };
  // group "" is the core API group: written, or left out.
  const group = m.group === undefined || m.group === '' ? '' : fields.string(m.group, `${path}.group`);
  return {
    verb: fields.string(m.verb, `${path}.verb`), group, resource: fields.string(m.resource, `${path}.resource`),
    ...optional('subresource'), ...optional('name'), ...optional('namespace'),
  };
}

/** The longest extraDnsRegexes expression accepted: a bound for the reader; the compiler bounds the automaton. */
export const maxRegexLength = 256;

/**
 * Why an extraDnsRegexes expression is refused, or undefined: longer than
 * maxRegexLength, or not one the approver can run (signer/dns-regex.ts
 * `dnsRegexProblem`, which compiles `{node}` as the longest node name, so what loads
 * compiles for every node).
 */
export function extraDnsRegexProblem(source: string): string | undefined {
  if (source.length > maxRegexLength) return `is ${source.length} characters long; at most ${maxRegexLength} are allowed`;
  return dnsRegexProblem(source);
}

/**
 * Host names of many shapes and domains (short and long labels, digits and '-', two to
 * seven labels, an IDN, country, generic and internal top-level domains): an expression
 * that matches all of them matches names in any domain, which would let every node
 * claim every name. Single-label names are left out, so `^.+\..+$` is refused too.
 */
export const anyHostProbes = ['zz.example', '1-2.x.y', '9.z', 'q.com', 'a-b.co.uk', 'xn--80ak6aa92e.com', 'a.b.c.d.e.f.g', 'host.internal', 'x.photography'] as const;

/** Why an extraDnsRegexes expression is refused (extraDnsRegexProblem), or because it matches any host name. */
export function servingDnsRegexProblem(source: string): string | undefined {
  const problem = extraDnsRegexProblem(source);
  if (problem !== undefined) return problem;
  const re = compileDnsRegex(source);
  if (anyHostProbes.every((name) => matchesDnsRegex(re, name))) {
    return `DNS name expression ${JSON.stringify(source)} matches host names in any domain, so every node could get a serving certificate for every name: anchor it to a domain of yours, as in ${JSON.stringify(String.raw`^ip-[0-9-]+\.ec2\.internal$`)}`;
  }
  return undefined;
}

/**
 * Why an extraDnsNames pattern is refused (names.ts dnsPatternProblem), or because a
 * wildcard without {node} has a single label after `*.` (as `*.com`): every node could
 * claim the names of every domain under that top-level domain.
 */
export function servingDnsPatternProblem(pattern: string): string | undefined {
  const problem = dnsPatternProblem(pattern, 'node');
  if (problem !== undefined) return problem;
  const labels = pattern.split('.');
  if (labels[0] === '*' && labels.length < 3 && !pattern.includes(nodePlaceholder)) {
    return `'${pattern}' covers names of every domain under ${JSON.stringify(labels[1])} for any node: name a domain of yours after '*.', as in '*.nodes.example.com'`;
  }
  return undefined;
}

/**
 * The widest extraIpRanges prefix of each family: IPv4 /8, as 10.0.0.0/8, the largest
 * private range (RFC 1918); IPv6 /8, as fd00::/8, the locally assigned unique local
 * addresses (RFC 4193). A wider range reaches into address space others hold, and
 * every node could claim its addresses.
 */
export const widestIpRange = { v4: 8, v6: 8 } as const;

/** Why an extraIpRanges CIDR is refused (names.ts cidrProblem), or because it is wider than widestIpRange. */
export function servingIpRangeProblem(cidr: string): string | undefined {
  const problem = cidrProblem(cidr);
  if (problem !== undefined) return problem;
  const [address = '', prefixText = ''] = cidr.split('/');
  const prefix = Number(prefixText);
  const v4 = isIPv4(address);
  const widest = v4 ? widestIpRange.v4 : widestIpRange.v6;
  if (prefix === 0) return `holds every ${v4 ? 'IPv4' : 'IPv6'} address, so every node could get a serving certificate for any address: list your nodes' networks`;
  if (prefix < widest) {
    return `is wider than /${widest} (the widest ${v4 ? 'private range, 10.0.0.0/8' : 'unique local range, fd00::/8'}), so every node could get serving certificates for addresses of networks not yours: list narrower ranges`;
  }
  return undefined;
}

/** Reads `approver.signers[index]`; `names` holds the signerNames before it; `signers` the signers of the file. */
function readEntry(file: string, index: number, value: unknown, names: readonly string[], signers: readonly SignerConfig[]): ApproverSignerConfig {
  const path = `approver.signers[${index}]`;
  const unnamed = new Fields(`${file}: ${path} (no signerName yet)`);
  const entry = unnamed.mapping(value, path);
  if (entry.signerName === undefined) throw unnamed.fail(`${path}.signerName`, 'is required: the signerName whose CSRs are approved');
  const signerName = unnamed.string(entry.signerName, `${path}.signerName`);
  const issue = signerNameIssue(signerName);
  if (issue !== undefined) throw unnamed.fail(`${path}.signerName`, issue);
  const fields = new Fields(`${file}: approver for ${JSON.stringify(signerName)}`);
  fields.mapping(entry, path, approverSignerKeys);
  const earlier = names.indexOf(signerName);
  if (earlier >= 0) throw fields.fail(`${path}.signerName`, `approver.signers[${earlier}] names the same signer; each signer may appear once`);
  const implied = impliedProfile(signerName);
  if ('never' in implied) throw fields.fail(`${path}.signerName`, `${signerName} is never auto-approved: ${implied.never}`);
  const { profile } = implied;
  if (entry.profile !== undefined) {
    const given = fields.oneOf(entry.profile, `${path}.profile`, approvalProfiles, profile);
    if (given !== profile) throw fields.fail(`${path}.profile`, `${signerName} is approved by the ${profile} profile, not ${given}; the signerName decides it (leave profile out)`);
  }
  for (const key of servingOnlyKeys) {
    if (profile !== 'kubelet-serving' && entry[key] !== undefined) throw fields.fail(`${path}.${key}`, `only for kubernetes.io/kubelet-serving; ${signerName} is approved by the ${profile} profile`);
  }
  if (profile !== 'policy' && entry.subjectAccessReview !== undefined) {
    throw fields.fail(`${path}.subjectAccessReview`, `only for a custom signer (profile policy); the ${profile} profile asks its own SubjectAccessReviews`);
  }
  const extraDnsNames = fields.strings(entry.extraDnsNames, `${path}.extraDnsNames`, { allowEmpty: true, check: servingDnsPatternProblem });
  const extraDnsRegexes = fields.strings(entry.extraDnsRegexes, `${path}.extraDnsRegexes`, { allowEmpty: true, check: servingDnsRegexProblem });
  const extraIpRanges = fields.strings(entry.extraIpRanges, `${path}.extraIpRanges`, { allowEmpty: true, check: servingIpRangeProblem });
  const maxSubjectAltNames = fields.positiveInteger(entry.maxSubjectAltNames, `${path}.maxSubjectAltNames`);
  const subjectAccessReview = readAccess(fields, entry.subjectAccessReview, `${path}.subjectAccessReview`);
  if (profile === 'policy') {
    const at = signers.findIndex((s) => s.name === signerName);
    const signer = signers[at];
    if (signer === undefined) {
      throw fields.fail(`${path}.signerName`, `${signerName} is not in signers:, and a custom signer is approved by its policy there: add the signer (with signing: false, without its ca), or remove this entry`);
    }
    if (signer.certificateSigningRequests === false) {
      throw fields.fail(`${path}.signerName`, `signers[${at}] serves no CertificateSigningRequests (certificateSigningRequests: false), so there is nothing to approve for it: remove this entry`);
    }
    const problem = policyApprovalProblem(signer, at, subjectAccessReview);
    if (problem !== undefined) throw fields.fail(path, problem);
  }
  return {
    signerName, profile,
    ...(extraDnsNames === undefined ? {} : { extraDnsNames }),
    ...(extraDnsRegexes === undefined ? {} : { extraDnsRegexes }),
    ...(extraIpRanges === undefined ? {} : { extraIpRanges }),
    ...(maxSubjectAltNames === undefined ? {} : { maxSubjectAltNames }),
    ...(subjectAccessReview === undefined ? {} : { subjectAccessReview }),
  };
}

/** Reads `approver:` of the config file; `signers` are the file's signers. */
export function readApprover(file: string, value: unknown, signers: readonly SignerConfig[]): ApproverConfig {
  const fields = new Fields(file);
  const m = fields.mapping(value, 'approver', approverKeys);
  const mode = fields.oneOf(m.mode, 'approver.mode', approverModes, 'enforce');
  if (m.signers === undefined) throw fields.fail('approver.signers', 'is required: the signers whose CSRs are approved, at least one');
  const items = fields.list(m.signers, 'approver.signers');
  if (items.length === 0) throw fields.fail('approver.signers', 'must list at least one signer (leave approver out to turn the approver off)');
  const entries: ApproverSignerConfig[] = [];
  for (const [index, item] of items.entries()) entries.push(readEntry(file, index, item, entries.map((e) => e.signerName), signers));
  return { mode, signers: entries };
}

/**
 * What --approve approves when nothing names the signers: each signer that has a
 * profile, with no options; `leftOut` the never-approved ones, for the start-up log.
 * A custom signer needs a policy that says who gets what (policyApprovalProblem).
 */
export function approvableSigners(signerNames: readonly string[]): { entries: ApproverSignerConfig[]; leftOut: { signerName: string; reason: string }[] } {
  const entries: ApproverSignerConfig[] = [];
  const leftOut: { signerName: string; reason: string }[] = [];
  for (const signerName of signerNames) {
    const implied = impliedProfile(signerName);
    if ('never' in implied) leftOut.push({ signerName, reason: implied.never });
    else entries.push({ signerName, profile: implied.profile });
  }
  return { entries, leftOut };
}
