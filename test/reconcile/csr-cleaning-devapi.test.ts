/**
 * The cleaner through the product's own HTTP client against devapi over HTTPS:
 * the list, the watch and the DELETE with a uid precondition a real apiserver
 * would see, and devapi refusing a delete whose uid no longer matches (409).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { DevApi } from '../../devapi/server/server.js';
import { systemClock } from '../../src/clock.js';
import { readBoundedText } from '../../src/files.js';
import { loadKubeConfig } from '../../src/kube/config.js';
import { csrApi } from '../../src/kube/csr-api.js';
import { KubeApiError, kubeHttp } from '../../src/kube/http.js';
import { csrCleaningController } from '../../src/reconcile/csr-cleaning.js';
import type { CleanupReason } from '../../src/signer/cleanup.js';
import { csrBuilder, withName } from '../helpers/csr.js';
import { until } from '../helpers/wait.js';

const HOUR = 3_600_000;
const devapi = new DevApi({ stateDir: mkdtempSync(join(tmpdir(), 'devapi-cleaner-')), readText: readBoundedText });
await devapi.start();
const kube = kubeHttp((await loadKubeConfig(devapi.kubeconfigPath('admin'), {})).endpoint);
const api = csrApi(kube, 'cleaner-test');
t.teardown(async () => {
  kube.close();
  await devapi.stop();
});

const create = async (name: string) => {
  const { metadata, spec } = csrBuilder(withName(name));
  return kube.request<{ metadata: { uid: string } }>('POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', {
    body: { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: metadata.name }, spec },
  });
};

void t.test('a delete whose uid precondition no longer matches is refused with 409, and the CSR stays', async (t) => {
  await create('kept');
  const refused = await api.delete('kept', { uid: 'not-its-uid' }).then(() => undefined, (e: unknown) => e);
  t.ok(refused instanceof KubeApiError && refused.status === 409, `409 Conflict: ${String(refused)}`);
  t.match((refused as Error).message, /Precondition failed: UID in precondition: not-its-uid, UID in object meta: /);
  t.ok(await api.get('kept'), 'still there');
});

void t.test('pending CSRs older than 24 h are deleted through the API, each with its own uid', async (t) => {
  await create('pending-1');
  await create('pending-2');
  const deleted: [string, CleanupReason][] = [];
  const cleaner = csrCleaningController({
    api, logger: pino({ level: 'silent' }), retry: { baseDelayMs: 5, maxDelayMs: 50, qps: 1000, burst: 1000 }, watchQuietTimeoutMs: HOUR,
    // A day and a bit from now: every CSR devapi holds is a pending one older than 24 h.
    clock: { ...systemClock, now: () => Date.now() + 25 * HOUR },
    onDeleted: (csr, reason) => deleted.push([csr.metadata.name, reason]),
  });
  cleaner.start();
  await until(() => deleted.length === 3, 10_000);
  await cleaner.stop();
  t.same(deleted.map(([name]) => name).sort(), ['kept', 'pending-1', 'pending-2']);
  t.ok(deleted.every(([, reason]) => reason === 'Pending'));
  const left = await api.list(undefined, { limit: 100 });
  t.same(left.items.map((c) => c.metadata.name), [], 'devapi holds none of them');
});
