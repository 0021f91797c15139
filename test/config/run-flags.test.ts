/** The other flags of `csr-signer run`: defaults, values, refusals, leader election, and a frozen result. */
import t from 'tap';
import { runUsage, serviceAccountNamespaceFile } from '../../src/config/index.js';
import { failure, generic, load } from './fixtures/load.js';

void t.test('every flag has the documented default', (t) => {
  const config = load([...generic]);
  const { signers, ...rest } = config;
  t.equal(signers.length, 4);
  t.same(rest, {
    workers: 5, retryQps: 10, retryBurst: 100, retryBaseDelayMs: 200, retryMaxDelayMs: 1_000_000, watchQuietTimeoutMs: 300_000,
    requestLimits: { maxBytes: 65536, maxSubjectAltNames: 1000, maxNameLength: 1024 }, httpAddress: '127.0.0.1:8080', httpAddressSource: 'default', shutdownTimeoutMs: 30_000, caReloadIntervalMs: 10_000, strictKeyPermissions: false,
    leaderElection: { enabled: true, leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000, resourceName: 'csr-signer', resourceNamespace: 'kube-system', resourceNamespaceSource: 'default outside a pod' },
    logLevel: 'info', logFormat: 'json', events: true,
    rotationRecord: { namespace: 'kube-system', name: 'csr-signer-rotation' }, trustResyncIntervalMs: 300_000,
  });
  t.notOk('kubeconfig' in config, 'no kubeconfig: KUBECONFIG and in-cluster are the kube client\'s to find');
  t.notOk('kubeconfig' in load([...generic], {}, { KUBECONFIG: '/k' }), 'KUBECONFIG is not read here');
  t.end();
});

void t.test('every flag is read into its field', (t) => {
  const config = load([...generic,
    '--kubeconfig', '/etc/signer.kubeconfig', '--workers', '8', '--retry-qps', '2.5', '--retry-burst', '7',
    '--retry-base-delay', '1s', '--retry-max-delay=1m', '--watch-quiet-timeout', '90s',
    '--request-max-bytes', '4096', '--request-max-sans', '50', '--http-address', '[::1]:9090',
    '--leader-elect-lease-duration', '30s', '--leader-elect-renew-deadline', '20s', '--leader-elect-retry-period', '5s',
    '--leader-elect-resource-name', 'my-signer', '--leader-elect-resource-namespace', 'certs',
    '--log-level', 'debug', '--no-events', '--shutdown-timeout', '5s', '--ca-reload-interval', '1m', '--strict-key-permissions',
    '--rotation-record', 'signer-record', '--trust-resync-interval', '30s']);
  t.match(config, {
    shutdownTimeoutMs: 5000, caReloadIntervalMs: 60_000, strictKeyPermissions: true,
    kubeconfig: '/etc/signer.kubeconfig', workers: 8, retryQps: 2.5, retryBurst: 7, retryBaseDelayMs: 1000, retryMaxDelayMs: 60_000,
    watchQuietTimeoutMs: 90_000, requestLimits: { maxBytes: 4096, maxSubjectAltNames: 50 }, httpAddress: '[::1]:9090', httpAddressSource: 'flag',
    leaderElection: { enabled: true, leaseDurationMs: 30_000, renewDeadlineMs: 20_000, retryPeriodMs: 5000, resourceName: 'my-signer', resourceNamespace: 'certs', resourceNamespaceSource: 'flag' },
    logLevel: 'debug', events: false,
    rotationRecord: { namespace: 'certs', name: 'signer-record' }, trustResyncIntervalMs: 30_000,
  });
  t.notOk('rotationRecord' in load([...generic, '--rotation-record', '']), '--rotation-record "" keeps the figures in memory only');
  t.match(failure([...generic, '--rotation-record', 'Bad_Name']), { kind: 'InvalidArgument', message: /--rotation-record "Bad_Name" is not a valid ConfigMap name/ }, 'a bad record name is refused');
  t.end();
});

void t.test('boolean flags take no value, or true or false after an equals sign', (t) => {
  const cases: [string, string[], boolean, boolean][] = [
    ['--leader-elect alone', ['--leader-elect'], true, true],
    ['--leader-elect=false', ['--leader-elect=false'], false, true],
    ['--leader-elect=true', ['--leader-elect=true'], true, true],
    ['Go\'s other spellings: --leader-elect=0', ['--leader-elect=0'], false, true],
    ['Go\'s other spellings: --leader-elect=F', ['--leader-elect=F'], false, true],
    ['--no-events', ['--no-events'], true, false],
    ['--no-events=false keeps events', ['--no-events=false'], true, true],
    ['the last one wins', ['--leader-elect=false', '--leader-elect'], true, true],
  ];
  for (const [name, argv, leader, events] of cases) {
    const config = load([...generic, ...argv]);
    t.same([config.leaderElection.enabled, config.events], [leader, events], name);
  }
  t.match(failure([...generic, '--leader-elect=maybe']), { kind: 'InvalidArgument', message: '--leader-elect takes true or false, not "maybe"' }, 'another value is refused');
  t.match(failure([...generic, '--leader-elect', 'false']), { message: 'unexpected argument "false": csr-signer run takes only flags' }, 'a separate value is a stray argument, as in Go');
  t.end();
});

void t.test('unknown flags, stray arguments and missing values are refused clearly', (t) => {
  const cases: [string, string[], string | RegExp][] = [
    ['an unknown flag', ['--sign-all'], 'unknown flag --sign-all (csr-signer run --help lists the flags)'],
    ['an unknown flag with a value', ['--cluster-signing-kubelet-cert-file=x'], 'unknown flag --cluster-signing-kubelet-cert-file (csr-signer run --help lists the flags)'],
    ['a short flag', ['-x'], 'unknown flag -x (csr-signer run --help lists the flags)'],
    ['-v without its value', ['-v'], '--v needs a value'],
    ['a stray argument', ['run'], 'unexpected argument "run": csr-signer run takes only flags'],
    ['a flag without its value', ['--workers'], '--workers needs a value'],
  ];
  for (const [name, argv, message] of cases) t.match(failure([...generic, ...argv]), { kind: 'InvalidArgument', message }, name);
  t.end();
});

void t.test('bad values are refused with the flag named', (t) => {
  const cases: [string, string[], string | RegExp][] = [
    ['zero workers', ['--workers', '0'], '--workers must be a whole number of at least 1, not "0"'],
    ['fractional workers', ['--workers', '1.5'], '--workers must be a whole number of at least 1, not "1.5"'],
    ['a negative qps', ['--retry-qps=-1'], '--retry-qps must be a number greater than 0, not "-1"'],
    ['a burst that is not a number', ['--retry-burst', 'lots'], '--retry-burst must be a whole number of at least 1, not "lots"'],
    ['a delay without a unit', ['--retry-base-delay', '200'], /^--retry-base-delay: invalid duration "200": a number needs a unit/],
    ['a base delay over the maximum', ['--retry-base-delay', '2h', '--retry-max-delay', '1h'], '--retry-base-delay (2h) must not be longer than --retry-max-delay (1h)'],
    ['a zero watch timeout', ['--watch-quiet-timeout', '0s'], '--watch-quiet-timeout must be longer than 0s, not "0s"'],
    ['a zero request size', ['--request-max-bytes', '0'], '--request-max-bytes must be a whole number of at least 1, not "0"'],
    ['a SAN limit that is not a number', ['--request-max-sans', 'x'], '--request-max-sans must be a whole number of at least 1, not "x"'],
    ['an address without a port', ['--http-address', 'localhost'], /^--http-address must be HOST:PORT.*the port is missing$/],
    ['a port out of range', ['--http-address', ':70000'], /the port must be a number from 0 to 65535$/],
    ['an IPv6 address without brackets', ['--http-address', '::1:8080'], /put an IPv6 address in brackets$/],
    ['an unknown log level', ['--log-level', 'trace'], '--log-level must be one of error, warn, info, debug, not "trace"'],
  ];
  for (const [name, argv, message] of cases) t.match(failure([...generic, ...argv]), { kind: 'InvalidArgument', message }, name);
  t.end();
});

void t.test('leader election timings follow kube-controller-manager\'s rules when it is on', (t) => {
  const cases: [string, string[], string][] = [
    ['a renew deadline as long as the lease', ['--leader-elect-lease-duration', '10s'],
      '--leader-elect-lease-duration (10s) must be greater than --leader-elect-renew-deadline (10s)'],
    ['a retry period too close to the renew deadline', ['--leader-elect-retry-period', '9s'],
      '--leader-elect-renew-deadline (10s) must be greater than 1.2 × --leader-elect-retry-period (9s), as client-go\'s leader election requires'],
    ['a zero retry period', ['--leader-elect-retry-period', '0s'], '--leader-elect-retry-period must be longer than 0s, not "0s"'],
    ['a Lease name that is not a Kubernetes name', ['--leader-elect-resource-name', 'CSR_Signer'],
      '--leader-elect-resource-name "CSR_Signer" is not a valid Lease name: lower case letters, digits, \'-\' and \'.\', starting and ending with a letter or digit'],
    ['a namespace that is not a Kubernetes name', ['--leader-elect-resource-namespace', 'a.b'],
      'the Lease namespace "a.b" (from --leader-elect-resource-namespace) is not a valid namespace: 1–63 lower case letters, digits or \'-\', starting and ending with a letter or digit'],
  ];
  for (const [name, argv, message] of cases) t.match(failure([...generic, ...argv]), { kind: 'InvalidArgument', message }, name);
  const off = load([...generic, '--leader-elect=false', '--leader-elect-lease-duration', '1s']);
  t.match(off.leaderElection, { enabled: false, leaseDurationMs: 1000 }, 'timings are not compared when leader election is off');
  t.end();
});

void t.test('the Lease namespace comes from the flag, else the pod\'s (POD_NAMESPACE, the service account), else kube-system outside a pod', (t) => {
  const cases: [string, string[], Record<string, string>, Record<string, string>, string, string][] = [
    ['the flag wins', ['--leader-elect-resource-namespace', 'from-flag'], { POD_NAMESPACE: 'from-env' }, { [serviceAccountNamespaceFile]: 'from-file' }, 'from-flag', 'flag'],
    ['in a pod, POD_NAMESPACE from the downward API', [], { POD_NAMESPACE: 'from-env' }, { [serviceAccountNamespaceFile]: 'from-file' }, 'from-env', 'POD_NAMESPACE'],
    ['in a pod, then the service account file, trimmed', [], {}, { [serviceAccountNamespaceFile]: 'from-file\n' }, 'from-file', 'service account'],
    ['an empty POD_NAMESPACE is not a namespace', [], { POD_NAMESPACE: '' }, { [serviceAccountNamespaceFile]: 'from-file' }, 'from-file', 'service account'],
    ['an empty service account file is not one either', [], {}, { [serviceAccountNamespaceFile]: ' \n' }, 'kube-system', 'default outside a pod'],
    ['outside a pod (no POD_NAMESPACE, no service account), kube-system, as kube-controller-manager', [], {}, {}, 'kube-system', 'default outside a pod'],
  ];
  for (const [name, argv, env, files, namespace, source] of cases) {
    const { leaderElection, rotationRecord } = load([...generic, ...argv], files, env);
    t.same([leaderElection.resourceNamespace, leaderElection.resourceNamespaceSource], [namespace, source], name);
    t.equal(rotationRecord?.namespace, namespace, `${name}: the rotation record is beside the Lease`);
  }
  const file = 'apiVersion: csr-signer.io/v1alpha1\nkind: SignerConfiguration\nsigners:\n  - name: example.com/a\n    ca: { certFile: a.pem, keyFile: a-key.pem }\n    policy: { unrestricted: true }\n';
  t.match(load(['--config', 'signers.yaml'], { 'signers.yaml': file }).leaderElection, { resourceNamespace: 'kube-system', resourceNamespaceSource: 'default outside a pod' }, 'with --config the same rule as with the drop-in flags');
  t.match(load(['--config', 'signers.yaml'], { 'signers.yaml': file, [serviceAccountNamespaceFile]: 'pki' }).leaderElection, { resourceNamespace: 'pki', resourceNamespaceSource: 'service account' });
  t.match(failure([...generic], {}, { POD_NAMESPACE: 'Bad' }), { message: /the Lease namespace "Bad" \(from POD_NAMESPACE\)/ }, 'a bad namespace names its source');
  t.end();
});

void t.test('the result is frozen all the way down', (t) => {
  const config = load([...generic, '--signer-name', 'example.com/a', '--signer-unrestricted']);
  const frozen = [config, config.signers, config.signers[0], config.signers[0]?.ca, config.signers[0]?.policy, config.requestLimits, config.leaderElection];
  t.ok(frozen.every((o) => Object.isFrozen(o)), 'the config, the signer list, a signer, its CA, its policy, the limits, leader election');
  t.throws(() => {
    (config as { workers: number }).workers = 1;
  }, TypeError, 'a write throws in strict mode');
  t.end();
});

void t.test('--config may not be combined with signing flags', (t) => {
  const files = { 'signers.yaml': 'apiVersion: csr-signer.io/v1alpha1\nkind: SignerConfiguration\nsigners: [{name: example.com/a, ca: {certFile: c, keyFile: k}, policy: {unrestricted: true}}]\n' };
  const cases: [string, string[], string][] = [
    ['the generic pair', [...generic], '--config cannot be combined with --cluster-signing-cert-file, --cluster-signing-key-file: the config file defines every signer, with its own CA files'],
    ['--cluster-signing-duration', ['--cluster-signing-duration', '1h'], '--config cannot be combined with --cluster-signing-duration: the config file defines every signer, with its own CA files'],
    ['a per-signer file', ['--cluster-signing-legacy-unknown-cert-file', 'c'], '--config cannot be combined with --cluster-signing-legacy-unknown-cert-file: the config file defines every signer, with its own CA files'],
    ['--signer-name', ['--signer-name', 'example.com/a'], '--config cannot be combined with --signer-name: the config file defines every signer, with its own CA files'],
    ['--signer-unrestricted', ['--signer-unrestricted'], '--config cannot be combined with --signer-unrestricted: the config file defines every signer, with its own CA files'],
    ['--ca-key-passphrase-file', ['--ca-key-passphrase-file', 'p'], '--config cannot be combined with --ca-key-passphrase-file: the config file defines every signer, with its own CA files'],
  ];
  for (const [name, argv, message] of cases) t.match(failure(['--config', 'signers.yaml', ...argv], files), { kind: 'InvalidArgument', message }, name);
  t.equal(load(['--config', 'signers.yaml'], files).signers.length, 1, 'alone it is fine');
  t.match(failure(['--config', 'missing.yaml']), { kind: 'InvalidArgument', message: '--config: cannot read missing.yaml: ENOENT' }, 'an unreadable file is named');
  t.end();
});

void t.test('--http-address defaults to loopback outside a pod and to every address in one', (t) => {
  t.match(load([...generic], {}, {}), { httpAddress: '127.0.0.1:8080', httpAddressSource: 'default' }, 'a laptop or a control-plane host: loopback');
  t.match(load([...generic], {}, { KUBERNETES_SERVICE_HOST: '10.96.0.1' }), { httpAddress: '127.0.0.1:8080', httpAddressSource: 'default' },
    'in a pod too: a static pod with hostNetwork sees $KUBERNETES_SERVICE_HOST, and every address would be the node\'s');
  t.match(load([...generic, '--http-address', ':9090'], {}, { KUBERNETES_SERVICE_HOST: '10.96.0.1' }), { httpAddress: ':9090', httpAddressSource: 'flag' }, 'the flag wins anywhere');
  t.end();
});

void t.test('kube-controller-manager\'s verbosity maps to a log level: 0 to 3 info, 4 and above debug', (t) => {
  const cases: [string[], string][] = [
    [['--v=0'], 'info'], [['--v', '2'], 'info'], [['-v', '3'], 'info'], [['-v=4'], 'debug'], [['-v5'], 'debug'], [['--v=10'], 'debug'], [[], 'info'],
  ];
  for (const [argv, level] of cases) t.equal(load([...generic, ...argv]).logLevel, level, `${argv.join(' ') || 'neither'}: ${level}`);
  t.equal(failure([...generic, '--v=2', '--log-level', 'debug']).message, '--v and --log-level both set the log level: give one (--v 0–3 is info, 4 and above debug)', 'both given: refused, since they could disagree');
  t.match(failure([...generic, '--v=-1']), { kind: 'InvalidArgument', message: /^--v must be a whole number/ }, 'a negative verbosity');
  t.match(failure([...generic, '--v=high']), { kind: 'InvalidArgument', message: /^--v must be a whole number/ }, 'a word');
  t.end();
});

void t.test('--logging-format takes json (the default) or text, as kube-controller-manager\'s', (t) => {
  t.equal(load([...generic]).logFormat, 'json');
  t.equal(load([...generic, '--logging-format=text']).logFormat, 'text');
  t.equal(load([...generic, '--logging-format', 'json']).logFormat, 'json');
  t.equal(failure([...generic, '--logging-format', 'yaml']).message, '--logging-format must be one of json, text, not "yaml"');
  t.end();
});

void t.test('kube-controller-manager flags that mean nothing to a signer are refused with what to use instead', (t) => {
  const plainHttp = 'csr-signer serves /healthz, /livez, /readyz and /metrics over plain HTTP without authentication, not kube-controller-manager\'s HTTPS';
  const cases: [string[], string | RegExp][] = [
    [['--bind-address=127.0.0.1'], `--bind-address is kube-controller-manager's: ${plainHttp}: use --http-address HOST:PORT instead (and scheme HTTP in the probes)`],
    [['--secure-port', '10257'], `--secure-port is kube-controller-manager's: ${plainHttp}: use --http-address HOST:PORT instead (and scheme HTTP in the probes)`],
    [['--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf'], `--authentication-kubeconfig is kube-controller-manager's: ${plainHttp}: drop it, and keep --http-address off the network (a loopback address, or a NetworkPolicy)`],
    [['--controllers=*,bootstrapsigner,tokencleaner'], "--controllers is kube-controller-manager's: csr-signer runs the CSR signer, and with --approve the approver and the cleaner, by its own flags: keep --controllers on kube-controller-manager, with -csrsigning added (and -csrapproving,-csrcleaner when csr-signer approves and cleans), and drop it here (docs/replacing-kcm.md)"],
    [['--use-service-account-credentials=true'], /^--use-service-account-credentials is kube-controller-manager's: csr-signer runs its controllers under its own identity/],
    [['--root-ca-file=/etc/kubernetes/pki/ca.crt'], "--root-ca-file is kube-controller-manager's: configures a controller of kube-controller-manager other than the signer: keep it there and drop it here"],
    [['--experimental-cluster-signing-duration', '8760h'], "--experimental-cluster-signing-duration is kube-controller-manager's: renamed: use --cluster-signing-duration"],
    [['--logtostderr'], /^--logtostderr is kube-controller-manager's: csr-signer writes its log to stdout only/],
    [['--vmodule=x=4'], /^--vmodule is kube-controller-manager's: csr-signer has one log level for the whole process: drop it and set --v or --log-level$/],
  ];
  for (const [argv, message] of cases) {
    const error = failure([...generic, ...argv]);
    t.match(error, { kind: 'InvalidArgument', code: 'CSR_SIGNER_ERR_INVALID_ARGUMENT' }, argv[0] ?? '');
    if (typeof message === 'string') t.equal(error.message, message, `${argv[0] ?? ''}: the sentence`);
    else t.match(error.message, message, `${argv[0] ?? ''}: the sentence`);
  }
  t.end();
});

void t.test('run --help has an "Approver and cleaner" section with its four flags and their defaults', (t) => {
  const section = runUsage.split('\nApprover and cleaner:\n')[1]?.split('\n\n')[0] ?? '';
  t.ok(section, 'the section');
  const flat = section.replace(/\s+/g, ' ');
  t.same([...section.matchAll(/^ {2}--([a-z-]+)/gm)].map((m) => m[1]), ['approve', 'approve-mode', 'cleanup', 'signing'], 'its flags, in order');
  t.match(flat, '--approve-mode MODE', 'the mode takes a value');
  t.match(flat, 'kubernetes.io/kube-apiserver-client and legacy-unknown never', '--approve says what it leaves out');
  t.match(flat, '(default on with the approver in enforce mode, else off; or the config file\'s cleanup.enabled)', '--cleanup\'s default');
  t.match(flat, '(default true, or the config file\'s signing)', '--signing\'s default');
  t.match(runUsage.replace(/\s+/g, ' '), 'one of them is required, unless --signing=false', 'the head says signers may be left out');
  t.end();
});
