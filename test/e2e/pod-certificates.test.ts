/**
 * Pod certificates end to end with real processes: devapi as a 1.35, a 1.36 and a 1.37
 * cluster (one each), `csr-signer run` with a config file that serves PodCertificateRequests
 * for example.com/pods and publishes its trust bundle to a ConfigMap and a
 * ClusterTrustBundle, and a scripted kubelet (test/helpers/pod-kubelet.ts) that asks as
 * system:node:worker-1 in the form of its release: 1.35 pkixPublicKey + proofOfPossession,
 * 1.36 stubPKCS10Request through v1beta1, 1.37 through v1.
 *
 * For each form: the request is Issued with one status write; the credential bundle the
 * kubelet writes starts an HTTPS server; a client that trusts only the bundle the signer
 * published (read back from the ConfigMap and from the ClusterTrustBundle with kubectl)
 * verifies it and sees the pod's SPIFFE ID; Go's crypto/x509 parses the certificate and
 * verifies it against the CA; the kubelet's refresh (a second request for the same pod,
 * made at once rather than at beginRefreshAt) gets a new certificate for a new key; a key
 * type the signer does not allow is Denied UnsupportedKeyType and a namespace it does not
 * serve is Denied CsrSignerPolicyDenied, each with exactly one condition and nothing issued;
 * `kubectl get podcertificaterequests -A` lists them all.
 */
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { stringify } from 'yaml';
import { signerTrustRules } from '../../devapi/auth/signer-role.js';
import { makeOpensslCa } from '../helpers/ca.js';
import { control, kubectl, startDevapi, type DevapiProcess } from '../helpers/devapi.js';
import { goParse } from '../helpers/go-oracle.js';
import { httpGet } from '../helpers/http.js';
import { sampleOf } from '../helpers/kubelet.js';
import { PodKubelet, type PcrForm, type PodCertificateOutcome, type Workload } from '../helpers/pod-kubelet.js';
import { startSigner, type SignerProcess } from '../helpers/signer.js';
import { needTool, opensslVerify, tempDir } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

if (!needTool(t, 'kubectl') || !needTool(t, 'openssl') || !needTool(t, 'go')) process.exit(0);

const SIGNER = 'example.com/pods';
const CONFIGMAP = 'pods-ca';
const CTB = 'example.com:pods:csr-signer';
const NAMESPACE = 'shop';
const OTHER_NAMESPACE = 'bank';
const SERVICE_ACCOUNT = 'web';
const REFRESH = { from: 0.5, to: 0.7 };
const MINUTE = 60_000;

const dir = tempDir('pod-certificates-');
const ca = makeOpensslCa(dir, 'pods', 'p256');
// The CA devapi trusts for client certificates (kube-apiserver's --client-ca-file): the kubelet's identity.
const clientCa = makeOpensslCa(dir, 'kubelet-client', 'p256');

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
    ca: { certFile: ca.certPath, keyFile: ca.keyPath },
    certificateSigningRequests: false,
    trust: { configMap: { name: CONFIGMAP }, clusterTrustBundle: {} },
    podCertificates: {
      namespaces: { names: [NAMESPACE] },
      keyTypes: ['ECDSAP256', 'ECDSAP384', 'ED25519', 'RSA3072'],
      refresh: REFRESH,
    },
  }],
}));

const MINOR: Record<PcrForm, number> = { legacy: 35, stub: 36, v1: 37 };

interface Cluster {
  readonly api: DevapiProcess;
  readonly signer: SignerProcess;
  readonly kubelet: PodKubelet;
}

async function cluster(form: PcrForm): Promise<Cluster> {
  const api = await startDevapi({ clientCaFile: clientCa.certPath, args: ['--kubernetes-minor', String(MINOR[form]), '--signer-name', SIGNER, '--policy', policy] });
  const signer = await startSigner([
    '--kubeconfig', api.kubeconfig('signer'), '--config', config, '--leader-elect=false', '--leader-elect-resource-namespace', 'csr-signer',
  ], { waitFor: 'started' });
  return { api, signer, kubelet: new PodKubelet(api, tempDir(`pod-kubelet-${form}-`), clientCa) };
}

const stop = async (c: Cluster): Promise<void> => {
  await c.signer.stop();
  await c.api.stop();
};

function must(r: { code: number; stdout: string; stderr: string }, what: string): string {
  if (r.code !== 0) throw new Error(`${what}: ${r.stderr}`);
  return r.stdout;
}

/** The CERTIFICATE blocks of a PEM text, normalised. */
const blocks = (pem: string | undefined): string[] => (pem ?? '').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)?.map((b) => b.replace(/\s+/g, '')) ?? [];

/** The trust bundle as the signer published it: the ConfigMap in the pod's namespace and the ClusterTrustBundle, once both hold it. */
async function publishedBundles(api: DevapiProcess): Promise<{ configMap: string; clusterTrustBundle: string }> {
  return until(() => {
    const configMap = kubectl(api, 'admin', ['get', 'configmap', CONFIGMAP, '-n', NAMESPACE, '-o', 'jsonpath={.data.ca\\.crt}']).stdout;
    const clusterTrustBundle = kubectl(api, 'admin', ['get', 'clustertrustbundles', CTB, '-o', 'jsonpath={.spec.trustBundle}']).stdout;
    return blocks(configMap).length > 0 && blocks(clusterTrustBundle).length > 0 ? { configMap, clusterTrustBundle } : undefined;
  }, { what: `ConfigMap ${NAMESPACE}/${CONFIGMAP} and ClusterTrustBundle ${CTB}`, ms: 30_000, intervalMs: 200 });
}

/** devapi's audit: the status writes to one PodCertificateRequest. */
async function statusWrites(api: DevapiProcess, namespace: string, name: string): Promise<unknown[]> {
  const audit = await control(api, 'GET', '/devapi/v1/audit') as { pcrStatusWrites?: { namespace?: string; name?: string }[] };
  return (audit.pcrStatusWrites ?? []).filter((w) => w.namespace === namespace && w.name === name);
}

/** The bundle's key and chain serve HTTPS; a client trusting only `trusted` verifies it and reads the peer's URI SANs. */
async function serveAndConnect(bundle: string, trusted: string, spiffeId: string): Promise<{ body: string; uris: string[]; authorized: boolean }> {
  const key = /-----BEGIN PRIVATE KEY-----[\s\S]*?-----END PRIVATE KEY-----\n/.exec(bundle)?.[0] ?? '';
  const chain = bundle.slice(bundle.indexOf('-----BEGIN CERTIFICATE-----'));
  const server = createServer({ key, cert: chain }, (_req, res) => { res.end('hello from the pod'); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    return await new Promise((resolve, reject) => {
      let uris: string[] = [];
      const req = request({
        host: '127.0.0.1', port, path: '/', ca: trusted, rejectUnauthorized: true, agent: false,
        // A SPIFFE client checks the URI SAN, not a host name: the certificate names no host.
        checkServerIdentity: (_host, cert) => {
          uris = (cert.subjectaltname ?? '').split(', ').filter((n) => n.startsWith('URI:')).map((n) => n.slice(4));
          return uris.includes(spiffeId) ? undefined : new Error(`the server's URI SANs ${uris.join(' ')} do not include ${spiffeId}`);
        },
      }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { body += d; });
        res.on('end', () => resolve({ body, uris, authorized: (res.socket as { authorized?: boolean }).authorized === true }));
      });
      req.on('error', reject);
      req.end();
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const derOf = (pem: string): Buffer => new X509Certificate(pem).raw;
/** The chain's first block, the leaf, as PEM. */
const leafOf = (outcome: PodCertificateOutcome): string => /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/.exec(outcome.pcr.status?.certificateChain ?? '')?.[0] ?? '';

/** Go's crypto/x509: parses the leaf, checks its signature by the CA and verifies the chain. */
async function goAccepts(t: Test, outcome: PodCertificateOutcome, spiffeId: string): Promise<void> {
  const leaf = new X509Certificate(leafOf(outcome));
  const [parsed] = await goParse([{ id: outcome.name, cert: leaf.raw, issuer: derOf(ca.certPem) }]);
  t.equal(parsed?.ok, true, `Go parses ${outcome.name}`);
  if (parsed?.ok !== true) return;
  t.equal(parsed.signature, 'ok', 'Go checks its signature by the CA');
  t.equal(parsed.verify, 'ok', 'Go verifies it against the CA');
  t.same(parsed.fields.uris, [spiffeId], 'Go sees the SPIFFE ID as the only URI SAN');
  t.equal(parsed.fields.isCA, false, 'not a CA');
  t.equal(parsed.fields.notBefore, new Date(outcome.pcr.status?.notBefore ?? '').toISOString().replace('.000Z', 'Z'), 'status.notBefore is the leaf\'s NotBefore');
  t.equal(parsed.fields.notAfter, new Date(outcome.pcr.status?.notAfter ?? '').toISOString().replace('.000Z', 'Z'), 'status.notAfter is the leaf\'s NotAfter');
}

/** Issued, once, with the status the apiserver demands; the leaf is for the kubelet's key. */
async function assertIssued(t: Test, api: DevapiProcess, outcome: PodCertificateOutcome): Promise<void> {
  t.equal(outcome.state, 'Issued', `${outcome.name} is Issued: ${JSON.stringify(outcome.pcr.status?.conditions)}`);
  t.match(outcome.pcr.status?.conditions, [{ type: 'Issued', status: 'True', reason: 'Issued', message: /^issued by csr-signer, serial [0-9a-fA-F]+$/ }]);
  t.equal(outcome.pcr.status?.conditions?.length, 1, 'exactly one condition');
  t.equal((await statusWrites(api, outcome.namespace, outcome.name)).length, 1, 'devapi saw exactly one status write');
  const leaf = new X509Certificate(leafOf(outcome));
  t.ok(leaf.publicKey.export({ type: 'spki', format: 'der' }).equals(outcome.spki), 'the leaf carries the kubelet\'s key');
  t.match(outcome.bundle, /^-----BEGIN PRIVATE KEY-----\n[\s\S]*?\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\n/, 'the bundle: the PKCS#8 key first, then the chain');
  t.equal(blocks(outcome.bundle).length, blocks(outcome.pcr.status?.certificateChain).length, 'every certificate of the chain is in the bundle');
}

/** beginRefreshAt lies where the apiserver wants it and in the configured fraction of the lifetime. */
function assertRefreshTime(t: Test, outcome: PodCertificateOutcome): void {
  const nb = Date.parse(outcome.pcr.status?.notBefore ?? '');
  const na = Date.parse(outcome.pcr.status?.notAfter ?? '');
  const at = Date.parse(outcome.pcr.status?.beginRefreshAt ?? '');
  const lifetime = na - nb;
  t.equal(lifetime, 86_400_000, 'lifetime: the default maxExpirationSeconds, 24 h');
  t.ok(at >= nb + 10 * MINUTE && at <= na - 10 * MINUTE, `beginRefreshAt ${outcome.pcr.status?.beginRefreshAt} in [notBefore+10m, notAfter−10m]`);
  t.ok(at >= nb + Math.floor(lifetime * REFRESH.from / 1000) * 1000 && at <= nb + lifetime * REFRESH.to,
    `beginRefreshAt at ${(at - nb) / lifetime} of the lifetime, within [${REFRESH.from}, ${REFRESH.to}]`);
  t.equal(at % 1000, 0, 'whole seconds');
}

const spiffe = (w: Workload): string => `spiffe://cluster.local/ns/${w.namespace}/sa/${w.serviceAccount}`;

for (const form of ['legacy', 'stub', 'v1'] as const) {
  void t.test(`${form} (devapi as Kubernetes 1.${MINOR[form]})`, async (t) => {
    const c = await cluster(form);
    t.teardown(() => stop(c));
    const { api, kubelet } = c;
    const workload = kubelet.createWorkload(NAMESPACE, SERVICE_ACCOUNT, `web-${form}`, [SIGNER]);
    const outcomes: PodCertificateOutcome[] = [];

    const first = await kubelet.request(workload, { signerName: SIGNER, form });
    outcomes.push(first);
    await t.test('Issued once; the bundle serves HTTPS to a client trusting only the published bundle', async (t) => {
      await assertIssued(t, api, first);
      t.same(first.pcr.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Pod', name: workload.pod, uid: workload.podUID }], 'owned by the Pod, as the kubelet writes it');
      const published = await publishedBundles(api);
      t.same(blocks(published.configMap), blocks(ca.certPem), 'the ConfigMap holds the CA');
      t.same(blocks(published.clusterTrustBundle), blocks(ca.certPem), 'the ClusterTrustBundle holds the CA');
      for (const [where, trusted] of Object.entries(published)) {
        const seen = await serveAndConnect(first.bundle ?? '', trusted, spiffe(workload));
        t.equal(seen.authorized, true, `${where}: the client verified the server's chain`);
        t.equal(seen.body, 'hello from the pod', `${where}: and talked to it`);
        t.same(seen.uris, [spiffe(workload)], `${where}: the server is ${spiffe(workload)}`);
      }
      t.equal(opensslVerify(dir, published.configMap, leafOf(first)).code, 0, 'openssl verifies the leaf against the published bundle');
      await goAccepts(t, first, spiffe(workload));
      assertRefreshTime(t, first);
    });

    await t.test('refresh: a second request for the pod gets a new certificate for a new key', async (t) => {
      // The kubelet makes a new key and request at beginRefreshAt; nothing about the request
      // depends on when it is made, so it is made now rather than hours from now.
      const second = await kubelet.request(workload, { signerName: SIGNER, form });
      outcomes.push(second);
      await assertIssued(t, api, second);
      t.not(second.name, first.name, 'a new request');
      t.notOk(second.spki.equals(first.spki), 'for a new key');
      const [a, b] = [new X509Certificate(leafOf(first)), new X509Certificate(leafOf(second))];
      t.not(b.serialNumber, a.serialNumber, 'a new certificate');
      t.ok(Date.parse(b.validFrom) >= Date.parse(a.validFrom), 'NotBefore later or equal');
      assertRefreshTime(t, second);
      await goAccepts(t, second, spiffe(workload));
      const published = await publishedBundles(api);
      t.equal((await serveAndConnect(second.bundle ?? '', published.clusterTrustBundle, spiffe(workload))).authorized, true, 'the new bundle serves HTTPS too');
    });

    await t.test('other key types of the projection are issued for their own key', async (t) => {
      for (const keyType of ['ED25519', 'RSA3072', 'ECDSAP384'] as const) {
        const outcome = await kubelet.request(workload, { signerName: SIGNER, form, keyType });
        outcomes.push(outcome);
        await assertIssued(t, api, outcome);
        await goAccepts(t, outcome, spiffe(workload));
      }
    });

    await t.test('a key type the signer does not allow: Denied UnsupportedKeyType, once, nothing issued', async (t) => {
      const outcome = await kubelet.request(workload, { signerName: SIGNER, form, keyType: 'ECDSAP521' });
      outcomes.push(outcome);
      t.match(outcome.pcr.status?.conditions, [{ type: 'Denied', status: 'True', reason: 'UnsupportedKeyType', message: /use keyType ECDSAP256/ }]);
      t.equal(outcome.pcr.status?.conditions?.length, 1, 'exactly one condition');
      t.notOk(outcome.pcr.status?.certificateChain, 'no certificate');
      t.equal((await statusWrites(api, outcome.namespace, outcome.name)).length, 1, 'one status write');
    });

    await t.test('a namespace the signer does not serve: Denied CsrSignerPolicyDenied, once, nothing issued', async (t) => {
      const elsewhere = kubelet.createWorkload(OTHER_NAMESPACE, SERVICE_ACCOUNT, `web-${form}`, [SIGNER]);
      const outcome = await kubelet.request(elsewhere, { signerName: SIGNER, form });
      outcomes.push(outcome);
      t.match(outcome.pcr.status?.conditions, [{ type: 'Denied', status: 'True', reason: 'CsrSignerPolicyDenied', message: new RegExp(OTHER_NAMESPACE) }]);
      t.equal(outcome.pcr.status?.conditions?.length, 1, 'exactly one condition');
      t.notOk(outcome.pcr.status?.certificateChain, 'no certificate');
      t.equal((await statusWrites(api, outcome.namespace, outcome.name)).length, 1, 'one status write');
    });

    await t.test('kubectl get podcertificaterequests -A shows every request; the metrics count them', async (t) => {
      const listed = must(kubectl(api, 'admin', ['get', 'podcertificaterequests', '-A']), 'kubectl get podcertificaterequests -A');
      for (const o of outcomes) t.match(listed, new RegExp(`${o.namespace}\\s+${o.name}\\s`), `lists ${o.namespace}/${o.name}`);
      const metrics = (await httpGet(`http://${String(c.signer.logs.find((l) => l.msg === 'started')?.http)}/metrics`)).body;
      const issued = outcomes.filter((o) => o.state === 'Issued').length;
      t.equal(sampleOf(metrics, 'csr_signer_pod_certificates_total', { signer: SIGNER, result: 'issued' }), issued, `${issued} issued`);
      t.equal(sampleOf(metrics, 'csr_signer_pod_certificates_total', { signer: SIGNER, result: 'denied' }), 2, '2 denied');
    });
  });
}
