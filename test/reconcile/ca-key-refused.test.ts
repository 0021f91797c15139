/**
 * A CSR for the CA's own key ends Failed through the loop's permanent-error path: the
 * refusal is known only when issuing, once the CA is known, and is still one Failed
 * condition (RequestKeyIsCaKey), one status write, no certificate.
 */
import { createPrivateKey } from 'node:crypto';
import { pino } from 'pino';
import t from 'tap';
import { csrSigningController } from '../../src/reconcile/csr-signing.js';
import type { Csr, SignerConfig } from '../../src/signer/types.js';
import { loadTestCa, makeOpensslCa } from '../helpers/ca.js';
import { until } from '../helpers/wait.js';
import { FakeCsrApi } from '../helpers/fake-csr-api.js';
import { extensionRequest, rawExtension, rawRequest, rawSans, text } from '../helpers/der-build.js';
import { toPem } from '../helpers/requests.js';
import { tempDir } from '../helpers/tools.js';

const SIGNER = 'example.com/serving';
const signer: SignerConfig = {
  name: SIGNER, source: 'test', ca: { certFile: 'unused', keyFile: 'unused' },
  defaultDurationMs: 3_600_000, maxDurationMs: 86_400_000, includeChain: false,
  policy: { allowEmailAddresses: false, allowUris: false, commonName: 'any', allowCA: false },
};
const files = makeOpensslCa(tempDir(), 'loop-own-key', 'p256');
const ca = await loadTestCa(files);

const request = rawRequest({ privateKey: createPrivateKey(files.keyPem), attributes: extensionRequest(rawExtension('2.5.29.17', rawSans([2, text('a.example.com')]))) });
const csr: Csr = {
  metadata: { name: 'own-key' },
  spec: {
    request: Buffer.from(toPem('CERTIFICATE REQUEST', request)).toString('base64'),
    signerName: SIGNER, usages: ['digital signature', 'server auth'], username: 'system:serviceaccount:apps:web',
  },
  status: { conditions: [{ type: 'Approved', status: 'True', reason: 'Test', message: 'ok', lastUpdateTime: new Date().toISOString() }] },
};

void t.test("a CSR for the CA's own key gets one Failed condition RequestKeyIsCaKey and no certificate", async (t) => {
  const api = new FakeCsrApi();
  const failed: string[] = [];
  const controller = csrSigningController({
    signers: [signer], ca: () => ca, api, logger: pino({ level: 'silent' }), workers: 1,
    retry: { baseDelayMs: 5, maxDelayMs: 50, qps: 1000, burst: 1000 },
    watchQuietTimeoutMs: 60_000, limits: { maxBytes: 65_536, maxSubjectAltNames: 100 }, events: true,
    observer: {
      issued: () => undefined, failed: (_s, reason) => { failed.push(reason); }, conflict: () => undefined,
      retried: () => undefined, watchRestarted: () => undefined, caReloaded: () => undefined,
    },
  });
  api.put(csr);
  controller.start();
  await until(() => api.events.length === 1);
  await controller.stop();
  const condition = api.objects.get('own-key')?.status?.conditions?.find((c) => c.type === 'Failed');
  t.match(condition, { status: 'True', reason: 'RequestKeyIsCaKey', message: /^the request's public key is the CA's own key \("CN=loop-own-key test CA,O=csr-signer tests"\); a leaf must have a key of its own$/ });
  t.notOk(api.objects.get('own-key')?.status?.certificate);
  t.equal(api.statusWrites.length, 1);
  t.same(failed, ['RequestKeyIsCaKey']);
  t.match(api.events[0], { type: 'Warning', reason: 'SigningFailed', message: /^RequestKeyIsCaKey: / });
});
