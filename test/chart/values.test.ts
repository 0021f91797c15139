/**
 * The chart's values: values.yaml is valid against values.schema.json (as `helm install`
 * checks it), the schema refuses what the signer cannot run with, every chart key is
 * documented, and Chart.yaml deploys this package's version.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import t from 'tap';
import { isMap, isSeq, parseDocument, type Node as YamlNode } from 'yaml';
import { podCertificateKeyTypes } from '../../src/pki/index.js';
import { podCertificateUsages } from '../../src/config/pod-certificates.js';
import { knownUsages } from '../../src/pki/usages.js';
import { keyTypeNames } from '../../src/signer/types.js';
import { chartDir, defaultValues, mergeValues, readYaml, type Values } from './render.js';

const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as Record<string, unknown>;
// strict: an unknown keyword in the schema is an error, so a typo there cannot silently allow anything.
const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false, strictTypes: false }).compile(schema);
const errorsOf = (values: Values): string => (validate(values) ? '' : JSON.stringify(validate.errors));

const ca = { existingSecret: 'csr-signer-ca' };
const pem = { cert: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', key: '-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n' };

void t.test('values.yaml is valid against values.schema.json', (t) => {
  t.equal(errorsOf(defaultValues()), '');
  t.end();
});

void t.test('the schema accepts', (t) => {
  const good: [string, Values][] = [
    ['a signer with an existing Secret', { signers: [{ name: 'example.com/serving', ca }] }],
    ['a signer with inline cert and key (development)', { signers: [{ name: 'example.com/dev', ca: pem }] }],
    ['a built-in signer', { signers: [{ name: 'kubernetes.io/kubelet-serving', ca }] }],
    ['a full custom signer', {
      signers: [{
        name: 'example.com/serving', ca, duration: { default: '720h', max: '2160h', min: '1h' },
        usages: { allowed: ['digital signature', 'server auth'], required: ['server auth'] }, keyTypes: ['ecdsa-p256', 'rsa'], includeChain: true,
        policy: { dnsNames: ['*.{namespace}.svc'], ipRanges: ['10.96.0.0/12'], maxSubjectAltNames: 5, commonName: 'dns-name', requesters: { groups: ['system:serviceaccounts'] } },
      }],
    }],
    ['trust targets with every field, and a trust key', {
      signers: [{
        name: 'example.com/serving', ca: { ...ca, trustKey: 'trust.crt' },
        trust: {
          configMap: { name: 'serving-ca', key: 'ca.crt', namespaceSelector: { matchLabels: { 'serving-ca': 'true' }, matchExpressions: [{ key: 'env', operator: 'Exists' }] } },
          clusterTrustBundle: { name: 'example.com:serving:v2', labels: { team: 'pki' } },
        },
      }],
    }],
    ['a ClusterTrustBundle with the defaults', { signers: [{ name: 'example.com/serving', ca, trust: { clusterTrustBundle: {} } }] }],
    ['the rotation record off, or named', { rotationRecord: { enabled: false, name: 'pki-rotation' } }],
    ['a PodDisruptionBudget by minAvailable', { podDisruptionBudget: { enabled: true, minAvailable: 1 } }],
    ['an encrypted CA key whose passphrase is mounted from a Secret of its own', {
      signers: [{ name: 'example.com/serving', ca: { ...ca, passphraseFile: '/etc/csr-signer/passphrase/passphrase' } }],
      volumes: [{ name: 'p', secret: { secretName: 'p' } }], volumeMounts: [{ name: 'p', mountPath: '/etc/csr-signer/passphrase', readOnly: true }],
    }],
    ['a trust file from a mounted volume', { signers: [{ name: 'example.com/serving', ca: { ...ca, trustFile: '/etc/trust/ca.crt' } }] }],
    ['monitoring by PodMonitor and PrometheusRule, with relabelings', { podMonitor: { enabled: true, honorLabels: true, relabelings: [{ targetLabel: 'team', replacement: 'pki' }] }, prometheusRule: { enabled: true, labels: { release: 'p' } } }],
    ['a NetworkPolicy with the API server\'s addresses', { networkPolicy: { enabled: true, ingress: { from: [{ podSelector: {} }] }, egress: { apiServer: { cidrs: ['10.0.0.10/32', 'fd00::1/128'], ports: [6443] }, dns: true } } }],
    ['extra objects as maps and strings', { extraObjects: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }, 'apiVersion: v1\nkind: ConfigMap\n'] }],
    ['a PodDisruptionBudget by a percentage, with the cluster\'s eviction policy', { podDisruptionBudget: { maxUnavailable: '50%', unhealthyPodEvictionPolicy: 'IfHealthyBudget' } }],
    ['the approver with every entry field, audit mode, a separate Deployment', {
      approver: {
        enabled: true, mode: 'audit', separateDeployment: true, replicaCount: 3, leaseName: 'approver-lock', serviceAccount: { create: false, name: 'approver' }, extraArgs: ['--workers=2'],
        signers: [
          { signerName: 'kubernetes.io/kubelet-serving', extraDnsNames: ['*.nodes.example.com'], extraDnsRegexes: ['^ip-[0-9-]+\\.ec2\\.internal$'], extraIpRanges: ['10.0.0.0/8', 'fd00::/8'], maxSubjectAltNames: 8 },
          { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', profile: 'kubelet-client' },
          { signerName: 'example.com/serving', subjectAccessReview: { verb: 'use', group: 'certificates.k8s.io', resource: 'signers', name: 'example.com/serving' } },
        ],
      },
    }],
    ['the cleaner on its own, with other ages', { cleanup: { enabled: true, issued: '30m', pending: '12h', approvedUnissued: '48h' } }],
    ['pod certificates for every namespace, beside CSRs', { signers: [{ name: 'example.com/pods', ca, podCertificates: { namespaces: { all: true } } }] }],
    ['pod certificates only, with every field', {
      signers: [{
        name: 'example.com/pods', ca, certificateSigningRequests: false,
        podCertificates: {
          namespaces: { names: ['shop'], selector: { matchLabels: { 'pod-certificates': 'on' } } }, serviceAccounts: ['shop/*', '*/builder'], trustDomain: 'cluster.local',
          uris: ['spiffe://{trustDomain}/ns/{namespace}/sa/{serviceAccountName}'], dnsNames: ['{serviceAccountName}.{namespace}.svc'],
          subject: { commonName: '{serviceAccountName}', organizations: ['{namespace}'] }, usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'],
          maxLifetime: '24h', refresh: { from: 0.5, to: 0.7 }, keyTypes: ['ECDSAP256', 'ECDSAP384', 'ED25519'],
          userAnnotations: { dnsNames: { key: 'example.com/dns-names', allowed: ['*.{namespace}.svc.cluster.local'] } }, nonEmptyStub: 'ignore', podCheck: true, apiVersion: 'v1beta1',
        },
      }],
    }],
    ['CSRs off with the CSR fields left empty, as values.yaml shows them', { signers: [{ name: 'example.com/x', ca, certificateSigningRequests: false, duration: {}, usages: {}, keyTypes: [], includeChain: false, policy: {}, podCertificates: { namespaces: { all: true } } }] }],
    ['no URI, a DNS template instead', { signers: [{ name: 'example.com/pods', ca, podCertificates: { namespaces: { selector: { matchExpressions: [{ key: 'team', operator: 'Exists' }] } }, uris: [], dnsNames: ['{podName}.{namespace}.pods'] } }] }],
  ];
  for (const [name, override] of good) t.equal(errorsOf(mergeValues(defaultValues(), override)), '', name);
  t.end();
});

void t.test('the schema refuses', (t) => {
  const bad: [string, Values][] = [
    ['an empty signer list', { signers: [] }],
    ['a signer without a CA source', { signers: [{ name: 'example.com/serving', ca: {} }] }],
    ['a signer without ca', { signers: [{ name: 'example.com/serving' }] }],
    ['a signer with an existing Secret and inline PEM', { signers: [{ name: 'example.com/serving', ca: { ...ca, ...pem } }] }],
    ['inline cert without key', { signers: [{ name: 'example.com/serving', ca: { cert: pem.cert } }] }],
    ['inline key without cert', { signers: [{ name: 'example.com/serving', ca: { key: pem.key } }] }],
    ['an empty existingSecret', { signers: [{ name: 'example.com/serving', ca: { existingSecret: '' } }] }],
    ['a wildcard signer name (RBAC would grant a whole domain)', { signers: [{ name: 'example.com/*', ca }] }],
    ['a signer name without a path', { signers: [{ name: 'example.com', ca }] }],
    ['a signer without a name', { signers: [{ ca }] }],
    ['an unknown signer field', { signers: [{ name: 'example.com/x', ca, durations: {} }] }],
    ['an unknown usage', { signers: [{ name: 'example.com/x', ca, usages: { allowed: ['server-auth'] } }] }],
    ['an unknown key type', { signers: [{ name: 'example.com/x', ca, keyTypes: ['dsa'] }] }],
    ['a duration that is not Go syntax', { signers: [{ name: 'example.com/x', ca, duration: { max: '30d' } }] }],
    ['a trust key with an inline (development) CA: the chart-made Secret has no such key', { signers: [{ name: 'example.com/dev', ca: { ...pem, trustKey: 'trust.crt' } }] }],
    ['a trust key with a slash', { signers: [{ name: 'example.com/x', ca: { ...ca, trustKey: 'a/b' } }] }],
    ['an unknown trust target', { signers: [{ name: 'example.com/x', ca, trust: { secret: { name: 'a' } } }] }],
    ['a ConfigMap target without a name', { signers: [{ name: 'example.com/x', ca, trust: { configMap: { key: 'ca.crt' } } }] }],
    ['a ConfigMap target name with upper case', { signers: [{ name: 'example.com/x', ca, trust: { configMap: { name: 'CA' } } }] }],
    ['a selector operator csr-signer does not know', { signers: [{ name: 'example.com/x', ca, trust: { configMap: { name: 'a', namespaceSelector: { matchExpressions: [{ key: 'a', operator: 'Equals' }] } } } }] }],
    ['a label value that is a boolean', { signers: [{ name: 'example.com/x', ca, trust: { clusterTrustBundle: { labels: { a: true } } } }] }],
    ['a ClusterTrustBundle given as null', { signers: [{ name: 'example.com/x', ca, trust: { clusterTrustBundle: null } }] }],
    ['a rotation record name with upper case', { rotationRecord: { name: 'Record' } }],
    ['replicas as a string', { replicaCount: 'two' }],
    ['an unknown top-level key', { replicas: 2 }],
    ['an extra argument that is not a flag', { extraArgs: ['run'] }],
    ['a log level csr-signer does not know', { logLevel: 'trace' }],
    ['both trustKey and trustFile', { signers: [{ name: 'example.com/x', ca: { ...ca, trustKey: 'next.crt', trustFile: '/etc/trust/ca.crt' } }] }],
    ['a relative passphraseFile (it would resolve inside the chart\'s config mount)', { signers: [{ name: 'example.com/x', ca: { ...ca, passphraseFile: 'passphrase' } }] }],
    ['a volume mount without a mountPath', { volumeMounts: [{ name: 'p' }] }],
    ['a NetworkPolicy without the API server\'s addresses (NetworkPolicy cannot name it)', { networkPolicy: { enabled: true } }],
    ['an API server address that is not a CIDR', { networkPolicy: { enabled: true, egress: { apiServer: { cidrs: ['kubernetes.default'] } } } }],
    ['an unknown PodMonitor key', { podMonitor: { enabled: true, port: 'metrics' } }],
    ['a negative maxUnavailable', { podDisruptionBudget: { maxUnavailable: -1 } }],
    ['a percentage without %', { podDisruptionBudget: { minAvailable: '50' } }],
    ['an unknown unhealthy-pod eviction policy', { podDisruptionBudget: { unhealthyPodEvictionPolicy: 'Never' } }],
    ['an approver entry for kube-apiserver-client (never approved automatically)', { approver: { enabled: true, signers: [{ signerName: 'kubernetes.io/kube-apiserver-client' }] } }],
    ['an approver entry for legacy-unknown', { approver: { enabled: true, signers: [{ signerName: 'kubernetes.io/legacy-unknown' }] } }],
    ['an approver entry for a whole domain', { approver: { enabled: true, signers: [{ signerName: 'example.com/*' }] } }],
    ['an approver entry without a signerName', { approver: { enabled: true, signers: [{ extraIpRanges: ['10.0.0.0/8'] }] } }],
    ['an approver entry with a profile csr-signer does not know', { approver: { enabled: true, signers: [{ signerName: 'example.com/x', profile: 'allow-all' }] } }],
    ['kubelet-serving widenings on another signer', { approver: { enabled: true, signers: [{ signerName: 'example.com/x', extraIpRanges: ['10.0.0.0/8'] }] } }],
    ['a maxSubjectAltNames on the kubelet client signer', { approver: { enabled: true, signers: [{ signerName: 'kubernetes.io/kube-apiserver-client-kubelet', maxSubjectAltNames: 2 }] } }],
    ['a SubjectAccessReview on kubelet-serving (a profile that asks none)', { approver: { enabled: true, signers: [{ signerName: 'kubernetes.io/kubelet-serving', subjectAccessReview: { verb: 'use', resource: 'signers' } }] } }],
    ['a SubjectAccessReview on the kubelet client signer (it asks its own)', { approver: { enabled: true, signers: [{ signerName: 'kubernetes.io/kube-apiserver-client-kubelet', subjectAccessReview: { verb: 'use', resource: 'signers' } }] } }],
    ['an extra IP range that is not a CIDR', { approver: { enabled: true, signers: [{ signerName: 'kubernetes.io/kubelet-serving', extraIpRanges: ['10.0.0.1'] }] } }],
    ['a SubjectAccessReview without a verb', { approver: { enabled: true, signers: [{ signerName: 'example.com/x', subjectAccessReview: { resource: 'signers' } }] } }],
    ['an approver mode csr-signer does not know', { approver: { mode: 'dry-run' } }],
    ['a cleanup age that is not Go syntax', { cleanup: { pending: '1d' } }],
    ['cleanup enabled as a string', { cleanup: { enabled: 'yes' } }],
    ['CSRs off without pod certificates (the signer would serve nothing)', { signers: [{ name: 'example.com/x', ca, certificateSigningRequests: false }] }],
    ['CSRs off with a CSR policy (csr-signer refuses fields it would not use)', { signers: [{ name: 'example.com/x', ca, certificateSigningRequests: false, policy: { unrestricted: true }, podCertificates: { namespaces: { all: true } } }] }],
    ['CSRs off with CSR key types', { signers: [{ name: 'example.com/x', ca, certificateSigningRequests: false, keyTypes: ['rsa'], podCertificates: { namespaces: { all: true } } }] }],
    ['CSRs off with includeChain', { signers: [{ name: 'example.com/x', ca, certificateSigningRequests: false, includeChain: true, podCertificates: { namespaces: { all: true } } }] }],
    ['CSRs off with empty pod certificates', { signers: [{ name: 'example.com/x', ca, certificateSigningRequests: false, podCertificates: {} }] }],
    ['pod certificates without namespaces (no policy is not "every namespace")', { signers: [{ name: 'example.com/x', ca, podCertificates: { podCheck: true } }] }],
    ['pod certificates with an empty namespaces', { signers: [{ name: 'example.com/x', ca, podCertificates: { namespaces: {} } }] }],
    ['all: true beside names', { signers: [{ name: 'example.com/x', ca, podCertificates: { namespaces: { all: true, names: ['shop'] } } }] }],
    ['all: false', { signers: [{ name: 'example.com/x', ca, podCertificates: { namespaces: { all: false } } }] }],
    ['pod certificates for a kubernetes.io signer (the platform\'s)', { signers: [{ name: 'kubernetes.io/kube-apiserver-client', ca, podCertificates: { namespaces: { all: true } } }] }],
    ['a key type of the CSR form', { signers: [{ name: 'example.com/x', ca, podCertificates: { namespaces: { all: true }, keyTypes: ['ecdsa-p256'] } }] }],
    ['a refresh fraction of 1', { signers: [{ name: 'example.com/x', ca, podCertificates: { namespaces: { all: true }, refresh: { from: 0.5, to: 1 } } }] }],
    ['a maxLifetime in days', { signers: [{ name: 'example.com/x', ca, podCertificates: { namespaces: { all: true }, maxLifetime: '1d' } }] }],
    ['a nonEmptyStub mode csr-signer does not know', { signers: [{ name: 'example.com/x', ca, podCertificates: { namespaces: { all: true }, nonEmptyStub: 'allow' } }] }],
    ['an API version csr-signer does not know', { signers: [{ name: 'example.com/x', ca, podCertificates: { namespaces: { all: true }, apiVersion: 'v1alpha1' } }] }],
    ['an unknown pod-certificate field', { signers: [{ name: 'example.com/x', ca, podCertificates: { namespaces: { all: true }, sans: [] } }] }],
    ['an empty namespace selector (say all: true)', { signers: [{ name: 'example.com/x', ca, podCertificates: { namespaces: { selector: {} } } }] }],
    ['an empty serviceAccounts list', { signers: [{ name: 'example.com/x', ca, podCertificates: { namespaces: { all: true }, serviceAccounts: [] } }] }],
    ['an empty subject', { signers: [{ name: 'example.com/x', ca, podCertificates: { namespaces: { all: true }, subject: {} } }] }],
    ['refresh with one bound only', { signers: [{ name: 'example.com/x', ca, podCertificates: { namespaces: { all: true }, refresh: { from: 0.4 } } }] }],
    ['a ServiceAccount pattern without a namespace', { signers: [{ name: 'example.com/x', ca, podCertificates: { namespaces: { all: true }, serviceAccounts: ['builder'] } }] }],
    ['an annotation rule without allowed patterns', { signers: [{ name: 'example.com/x', ca, podCertificates: { namespaces: { all: true }, userAnnotations: { dnsNames: { key: 'example.com/dns' } } } }] }],
  ];
  for (const [name, override] of bad) t.not(errorsOf(mergeValues(defaultValues(), override)), '', name);
  t.end();
});

void t.test('the schema lists the usages and key types csr-signer knows, for CSRs and pod certificates', (t) => {
  const signer = (schema as { properties: { signers: { items: { properties: Record<string, { properties?: Record<string, { items: { enum: string[] } }>; items?: { enum: string[] } }> } } } })
    .properties.signers.items.properties;
  t.same(signer.usages?.properties?.allowed?.items.enum, knownUsages);
  t.same(signer.usages?.properties?.required?.items.enum, knownUsages);
  t.same(signer.keyTypes?.items?.enum, keyTypeNames);
  const pod = signer.podCertificates?.properties as Record<string, { items: { enum: string[] } }> | undefined;
  t.same(pod?.keyTypes?.items.enum, podCertificateKeyTypes, 'the projection\'s key types');
  t.same(pod?.usages?.items.enum, podCertificateUsages, 'the usages a pod certificate may have');
  t.end();
});

// Values that go verbatim into the pod spec are Kubernetes objects documented by their key.
const passedThrough = new Set(['resources', 'livenessProbe', 'readinessProbe', 'podSecurityContext', 'securityContext', 'nodeSelector']);

void t.test('every key of values.yaml has a comment', (t) => {
  const doc = parseDocument(readFileSync(join(chartDir, 'values.yaml'), 'utf8'));
  const missing: string[] = [];
  // The yaml parser files a comment line by position: before a key (key.commentBefore),
  // before a collection's first key (the collection's commentBefore), or after the last
  // line of the previous value (that value's trailing comment).
  const walk = (node: unknown, path: string): void => {
    if (isMap(node)) {
      node.items.forEach((pair, i) => {
        const key = String((pair.key as YamlNode & { value: unknown }).value);
        const previous = i === 0 ? undefined : (node.items[i - 1]?.value as YamlNode | null | undefined);
        const commented = Boolean((pair.key as YamlNode).commentBefore) || (i === 0 && Boolean(node.commentBefore)) || Boolean(previous?.comment);
        if (!commented) missing.push(`${path}${key}`);
        if (!passedThrough.has(key)) walk(pair.value, `${path}${key}.`);
      });
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        if (isMap(item) && i === 0 && node.commentBefore && !item.commentBefore) item.commentBefore = node.commentBefore;
        walk(item, `${path}[${i}].`);
      });
    }
  };
  walk(doc.contents, '');
  t.same(missing, []);
  t.end();
});

void t.test("Chart.yaml's appVersion is package.json's version", (t) => {
  const chart = readYaml(join(chartDir, 'Chart.yaml')) as { appVersion: string; apiVersion: string; name: string };
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  t.equal(chart.appVersion, pkg.version);
  t.equal(chart.apiVersion, 'v2');
  t.equal(chart.name, 'csr-signer');
  t.end();
});
