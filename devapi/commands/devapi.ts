/** `csr-signer devapi`: the development Kubernetes API server, for laptops and end-to-end tests. */
import { parseArgs } from 'node:util';
import {
  BOOTSTRAP_TOKEN_PATTERN, clusterTrustBundleVersions, DevApi, podCertificateVersions, type ClusterTrustBundleVersion, type PodCertificateVersion,
} from '../server/server.js';
import { csrError, isCsrSignerError } from '../../src/errors.js';
import { portRange } from '../../src/config/flag-values.js';
import { readBoundedText } from '../../src/files.js';
import { integerFlag } from '../../src/numbers.js';
import { flagError, listenError } from '../../src/commands/exit.js';

export const devapiUsage = `Usage: csr-signer devapi --state-dir DIR [options]

Serves the slice of the Kubernetes API that csr-signer and its users touch
(CertificateSigningRequests, PodCertificateRequests, Leases, Events, Namespaces,
ConfigMaps, ClusterTrustBundles, Nodes, Pods, ServiceAccounts, RBAC checks) over HTTPS on
127.0.0.1, for trying csr-signer without a cluster and for end-to-end tests.
Not a production API server. See docs/devapi.md.

  --state-dir DIR        where objects, the CA, tokens and kubeconfigs live (kept across restarts)
  --port P               port on 127.0.0.1 (default 0: any free port)
  --kubernetes-minor N   the minor version /version reports, 27–37 (default 32); the
                         kubectl dispatcher runs the matching kubectl (1.32 above 33).
                         35 and later serve PodCertificateRequests as with the feature
                         on: 35 v1beta1 (no stubPKCS10Request), 36 v1beta1, 37 v1 and v1beta1
  --pod-certificate-versions LIST
                         the certificates.k8s.io versions that serve PodCertificateRequests,
                         whatever --kubernetes-minor says: v1,v1beta1, v1, v1beta1 or none
  --signer-name NAME     a signer name the signer identity may sign for; repeat for
                         more (default example.com/* and kubernetes.io/*)
  --signer-approves      the signer identity may also approve (the approver's rules, Nodes
                         included, for the same signer names), as with csr-signer run --approve
  --signer-cleans        the signer identity may also delete CSRs (the cleaner's rules)
  --policy FILE          extra RBAC YAML (ClusterRole, Role, bindings) applied over the defaults
  --cluster-trust-bundle-versions LIST
                         the certificates.k8s.io versions that serve ClusterTrustBundles:
                         v1,v1beta1 (default, as Kubernetes 1.37 with the beta API on), v1
                         (1.37 on, by default), v1beta1 (1.33 to 1.36 with the beta API on)
                         or none; whatever --kubernetes-minor says
  --no-cluster-trust-bundles
                         serve no ClusterTrustBundles (--cluster-trust-bundle-versions none)
  --no-watch-bookmarks   send no watch bookmarks, even when a client asks (the API promises none)
  --namespace-termination-seconds N
                         how long a deleted namespace stays Terminating before it and
                         its contents go, 0–3600 (default 2)
  --bootstrap-token ID.SECRET
                         a bootstrap token ([a-z0-9]{6}.[a-z0-9]{16}, as kubeadm makes them):
                         it authenticates as system:bootstrap:ID in system:bootstrappers,
                         and DIR/bootstrap-ID.kubeconfig uses it; repeat for more. The
                         value is visible to every local user in the process list
  --bootstrap-token-file FILE
                         bootstrap tokens, one a line (blank lines skipped), as
                         --bootstrap-token: keeps the secrets out of the process list
  --client-ca-file FILE  a PEM bundle of CAs: a client certificate that verifies against it
                         authenticates as its subject CN, in groups of its O values
  --verbose              log every request to stderr

Writes DIR/admin.kubeconfig (cluster admin), DIR/signer.kubeconfig (only the
signer's permissions), DIR/approver.kubeconfig and DIR/requester.kubeconfig, then
prints one line with "ready" and the URL. Stops on SIGINT or SIGTERM.
`;

export async function runDevapi(argv: readonly string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        'state-dir': { type: 'string' },
        port: { type: 'string', default: '0' },
        'kubernetes-minor': { type: 'string', default: '32' },
        'signer-name': { type: 'string', multiple: true },
        policy: { type: 'string' },
        'cluster-trust-bundle-versions': { type: 'string' },
        'pod-certificate-versions': { type: 'string' },
        'no-cluster-trust-bundles': { type: 'boolean', default: false },
        'namespace-termination-seconds': { type: 'string', default: '2' },
        'no-watch-bookmarks': { type: 'boolean', default: false },
        'signer-approves': { type: 'boolean', default: false },
        'signer-cleans': { type: 'boolean', default: false },
        'bootstrap-token': { type: 'string', multiple: true },
        'bootstrap-token-file': { type: 'string' },
        'client-ca-file': { type: 'string' },
        verbose: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw flagError('devapi', e);
  }
  const stateDir = values['state-dir'];
  if (!stateDir) throw csrError('InvalidArgument', '--state-dir is required (see csr-signer devapi --help)');
  const port = integerFlag('port', values.port, portRange);
  const minor = integerFlag('kubernetes-minor', values['kubernetes-minor'], { min: 27, max: 37 });
  const pcrVersions = podCertificateVersionsFlag(values['pod-certificate-versions']);
  const terminationSeconds = integerFlag('namespace-termination-seconds', values['namespace-termination-seconds'], { min: 0, max: 3600 });
  const bundleVersions = clusterTrustBundleVersionsFlag(values['cluster-trust-bundle-versions'], values['no-cluster-trust-bundles']);
  const policyYaml = values.policy ? readFlagFile(values.policy, 'policy') : undefined;
  const bootstrapTokens = values['bootstrap-token'] ?? [];
  // The value is a secret: the message never repeats it.
  if (bootstrapTokens.some((token) => !BOOTSTRAP_TOKEN_PATTERN.test(token))) {
    throw csrError('InvalidArgument', '--bootstrap-token must have the form [a-z0-9]{6}.[a-z0-9]{16} (token id, a dot, token secret)');
  }
  if (values['bootstrap-token-file'] !== undefined) bootstrapTokens.push(...bootstrapTokenFile(values['bootstrap-token-file']));
  const clientCaPem = values['client-ca-file'] === undefined ? undefined : readFlagFile(values['client-ca-file'], 'caCertificate');
  let devapi: DevApi;
  try {
    devapi = new DevApi({
      stateDir, port, minorVersion: minor, readText: readBoundedText, namespaceTerminationSeconds: terminationSeconds,
      ...(values['no-watch-bookmarks'] ? { watchBookmarks: false } : {}),
      ...(values['signer-name'] ? { signerNames: values['signer-name'] } : {}),
      ...(policyYaml === undefined ? {} : { policyYaml }),
      ...(bundleVersions === undefined ? {} : { clusterTrustBundleVersions: bundleVersions }),
      ...(pcrVersions === undefined ? {} : { podCertificateVersions: pcrVersions }),
      ...(bootstrapTokens.length > 0 ? { bootstrapTokens } : {}),
      ...(values['signer-approves'] ? { signerApproves: true } : {}),
      ...(values['signer-cleans'] ? { signerCleans: true } : {}),
      ...(clientCaPem === undefined ? {} : { clientCaPem }),
      ...(values.verbose ? { log: (line: string) => err.write(`${line}\n`) } : {}),
    });
  } catch (e) {
    throw csrError('InvalidArgument', `devapi cannot start: ${(e as Error).message}`);
  }
  const url = await startDevapi(devapi, port);
  out.write(`devapi ready at ${url} (kubeconfigs in ${stateDir})\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  // The state is written before stop() waits for connections to close; should that wait or
  // anything left on the event loop hold the process, a stop request still ends it.
  const bound = setTimeout(() => {
    err.write('devapi: connections did not close within 5 s of the stop signal; exiting (state is saved)\n');
    process.exit(0);
  }, 5000);
  bound.unref();
  await devapi.stop();
  setTimeout(() => process.exit(0), 1000).unref();
  return 0;
}

/**
 * `--bootstrap-token-file`: one token a line (surrounding spaces, a CR and blank lines ignored), each
 * checked as `--bootstrap-token` is. The tokens are secrets: a bad line is named by its number only.
 */
export function bootstrapTokenFile(file: string): string[] {
  const tokens: string[] = [];
  for (const [index, raw] of readFlagFile(file, 'token').split('\n').entries()) {
    const token = raw.trim();
    if (token === '') continue;
    if (!BOOTSTRAP_TOKEN_PATTERN.test(token)) {
      throw csrError('InvalidArgument', `--bootstrap-token-file ${file}, line ${index + 1}: a token must have the form [a-z0-9]{6}.[a-z0-9]{16} (token id, a dot, token secret)`);
    }
    tokens.push(token);
  }
  if (tokens.length === 0) throw csrError('InvalidArgument', `--bootstrap-token-file ${file} holds no token`);
  return tokens;
}

/** A file a flag names, bounded; one sentence when it cannot be read. */
function readFlagFile(file: string, kind: 'policy' | 'caCertificate' | 'token'): string {
  try {
    return readBoundedText(file, kind);
  } catch (e) {
    if (isCsrSignerError(e)) throw e;
    throw csrError('InvalidArgument', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Starts devapi; a port it cannot listen on is one sentence, and nothing is left running. */
export async function startDevapi(devapi: DevApi, port: number): Promise<string> {
  try {
    return await devapi.start();
  } catch (e) {
    await devapi.stop();
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && (e as NodeJS.ErrnoException).syscall === 'listen') throw listenError('--port', `127.0.0.1:${port}`, e);
    throw e;
  }
}

/** `--pod-certificate-versions` (a comma list of v1 and v1beta1, or none); undefined: not given, the minor decides. */
export function podCertificateVersionsFlag(value: string | undefined): PodCertificateVersion[] | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === 'none') return [];
  const known: readonly string[] = podCertificateVersions;
  const listed = value.split(',').map((v) => v.trim());
  const versions = listed.filter((v): v is PodCertificateVersion => known.includes(v));
  if (versions.length !== listed.length || new Set(versions).size !== versions.length) {
    throw csrError('InvalidArgument', `--pod-certificate-versions must be v1,v1beta1, v1, v1beta1 or none, not ${JSON.stringify(value)}`);
  }
  return podCertificateVersions.filter((v) => versions.includes(v));
}

/**
 * `--cluster-trust-bundle-versions` (a comma list of v1 and v1beta1, or none) and its older
 * spelling `--no-cluster-trust-bundles`; undefined: neither given, serve both.
 */
export function clusterTrustBundleVersionsFlag(value: string | undefined, none: boolean | undefined): ClusterTrustBundleVersion[] | undefined {
  if (value === undefined) return none === true ? [] : undefined;
  const known: readonly string[] = clusterTrustBundleVersions;
  const listed = value.split(',').map((v) => v.trim());
  const versions = listed.filter((v): v is ClusterTrustBundleVersion => known.includes(v));
  const valid = value.trim() === 'none' || (versions.length === listed.length && new Set(versions).size === versions.length);
  if (!valid) {
    throw csrError('InvalidArgument', `--cluster-trust-bundle-versions must be v1,v1beta1, v1, v1beta1 or none, not ${JSON.stringify(value)}`);
  }
  if (none === true && versions.length > 0) {
    throw csrError('InvalidArgument', `--no-cluster-trust-bundles serves no ClusterTrustBundles, but --cluster-trust-bundle-versions asks for ${versions.join(',')}`);
  }
  return clusterTrustBundleVersions.filter((v) => versions.includes(v));
}
