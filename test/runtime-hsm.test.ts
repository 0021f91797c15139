/**
 * A signer whose CA key is on a real SoftHSM2 token, run in process against devapi: while
 * the token is away, an approved CSR waits (never Failed), /readyz fails
 * `key-provider:<signer>` with the reason and csr_signer_key_provider_errors_total counts;
 * once the token is back the CSR is issued, once, and /readyz is ready again.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { DevApi } from '../devapi/server/server.js';
import { loadRunConfig } from '../src/config/index.js';
import { readBoundedText } from '../src/files.js';
import { readinessChecks } from '../src/http/health.js';
import { loadKubeConfig } from '../src/kube/config.js';
import { kubeHttp } from '../src/kube/http.js';
import { SignerRuntime } from '../src/runtime.js';
import type { Csr } from '../src/signer/types.js';
import { csrBuilder, signerConfig, withName } from './helpers/csr.js';
import { generateTokenKey, makeSoftToken, makeTokenCa, removeToken, softhsmTools } from './helpers/softhsm.js';
import { needTool, opensslVerify, tempDir } from './helpers/tools.js';
import { until } from './helpers/wait.js';

for (const tool of ['openssl', ...softhsmTools]) if (!needTool(t, tool)) process.exit(0);

const SERVING = 'example.com/serving';
const token = makeSoftToken();
process.env.SOFTHSM2_CONF = token.env.SOFTHSM2_CONF;
const ca = makeTokenCa(token, generateTokenKey(token, 'p256', 'cakey', '01'), 'runtime');

const devapi = new DevApi({ stateDir: mkdtempSync(join(tmpdir(), 'devapi-runtime-hsm-')), readText: readBoundedText });
await devapi.start();
const kube = kubeHttp((await loadKubeConfig(devapi.kubeconfigPath('admin'), {})).endpoint);
t.teardown(async () => {
  kube.close();
  await devapi.stop();
});

const readyz = async (address: string): Promise<{ status: number; body: string }> => {
  const response = await fetch(`http://${address}/readyz?verbose`);
  return { status: response.status, body: await response.text() };
};
/** csr_signer_key_provider_errors_total of the signer, by op. */
const metric = async (address: string): Promise<Record<string, number>> => {
  const text = await (await fetch(`http://${address}/metrics`)).text();
  const prefix = `csr_signer_key_provider_errors_total{signer="${SERVING}",op="`;
  return Object.fromEntries(text.split('\n').filter((l) => l.startsWith(prefix)).map((l) => [l.slice(prefix.length).split('"')[0] ?? '', Number(l.split(' ').pop())]));
};

void t.test('the token away: the CSR waits, /readyz names key-provider:<signer>, the metric counts; back: issued once', async (t) => {
  const base = loadRunConfig([
    '--kubeconfig', devapi.kubeconfigPath('admin'), '--leader-elect=false', '--http-address', '127.0.0.1:0', '--leader-elect-resource-namespace', 'csr-signer',
    '--cluster-signing-cert-file', ca.certPath, '--cluster-signing-key-file', ca.key.uri, '--pkcs11-module', token.module, '--pkcs11-pin-file', token.pinFile,
    '--retry-base-delay', '50ms', '--retry-max-delay', '500ms', '--workers', '2',
  ], {}, readBoundedText);
  const caSource = base.signers[0]?.ca;
  t.match(caSource, { keyUri: ca.key.uri, pkcs11: { module: token.module, pinFile: token.pinFile } }, 'the flags give a key on the token');
  const lines: Record<string, unknown>[] = [];
  const runtime = new SignerRuntime({
    ...base,
    signers: [signerConfig(SERVING, { ...(caSource ? { ca: caSource } : {}), policy: { allowEmailAddresses: false, allowUris: false, commonName: 'any', allowCA: false, dnsNames: ['web.example.com'] } })],
    approver: { mode: 'enforce', signers: [{ signerName: SERVING, profile: 'policy' }] },
  }, pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } }), process.env);
  await runtime.start();
  t.teardown(() => runtime.stop(1000));
  const address = runtime.address ?? '';
  await until(() => runtime.controller?.synced === true);
  t.match((await readyz(address)).body, `[+]key-provider:${SERVING} ok`, 'ready, the token answers');

  const restore = removeToken(token);
  t.teardown(restore);
  const { metadata, spec } = csrBuilder(withName('web'));
  await kube.request('POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', {
    body: { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: metadata.name }, spec },
  });
  await until(() => readinessChecks(runtime.snapshot()).some((c) => c.name === `key-provider:${SERVING}` && c.failure !== undefined), 30_000);
  const notReady = await readyz(address);
  t.equal(notReady.status, 500, '/readyz fails');
  t.match(notReady.body, new RegExp(`\\[-\\]key-provider:${SERVING.replace('.', '\\.')} failed: .*the token does not answer`), 'and says why');
  // The first signing or the idle probe (whichever runs first) finds the token gone; each reconnection attempt that fails counts too, under its step.
  const total = (byOp: Record<string, number>): number => Object.values(byOp).reduce((a, b) => a + b, 0);
  const counted = await until(async () => {
    const byOp = await metric(address);
    return total(byOp) >= 2 ? byOp : undefined;
  }, 30_000);
  t.ok(total(counted) >= 2, `csr_signer_key_provider_errors_total counts the failure and the reconnections (${JSON.stringify(counted)})`);
  const waiting = await kube.request<Csr>('GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests/web');
  t.same(waiting.status?.conditions?.map((c) => c.type), ['Approved'], 'approved, not Failed, no certificate: it waits');

  restore();
  const issued = await until(async () => {
    const csr = await kube.request<Csr>('GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests/web');
    return csr.status?.certificate ? csr : undefined;
  }, 90_000);
  const pem = Buffer.from(issued.status?.certificate ?? '', 'base64').toString();
  t.equal(opensslVerify(tempDir(), ca.certPem, pem).code, 0, 'the certificate verifies with the token CA');
  const issuedLines = (): number => lines.filter((l) => l.audit === 'certificate-issued' && l.csr === 'web').length;
  await until(() => issuedLines() > 0, 30_000);
  t.equal(issuedLines(), 1, 'issued once');
  await until(async () => (await readyz(address)).status === 200, 30_000);
  t.match((await readyz(address)).body, `[+]key-provider:${SERVING} ok`, 'ready again');
});
