/**
 * The flags of `csr-signer run`: one table gives node:util parseArgs its options
 * and `runUsage` its text, so the two cannot drift. Boolean flags also take
 * `--flag=true|false` (Go's strconv.ParseBool spellings), as Kubernetes flags do.
 */
import { parseArgs } from 'node:util';
import { csrError } from '../errors.js';
import { refusedKcmFlag } from './kcm-compat.js';

interface FlagSpec {
  readonly name: string;
  /** The value's placeholder; absent: a boolean flag. */
  readonly arg?: string;
  readonly multiple?: true;
  /** A one-letter form (`-v`). */
  readonly short?: string;
  /** As shown in the help; the parsers in load.ts apply it. */
  readonly default?: string;
  readonly help: string;
}

const pair = (signer: string, flag: string): FlagSpec[] => [
  { name: `cluster-signing-${flag}-cert-file`, arg: 'FILE', help: `CA certificate (PEM) for ${signer} only` },
  { name: `cluster-signing-${flag}-key-file`, arg: 'FILE', help: `CA private key (PEM, or a pkcs11: URI) for ${signer} only` },
];

const sections: readonly { readonly title: string; readonly flags: readonly FlagSpec[] }[] = [
  { title: 'Cluster', flags: [
    { name: 'kubeconfig', arg: 'FILE', help: 'kubeconfig of the signer (default: $KUBECONFIG, then the in-cluster service account, then ~/.kube/config); its proxy-url, HTTPS_PROXY/NO_PROXY and as: impersonation are followed as client-go follows them' },
  ] },
  { title: 'Signers, as kube-controller-manager (drop-in flags, same names and rules)', flags: [
    { name: 'cluster-signing-cert-file', arg: 'FILE', help: 'CA certificate (PEM) of every signer: the four kubernetes.io/* signers, or the --signer-name ones' },
    { name: 'cluster-signing-key-file', arg: 'FILE', help: 'CA private key (PEM) that goes with --cluster-signing-cert-file; or a pkcs11: URI (RFC 7512) of the key on a PKCS#11 token, with --pkcs11-module and --pkcs11-pin-file or --pkcs11-pin-env' },
    { name: 'cluster-signing-duration', arg: 'DURATION', default: '8760h', help: 'the longest certificate issued, Go syntax (and the lifetime when a request asks for none)' },
    ...pair('kubernetes.io/kubelet-serving', 'kubelet-serving'),
    ...pair('kubernetes.io/kube-apiserver-client-kubelet', 'kubelet-client'),
    ...pair('kubernetes.io/kube-apiserver-client', 'kube-apiserver-client'),
    ...pair('kubernetes.io/legacy-unknown', 'legacy-unknown'),
    { name: 'signer-name', arg: 'NAME', multiple: true, help: 'serve this signerName (repeatable) with the --cluster-signing-{cert,key}-file CA, instead of the kubernetes.io/* signers; a custom name needs --signer-unrestricted (a policy needs --config)' },
    { name: 'signer-unrestricted', help: 'let the --signer-name signers sign any DNS name and IP address an approver approved (no policy); without it a custom --signer-name is refused' },
    { name: 'ca-key-passphrase-file', arg: 'FILE', help: 'passphrase of an encrypted CA key given by a --cluster-signing-* flag (first line of FILE)' },
    { name: 'pkcs11-module', arg: 'FILE', help: 'the PKCS#11 module (a shared library, absolute path) of the token holding a pkcs11: key of a --cluster-signing-* flag (may be left out when the URI has module-path)' },
    { name: 'pkcs11-pin-file', arg: 'FILE', help: 'the token\'s user PIN: the first line of FILE (never a flag value)' },
    { name: 'pkcs11-pin-env', arg: 'NAME', help: 'the token\'s user PIN: the environment variable NAME, instead of --pkcs11-pin-file' },
  ] },
  { title: 'Signers, from a file (not with the flags above)', flags: [
    { name: 'config', arg: 'FILE', help: 'a SignerConfiguration YAML file: several signers, each with its CA, durations, usages and policy' },
  ] },
  { title: 'Approver and cleaner', flags: [
    { name: 'approve', help: 'approve CSRs by policy: kubernetes.io/kube-apiserver-client-kubelet and kubernetes.io/kubelet-serving by their profiles, a custom signer of --config by its policy (kubernetes.io/kube-apiserver-client and legacy-unknown never); with --config, its approver: section when it has one (--approve=false turns that off)' },
    { name: 'approve-mode', arg: 'MODE', default: 'enforce, or the config file\'s approver.mode', help: 'enforce (write Approved or Denied) or audit (decide, log and count, write nothing)' },
    { name: 'cleanup', default: 'on with the approver in enforce mode, else off; or the config file\'s cleanup.enabled', help: 'delete finished and stale CSRs as kube-controller-manager\'s csrcleaner (--cleanup=false: keep them)' },
    { name: 'signing', default: 'true, or the config file\'s signing', help: 'sign approved CSRs (--signing=false: only approve and clean; no CA is loaded, and the CA flags, --rotation-record and a config file\'s ca: and trust: are refused)' },
  ] },
  { title: 'Work', flags: [
    { name: 'workers', arg: 'N', default: '5', help: 'CSRs signed concurrently' },
    { name: 'retry-qps', arg: 'QPS', default: '10', help: 'retries per second over all CSRs (a token bucket, as client-go\'s workqueue)' },
    { name: 'retry-burst', arg: 'N', default: '100', help: 'the token bucket\'s burst' },
    { name: 'retry-base-delay', arg: 'DURATION', default: '200ms', help: 'first retry delay of a CSR after a transient error; doubles each time' },
    { name: 'retry-max-delay', arg: 'DURATION', default: '1000s', help: 'the longest retry delay of a CSR' },
    { name: 'watch-quiet-timeout', arg: 'DURATION', default: '5m', help: 'a watch still open and silent this long past the 5–10 minute timeout it asks the server for is restarted' },
    { name: 'request-max-bytes', arg: 'N', default: '65536', help: 'largest request accepted (spec.request), in bytes' },
    { name: 'request-max-sans', arg: 'N', default: '1000', help: 'most subjectAltNames in one request' },
    { name: 'request-max-name-length', arg: 'N', default: '1024', help: 'longest subject value or DNS, email or URI name in a request (DNS names: at most 253)' },
  ] },
  { title: 'Leader election, as kube-controller-manager', flags: [
    { name: 'leader-elect', default: 'true', help: 'run only while holding a Lease (--leader-elect=false: always run)' },
    { name: 'leader-elect-lease-duration', arg: 'DURATION', default: '15s', help: 'how long non-leaders wait before taking an unrenewed Lease' },
    { name: 'leader-elect-renew-deadline', arg: 'DURATION', default: '10s', help: 'how long the leader tries to renew before it stops leading; less than the lease duration' },
    { name: 'leader-elect-retry-period', arg: 'DURATION', default: '2s', help: 'wait between attempts to take or renew the Lease; renew deadline > 1.2 × this' },
    { name: 'leader-elect-resource-name', arg: 'NAME', default: 'csr-signer', help: 'name of the Lease' },
    { name: 'leader-elect-resource-namespace', arg: 'NAMESPACE', default: 'the pod\'s: $POD_NAMESPACE, else the service account\'s namespace; outside a pod kube-system, as kube-controller-manager', help: 'namespace of the Lease (and of the rotation record); the identity needs get, update and create on leases there' },
  ] },
  { title: 'Trust bundles and CA rotation', flags: [
    { name: 'rotation-record', arg: 'NAME', default: 'csr-signer-rotation', help: 'ConfigMap, in the Lease\'s namespace, where the signer records per CA how long its certificates stay valid (what `csr-signer rotation status` reads); "" keeps that in memory only' },
    { name: 'trust-resync-interval', arg: 'DURATION', default: '5m', help: 'how often every published trust bundle is read back and repaired besides CA and namespace changes' },
  ] },
  { title: 'Operations', flags: [
    { name: 'http-address', arg: 'HOST:PORT', default: '127.0.0.1:8080 (in a pod whose probes reach its IP, give :8080; the chart does)', help: 'listen address of /healthz, /livez, /readyz and /metrics (plain HTTP, no authentication), in place of kube-controller-manager\'s HTTPS serving flags' },
    { name: 'shutdown-timeout', arg: 'DURATION', default: '30s', help: 'on SIGTERM, how long signings in flight may take to finish; a second signal exits at once' },
    { name: 'ca-reload-interval', arg: 'DURATION', default: '10s', help: 'how often the CA files are re-read besides change notifications' },
    { name: 'strict-key-permissions', help: 'refuse a CA key file or PKCS#11 PIN file that is world-readable (default: log a warning and load it)' },
    { name: 'log-level', arg: 'LEVEL', default: 'info', help: 'error, warn, info or debug' },
    { name: 'v', short: 'v', arg: 'N', help: 'kube-controller-manager\'s verbosity, instead of --log-level: 0 to 3 is info, 4 and above debug' },
    { name: 'logging-format', arg: 'FORMAT', default: 'json', help: 'json (one JSON object a line) or text (one human-readable line: time, level, message, key=value), as kube-controller-manager\'s flag (whose default is text)' },
    { name: 'no-events', help: 'do not write Kubernetes Events on CSRs (default: Events are written)' },
  ] },
];

const flags: readonly FlagSpec[] = sections.flatMap((s) => s.flags);
/** Every flag `csr-signer run` accepts, without the leading dashes. */
export const runFlagNames: readonly string[] = flags.map((f) => f.name);

const column = 38;
const width = 100;

/** Words of `text` in lines of at most `width - column` characters. */
function wrap(text: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width - column) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  return [...lines, line];
}

const usageLine = (f: FlagSpec): string => {
  const head = `  ${f.short === undefined ? '' : `-${f.short}, `}--${f.name}${f.arg === undefined ? '' : ` ${f.arg}`}`;
  const help = wrap(`${f.help}${f.default === undefined ? '' : ` (default ${f.default})`}`);
  const indent = ' '.repeat(column);
  const first = head.length < column ? `${head.padEnd(column)}${help[0] ?? ''}` : `${head}\n${indent}${help[0] ?? ''}`;
  return [first, ...help.slice(1).map((l) => `${indent}${l}`)].join('\n');
};

export const runUsage = `Usage: csr-signer run [options]

Watches approved CertificateSigningRequests of its signers and issues their
certificates. Signers come either from kube-controller-manager's flags or from
--config FILE; one of them is required, unless --signing=false (approve and clean
only). Reference: docs/configuration.md; the approver: docs/approver.md.
${sections.map((s) => `\n${s.title}:\n${s.flags.map(usageLine).join('\n')}\n`).join('')}
  -h, --help                          this help
`;

export interface RunFlags {
  /** String flags as given (the last one wins); an empty file flag counts as not given, as in kube-controller-manager. */
  readonly values: Readonly<Record<string, string | undefined>>;
  readonly signerNames: readonly string[];
  /** Boolean flags given, by name. */
  readonly booleans: Readonly<Record<string, boolean | undefined>>;
}

const goTrue = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const goFalse = ['0', 'f', 'F', 'FALSE', 'false', 'False'];
const booleanNames = new Set(flags.filter((f) => f.arg === undefined).map((f) => f.name));

/** Parses argv strictly: an unknown flag, a stray argument or a missing value is an InvalidArgument error. */
export function parseRunFlags(argv: readonly string[]): RunFlags {
  const booleans: Record<string, boolean> = {};
  const args: string[] = [];
  for (const [i, arg] of argv.entries()) {
    if (arg === '--') {
      args.push(...argv.slice(i));
      break;
    }
    // Boolean flags are read here, in order (the last one wins), and kept from parseArgs.
    const m = /^--([^=]+)(?:=(.*))?$/s.exec(arg);
    const name = m?.[1];
    if (name === undefined || !booleanNames.has(name)) {
      // pflag reads -v=2 as -v 2; node:util's parseArgs would take "=2".
      args.push(...(/^-[a-zA-Z]=/.test(arg) ? [arg.slice(0, 2), arg.slice(3)] : [arg]));
      continue;
    }
    const text = m?.[2] ?? 'true';
    if (!goTrue.includes(text) && !goFalse.includes(text)) throw csrError('InvalidArgument', `--${name} takes true or false, not ${JSON.stringify(text)}`);
    booleans[name] = goTrue.includes(text);
  }
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: Object.fromEntries(flags.filter((f) => f.arg !== undefined)
        .map((f) => [f.name, { type: 'string', multiple: f.multiple === true, ...(f.short === undefined ? {} : { short: f.short }) }] as const)),
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    const message = (e as Error).message;
    const unknown = /^Unknown option '([^']+)'/.exec(message)?.[1];
    if (unknown !== undefined) throw csrError('InvalidArgument', refusedKcmFlag(unknown) ?? `unknown flag ${unknown} (csr-signer run --help lists the flags)`);
    const stray = /^Unexpected argument '([^']*)'/.exec(message)?.[1];
    if (stray !== undefined) throw csrError('InvalidArgument', `unexpected argument ${JSON.stringify(stray)}: csr-signer run takes only flags`);
    // "Option '--workers <value>' argument missing", or with a short form "Option '-v, --v <value>' …".
    const valueless = /^Option '(?:-[^-], )?(-[^ ']+)(?: <value>)?' argument missing/.exec(message)?.[1];
    if (valueless !== undefined) throw csrError('InvalidArgument', `${valueless} needs a value`);
    throw csrError('InvalidArgument', message);
  }
  const values: Record<string, string | undefined> = {};
  let signerNames: string[] = [];
  for (const [name, value] of Object.entries(parsed.values)) {
    if (Array.isArray(value)) signerNames = value.filter((v): v is string => typeof v === 'string');
    else if (typeof value === 'string' && !(value === '' && name.endsWith('-file'))) values[name] = value;
  }
  return { values, signerNames, booleans };
}
