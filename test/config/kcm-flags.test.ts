/**
 * kube-controller-manager's --cluster-signing-* flags: the same combinations
 * accepted, the same messages for the refused ones (upstream's csrsigningcontroller.go Validate), and
 * csr-signer's --signer-name and --ca-key-passphrase-file.
 */
import t from 'tap';
import { defaultPolicy } from '../../src/config/index.js';
import { builtinSignerNames } from '../../src/signer/types.js';
import { failure, generic, load } from './fixtures/load.js';

const year = 8760 * 3_600_000;
const pairFlags = (stem: string): string[] => [`--cluster-signing-${stem}-cert-file`, `${stem}.pem`, `--cluster-signing-${stem}-key-file`, `${stem}-key.pem`];

void t.test('combinations kube-controller-manager refuses are refused with its messages', (t) => {
  const cases: [string, string[], string][] = [
    ['a kubelet-serving key without its cert', ['--cluster-signing-kubelet-serving-key-file', 'k'],
      '"cluster-signing-kubelet-serving": cannot specify key without cert (add --cluster-signing-kubelet-serving-cert-file)'],
    ['a kubelet-serving cert without its key', ['--cluster-signing-kubelet-serving-cert-file', 'c'],
      '"cluster-signing-kubelet-serving": cannot specify cert without key (add --cluster-signing-kubelet-serving-key-file)'],
    ['a kubelet-client key without its cert', ['--cluster-signing-kubelet-client-key-file', 'k'],
      '"cluster-signing-kubelet-client": cannot specify key without cert (add --cluster-signing-kubelet-client-cert-file)'],
    ['a kube-apiserver-client cert without its key', ['--cluster-signing-kube-apiserver-client-cert-file', 'c'],
      '"cluster-signing-kube-apiserver-client": cannot specify cert without key (add --cluster-signing-kube-apiserver-client-key-file)'],
    ['a legacy-unknown key without its cert', ['--cluster-signing-legacy-unknown-key-file', 'k'],
      '"cluster-signing-legacy-unknown": cannot specify key without cert (add --cluster-signing-legacy-unknown-cert-file)'],
    ['the generic pair with a per-signer pair', [...generic, ...pairFlags('kubelet-serving')],
      'cannot specify --cluster-signing-{cert,key}-file and other --cluster-signing-*-file flags at the same time'],
    ['a generic cert alone with a per-signer pair', ['--cluster-signing-cert-file', 'c', ...pairFlags('legacy-unknown')],
      'cannot specify --cluster-signing-{cert,key}-file and other --cluster-signing-*-file flags at the same time'],
    ['a half pair and the generic pair together: every problem, in kube-controller-manager\'s order', [...generic, '--cluster-signing-kubelet-client-cert-file', 'c'],
      '"cluster-signing-kubelet-client": cannot specify cert without key (add --cluster-signing-kubelet-client-key-file); cannot specify --cluster-signing-{cert,key}-file and other --cluster-signing-*-file flags at the same time'],
    ['the generic cert without its key', ['--cluster-signing-cert-file', 'c'],
      '"cluster-signing": cannot specify cert without key (add --cluster-signing-key-file)'],
    ['the generic key without its cert', ['--cluster-signing-key-file', 'k'],
      '"cluster-signing": cannot specify key without cert (add --cluster-signing-cert-file)'],
  ];
  for (const [name, argv, message] of cases) {
    t.match(failure(argv), { kind: 'InvalidArgument', code: 'CSR_SIGNER_ERR_INVALID_ARGUMENT', message }, name);
    t.equal(failure(argv).message, message, `${name}: exactly`);
  }
  t.end();
});

void t.test('with no signing flag and no --config it refuses to start and says what to pass', (t) => {
  const cases: [string, string[], RegExp][] = [
    ['no flags at all', [], /^no signer to run: pass --cluster-signing-cert-file and --cluster-signing-key-file .* or --config FILE$/],
    ['only --cluster-signing-duration', ['--cluster-signing-duration', '24h'], /^no signer to run/],
    ['empty file flags, which kube-controller-manager treats as not given', ['--cluster-signing-cert-file=', '--cluster-signing-key-file='], /^no signer to run/],
    ['--signer-name without the generic pair', ['--signer-name', 'example.com/a'], /^--signer-name needs --cluster-signing-cert-file and --cluster-signing-key-file/],
    ['--signer-name with a per-signer pair', ['--signer-name', 'example.com/a', ...pairFlags('kubelet-serving')], /per-signer --cluster-signing-\*-file pairs serve only their kubernetes.io\/\* signer/],
  ];
  for (const [name, argv, message] of cases) t.match(failure(argv), { kind: 'InvalidArgument', message }, name);
  t.end();
});

void t.test('the generic pair alone serves the four built-in signers as kube-controller-manager does', (t) => {
  const config = load([...generic]);
  t.same(config.signers.map((s) => s.name), builtinSignerNames, 'the four kubernetes.io/* signers');
  for (const signer of config.signers) {
    t.same(signer, {
      name: signer.name, source: 'command line', ca: { certFile: 'ca.pem', keyFile: 'ca-key.pem' },
      defaultDurationMs: year, maxDurationMs: year, includeChain: false,
    }, `${signer.name}: the generic CA, 8760h, no chain, no policy`);
    t.notOk('policy' in signer, `${signer.name} has no policy`);
  }
  t.end();
});

void t.test('--cluster-signing-duration sets the default and the maximum of every signer', (t) => {
  for (const [text, ms] of [['24h', 86_400_000], ['1h30m', 5_400_000], ['720h0m0s', 2_592_000_000]] as const) {
    const config = load([...generic, `--cluster-signing-duration=${text}`]);
    t.ok(config.signers.every((s) => s.defaultDurationMs === ms && s.maxDurationMs === ms), `${text} is ${ms} ms`);
  }
  t.match(failure([...generic, '--cluster-signing-duration', '1y']), { kind: 'InvalidArgument', message: /^--cluster-signing-duration: invalid duration "1y"/ }, 'a bad duration names the flag');
  t.match(failure([...generic, '--cluster-signing-duration', '0']), { message: '--cluster-signing-duration must be longer than 0s, not "0"' }, 'zero is refused');
  t.end();
});

void t.test('per-signer pairs serve only the signers given, each with its own CA', (t) => {
  const cases: [string, string[], [string, string][]][] = [
    ['kubelet-serving alone', pairFlags('kubelet-serving'), [['kubernetes.io/kubelet-serving', 'kubelet-serving.pem']]],
    ['kubelet-client is the kube-apiserver-client-kubelet signer', pairFlags('kubelet-client'), [['kubernetes.io/kube-apiserver-client-kubelet', 'kubelet-client.pem']]],
    ['kube-apiserver-client alone', pairFlags('kube-apiserver-client'), [['kubernetes.io/kube-apiserver-client', 'kube-apiserver-client.pem']]],
    ['legacy-unknown alone', pairFlags('legacy-unknown'), [['kubernetes.io/legacy-unknown', 'legacy-unknown.pem']]],
    ['all four, in a fixed order', [...pairFlags('legacy-unknown'), ...pairFlags('kube-apiserver-client'), ...pairFlags('kubelet-client'), ...pairFlags('kubelet-serving')], [
      ['kubernetes.io/kubelet-serving', 'kubelet-serving.pem'], ['kubernetes.io/kube-apiserver-client-kubelet', 'kubelet-client.pem'],
      ['kubernetes.io/kube-apiserver-client', 'kube-apiserver-client.pem'], ['kubernetes.io/legacy-unknown', 'legacy-unknown.pem'],
    ]],
  ];
  for (const [name, argv, expected] of cases) {
    const signers = load(argv).signers;
    t.same(signers.map((s) => [s.name, s.ca?.certFile]), expected, name);
    t.ok(signers.every((s) => s.ca?.keyFile === s.ca?.certFile?.replace('.pem', '-key.pem') && s.policy === undefined), `${name}: key files match, no policy`);
  }
  t.end();
});

void t.test('--signer-name serves custom signers with the generic CA, only when --signer-unrestricted says they have no policy', (t) => {
  const one = load([...generic, '--signer-name', 'example.com/serving', '--signer-unrestricted']);
  t.same(one.signers, [{
    name: 'example.com/serving', source: 'command line', ca: { certFile: 'ca.pem', keyFile: 'ca-key.pem' },
    defaultDurationMs: year, maxDurationMs: year, includeChain: false, policy: { ...defaultPolicy, unrestricted: true },
  }], 'one custom signer instead of the built-ins, stated unrestricted');
  t.same(defaultPolicy, { allowEmailAddresses: false, allowUris: false, commonName: 'any', allowCA: false }, 'the default policy');
  const several = load([...generic, '--signer-name', 'example.com/a', '--signer-name=example.com/b', '--signer-name', 'kubernetes.io/kubelet-serving', '--signer-unrestricted=true']);
  t.same(several.signers.map((s) => [s.name, s.policy?.unrestricted]), [['example.com/a', true], ['example.com/b', true], ['kubernetes.io/kubelet-serving', undefined]],
    'repeatable; a built-in name gets the built-in rules');
  t.equal(failure([...generic, '--signer-name', 'example.com/a']).message,
    '--signer-name example.com/a has no policy on the command line, so the signer would sign any DNS name and IP address an approver let through: '
    + 'define it in a --config file with a policy (dnsNames, ipRanges), or add --signer-unrestricted to say that is meant', 'without --signer-unrestricted a custom name is refused');
  t.match(failure([...generic, '--signer-name', 'example.com/a', '--signer-unrestricted=false']), { message: /^--signer-name example.com\/a has no policy/ }, '--signer-unrestricted=false is the same');
  t.same(load([...generic, '--signer-name', 'kubernetes.io/kubelet-serving']).signers.map((s) => s.name), ['kubernetes.io/kubelet-serving'], 'a built-in name alone needs no statement');
  for (const argv of [[...generic, '--signer-unrestricted'], [...generic, '--signer-name', 'kubernetes.io/kubelet-serving', '--signer-unrestricted'], [...pairFlags('kubelet-serving'), '--signer-unrestricted']]) {
    t.match(failure(argv), { message: /^--signer-unrestricted applies to custom --signer-name signers, and none is given/ }, `refused without a custom --signer-name: ${argv.slice(4).join(' ')}`);
  }
  t.end();
});

void t.test('a bad --signer-name is refused with the reason', (t) => {
  const cases: [string, string, RegExp][] = [
    ['a name without a path', 'example.com', /--signer-name: "example.com" is not a valid signerName: must be a fully qualified domain and path/],
    ['a name with two slashes', 'example.com/a/b', /must be a fully qualified domain and path of the form 'example.com\/signer-name'/],
    ['a one-label domain', 'example/serving', /the domain "example" should have at least two segments/],
    ['an upper case domain', 'Example.com/serving', /the domain label "Example" must be/],
    ['an underscore in the path', 'example.com/my_signer', /the path "my_signer" must be/],
    ['a kubernetes.io name that is not built in', 'kubernetes.io/other', /"kubernetes.io\/other" is in the kubernetes.io domain, which Kubernetes reserves/],
  ];
  for (const [name, signer, message] of cases) t.match(failure([...generic, '--signer-name', signer]), { kind: 'InvalidArgument', message }, name);
  t.match(failure([...generic, '--signer-name', 'example.com/a', '--signer-name', 'example.com/a']), { message: '--signer-name example.com/a is given twice' }, 'a name given twice');
  t.end();
});

void t.test('--ca-key-passphrase-file applies to every signer the flags define', (t) => {
  const withGeneric = load([...generic, '--ca-key-passphrase-file', 'pass.txt']).signers;
  t.ok(withGeneric.every((s) => s.ca?.passphraseFile === 'pass.txt'), 'the generic pair');
  const withPairs = load([...pairFlags('kubelet-serving'), ...pairFlags('kubelet-client'), '--ca-key-passphrase-file=pass.txt']).signers;
  t.ok(withPairs.length === 2 && withPairs.every((s) => s.ca?.passphraseFile === 'pass.txt'), 'per-signer pairs');
  t.notOk('passphraseFile' in (load([...generic]).signers[0]?.ca ?? {}), 'absent when not given');
  t.end();
});
