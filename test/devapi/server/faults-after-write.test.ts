/**
 * devapi's faults after a write: the write is stored, then the answer is an
 * error (`apply-then-fail`, as the apiserver's timeout filter answers 504 while
 * the handler goes on) or no answer at all (`apply-then-drop`). Only a write
 * that succeeded spends such a rule; the client sees an error either way.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import t from 'tap';
import { readBoundedText } from '../../../src/files.js';
import { DevApi } from '../../../devapi/server/server.js';
import { apiError, devapiCall } from '../../helpers/devapi.js';
import { buildRequest, toPem } from '../../helpers/requests.js';

const stateDir = mkdtempSync(join(tmpdir(), 'devapi-after-write-'));
const api = new DevApi({ stateDir, readText: readBoundedText });
await api.start();
t.teardown(() => api.stop());

function client(id: 'admin' | 'signer' | 'requester'): k8s.CertificatesV1Api {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(api.kubeconfigPath(id));
  return kc.makeApiClient(k8s.CertificatesV1Api);
}
const csrBody = (name: string): k8s.V1CertificateSigningRequest => ({
  metadata: { name },
  spec: { request: Buffer.from(toPem('CERTIFICATE REQUEST', buildRequest({ commonName: name }))).toString('base64'), signerName: 'example.com/demo', usages: ['digital signature', 'client auth'] },
});
const certificate = Buffer.from(readFileSync(join(import.meta.dirname, '..', '..', '..', 'keys.example', 'ca.pem'), 'utf8')).toString('base64');

async function control(method: string, path: string, body?: unknown): Promise<{ code: number; body: unknown }> {
  const r = await devapiCall({ url: api.url, stateDir }, 'admin', method, path, body);
  return { code: r.code, body: r.body };
}


void t.test('apply-then-fail: a /status write answers 504 Timeout as the timeout filter does, and the certificate is stored', async (t) => {
  const created = await client('requester').createCertificateSigningRequest({ body: csrBody('timed-out') });
  t.equal((await control('POST', '/devapi/v1/faults', { method: 'PUT', path: '/status', mode: 'apply-then-fail', status: 504 })).code, 200);
  // A write that fails for its own reasons (a stale resourceVersion) is answered as it is and leaves the rule in place.
  const stale = { ...created, metadata: { ...created.metadata, resourceVersion: '1' }, status: { certificate } };
  t.match(await apiError(client('signer').replaceCertificateSigningRequestStatus({ name: 'timed-out', body: stale })), { code: 409, status: { reason: 'Conflict' } });
  const lost = await apiError(client('signer').replaceCertificateSigningRequestStatus({ name: 'timed-out', body: { ...created, status: { certificate } } }));
  t.match(lost, { code: 504, status: { reason: 'Timeout', message: 'Timeout: request did not complete within the allotted timeout' } });
  const stored = await client('admin').readCertificateSigningRequest({ name: 'timed-out' });
  t.equal(stored.status?.certificate, certificate, 'the write happened although the client saw an error');
  t.match((await control('GET', '/devapi/v1/audit')).body, { certificateWrites: [{ csr: 'timed-out' }] });
  t.same((await control('POST', '/devapi/v1/faults', { mode: 'apply-then-fail', status: 504, count: 1, method: 'GET' })).code, 400, 'reads cannot lose a write');
  t.same((await control('POST', '/devapi/v1/faults', { mode: 'apply-then-fail', status: 409 })).code, 400, 'a 409 says the write did not happen');
  t.same((await control('POST', '/devapi/v1/faults', { mode: 'sometimes', status: 500 })).code, 400);
  t.same((await control('DELETE', '/devapi/v1/faults')).body, { rules: [] });
});

void t.test('apply-then-fail: a DELETE answers 500 and the object is gone', async (t) => {
  await client('requester').createCertificateSigningRequest({ body: csrBody('deleted-anyway') });
  await control('POST', '/devapi/v1/faults', { method: 'DELETE', path: '/certificatesigningrequests/', mode: 'apply-then-fail', status: 500 });
  t.match(await apiError(client('admin').deleteCertificateSigningRequest({ name: 'deleted-anyway' })), { code: 500, status: { reason: 'InternalError' } });
  t.match(await apiError(client('admin').readCertificateSigningRequest({ name: 'deleted-anyway' })), { code: 404 });
});

void t.test('apply-then-drop: a create gets no answer, its connection is closed, and the object exists', async (t) => {
  await control('POST', '/devapi/v1/faults', { method: 'POST', path: '/certificatesigningrequests', mode: 'apply-then-drop' });
  await t.rejects(client('requester').createCertificateSigningRequest({ body: csrBody('dropped') }));
  const stored = await client('admin').readCertificateSigningRequest({ name: 'dropped' });
  t.equal(stored.metadata?.name, 'dropped');
  t.match((await control('GET', '/devapi/v1/audit')).body, { faultsInjected: 3 });
});
