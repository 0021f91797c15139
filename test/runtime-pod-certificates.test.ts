/**
 * The runtime with a signer of pod certificates, in process against devapi over HTTPS as
 * the signer identity (the product's RBAC rules, the apiserver's status validation and
 * sign check): discovery picks the version at start, the PodCertificateRequest controller
 * runs on the leader and issues once, a v1 client reads a 1.35 kubelet's legacy request
 * through v1beta1, readiness looks at its watch; a cluster that serves no
 * PodCertificateRequests stops the start with one sentence, and an API server unreachable at
 * start is retried (readiness says why) until it answers.
 */
import { sign } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { DevApi } from '../devapi/server/server.js';
import { loadRunConfig, type RunConfig } from '../src/config/index.js';
import { readBoundedText } from '../src/files.js';
import { readinessChecks } from '../src/http/health.js';
import { loadKubeConfig } from '../src/kube/config.js';
import { kubeHttp, type KubeHttp } from '../src/kube/http.js';
import type { PodCertificateRequest } from '../src/kube/objects.js';
import { SignerRuntime } from '../src/runtime.js';
import { makeOpensslCa } from './helpers/ca.js';
import { podSigner, podSignerName } from './helpers/pod-certificates.js';
import { buildRequest, testKey } from './helpers/requests.js';
import { tempDir } from './helpers/tools.js';
import { until } from './helpers/wait.js';

const ca = makeOpensslCa(tempDir(), 'pods', 'p256');
const signer = podSigner({ namespaces: { names: ['shop'] } }, { ca: { certFile: ca.certPath, keyFile: ca.keyPath } });

async function devapi(minorVersion: number): Promise<{ api: DevApi; admin: KubeHttp; config: RunConfig }> {
  const api = new DevApi({ stateDir: mkdtempSync(join(tmpdir(), `devapi-pods-${minorVersion}-`)), readText: readBoundedText, minorVersion });
  await api.start();
  const admin = kubeHttp((await loadKubeConfig(api.kubeconfigPath('admin'), {})).endpoint);
  t.teardown(async () => {
    admin.close();
    await api.stop();
  });
  const config = loadRunConfig([
    '--kubeconfig', api.kubeconfigPath('signer'), '--leader-elect=false', '--http-address', '127.0.0.1:0',
    '--cluster-signing-cert-file', ca.certPath, '--cluster-signing-key-file', ca.keyPath,
  ], {}, readBoundedText);
  return { api, admin, config: { ...config, signers: [signer] } };
}

const logged = (lines: Record<string, unknown>[]) => pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } });

const spec = (podUID: string, key: Record<string, string>) => ({
  signerName: podSignerName, podName: 'web-0', podUID, serviceAccountName: 'web', serviceAccountUID: 'sa-1', nodeName: 'worker-1', nodeUID: 'node-1', ...key,
});

void t.test('a cluster serving no PodCertificateRequests (1.32) stops the start with one sentence naming the versions that do', async (t) => {
  const { config } = await devapi(32);
  const runtime = new SignerRuntime(config, logged([]));
  await t.rejects(runtime.start(), {
    code: 'CSR_SIGNER_ERR_POD_CERTIFICATES_NOT_SERVED',
    message: /^signer example\.com\/pods has podCertificates, but the cluster serves PodCertificateRequests in neither certificates\.k8s\.io\/v1 nor v1beta1; pod certificates need Kubernetes 1\.37/,
  });
});

void t.test('1.37: the controller watches through v1, issues a stub request and a legacy one once each, and readiness follows its watch', async (t) => {
  const { api, admin, config } = await devapi(37);
  await admin.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } } });
  const lines: Record<string, unknown>[] = [];
  const runtime = new SignerRuntime(config, logged(lines));
  await runtime.start();
  t.teardown(() => runtime.stop(1000));
  t.match(lines.find((l) => l.msg === 'started'), { podCertificates: [`${podSignerName} (certificates.k8s.io/v1)`] });
  await until(() => runtime.podCertificates?.synced === true);
  t.same(runtime.controller?.sources.size, 0, 'a signer of pod certificates alone has no CSR watch');

  const key = testKey('p256');
  await admin.request('POST', '/apis/certificates.k8s.io/v1/namespaces/shop/podcertificaterequests', {
    body: { apiVersion: 'certificates.k8s.io/v1', kind: 'PodCertificateRequest', metadata: { name: 'stub' }, spec: spec('pod-1', { stubPKCS10Request: Buffer.from(buildRequest({ key: 'p256' })).toString('base64') }) },
  });
  // A 1.35 kubelet's request: the legacy fields only, created through v1beta1; v1 does not show them.
  await admin.request('POST', '/apis/certificates.k8s.io/v1beta1/namespaces/shop/podcertificaterequests', {
    body: {
      apiVersion: 'certificates.k8s.io/v1beta1', kind: 'PodCertificateRequest', metadata: { name: 'legacy' },
      spec: spec('pod-2', {
        pkixPublicKey: key.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
        proofOfPossession: sign('sha256', Buffer.from('pod-2'), key.privateKey).toString('base64'),
      }),
    },
  });
  const read = (name: string) => admin.request<PodCertificateRequest>('GET', `/apis/certificates.k8s.io/v1/namespaces/shop/podcertificaterequests/${name}`);
  for (const name of ['stub', 'legacy']) {
    const issued = await until(async () => {
      const pcr = await read(name);
      return pcr.status?.conditions?.length ? pcr : undefined;
    }, { what: `${name} issued`, ms: 15_000 });
    t.match(issued.status, { conditions: [{ type: 'Issued', status: 'True', reason: 'Issued' }], certificateChain: /^-----BEGIN CERTIFICATE-----/ }, name);
  }
  t.same(api.pcrStatusWrites.map((w) => `${w.name} ${w.conditionType} ${w.user}`).sort(), ['legacy Issued system:serviceaccount:csr-signer:csr-signer', 'stub Issued system:serviceaccount:csr-signer:csr-signer'], 'one write each, by the signer identity');
  const snapshot = runtime.snapshot();
  t.match(snapshot.signers, [{ name: podSignerName, watchSynced: true, podCertificatesPending: 0 }]);
  t.same(readinessChecks(snapshot).filter((c) => c.failure !== undefined), [], 'ready: the signer\'s watch is its PodCertificateRequest watch');
  t.match(lines.filter((l) => l.audit === 'certificate-issued').map((l) => l.name).sort(), ['legacy', 'stub']);
});

void t.test('an API server unreachable at start: discovery retries with a warning, /readyz says why, and once the server answers a request is issued', async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'devapi-pods-late-'));
  // Started once for its kubeconfigs and port, then stopped: the signer starts against a closed port.
  const first = new DevApi({ stateDir, readText: readBoundedText, minorVersion: 37 });
  const port = Number(new URL(await first.start()).port);
  await first.stop();
  const config = loadRunConfig([
    '--kubeconfig', first.kubeconfigPath('signer'), '--leader-elect=false', '--http-address', '127.0.0.1:0',
    '--cluster-signing-cert-file', ca.certPath, '--cluster-signing-key-file', ca.keyPath, '--retry-base-delay', '20ms', '--retry-max-delay', '200ms',
  ], {}, readBoundedText);
  const lines: Record<string, unknown>[] = [];
  const runtime = new SignerRuntime({ ...config, signers: [signer] }, logged(lines));
  let settled: string | undefined;
  const started = runtime.start().then(() => { settled = 'started'; }, (e: unknown) => { settled = `rejected: ${String(e)}`; });
  t.teardown(() => runtime.stop(1000));
  await until(() => lines.filter((l) => l.msg === 'could not ask the API server which PodCertificateRequest versions it serves; retrying').length >= 2, { what: 'two discovery retries' });
  t.equal(settled, undefined, 'the start waits for the API server instead of failing');
  t.match(readinessChecks(runtime.snapshot()).find((c) => c.name === 'pod-certificate-api'), {
    failure: /^could not ask the API server which PodCertificateRequest versions it serves \(attempt \d+\): .*ECONNREFUSED/,
  }, '/readyz names the reason');
  t.match(lines.find((l) => l.level === 40), { retryInMs: Number, failures: 1, err: { code: 'ECONNREFUSED' } });

  const api = new DevApi({ stateDir, readText: readBoundedText, minorVersion: 37, port });
  await api.start();
  const admin = kubeHttp((await loadKubeConfig(api.kubeconfigPath('admin'), {})).endpoint);
  t.teardown(async () => {
    admin.close();
    await api.stop();
  });
  await started;
  t.equal(settled, 'started');
  t.match(lines.find((l) => l.msg === 'started'), { podCertificates: [`${podSignerName} (certificates.k8s.io/v1)`] });
  t.equal(readinessChecks(runtime.snapshot()).find((c) => c.name === 'pod-certificate-api'), undefined, 'the reason is gone once discovery answered');
  await admin.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } } });
  await admin.request('POST', '/apis/certificates.k8s.io/v1/namespaces/shop/podcertificaterequests', {
    body: { apiVersion: 'certificates.k8s.io/v1', kind: 'PodCertificateRequest', metadata: { name: 'late' }, spec: spec('pod-1', { stubPKCS10Request: Buffer.from(buildRequest({ key: 'p256' })).toString('base64') }) },
  });
  const issued = await until(async () => {
    const pcr = await admin.request<PodCertificateRequest>('GET', '/apis/certificates.k8s.io/v1/namespaces/shop/podcertificaterequests/late');
    return pcr.status?.conditions?.length ? pcr : undefined;
  }, { what: 'late issued', ms: 15_000 });
  t.match(issued.status, { conditions: [{ type: 'Issued', status: 'True' }] });
});

void t.test('a stop while discovery waits for the API server ends the start at once', async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'devapi-pods-never-'));
  const first = new DevApi({ stateDir, readText: readBoundedText, minorVersion: 37 });
  await first.start();
  await first.stop();
  const config = loadRunConfig([
    '--kubeconfig', first.kubeconfigPath('signer'), '--leader-elect=false', '--http-address', '127.0.0.1:0',
    '--cluster-signing-cert-file', ca.certPath, '--cluster-signing-key-file', ca.keyPath, '--retry-base-delay', '10s', '--retry-max-delay', '10s',
  ], {}, readBoundedText);
  const lines: Record<string, unknown>[] = [];
  const runtime = new SignerRuntime({ ...config, signers: [signer] }, logged(lines));
  const started = runtime.start();
  await until(() => lines.some((l) => l.level === 40), { what: 'a discovery retry' });
  runtime.interruptStart();
  await started;
  await runtime.stop(1000);
  t.notOk(lines.some((l) => l.msg === 'started'), 'nothing started');
  t.equal(runtime.podCertificates, undefined);
});
