/**
 * The RBAC that lets devapi's signer identity publish a signer's trust bundle, as a file
 * `csr-signer devapi --policy` loads. devapi/auth/trust-publishing.yaml is that file for
 * the demo's signer (`csr-signer dev` loads it); its rules are `signerTrustRules`, the
 * rules the chart's ClusterRole is tested against, and a test keeps the file equal to
 * `trustPolicyYaml()` so the two cannot drift. To regenerate it after the rules change:
 * npm run build && node -e "import('./dist-dev/devapi/auth/trust-policy.js').then((m) => process.stdout.write(m.trustPolicyYaml()))" > devapi/auth/trust-publishing.yaml
 */
import { stringify } from 'yaml';
import { SIGNER_SERVICE_ACCOUNT } from './identity.js';
import { RBAC_V1, type RbacObject } from './rbac-objects.js';
import { signerTrustRules, type TrustTargets } from './signer-role.js';

/** Where the demo's signer publishes: the trust: of the configuration `csr-signer dev` writes. */
export const DEMO_TRUST = {
  signerName: 'example.com/serving',
  /** A ConfigMap of this name in every namespace, the bundle under `ca.crt`. */
  configMapName: 'example-serving-ca',
  /** The signer-linked ClusterTrustBundle's default name for example.com/serving. */
  clusterTrustBundleName: 'example.com:serving:csr-signer',
} as const;

/** The file, relative to the repository's root. */
export const TRUST_POLICY_FILE = 'devapi/auth/trust-publishing.yaml';

const demoTargets: TrustTargets = {
  configMapNames: [DEMO_TRUST.configMapName],
  clusterTrustBundleNames: [DEMO_TRUST.clusterTrustBundleName],
  attestSignerNames: [DEMO_TRUST.signerName],
};

/** A ClusterRole with `signerTrustRules(targets)` and its binding to devapi's signer service account. */
export function trustPolicyObjects(targets: TrustTargets = demoTargets): RbacObject[] {
  const name = 'csr-signer-trust-publishing';
  return [
    { apiVersion: RBAC_V1, kind: 'ClusterRole', metadata: { name }, rules: signerTrustRules(targets) },
    {
      apiVersion: RBAC_V1, kind: 'ClusterRoleBinding', metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', ...SIGNER_SERVICE_ACCOUNT }],
    },
  ];
}

/** The text of devapi/auth/trust-publishing.yaml. */
export function trustPolicyYaml(targets: TrustTargets = demoTargets): string {
  const header = [
    '# Generated from signerTrustRules (devapi/auth/signer-role.ts) by devapi/auth/trust-policy.ts;',
    '# a test keeps the two equal. Do not edit: regenerate (see trust-policy.ts).',
    `# The RBAC devapi's signer identity needs to publish the trust bundle of ${DEMO_TRUST.signerName}`,
    `# to ConfigMap ${DEMO_TRUST.configMapName} and ClusterTrustBundle ${DEMO_TRUST.clusterTrustBundleName}:`,
    '# ./csr-signer devapi --policy devapi/auth/trust-publishing.yaml (the demo, ./csr-signer dev, loads it).',
  ];
  return `${header.join('\n')}\n${trustPolicyObjects(targets).map((o) => stringify(o)).join('---\n')}`;
}
