/**
 * The RBAC objects devapi loads when it is given none: the signer's least privilege
 * (from devapi/auth/signer-role.ts, the same rules the Helm chart must match), an
 * approver and a requester. `system:masters` (the admin kubeconfig) is built into
 * the Authorizer, as in a real cluster.
 */
import {
  approverClusterRules, type PolicyRule, requesterClusterRules, signerClusterRules, signerLeaseRules, signerRotationRecordRules,
} from './signer-role.js';
import { SIGNER_SERVICE_ACCOUNT } from './identity.js';
import { RBAC_V1, type RbacObject, type Subject } from './rbac.js';

/** By default the signer may `sign` (and the approver `approve`) for every signer of these domains. */
export const DEFAULT_SIGNER_NAMES: readonly string[] = ['example.com/*', 'kubernetes.io/*'];

export interface DefaultPolicyOptions {
  readonly signerNames?: readonly string[];
  readonly leaseNamespace?: string;
  readonly leaseName?: string;
  /** The signer's rotation-record ConfigMap, in the lease namespace (default `csr-signer-rotation`). */
  readonly rotationRecordName?: string;
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
 * lease namespace), approver (User `approver`), requester (User `requester`, Group `system:nodes`). Trust
 * publishing (signerTrustRules) is not a default: tests that publish load it with `--policy`.
 */
export function defaultPolicy(options: DefaultPolicyOptions = {}): RbacObject[] {
  const {
    signerNames = DEFAULT_SIGNER_NAMES, leaseNamespace = SIGNER_SERVICE_ACCOUNT.namespace, leaseName = 'csr-signer', rotationRecordName = 'csr-signer-rotation',
  } = options;
  return [
    ...clusterRole('csr-signer', signerClusterRules(signerNames), [signerAccount]),
    ...signerRole('csr-signer-leader-election', leaseNamespace, signerLeaseRules(leaseName)),
    ...signerRole('csr-signer-rotation-record', leaseNamespace, signerRotationRecordRules(rotationRecordName)),
    ...clusterRole('csr-approver', approverClusterRules(signerNames), [user('approver')]),
    ...clusterRole('csr-requester', requesterClusterRules(), [user('requester'), group('system:nodes')]),
  ];
}
