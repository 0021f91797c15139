/**
 * SubjectAccessReviews: may the requester of a CSR (its spec's username, uid,
 * groups and extra, as kube-apiserver recorded them) do this? The approver asks
 * before it approves (kube-controller-manager's csrapproving asks the same way,
 * pkg/controller/certificates/approver/sarapprove.go authorize). A review is created
 * and answered in one POST; nothing is stored. RBAC: `create` on
 * subjectaccessreviews (rbac.ts approverClusterRules).
 */
import type { KubeHttp } from './http.js';
import type { Csr, ResourceAttributes, SubjectAccessReview } from './objects.js';

/**
 * A review answered "not allowed" because an authorizer could not be asked (status.evaluationError,
 * e.g. an authorization webhook that is down): no answer yet, so transient — the loop retries with
 * backoff and logs it at warn. Only a clean "not allowed" (no evaluationError, or an explicit
 * status.denied) is a no.
 */
export class AccessReviewUnavailable extends Error {
  override readonly name = 'AccessReviewUnavailable';
}

export interface AccessReviewApi {
  /**
   * status.allowed of a SubjectAccessReview of the CSR's requester on `attributes`. Errors (a 5xx,
   * no answer) reject, and so does a "not allowed" that carries an evaluationError (AccessReviewUnavailable).
   */
  allowed(csr: Csr, attributes: ResourceAttributes): Promise<boolean>;
}

/** The review kube-controller-manager sends for a CSR: its requester, as recorded in the spec, on `attributes`. */
export function accessReviewOf(csr: Csr, attributes: ResourceAttributes): SubjectAccessReview {
  const { username, uid, groups, extra } = csr.spec;
  return {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      ...(username === undefined ? {} : { user: username }),
      ...(uid === undefined ? {} : { uid }),
      ...(groups === undefined ? {} : { groups }),
      ...(extra === undefined ? {} : { extra }),
      resourceAttributes: attributes,
    },
  };
}

export function accessReviewApi(kube: KubeHttp): AccessReviewApi {
  return {
    async allowed(csr, attributes) {
      const answer = await kube.request<SubjectAccessReview>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { body: accessReviewOf(csr, attributes) });
      const status = answer.status;
      if (status?.allowed === true) return true;
      const evaluationError = status?.evaluationError ?? '';
      if (evaluationError !== '' && status?.denied !== true) {
        const { verb, resource, subresource, name } = attributes;
        const on = [resource, subresource].filter(Boolean).join('/') + (name ? ` ${name}` : '');
        throw new AccessReviewUnavailable(`the SubjectAccessReview of ${csr.spec.username ?? 'the requester'} (${verb} ${on}) could not be evaluated: ${evaluationError}`);
      }
      return false;
    },
  };
}
