/**
 * DNS name patterns of a custom signer's policy: an exact name, `*.` for exactly
 * one leftmost label, and `{namespace}` for the requesting service account's
 * namespace. Comparison ignores case, as DNS does.
 */

const serviceAccountPrefix = 'system:serviceaccount:';
const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * The namespace of a service-account username `system:serviceaccount:NS:NAME`;
 * undefined for any other requester. NS must be a DNS label (as every Kubernetes
 * namespace is), so substituting it can never add a dot or a wildcard to a pattern.
 */
export function serviceAccountNamespace(username: string | undefined): string | undefined {
  if (username?.startsWith(serviceAccountPrefix) !== true) return undefined;
  const parts = username.slice(serviceAccountPrefix.length).split(':');
  const [namespace, name] = parts;
  if (parts.length !== 2 || namespace === undefined || name === undefined || name === '') return undefined;
  return dnsLabel.test(namespace) ? namespace : undefined;
}

/** The pattern with `{namespace}` filled in; undefined when it needs a namespace and there is none. */
function expand(pattern: string, namespace: string | undefined): string | undefined {
  if (!pattern.includes('{namespace}')) return pattern.toLowerCase();
  if (namespace === undefined) return undefined;
  return pattern.replaceAll('{namespace}', namespace).toLowerCase();
}

/** Whether `name` matches `pattern` for a requester in `namespace` (undefined: not a service account). */
export function matchesDnsPattern(name: string, pattern: string, namespace: string | undefined): boolean {
  const expanded = expand(pattern, namespace);
  if (expanded === undefined) return false;
  const candidate = name.toLowerCase();
  if (!expanded.startsWith('*.')) return candidate === expanded;
  const suffix = expanded.slice(1); // ".rest.of.name"
  if (!candidate.endsWith(suffix)) return false;
  const label = candidate.slice(0, candidate.length - suffix.length);
  return label.length > 0 && !label.includes('.');
}

/** Whether `name` matches any of the patterns. */
export const matchesAnyDnsPattern = (name: string, patterns: readonly string[], namespace: string | undefined): boolean =>
  patterns.some((p) => matchesDnsPattern(name, p, namespace));

/**
 * A DNS name a certificate may hold (RFC 1123 host name, lowercase): labels of 1–63
 * letters, digits and '-', not starting or ending with '-', at most 253 characters, no
 * trailing dot, no wildcard.
 */
export const isDnsName = (name: string): boolean => name.length <= 253 && name.split('.').every((label) => dnsLabel.test(label));
