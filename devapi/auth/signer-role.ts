/**
 * The single source of truth for what the signer (and the people around it) may do.
 * The Helm chart's ClusterRole/Role are tested against these rules, and devapi loads
 * them by default, so "the signer works with exactly this" is proven end to end.
 *
 * Shapes follow rbac.authorization.k8s.io/v1 PolicyRule; the rules mirror the
 * upstream guidance (certificate-signing-requests.md "Authorization") and the
 * admission plugins that guard `/status` and `/approval` (the `signers` resource: `sign`, `approve`).
 */

/** rbac.authorization.k8s.io/v1 PolicyRule. An absent or empty `resourceNames` means "any name". */
export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly nonResourceURLs?: readonly string[];
}

const CERTIFICATES = 'certificates.k8s.io';

/**
 * An empty `resourceNames` would grant the verb on *every* signer, so refuse it,
 * and refuse names that cannot be signer names (`<domain>/<path>` or `<domain>/*`).
 */
function checkSignerNames(signerNames: readonly string[]): string[] {
  if (signerNames.length === 0) throw new Error('at least one signerName is required: an empty resourceNames list would match every signer');
  for (const name of signerNames) {
    const slash = name.indexOf('/');
    if (slash <= 0 || slash === name.length - 1) throw new Error(`"${name}" is not a signerName: expected <domain>/<path> or <domain>/*`);
  }
  return [...signerNames];
}

/** ClusterRole rules for the signer: watch CSRs, write their status, sign for `signerNames`, record events. */
export function signerClusterRules(signerNames: readonly string[]): PolicyRule[] {
  const names = checkSignerNames(signerNames);
  return [
    // Read and watch CSRs (the informer's list+watch, and a fresh get before writing).
    { apiGroups: [CERTIFICATES], resources: ['certificatesigningrequests'], verbs: ['get', 'list', 'watch'] },
    // Write status.certificate and the Failed condition. Not the main resource, not /approval.
    { apiGroups: [CERTIFICATES], resources: ['certificatesigningrequests/status'], verbs: ['update', 'patch'] },
    // The CertificateSigning admission check on /status: sign only for these signers
    // (an exact name, or `<domain>/*` for every signer of that domain).
    { apiGroups: [CERTIFICATES], resources: ['signers'], resourceNames: names, verbs: ['sign'] },
    // Record events about CSRs through the core API (client-go style recorders)...
    { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
    // ...and through events.k8s.io/v1 (the newer events API).
    { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
  ];
}

/** Namespaced Role rules for leader election on one Lease. */
export function signerLeaseRules(leaseName: string): PolicyRule[] {
  if (leaseName === '') throw new Error('leaseName is required');
  return [
    // Read, renew and take over the one election lease, and no other lease.
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [leaseName], verbs: ['get', 'update', 'patch'] },
    // Create the lease the first time. RBAC cannot limit create by name (the name is in the body).
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  ];
}

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

/** What a signer publishes its trust bundle to (the `trust:` of its configuration), as names RBAC can pin. */
export interface TrustTargets {
  /** ConfigMap names the bundles go to, in whichever namespaces match. */
  readonly configMapNames: readonly string[];
  /** ClusterTrustBundle object names (`<signerName with / as :>:<suffix>`). */
  readonly clusterTrustBundleNames: readonly string[];
  /** The signerNames of those ClusterTrustBundles (`attest`). */
  readonly attestSignerNames: readonly string[];
}

/**
 * ClusterRole rules for publishing trust bundles; only the kinds of target that are
 * configured get a rule. No list or watch of ConfigMaps (that would expose every
 * ConfigMap in the cluster): the publisher reads back only its own ones, by name.
 */
export function signerTrustRules(targets: TrustTargets): PolicyRule[] {
  const rules: PolicyRule[] = [];
  if (targets.configMapNames.length > 0) {
    rules.push(
      // Find the namespaces a bundle goes to, including ones created later.
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] },
      // Read back and keep in step only the bundle ConfigMaps, by name.
      { apiGroups: [''], resources: ['configmaps'], resourceNames: [...targets.configMapNames], verbs: ['get', 'update', 'patch'] },
      // Create a bundle ConfigMap in a namespace that has none. RBAC cannot limit create by name.
      { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
    );
  }
  if (targets.clusterTrustBundleNames.length > 0) {
    rules.push(
      // Read back and keep in step only the signer's own ClusterTrustBundles, by name.
      { apiGroups: [CERTIFICATES], resources: ['clustertrustbundles'], resourceNames: [...targets.clusterTrustBundleNames], verbs: ['get', 'update', 'patch'] },
      // Create them the first time.
      { apiGroups: [CERTIFICATES], resources: ['clustertrustbundles'], verbs: ['create'] },
      // The ClusterTrustBundleAttest admission check: a signer-linked bundle may be written
      // only by who may `attest` for its signerName.
      { apiGroups: [CERTIFICATES], resources: ['signers'], resourceNames: checkSignerNames(targets.attestSignerNames), verbs: ['attest'] },
    );
  }
  return rules;
}

/**
 * Namespaced Role rules for the rotation record: one ConfigMap in the signer's own
 * namespace holding, per CA, a bound on the latest NotAfter it has issued.
 */
export function signerRotationRecordRules(configMapName: string): PolicyRule[] {
  if (configMapName === '') throw new Error('configMapName is required');
  return [
    // Read and advance the one record, and no other ConfigMap of the namespace.
    { apiGroups: [''], resources: ['configmaps'], resourceNames: [configMapName], verbs: ['get', 'update', 'patch'] },
    // Create it the first time. RBAC cannot limit create by name.
    { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
  ];
}
