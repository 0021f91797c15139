/**
 * The pod-certificate decision: what the signer does with one PodCertificateRequest, as a
 * value, with no I/O. The controller reads the facts `podCertificateFacts` asks for, reads
 * the key (pki's readPodCertificateKey of `podCertificateKeyFields`), calls
 * `decidePodCertificate`, issues on `issue`, and writes `podCertificateStatus` once.
 * The ladder, cheap checks first:
 *
 *   our signer, not yet terminal (triage) → the key read → keyType allowed → namespace served
 *   → ServiceAccount allowed → stub request empty → annotation DNS names → the Pod check
 *   → the identity renders → the CA gives an hour → issue
 *
 * Denied: the signer's policy refuses (the kubelet treats it as permanent); Failed: the
 * request can never be signed; wait: retried with backoff, never written.
 */
import { CsrSignerError, csrError } from '../errors.js';
import {
  describeKey, MAX_POD_CERTIFICATE_KEY_FIELD_BYTES, MAX_STUB_PKCS10_REQUEST_BYTES, type PodCertificateKey, type PodCertificateKeyFields,
} from '../pki/index.js';
import { rfc3339Seconds } from '../time.js';
import { podCertificateIdentity, templateValues } from './pod-certificate-identity.js';
import { annotationDnsNames, namespaceProblem, needsNamespace, podProblem, serviceAccountProblem, stubContents } from './pod-certificate-policy.js';
import { podCertificateTimes } from './pod-certificate-times.js';
import type { Condition, Namespace, Pod, PodCertificateConfig, PodCertificateDecision, PodCertificateRequest, PodCertificateSkipReason, SignerConfig } from './types.js';

type Skip = PodCertificateDecision & { readonly kind: 'skip' };
const skip = (reason: PodCertificateSkipReason): Skip => ({ kind: 'skip', reason });
const deny = (reason: string, message: string): PodCertificateDecision => ({ kind: 'deny', reason, message });
const fail = (reason: string, message: string): PodCertificateDecision => ({ kind: 'fail', reason, message });
const wait = (reason: string, message: string): PodCertificateDecision => ({ kind: 'wait', reason, message });

/** The condition types that end a PodCertificateRequest; the apiserver freezes its status after one. */
const terminal = { Issued: 'AlreadyIssued', Denied: 'AlreadyDenied', Failed: 'AlreadyFailed' } as const;

/**
 * The cheap skips: a terminal condition or a certificate chain already there (a retry would
 * only get a 422), then a name that is not this signer's, then a signer without podCertificates.
 * Undefined: go on and decide.
 */
export function podCertificateTriage(pcr: PodCertificateRequest, signer: SignerConfig | undefined): Skip | undefined {
  if ((pcr.status?.certificateChain ?? '') !== '') return skip('AlreadyIssued');
  for (const condition of pcr.status?.conditions ?? []) {
    if (Object.hasOwn(terminal, condition.type)) return skip(terminal[condition.type as keyof typeof terminal]);
  }
  if (signer === undefined || signer.name !== pcr.spec.signerName) return skip('OtherSigner');
  if (signer.podCertificates === undefined) return skip('NotConfigured');
  return undefined;
}

/** The reads the decision needs: the Namespace (a selector decides it), the Pod (podCheck). */
export function podCertificateFacts(
  pcr: PodCertificateRequest, config: PodCertificateConfig,
): { namespace?: string; pod?: { namespace: string; name: string } } {
  const namespace = pcr.metadata.namespace ?? '';
  return {
    ...(needsNamespace(config, namespace) ? { namespace } : {}),
    ...(config.podCheck ? { pod: { namespace, name: pcr.spec.podName } } : {}),
  };
}

const strictBase64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** One base64 field decoded, its length bounded before it is read; "" and absent are the same (Go's len() == 0). */
function field(name: string, text: string | undefined, maxBytes: number): Uint8Array | undefined {
  if (text === undefined || text === '') return undefined;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const size = Math.floor((text.length * 3) / 4) - padding;
  if (size > maxBytes) throw csrError('PodCertificateFieldTooLarge', name, size, maxBytes);
  if (!strictBase64.test(text)) throw csrError('PodCertificateFieldNotBase64', name);
  const decoded = Buffer.from(text, 'base64');
  return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.length);
}

/**
 * The key fields decoded from base64, each bounded as kube-apiserver bounds it (10240 bytes;
 * `maxStubBytes` may only lower the stub's bound, pki's readPodCertificateKey keeps it);
 * a bad field: the permanent error naming it. readPodCertificateKey reads the result.
 */
export function podCertificateKeyFields(pcr: PodCertificateRequest, maxStubBytes = MAX_STUB_PKCS10_REQUEST_BYTES): PodCertificateKeyFields | CsrSignerError {
  try {
    const stub = field('stubPKCS10Request', pcr.spec.stubPKCS10Request, Math.min(maxStubBytes, MAX_STUB_PKCS10_REQUEST_BYTES));
    const pkix = field('pkixPublicKey', pcr.spec.pkixPublicKey, MAX_POD_CERTIFICATE_KEY_FIELD_BYTES);
    const proof = field('proofOfPossession', pcr.spec.proofOfPossession, MAX_POD_CERTIFICATE_KEY_FIELD_BYTES);
    return {
      podUID: pcr.spec.podUID,
      ...(stub === undefined ? {} : { stubPKCS10Request: stub }),
      ...(pkix === undefined ? {} : { pkixPublicKey: pkix }),
      ...(proof === undefined ? {} : { proofOfPossession: proof }),
    };
  } catch (e) {
    if (e instanceof CsrSignerError) return e;
    throw e;
  }
}

export interface PodCertificateInput {
  readonly pcr: PodCertificateRequest;
  readonly signer: SignerConfig;
  /** The key read and verified, or why it could not be. */
  readonly key: PodCertificateKey | CsrSignerError;
  /** undefined: not read (not asked for, or not yet); null: not found. */
  readonly namespace?: Namespace | null;
  readonly pod?: Pod | null;
  readonly now: Date;
  /** The signing CA's validity. */
  readonly ca: { readonly notBefore: Date; readonly notAfter: Date };
  /** In [0, 1): the refresh jitter. */
  readonly random: () => number;
}

/** The decision, in the ladder's order (top of this file). */
export function decidePodCertificate(input: PodCertificateInput): PodCertificateDecision {
  const { pcr, signer, key } = input;
  const skipped = podCertificateTriage(pcr, signer);
  if (skipped !== undefined) return skipped;
  const config = signer.podCertificates;
  if (config === undefined) return skip('NotConfigured');
  const namespace = pcr.metadata.namespace ?? '';
  const { serviceAccountName } = pcr.spec;

  const suggestion = `signer ${signer.name} accepts ${config.keyTypes.join(', ')}; use keyType ${config.keyTypes[0] ?? 'ECDSAP256'}`;
  if (key instanceof CsrSignerError) {
    // A key of no keyType at all (which the apiserver refuses at create): Denied with the suggestion, as any other type.
    if (key.kind === 'PodCertificateKeyUnsupported') return deny('UnsupportedKeyType', `${key.message.split(';')[0] ?? key.message}: ${suggestion}`);
    return key.permanent ? fail(key.reason, key.message) : wait(key.reason, key.message);
  }

  if (key.keyType === undefined || !config.keyTypes.includes(key.keyType)) {
    const what = key.keyType === undefined ? `the ${describeKey(key.publicKey.kind)} key is of no podCertificate keyType` : `keyType ${key.keyType} is not accepted`;
    return deny('UnsupportedKeyType', `${what}: ${suggestion}`);
  }

  const namespaceRefused = namespaceProblem(config, namespace, input.namespace, signer.name);
  if (typeof namespaceRefused === 'object') return wait('FactMissing', `the Namespace ${namespace} has not been read, and signer ${signer.name} needs its labels`);
  if (namespaceRefused !== undefined) return deny('CsrSignerPolicyDenied', namespaceRefused);

  const serviceAccountRefused = serviceAccountProblem(config, namespace, serviceAccountName, signer.name);
  if (serviceAccountRefused !== undefined) return deny('CsrSignerPolicyDenied', serviceAccountRefused);

  const contents = key.stub === undefined ? undefined : stubContents(key.stub);
  if (contents !== undefined && config.nonEmptyStub === 'deny') {
    return deny('CsrSignerPolicyDenied',
      `the stub PKCS#10 request asks for ${contents}; signer ${signer.name} takes the identity from the PodCertificateRequest's spec and accepts only an empty stub (a key and a signature)`);
  }

  const values = templateValues(pcr, config);
  const extraDnsNames = annotationDnsNames(config, pcr, values, signer.name);
  if ('problem' in extraDnsNames) return deny('InvalidUnverifiedUserAnnotations', extraDnsNames.problem);

  if (config.podCheck) {
    if (input.pod === undefined) return wait('FactMissing', `the Pod ${namespace}/${pcr.spec.podName} has not been read, and signer ${signer.name} checks it`);
    const mismatch = podProblem(pcr, input.pod);
    if (mismatch !== undefined) return fail('PodMismatch', mismatch);
  }

  const identity = podCertificateIdentity(config, values, extraDnsNames);
  if ('problem' in identity) return fail('InvalidIdentity', identity.problem);

  const times = podCertificateTimes({
    now: input.now, maxExpirationSeconds: pcr.spec.maxExpirationSeconds, maxLifetimeMs: config.maxLifetimeMs,
    refresh: config.refresh, ca: input.ca, random: input.random,
  });
  if (times.kind !== 'times') return times;
  return {
    kind: 'issue',
    subject: identity.subject,
    subjectAltNames: identity.subjectAltNames,
    // Always the chain: status.certificateChain is the leaf and its intermediates, which
    // the CA's chain is (it stops before the self-signed root). includeChain is CSR-only.
    profile: { usages: config.usages, maxDurationMs: times.lifetimeMs, includeChain: true },
    validity: { notBefore: times.notBefore, notAfter: times.notAfter },
    beginRefreshAt: times.beginRefreshAt,
  };
}

/** What the controller writes through /status (chain ≤ 100 KiB is the controller's to check before writing). */
export type PodCertificateStatus = NonNullable<PodCertificateRequest['status']> & { readonly conditions: readonly [Condition] };

/**
 * The status for a terminal decision: exactly one condition (Issued with the chain and the
 * leaf's times, or Denied/Failed with the decision's reason and message and nothing else),
 * lastTransitionTime `now`. Undefined for skip and wait, which write nothing. An issue
 * decision needs what was issued: `pem` (leaf first) and the serial in hex.
 */
export function podCertificateStatus(
  decision: PodCertificateDecision, issued: { readonly pem: string; readonly serialHex: string } | undefined, now: Date,
): PodCertificateStatus | undefined {
  const lastTransitionTime = rfc3339Seconds(now);
  switch (decision.kind) {
    case 'skip':
    case 'wait':
      return undefined;
    case 'deny':
    case 'fail':
      return { conditions: [{ type: decision.kind === 'deny' ? 'Denied' : 'Failed', status: 'True', reason: decision.reason, message: decision.message, lastTransitionTime }] };
    case 'issue':
      if (issued === undefined) throw new Error('podCertificateStatus: an issue decision needs the certificate issued');
      return {
        conditions: [{ type: 'Issued', status: 'True', reason: 'Issued', message: `issued by csr-signer, serial ${issued.serialHex}`, lastTransitionTime }],
        certificateChain: issued.pem,
        notBefore: rfc3339Seconds(decision.validity.notBefore),
        notAfter: rfc3339Seconds(decision.validity.notAfter),
        beginRefreshAt: rfc3339Seconds(decision.beginRefreshAt),
      };
  }
}
