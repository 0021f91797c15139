/**
 * The slice of the Kubernetes API the CSR controllers use: CSRs (of one
 * signerName, or all of them), get, /status, /approval, delete with preconditions,
 * and Events. A small interface so the controllers are tested with an in-process
 * fake; `csrApi` implements it over HTTP with the generic resource client.
 */
import { eventBody } from './events.js';
import type { KubeHttp } from './http.js';
import type { Feed } from './list-watch.js';
import type { Csr } from './objects.js';
import { resource, type ListPage, type Preconditions, type WatchEvent } from './resource.js';

export type { WatchEvent } from './resource.js';
export type CsrList = ListPage<Csr>;

export interface KubeEvent {
  readonly csr: Csr;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
  readonly now: Date;
}

export interface CsrApi {
  /** `signerName` undefined: the CSRs of every signer. */
  list(signerName: string | undefined, options: { limit: number; continue?: string }): Promise<CsrList>;
  /** Resolves when the server ends the watch, rejects on a transport error. */
  watch(signerName: string | undefined, resourceVersion: string, timeoutSeconds: number, onEvent: (e: WatchEvent<Csr>) => void, signal: AbortSignal): Promise<void>;
  get(name: string): Promise<Csr>;
  /** PUT /status with the object's resourceVersion; returns the stored object. */
  updateStatus(csr: Csr): Promise<Csr>;
  /**
   * PUT /approval with the object's resourceVersion (409 when it changed meanwhile):
   * the approver's Approved or Denied condition. kube-apiserver keeps only
   * status.conditions of the body there, and checks `approve` on the signerName.
   */
  updateApproval(csr: Csr): Promise<Csr>;
  /** DELETE, only if the object still has this uid (and resourceVersion, when given). */
  delete(name: string, preconditions: Preconditions): Promise<void>;
  createEvent(event: KubeEvent): Promise<void>;
}

const EVENTS_NAMESPACE = 'default';

const bySigner = (signerName: string | undefined): { fieldSelector?: string } =>
  signerName === undefined ? {} : { fieldSelector: `spec.signerName=${signerName}` };

/** The list+watch of one signerName's CSRs (undefined: all CSRs), for a ListWatch. */
export function signerFeed(api: Pick<CsrApi, 'list' | 'watch'>, signerName: string | undefined): Feed<Csr> {
  return {
    list: (page) => api.list(signerName, page),
    watch: (resourceVersion, timeoutSeconds, onEvent, signal) => api.watch(signerName, resourceVersion, timeoutSeconds, onEvent, signal),
  };
}

const CSRS_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

export function csrApi(kube: KubeHttp, reportingInstance: string): CsrApi {
  const csrs = resource<Csr>(kube, {
    groupVersionPath: '/apis/certificates.k8s.io/v1', plural: 'certificatesigningrequests', apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest',
  });
  return {
    list: (signerName, page) => csrs.list({ ...page, ...bySigner(signerName) }),
    watch: (signerName, resourceVersion, timeoutSeconds, onEvent, signal) => csrs.watch({ resourceVersion, timeoutSeconds, ...bySigner(signerName) }, onEvent, signal),
    get: (name) => csrs.get(name),
    updateStatus: (csr) => csrs.updateStatus(csr),
    updateApproval: (csr) => kube.request<Csr>('PUT', `${CSRS_PATH}/${encodeURIComponent(csr.metadata.name)}/approval`, {
      body: { ...csr, apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest' },
    }),
    delete: (name, preconditions) => csrs.delete(name, preconditions),

    async createEvent({ csr, type, reason, message, now }) {
      await kube.request('POST', `/api/v1/namespaces/${EVENTS_NAMESPACE}/events`, {
        body: eventBody({
          involvedObject: {
            apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', name: csr.metadata.name,
            ...(csr.metadata.uid ? { uid: csr.metadata.uid } : {}),
          },
          namespace: EVENTS_NAMESPACE, type, reason, message, now, reportingInstance,
        }),
      });
    },
  };
}
