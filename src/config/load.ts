/**
 * loadRunConfig: the only reader of argv, the environment and config files.
 * Everything is checked at start; the result is one deep-frozen RunConfig.
 */
import { csrError } from '../errors.js';
import { addressFlag, choiceFlag, countFlag, durationFlag, rateFlag } from './flag-values.js';
import { parseRunFlags } from './flags.js';
import { logLevelFrom } from './kcm-compat.js';
import { readLeaderElection } from './leader-election.js';
import type { HttpAddressSource, LogFormat, LogLevel, ReadFile, RunConfig } from './types.js';
import { readWork } from './work.js';

export type { ReadFile } from './types.js';

export const logLevels: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];
export const logFormats: readonly LogFormat[] = ['json', 'text'];

/**
 * The --http-address default: loopback, everywhere, so unauthenticated health and
 * metrics are never on every interface unless asked. Not "every address in a pod":
 * a static pod on a control-plane node (hostNetwork, as kube-controller-manager runs)
 * may see $KUBERNETES_SERVICE_HOST too, and would then put them on the node's
 * interfaces. A Deployment passes --http-address :8080 (the chart does).
 */
export function defaultHttpAddress(): { address: string; source: HttpAddressSource } {
  return { address: '127.0.0.1:8080', source: 'default' };
}

/** Freezes `value` and everything reachable from it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Reads `csr-signer run`'s flags (`argv`, without the command), the environment
 * (POD_NAMESPACE) and files (--config, the service account namespace) through
 * `readFile`. Throws a CsrSignerError (InvalidArgument, InvalidConfig) naming the
 * flag, or the file, signer and field, that is wrong.
 */
export function loadRunConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  readFile: ReadFile,
): RunConfig {
  const flags = parseRunFlags(argv);
  const v = flags.values;
  const { signers, signing, approver, cleanup } = readWork(flags, readFile);
  const retryBaseDelayMs = durationFlag(v, 'retry-base-delay', '200ms');
  const retryMaxDelayMs = durationFlag(v, 'retry-max-delay', '1000s');
  if (retryBaseDelayMs > retryMaxDelayMs) {
    throw csrError('InvalidArgument', `--retry-base-delay (${v['retry-base-delay'] ?? '200ms'}) must not be longer than --retry-max-delay (${v['retry-max-delay'] ?? '1000s'})`);
  }
  const kubeconfig = v.kubeconfig;
  const leaderElection = readLeaderElection(flags, env, readFile);
  const rotationRecord = v['rotation-record'] ?? 'csr-signer-rotation';
  if (rotationRecord !== '' && (rotationRecord.length > 253 || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(rotationRecord))) {
    throw csrError('InvalidArgument', `--rotation-record ${JSON.stringify(rotationRecord)} is not a valid ConfigMap name: lower case letters, digits, '-' and '.', starting and ending with a letter or digit (or "" for none)`);
  }
  const http = v['http-address'] === undefined ? defaultHttpAddress() : { address: v['http-address'], source: 'flag' as const };
  const config: RunConfig = {
    ...(kubeconfig === undefined ? {} : { kubeconfig }),
    signers,
    // Absent means on (RunConfig.signing), so configurations that only sign keep their shape.
    ...(signing ? {} : { signing: false }),
    ...(approver === undefined ? {} : { approver }),
    ...(cleanup === undefined ? {} : { cleanup }),
    workers: countFlag(v, 'workers', '5'),
    retryQps: rateFlag(v, 'retry-qps', '10'),
    retryBurst: countFlag(v, 'retry-burst', '100'),
    retryBaseDelayMs,
    retryMaxDelayMs,
    watchQuietTimeoutMs: durationFlag(v, 'watch-quiet-timeout', '5m'),
    requestLimits: {
      maxBytes: countFlag(v, 'request-max-bytes', '65536'),
      maxSubjectAltNames: countFlag(v, 'request-max-sans', '1000'),
      maxNameLength: countFlag(v, 'request-max-name-length', '1024'),
    },
    httpAddress: addressFlag(v, 'http-address', http.address),
    httpAddressSource: http.source,
    shutdownTimeoutMs: durationFlag(v, 'shutdown-timeout', '30s'),
    caReloadIntervalMs: durationFlag(v, 'ca-reload-interval', '10s'),
    strictKeyPermissions: flags.booleans['strict-key-permissions'] ?? false,
    leaderElection,
    logLevel: logLevelFrom(v.v, v['log-level'] === undefined ? undefined : choiceFlag(v, 'log-level', logLevels, 'info')),
    logFormat: choiceFlag(v, 'logging-format', logFormats, 'json'),
    events: !(flags.booleans['no-events'] ?? false),
    ...(rotationRecord === '' ? {} : { rotationRecord: { namespace: leaderElection.resourceNamespace, name: rotationRecord } }),
    trustResyncIntervalMs: durationFlag(v, 'trust-resync-interval', '5m'),
  };
  return deepFreeze(config);
}
