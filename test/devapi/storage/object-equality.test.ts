/**
 * An update that changes nothing is not written, over HTTPS as kube-apiserver's etcd3 store
 * does it: the same resourceVersion comes back and watchers see no event. For PUT, every
 * kind of PATCH, CSR /status and /approval; an update that differs only in managedFields
 * timestamps is one too. Leader election's renew always changes renewTime, so it always gets
 * a new resourceVersion, which is what the elector's safety rests on.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { readBoundedText } from '../../../src/files.js';
import { loadKubeConfig } from '../../../src/kube/config.js';
import { kubeHttp } from '../../../src/kube/http.js';
import { leaseLock } from '../../../src/leader/lease-lock.js';
import { DevApi } from '../../../devapi/server/server.js';
import { DevapiClient } from '../../helpers/devapi.js';
import { buildRequest, toPem } from '../../helpers/requests.js';

const stateDir = mkdtempSync(join(tmpdir(), 'devapi-no-op-'));
const api = new DevApi({ stateDir, readText: readBoundedText });
await api.start();
t.teardown(() => api.stop());
const client = new DevapiClient(api.url, stateDir);

type Obj = { metadata: { name: string; resourceVersion: string; [k: string]: unknown }; [k: string]: unknown };

async function call(method: string, path: string, body?: unknown, who: 'admin' | 'approver' | 'signer' = 'admin', contentType = 'application/json'): Promise<Obj> {
  const r = await client.call(method, path, body, who, { contentType });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
  return r.body as Obj;
}

/** The events a watch from `resourceVersion` replays (the stream ends after a second). */
async function eventsSince(path: string, resourceVersion: string): Promise<string[]> {
  const r = await client.call('GET', `${path}?watch=true&resourceVersion=${resourceVersion}&timeoutSeconds=1`);
  return r.text.split('\n').filter((l) => l !== '').map((l) => {
    const e = JSON.parse(l) as { type: string; object: Obj };
    return `${e.type} ${e.object.metadata.name} ${e.object.metadata.resourceVersion}`;
  });
}

const leases = '/apis/coordination.k8s.io/v1/namespaces/default/leases';

void t.test('PUT and every kind of PATCH that change nothing keep the resourceVersion and send no event', async (t) => {
  const created = await call('POST', leases, { metadata: { name: 'same', labels: { a: 'b' } }, spec: { holderIdentity: 'x', leaseDurationSeconds: 15 } });
  const rv = created.metadata.resourceVersion;
  const put = await call('PUT', `${leases}/same`, created);
  t.equal(put.metadata.resourceVersion, rv, 'PUT of the stored object');
  // The same object with its fields in another order is the same bytes to the apiserver.
  const reordered = { spec: { leaseDurationSeconds: 15, holderIdentity: 'x' }, metadata: { ...created.metadata, labels: { a: 'b' } }, kind: 'Lease', apiVersion: 'coordination.k8s.io/v1' };
  t.equal((await call('PUT', `${leases}/same`, reordered)).metadata.resourceVersion, rv, 'PUT with the fields in another order');
  const patches = [
    ['merge', 'application/merge-patch+json', { metadata: { labels: { a: 'b' } } }],
    ['strategic merge', 'application/strategic-merge-patch+json', { spec: { holderIdentity: 'x' } }],
    ['JSON', 'application/json-patch+json', [{ op: 'replace', path: '/spec/leaseDurationSeconds', value: 15 }]],
  ] as const;
  for (const [kind, type, body] of patches) {
    t.equal((await call('PATCH', `${leases}/same`, body, 'admin', type)).metadata.resourceVersion, rv, `${kind} patch`);
  }
  const changed = await call('PATCH', `${leases}/same`, { spec: { holderIdentity: 'y' } }, 'admin', 'application/merge-patch+json');
  t.not(changed.metadata.resourceVersion, rv, 'a change is written');
  t.same(await eventsSince(leases, rv), [`MODIFIED same ${changed.metadata.resourceVersion}`], 'watchers see only the change');
});

void t.test('an update differing only in managedFields timestamps keeps the stored ones and the resourceVersion', async (t) => {
  const entry = (time: string): unknown => ({ manager: 'test', operation: 'Update', apiVersion: 'v1', time, fieldsType: 'FieldsV1', fieldsV1: { 'f:data': {} } });
  const path = '/api/v1/namespaces/default/configmaps';
  const created = await call('POST', path, { metadata: { name: 'managed', managedFields: [entry('2026-01-01T00:00:00Z')] }, data: { k: 'v' } });
  const later = { ...created, metadata: { ...created.metadata, managedFields: [entry('2026-06-01T00:00:00Z')] } };
  const same = await call('PUT', `${path}/managed`, later);
  t.equal(same.metadata.resourceVersion, created.metadata.resourceVersion);
  t.same(same.metadata.managedFields, [entry('2026-01-01T00:00:00Z')], 'the stored timestamps stay');
  const changed = await call('PUT', `${path}/managed`, { ...later, data: { k: 'w' } });
  t.not(changed.metadata.resourceVersion, created.metadata.resourceVersion, 'with another change the update is written');
  t.same(changed.metadata.managedFields, [entry('2026-06-01T00:00:00Z')], 'timestamps and all');
});

void t.test('CSR /approval and /status writes that change nothing keep the resourceVersion', async (t) => {
  const csrs = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
  const request = Buffer.from(toPem('CERTIFICATE REQUEST', buildRequest({ commonName: 'no-op' }))).toString('base64');
  const created = await call('POST', csrs, { metadata: { name: 'no-op' }, spec: { request, signerName: 'example.com/demo', usages: ['client auth'] } });
  const approved = await call('PUT', `${csrs}/no-op/approval`, { ...created, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'Test', message: 'ok' }] } }, 'approver');
  t.not(approved.metadata.resourceVersion, created.metadata.resourceVersion);
  const again = await call('PUT', `${csrs}/no-op/approval`, approved, 'approver');
  t.equal(again.metadata.resourceVersion, approved.metadata.resourceVersion, '/approval with the same conditions');
  const status = await call('PUT', `${csrs}/no-op/status`, approved, 'signer');
  t.equal(status.metadata.resourceVersion, approved.metadata.resourceVersion, '/status with the same status');
  t.same(await eventsSince(csrs, approved.metadata.resourceVersion), [], 'no event for either');
  const audit = await call('GET', '/devapi/v1/audit') as unknown as { certificateWrites: unknown[] };
  t.same(audit.certificateWrites, [], 'and no certificate write recorded');
});

void t.test('a Lease renew always gets a new resourceVersion; the same record again gets the same one', async (t) => {
  const kube = kubeHttp((await loadKubeConfig(api.kubeconfigPath('admin'), {})).endpoint);
  t.teardown(() => kube.close());
  const lock = leaseLock(kube, 'default', 'renew');
  const record = { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: '2026-12-07T00:00:00.000000Z', renewTime: '2026-12-07T00:00:00.000000Z', leaseTransitions: 0 };
  const created = await lock.create(record);
  const renewed = await lock.update({ ...record, renewTime: '2026-12-07T00:00:00.000001Z' }, created.resourceVersion);
  t.not(renewed.resourceVersion, created.resourceVersion, 'renewTime one microsecond later is a change');
  const repeated = await lock.update({ ...record, renewTime: '2026-12-07T00:00:00.000001Z' }, renewed.resourceVersion);
  t.equal(repeated.resourceVersion, renewed.resourceVersion, 'a renew within the same microsecond is not written (the elector never sends one)');
});
