/**
 * The --leader-elect* flags, named and defaulted as kube-controller-manager's
 * (component-base's LeaderElectionConfiguration), checked as client-go's leader
 * elector checks them before it starts.
 *
 * The Lease's namespace, unless given, is the pod's, found as client-go finds it
 * in a pod (tools/clientcmd/client_config.go, inClusterClientConfig.Namespace:
 * $POD_NAMESPACE, then the service account's namespace file). Where neither says
 * (not in a pod, or a static pod with no service account, as kube-controller-manager
 * runs) it is kube-system, kube-controller-manager's own default
 * (cmd/kube-controller-manager/app/options/options.go), not client-go's "default":
 * that is where a drop-in beside kube-controller-manager runs. The start-up log
 * line says which it is, and a Lease the identity may not use makes the replica
 * not ready with a message naming the permission and the namespace.
 */
import { formatDuration } from '../duration.js';
import { csrError, isCsrSignerError } from '../errors.js';
import type { LeaderElectionConfig, LeaseNamespaceSource } from './types.js';
import { durationFlag } from './flag-values.js';
import type { RunFlags } from './flags.js';
import type { ReadFile } from './types.js';

/** The Lease's namespace where no pod says (outside a pod, or a static pod without a service account): kube-controller-manager's. */
export const leaseNamespaceOutsidePod = 'kube-system';

/** Where a pod finds its own namespace. */
export const serviceAccountNamespaceFile = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
/** client-go leaderelection.JitterFactor: the renew deadline must exceed the retry period by this factor. */
const jitterFactor = 1.2;

const dns1123Label = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** What each source is called in an error message. */
const sourceNames: Record<LeaseNamespaceSource, string> = {
  'flag': '--leader-elect-resource-namespace',
  'POD_NAMESPACE': 'POD_NAMESPACE',
  'service account': serviceAccountNamespaceFile,
  'default outside a pod': 'the default',
};

/** The flag, else $POD_NAMESPACE, else the service account's namespace file, else kube-system. */
function leaseNamespace(
  flags: RunFlags, env: Readonly<Record<string, string | undefined>>, readFile: ReadFile,
): { namespace: string; from: LeaseNamespaceSource } {
  const given = flags.values['leader-elect-resource-namespace'];
  if (given !== undefined) return { namespace: given, from: 'flag' };
  const pod = env.POD_NAMESPACE;
  if (pod !== undefined && pod !== '') return { namespace: pod, from: 'POD_NAMESPACE' };
  let text = '';
  try {
    text = readFile(serviceAccountNamespaceFile, 'namespace').trim();
  } catch (e) {
    // Not in a pod: fall back as kube-controller-manager does. A file too large or stalled is not that.
    if (isCsrSignerError(e)) throw e;
  }
  return text === '' ? { namespace: leaseNamespaceOutsidePod, from: 'default outside a pod' } : { namespace: text, from: 'service account' };
}

export function readLeaderElection(
  flags: RunFlags, env: Readonly<Record<string, string | undefined>>, readFile: ReadFile,
): LeaderElectionConfig {
  const v = flags.values;
  const enabled = flags.booleans['leader-elect'] ?? true;
  const leaseDurationMs = durationFlag(v, 'leader-elect-lease-duration', '15s');
  const renewDeadlineMs = durationFlag(v, 'leader-elect-renew-deadline', '10s');
  const retryPeriodMs = durationFlag(v, 'leader-elect-retry-period', '2s');
  const resourceName = v['leader-elect-resource-name'] ?? 'csr-signer';
  const { namespace, from } = leaseNamespace(flags, env, readFile);
  if (enabled) {
    if (leaseDurationMs <= renewDeadlineMs) {
      throw csrError('InvalidArgument', `--leader-elect-lease-duration (${formatDuration(leaseDurationMs)}) must be greater than --leader-elect-renew-deadline (${formatDuration(renewDeadlineMs)})`);
    }
    if (renewDeadlineMs <= jitterFactor * retryPeriodMs) {
      throw csrError('InvalidArgument', `--leader-elect-renew-deadline (${formatDuration(renewDeadlineMs)}) must be greater than ${jitterFactor} × --leader-elect-retry-period (${formatDuration(retryPeriodMs)}), as client-go's leader election requires`);
    }
  }
  if (resourceName.length > 253 || !dns1123Subdomain.test(resourceName)) {
    throw csrError('InvalidArgument', `--leader-elect-resource-name ${JSON.stringify(resourceName)} is not a valid Lease name: lower case letters, digits, '-' and '.', starting and ending with a letter or digit`);
  }
  if (!dns1123Label.test(namespace)) {
    throw csrError('InvalidArgument', `the Lease namespace ${JSON.stringify(namespace)} (from ${sourceNames[from]}) is not a valid namespace: 1–63 lower case letters, digits or '-', starting and ending with a letter or digit`);
  }
  return { enabled, leaseDurationMs, renewDeadlineMs, retryPeriodMs, resourceName, resourceNamespace: namespace, resourceNamespaceSource: from };
}
