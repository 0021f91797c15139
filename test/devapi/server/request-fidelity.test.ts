/**
 * devapi reads request bodies and list options as kube-apiserver does: a wrong JSON type
 * is the decoder's 400 (not a validation 422); unknown and repeated fields are dropped with
 * a `Warning` header (fieldValidation Warn), refused (Strict) or dropped silently (Ignore);
 * Events pass events.go's validation; a PUT that creates also needs `create`; and
 * resourceVersion, resourceVersionMatch and continue combine on lists and watches as
 * upstream allows.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { readBoundedText } from '../../../src/files.js';
import { DevApi } from '../../../devapi/server/server.js';
import { devapiCall, type Identity } from '../../helpers/devapi.js';

const RBAC = 'rbac.authorization.k8s.io';
// The requester may update (not create) Events in default and Leases in kube-node-lease.
const policyYaml = [
  { apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', metadata: { name: 'updater' }, rules: [
    { apiGroups: [''], resources: ['events'], verbs: ['get', 'update'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'update'] },
  ] },
  { apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: { name: 'updater' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'updater' }, subjects: [{ kind: 'User', name: 'requester' }] },
].map((o) => stringify(o)).join('---\n');

const stateDir = mkdtempSync(join(tmpdir(), 'devapi-fidelity-'));
const logged: string[] = [];
const api = new DevApi({ stateDir, readText: readBoundedText, policyYaml, log: (line) => logged.push(line) });
await api.start();
t.teardown(() => api.stop());

const call = (method: string, path: string, body?: unknown, contentType?: string, who: Identity = 'admin'): ReturnType<typeof devapiCall> =>
  devapiCall({ url: api.url, stateDir }, who, method, path, body, contentType);
const events = '/api/v1/namespaces/default/events';
const configMaps = '/api/v1/namespaces/default/configmaps';
const leases = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
const eventsV1 = '/apis/events.k8s.io/v1/namespaces/default/events';
/** The Warning headers (node joins several with ", "). */
const warnings = (headers: { readonly warning?: string | undefined }): string => headers.warning ?? '';

const csrEvent = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'v1', kind: 'Event', metadata: { name },
  involvedObject: { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', name: 'csr-1' },
  type: 'Normal', reason: 'Issued', message: 'issued', ...extra,
});

void t.test('a wrong JSON type anywhere is the decoder\'s 400, for every resource', async (t) => {
  const cases: [string, string, unknown, string][] = [
    ['count as a string', events, csrEvent('e-count', { count: 'x' }), 'Event in version "v1" cannot be handled as a Event: json: cannot unmarshal string into Go struct field Event.count of type int32'],
    ['metadata as a list', events, { ...csrEvent('x'), metadata: [] }, 'Event in version "v1" cannot be handled as a Event: json: cannot unmarshal array into Go struct field Event.metadata of type v1.ObjectMeta'],
    ['a label value as a number', configMaps, { metadata: { name: 'cm', labels: { a: 1 } } }, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string'],
    ['a fraction for an int32', leases, { metadata: { name: 'l' }, spec: { leaseDurationSeconds: 1.5 } }, 'Lease in version "v1" cannot be handled as a Lease: json: cannot unmarshal number 1.5 into Go struct field LeaseSpec.spec.leaseDurationSeconds of type int32'],
    ['a MicroTime without microseconds', leases, { metadata: { name: 'l' }, spec: { renewTime: '2026-01-02T03:04:05Z' } }, 'Lease in version "v1" cannot be handled as a Lease: parsing time "2026-01-02T03:04:05Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "Z" as ".000000"'],
    ['a Time that is no time', events, csrEvent('e-time', { firstTimestamp: 'yesterday' }), 'Event in version "v1" cannot be handled as a Event: parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"'],
    ['finalizers as a string', '/api/v1/namespaces', { metadata: { name: 'ns-x' }, spec: { finalizers: 'kubernetes' } }, 'Namespace in version "v1" cannot be handled as a Namespace: json: cannot unmarshal string into Go struct field NamespaceSpec.spec.finalizers of type []v1.FinalizerName'],
    ['a body that is a list', configMaps, [], 'the object provided is unrecognized (must be of type ConfigMap): couldn\'t get version/kind; json parse error: json: cannot unmarshal array into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" } (5b5d)'],
  ];
  for (const [what, path, body, message] of cases) {
    const r = await call('POST', path, body);
    t.equal(r.code, 400, `${what}: ${r.text}`);
    t.match(r.body, { reason: 'BadRequest', message }, what);
  }
  // In a patch, both are 422 on the field `patch` (patch.go applyPatchToCurrentObject).
  t.equal((await call('POST', leases, { metadata: { name: 'patched' } })).code, 201);
  const r = await call('PATCH', `${leases}/patched`, { spec: { leaseTransitions: 'x' } }, 'application/merge-patch+json');
  t.equal(r.code, 422, r.text);
  t.match(r.body, { reason: 'Invalid', details: { causes: [{ field: 'patch', reason: 'FieldValueInvalid' }] } });
  t.match(String(r.body.message), /^ "" is invalid: patch: Invalid value: ".*": json: cannot unmarshal string into Go struct field LeaseSpec.spec.leaseTransitions of type int32$/);
});

void t.test('unknown and repeated fields: dropped with a Warning, refused with Strict, dropped silently with Ignore', async (t) => {
  const body = { metadata: { name: 'warned', bogus: 1 }, data: { a: '1' }, extra: true };
  const warned = await call('POST', configMaps, body);
  t.equal(warned.code, 201, warned.text);
  t.equal(warnings(warned.headers), ['299 - "unknown field \\"metadata.bogus\\""', '299 - "unknown field \\"extra\\""'].join(', '));
  t.notOk('extra' in warned.body, 'the field is not stored');
  t.notOk('bogus' in (warned.body.metadata as object));
  t.ok(logged.some((l) => l.startsWith('POST /api/v1/namespaces/default/configmaps 201 ') && l.endsWith(' warning: 299 - "unknown field \\"metadata.bogus\\"", 299 - "unknown field \\"extra\\""')), 'the request log shows the warnings');

  const strict = await call('POST', `${configMaps}?fieldValidation=Strict`, { ...body, metadata: { name: 'strict', bogus: 1 } });
  t.equal(strict.code, 400);
  t.match(strict.body, { reason: 'BadRequest', message: 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "metadata.bogus", unknown field "extra"' });

  const ignored = await call('POST', `${configMaps}?fieldValidation=Ignore`, { ...body, metadata: { name: 'ignored' } });
  t.equal(ignored.code, 201);
  t.equal(warnings(ignored.headers), '');
  t.notOk('extra' in ignored.body);

  const duplicate = await call('POST', configMaps, '{"metadata":{"name":"dup"},"data":{"a":"1","a":"2"},"immutable":false,"immutable":false}');
  t.equal(duplicate.code, 201, duplicate.text);
  t.equal(warnings(duplicate.headers), ['299 - "duplicate field \\"data.a\\""', '299 - "duplicate field \\"immutable\\""'].join(', '));

  const nested = await call('PUT', `${configMaps}/warned`, { metadata: { name: 'warned', ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: 'u', nope: 1 }] }, data: {} });
  t.equal(nested.code, 200, nested.text);
  t.equal(warnings(nested.headers), '299 - "unknown field \\"metadata.ownerReferences[0].nope\\""');

  const patched = await call('PATCH', `${configMaps}/warned`, { spec: { x: 1 } }, 'application/merge-patch+json');
  t.equal(patched.code, 200, patched.text);
  t.equal(warnings(patched.headers), '299 - "unknown field \\"spec\\""');

  const bad = await call('POST', `${configMaps}?fieldValidation=Loud`, { metadata: { name: 'loud' } });
  t.equal(bad.code, 422);
  t.equal(bad.body.message, 'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Loud": supported values: "", "Ignore", "Strict", "Warn"');
});

void t.test('core/v1 Events are validated as legacyValidateEvent', async (t) => {
  // An Event about a cluster-scoped CSR (no involvedObject.namespace) may live in "default", for older clients.
  const ok = await call('POST', events, csrEvent('about-csr', { source: { component: 'csr-signer' }, count: 1, firstTimestamp: '2026-01-02T03:04:05Z', lastTimestamp: '2026-01-02T03:04:05Z' }));
  t.equal(ok.code, 201, ok.text);

  const elsewhere = await call('POST', '/api/v1/namespaces/kube-system/events', csrEvent('in-kube-system'));
  t.equal(elsewhere.code, 422);
  t.equal(elsewhere.body.message, 'Event "in-kube-system" is invalid: involvedObject.namespace: Invalid value: "": does not match event.namespace');

  const mismatch = await call('POST', events, csrEvent('mismatch', { involvedObject: { kind: 'Pod', name: 'p', namespace: 'other' } }));
  t.equal(mismatch.code, 422);
  t.equal(mismatch.body.message, 'Event "mismatch" is invalid: involvedObject.namespace: Invalid value: "other": does not match event.namespace');

  // With eventTime, the reporting fields are required and the lengths bounded; kube-system is allowed too.
  const eventTime = '2026-01-02T03:04:05.123456Z';
  const bare = await call('POST', '/api/v1/namespaces/kube-system/events', { metadata: { name: 'bare' }, involvedObject: { kind: 'CertificateSigningRequest', name: 'c' }, eventTime, message: 'm'.repeat(1025) });
  t.equal(bare.code, 422);
  t.match(bare.body, {
    reason: 'Invalid',
    details: { kind: 'Event', name: 'bare', causes: [
      { field: 'reportingController', reason: 'FieldValueRequired' },
      { field: 'reportingController', reason: 'FieldValueInvalid', message: 'Invalid value: "": name part must be non-empty' },
      { field: 'reportingController', reason: 'FieldValueInvalid' },
      { field: 'reportingInstance', reason: 'FieldValueRequired' },
      { field: 'action', reason: 'FieldValueRequired' },
      { field: 'reason', reason: 'FieldValueRequired' },
      { field: 'message', reason: 'FieldValueInvalid', message: 'Invalid value: "": can have at most 1024 characters' },
    ] },
  });
  const full = await call('POST', events, csrEvent('with-time', { eventTime, reportingComponent: 'example.com/csr-signer', reportingInstance: 'pod-1', action: 'Sign' }));
  t.equal(full.code, 201, full.text);
  const badController = await call('POST', events, csrEvent('bad-controller', { eventTime, reportingComponent: 'a/b/c', reportingInstance: 'i', action: 'Sign' }));
  t.equal(badController.code, 422);
  t.match(String(badController.body.message), /^Event "bad-controller" is invalid: reportingController: Invalid value: "a\/b\/c": a qualified name must consist of/);
});

void t.test('events.k8s.io/v1 Events pass the stricter create and update checks', async (t) => {
  const event = {
    apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'v1-event' }, eventTime: '2026-01-02T03:04:05.000000Z',
    regarding: { kind: 'CertificateSigningRequest', name: 'c' }, reportingController: 'example.com/signer', reportingInstance: 'i', action: 'Sign', reason: 'Issued', note: 'n', type: 'Normal',
  };
  const wrongType = await call('POST', eventsV1, { ...event, type: 'Info', deprecatedCount: 3 });
  t.equal(wrongType.code, 422);
  t.equal(wrongType.body.message, 'Event.events.k8s.io "v1-event" is invalid: [type: Invalid value: "": has invalid value: Info, count: Invalid value: "": needs to be unset]');
  const created = await call('POST', eventsV1, event);
  t.equal(created.code, 201, created.text);
  const changed = await call('PUT', `${eventsV1}/v1-event`, { ...event, note: 'other' });
  t.equal(changed.code, 422);
  t.equal(changed.body.message, 'Event.events.k8s.io "v1-event" is invalid: message: Invalid value: "other": field is immutable');
});

void t.test('a PUT that creates needs the create verb; Events are created on update as upstream', async (t) => {
  const created = await call('PUT', `${events}/put-created`, csrEvent('put-created'));
  t.equal(created.code, 201, created.text);
  const denied = await call('PUT', `${events}/not-yet`, csrEvent('not-yet'), undefined, 'requester');
  t.equal(denied.code, 403);
  t.equal(denied.body.message, 'events "not-yet" is forbidden: User "requester" cannot create resource "events" in API group "" in the namespace "default"');
  const updated = await call('PUT', `${events}/put-created`, csrEvent('put-created', { message: 'again' }), undefined, 'requester');
  t.equal(updated.code, 200, 'updating an existing one needs only update');
  const lease = await call('PUT', `${leases}/requester-lease`, { metadata: { name: 'requester-lease' }, spec: {} }, undefined, 'requester');
  t.equal(lease.code, 403);
  t.equal(lease.body.message, 'leases.coordination.k8s.io "requester-lease" is forbidden: User "requester" cannot create resource "leases" in API group "coordination.k8s.io" in the namespace "kube-node-lease"');
  const missing = await call('PUT', `${configMaps}/no-such`, { metadata: { name: 'no-such' } });
  t.equal(missing.code, 404, 'ConfigMaps are not created on update');
});

void t.test('resourceVersion, resourceVersionMatch and continue on lists', async (t) => {
  const ns = '/api/v1/namespaces/kube-public/configmaps';
  const first = await call('POST', ns, { metadata: { name: 'rv-a' } });
  const rvA = String((first.body.metadata as { resourceVersion: string }).resourceVersion);
  await call('POST', ns, { metadata: { name: 'rv-b' } });
  const names = (r: { body: Record<string, unknown> }): string[] => (r.body.items as { metadata: { name: string } }[]).map((i) => i.metadata.name);

  const exact = await call('GET', `${ns}?resourceVersion=${rvA}&resourceVersionMatch=Exact`);
  t.equal(exact.code, 200, exact.text);
  t.same(names(exact), ['rv-a'], 'Exact reads the list as it was');
  t.equal((exact.body.metadata as { resourceVersion: string }).resourceVersion, rvA);
  const legacyExact = await call('GET', `${ns}?resourceVersion=${rvA}&limit=10`);
  t.same(names(legacyExact), ['rv-a'], 'a limit with a resourceVersion is an exact read');
  const notOlder = await call('GET', `${ns}?resourceVersion=${rvA}&resourceVersionMatch=NotOlderThan`);
  t.same(names(notOlder), ['rv-a', 'rv-b'], 'NotOlderThan reads the current state');

  const refused: [string, number, string][] = [
    ['resourceVersionMatch=Exact', 422, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided'],
    ['resourceVersion=0&resourceVersionMatch=Exact', 422, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"'],
    ['resourceVersion=1&resourceVersionMatch=Newest', 422, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""'],
    ['resourceVersion=abc', 400, 'invalid resource version: resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax'],
    ['resourceVersion=99999999&resourceVersionMatch=Exact', 504, 'Timeout: Too large resource version: 99999999, current: '],
    ['resourceVersion=99999999&resourceVersionMatch=NotOlderThan', 504, 'Timeout: Too large resource version: 99999999, current: '],
  ];
  for (const [query, code, message] of refused) {
    const r = await call('GET', `${ns}?${query}`);
    t.equal(r.code, code, `${query}: ${r.text}`);
    t.ok(String(r.body.message).startsWith(message), `${query}: ${String(r.body.message)}`);
  }
  const tooNew = await call('GET', `${ns}?resourceVersion=99999999&resourceVersionMatch=NotOlderThan`);
  t.match(tooNew.body, { reason: 'Timeout', details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 } });

  const page = await call('GET', `${ns}?limit=1`);
  const token = String((page.body.metadata as { continue: string }).continue);
  const both = await call('GET', `${ns}?limit=1&continue=${token}&resourceVersion=${rvA}`);
  t.equal(both.code, 400);
  t.equal(both.body.message, 'specifying resource version is not allowed when using continue');
  t.equal((await call('GET', `${ns}?limit=1&continue=${token}&resourceVersion=0`)).code, 200, 'resourceVersion 0 beside a token is allowed');

  await call('POST', '/devapi/v1/history/compact', {});
  const compacted = await call('GET', `${ns}?resourceVersion=${rvA}&resourceVersionMatch=Exact`);
  t.equal(compacted.code, 410);
  t.match(compacted.body, { reason: 'Expired', message: 'The resourceVersion for the provided list is too old.' });
});

void t.test('a watch refuses a resourceVersion that is not a number before the stream starts', async (t) => {
  const r = await call('GET', `${configMaps}?watch=true&resourceVersion=abc`);
  t.equal(r.code, 500, r.text);
  t.same(r.body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax', code: 500 });
  const match = await call('GET', `${configMaps}?watch=true&resourceVersionMatch=NotOlderThan&resourceVersion=1`);
  t.equal(match.code, 422);
  t.equal(match.body.message, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided');
});
