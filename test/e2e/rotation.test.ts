/**
 * A CA rotation end to end, against devapi with the real kubectl and openssl and
 * `csr-signer run` as a process: prepare (the new CA trusted, the old signs) →
 * switch in the middle of a burst → retire, with the signer's trust bundle in
 * ConfigMaps of the selected namespaces (one created after start) and in a
 * ClusterTrustBundle; a ConfigMap without csr-signer's label is never touched.
 * `csr-signer rotation status` is asked at every phase. Then a cluster without the
 * ClusterTrustBundle API: the signer says so and still fills the ConfigMaps; with only v1 or
 * only v1beta1 served, the signer publishes through that one.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { signerTrustRules } from '../../devapi/auth/signer-role.js';
import { makeOpensslCa } from '../helpers/ca.js';
import { cli, kubectl, run, startDevapi, type DevapiProcess } from '../helpers/devapi.js';
import { certificateOf, createAndApprove, servingSpecs, waitSettled } from '../helpers/e2e.js';
import { httpGet } from '../helpers/http.js';
import { installFiles, secretDirWith } from '../helpers/secret-dir.js';
import { startSigner, type SignerProcess } from '../helpers/signer.js';
import { needTool, opensslVerify, tempDir } from '../helpers/tools.js';
import { pause, until } from '../helpers/wait.js';

if (!needTool(t, 'kubectl') || !needTool(t, 'openssl')) process.exit(0);

const SIGNER = 'example.com/serving';
const CONFIGMAP = 'example-ca';
const CTB = 'example.com:serving:csr-signer';

const dir = tempDir('rotation-');
const oldCa = makeOpensslCa(dir, 'old', 'p256');
await pause(1100, 'the new CA must be newer, and notBefore has one-second resolution');
const newCa = makeOpensslCa(dir, 'new', 'p256');
const secret = secretDirWith({ 'tls.crt': oldCa.certPem, 'tls.key': oldCa.keyPem, 'trust.crt': '' });

const policy = join(dir, 'trust-policy.yaml');
writeFileSync(policy, [
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'csr-signer-trust' },
    rules: signerTrustRules({ configMapNames: [CONFIGMAP], clusterTrustBundleNames: [CTB], attestSignerNames: [SIGNER] }) },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'csr-signer-trust' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'csr-signer-trust' },
    subjects: [{ kind: 'ServiceAccount', name: 'csr-signer', namespace: 'csr-signer' }] },
].map((o) => stringify(o)).join('---\n'));

const config = join(dir, 'signers.yaml');
writeFileSync(config, stringify({
  apiVersion: 'csr-signer.io/v1alpha1', kind: 'SignerConfiguration',
  signers: [{
    name: SIGNER,
    ca: { certFile: join(secret, 'tls.crt'), keyFile: join(secret, 'tls.key'), trustFile: join(secret, 'trust.crt') },
    policy: { unrestricted: true },
    trust: { configMap: { name: CONFIGMAP, namespaceSelector: { matchLabels: { trust: 'enabled' } } }, clusterTrustBundle: { labels: { app: 'demo' } } },
  }],
}));
const runFlags = (kubeconfig: string): string[] => [
  '--config', config, '--kubeconfig', kubeconfig, '--leader-elect=false', '--leader-elect-resource-namespace', 'csr-signer',
];

let api: DevapiProcess;
let signer: SignerProcess;

function must(r: { code: number; stdout: string; stderr: string }, what: string): string {
  if (r.code !== 0) throw new Error(`${what}: ${r.stderr}`);
  return r.stdout;
}

/** The CERTIFICATE blocks of a bundle, normalised. */
const blocks = (pem: string | undefined): string[] => (pem ?? '').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)?.map((b) => b.replace(/\s+/g, '')) ?? [];
const only = (...pems: string[]): string[] => pems.flatMap(blocks);

function configMap(namespace: string): { data?: Record<string, string>; metadata: { resourceVersion: string; labels?: Record<string, string> } } | undefined {
  const r = kubectl(api, 'admin', ['get', 'configmap', CONFIGMAP, '-n', namespace, '-o', 'json']);
  return r.code === 0 ? JSON.parse(r.stdout) as { data?: Record<string, string>; metadata: { resourceVersion: string } } : undefined;
}

function clusterTrustBundle(): { metadata: { labels?: Record<string, string> }; spec: { signerName?: string; trustBundle: string } } | undefined {
  const r = kubectl(api, 'admin', ['get', 'clustertrustbundles', CTB, '-o', 'json']);
  return r.code === 0 ? JSON.parse(r.stdout) as { metadata: { labels?: Record<string, string> }; spec: { signerName?: string; trustBundle: string } } : undefined;
}

/** Polls until every bundle target holds exactly `want` (as a set of certificates). */
async function bundlesBecome(want: string[], namespaces: readonly string[], ms = 20_000): Promise<void> {
  const same = (pem: string | undefined): boolean => {
    const have = blocks(pem);
    return have.length === want.length && want.every((w) => have.includes(w));
  };
  let stale: string[] = [];
  await until(() => {
    stale = [
      ...namespaces.filter((ns) => !same(configMap(ns)?.data?.['ca.crt'])).map((ns) => `ConfigMap ${ns}/${CONFIGMAP}`),
      ...(same(clusterTrustBundle()?.spec.trustBundle) ? [] : [`ClusterTrustBundle ${CTB}`]),
    ];
    return stale.length === 0;
  }, { what: 'every bundle target to hold the expected CAs', ms, intervalMs: 200, detail: () => `not in step: ${stale.join(', ')}` });
}

interface Status { signers: { signer: string; phase: string; cas: { role: string; subject: string; retireAfter?: string; lastIssuedNotAfter?: string }[] }[] }
function rotationStatus(): Status {
  return JSON.parse(must(run(process.execPath, [cli, 'rotation', 'status', '-o', 'json', ...runFlags(api.kubeconfig('signer'))]), 'rotation status')) as Status;
}

const metrics = async (): Promise<string> => (await httpGet(`http://${String(signer.logs.find((l) => l.msg === 'started')?.http)}/metrics`)).body;

/** `kubectl create -f -` of a namespace, with labels. */
const namespace = (name: string, labels: Record<string, string> = {}): string =>
  must(kubectl(api, 'admin', ['create', '-f', '-'], stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } })), `create namespace ${name}`);

t.before(async () => {
  api = await startDevapi({ args: ['--policy', policy] });
  namespace('team-a');
  must(kubectl(api, 'admin', ['label', 'namespace', 'team-a', 'trust=enabled']), 'label ns');
  namespace('team-b');
  namespace('team-c', { trust: 'enabled' });
  must(kubectl(api, 'admin', ['create', '-f', '-'], stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: CONFIGMAP, namespace: 'team-c' }, data: { 'ca.crt': 'theirs' } })), 'foreign configmap');
  signer = await startSigner([...runFlags(api.kubeconfig('signer')), '--ca-reload-interval', '500ms', '--trust-resync-interval', '2s'], { waitFor: 'watching' });
});
t.teardown(async () => {
  await signer.stop();
  await api.stop();
});

let foreignVersion = '';

void t.test('at start: the selected namespace and the ClusterTrustBundle hold the signing CA; others get nothing', async (t) => {
  await bundlesBecome(only(oldCa.certPem), ['team-a']);
  t.equal(configMap('team-b'), undefined, 'a namespace the selector does not match gets no ConfigMap');
  const foreign = configMap('team-c');
  t.same(foreign?.data, { 'ca.crt': 'theirs' }, 'a ConfigMap without csr-signer\'s label keeps its data');
  foreignVersion = foreign?.metadata.resourceVersion ?? '';
  t.same(configMap('team-a')?.metadata.labels, { 'csr-signer.io/trust-bundle': 'true' }, 'ours is labelled');
  const ctb = clusterTrustBundle();
  t.equal(ctb?.spec.signerName, SIGNER, 'the ClusterTrustBundle is linked to the signer');
  t.match(ctb?.metadata.labels, { app: 'demo', 'csr-signer.io/trust-bundle': 'true' }, 'with the configured labels');
  t.equal(rotationStatus().signers[0]?.phase, 'steady');
});

void t.test('prepare: the new CA joins every bundle while the old one keeps signing', async (t) => {
  installFiles(secret, { 'tls.crt': oldCa.certPem, 'tls.key': oldCa.keyPem, 'trust.crt': newCa.certPem });
  await bundlesBecome(only(oldCa.certPem, newCa.certPem), ['team-a']);
  const status = rotationStatus().signers[0];
  t.equal(status?.phase, 'prepare');
  t.same(status?.cas.map((c) => [c.role, c.subject]), [['signing', 'CN=old test CA,O=csr-signer tests'], ['next', 'CN=new test CA,O=csr-signer tests']]);
  const batch = servingSpecs(dir, 'prepared', 3);
  createAndApprove(api, batch);
  const csrs = await waitSettled(api, batch.map((s) => s.name));
  for (const s of batch) t.equal(opensslVerify(dir, oldCa.certPem, certificateOf(csrs.get(s.name)) ?? '').code, 0, `${s.name} is signed by the old CA`);
});

void t.test('switch in the middle of a burst: every CSR is issued once, by the CA in use when it was signed', async (t) => {
  const first = servingSpecs(dir, 'burst-a', 20);
  const second = servingSpecs(dir, 'burst-b', 20);
  createAndApprove(api, first);
  installFiles(secret, { 'tls.crt': newCa.certPem, 'tls.key': newCa.keyPem, 'trust.crt': oldCa.certPem });
  createAndApprove(api, second);
  const reloaded = await signer.waitForLog((l) => l.msg === 'CA reloaded' && /CN=new test CA/.test(String(l.caSubject)));
  const reloadAt = signer.logs.indexOf(reloaded);
  const third = servingSpecs(dir, 'burst-c', 5); // created after the switch: new CA only
  createAndApprove(api, third);
  const all = [...first, ...second, ...third];
  const csrs = await waitSettled(api, all.map((s) => s.name));
  // kubectl runs synchronously: give the signer's stdout a turn until every audit line is read.
  const names = new Set(all.map((s) => s.name));
  await until(() => signer.logs.filter((l) => l.audit === 'certificate-issued' && names.has(String(l.csr))).length >= names.size,
    { what: 'an audit line for every CSR', ms: 10_000, intervalMs: 100 });
  const audits = signer.logs.filter((l) => l.audit === 'certificate-issued');
  let byOld = 0;
  let byNew = 0;
  for (const s of all) {
    const pem = certificateOf(csrs.get(s.name)) ?? '';
    const old = opensslVerify(dir, oldCa.certPem, pem).code === 0;
    const fresh = opensslVerify(dir, newCa.certPem, pem).code === 0;
    t.ok(old !== fresh, `${s.name} verifies with exactly one CA`);
    const records = audits.filter((l) => l.csr === s.name);
    t.equal(records.length, 1, `${s.name} issued once`);
    const at = records[0] === undefined ? -1 : signer.logs.indexOf(records[0]);
    if (at >= 0 && at < reloadAt) t.ok(old, `${s.name}, issued before the switch, is the old CA's`);
    if (third.includes(s)) t.ok(fresh, `${s.name}, created after the switch, is the new CA's`);
    if (old) byOld++;
    else byNew++;
  }
  t.ok(byOld > 0 && byNew > 0, `both CAs signed part of the burst (old ${byOld}, new ${byNew})`);
  await bundlesBecome(only(newCa.certPem, oldCa.certPem), ['team-a']);
  const status = rotationStatus().signers[0];
  t.equal(status?.phase, 'switch');
  const text = must(run(process.execPath, [cli, 'rotation', 'status', ...runFlags(api.kubeconfig('signer'))]), 'rotation status');
  t.match(text, /^signer example\.com\/serving: phase switch\n {2}signing {2}CN=new test CA,O=csr-signer tests\n/, 'the text form names the phase and the signing CA first');
  t.match(text, /previous CN=old test CA,O=csr-signer tests[\s\S]*can leave the bundle after \d{4}-\d\d-\d\dT[\d:]+Z/, 'and when the old CA may go');
  const previous = status?.cas.find((c) => c.role === 'previous');
  t.equal(previous?.subject, 'CN=old test CA,O=csr-signer tests', 'the old CA is the previous one');
  t.ok(previous?.retireAfter && Date.parse(previous.retireAfter) > Date.now() + 3600_000, 'it may leave the bundle only after its last certificate expires');
  const scrape = await metrics();
  t.equal(scrape.match(/^csr_signer_ca_last_issued_not_after_timestamp_seconds\{signer="example.com\/serving",ca="[0-9a-f]{64}"\} \d+$/gm)?.length, 2, 'the last NotAfter of both CAs is a metric');
  t.match(scrape, /^csr_signer_trust_bundle_certificates\{signer="example.com\/serving"\} 2$/m);
  t.match(scrape, /^csr_signer_rotation_phase\{signer="example.com\/serving",phase="switch"\} 1$/m, 'the phase is a metric too');
  t.match(scrape, /^csr_signer_rotation_phase\{signer="example.com\/serving",phase="steady"\} 0$/m);
});

void t.test('a namespace created (and labelled) after start gets the bundle', async (t) => {
  namespace('team-d');
  t.equal(configMap('team-d'), undefined, 'not before it matches the selector');
  must(kubectl(api, 'admin', ['label', 'namespace', 'team-d', 'trust=enabled']), 'label ns');
  await bundlesBecome(only(newCa.certPem, oldCa.certPem), ['team-a', 'team-d']);
  t.pass('team-d has both CAs');
});

void t.test('retire: the old CA leaves every bundle; the foreign ConfigMap was never modified', async (t) => {
  installFiles(secret, { 'tls.crt': newCa.certPem, 'tls.key': newCa.keyPem, 'trust.crt': '' });
  await bundlesBecome(only(newCa.certPem), ['team-a', 'team-d']);
  t.equal(rotationStatus().signers[0]?.phase, 'steady');
  // The burst's old-CA certificates are still valid: retiring now is early, and the signer says so.
  const early = await signer.waitForLog((l) => /a CA left the trust bundle while certificates it signed are still valid/.test(String(l.msg)));
  t.match(early, { signer: SIGNER, caSubject: 'CN=old test CA,O=csr-signer tests' }, 'an early retirement is logged with the CA');
  const foreign = configMap('team-c');
  t.same(foreign?.data, { 'ca.crt': 'theirs' });
  t.equal(foreign?.metadata.resourceVersion, foreignVersion, 'not written at all (same resourceVersion)');
  t.match(await metrics(), /csr_signer_trust_bundle_publish_total\{signer="example.com\/serving",target="configmap",result="not-owned"\} [1-9]/);
  t.equal(signer.logs.filter((l) => l.namespace === 'team-c' && /without csr-signer's label/.test(String(l.msg))).length, 1, 'the warning is logged once, not every resync');
});

void t.test('without the ClusterTrustBundle API the signer says so and still fills the ConfigMaps', async (t) => {
  const bare = await startDevapi({ args: ['--policy', policy, '--no-cluster-trust-bundles'] });
  must(kubectl(bare, 'admin', ['label', 'namespace', 'default', 'trust=enabled']), 'label ns');
  const other = await startSigner([...runFlags(bare.kubeconfig('signer'))], { waitFor: 'watching' });
  try {
    const warned = await other.waitForLog((l) => /ClusterTrustBundle API is not served/.test(String(l.msg)));
    t.ok(warned, 'one clear line');
    const bundle = await until(() => {
      const r = kubectl(bare, 'admin', ['get', 'configmap', CONFIGMAP, '-n', 'default', '-o', 'jsonpath={.data.ca\\.crt}']);
      return r.code === 0 ? { text: r.stdout } : undefined;
    }, { what: `ConfigMap default/${CONFIGMAP}`, ms: 20_000, intervalMs: 200 }).then((r) => r.text);
    t.same(blocks(bundle), only(newCa.certPem), 'the ConfigMap holds the signing CA');
  } finally {
    await other.stop();
    await bare.stop();
  }
});

void t.test('the signer publishes ClusterTrustBundles through v1 where served, v1beta1 otherwise', async (t) => {
  t.match(signer.logs.filter((l) => /through this API version/.test(String(l.msg))), [{ api: 'certificates.k8s.io/v1' }], 'with both served, v1 is preferred');
  for (const version of ['v1', 'v1beta1']) {
    const one = await startDevapi({ args: ['--policy', policy, '--cluster-trust-bundle-versions', version] });
    const other = await startSigner([...runFlags(one.kubeconfig('signer'))], { waitFor: 'watching' });
    try {
      const chosen = await other.waitForLog((l) => /through this API version/.test(String(l.msg)));
      t.equal(chosen.api, `certificates.k8s.io/${version}`, `only ${version} served: the signer says it uses ${version}`);
      const published = await until(() => {
        const r = kubectl(one, 'admin', ['get', 'clustertrustbundles', CTB, '-o', 'json']);
        return r.code === 0 ? JSON.parse(r.stdout) as { apiVersion: string; spec: { trustBundle: string } } : undefined;
      }, { what: `ClusterTrustBundle ${CTB} through ${version}`, ms: 20_000, intervalMs: 200 });
      t.equal(published.apiVersion, `certificates.k8s.io/${version}`);
      t.same(blocks(published.spec.trustBundle), only(newCa.certPem), `published through ${version}: the signing CA`);
      t.notOk(other.logs.some((l) => /not served/.test(String(l.msg))), 'no "not served" warning');
    } finally {
      await other.stop();
      await one.stop();
    }
  }
});
