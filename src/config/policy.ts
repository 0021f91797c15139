/**
 * The `policy:` of a custom signer in the config file. A custom signer must bound the
 * names it signs: without `dnsNames` it would sign any DNS name an approver let
 * through, without `ipRanges` any IP address. So a policy needs both lists (an empty
 * one allows none of that kind), or says `unrestricted: true` (on the command line,
 * --signer-unrestricted); no policy at all is refused too. A bounded policy's CN is
 * bounded as well, by default: a TLS client checks the CN as a host name when the
 * certificate has no DNS subjectAltName (OpenSSL's X509_check_host, Node's
 * checkServerIdentity, Python's ssl), so `commonName: any` would let a request name
 * any host outside dnsNames. Left out, the rule is `dns-name` (the CN is empty or one
 * of the request's DNS names, which dnsNames bounds); `any`, written, is kept.
 */
import type { CommonNameRule, Policy } from '../signer/types.js';
import type { Fields } from './fields.js';
import { cidrProblem, dnsPatternProblem } from './names.js';

export const policyKeys = [
  'dnsNames', 'ipRanges', 'allowEmailAddresses', 'allowUris', 'maxSubjectAltNames',
  'commonName', 'organizations', 'requesters', 'allowCA', 'unrestricted',
] as const;
export const requesterKeys = ['usernames', 'groups'] as const;
export const commonNameRules: readonly CommonNameRule[] = ['any', 'dns-name', 'required-dns-name', 'requester'];

/**
 * What a field left out means: no email or URI SANs, any CN, no CA; every DNS name, IP,
 * organization and requester. A bounded policy (not `unrestricted`) has its own CN default, below.
 */
export const defaultPolicy: Policy = { allowEmailAddresses: false, allowUris: false, commonName: 'any', allowCA: false };

/** The CN rule of a bounded policy that names none: the CN is empty or one of the request's DNS names (so within dnsNames). */
export const boundedCommonName: CommonNameRule = 'dns-name';

/** The policy of a signer stated to be unrestricted: the defaults, and the statement. */
export const unrestrictedPolicy: Policy = { ...defaultPolicy, unrestricted: true };

/** What a custom signer with no bound on names would do, and the two ways out (the config file's and the command line's). */
export const unboundedPolicyRisk = 'the signer would sign any DNS name and IP address an approver let through';
const fileWaysOut = 'bound them (dnsNames, ipRanges; an empty list allows none), or state policy: {unrestricted: true}';

function readRequesters(fields: Fields, value: unknown, path: string): Policy['requesters'] {
  if (value === undefined) return undefined;
  const m = fields.mapping(value, path, requesterKeys);
  const usernames = fields.strings(m.usernames, `${path}.usernames`, { allowEmpty: true });
  const groups = fields.strings(m.groups, `${path}.groups`, { allowEmpty: true });
  if (usernames === undefined && groups === undefined) {
    throw fields.fail(path, 'give usernames, groups or both (leave requesters out to allow anyone the approver approved)');
  }
  return { ...(usernames === undefined ? {} : { usernames }), ...(groups === undefined ? {} : { groups }) };
}

/** Reads `policy:` of a custom signer; refuses one that bounds no name unless it says `unrestricted: true`. */
export function readPolicy(fields: Fields, value: unknown, path: string): Policy {
  if (value === undefined) throw fields.fail(path, `is missing, so ${unboundedPolicyRisk}: ${fileWaysOut}`);
  const m = fields.mapping(value, path, policyKeys);
  const dnsNames = fields.strings(m.dnsNames, `${path}.dnsNames`, { allowEmpty: true, check: dnsPatternProblem });
  const ipRanges = fields.strings(m.ipRanges, `${path}.ipRanges`, { allowEmpty: true, check: cidrProblem });
  const unrestricted = fields.boolean(m.unrestricted, `${path}.unrestricted`, false);
  if (unrestricted && (dnsNames !== undefined || ipRanges !== undefined)) {
    throw fields.fail(`${path}.unrestricted`, `contradicts ${dnsNames === undefined ? 'ipRanges' : 'dnsNames'}: remove unrestricted: true to keep the bounds, or the bounds to sign any name`);
  }
  const maxSubjectAltNames = fields.positiveInteger(m.maxSubjectAltNames, `${path}.maxSubjectAltNames`);
  const organizations = fields.strings(m.organizations, `${path}.organizations`, { allowEmpty: true });
  const requesters = readRequesters(fields, m.requesters, `${path}.requesters`);
  const allowEmailAddresses = fields.boolean(m.allowEmailAddresses, `${path}.allowEmailAddresses`, defaultPolicy.allowEmailAddresses);
  const allowUris = fields.boolean(m.allowUris, `${path}.allowUris`, defaultPolicy.allowUris);
  const commonName = fields.oneOf(m.commonName, `${path}.commonName`, commonNameRules, unrestricted ? defaultPolicy.commonName : boundedCommonName);
  const allowCA = fields.boolean(m.allowCA, `${path}.allowCA`, defaultPolicy.allowCA);
  // After every field is read, so a mistake in one is named first.
  if (!unrestricted && dnsNames === undefined && ipRanges === undefined) throw fields.fail(path, `has neither dnsNames nor ipRanges, so ${unboundedPolicyRisk}: ${fileWaysOut}`);
  if (!unrestricted && dnsNames === undefined) throw fields.fail(path, 'has ipRanges but no dnsNames, so the signer would sign any DNS name an approver let through: list the DNS name patterns allowed (dnsNames: [] for none)');
  if (!unrestricted && ipRanges === undefined) throw fields.fail(path, 'has dnsNames but no ipRanges, so the signer would sign any IP address an approver let through: list the CIDRs allowed (ipRanges: [] for none)');
  return {
    ...(dnsNames === undefined ? {} : { dnsNames }),
    ...(ipRanges === undefined ? {} : { ipRanges }),
    allowEmailAddresses,
    allowUris,
    ...(maxSubjectAltNames === undefined ? {} : { maxSubjectAltNames }),
    commonName,
    ...(organizations === undefined ? {} : { organizations }),
    ...(requesters === undefined ? {} : { requesters }),
    allowCA,
    ...(unrestricted ? { unrestricted: true } : {}),
  };
}
