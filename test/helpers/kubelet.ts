/**
 * A scripted kubelet: what the kubelet's certificate manager does, with openssl and the
 * real kubectl against devapi. Each request gets a new P-256 key (openssl) and a request
 * for CN=system:node:NAME, O=system:nodes; the CertificateSigningRequest is created with
 * `kubectl create -f` under the kubelet's current identity — first its bootstrap token
 * (system:bootstrap:ID in system:bootstrappers), then a kubeconfig with the client
 * certificate it was issued (system:node:NAME in system:nodes) — and waited for until it
 * carries a certificate or a Denied or Failed condition.
 *
 * Mirrors the kubelet's real requests (k8s.io/client-go/util/certificate/csr/csr.go
 * RequestCertificate, pkg/kubelet/certificate/kubelet.go and bootstrap/bootstrap.go):
 * metadata.generateName `csr-`, spec.signerName, and usages without `key encipherment`
 * for a non-RSA key: {digital signature, client auth} for the client certificate (no
 * SANs), {digital signature, server auth} for the serving one (the Node's DNS names and
 * IP addresses as SANs). Also: `sampleOf`, one sample of a metrics scrape.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { writeKubeconfig, type DevapiProcess } from './devapi.js';
import { run, type RunResult } from './tools.js';
import { until } from './wait.js';

export const KUBELET_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
/** What the kubelet asks for with an ECDSA key (certificate_manager.go: no key encipherment unless RSA). */
export const KUBELET_CLIENT_USAGES = ['digital signature', 'client auth'] as const;
export const KUBELET_SERVING_USAGES = ['digital signature', 'server auth'] as const;

export interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

/** How one request ended: a certificate, or the Denied or Failed condition that ended it. */
export interface Outcome {
  readonly name: string;
  readonly keyPem: string;
  readonly certificate?: string;
  readonly denied?: Condition;
  readonly failed?: Condition;
  /** Every condition on the CSR when it ended. */
  readonly conditions: readonly Condition[];
}

export interface ServingNames {
  readonly dnsNames?: readonly string[];
  readonly ips?: readonly string[];
}

interface CsrView {
  readonly status?: { readonly certificate?: string; readonly conditions?: readonly Condition[] };
}

function must(r: RunResult, what: string): RunResult {
  if (r.code !== 0) throw new Error(`${what}: ${r.stderr || r.stdout}`);
  return r;
}

export class ScriptedKubelet {
  readonly #api: DevapiProcess;
  readonly #dir: string;
  readonly #env: NodeJS.ProcessEnv;
  #count = 0;
  /** The kubeconfig of the kubelet's current identity. */
  kubeconfig: string;

  /** A kubelet for Node `node` that starts with bootstrap token `token` (id.secret); `dir` is its own folder. */
  constructor(api: DevapiProcess, dir: string, readonly node: string, token: string) {
    this.#api = api;
    this.#dir = dir;
    this.#env = { ...process.env, HOME: dir, KUBECACHEDIR: join(dir, 'cache') };
    this.kubeconfig = this.#writeKubeconfig('bootstrap-kubeconfig', { token });
  }

  get subject(): string {
    return `/O=system:nodes/CN=system:node:${this.node}`;
  }

  /** Runs kubectl as the kubelet's current identity. */
  kubectl(args: readonly string[], input?: string): RunResult {
    const env = { ...this.#env, KUBECONFIG: this.kubeconfig };
    return run('kubectl', args, input === undefined ? { env } : { env, input });
  }

  /** Creates a client-certificate CSR as the current identity; answers its name and the key's file. */
  submitClient(): { name: string; keyFile: string } {
    return this.#submit(KUBELET_CLIENT_SIGNER, KUBELET_CLIENT_USAGES, []);
  }

  /** Creates a serving-certificate CSR with these names as the current identity. */
  submitServing(names: ServingNames): { name: string; keyFile: string } {
    const sans = [...(names.dnsNames ?? []).map((d) => `DNS:${d}`), ...(names.ips ?? []).map((ip) => `IP:${ip}`)];
    return this.#submit(KUBELET_SERVING_SIGNER, KUBELET_SERVING_USAGES, sans);
  }

  /**
   * A client certificate, as the kubelet bootstraps or renews it: the CSR, the wait, and on
   * success the kubelet's kubeconfig switches to the issued certificate and its key.
   */
  async requestClient(ms = 30_000): Promise<Outcome> {
    const { name, keyFile } = this.submitClient();
    const outcome = await this.waitFor(name, keyFile, ms);
    if (outcome.certificate !== undefined) {
      this.kubeconfig = this.#writeKubeconfig(`kubelet-${this.#count}.kubeconfig`, { clientCertificatePem: outcome.certificate, clientKeyPem: outcome.keyPem });
    }
    return outcome;
  }

  /** A serving certificate for these names: the CSR and the wait. */
  requestServing(names: ServingNames, ms = 30_000): Promise<Outcome> {
    const { name, keyFile } = this.submitServing(names);
    return this.waitFor(name, keyFile, ms);
  }

  /** The CSR as the kubelet sees it: `kubectl get -o json` with its own identity. */
  read(name: string): CsrView {
    return JSON.parse(must(this.kubectl(['get', 'csr', name, '-o', 'json']), `kubectl get csr ${name}`).stdout) as CsrView;
  }

  /** Waits (bounded) until CSR `name` has a certificate or a Denied or Failed condition, as the kubelet's certificate manager does. */
  async waitFor(name: string, keyFile: string, ms = 30_000): Promise<Outcome> {
    let last = '';
    const csr = await until(() => {
      // jsonpath first, as a script would; the whole object once something is there.
      const r = this.kubectl(['get', 'csr', name, '-o', 'jsonpath={.status.certificate}{"|"}{.status.conditions[?(@.type=="Denied")].status}{"|"}{.status.conditions[?(@.type=="Failed")].status}']);
      last = r.code === 0 ? r.stdout : r.stderr;
      return r.code === 0 && r.stdout !== '||' ? this.read(name) : undefined;
    }, { what: `CSR ${name} to be issued, denied or failed`, ms, intervalMs: 100, detail: () => last });
    const conditions = csr.status?.conditions ?? [];
    const certificate = csr.status?.certificate;
    const denied = conditions.find((c) => c.type === 'Denied');
    const failed = conditions.find((c) => c.type === 'Failed');
    return {
      name, keyPem: readFileSync(keyFile, 'utf8'), conditions,
      ...(certificate ? { certificate: Buffer.from(certificate, 'base64').toString('utf8') } : {}),
      ...(denied ? { denied } : {}),
      ...(failed ? { failed } : {}),
    };
  }

  #submit(signerName: string, usages: readonly string[], sans: readonly string[]): { name: string; keyFile: string } {
    const n = ++this.#count;
    const keyFile = join(this.#dir, `kubelet-${n}-key.pem`);
    must(run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile]), 'openssl genpkey');
    const request = must(run('openssl', [
      'req', '-new', '-key', keyFile, '-subj', this.subject, ...(sans.length > 0 ? ['-addext', `subjectAltName=${sans.join(',')}`] : []),
    ]), 'openssl req').stdout;
    const manifest = stringify({
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { generateName: 'csr-' },
      spec: { request: Buffer.from(request).toString('base64'), signerName, usages: [...usages] },
    });
    const created = must(this.kubectl(['create', '-f', '-', '-o', 'name'], manifest), `kubectl create (${signerName})`).stdout.trim();
    const name = created.slice(created.lastIndexOf('/') + 1);
    if (!name.startsWith('csr-')) throw new Error(`kubectl create answered ${created}`);
    return { name, keyFile };
  }

  #writeKubeconfig(file: string, user: { token: string } | { clientCertificatePem: string; clientKeyPem: string }): string {
    return writeKubeconfig(this.#api, join(this.#dir, file), `system:node:${this.node}`, user);
  }
}

/**
 * The value of one sample in a Prometheus text scrape: the sum over samples of `name`
 * whose labels include every pair of `labels` (0 when none does).
 */
export function sampleOf(scrape: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  let sum = 0;
  for (const line of scrape.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[3]);
  }
  return sum;
}
