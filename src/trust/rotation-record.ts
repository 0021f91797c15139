/**
 * How long the certificates of each CA stay valid: the latest NotAfter issued per
 * CA, kept exactly in memory (the metric) and, as a bound, in one ConfigMap in the
 * signer's namespace, so that a restarted or new leader, and `csr-signer rotation
 * status`, still know when an old CA can leave the trust bundle.
 *
 * The bound is written *before* a certificate is, and runs `headroomMs` ahead of
 * the certificate that moved it (but never past the CA's own NotAfter), so the record is written about once per headroom
 * (an hour) rather than per certificate, and a crash between the two writes can
 * only make the record later than the truth, never earlier.
 */
import { rfc3339Seconds } from '../time.js';
import type { Logger } from 'pino';
import { certificateFingerprint, type CaCertificate } from '../pki/index.js';
import { KubeApiError } from '../kube/http.js';
import type { TrustApi } from '../kube/trust-api.js';
import { systemClock, type Clock } from '../clock.js';

export type RecordApi = Pick<TrustApi, 'getConfigMap' | 'createConfigMap' | 'updateConfigMap'>;

/** One CA's entry: the signer it signed for and the latest NotAfter (exact or bound). */
export interface CaIssuance {
  readonly signer: string;
  readonly subject: string;
  readonly notAfter: Date;
}

export const recordLabel = 'csr-signer.io/rotation-record';
const HEADROOM_MS = 3_600_000;
const CONFLICT_ATTEMPTS = 5;
/** After the API refuses the record for good (403, 404, 422), how long signing goes on before it is tried again. */
const REFUSED_RETRY_MS = 60_000;

/**
 * Refusals that no retry of the same request fixes: missing RBAC, a missing namespace, an
 * invalid object. Signing must not stop for them (the record serves rotation advice, not
 * issuance); server errors and throttling do hold the certificate back and retry.
 */
const refused = (e: unknown): e is KubeApiError => e instanceof KubeApiError && (e.status === 403 || e.status === 404 || e.status === 422);

const fingerprints = new WeakMap<CaCertificate, string>();
/** Lower-case hex SHA-256 of the certificate's DER (`openssl x509 -noout -fingerprint -sha256`, without colons). */
export function fingerprint(cert: CaCertificate): string {
  let fp = fingerprints.get(cert);
  if (fp === undefined) {
    fp = certificateFingerprint(cert.der);
    fingerprints.set(cert, fp);
  }
  return fp;
}

/** The record's data → entries; entries that do not parse are ignored (and kept on write). */
export function parseRecord(data: Readonly<Record<string, string>> | undefined): Map<string, CaIssuance> {
  const out = new Map<string, CaIssuance>();
  for (const [key, value] of Object.entries(data ?? {})) {
    try {
      const v = JSON.parse(value) as { signer?: unknown; subject?: unknown; notAfter?: unknown };
      const at = typeof v.notAfter === 'string' ? new Date(v.notAfter) : undefined;
      if (!/^[0-9a-f]{64}$/.test(key) || typeof v.signer !== 'string' || typeof v.subject !== 'string' || !at || Number.isNaN(at.getTime())) continue;
      out.set(key, { signer: v.signer, subject: v.subject, notAfter: at });
    } catch { /* not ours: skip */ }
  }
  return out;
}

const encode = (e: CaIssuance): string => JSON.stringify({ signer: e.signer, subject: e.subject, notAfter: rfc3339Seconds(e.notAfter) });

/** Reads the record; an absent ConfigMap is an empty record. */
export async function readRecord(api: RecordApi, namespace: string, name: string): Promise<Map<string, CaIssuance>> {
  return parseRecord((await api.getConfigMap(namespace, name))?.data);
}

export interface RotationRecordOptions {
  /** undefined: keep the figures in memory only (--rotation-record ""). */
  readonly store?: { readonly api: RecordApi; readonly namespace: string; readonly name: string };
  readonly logger: Logger;
  readonly headroomMs?: number;
  /** Wall time, for the pause after a refusal. Default: the system clock. */
  readonly clock?: Clock;
}

export class RotationRecord {
  /** What the ConfigMap holds (bounds), once read. */
  private bounds: Map<string, CaIssuance> | undefined;
  /** The bounds read at the first load: what earlier processes issued. */
  private readonly inherited = new Map<string, CaIssuance>();
  /** The bounds this process wrote, per CA: seen again on a read, they are ours, not another writer's. */
  private readonly written = new Map<string, number>();
  /** What this process issued, exactly. */
  private readonly exact = new Map<string, CaIssuance>();
  private chain: Promise<void> = Promise.resolve();
  /** Clock time until which a refused record is not tried again. */
  private refusedUntil = 0;

  constructor(private readonly options: RotationRecordOptions) {}

  /** Reads the record (at the start of a term), so the figures of earlier processes show before the first issuance. */
  load(): Promise<void> {
    const store = this.options.store;
    if (!store) return Promise.resolve();
    const run = this.chain.then(async () => {
      const current = await readRecord(store.api, store.namespace, store.name);
      this.inherit(current);
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Takes a fresh read of the record: its bounds, and what other writers (earlier
   * processes, a leader between two of our terms) recorded, for latest().
   */
  private inherit(current: Map<string, CaIssuance>): void {
    this.bounds = current;
    for (const [fp, e] of current) {
      if (this.written.get(fp) === e.notAfter.getTime()) continue;
      const had = this.inherited.get(fp);
      if (!had || had.notAfter.getTime() < e.notAfter.getTime()) this.inherited.set(fp, e);
    }
  }

  /** Before a certificate with `notAfter` from `ca` is written: the record covers it (or this throws, transiently). */
  cover(signer: string, ca: CaCertificate, notAfter: Date): Promise<void> {
    const store = this.options.store;
    const known = this.bounds?.get(fingerprint(ca));
    if (!store || (known && known.notAfter.getTime() >= notAfter.getTime()) || (this.options.clock ?? systemClock).now() < this.refusedUntil) return Promise.resolve();
    const run = this.chain.then(() => this.advance(signer, ca, notAfter)).catch((e: unknown) => {
      if (!refused(e)) throw e;
      this.refusedUntil = (this.options.clock ?? systemClock).now() + REFUSED_RETRY_MS;
      this.options.logger.error({ configMap: `${store.namespace}/${store.name}`, err: e, retryInMs: REFUSED_RETRY_MS },
        'the rotation record cannot be written; signing goes on, but until it can, `csr-signer rotation status` does not know what this process issues (check the signer\'s Role in that namespace, or --rotation-record)');
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** After the certificate was written. */
  issued(signer: string, ca: CaCertificate, notAfter: Date): void {
    const fp = fingerprint(ca);
    const seen = this.exact.get(fp);
    if (!seen || seen.notAfter.getTime() < notAfter.getTime()) this.exact.set(fp, { signer, subject: ca.subject, notAfter });
  }

  /** Per CA fingerprint: the latest NotAfter issued, by this process or (as recorded) before it. */
  latest(): ReadonlyMap<string, CaIssuance> {
    const out = new Map(this.inherited);
    for (const [fp, e] of this.exact) {
      const before = out.get(fp);
      if (!before || before.notAfter.getTime() < e.notAfter.getTime()) out.set(fp, e);
    }
    return out;
  }

  private async advance(signer: string, ca: CaCertificate, notAfter: Date): Promise<void> {
    const store = this.options.store;
    if (!store) return;
    const fp = fingerprint(ca);
    for (let attempt = 1; ; attempt++) {
      const found = await store.api.getConfigMap(store.namespace, store.name);
      const current = parseRecord(found?.data);
      this.inherit(current);
      const bound = current.get(fp);
      if (bound && bound.notAfter.getTime() >= notAfter.getTime()) return;
      // Never past the CA's own NotAfter: no certificate it signs ends later (issuance is capped there), and a bound
      // beyond it would call the CA's removal on the date rotation status gives (its NotAfter) too early.
      const ahead = Math.min(notAfter.getTime() + (this.options.headroomMs ?? HEADROOM_MS), ca.notAfter.getTime());
      const next: CaIssuance = { signer, subject: ca.subject, notAfter: new Date(Math.max(ahead, notAfter.getTime())) };
      const data = { ...found?.data, [fp]: encode(next) };
      try {
        if (found) {
          await store.api.updateConfigMap({ ...found, data });
        } else {
          await store.api.createConfigMap({ metadata: { name: store.name, namespace: store.namespace, labels: { [recordLabel]: 'true' } }, data });
        }
        current.set(fp, next);
        this.written.set(fp, next.notAfter.getTime());
        this.options.logger.debug({ signer, ca: fp, recordedNotAfter: next.notAfter.toISOString() }, 'rotation record advanced');
        return;
      } catch (e) {
        // Another replica (or the previous leader) wrote meanwhile: read again and merge.
        if (!(e instanceof KubeApiError) || e.status !== 409 || attempt >= CONFLICT_ATTEMPTS) throw e;
      }
    }
  }
}
