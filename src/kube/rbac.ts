/**
 * The RBAC rules the signer's Kubernetes calls need, per feature, and nothing more: one
 * list per feature, next to the clients that make the calls (csr-api.ts, lease-lock in
 * leader/, trust-api.ts). The Helm chart's ClusterRole and Roles are tested equal to
 * these for each combination of its values (test/chart/rbac.test.ts), devapi gives the
 * signer exactly these in the end-to-end tests (devapi/auth/default-policy.ts), so a
 * call that needs more fails there. Pure data: this module imports nothing (types at
 * most; a lint rule in eslint.config.js refuses the rest, since devapi imports it past its fence).
 *
 * Each verb is the one kube-apiserver's authorizer checks for the request the client
 * sends (k8s.io/apiserver pkg/endpoints/request/requestinfo.go): GET of an object `get`,
 * GET of a collection `list`, `?watch` `watch`, POST `create`, PUT `update`, DELETE
 * `delete` (the cleaner only). The client never PATCHes, and records Events through the core API only. Discovery
 * (GET /apis/certificates.k8s.io/v1, to see which ClusterTrustBundle version is served)
 * is granted to every authenticated user by the built-in system:discovery role.
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
export function checkSignerNames(signerNames: readonly string[]): string[] {
  if (signerNames.length === 0) throw new Error('at least one signerName is required: an empty resourceNames list would match every signer');
  for (const name of signerNames) {
    const slash = name.indexOf('/');
    if (slash <= 0 || slash === name.length - 1) throw new Error(`"${name}" is not a signerName: expected <domain>/<path> or <domain>/*`);
  }
  return [...signerNames];
}

/** Signing (always on), cluster-wide: watch CSRs, write their status, sign for `signerNames`, record Events. */
export function signerClusterRules(signerNames: readonly string[]): PolicyRule[] {
  const names = checkSignerNames(signerNames);
  return [
    // The informer's list+watch (by spec.signerName), and a fresh get after a conflict.
    { apiGroups: [CERTIFICATES], resources: ['certificatesigningrequests'], verbs: ['get', 'list', 'watch'] },
    // PUT /status: the certificate or the Failed condition. Not the main resource, not /approval.
    { apiGroups: [CERTIFICATES], resources: ['certificatesigningrequests/status'], verbs: ['update'] },
    // The CertificateSigning admission check on /status: sign only for these signers
    // (an exact name, or `<domain>/*` for every signer of that domain).
    { apiGroups: [CERTIFICATES], resources: ['signers'], resourceNames: names, verbs: ['sign'] },
    // One core v1 Event per issued or failed CSR, POSTed (never updated, never patched).
    { apiGroups: [''], resources: ['events'], verbs: ['create'] },
  ];
}

/**
 * Pod certificates (a signer's `podCertificates:`), cluster-wide: watch the
 * PodCertificateRequests of every namespace, write their /status once, sign for
 * `signerNames`, record Events; read one Pod by name when `pods` (the optional Pod
 * check); read one Namespace by name when `namespaces` (a namespace selector).
 */
export function podCertificateClusterRules(options: { readonly signerNames: readonly string[]; readonly pods: boolean; readonly namespaces: boolean }): PolicyRule[] {
  const names = checkSignerNames(options.signerNames);
  return [
    // The informer's list+watch in all namespaces (by spec.signerName), and a fresh get after a conflict.
    { apiGroups: [CERTIFICATES], resources: ['podcertificaterequests'], verbs: ['get', 'list', 'watch'] },
    // PUT /status: the one Issued, Denied or Failed condition. Not the main resource.
    { apiGroups: [CERTIFICATES], resources: ['podcertificaterequests/status'], verbs: ['update'] },
    // The apiserver's status strategy asks `sign` on the signer (a 422 field error without it).
    { apiGroups: [CERTIFICATES], resources: ['signers'], resourceNames: names, verbs: ['sign'] },
    { apiGroups: [''], resources: ['events'], verbs: ['create'] },
    ...(options.pods ? [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] : []),
    ...(options.namespaces ? [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get'] }] : []),
  ];
}

/** The approver's mode (config/ ApproverMode): `audit` decides, logs and counts, and writes nothing. */
export type ApproverRbacMode = 'enforce' | 'audit';

/**
 * The approver (--approve), cluster-wide: read CSRs, ask SubjectAccessReviews, and read
 * Nodes when `nodes` (the kubelet-serving profile); in `enforce` mode (the default) also
 * write /approval for `signerNames` only and record Events. `audit` writes nothing, so it
 * is granted no write: no `approve`, no /approval, no Events.
 */
export function approverClusterRules(options: { readonly signerNames: readonly string[]; readonly nodes: boolean; readonly mode?: ApproverRbacMode }): PolicyRule[] {
  const names = checkSignerNames(options.signerNames);
  const enforce = (options.mode ?? 'enforce') === 'enforce';
  return [
    // The informer's list+watch of every CSR, and a fresh get after a conflict.
    { apiGroups: [CERTIFICATES], resources: ['certificatesigningrequests'], verbs: ['get', 'list', 'watch'] },
    ...(enforce ? [
      // PUT /approval: the Approved or Denied condition. Not the main resource, not /status.
      { apiGroups: [CERTIFICATES], resources: ['certificatesigningrequests/approval'], verbs: ['update'] },
      // The CertificateApproval admission check on /approval: approve only for these signers.
      { apiGroups: [CERTIFICATES], resources: ['signers'], resourceNames: names, verbs: ['approve'] },
    ] : []),
    // Ask whether the requester may (selfnodeclient, nodeclient, or a policy's own check).
    { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    // One core v1 Event per approval and denial.
    ...(enforce ? [{ apiGroups: [''], resources: ['events'], verbs: ['create'] }] : []),
    // kubelet-serving: the Node's status.addresses, one Node read by name (node-api.ts): get only.
    ...(options.nodes ? [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }] : []),
  ];
}

/** The CSR cleaner (on with the approver unless turned off), cluster-wide: read every CSR, delete old ones. */
export function cleanerClusterRules(): PolicyRule[] {
  return [
    { apiGroups: [CERTIFICATES], resources: ['certificatesigningrequests'], verbs: ['list', 'watch'] },
    // DELETE with a uid precondition, so a new CSR of the same name is never deleted in its place.
    { apiGroups: [CERTIFICATES], resources: ['certificatesigningrequests'], verbs: ['delete'] },
  ];
}

/** Leader election (--leader-elect), in the Lease's namespace: the one Lease. */
export function signerLeaseRules(leaseName: string): PolicyRule[] {
  if (leaseName === '') throw new Error('leaseName is required');
  return [
    // Read, renew (PUT) and take over the one election Lease, and no other.
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [leaseName], verbs: ['get', 'update'] },
    // Create the Lease the first time. RBAC cannot limit create by name (the name is in the body).
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  ];
}

/** The rotation record (--rotation-record), in its namespace: one ConfigMap, read and advanced with PUT. */
export function signerRotationRecordRules(configMapName: string): PolicyRule[] {
  if (configMapName === '') throw new Error('configMapName is required');
  return [
    // Read and advance the one record, and no other ConfigMap of the namespace.
    { apiGroups: [''], resources: ['configmaps'], resourceNames: [configMapName], verbs: ['get', 'update'] },
    // Create it the first time. RBAC cannot limit create by name.
    { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
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
 * Trust publishing (a signer's `trust:`), cluster-wide; only the kinds of target that are
 * configured get a rule. No list or watch of ConfigMaps (that would expose every
 * ConfigMap in the cluster): the publisher reads back only its own ones, by name.
 */
export function signerTrustRules(targets: TrustTargets): PolicyRule[] {
  const rules: PolicyRule[] = [];
  if (targets.configMapNames.length > 0) {
    rules.push(
      // Find the namespaces a bundle goes to, including ones created later (list+watch only).
      { apiGroups: [''], resources: ['namespaces'], verbs: ['list', 'watch'] },
      // Read back and keep in step (PUT) only the bundle ConfigMaps, by name.
      { apiGroups: [''], resources: ['configmaps'], resourceNames: [...targets.configMapNames], verbs: ['get', 'update'] },
      // Create a bundle ConfigMap in a namespace that has none. RBAC cannot limit create by name.
      { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
    );
  }
  if (targets.clusterTrustBundleNames.length > 0) {
    rules.push(
      // Read back and keep in step (PUT) only the signer's own ClusterTrustBundles, by name.
      { apiGroups: [CERTIFICATES], resources: ['clustertrustbundles'], resourceNames: [...targets.clusterTrustBundleNames], verbs: ['get', 'update'] },
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
 * The parts of a loaded configuration (config/ RunConfig) that decide which features
 * run, declared here by shape so that this module imports nothing.
 */
export interface RbacConfig {
  readonly signers: readonly {
    readonly name: string;
    readonly trust?: { readonly configMap?: { readonly name: string }; readonly clusterTrustBundle?: { readonly name: string } } | undefined;
    /** Absent: true (the signer serves CertificateSigningRequests). */
    readonly certificateSigningRequests?: boolean | undefined;
    /** Present: the signer signs PodCertificateRequests; `podCheck` reads Pods, `namespaces.selector` reads Namespaces. */
    readonly podCertificates?: { readonly podCheck: boolean; readonly namespaces: { readonly selector?: unknown } } | undefined;
  }[];
  readonly leaderElection: { readonly enabled: boolean; readonly resourceName: string; readonly resourceNamespace: string };
  /** Undefined: memory only. */
  readonly rotationRecord?: { readonly namespace: string; readonly name: string } | undefined;
}

/** Every rule a signer needs: cluster-wide, and per namespace (a Role each). */
export interface SignerRules {
  readonly cluster: PolicyRule[];
  readonly leaderElection?: { readonly namespace: string; readonly rules: PolicyRule[] };
  readonly rotationRecord?: { readonly namespace: string; readonly rules: PolicyRule[] };
}

/** The trust targets of a configuration's signers, in signer order. */
export function trustTargetsOf(config: Pick<RbacConfig, 'signers'>): TrustTargets {
  return {
    configMapNames: config.signers.flatMap((s) => s.trust?.configMap?.name ?? []),
    clusterTrustBundleNames: config.signers.flatMap((s) => s.trust?.clusterTrustBundle?.name ?? []),
    attestSignerNames: config.signers.flatMap((s) => (s.trust?.clusterTrustBundle ? [s.name] : [])),
  };
}

/**
 * The CertificateSigningRequest and PodCertificateRequest rules of a configuration's
 * signers: `signerClusterRules` for every signer (without its certificatesigningrequests
 * entries when no signer serves CSRs: `sign` and Events stay), then, when some signer
 * has podCertificates, `podCertificateClusterRules` for those signers, with Pods when
 * one checks the Pod and Namespaces when one selects namespaces by label.
 */
export function signingClusterRules(signers: RbacConfig['signers']): PolicyRule[] {
  const servesCsrs = signers.some((s) => s.certificateSigningRequests !== false);
  const csr = signerClusterRules(signers.map((s) => s.name))
    .filter((rule) => servesCsrs || !rule.resources.some((r) => r.startsWith('certificatesigningrequests')));
  const pods = signers.filter((s) => s.podCertificates !== undefined);
  if (pods.length === 0) return csr;
  return [...csr, ...podCertificateClusterRules({
    signerNames: pods.map((s) => s.name),
    pods: pods.some((s) => s.podCertificates?.podCheck === true),
    namespaces: pods.some((s) => s.podCertificates?.namespaces.selector !== undefined),
  })];
}

/** The rules of each feature a configuration turns on, and of no other. */
export function signerRules(config: RbacConfig): SignerRules {
  const { leaderElection: lease, rotationRecord: record } = config;
  return {
    cluster: [...signingClusterRules(config.signers), ...signerTrustRules(trustTargetsOf(config))],
    ...(lease.enabled ? { leaderElection: { namespace: lease.resourceNamespace, rules: signerLeaseRules(lease.resourceName) } } : {}),
    ...(record ? { rotationRecord: { namespace: record.namespace, rules: signerRotationRecordRules(record.name) } } : {}),
  };
}
