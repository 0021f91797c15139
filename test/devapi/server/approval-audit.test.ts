/**
 * devapi's record of every PUT to a CSR's /approval (`approvalWrites` in
 * /devapi/v1/audit): who sent it, with which resourceVersion, whether it was
 * accepted (its status code otherwise) and which condition types it added. A
 * fault rule that answers before handling is a refusal (`injected`); one that
 * loses the answer after the write was stored is an accepted write.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { readBoundedText } from '../../../src/files.js';
import { DevApi } from '../../../devapi/server/server.js';
import type { ApprovalWrite } from '../../../devapi/server/rest.js';
import { devapiCall, type Identity } from '../../helpers/devapi.js';
import { buildRequest, toPem } from '../../helpers/requests.js';

const stateDir = mkdtempSync(join(tmpdir(), 'devapi-approval-audit-'));
const api = new DevApi({ stateDir, readText: readBoundedText });
await api.start();
t.teardown(() => api.stop());

const csrPath = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const call = async (id: Identity, method: string, path: string, body?: unknown): Promise<{ code: number; body: Record<string, unknown> }> =>
  devapiCall({ url: api.url, stateDir }, id, method, path, body);
type Csr = { metadata: { name: string; resourceVersion: string }; status?: { conditions?: unknown[] } };
const decided = (csr: Csr, type: 'Approved' | 'Denied'): Csr => ({ ...csr, status: { conditions: [...(csr.status?.conditions ?? []), { type, status: 'True', reason: 'Test', message: type }] } });
async function create(name: string): Promise<Csr> {
  const r = await call('requester', 'POST', csrPath, {
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name },
    spec: { request: Buffer.from(toPem('CERTIFICATE REQUEST', buildRequest({ commonName: name }))).toString('base64'), signerName: 'example.com/demo', usages: ['digital signature', 'client auth'] },
  });
  t.equal(r.code, 201, `${name} created`);
  return r.body as unknown as Csr;
}
const approvalWrites = async (csr: string): Promise<ApprovalWrite[]> =>
  ((await call('admin', 'GET', '/devapi/v1/audit')).body.approvalWrites as ApprovalWrite[]).filter((w) => w.csr === csr);

void t.test('accepted, conflicting, duplicate, mutually exclusive and forbidden writes are each recorded as answered', async (t) => {
  const csr = await create('recorded');
  const first = await call('approver', 'PUT', `${csrPath}/recorded/approval`, decided(csr, 'Approved'));
  t.equal(first.code, 200);
  const stale = await call('approver', 'PUT', `${csrPath}/recorded/approval`, decided(csr, 'Denied'));
  t.equal(stale.code, 409, 'the version read before the approval is stale');
  const again = first.body as unknown as Csr;
  t.equal((await call('approver', 'PUT', `${csrPath}/recorded/approval`, decided(again, 'Approved'))).code, 422, 'a second Approved condition');
  t.equal((await call('approver', 'PUT', `${csrPath}/recorded/approval`, decided(again, 'Denied'))).code, 422, 'Denied beside Approved');
  t.equal((await call('signer', 'PUT', `${csrPath}/recorded/approval`, decided(again, 'Denied'))).code, 403, 'the signer may not approve');
  const writes = await approvalWrites('recorded');
  t.match(writes, [
    { user: 'approver', resourceVersion: csr.metadata.resourceVersion, status: 200, accepted: true, added: ['Approved'], attempted: ['Approved'] },
    { user: 'approver', resourceVersion: csr.metadata.resourceVersion, status: 409, accepted: false, added: [], reason: 'Conflict' },
    { user: 'approver', resourceVersion: again.metadata.resourceVersion, status: 422, accepted: false, added: [], attempted: [], message: /Duplicate value: "Approved"/ },
    { user: 'approver', resourceVersion: again.metadata.resourceVersion, status: 422, accepted: false, added: [], attempted: ['Denied'], message: /mutually exclusive/ },
    { user: 'signer', status: 403, accepted: false, added: [] },
  ]);
  t.equal(writes.length, 5, 'one record per PUT');
  t.equal(writes.filter((w) => w.accepted && w.added.some((type) => type === 'Approved' || type === 'Denied')).length, 1, 'one accepted decision');
});

void t.test('a fault answering before the write is a refusal; one losing the answer after it is an accepted write', async (t) => {
  const csr = await create('faulted');
  t.equal((await call('admin', 'POST', '/devapi/v1/faults', { method: 'PUT', path: '/approval', status: 500 })).code, 200);
  t.equal((await call('approver', 'PUT', `${csrPath}/faulted/approval`, decided(csr, 'Denied'))).code, 500);
  t.equal((await call('admin', 'POST', '/devapi/v1/faults', { method: 'PUT', path: '/approval', mode: 'apply-then-fail', status: 504 })).code, 200);
  t.equal((await call('approver', 'PUT', `${csrPath}/faulted/approval`, decided(csr, 'Denied'))).code, 504, 'the answer is lost');
  const stored = (await call('admin', 'GET', `${csrPath}/faulted`)).body as unknown as Csr;
  t.match(stored.status?.conditions, [{ type: 'Denied' }], 'the write was stored');
  t.match(await approvalWrites('faulted'), [
    { user: 'approver', resourceVersion: undefined, status: 500, accepted: false, added: [], injected: true },
    { user: 'approver', resourceVersion: csr.metadata.resourceVersion, status: 200, accepted: true, added: ['Denied'] },
  ]);
});

void t.test('a dry run is accepted and adds nothing', async (t) => {
  const csr = await create('dry');
  t.equal((await call('approver', 'PUT', `${csrPath}/dry/approval?dryRun=All`, decided(csr, 'Approved'))).code, 200);
  t.match(await approvalWrites('dry'), [{ status: 200, accepted: true, added: [], attempted: ['Approved'], dryRun: true }]);
});
