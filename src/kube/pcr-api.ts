/**
 * The slice of the Kubernetes API the PodCertificateRequest signer uses: the
 * requests of one signerName in every namespace (list + watch, field selector
 * spec.signerName), get, PUT /status, and Events in the request's namespace. A
 * small interface so the controller is tested with an in-process fake;
 * `podCertificateRequestApi` implements it over HTTP with the generic resource client.
 *
 * Which version: `certificates.k8s.io/v1` (Kubernetes 1.37 on) when the cluster serves
 * it, else `v1beta1` (1.35 and 1.36, behind a feature gate), as discovery says, or the
 * one the configuration names. Both are views of one stored object with one
 * resourceVersion, but v1 does not show the legacy `pkixPublicKey` and
 * `proofOfPossession` a kubelet older than 1.36 sends instead of `stubPKCS10Request`;
 * such a request is read again through v1beta1 (`getLegacy`) while that is served.
 */
import { csrError } from '../errors.js';
import { eventBody } from './events.js';
import { KubeApiError, type KubeHttp } from './http.js';
import type { Feed } from './list-watch.js';
import type { PodCertificateRequest } from './objects.js';
import { resource, type ListPage, type Resource, type WatchEvent } from './resource.js';

export type { PodCertificateRequest } from './objects.js';

/** The certificates.k8s.io versions that can serve PodCertificateRequests, newest first. */
export const podCertificateRequestVersions = ['v1', 'v1beta1'] as const;
export type PodCertificateRequestVersion = typeof podCertificateRequestVersions[number];

export interface PodCertificateEvent {
  readonly pcr: PodCertificateRequest;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
  readonly now: Date;
}

export interface PodCertificateRequestApi {
  /** The version every call below reads and writes through. */
  readonly version: PodCertificateRequestVersion;
  /** Whether `getLegacy` can work: the version is v1beta1, or v1beta1 is served beside v1 (as last discovered). */
  readonly legacyServed: boolean;
  /**
   * Discovery again, to learn whether v1beta1 is served now (a cluster may start serving it,
   * or stop), at most once a minute (sooner answers what was last found); updates and
   * returns `legacyServed`.
   */
  rediscoverLegacy(): Promise<boolean>;
  /** The requests of `signerName` in every namespace, one page. */
  list(signerName: string, options: { limit: number; continue?: string }): Promise<ListPage<PodCertificateRequest>>;
  /** Resolves when the server ends the watch, rejects on a transport error. */
  watch(signerName: string, resourceVersion: string, timeoutSeconds: number, onEvent: (e: WatchEvent<PodCertificateRequest>) => void, signal: AbortSignal): Promise<void>;
  get(namespace: string, name: string): Promise<PodCertificateRequest>;
  /** GET through v1beta1, which shows pkixPublicKey and proofOfPossession (v1 does not). */
  getLegacy(namespace: string, name: string): Promise<PodCertificateRequest>;
  /** PUT /status with the object's resourceVersion (409 when it changed meanwhile); returns the stored object. */
  updateStatus(pcr: PodCertificateRequest): Promise<PodCertificateRequest>;
  /** A core v1 Event about the request, in its namespace. */
  createEvent(event: PodCertificateEvent): Promise<void>;
}

/** The list+watch of one signerName's requests in every namespace, for a ListWatch. */
export function podCertificateFeed(api: Pick<PodCertificateRequestApi, 'list' | 'watch'>, signerName: string): Feed<PodCertificateRequest> {
  return {
    list: (page) => api.list(signerName, page),
    watch: (resourceVersion, timeoutSeconds, onEvent, signal) => api.watch(signerName, resourceVersion, timeoutSeconds, onEvent, signal),
  };
}

const GROUP_PATH = '/apis/certificates.k8s.io';
const PLURAL = 'podcertificaterequests';

/**
 * The versions of `podCertificateRequestVersions` that serve podcertificaterequests, in
 * that order: each version's resource list (GET /apis/certificates.k8s.io/VERSION, as
 * kubectl's discovery reads it) decides; a version not served answers 404. The group's own
 * document would not do: it lists v1 on every cluster, for CertificateSigningRequests.
 */
export async function podCertificateRequestVersionsServed(kube: KubeHttp): Promise<PodCertificateRequestVersion[]> {
  const serves = async (version: PodCertificateRequestVersion): Promise<boolean> => {
    let list: { resources?: { name?: string }[] };
    try {
      list = await kube.request<{ resources?: { name?: string }[] }>('GET', `${GROUP_PATH}/${version}`);
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return false;
      throw e;
    }
    return list.resources?.some((r) => r.name === PLURAL) ?? false;
  };
  const served = await Promise.all(podCertificateRequestVersions.map(serves));
  return podCertificateRequestVersions.filter((_, i) => served[i] === true);
}

/**
 * The version a signer's controller uses: the configured one if served, else (auto) v1
 * when served, else v1beta1. Throws CSR_SIGNER_ERR_POD_CERTIFICATES_NOT_SERVED naming
 * what the cluster lacks.
 */
export function choosePodCertificateRequestVersion(
  signer: string, configured: 'auto' | PodCertificateRequestVersion, served: readonly PodCertificateRequestVersion[],
): PodCertificateRequestVersion {
  const found = configured === 'auto' ? served[0] : served.find((v) => v === configured);
  if (found !== undefined) return found;
  const has = served.length === 0 ? 'in neither certificates.k8s.io/v1 nor v1beta1' : `in certificates.k8s.io/${served.join(', ')} only`;
  const detail = configured === 'auto'
    ? `the cluster serves PodCertificateRequests ${has}`
    : `podCertificates.apiVersion is ${configured} and the cluster serves PodCertificateRequests ${has}`;
  throw csrError('PodCertificatesNotServed', signer, detail);
}

const kindOf = (version: PodCertificateRequestVersion): { groupVersionPath: string; plural: string; apiVersion: string; kind: string } => ({
  groupVersionPath: `${GROUP_PATH}/${version}`, plural: PLURAL, apiVersion: `certificates.k8s.io/${version}`, kind: 'PodCertificateRequest',
});

/** Discovery is read again at most this often when a request needs v1beta1 and it was not served. */
export const REDISCOVERY_INTERVAL_MS = 60_000;

const bySigner = (signerName: string): { fieldSelector: string } => ({ fieldSelector: `spec.signerName=${signerName}` });

/**
 * The API through `version`; `served` is what discovery found (v1beta1 among them lets a
 * v1 client read the legacy fields).
 */
export function podCertificateRequestApi(
  kube: KubeHttp, version: PodCertificateRequestVersion, served: readonly PodCertificateRequestVersion[], reportingInstance: string,
  now: () => number = Date.now,
): PodCertificateRequestApi {
  const pcrs: Resource<PodCertificateRequest> = resource<PodCertificateRequest>(kube, kindOf(version));
  const legacy = version === 'v1beta1' ? pcrs : resource<PodCertificateRequest>(kube, kindOf('v1beta1'));
  const apiVersion = `certificates.k8s.io/${version}`;
  let legacyServed = version === 'v1beta1' || served.includes('v1beta1');
  let discoveredAt = now();
  let discovering: Promise<boolean> | undefined;
  return {
    version,
    get legacyServed() {
      return legacyServed;
    },
    rediscoverLegacy() {
      if (version === 'v1beta1' || now() - discoveredAt < REDISCOVERY_INTERVAL_MS) return Promise.resolve(legacyServed);
      discovering ??= podCertificateRequestVersionsServed(kube)
        .then((found) => { legacyServed = found.includes('v1beta1'); return legacyServed; })
        .finally(() => { discoveredAt = now(); discovering = undefined; });
      return discovering;
    },
    list: (signerName, page) => pcrs.list({ ...page, ...bySigner(signerName) }),
    watch: (signerName, resourceVersion, timeoutSeconds, onEvent, signal) => pcrs.watch({ resourceVersion, timeoutSeconds, ...bySigner(signerName) }, onEvent, signal),
    get: (namespace, name) => pcrs.get(name, namespace),
    getLegacy: (namespace, name) => legacy.get(name, namespace),
    updateStatus: (pcr) => pcrs.updateStatus({ ...pcr, apiVersion, kind: 'PodCertificateRequest' }),

    async createEvent({ pcr, type, reason, message, now }) {
      const namespace = pcr.metadata.namespace ?? 'default';
      await kube.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, {
        body: eventBody({
          involvedObject: {
            apiVersion, kind: 'PodCertificateRequest', namespace, name: pcr.metadata.name,
            ...(pcr.metadata.uid ? { uid: pcr.metadata.uid } : {}),
          },
          namespace, type, reason, message, now, reportingInstance,
        }),
      });
    },
  };
}
