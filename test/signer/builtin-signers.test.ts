/**
 * The in-tree signers through the decision: the vectors 1–17 and 18 of upstream's signer_test.go,
 * with the exact SignerValidationFailure messages. Issued vectors are then issued
 * for real and checked by openssl.
 */
import t from 'tap';
import { effectiveTtlMs, issueCertificate, parseRequest, type CertificateAuthority } from '../../src/pki/index.js';
import { decide, evaluate } from '../../src/signer/decide.js';
import { validateBuiltin } from '../../src/signer/builtin-signers.js';
import type { Decision } from '../../src/signer/types.js';
import { loadTestCa, makeOpensslCa } from '../helpers/ca.js';
import {
  approved, csrBuilder, failed, signerConfig, withExpirationSeconds, withoutUsages, withRequest, withSigner, withUsages, type CsrModifier,
} from '../helpers/csr.js';
import { caTrueBasicConstraints, type RequestSpec } from '../helpers/requests.js';
import { needTool, opensslText, opensslVerify, tempDir } from '../helpers/tools.js';

const client = 'kubernetes.io/kube-apiserver-client';
const kubelet = 'kubernetes.io/kube-apiserver-client-kubelet';
const serving = 'kubernetes.io/kubelet-serving';
const legacy = 'kubernetes.io/legacy-unknown';

const node: RequestSpec = { commonName: 'system:node:hello-world', organizations: ['system:nodes'] };
const servingNode: RequestSpec = { commonName: 'system:node:testnode', organizations: ['system:nodes'], dns: ['example.com'] };

/** Decides a CSR for `signerName`, approved, with the request and usages given, under the in-tree config. */
const decideFor = (signerName: string, request: RequestSpec, usages: string[] | undefined, ...more: CsrModifier[]): Promise<Decision> =>
  decide(csrBuilder(withSigner(signerName), withRequest(request), usages ? withUsages(...usages) : withoutUsages(), approved(), ...more), signerConfig(signerName), parseRequest);

const outcome = (d: Decision): string =>
  d.kind === 'skip' ? `ignored (${d.reason})` : d.kind === 'fail' ? `Failed ${d.reason}: ${d.message}` : 'issued';
const failedWith = (message: string): string => `Failed SignerValidationFailure: ${message}`;

interface Vector {
  readonly name: string;
  readonly signer: string;
  readonly request: RequestSpec;
  readonly usages?: string[];
  readonly more?: CsrModifier[];
  readonly expected: string;
}

const vectors: Vector[] = [
  { name: '1. kube-apiserver-client with client auth, digital signature, key encipherment is issued', signer: client, request: { commonName: 'hello-world', organizations: ['some-org'] }, usages: ['client auth', 'digital signature', 'key encipherment'], expected: 'issued' },
  { name: '2. kube-apiserver-client with client auth, digital signature is issued', signer: client, request: { commonName: 'hello-world', organizations: ['some-org'] }, usages: ['client auth', 'digital signature'], expected: 'issued' },
  { name: '3. kube-apiserver-client refuses server auth, the first usage it does not know', signer: client, request: { commonName: 'hello-world' }, usages: ['server auth', 'client auth', 'digital signature', 'key encipherment'], expected: failedWith('invalid usage for client certificate: server auth') },
  { name: '4. kubelet client with the three usages is issued', signer: kubelet, request: node, usages: ['client auth', 'digital signature', 'key encipherment'], expected: 'issued' },
  { name: '5. kubelet client without key encipherment is issued', signer: kubelet, request: node, usages: ['client auth', 'digital signature'], expected: 'issued' },
  { name: '6. legacy-unknown with an empty subject and no usages is issued', signer: legacy, request: {}, expected: 'issued' },
  { name: '7. kubelet-serving with server auth, digital signature, key encipherment is issued', signer: serving, request: servingNode, usages: ['server auth', 'digital signature', 'key encipherment'], expected: 'issued' },
  { name: '8. kubelet-serving with server auth, digital signature is issued', signer: serving, request: servingNode, usages: ['server auth', 'digital signature'], expected: 'issued' },
  { name: '9. an approved kubelet-serving CSR that already failed is ignored', signer: serving, request: servingNode, usages: ['server auth', 'digital signature'], more: [failed()], expected: 'ignored (AlreadyFailed)' },
  { name: '12. kubelet client with an extra organization', signer: kubelet, request: { ...node, organizations: ['system:nodes', 'extra'] }, usages: ['client auth', 'digital signature'], expected: failedWith('subject organization is not system:nodes') },
  { name: '12. kubelet client with system:nodes twice', signer: kubelet, request: { ...node, organizations: ['system:nodes', 'system:nodes'] }, usages: ['client auth', 'digital signature'], expected: failedWith('subject organization is not system:nodes') },
  { name: '13. kubelet client with a DNS SAN', signer: kubelet, request: { ...node, dns: ['node.example.com'] }, usages: ['client auth', 'digital signature'], expected: failedWith('DNS subjectAltNames are not allowed') },
  { name: '13. kubelet client with an IP SAN', signer: kubelet, request: { ...node, ips: ['10.0.0.1'] }, usages: ['client auth', 'digital signature'], expected: failedWith('IP subjectAltNames are not allowed') },
  { name: 'kubelet client with an email SAN', signer: kubelet, request: { ...node, emails: ['n@example.com'] }, usages: ['client auth', 'digital signature'], expected: failedWith('Email subjectAltNames are not allowed') },
  { name: 'kubelet client with a URI SAN', signer: kubelet, request: { ...node, uris: ['spiffe://node'] }, usages: ['client auth', 'digital signature'], expected: failedWith('URI subjectAltNames are not allowed') },
  { name: 'kubelet client: DNS is reported before email, email before IP', signer: kubelet, request: { ...node, dns: ['d.example.com'], emails: ['e@example.com'], ips: ['10.0.0.1'] }, usages: ['client auth'], expected: failedWith('DNS subjectAltNames are not allowed') },
  { name: '14. kubelet client with CN node1', signer: kubelet, request: { ...node, commonName: 'node1' }, usages: ['client auth', 'digital signature'], expected: failedWith('subject common name does not begin with system:node:') },
  { name: 'kubelet client: the CN is checked before the usages', signer: kubelet, request: { ...node, commonName: 'node1' }, usages: ['server auth'], expected: failedWith('subject common name does not begin with system:node:') },
  { name: 'kubelet client with an empty node name after system:node: is not refused', signer: kubelet, request: { ...node, commonName: 'system:node:' }, usages: ['client auth', 'digital signature'], expected: 'issued' },
  { name: '15. kubelet client with server auth added', signer: kubelet, request: node, usages: ['digital signature', 'key encipherment', 'client auth', 'server auth'], expected: failedWith('usages did not match [client auth digital signature key encipherment]') },
  { name: 'kubelet client: usages are a set, order does not matter', signer: kubelet, request: node, usages: ['digital signature', 'client auth'], expected: 'issued' },
  { name: '16. kubelet-serving with neither DNS nor IP SAN', signer: serving, request: { ...servingNode, dns: [] }, usages: ['server auth', 'digital signature'], expected: failedWith('DNS or IP subjectAltName is required') },
  { name: '16. kubelet-serving with only the IP SAN 0.0.0.0 is issued', signer: serving, request: { ...servingNode, dns: [], ips: ['0.0.0.0'] }, usages: ['server auth', 'digital signature'], expected: 'issued' },
  { name: 'kubelet-serving with an email SAN', signer: serving, request: { ...servingNode, emails: ['n@example.com'] }, usages: ['server auth', 'digital signature'], expected: failedWith('Email subjectAltNames are not allowed') },
  { name: 'kubelet-serving with a URI SAN', signer: serving, request: { ...servingNode, uris: ['spiffe://node'] }, usages: ['server auth', 'digital signature'], expected: failedWith('URI subjectAltNames are not allowed') },
  { name: 'kubelet-serving with the wrong organization', signer: serving, request: { ...servingNode, organizations: ['not-system:nodes'] }, usages: ['server auth', 'digital signature'], expected: failedWith('subject organization is not system:nodes') },
  { name: '17. kubelet-serving with a wrong CN and wrong usages gets the usages message', signer: serving, request: { ...servingNode, commonName: 'notprefixed' }, usages: ['server auth', 'client auth', 'digital signature'], expected: failedWith('usages did not match [digital signature key encipherment server auth]') },
  { name: 'kubelet-serving with a wrong CN alone', signer: serving, request: { ...servingNode, commonName: 'notprefixed' }, usages: ['server auth', 'digital signature'], expected: failedWith('subject common name does not begin with system:node:') },
  { name: 'kube-apiserver-client without client auth', signer: client, request: { commonName: 'x' }, usages: ['digital signature'], expected: failedWith('missing required usage for client certificate: client auth') },
  { name: 'kube-apiserver-client does not take signing for digital signature', signer: client, request: { commonName: 'x' }, usages: ['client auth', 'signing'], expected: failedWith('invalid usage for client certificate: signing') },
  { name: 'kube-apiserver-client has no subject or SAN rules', signer: client, request: { organizations: ['system:masters'], dns: ['a'], ips: ['10.0.0.1'], emails: ['e@x'], uris: ['u:x'] }, usages: ['client auth'], expected: 'issued' },
  { name: 'legacy-unknown signs cert sign into a non-CA certificate', signer: legacy, request: { commonName: 'x' }, usages: ['cert sign'], expected: 'issued' },
  { name: 'legacy-unknown: an unknown usage fails for good instead of retrying forever', signer: legacy, request: { commonName: 'x' }, usages: ['server auth', 'teleport'], expected: 'Failed UnrecognizedUsage: unrecognized usage values: ["teleport"]' },
  { name: 'a built-in signer refuses a request for a CA certificate', signer: legacy, request: { commonName: 'x', extensions: [{ oid: '2.5.29.19', critical: true, value: caTrueBasicConstraints() }] }, usages: ['cert sign'], expected: 'Failed CertificateAuthorityRequested: the request asks for a CA certificate (basicConstraints CA:TRUE), which this signer does not issue' },
  { name: 'a CA request that breaks an in-tree rule gets the in-tree message first', signer: kubelet, request: { ...node, commonName: 'node1', extensions: [{ oid: '2.5.29.19', critical: true, value: caTrueBasicConstraints() }] }, usages: ['client auth'], expected: failedWith('subject common name does not begin with system:node:') },
];

void t.test('kcm vectors 1–17: in-tree signers decide as kube-controller-manager does', async (t) => {
  for (const v of vectors) t.equal(outcome(await decideFor(v.signer, v.request, v.usages, ...(v.more ?? []))), v.expected, v.name);
});

void t.test('10. a valid kubelet-serving CSR without Approved is ignored', async (t) => {
  const csr = csrBuilder(withSigner(serving), withRequest(servingNode), withUsages('server auth', 'digital signature'));
  t.equal(outcome(await decide(csr, signerConfig(serving), parseRequest)), 'ignored (NotApproved)');
});

void t.test('11. CSRs for signers nobody serves are never touched by the in-tree signers', async (t) => {
  for (const name of ['kubernetes.io/not-recognised', 'kubernetes.io/not-a-real-signer', 'example.com/sample-name']) {
    for (const loop of [client, kubelet, serving, legacy]) {
      const csr = csrBuilder(withSigner(name), withRequest(node), withUsages('client auth'), approved());
      t.equal(outcome(await decide(csr, signerConfig(loop), parseRequest)), 'ignored (OtherSigner)', `${name} under ${loop}`);
    }
  }
});

void t.test('validateBuiltin returns the first message or undefined', (t) => {
  const request = parseRequest(Buffer.from(Buffer.from(csrBuilder(withRequest(node)).spec.request, 'base64')));
  t.equal(validateBuiltin(kubelet, request, ['client auth', 'digital signature']), undefined);
  t.equal(validateBuiltin(serving, request, ['server auth']), 'DNS or IP subjectAltName is required');
  t.equal(validateBuiltin(legacy, request, ['anything at all']), undefined, 'legacy-unknown has no rules');
  t.end();
});

void t.test('18. the lifetime chosen from spec.expirationSeconds under a 1 h cluster duration', (t) => {
  const MINUTE = 60_000;
  const cases: { name: string; seconds?: number; ttl: number }[] = [
    { name: '1800 s gives 30 min', seconds: 1800, ttl: 30 * MINUTE },
    { name: '10800 s is capped at 1 h', seconds: 10800, ttl: 60 * MINUTE },
    { name: '-60 s is raised to 10 min', seconds: -60, ttl: 10 * MINUTE },
    { name: '599 s is raised to 10 min', seconds: 599, ttl: 10 * MINUTE },
    { name: '600 s gives 10 min', seconds: 600, ttl: 10 * MINUTE },
    { name: '3600 s gives 1 h', seconds: 3600, ttl: 60 * MINUTE },
    { name: 'unset gives 1 h', ttl: 60 * MINUTE },
  ];
  const signer = signerConfig(client);
  for (const c of cases) {
    const csr = csrBuilder(withSigner(client), withRequest({ commonName: 'panda' }), withUsages('client auth'), approved(), ...(c.seconds === undefined ? [] : [withExpirationSeconds(c.seconds)]));
    const d = evaluate(csr, parseRequest(Buffer.from(csr.spec.request, 'base64')), signer);
    if (d.kind !== 'issue') {
      t.fail(`${c.name}: ${outcome(d)}`);
      continue;
    }
    t.equal(d.expirationSeconds, c.seconds, `${c.name}: expirationSeconds is passed on`);
    t.equal(effectiveTtlMs(d.profile.maxDurationMs, d.expirationSeconds, d.profile.defaultDurationMs), c.ttl, c.name);
  }
  t.end();
});

void t.test('the issued vectors issue for real, and openssl verifies each certificate', async (t) => {
  if (!needTool(t, 'openssl')) return;
  const dir = tempDir();
  const files = makeOpensslCa(dir, 'builtin-ca', 'p256', { days: 3650 });
  const ca: CertificateAuthority = await loadTestCa(files);
  const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
  for (const v of vectors.filter((x) => x.expected === 'issued')) {
    const d = await decideFor(v.signer, v.request, v.usages);
    if (d.kind !== 'issue') {
      t.fail(v.name);
      continue;
    }
    const issued = await issueCertificate({ request: d.request, profile: d.profile, ca, now: new Date(), random });
    // openssl's strict mode refuses keyCertSign on a leaf and an empty subject without SANs; the in-tree signer issues both.
    const strict = !(v.usages ?? []).includes('cert sign') && v.request.commonName !== undefined;
    const verified = opensslVerify(dir, files.certPem, issued.pem, undefined, { strict });
    t.equal(verified.code, 0, `${v.name}: ${verified.stdout}${verified.stderr}`);
    if (v.signer === legacy && v.usages === undefined) {
      t.notMatch(opensslText(issued.pem), /Key Usage/, '6. the legacy certificate with no usages has neither keyUsage nor extKeyUsage');
    }
  }
});
