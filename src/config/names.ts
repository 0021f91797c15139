/**
 * Syntax checks of the names a configuration holds: signer names (as Kubernetes
 * validates spec.signerName), DNS name patterns of a policy and of the approver's
 * kubelet-serving extraDnsNames, and CIDRs. Each
 * returns a problem as one sentence, or undefined when the value is valid.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { nodePlaceholder } from '../signer/dns-regex.js';

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * A signerName as the API server accepts it (ValidateSignerName): one `/`, a domain
 * of at least two RFC 1123 labels, a path of RFC 1123 subdomains, 571 bytes at most.
 */
export function signerNameProblem(name: string): string | undefined {
  const segments = name.split('/');
  const [domain = '', path = ''] = segments;
  if (segments.length !== 2) return "must be a fully qualified domain and path of the form 'example.com/signer-name'";
  if (domain.length > 253) return `the domain ${JSON.stringify(domain)} is longer than 253 characters`;
  const labels = domain.split('.');
  const badLabel = labels.find((l) => l.length > 63 || !dns1123Label.test(l));
  if (badLabel !== undefined) {
    return `the domain label ${JSON.stringify(badLabel)} must be 1–63 lower case letters, digits or '-', starting and ending with a letter or digit`;
  }
  if (labels.length < 2) return `the domain ${JSON.stringify(domain)} should have at least two segments separated by dots`;
  const badPath = path.split('.').find((l) => l.length > 253 || !dns1123Subdomain.test(l));
  if (badPath !== undefined) {
    return `the path ${JSON.stringify(path)} must be lower case letters, digits, '-' or '.', starting and ending with a letter or digit`;
  }
  if (Buffer.byteLength(name) > 571) return 'must be no more than 571 bytes';
  return undefined;
}

/** The placeholder a custom signer's DNS pattern may hold for the requester's namespace. */
export const namespacePlaceholder = '{namespace}';
const hostLabel = /^[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$/;
const wildcardProblem = "'*' is allowed only as the whole leftmost label, as in '*.example.com'";

/**
 * A DNS name pattern: labels of letters, digits and '-'; `*` only as the whole
 * leftmost label (one label of any name). `placeholder` says which one it may hold:
 * `namespace` (a custom signer's policy.dnsNames): `{namespace}`, only as a whole label;
 * `node` (kubelet-serving extraDnsNames): `{node}`, anywhere, which the approver
 * replaces by the requesting node's name and matches literally
 * (signer/approval-kubelet-serving.ts). A `{node}` is checked as the shortest node name
 * (one character), so a pattern is refused only when it could match no node's name.
 */
export function dnsPatternProblem(pattern: string, placeholder: 'namespace' | 'node' = 'namespace'): string | undefined {
  if (placeholder === 'node' && pattern.includes(namespacePlaceholder)) {
    return `${namespacePlaceholder} never matches here, as a node has no namespace; ${nodePlaceholder} stands for the requesting node's name`;
  }
  const expand = (text: string): string => (placeholder === 'node' ? text.replaceAll(nodePlaceholder, 'n') : text);
  if (pattern.endsWith('.')) return 'must not end with a dot';
  if (expand(pattern).length > 253) return 'must be no more than 253 characters';
  const labels = pattern.split('.');
  if (labels[0] === '*' && labels.length === 1) return "a wildcard needs a domain after it, as in '*.example.com'";
  for (const [i, label] of labels.entries()) {
    if (label === '*') {
      if (i > 0) return wildcardProblem;
      continue;
    }
    if (placeholder === 'namespace' && label === namespacePlaceholder) continue;
    const text = expand(label);
    if (text === '') return 'has an empty label (two dots in a row, or a leading dot)';
    if (text.includes('*')) return wildcardProblem;
    if (text.includes('{') || text.includes('}')) {
      return placeholder === 'node'
        ? `the only placeholder here is ${nodePlaceholder}, the requesting node's name (as in '${nodePlaceholder}.nodes.example.com')`
        : `the only placeholder is ${namespacePlaceholder}, as a whole label (as in '*.{namespace}.svc')`;
    }
    if (!hostLabel.test(text)) {
      return `the label ${JSON.stringify(label)} must be 1–63 letters, digits or '-', starting and ending with a letter or digit`;
    }
  }
  return undefined;
}

function ipv4Bytes(ip: string): number[] {
  return ip.split('.').map(Number);
}

function ipv6Bytes(ip: string): number[] {
  let text = ip;
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1] !== undefined) {
    tail.push(...ipv4Bytes(dotted[1]));
    text = text.slice(0, -dotted[1].length) + '0:0';
  }
  const [head = '', rest] = text.split('::');
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const before = groups(head);
  const after = rest === undefined ? [] : groups(rest);
  const fill = rest === undefined ? [] : new Array<string>(8 - before.length - after.length).fill('0');
  const bytes = [...before, ...fill, ...after].flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
  return tail.length === 0 ? bytes : [...bytes.slice(0, 12), ...tail];
}

/** An IPv4 or IPv6 CIDR with its network address (no host bits set), as `10.0.0.0/8` or `fd00::/8`. */
export function cidrProblem(cidr: string): string | undefined {
  const slash = cidr.indexOf('/');
  if (slash < 0) return 'must be a CIDR such as 10.0.0.0/8 or fd00::/8 (add /32 or /128 for a single address)';
  const address = cidr.slice(0, slash);
  const prefixText = cidr.slice(slash + 1);
  const v4 = isIPv4(address);
  if (!v4 && (address.includes('%') || !isIPv6(address))) return `${JSON.stringify(address)} is not an IPv4 or IPv6 address`;
  const bits = v4 ? 32 : 128;
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) return `the prefix length must be a number from 0 to ${bits}, not ${JSON.stringify(prefixText)}`;
  const bytes = v4 ? ipv4Bytes(address) : ipv6Bytes(address);
  for (let bit = prefix; bit < bits; bit++) {
    if (((bytes[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1) return `has host bits set after the first ${prefix}; did you mean a network address or a /${bits}?`;
  }
  return undefined;
}
