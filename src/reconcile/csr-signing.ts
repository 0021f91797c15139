/**
 * The CSR signer: one source per signerName on the generic loop, and per CSR,
 * start to end: decide (src/signer), issue (src/pki), write the result through
 * /status exactly once, then tell people (event, audit record). Throws only
 * transient errors; the loop retries those with backoff.
 */
import type { Logger } from 'pino';
import {
  certificateFingerprint, issueCertificate, parseRequestAsync, type CertificateAuthority, type IssuedCertificate, type RequestLimits,
} from '../pki/index.js';
import { formatName } from '../pki/name.js';
import { failedCondition, hasCertificate, isFailed } from '../signer/conditions.js';
import { rfc3339Seconds } from '../time.js';
import { decide, failureFromError } from '../signer/decide.js';
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
  readonly random?: (size: number) => Uint8Array;
  readonly observer?: Observer;
  /** Records, per CA, how long its certificates stay valid (CA rotation); absent: not tracked. */
  readonly record?: RotationRecord;
}

export type Outcome = 'absent' | 'skipped' | 'issued' | 'failed' | 'done-elsewhere';

/** A 409 whose re-read shows the CSR still needs us: decide again at once from the fresh object. */
export class StaleObject extends Error {
  override readonly name = 'StaleObject';
}

const cryptoRandom = (size: number): Uint8Array => {
  const bytes = new Uint8Array(size);
  crypto.getRandomValues(bytes);
  return bytes;
};

/** The serial as openssl prints it (hex, no DER sign byte), lower case. */
const serialOf = (issued: IssuedCertificate): string => issued.serialHex.replace(/^00(?=[89a-f])/, '');

export class Reconciler {
  private readonly clock: Clock;
  private readonly random: (size: number) => Uint8Array;
  private readonly observer: Observer;

  constructor(private readonly deps: ReconcilerDeps) {
    this.clock = deps.clock ?? systemClock;
    this.random = deps.random ?? cryptoRandom;
    this.observer = deps.observer ?? noopObserver;
  }

  private now(): Date {
    return new Date(this.clock.now());
  }

  async reconcile(name: string): Promise<Outcome> {
    const { cache, signers, logger } = this.deps;
    const csr = cache.get(name);
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
    const written = await this.write(csr, { ...csr, status: { ...csr.status, certificate: Buffer.from(issued.pem).toString('base64') } });
    if (written === 'done-elsewhere') return written;
    this.deps.record?.issued(signer.name, ca.certificate, issued.validity.notAfter);
    this.observer.issued(signer.name, signSeconds, csr);
    this.audit(csr, signer, issued, decision.request.subject.attributes.length > 0 ? formatName(decision.request.subject) : '', decision.request.subjectAltNames);
    this.event(csr, 'Normal', 'CertificateIssued',
      `Issued certificate serial ${serialOf(issued)}, valid until ${rfc3339Seconds(issued.validity.notAfter)}`);
    return 'issued';
  }

  private async fail(csr: Csr, signer: SignerConfig, reason: string, message: string): Promise<Outcome> {
    const conditions = [...(csr.status?.conditions ?? []), failedCondition(reason, message, this.now())];
    const written = await this.write(csr, { ...csr, status: { ...csr.status, conditions } });
    if (written === 'done-elsewhere') return written;
    this.observer.failed(signer.name, reason);
    this.deps.logger.info({ csr: csr.metadata.name, signer: signer.name, reason, message }, 'request failed');
    this.event(csr, 'Warning', 'SigningFailed', `${reason}: ${message}`);
    return 'failed';
  }

  /**
   * PUT /status with the resourceVersion we decided on. On 409 re-read: a
   * certificate or Failed condition there means another writer (or an earlier
   * attempt of ours whose answer was lost) finished; otherwise decide again.
   */
  private async write(before: Csr, after: Csr): Promise<'written' | 'done-elsewhere'> {
    const { api, cache, logger } = this.deps;
    try {
      cache.set(await api.updateStatus(after));
      return 'written';
    } catch (e) {
      if (!(e instanceof KubeApiError) || e.status !== 409) throw e;
      this.observer.conflict();
      const fresh = await api.get(before.metadata.name);
      cache.set(fresh);
      if (hasCertificate(fresh) || isFailed(fresh)) {
        logger.info({ csr: before.metadata.name, certificate: hasCertificate(fresh), failed: isFailed(fresh) }, 'status already written; nothing to do');
        return 'done-elsewhere';
      }
      throw new StaleObject(`CSR ${before.metadata.name} changed while it was being signed (${e.message})`);
    }
  }

  private audit(csr: Csr, signer: SignerConfig, issued: IssuedCertificate, subject: string, sans: object): void {
    this.deps.logger.info({
      audit: 'certificate-issued',
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
    }, 'certificate issued');
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

/** The signing controller: the CSRs of each configured signerName (field selector spec.signerName), reconciled by `Reconciler`. */
export function csrSigningController(options: CsrSigningOptions): Controller<Csr> {
  const observer = options.observer ?? noopObserver;
  const cache = new ObjectCache<Csr>();
  const reconciler = new Reconciler({
    signers: new Map(options.signers.map((s) => [s.name, s])),
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
    sources: options.signers.map((s) => ({ name: s.name, feed: signerFeed(options.api, s.name), logFields: { signer: s.name } })),
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
    ...(options.clock ? { clock: options.clock } : {}),
  });
}
