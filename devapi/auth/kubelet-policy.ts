/**
 * What a kubeadm cluster grants kubelets, as RBAC objects devapi loads by default:
 * the bootstrap policy's ClusterRoles (kubernetes plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go
 * `ClusterRoles`: system:node-bootstrapper, the nodeclient and selfnodeclient roles, and `NodeRules`) bound
 * as kubeadm binds them (cmd/kubeadm/app/phases/bootstraptoken/node/tlsbootstrap.go
 * `AllowBootstrapTokensToPostCSRs`, `AutoApproveNodeBootstrapTokens`, `AutoApproveNodeCertificateRotation`).
 *
 * Two differences, both kept small:
 * - kubeadm binds the bootstrap roles to the token's extra group `system:bootstrappers:kubeadm:default-node-token`;
 *   devapi's bootstrap tokens have no extra groups, so the bindings name `system:bootstrappers`.
 * - kube-apiserver gives a node `NodeRules` through the Node authorizer (plugin/pkg/auth/authorizer/node,
 *   `NodeAuthorizer.Authorize`: rules for every member of system:nodes named system:node:<name>, with an empty
 *   reason); devapi binds a ClusterRole system:node to group system:nodes, so an allowed review's reason
 *   names that binding. The NodeRestriction admission (a node writes only its own Node) is in resources/nodes.ts.
 */
import type { PolicyRule } from './signer-role.js';
import { RBAC_V1, type RbacObject } from './rbac-objects.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const CERTIFICATES = 'certificates.k8s.io';

export const NODES_GROUP = 'system:nodes';
export const BOOTSTRAPPERS = 'system:bootstrappers';
export const NODE_BOOTSTRAPPER_ROLE = 'system:node-bootstrapper';
export const NODE_CLIENT_ROLE = 'system:certificates.k8s.io:certificatesigningrequests:nodeclient';
export const SELF_NODE_CLIENT_ROLE = 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient';

/** The part of bootstrappolicy `NodeRules` a kubelet's certificates and Node registration need. */
export function nodeRules(): PolicyRule[] {
  return [
    // Register its Node and report its status (NodeRestriction narrows these to the node's own).
    { apiGroups: [''], resources: ['nodes'], verbs: ['create', 'get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['nodes/status'], verbs: ['update', 'patch'] },
    { apiGroups: [''], resources: ['nodes'], verbs: ['update', 'patch'] },
    { apiGroups: [''], resources: ['events'], verbs: ['create', 'update', 'patch'] },
    // Check API access (non-mutating creates).
    { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    // Create and read back its CSRs (client certificate rotation, serving certificates).
    { apiGroups: [CERTIFICATES], resources: ['certificatesigningrequests'], verbs: ['create', 'get', 'list', 'watch'] },
  ];
}

function bound(role: string, rules: PolicyRule[], binding: string, group: string): RbacObject[] {
  return [
    { apiVersion: RBAC_V1, kind: 'ClusterRole', metadata: { name: role }, rules },
    {
      apiVersion: RBAC_V1, kind: 'ClusterRoleBinding', metadata: { name: binding }, roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: role },
      subjects: [{ kind: 'Group', apiGroup: RBAC_GROUP, name: group }],
    },
  ];
}

/** The kubelet TLS bootstrap and rotation policy of a kubeadm cluster (see the file comment). */
export function kubeletPolicy(): RbacObject[] {
  return [
    // A bootstrap token may post CSRs and read them back (system:node-bootstrapper).
    ...bound(NODE_BOOTSTRAPPER_ROLE, [{ apiGroups: [CERTIFICATES], resources: ['certificatesigningrequests'], verbs: ['create', 'get', 'list', 'watch'] }],
      'kubeadm:kubelet-bootstrap', BOOTSTRAPPERS),
    // The approver's `nodeclient` SubjectAccessReview: a bootstrap token's first client certificate.
    ...bound(NODE_CLIENT_ROLE, [{ apiGroups: [CERTIFICATES], resources: ['certificatesigningrequests/nodeclient'], verbs: ['create'] }],
      'kubeadm:node-autoapprove-bootstrap', BOOTSTRAPPERS),
    // The approver's `selfnodeclient` SubjectAccessReview: a node renewing its own client certificate.
    ...bound(SELF_NODE_CLIENT_ROLE, [{ apiGroups: [CERTIFICATES], resources: ['certificatesigningrequests/selfnodeclient'], verbs: ['create'] }],
      'kubeadm:node-autoapprove-certificate-rotation', NODES_GROUP),
    // What the Node authorizer grants every node (see above).
    ...bound('system:node', nodeRules(), 'system:node', NODES_GROUP),
  ];
}
