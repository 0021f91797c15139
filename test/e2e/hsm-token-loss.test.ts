/**
 * The token goes away while CSRs arrive, and comes back: `csr-signer run` with its CA key
 * on a SoftHSM2 token whose directory is moved aside (SoftHSM2 then answers as for a
 * removed device) and later restored. While it is away /readyz is not ready and names
 * `key-provider:<signer>`, csr_signer_key_provider_errors_total counts, and the CSRs wait
 * (retried, never Failed); once it is back, every CSR is issued exactly once (devapi's
 * audit of certificate writes) by the token CA, and the signer is ready again.
 */
import t from 'tap';
import { keyProviderOperations, type KeyProviderOperation } from '../../src/pki/index.js';
import { startDevapi, type DevapiProcess } from '../helpers/devapi.js';
import { allCsrs, certificateOf, createAndApprove, failedOf, servingSpecs, waitSettled } from '../helpers/e2e.js';
import { httpGet } from '../helpers/http.js';
import { generateTokenKey, makeSoftToken, makeTokenCa, removeToken, softhsmTools } from '../helpers/softhsm.js';
import { startSigner, type SignerProcess } from '../helpers/signer.js';
import { privateKeyExposure } from '../helpers/token-key.js';
import { checkIssued, configRunArgs, pkcs11Of, SIGNER, writeSignerConfig } from '../helpers/token-signer.js';
import { needTool, tempDir } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

if (![...softhsmTools, 'kubectl', 'openssl', 'go'].every((tool) => needTool(t, tool))) process.exit(0);

const dir = tempDir('hsm-token-loss-');
const token = makeSoftToken();
const key = generateTokenKey(token, 'p256', 'ca-p256', '01');
const ca = makeTokenCa(token, key, 'loss');
const config = writeSignerConfig(dir, { certFile: ca.certPath, key: key.uri, pkcs11: pkcs11Of(token) });

let api: DevapiProcess;
let signer: SignerProcess;
let restore: (() => void) | undefined;
t.before(async () => {
  api = await startDevapi();
  signer = await startSigner(configRunArgs(api, config, '--workers', '4', '--retry-base-delay', '50ms', '--retry-max-delay', '1s'), { waitFor: 'watching', env: token.env });
});
t.teardown(async () => {
  restore?.();
  await signer.stop();
  await api.stop();
});

const address = (): string => String(signer.logs.find((l) => l.msg === 'started')?.http);
const readyz = (): Promise<{ status: number; body: string }> => httpGet(`http://${address()}/readyz?verbose`);
/** csr_signer_key_provider_errors_total of the signer, by op. */
const providerErrors = async (): Promise<Record<string, number>> => {
  const scrape = (await httpGet(`http://${address()}/metrics`)).body;
  const counts: Record<string, number> = {};
  for (const m of scrape.matchAll(/^csr_signer_key_provider_errors_total\{signer="example\.com\/serving",op="([a-z_]+)"\} (\d+)$/gm)) counts[m[1] ?? ''] = Number(m[2]);
  return counts;
};
const total = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

const warmup = servingSpecs(dir, 'before', 3);
const burst = servingSpecs(dir, 'away', 20);

void t.test('with the token present: issued, ready, no provider error', async (t) => {
  createAndApprove(api, warmup);
  await waitSettled(api, warmup.map((s) => s.name));
  await checkIssued(t, api, dir, warmup.map((s) => s.name), { token: ca.certPem }, () => 'token');
  const ready = await readyz();
  t.equal(ready.status, 200, ready.body);
  t.match(ready.body, new RegExp(`^\\[\\+\\]key-provider:${SIGNER} ok$`, 'm'), 'the key provider is checked');
  t.equal(total(await providerErrors()), 0, 'no provider error counted');
  t.match(privateKeyExposure(token, key), { value: 'CKR_ATTRIBUTE_SENSITIVE', sensitive: true, extractable: false, neverExtractable: true },
    'the key is on the token only: the token refuses CKA_VALUE');
});

void t.test('the token removed while a burst arrives: not ready naming key-provider, errors counted, CSRs wait and none is Failed', async (t) => {
  restore = removeToken(token);
  createAndApprove(api, burst);
  const notReady = await until(async () => {
    const r = await readyz();
    return r.status !== 200 && r.body.includes(`[-]key-provider:${SIGNER} failed`) ? r : undefined;
  }, { what: `/readyz to fail key-provider:${SIGNER}`, ms: 20_000, intervalMs: 100 });
  t.match(notReady.body, new RegExp(`^\\[-\\]key-provider:${SIGNER} failed: .*the token does not answer`, 'm'), 'the reason is the provider\'s sentence');
  t.match(notReady.body, /^\[\+\]ca-loaded:example\.com\/serving ok$/m, 'the CA stays loaded');
  // The first to notice is a signature of the burst, or the provider's idle probe (op find_key) when its tick comes first.
  const errors = await until(async () => { const counts = await providerErrors(); return (counts.sign ?? 0) + (counts.find_key ?? 0) > 0 ? counts : undefined; },
    { what: 'csr_signer_key_provider_errors_total{op="sign" or "find_key"} > 0', ms: 10_000, intervalMs: 100 });
  t.ok(total(errors) > 0, `csr_signer_key_provider_errors_total counted the token's failure (${JSON.stringify(errors)})`);
  t.same(Object.keys(errors).filter((op) => !keyProviderOperations.includes(op as KeyProviderOperation)), [], 'every op label is one of the documented operations');
  // Every CSR of the burst was tried and put back for a retry: none can have been lost or failed.
  await until(() => burst.every((s) => signer.logs.some((l) => l.msg === 'will retry' && l.csr === s.name)),
    { what: 'a retry of every CSR of the burst', ms: 20_000, intervalMs: 100,
      detail: () => burst.filter((s) => !signer.logs.some((l) => l.msg === 'will retry' && l.csr === s.name)).map((s) => s.name).join(', ') });
  const csrs = allCsrs(api);
  t.same(burst.filter((s) => failedOf(csrs.get(s.name)) !== undefined).map((s) => s.name), [], 'none is Failed');
  t.same(burst.filter((s) => certificateOf(csrs.get(s.name)) !== undefined).map((s) => s.name), [], 'none is issued while the token is away');
  t.equal(signer.child.exitCode, null, 'the signer keeps running');
});

void t.test('the token restored: every CSR issued exactly once by the token CA, ready again', async (t) => {
  restore?.();
  restore = undefined;
  await waitSettled(api, burst.map((s) => s.name), 60_000);
  await checkIssued(t, api, dir, [...warmup, ...burst].map((s) => s.name), { token: ca.certPem }, () => 'token');
  const csrs = allCsrs(api);
  t.same([...csrs.values()].filter((c) => failedOf(c) !== undefined).map((c) => c.metadata.name), [], 'no Failed condition anywhere');
  const ready = await until(async () => { const r = await readyz(); return r.status === 200 ? r : undefined; },
    { what: '/readyz ready again', ms: 30_000, intervalMs: 100 });
  t.match(ready.body, new RegExp(`^\\[\\+\\]key-provider:${SIGNER} ok$`, 'm'), 'the key provider check passes again');
});
