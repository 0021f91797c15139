/**
 * The RBAC objects devapi loads when it is given none: the signer's least privilege
 * (from devapi/auth/signer-role.ts, the same rules the Helm chart must match), an
 * approver and a requester. `system:masters` (the admin kubeconfig) is built into
 * the Authorizer, as in a real cluster.
 */
import {
  approverClusterRules, type PolicyRule, requesterClusterRules, signerClusterRules, signerLeaseRules, signerRotationRecordRules,
} from './signer-role.js';
import { approverClusterRules as signerApproverRules, cleanerClusterRules, podCertificateClusterRules } from '../../src/kube/rbac.js';
import { SIGNER_SERVICE_ACCOUNT } from './identity.js';
import { kubeletPolicy } from './kubelet-policy.js';
import { RBAC_V1, type RbacObject, type Subject } from './rbac.js';

/** By default the signer may `sign` (and the approver `approve`) for every signer of these domains. */
export const DEFAULT_SIGNER_NAMES: readonly string[] = ['example.com/*', 'kubernetes.io/*'];

export interface DefaultPolicyOptions {
  readonly signerNames?: readonly string[];
  readonly leaseNamespace?: string;
  readonly leaseName?: string;
  /** The signer's rotation-record ConfigMap, in the lease namespace (default `csr-signer-rotation`). */
  readonly rotationRecordName?: string;
  /**
   * The signer identity also approves (`csr-signer run --approve`): the approver's rules from
   * src/kube/rbac.ts for the same signer names, with reading Nodes unless `nodes: false`
   * (only the kubelet-serving profile reads them), in `mode` (default `enforce`; `audit` writes nothing and
   * gets no write rule). Default off: the signer keeps exactly its signing rules.
   */
  readonly signerApproves?: boolean | { readonly nodes: boolean; readonly mode?: 'enforce' | 'audit' };
  /** The signer identity also cleans up CSRs (the cleaner's rules from src/kube/rbac.ts). Default off. */
  readonly signerCleans?: boolean;
  /**
   * PodCertificateRequests are served: the signer identity also gets the product's PodCertificateRequest
   * rules (src/kube/rbac.ts podCertificateClusterRules) for the same signer names, with reading Pods and
   * Namespaces (the pod check and a namespace selector). Default off.
   */
  readonly podCertificates?: boolean;
}

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const user = (name: string): Subject => ({ kind: 'User', apiGroup: RBAC_GROUP, name });
const group = (name: string): Subject => ({ kind: 'Group', apiGroup: RBAC_GROUP, name });
const signerAccount: Subject = { kind: 'ServiceAccount', ...SIGNER_SERVICE_ACCOUNT };

/** A Role and its RoleBinding of the same name, for the signer, in one namespace. */
function signerRole(name: string, namespace: string, rules: readonly PolicyRule[]): RbacObject[] {
  return [
    { apiVersion: RBAC_V1, kind: 'Role', metadata: { name, namespace }, rules },
    { apiVersion: RBAC_V1, kind: 'RoleBinding', metadata: { name, namespace }, roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name }, subjects: [signerAccount] },
  ];
}

function clusterRole(name: string, rules: readonly PolicyRule[], subjects: readonly Subject[]): RbacObject[] {
  return [
    { apiVersion: RBAC_V1, kind: 'ClusterRole', metadata: { name }, rules },
    { apiVersion: RBAC_V1, kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name }, subjects },
  ];
}

/**
 * Signer (ServiceAccount csr-signer/csr-signer), its leader-election lease and rotation record (both in the
 * lease namespace), approver (User `approver`), requester (User `requester`, Group `system:nodes`), the
 * kubelets' bootstrap and rotation policy of a kubeadm cluster (kubelet-policy.ts), and, when asked, the
 * signer's approver and cleaner rules. Trust publishing (signerTrustRules) is not a default: tests that
 * publish load it with `--policy`.
 */
export function defaultPolicy(options: DefaultPolicyOptions = {}): RbacObject[] {
  const {
    signerNames = DEFAULT_SIGNER_NAMES, leaseNamespace = SIGNER_SERVICE_ACCOUNT.namespace, leaseName = 'csr-signer', rotationRecordName = 'csr-signer-rotation',
    signerApproves = false, signerCleans = false, podCertificates = false,
  } = options;
  const approves = signerApproves === false ? [] : clusterRole('csr-signer-approver', signerApproverRules({
    signerNames, nodes: signerApproves === true || signerApproves.nodes, mode: signerApproves === true ? 'enforce' : signerApproves.mode ?? 'enforce',
  }), [signerAccount]);
  return [
    ...approves,
    ...(signerCleans ? clusterRole('csr-signer-cleaner', cleanerClusterRules(), [signerAccount]) : []),
    ...(podCertificates ? clusterRole('csr-signer-pod-certificates', podCertificateClusterRules({ signerNames, pods: true, namespaces: true }), [signerAccount]) : []),
    ...kubeletPolicy(),
    ...clusterRole('csr-signer', signerClusterRules(signerNames), [signerAccount]),
    ...signerRole('csr-signer-leader-election', leaseNamespace, signerLeaseRules(leaseName)),
    ...signerRole('csr-signer-rotation-record', leaseNamespace, signerRotationRecordRules(rotationRecordName)),
    ...clusterRole('csr-approver', approverClusterRules(signerNames), [user('approver')]),
    ...clusterRole('csr-requester', requesterClusterRules(), [user('requester'), group('system:nodes')]),
  ];
}
