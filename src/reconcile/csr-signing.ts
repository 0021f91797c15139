/**
 * The CSR signer: one source per signerName on the generic loop, and per CSR,
 * start to end: decide (src/signer), issue (src/pki), write the result through
 * /status exactly once, then tell people (event, audit record). Throws only
 * transient errors; the loop retries those with backoff.
 *
 * A status write can be stored although its answer is lost (a 504 from the API
 * server's timeout filter, a reset connection). Each certificate issued is held
 * (pending-certificates.ts) until the CSR is seen again: carrying exactly that
 * certificate, it gets its audit record, Event and metrics then; otherwise an
 * audit record says it was signed but never delivered. Every certificate signed
 * is in the audit log once, one way or the other.
 */
import type { Logger } from 'pino';
import {
  certificateFingerprint, issueCertificate, parseRequestAsync, type CertificateAuthority, type IssuedCertificate, type RequestLimits,
} from '../pki/index.js';
import { formatName } from '../pki/name.js';
import { randomSource } from '../pki/random.js';
import { failedCondition, hasCertificate, isFailed } from '../signer/conditions.js';
import { rfc3339Seconds } from '../time.js';
import { decide, failureFromError } from '../signer/decide.js';
import { deliveryOf, type NotDelivered } from '../signer/delivery.js';
import { PendingCertificates, type PendingCertificate } from './pending-certificates.js';
import type { Csr, SignerConfig } from '../signer/types.js';
import { Controller, type RetryOptions } from '../controller/controller.js';
import { ObjectCache } from '../controller/cache.js';
import { systemClock, type Clock } from '../clock.js';
import { signerFeed, type CsrApi } from '../kube/csr-api.js';
import { KubeApiError } from '../kube/http.js';
import { noopObserver, type Observer } from '../telemetry/observer.js';
import type { RotationRecord } from '../trust/rotation-record.js';

/** The CA a signer signs with right now; throws a transient error when it has none. */
export type CaLookup = (signerName: string) => CertificateAuthority;

export interface ReconcilerDeps {
  readonly signers: ReadonlyMap<string, SignerConfig>;
  readonly ca: CaLookup;
  readonly api: CsrApi;
  readonly cache: ObjectCache<Csr>;
  readonly logger: Logger;
  readonly limits: RequestLimits;
  readonly events: boolean;
  /** Wall time (ms since the epoch) for certificates, conditions and events. Default: the system clock. */
  readonly clock?: Clock;
  /** Serial numbers. Default: randomSource(), node:crypto's randomness drawn a block at a time. */
  readonly random?: (size: number) => Uint8Array;
  readonly observer?: Observer;
  /** Records, per CA, how long its certificates stay valid (CA rotation); absent: not tracked. */
  readonly record?: RotationRecord;
  /** How many certificates may wait for their delivery to be known (default 10,000); past it the oldest is given up, with a log line. */
  readonly maxPendingCertificates?: number;
}

export type Outcome = 'absent' | 'skipped' | 'issued' | 'failed' | 'done-elsewhere';

/** A 409 whose re-read shows the CSR still needs us: decide again at once from the fresh object. */
export class StaleObject extends Error {
  override readonly name = 'StaleObject';
}


/** The serial as openssl prints it (hex, no DER sign byte), lower case. */
const serialOf = (issued: IssuedCertificate): string => issued.serialHex.replace(/^00(?=[89a-f])/, '');

export class Reconciler {
  private readonly clock: Clock;
  private readonly random: (size: number) => Uint8Array;
  private readonly observer: Observer;
  private readonly pending: PendingCertificates;

  constructor(private readonly deps: ReconcilerDeps) {
    this.clock = deps.clock ?? systemClock;
    this.random = deps.random ?? randomSource();
    this.observer = deps.observer ?? noopObserver;
    this.pending = new PendingCertificates(deps.maxPendingCertificates ?? 10_000);
  }

  /** Certificates issued whose delivery is not known yet. */
  get pendingCertificates(): number {
    return this.pending.size;
  }

  private now(): Date {
    return new Date(this.clock.now());
  }

  async reconcile(name: string): Promise<Outcome> {
    const { cache, signers, logger } = this.deps;
    const csr = cache.get(name);
    this.settle(name, csr);
    if (!csr) return 'absent';
    const signer = signers.get(csr.spec.signerName);
    const started = performance.now();
    const decision = await decide(csr, signer, parseRequestAsync, this.deps.limits);
    if (decision.kind === 'skip' || !signer) {
      logger.debug({ csr: name, signer: csr.spec.signerName, reason: decision.kind === 'skip' ? decision.reason : 'OtherSigner' }, 'skipped');
      return 'skipped';
    }
    if (decision.kind === 'fail') return this.fail(csr, signer, decision.reason, decision.message);
    const ca = this.deps.ca(signer.name);
    let issued: IssuedCertificate;
    try {
      issued = await issueCertificate({
        request: decision.request, profile: decision.profile, ca, now: this.now(), random: this.random,
        ...(decision.expirationSeconds === undefined ? {} : { expirationSeconds: decision.expirationSeconds }),
      });
    } catch (e) {
      const failure = failureFromError(e);
      if (failure?.kind === 'fail') return this.fail(csr, signer, failure.reason, failure.message);
      throw e;
    }
    const signSeconds = (performance.now() - started) / 1000;
    // Recorded before it is written, so the record is never earlier than what was issued.
    await this.deps.record?.cover(signer.name, ca.certificate, issued.validity.notAfter);
    const written = Buffer.from(issued.pem);
    const entry: PendingCertificate = {
      csr, signer, ca: ca.certificate, issued, written, signSeconds,
      subject: decision.request.subject.attributes.length > 0 ? formatName(decision.request.subject) : '',
      sans: decision.request.subjectAltNames,
    };
    this.hold(entry);
    // On success the stored object carries the certificate and settles the entry: audit, Event, metrics.
    const result = await this.write(csr, { ...csr, status: { ...csr.status, certificate: written.toString('base64') } }, entry);
    return result === 'written' ? 'issued' : result;
  }

  /** The CSR `name` is gone: a certificate still awaiting word will never be in it. */
  deleted(name: string): void {
    this.settle(name, undefined);
  }

  /**
   * Before the loop lets go (shutdown, lost leadership): reads each CSR that
   * still has a certificate awaiting word and settles it, so what was delivered
   * gets its audit record here and not never. What cannot be read is logged as
   * unknown.
   */
  async settlePending(): Promise<void> {
    await this.pending.settleAll<Csr>({
      read: (name) => this.deps.api.get(name),
      settle: (name, csr) => this.settle(name, csr),
      unknown: (entry, err) => this.deps.logger.warn({ audit: 'certificate-delivery-unknown', ...this.auditFields(entry), err }, 'stopping without knowing whether a certificate was delivered'),
      // Still undecided (neither certificate nor Failed): it was not delivered by now, and this process will not look again.
      abandoned: (entry) => this.notDelivered(entry, 'abandoned'),
    });
  }

  /** Holds `entry` until its delivery is known; past the bound the oldest is given up, with a log line. */
  private hold(entry: PendingCertificate): void {
    const dropped = this.pending.add(entry);
    if (!dropped) return;
    this.deps.logger.warn({
      audit: 'certificate-delivery-unknown', ...this.auditFields(dropped), pending: this.pending.size,
    }, 'too many certificates awaiting delivery; the oldest is no longer tracked');
  }

  /** Resolves the held certificates of CSR `name` against `csr` as now seen (undefined: gone). */
  private settle(name: string, csr: Csr | undefined): void {
    for (const entry of this.pending.forName(name)) {
      const delivery = deliveryOf(entry.written, entry.csr.metadata.uid, csr);
      if (delivery === 'pending') continue;
      this.pending.remove(entry);
      if (delivery === 'delivered') this.delivered(entry);
      else this.notDelivered(entry, delivery);
    }
  }

  /** The certificate is in the CSR: the rotation record, the metrics, the audit record and the Event, once. */
  private delivered(entry: PendingCertificate): void {
    const { csr, signer, issued } = entry;
    this.deps.record?.issued(signer.name, entry.ca, issued.validity.notAfter);
    this.observer.issued(signer.name, entry.signSeconds, csr);
    this.deps.logger.info({ audit: 'certificate-issued', ...this.auditFields(entry) }, 'certificate issued');
    this.event(csr, 'Normal', 'CertificateIssued',
      `Issued certificate serial ${serialOf(issued)}, valid until ${rfc3339Seconds(issued.validity.notAfter)}`);
  }

  /**
   * The certificate was signed and is not in the CSR now. A conflict, another certificate or
   * Failed there say it never was (`certificate-not-delivered`). A CSR deleted, or still
   * without it when the signer stops, does not: a write whose answer was lost may have been
   * stored and read before the deletion, or may still land (`certificate-delivery-unknown`).
   */
  private notDelivered(entry: PendingCertificate, why: NotDelivered | 'conflict' | 'abandoned'): void {
    if (why === 'deleted' || why === 'abandoned') {
      this.deps.logger.warn({ audit: 'certificate-delivery-unknown', ...this.auditFields(entry), why }, 'certificate signed; whether it was delivered is unknown');
      return;
    }
    this.deps.logger.info({ audit: 'certificate-not-delivered', ...this.auditFields(entry), why }, 'certificate signed but not delivered');
  }

  private async fail(csr: Csr, signer: SignerConfig, reason: string, message: string): Promise<Outcome> {
    const conditions = [...(csr.status?.conditions ?? []), failedCondition(reason, message, this.now())];
    const written = await this.write(csr, { ...csr, status: { ...csr.status, conditions } }, undefined);
    if (written !== 'written') return written;
    this.observer.failed(signer.name, reason);
    this.deps.logger.info({ csr: csr.metadata.name, signer: signer.name, reason, message }, 'request failed');
    this.event(csr, 'Warning', 'SigningFailed', `${reason}: ${message}`);
    return 'failed';
  }

  /**
   * PUT /status with the resourceVersion we decided on. On 409 re-read: a
   * certificate or Failed condition there means another writer (or an earlier
   * attempt of ours whose answer was lost) finished; otherwise decide again.
   * `mine` is the certificate this write carries: any other error leaves it
   * held, as the write may have been stored; a 409 says it was not.
   */
  private async write(before: Csr, after: Csr, mine: PendingCertificate | undefined): Promise<'written' | 'done-elsewhere' | 'absent'> {
    const { api, cache, logger } = this.deps;
    const name = before.metadata.name;
    try {
      const stored = await api.updateStatus(after);
      cache.update(stored);
      this.settle(name, stored);
      return 'written';
    } catch (e) {
      if (notFound(e)) return this.gone(before);
      if (!(e instanceof KubeApiError) || e.status !== 409) throw e;
      this.observer.conflict();
      let fresh: Csr;
      try {
        fresh = await api.get(name);
      } catch (g) {
        if (notFound(g)) return this.gone(before);
        throw g;
      }
      cache.update(fresh);
      this.settle(name, fresh);
      // This write was refused, so unless the re-read shows its certificate anyway (stored by an
      // earlier sending of the same request), that certificate is not in the CSR and never will be.
      if (mine && this.pending.forName(name).includes(mine)) {
        this.pending.remove(mine);
        this.notDelivered(mine, 'conflict');
      }
      if (hasCertificate(fresh) || isFailed(fresh)) {
        logger.info({ csr: before.metadata.name, certificate: hasCertificate(fresh), failed: isFailed(fresh) }, 'status already written; nothing to do');
        return 'done-elsewhere';
      }
      // Look again at once only when the object really moved on; a 409 on the very version we
      // wrote is a server refusing for its own reasons: an ordinary error, retried with backoff.
      if (fresh.metadata.resourceVersion === before.metadata.resourceVersion) throw e;
      throw new StaleObject(`CSR ${before.metadata.name} changed while it was being signed (${e.message})`);
    }
  }

  /**
   * A write or its re-read answered 404: the CSR was deleted meanwhile. It leaves the cache
   * (unless the cache already holds another of the same name) with the bookkeeping of a
   * DELETED event, and nothing is retried: the watch may have delivered that event already,
   * and then nothing else would ever take it out.
   */
  private gone(csr: Csr): 'absent' {
    const { cache, logger } = this.deps;
    const name = csr.metadata.name;
    if (cache.get(name)?.metadata.uid === csr.metadata.uid) cache.delete(name);
    const current = cache.get(name);
    if (current) this.settle(name, current);
    else this.deleted(name);
    logger.info({ csr: name, signer: csr.spec.signerName }, 'CSR deleted while its status was written; nothing to do');
    return 'absent';
  }

  /** The fields of every audit record about a certificate. */
  private auditFields({ csr, signer, issued, subject, sans }: PendingCertificate): Record<string, unknown> {
    return {
      csr: csr.metadata.name,
      uid: csr.metadata.uid,
      requester: csr.spec.username,
      signer: signer.name,
      serial: serialOf(issued),
      sha256: certificateFingerprint(issued.der),
      subject,
      sans,
      notBefore: issued.validity.notBefore.toISOString(),
      notAfter: issued.validity.notAfter.toISOString(),
    };
  }

  private event(csr: Csr, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (!this.deps.events) return;
    this.deps.api.createEvent({ csr, type, reason, message, now: this.now() }).catch((e: unknown) => {
      this.deps.logger.warn({ csr: csr.metadata.name, reason, err: e }, 'could not record event');
    });
  }
}

export interface CsrSigningOptions {
  readonly signers: readonly SignerConfig[];
  readonly ca: CaLookup;
  readonly api: CsrApi;
  readonly logger: Logger;
  readonly workers: number;
  readonly retry: RetryOptions;
  readonly watchQuietTimeoutMs: number;
  readonly limits: RequestLimits;
  readonly events: boolean;
  readonly observer?: Observer;
  readonly record?: RotationRecord;
  /** Times the loop's retries and gives the reconciler its wall time. Default: the system clock. */
  readonly clock?: Clock;
}

/** The signing controller: the CSRs of each configured signerName that serves CSRs (field selector spec.signerName), reconciled by `Reconciler`. */
export function csrSigningController(options: CsrSigningOptions): Controller<Csr> {
  const observer = options.observer ?? noopObserver;
  // A signer of pod certificates alone (certificateSigningRequests: false) has no CSR watch, and its name's CSRs are another signer's.
  const signers = options.signers.filter((s) => s.certificateSigningRequests !== false);
  const cache = new ObjectCache<Csr>();
  const reconciler = new Reconciler({
    signers: new Map(signers.map((s) => [s.name, s])),
    ca: options.ca,
    api: options.api,
    cache,
    logger: options.logger,
    limits: options.limits,
    events: options.events,
    observer,
    ...(options.record ? { record: options.record } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return new Controller<Csr>({
    sources: signers.map((s) => ({ name: s.name, feed: signerFeed(options.api, s.name), logFields: { signer: s.name } })),
    cache,
    reconcile: async (key) => {
      await reconciler.reconcile(key);
      return undefined;
    },
    workers: options.workers,
    retry: options.retry,
    watchQuietTimeoutMs: options.watchQuietTimeoutMs,
    logger: options.logger,
    describe: (key, csr) => ({ csr: key, signer: csr?.spec.signerName }),
    isRetryNow: (e) => e instanceof StaleObject,
    onRetry: (_key, csr) => observer.retried(csr?.spec.signerName),
    onWatchRestart: (signer, reason) => observer.watchRestarted(signer, reason),
    onDelete: (name) => reconciler.deleted(name),
    onStopped: () => reconciler.settlePending(),
    ...(options.clock ? { clock: options.clock } : {}),
  });
}

const notFound = (e: unknown): boolean => e instanceof KubeApiError && e.status === 404;
