/**
 * The `policy:` of a custom signer in the config file, and the policy a custom
 * signer gets when it has none (from --signer-name, or `policy:` left out).
 */
import type { CommonNameRule, Policy } from '../signer/types.js';
import type { Fields } from './fields.js';
import { cidrProblem, dnsPatternProblem } from './names.js';

export const policyKeys = [
  'dnsNames', 'ipRanges', 'allowEmailAddresses', 'allowUris', 'maxSubjectAltNames',
  'commonName', 'organizations', 'requesters', 'allowCA',
] as const;
export const requesterKeys = ['usernames', 'groups'] as const;
export const commonNameRules: readonly CommonNameRule[] = ['any', 'dns-name', 'required-dns-name', 'requester'];

/** No email or URI SANs, any CN, no CA; every DNS name, IP, organization and requester. */
export const defaultPolicy: Policy = { allowEmailAddresses: false, allowUris: false, commonName: 'any', allowCA: false };

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

/** Reads `policy:`; absent gives the defaults. */
export function readPolicy(fields: Fields, value: unknown, path: string): Policy {
  if (value === undefined) return defaultPolicy;
  const m = fields.mapping(value, path, policyKeys);
  const dnsNames = fields.strings(m.dnsNames, `${path}.dnsNames`, { allowEmpty: true, check: dnsPatternProblem });
  const ipRanges = fields.strings(m.ipRanges, `${path}.ipRanges`, { allowEmpty: true, check: cidrProblem });
  const maxSubjectAltNames = fields.positiveInteger(m.maxSubjectAltNames, `${path}.maxSubjectAltNames`);
  const organizations = fields.strings(m.organizations, `${path}.organizations`, { allowEmpty: true });
  const requesters = readRequesters(fields, m.requesters, `${path}.requesters`);
  return {
    ...(dnsNames === undefined ? {} : { dnsNames }),
    ...(ipRanges === undefined ? {} : { ipRanges }),
    allowEmailAddresses: fields.boolean(m.allowEmailAddresses, `${path}.allowEmailAddresses`, defaultPolicy.allowEmailAddresses),
    allowUris: fields.boolean(m.allowUris, `${path}.allowUris`, defaultPolicy.allowUris),
    ...(maxSubjectAltNames === undefined ? {} : { maxSubjectAltNames }),
    commonName: fields.oneOf(m.commonName, `${path}.commonName`, commonNameRules, defaultPolicy.commonName),
    ...(organizations === undefined ? {} : { organizations }),
    ...(requesters === undefined ? {} : { requesters }),
    allowCA: fields.boolean(m.allowCA, `${path}.allowCA`, defaultPolicy.allowCA),
  };
}
