/**
 * The approver's three calls, as a real API server sees them: PUT .../approval with
 * the object as read (its resourceVersion), GET of a Node (404 is "no such Node", other
 * errors are errors), and POST of a SubjectAccessReview carrying the CSR's requester
 * exactly (user, uid, groups, extra), answered by status.allowed.
 */
import t from 'tap';
import { AccessReviewUnavailable, accessReviewApi, accessReviewOf } from '../../src/kube/access-review-api.js';
import { csrApi } from '../../src/kube/csr-api.js';
import { KubeApiError, type KubeHttp, type Query } from '../../src/kube/http.js';
import { nodeApi } from '../../src/kube/node-api.js';
import { csrBuilder, withName } from '../helpers/csr.js';

interface Sent { method: string; path: string; query?: Query; body?: unknown }

function recorder(answer: (s: Sent) => unknown): { kube: KubeHttp; sent: Sent[] } {
  const sent: Sent[] = [];
  const kube: KubeHttp = {
    request<T>(method: string, path: string, options: { query?: Query; body?: unknown } = {}): Promise<T> {
      const s = { method, path, ...options };
      sent.push(s);
      try {
        return Promise.resolve(answer(s) as T);
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    },
    watch: () => Promise.reject(new Error('no watch here')),
    close: () => undefined,
  };
  return { kube, sent };
}

const notFound = (): never => { throw new KubeApiError(404, 'NotFound', 'nodes "x" not found', undefined); };

void t.test('PUT /approval carries the object as read, resourceVersion and conditions, typed', async (t) => {
  const { kube, sent } = recorder((s) => s.body);
  const csr = csrBuilder(withName('node csr'), (c) => ({ ...c, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'AutoApproved', message: 'ok' }] } }));
  const stored = await csrApi(kube, 'me').updateApproval(csr);
  t.same(sent.map((s) => [s.method, s.path]), [['PUT', '/apis/certificates.k8s.io/v1/certificatesigningrequests/node%20csr/approval']]);
  t.match(sent[0]?.body, { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'node csr', resourceVersion: '1' }, status: { conditions: [{ type: 'Approved', reason: 'AutoApproved' }] } });
  t.same(stored.metadata, csr.metadata);
});

void t.test('a Node is read by name; 404 is null, any other error rejects', async (t) => {
  const node = { metadata: { name: 'worker-1' }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] } };
  const { kube, sent } = recorder((s) => (s.path.endsWith('/worker-1') ? node : s.path.endsWith('/gone') ? notFound() : (() => { throw new KubeApiError(503, 'ServiceUnavailable', 'down', undefined); })()));
  const nodes = nodeApi(kube);
  t.same(await nodes.get('worker-1'), node);
  t.equal(await nodes.get('gone'), null);
  t.match(await nodes.get('sick').catch((e: unknown) => e), { status: 503 });
  t.same(sent.map((s) => [s.method, s.path]), [['GET', '/api/v1/nodes/worker-1'], ['GET', '/api/v1/nodes/gone'], ['GET', '/api/v1/nodes/sick']]);
});

void t.test('a SubjectAccessReview names the requester of the CSR exactly, and status.allowed is the answer', async (t) => {
  const csr = csrBuilder((c) => ({
    ...c, spec: { ...c.spec, username: 'system:node:worker-1', uid: 'u-1', groups: ['system:nodes', 'system:authenticated'], extra: { 'authentication.kubernetes.io/credential-id': ['X509SHA256=ab'] } },
  }));
  const attributes = { verb: 'create', group: 'certificates.k8s.io', resource: 'certificatesigningrequests', subresource: 'selfnodeclient' };
  let allowed: unknown = true;
  const { kube, sent } = recorder(() => ({ ...accessReviewOf(csr, attributes), status: { allowed } }));
  const reviews = accessReviewApi(kube);
  t.equal(await reviews.allowed(csr, attributes), true);
  allowed = false;
  t.equal(await reviews.allowed(csr, attributes), false);
  allowed = undefined;
  t.equal(await reviews.allowed(csr, attributes), false, 'no status.allowed is no');
  t.same(sent[0], {
    method: 'POST', path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    body: {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
      spec: {
        user: 'system:node:worker-1', uid: 'u-1', groups: ['system:nodes', 'system:authenticated'],
        extra: { 'authentication.kubernetes.io/credential-id': ['X509SHA256=ab'] }, resourceAttributes: attributes,
      },
    },
  });
  const failing = accessReviewApi(recorder(() => { throw new KubeApiError(500, 'InternalError', 'webhook down', undefined); }).kube);
  t.match(await failing.allowed(csr, attributes).catch((e: unknown) => e), { status: 500 });
});

void t.test('a "not allowed" that carries an evaluationError (an authorizer could not be asked) is no answer: it rejects, transient; a clean no or an explicit denial is no', async (t) => {
  const csr = csrBuilder((c) => ({ ...c, spec: { ...c.spec, username: 'alice' } }));
  const attributes = { verb: 'use', group: 'certificates.k8s.io', resource: 'signers', name: 'example.com/serving' };
  let status: unknown = { allowed: false, evaluationError: 'Post "https://authz.example.com/": connection refused' };
  const reviews = accessReviewApi(recorder(() => ({ ...accessReviewOf(csr, attributes), status })).kube);
  const e = await reviews.allowed(csr, attributes).catch((err: unknown) => err);
  t.type(e, AccessReviewUnavailable);
  t.match(e, { message: 'the SubjectAccessReview of alice (use signers example.com/serving) could not be evaluated: Post "https://authz.example.com/": connection refused' });
  status = { allowed: false, evaluationError: '' };
  t.equal(await reviews.allowed(csr, attributes), false, 'an empty evaluationError is a clean no');
  status = { allowed: false, denied: true, evaluationError: 'one webhook failed', reason: 'denied by policy' };
  t.equal(await reviews.allowed(csr, attributes), false, 'an explicit denial is a no even with an evaluationError beside it');
  status = { allowed: true, evaluationError: 'one webhook failed' };
  t.equal(await reviews.allowed(csr, attributes), true, 'allowed by another authorizer is yes');
});
