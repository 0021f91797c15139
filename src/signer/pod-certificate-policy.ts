/**
 * A pod-certificate signer's policy, checked against a PodCertificateRequest's spec and
 * the facts read for it: which namespaces and ServiceAccounts it serves, what it does with
 * a stub request that asks for names, the DNS names the pod author may add through an
 * annotation, and the optional check of the running Pod. Each check returns undefined or
 * one sentence naming the offending value.
 */
import { countSubjectAltNames, type CertificateRequest } from '../pki/index.js';
import { isDnsName, matchesAnyDnsPattern } from './dns-pattern.js';
import type { TemplateValues } from './identity-template.js';
import { matchesSelector } from './label-selector.js';
import { renderNameTemplate } from './pod-certificate-names.js';
import type { Namespace, Pod, PodCertificateConfig, PodCertificateRequest } from './types.js';

const q = (value: string): string => JSON.stringify(value);
const list = (values: readonly string[]): string => (values.length === 0 ? 'none' : values.join(', '));

/** The Namespace must be read to decide: a selector is set and the name alone does not admit it. */
export const needsNamespace = (config: PodCertificateConfig, namespace: string): boolean =>
  config.namespaces.all !== true && config.namespaces.names?.includes(namespace) !== true && config.namespaces.selector !== undefined;

/**
 * Whether the namespace is served: `all`, a name in `names`, or the Namespace's labels match
 * `selector`. `fact`: the Namespace read (undefined: not read, so the answer is `{ missing }`;
 * null: it does not exist, so it matches no selector).
 */
export function namespaceProblem(
  config: PodCertificateConfig, namespace: string, fact: Namespace | null | undefined, signer: string,
): string | { readonly missing: true } | undefined {
  const { all, names, selector } = config.namespaces;
  if (all === true || names?.includes(namespace) === true) return undefined;
  const allowed = [names === undefined ? undefined : `namespaces ${list(names)}`, selector === undefined ? undefined : `labels matching ${JSON.stringify(selector)}`]
    .filter((part) => part !== undefined).join(' or ');
  const notServed = `is not served by signer ${signer} (allowed: ${allowed})`;
  if (selector === undefined) return `namespace ${q(namespace)} ${notServed}`;
  if (fact === undefined) return { missing: true };
  if (fact === null) return `namespace ${q(namespace)} does not exist, so it ${notServed}`;
  return matchesSelector(selector, fact.metadata.labels) ? undefined : `namespace ${q(namespace)} ${notServed}`;
}

/** `ns/name` patterns; a whole part may be `*`. */
const matchesServiceAccount = (pattern: string, namespace: string, name: string): boolean => {
  const slash = pattern.indexOf('/');
  const ns = pattern.slice(0, slash);
  const sa = pattern.slice(slash + 1);
  return slash > 0 && (ns === '*' || ns === namespace) && (sa === '*' || sa === name);
};

export function serviceAccountProblem(config: PodCertificateConfig, namespace: string, name: string, signer: string): string | undefined {
  const patterns = config.serviceAccounts;
  if (patterns === undefined || patterns.some((p) => matchesServiceAccount(p, namespace, name))) return undefined;
  return `ServiceAccount ${q(`${namespace}/${name}`)} is not allowed by signer ${signer} (allowed: ${list(patterns)})`;
}

const attributeNames: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.5': 'serialNumber',
};

/** What a stub request asks for besides its key: its subject, its subjectAltNames, any extension. Undefined when nothing. */
export function stubContents(stub: CertificateRequest): string | undefined {
  const [attribute] = stub.subject.attributes;
  if (attribute !== undefined) {
    return `a subject (${attributeNames[attribute.oid] ?? attribute.oid}=${q(attribute.value)}${stub.subject.attributes.length > 1 ? ', …' : ''})`;
  }
  const sans = stub.subjectAltNames;
  if (countSubjectAltNames(sans) > 0) {
    const [first] = [...sans.dnsNames.map((n) => `DNS ${q(n)}`), ...sans.uris.map((u) => `URI ${q(u)}`),
      ...sans.ipAddresses.map((ip) => `IP ${q(ip)}`), ...sans.emailAddresses.map((e) => `email ${q(e)}`)];
    return `subjectAltName ${first ?? ''}`;
  }
  const [extension] = stub.requestedExtensions;
  return extension === undefined ? undefined : `extension ${extension}`;
}

/** The most DNS names the annotation may add, and the longest value read. */
export const maxAnnotationDnsNames = 32;
export const maxAnnotationValueLength = 8192;

/**
 * The rendered patterns of the annotation's `allowed`, lowercase. A pattern a placeholder value
 * cannot stand in (not one DNS label: placeholderValueProblem) renders nothing and matches no
 * name, so a wildcard or an extra label comes only from the pattern's own text.
 */
const renderedPatterns = (allowed: readonly string[], values: TemplateValues): string[] => allowed.flatMap((p) => {
  const rendered = renderNameTemplate(p, values, 'dns');
  return 'problem' in rendered ? [] : [rendered.name.toLowerCase()];
});

/**
 * The DNS names the `userAnnotations.dnsNames` annotation adds (lowercase, in order, each
 * once), or one sentence saying why the value is refused. No annotation, or no such policy: [].
 */
export function annotationDnsNames(
  config: PodCertificateConfig, pcr: PodCertificateRequest, values: TemplateValues, signer: string,
): readonly string[] | { readonly problem: string } {
  const policy = config.userAnnotations?.dnsNames;
  const annotations = pcr.spec.unverifiedUserAnnotations ?? {};
  if (policy === undefined || !Object.hasOwn(annotations, policy.key)) return [];
  const value = annotations[policy.key] ?? '';
  const where = `unverifiedUserAnnotations[${q(policy.key)}]`;
  if (value.length > maxAnnotationValueLength) {
    return { problem: `${where} is ${value.length} characters long, more than the ${maxAnnotationValueLength} this signer reads` };
  }
  const names = value.split(',').map((n) => n.trim());
  if (names.length > maxAnnotationDnsNames) {
    return { problem: `${where} lists ${names.length} DNS names, more than the ${maxAnnotationDnsNames} this signer accepts` };
  }
  const patterns = renderedPatterns(policy.allowed, values);
  const out: string[] = [];
  for (const name of names) {
    const lower = name.toLowerCase();
    if (!isDnsName(lower)) return { problem: `${where} holds ${q(name)}, which is not a DNS name (comma-separated DNS names expected)` };
    if (!matchesAnyDnsPattern(lower, patterns, undefined)) {
      return { problem: `${where} holds DNS name ${q(name)}, which signer ${signer} does not allow (allowed: ${list(patterns)})` };
    }
    if (!out.includes(lower)) out.push(lower);
  }
  return out;
}

/** The Pod check: the Pod exists with the spec's uid, node and ServiceAccount. */
export function podProblem(pcr: PodCertificateRequest, pod: Pod | null): string | undefined {
  const namespace = pcr.metadata.namespace ?? '';
  const { podName, podUID, nodeName, serviceAccountName } = pcr.spec;
  const which = `pod ${namespace}/${podName}`;
  if (pod === null) return `${which} does not exist`;
  const differs = (what: string, actual: string, field: string, expected: string): string =>
    `${which} has ${what} ${q(actual)}, not spec.${field} ${q(expected)}`;
  if ((pod.metadata.uid ?? '') !== podUID) return differs('uid', pod.metadata.uid ?? '', 'podUID', podUID);
  if ((pod.spec?.nodeName ?? '') !== nodeName) return differs('nodeName', pod.spec?.nodeName ?? '', 'nodeName', nodeName);
  if ((pod.spec?.serviceAccountName ?? '') !== serviceAccountName) {
    return differs('serviceAccountName', pod.spec?.serviceAccountName ?? '', 'serviceAccountName', serviceAccountName);
  }
  return undefined;
}
