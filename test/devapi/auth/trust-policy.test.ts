/**
 * devapi/auth/trust-publishing.yaml, the RBAC file `devapi --policy` loads for trust
 * publishing (and `dev` loads for its signer), is generated from signerTrustRules: it
 * cannot drift from the rules the chart is tested against, and it grants the signer
 * identity publishing for the demo's names and nothing the defaults do not already give.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { defaultPolicy } from '../../../devapi/auth/default-policy.js';
import { identityUsers } from '../../../devapi/auth/identity.js';
import { Authorizer, type RequestAttributes, type UserInfo } from '../../../devapi/auth/rbac.js';
import { signerTrustRules } from '../../../devapi/auth/signer-role.js';
import { DEMO_TRUST, TRUST_POLICY_FILE, trustPolicyObjects, trustPolicyYaml } from '../../../devapi/auth/trust-policy.js';

const root = join(import.meta.dirname, '..', '..', '..');
const file = readFileSync(join(root, TRUST_POLICY_FILE), 'utf8');
const signerUser = identityUsers.signer;
if (!signerUser) throw new Error('devapi has no signer identity');
const signer: UserInfo = { ...signerUser, groups: [...signerUser.groups, 'system:authenticated'] };

void t.test('the file is what trustPolicyYaml() makes from signerTrustRules, byte for byte', (t) => {
  t.equal(file, trustPolicyYaml(), `${TRUST_POLICY_FILE} is stale: regenerate it as devapi/auth/trust-policy.ts says`);
  const loaded = Authorizer.fromYaml(file, { bootstrap: false }).objects;
  t.same(JSON.parse(JSON.stringify(loaded)), JSON.parse(JSON.stringify(trustPolicyObjects())), 'devapi reads back the same objects');
  const role = trustPolicyObjects()[0];
  t.same(role && 'rules' in role ? role.rules : undefined, signerTrustRules({
    configMapNames: [DEMO_TRUST.configMapName], clusterTrustBundleNames: [DEMO_TRUST.clusterTrustBundleName], attestSignerNames: [DEMO_TRUST.signerName],
  }), 'the ClusterRole holds exactly signerTrustRules for the demo\'s names');
  t.end();
});

void t.test('with the file, devapi\'s signer identity may publish the demo\'s bundles, and only those', (t) => {
  const without = new Authorizer(defaultPolicy());
  const withFile = new Authorizer([...defaultPolicy(), ...Authorizer.fromYaml(file, { bootstrap: false }).objects]);
  const core = (verb: string, resource: string, extra: Partial<{ name: string; namespace: string }> = {}): RequestAttributes => ({ verb, apiGroup: '', resource, ...extra });
  const ctb = (verb: string, name?: string): RequestAttributes => ({ verb, apiGroup: 'certificates.k8s.io', resource: 'clustertrustbundles', ...(name ? { name } : {}) });
  const cases: [string, RequestAttributes, boolean][] = [
    ['watch namespaces', core('watch', 'namespaces'), true],
    ['update the bundle ConfigMap', core('update', 'configmaps', { name: DEMO_TRUST.configMapName, namespace: 'default' }), true],
    ['create a ConfigMap', core('create', 'configmaps', { namespace: 'default' }), true],
    ['update another ConfigMap', core('update', 'configmaps', { name: 'kube-root-ca.crt', namespace: 'default' }), false],
    ['list ConfigMaps', core('list', 'configmaps', { namespace: 'default' }), false],
    ['create a ClusterTrustBundle', ctb('create'), true],
    ['update the signer\'s ClusterTrustBundle', ctb('update', DEMO_TRUST.clusterTrustBundleName), true],
    ['update another ClusterTrustBundle', ctb('update', 'example.com:other:csr-signer'), false],
    ['attest for the demo signer', { verb: 'attest', apiGroup: 'certificates.k8s.io', resource: 'signers', name: DEMO_TRUST.signerName }, true],
    ['attest for another signer', { verb: 'attest', apiGroup: 'certificates.k8s.io', resource: 'signers', name: 'example.com/other' }, false],
  ];
  for (const [what, attrs, allowed] of cases) {
    t.equal(withFile.authorize(signer, attrs).allowed, allowed, `with the file: ${what}: ${allowed ? 'allowed' : 'refused'}`);
    if (allowed && !(attrs.verb === 'create' && 'resource' in attrs && attrs.resource === 'configmaps')) {
      t.equal(without.authorize(signer, attrs).allowed, false, `without it: ${what}: refused (the defaults do not publish)`);
    }
  }
  t.end();
});
