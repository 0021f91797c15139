/**
 * Who may touch PodCertificateRequests as a node: NodeRestriction's admission and the Node authorizer.
 *
 * NodeRestriction (kubernetes plugin/pkg/admission/noderestriction/admission.go
 * `Plugin.admitPodCertificateRequest`, called from `Plugin.Admit` for a node user): a node may only create,
 * never with a subresource, a PodCertificateRequest naming itself, for a Pod that runs on it with the
 * ServiceAccount and UIDs the request names. `admission.NewForbidden` refusals are 403; the checks that
 * informer lag could fail (node, pod or ServiceAccount not found, a UID that differs) return plain errors,
 * which the apiserver answers as 500 (apiserver endpoints/handlers/responsewriters `ErrorToAPIStatus`),
 * so a kubelet retries them. The 1.37 rule that the Pod must mount a podCertificate projection for this
 * signer is not enforced. It is a mutating plugin, so it runs before the registry's validation.
 *
 * Node authorizer (plugin/pkg/auth/authorizer/node): a node may create PodCertificateRequests, get one
 * whose spec.nodeName is itself, and list or watch only with the field selector `spec.nodeName=<itself>`;
 * anything else falls through to RBAC.
 */
import type { UserInfo } from '../auth/rbac.js';
import { ApiError, forbidden, quote } from '../api/errors.js';
import type { KubeObject } from '../storage/kube-object.js';
import type { Store } from '../storage/store.js';
import { nodeIdentity } from './nodes.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (o: unknown, key: string): string => (isObj(o) && typeof o[key] === 'string' ? o[key] : '');
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE';

/** admission.NewForbidden: the object is named by its name, else generateName, else `Unknown`. */
function pcrForbidden(object: Obj | undefined, name: string | undefined, why: string): ApiError {
  const metadata = isObj(object?.metadata) ? object.metadata : {};
  const named = [name, str(metadata, 'name'), str(metadata, 'generateName')].find((v): v is string => typeof v === 'string' && v !== '') ?? 'Unknown';
  return forbidden(`podcertificaterequests.certificates.k8s.io ${quote(named)} is forbidden: ${why}`, { name: named, group: 'certificates.k8s.io', kind: 'podcertificaterequests' });
}

/** A plain error of the plugin: 500, its text as the message. */
const retryable = (message: string): ApiError => new ApiError(500, 'InternalError', message);

/** NodeRestriction for a PodCertificateRequest write; undefined when allowed (or the user is not a node). */
export function admitPodCertificateRequest(
  store: Store, user: UserInfo, operation: AdmissionOperation, subresource: string, namespace: string, name: string | undefined, object: Obj | undefined,
): ApiError | undefined {
  const node = nodeIdentity(user);
  if (node === undefined) return undefined;
  if (node === '') return pcrForbidden(object, name, `could not determine node from user ${quote(user.name)}`);
  if (operation !== 'CREATE') return pcrForbidden(object, name, `unexpected operation ${operation}`);
  if (subresource !== '') return pcrForbidden(object, name, `unexpected subresource ${subresource}`);
  const spec = isObj(object?.spec) ? object.spec : {};
  const nodeName = str(spec, 'nodeName');
  if (nodeName !== node) return pcrForbidden(object, name, `PodCertificateRequest.Spec.NodeName=${quote(nodeName)}, which is not the requesting node ${quote(node)}`);
  const podName = str(spec, 'podName');
  const podRef = quote(`${namespace}/${podName}`);
  const nodeObject = store.get('nodes', undefined, nodeName);
  if (!nodeObject) return retryable(`while retrieving node ${quote(nodeName)} named in the PodCertificateRequest: node ${quote(nodeName)} not found`);
  if (nodeObject.metadata.uid !== str(spec, 'nodeUID')) {
    return retryable(`PodCertificateRequest for pod ${podRef} names node UID ${quote(str(spec, 'nodeUID'))}, inconsistent with the running node (${quote(nodeObject.metadata.uid)})`);
  }
  const pod: KubeObject | undefined = store.get('pods', namespace, podName);
  if (!pod) return retryable(`while retrieving pod ${podRef} named in the PodCertificateRequest: pod ${quote(podName)} not found`);
  if (pod.metadata.uid !== str(spec, 'podUID')) {
    return retryable(`PodCertificateRequest for pod ${podRef} contains pod UID (${quote(str(spec, 'podUID'))}) which differs from running pod ${quote(pod.metadata.uid)}`);
  }
  if (str(pod.spec, 'nodeName') !== nodeName) return pcrForbidden(object, name, `pod ${podRef} is not running on node ${quote(nodeName)} named in the PodCertificateRequest`);
  const annotations = isObj(pod.metadata.annotations) ? pod.metadata.annotations : {};
  if (Object.hasOwn(annotations, MIRROR_POD_ANNOTATION)) return pcrForbidden(object, name, `pod ${podRef} is a mirror pod`);
  const accountName = str(spec, 'serviceAccountName');
  const podAccount = str(pod.spec, 'serviceAccountName');
  if (accountName !== podAccount) {
    return pcrForbidden(object, name, `PodCertificateRequest for pod ${podRef} contains serviceAccountName (${quote(accountName)}) that differs from running pod (${quote(podAccount)})`);
  }
  const account = store.get('serviceaccounts', namespace, accountName);
  if (!account) return retryable(`while retrieving service account ${quote(`${namespace}/${accountName}`)} named in the PodCertificateRequest: serviceaccount ${quote(accountName)} not found`);
  if (account.metadata.uid !== str(spec, 'serviceAccountUID')) {
    return retryable(`PodCertificateRequest for pod ${podRef} names service account UID ${quote(str(spec, 'serviceAccountUID'))}, which differs from the running service account (${quote(account.metadata.uid)})`);
  }
  return undefined;
}

/** Whether a field selector pins spec.nodeName to `node` (`spec.nodeName=n`, `==`, among other terms). */
function selectsNode(fieldSelector: string | null, node: string): boolean {
  return (fieldSelector ?? '').split(',').some((term) => {
    const m = /^\s*spec\.nodeName\s*==?\s*(.*?)\s*$/.exec(term);
    return m !== null && m[1] === node;
  });
}

/** The Node authorizer's decision on a PodCertificateRequest request: true allows, false has no opinion. */
export function nodeAuthorizesPodCertificateRequest(
  store: Store, user: UserInfo, verb: string, subresource: string, namespace: string | undefined, name: string | undefined, fieldSelector: string | null,
): boolean {
  const node = nodeIdentity(user);
  if (node === undefined || node === '' || subresource !== '') return false;
  switch (verb) {
    case 'create': return true;
    case 'get': {
      const found = namespace === undefined || name === undefined ? undefined : store.get('podcertificaterequests', namespace, name);
      return found !== undefined && str(found.spec, 'nodeName') === node;
    }
    case 'list':
    case 'watch':
      return selectsNode(fieldSelector, node);
    default: return false;
  }
}
