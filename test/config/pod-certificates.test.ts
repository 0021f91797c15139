/**
 * A signer's `podCertificates:` and `certificateSigningRequests:` (src/config/pod-certificates.ts,
 * signer-entry.ts): the defaults, every field read, and each refusal as the one sentence
 * that names the file, the signer and the field path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { readConfigDocument, readConfigFile } from '../../src/config/index.js';
import {
  defaultMaxLifetimeMs, defaultPodCertificateUri, defaultPodCertificateUsages, defaultRefresh, defaultTrustDomain,
  dnsNameProblem, sampleTemplateValues,
} from '../../src/config/pod-certificates.js';
import { identityUriProblem as uriProblem, trustDomainProblem } from '../../src/signer/pod-certificate-names.js';
import { podCertificateKeyTypes } from '../../src/pki/index.js';

const file = 'signers.yaml';
const where = `${file}: signer "example.com/pods"`;
const ca = { certFile: 'ca.pem', keyFile: 'ca-key.pem' };
const everywhere = { namespaces: { all: true } };

/** A config file with one signer `example.com/pods` (a CSR policy unless `extra` says otherwise) and `podCertificates`. */
const configOf = (podCertificates: unknown, extra: Readonly<Record<string, unknown>> = {}, name = 'example.com/pods'): string => stringify({
  apiVersion: 'csr-signer.io/v1alpha1',
  kind: 'SignerConfiguration',
  signers: [{ name, ca, ...(extra.certificateSigningRequests === false || name.startsWith('kubernetes.io/') ? {} : { policy: { unrestricted: true } }), ...(podCertificates === undefined ? {} : { podCertificates }), ...extra }],
});
const read = (podCertificates: unknown, extra?: Readonly<Record<string, unknown>>): unknown => readConfigFile(file, configOf(podCertificates, extra))[0]?.podCertificates;
/** The error of `podCertificates` with `fields` added to `namespaces: {all: true}`. */
const refusal = (fields: Readonly<Record<string, unknown>>): string => {
  try {
    read({ ...everywhere, ...fields });
  } catch (e) {
    return (e as Error).message;
  }
  return '(accepted)';
};
const at = (path: string, detail: string): string => `${where}: signers[0].podCertificates${path}: ${detail}`;

void t.test('defaults', (t) => {
  t.equal(read(undefined), undefined, 'no podCertificates: no PodCertificateRequests');
  const signer = readConfigFile(file, configOf(undefined))[0];
  t.notOk(signer && 'certificateSigningRequests' in signer, 'certificateSigningRequests left out: absent, which means true');
  t.same(read(everywhere), {
    trustDomain: 'cluster.local',
    uris: ['spiffe://{trustDomain}/ns/{namespace}/sa/{serviceAccountName}'],
    dnsNames: [],
    usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'],
    maxLifetimeMs: 24 * 3_600_000,
    refresh: { from: 0.5, to: 0.7 },
    namespaces: { all: true },
    keyTypes: ['RSA3072', 'RSA4096', 'ECDSAP256', 'ECDSAP384', 'ECDSAP521', 'ED25519'],
    nonEmptyStub: 'deny',
    podCheck: false,
    apiVersion: 'auto',
  }, 'the defaults the types document');
  t.equal(defaultTrustDomain, 'cluster.local');
  t.equal(defaultPodCertificateUri, 'spiffe://{trustDomain}/ns/{namespace}/sa/{serviceAccountName}');
  t.same(defaultPodCertificateUsages, ['digital signature', 'key encipherment', 'server auth', 'client auth']);
  t.equal(defaultMaxLifetimeMs, 86_400_000);
  t.match(read({ ...everywhere, usages: ['digital signature', 'key encipherment', 'key agreement', 'data encipherment', 'content commitment', 'server auth', 'client auth'] }), { usages: ['digital signature', 'key encipherment', 'key agreement', 'data encipherment', 'content commitment', 'server auth', 'client auth'] }, 'every usage a pod certificate may have');
  t.same(defaultRefresh, { from: 0.5, to: 0.7 });
  t.match(read({ ...everywhere, uris: [], dnsNames: ['{podName}.{namespace}.example.com'] }), { uris: [], dnsNames: ['{podName}.{namespace}.example.com'] }, 'uris: [] with a DNS name');
  t.match(read({ ...everywhere, uris: [], subject: { commonName: '{serviceAccountName}' } }), { uris: [], subject: { commonName: '{serviceAccountName}' } }, 'uris: [] with a CN');
  t.end();
});

void t.test('every field is read', (t) => {
  t.same(read({
    namespaces: { names: ['shop', 'builds'], selector: { matchLabels: { 'pod-certificates': 'on' }, matchExpressions: [{ key: 'team', operator: 'Exists' }] } },
    serviceAccounts: ['shop/*', '*/builder', 'builds/ci.runner'],
    trustDomain: 'prod.example_org',
    uris: ['spiffe://{trustDomain}/ns/{namespace}/sa/{serviceAccountName}', 'https://id.example.com/{podUID}?node={nodeName}'],
    dnsNames: ['{serviceAccountName}.{namespace}.svc', '{podName}.{namespace}.pods.example.com'],
    subject: { commonName: '{serviceAccountName}', organizations: ['{namespace}', 'Example Ltd'] },
    usages: ['digital signature', 'server auth'],
    maxLifetime: '2184h',
    refresh: { from: 0.25, to: 0.25 },
    keyTypes: ['ED25519', 'ECDSAP256'],
    userAnnotations: { dnsNames: { key: 'example.com/dns-names', allowed: ['*.{namespace}.svc.cluster.local', 'api.{namespace}.example.com'] } },
    nonEmptyStub: 'ignore',
    podCheck: true,
    apiVersion: 'v1beta1',
  }), {
    trustDomain: 'prod.example_org',
    uris: ['spiffe://{trustDomain}/ns/{namespace}/sa/{serviceAccountName}', 'https://id.example.com/{podUID}?node={nodeName}'],
    dnsNames: ['{serviceAccountName}.{namespace}.svc', '{podName}.{namespace}.pods.example.com'],
    subject: { commonName: '{serviceAccountName}', organizations: ['{namespace}', 'Example Ltd'] },
    usages: ['digital signature', 'server auth'],
    maxLifetimeMs: 2184 * 3_600_000,
    refresh: { from: 0.25, to: 0.25 },
    namespaces: { names: ['shop', 'builds'], selector: { matchLabels: { 'pod-certificates': 'on' }, matchExpressions: [{ key: 'team', operator: 'Exists' }] } },
    serviceAccounts: ['shop/*', '*/builder', 'builds/ci.runner'],
    keyTypes: ['ED25519', 'ECDSAP256'],
    userAnnotations: { dnsNames: { key: 'example.com/dns-names', allowed: ['*.{namespace}.svc.cluster.local', 'api.{namespace}.example.com'] } },
    nonEmptyStub: 'ignore',
    podCheck: true,
    apiVersion: 'v1beta1',
  });
  t.match(read({ ...everywhere, maxLifetime: '1h', refresh: { from: 0.01, to: 0.99 }, apiVersion: 'v1' }), { maxLifetimeMs: 3_600_000, refresh: { from: 0.01, to: 0.99 }, apiVersion: 'v1' }, 'the bounds');
  t.match(read({ namespaces: { selector: { matchLabels: { a: 'b' } } } }), { namespaces: { selector: { matchLabels: { a: 'b' } } } }, 'a selector alone');
  t.match(read({ namespaces: { names: ['shop'] }, nonEmptyStub: 'deny', podCheck: false, apiVersion: 'auto' }), { namespaces: { names: ['shop'] }, nonEmptyStub: 'deny', podCheck: false, apiVersion: 'auto' });
  t.end();
});

void t.test('podCertificates: with nothing after it is read as {}, so namespaces is asked for', (t) => {
  t.throws(() => readConfigFile(file, configOf(null)), { message: at('.namespaces', 'is required: the namespaces whose pods may get certificates, as names, a selector or both, or all: true for every namespace') });
  t.throws(() => readConfigFile(file, configOf([])), { message: `${where}: signers[0].podCertificates: must be a mapping, not a list` });
  t.end();
});

void t.test('namespaces', (t) => {
  const cases: [unknown, string, string][] = [
    [{}, '.namespaces', 'names no namespace: give names, a selector or both, or all: true to serve every namespace'],
    [{ all: true, names: ['shop'] }, '.namespaces.all', 'contradicts names: all: true serves every namespace, so remove it to serve only those of names, or remove names'],
    [{ all: true, selector: { matchLabels: { a: 'b' } } }, '.namespaces.all', 'contradicts selector: all: true serves every namespace, so remove it to serve only those of selector, or remove selector'],
    [{ all: false }, '.namespaces.all', 'may only be true (leave it out to serve the namespaces of names and selector)'],
    [{ all: 'yes' }, '.namespaces.all', 'must be true or false, not the string "yes"'],
    [{ names: [] }, '.namespaces.names', 'must not be empty (leave the field out instead)'],
    [{ names: ['Shop'] }, '.namespaces.names[0]', '"Shop" is not a valid namespace name: at most 63 lower case letters, digits and \'-\', starting and ending with a letter or digit'],
    [{ names: ['a.b'] }, '.namespaces.names[0]', '"a.b" is not a valid namespace name: at most 63 lower case letters, digits and \'-\', starting and ending with a letter or digit'],
    [{ names: ['shop', 'shop'] }, '.namespaces.names[1]', '"shop" is listed twice'],
    [{ selector: {} }, '.namespaces.selector', 'is empty and would match every namespace: give matchLabels or matchExpressions, or say all: true'],
    [{ selector: { matchLabels: { 'bad key!': 'x' } } }, '.namespaces.selector.matchLabels.bad key!', '"bad key!" is not a valid label key: at most 63 letters, digits, \'-\', \'_\' and \'.\', starting and ending with a letter or digit, after an optional prefix/'],
    [{ selector: { matchExpressions: [{ key: 'a', operator: 'In' }] } }, '.namespaces.selector.matchExpressions[0].values', 'must list at least one value for In'],
    [{ names: ['shop'], other: 1 }, '.namespaces.other', 'unknown field; the fields of signers[0].podCertificates.namespaces are all, names, selector'],
  ];
  for (const [namespaces, path, detail] of cases) t.equal(refusal({ namespaces }), at(path, detail), JSON.stringify(namespaces));
  t.throws(() => read({ uris: [] }), { message: at('.namespaces', 'is required: the namespaces whose pods may get certificates, as names, a selector or both, or all: true for every namespace') });
  t.end();
});

void t.test('serviceAccounts', (t) => {
  const cases: [unknown, string, string][] = [
    [[], '', 'must not be empty (leave the field out instead)'],
    [['shop'], '[0]', '"shop" is not of the form namespace/name (either part may be *, as in shop/* or */builder)'],
    [['a/b/c'], '[0]', '"a/b/c" is not of the form namespace/name (either part may be *, as in shop/* or */builder)'],
    [['Shop/*'], '[0]', '"Shop/*" has "Shop" as its namespace, which is neither * nor a valid namespace name (lower case letters, digits and \'-\')'],
    [['shop/'], '[0]', '"shop/" has "" as its ServiceAccount name, which is neither * nor a valid object name (lower case letters, digits, \'-\' and \'.\')'],
    [['shop/Web'], '[0]', '"shop/Web" has "Web" as its ServiceAccount name, which is neither * nor a valid object name (lower case letters, digits, \'-\' and \'.\')'],
    [['shop/w*'], '[0]', '"shop/w*" has "w*" as its ServiceAccount name, which is neither * nor a valid object name (lower case letters, digits, \'-\' and \'.\')'],
    [['shop/*', 'shop/*'], '[1]', '"shop/*" is listed twice'],
    ['shop/*', '', 'must be a list, not the string "shop/*"'],
  ];
  for (const [serviceAccounts, path, detail] of cases) t.equal(refusal({ serviceAccounts }), at(`.serviceAccounts${path}`, detail), JSON.stringify(serviceAccounts));
  t.match(read({ ...everywhere, serviceAccounts: ['*/*'] }), { serviceAccounts: ['*/*'] });
  t.end();
});

void t.test('trustDomain', (t) => {
  const cases: [unknown, string][] = [
    ['Cluster.local', '"Cluster.local" is not a valid SPIFFE trust domain: write it in lower case'],
    ['cluster.local:8443', '"cluster.local:8443" is not a valid SPIFFE trust domain: a trust domain has no port'],
    ['admin@cluster.local', '"admin@cluster.local" is not a valid SPIFFE trust domain: a trust domain has no user part'],
    ['spiffe://cluster.local', '"spiffe://cluster.local" is not a valid SPIFFE trust domain: give the domain alone, without spiffe://'],
    ['cluster local', '"cluster local" is not a valid SPIFFE trust domain: it may hold only lowercase letters, digits, \'.\', \'-\' and \'_\''],
    ['a'.repeat(256), `"${'a'.repeat(256)}" is longer than 255 characters, the most a SPIFFE trust domain may have`],
    ['.', '"." is not a valid SPIFFE trust domain: it has an empty label (a leading, trailing or doubled dot)'],
    ['..-_', '"..-_" is not a valid SPIFFE trust domain: it has an empty label (a leading, trailing or doubled dot)'],
    ['.cluster.local', '".cluster.local" is not a valid SPIFFE trust domain: it has an empty label (a leading, trailing or doubled dot)'],
    ['cluster.local.', '"cluster.local." is not a valid SPIFFE trust domain: it has an empty label (a leading, trailing or doubled dot)'],
    ['cluster..local', '"cluster..local" is not a valid SPIFFE trust domain: it has an empty label (a leading, trailing or doubled dot)'],
    ['-_', '"-_" is not a valid SPIFFE trust domain: its label "-_" does not start and end with a letter or digit'],
    ['cluster.local-', '"cluster.local-" is not a valid SPIFFE trust domain: its label "local-" does not start and end with a letter or digit'],
    ['', 'must not be empty'],
    [true, 'must be a string, not boolean true'],
  ];
  for (const [trustDomain, detail] of cases) t.equal(refusal({ trustDomain }), at('.trustDomain', detail), String(trustDomain).slice(0, 40));
  t.equal(refusal({ trustDomain: 'td_1-x.example-org.a' }), '(accepted)', '\'_\' and \'-\' inside labels');
  t.match(read({ ...everywhere, trustDomain: 'a'.repeat(255) }), { trustDomain: 'a'.repeat(255) }, '255 characters');
  t.end();
});

void t.test('uris: each template parses and renders to a valid URI', (t) => {
  const sample = (rendered: string): string => `(rendered with the sample value a for each placeholder: ${JSON.stringify(rendered)})`;
  const cases: [string, string][] = [
    ['spiffe://{trustdomain}/x', '"spiffe://{trustdomain}/x" is not a valid template: {trustdomain} is not a placeholder; use {namespace}, {serviceAccountName}, {podName}, {podUID}, {nodeName}, {trustDomain}'],
    ['spiffe://{trustDomain}/ns/{namespace', '"spiffe://{trustDomain}/ns/{namespace" is not a valid template: the "{" at position 27 is never closed'],
    ['spiffe://{trustDomain}/ns/{namespace}//sa', `"spiffe://{trustDomain}/ns/{namespace}//sa" is not a valid URI ${sample('spiffe://cluster.local/ns/a//sa')}: as a SPIFFE ID, its path has an empty segment (two slashes in a row, or a trailing slash)`],
    ['spiffe://{trustDomain}/ns/{namespace}/', `"spiffe://{trustDomain}/ns/{namespace}/" is not a valid URI ${sample('spiffe://cluster.local/ns/a/')}: as a SPIFFE ID, its path has an empty segment (two slashes in a row, or a trailing slash)`],
    ['spiffe://{trustDomain}/ns/../{namespace}', `"spiffe://{trustDomain}/ns/../{namespace}" is not a valid URI ${sample('spiffe://cluster.local/ns/../a')}: as a SPIFFE ID, its path has the segment ".."`],
    ['spiffe://{trustDomain}/ns/{namespace}?x=1', `"spiffe://{trustDomain}/ns/{namespace}?x=1" is not a valid URI ${sample('spiffe://cluster.local/ns/a?x=1')}: a SPIFFE ID has no query or fragment`],
    ['spiffe://{trustDomain}/ns/a%2Fb', `"spiffe://{trustDomain}/ns/a%2Fb" is not a valid URI ${sample('spiffe://cluster.local/ns/a%2Fb')}: as a SPIFFE ID, its path segment "a%2Fb" may hold only letters, digits, '.', '-' and '_'`],
    ['spiffe:///ns/{namespace}', `"spiffe:///ns/{namespace}" is not a valid URI ${sample('spiffe:///ns/a')}: as a SPIFFE ID, it has no trust domain`],
    ['spiffe://Example.com/{namespace}', `"spiffe://Example.com/{namespace}" is not a valid URI ${sample('spiffe://Example.com/a')}: as a SPIFFE ID, "Example.com" is not a valid SPIFFE trust domain: write it in lower case`],
    ['SPIFFE://{trustDomain}/{namespace}', `"SPIFFE://{trustDomain}/{namespace}" is not a valid URI ${sample('SPIFFE://cluster.local/a')}: a SPIFFE ID starts with spiffe:// in lower case`],
    ['/ns/{namespace}', `"/ns/{namespace}" is not a valid URI ${sample('/ns/a')}: an absolute URI is a scheme, ':', then only the characters RFC 3986 allows (escape others with %)`],
    ['https://example.com/{namespace} x', `"https://example.com/{namespace} x" is not a valid URI ${sample('https://example.com/a x')}: an absolute URI is a scheme, ':', then only the characters RFC 3986 allows (escape others with %)`],
    ['https://example.com/%zz', '"https://example.com/%zz" is not a valid URI: it has a \'%\' not followed by two hexadecimal digits'],
  ];
  for (const [uri, detail] of cases) t.equal(refusal({ uris: [uri] }), at('.uris[0]', detail), uri);
  t.equal(refusal({ uris: ['urn:example:{podUID}', 'spiffe://{trustDomain}//x'] }), at('.uris[1]', `"spiffe://{trustDomain}//x" is not a valid URI ${sample('spiffe://cluster.local//x')}: as a SPIFFE ID, its path has an empty segment (two slashes in a row, or a trailing slash)`), 'the index of the bad one');
  t.equal(refusal({ uris: ['urn:x', 'urn:x'] }), at('.uris[1]', '"urn:x" is listed twice'));
  t.equal(refusal({ trustDomain: 'prod', uris: ['spiffe://{trustDomain}.example/x'] }), '(accepted)', '{trustDomain} renders to the configured domain');
  t.equal(refusal({ trustDomain: 'prod', uris: ['spiffe://{trustDomain}.-/x'] }), at('.uris[0]', `"spiffe://{trustDomain}.-/x" is not a valid URI ${sample('spiffe://prod.-/x')}: as a SPIFFE ID, "prod.-" is not a valid SPIFFE trust domain: its label "-" does not start and end with a letter or digit`), 'the rendered trust domain is checked as one');
  t.match(read({ ...everywhere, uris: ['spiffe://{trustDomain}', 'urn:uuid:{podUID}', 'https://a.example/{namespace}/{podName}#x'] }), { uris: ['spiffe://{trustDomain}', 'urn:uuid:{podUID}', 'https://a.example/{namespace}/{podName}#x'] }, 'a bare trust domain is a SPIFFE ID; other schemes are URIs');
  t.end();
});

void t.test('dnsNames: each template parses and renders to a valid DNS name', (t) => {
  const cases: [string, string][] = [
    ['{namespace}..svc', '"{namespace}..svc" is not a valid DNS name (rendered with the sample value a for each placeholder: "a..svc"): it has an empty label (two dots in a row, or a leading dot)'],
    ['{namespace}.svc.', '"{namespace}.svc." is not a valid DNS name (rendered with the sample value a for each placeholder: "a.svc."): it ends with a dot'],
    ['*.{namespace}.svc', '"*.{namespace}.svc" is not a valid DNS name (rendered with the sample value a for each placeholder: "*.a.svc"): it has a wildcard, and a pod certificate names its own host'],
    ['{podName}_x.example.com', '"{podName}_x.example.com" is not a valid DNS name (rendered with the sample value a for each placeholder: "a_x.example.com"): it has the label "a_x", which is not 1–63 letters, digits or \'-\', starting and ending with a letter or digit'],
    ['-{podName}.example.com', '"-{podName}.example.com" is not a valid DNS name (rendered with the sample value a for each placeholder: "-a.example.com"): it has the label "-a", which is not 1–63 letters, digits or \'-\', starting and ending with a letter or digit'],
    [`${'a'.repeat(250)}.com`, `"${'a'.repeat(250)}.com" is not a valid DNS name: it is longer than 253 characters`],
    ['{pod}.example.com', '"{pod}.example.com" is not a valid template: {pod} is not a placeholder; use {namespace}, {serviceAccountName}, {podName}, {podUID}, {nodeName}, {trustDomain}'],
    ['x}.example.com', '"x}.example.com" is not a valid template: a "}" at position 2 closes no placeholder'],
  ];
  for (const [name, detail] of cases) t.equal(refusal({ dnsNames: [name] }), at('.dnsNames[0]', detail), name.slice(0, 40));
  const anchors: [string, string][] = [
    ['{serviceAccountName}.svc.cluster.local', '"{serviceAccountName}.svc.cluster.local" has no {namespace}: names without the namespace would let pods of different namespaces share a name; add {namespace} as a label of its own, as in {serviceAccountName}.{namespace}.svc'],
    ['static.example.com', '"static.example.com" has no {namespace}: names without the namespace would let pods of different namespaces share a name; add {namespace} as a label of its own, as in {serviceAccountName}.{namespace}.svc'],
    ['{namespace}-{podName}.example.com', '"{namespace}-{podName}.example.com" has {namespace} inside a label, so pods of different namespaces could share a name (namespace a with pod b-c, namespace a-b with pod c); give {namespace} a label of its own, as in {serviceAccountName}.{namespace}.svc'],
    ['{podName}.ns-{namespace}.example.com', '"{podName}.ns-{namespace}.example.com" has {namespace} inside a label, so pods of different namespaces could share a name (namespace a with pod b-c, namespace a-b with pod c); give {namespace} a label of its own, as in {serviceAccountName}.{namespace}.svc'],
  ];
  for (const [name, detail] of anchors) {
    t.equal(refusal({ dnsNames: [name] }), at('.dnsNames[0]', detail), `namespace anchor: ${name}`);
    t.equal(refusal({ userAnnotations: { dnsNames: { key: 'example.com/dns', allowed: ['*.{namespace}.svc', name] } } }), at('.userAnnotations.dnsNames.allowed[1]', detail), `namespace anchor in a pattern: ${name}`);
  }
  t.match(read({ ...everywhere, dnsNames: ['{serviceAccountName}.{namespace}.svc', '{podName}-{nodeName}.{namespace}.Example.com', '{namespace}'] }), { dnsNames: ['{serviceAccountName}.{namespace}.svc', '{podName}-{nodeName}.{namespace}.Example.com', '{namespace}'] });
  t.end();
});

void t.test('subject', (t) => {
  const cases: [unknown, string, string][] = [
    [{}, '.subject', 'give commonName, organizations or both (leave subject out for an empty subject)'],
    [{ commonName: '{namespace' }, '.subject.commonName', '"{namespace" is not a valid template: the "{" at position 1 is never closed'],
    [{ commonName: 'x'.repeat(65) }, '.subject.commonName', `"${'x'.repeat(65)}" is not a valid common name: it is longer than 64 characters`],
    [{ commonName: '' }, '.subject.commonName', 'must not be empty'],
    [{ organizations: [] }, '.subject.organizations', 'must not be empty (leave the field out instead)'],
    [{ organizations: ['{team}'] }, '.subject.organizations[0]', '"{team}" is not a valid template: {team} is not a placeholder; use {namespace}, {serviceAccountName}, {podName}, {podUID}, {nodeName}, {trustDomain}'],
    [{ cn: 'x' }, '.subject.cn', 'unknown field; the fields of signers[0].podCertificates.subject are commonName, organizations'],
  ];
  for (const [subject, path, detail] of cases) t.equal(refusal({ subject }), at(path, detail), JSON.stringify(subject).slice(0, 40));
  t.match(read({ ...everywhere, subject: { organizations: ['{namespace}'] } }), { subject: { organizations: ['{namespace}'] } }, 'organizations alone');
  t.end();
});

void t.test('an identity is required: a URI, a DNS name or a subject CN', (t) => {
  const none = at('', 'certifies no identity, as uris and dnsNames are empty and subject has no commonName: give at least one (uris defaults to the SPIFFE ID of the pod\'s ServiceAccount)');
  t.equal(refusal({ uris: [] }), none);
  t.equal(refusal({ uris: [], dnsNames: [] }), none);
  t.equal(refusal({ uris: [], subject: { organizations: ['{namespace}'] } }), none, 'an organization is no identity');
  t.equal(refusal({ uris: [], podCheck: 'yes' }), at('.podCheck', 'must be true or false, not the string "yes"'), 'a bad field is named first');
  t.end();
});

void t.test('usages, maxLifetime, refresh, keyTypes', (t) => {
  const cases: [Record<string, unknown>, string, string][] = [
    [{ usages: [] }, '.usages', 'must not be empty (leave the field out instead)'],
    [{ usages: ['server-auth'] }, '.usages[0]', '"server-auth" is not a Kubernetes usage; a pod certificate may have digital signature, key encipherment, key agreement, data encipherment, content commitment, server auth, client auth'],
    [{ usages: ['digital signature', 'cert sign'] }, '.usages[1]', '"cert sign" is refused: it would let the pod\'s certificate sign certificates, as a CA; a pod certificate may have digital signature, key encipherment, key agreement, data encipherment, content commitment, server auth, client auth'],
    [{ usages: ['crl sign'] }, '.usages[0]', '"crl sign" is refused: it would let the pod\'s certificate sign revocation lists, as a CA; a pod certificate may have digital signature, key encipherment, key agreement, data encipherment, content commitment, server auth, client auth'],
    [{ usages: ['ocsp signing'] }, '.usages[0]', '"ocsp signing" is refused: it would let the pod\'s certificate answer for other certificates, as an OCSP responder; a pod certificate may have digital signature, key encipherment, key agreement, data encipherment, content commitment, server auth, client auth'],
    [{ usages: ['any'] }, '.usages[0]', '"any" is refused: it allows every extended usage, a CA\'s and an OCSP responder\'s included; a pod certificate may have digital signature, key encipherment, key agreement, data encipherment, content commitment, server auth, client auth'],
    [{ usages: ['code signing'] }, '.usages[0]', '"code signing" is refused: a pod\'s certificate identifies a workload in TLS, and nothing else; a pod certificate may have digital signature, key encipherment, key agreement, data encipherment, content commitment, server auth, client auth'],
    [{ maxLifetime: '59m59s' }, '.maxLifetime', '59m59s is shorter than 1h0m0s, the shortest pod certificate csr-signer gives'],
    [{ maxLifetime: '2184h1s' }, '.maxLifetime', '2184h0m1s is longer than 2184h0m0s (91 days), the longest a PodCertificateRequest may ask for'],
    [{ maxLifetime: '1d' }, '.maxLifetime', 'invalid duration "1d": unexpected "1d"'],
    [{ maxLifetime: 3600 }, '.maxLifetime', 'must be a Go duration string such as "720h", not number 3600'],
    [{ refresh: { from: 0.8, to: 0.7 } }, '.refresh.from', '0.8 is after to (0.7): the refresh time is drawn between from and to'],
    [{ refresh: { from: 0.5 } }, '.refresh.to', 'is required: refresh gives from and to, fractions of the lifetime with 0 < from <= to < 1'],
    [{ refresh: { to: 0.5 } }, '.refresh.from', 'is required: refresh gives from and to, fractions of the lifetime with 0 < from <= to < 1'],
    [{ refresh: { from: 0, to: 0.5 } }, '.refresh.from', 'must be a number greater than 0 and less than 1, such as 0.5, not 0'],
    [{ refresh: { from: 0.5, to: 1 } }, '.refresh.to', 'must be a number greater than 0 and less than 1, such as 0.5, not 1'],
    [{ refresh: { from: '0.5', to: 0.7 } }, '.refresh.from', 'must be a number greater than 0 and less than 1, such as 0.5, not the string "0.5"'],
    [{ refresh: { from: 0.5, to: 0.7, jitter: 1 } }, '.refresh.jitter', 'unknown field; the fields of signers[0].podCertificates.refresh are from, to'],
    [{ keyTypes: [] }, '.keyTypes', 'must not be empty (leave the field out instead)'],
    [{ keyTypes: ['ecdsa-p256'] }, '.keyTypes[0]', '"ecdsa-p256" is not one of RSA3072, RSA4096, ECDSAP256, ECDSAP384, ECDSAP521, ED25519, the key types of a podCertificate projection'],
    [{ keyTypes: ['ED25519', 'ED25519'] }, '.keyTypes[1]', '"ED25519" is listed twice'],
  ];
  for (const [fields, path, detail] of cases) t.equal(refusal(fields), at(path, detail), JSON.stringify(fields));
  t.match(read({ ...everywhere, keyTypes: [...podCertificateKeyTypes].reverse() }), { keyTypes: [...podCertificateKeyTypes].reverse() }, 'order kept: the first is the one a denial suggests');
  t.end();
});

void t.test('refresh fractions as YAML writes them', (t) => {
  const text = (refresh: string): string => `apiVersion: csr-signer.io/v1alpha1\nkind: SignerConfiguration\nsigners:\n  - name: example.com/pods\n    ca: { certFile: a, keyFile: b }\n    certificateSigningRequests: false\n    podCertificates: { namespaces: { all: true }, refresh: ${refresh} }\n`;
  t.match(readConfigFile(file, text('{ from: .5, to: 0.75 }'))[0]?.podCertificates, { refresh: { from: 0.5, to: 0.75 } });
  t.throws(() => readConfigFile(file, text('{ from: 5e-1, to: 0.75 }')), { message: at('.refresh.from', 'must be a number greater than 0 and less than 1, such as 0.5, not 5e-1') }, 'an exponent is refused, as for counts');
  t.end();
});

void t.test('userAnnotations', (t) => {
  const dns = (d: unknown): Record<string, unknown> => ({ userAnnotations: { dnsNames: d } });
  const cases: [Record<string, unknown>, string, string][] = [
    [{ userAnnotations: {} }, '.userAnnotations', 'give dnsNames (leave userAnnotations out to honour no annotation)'],
    [{ userAnnotations: { uris: {} } }, '.userAnnotations.uris', 'unknown field; the fields of signers[0].podCertificates.userAnnotations are dnsNames'],
    [dns({ allowed: ['a.example.com'] }), '.userAnnotations.dnsNames.key', 'is required: the annotation key (with a domain prefix, as in example.com/dns-names) whose value lists extra DNS names'],
    [dns({ key: 'dns-names', allowed: ['a.example.com'] }), '.userAnnotations.dnsNames.key', '"dns-names" has no domain prefix, and Kubernetes accepts only domain-prefixed keys in unverifiedUserAnnotations: write it as example.com/dns-names'],
    [dns({ key: 'Example.com/dns', allowed: ['a.example.com'] }), '.userAnnotations.dnsNames.key', '"Example.com/dns" is not a valid annotation key: its prefix must be a DNS subdomain'],
    [dns({ key: 'example.com/dns names', allowed: ['a.example.com'] }), '.userAnnotations.dnsNames.key', '"example.com/dns names" is not a valid annotation key: at most 63 letters, digits, \'-\', \'_\' and \'.\', starting and ending with a letter or digit, after an optional prefix/'],
    [dns({ key: 'example.com/dns' }), '.userAnnotations.dnsNames.allowed', 'is required: the DNS name patterns the annotation\'s names must match (exact, or *. for one leftmost label)'],
    [dns({ key: 'example.com/dns', allowed: [] }), '.userAnnotations.dnsNames.allowed', 'must not be empty (leave the field out instead)'],
    [dns({ key: 'example.com/dns', allowed: ['a.*.svc'] }), '.userAnnotations.dnsNames.allowed[0]', '"a.*.svc" is not a valid DNS name pattern: \'*\' is allowed only as the whole leftmost label, as in \'*.example.com\''],
    [dns({ key: 'example.com/dns', allowed: ['*.{namespace}..svc'] }), '.userAnnotations.dnsNames.allowed[0]', '"*.{namespace}..svc" is not a valid DNS name pattern (rendered with the sample value a for each placeholder: "*.a..svc"): has an empty label (two dots in a row, or a leading dot)'],
    [dns({ key: 'example.com/dns', allowed: ['*.{ns}.svc'] }), '.userAnnotations.dnsNames.allowed[0]', '"*.{ns}.svc" is not a valid template: {ns} is not a placeholder; use {namespace}, {serviceAccountName}, {podName}, {podUID}, {nodeName}, {trustDomain}'],
    [dns({ key: 'example.com/dns', allowed: ['*'] }), '.userAnnotations.dnsNames.allowed[0]', '"*" is not a valid DNS name pattern: a wildcard needs a domain after it, as in \'*.example.com\''],
    [dns({ key: 'example.com/dns', allowed: ['a.example.com'], max: 3 }), '.userAnnotations.dnsNames.max', 'unknown field; the fields of signers[0].podCertificates.userAnnotations.dnsNames are key, allowed'],
  ];
  for (const [fields, path, detail] of cases) t.equal(refusal(fields), at(path, detail), JSON.stringify(fields));
  t.match(read({ ...everywhere, ...dns({ key: 'dns.example.com/extra-names', allowed: ['*.{namespace}.svc.cluster.local', '{podName}.{nodeName}.{namespace}.example.com'] }) }),
    { userAnnotations: { dnsNames: { key: 'dns.example.com/extra-names', allowed: ['*.{namespace}.svc.cluster.local', '{podName}.{nodeName}.{namespace}.example.com'] } } });
  t.end();
});

void t.test('nonEmptyStub, podCheck, apiVersion, unknown fields', (t) => {
  const cases: [Record<string, unknown>, string, string][] = [
    [{ nonEmptyStub: 'allow' }, '.nonEmptyStub', '"allow" is not one of deny, ignore'],
    [{ podCheck: 'true' }, '.podCheck', 'must be true or false, not the string "true"'],
    [{ apiVersion: 'v1alpha1' }, '.apiVersion', '"v1alpha1" is not one of auto, v1, v1beta1'],
    [{ trust: {} }, '.trust', 'unknown field; the fields of signers[0].podCertificates are namespaces, serviceAccounts, trustDomain, uris, dnsNames, subject, usages, maxLifetime, refresh, keyTypes, userAnnotations, nonEmptyStub, podCheck, apiVersion'],
  ];
  for (const [fields, path, detail] of cases) t.equal(refusal(fields), at(path, detail), JSON.stringify(fields));
  t.end();
});

void t.test('certificateSigningRequests', (t) => {
  const signer = (extra: Record<string, unknown>, podCertificates: unknown = everywhere): unknown => readConfigFile(file, configOf(podCertificates, extra))[0];
  const fail = (path: string, detail: string): { message: string } => ({ message: `${where}: signers[0].${path}: ${detail}` });
  t.match(signer({ certificateSigningRequests: false }), { certificateSigningRequests: false, podCertificates: { namespaces: { all: true } } }, 'pod certificates only');
  t.notOk(Object.hasOwn(signer({ certificateSigningRequests: false }) as object, 'policy'), 'and no CSR policy is required');
  t.notOk(Object.hasOwn(signer({ certificateSigningRequests: true, policy: { unrestricted: true } }) as object, 'certificateSigningRequests'), 'true is the default, kept absent');
  t.throws(() => readConfigFile(file, configOf(undefined, { certificateSigningRequests: false })), fail('certificateSigningRequests', 'is false and the signer has no podCertificates, so it would sign nothing: add podCertificates, or remove the signer'));
  t.throws(() => signer({ certificateSigningRequests: 'no' }), fail('certificateSigningRequests', 'must be true or false, not the string "no"'));
  for (const [key, value] of [['duration', { max: '24h' }], ['usages', { allowed: ['server auth'] }], ['keyTypes', ['rsa']], ['includeChain', true], ['policy', { unrestricted: true }]] as const) {
    t.throws(() => signer({ certificateSigningRequests: false, [key]: value }), fail(key, 'is for CertificateSigningRequests, which this signer does not serve (certificateSigningRequests: false): remove it'), key);
  }
  t.throws(() => readConfigFile(file, configOf(everywhere, {}, 'kubernetes.io/kubelet-serving')), {
    message: `${file}: signer "kubernetes.io/kubelet-serving": signers[0].podCertificates: a PodCertificateRequest naming a kubernetes.io signer is for a signer of the platform itself, not csr-signer: serve pod certificates under a signerName of your own domain, such as example.com/pods`,
  });
  t.end();
});

void t.test('signing off, and the approver', (t) => {
  const head = 'apiVersion: csr-signer.io/v1alpha1\nkind: SignerConfiguration\n';
  const pods = '  - name: example.com/pods\n    ca: { certFile: a, keyFile: b }\n    certificateSigningRequests: false\n    podCertificates: { namespaces: { all: true } }\n';
  t.throws(() => readConfigFile(file, `${head}signing: false\nsigners:\n  - name: example.com/pods\n    certificateSigningRequests: false\n    podCertificates: { namespaces: { all: true } }\n`), {
    message: `${where}: signers[0].podCertificates: signing is off (signing: false), so no PodCertificateRequest would be signed: remove podCertificates, or turn signing on`,
  });
  const shared = readConfigDocument(file, `${head}signers:\n${pods}`, false);
  t.same(shared.signers[0], { name: 'example.com/pods', source: file, defaultDurationMs: 8760 * 3_600_000, maxDurationMs: 8760 * 3_600_000, includeChain: false, certificateSigningRequests: false },
    'with --signing=false over a shared file, the pod certificates are checked and left out, as the CA is');
  t.throws(() => readConfigFile(file, `${head}signers:\n${pods}approver:\n  signers: [{ signerName: example.com/pods }]\n`), {
    message: `${file}: approver for "example.com/pods": approver.signers[0].signerName: signers[0] serves no CertificateSigningRequests (certificateSigningRequests: false), so there is nothing to approve for it: remove this entry`,
  });
  t.end();
});

void t.test('the pod certificates example in docs/configuration.md loads as it says', (t) => {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');
  const section = doc.split('### Pod certificates\n')[1]?.split('\n### ')[0] ?? '';
  const example = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  t.ok(example, 'found');
  const [signer] = readConfigFile('docs/signers.yaml', `apiVersion: csr-signer.io/v1alpha1\nkind: SignerConfiguration\n${example ?? ''}`);
  t.equal(signer?.certificateSigningRequests, false);
  t.same(signer?.podCertificates, {
    trustDomain: 'cluster.local',
    uris: ['spiffe://{trustDomain}/ns/{namespace}/sa/{serviceAccountName}'],
    dnsNames: ['{serviceAccountName}.{namespace}.svc'],
    subject: { commonName: '{serviceAccountName}', organizations: ['{namespace}'] },
    usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'],
    maxLifetimeMs: 86_400_000,
    refresh: { from: 0.5, to: 0.7 },
    namespaces: { names: ['shop'], selector: { matchLabels: { 'pod-certificates': 'on' } } },
    serviceAccounts: ['shop/*', '*/builder'],
    keyTypes: ['ECDSAP256', 'ECDSAP384', 'ED25519'],
    userAnnotations: { dnsNames: { key: 'example.com/dns-names', allowed: ['*.{namespace}.svc.cluster.local'] } },
    nonEmptyStub: 'deny',
    podCheck: false,
    apiVersion: 'auto',
  });
  const shown = /refused at start:\n\n```\n(.*)\n```/.exec(section)?.[1];
  const bad = (example ?? '').replace('dnsNames: ["{serviceAccountName}.{namespace}.svc"]', 'dnsNames: ["{namespace}..svc"]');
  t.throws(() => readConfigFile('signers.yaml', `apiVersion: csr-signer.io/v1alpha1\nkind: SignerConfiguration\n${bad}`), { message: shown ?? '(missing)' }, 'the refusal shown is the real one');
  t.end();
});

void t.test('the checks on their own', (t) => {
  t.equal(trustDomainProblem('cluster.local'), undefined);
  t.equal(trustDomainProblem('td_1-x.example'), undefined);
  t.equal(uriProblem('spiffe://cluster.local/ns/a/sa/b'), undefined);
  t.equal(uriProblem('spiffe://cluster.local'), undefined);
  t.equal(uriProblem('https://x.example/a%20b'), undefined);
  t.equal(dnsNameProblem('a.b-c.example'), undefined);
  t.equal(dnsNameProblem('a'.repeat(64)), `it has the label "${'a'.repeat(64)}", which is not 1–63 letters, digits or '-', starting and ending with a letter or digit`);
  t.same(sampleTemplateValues('td'), { namespace: 'a', serviceAccountName: 'a', podName: 'a', podUID: 'a', nodeName: 'a', trustDomain: 'td' });
  t.end();
});
