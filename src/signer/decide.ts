/**
 * The decision: a fixed ladder, cheap checks first, returning a value —
 * skip, fail(reason, message) or issue(profile) — and never doing I/O.
 *
 *   not our signerName → already Failed → Denied → not Approved → certificate set
 *   → parse → the signer's rules → policy → a CA request → unknown usages → issue
 *
 * `decide` is the ladder, and the only one: the signer's reconciler and the tests
 * both call it. Parsing is injected so that the signer parses on the threadpool
 * (`parseRequestAsync`) and tests may parse on their own thread (`parseRequest`).
 * `failureFromError` maps the errors of the issuing step (after `decide`) the same way.
 */
import { CsrSignerError, csrError } from '../errors.js';
import { formatDuration } from '../duration.js';
import {
  defaultRequestLimits, describeKey, knownUsages,
  type CertificateRequest, type KeyKind, type RequestLimits, type SigningProfile,
} from '../pki/index.js';
import { validateBuiltin } from './builtin-signers.js';
import { unreencodableSubject } from './reencoded-subject.js';
import { hasCertificate, isApproved, isDenied, isFailed } from './conditions.js';
import { checkPolicy } from './policy.js';
import { isBuiltinSignerName, type Csr, type Decision, type KeyTypeName, type SignerConfig } from './types.js';

const skip = (reason: Extract<Decision, { kind: 'skip' }>['reason']): Decision => ({ kind: 'skip', reason });
const fail = (e: CsrSignerError): Decision => ({ kind: 'fail', reason: e.reason, message: e.message });

/** The cheap skips, in the ladder's order; undefined means go on to parse. */
export function triage(csr: Csr, signerName: string): Decision | undefined {
  if (csr.spec.signerName !== signerName) return skip('OtherSigner');
  if (isFailed(csr)) return skip('AlreadyFailed');
  if (isDenied(csr)) return skip('Denied');
  if (!isApproved(csr)) return skip('NotApproved');
  if (hasCertificate(csr)) return skip('AlreadyIssued');
  return undefined;
}

const base64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** spec.request's bytes (base64 of the PEM). Throws a permanent MalformedRequest when it is not base64. */
export function requestBytes(csr: Csr): Uint8Array {
  const text = csr.spec.request;
  if (text.length % 4 !== 0 || !base64.test(text)) throw csrError('MalformedRequest', 'spec.request is not valid base64');
  return Buffer.from(text, 'base64');
}

/** A permanent CsrSignerError as a fail decision; undefined for anything else (transient: retry). */
export function failureFromError(e: unknown): Decision | undefined {
  return e instanceof CsrSignerError && e.permanent ? fail(e) : undefined;
}

export function keyTypeName(kind: KeyKind): KeyTypeName {
  switch (kind.type) {
    case 'rsa': return 'rsa';
    case 'ed25519': return 'ed25519';
    case 'ec': return kind.curve === 'P-256' ? 'ecdsa-p256' : kind.curve === 'P-384' ? 'ecdsa-p384' : 'ecdsa-p521';
  }
}

/** The configurable constraints of a signer (absent for the built-ins): usages, key type, minimum duration. */
function signerConstraints(csr: Csr, request: CertificateRequest, signer: SignerConfig): CsrSignerError | undefined {
  const usages = csr.spec.usages ?? [];
  const { allowedUsages, requiredUsages, allowedKeyTypes, minDurationMs } = signer;
  const notAllowed = allowedUsages && usages.find((u) => !allowedUsages.includes(u));
  if (allowedUsages && notAllowed !== undefined) return csrError('UsageNotAllowed', signer.name, notAllowed, allowedUsages.join(', '));
  const missing = requiredUsages?.find((u) => !usages.includes(u));
  if (missing !== undefined) return csrError('UsageMissing', signer.name, missing);
  if (allowedKeyTypes && !allowedKeyTypes.includes(keyTypeName(request.publicKey.kind))) {
    return csrError('KeyTypeNotAllowed', signer.name, describeKey(request.publicKey.kind), allowedKeyTypes.join(', '));
  }
  const seconds = csr.spec.expirationSeconds;
  if (minDurationMs !== undefined && seconds !== undefined && seconds * 1000 < minDurationMs) {
    return csrError('DurationTooShort', seconds, signer.name, formatDuration(minDurationMs));
  }
  return undefined;
}

/** The signer's rules and policy for a parsed request: fail or issue. */
export function evaluate(csr: Csr, request: CertificateRequest, signer: SignerConfig): Decision {
  const usages = csr.spec.usages ?? [];
  if (isBuiltinSignerName(signer.name)) {
    const message = validateBuiltin(signer.name, request, usages);
    if (message !== undefined) return fail(csrError('SignerValidationFailure', message));
    const unwritable = unreencodableSubject(request);
    if (unwritable) return fail(unwritable);
  }
  const broken = signerConstraints(csr, request, signer);
  if (broken) return fail(broken);
  const { policy } = signer;
  const violation = policy && checkPolicy(policy, request, csr.spec, signer.name);
  if (violation !== undefined) return fail(csrError('PolicyViolation', violation));
  const isCa = request.requestsCa && policy?.allowCA === true;
  if (request.requestsCa && !isCa) return fail(csrError('CertificateAuthorityRequested'));
  const unknown = usages.filter((u) => !knownUsages.includes(u));
  if (unknown.length > 0) return fail(csrError('UnrecognizedUsage', unknown));
  const profile: SigningProfile = {
    usages,
    maxDurationMs: signer.maxDurationMs,
    defaultDurationMs: signer.defaultDurationMs,
    includeChain: signer.includeChain,
    ...(isCa ? { isCa } : {}),
  };
  const seconds = csr.spec.expirationSeconds;
  return { kind: 'issue', request, profile, ...(seconds === undefined ? {} : { expirationSeconds: seconds }) };
}

/** Parses a request's DER (or PEM) bytes; throws CsrSignerErrors for what is wrong with it. */
export type RequestParser = (bytes: Uint8Array, limits: RequestLimits) => CertificateRequest | Promise<CertificateRequest>;

/**
 * The whole ladder for one CSR and the signer configured for its signerName
 * (undefined: none is, so it is not ours). Resolves to skip, fail or issue; rejects
 * only with transient errors (retry).
 */
export async function decide(
  csr: Csr, signer: SignerConfig | undefined, parse: RequestParser, limits: RequestLimits = defaultRequestLimits,
): Promise<Decision> {
  if (!signer) return skip('OtherSigner');
  const skipped = triage(csr, signer.name);
  if (skipped) return skipped;
  try {
    return evaluate(csr, await parse(requestBytes(csr), limits), signer);
  } catch (e) {
    // A permanent error of any step is the request's fault: Failed. Anything else is transient.
    const failure = failureFromError(e);
    if (failure) return failure;
    throw e;
  }
}
