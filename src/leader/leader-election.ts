/**
 * Leader election on a Lease, with client-go's semantics (tools/leaderelection),
 * written for one event loop.
 *
 * A candidate tries every retryPeriod × (1 + 1.2 × random): GET the Lease; create
 * it if missing; if someone else holds it, wait until it has gone unchanged for
 * the record's leaseDurationSeconds *as measured by our clock* from when we first
 * saw that version (never from the timestamps inside it); then PUT our record
 * with the resourceVersion we read. The leader does the same every retryPeriod
 * to renew; leaseTransitions grows by one each time the holder changes.
 *
 * Terms and waits are measured on a monotonic clock (performance.now unless a
 * Clock is given), so stepping the wall clock neither lengthens a term nor
 * shortens a wait. acquireTime and renewTime are wall time, for people to read.
 *
 * Safety (no two leaders, given clocks that run at the same rate; their offsets
 * do not matter since remote timestamps are never compared):
 *
 * I1. We lead only inside [s, s + renewDeadline), where s is the time (our clock)
 *     at which we *sent* a write the server accepted. `isLeader` checks that
 *     bound on every read; a timer calls onStoppedLeading when it passes. A write
 *     whose answer arrives after that bound does not make us leader.
 * I2. Every write is a compare-and-swap: PUT names the resourceVersion it read,
 *     POST fails if the Lease exists. Of writes racing on one version exactly one
 *     succeeds (409 for the rest).
 * I3. A candidate writes over another holder's record only after seeing that
 *     record's resourceVersion unchanged for leaseDuration, counted from when it
 *     first saw it, which is after the server committed it, which is after s.
 *     So that write commits after s + leaseDuration > s + renewDeadline: after
 *     we stopped. Had we renewed meanwhile, the version changed: its PUT gets a
 *     409, or its GET sees the new version and it starts waiting again.
 *     (We watch resourceVersion, not the record's bytes as client-go does. The
 *     API server keeps the resourceVersion of an update that changes nothing, so
 *     a renew answered with the version it was sent on wrote nothing others can
 *     see, and is not counted as a renew: it neither starts nor extends a term.)
 * I4. We write leaseDurationSeconds = ceil(leaseDuration), so the wait others
 *     take from our record is never shorter than the one I3 relies on, and
 *     renewDeadline < leaseDuration is checked here.
 * I5. On stop we call onStoppedLeading before anything else, and release (empty
 *     holder, 1 s) only after that, with a CAS on the version we last saw.
 *
 * A refusal retrying cannot cure (403 on any request, 404 on create: see
 * lease-access.ts) is retried all the same, since RBAC or the namespace may be
 * fixed while we run, but it is kept as `leaseError` for /readyz and logged once
 * when it starts or changes and once when it ends, not on every attempt.
 *
 * Like client-go this is not fencing: onStoppedLeading is a notice, and work
 * started before it may still finish. Callers check `isLeader` before each unit
 * of work and guard their own writes (resourceVersion).
 *
 * Differences from client-go: a leader that reads a record held by someone else
 * stops at once rather than at its deadline; onStoppedLeading is called only
 * after onStartedLeading (they alternate) and the elector keeps competing after
 * a lost lease instead of returning; onNewLeader is not called for an empty holder.
 */
import type { Logger } from 'pino';
import { formatDuration } from '../duration.js';
import { csrError, type CsrSignerError } from '../errors.js';
import type { LeaderElectionConfig } from '../config/types.js';
import { KubeApiError } from '../kube/http.js';
import { leaseAccessError } from './lease-access.js';
import type { LeaseLock, LeaseRecord, VersionedLeaseRecord } from './lease-lock.js';
import { formatMicroTime } from './lease-lock.js';
import { systemClock, type Clock } from '../clock.js';

/** client-go leaderelection.JitterFactor: candidates wait retryPeriod × (1 + this × random). */
export const JITTER_FACTOR = 1.2;

const monotonicClock: Clock = { ...systemClock, now: () => performance.now() };

/**
 * How an attempt ended, for the access report: the server let us in (an answer,
 * a 409 included: authorization comes before storage), refused us for good (the
 * error naming what is missing), or we learnt nothing (a timeout, a 5xx).
 */
type Access = 'allowed' | 'unknown' | CsrSignerError;
type LeaseOp = 'get' | 'create' | 'renew' | 'acquire';

export interface LeaderElectorOptions {
  readonly lock: LeaseLock;
  /** Unique per process (client-go uses hostname + "_" + a UUID); written as spec.holderIdentity. */
  readonly identity: string;
  readonly config: Pick<LeaderElectionConfig, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'>;
  readonly logger: Logger;
  /** Measures terms and waits. Default: monotonic (performance.now), so a step of the wall clock changes nothing. */
  readonly clock?: Clock;
  /**
   * Wall time (ms since the epoch) for the record's acquireTime and renewTime, which only
   * people read; kept apart from `clock` because terms must not follow a step of the wall
   * clock. Default: the clock given (a test's manual clock), else the system clock.
   */
  readonly wallClock?: Clock;
  /** [0, 1), for the candidates' jitter. */
  readonly random?: () => number;
  /** We hold the lease: start the work it guards. */
  readonly onStartedLeading: () => void;
  /** We may no longer hold it (renew deadline passed, another holder seen, or stop): stop at once. */
  readonly onStoppedLeading: () => void;
  /** A holder other than the last one reported, us included. */
  readonly onNewLeader?: (identity: string) => void;
}

export class LeaderElector {
  private readonly clock: Clock;
  private readonly wallClock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private leading = false;
  /** I1: the end of our current term, our clock. */
  private validUntil = -Infinity;
  private lastRenewSent: number | undefined;
  /** The last record read or written, and when (our clock) we first saw its version. */
  private observed: { record: VersionedLeaseRecord; at: number } | undefined;
  private reportedHolder = '';
  /** The last refusal no retry can cure (403; 404 on create), until an attempt is let in again. */
  private accessError: CsrSignerError | undefined;
  private started = false;
  private stopping: Promise<void> | undefined;
  private retryTimer: unknown;
  private deadlineTimer: unknown;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly options: LeaderElectorOptions) {
    const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = options.config;
    if (!(retryPeriodMs > 0) || !(renewDeadlineMs > JITTER_FACTOR * retryPeriodMs) || !(leaseDurationMs > renewDeadlineMs)) {
      throw csrError('InvalidArgument', `leader election needs lease duration (${formatDuration(leaseDurationMs)}) > renew deadline (${formatDuration(renewDeadlineMs)}) > ${JITTER_FACTOR} × retry period (${formatDuration(retryPeriodMs)}) > 0`);
    }
    const clock = options.clock ?? monotonicClock;
    this.clock = clock;
    this.wallClock = options.wallClock ?? options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.log = options.logger.child({ lease: options.lock.description, identity: options.identity });
  }

  /** We hold the lease and our term (I1) has not run out. */
  get isLeader(): boolean {
    return this.leading && this.clock.now() < this.validUntil;
  }

  /** The holder of the last record we saw; undefined if none or released. */
  get currentHolder(): string | undefined {
    const holder = this.observed?.record.holderIdentity;
    return holder === '' ? undefined : holder;
  }

  /** Time since we sent our last successful acquire or renew; undefined if there was none. */
  sinceRenewMs(): number | undefined {
    return this.lastRenewSent === undefined ? undefined : this.clock.now() - this.lastRenewSent;
  }

  /**
   * Why this replica cannot use the Lease (a missing permission, a missing
   * namespace), as one sentence naming it; undefined while the server lets it in.
   */
  get leaseError(): string | undefined {
    return this.accessError?.message;
  }

  /** Starts competing; the first attempt is made at once. */
  start(): void {
    if (this.started || this.stopping) return;
    this.started = true;
    this.log.info('attempting to acquire the leader lease');
    this.tick();
  }

  /**
   * Stops competing. If leading, calls onStoppedLeading first; then waits for a
   * request in flight; with `release`, gives the lease up so another replica
   * takes it on its next try. Only release once the guarded work has finished.
   */
  stop(options: { release?: boolean } = {}): Promise<void> {
    this.stopping ??= (async () => {
      this.clock.clearTimeout(this.retryTimer);
      if (this.leading) this.stopLeading('stopping');
      await this.inFlight;
      if (options.release) await this.release();
    })();
    return this.stopping;
  }

  private tick(): void {
    if (this.stopping) return;
    this.inFlight = this.tryAcquireOrRenew().then((access) => this.noteAccess(access), (e: unknown) => {
      this.log.error({ err: e }, 'leader election attempt failed unexpectedly');
    }).then(() => {
      this.inFlight = undefined;
      if (this.stopping) return;
      const period = this.options.config.retryPeriodMs;
      const delay = this.leading ? period : period * (1 + JITTER_FACTOR * this.random());
      this.retryTimer = this.clock.setTimeout(() => this.tick(), delay);
    });
  }

  private async tryAcquireOrRenew(): Promise<Access> {
    const { lock, identity } = this.options;
    const sent = this.clock.now();
    let current: VersionedLeaseRecord | undefined;
    try {
      current = await lock.get();
    } catch (e) {
      return this.failed('get', e);
    }
    if (this.stopping) return 'unknown';
    if (current === undefined) return this.write('create', () => lock.create(this.recordFor(undefined)), sent);
    this.observe(current);
    const holder = current.holderIdentity;
    if (holder !== identity) {
      if (this.leading) this.stopLeading('the lease has another holder', { holder });
      const observedAt = this.observed?.at ?? sent;
      if (holder !== '' && observedAt + this.durationMs(current) > sent) {
        this.log.debug({ holder }, 'the lease is held by another replica and has not expired');
        return 'allowed';
      }
    }
    const op = holder === identity ? 'renew' : 'acquire';
    const from = current;
    return this.write(op, () => lock.update(this.recordFor(from), from.resourceVersion), sent, from.resourceVersion);
  }

  /** `readVersion`: the version an update was sent on; an answer at that same version wrote nothing (I3). */
  private async write(op: LeaseOp, send: () => Promise<VersionedLeaseRecord>, sent: number, readVersion?: string): Promise<Access> {
    let written: VersionedLeaseRecord;
    try {
      written = await send();
    } catch (e) {
      return this.failed(op, e);
    }
    if (written.resourceVersion === readVersion) {
      // Our record was the same bytes as the stored one (the wall clock stood still):
      // others still count the term from the version they saw before, so we must too.
      this.observe(written);
      this.log.debug({ op }, 'the lease write changed nothing; not counted as a renew');
      return 'allowed';
    }
    const now = this.clock.now();
    this.observed = { record: written, at: now };
    this.report();
    if (this.stopping) return 'allowed';
    const until = sent + this.options.config.renewDeadlineMs;
    if (now >= until) {
      this.log.warn({ op, tookMs: now - sent }, 'the lease write answered after the renew deadline; not leading on it');
      if (this.leading) this.stopLeading('renew deadline passed');
      return 'allowed';
    }
    this.lastRenewSent = sent;
    this.validUntil = until;
    this.armDeadline();
    if (this.leading) return 'allowed';
    this.leading = true;
    this.log.info({ op, leaseTransitions: written.leaseTransitions }, 'became leader');
    this.call('onStartedLeading', () => this.options.onStartedLeading());
    return 'allowed';
  }

  private recordFor(current: VersionedLeaseRecord | undefined): LeaseRecord {
    const now = formatMicroTime(this.wallClock.now());
    const ours = current !== undefined && current.holderIdentity === this.options.identity;
    return {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: Math.ceil(this.options.config.leaseDurationMs / 1000),
      acquireTime: ours ? current.acquireTime ?? now : now,
      renewTime: now,
      leaseTransitions: current === undefined ? 0 : ours ? current.leaseTransitions : current.leaseTransitions + 1,
    };
  }

  /** I3: a new resourceVersion restarts the holder's term as we count it. */
  private observe(record: VersionedLeaseRecord): void {
    if (this.observed?.record.resourceVersion !== record.resourceVersion) this.observed = { record, at: this.clock.now() };
    this.report();
  }

  /** The holder's own leaseDurationSeconds, else ours. */
  private durationMs(record: LeaseRecord): number {
    return record.leaseDurationSeconds > 0 ? record.leaseDurationSeconds * 1000 : this.options.config.leaseDurationMs;
  }

  private armDeadline(): void {
    this.clock.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = this.clock.setTimeout(() => {
      this.deadlineTimer = undefined;
      if (!this.leading) return;
      // A timer may fire a little early: look again rather than trust it.
      if (this.clock.now() < this.validUntil) this.armDeadline();
      else this.stopLeading('renew deadline passed', { sinceRenewMs: this.sinceRenewMs() });
    }, Math.max(0, this.validUntil - this.clock.now()));
  }

  private stopLeading(why: string, fields: Record<string, unknown> = {}): void {
    this.leading = false;
    this.validUntil = -Infinity;
    this.clock.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    if (why === 'stopping') this.log.info(fields, 'stopped leading');
    else this.log.warn({ ...fields, why }, 'stopped leading');
    this.call('onStoppedLeading', () => this.options.onStoppedLeading());
  }

  private async release(): Promise<void> {
    const last = this.observed?.record;
    if (!last || last.holderIdentity !== this.options.identity) return;
    const now = this.clock.now();
    const time = formatMicroTime(this.wallClock.now());
    try {
      const written = await this.options.lock.update(
        { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: time, renewTime: time, leaseTransitions: last.leaseTransitions },
        last.resourceVersion,
      );
      this.observed = { record: written, at: now };
      this.log.info('released the lease');
    } catch (e) {
      this.log.warn({ err: e }, 'could not release the lease; another replica takes it when it expires');
    }
  }

  private failed(op: LeaseOp, e: unknown): Access {
    const denied = leaseAccessError(op === 'get' || op === 'create' ? op : 'update', e, this.options.lock.lease);
    if (denied) return denied;
    if (e instanceof KubeApiError && e.status === 409) {
      this.log.info({ op }, 'another replica wrote the lease first');
      return 'allowed';
    }
    this.log.warn({ op, err: e }, 'lease request failed');
    return 'unknown';
  }

  /** A refusal is logged when it starts or changes, not on every retry; the first attempt let in again ends it, logged once too. */
  private noteAccess(access: Access): void {
    if (access === 'unknown') return;
    const was = this.accessError;
    if (access === 'allowed') {
      if (was === undefined) return;
      this.accessError = undefined;
      this.log.info({ was: was.code }, 'the lease is usable again');
      return;
    }
    if (was?.message === access.message) return;
    this.accessError = access;
    this.log.error({ err: access, code: access.code }, 'cannot use the leader lease; retrying');
  }

  private report(): void {
    const holder = this.observed?.record.holderIdentity ?? '';
    if (holder === this.reportedHolder) return;
    this.reportedHolder = holder;
    if (holder === '') return;
    this.log.info({ holder }, 'new leader');
    const onNewLeader = this.options.onNewLeader;
    if (onNewLeader) this.call('onNewLeader', () => onNewLeader(holder));
  }

  private call(name: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.error({ err: e, callback: name }, 'leader election callback threw');
    }
  }
}
