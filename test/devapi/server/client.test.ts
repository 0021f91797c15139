/**
 * devapi against the real @kubernetes/client-node (the signer's client) over HTTPS:
 * list with pagination and field selectors, watch resume and 410, /status and
 * /approval writes with their admission checks, restart persistence, and the
 * fault-injection controls.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import t from 'tap';
import { readBoundedText } from '../../../src/files.js';
import { DevApi } from '../../../devapi/server/server.js';
import { apiError, devapiCall } from '../../helpers/devapi.js';
import { buildRequest, toPem } from '../../helpers/requests.js';
import { until } from '../../helpers/wait.js';

const stateDir = mkdtempSync(join(tmpdir(), 'devapi-client-'));
let api = new DevApi({ stateDir, readText: readBoundedText, bookmarkIntervalMs: 200 });
await api.start();

function client(id: 'admin' | 'signer' | 'approver' | 'requester'): { csr: k8s.CertificatesV1Api; kc: k8s.KubeConfig } {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(api.kubeconfigPath(id));
  return { csr: kc.makeApiClient(k8s.CertificatesV1Api), kc };
}
const csrBody = (name: string, signerName = 'example.com/demo'): k8s.V1CertificateSigningRequest => ({
  metadata: { name },
  spec: { request: Buffer.from(toPem('CERTIFICATE REQUEST', buildRequest({ commonName: name }))).toString('base64'), signerName, usages: ['digital signature', 'client auth'] },
});
const admin = (): k8s.CertificatesV1Api => client('admin').csr;

t.teardown(() => api.stop());

/** Calls devapi's control API over HTTPS with an identity's token, trusting devapi's CA. */
async function control(method: string, path: string, body?: unknown, id: 'admin' | 'signer' = 'admin'): Promise<unknown> {
  const r = await devapiCall({ url: api.url, stateDir }, id, method, path, body);
  return r.code === 200 ? JSON.parse(r.text) as unknown : { code: r.code };
}

void t.test('list pages through every CSR with limit and continue, and filters by spec.signerName', async (t) => {
  for (let i = 0; i < 7; i++) await client('requester').csr.createCertificateSigningRequest({ body: csrBody(`page-${i}`, i % 2 === 0 ? 'example.com/even' : 'example.com/odd') });
  const names: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await admin().listCertificateSigningRequest({ limit: 3, ...(token ? { _continue: token } : {}), fieldSelector: 'metadata.name!=nothing' });
    names.push(...page.items.map((i) => i.metadata?.name ?? ''));
    token = page.metadata?._continue;
    pages++;
  } while (token);
  t.equal(pages, 3, 'three pages of at most 3');
  t.same(names.filter((n) => n.startsWith('page-')), ['page-0', 'page-1', 'page-2', 'page-3', 'page-4', 'page-5', 'page-6']);
  const even = await admin().listCertificateSigningRequest({ fieldSelector: 'spec.signerName=example.com/even' });
  t.same(even.items.map((i) => i.metadata?.name), ['page-0', 'page-2', 'page-4', 'page-6']);
  const bad = await apiError(admin().listCertificateSigningRequest({ fieldSelector: 'spec.usages=x' }));
  t.match(bad, { code: 400, status: { message: 'field label not supported: spec.usages' } });
});

void t.test('create resets status and records the requester; the spec cannot be changed afterwards', async (t) => {
  const body = csrBody('reset');
  body.status = { conditions: [{ type: 'Approved', status: 'True', reason: 'Sneaky', message: 'pre-approved' }] };
  body.spec.username = 'someone-else';
  const created = await client('requester').csr.createCertificateSigningRequest({ body });
  t.same(created.status ?? {}, {}, 'no pre-approved CSRs');
  t.equal(created.spec.username, 'requester', 'username is the authenticated requester');
  t.ok(created.spec.groups?.includes('system:authenticated'));
  const replaced = await admin().replaceCertificateSigningRequest({ name: 'reset', body: { ...created, spec: { ...created.spec, signerName: 'example.com/other' } } });
  t.equal(replaced.spec.signerName, 'example.com/demo', 'spec changes through the main resource are dropped');
});

void t.test('approval and status writes: the right identity, the right subresource, the real messages', async (t) => {
  const created = await client('requester').csr.createCertificateSigningRequest({ body: csrBody('flow') });
  const approvedBody = { ...created, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'Test', message: 'ok' }] } };
  const bySigner = await apiError(client('signer').csr.replaceCertificateSigningRequestApproval({ name: 'flow', body: approvedBody }));
  t.equal(bySigner.code, 403, 'the signer may not approve');
  const approved = await client('approver').csr.replaceCertificateSigningRequestApproval({ name: 'flow', body: approvedBody });
  t.equal(approved.status?.conditions?.[0]?.type, 'Approved');
  t.ok(approved.status?.conditions?.[0]?.lastUpdateTime, 'lastUpdateTime is filled');
  const viaStatus = await apiError(client('signer').csr.replaceCertificateSigningRequestStatus({ name: 'flow', body: { ...approved, status: { conditions: [...(approved.status?.conditions ?? []), { type: 'Denied', status: 'True', reason: 'x', message: 'y' }] } } }));
  t.match(viaStatus, { code: 422, status: { reason: 'Invalid' } }, 'Approved/Denied cannot be added through /status');
  const failedPatch = { name: 'flow', body: [{ op: 'add', path: '/status/conditions/-', value: { type: 'Failed', status: 'True', reason: 'UnsupportedKeyType', message: 'no' } }] };
  // The signer writes /status with PUT only, so its role grants update, not patch.
  t.equal((await apiError(client('signer').csr.patchCertificateSigningRequestStatus(failedPatch))).code, 403, 'the signer may not patch /status');
  const failed = await admin().patchCertificateSigningRequestStatus(failedPatch);
  t.same(failed.status?.conditions?.map((c) => c.type), ['Approved', 'Failed'], 'a JSON patch on /status adds Failed');
  const otherSigner = await client('requester').csr.createCertificateSigningRequest({ body: csrBody('other-domain', 'other.org/x') });
  const notOurs = await apiError(client('signer').csr.replaceCertificateSigningRequestStatus({ name: 'other-domain', body: { ...otherSigner, status: { conditions: [{ type: 'Failed', status: 'True', reason: 'x', message: 'y' }] } } }));
  t.match(notOurs, { code: 403, status: { message: 'certificatesigningrequests.certificates.k8s.io "other-domain" is forbidden: user not permitted to sign requests with signerName "other.org/x"' } });
  const stale = await apiError(client('signer').csr.replaceCertificateSigningRequestStatus({ name: 'flow', body: approved }));
  t.match(stale, { code: 409, status: { reason: 'Conflict', message: /the object has been modified/ } }, 'an old resourceVersion conflicts');
});

void t.test('a watch resumes from a resourceVersion, sees bookmarks, and gets 410 after compaction', async (t) => {
  const { kc } = client('signer');
  const list = await client('signer').csr.listCertificateSigningRequest({});
  const rv = list.metadata?.resourceVersion ?? '';
  await client('requester').csr.createCertificateSigningRequest({ body: csrBody('after-list') });
  const events: { type: string; name: string }[] = [];
  const watcher = new k8s.Watch(kc);
  const done = new Promise<void>((resolve) => {
    void watcher.watch('/apis/certificates.k8s.io/v1/certificatesigningrequests', { resourceVersion: rv, allowWatchBookmarks: true }, (type, obj: k8s.V1CertificateSigningRequest) => {
      events.push({ type, name: obj.metadata?.name ?? '' });
    }, () => resolve());
  });
  await until(() => events.some((e) => e.type === 'BOOKMARK'), { what: 'a BOOKMARK', ms: 2000, intervalMs: 50 });
  t.same(events.filter((e) => e.type !== 'BOOKMARK'), [{ type: 'ADDED', name: 'after-list' }], 'only what changed after the listed version');
  t.ok(events.some((e) => e.type === 'BOOKMARK'), 'bookmarks arrive');
  t.same(await control('POST', '/devapi/v1/watches/close', { mode: 'clean' }, 'signer'), { code: 403 }, 'the control API is for the admin only');
  t.same(await control('POST', '/devapi/v1/watches/close', { mode: 'clean' }), { closed: 1 }, 'the open watch is closed');
  await done;
  t.match(await control('POST', '/devapi/v1/history/compact', {}), { compactedThrough: Number });
  const expired: string[] = [];
  await new Promise<void>((resolve) => {
    void watcher.watch('/apis/certificates.k8s.io/v1/certificatesigningrequests', { resourceVersion: rv }, (type, obj: { code?: number }) => {
      expired.push(`${type} ${obj.code ?? ''}`);
    }, () => resolve());
  });
  t.same(expired, ['ERROR 410'], 'an old version after compaction gets one 410 ERROR, then the stream ends');
});

void t.test('leases: PUT creates, updates need a resourceVersion, and one of two racing updates wins', async (t) => {
  const { kc } = client('admin');
  const leases = kc.makeApiClient(k8s.CoordinationV1Api);
  const lease = { metadata: { name: 'race', namespace: 'csr-signer' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } };
  const created = await leases.replaceNamespacedLease({ name: 'race', namespace: 'csr-signer', body: lease });
  t.equal(created.spec?.holderIdentity, 'a');
  const unconditional = await apiError(leases.replaceNamespacedLease({ name: 'race', namespace: 'csr-signer', body: lease }));
  t.match(unconditional, { code: 422, status: { message: /metadata.resourceVersion: Invalid value: 0x0: must be specified for an update/ } });
  const rv = created.metadata?.resourceVersion ?? '';
  const results = await Promise.allSettled(['b', 'c', 'd'].map((holder) => leases.replaceNamespacedLease({ name: 'race', namespace: 'csr-signer', body: { ...lease, metadata: { ...lease.metadata, resourceVersion: rv }, spec: { ...lease.spec, holderIdentity: holder } } })));
  t.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'exactly one update wins');
  t.equal(results.filter((r) => r.status === 'rejected' && (r.reason as k8s.ApiException<string>).code === 409).length, 2, 'the others get 409');
  const missingNs = await apiError(leases.createNamespacedLease({ namespace: 'nope', body: lease }));
  t.match(missingNs, { code: 404, status: { message: 'namespaces "nope" not found' } });
});

void t.test('injected faults fail the next matching requests with the asked status, then stop', async (t) => {
  await control('POST', '/devapi/v1/faults', { method: 'GET', path: '/certificatesigningrequests', status: 503, count: 2, retryAfterSeconds: 1 });
  const first = await apiError(admin().listCertificateSigningRequest({}));
  t.match(first, { code: 503, status: { reason: 'ServiceUnavailable' } });
  t.equal((await apiError(admin().listCertificateSigningRequest({}))).code, 503);
  t.ok((await admin().listCertificateSigningRequest({})).items.length > 0, 'the third request passes');
  await control('POST', '/devapi/v1/faults', { method: 'PUT', path: '/status', status: 429, count: 1 });
  const current = await admin().readCertificateSigningRequest({ name: 'reset' });
  t.equal((await apiError(client('signer').csr.replaceCertificateSigningRequestStatus({ name: 'reset', body: current }))).code, 429);
  t.match(await control('GET', '/devapi/v1/audit'), { faultsInjected: 3 });
  await control('POST', '/devapi/v1/latency', { ms: 300 });
  const started = Date.now();
  await admin().listCertificateSigningRequest({});
  t.ok(Date.now() - started >= 250, 'latency is added');
  t.same(await control('DELETE', '/devapi/v1/faults'), { rules: [] });
});

void t.test('the audit records every certificate write with the CSR\'s state at that moment', async (t) => {
  const created = await client('requester').csr.createCertificateSigningRequest({ body: csrBody('unapproved-write') });
  const pem = toPem('CERTIFICATE', Buffer.from((await import('node:fs')).readFileSync(join(import.meta.dirname, '..', '..', '..', 'keys.example', 'ca.pem'), 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64'));
  await client('signer').csr.replaceCertificateSigningRequestStatus({ name: 'unapproved-write', body: { ...created, status: { certificate: Buffer.from(pem).toString('base64') } } });
  const audit = await control('GET', '/devapi/v1/audit') as { certificateWrites: { csr: string; approved: boolean; user: string }[] };
  t.match(audit.certificateWrites.find((w) => w.csr === 'unapproved-write'), { approved: false, user: 'system:serviceaccount:csr-signer:csr-signer' }, 'a write while not Approved is recorded as such');
});

void t.test('a restarted devapi keeps every object and keeps resourceVersions increasing', async (t) => {
  const before = await admin().listCertificateSigningRequest({});
  const rv = Number(before.metadata?.resourceVersion);
  await api.stop();
  api = new DevApi({ stateDir, readText: readBoundedText });
  await api.start();
  const after = await admin().listCertificateSigningRequest({});
  t.same(after.items.map((i) => i.metadata?.uid), before.items.map((i) => i.metadata?.uid), 'same objects, same uids');
  await client('requester').csr.createCertificateSigningRequest({ body: csrBody('after-restart') });
  const created = await admin().readCertificateSigningRequest({ name: 'after-restart' });
  t.ok(Number(created.metadata?.resourceVersion) > rv, 'versions keep increasing');
});

void t.test('events written through events.k8s.io/v1 and core/v1 share one store', async (t) => {
  // The signer sends core/v1 Events only, so its role has no events.k8s.io: the admin writes these.
  const eventsV1 = client('admin').kc.makeApiClient(k8s.EventsV1Api);
  const signerEventsV1 = client('signer').kc.makeApiClient(k8s.EventsV1Api);
  const core = client('admin').kc.makeApiClient(k8s.CoreV1Api);
  const body = {
    metadata: { name: 'issued.1' }, reason: 'Issued', type: 'Normal', action: 'Sign',
    note: 'issued a certificate', reportingController: 'csr-signer', reportingInstance: 'csr-signer-0',
    regarding: { kind: 'CertificateSigningRequest', name: 'flow', apiVersion: 'certificates.k8s.io/v1' },
  };
  // client-node writes a Date with milliseconds; eventTime is a MicroTime, which kube-apiserver's
  // decoder reads with exactly six fraction digits, so the real apiserver refuses it with a 400.
  const refused = await apiError(eventsV1.createNamespacedEvent({ namespace: 'default', body: { ...body, eventTime: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)) } }));
  t.same(refused, { code: 400, status: refused.status });
  t.equal(refused.status.message, 'Event in version "v1" cannot be handled as a Event: parsing time "2026-01-02T03:04:05.678Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".678Z" as ".000000"');
  const created = await devapiCall({ url: api.url, stateDir }, 'admin', 'POST', '/apis/events.k8s.io/v1/namespaces/default/events', { ...body, eventTime: '2026-01-02T03:04:05.678000Z' });
  t.equal(created.code, 201, created.text);
  const coreList = await core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=flow' });
  t.match(coreList.items, [{ message: 'issued a certificate', reportingComponent: 'csr-signer', involvedObject: { kind: 'CertificateSigningRequest' } }], 'the core API reads it with core field names');
  const v1 = await client('admin').kc.makeApiClient(k8s.EventsV1Api).readNamespacedEvent({ name: 'issued.1', namespace: 'default' });
  t.equal((await apiError(signerEventsV1.readNamespacedEvent({ name: 'issued.1', namespace: 'default' }))).code, 403, 'the signer may not read events.k8s.io events');
  t.equal((await apiError(signerEventsV1.createNamespacedEvent({ namespace: 'default', body: { ...body, metadata: { name: 'issued.2' }, eventTime: '2026-01-02T03:04:05.678000Z' as unknown as Date } }))).code, 403,
    'nor create them: its role has core Events only');
  t.equal(v1.note, 'issued a certificate', 'events.k8s.io reads note back');
  t.equal(v1.regarding?.name, 'flow');
});

void t.test('closing watches by resetting the socket ends them with an error the client sees', async (t) => {
  const watcher = new k8s.Watch(client('signer').kc);
  const ended = new Promise<unknown>((resolve) => {
    void watcher.watch('/apis/certificates.k8s.io/v1/certificatesigningrequests', {}, () => undefined, (err) => resolve(err));
  });
  await until(() => api.watches.size > 0, { what: 'the watch to open', ms: 1000, intervalMs: 25 });
  t.same(await control('POST', '/devapi/v1/watches/close', { mode: 'reset' }), { closed: 1 });
  t.ok(await ended, 'the watch ended with an error');
});

void t.test('a JSON patch on /approval approves, and a merge patch on the main resource only changes metadata', async (t) => {
  await client('requester').csr.createCertificateSigningRequest({ body: csrBody('patched') });
  const approved = await client('approver').csr.patchCertificateSigningRequestApproval({
    name: 'patched', body: [{ op: 'add', path: '/status/conditions', value: [{ type: 'Approved', status: 'True', reason: 'Patched', message: 'by JSON patch' }] }],
  });
  t.same(approved.status?.conditions?.map((c) => c.type), ['Approved']);
  const labelled = await admin().patchCertificateSigningRequest(
    { name: 'patched', body: { metadata: { labels: { team: 'a' } }, spec: { signerName: 'example.com/changed' } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  t.equal(labelled.metadata?.labels?.team, 'a', 'labels change');
  t.equal(labelled.spec.signerName, 'example.com/demo', 'the spec does not');
});

void t.test('SubjectAccessReview answers from the same RBAC rules that authorize requests', async (t) => {
  const authz = client('admin').kc.makeApiClient(k8s.AuthorizationV1Api);
  const ask = async (user: string, groups: string[], attributes: k8s.V1ResourceAttributes): Promise<boolean | undefined> =>
    (await authz.createSubjectAccessReview({ body: { spec: { user, groups, resourceAttributes: attributes } } })).status?.allowed;
  const signer = 'system:serviceaccount:csr-signer:csr-signer';
  const saGroups = ['system:serviceaccounts', 'system:serviceaccounts:csr-signer', 'system:authenticated'];
  t.equal(await ask(signer, saGroups, { group: 'certificates.k8s.io', resource: 'signers', verb: 'sign', name: 'example.com/*' }), true, 'the signer may sign for example.com/*');
  t.equal(await ask(signer, saGroups, { group: 'certificates.k8s.io', resource: 'signers', verb: 'approve', name: 'example.com/*' }), false, 'but not approve');
  t.equal(await ask('approver', ['system:authenticated'], { group: 'certificates.k8s.io', resource: 'signers', verb: 'approve', name: 'kubernetes.io/*' }), true);
  t.equal(await ask(signer, saGroups, { group: 'certificates.k8s.io', resource: 'certificatesigningrequests', subresource: 'status', verb: 'update' }), true);
  t.equal(await ask(signer, saGroups, { group: '', resource: 'secrets', verb: 'get', namespace: 'default' }), false);
  const invalid = await apiError(authz.createSubjectAccessReview({ body: { spec: { user: 'x' } } }));
  t.match(invalid, { code: 422, status: { message: /exactly one of nonResourceAttributes or resourceAttributes must be specified/ } });
  const notAllowed = await apiError(client('signer').kc.makeApiClient(k8s.AuthorizationV1Api).createSubjectAccessReview({ body: { spec: { user: 'x', resourceAttributes: { verb: 'get', resource: 'pods' } } } }));
  t.equal(notAllowed.code, 403, 'the signer may not ask on behalf of others');
});
