/**
 * Pod certificates in the chart: a signer's `podCertificates` and
 * `certificateSigningRequests` values reach the SignerConfiguration as the config file
 * spells them; a signer that serves no CSRs gets no approver entry and is left out of the
 * separate approver's file; NOTES.txt says which signers serve what. The RBAC for them is
 * in rbac.test.ts, the alerts in monitoring.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import t from 'tap';
import { parse } from 'yaml';
import { loadRunConfig, type RunConfig } from '../../src/config/index.js';
import { chartDir, defaultValues, find, mergeValues, renderChart, TemplateError, type Manifest, type Values } from './render.js';

const ca = { existingSecret: 'ca' };
const policy = { dnsNames: ['*.{namespace}.svc'], ipRanges: [] };

/** The full block of the config file's reference, as values. */
const everyField = {
  namespaces: { names: ['shop'], selector: { matchLabels: { 'pod-certificates': 'on' } } },
  serviceAccounts: ['shop/*', '*/builder'],
  trustDomain: 'cluster.local',
  uris: ['spiffe://{trustDomain}/ns/{namespace}/sa/{serviceAccountName}'],
  dnsNames: ['{serviceAccountName}.{namespace}.svc'],
  subject: { commonName: '{serviceAccountName}', organizations: ['{namespace}'] },
  usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'],
  maxLifetime: '24h',
  refresh: { from: 0.5, to: 0.7 },
  keyTypes: ['ECDSAP256', 'ECDSAP384', 'ED25519'],
  userAnnotations: { dnsNames: { key: 'example.com/dns-names', allowed: ['*.{namespace}.svc.cluster.local'] } },
  nonEmptyStub: 'deny',
  podCheck: false,
  apiVersion: 'auto',
};

interface SignerEntry { name: string; ca?: unknown; policy?: unknown; certificateSigningRequests?: unknown; podCertificates?: unknown }
interface ConfigFile { signing?: boolean; signers: SignerEntry[]; approver?: { signers: { signerName: string }[] } }
const configFile = (manifests: readonly Manifest[], key = 'signers.yaml'): ConfigFile | undefined => {
  const text = (find(manifests, 'ConfigMap').data as Record<string, string>)[key];
  return text === undefined ? undefined : parse(text) as ConfigFile;
};

const podsOnly = { name: 'example.com/pods', ca, certificateSigningRequests: false, podCertificates: everyField };
const both = { name: 'example.com/mesh', ca, policy, podCertificates: { namespaces: { all: true }, podCheck: true } };
const serving = { name: 'example.com/serving', ca, policy };

void t.test("a signer's podCertificates and certificateSigningRequests reach the config file as given", (t) => {
  const file = configFile(renderChart({ values: { signers: [serving, podsOnly, both] } }).manifests);
  const [a, b, c] = file?.signers ?? [];
  t.same(b?.podCertificates, everyField, 'every field, templates and selector values as written (the "on" label value stays a string)');
  t.equal(b?.certificateSigningRequests, false, 'CSRs off where the values say so');
  t.equal(b?.policy, undefined, 'no CSR policy on a signer that serves no CSRs');
  t.same(c?.podCertificates, { namespaces: { all: true }, podCheck: true });
  t.notOk(c && 'certificateSigningRequests' in c, 'absent (true) when it serves both');
  for (const s of [a, c]) t.notOk(s && 'certificateSigningRequests' in s, `${s?.name ?? ''}: the default is left to the signer`);
  t.notOk(a && 'podCertificates' in a, 'no podCertificates where the values have none');
  t.end();
});

/** What `csr-signer run` makes of the rendered arguments and the file `key` of the ConfigMap. */
function loaded(manifests: readonly Manifest[], deployment: string, key: string): RunConfig {
  const text = (find(manifests, 'ConfigMap').data as Record<string, string>)[key] ?? '';
  const args = (find(manifests, 'Deployment', deployment).spec as { template: { spec: { containers: { args: string[] }[] } } }).template.spec.containers[0]?.args ?? [];
  return loadRunConfig(args.slice(1), { POD_NAMESPACE: 'certs' }, (path) => {
    if (path === `/etc/csr-signer/config/${key}`) return text;
    throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
  });
}

void t.test('csr-signer run loads the rendered files: the signer\'s with its pod-certificate signers, the separate approver\'s without them', (t) => {
  const { manifests } = renderChart({ values: { signers: [serving, podsOnly, both], approver: { enabled: true, separateDeployment: true } }, namespace: 'certs' });
  const signer = loaded(manifests, 'csr-signer', 'signers.yaml');
  const pods = signer.signers.find((s) => s.name === 'example.com/pods');
  t.equal(pods?.certificateSigningRequests, false);
  t.match(pods?.podCertificates, {
    namespaces: everyField.namespaces, serviceAccounts: everyField.serviceAccounts, trustDomain: 'cluster.local', uris: everyField.uris, dnsNames: everyField.dnsNames,
    subject: everyField.subject, usages: everyField.usages, maxLifetimeMs: 24 * 3_600_000, refresh: everyField.refresh, keyTypes: everyField.keyTypes,
    userAnnotations: everyField.userAnnotations, nonEmptyStub: 'deny', podCheck: false, apiVersion: 'auto',
  }, 'every field as the values gave it');
  t.match(signer.signers.find((s) => s.name === 'example.com/mesh')?.podCertificates, { namespaces: { all: true }, podCheck: true, trustDomain: 'cluster.local' }, 'the rest defaulted by the loader');
  const approver = loaded(manifests, 'csr-signer-approver', 'approver.yaml');
  t.same(approver.signers.map((s) => [s.name, s.podCertificates]), [['example.com/serving', undefined], ['example.com/mesh', undefined]]);
  t.end();
});

void t.test('the default values and an empty podCertificates serve CSRs only', (t) => {
  for (const values of [{}, { signers: [{ ...serving, podCertificates: {}, certificateSigningRequests: true }] }] as Values[]) {
    const signer = configFile(renderChart({ values }).manifests)?.signers[0];
    t.notOk(signer && ('podCertificates' in signer || 'certificateSigningRequests' in signer), JSON.stringify(values));
  }
  t.end();
});

void t.test('a signer that serves no CSRs gets no approver entry, and is not in the separate approver\'s file', (t) => {
  const values: Values = { signers: [serving, podsOnly, both], approver: { enabled: true } };
  t.same(configFile(renderChart({ values }).manifests)?.approver?.signers, [{ signerName: 'example.com/serving' }, { signerName: 'example.com/mesh' }], 'pod certificates have no approval step');

  const separate = renderChart({ values: { ...values, approver: { enabled: true, separateDeployment: true } } }).manifests;
  const approver = configFile(separate, 'approver.yaml');
  t.equal(approver?.signing, false);
  t.same(approver?.signers.map((s) => s.name), ['example.com/serving', 'example.com/mesh'], 'only the signers whose CSRs it approves');
  t.notOk(approver?.signers.some((s) => 'podCertificates' in s || 'certificateSigningRequests' in s), 'it signs no pod certificate');
  t.same(configFile(separate)?.signers.map((s) => s.name), ['example.com/serving', 'example.com/pods', 'example.com/mesh'], 'the signer\'s file has them all');

  t.throws(() => renderChart({ values: { signers: [podsOnly], approver: { enabled: true } } }), TemplateError, 'an approver with only pod-certificate signers has nothing to approve');
  t.end();
});

void t.test('NOTES.txt says which signers sign CSRs and which pod certificates, and what the cluster must serve', (t) => {
  const notes = (values: Values): string => renderChart({ values }).files.get('NOTES.txt') ?? '';
  const mixed = notes({ signers: [serving, podsOnly, both] });
  t.match(mixed, /signs approved CertificateSigningRequests for:\n {2}- example\.com\/serving \(CA from Secret ca\)\n {2}- example\.com\/mesh \(CA from Secret ca\)\n\n/);
  t.match(mixed, /signs pod certificates \(PodCertificateRequests, with no approval step\) for:\n {2}- example\.com\/pods \(CA from Secret ca\)\n {2}- example\.com\/mesh \(CA from Secret ca\)\n/);
  t.match(mixed, /PodCertificateRequest feature gate[\s\S]*docs\/pod-certificates\.md/);
  t.match(mixed, /submit a CSR/);

  const onlyPods = notes({ signers: [podsOnly] });
  t.notMatch(onlyPods, /CertificateSigningRequests for|submit a CSR|kubectl certificate approve/, 'no CSR instructions when no signer serves CSRs');
  t.match(onlyPods, /kubectl get podcertificaterequests -A/);
  t.notMatch(notes({}), /pod certificates|podcertificaterequests/, 'nothing about pod certificates by default');
  t.end();
});

void t.test('the schema refuses what csr-signer run refuses, and accepts what it accepts', (t) => {
  const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as object;
  const validate = new Ajv({ allErrors: true, strictRequired: false, strictTypes: false }).compile(schema);
  const all = { namespaces: { all: true } };
  /** [case, the signer entry (name and CA added), valid] */
  const entries: [string, Record<string, unknown>, boolean][] = [
    ['every field', { certificateSigningRequests: false, podCertificates: everyField }, true],
    ['every namespace, beside CSRs', { policy, podCertificates: all }, true],
    ['no URI, a DNS name template', { certificateSigningRequests: false, podCertificates: { ...all, uris: [], dnsNames: ['{podName}.{namespace}.pods'] } }, true],
    ['a DNS name template without {namespace}', { certificateSigningRequests: false, podCertificates: { ...all, dnsNames: ['{podName}.pods'] } }, false],
    ['an annotation pattern without {namespace}', { certificateSigningRequests: false, podCertificates: { ...all, userAnnotations: { dnsNames: { key: 'example.com/dns', allowed: ['*.pods.example.com'] } } } }, false],
    ['a CA usage', { certificateSigningRequests: false, podCertificates: { ...all, usages: ['digital signature', 'cert sign'] } }, false],
    ['an OCSP responder usage', { certificateSigningRequests: false, podCertificates: { ...all, usages: ['ocsp signing'] } }, false],
    ['usage any', { certificateSigningRequests: false, podCertificates: { ...all, usages: ['any'] } }, false],
    ['every usage a pod certificate may have', { certificateSigningRequests: false, podCertificates: { ...all, usages: ['digital signature', 'key encipherment', 'key agreement', 'data encipherment', 'content commitment', 'server auth', 'client auth'] } }, true],
    ['CSRs off without pod certificates', { certificateSigningRequests: false }, false],
    ['CSRs off with a CSR policy', { certificateSigningRequests: false, policy, podCertificates: all }, false],
    ['CSRs off with includeChain', { certificateSigningRequests: false, includeChain: true, podCertificates: all }, false],
    ['no namespaces', { certificateSigningRequests: false, podCertificates: { podCheck: true } }, false],
    ['all: true with names', { certificateSigningRequests: false, podCertificates: { namespaces: { all: true, names: ['a'] } } }, false],
    ['all: false', { certificateSigningRequests: false, podCertificates: { namespaces: { all: false } } }, false],
    ['an empty selector', { certificateSigningRequests: false, podCertificates: { namespaces: { selector: {} } } }, false],
    ['an empty serviceAccounts', { certificateSigningRequests: false, podCertificates: { ...all, serviceAccounts: [] } }, false],
    ['a ServiceAccount pattern without a namespace', { certificateSigningRequests: false, podCertificates: { ...all, serviceAccounts: ['builder'] } }, false],
    ['an empty subject', { certificateSigningRequests: false, podCertificates: { ...all, subject: {} } }, false],
    ['a CSR key type name', { certificateSigningRequests: false, podCertificates: { ...all, keyTypes: ['ecdsa-p256'] } }, false],
    ['a refresh fraction of 1', { certificateSigningRequests: false, podCertificates: { ...all, refresh: { from: 0.5, to: 1 } } }, false],
    ['one refresh bound', { certificateSigningRequests: false, podCertificates: { ...all, refresh: { from: 0.5 } } }, false],
    ['a maxLifetime in days', { certificateSigningRequests: false, podCertificates: { ...all, maxLifetime: '1d' } }, false],
    ['an unknown nonEmptyStub mode', { certificateSigningRequests: false, podCertificates: { ...all, nonEmptyStub: 'allow' } }, false],
    ['an unknown API version', { certificateSigningRequests: false, podCertificates: { ...all, apiVersion: 'v1alpha1' } }, false],
    ['an unknown field', { certificateSigningRequests: false, podCertificates: { ...all, sans: [] } }, false],
    ['an annotation rule without allowed patterns', { certificateSigningRequests: false, podCertificates: { ...all, userAnnotations: { dnsNames: { key: 'example.com/dns' } } } }, false],
  ];
  for (const [name, entry, valid] of entries) {
    const values: Values = { signers: [{ name: 'example.com/pods', ca, ...entry }] };
    t.equal(validate(mergeValues(defaultValues(), values)), valid, `${name}: the schema ${valid ? 'accepts' : 'refuses'}`);
    let loads = true;
    try {
      loaded(renderChart({ values, namespace: 'certs' }).manifests, 'csr-signer', 'signers.yaml');
    } catch {
      loads = false;
    }
    t.equal(loads, valid, `${name}: csr-signer run ${valid ? 'accepts' : 'refuses'} the rendered file`);
  }
  const builtin: Values = { signers: [{ name: 'kubernetes.io/kube-apiserver-client', ca, podCertificates: all }] };
  t.notOk(validate(mergeValues(defaultValues(), builtin)), 'a kubernetes.io signer with pod certificates: the schema refuses');
  t.throws(() => loaded(renderChart({ values: builtin, namespace: 'certs' }).manifests, 'csr-signer', 'signers.yaml'), 'and so does csr-signer run');
  t.end();
});
