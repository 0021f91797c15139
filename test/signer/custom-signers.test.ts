/**
 * Custom signers: allowed and required usages, key types, a minimum duration,
 * CA requests and the profile handed to the authority. Policy has its own file.
 */
import { parseRequest } from '../../src/pki/index.js';
import t from 'tap';
import { decide } from '../../src/signer/decide.js';
import type { Decision, Policy, SignerConfig } from '../../src/signer/types.js';
import {
  approved, csrBuilder, signerConfig, withExpirationSeconds, withRequest, withUsages, type CsrModifier,
} from '../helpers/csr.js';
import { caTrueBasicConstraints, type RequestSpec } from '../helpers/requests.js';

const HOUR = 3_600_000;
const name = 'example.com/serving';
const basePolicy: Policy = { allowEmailAddresses: false, allowUris: false, commonName: 'any', allowCA: false };
const caRequest: RequestSpec = { commonName: 'sub-ca', extensions: [{ oid: '2.5.29.19', critical: true, value: caTrueBasicConstraints() }] };

const outcome = (d: Decision): string =>
  d.kind === 'skip' ? `ignored (${d.reason})` : d.kind === 'fail' ? `Failed ${d.reason}: ${d.message}` : 'issued';

void t.test('a custom signer\'s rules, each broken and kept', async (t) => {
  const cases: { name: string; signer: Partial<SignerConfig>; noPolicy?: true; modifiers: CsrModifier[]; expected: string }[] = [
    { name: 'a usage outside allowedUsages is refused, the first one named', signer: { allowedUsages: ['digital signature', 'server auth'] }, modifiers: [withUsages('digital signature', 'client auth', 'code signing')],
      expected: 'Failed UsageNotAllowed: spec.usages contains "client auth", which signer example.com/serving does not allow (allowed: digital signature, server auth)' },
    { name: 'usages inside allowedUsages pass', signer: { allowedUsages: ['digital signature', 'server auth'] }, modifiers: [withUsages('server auth')], expected: 'issued' },
    { name: 'a missing required usage is refused', signer: { requiredUsages: ['server auth', 'digital signature'] }, modifiers: [withUsages('server auth')],
      expected: 'Failed UsageMissing: spec.usages must contain "digital signature" for signer example.com/serving' },
    { name: 'allowed usages are checked before required ones', signer: { allowedUsages: ['server auth'], requiredUsages: ['digital signature'] }, modifiers: [withUsages('client auth')],
      expected: 'Failed UsageNotAllowed: spec.usages contains "client auth", which signer example.com/serving does not allow (allowed: server auth)' },
    { name: 'a key type outside allowedKeyTypes is refused', signer: { allowedKeyTypes: ['ecdsa-p256', 'ed25519'] }, modifiers: [withRequest({ key: 'rsa2048', dns: ['web.example.com'] })],
      expected: 'Failed KeyTypeNotAllowed: the request\'s public key is RSA 2048-bit, which signer example.com/serving does not accept (allowed: ecdsa-p256, ed25519)' },
    { name: 'P-384 is not P-256', signer: { allowedKeyTypes: ['ecdsa-p256'] }, modifiers: [withRequest({ key: 'p384' })],
      expected: 'Failed KeyTypeNotAllowed: the request\'s public key is ECDSA P-384, which signer example.com/serving does not accept (allowed: ecdsa-p256)' },
    { name: 'an allowed key type passes', signer: { allowedKeyTypes: ['rsa', 'ed25519'] }, modifiers: [withRequest({ key: 'ed25519' })], expected: 'issued' },
    { name: 'a duration below the minimum is refused', signer: { minDurationMs: HOUR }, modifiers: [withExpirationSeconds(3599)],
      expected: 'Failed DurationTooShort: spec.expirationSeconds is 3599, shorter than the minimum of 1h0m0s for signer example.com/serving' },
    { name: 'exactly the minimum passes', signer: { minDurationMs: HOUR }, modifiers: [withExpirationSeconds(3600)], expected: 'issued' },
    { name: 'no expirationSeconds passes a minimum (the default applies)', signer: { minDurationMs: HOUR }, modifiers: [], expected: 'issued' },
    { name: 'without a minimum a short request is raised to 10 minutes, not refused', signer: {}, modifiers: [withExpirationSeconds(60)], expected: 'issued' },
    { name: 'the signer\'s rules come before its policy', signer: { allowedUsages: ['server auth'] }, modifiers: [withUsages('client auth'), withRequest({ emails: ['a@example.com'] })],
      expected: 'Failed UsageNotAllowed: spec.usages contains "client auth", which signer example.com/serving does not allow (allowed: server auth)' },
    { name: 'an unknown usage fails for good when any usage is allowed', signer: {}, modifiers: [withUsages('server auth', 'teleport')], expected: 'Failed UnrecognizedUsage: unrecognized usage values: ["teleport"]' },
    { name: 'a CA request is a policy violation without allowCA', signer: {}, modifiers: [withRequest(caRequest)],
      expected: 'Failed PolicyViolation: basicConstraints CA:TRUE is not allowed by signer example.com/serving (allowCA is false)' },
    { name: 'a CA request is issued with allowCA', signer: { policy: { ...basePolicy, allowCA: true } }, modifiers: [withRequest(caRequest)], expected: 'issued' },
    { name: 'a custom signer without a policy refuses a CA request as the built-ins do', signer: {}, noPolicy: true, modifiers: [withRequest(caRequest)],
      expected: 'Failed CertificateAuthorityRequested: the request asks for a CA certificate (basicConstraints CA:TRUE), which this signer does not issue' },
  ];
  for (const c of cases) {
    const withoutPolicy: SignerConfig = { ...signerConfig(name, c.signer) };
    delete (withoutPolicy as { policy?: Policy }).policy;
    const config: SignerConfig = c.noPolicy === true ? withoutPolicy : { policy: basePolicy, ...withoutPolicy, ...c.signer };
    t.equal(outcome(await decide(csrBuilder(approved(), ...c.modifiers), config, parseRequest)), c.expected, c.name);
  }
});

void t.test('the profile carries the signer\'s durations and chain setting, the CSR\'s usages and expirationSeconds', async (t) => {
  const signer = signerConfig(name, { defaultDurationMs: 24 * HOUR, maxDurationMs: 720 * HOUR, includeChain: true });
  const d = await decide(csrBuilder(approved(), withUsages('server auth', 'digital signature'), withExpirationSeconds(7200)), signer, parseRequest);
  t.match(d, { kind: 'issue', expirationSeconds: 7200 });
  t.same(d.kind === 'issue' && d.profile, { usages: ['server auth', 'digital signature'], maxDurationMs: 720 * HOUR, defaultDurationMs: 24 * HOUR, includeChain: true });
  t.notOk(d.kind === 'issue' && 'isCa' in d.profile, 'no isCa for a leaf request');
  const noSeconds = await decide(csrBuilder(approved()), signer, parseRequest);
  t.notOk(noSeconds.kind === 'issue' && 'expirationSeconds' in noSeconds, 'no expirationSeconds when the CSR has none');
  const ca = await decide(csrBuilder(approved(), withRequest(caRequest), withUsages('cert sign', 'crl sign')), signerConfig(name, { policy: { ...basePolicy, allowCA: true } }), parseRequest);
  t.match(ca, { kind: 'issue', profile: { isCa: true, usages: ['cert sign', 'crl sign'] }, request: { requestsCa: true } }, 'isCa only when the request asks and the policy allows');
});
