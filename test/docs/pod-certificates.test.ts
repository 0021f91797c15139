/**
 * docs/pod-certificates.md: its examples are what they claim — the config file loads
 * with csr-signer's own loader, the chart values pass the chart's schema and render the
 * RBAC the page lists, the Pod is a valid Pod whose projection this signer serves — and
 * the alerts, reasons and rules it names are the real ones.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import t from 'tap';
import { parse } from 'yaml';
import { Pod } from 'kubernetes-models/v1/Pod';
import { loadRunConfig } from '../../src/config/index.js';
import { podCertificateClusterRules, type PolicyRule } from '../../src/kube/rbac.js';
import { chartDir, defaultValues, find, mergeValues, renderChart, type Values } from '../chart/render.js';

const root = join(import.meta.dirname, '..', '..');
const doc = readFileSync(join(root, 'docs', 'pod-certificates.md'), 'utf8');
const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1] ?? '') as Record<string, unknown>);
const configFile = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '').find((b) => b.includes('kind: SignerConfiguration')) ?? '';
const values = blocks.find((b) => 'signers' in b && !('kind' in b)) as Values | undefined;
interface Projection { podCertificate?: { signerName: string; keyType: string; maxExpirationSeconds?: number; credentialBundlePath?: string; userAnnotations?: Record<string, string> }; clusterTrustBundle?: { signerName?: string; labelSelector?: unknown; path: string } }
interface PodShape { metadata: { namespace: string }; spec: { serviceAccountName: string; volumes: { projected: { sources: Projection[] } }[] } }
const pod = blocks.find((b) => b.kind === 'Pod') as PodShape | undefined;

void t.test('the page has its three examples: a config file, chart values and a Pod', (t) => {
  t.ok(configFile !== '', 'a SignerConfiguration');
  t.ok(values, 'chart values');
  t.ok(pod, 'a Pod');
  t.end();
});

void t.test('the Pod is valid, with a podCertificate source using credentialBundlePath and a clusterTrustBundle source for the same signer', (t) => {
  t.doesNotThrow(() => new Pod(pod as never).validate(), 'kubernetes-models accepts it');
  const sources = pod?.spec.volumes.flatMap((v) => v.projected.sources) ?? [];
  const cert = sources.find((s) => s.podCertificate)?.podCertificate;
  const bundle = sources.find((s) => s.clusterTrustBundle)?.clusterTrustBundle;
  t.ok(cert?.credentialBundlePath, 'credentialBundlePath');
  t.ok(cert?.maxExpirationSeconds !== undefined && cert.maxExpirationSeconds >= 3600 && cert.maxExpirationSeconds <= 7862400, 'maxExpirationSeconds within what the API server accepts');
  t.equal(bundle?.signerName, cert?.signerName, 'the trust bundle of the same signer');
  t.same(bundle?.labelSelector, {}, 'with a labelSelector: without one a signerName selects nothing');
  t.end();
});

void t.test('the config file loads with csr-signer\'s loader, and serves the Pod\'s projection', (t) => {
  const config = loadRunConfig(['--config', '/etc/csr-signer/signers.yaml'], { POD_NAMESPACE: 'csr-signer' }, (path) => {
    if (path === '/etc/csr-signer/signers.yaml') return configFile;
    throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
  });
  const signer = config.signers[0];
  const pcr = signer?.podCertificates;
  const cert = pod?.spec.volumes.flatMap((v) => v.projected.sources).find((s) => s.podCertificate)?.podCertificate;
  t.equal(signer?.name, cert?.signerName, 'the signer the Pod asks');
  t.equal(signer?.certificateSigningRequests, false, 'pod certificates only');
  t.ok(pcr?.keyTypes.includes(cert?.keyType as never), `${cert?.keyType ?? ''} is accepted`);
  t.ok(pcr?.namespaces.names?.includes(pod?.metadata.namespace ?? ''), 'the Pod\'s namespace is allowed');
  t.ok(pcr?.serviceAccounts?.includes(`${pod?.metadata.namespace ?? ''}/*`), 'and its ServiceAccount');
  const key = pcr?.userAnnotations?.dnsNames?.key ?? '';
  t.same(Object.keys(cert?.userAnnotations ?? {}), [key], 'the Pod\'s annotation is the one honoured');
  t.equal(pcr?.maxLifetimeMs, 24 * 3_600_000, 'maxLifetime 24h');
  t.end();
});

void t.test('the chart values pass the schema and render the PodCertificateRequest rules the page lists, and no CSR rule', (t) => {
  const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as object;
  const validate = new Ajv({ allErrors: true, strictRequired: false, strictTypes: false }).compile(schema);
  t.ok(validate(mergeValues(defaultValues(), values ?? {})), JSON.stringify(validate.errors));
  const rules = JSON.parse(JSON.stringify(find(renderChart({ values: values ?? {} }).manifests, 'ClusterRole').rules)) as PolicyRule[];
  for (const rule of podCertificateClusterRules({ signerNames: ['example.com/pods'], pods: false, namespaces: true })) t.ok(rules.some((r) => JSON.stringify(r) === JSON.stringify(rule)), `grants ${JSON.stringify(rule)}`);
  t.notOk(rules.some((r) => r.resources.some((res) => res.startsWith('certificatesigningrequests'))), 'no CSR rule: the one signer serves none');
  t.notOk(rules.some((r) => r.resources.includes('pods')), 'no Pod read without podCheck');

  // The RBAC table: one row per rule of the feature with everything on.
  const table = doc.split('## RBAC')[1]?.split('\n## ')[0] ?? '';
  for (const rule of podCertificateClusterRules({ signerNames: ['example.com/pods'], pods: true, namespaces: true })) {
    const row = table.split('\n').find((l) => l.startsWith(`| \`${rule.resources[0] ?? ''}\``));
    t.ok(row && rule.verbs.every((v) => row.includes(`\`${v}\``)), `a row for ${rule.resources.join(',')}: ${rule.verbs.join(', ')}`);
  }
  t.end();
});

void t.test('the alerts it names are in the chart\'s rules file', (t) => {
  const rules = readFileSync(join(chartDir, 'files', 'prometheus-rules.yaml'), 'utf8');
  const section = doc.split('## Metrics, readiness and alerts')[1]?.split('\n## ')[0] ?? '';
  const alerts = new Set(section.match(/CsrSigner[A-Za-z]+/g) ?? []);
  t.ok(alerts.size >= 2, [...alerts].join(', '));
  for (const alert of alerts) t.ok(rules.includes(`alert: ${alert}`), alert);
  t.end();
});

void t.test('every reason in the outcome table is one the code gives', (t) => {
  const table = doc.split('### Denied, Failed or wait')[1]?.split('\n## ')[0] ?? '';
  // The Reason column (| Outcome | When | Reason | What the pod sees |), row by row.
  const column = table.split('\n').filter((l) => l.startsWith('| ')).map((l) => l.split(' | ')[2] ?? '').join(' ');
  const reasons = new Set(column.match(/`[A-Z][A-Za-z]+`/g)?.map((r) => r.slice(1, -1)) ?? []);
  t.ok(reasons.size >= 10, [...reasons].join(', '));
  const code = ['src/errors.ts', 'src/signer/pod-certificate.ts', 'src/signer/pod-certificate-times.ts', 'src/signer/types.ts']
    .map((f) => readFileSync(f, 'utf8')).join('\n');
  for (const reason of reasons) t.ok(code.includes(`'${reason}'`), `${reason} is a reason in the code`);
  t.end();
});
