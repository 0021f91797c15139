/**
 * The `podCertificates:` of a signer in the config file: the signer also signs
 * PodCertificateRequests of its name, with the identity, policy, lifetime and refresh
 * read here. Everything is checked at start: each template parses, and renders (with
 * the sample value `a` for every placeholder but `{trustDomain}`) to a valid URI or DNS
 * name, so a template that could never give a valid certificate fails now, naming its field.
 */
import { formatDuration } from '../duration.js';
import { knownUsages, podCertificateKeyTypes, type PodCertificateKeyType } from '../pki/index.js';
import { parseIdentityTemplate, renderIdentityTemplate, templatePlaceholders, type TemplateValues } from '../signer/identity-template.js';
import { identityUriProblem, trustDomainProblem } from '../signer/pod-certificate-names.js';
import type { PodCertificateConfig, PodCertificateNamespaces } from '../signer/types.js';
import { UnplainNumber, shown, type Fields } from './fields.js';
import { dnsPatternProblem } from './names.js';
import { labelKeyProblem, readSelector } from './trust.js';

export const podCertificateKeys = [
  'namespaces', 'serviceAccounts', 'trustDomain', 'uris', 'dnsNames', 'subject', 'usages', 'maxLifetime',
  'refresh', 'keyTypes', 'userAnnotations', 'nonEmptyStub', 'podCheck', 'apiVersion',
] as const;
export const podNamespacesKeys = ['all', 'names', 'selector'] as const;
export const podSubjectKeys = ['commonName', 'organizations'] as const;
export const refreshKeys = ['from', 'to'] as const;
export const userAnnotationsKeys = ['dnsNames'] as const;
export const annotationDnsNamesKeys = ['key', 'allowed'] as const;
export const nonEmptyStubChoices = ['deny', 'ignore'] as const;
export const podCertificateApiVersions = ['auto', 'v1', 'v1beta1'] as const;

export const defaultTrustDomain = 'cluster.local';
export const defaultPodCertificateUri = 'spiffe://{trustDomain}/ns/{namespace}/sa/{serviceAccountName}';
export const defaultPodCertificateUsages: readonly string[] = ['digital signature', 'key encipherment', 'server auth', 'client auth'];
/** The shortest certificate a pod-certificate signer may give: the kubelet refreshes within the last part of it. */
export const shortestMaxLifetimeMs = 3_600_000;
/** 91 days: the most a PodCertificateRequest may ask for (maxExpirationSeconds 7862400 for a signer outside kubernetes.io). */
export const longestMaxLifetimeMs = 2184 * 3_600_000;
export const defaultMaxLifetimeMs = 24 * 3_600_000;
export const defaultRefresh = { from: 0.5, to: 0.7 } as const;

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const hostLabel = /^[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$/;

/** A namespace name: an RFC 1123 label. */
export function namespaceNameProblem(name: string): string | undefined {
  if (name.length > 63 || !dns1123Label.test(name)) return `${JSON.stringify(name)} is not a valid namespace name: at most 63 lower case letters, digits and '-', starting and ending with a letter or digit`;
  return undefined;
}

/** A ServiceAccount pattern `namespace/name`, each part a valid name or `*`. */
export function serviceAccountPatternProblem(pattern: string): string | undefined {
  const parts = pattern.split('/');
  const [namespace = '', name = ''] = parts;
  if (parts.length !== 2) return `${JSON.stringify(pattern)} is not of the form namespace/name (either part may be *, as in shop/* or */builder)`;
  if (namespace !== '*' && (namespace.length > 63 || !dns1123Label.test(namespace))) {
    return `${JSON.stringify(pattern)} has ${JSON.stringify(namespace)} as its namespace, which is neither * nor a valid namespace name (lower case letters, digits and '-')`;
  }
  if (name !== '*' && (name.length > 253 || !dns1123Subdomain.test(name))) {
    return `${JSON.stringify(pattern)} has ${JSON.stringify(name)} as its ServiceAccount name, which is neither * nor a valid object name (lower case letters, digits, '-' and '.')`;
  }
  return undefined;
}

/** A DNS name a certificate may hold: letters, digits and '-' in labels of at most 63, 253 in all, no wildcard, no trailing dot. */
export function dnsNameProblem(name: string): string | undefined {
  if (name.length > 253) return 'it is longer than 253 characters';
  if (name.endsWith('.')) return 'it ends with a dot';
  for (const label of name.split('.')) {
    if (label === '') return 'it has an empty label (two dots in a row, or a leading dot)';
    if (label === '*') return 'it has a wildcard, and a pod certificate names its own host';
    if (!hostLabel.test(label)) return `it has the label ${JSON.stringify(label)}, which is not 1–63 letters, digits or '-', starting and ending with a letter or digit`;
  }
  return undefined;
}

/** The values a template is tried with at start: `a` for each placeholder, the signer's own trust domain. */
export const sampleTemplateValues = (trustDomain: string): TemplateValues =>
  ({ ...Object.fromEntries(templatePlaceholders.map((p) => [p, 'a'])), trustDomain } as TemplateValues);

/** A template that parses and, rendered with the sample values, passes `check`; the sentence says what it rendered to. */
function templateChecker(values: TemplateValues, what: string, check?: (rendered: string) => string | undefined): (text: string) => string | undefined {
  return (text) => {
    const parsed = parseIdentityTemplate(text);
    if ('problem' in parsed) return `${JSON.stringify(text)} is not a valid template: ${parsed.problem}`;
    const rendered = renderIdentityTemplate(parsed, values);
    const problem = check?.(rendered);
    if (problem === undefined) return undefined;
    const sample = rendered === text ? '' : ` (rendered with the sample value a for each placeholder: ${JSON.stringify(rendered)})`;
    return `${JSON.stringify(text)} is not a valid ${what}${sample}: ${problem}`;
  };
}

/**
 * A DNS name template or pattern holds `{namespace}` as a label of its own: names without the
 * namespace would let pods of different namespaces share a name, and `{namespace}` sharing a
 * label with another value would too (namespace a with pod b-c, namespace a-b with pod c).
 */
function namespaceAnchorProblem(text: string): string | undefined {
  const parsed = parseIdentityTemplate(text);
  if ('problem' in parsed) return undefined;
  const at = parsed.findIndex((part) => typeof part !== 'string' && part.placeholder === 'namespace');
  const example = 'as in {serviceAccountName}.{namespace}.svc';
  if (at < 0) {
    return `${JSON.stringify(text)} has no {namespace}: names without the namespace would let pods of different namespaces share a name; add {namespace} as a label of its own, ${example}`;
  }
  const literal = (part: (typeof parsed)[number] | undefined): string => (typeof part === 'string' ? part : '');
  // One {namespace} of its own fixes the namespace's label: values hold no dot, so labels do not move.
  const whole = parsed.some((part, i) => typeof part !== 'string' && part.placeholder === 'namespace'
    && (i === 0 || literal(parsed[i - 1]).endsWith('.')) && (i === parsed.length - 1 || literal(parsed[i + 1]).startsWith('.')));
  if (!whole) {
    return `${JSON.stringify(text)} has {namespace} inside a label, so pods of different namespaces could share a name (namespace a with pod b-c, namespace a-b with pod c); give {namespace} a label of its own, ${example}`;
  }
  return undefined;
}

/** Both checks: the template's own, then the namespace anchor. */
const both = (first: (text: string) => string | undefined, second: (text: string) => string | undefined) =>
  (text: string): string | undefined => first(text) ?? second(text);

function readNamespaces(fields: Fields, value: unknown, path: string): PodCertificateNamespaces {
  if (value === undefined) {
    throw fields.fail(path, 'is required: the namespaces whose pods may get certificates, as names, a selector or both, or all: true for every namespace');
  }
  const m = fields.mapping(value, path, podNamespacesKeys);
  const all = m.all === undefined ? undefined : fields.boolean(m.all, `${path}.all`, false);
  if (all === false) throw fields.fail(`${path}.all`, 'may only be true (leave it out to serve the namespaces of names and selector)');
  const names = fields.strings(m.names, `${path}.names`, { allowEmpty: false, check: namespaceNameProblem });
  const selector = readSelector(fields, m.selector, `${path}.selector`);
  if (all === true && (names !== undefined || selector !== undefined)) {
    const other = names === undefined ? 'selector' : 'names';
    throw fields.fail(`${path}.all`, `contradicts ${other}: all: true serves every namespace, so remove it to serve only those of ${other}, or remove ${other}`);
  }
  if (selector !== undefined && selector.matchLabels === undefined && selector.matchExpressions === undefined) {
    throw fields.fail(`${path}.selector`, 'is empty and would match every namespace: give matchLabels or matchExpressions, or say all: true');
  }
  if (all === undefined && names === undefined && selector === undefined) {
    throw fields.fail(path, 'names no namespace: give names, a selector or both, or all: true to serve every namespace');
  }
  return { ...(all === true ? { all } : {}), ...(names === undefined ? {} : { names }), ...(selector === undefined ? {} : { selector }) };
}

function readSubject(fields: Fields, value: unknown, path: string, values: TemplateValues): PodCertificateConfig['subject'] {
  if (value === undefined) return undefined;
  const m = fields.mapping(value, path, podSubjectKeys);
  const commonName = fields.optionalString(m.commonName, `${path}.commonName`);
  if (commonName !== undefined) {
    const problem = templateChecker(values, 'common name', (cn) => (cn.length > 64 ? 'it is longer than 64 characters' : undefined))(commonName);
    if (problem !== undefined) throw fields.fail(`${path}.commonName`, problem);
  }
  const organizations = fields.strings(m.organizations, `${path}.organizations`, {
    allowEmpty: false, check: templateChecker(values, 'organization', (o) => (o.length > 64 ? 'it is longer than 64 characters' : undefined)),
  });
  if (commonName === undefined && organizations === undefined) throw fields.fail(path, 'give commonName, organizations or both (leave subject out for an empty subject)');
  return { ...(commonName === undefined ? {} : { commonName }), ...(organizations === undefined ? {} : { organizations }) };
}

/** A YAML number strictly between 0 and 1 (written as 0.5; markUnplainNumbers keeps it as text). */
function readFraction(fields: Fields, value: unknown, path: string): number {
  const text = value instanceof UnplainNumber ? value.text : undefined;
  const n = text !== undefined && /^0?\.\d+$/.test(text) ? Number(text) : NaN;
  if (!(n > 0 && n < 1)) throw fields.fail(path, `must be a number greater than 0 and less than 1, such as 0.5, not ${typeof value === 'string' ? `the string ${JSON.stringify(value)}` : shown(value)}`);
  return n;
}

function readRefresh(fields: Fields, value: unknown, path: string): PodCertificateConfig['refresh'] {
  if (value === undefined) return defaultRefresh;
  const m = fields.mapping(value, path, refreshKeys);
  for (const key of refreshKeys) {
    if (m[key] === undefined) throw fields.fail(`${path}.${key}`, 'is required: refresh gives from and to, fractions of the lifetime with 0 < from <= to < 1');
  }
  const from = readFraction(fields, m.from, `${path}.from`);
  const to = readFraction(fields, m.to, `${path}.to`);
  if (from > to) throw fields.fail(`${path}.from`, `${from} is after to (${to}): the refresh time is drawn between from and to`);
  return { from, to };
}

function readUserAnnotations(fields: Fields, value: unknown, path: string, values: TemplateValues): PodCertificateConfig['userAnnotations'] {
  if (value === undefined) return undefined;
  const m = fields.mapping(value, path, userAnnotationsKeys);
  if (m.dnsNames === undefined) throw fields.fail(path, 'give dnsNames (leave userAnnotations out to honour no annotation)');
  const at = `${path}.dnsNames`;
  const d = fields.mapping(m.dnsNames, at, annotationDnsNamesKeys);
  if (d.key === undefined) throw fields.fail(`${at}.key`, 'is required: the annotation key (with a domain prefix, as in example.com/dns-names) whose value lists extra DNS names');
  const key = fields.string(d.key, `${at}.key`);
  const keyProblem = labelKeyProblem(key);
  if (keyProblem !== undefined) throw fields.fail(`${at}.key`, keyProblem.replace('label key', 'annotation key'));
  if (!key.includes('/')) throw fields.fail(`${at}.key`, `${JSON.stringify(key)} has no domain prefix, and Kubernetes accepts only domain-prefixed keys in unverifiedUserAnnotations: write it as example.com/${key}`);
  if (d.allowed === undefined) throw fields.fail(`${at}.allowed`, 'is required: the DNS name patterns the annotation\'s names must match (exact, or *. for one leftmost label)');
  const allowed = fields.strings(d.allowed, `${at}.allowed`, {
    allowEmpty: false,
    check: both(templateChecker(values, 'DNS name pattern', (pattern) => dnsPatternProblem(pattern)), namespaceAnchorProblem),
  }) ?? [];
  return { dnsNames: { key, allowed } };
}

/** The usages a pod's leaf certificate may have: never a CA's, an OCSP responder's, or any at all. */
export const podCertificateUsages: readonly string[] = [
  'digital signature', 'key encipherment', 'key agreement', 'data encipherment', 'content commitment', 'server auth', 'client auth',
];
const usageRefusals: Readonly<Record<string, string>> = {
  'cert sign': 'it would let the pod\'s certificate sign certificates, as a CA',
  'crl sign': 'it would let the pod\'s certificate sign revocation lists, as a CA',
  'ocsp signing': 'it would let the pod\'s certificate answer for other certificates, as an OCSP responder',
  any: 'it allows every extended usage, a CA\'s and an OCSP responder\'s included',
};

function usageProblem(usage: string): string | undefined {
  if (podCertificateUsages.includes(usage)) return undefined;
  const allowed = `a pod certificate may have ${podCertificateUsages.join(', ')}`;
  if (!knownUsages.includes(usage)) return `${JSON.stringify(usage)} is not a Kubernetes usage; ${allowed}`;
  const why = usageRefusals[usage] ?? 'a pod\'s certificate identifies a workload in TLS, and nothing else';
  return `${JSON.stringify(usage)} is refused: ${why}; ${allowed}`;
}

const keyTypeProblem = (keyType: string): string | undefined =>
  (podCertificateKeyTypes as readonly string[]).includes(keyType) ? undefined : `${JSON.stringify(keyType)} is not one of ${podCertificateKeyTypes.join(', ')}, the key types of a podCertificate projection`;

/** Reads `podCertificates:` of a signer; absent: the signer signs no PodCertificateRequests. An empty `podCertificates:` is read as `{}`. */
export function readPodCertificates(fields: Fields, value: unknown, path: string): PodCertificateConfig | undefined {
  if (value === undefined) return undefined;
  const m = fields.mapping(value ?? {}, path, podCertificateKeys);
  const namespaces = readNamespaces(fields, m.namespaces, `${path}.namespaces`);
  const serviceAccounts = fields.strings(m.serviceAccounts, `${path}.serviceAccounts`, { allowEmpty: false, check: serviceAccountPatternProblem });
  const trustDomain = fields.optionalString(m.trustDomain, `${path}.trustDomain`) ?? defaultTrustDomain;
  const domainProblem = trustDomainProblem(trustDomain);
  if (domainProblem !== undefined) throw fields.fail(`${path}.trustDomain`, domainProblem);
  const values = sampleTemplateValues(trustDomain);
  const uris = fields.strings(m.uris, `${path}.uris`, { allowEmpty: true, check: templateChecker(values, 'URI', identityUriProblem) }) ?? [defaultPodCertificateUri];
  const dnsNames = fields.strings(m.dnsNames, `${path}.dnsNames`, { allowEmpty: true, check: both(templateChecker(values, 'DNS name', dnsNameProblem), namespaceAnchorProblem) }) ?? [];
  const subject = readSubject(fields, m.subject, `${path}.subject`, values);
  const usages = fields.strings(m.usages, `${path}.usages`, { allowEmpty: false, check: usageProblem }) ?? defaultPodCertificateUsages;
  const maxLifetimeMs = fields.duration(m.maxLifetime, `${path}.maxLifetime`) ?? defaultMaxLifetimeMs;
  if (maxLifetimeMs < shortestMaxLifetimeMs) throw fields.fail(`${path}.maxLifetime`, `${formatDuration(maxLifetimeMs)} is shorter than 1h0m0s, the shortest pod certificate csr-signer gives`);
  if (maxLifetimeMs > longestMaxLifetimeMs) {
    throw fields.fail(`${path}.maxLifetime`, `${formatDuration(maxLifetimeMs)} is longer than 2184h0m0s (91 days), the longest a PodCertificateRequest may ask for`);
  }
  const refresh = readRefresh(fields, m.refresh, `${path}.refresh`);
  const keyTypes = (fields.strings(m.keyTypes, `${path}.keyTypes`, { allowEmpty: false, check: keyTypeProblem }) ?? podCertificateKeyTypes) as readonly PodCertificateKeyType[];
  const userAnnotations = readUserAnnotations(fields, m.userAnnotations, `${path}.userAnnotations`, values);
  const nonEmptyStub = fields.oneOf(m.nonEmptyStub, `${path}.nonEmptyStub`, nonEmptyStubChoices, 'deny');
  const podCheck = fields.boolean(m.podCheck, `${path}.podCheck`, false);
  const apiVersion = fields.oneOf(m.apiVersion, `${path}.apiVersion`, podCertificateApiVersions, 'auto');
  // After every field is read, so a mistake in one is named first.
  if (uris.length === 0 && dnsNames.length === 0 && subject?.commonName === undefined) {
    throw fields.fail(path, 'certifies no identity, as uris and dnsNames are empty and subject has no commonName: give at least one (uris defaults to the SPIFFE ID of the pod\'s ServiceAccount)');
  }
  return {
    trustDomain,
    uris: [...uris],
    dnsNames,
    ...(subject === undefined ? {} : { subject }),
    usages: [...usages],
    maxLifetimeMs,
    refresh: { ...refresh },
    namespaces,
    ...(serviceAccounts === undefined ? {} : { serviceAccounts }),
    keyTypes: [...keyTypes],
    ...(userAnnotations === undefined ? {} : { userAnnotations }),
    nonEmptyStub,
    podCheck,
    apiVersion,
  };
}
