/**
 * The CSR approver: one source per signerName it approves for, on the generic loop,
 * and per CSR: the cheap skips (signer/approval.ts approvalTriage), the request
 * parsed on the threadpool as the signer parses it (its signature check is the proof
 * that the requester holds the key), the facts the decision needs (the requesting
 * node's Node, SubjectAccessReviews of the requester), the pure decision, then one
 * PUT to /approval with the resourceVersion read. A 409 re-reads and decides again
 * from the fresh object, so a CSR approved, denied or issued meanwhile is left alone.
 * A write whose answer was lost (a timeout, a reset) is logged "outcome unknown" and
 * kept; when the CSR is later seen carrying exactly its condition (time included), the
 * decision is recorded as ours then: one audit record, count and Event.
 *
 * `wait` (recognised, but a SubjectAccessReview said no) leaves the CSR pending and
 * looks again with backoff, logged at debug, as kube-controller-manager's csrapproving
 * does (pkg/controller/certificates/approver/sarapprove.go handle returns an
 * IgnorableError; certificate_controller.go processNextWorkItem requeues it rate
 * limited and logs it at V(4)). In audit mode nothing is written: each decision is
 * logged with `audit: true` and counted, once per resourceVersion.
 */
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../clock.js';
import { ObjectCache } from '../controller/cache.js';
import { Controller, type Reconciled, type RetryOptions } from '../controller/controller.js';
import { CsrSignerError } from '../errors.js';
import type { AccessReviewApi } from '../kube/access-review-api.js';
import { signerFeed, type CsrApi } from '../kube/csr-api.js';
import { KubeApiError } from '../kube/http.js';
import type { NodeApi } from '../kube/node-api.js';
import { parseRequestAsync, type CertificateRequest, type RequestLimits } from '../pki/index.js';
import { approvalFacts, approvalTriage, decideApproval } from '../signer/approval.js';
import { requestBytes } from '../signer/decide.js';
import type { ApprovalDecision, ApproverConfig, ApproverSignerConfig, Csr, CsrCondition, Node, SignerConfig } from '../signer/types.js';
import { noopObserver, type Observer } from '../telemetry/observer.js';
import { rfc3339Seconds } from '../time.js';

/** Parses spec.request's bytes; throws CsrSignerErrors for what is wrong with it. */
export type RequestParser = (bytes: Uint8Array, limits: RequestLimits) => Promise<CertificateRequest>;

export type ApproverApi = Pick<CsrApi, 'list' | 'watch' | 'get' | 'updateApproval' | 'createEvent'>;

export interface CsrApprovingOptions {
  readonly approver: ApproverConfig;
  /** The configuration's signers: a `policy` entry is judged against its signer's policy. */
  readonly signers: readonly SignerConfig[];
  readonly api: ApproverApi;
  readonly nodes: NodeApi;
  readonly reviews: AccessReviewApi;
  readonly logger: Logger;
  readonly workers: number;
  /** The loop's retries after errors; `wait` decisions back off by the same base and cap. */
  readonly retry: RetryOptions;
  readonly watchQuietTimeoutMs: number;
  readonly limits: RequestLimits;
  /** One core v1 Event per approval and denial. */
  readonly events: boolean;
  readonly observer?: Observer;
  /** Times the loop's retries and gives the conditions and Events their time. Default: the system clock. */
  readonly clock?: Clock;
  /** Default: the threadpool parser the signer uses. */
  readonly parse?: RequestParser;
  /** In [0, 1): spreads `wait` backoffs by ±10% so CSRs made together do not come back together. Default: Math.random. */
  readonly random?: () => number;
}

/** A 409 whose re-read shows the CSR still undecided: decide again at once from the fresh object. */
export class StaleApproval extends Error {
  override readonly name = 'StaleApproval';
}

type Written = Extract<ApprovalDecision, { kind: 'approve' | 'deny' }>;

/** A write of ours whose outcome is not known yet: the condition it carried and the decision behind it. */
interface Attempt {
  readonly uid: string | undefined;
  readonly condition: CsrCondition;
  readonly decision: Written;
}

/** How many unconfirmed writes are kept per CSR (each retry is a new condition time). */
const MAX_ATTEMPTS = 8;

/** The CSR carries exactly the condition an attempt of ours wrote (its type, reason, message and time). */
const carries = (csr: Csr, a: Attempt): boolean => csr.metadata.uid === a.uid && (csr.status?.conditions ?? []).some((c) =>
  c.type === a.condition.type && c.status === a.condition.status && c.reason === a.condition.reason
  && c.message === a.condition.message && c.lastUpdateTime === a.condition.lastUpdateTime);

const conditionOf = (decision: Written, now: Date): CsrCondition => {
  const time = rfc3339Seconds(now);
  return decision.kind === 'approve'
    ? { type: 'Approved', status: 'True', reason: 'AutoApproved', message: decision.message, lastUpdateTime: time, lastTransitionTime: time }
    : { type: 'Denied', status: 'True', reason: 'CsrSignerPolicyDenied', message: decision.message, lastUpdateTime: time, lastTransitionTime: time };
};

export class Approver {
  private readonly entries: ReadonlyMap<string, ApproverSignerConfig>;
  private readonly signers: ReadonlyMap<string, SignerConfig>;
  private readonly clock: Clock;
  private readonly observer: Observer;
  private readonly parse: RequestParser;
  /** Per CSR: how many `wait` decisions in a row (the backoff's exponent). */
  private readonly waits = new Map<string, number>();
  /** Per CSR: the uid last counted as `waiting`, so a CSR waiting is counted once, not at every look. */
  private readonly countedWaiting = new Map<string, string | undefined>();
  private readonly random: () => number;
  /**
   * Per CSR: writes sent whose answer never came (a timeout, a reset) or not yet. When the CSR
   * later carries exactly one of their conditions, the write was stored: the decision is ours
   * and is recorded then (audit record, metric, Event), once.
   */
  private readonly attempts = new Map<string, Attempt[]>();
  /** Audit mode: per CSR, the resourceVersion last decided, so an unchanged CSR is not decided (and counted) again. */
  private readonly audited = new Map<string, string | undefined>();

  constructor(private readonly options: CsrApprovingOptions, private readonly cache: ObjectCache<Csr>) {
    this.entries = new Map(options.approver.signers.map((e) => [e.signerName, e]));
    this.signers = new Map(options.signers.map((s) => [s.name, s]));
    this.clock = options.clock ?? systemClock;
    this.observer = options.observer ?? noopObserver;
    this.parse = options.parse ?? parseRequestAsync;
    this.random = options.random ?? Math.random;
  }

  private get audit(): boolean {
    return this.options.approver.mode === 'audit';
  }

  async reconcile(name: string): Promise<Reconciled | undefined> {
    const csr = this.cache.get(name);
    if (!csr) return undefined;
    if (this.audit && this.audited.has(name) && this.audited.get(name) === csr.metadata.resourceVersion) return undefined;
    if (this.confirmLost(csr)) return undefined;
    const signerName = csr.spec.signerName;
    const entry = this.entries.get(signerName);
    const decision = approvalTriage(csr, entry) ?? await this.decide(csr, entry);
    const log = { csr: name, controller: 'csr-approver', signer: signerName };
    switch (decision.kind) {
      case 'skip':
        this.settled(name);
        this.options.logger.debug({ ...log, reason: decision.reason }, 'skipped');
        return undefined;
      case 'wait':
        return this.wait(csr, decision);
      default:
        this.waits.delete(name);
        this.countedWaiting.delete(name);
        if (this.audit) {
          this.audited.set(name, csr.metadata.resourceVersion);
          this.decided(csr, decision);
          return undefined;
        }
        await this.write(csr, decision);
        return undefined;
    }
  }

  /** The CSR `name` is gone: forget what was kept about it. */
  deleted(name: string): void {
    this.settled(name);
    this.audited.delete(name);
  }

  /** Decided, skipped or gone: no more waiting kept about the CSR. */
  private settled(name: string): void {
    this.waits.delete(name);
    this.countedWaiting.delete(name);
    this.attempts.delete(name);
  }

  /**
   * An earlier write of ours whose answer was lost, now seen stored in `csr`: record the
   * decision as ours (once) and report true. As the signer does for a certificate whose
   * PUT /status answer was lost (reconcile/pending-certificates.ts), in proportion: an
   * approval is a condition, so the condition itself, time included, says whose it is.
   */
  private confirmLost(csr: Csr): boolean {
    const name = csr.metadata.name;
    const attempt = this.attempts.get(name)?.find((a) => carries(csr, a));
    if (!attempt) return false;
    this.settled(name);
    this.options.logger.info({ csr: name, controller: 'csr-approver', signer: csr.spec.signerName }, 'an earlier write of ours whose answer was lost was stored');
    this.decided(csr, attempt.decision, true);
    return true;
  }

  /** Parse, fetch the facts, decide. Throws transient errors (API, threadpool); a bad request is the decision's to judge. */
  private async decide(csr: Csr, entry: ApproverSignerConfig | undefined): Promise<ApprovalDecision> {
    if (entry === undefined) return { kind: 'skip', reason: 'NotConfigured' };
    let request: CertificateRequest | CsrSignerError;
    try {
      request = await this.parse(requestBytes(csr), this.options.limits);
    } catch (e) {
      if (!(e instanceof CsrSignerError && e.permanent)) throw e;
      request = e;
    }
    // Given the parsed request, the facts are exactly what kube-controller-manager's csrapproving
    // asks for a kubelet client request: no review for one it does not recognise, selfnodeclient
    // only when the requester is the subject's CN, then nodeclient.
    const facts = approvalFacts(csr, entry, request);
    const node: Node | null | undefined = facts.node === undefined ? undefined : await this.options.nodes.get(facts.node);
    // Every review listed, at once (upstream asks them in turn and stops at the first allowed:
    // the same decision, one more review at most).
    const access = await Promise.all(facts.access.map((attributes) => this.options.reviews.allowed(csr, attributes)));
    return decideApproval({ csr, request, entry, signer: this.signers.get(csr.spec.signerName), ...(node === undefined ? {} : { node }), access });
  }

  /**
   * Left pending: counted once per CSR (per uid, until it is decided or deleted), logged at debug
   * with the reason at every look, looked at again after a backoff that doubles each time, spread
   * by ±10% so that CSRs made together (a fleet of kubelets) do not come back in lock-step.
   */
  private wait(csr: Csr, decision: Extract<ApprovalDecision, { kind: 'wait' }>): Reconciled {
    const name = csr.metadata.name;
    const { baseDelayMs, maxDelayMs } = this.options.retry;
    const attempts = this.waits.get(name) ?? 0;
    this.waits.set(name, attempts + 1);
    const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(attempts, 52));
    const delay = Math.round(backoff * (0.9 + 0.2 * this.random()));
    if (!this.countedWaiting.has(name) || this.countedWaiting.get(name) !== csr.metadata.uid) {
      this.countedWaiting.set(name, csr.metadata.uid);
      this.observer.approval?.(csr.spec.signerName, 'waiting', decision.rule);
    }
    this.options.logger.debug({
      csr: name, controller: 'csr-approver', signer: csr.spec.signerName, rule: decision.rule, message: decision.message, retryInMs: delay, ...(this.audit ? { audit: true } : {}),
    }, 'not approved; looking again later');
    return { requeueAfterMs: delay };
  }

  /**
   * PUT /approval with the object as read plus the condition. On 409 re-read: the
   * fresh object goes to the cache and the loop decides again from it at once (the
   * triage leaves it alone if it was decided or issued meanwhile).
   */
  private async write(csr: Csr, decision: Written): Promise<void> {
    const { api } = this.options;
    const name = csr.metadata.name;
    const condition = conditionOf(decision, this.now());
    const conditions = [...(csr.status?.conditions ?? []), condition];
    const attempts = this.attempts.get(name) ?? [];
    this.attempts.set(name, [...attempts, { uid: csr.metadata.uid, condition, decision }].slice(-MAX_ATTEMPTS));
    let stored: Csr;
    try {
      stored = await api.updateApproval({ ...csr, status: { ...csr.status, conditions } });
    } catch (e) {
      if (notFound(e)) return this.gone(csr);
      if (!(e instanceof KubeApiError) || e.status !== 409) {
        // The write may have been stored all the same: kept as an attempt, recognised when seen.
        this.options.logger.warn({ csr: name, controller: 'csr-approver', signer: csr.spec.signerName, decision: decision.kind, err: e }, 'approval written, outcome unknown');
        throw e;
      }
      this.observer.conflict();
      // A 409 is a refusal: this sending was not stored, whatever the object shows now (another
      // approver may have written the very same condition in the same second).
      this.attempts.set(name, (this.attempts.get(name) ?? []).filter((a) => a.condition !== condition));
      let fresh: Csr;
      try {
        fresh = await api.get(name);
      } catch (g) {
        if (notFound(g)) return this.gone(csr);
        throw g;
      }
      this.cache.update(fresh);
      // Refused, but an earlier sending of ours may be what moved the object on.
      if (this.confirmLost(fresh)) return;
      // Look again at once only when the object really moved on; a 409 on the very version we
      // wrote is a server refusing for its own reasons: an ordinary error, retried with backoff.
      if (fresh.metadata.resourceVersion === csr.metadata.resourceVersion) throw e;
      throw new StaleApproval(`CSR ${csr.metadata.name} changed while it was being approved (${e.message})`);
    }
    this.attempts.delete(name);
    this.cache.update(stored);
    this.decided(csr, decision);
  }

  /**
   * A write or its re-read answered 404: the CSR was deleted meanwhile. It leaves the cache
   * (unless the cache already holds another of the same name) with the bookkeeping of a
   * DELETED event, and nothing is retried: the watch may have delivered that event already,
   * and then nothing else would ever take it out.
   */
  private gone(csr: Csr): void {
    const name = csr.metadata.name;
    if (this.cache.get(name)?.metadata.uid === csr.metadata.uid) this.cache.delete(name);
    if (!this.cache.get(name)) this.deleted(name);
    this.options.logger.info({ csr: name, controller: 'csr-approver', signer: csr.spec.signerName }, 'CSR deleted while its approval was written; nothing to do');
  }

  /**
   * After the write (or, in audit mode, instead of it): the metric, the audit record and the Event.
   * `answerLost`: the write's answer never came, and the CSR now carries a condition equal to the
   * one sent. Most likely ours; the record says how it was known, since another approver
   * deciding the same in the same second would leave the same condition.
   */
  private decided(csr: Csr, decision: Written, answerLost = false): void {
    const approve = decision.kind === 'approve';
    const signer = csr.spec.signerName;
    this.observer.approval?.(signer, approve ? 'approved' : 'denied', decision.rule);
    const record = {
      csr: csr.metadata.name, uid: csr.metadata.uid, requester: csr.spec.username, signer,
      decision: decision.kind, rule: decision.rule, message: decision.message, ...(answerLost ? { answerLost: true } : {}),
    };
    if (this.audit) {
      this.options.logger.info({ audit: true, ...record }, approve ? 'would approve (audit mode)' : 'would deny (audit mode)');
      return;
    }
    this.options.logger.info({ audit: approve ? 'csr-approved' : 'csr-denied', ...record }, approve ? 'CSR approved' : 'CSR denied');
    if (!this.options.events) return;
    const event = approve
      ? { type: 'Normal' as const, reason: 'AutoApproved' }
      : { type: 'Warning' as const, reason: 'CsrSignerPolicyDenied' };
    this.options.api.createEvent({ csr, ...event, message: decision.message, now: this.now() }).catch((e: unknown) => {
      this.options.logger.warn({ csr: csr.metadata.name, reason: event.reason, err: e }, 'could not record event');
    });
  }

  private now(): Date {
    return new Date(this.clock.now());
  }
}

/** The approving controller: the CSRs of each signerName the approver approves for (field selector spec.signerName). */
export function csrApprovingController(options: CsrApprovingOptions): Controller<Csr> {
  const observer = options.observer ?? noopObserver;
  const cache = new ObjectCache<Csr>();
  const approver = new Approver(options, cache);
  return new Controller<Csr>({
    sources: options.approver.signers.map((e) => ({
      name: e.signerName, feed: signerFeed(options.api, e.signerName), logFields: { controller: 'csr-approver', signer: e.signerName },
    })),
    cache,
    reconcile: (key) => approver.reconcile(key),
    workers: options.workers,
    retry: options.retry,
    watchQuietTimeoutMs: options.watchQuietTimeoutMs,
    logger: options.logger,
    describe: (key, csr) => ({ csr: key, controller: 'csr-approver', signer: csr?.spec.signerName }),
    isRetryNow: (e) => e instanceof StaleApproval,
    onRetry: (_key, csr) => observer.retried(csr?.spec.signerName),
    onWatchRestart: (signer, reason) => observer.watchRestarted(signer, reason),
    onDelete: (name) => approver.deleted(name),
    ...(options.clock ? { clock: options.clock } : {}),
  });
}

const notFound = (e: unknown): boolean => e instanceof KubeApiError && e.status === 404;
