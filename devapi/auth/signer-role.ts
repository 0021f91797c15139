/**
 * What the people around the signer may do in devapi's default policy: an approver and
 * a requester. The signer's own rules are the product's (src/kube/rbac.ts, re-exported
 * here): the Helm chart's ClusterRole/Role are tested against them, and devapi loads
 * them by default, so "the signer works with exactly this" is proven end to end.
 *
 * Shapes follow rbac.authorization.k8s.io/v1 PolicyRule; the rules mirror the
 * upstream guidance (certificate-signing-requests.md "Authorization") and the
 * admission plugins that guard `/status` and `/approval` (the `signers` resource: `sign`, `approve`).
 */
import { checkSignerNames, type PolicyRule } from '../../src/kube/rbac.js';

export {
  signerClusterRules, signerLeaseRules, signerRotationRecordRules, signerTrustRules, type PolicyRule, type TrustTargets,
} from '../../src/kube/rbac.js';

const CERTIFICATES = 'certificates.k8s.io';

/** ClusterRole rules for an approver (`kubectl certificate approve|deny`) of `signerNames`. */
export function approverClusterRules(signerNames: readonly string[]): PolicyRule[] {
  const names = checkSignerNames(signerNames);
  return [
    // See the CSRs to decide on.
    { apiGroups: [CERTIFICATES], resources: ['certificatesigningrequests'], verbs: ['get', 'list', 'watch'] },
    // Add the Approved or Denied condition.
    { apiGroups: [CERTIFICATES], resources: ['certificatesigningrequests/approval'], verbs: ['update', 'patch'] },
    // The CertificateApproval admission check on /approval: approve only for these signers.
    { apiGroups: [CERTIFICATES], resources: ['signers'], resourceNames: names, verbs: ['approve'] },
  ];
}

/** ClusterRole rules for a requester: submit CSRs, read them back (and the certificate), clean up. */
export function requesterClusterRules(): PolicyRule[] {
  return [
    // Submit, poll or watch for the issued certificate, and delete when done.
    { apiGroups: [CERTIFICATES], resources: ['certificatesigningrequests'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
  ];
}

