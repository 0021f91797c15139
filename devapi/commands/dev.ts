/**
 * `csr-signer dev` (npm start): the whole flow on a laptop. devapi (as a Kubernetes 1.37
 * cluster) and the signer in one process, signer example.com/serving with the example CA
 * and the approver on for it, signer example.com/pods for PodCertificateRequests with the
 * same CA, and the commands to try next: a ServiceAccount of namespace `shop` asks for a
 * certificate and gets it with no human in the loop, and is denied one for another
 * namespace's name; the kubelet of node worker-1 asks for a pod's certificate and gets it.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { loadRunConfig } from '../../src/config/index.js';
import { DevApi } from '../server/server.js';
import { portRange } from '../../src/config/flag-values.js';
import { readBoundedText } from '../../src/files.js';
import { integerFlag } from '../../src/numbers.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { SignerRuntime } from '../../src/runtime.js';
import { untilSignal } from '../../src/commands/run.js';
import { flagError } from '../../src/commands/exit.js';
import { startDevapi } from './devapi.js';
import { DEMO_TRUST, TRUST_POLICY_FILE } from '../auth/trust-policy.js';
import { kubeconfigFor } from '../auth/identity.js';
import { clientIdentities, DEMO_NODE, SHOP_SERVICE_ACCOUNT, shopPolicyYaml } from './dev-workload.js';

export const DEMO_SIGNER = DEMO_TRUST.signerName;
/** The demo's pod certificate signer (keys.example/demo-config.yaml). */
export const DEMO_POD_SIGNER = 'example.com/pods';
/** PodCertificateRequests are served through certificates.k8s.io/v1 from Kubernetes 1.37. */
const DEMO_KUBERNETES_MINOR = 37;
/** The repository's root: two levels up from devapi/commands/, three from its build in dist-dev/devapi/commands/. */
const root = new URL(import.meta.url.includes('/dist-dev/') ? '../../../' : '../../', import.meta.url);
const keys = fileURLToPath(new URL('keys.example/', root));

export const devUsage = `Usage: csr-signer dev [--state-dir DIR] [--port P]

Starts a development Kubernetes API server (devapi) and the signer together, on
127.0.0.1, with the signer ${DEMO_SIGNER} of keys.example/demo-config.yaml: the
example CA (public keys: for trying csr-signer only), a policy that gives a
ServiceAccount the Service names of its own namespace (*.NAMESPACE.svc,
*.NAMESPACE.svc.cluster.local) and nothing else, and the approver on: what the
policy allows is approved and issued with no human, the rest denied with a reason.
${SHOP_SERVICE_ACCOUNT.kubeconfig} in the state directory is the ServiceAccount
${SHOP_SERVICE_ACCOUNT.name} of namespace ${SHOP_SERVICE_ACCOUNT.namespace} (a client certificate devapi trusts). The
signer ${DEMO_POD_SIGNER} issues pod certificates (PodCertificateRequests, devapi as
Kubernetes 1.${DEMO_KUBERNETES_MINOR}) to pods of namespace ${SHOP_SERVICE_ACCOUNT.namespace} with the same CA: ${DEMO_NODE.kubeconfig} is
the kubelet of node ${DEMO_NODE.name} that asks for them. The
signer publishes its trust bundle to ConfigMap ${DEMO_TRUST.configMapName} in every
namespace and to ClusterTrustBundle ${DEMO_TRUST.clusterTrustBundleName}
(devapi/auth/trust-publishing.yaml grants it).
Prints the kubeconfig to use and the commands to try. Ctrl-C stops both.

  --state-dir DIR   where devapi keeps objects, tokens, kubeconfigs and the demo's copy
                    of the example CA key; created 0700 if missing, and kept: yours.
                    Default: a new 0700 temporary directory, removed when dev stops
                    (a SIGKILL cannot be cleaned up after: then remove it yourself)
  --port P          devapi's port (default 0: any free port)
  --log-level L     the signer's log level: error, warn, info (default), debug
`;

const shown = (path: string): string => {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
};

/** A request as a workload sends it: a CSR manifest on stdin to `kubectl create`, as the shop ServiceAccount. */
const sendAs = (serviceAccount: string, name: string, csrFile: string): string => `cat <<EOF | kubectl --kubeconfig ${serviceAccount} create -f -
  apiVersion: certificates.k8s.io/v1
  kind: CertificateSigningRequest
  metadata:
    name: ${name}
  spec:
    request: $(base64 < ${csrFile} | tr -d '\\n')
    signerName: ${DEMO_SIGNER}
    usages: ["digital signature", "key encipherment", "server auth"]
  EOF`;

/** The uid of an object, as a shell substitution (admin's kubeconfig). */
const uidOf = (what: string): string => `$(kubectl get ${what} -o jsonpath='{.metadata.uid}')`;

/**
 * Pod certificates, step by step as a kubelet does them for a pod with a podCertificate
 * volume: the Node, the ServiceAccount and the Pod (admin); a new key and an empty PKCS#10
 * request signed by it, in a PodCertificateRequest sent as the node; the signer's answer.
 */
export function podCertificateSteps(caFile: string, nodeKubeconfig: string): string {
  const { namespace, name } = SHOP_SERVICE_ACCOUNT;
  const node = DEMO_NODE.name;
  return `
Pod certificates: the kubelet asks for a pod's certificate and the signer decides alone (signer ${DEMO_POD_SIGNER}):

  # 7. (as admin) namespace ${namespace}, its ServiceAccount ${name}, node ${node} and a Pod on it with a podCertificate volume
  kubectl create namespace ${namespace}
  cat <<EOF | kubectl create -f -
  apiVersion: v1
  kind: ServiceAccount
  metadata: { name: ${name}, namespace: ${namespace} }
  ---
  apiVersion: v1
  kind: Node
  metadata: { name: ${node} }
  ---
  apiVersion: v1
  kind: Pod
  metadata: { name: ${name}, namespace: ${namespace} }
  spec:
    nodeName: ${node}
    serviceAccountName: ${name}
    containers: [{ name: app, image: registry.example/web:1, volumeMounts: [{ name: identity, mountPath: /var/run/identity }] }]
    volumes:
      - name: identity
        projected:
          sources: [{ podCertificate: { signerName: ${DEMO_POD_SIGNER}, keyType: ECDSAP256, credentialBundlePath: credentialbundle.pem } }]
  EOF

  # 8. as the kubelet of ${node}: a new key, an empty request signed by it, the PodCertificateRequest for the Pod
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ${name}-pod-key.pem
  openssl req -new -key ${name}-pod-key.pem -subj / -outform DER -out ${name}-pod.der
  cat <<EOF | kubectl --kubeconfig ${shown(nodeKubeconfig)} create -f -
  apiVersion: certificates.k8s.io/v1
  kind: PodCertificateRequest
  metadata:
    name: ${name}-identity
    namespace: ${namespace}
    ownerReferences: [{ apiVersion: v1, kind: Pod, name: ${name}, uid: ${uidOf(`pod ${name} -n ${namespace}`)} }]
  spec:
    signerName: ${DEMO_POD_SIGNER}
    podName: ${name}
    podUID: ${uidOf(`pod ${name} -n ${namespace}`)}
    serviceAccountName: ${name}
    serviceAccountUID: ${uidOf(`serviceaccount ${name} -n ${namespace}`)}
    nodeName: ${node}
    nodeUID: ${uidOf(`node ${node}`)}
    stubPKCS10Request: $(base64 < ${name}-pod.der | tr -d '\\n')
  EOF

  # 9. no approval step: the signer issues spiffe://cluster.local/ns/${namespace}/sa/${name} for the pod's key
  kubectl wait --for=condition=Issued podcertificaterequests/${name}-identity -n ${namespace} --timeout=30s
  kubectl get podcertificaterequests -n ${namespace}
  kubectl get podcertificaterequest ${name}-identity -n ${namespace} -o jsonpath='{.status.certificateChain}' > ${name}-identity.pem
  openssl verify -CAfile ${shown(caFile)} ${name}-identity.pem
  openssl x509 -in ${name}-identity.pem -noout -ext subjectAltName
`;
}

export function tryNext(kubeconfig: string, caFile: string, serviceAccountKubeconfig: string): string {
  const sa = shown(serviceAccountKubeconfig);
  return `
Try it: a workload gets its certificate with no human in the loop (signer ${DEMO_SIGNER}):

  export KUBECONFIG=${shown(kubeconfig)}

  # 1. a key and a request for the Service web of namespace shop
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout web-key.pem -out web.csr -subj /CN=web.shop.svc -addext subjectAltName=DNS:web.shop.svc

  # 2. send it as the ServiceAccount ${SHOP_SERVICE_ACCOUNT.name} of namespace ${SHOP_SERVICE_ACCOUNT.namespace} (system:serviceaccount:shop:web)
  ${sendAs(sa, 'web.shop', 'web.csr')}

  # 3. nobody approves it by hand: csr-signer approves what its policy allows (*.{namespace}.svc) and issues it
  kubectl wait --for=condition=Approved csr/web.shop --timeout=30s
  kubectl get csr web.shop

  # 4. fetch and check it
  kubectl get csr web.shop -o jsonpath='{.status.certificate}' | base64 --decode > web.crt
  openssl verify -CAfile ${shown(caFile)} web.crt
  openssl x509 -in web.crt -noout -text

  # 5. the same ServiceAccount asking for a name of namespace bank is denied, with the reason
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout bank-key.pem -out bank.csr -subj /CN=web.bank.svc -addext subjectAltName=DNS:web.bank.svc
  ${sendAs(sa, 'web.bank', 'bank.csr')}
  kubectl wait --for=condition=Denied csr/web.bank --timeout=30s
  kubectl get csr web.bank -o jsonpath='{.status.conditions[?(@.type=="Denied")].message}'

  # 6. the CA to trust, as the signer publishes it: a ConfigMap in every namespace, a ClusterTrustBundle
  kubectl get configmap ${DEMO_TRUST.configMapName} -n default -o jsonpath='{.data.ca\\.crt}'
  kubectl get clustertrustbundles
  kubectl get clustertrustbundle ${DEMO_TRUST.clusterTrustBundleName} -o jsonpath='{.spec.trustBundle}'
`;
}

/**
 * The state directory: the user's own with `--state-dir` (created if missing, made 0700, kept),
 * else a new 0700 temporary one that is removed on every way out a process can see:
 * return, a thrown error, a stop signal, a second signal's exit, an uncaught exception.
 * Only SIGKILL leaves it behind, unreadable by others.
 */
interface StateDirectory {
  readonly dir: string;
  /** The demo is up and stops on a signal by itself (untilSignal): no more exiting at once on one. */
  up(): void;
  remove(): void;
}

function stateDirectory(given: string | undefined): StateDirectory {
  if (given !== undefined) {
    const dir = resolve(given);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700); // mkdir's mode applies only to a new directory: a reused one is narrowed too
    return { dir, up: () => undefined, remove: () => undefined };
  }
  const dir = mkdtempSync(join(tmpdir(), 'csr-signer-dev-'));
  chmodSync(dir, 0o700);
  // A signal while starting (no handler yet would mean no exit handler either), or a closed terminal at any time.
  const exitOn = (signal: NodeJS.Signals): void => process.exit(128 + (osConstants.signals[signal] ?? 0));
  const starting: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  const up = (): void => {
    for (const signal of starting) process.off(signal, exitOn);
  };
  const remove = (): void => {
    up();
    process.off('SIGHUP', exitOn);
    process.off('exit', remove);
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', remove);
  for (const signal of [...starting, 'SIGHUP'] as const) process.on(signal, exitOn);
  return { dir, up, remove };
}

/**
 * The signer's configuration: keys.example/demo-config.yaml (the example CA, a tight
 * policy: a ServiceAccount's own namespace's Service names only, and the approver), with the CA key copied into the state directory
 * (0600: the demo's own copy, so the signer has no reason to warn that the shipped,
 * world-readable example key is world-readable), and trust publishing to a ConfigMap in
 * every namespace and a ClusterTrustBundle, which devapi/auth/trust-publishing.yaml permits.
 */
function demoConfig(stateDir: string): { configFile: string; caFile: string } {
  const caFile = join(keys, 'ca.pem');
  const keyFile = join(stateDir, 'example-ca-key.pem');
  writeFileSync(keyFile, readFileSync(join(keys, 'ca-key.pem')), { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  const shipped = parse(readFileSync(join(keys, 'demo-config.yaml'), 'utf8')) as { signers: Record<string, unknown>[] };
  const configFile = join(stateDir, 'signers.yaml');
  writeFileSync(configFile, stringify({
    ...shipped,
    signers: shipped.signers.map((signer) => ({
      ...signer,
      ca: { certFile: caFile, keyFile },
      // One CA for both signers: the serving signer publishes it (two signers may not share a ConfigMap).
      ...(signer.name === DEMO_SIGNER ? { trust: { configMap: { name: DEMO_TRUST.configMapName }, clusterTrustBundle: {} } } : {}),
    })),
  }), { mode: 0o600 });
  chmodSync(configFile, 0o600);
  return { configFile, caFile };
}

export async function runDev(argv: readonly string[], out: NodeJS.WritableStream): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { 'state-dir': { type: 'string' }, port: { type: 'string', default: '0' }, 'log-level': { type: 'string', default: 'info' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw flagError('dev', e);
  }
  const port = integerFlag('port', values.port, portRange);
  const state = stateDirectory(values['state-dir']);
  try {
    return await demo(state, port, values['log-level'], out);
  } finally {
    state.remove();
  }
}

async function demo(state: StateDirectory, port: number, logLevel: string, out: NodeJS.WritableStream): Promise<number> {
  const stateDir = state.dir;
  const { configFile, caFile } = demoConfig(stateDir);
  const config = loadRunConfig([
    '--config', configFile,
    '--kubeconfig', join(stateDir, 'signer.kubeconfig'),
    '--leader-elect=false',
    // Where devapi's signer identity may keep its rotation record (and a Lease).
    '--leader-elect-resource-namespace', 'csr-signer',
    '--http-address', '127.0.0.1:0',
    '--log-level', logLevel,
  ], {}, readBoundedText);

  const trustPolicy = readBoundedText(fileURLToPath(new URL(TRUST_POLICY_FILE, root)), 'policy');
  const policyYaml = `${trustPolicy.trimEnd()}\n---\n${shopPolicyYaml()}`;
  const identities = await clientIdentities();
  // The signer identity also approves, for the demo's signers only (no Nodes: no kubelet-serving profile).
  const devapi = new DevApi({
    stateDir, port, readText: readBoundedText, policyYaml, clientCaPem: identities.clientCaPem, signerNames: [DEMO_SIGNER, DEMO_POD_SIGNER],
    signerApproves: { nodes: false }, minorVersion: DEMO_KUBERNETES_MINOR,
  });
  const url = await startDevapi(devapi, port);
  const clientKubeconfig = (file: string, user: string, identity: { certificatePem: string; keyPem: string }): string => {
    const path = join(stateDir, file);
    writeFileSync(path, kubeconfigFor(url, readFileSync(join(stateDir, 'ca.pem'), 'utf8'), user, {
      clientCertificatePem: identity.certificatePem, clientKeyPem: identity.keyPem,
    }), { mode: 0o600 });
    chmodSync(path, 0o600);
    return path;
  };
  const serviceAccountKubeconfig = clientKubeconfig(SHOP_SERVICE_ACCOUNT.kubeconfig, 'shop-web', identities.serviceAccount);
  const nodeKubeconfig = clientKubeconfig(DEMO_NODE.kubeconfig, `system:node:${DEMO_NODE.name}`, identities.node);
  const logger = createLogger(config.logLevel);
  const signer = new SignerRuntime(config, logger);
  try {
    await signer.start();
  } catch (e) {
    await devapi.stop();
    throw e;
  }
  out.write(`csr-signer dev: devapi ready at ${url}; the signer serves ${DEMO_SIGNER} with keys.example/ca.pem (public, testing only), and approves by its policy; and ${DEMO_POD_SIGNER} for pod certificates\n`);
  out.write(`  admin kubeconfig: ${join(stateDir, 'admin.kubeconfig')}\n  signer health and metrics: http://${signer.address ?? ''}/readyz and /metrics\n${tryNext(join(stateDir, 'admin.kubeconfig'), caFile, serviceAccountKubeconfig)}${podCertificateSteps(caFile, nodeKubeconfig)}\nCtrl-C stops both.\n\n`);
  state.up();
  const signal = await untilSignal();
  logger.info({ signal }, 'stopping');
  await signer.stop(config.shutdownTimeoutMs);
  await devapi.stop();
  out.write('csr-signer dev: stopped\n');
  return 0;
}
