/**
 * The real kubectl against `csr-signer devapi` for what a trust-bundle publisher touches:
 * namespaces (create, get, label, delete), ConfigMaps (apply, get, -o yaml) and
 * ClusterTrustBundles (apply, get, the attest refusal) in v1 and v1beta1, and the flags that
 * choose the versions served (`--cluster-trust-bundle-versions`, `--no-cluster-trust-bundles`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { clusterTrustBundleVersionsFlag } from '../../devapi/commands/devapi.js';
import { kubectl, startDevapi, type DevapiProcess } from '../helpers/devapi.js';
import { needTool } from '../helpers/tools.js';

if (!needTool(t, 'kubectl')) process.exit(0);

const caPem = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'ca', 'ca-ec.pem'), 'utf8');
const indented = (text: string): string => text.trim().split('\n').map((l) => `    ${l}`).join('\n');

let api: DevapiProcess;
t.before(async () => {
  api = await startDevapi();
});
t.teardown(() => api.stop());

void t.test('kubectl creates, lists, labels and deletes a namespace', (t) => {
  const created = kubectl(api, 'admin', ['create', 'namespace', 'team-a']);
  t.equal(created.code, 0, created.stderr);
  t.match(created.stdout, 'namespace/team-a created');
  const table = kubectl(api, 'admin', ['get', 'ns']);
  t.equal(table.code, 0, table.stderr);
  t.match(table.stdout, /NAME\s+STATUS\s+AGE/);
  t.match(table.stdout, /team-a\s+Active\s+\S+/);
  const labelled = kubectl(api, 'admin', ['label', 'ns', 'team-a', 'trust=yes']);
  t.equal(labelled.code, 0, labelled.stderr);
  t.match(labelled.stdout, 'namespace/team-a labeled');
  const selected = kubectl(api, 'admin', ['get', 'ns', '-l', 'trust=yes', '-o', 'name']);
  t.equal(selected.stdout.trim(), 'namespace/team-a', 'a label selector finds it');
  const bad = kubectl(api, 'admin', ['create', 'namespace', 'Team_B']);
  t.not(bad.code, 0);
  t.match(bad.stderr, 'The Namespace "Team_B" is invalid: metadata.name: Invalid value: "Team_B": a lowercase RFC 1123 label');
  const deleted = kubectl(api, 'admin', ['delete', 'ns', 'team-a']);
  t.equal(deleted.code, 0, deleted.stderr);
  t.match(deleted.stdout, 'namespace "team-a" deleted');
  t.match(kubectl(api, 'admin', ['get', 'ns', 'team-a']).stderr, 'namespaces "team-a" not found');
  t.end();
});

void t.test('kubectl sees a deleted namespace Terminating (--namespace-termination-seconds) and gets the API server\'s refusal to create in it', async (t) => {
  const slow = await startDevapi({ args: ['--namespace-termination-seconds', '3600'] });
  t.teardown(() => slow.stop());
  t.equal(kubectl(slow, 'admin', ['create', 'namespace', 'leaving']).code, 0);
  const deleted = kubectl(slow, 'admin', ['delete', 'ns', 'leaving', '--wait=false']);
  t.equal(deleted.code, 0, deleted.stderr);
  t.match(deleted.stdout, 'namespace "leaving" deleted');
  t.match(kubectl(slow, 'admin', ['get', 'ns', 'leaving']).stdout, /leaving\s+Terminating\s+\S+/, 'kubectl get ns shows it Terminating');
  const refused = kubectl(slow, 'admin', ['create', 'configmap', 'late', '-n', 'leaving', '--from-literal=a=b']);
  t.not(refused.code, 0);
  t.match(refused.stderr, 'configmaps "late" is forbidden: unable to create new content in namespace leaving because it is being terminated');
  const again = kubectl(slow, 'admin', ['delete', 'ns', 'leaving', '--wait=false']);
  t.match(again.stderr, 'Error from server (Conflict): Operation cannot be fulfilled on namespaces "leaving": The system is ensuring all content is removed from this namespace.');
  const bad = await startDevapi({ args: ['--namespace-termination-seconds', '3601'] }).then(() => undefined, (e: unknown) => String(e));
  t.match(bad, '--namespace-termination-seconds must be a whole number from 0 to 3600, not "3601"', 'more than an hour is refused');
});

void t.test('kubectl applies and reads back a ConfigMap; a missing namespace is refused', (t) => {
  const manifest = `apiVersion: v1
kind: ConfigMap
metadata:
  name: ca-bundle
  namespace: default
data:
  ca.crt: |
${indented(caPem)}
`;
  const applied = kubectl(api, 'admin', ['apply', '-f', '-'], manifest);
  t.equal(applied.code, 0, applied.stderr);
  t.match(applied.stdout, 'configmap/ca-bundle created');
  const table = kubectl(api, 'admin', ['get', 'cm', '-n', 'default']);
  t.match(table.stdout, /NAME\s+DATA\s+AGE/);
  t.match(table.stdout, /ca-bundle\s+1\s+\S+/);
  const yaml = kubectl(api, 'admin', ['get', 'cm', 'ca-bundle', '-n', 'default', '-o', 'yaml']);
  t.equal(yaml.code, 0, yaml.stderr);
  t.equal((parse(yaml.stdout) as { data: Record<string, string> }).data['ca.crt']?.trim(), caPem.trim(), 'the bundle reads back as written');
  const reapplied = kubectl(api, 'admin', ['apply', '-f', '-'], manifest.replace('name: ca-bundle', 'name: ca-bundle\n  labels: {app: trust}'));
  t.equal(reapplied.code, 0, reapplied.stderr);
  t.match(reapplied.stdout, 'configmap/ca-bundle configured');
  const missing = kubectl(api, 'admin', ['create', 'configmap', 'x', '-n', 'nowhere', '--from-literal', 'a=b']);
  t.not(missing.code, 0);
  t.match(missing.stderr, 'namespaces "nowhere" not found');
  t.end();
});

void t.test('kubectl applies a ClusterTrustBundle; without attest the write is forbidden', (t) => {
  const manifest = (name: string, signerName: string): string => `apiVersion: certificates.k8s.io/v1beta1
kind: ClusterTrustBundle
metadata:
  name: ${name}
spec:
  signerName: ${signerName}
  trustBundle: |
${indented(caPem)}
`;
  const applied = kubectl(api, 'admin', ['apply', '-f', '-'], manifest('example.com:demo:bundle', 'example.com/demo'));
  t.equal(applied.code, 0, applied.stderr);
  t.match(applied.stdout, 'clustertrustbundle.certificates.k8s.io/example.com:demo:bundle created');
  const table = kubectl(api, 'admin', ['get', 'clustertrustbundles']);
  t.equal(table.code, 0, table.stderr);
  t.match(table.stdout, /NAME\s+SIGNERNAME/);
  t.match(table.stdout, /example\.com:demo:bundle\s+example\.com\/demo/);
  const bySigner = kubectl(api, 'signer', ['apply', '-f', '-'], manifest('example.com:demo:other', 'example.com/demo'));
  t.not(bySigner.code, 0, 'the default signer may not write bundles');
  t.match(bySigner.stderr, /forbidden/i);
  const badName = kubectl(api, 'admin', ['apply', '-f', '-'], manifest('bundle', 'example.com/demo'));
  t.match(badName.stderr, 'ClusterTrustBundle for signerName example.com/demo must be named with prefix example.com:demo:');
  t.end();
});

void t.test('with --no-cluster-trust-bundles kubectl does not know the resource', async (t) => {
  const off = await startDevapi({ args: ['--no-cluster-trust-bundles'] });
  t.teardown(() => off.stop());
  const r = kubectl(off, 'admin', ['get', 'clustertrustbundles']);
  t.not(r.code, 0);
  t.match(r.stderr, 'the server doesn\'t have a resource type "clustertrustbundles"');
  t.equal(kubectl(off, 'admin', ['get', 'csr']).code, 0, 'CSRs are still served');
});

const bundleManifest = (version: string, name: string): string => `apiVersion: certificates.k8s.io/${version}
kind: ClusterTrustBundle
metadata:
  name: ${name}
spec:
  signerName: example.com/demo
  trustBundle: |
${indented(caPem)}
`;

void t.test('one bundle is read by kubectl through v1 and v1beta1 alike', (t) => {
  const applied = kubectl(api, 'admin', ['apply', '-f', '-'], bundleManifest('v1', 'example.com:demo:v1'));
  t.equal(applied.code, 0, applied.stderr);
  t.match(applied.stdout, 'clustertrustbundle.certificates.k8s.io/example.com:demo:v1 created');
  for (const version of ['v1', 'v1beta1']) {
    const got = kubectl(api, 'admin', ['get', `clustertrustbundles.${version}.certificates.k8s.io`, 'example.com:demo:v1', '-o', 'yaml']);
    t.equal(got.code, 0, got.stderr);
    const object = parse(got.stdout) as { apiVersion: string; spec: { trustBundle: string } };
    t.equal(object.apiVersion, `certificates.k8s.io/${version}`);
    t.equal(object.spec.trustBundle.trim(), caPem.trim(), `the bundle reads back through ${version}`);
  }
  t.end();
});

const alone = [
  { version: 'v1', other: 'v1beta1' },
  { version: 'v1beta1', other: 'v1' },
];
for (const { version, other } of alone) {
  void t.test(`with --cluster-trust-bundle-versions ${version} kubectl gets bundles through ${version} and cannot write ${other}`, async (t) => {
    const one = await startDevapi({ args: ['--cluster-trust-bundle-versions', version] });
    t.teardown(() => one.stop());
    const applied = kubectl(one, 'admin', ['apply', '-f', '-'], bundleManifest(version, 'example.com:demo:alone'));
    t.equal(applied.code, 0, applied.stderr);
    const table = kubectl(one, 'admin', ['get', 'clustertrustbundles']);
    t.equal(table.code, 0, table.stderr);
    t.match(table.stdout, /example\.com:demo:alone\s+example\.com\/demo/);
    const yaml = kubectl(one, 'admin', ['get', 'clustertrustbundles', 'example.com:demo:alone', '-o', 'yaml']);
    t.equal((parse(yaml.stdout) as { apiVersion: string }).apiVersion, `certificates.k8s.io/${version}`, 'kubectl picks the one version served');
    // --validate=false: kubectl's schema check would fall back to /openapi/v2, which devapi does not
    // serve; the mapping through discovery is what this version switch changes.
    const refused = kubectl(one, 'admin', ['apply', '--validate=false', '-f', '-'], bundleManifest(other, 'example.com:demo:other'));
    t.not(refused.code, 0);
    t.match(refused.stderr, `no matches for kind "ClusterTrustBundle" in version "certificates.k8s.io/${other}"`);
  });
}

void t.test('--cluster-trust-bundle-versions takes v1,v1beta1, v1, v1beta1 or none; --no-cluster-trust-bundles is none', (t) => {
  const cases: { name: string; value: string | undefined; none: boolean; want: string[] | undefined }[] = [
    { name: 'neither flag: the default (both)', value: undefined, none: false, want: undefined },
    { name: 'both, in either order, preferred first', value: 'v1beta1,v1', none: false, want: ['v1', 'v1beta1'] },
    { name: 'v1 alone', value: 'v1', none: false, want: ['v1'] },
    { name: 'v1beta1 alone', value: 'v1beta1', none: false, want: ['v1beta1'] },
    { name: 'none', value: 'none', none: false, want: [] },
    { name: '--no-cluster-trust-bundles', value: undefined, none: true, want: [] },
    { name: 'both flags saying none', value: 'none', none: true, want: [] },
  ];
  for (const c of cases) t.same(clusterTrustBundleVersionsFlag(c.value, c.none), c.want, c.name);
  const refused: [string, string | undefined, boolean, RegExp][] = [
    ['an unknown version', 'v1alpha1', false, /must be v1,v1beta1, v1, v1beta1 or none, not "v1alpha1"/],
    ['a version twice', 'v1,v1', false, /not "v1,v1"/],
    ['none with a version', 'none,v1', false, /not "none,v1"/],
    ['an empty list', '', false, /not ""/],
    ['--no-cluster-trust-bundles with a version', 'v1', true, /--no-cluster-trust-bundles serves no ClusterTrustBundles, but --cluster-trust-bundle-versions asks for v1/],
  ];
  for (const [name, value, none, message] of refused) t.throws(() => clusterTrustBundleVersionsFlag(value, none), { message }, name);
  t.end();
});
