/**
 * `csr-signer dev` (npm start): the whole flow on a laptop. devapi and the signer in
 * one process, signer example.com/serving with the example CA, and the commands of
 * the Kubernetes "Manage TLS Certificates in a Cluster" tutorial to try next.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadRunConfig } from '../../src/config/index.js';
import { DevApi } from '../server/server.js';
import { csrError } from '../../src/errors.js';
import { portRange } from '../../src/config/flag-values.js';
import { readBoundedText } from '../../src/files.js';
import { integerFlag } from '../../src/numbers.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { SignerRuntime } from '../../src/runtime.js';
import { untilSignal } from '../../src/commands/run.js';

export const DEMO_SIGNER = 'example.com/serving';
/** The repository's root: two levels up from devapi/commands/, three from its build in dist-dev/devapi/commands/. */
const root = new URL(import.meta.url.includes('/dist-dev/') ? '../../../' : '../../', import.meta.url);
const keys = fileURLToPath(new URL('keys.example/', root));

export const devUsage = `Usage: csr-signer dev [--state-dir DIR] [--port P]

Starts a development Kubernetes API server (devapi) and the signer together, on
127.0.0.1, with the signer ${DEMO_SIGNER} of keys.example/demo-config.yaml: the
example CA (public keys: for trying csr-signer only) and a policy that allows the
tutorial's names below and nothing else. Prints the kubeconfig to use and the
commands to try. Ctrl-C stops both.

  --state-dir DIR   where devapi keeps objects and kubeconfigs (default: a new temporary directory)
  --port P          devapi's port (default 0: any free port)
  --log-level L     the signer's log level: error, warn, info (default), debug
`;

const shown = (path: string): string => {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
};

export function tryNext(kubeconfig: string, caFile: string): string {
  return `
Try it (the Kubernetes "Manage TLS Certificates in a Cluster" tutorial, signer ${DEMO_SIGNER}):

  export KUBECONFIG=${shown(kubeconfig)}

  # 1. a key and a request (cfssl; or: openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes
  #    -keyout server-key.pem -out server.csr -subj /CN=my-svc.my-namespace.svc -addext subjectAltName=DNS:my-svc.my-namespace.svc)
  cat <<EOF | cfssl genkey - | cfssljson -bare server
  {"hosts": ["my-svc.my-namespace.svc.cluster.local", "my-pod.my-namespace.pod.cluster.local", "192.0.2.24", "10.0.34.2"],
   "CN": "my-pod.my-namespace.pod.cluster.local", "key": {"algo": "ecdsa", "size": 256}}
  EOF

  # 2. send it to the API
  cat <<EOF | kubectl apply -f -
  apiVersion: certificates.k8s.io/v1
  kind: CertificateSigningRequest
  metadata:
    name: my-svc.my-namespace
  spec:
    request: $(base64 < server.csr | tr -d '\\n')
    signerName: ${DEMO_SIGNER}
    usages: ["digital signature", "key encipherment", "server auth"]
  EOF

  # 3. approve it; csr-signer issues the certificate
  kubectl certificate approve my-svc.my-namespace
  kubectl get csr my-svc.my-namespace

  # 4. fetch and check it
  kubectl get csr my-svc.my-namespace -o jsonpath='{.status.certificate}' | base64 --decode > server.crt
  openssl verify -CAfile ${shown(caFile)} server.crt
  openssl x509 -in server.crt -noout -text
`;
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
    throw csrError('InvalidArgument', (e as Error).message);
  }
  const port = integerFlag('port', values.port, portRange);
  const stateDir = resolve(values['state-dir'] ?? mkdtempSync(join(tmpdir(), 'csr-signer-dev-')));
  mkdirSync(stateDir, { recursive: true });
  const caFile = join(keys, 'ca.pem');
  const config = loadRunConfig([
    '--kubeconfig', join(stateDir, 'signer.kubeconfig'),
    // The example CA and a tight policy: the tutorial's names only.
    '--config', join(keys, 'demo-config.yaml'),
    '--leader-elect=false',
    // Where devapi's signer identity may keep its rotation record (and a Lease).
    '--leader-elect-resource-namespace', 'csr-signer',
    '--http-address', '127.0.0.1:0',
    '--log-level', values['log-level'],
  ], {}, readBoundedText);

  const devapi = new DevApi({ stateDir, port, readText: readBoundedText });
  const url = await devapi.start();
  const logger = createLogger(config.logLevel);
  const signer = new SignerRuntime(config, logger);
  try {
    await signer.start();
  } catch (e) {
    await devapi.stop();
    throw e;
  }
  out.write(`csr-signer dev: devapi ready at ${url}; the signer serves ${DEMO_SIGNER} with keys.example/ca.pem (public, testing only)\n`);
  out.write(`  admin kubeconfig: ${join(stateDir, 'admin.kubeconfig')}\n  signer health and metrics: http://${signer.address ?? ''}/readyz and /metrics\n${tryNext(join(stateDir, 'admin.kubeconfig'), caFile)}\nCtrl-C stops both.\n\n`);
  const signal = await untilSignal();
  logger.info({ signal }, 'stopping');
  await signer.stop(config.shutdownTimeoutMs);
  await devapi.stop();
  out.write('csr-signer dev: stopped\n');
  return 0;
}
