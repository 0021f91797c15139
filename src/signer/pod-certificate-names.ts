/**
 * The checks a pod certificate's names pass, shared by the configuration (templates tried
 * with sample values at start) and the decision (templates rendered with a request's values):
 * the SPIFFE trust domain, URIs with the SPIFFE ID rules when the scheme is spiffe, and the
 * placeholder values a template may take. A value comes from the PodCertificateRequest's spec,
 * which a creator other than a node writes freely (e.g. any podUID), so a value must never add
 * structure to the name: no path segment of its own in a URI, no label or wildcard in a DNS name.
 */
import { identityTemplate, renderIdentityTemplate, type IdentityTemplate, type TemplateValues } from './identity-template.js';

const q = (value: string): string => JSON.stringify(value);

/**
 * A SPIFFE trust domain (SPIFFE ID standard §2.1): lowercase letters, digits, '.', '-' and '_',
 * at most 255 characters; read as DNS-like labels separated by dots, so no empty label (no
 * leading, trailing or doubled dot), each starting and ending with a letter or digit.
 */
export function trustDomainProblem(domain: string): string | undefined {
  if (domain.length > 255) return `${q(domain)} is longer than 255 characters, the most a SPIFFE trust domain may have`;
  if (/^[a-z0-9._-]+$/.test(domain)) {
    const label = domain.split('.').find((l) => !/^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$/.test(l));
    if (label === undefined) return undefined;
    return label === ''
      ? `${q(domain)} is not a valid SPIFFE trust domain: it has an empty label (a leading, trailing or doubled dot)`
      : `${q(domain)} is not a valid SPIFFE trust domain: its label ${q(label)} does not start and end with a letter or digit`;
  }
  const hint = domain.startsWith('spiffe://') ? 'give the domain alone, without spiffe://'
    : domain.includes('@') ? 'a trust domain has no user part'
      : domain.includes(':') ? 'a trust domain has no port'
        : /[A-Z]/.test(domain) ? 'write it in lower case' : 'it may hold only lowercase letters, digits, \'.\', \'-\' and \'_\'';
  return `${q(domain)} is not a valid SPIFFE trust domain: ${hint}`;
}

const uriText = /^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/;
const spiffePathSegment = /^[A-Za-z0-9._-]+$/;

/**
 * A SPIFFE ID as the SPIFFE ID standard writes it (§2): spiffe://, a valid trust domain, then
 * path segments of letters, digits, '.', '-' and '_' — no empty segment, no '.' or '..', no
 * percent-encoding, no query or fragment. Undefined for a valid one.
 */
export function spiffeIdProblem(uri: string): string | undefined {
  if (!uri.startsWith('spiffe://')) return 'a SPIFFE ID starts with spiffe:// in lower case';
  const rest = uri.slice('spiffe://'.length);
  if (/[?#]/.test(rest)) return 'a SPIFFE ID has no query or fragment';
  const slash = rest.indexOf('/');
  const domain = slash < 0 ? rest : rest.slice(0, slash);
  if (domain === '') return 'as a SPIFFE ID, it has no trust domain';
  const domainProblem = trustDomainProblem(domain);
  if (domainProblem !== undefined) return `as a SPIFFE ID, ${domainProblem}`;
  if (slash < 0) return undefined;
  for (const segment of rest.slice(slash + 1).split('/')) {
    if (segment === '') return 'as a SPIFFE ID, its path has an empty segment (two slashes in a row, or a trailing slash)';
    if (segment === '.' || segment === '..') return `as a SPIFFE ID, its path has the segment ${q(segment)}`;
    if (!spiffePathSegment.test(segment)) return `as a SPIFFE ID, its path segment ${q(segment)} may hold only letters, digits, '.', '-' and '_'`;
  }
  return undefined;
}

/** An absolute URI (RFC 3986), and a SPIFFE ID (spiffeIdProblem) when its scheme is spiffe. */
export function identityUriProblem(uri: string): string | undefined {
  if (!uriText.test(uri)) return 'an absolute URI is a scheme, \':\', then only the characters RFC 3986 allows (escape others with %)';
  if (/%(?![0-9A-Fa-f]{2})/.test(uri)) return 'it has a \'%\' not followed by two hexadecimal digits';
  return /^spiffe:/i.test(uri) ? spiffeIdProblem(uri) : undefined;
}

/** An RFC 1123 label: what a placeholder value must be inside a DNS name. */
const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Why a placeholder's value may not stand in a template of this kind, naming the value;
 * undefined when it may. `{trustDomain}` is the signer's own, checked at start. In a URI a
 * value may not hold '/', '?', '#' or '%', nor be '.' or '..' (it would add a path segment,
 * a query, a fragment or an escape, or climb the path); in a DNS name or pattern it must be
 * one label (lowercase letters, digits and '-'), so it adds no label and no wildcard.
 */
export function placeholderValueProblem(template: IdentityTemplate, values: TemplateValues, kind: 'uri' | 'dns'): string | undefined {
  for (const part of template) {
    if (typeof part === 'string' || part.placeholder === 'trustDomain') continue;
    const value = values[part.placeholder];
    const where = `{${part.placeholder}} is ${q(value)}`;
    if (kind === 'uri') {
      if (/[/?#%]/.test(value)) return `${where}, which holds '/', '?', '#' or '%' and would change the URI's structure`;
      if (value === '.' || value === '..') return `${where}, a relative path segment`;
    } else if (!dnsLabel.test(value)) {
      return `${where}, which is not a single DNS label (1–63 lowercase letters, digits or '-', starting and ending with a letter or digit)`;
    }
  }
  return undefined;
}

/** The template rendered with `values`, or why a value may not stand in it (placeholderValueProblem). */
export function renderNameTemplate(text: string, values: TemplateValues, kind: 'uri' | 'dns'): { readonly name: string } | { readonly problem: string } {
  const template = identityTemplate(text);
  const problem = placeholderValueProblem(template, values, kind);
  return problem === undefined ? { name: renderIdentityTemplate(template, values) } : { problem };
}
