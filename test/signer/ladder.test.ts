/**
 * The decision ladder, in order: not our signerName → already Failed → Denied →
 * not Approved → certificate set → parse → rules. Each row is one CSR and the one
 * decision it must get; precedence is shown by CSRs that qualify for two steps.
 */
import t from 'tap';
import { csrError } from '../../src/errors.js';
import { decide, evaluate, failureFromError, requestBytes, triage } from '../../src/signer/decide.js';
import { parseRequest } from '../../src/pki/index.js';
import type { Decision } from '../../src/signer/types.js';
import {
  approved, csrBuilder, denied, failed, signerConfig, withCertificate, withCondition, withRawRequest, withRequest, withSigner, type CsrModifier,
} from '../helpers/csr.js';
import { buildRequest, toPem } from '../helpers/requests.js';

const signer = signerConfig('example.com/serving');
const kind = (d: Decision): string => (d.kind === 'skip' ? `skip ${d.reason}` : d.kind === 'fail' ? `fail ${d.reason}` : 'issue');
const base64 = (text: string | Uint8Array): string => Buffer.from(text).toString('base64');
const tampered = (): string => {
  const pem = toPem('CERTIFICATE REQUEST', buildRequest({ commonName: 'victim', dns: ['victim.example.com'] }));
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  return base64(toPem('CERTIFICATE REQUEST', Buffer.from(der.toString('latin1').replace('victim.example.com', 'attack.example.com'), 'latin1')));
};

void t.test('the ladder, one row per step and per precedence', async (t) => {
  const cases: { name: string; modifiers: CsrModifier[]; expected: string }[] = [
    { name: 'a CSR for another signer is skipped', modifiers: [withSigner('example.com/other'), approved()], expected: 'skip OtherSigner' },
    { name: 'another signer wins over everything else', modifiers: [withSigner('kubernetes.io/kubelet-serving'), failed(), denied()], expected: 'skip OtherSigner' },
    { name: 'an already failed CSR is skipped', modifiers: [approved(), failed()], expected: 'skip AlreadyFailed' },
    { name: 'a Failed condition with empty status counts as failed', modifiers: [approved(), failed('')], expected: 'skip AlreadyFailed' },
    { name: 'failed wins over denied', modifiers: [denied(), failed()], expected: 'skip AlreadyFailed' },
    { name: 'a Failed condition with status False does not stop an approved CSR', modifiers: [approved(), failed('False')], expected: 'issue' },
    { name: 'a denied CSR is skipped', modifiers: [denied()], expected: 'skip Denied' },
    { name: 'denied wins over approved', modifiers: [approved(), denied()], expected: 'skip Denied' },
    { name: 'an unapproved CSR is skipped', modifiers: [], expected: 'skip NotApproved' },
    { name: 'an unapproved CSR is skipped before its request is read', modifiers: [withRawRequest('%%% not base64')], expected: 'skip NotApproved' },
    { name: 'Approved with status False approves: only the type counts', modifiers: [withCondition({ type: 'Approved', status: 'False' })], expected: 'issue' },
    { name: 'an approved CSR with a certificate is skipped', modifiers: [approved(), withCertificate()], expected: 'skip AlreadyIssued' },
    { name: 'a certificate is not looked at before approval', modifiers: [withCertificate()], expected: 'skip NotApproved' },
    { name: 'spec.request that is not base64 fails as MalformedRequest', modifiers: [approved(), withRawRequest('not base64!')], expected: 'fail MalformedRequest' },
    { name: 'base64 of something that is not PEM fails as MalformedRequest', modifiers: [approved(), withRawRequest(base64('hello'))], expected: 'fail MalformedRequest' },
    { name: 'an empty spec.request fails as MalformedRequest', modifiers: [approved(), withRawRequest('')], expected: 'fail MalformedRequest' },
    { name: 'a request whose signature does not verify fails as InvalidSignature', modifiers: [approved(), withRawRequest(tampered())], expected: 'fail InvalidSignature' },
    { name: 'an unsupported key fails as UnsupportedKeyType', modifiers: [approved(), withRequest({ key: 'rsa1024', dns: ['x.example.com'] })], expected: 'fail UnsupportedKeyType' },
    { name: 'a request that breaks the signer\'s rules fails with them', modifiers: [approved(), withRequest({ dns: ['x.example.com'], emails: ['a@example.com'] })], expected: 'fail PolicyViolation' },
    { name: 'an approved, valid CSR is issued', modifiers: [approved()], expected: 'issue' },
  ];
  for (const c of cases) t.equal(kind(await decide(csrBuilder(...c.modifiers), signer, parseRequest)), c.expected, c.name);
});

void t.test('triage is the cheap part of the ladder; undefined means go on', (t) => {
  t.equal(triage(csrBuilder(approved()), 'example.com/serving'), undefined, 'approved for us: go on');
  t.same(triage(csrBuilder(approved()), 'example.com/other'), { kind: 'skip', reason: 'OtherSigner' });
  t.same(triage(csrBuilder(), 'example.com/serving'), { kind: 'skip', reason: 'NotApproved' });
  t.end();
});

void t.test('parse failures carry the parser\'s reason and message; limits are the caller\'s', async (t) => {
  t.same(await decide(csrBuilder(approved(), withRawRequest('a b=')), signer, parseRequest), {
    kind: 'fail', reason: 'MalformedRequest', message: 'the request is not a valid PKCS#10 structure: spec.request is not valid base64',
  }, 'bad base64 names spec.request');
  const threeNames = withRequest({ dns: ['a.example.com', 'b.example.com', 'c.example.com'] });
  t.match(await decide(csrBuilder(approved(), threeNames), signer, parseRequest, { maxBytes: 65536, maxSubjectAltNames: 2 }),
    { kind: 'fail', reason: 'TooManySubjectAltNames', message: 'the request has 3 subjectAltNames, more than the limit of 2' }, 'the SAN limit');
  t.match(await decide(csrBuilder(approved()), signer, parseRequest, { maxBytes: 100, maxSubjectAltNames: 10 }), { kind: 'fail', reason: 'RequestTooLarge' }, 'the size limit');
});

void t.test('triage + parse + evaluate is decide', async (t) => {
  const csr = csrBuilder(approved());
  t.equal(triage(csr, signer.name), undefined);
  const split = evaluate(csr, parseRequest(requestBytes(csr)), signer);
  t.same(kind(split), kind(await decide(csr, signer, parseRequest)));
  t.same(split.kind === 'issue' && split.profile, { usages: ['digital signature', 'key encipherment', 'server auth'], maxDurationMs: 3_600_000, defaultDurationMs: 3_600_000, includeChain: false });
  t.throws(() => requestBytes(csrBuilder(withRawRequest('abc'))), { kind: 'MalformedRequest', message: /not valid base64/ }, 'a length that is not a multiple of 4');
});

void t.test('failureFromError: permanent CsrSignerErrors fail, everything else is transient', (t) => {
  t.same(failureFromError(csrError('InvalidSignature', 'x')), { kind: 'fail', reason: 'InvalidSignature', message: csrError('InvalidSignature', 'x').message });
  t.same(failureFromError(csrError('UnrecognizedUsage', ['teleport'])), { kind: 'fail', reason: 'UnrecognizedUsage', message: 'unrecognized usage values: ["teleport"]' });
  t.equal(failureFromError(csrError('SignerExpired', '2025-01-01 00:00:00 +0000 UTC')), undefined, 'an expired CA is retried');
  t.equal(failureFromError(csrError('SigningFailed', 'HSM away')), undefined, 'a signing failure is retried');
  t.equal(failureFromError(new Error('ECONNRESET')), undefined, 'any other error is retried');
  t.equal(failureFromError('a string'), undefined, 'even a thrown non-error');
  t.end();
});
