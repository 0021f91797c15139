/** docs/configuration.md, `csr-signer run --help` and the code describe the same flags and fields. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { readConfigFile, runFlagNames, runUsage } from '../../src/config/index.js';
import { refusedKcmFlag, refusedKcmFlags } from '../../src/config/kcm-compat.js';
import { accessKeys, approverKeys, approverSignerKeys } from '../../src/config/approver.js';
import { cleanupKeys } from '../../src/config/cleanup.js';
import { readConfigDocument, topLevelKeys } from '../../src/config/file.js';
import { annotationDnsNamesKeys, podCertificateKeys, podNamespacesKeys, podSubjectKeys, refreshKeys, userAnnotationsKeys } from '../../src/config/pod-certificates.js';
import { pkcs11Keys } from '../../src/config/pkcs11.js';
import { policyKeys, requesterKeys } from '../../src/config/policy.js';
import { caKeys, durationKeys, signerKeys, usageKeys } from '../../src/config/signer-entry.js';
import { clusterTrustBundleKeys, configMapKeys, expressionKeys, selectorKeys, trustKeys } from '../../src/config/trust.js';

const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');

/** Long flags named in a text; `--cluster-signing-{cert,key}-file` and `--cluster-signing-*-file` are patterns, not flags. */
const flagsIn = (text: string): string[] =>
  [...new Set(text.match(/--[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?![-{*a-z0-9])/g) ?? [])].sort();

void t.test('every flag of the help is documented, and the documentation names no other', (t) => {
  t.same(flagsIn(doc), flagsIn(runUsage));
  t.end();
});

void t.test('the help lists exactly the flags the parser accepts', (t) => {
  t.same(flagsIn(runUsage), [...runFlagNames.map((n) => `--${n}`), '--help'].sort());
  t.end();
});

void t.test('every field of the config file has a row in the field tables, and every row is a field', (t) => {
  const fields = [
    ...topLevelKeys,
    ...signerKeys.map((k) => `signers[].${k}`),
    ...caKeys.map((k) => `signers[].ca.${k}`),
    ...pkcs11Keys.map((k) => `signers[].ca.pkcs11.${k}`),
    ...durationKeys.map((k) => `signers[].duration.${k}`),
    ...usageKeys.map((k) => `signers[].usages.${k}`),
    ...policyKeys.map((k) => `signers[].policy.${k}`),
    ...requesterKeys.map((k) => `signers[].policy.requesters.${k}`),
    ...trustKeys.map((k) => `signers[].trust.${k}`),
    ...configMapKeys.map((k) => `signers[].trust.configMap.${k}`),
    ...selectorKeys.map((k) => `signers[].trust.configMap.namespaceSelector.${k}`),
    ...expressionKeys.map((k) => `signers[].trust.configMap.namespaceSelector.matchExpressions[].${k}`),
    ...clusterTrustBundleKeys.map((k) => `signers[].trust.clusterTrustBundle.${k}`),
    ...podCertificateKeys.map((k) => `signers[].podCertificates.${k}`),
    ...podNamespacesKeys.map((k) => `signers[].podCertificates.namespaces.${k}`),
    ...podSubjectKeys.map((k) => `signers[].podCertificates.subject.${k}`),
    ...refreshKeys.map((k) => `signers[].podCertificates.refresh.${k}`),
    ...userAnnotationsKeys.map((k) => `signers[].podCertificates.userAnnotations.${k}`),
    ...annotationDnsNamesKeys.map((k) => `signers[].podCertificates.userAnnotations.dnsNames.${k}`),
    ...approverKeys.map((k) => `approver.${k}`),
    ...approverSignerKeys.map((k) => `approver.signers[].${k}`),
    ...accessKeys.map((k) => `approver.signers[].subjectAccessReview.${k}`),
    ...cleanupKeys.map((k) => `cleanup.${k}`),
  ].sort();
  const rows = [...doc.matchAll(/^\| `([a-zA-Z0-9[\].]+)` \|/gm)].map((m) => m[1] ?? '').filter((f) => !f.startsWith('-')).sort();
  t.same(rows, fields);
  t.end();
});

void t.test('the example config file in the documentation is valid', (t) => {
  const example = /## The config file[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
  t.ok(example, 'found');
  const signers = readConfigFile('docs/signers.yaml', example ?? '');
  t.same(signers.map((s) => s.name), ['example.com/serving', 'example.com/client', 'kubernetes.io/kubelet-serving']);
  t.equal(signers[0]?.ca?.certFile, 'docs/ca/serving.pem', 'relative to the file');
  t.equal(signers[0]?.ca?.trustFile, 'docs/ca/serving-trust.pem', 'the trust file too');
  t.same(signers[0]?.trust, {
    configMap: { name: 'serving-ca', key: 'ca.crt', namespaceSelector: { matchLabels: { 'serving-ca': 'true' } } },
    clusterTrustBundle: { name: 'example.com:serving:csr-signer', labels: {} },
  }, 'one signer publishes its trust bundle, with the documented defaults');
  t.end();
});

void t.test('the trust: examples in the documentation are valid', (t) => {
  const section = doc.split('### Trust bundles\n')[1]?.split('\n### ')[0] ?? '';
  const examples = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '').filter((y) => y.startsWith('trust:'));
  t.equal(examples.length, 2, 'found');
  for (const example of examples) {
    const file = `apiVersion: csr-signer.io/v1alpha1\nkind: SignerConfiguration\nsigners:\n  - name: example.com/serving\n    ca: { certFile: ca.pem, keyFile: ca-key.pem }\n    policy: { unrestricted: true }\n${example.replace(/^/gm, '    ')}`;
    t.doesNotThrow(() => readConfigFile('signers.yaml', file), example.split('\n')[1] ?? '');
  }
  t.end();
});

void t.test('the refusals shown in the trust section are what the loader says', (t) => {
  const section = doc.split('### Trust bundles\n')[1]?.split('\n### ')[0] ?? '';
  const shown = /signers share:\n\n```\n([\s\S]*?)```/.exec(section)?.[1]?.trim().split('\n') ?? [];
  const head = 'apiVersion: csr-signer.io/v1alpha1\nkind: SignerConfiguration\nsigners:\n';
  const files = [
    `${head}  - name: example.com/serving\n    ca: { certFile: a, keyFile: b }\n    policy: { unrestricted: true }\n    trust: { clusterTrustBundle: { name: serving } }\n`,
    `${head}  - name: example.com/serving\n    ca: { certFile: a, keyFile: b }\n    policy: { unrestricted: true }\n    trust: { configMap: { name: serving-ca } }\n  - name: example.com/client\n    ca: { certFile: a, keyFile: b }\n    policy: { unrestricted: true }\n    trust: { configMap: { name: serving-ca } }\n`,
  ];
  t.equal(shown.length, files.length);
  files.forEach((file, i) => t.throws(() => readConfigFile('signers.yaml', file), { message: shown[i] ?? '(missing)' }));
  t.end();
});

void t.test('the policy refusals shown in the Policy section are what the loader says', (t) => {
  const section = doc.split('### Policy\n')[1]?.split('\n### ')[0] ?? '';
  const shown = /refuses to start, naming the signer and the way out:\n\n```\n([\s\S]*?)```/.exec(section)?.[1]?.trim().split('\n') ?? [];
  const head = 'apiVersion: csr-signer.io/v1alpha1\nkind: SignerConfiguration\nsigners:\n';
  const files = [
    `${head}  - name: example.com/serving\n    ca: { certFile: a, keyFile: b }\n    policy: { dnsNames: [], ipRanges: [] }\n  - name: example.com/client\n    ca: { certFile: a, keyFile: b }\n`,
    `${head}  - name: example.com/serving\n    ca: { certFile: a, keyFile: b }\n    policy: { dnsNames: ["*.example.com"] }\n`,
  ];
  t.equal(shown.length, files.length);
  files.forEach((file, i) => t.throws(() => readConfigFile('signers.yaml', file), { message: shown[i] ?? '(missing)' }));
  t.end();
});

void t.test('docs/replacing-kcm.md lists every kube-controller-manager flag csr-signer refuses, and the refusal it shows is the real one', (t) => {
  const kcm = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'replacing-kcm.md'), 'utf8');
  const section = kcm.split('## Logging, serving and the other flags\n')[1]?.split('\n## ')[0] ?? '';
  const refusedRows = section.split('\n').filter((l) => l.startsWith('| `--') && l.includes('| Refused'));
  const documented = refusedRows.flatMap((l) => [...(l.split(' | ')[0] ?? '').matchAll(/`--([a-z-]+)`/g)].map((m) => m[1] ?? '')).sort();
  t.same(documented, Object.keys(refusedKcmFlags).sort(), 'the refused rows name exactly the code\'s list');
  const shown = /refused with:\n\n```\n(.*)\n```/.exec(section)?.[1];
  t.equal(shown, refusedKcmFlag('--bind-address=127.0.0.1'), 'the example sentence');
  t.end();
});

void t.test('the approver example in the documentation is valid and reads as it says', (t) => {
  const section = doc.split('### The approver, the cleaner and signing\n')[1]?.split('\n### ')[0] ?? '';
  const example = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  t.ok(example, 'found');
  const read = readConfigDocument('docs/signers.yaml', example ?? '');
  t.same(read.approver, {
    mode: 'enforce',
    signers: [
      { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', profile: 'kubelet-client' },
      {
        signerName: 'kubernetes.io/kubelet-serving', profile: 'kubelet-serving', extraDnsNames: ['{node}.nodes.example.com', '*.ingress.example.com'],
        extraDnsRegexes: ['^ip-[0-9-]+\\.ec2\\.internal$', '^{node}\\.(lan|wan)\\.example\\.com$'], extraIpRanges: ['10.0.0.0/8'], maxSubjectAltNames: 8,
      },
      {
        signerName: 'example.com/serving', profile: 'policy',
        subjectAccessReview: { verb: 'use', group: 'certificates.k8s.io', resource: 'signers', name: 'example.com/serving' },
      },
    ],
  });
  const hour = 3_600_000;
  t.same(read.cleanup, { enabled: true, ages: { issuedMs: hour, deniedMs: hour, failedMs: hour, pendingMs: 24 * hour, approvedUnissuedMs: 24 * hour }, written: ['issued', 'denied', 'failed', 'pending', 'approvedUnissued'] });
  t.equal(read.signing, true);
  t.end();
});

void t.test('the approver refusals shown in the documentation are what the loader says', (t) => {
  const section = doc.split('### The approver, the cleaner and signing\n')[1]?.split('\n### ')[0] ?? '';
  const shown = /naming the three ways:\n\n```\n([\s\S]*?)```/.exec(section)?.[1]?.trim().split('\n') ?? [];
  const head = 'apiVersion: csr-signer.io/v1alpha1\nkind: SignerConfiguration\n';
  const files = [
    `${head}signers:\n  - name: example.com/serving\n    ca: { certFile: a, keyFile: b }\n    policy: { dnsNames: ["*.example.com"], ipRanges: [] }\napprover:\n  signers: [{ signerName: example.com/serving }]\n`,
    `${head}signing: false\napprover:\n  signers: [{ signerName: kubernetes.io/kube-apiserver-client }]\n`,
  ];
  t.equal(shown.length, files.length);
  files.forEach((file, i) => t.throws(() => readConfigFile('signers.yaml', file), { message: shown[i] ?? '(missing)' }));
  t.end();
});

void t.test("docs/approver.md's approver entries load as the configuration they are shown in", (t) => {
  const approverDoc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'approver.md'), 'utf8');
  const blocks = [...approverDoc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '').filter((y) => /^approver:/m.test(y));
  t.ok(blocks.length >= 5, `${String(blocks.length)} examples`);
  // An example without signers: reads against a custom signer whose policy says who gets what.
  const signer = 'signers:\n  - name: example.com/serving\n    ca: { certFile: a, keyFile: b }\n    policy: { dnsNames: ["*.example.com"], ipRanges: [], requesters: { groups: [system:serviceaccounts] } }\n';
  const load = (block: string): unknown => readConfigDocument('docs/approver.md',
    block.startsWith('apiVersion:') ? block : `apiVersion: csr-signer.io/v1alpha1\nkind: SignerConfiguration\n${/^signers:/m.test(block) ? '' : signer}${block}`).approver;
  for (const block of blocks) t.doesNotThrow(() => load(block), block.split('\n').slice(0, 4).join(' | '));
  t.match(load(blocks.find((b) => b.includes('{node}')) ?? ''),
    { signers: [{ extraDnsNames: ['{node}.nodes.example.com'], extraDnsRegexes: ['^{node}\\.(lan|wan)\\.example\\.com$'] }] }, 'the {node} example');
  t.end();
});
