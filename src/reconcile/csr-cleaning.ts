/**
 * The CSR cleaner: every CSR, of every signer, on the generic loop; each is
 * deleted once signer/cleanup.ts says it may be, with a uid precondition so that
 * a new CSR of the same name is never deleted in its place. A CSR not yet old
 * enough is looked at again when it will be, instead of relisting everything
 * hourly as kube-controller-manager's cleaner does.
 */
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../clock.js';
import { ObjectCache } from '../controller/cache.js';
import { Controller, type Reconciled, type RetryOptions } from '../controller/controller.js';
import { signerFeed, type CsrApi } from '../kube/csr-api.js';
import { KubeApiError } from '../kube/http.js';
import type { Csr } from '../kube/objects.js';
import { decodePem, readCertificateBundle } from '../pki/index.js';
import { cleanup, upstreamCleanupAges, type CleanupAges, type CleanupReason } from '../signer/cleanup.js';

export interface CsrCleaningOptions {
  readonly api: Pick<CsrApi, 'list' | 'watch' | 'delete'>;
  readonly logger: Logger;
  readonly retry: RetryOptions;
  readonly watchQuietTimeoutMs: number;
  /** Default: kube-controller-manager's (1 h issued, denied, failed; 24 h pending). */
  readonly ages?: CleanupAges;
  /** Default 1, as kube-controller-manager. */
  readonly workers?: number;
  /** Times the loop's rechecks and retries, and is the wall time ages are measured against. Default: the system clock. */
  readonly clock?: Clock;
  /** A CSR was deleted. */
  readonly onDeleted?: (csr: Csr, reason: CleanupReason) => void;
}

/**
 * The NotAfter of the certificate in the first PEM block of status.certificate, whatever
 * the block's label, as upstream's isExpired reads it (pem.Decode, then the first of
 * x509.ParseCertificates); undefined when there is none or it cannot be read (never
 * "expired", as upstream).
 */
function certificateNotAfter(csr: Csr): Date | undefined {
  const text = csr.status?.certificate ?? '';
  if (text === '') return undefined;
  try {
    const [first] = decodePem(Buffer.from(text, 'base64').toString('latin1'));
    if (!first) return undefined;
    return readCertificateBundle({ name: `CSR ${csr.metadata.name} status.certificate`, bytes: first.der })[0]?.notAfter;
  } catch {
    return undefined;
  }
}

/** A timer delay can be at most 2^31-1 ms (about 24.8 days); a later recheck is scheduled in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export function csrCleaningController(options: CsrCleaningOptions): Controller<Csr> {
  const { api, logger } = options;
  const ages = options.ages ?? upstreamCleanupAges;
  const clock = options.clock ?? systemClock;
  const cache = new ObjectCache<Csr>();

  const reconcile = async (key: string): Promise<Reconciled | undefined> => {
    const csr = cache.get(key);
    if (!csr) return undefined;
    const verdict = cleanup(csr, new Date(clock.now()), ages, certificateNotAfter(csr));
    if (verdict.kind === 'keep') {
      return verdict.recheckInMs === undefined ? undefined : { requeueAfterMs: Math.min(verdict.recheckInMs, MAX_DELAY_MS) };
    }
    try {
      await api.delete(csr.metadata.name, csr.metadata.uid === undefined ? {} : { uid: csr.metadata.uid });
    } catch (e) {
      // 404: gone already. 409: the name now holds another object; the watch brings it, and it is judged on its own.
      if (e instanceof KubeApiError && (e.status === 404 || e.status === 409)) return undefined;
      throw e;
    }
    logger.info({ csr: csr.metadata.name, uid: csr.metadata.uid, signer: csr.spec.signerName, reason: verdict.reason }, 'deleted CSR');
    options.onDeleted?.(csr, verdict.reason);
    return undefined;
  };

  return new Controller<Csr>({
    sources: [{ name: 'all', feed: signerFeed(api, undefined), logFields: { controller: 'csr-cleaner' } }],
    cache,
    reconcile,
    workers: options.workers ?? 1,
    retry: options.retry,
    watchQuietTimeoutMs: options.watchQuietTimeoutMs,
    logger,
    describe: (key, csr) => ({ csr: key, controller: 'csr-cleaner', signer: csr?.spec.signerName }),
    ...(options.clock ? { clock: options.clock } : {}),
  });
}
