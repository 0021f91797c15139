/**
 * A scripted kubelet for pod certificates: what the kubelet's pod certificate manager does
 * for a `podCertificate` projected volume, with node:crypto and the real kubectl against
 * devapi. As admin it creates a Namespace, a ServiceAccount and a Pod bound to the node
 * (devapi gives each its uid); as `system:node:NAME` (a client certificate in
 * system:nodes, verified by devapi's --client-ca-file) it creates the
 * PodCertificateRequest, waits until it carries a terminal condition, and writes the
 * credential bundle.
 *
 * Mirrors upstream pkg/kubelet/podcertificate/podcertificatemanager.go:
 * - `generateKeyAndProof`: a new key per request of the projection's keyType; the legacy
 *   proof of possession over the ASCII bytes of the pod UID (Ed25519: the bytes as they
 *   are; ECDSA: ASN.1 signature over SHA-256 of them, whatever the curve; RSA: PSS over
 *   SHA-256 of them, Go's `rsa.SignPSS(..., nil)` = the longest salt);
 * - the 1.36 stub: `x509.CreateCertificateRequest(rand, &x509.CertificateRequest{}, key)`,
 *   an empty subject and no attributes, signed with the algorithm Go picks for the key
 *   (helpers/der-build.ts `rawRequest`);
 * - `createPodCertificateRequest`: metadata.generateName `req-` and one ownerReference to
 *   the Pod with apiVersion `v1` (kubernetes #136890 fixed the earlier `core/v1`);
 * - `pemEncodeKey` + `cleanCertificateChain`: the bundle is the PKCS#8 `PRIVATE KEY`
 *   block, then each block of the chain re-encoded as `CERTIFICATE` with no headers and
 *   nothing between blocks.
 */
import { constants, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { PodCertificateRequest } from '../../src/kube/objects.js';
import type { TestCa } from './ca.js';
import { makeClientCertificate } from './client-certificates.js';
import { kubectl, writeKubeconfig, type DevapiProcess } from './devapi.js';
import { pem, rawRequest, seq, spkiOf } from './der-build.js';
import type { RunResult } from './tools.js';
import { until } from './wait.js';

/** The keyType values of a podCertificate projection. */
export type PodKeyType = 'RSA3072' | 'RSA4096' | 'ECDSAP256' | 'ECDSAP384' | 'ECDSAP521' | 'ED25519';

/**
 * How the request carries its key: `legacy` as a 1.35 kubelet (certificates.k8s.io/v1beta1,
 * pkixPublicKey + proofOfPossession), `stub` as a 1.36 kubelet (v1beta1, stubPKCS10Request),
 * `v1` as a 1.37 kubelet (certificates.k8s.io/v1, stubPKCS10Request).
 */
export type PcrForm = 'legacy' | 'stub' | 'v1';

export interface Workload {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly serviceAccountUID: string;
  readonly pod: string;
  readonly podUID: string;
}

export interface PodCertificateAsk {
  readonly signerName: string;
  readonly form: PcrForm;
  /** Default ECDSAP256, as a projection that names no other. */
  readonly keyType?: PodKeyType;
  readonly maxExpirationSeconds?: number;
  readonly userAnnotations?: Readonly<Record<string, string>>;
}

/** A request the kubelet made: its name and the private key it keeps in memory. */
export interface PendingRequest {
  readonly namespace: string;
  readonly name: string;
  readonly privateKey: KeyObject;
  /** PKCS#8 PEM, as pemEncodeKey writes it. */
  readonly keyPem: string;
  readonly spki: Buffer;
}

/** How a request ended, as the kubelet sees it. */
export interface PodCertificateOutcome extends PendingRequest {
  readonly pcr: PodCertificateRequest;
  /** The one terminal condition's type: Issued, Denied or Failed. */
  readonly state: 'Issued' | 'Denied' | 'Failed';
  /** Issued: the credential bundle (key, then chain) and where it was written. */
  readonly bundle?: string;
  readonly bundleFile?: string;
}

const TERMINAL = ['Issued', 'Denied', 'Failed'] as const;

/** A new key of a projection's keyType (generateKeyAndProof). */
export function podKey(keyType: PodKeyType): KeyObject {
  switch (keyType) {
    case 'RSA3072': return generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey;
    case 'RSA4096': return generateKeyPairSync('rsa', { modulusLength: 4096 }).privateKey;
    case 'ECDSAP256': return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    case 'ECDSAP384': return generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey;
    case 'ECDSAP521': return generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).privateKey;
    case 'ED25519': return generateKeyPairSync('ed25519').privateKey;
  }
}

/** The legacy proof of possession: the key's signature over the ASCII bytes of the pod UID. */
export function proofOfPossession(privateKey: KeyObject, podUID: string): Buffer {
  const message = Buffer.from(podUID, 'ascii');
  switch (privateKey.asymmetricKeyType) {
    case 'ed25519': return sign(null, message, privateKey);
    case 'ec': return sign('sha256', message, { key: privateKey, dsaEncoding: 'der' });
    case 'rsa': return sign('sha256', message, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN });
    default: throw new Error(`no proof of possession for a ${String(privateKey.asymmetricKeyType)} key`);
  }
}

/** The stub PKCS#10 request of a 1.36+ kubelet: DER, empty subject, no attributes. */
export const stubRequest = (privateKey: KeyObject): Buffer => rawRequest({ privateKey, subject: seq() });

/** The credential bundle as the kubelet writes it: the PKCS#8 key block, then each certificate of the chain re-encoded. */
export function credentialBundle(keyPem: string, chain: string): string {
  const blocks = [...chain.matchAll(/-----BEGIN [^-]+-----([\s\S]*?)-----END [^-]+-----/g)]
    .map((m) => pem('CERTIFICATE', Buffer.from((m[1] ?? '').replace(/^[\w-]+:.*$/gm, '').replace(/\s+/g, ''), 'base64')));
  return `${keyPem}${blocks.join('')}`;
}

function must(r: RunResult, what: string): RunResult {
  if (r.code !== 0) throw new Error(`${what}: ${r.stderr || r.stdout}`);
  return r;
}

const apiVersionOf = (form: PcrForm): string => (form === 'v1' ? 'certificates.k8s.io/v1' : 'certificates.k8s.io/v1beta1');

export class PodKubelet {
  readonly #api: DevapiProcess;
  readonly #dir: string;
  readonly kubeconfig: string;
  #count = 0;
  #nodeUID: string | undefined;

  /** The kubelet of Node `node`, with a client certificate from `clientCa` (the CA devapi was started with as --client-ca-file). */
  constructor(api: DevapiProcess, dir: string, clientCa: TestCa, readonly node = 'worker-1') {
    this.#api = api;
    this.#dir = dir;
    const cert = makeClientCertificate(dir, `node-${node}`, clientCa, `/O=system:nodes/CN=system:node:${node}`);
    this.kubeconfig = writeKubeconfig(api, join(dir, `node-${node}.kubeconfig`), `system:node:${node}`, {
      clientCertificatePem: cert.certPem, clientKeyPem: cert.keyPem,
    });
  }

  /** kubectl as the node. */
  kubectl(args: string[], input?: string): RunResult {
    return kubectl(this.#api, { kubeconfig: this.kubeconfig }, args, input);
  }

  /** kubectl as admin. */
  admin(args: string[], input?: string): RunResult {
    return kubectl(this.#api, 'admin', args, input);
  }

  #uidOf(created: RunResult, what: string): string {
    const uid = (JSON.parse(must(created, what).stdout) as { metadata?: { uid?: string } }).metadata?.uid;
    if (!uid) throw new Error(`${what}: no uid in ${created.stdout.slice(0, 200)}`);
    return uid;
  }

  /** The Node object (created as admin the first time) and its uid. */
  nodeUID(): string {
    if (this.#nodeUID !== undefined) return this.#nodeUID;
    const got = this.admin(['get', 'node', this.node, '-o', 'json']);
    this.#nodeUID = this.#uidOf(got.code === 0 ? got : this.admin(['create', '-o', 'json', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Node', metadata: { name: this.node }, status: { addresses: [{ type: 'Hostname', address: this.node }] },
    })), `Node ${this.node}`);
    return this.#nodeUID;
  }

  /**
   * As admin: the Namespace (if missing), the ServiceAccount and a Pod on this node that
   * mounts a podCertificate projection of each of `signerNames` (what the 1.37
   * NodeRestriction asks of a pod before its node may request for it).
   */
  createWorkload(namespace: string, serviceAccount: string, pod: string, signerNames: readonly string[], labels: Readonly<Record<string, string>> = {}): Workload {
    this.nodeUID();
    if (this.admin(['get', 'namespace', namespace]).code !== 0) {
      must(this.admin(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels } })), `Namespace ${namespace}`);
    }
    const got = this.admin(['get', 'serviceaccount', serviceAccount, '-n', namespace, '-o', 'json']);
    const serviceAccountUID = this.#uidOf(got.code === 0 ? got : this.admin(['create', '-o', 'json', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: serviceAccount, namespace },
    })), `ServiceAccount ${namespace}/${serviceAccount}`);
    const podUID = this.#uidOf(this.admin(['create', '-o', 'json', '-f', '-'], stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: pod, namespace },
      spec: {
        nodeName: this.node, serviceAccountName: serviceAccount,
        containers: [{ name: 'app', image: 'registry.example/app:1', volumeMounts: [{ name: 'identity', mountPath: '/var/run/identity' }] }],
        volumes: [{ name: 'identity', projected: { sources: signerNames.map((signerName) => ({ podCertificate: { signerName, keyType: 'ECDSAP256', credentialBundlePath: 'credentialbundle.pem' } })) } }],
      },
    })), `Pod ${namespace}/${pod}`);
    return { namespace, serviceAccount, serviceAccountUID, pod, podUID };
  }

  /** The PodCertificateRequest manifest the kubelet would send for `ask`, with a new key. */
  manifest(workload: Workload, ask: PodCertificateAsk): { manifest: Record<string, unknown>; privateKey: KeyObject } {
    const privateKey = podKey(ask.keyType ?? 'ECDSAP256');
    const key = ask.form === 'legacy'
      ? { pkixPublicKey: spkiOf(privateKey).toString('base64'), proofOfPossession: proofOfPossession(privateKey, workload.podUID).toString('base64') }
      : { stubPKCS10Request: stubRequest(privateKey).toString('base64') };
    const manifest = {
      apiVersion: apiVersionOf(ask.form), kind: 'PodCertificateRequest',
      metadata: { namespace: workload.namespace, generateName: 'req-', ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: workload.pod, uid: workload.podUID }] },
      spec: {
        signerName: ask.signerName, podName: workload.pod, podUID: workload.podUID,
        serviceAccountName: workload.serviceAccount, serviceAccountUID: workload.serviceAccountUID,
        nodeName: this.node, nodeUID: this.nodeUID(),
        ...(ask.maxExpirationSeconds === undefined ? {} : { maxExpirationSeconds: ask.maxExpirationSeconds }),
        ...key,
        ...(ask.userAnnotations === undefined ? {} : { unverifiedUserAnnotations: ask.userAnnotations }),
      },
    };
    return { manifest, privateKey };
  }

  /** As the node: creates the request with `kubectl create` (generateName) and answers its name and key. */
  submit(workload: Workload, ask: PodCertificateAsk): PendingRequest {
    const { manifest, privateKey } = this.manifest(workload, ask);
    const created = must(this.kubectl(['create', '-o', 'name', '-f', '-'], JSON.stringify(manifest)), `kubectl create PodCertificateRequest (${ask.form})`).stdout.trim();
    const name = created.slice(created.lastIndexOf('/') + 1);
    if (!name.startsWith('req-')) throw new Error(`kubectl create answered ${created}`);
    this.#count++;
    return {
      namespace: workload.namespace, name, privateKey, spki: spkiOf(privateKey),
      keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
  }

  /** The request as the node reads it (`kubectl get -o json`, its own identity), in `form`'s API version. */
  read(namespace: string, name: string, form: PcrForm = 'v1'): PodCertificateRequest | undefined {
    const resource = `podcertificaterequests.${form === 'v1' ? 'v1' : 'v1beta1'}.certificates.k8s.io`;
    const r = this.kubectl(['get', resource, name, '-n', namespace, '-o', 'json']);
    return r.code === 0 ? JSON.parse(r.stdout) as PodCertificateRequest : undefined;
  }

  /**
   * Waits (bounded, polling as the node) until the request has a terminal condition; when
   * Issued, writes the credential bundle to `<dir>/<name>/credentialbundle.pem` (0600).
   */
  async waitFor(request: PendingRequest, form: PcrForm, ms = 60_000): Promise<PodCertificateOutcome> {
    let last = '';
    const pcr = await until(() => {
      const got = this.read(request.namespace, request.name, form);
      last = JSON.stringify(got?.status ?? null);
      return got?.status?.conditions?.some((c) => (TERMINAL as readonly string[]).includes(c.type)) ? got : undefined;
    }, { what: `PodCertificateRequest ${request.namespace}/${request.name} to be Issued, Denied or Failed`, ms, intervalMs: 150, detail: () => last });
    const state = TERMINAL.find((type) => pcr.status?.conditions?.some((c) => c.type === type)) ?? 'Failed';
    if (state !== 'Issued') return { ...request, pcr, state };
    const bundle = credentialBundle(request.keyPem, pcr.status?.certificateChain ?? '');
    const bundleFile = join(this.#dir, `${request.namespace}-${request.name}-credentialbundle.pem`);
    writeFileSync(bundleFile, bundle, { mode: 0o600 });
    return { ...request, pcr, state, bundle, bundleFile };
  }

  /** One projection: a new key and request, the wait, the bundle. */
  async request(workload: Workload, ask: PodCertificateAsk, ms?: number): Promise<PodCertificateOutcome> {
    return this.waitFor(this.submit(workload, ask), ask.form, ms);
  }

  /** How many requests this kubelet created. */
  get requests(): number {
    return this.#count;
  }
}
