/**
 * What `csr-signer run` does: --approve, --approve-mode, --cleanup and --signing, with
 * the kube-controller-manager flags and with --config (whose approver:, cleanup: and
 * signing: they override); every refusal with its sentence.
 */
import t from 'tap';
import { stringify } from 'yaml';
import { defaultCleanup } from '../../src/config/cleanup.js';
import { failure, generic, load } from './fixtures/load.js';

const file = '/etc/csr-signer/signers.yaml';
const ca = { certFile: 'ca.pem', keyFile: 'ca-key.pem' };
const serving = { name: 'example.com/serving', ca, policy: { dnsNames: ['*.{namespace}.svc'], ipRanges: [] } };
const kubeletServing = { name: 'kubernetes.io/kubelet-serving', ca };
const yaml = (doc: Record<string, unknown>): Record<string, string> => ({ [file]: stringify({ apiVersion: 'csr-signer.io/v1alpha1', kind: 'SignerConfiguration', ...doc }) });
const kubelet = [
  { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', profile: 'kubelet-client' },
  { signerName: 'kubernetes.io/kubelet-serving', profile: 'kubelet-serving' },
];

void t.test('off by default: signing only, the RunConfig keeps its shape', (t) => {
  const config = load([...generic]);
  t.notOk('signing' in config, 'signing left out means on');
  t.notOk('approver' in config);
  t.notOk('cleanup' in config);
  t.end();
});

void t.test('--approve with the kube-controller-manager flags approves the two kubelet signers', (t) => {
  const config = load([...generic, '--approve']);
  t.same(config.approver, { mode: 'enforce', signers: kubelet }, 'kube-apiserver-client and legacy-unknown left out');
  t.same(config.cleanup, defaultCleanup, 'the cleaner comes with it');
  t.equal(config.signers.length, 4, 'all four are still signed');
  t.same(load([...generic, '--signer-name', 'kubernetes.io/kubelet-serving', '--approve=true']).approver?.signers, [kubelet[1]], 'only the signers served');
  t.same(load(['--cluster-signing-kubelet-client-cert-file', 'a', '--cluster-signing-kubelet-client-key-file', 'b', '--approve']).approver?.signers, [kubelet[0]], 'a per-signer pair');
  t.same(load([...generic, '--approve', '--approve-mode', 'audit']).approver?.mode, 'audit');
  t.notOk('cleanup' in load([...generic, '--approve', '--approve-mode', 'audit']), 'no cleaner with --approve-mode=audit: audit mode writes nothing');
  t.same(load([...generic, '--approve', '--approve-mode', 'audit', '--cleanup']).cleanup, defaultCleanup, '--cleanup with audit: asked for, so it runs');
  t.same(load([...generic, '--approve', '--cleanup=false']).cleanup, undefined, '--cleanup=false');
  t.same(load([...generic, '--cleanup']).cleanup, defaultCleanup, '--cleanup without the approver');
  t.notOk('approver' in load([...generic, '--approve=false']), '--approve=false');
  t.end();
});

void t.test('--signing=false approves and cleans without a CA', (t) => {
  const config = load(['--signing=false', '--approve']);
  t.equal(config.signing, false);
  t.same(config.signers, [], 'nothing signed, no CA flag needed');
  t.same(config.approver, { mode: 'enforce', signers: kubelet });
  t.same(config.cleanup, defaultCleanup);
  t.same(load(['--signing=false', '--approve', '--signer-name', 'kubernetes.io/kube-apiserver-client-kubelet']).approver?.signers, [kubelet[0]], '--signer-name picks the kubelet signers');
  t.same(load(['--signing=false', '--cleanup']).cleanup, defaultCleanup, 'the cleaner alone');
  t.equal(load(['--signing=0', '--approve']).signing, false, 'Go\'s spellings');
  t.equal(load(['--signing=false', '--approve', '--rotation-record=']).signing, false, '--rotation-record= (none), as the chart\'s approver passes it');
  t.notOk('signing' in load([...generic, '--signing']), '--signing alone is the default');
  t.end();
});

void t.test('the config file: approver:, cleanup: and signing:, and the flags over them', (t) => {
  const approver = { mode: 'audit', signers: [{ signerName: 'example.com/serving' }] };
  const fromFile = load(['--config', file], yaml({ signers: [serving], approver }));
  t.same(fromFile.approver, { mode: 'audit', signers: [{ signerName: 'example.com/serving', profile: 'policy' }] });
  t.notOk('cleanup' in fromFile, 'off with an auditing approver: audit mode writes nothing, and the cleaner deletes');
  t.same(load(['--config', file, '--approve-mode=enforce'], yaml({ signers: [serving], approver })).cleanup, defaultCleanup, 'on with an enforcing approver');
  t.same(load(['--config', file], yaml({ signers: [serving], approver, cleanup: { enabled: true } })).cleanup, defaultCleanup, 'cleanup.enabled: true with audit: deletes all the same');
  t.same(load(['--config', file, '--cleanup=true'], yaml({ signers: [serving], approver })).cleanup, defaultCleanup, '--cleanup=true with audit');
  t.notOk('cleanup' in load(['--config', file], yaml({ signers: [serving], approver, cleanup: { pending: '2h' } })), 'ages with an auditing approver: still off');
  t.same(load(['--config', file, '--approve-mode=enforce'], yaml({ signers: [serving], approver })).approver?.mode, 'enforce', '--approve-mode overrides approver.mode');
  t.notOk('approver' in load(['--config', file, '--approve=false'], yaml({ signers: [serving], approver })), '--approve=false turns the section off');
  t.same(load(['--config', file, '--approve'], yaml({ signers: [serving], approver })).approver?.mode, 'audit', '--approve uses the section');
  t.same(load(['--config', file, '--approve'], yaml({ signers: [serving, kubeletServing] })).approver, {
    mode: 'enforce', signers: [{ signerName: 'example.com/serving', profile: 'policy' }, { signerName: 'kubernetes.io/kubelet-serving', profile: 'kubelet-serving' }],
  }, '--approve without a section: every approvable signer of the file');
  const podsOnly = { name: 'example.com/pods', ca, certificateSigningRequests: false, podCertificates: { namespaces: { all: true } } };
  t.same(load(['--config', file, '--approve'], yaml({ signers: [serving, podsOnly] })).approver?.signers, [{ signerName: 'example.com/serving', profile: 'policy' }],
    '--approve without a section leaves out a signer that serves no CSRs (certificateSigningRequests: false)');
  t.same(load(['--config', file], yaml({ signers: [serving], approver, cleanup: { enabled: false } })).cleanup, undefined, 'cleanup.enabled: false');
  t.same(load(['--config', file, '--cleanup'], yaml({ signers: [serving], approver, cleanup: { enabled: false, pending: '1h' } })).cleanup, { ...defaultCleanup, pendingMs: 3_600_000 }, '--cleanup overrides enabled, the ages stay the file\'s');
  t.same(load(['--config', file], yaml({ signers: [serving], cleanup: { enabled: true } })).cleanup, defaultCleanup, 'the cleaner without the approver');
  t.same(load(['--config', file, '--cleanup=false'], yaml({ signers: [serving], cleanup: { issued: '2h' } })).cleanup, undefined, 'ages, and --cleanup=false says off');
  t.same(load(['--config', file], yaml({ signers: [serving], cleanup: { enabled: false, issued: '2h' } })).cleanup, undefined, 'ages, and enabled: false says off');
  const approveOnly = load(['--config', file], yaml({ signing: false, signers: [{ name: 'example.com/serving', policy: serving.policy }], approver }));
  t.equal(approveOnly.signing, false);
  t.same(approveOnly.signers[0]?.ca, undefined, 'signing: false: ca left out');
  t.same(approveOnly.signers[0]?.policy?.dnsNames, ['*.{namespace}.svc'], 'the policy is kept for the approver');
  t.same(load(['--config', file], yaml({ signing: false, approver: { signers: [{ signerName: 'kubernetes.io/kubelet-serving' }] } })).signers, [], 'signers: left out');
  t.equal(load(['--config', file, '--signing=false', '--approve'], yaml({ signers: [{ name: 'example.com/serving', policy: serving.policy }] })).signing, false, '--signing=false lets ca be left out');
  t.notOk('signing' in load(['--config', file], yaml({ signing: true, signers: [serving] })), 'signing: true');
  t.end();
});

void t.test('--signing=false over the file the signers use: their CA and trust targets are checked, then left to them', (t) => {
  const shared = yaml({ signers: [{ ...serving, trust: { configMap: { name: 'serving-ca' } } }], approver: { signers: [{ signerName: 'example.com/serving' }] } });
  const approver = load(['--config', file, '--signing=false'], shared);
  t.equal(approver.signing, false);
  t.same(approver.signers.map((s) => [s.name, s.ca, s.trust]), [['example.com/serving', undefined, undefined]], 'no CA loaded, no bundle published by this process');
  t.same(approver.signers[0]?.policy?.dnsNames, ['*.{namespace}.svc'], 'the policy the approver judges by');
  const signer = load(['--config', file], shared);
  t.ok(signer.signers[0]?.ca && signer.signers[0].trust, 'the signing process reads the same file whole');
  t.end();
});

void t.test('refuses each contradiction with one sentence', (t) => {
  const unbound = { name: 'example.com/open', ca, policy: { dnsNames: ['*.example.com'], ipRanges: [] } };
  const cases: [string, readonly string[], Record<string, string>, string][] = [
    ['--approve-mode without the approver', [...generic, '--approve-mode', 'audit'], {}, '--approve-mode applies to the approver, which is off: add --approve (or an approver: section to the config file)'],
    ['an unknown --approve-mode', [...generic, '--approve', '--approve-mode', 'dry-run'], {}, '--approve-mode must be one of enforce, audit, not "dry-run"'],
    ['--approve=maybe', [...generic, '--approve=maybe'], {}, '--approve takes true or false, not "maybe"'],
    ['--signing=no', [...generic, '--signing=no'], {}, '--signing takes true or false, not "no"'],
    ['a custom --signer-name', [...generic, '--signer-name', 'example.com/a', '--signer-unrestricted', '--approve'], {},
      '--approve cannot approve --signer-name example.com/a: a command-line signer has no policy (--signer-unrestricted), so nothing says who gets which names; define it in a --config file with a policy and an approver: entry'],
    ['only signers that are never approved', ['--cluster-signing-kube-apiserver-client-cert-file', 'a', '--cluster-signing-kube-apiserver-client-key-file', 'b', '--approve'], {},
      '--approve has no signer to approve: kubernetes.io/kube-apiserver-client is never auto-approved, as kube-controller-manager never auto-approves it'],
    ['only the two signers that are never approved', [...generic, '--signer-name', 'kubernetes.io/kube-apiserver-client', '--signer-name', 'kubernetes.io/legacy-unknown', '--approve'], {},
      '--approve has no signer to approve: kubernetes.io/kube-apiserver-client and kubernetes.io/legacy-unknown are never auto-approved, as kube-controller-manager never auto-approves them'],
    ['--approve over a file with no signers', ['--config', file, '--approve'], yaml({ signing: false }),
      `--approve has no signer to approve: ${file} lists none; name them in an approver: section (e.g. kubernetes.io/kubelet-serving)`],
    ['nothing to do', ['--signing=false'], {}, 'signing is off (--signing=false) and neither the approver nor the cleaner is on, so csr-signer would do nothing: add --approve or --cleanup (or approver: or cleanup: to the config file), or leave signing on'],
    ['nothing to do with the cleaner turned off', ['--signing=false', '--approve=false', '--cleanup=false'], {}, 'signing is off (--signing=false) and neither the approver nor the cleaner is on, so csr-signer would do nothing: add --approve or --cleanup (or approver: or cleanup: to the config file), or leave signing on'],
    ['nothing to do, from the file', ['--config', file], yaml({ signing: false, signers: [{ ...serving, ca: undefined }] }), 'signing is off (signing: false) and neither the approver nor the cleaner is on, so csr-signer would do nothing: add --approve or --cleanup (or approver: or cleanup: to the config file), or leave signing on'],
    ['--signing=false with a custom --signer-name and no CA', ['--signing=false', '--approve', '--signer-name', 'example.com/a'], {},
      '--signer-name example.com/a: with --signing=false and no CA flag, --signer-name picks the kubernetes.io/* signers --approve approves; a custom signer is approved by its policy, which needs --config'],
    ['--signing=false with --signer-unrestricted and no CA', ['--signing=false', '--approve', '--signer-unrestricted'], {}, '--signer-unrestricted describes what a signer signs, and --signing=false signs nothing: drop it'],
    ['--signing=false with --signer-unrestricted and the cleaner alone', ['--signing=false', '--cleanup', '--signer-unrestricted'], {}, '--signer-unrestricted describes what a signer signs, and --signing=false signs nothing: drop it'],
    ['--signing=false with --signer-name and the approver off', ['--signing=false', '--cleanup', '--signer-name', 'kubernetes.io/kubelet-serving'], {},
      '--signer-name picks the signers --approve approves, and with --signing=false and the approver off it picks nothing: add --approve, or drop it'],
    ['--signing=false with the generic CA pair', [...generic, '--signing=false', '--approve'], {}, '--cluster-signing-cert-file names a CA file, and with --signing=false no CA is loaded: drop it'],
    ['--signing=false with a per-signer CA file', ['--cluster-signing-kubelet-serving-key-file', 'k.pem', '--signing=false', '--cleanup'], {}, '--cluster-signing-kubelet-serving-key-file names a CA file, and with --signing=false no CA is loaded: drop it'],
    ['--signing=false with --cluster-signing-duration', ['--signing=false', '--approve', '--cluster-signing-duration', '24h'], {}, '--cluster-signing-duration bounds the certificates a signer issues, and with --signing=false nothing is issued: drop it'],
    ['--signing=false with --ca-key-passphrase-file', ['--signing=false', '--approve', '--ca-key-passphrase-file', 'p'], {}, '--ca-key-passphrase-file unlocks a CA key, and with --signing=false no CA is loaded: drop it'],
    ['--signing=false with --rotation-record', ['--signing=false', '--approve', '--rotation-record', 'signer-rotation'], {}, '--rotation-record records what a signer issues, and with --signing=false nothing is issued: drop it'],
    ['signing: false with --rotation-record', ['--config', file, '--rotation-record=csr-signer-rotation'], yaml({ signing: false, approver: { signers: [{ signerName: 'kubernetes.io/kubelet-serving' }] } }),
      '--rotation-record records what a signer issues, and with signing: false nothing is issued: drop it'],
    ['--approve over a file whose custom signer says nothing of who gets what', ['--config', file, '--approve'], yaml({ signers: [unbound] }),
      `--approve approves every signer of ${file} (it has no approver: section), and the policy of signers[0] ("example.com/open") does not say who gets what, so every request within it would be approved: add policy.requesters to the signer, or a subjectAccessReview to its approver: entry, or bind names to the requester's namespace (every policy.dnsNames pattern with {namespace}, ipRanges: [], no email or URI names, no CA, commonName other than any)`],
    ['a signer without ca while signing', ['--config', file], yaml({ signers: [{ name: 'example.com/serving', policy: serving.policy }] }),
      `${file}: signer "example.com/serving": signers[0].ca: is required: the CA that signs, as {certFile, keyFile} (only with signing: false may it be left out)`],
    ['--signing=true over signing: false, without ca', ['--config', file, '--signing=true'], yaml({ signing: false, signers: [{ name: 'example.com/serving', policy: serving.policy }], approver: { signers: [{ signerName: 'example.com/serving' }] } }),
      `${file}: signer "example.com/serving": signers[0].ca: is required: the CA that signs, as {certFile, keyFile} (only with signing: false may it be left out)`],
    ['no signers while signing', ['--config', file, '--signing=true'], yaml({ signing: false, approver: { signers: [{ signerName: 'kubernetes.io/kubelet-serving' }] } }),
      `${file}: signers: is required: a list of at least one signer (signing is on (--signing=true); with signing: false it may be left out)`],
    ['an empty signers list while signing', ['--config', file], yaml({ signers: [] }), `${file}: signers: must list at least one signer (signing is on; with signing: false it may be empty)`],
    ['signing not a boolean', ['--config', file], yaml({ signing: 'no', signers: [serving] }), `${file}: signing: must be true or false, not the string "no"`],
    ['cleanup ages without the approver or enabled', ['--config', file], yaml({ signers: [serving], cleanup: { issued: '2h', pending: '48h' } }),
      `${file}: cleanup: ages are given (issued, pending) but the cleaner is off: set cleanup.enabled: true, or turn on the approver`],
    ['cleanup ages with the approver turned off by --approve=false', ['--config', file, '--approve=false'], yaml({ signers: [serving], approver: { signers: [{ signerName: 'example.com/serving' }] }, cleanup: { denied: '2h' } }),
      `${file}: cleanup: ages are given (denied) but the cleaner is off: set cleanup.enabled: true, or turn on the approver`],
    ['trust with signing: false', ['--config', file], yaml({ signing: false, signers: [{ ...serving, ca: undefined, trust: { clusterTrustBundle: {} } }], cleanup: { enabled: true } }),
      `${file}: signer "example.com/serving": signers[0].trust: signing is off (signing: false), so no trust bundle would be published: remove trust, or turn signing on`],
    ['ca with signing: false', ['--config', file], yaml({ signing: false, signers: [serving], approver: { signers: [{ signerName: 'example.com/serving' }] } }),
      `${file}: signer "example.com/serving": signers[0].ca: signing is off (signing: false), so this CA would never be loaded: remove ca (approving needs only the signer's policy), or turn signing on`],
    ['--signing=false over a shared file whose ca is broken', ['--config', file, '--signing=false', '--approve'], yaml({ signers: [{ ...serving, ca: { certFile: 'ca.pem' } }] }),
      `${file}: signer "example.com/serving": signers[0].ca.keyFile: is required`],
  ];
  for (const [name, argv, files, message] of cases) {
    const e = failure(argv, files);
    t.equal(e.message, message, name);
    t.equal(e.kind, message.startsWith(file) ? 'InvalidConfig' : 'InvalidArgument', `${name}: the kind`);
  }
  t.end();
});
