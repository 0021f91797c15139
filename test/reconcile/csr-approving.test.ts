/**
 * The approver on the generic loop, against an in-process CSR API, Node and
 * SubjectAccessReview fakes and a manual clock: each decision is written once through
 * /approval with the resourceVersion read, a conflict re-reads and decides again (and
 * never approves what was decided meanwhile), `wait` looks again with a backoff that
 * doubles, audit mode writes nothing, a missing Node is a denial and a failing review a
 * transient error; metrics, Events and audit records follow.
 */
import { pino } from 'pino';
import t from 'tap';
import type { AccessReviewApi } from '../../src/kube/access-review-api.js';
import { KubeApiError } from '../../src/kube/http.js';
import type { NodeApi } from '../../src/kube/node-api.js';
import { ObjectCache } from '../../src/controller/cache.js';
import { Approver, csrApprovingController, type CsrApprovingOptions } from '../../src/reconcile/csr-approving.js';
import type { ApproverMode, ApproverSignerConfig, Csr, Node, ResourceAttributes } from '../../src/signer/types.js';
import type { ApprovalOutcome, Observer } from '../../src/telemetry/observer.js';
import { ManualClock } from '../helpers/clock.js';
import {
  csrBuilder, signerConfig, withCondition, withGroups, withName, withRawRequest, withRequest, withSigner, withUsages, withUsername,
} from '../helpers/csr.js';
import { FakeCsrApi, RacingCsrApi } from '../helpers/fake-csr-api.js';
import { pause, until } from '../helpers/wait.js';

const SERVING = 'example.com/serving';
const KUBELET_CLIENT = 'kubernetes.io/kube-apiserver-client-kubelet';
const KUBELET_SERVING = 'kubernetes.io/kubelet-serving';
const HOUR = 3_600_000;
/** Whole seconds, as Kubernetes times are. */
const start = new Date(Math.floor(Date.now() / 1000) * 1000);
const retry = { baseDelayMs: 1000, maxDelayMs: 8000, qps: 1000, burst: 1000 };
const useSigner: ResourceAttributes = { verb: 'use', group: 'certificates.k8s.io', resource: 'signers', name: SERVING };

const policySigner = signerConfig(SERVING, { policy: { allowEmailAddresses: false, allowUris: false, commonName: 'any', allowCA: false, dnsNames: ['web.example.com'] } });
const policy: ApproverSignerConfig = { signerName: SERVING, profile: 'policy' };
const policyWithReview: ApproverSignerConfig = { ...policy, subjectAccessReview: useSigner };

const kubeletClientCsr = (name: string): Csr => csrBuilder(
  withName(name), withSigner(KUBELET_CLIENT), withRequest({ key: 'p256', commonName: 'system:node:worker-1', organizations: ['system:nodes'] }),
  withUsages('digital signature', 'client auth'), withUsername('system:node:worker-1'), withGroups('system:nodes', 'system:authenticated'),
);
const kubeletServingCsr = (name: string): Csr => csrBuilder(
  withName(name), withSigner(KUBELET_SERVING), withRequest({ key: 'p256', commonName: 'system:node:worker-1', organizations: ['system:nodes'], ips: ['192.168.1.10'] }),
  withUsages('digital signature', 'server auth'), withUsername('system:node:worker-1'), withGroups('system:nodes', 'system:authenticated'),
);

class FakeNodes implements NodeApi {
  readonly nodes = new Map<string, Node>();
  readonly gets: string[] = [];
  get(name: string): Promise<Node | null> {
    this.gets.push(name);
    return Promise.resolve(this.nodes.get(name) ?? null);
  }
}

/** Answers each review with `answer` (a boolean, or an error to throw); records what was asked. */
class FakeReviews implements AccessReviewApi {
  readonly asked: ResourceAttributes[] = [];
  answer: (a: ResourceAttributes, csr: Csr) => boolean | Error = () => true;
  allowed(csr: Csr, attributes: ResourceAttributes): Promise<boolean> {
    this.asked.push(attributes);
    const a = this.answer(attributes, csr);
    return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
  }
}

interface Setup {
  readonly api: FakeCsrApi;
  readonly nodes: FakeNodes;
  readonly reviews: FakeReviews;
  readonly clock: ManualClock;
  readonly lines: Record<string, unknown>[];
  readonly approvals: [string, ApprovalOutcome, string][];
  readonly counts: { conflicts: number; retries: number };
  readonly options: CsrApprovingOptions;
}

function setup(signers: readonly ApproverSignerConfig[] = [policy], mode: ApproverMode = 'enforce', api: FakeCsrApi = new FakeCsrApi()): Setup {
  const nodes = new FakeNodes();
  const reviews = new FakeReviews();
  const clock = new ManualClock(start.getTime());
  const lines: Record<string, unknown>[] = [];
  const approvals: [string, ApprovalOutcome, string][] = [];
  const counts = { conflicts: 0, retries: 0 };
  const observer: Observer = {
    issued: () => undefined, failed: () => undefined, watchRestarted: () => undefined, caReloaded: () => undefined,
    conflict: () => { counts.conflicts++; },
    retried: () => { counts.retries++; },
    approval: (signer, decision, rule) => { approvals.push([signer, decision, rule]); },
  };
  const logger = pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } });
  const options: CsrApprovingOptions = {
    approver: { mode, signers }, signers: [policySigner, signerConfig(KUBELET_CLIENT), signerConfig(KUBELET_SERVING)],
    api, nodes, reviews, logger, workers: 2, retry, watchQuietTimeoutMs: HOUR, limits: { maxBytes: 65_536, maxSubjectAltNames: 100 },
    events: true, observer, clock, random: () => 0.5,
  };
  return { api, nodes, reviews, clock, lines, approvals, counts, options };
}

const conditionsOf = (api: FakeCsrApi, name: string) => api.objects.get(name)?.status?.conditions ?? [];

void t.test('an approvable CSR is approved once through /approval, with the resourceVersion read; one Event, audit record and count', async (t) => {
  const s = setup();
  const put = s.api.put(csrBuilder(withName('web')));
  const controller = csrApprovingController(s.options);
  controller.start();
  await until(() => s.api.approvalWrites.length === 1 && s.api.events.length === 1);
  // The stored object comes back through the watch: seen as approved, left alone.
  await until(() => s.lines.some((l) => l.csr === 'web' && l.reason === 'AlreadyApproved'));
  await controller.stop();
  t.equal(s.api.approvalWrites.length, 1, 'written once');
  t.equal(s.api.approvalWrites[0]?.metadata.resourceVersion, put.metadata.resourceVersion, 'with the resourceVersion read');
  const time = start.toISOString().replace('.000Z', 'Z');
  t.same(conditionsOf(s.api, 'web'), [{
    type: 'Approved', status: 'True', reason: 'AutoApproved',
    message: `Auto approving certificate for signer ${SERVING}: the request meets the signer's policy.`, lastUpdateTime: time, lastTransitionTime: time,
  }]);
  t.match(s.api.events, [{ type: 'Normal', reason: 'AutoApproved', message: /meets the signer's policy/ }]);
  t.same(s.approvals, [[SERVING, 'approved', 'policy']]);
  const audit = s.lines.filter((l) => l.audit !== undefined);
  t.equal(audit.length, 1);
  t.match(audit[0], { audit: 'csr-approved', csr: 'web', requester: 'alice', signer: SERVING, decision: 'approve', rule: 'policy' });
  t.same(s.api.statusWrites, [], 'never /status');
});

void t.test('a CSR the policy refuses is Denied with the sentence naming the value, and a Warning Event', async (t) => {
  const s = setup();
  s.api.put(csrBuilder(withName('evil'), withRequest({ dns: ['evil.example.org'] })));
  const controller = csrApprovingController(s.options);
  controller.start();
  await until(() => s.api.events.length === 1);
  await controller.stop();
  t.match(conditionsOf(s.api, 'evil'), [{ type: 'Denied', status: 'True', reason: 'CsrSignerPolicyDenied', message: /evil\.example\.org/ }]);
  t.match(s.api.events, [{ type: 'Warning', reason: 'CsrSignerPolicyDenied', message: /evil\.example\.org/ }]);
  t.same(s.approvals, [[SERVING, 'denied', 'policy']]);
  t.match(s.lines.find((l) => l.audit !== undefined), { audit: 'csr-denied', csr: 'evil', decision: 'deny' });
});

void t.test('a conflict re-reads and decides again from the fresh object: one write, two reviews', async (t) => {
  const s = setup([policyWithReview]);
  s.api.put(csrBuilder(withName('web')));
  let edited = false;
  s.reviews.answer = () => {
    // While the first decision is made, someone else changes the object (a label): its resourceVersion moves on.
    if (!edited) {
      edited = true;
      const current = s.api.objects.get('web');
      if (current) s.api.put({ ...current, metadata: { ...current.metadata, labels: { team: 'shop' } } });
    }
    return true;
  };
  const controller = csrApprovingController(s.options);
  controller.start();
  await until(() => s.api.approvalWrites.length === 1);
  await controller.stop();
  t.equal(s.counts.conflicts, 1, 'one 409');
  t.ok(s.api.calls.includes('get'), 'the object was read again');
  t.equal(s.reviews.asked.length, 2, 'and decided again, review included');
  t.same(s.api.approvalWrites[0]?.metadata.labels, { team: 'shop' }, 'the write carries the fresh object');
  t.match(conditionsOf(s.api, 'web'), [{ type: 'Approved', reason: 'AutoApproved' }]);
  t.same(s.approvals, [[SERVING, 'approved', 'policy']], 'counted once');
});

void t.test('a conflict whose re-read shows the CSR approved by someone else writes nothing more', async (t) => {
  const s = setup([policyWithReview]);
  s.api.put(csrBuilder(withName('web')));
  s.reviews.answer = () => {
    const current = s.api.objects.get('web');
    if (current && (current.status?.conditions ?? []).length === 0) {
      s.api.put(withCondition({ type: 'Approved', status: 'True', reason: 'KubectlApprove', message: 'by a human' })(current));
    }
    return true;
  };
  const controller = csrApprovingController(s.options);
  controller.start();
  await until(() => s.counts.conflicts === 1 && s.lines.some((l) => l.csr === 'web' && l.reason === 'AlreadyApproved'));
  await controller.stop();
  t.same(s.api.approvalWrites, [], 'no second approval');
  t.match(conditionsOf(s.api, 'web'), [{ type: 'Approved', reason: 'KubectlApprove' }]);
  t.equal(conditionsOf(s.api, 'web').length, 1);
  t.same(s.approvals, [], 'nothing counted: nothing was decided by us');
  t.same(s.api.events, []);
});

void t.test('wait: left pending, logged at debug with the reason, looked at again after a backoff that doubles, up to the cap', async (t) => {
  const s = setup([{ signerName: KUBELET_CLIENT, profile: 'kubelet-client' }]);
  const cache = new ObjectCache<Csr>();
  const approver = new Approver(s.options, cache);
  cache.set(s.api.put(kubeletClientCsr('node-csr')));
  s.reviews.answer = () => false;
  const delays: (number | undefined)[] = [];
  for (let i = 0; i < 5; i++) delays.push((await approver.reconcile('node-csr'))?.requeueAfterMs);
  t.same(delays, [1000, 2000, 4000, 8000, 8000], 'base 1 s, doubling, capped at 8 s');
  t.same(s.api.approvalWrites, [], 'nothing written');
  t.same(s.approvals.map(([, d, r]) => `${d}/${r}`), ['waiting/subject-access-review'], 'counted once, not at every look');
  const line = s.lines.find((l) => l.csr === 'node-csr');
  t.match(line, { level: 20, rule: 'subject-access-review', message: 'recognized csr "node-csr" as [selfnodeclient nodeclient] but subject access review was not approved' });
  t.same(s.reviews.asked.slice(0, 2).map((a) => a.subresource), ['selfnodeclient', 'nodeclient'], 'both reviews, in upstream\'s order');
  s.reviews.answer = (a) => a.subresource === 'selfnodeclient';
  const asked = s.reviews.asked.length;
  t.same(await approver.reconcile('node-csr'), undefined, 'allowed now: decided, nothing to look at later');
  t.same(s.reviews.asked.slice(asked).map((a) => a.subresource), ['selfnodeclient', 'nodeclient'], 'every review listed is asked, in order');
  t.match(conditionsOf(s.api, 'node-csr'), [{ type: 'Approved', reason: 'AutoApproved', message: 'Auto approving self kubelet client certificate after SubjectAccessReview.' }]);
  t.same(await approver.reconcile('node-csr'), undefined, 'the stored object is approved: skipped');
  t.equal(s.api.approvalWrites.length, 1);
});

void t.test('wait on the loop: the CSR comes back when the backoff has passed on the injected clock, not before', async (t) => {
  const s = setup([{ signerName: KUBELET_CLIENT, profile: 'kubelet-client' }]);
  s.api.put(kubeletClientCsr('node-csr'));
  s.reviews.answer = () => false;
  const controller = csrApprovingController(s.options);
  controller.start();
  await until(() => s.approvals.length === 1);
  await until(() => controller.queue.depth === 0 && s.lines.some((l) => l.msg === 'not approved; looking again later'));
  s.clock.advance(999);
  t.equal(s.approvals.length, 1, 'not before the backoff');
  s.reviews.answer = (a) => a.subresource === 'nodeclient';
  s.clock.advance(1);
  await until(() => s.api.approvalWrites.length === 1);
  await controller.stop();
  t.same(s.approvals, [[KUBELET_CLIENT, 'waiting', 'subject-access-review'], [KUBELET_CLIENT, 'approved', 'nodeclient']]);
  t.match(conditionsOf(s.api, 'node-csr'), [{ type: 'Approved', reason: 'AutoApproved', message: 'Auto approving kubelet client certificate after SubjectAccessReview.' }]);
});

void t.test('audit mode: decisions logged with audit: true and counted, nothing written, an unchanged CSR not decided again', async (t) => {
  const s = setup([policy], 'audit');
  const cache = new ObjectCache<Csr>();
  const approver = new Approver(s.options, cache);
  cache.set(csrBuilder(withName('web')));
  cache.set(csrBuilder(withName('evil'), withRequest({ dns: ['evil.example.org'] })));
  for (const name of ['web', 'evil', 'web', 'evil']) await approver.reconcile(name);
  t.same(s.approvals, [[SERVING, 'approved', 'policy'], [SERVING, 'denied', 'policy']], 'each decided once');
  t.same(s.api.calls, [], 'no call to the API at all');
  const audited = s.lines.filter((l) => l.audit === true);
  t.match(audited, [{ csr: 'web', decision: 'approve', rule: 'policy' }, { csr: 'evil', decision: 'deny', message: /evil\.example\.org/ }]);
  const web = cache.get('web');
  if (web) cache.set({ ...web, metadata: { ...web.metadata, resourceVersion: '2' } });
  await approver.reconcile('web');
  t.equal(s.approvals.length, 3, 'a changed CSR is decided again');
  approver.deleted('web');
});

void t.test('audit mode on the loop writes no condition and no Event', async (t) => {
  const s = setup([policy], 'audit');
  s.api.put(csrBuilder(withName('web')));
  const controller = csrApprovingController(s.options);
  controller.start();
  await until(() => s.approvals.length === 1);
  await controller.stop();
  t.same(s.api.approvalWrites, []);
  t.same(s.api.events, []);
  t.same(conditionsOf(s.api, 'web'), []);
});

void t.test('kubelet-serving: a Node that does not exist (404) is a denial naming it', async (t) => {
  const s = setup([{ signerName: KUBELET_SERVING, profile: 'kubelet-serving' }]);
  s.api.put(kubeletServingCsr('serving'));
  const controller = csrApprovingController(s.options);
  controller.start();
  await until(() => s.api.approvalWrites.length === 1);
  await controller.stop();
  t.same(s.nodes.gets, ['worker-1']);
  t.match(conditionsOf(s.api, 'serving'), [{ type: 'Denied', reason: 'CsrSignerPolicyDenied', message: /worker-1/ }]);
  t.same(s.approvals, [[KUBELET_SERVING, 'denied', 'kubelet-serving']]);
});

void t.test('kubelet-serving: the Node\'s own address is approved', async (t) => {
  const s = setup([{ signerName: KUBELET_SERVING, profile: 'kubelet-serving' }]);
  s.nodes.nodes.set('worker-1', { metadata: { name: 'worker-1' }, status: { addresses: [{ type: 'InternalIP', address: '192.168.1.10' }] } });
  s.api.put(kubeletServingCsr('serving'));
  const controller = csrApprovingController(s.options);
  controller.start();
  await until(() => s.api.approvalWrites.length === 1);
  await controller.stop();
  t.match(conditionsOf(s.api, 'serving'), [{ type: 'Approved', reason: 'AutoApproved' }]);
});

void t.test('a SubjectAccessReview that fails (503) is transient: retried with backoff, nothing decided meanwhile', async (t) => {
  const s = setup([policyWithReview]);
  s.api.put(csrBuilder(withName('web')));
  s.reviews.answer = () => new KubeApiError(503, 'ServiceUnavailable', 'the webhook is down', undefined);
  const controller = csrApprovingController(s.options);
  controller.start();
  await until(() => s.counts.retries === 1);
  t.same(s.approvals, [], 'no decision counted');
  t.same(s.api.approvalWrites, [], 'nothing written');
  t.match(s.lines.find((l) => l.msg === 'will retry'), { csr: 'web', controller: 'csr-approver', err: { message: 'the webhook is down' } });
  s.reviews.answer = () => true;
  s.clock.advance(retry.maxDelayMs);
  await until(() => s.api.approvalWrites.length === 1);
  await controller.stop();
  t.same(s.approvals, [[SERVING, 'approved', 'policy']]);
});

void t.test('CSRs of signers the approver is not configured for are not even watched; a Failed or issued CSR is left alone', async (t) => {
  const s = setup();
  s.api.put(csrBuilder(withName('other'), withSigner('example.com/other')));
  s.api.put(csrBuilder(withName('failed'), withCondition({ type: 'Failed', status: 'True', reason: 'X', message: 'x' })));
  const controller = csrApprovingController(s.options);
  controller.start();
  await until(() => s.lines.some((l) => l.csr === 'failed' && l.reason === 'AlreadyFailed'));
  await controller.stop();
  t.notOk(controller.cache.get('other'), 'another signer\'s CSR never reaches the approver');
  t.same(s.api.approvalWrites, []);
  t.same(s.reviews.asked, []);
});

void t.test('proof of possession: a request whose signature does not verify is denied, parsed on the threadpool as the signer parses it', async (t) => {
  const s = setup();
  const good = csrBuilder(withName('forged'));
  const pem = Buffer.from(good.spec.request, 'base64').toString('latin1');
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0x01; // the last byte of the signature
  const forged = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE REQUEST-----\n`;
  const cache = new ObjectCache<Csr>();
  cache.set(s.api.put(withRawRequest(Buffer.from(forged).toString('base64'))(good)));
  await new Approver(s.options, cache).reconcile('forged');
  t.match(conditionsOf(s.api, 'forged'), [{ type: 'Denied', reason: 'CsrSignerPolicyDenied', message: /signature/i }]);
  t.same(s.approvals, [[SERVING, 'denied', 'policy']]);
});

void t.test('every review listed is asked: a node asking for another node\'s name with both allowed is approved as nodeclient', async (t) => {
  const s = setup([{ signerName: KUBELET_CLIENT, profile: 'kubelet-client' }]);
  const cache = new ObjectCache<Csr>();
  const other = withRequest({ key: 'p256', commonName: 'system:node:worker-2', organizations: ['system:nodes'] })(kubeletClientCsr('other-node'));
  cache.set(s.api.put(other));
  await new Approver(s.options, cache).reconcile('other-node');
  t.match(conditionsOf(s.api, 'other-node'), [{ type: 'Approved', message: 'Auto approving kubelet client certificate after SubjectAccessReview.' }]);
  t.same(s.approvals, [[KUBELET_CLIENT, 'approved', 'nodeclient']]);
});

void t.test('kubelet-client: only the reviews kube-controller-manager asks; a request it does not recognise is left alone, unasked and not looked at again', async (t) => {
  const s = setup([{ signerName: KUBELET_CLIENT, profile: 'kubelet-client' }]);
  const cache = new ObjectCache<Csr>();
  const approver = new Approver(s.options, cache);
  // A node asking for another node's name: selfnodeclient does not recognise it, so only nodeclient is asked.
  cache.set(s.api.put(withRequest({ key: 'p256', commonName: 'system:node:worker-2', organizations: ['system:nodes'] })(kubeletClientCsr('other-node'))));
  s.reviews.answer = () => false;
  t.same((await approver.reconcile('other-node'))?.requeueAfterMs, 1000, 'recognised, not allowed: looked at again');
  t.same(s.reviews.asked.map((a) => a.subresource), ['nodeclient']);
  // Not the kubelet-client shape (a DNS name): no review, no write, no retry.
  const asked = s.reviews.asked.length;
  cache.set(s.api.put(withRequest({ key: 'p256', commonName: 'system:node:worker-1', organizations: ['system:nodes'], dns: ['worker-1'] })(kubeletClientCsr('odd'))));
  t.equal(await approver.reconcile('odd'), undefined, 'not requeued');
  t.equal(s.reviews.asked.length, asked, 'no review asked');
  t.same(conditionsOf(s.api, 'odd'), [], 'nothing written');
  t.match(s.lines.find((l) => l.csr === 'odd'), { reason: 'NotRecognized' });
  t.same(s.approvals.map(([, d]) => d), ['waiting'], 'only the recognised one is counted');
});

void t.test('a CSR deleted while the re-read after a 409 was in flight is not put back: not approved again', async (t) => {
  const api = new RacingCsrApi();
  const s = setup([policyWithReview], 'enforce', api);
  api.put(csrBuilder(withName('deleted-in-race')));
  let edited = false;
  s.reviews.answer = () => {
    if (!edited) {
      edited = true;
      const current = api.objects.get('deleted-in-race');
      if (current) api.put({ ...current, metadata: { ...current.metadata, labels: { team: 'shop' } } });
      api.raceNextGet = true;
    }
    return true;
  };
  const controller = csrApprovingController(s.options);
  controller.start();
  await until(() => s.counts.conflicts === 1 && api.deletedDelivered === 1);
  await pause(100, 'a CSR put back in the cache would be decided and written again within this');
  await controller.stop();
  t.equal(api.calls.filter((c) => c === 'updateApproval').length, 1, 'written once');
  t.equal(s.reviews.asked.length, 1, 'decided once');
  t.equal(s.counts.retries, 0);
});

void t.test('an approval answered 404 (deleted, its DELETED event not seen yet) ends the work: not retried', async (t) => {
  const api = new RacingCsrApi();
  const s = setup([policy], 'enforce', api);
  api.put(csrBuilder(withName('gone')));
  api.lagging = true;
  const original = api.updateApproval.bind(api);
  api.updateApproval = (c: Csr) => {
    api.remove('gone');
    return original(c);
  };
  const controller = csrApprovingController(s.options);
  controller.start();
  await until(() => s.lines.some((l) => l.csr === 'gone' && /deleted|outcome unknown/.test(String(l.msg))));
  await controller.stop();
  t.equal(api.calls.filter((c) => c === 'updateApproval').length, 1, 'written once');
  t.equal(s.counts.retries, 0, 'not retried');
  t.same(s.lines.filter((l) => l.audit !== undefined), [], 'nothing recorded as decided');
});

void t.test('a 409 on the very version written (the object did not move on) is an ordinary error: backed off and logged at warn, not retried at once', async (t) => {
  const s = setup();
  s.api.put(csrBuilder(withName('web')));
  let puts = 0;
  s.api.updateApproval = () => {
    puts++;
    return Promise.reject(new KubeApiError(409, 'Conflict', 'refused by an admission plugin', undefined));
  };
  const controller = csrApprovingController(s.options);
  controller.start();
  await until(() => s.counts.retries === 1);
  t.equal(puts, 1, 'one PUT, then the backoff on the manual clock');
  t.notOk(s.lines.some((l) => l.msg === 'changed meanwhile; looking again'), 'not a retry-now');
  t.match(s.lines.find((l) => l.msg === 'will retry'), { level: 40, csr: 'web', err: { message: 'refused by an admission plugin' } });
  s.clock.advance(retry.baseDelayMs);
  await until(() => s.counts.retries === 2);
  await controller.stop();
  t.equal(puts, 2, 'one more PUT per backoff');
  t.same(s.approvals, [], 'nothing decided');
});

void t.test('a CSR that changes under every write is retried at once 5 times (as RetryOnConflict), then backs off', async (t) => {
  const s = setup();
  s.api.put(csrBuilder(withName('web')));
  let puts = 0;
  s.api.updateApproval = () => {
    puts++;
    return Promise.reject(new KubeApiError(409, 'Conflict', 'the object has been modified', undefined));
  };
  // Every re-read shows a newer version (a busy writer elsewhere; its watch events are left out so
  // that only the retries are counted).
  const get = s.api.get.bind(s.api);
  s.api.get = async (name) => {
    const fresh = await get(name);
    return { ...fresh, metadata: { ...fresh.metadata, resourceVersion: `${fresh.metadata.resourceVersion ?? ''}.${puts}` } };
  };
  const controller = csrApprovingController(s.options);
  controller.start();
  await until(() => s.counts.retries === 1);
  t.equal(puts, 6, 'the first PUT and 5 immediate retries');
  t.equal(s.lines.filter((l) => l.msg === 'changed meanwhile; looking again').length, 5);
  t.match(s.lines.find((l) => l.msg === 'will retry'), { level: 40, csr: 'web' });
  s.clock.advance(retry.baseDelayMs);
  await until(() => puts === 12 && s.counts.retries === 2);
  await controller.stop();
  t.equal(s.lines.filter((l) => l.msg === 'changed meanwhile; looking again').length, 10, 'the count starts again after the backoff');
});

void t.test('wait: the backoff is spread by ±10% from the injected random, so CSRs made together do not come back together', async (t) => {
  const delays: (number | undefined)[] = [];
  for (const r of [0, 0.25, 0.5, 0.999_999]) {
    const s = setup([{ signerName: KUBELET_CLIENT, profile: 'kubelet-client' }]);
    const cache = new ObjectCache<Csr>();
    const approver = new Approver({ ...s.options, random: () => r }, cache);
    cache.set(s.api.put(kubeletClientCsr('node-csr')));
    s.reviews.answer = () => false;
    delays.push((await approver.reconcile('node-csr'))?.requeueAfterMs);
    if (r === 0) {
      for (let i = 0; i < 4; i++) await approver.reconcile('node-csr');
      t.equal((await approver.reconcile('node-csr'))?.requeueAfterMs, 7200, 'the cap too: 8 s - 10%');
    }
  }
  t.same(delays, [900, 950, 1000, 1100]);
});

void t.test('waiting is counted once per CSR (per uid) until it is decided or deleted; a new CSR of the same name counts again', async (t) => {
  const s = setup([{ signerName: KUBELET_CLIENT, profile: 'kubelet-client' }]);
  const cache = new ObjectCache<Csr>();
  const approver = new Approver(s.options, cache);
  const first = s.api.put({ ...kubeletClientCsr('node-csr'), metadata: { name: 'node-csr', uid: 'uid-1' } });
  cache.set(first);
  s.reviews.answer = () => false;
  for (let i = 0; i < 3; i++) await approver.reconcile('node-csr');
  t.equal(s.approvals.length, 1, 'three looks, one count');
  approver.deleted('node-csr');
  s.api.remove('node-csr');
  cache.set(s.api.put({ ...kubeletClientCsr('node-csr'), metadata: { name: 'node-csr', uid: 'uid-2' } }));
  await approver.reconcile('node-csr');
  await approver.reconcile('node-csr');
  t.equal(s.approvals.length, 2, 'the new CSR counted once');
  s.reviews.answer = () => true;
  await approver.reconcile('node-csr');
  t.same(s.approvals.map(([, d]) => d), ['waiting', 'waiting', 'approved']);
});

void t.test('an approval stored whose answer was lost is recorded as ours once it is seen: one audit record, count and Event; "outcome unknown" at warn', async (t) => {
  const s = setup();
  s.api.put(csrBuilder(withName('web')));
  s.api.failAfterNext('updateApproval', new Error('socket hang up'));
  const controller = csrApprovingController(s.options);
  controller.start();
  await until(() => s.approvals.length === 1 && s.api.events.length === 1);
  await controller.stop();
  t.match(s.lines.find((l) => l.msg === 'approval written, outcome unknown'), { level: 40, csr: 'web', decision: 'approve', err: { message: 'socket hang up' } });
  t.equal(s.api.approvalWrites.length, 1, 'written once');
  t.same(s.approvals, [[SERVING, 'approved', 'policy']]);
  t.equal(s.lines.filter((l) => l.audit === 'csr-approved').length, 1, 'one audit record');
  t.match(s.api.events, [{ type: 'Normal', reason: 'AutoApproved' }]);
});

void t.test('a lost answer, then a retry from the stale object: the 409 re-read shows our own condition, recorded once; a stranger\'s like it is not ours', async (t) => {
  const s = setup();
  const cache = new ObjectCache<Csr>();
  const approver = new Approver(s.options, cache);
  cache.set(s.api.put(csrBuilder(withName('web'), (c) => ({ ...c, metadata: { ...c.metadata, uid: 'uid-1' } }))));
  s.api.failAfterNext('updateApproval', new Error('timeout awaiting response headers'));
  await t.rejects(approver.reconcile('web'), { message: 'timeout awaiting response headers' });
  t.same(s.approvals, [], 'not known yet');
  s.clock.advance(5000); // the retry's condition would carry another time
  cache.set({ ...cache.get('web') as Csr }); // the watch has not brought the stored object: still the old resourceVersion
  t.equal(await approver.reconcile('web'), undefined, 'no retry-now: the conflict is explained');
  t.equal(s.counts.conflicts, 1);
  t.same(s.approvals, [[SERVING, 'approved', 'policy']], 'recorded as ours');
  t.equal(s.lines.filter((l) => l.audit === 'csr-approved').length, 1);
  await approver.reconcile('web');
  t.equal(s.approvals.length, 1, 'once');
  t.equal(s.api.approvalWrites.length, 1);

  // Someone else's condition with our message but another time is not ours.
  const other = csrBuilder(withName('other'), (c) => ({ ...c, metadata: { ...c.metadata, uid: 'uid-2' } }));
  cache.set(s.api.put(other));
  s.api.failNext('updateApproval', new Error('connection reset'));
  await t.rejects(approver.reconcile('other'));
  const stored = s.api.objects.get('other') as Csr;
  const time = new Date(s.clock.now() + 1000).toISOString().replace('.000Z', 'Z');
  cache.set(s.api.put(withCondition({
    type: 'Approved', status: 'True', reason: 'AutoApproved', message: `Auto approving certificate for signer ${SERVING}: the request meets the signer's policy.`, lastUpdateTime: time,
  })(stored)));
  await approver.reconcile('other');
  t.equal(s.approvals.length, 1, 'not counted as ours');
});

void t.test('two approvers deciding alike in the same second: the one refused with 409 does not take the other\'s condition for its own', async (t) => {
  const s = setup([policyWithReview]);
  s.api.put(csrBuilder(withName('web')));
  const time = start.toISOString().replace('.000Z', 'Z');
  // While this approver asks its review, the other one stores the very condition this one will send.
  s.reviews.answer = () => {
    const current = s.api.objects.get('web');
    if (current && (current.status?.conditions ?? []).length === 0) {
      s.api.put(withCondition({
        type: 'Approved', status: 'True', reason: 'AutoApproved', message: `Auto approving certificate for signer ${SERVING}: the request meets the signer's policy and the requester may use signers ${SERVING} (group certificates.k8s.io).`,
        lastUpdateTime: time, lastTransitionTime: time,
      })(current));
    }
    return true;
  };
  const controller = csrApprovingController(s.options);
  controller.start();
  await until(() => s.counts.conflicts === 1 && s.lines.some((l) => l.csr === 'web' && l.reason === 'AlreadyApproved'));
  await controller.stop();
  t.equal(conditionsOf(s.api, 'web').length, 1, 'one condition: the other approver\'s');
  t.same(s.approvals, [], 'nothing counted: the write of this one was refused');
  t.equal(s.lines.filter((l) => l.audit === 'csr-approved').length, 0, 'no audit record');
});
