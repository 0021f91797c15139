/**
 * The identity a pod certificate names: the signer's templates rendered with values of the
 * PodCertificateRequest's spec (which the apiserver's NodeRestriction checked against the
 * running Pod) and the signer's trust domain. Never the stub request's subject or names:
 * those are the requester's words, not facts.
 */
import { subjectValueProblem, uriProblem, type SubjectAltNames, type SubjectSpec } from '../pki/index.js';
import { isDnsName } from './dns-pattern.js';
import { spiffeIdProblem, renderNameTemplate } from './pod-certificate-names.js';
import { identityTemplate, renderIdentityTemplate, type TemplateValues } from './identity-template.js';
import type { PodCertificateConfig, PodCertificateRequest } from './types.js';

/** RFC 5280's upper bounds (ub-common-name, ub-organization-name): Go and OpenSSL refuse longer values. */
export const maxSubjectValueLength = 64;

/** The placeholders' values: namespace from metadata, the rest from the spec, the trust domain from the signer. */
export const templateValues = (pcr: PodCertificateRequest, config: PodCertificateConfig): TemplateValues => ({
  namespace: pcr.metadata.namespace ?? '',
  serviceAccountName: pcr.spec.serviceAccountName,
  podName: pcr.spec.podName,
  podUID: pcr.spec.podUID,
  nodeName: pcr.spec.nodeName,
  trustDomain: config.trustDomain,
});

const q = (value: string): string => JSON.stringify(value);
const render = (template: string, values: TemplateValues): string => renderIdentityTemplate(identityTemplate(template), values);
const unique = (values: readonly string[]): string[] => values.filter((v, i) => values.indexOf(v) === i);
/** Printable ASCII: what an IA5String URI may hold for Go's url.Parse to read it back. */
const printableAscii = /^[\x21-\x7e]+$/;

/** Why a rendered subject value cannot be issued (pki's checks, and RFC 5280's bound); "" is left out, not refused. */
const subjectProblem = (value: string): string | undefined =>
  value === '' ? undefined
    : value.length > maxSubjectValueLength ? `is longer than ${maxSubjectValueLength} characters` : subjectValueProblem(value);

export interface PodCertificateIdentity {
  readonly subject: SubjectSpec;
  readonly subjectAltNames: SubjectAltNames;
}

/**
 * The subject and subjectAltNames: template DNS names (lowercase), then `extraDnsNames`
 * (already checked, e.g. from the annotation), each once; the URIs in order. A rendered value
 * a certificate cannot hold gives one sentence naming it.
 */
export function podCertificateIdentity(
  config: PodCertificateConfig, values: TemplateValues, extraDnsNames: readonly string[],
): PodCertificateIdentity | { readonly problem: string } {
  const dnsNames: string[] = [];
  for (const template of config.dnsNames) {
    const rendered = renderNameTemplate(template, values, 'dns');
    if ('problem' in rendered) return { problem: `the DNS name template ${q(template)} cannot be rendered: ${rendered.problem}` };
    const name = rendered.name.toLowerCase();
    if (!isDnsName(name)) return { problem: `DNS name ${q(name)} rendered from the template ${q(template)} is not a valid DNS name` };
    dnsNames.push(name);
  }
  const uris: string[] = [];
  for (const template of config.uris) {
    const rendered = renderNameTemplate(template, values, 'uri');
    if ('problem' in rendered) return { problem: `the URI template ${q(template)} cannot be rendered: ${rendered.problem}` };
    const uri = rendered.name;
    const problem = !printableAscii.test(uri) ? 'it is empty or holds a character outside printable ASCII'
      : uriProblem(uri) ?? (/^spiffe:/i.test(uri) ? spiffeIdProblem(uri) : undefined);
    if (problem !== undefined) return { problem: `URI ${q(uri)} rendered from the template ${q(template)} is not a valid URI (${problem})` };
    uris.push(uri);
  }
  const subject: { commonName?: string; organizations?: string[] } = {};
  const commonName = config.subject?.commonName;
  if (commonName !== undefined) {
    const cn = render(commonName, values);
    const problem = subjectProblem(cn);
    if (problem !== undefined) return { problem: `commonName ${q(cn)} rendered from the template ${q(commonName)} ${problem}` };
    if (cn !== '') subject.commonName = cn;
  }
  const organizations: string[] = [];
  for (const template of config.subject?.organizations ?? []) {
    const o = render(template, values);
    const problem = subjectProblem(o);
    if (problem !== undefined) return { problem: `organization ${q(o)} rendered from the template ${q(template)} ${problem}` };
    if (o !== '') organizations.push(o);
  }
  if (organizations.length > 0) subject.organizations = unique(organizations);
  return {
    subject,
    subjectAltNames: { dnsNames: unique([...dnsNames, ...extraDnsNames]), emailAddresses: [], ipAddresses: [], uris: unique(uris) },
  };
}
