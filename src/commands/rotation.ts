/**
 * `csr-signer rotation status`: per signer, which phase of a CA rotation it is in,
 * its CAs with their expiry, and when a previous CA can safely leave the trust
 * bundle. Takes the flags of `csr-signer run` (it reads the same CA files and the
 * rotation record the running signer writes), so in a cluster it runs in the
 * signer's pod: `kubectl exec deploy/csr-signer -- csr-signer rotation status --config …`.
 */
import { rfc3339Seconds } from '../time.js';
import { loadRunConfig, type ReadFile } from '../config/index.js';
import { CaStore } from '../trust/ca-store.js';
import { loadKubeConfig } from '../kube/config.js';
import { KubeApiError, kubeHttp } from '../kube/http.js';
import { fingerprint, readRecord, type CaIssuance } from '../trust/rotation-record.js';
import { trustApi } from '../kube/trust-api.js';
import { csrError } from '../errors.js';
import { createLogger } from '../telemetry/logger.js';
import { rotationStatus, type RotationStatus } from '../trust/rotation-plan.js';

export const rotationUsage = `Usage: csr-signer rotation status [--output text|json] [csr-signer run flags]

Prints, per signer, the phase of a CA rotation it is in (steady, prepare, switch,
retire), every CA of its trust bundle with its role and expiry, the latest
NotAfter each CA issued (from the rotation record, --rotation-record), and when a
previous CA can leave the trust bundle. Give it the flags the signer runs with
(--config FILE, or the --cluster-signing-* flags, and --kubeconfig). The record
is read from the Lease's namespace, found as run finds it: the pod's in a pod,
kube-system outside one; from elsewhere, pass the signer's with
--leader-elect-resource-namespace. Without the record (no cluster access, or
--rotation-record ""), a previous CA is kept until its own expiry, and a warning
says why on stderr. See docs/ca-rotation.md.
`;


function text(statuses: readonly RotationStatus[], recordNote: string | undefined): string {
  const lines: string[] = [];
  for (const s of statuses) {
    lines.push(`signer ${s.signer}: phase ${s.phase}`);
    for (const ca of s.cas) {
      lines.push(`  ${ca.role.padEnd(8)} ${ca.subject}`);
      lines.push(`           sha256 ${ca.fingerprint}`);
      lines.push(`           valid ${rfc3339Seconds(ca.notBefore)} to ${rfc3339Seconds(ca.notAfter)}`);
      if (ca.lastIssuedNotAfter) lines.push(`           last certificate issued valid until ${rfc3339Seconds(ca.lastIssuedNotAfter)}`);
      if (ca.retireAfter) lines.push(`           can leave the bundle after ${rfc3339Seconds(ca.retireAfter)}`);
    }
    for (const a of s.advice) lines.push(`  → ${a}`);
    lines.push('');
  }
  if (recordNote) lines.push(`note: ${recordNote}`);
  return `${lines.join('\n').trimEnd()}\n`;
}

export async function runRotation(argv: readonly string[], readFile: ReadFile, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'status') throw csrError('InvalidArgument', `csr-signer rotation takes "status", not ${JSON.stringify(sub ?? '')} (csr-signer rotation --help)`);
  let output = 'text';
  const runArgs: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? '';
    const inline = /^--output=(.*)$/.exec(arg);
    if (inline) output = inline[1] ?? '';
    else if (arg === '--output' || arg === '-o') output = rest[++i] ?? '';
    else runArgs.push(arg);
  }
  if (output !== 'text' && output !== 'json') throw csrError('InvalidArgument', `--output must be text or json, not ${JSON.stringify(output)}`);
  const config = loadRunConfig(runArgs, process.env, readFile);
  // The record is where `run` with these flags keeps it: the Lease's namespace, resolved the same way.
  const le = config.leaderElection;
  const outsidePod = le.resourceNamespaceSource === 'default outside a pod';
  const namespaceHint = outsidePod
    ? ` (${le.resourceNamespace}: the default outside a pod, as for run; a signer in a pod keeps it in its own namespace: pass --leader-elect-resource-namespace NAMESPACE)`
    : '';
  const logger = createLogger('error');
  // A signer whose key is on a PKCS#11 token logs in to it, as `run` does: a test signature
  // is what tells which certificate of the bundle is the signing one.
  const cas = new CaStore(config.signers, { logger, strictKeyPermissions: false, env: process.env, defaultSessions: 1 });
  await cas.loadAll();
  let issued = new Map<string, CaIssuance>();
  let recordNote: string | undefined;
  const where = config.rotationRecord;
  if (!where) {
    recordNote = 'no rotation record (--rotation-record ""): previous CAs are kept until their own expiry';
  } else {
    const kube = await loadKubeConfig(config.kubeconfig, process.env);
    const http = kubeHttp(kube.endpoint);
    try {
      issued = await readRecord(trustApi(http), where.namespace, where.name);
      if (issued.size === 0) recordNote = `the rotation record ConfigMap ${where.namespace}/${where.name} is empty or absent${namespaceHint}: nothing issued has been recorded yet`;
    } catch (e) {
      // A warning, on stderr only: stdout keeps the status, which still holds without the record.
      const forbidden = e instanceof KubeApiError && e.status === 403 && namespaceHint === ''
        ? ' (is it in this namespace? pass --leader-elect-resource-namespace NAMESPACE, the signer\'s)' : '';
      err.write(`csr-signer: could not read the rotation record ConfigMap ${where.namespace}/${where.name}${namespaceHint}${forbidden} (${(e as Error).message}): previous CAs are kept until their own expiry\n`);
    } finally {
      http.close();
    }
  }
  const now = new Date();
  const statuses = config.signers.map((s) => {
    const forSigner = new Map([...issued].filter(([, e]) => e.signer === s.name).map(([fp, e]) => [fp, e.notAfter]));
    return rotationStatus(s.name, cas.trust(s.name), forSigner, now, fingerprint);
  });
  await cas.close();
  out.write(output === 'json' ? `${JSON.stringify({ signers: statuses, ...(recordNote ? { note: recordNote } : {}) }, null, 2)}\n` : text(statuses, recordNote));
  return 0;
}
