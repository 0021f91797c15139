/**
 * Who we are and where the API server is, as client-node reads it: a kubeconfig
 * file, else KUBECONFIG / ~/.kube/config / the in-cluster service account (whose
 * projected token rotates; client-node re-reads it every minute and so do we).
 * The only module that loads @kubernetes/client-node; it does so on demand.
 */
import type { AgentOptions } from 'node:https';
import { csrError } from '../errors.js';
import type { KubeEndpoint } from './kube-http.js';

const HEADER_REFRESH_MS = 30_000;

export interface LoadedKubeConfig {
  readonly endpoint: KubeEndpoint;
  /** The user's name in the kubeconfig, for logs. */
  readonly user: string;
}

export async function loadKubeConfig(file: string | undefined): Promise<LoadedKubeConfig> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  try {
    if (file === undefined) kc.loadFromDefault();
    else kc.loadFromFile(file);
  } catch (e) {
    throw csrError('InvalidArgument', `cannot load the kubeconfig${file === undefined ? '' : ` ${file}`}: ${(e as Error).message}`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw csrError('InvalidArgument', `the kubeconfig${file === undefined ? '' : ` ${file}`} has no current cluster`);
  const probe: { headers?: Record<string, string>; ca?: AgentOptions['ca']; cert?: AgentOptions['cert']; key?: AgentOptions['key']; rejectUnauthorized?: boolean; servername?: string } = {};
  try {
    await kc.applyToHTTPSOptions(probe);
  } catch (e) {
    throw csrError('InvalidArgument', `cannot use the kubeconfig's credentials: ${(e as Error).message}`);
  }
  const tls: AgentOptions = {};
  if (probe.ca !== undefined) tls.ca = probe.ca;
  if (probe.cert !== undefined) tls.cert = probe.cert;
  if (probe.key !== undefined) tls.key = probe.key;
  if (probe.rejectUnauthorized !== undefined) tls.rejectUnauthorized = probe.rejectUnauthorized;
  if (cluster.tlsServerName) tls.servername = cluster.tlsServerName;

  let headers = { ...probe.headers };
  let refreshedAt = Date.now();
  let refreshing: Promise<void> | undefined;
  const refresh = async (): Promise<void> => {
    const next: { headers?: Record<string, string> } = {};
    await kc.applyToHTTPSOptions(next);
    headers = { ...next.headers };
    refreshedAt = Date.now();
  };
  return {
    user: kc.getCurrentUser()?.name ?? 'unknown',
    endpoint: {
      server: cluster.server.replace(/\/+$/, ''),
      tls,
      async headers() {
        if (Date.now() - refreshedAt > HEADER_REFRESH_MS) {
          refreshing ??= refresh().finally(() => { refreshing = undefined; });
          await refreshing;
        }
        return headers;
      },
    },
  };
}
