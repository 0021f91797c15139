/**
 * The RBAC objects devapi loads when it is given none: the signer's least privilege
 * (from src/rbac/signer-role.ts, the same rules the Helm chart must match), an
 * approver and a requester. `system:masters` (the admin kubeconfig) is built into
 * the Authorizer, as in a real cluster.
 */
import { approverClusterRules, type PolicyRule, requesterClusterRules, signerClusterRules, signerLeaseRules } from '../rbac/signer-role.js';
import { SIGNER_SERVICE_ACCOUNT } from './identity.js';
import { RBAC_V1, type RbacObject, type Subject } from './rbac.js';

/** By default the signer may `sign` (and the approver `approve`) for every signer of these domains. */
export const DEFAULT_SIGNER_NAMES: readonly string[] = ['example.com/*', 'kubernetes.io/*'];

export interface DefaultPolicyOptions {
  readonly signerNames?: readonly string[];
  readonly leaseNamespace?: string;
  readonly leaseName?: string;
}

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const user = (name: string): Subject => ({ kind: 'User', apiGroup: RBAC_GROUP, name });
const group = (name: string): Subject => ({ kind: 'Group', apiGroup: RBAC_GROUP, name });
const signerAccount: Subject = { kind: 'ServiceAccount', ...SIGNER_SERVICE_ACCOUNT };

function clusterRole(name: string, rules: readonly PolicyRule[], subjects: readonly Subject[]): RbacObject[] {
  return [
    { apiVersion: RBAC_V1, kind: 'ClusterRole', metadata: { name }, rules },
    { apiVersion: RBAC_V1, kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name }, subjects },
  ];
}

/** Signer (ServiceAccount csr-signer/csr-signer), its leader-election lease, approver (User `approver`), requester (User `requester`, Group `system:nodes`). */
export function defaultPolicy(options: DefaultPolicyOptions = {}): RbacObject[] {
  const { signerNames = DEFAULT_SIGNER_NAMES, leaseNamespace = SIGNER_SERVICE_ACCOUNT.namespace, leaseName = 'csr-signer' } = options;
  const leaseRole = 'csr-signer-leader-election';
  return [
    ...clusterRole('csr-signer', signerClusterRules(signerNames), [signerAccount]),
    { apiVersion: RBAC_V1, kind: 'Role', metadata: { name: leaseRole, namespace: leaseNamespace }, rules: signerLeaseRules(leaseName) },
    {
      apiVersion: RBAC_V1, kind: 'RoleBinding', metadata: { name: leaseRole, namespace: leaseNamespace },
      roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: leaseRole }, subjects: [signerAccount],
    },
    ...clusterRole('csr-approver', approverClusterRules(signerNames), [user('approver')]),
    ...clusterRole('csr-requester', requesterClusterRules(), [user('requester'), group('system:nodes')]),
  ];
}
