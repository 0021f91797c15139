/**
 * kube-controller-manager's flags besides signing, as they arrive in a manifest copied
 * over: its verbosity (`--v`/`-v`) mapped to a log level, and every other flag of a
 * kubeadm manifest that means nothing to a signer refused with one sentence saying
 * what to do instead. docs/replacing-kcm.md has the same table.
 */
import { csrError } from '../errors.js';
import { integerFlag } from '../numbers.js';
import type { LogLevel } from './types.js';

/**
 * klog's -v levels as the Kubernetes logging conventions define them
 * (kubernetes/community contributors/devel/sig-instrumentation/logging.md): 0–1 what an
 * operator always wants, 2 "useful steady state information … the recommended default",
 * 3 extended information about changes, 4 and above debug (then requests, headers,
 * bodies). csr-signer's info lines are its steady state and changes (start, leadership,
 * CA reloads, one audit record per certificate), its debug lines the per-request detail:
 * 0–3 is info, 4 and above debug. klog has no level below 0, so warn and error are
 * reached only through --log-level.
 */
export function levelFromVerbosity(text: string): LogLevel {
  return integerFlag('v', text, { min: 0, max: 2 ** 31 - 1 }) >= 4 ? 'debug' : 'info';
}

const plainHttp = 'csr-signer serves /healthz, /livez, /readyz and /metrics over plain HTTP without authentication, not kube-controller-manager\'s HTTPS';
const noServerAuth = `${plainHttp}: drop it, and keep --http-address off the network (a loopback address, or a NetworkPolicy)`;
const otherController = 'configures a controller of kube-controller-manager other than the signer: keep it there and drop it here';
const logsToStdout = 'csr-signer writes its log to stdout only, one line per record (--logging-format json or text): drop it';

/** kube-controller-manager flags csr-signer refuses, each with what to do instead (without the leading dashes). */
export const refusedKcmFlags: Readonly<Record<string, string>> = {
  'bind-address': `${plainHttp}: use --http-address HOST:PORT instead (and scheme HTTP in the probes)`,
  'secure-port': `${plainHttp}: use --http-address HOST:PORT instead (and scheme HTTP in the probes)`,
  'authentication-kubeconfig': noServerAuth,
  'authorization-kubeconfig': noServerAuth,
  'authorization-always-allow-paths': noServerAuth,
  'client-ca-file': noServerAuth,
  'requestheader-client-ca-file': noServerAuth,
  'requestheader-allowed-names': noServerAuth,
  'tls-cert-file': noServerAuth,
  'tls-private-key-file': noServerAuth,
  'tls-cipher-suites': noServerAuth,
  'tls-min-version': noServerAuth,
  'cert-dir': noServerAuth,
  'controllers': 'csr-signer runs the CSR signer, and with --approve the approver and the cleaner, by its own flags: keep --controllers on kube-controller-manager, with -csrsigning added (and -csrapproving,-csrcleaner when csr-signer approves and cleans), and drop it here (docs/replacing-kcm.md)',
  'use-service-account-credentials': 'csr-signer runs its controllers under its own identity (--kubeconfig, or the pod\'s service account): drop it',
  'master': 'csr-signer takes the API server\'s address from its kubeconfig: use --kubeconfig FILE',
  'leader-elect-resource-lock': 'csr-signer always locks a Lease (kube-controller-manager\'s only choice today, "leases"): drop it',
  'experimental-cluster-signing-duration': 'renamed: use --cluster-signing-duration',
  'kube-api-qps': 'csr-signer does not throttle its API client (it sends one status write per certificate); --retry-qps and --retry-burst bound its retries: drop it',
  'kube-api-burst': 'csr-signer does not throttle its API client (it sends one status write per certificate); --retry-qps and --retry-burst bound its retries: drop it',
  'feature-gates': 'csr-signer has no feature gates: drop it',
  'profiling': 'csr-signer serves no profiling endpoint: drop it',
  'contention-profiling': 'csr-signer serves no profiling endpoint: drop it',
  'vmodule': 'csr-signer has one log level for the whole process: drop it and set --v or --log-level',
  'log-flush-frequency': logsToStdout,
  'log-dir': logsToStdout,
  'log-file': logsToStdout,
  'logtostderr': logsToStdout,
  'alsologtostderr': logsToStdout,
  'root-ca-file': otherController,
  'service-account-private-key-file': otherController,
  'cluster-cidr': otherController,
  'service-cluster-ip-range': otherController,
  'allocate-node-cidrs': otherController,
  'cluster-name': otherController,
  'node-cidr-mask-size': otherController,
  'configure-cloud-routes': otherController,
  'cloud-provider': otherController,
};

/** The sentence for a refused kube-controller-manager flag (`--name`, `--name=value`), or undefined. */
export function refusedKcmFlag(flag: string): string | undefined {
  const name = /^--?([^=]+)/.exec(flag)?.[1];
  const why = name === undefined || !Object.hasOwn(refusedKcmFlags, name) ? undefined : refusedKcmFlags[name];
  return why === undefined ? undefined : `--${name} is kube-controller-manager's: ${why}`;
}

/** The log level from --v or --log-level; both given is an error, since they could disagree. */
export function logLevelFrom(verbosity: string | undefined, level: LogLevel | undefined): LogLevel {
  if (verbosity !== undefined && level !== undefined) throw csrError('InvalidArgument', '--v and --log-level both set the log level: give one (--v 0–3 is info, 4 and above debug)');
  if (verbosity !== undefined) return levelFromVerbosity(verbosity);
  return level ?? 'info';
}
