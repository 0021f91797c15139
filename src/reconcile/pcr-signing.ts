/**
 * The PodCertificateRequest signer: one source per signer with podCertificates on the
 * generic loop (its requests in every namespace, field selector spec.signerName), keyed
 * `namespace/name`, and per request, start to end: the cheap skips
 * (signer/pod-certificate.ts podCertificateTriage), the subject key read and verified
 * (pki readPodCertificateKey; a v1 request made by a kubelet older than 1.36 is read again
 * through v1beta1 to see its legacy fields), the facts the decision asks for (the
 * Namespace, the Pod: one GET each), the pure decision, on `issue` the certificate from
 * the signer's CA (the same CaStore, rotation and hot reload as the CSR signer), then one
 * PUT to /status with the resourceVersion read. Then the audit record, the Event and the
 * metrics. Throws only transient errors; the loop retries those with backoff.
 *
 * Exactly once: a 409 re-reads, stops when the request is terminal, and otherwise decides
 * again at once (at most 5 times in a row, as the loop allows). A write can be stored
 * although its answer is lost (a 504, a reset connection), so each status written is held
 * (as reconcile/pending-certificates.ts does for CSRs) until the request is seen again:
 * carrying exactly it, it gets its record, Event and count then. While it is held and
 * young, the next look sends the same status again rather than deciding anew, so a lost
 * answer never costs a second certificate: the resend either lands, or 409s and the
 * re-read shows ours.
 *
 * `wait` (the CA cannot give an hour; a fact not read) writes nothing: looked at again
 * after a capped, jittered backoff, with a log line; a CA problem never becomes a
 * terminal condition (the kubelet would treat it as permanent).
 */
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../clock.js';
import { ObjectCache } from '../controller/cache.js';
import { Controller, type Reconciled, type RetryOptions } from '../controller/controller.js';
import { CsrSignerError, csrError } from '../errors.js';
import { randomSource } from '../pki/random.js';
import { KubeApiError } from '../kube/http.js';
import { objectKey } from '../kube/list-watch.js';
import { podCertificateFeed, type PodCertificateRequestApi } from '../kube/pcr-api.js';
import type { PodFactsApi } from '../kube/pod-api.js';
import {
  certificateFingerprint, encodePem, issueForKey, readPodCertificateKey,
  type CaCertificate, type CertificateAuthority, type IssuedCertificate, type KeyIssueInput, type PodCertificateKey, type PodCertificateKeyFields, type RequestLimits,
} from '../pki/index.js';
import { decidePodCertificate, podCertificateFacts, podCertificateKeyFields, podCertificateStatus, podCertificateTriage } from '../signer/pod-certificate.js';
import { podCertificateTimes } from '../signer/pod-certificate-times.js';
import { isTerminal, podCertificateDeliveryOf, type PodCertificateDelivery } from '../signer/pod-certificate-delivery.js';
import type { PodCertificateConfig, PodCertificateDecision, PodCertificateRequest, SignerConfig } from '../signer/types.js';
import { noopObserver, type Observer, type PodCertificateResult } from '../telemetry/observer.js';
import { rfc3339Seconds } from '../time.js';
import type { RotationRecord } from '../trust/rotation-record.js';
import { PendingWrites } from './pending-certificates.js';
import type { CaLookup } from './csr-signing.js';

/** The most `status.certificateChain` may hold (kube-apiserver's validation: 100 KiB). */
export const MAX_CERTIFICATE_CHAIN_BYTES = 102_400;
/**
 * How long a status whose answer was lost is sent again as it is, rather than decided anew:
 * its notBefore (now − 1 minute) must stay within the apiserver's ±5 minutes.
 */
export const RESEND_WINDOW_MS = 120_000;
/**
 * The longest wait between two looks at a request (transient errors and `wait` alike): the
 * controller manager deletes a request 15 minutes after its creation, so the general
 * --retry-max-delay (1000 s by default) would let one go unanswered.
 */
export const POD_CERTIFICATE_MAX_RETRY_DELAY_MS = 60_000;

type Terminal = Extract<PodCertificateDecision, { kind: 'issue' | 'deny' | 'fail' }>;
type Status = NonNullable<PodCertificateRequest['status']>;

/** A status sent whose outcome is not known yet, and what its records need once it is. */
interface PendingWrite {
  readonly key: string;
  /** The request as it was decided on. */
  readonly pcr: PodCertificateRequest;
  readonly signer: SignerConfig;
  readonly result: PodCertificateResult;
  readonly status: Status;
  /** Clock time of the decision. */
  readonly decidedAt: number;
  readonly issued?: { readonly certificate: IssuedCertificate; readonly ca: CaCertificate; readonly decision: Extract<Terminal, { kind: 'issue' }> };
}

export type PodCertificateKeyReader = (fields: PodCertificateKeyFields, limits: RequestLimits) => Promise<PodCertificateKey>;
export type PodCertificateIssuer = (input: KeyIssueInput) => Promise<IssuedCertificate>;

export interface PodCertificateSigningOptions {
  /** The configuration's signers; those with podCertificates are watched. */
  readonly signers: readonly SignerConfig[];
  readonly ca: CaLookup;
  /** The API client of each signer with podCertificates (each may use its own version). */
  readonly apis: ReadonlyMap<string, PodCertificateRequestApi>;
  readonly facts: PodFactsApi;
  readonly logger: Logger;
  readonly workers: number;
  /** The loop's retries; the delay is capped at POD_CERTIFICATE_MAX_RETRY_DELAY_MS. `wait` backs off by the same. */
  readonly retry: RetryOptions;
  readonly watchQuietTimeoutMs: number;
  readonly limits: RequestLimits;
  readonly events: boolean;
  readonly observer?: Observer;
  readonly record?: RotationRecord;
  /** Wall time for certificates, conditions and Events, and the loop's retries. Default: the system clock. */
  readonly clock?: Clock;
  /** Serial numbers. Default: randomSource(), node:crypto's randomness drawn a block at a time. */
  readonly random?: (size: number) => Uint8Array;
  /** In [0, 1): the refresh time's place in its window, and the ±10% spread of `wait` backoffs. Default Math.random. */
  readonly jitter?: () => number;
  /** Default: pki readPodCertificateKey. */
  readonly readKey?: PodCertificateKeyReader;
  /** Default: pki issueForKey. */
  readonly issue?: PodCertificateIssuer;
  /** How many statuses may wait for their outcome to be known (default 10,000). */
  readonly maxPendingWrites?: number;
}

/** A 409 whose re-read shows the request still open: decide again at once from the fresh object. */
export class StalePodCertificateRequest extends Error {
  override readonly name = 'StalePodCertificateRequest';
}


/** The serial as openssl prints it (hex, no DER sign byte), lower case. */
const serialOf = (issued: IssuedCertificate): string => issued.serialHex.replace(/^00(?=[89a-f])/, '');

const eventReasons: Record<PodCertificateResult, { type: 'Normal' | 'Warning'; reason: string }> = {
  issued: { type: 'Normal', reason: 'PodCertificateIssued' },
  denied: { type: 'Warning', reason: 'PodCertificateDenied' },
  failed: { type: 'Warning', reason: 'PodCertificateFailed' },
};

export class PodCertificateSigner {
  private readonly signers: ReadonlyMap<string, SignerConfig>;
  private readonly clock: Clock;
  private readonly observer: Observer;
  private readonly random: (size: number) => Uint8Array;
  private readonly jitter: () => number;
  private readonly readKey: PodCertificateKeyReader;
  private readonly issue: PodCertificateIssuer;
  private readonly pending: PendingWrites<PendingWrite>;
  /** Per request: how many `wait` decisions in a row (the backoff's exponent). */
  private readonly waits = new Map<string, number>();

  constructor(private readonly options: PodCertificateSigningOptions, private readonly cache: ObjectCache<PodCertificateRequest>) {
    this.signers = new Map(options.signers.map((s) => [s.name, s]));
    this.clock = options.clock ?? systemClock;
    this.observer = options.observer ?? noopObserver;
    this.random = options.random ?? randomSource();
    this.jitter = options.jitter ?? Math.random;
    this.readKey = options.readKey ?? readPodCertificateKey;
    this.issue = options.issue ?? issueForKey;
    this.pending = new PendingWrites<PendingWrite>(options.maxPendingWrites ?? 10_000, (e) => e.key);
  }

  /** Statuses sent whose outcome is not known yet. */
  get pendingWrites(): number {
    return this.pending.size;
  }

  async reconcile(key: string): Promise<Reconciled | undefined> {
    const pcr = this.cache.get(key);
    this.settle(key, pcr);
    if (!pcr) return undefined;
    const signer = this.signers.get(pcr.spec.signerName);
    const skipped = podCertificateTriage(pcr, signer);
    const api = signer ? this.options.apis.get(signer.name) : undefined;
    if (skipped || !signer?.podCertificates || !api) {
      this.waits.delete(key);
      this.options.logger.debug({ ...this.about(pcr), reason: skipped?.reason ?? 'NotConfigured' }, 'skipped');
      return undefined;
    }
    // A status of ours still in flight (its answer lost) and young: send it again as it is.
    const held = this.pending.forName(key).find((e) => e.pcr.metadata.uid === pcr.metadata.uid && this.clock.now() - e.decidedAt < RESEND_WINDOW_MS);
    if (held) {
      this.options.logger.info({ ...this.about(pcr), result: held.result }, 'sending the status whose answer was lost again');
      await this.write(api, pcr, held);
      return undefined;
    }
    const decided = await this.decide(api, pcr, signer, signer.podCertificates);
    if (decided.decision.kind === 'skip') return undefined;
    if (decided.decision.kind === 'wait') return this.wait(key, pcr, decided.decision);
    this.waits.delete(key);
    const entry = await this.prepare(key, pcr, signer, decided.decision, decided);
    if ('kind' in entry) return this.wait(key, pcr, entry);
    this.hold(entry);
    await this.write(api, pcr, entry);
    return undefined;
  }

  /** The request `key` is gone: what was held for it is settled, what was kept forgotten. */
  deleted(key: string): void {
    this.settle(key, undefined);
    this.waits.delete(key);
  }

  /**
   * Before the loop lets go (shutdown, lost leadership): reads each request that still has a
   * status awaiting word and settles it, so what was delivered gets its records here and not
   * never. What cannot be read is logged as unknown.
   */
  async settlePending(): Promise<void> {
    await this.pending.settleAll<PodCertificateRequest>({
      read: async (key) => {
        const [entry] = this.pending.forName(key);
        if (!entry) return undefined;
        return this.options.apis.get(entry.signer.name)?.get(entry.pcr.metadata.namespace ?? '', entry.pcr.metadata.name);
      },
      settle: (key, pcr) => this.settle(key, pcr),
      unknown: (held, err) => this.options.logger.warn({ audit: 'certificate-delivery-unknown', ...this.auditFields(held), err }, 'stopping without knowing whether a status was delivered'),
      abandoned: (held) => this.notDelivered(held, 'abandoned'),
    });
  }

  /** The key, the facts, the CA, the decision. Throws transient errors (API, CA, threadpool). */
  private async decide(api: PodCertificateRequestApi, pcr: PodCertificateRequest, signer: SignerConfig, config: PodCertificateConfig)
    : Promise<{ decision: PodCertificateDecision; key: PodCertificateKey | CsrSignerError; ca: CertificateAuthority; now: Date }> {
    const key = await this.keyOf(api, pcr);
    // A key that cannot be read yet (v1beta1 not served) is not the request's fault: it waits.
    if (key instanceof CsrSignerError && !key.permanent) {
      return { decision: { kind: 'wait', reason: key.reason, message: key.message }, key, ca: this.options.ca(signer.name), now: this.now() };
    }
    // The CA's intermediates alone over what status.certificateChain may hold: the signer's
    // configuration, not the request's fault; waits (never Failed) until the CA is changed.
    const chainBytes = podCertificateChainBytes(signer, this.options.ca(signer.name));
    if (chainBytes >= MAX_CERTIFICATE_CHAIN_BYTES) {
      const tooLong = csrError('PodCertificateChainTooLong', chainBytes, MAX_CERTIFICATE_CHAIN_BYTES);
      return { decision: { kind: 'wait', reason: tooLong.reason, message: tooLong.message }, key, ca: this.options.ca(signer.name), now: this.now() };
    }
    const facts = podCertificateFacts(pcr, config);
    if (facts.namespace !== undefined || facts.pod !== undefined) {
      // While the CA cannot give any pod certificate (not yet valid, or under an hour left) every
      // look would end in that wait: found first, with the decision's own times function, so a
      // backlog waiting on the CA costs no Pod or Namespace reads. A request the facts would
      // refuse is refused once the CA is renewed.
      const ca = this.options.ca(signer.name);
      const now = this.now();
      const times = podCertificateTimes({
        now, maxExpirationSeconds: pcr.spec.maxExpirationSeconds, maxLifetimeMs: config.maxLifetimeMs,
        refresh: config.refresh, ca: { notBefore: ca.certificate.notBefore, notAfter: ca.certificate.notAfter }, random: () => 0,
      });
      if (times.kind === 'wait') return { decision: times, key, ca, now };
    }
    const [namespace, pod] = await Promise.all([
      facts.namespace === undefined ? undefined : this.options.facts.getNamespace(facts.namespace),
      facts.pod === undefined ? undefined : this.options.facts.getPod(facts.pod.namespace, facts.pod.name),
    ]);
    const ca = this.options.ca(signer.name);
    const now = this.now();
    const decision = decidePodCertificate({
      pcr, signer, key, now, random: this.jitter,
      ca: { notBefore: ca.certificate.notBefore, notAfter: ca.certificate.notAfter },
      ...(namespace === undefined ? {} : { namespace }),
      ...(pod === undefined ? {} : { pod }),
    });
    return { decision, key, ca, now };
  }

  /**
   * The subject key, read and verified, or the error that says why it cannot be (permanent:
   * the request's fault). v1 does not show the legacy pkixPublicKey and proofOfPossession: a
   * request without a stub is read again through v1beta1 while the cluster serves it; while it
   * does not (as discovery, read again at most once a minute, says) the transient
   * PodCertificateLegacyKeyUnreadable.
   */
  private async keyOf(api: PodCertificateRequestApi, pcr: PodCertificateRequest): Promise<PodCertificateKey | CsrSignerError> {
    let source = pcr;
    if (api.version === 'v1' && (pcr.spec.stubPKCS10Request ?? '') === '') {
      if (!api.legacyServed && !await api.rediscoverLegacy()) return csrError('PodCertificateLegacyKeyUnreadable');
      try {
        source = await api.getLegacy(pcr.metadata.namespace ?? '', pcr.metadata.name);
      } catch (e) {
        // v1beta1 no longer served, or the request deleted (retried: its DELETED event ends it).
        if (notFound(e) && !await api.rediscoverLegacy()) return csrError('PodCertificateLegacyKeyUnreadable');
        throw e;
      }
      if (source.metadata.uid !== pcr.metadata.uid) {
        throw new StalePodCertificateRequest(`PodCertificateRequest ${objectKey(pcr)} was replaced by another of the same name while its key was read`);
      }
    }
    const fields = podCertificateKeyFields(source, this.options.limits.maxBytes);
    if (fields instanceof CsrSignerError) return fields;
    try {
      return await this.readKey(fields, this.options.limits);
    } catch (e) {
      if (e instanceof CsrSignerError) return e;
      throw e;
    }
  }

  /** The status of a terminal decision; for `issue`, the certificate issued and the rotation record covering it. */
  private async prepare(
    key: string, pcr: PodCertificateRequest, signer: SignerConfig, decision: Terminal,
    { key: subjectKey, ca, now }: { key: PodCertificateKey | CsrSignerError; ca: CertificateAuthority; now: Date },
  ): Promise<PendingWrite | Extract<PodCertificateDecision, { kind: 'wait' }>> {
    const base = { key, pcr, signer, decidedAt: this.clock.now() };
    const refusal = (d: Extract<Terminal, { kind: 'deny' | 'fail' }>): PendingWrite => ({
      ...base, result: d.kind === 'deny' ? 'denied' : 'failed', status: podCertificateStatus(d, undefined, now) as Status,
    });
    if (decision.kind !== 'issue') return refusal(decision);
    // The decision issues only for a key it read.
    if (subjectKey instanceof CsrSignerError) throw subjectKey;
    let certificate: IssuedCertificate;
    try {
      certificate = await this.issue({
        publicKey: subjectKey.publicKey, subject: decision.subject, subjectAltNames: decision.subjectAltNames,
        profile: decision.profile, ca, validity: decision.validity, random: this.random,
      });
    } catch (e) {
      if (e instanceof CsrSignerError && e.permanent) return refusal({ kind: 'fail', reason: e.reason, message: e.message });
      throw e;
    }
    const size = Buffer.byteLength(certificate.pem);
    if (size > MAX_CERTIFICATE_CHAIN_BYTES) {
      // Signed, never to be written: recorded as not delivered; the request waits (the CA's chain
      // is the signer's configuration, and the kubelet takes Failed as final).
      const tooLong = csrError('PodCertificateChainTooLong', size, MAX_CERTIFICATE_CHAIN_BYTES);
      this.notDelivered({ ...base, result: 'issued', issued: { certificate, ca: ca.certificate, decision }, status: {} }, 'chain-too-long');
      return { kind: 'wait', reason: tooLong.reason, message: tooLong.message };
    }
    // Recorded before it is written, so the record is never earlier than what was issued.
    await this.options.record?.cover(signer.name, ca.certificate, certificate.validity.notAfter);
    return {
      ...base, result: 'issued', issued: { certificate, ca: ca.certificate, decision },
      status: podCertificateStatus(decision, { pem: certificate.pem, serialHex: serialOf(certificate) }, now) as Status,
    };
  }

  /**
   * Not now, and not the request's fault: nothing written, looked at again after a backoff that
   * doubles each time up to the cap, spread by ±10% so requests made together (a Deployment
   * scaled up) do not come back together; one log line per look.
   */
  private wait(key: string, pcr: PodCertificateRequest, decision: Extract<PodCertificateDecision, { kind: 'wait' }>): Reconciled {
    const { baseDelayMs, maxDelayMs } = this.options.retry;
    const attempts = this.waits.get(key) ?? 0;
    this.waits.set(key, attempts + 1);
    const backoff = Math.min(maxDelayMs, POD_CERTIFICATE_MAX_RETRY_DELAY_MS, baseDelayMs * 2 ** Math.min(attempts, 52));
    const delay = Math.round(backoff * (0.9 + 0.2 * this.jitter()));
    this.options.logger.warn({ ...this.about(pcr), reason: decision.reason, message: decision.message, retryInMs: delay }, 'not signed yet; looking again later');
    return { requeueAfterMs: delay };
  }

  /**
   * PUT /status with the request as read plus `entry`'s status. On success the stored object
   * settles the entry (records, Event, count). On 409 re-read: terminal means done (by us
   * earlier, whose answer was lost, or by another writer); otherwise decide again at once.
   * Any other error leaves the entry held, as the write may have been stored.
   */
  private async write(api: PodCertificateRequestApi, pcr: PodCertificateRequest, entry: PendingWrite): Promise<void> {
    const { key } = entry;
    try {
      const stored = await api.updateStatus({ ...pcr, status: entry.status });
      this.cache.update(stored);
      this.settle(key, stored);
      return;
    } catch (e) {
      if (notFound(e)) {
        this.gone(key, pcr);
        return;
      }
      if (e instanceof KubeApiError && e.status >= 400 && e.status < 500 && e.status !== 409) {
        // Refused (a 422 from validation or the sign check, a 403, a 429): not stored, so never sent again as it is.
        if (this.pending.forName(key).includes(entry)) {
          this.pending.remove(entry);
          this.notDelivered(entry, 'refused');
        }
        throw e;
      }
      if (!(e instanceof KubeApiError) || e.status !== 409) {
        // A 5xx or no answer: the write may have been stored; the entry stays held and is recognised when seen.
        this.options.logger.warn({ ...this.about(pcr), result: entry.result, err: e }, 'status written, outcome unknown');
        throw e;
      }
      this.observer.conflict();
      let fresh: PodCertificateRequest;
      try {
        fresh = await api.get(pcr.metadata.namespace ?? '', pcr.metadata.name);
      } catch (g) {
        if (!notFound(g)) throw g;
        this.gone(key, pcr);
        return;
      }
      this.cache.update(fresh);
      this.settle(key, fresh);
      // Refused, so unless the re-read showed it anyway (an earlier sending stored), this status never lands.
      if (this.pending.forName(key).includes(entry)) {
        this.pending.remove(entry);
        this.notDelivered(entry, 'conflict');
      }
      if (isTerminal(fresh)) {
        this.options.logger.info({ ...this.about(pcr) }, 'status already written; nothing to do');
        return;
      }
      // Look again at once only when the object really moved on; a 409 on the very version we
      // wrote is a server refusing for its own reasons: an ordinary error, retried with backoff.
      if (fresh.metadata.resourceVersion === pcr.metadata.resourceVersion) throw e;
      throw new StalePodCertificateRequest(`PodCertificateRequest ${key} changed while it was being signed (${e.message})`);
    }
  }

  /**
   * A write or its re-read answered 404: the request was deleted meanwhile. It leaves the cache
   * (unless the cache already holds another of the same name) with the bookkeeping of a
   * DELETED event, and nothing is retried: the watch may have delivered that event already,
   * and then nothing else would ever take it out.
   */
  private gone(key: string, pcr: PodCertificateRequest): void {
    if (this.cache.get(key)?.metadata.uid === pcr.metadata.uid) this.cache.delete(key);
    const current = this.cache.get(key);
    if (current) this.settle(key, current);
    else this.deleted(key);
    this.options.logger.info({ ...this.about(pcr) }, 'request deleted while its status was written; nothing to do');
  }

  private hold(entry: PendingWrite): void {
    const dropped = this.pending.add(entry);
    if (!dropped) return;
    this.options.logger.warn({ audit: 'certificate-delivery-unknown', ...this.auditFields(dropped), pending: this.pending.size },
      'too many statuses awaiting word; the oldest is no longer tracked');
  }

  /** Resolves the held statuses of request `key` against `pcr` as now seen (undefined: gone). */
  private settle(key: string, pcr: PodCertificateRequest | undefined): void {
    for (const entry of this.pending.forName(key)) {
      const delivery = podCertificateDeliveryOf(entry.status, entry.pcr.metadata.uid, pcr);
      if (delivery === 'pending') continue;
      this.pending.remove(entry);
      if (delivery === 'delivered') this.delivered(entry);
      else this.notDelivered(entry, delivery);
    }
  }

  /** The status is in the request: the rotation record, the count, the audit record and the Event, once. */
  private delivered(entry: PendingWrite): void {
    const { pcr, signer, result } = entry;
    const created = Date.parse(pcr.metadata.creationTimestamp ?? '');
    this.observer.podCertificate?.(signer.name, result, Number.isNaN(created) ? undefined : (this.clock.now() - created) / 1000);
    const { type, reason } = eventReasons[result];
    if (entry.issued) {
      const { certificate, ca, decision } = entry.issued;
      this.options.record?.issued(signer.name, ca, certificate.validity.notAfter);
      this.options.logger.info({ audit: 'certificate-issued', ...this.auditFields(entry) }, 'pod certificate issued');
      this.event(pcr, type, reason, `Issued certificate serial ${serialOf(certificate)}, valid until ${rfc3339Seconds(certificate.validity.notAfter)}, refresh from ${rfc3339Seconds(decision.beginRefreshAt)}`);
      return;
    }
    const [condition] = entry.status.conditions ?? [];
    this.options.logger.info({ audit: result === 'denied' ? 'request-denied' : 'request-failed', ...this.auditFields(entry) }, `pod certificate request ${result}`);
    this.event(pcr, type, reason, `${condition?.reason ?? ''}: ${condition?.message ?? ''}`);
  }

  /**
   * The status is not in the request now; for a certificate, the audit log says it was signed
   * all the same. A conflict, a refusal, a request recreated or another status there say it
   * never was (`certificate-not-delivered`). A request deleted, or still open when the signer
   * stops, does not: a write whose answer was lost may have been stored and read by the kubelet
   * before the deletion, or may still land (`certificate-delivery-unknown`).
   */
  private notDelivered(entry: PendingWrite, why: Exclude<PodCertificateDelivery, 'delivered' | 'pending'> | 'conflict' | 'refused' | 'abandoned' | 'chain-too-long'): void {
    if (!entry.issued) this.options.logger.debug({ ...this.about(entry.pcr), result: entry.result, why }, 'status not delivered');
    else if (why === 'deleted' || why === 'abandoned') this.options.logger.warn({ audit: 'certificate-delivery-unknown', ...this.auditFields(entry), why }, 'certificate signed; whether it was delivered is unknown');
    else this.options.logger.info({ audit: 'certificate-not-delivered', ...this.auditFields(entry), why }, 'certificate signed but not delivered');
  }

  /** The fields of every audit record about a request's end. */
  private auditFields({ pcr, signer, issued, status }: PendingWrite): Record<string, unknown> {
    const [condition] = status.conditions ?? [];
    return {
      kind: 'PodCertificateRequest',
      namespace: pcr.metadata.namespace,
      name: pcr.metadata.name,
      uid: pcr.metadata.uid,
      pod: pcr.spec.podName,
      podUID: pcr.spec.podUID,
      serviceAccount: pcr.spec.serviceAccountName,
      node: pcr.spec.nodeName,
      signer: signer.name,
      ...(issued ? {
        serial: serialOf(issued.certificate),
        sha256: certificateFingerprint(issued.certificate.der),
        subject: issued.decision.subject,
        sans: issued.decision.subjectAltNames,
        notBefore: issued.certificate.validity.notBefore.toISOString(),
        notAfter: issued.certificate.validity.notAfter.toISOString(),
        beginRefreshAt: issued.decision.beginRefreshAt.toISOString(),
      } : { reason: condition?.reason, message: condition?.message }),
    };
  }

  /** What names a request on a log line. */
  private about(pcr: PodCertificateRequest): Record<string, unknown> {
    return { pcr: objectKey(pcr), signer: pcr.spec.signerName };
  }

  private event(pcr: PodCertificateRequest, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (!this.options.events) return;
    const api = this.options.apis.get(pcr.spec.signerName);
    api?.createEvent({ pcr, type, reason, message, now: this.now() }).catch((e: unknown) => {
      this.options.logger.warn({ ...this.about(pcr), reason, err: e }, 'could not record event');
    });
  }

  private now(): Date {
    return new Date(this.clock.now());
  }
}

/** The signers a pod-certificate controller watches: those with podCertificates. */
export const podCertificateSigners = (signers: readonly SignerConfig[]): SignerConfig[] => signers.filter((s) => s.podCertificates !== undefined);

const notFound = (e: unknown): boolean => e instanceof KubeApiError && e.status === 404;

/** The bytes of PEM the CA's intermediates add to each pod certificate's chain (none without includeChain). */
export function podCertificateChainBytes(signer: SignerConfig, ca: CertificateAuthority): number {
  if (!signer.includeChain) return 0;
  return ca.chain.reduce((sum, der) => sum + Buffer.byteLength(encodePem('CERTIFICATE', der)), 0);
}

/** The PodCertificateRequest signing controller: one source per signer with podCertificates, keyed namespace/name. */
export function podCertificateSigningController(options: PodCertificateSigningOptions): Controller<PodCertificateRequest> {
  const observer = options.observer ?? noopObserver;
  const cache = new ObjectCache<PodCertificateRequest>();
  const retry = { ...options.retry, maxDelayMs: Math.min(options.retry.maxDelayMs, POD_CERTIFICATE_MAX_RETRY_DELAY_MS) };
  const signer = new PodCertificateSigner({ ...options, retry }, cache);
  const sources = podCertificateSigners(options.signers).flatMap((s) => {
    const api = options.apis.get(s.name);
    return api ? [{ name: s.name, feed: podCertificateFeed(api, s.name), logFields: { controller: 'pod-certificates', signer: s.name } }] : [];
  });
  return new Controller<PodCertificateRequest>({
    sources,
    cache,
    reconcile: (key) => signer.reconcile(key),
    workers: options.workers,
    retry,
    watchQuietTimeoutMs: options.watchQuietTimeoutMs,
    logger: options.logger,
    describe: (key, pcr) => ({ pcr: key, signer: pcr?.spec.signerName }),
    isRetryNow: (e) => e instanceof StalePodCertificateRequest,
    onRetry: (_key, pcr) => observer.retried(pcr?.spec.signerName),
    onWatchRestart: (name, reason) => observer.watchRestarted(name, reason),
    onDelete: (key) => signer.deleted(key),
    onStopped: () => signer.settlePending(),
    ...(options.clock ? { clock: options.clock } : {}),
  });
}
