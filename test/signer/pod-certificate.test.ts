/**
 * The pod-certificate decision as tables: the triage, the facts it asks for, the key
 * fields, and every step of the ladder in its order (key, keyType, namespace, ServiceAccount,
 * stub, annotations, Pod check, identity), then the status written for each terminal
 * decision. Lifetimes and refresh times: pod-certificate-times.test.ts.
 */
import { sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { csrError, CsrSignerError } from '../../src/errors.js';
import { issueForKey, loadCertificateAuthority, readPodCertificateKey } from '../../src/pki/index.js';
import {
  decidePodCertificate, podCertificateFacts, podCertificateKeyFields, podCertificateStatus, podCertificateTriage, type PodCertificateInput,
} from '../../src/signer/pod-certificate.js';
import type { Namespace, Pod, PodCertificateDecision, PodCertificateRequest, SignerConfig } from '../../src/signer/types.js';
import { makeOpensslCa, must } from '../helpers/ca.js';
import { signerConfig } from '../helpers/csr.js';
import {
  inNamespace, pcrBuilder, type PcrModifier, podCertificateConfig, podCertificateKey, podSigner, withAnnotations, withPcrSpec, withPcrStatus, withServiceAccount,
} from '../helpers/pod-certificates.js';
import { buildRequest, testKey } from '../helpers/requests.js';
import { needTool, run, tempDir, writeTemp } from '../helpers/tools.js';

const now = new Date('2026-12-07T13:00:00.500Z');
const ca = { notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2036-01-01T00:00:00Z') };
const HOUR = 3_600_000;
const nb = new Date('2026-12-07T12:59:00Z');
const spiffe = 'spiffe://cluster.local/ns/shop/sa/web';
const defaultUsages = ['digital signature', 'key encipherment', 'server auth', 'client auth'];

const decide = (over: Partial<PodCertificateInput> = {}): PodCertificateDecision =>
  decidePodCertificate({ pcr: pcrBuilder(), signer: podSigner(), key: podCertificateKey('p256'), now, ca, random: () => 0, ...over });

/** The issue decision for a 24-hour certificate of shop/web with these names and subject. */
const issued = (names: { dnsNames?: string[]; uris?: string[] } = {}, subject: { commonName?: string; organizations?: string[] } = {}): PodCertificateDecision => ({
  kind: 'issue',
  subject,
  subjectAltNames: { dnsNames: names.dnsNames ?? [], emailAddresses: [], ipAddresses: [], uris: names.uris ?? [spiffe] },
  profile: { usages: defaultUsages, maxDurationMs: 24 * HOUR, includeChain: true },
  validity: { notBefore: nb, notAfter: new Date(nb.getTime() + 24 * HOUR) },
  beginRefreshAt: new Date(nb.getTime() + 12 * HOUR),
});
const deny = (reason: string, message: string): PodCertificateDecision => ({ kind: 'deny', reason, message });
const policyDenied = (message: string): PodCertificateDecision => deny('CsrSignerPolicyDenied', message);
const fail = (reason: string, message: string): PodCertificateDecision => ({ kind: 'fail', reason, message });
const wait = (reason: string, message: string): PodCertificateDecision => ({ kind: 'wait', reason, message });

const condition = (type: string) => ({ type, status: 'True', reason: 'Test', message: 'by the test', lastTransitionTime: '2026-12-07T12:00:00Z' });

void t.test('triage: terminal states first, then the signer', (t) => {
  const signer = podSigner();
  const cases: [string, PodCertificateRequest, SignerConfig | undefined, ReturnType<typeof podCertificateTriage>][] = [
    ['a pending request of our signer: go on', pcrBuilder(), signer, undefined],
    ['Issued: AlreadyIssued', pcrBuilder(withPcrStatus({ conditions: [condition('Issued')] })), signer, { kind: 'skip', reason: 'AlreadyIssued' }],
    ['a chain without a condition: AlreadyIssued', pcrBuilder(withPcrStatus({ certificateChain: '-----BEGIN CERTIFICATE-----\n' })), signer, { kind: 'skip', reason: 'AlreadyIssued' }],
    ['an empty chain is no chain: go on', pcrBuilder(withPcrStatus({ certificateChain: '' })), signer, undefined],
    ['Denied: AlreadyDenied', pcrBuilder(withPcrStatus({ conditions: [condition('Denied')] })), signer, { kind: 'skip', reason: 'AlreadyDenied' }],
    ['Failed: AlreadyFailed', pcrBuilder(withPcrStatus({ conditions: [condition('Failed')] })), signer, { kind: 'skip', reason: 'AlreadyFailed' }],
    ['a condition of another type is not terminal: go on', pcrBuilder(withPcrStatus({ conditions: [condition('Pending')] })), signer, undefined],
    ['no signer: OtherSigner', pcrBuilder(), undefined, { kind: 'skip', reason: 'OtherSigner' }],
    ['a signer of another name: OtherSigner', pcrBuilder(withPcrSpec({ signerName: 'example.com/other' })), signer, { kind: 'skip', reason: 'OtherSigner' }],
    ['a signer without podCertificates: NotConfigured', pcrBuilder(), signerConfig('example.com/pods'), { kind: 'skip', reason: 'NotConfigured' }],
    ['terminal and no signer: the terminal state is said first', pcrBuilder(withPcrStatus({ conditions: [condition('Failed')] })), undefined, { kind: 'skip', reason: 'AlreadyFailed' }],
  ];
  for (const [name, pcr, s, expected] of cases) t.strictSame(podCertificateTriage(pcr, s), expected, name);
  t.strictSame(decide({ signer: signerConfig('example.com/pods') }), { kind: 'skip', reason: 'NotConfigured' }, 'the decision starts with the triage');
  t.end();
});

void t.test('facts: the Namespace only when a selector must decide, the Pod only with podCheck', (t) => {
  const selector = { matchLabels: { 'pod-certificates': 'on' } };
  const cases: [string, PodCertificateRequest, ReturnType<typeof podCertificateConfig>, ReturnType<typeof podCertificateFacts>][] = [
    ['names only: nothing to read', pcrBuilder(), podCertificateConfig(), {}],
    ['a selector, the namespace named too: nothing to read', pcrBuilder(), podCertificateConfig({ namespaces: { names: ['shop'], selector } }), {}],
    ['a selector, the namespace not named: the Namespace', pcrBuilder(inNamespace('bank')), podCertificateConfig({ namespaces: { names: ['shop'], selector } }), { namespace: 'bank' }],
    ['a selector alone: the Namespace', pcrBuilder(), podCertificateConfig({ namespaces: { selector } }), { namespace: 'shop' }],
    ['all: nothing to read', pcrBuilder(), podCertificateConfig({ namespaces: { all: true } }), {}],
    ['podCheck: the Pod', pcrBuilder(), podCertificateConfig({ podCheck: true }), { pod: { namespace: 'shop', name: 'web-0' } }],
    ['both', pcrBuilder(), podCertificateConfig({ podCheck: true, namespaces: { selector } }), { namespace: 'shop', pod: { namespace: 'shop', name: 'web-0' } }],
  ];
  for (const [name, pcr, config, expected] of cases) t.strictSame(podCertificateFacts(pcr, config), expected, name);
  t.end();
});

void t.test('key fields: strict base64, bounded, "" as absent', (t) => {
  const b64 = (n: number): string => Buffer.alloc(n, 7).toString('base64');
  const ok = podCertificateKeyFields(pcrBuilder(withPcrSpec({ stubPKCS10Request: 'MAMCAQA=' })));
  t.strictSame(ok, { podUID: '22222222-2222-2222-2222-222222222222', stubPKCS10Request: new Uint8Array([0x30, 3, 2, 1, 0]) }, 'the stub decoded');
  const legacy = podCertificateKeyFields(pcrBuilder(withPcrSpec({ stubPKCS10Request: '', pkixPublicKey: b64(10_240), proofOfPossession: 'AAEC' })));
  t.notOk(legacy instanceof CsrSignerError, 'legacy fields at the limit are read');
  if (!(legacy instanceof CsrSignerError)) {
    t.equal(legacy.stubPKCS10Request, undefined, 'an empty stub is no stub');
    t.equal(legacy.pkixPublicKey?.length, 10_240);
    t.strictSame(legacy.proofOfPossession, new Uint8Array([0, 1, 2]));
  }
  const bad: [string, Partial<PodCertificateRequest['spec']>, string, string][] = [
    ['missing padding', { stubPKCS10Request: 'MAMCAQA' }, 'MalformedRequest', 'spec.stubPKCS10Request is not valid base64 (padded standard base64, as the API server writes byte fields)'],
    ['a line break', { stubPKCS10Request: 'MAMC\nAQA=' }, 'MalformedRequest', 'spec.stubPKCS10Request is not valid base64 (padded standard base64, as the API server writes byte fields)'],
    ['base64url', { pkixPublicKey: 'ab-_' }, 'MalformedRequest', 'spec.pkixPublicKey is not valid base64 (padded standard base64, as the API server writes byte fields)'],
    ['padding inside', { proofOfPossession: 'AA==AAAA' }, 'MalformedRequest', 'spec.proofOfPossession is not valid base64 (padded standard base64, as the API server writes byte fields)'],
    ['a public key over 10240 bytes', { pkixPublicKey: b64(10_241) }, 'RequestTooLarge', 'spec.pkixPublicKey is 10241 bytes, more than the limit of 10240 bytes'],
    ['a proof over 10240 bytes', { proofOfPossession: b64(10_242) }, 'RequestTooLarge', 'spec.proofOfPossession is 10242 bytes, more than the limit of 10240 bytes'],
    ['a stub over 10240 bytes', { stubPKCS10Request: b64(10_243) }, 'RequestTooLarge', 'spec.stubPKCS10Request is 10243 bytes, more than the limit of 10240 bytes'],
    ['a huge value is refused by its length, before it is read', { stubPKCS10Request: '!'.repeat(1 << 20) }, 'RequestTooLarge', 'spec.stubPKCS10Request is 786432 bytes, more than the limit of 10240 bytes'],
  ];
  for (const [name, change, reason, message] of bad) {
    const result = podCertificateKeyFields(pcrBuilder(withPcrSpec(change)));
    t.ok(result instanceof CsrSignerError && result.permanent && result.reason === reason, `${name}: a permanent ${reason}`);
    t.equal(result instanceof CsrSignerError ? result.message : '', message, `${name}: the message names the field`);
  }
  t.strictSame(podCertificateKeyFields(pcrBuilder(withPcrSpec({ stubPKCS10Request: b64(10_240) }))) instanceof CsrSignerError, false, 'a stub of 10240 bytes is read');
  const messageOf = (r: ReturnType<typeof podCertificateKeyFields>): string => (r instanceof CsrSignerError ? r.message : 'read');
  t.equal(messageOf(podCertificateKeyFields(pcrBuilder(withPcrSpec({ stubPKCS10Request: b64(10_241) })), 64 * 1024)),
    'spec.stubPKCS10Request is 10241 bytes, more than the limit of 10240 bytes', 'a larger request limit does not raise the stub\'s bound');
  t.equal(messageOf(podCertificateKeyFields(pcrBuilder(withPcrSpec({ stubPKCS10Request: b64(1001) })), 1000)),
    'spec.stubPKCS10Request is 1001 bytes, more than the limit of 1000 bytes', 'a smaller one lowers it');
  t.end();
});

void t.test('the ladder: key, keyType, namespace, ServiceAccount, in this order', (t) => {
  const selector = { matchLabels: { 'pod-certificates': 'on' } };
  const labelled = (on: string): Namespace => ({ metadata: { name: 'bank', labels: { 'pod-certificates': on } } });
  const twoTypes = podSigner({ keyTypes: ['ECDSAP256', 'ECDSAP384'] });
  const cases: [string, Partial<PodCertificateInput>, PodCertificateDecision][] = [
    ['everything allowed: issued for the SPIFFE ID of the ServiceAccount', {}, issued()],
    ['a key that could not be read: Failed with its reason', { key: csrError('InvalidSignature', 'ECDSA') },
      fail('InvalidSignature', 'the request\'s signature does not verify with its own public key (ECDSA), so it does not prove possession of the private key')],
    ['a transient key error: wait', { key: csrError('SigningFailed', 'busy') }, wait('SigningFailed', 'the CA key could not sign the certificate: busy')],
    ['the key error comes before the namespace', { key: csrError('MalformedRequest', 'x'), pcr: pcrBuilder(inNamespace('bank')) },
      fail('MalformedRequest', 'the request is not a valid PKCS#10 structure: x')],
    ['ECDSA P-384 allowed', { key: podCertificateKey('p384') }, issued()],
    ['ECDSA P-521 allowed', { key: podCertificateKey('p521') }, issued()],
    ['Ed25519 allowed', { key: podCertificateKey('ed25519') }, issued()],
    ['RSA 3072 allowed', { key: podCertificateKey('rsa3072') }, issued()],
    ['the legacy form allowed as the stub', { key: podCertificateKey('p256', 'proof-of-possession') }, issued()],
    ['Ed25519 not among the keyTypes: Denied UnsupportedKeyType suggesting the first', { signer: twoTypes, key: podCertificateKey('ed25519') },
      deny('UnsupportedKeyType', 'keyType ED25519 is not accepted: signer example.com/pods accepts ECDSAP256, ECDSAP384; use keyType ECDSAP256')],
    ['ECDSA P-521 not among them either', { signer: twoTypes, key: podCertificateKey('p521') },
      deny('UnsupportedKeyType', 'keyType ECDSAP521 is not accepted: signer example.com/pods accepts ECDSAP256, ECDSAP384; use keyType ECDSAP256')],
    ['RSA 2048 is no keyType at all', { key: podCertificateKey('rsa2048') },
      deny('UnsupportedKeyType', 'the RSA 2048-bit key is of no podCertificate keyType: signer example.com/pods accepts RSA3072, RSA4096, ECDSAP256, ECDSAP384, ECDSAP521, ED25519; use keyType RSA3072')],
    ['the keyType comes before the namespace', { signer: twoTypes, key: podCertificateKey('ed25519'), pcr: pcrBuilder(inNamespace('bank')) },
      deny('UnsupportedKeyType', 'keyType ED25519 is not accepted: signer example.com/pods accepts ECDSAP256, ECDSAP384; use keyType ECDSAP256')],
    ['a namespace not named: Denied', { pcr: pcrBuilder(inNamespace('bank')) }, policyDenied('namespace "bank" is not served by signer example.com/pods (allowed: namespaces shop)')],
    ['all namespaces: issued in bank', { signer: podSigner({ namespaces: { all: true } }), pcr: pcrBuilder(inNamespace('bank')) }, issued({ uris: ['spiffe://cluster.local/ns/bank/sa/web'] })],
    ['labels matching the selector: issued', { signer: podSigner({ namespaces: { names: ['shop'], selector } }), pcr: pcrBuilder(inNamespace('bank')), namespace: labelled('on') },
      issued({ uris: ['spiffe://cluster.local/ns/bank/sa/web'] })],
    ['labels not matching: Denied', { signer: podSigner({ namespaces: { names: ['shop'], selector } }), pcr: pcrBuilder(inNamespace('bank')), namespace: labelled('off') },
      policyDenied('namespace "bank" is not served by signer example.com/pods (allowed: namespaces shop or labels matching {"matchLabels":{"pod-certificates":"on"}})')],
    ['the Namespace not found: Denied', { signer: podSigner({ namespaces: { selector } }), pcr: pcrBuilder(inNamespace('bank')), namespace: null },
      policyDenied('namespace "bank" does not exist, so it is not served by signer example.com/pods (allowed: labels matching {"matchLabels":{"pod-certificates":"on"}})')],
    ['the Namespace not read: wait', { signer: podSigner({ namespaces: { selector } }), pcr: pcrBuilder(inNamespace('bank')) },
      wait('FactMissing', 'the Namespace bank has not been read, and signer example.com/pods needs its labels')],
    ['named, so the Namespace is not needed', { signer: podSigner({ namespaces: { names: ['shop'], selector } }) }, issued()],
    ['ServiceAccount pattern shop/*: issued', { signer: podSigner({ serviceAccounts: ['shop/*'] }) }, issued()],
    ['ServiceAccount pattern shop/web: issued', { signer: podSigner({ serviceAccounts: ['bank/web', 'shop/web'] }) }, issued()],
    ['ServiceAccount pattern */builder: web is Denied', { signer: podSigner({ serviceAccounts: ['*/builder'] }) },
      policyDenied('ServiceAccount "shop/web" is not allowed by signer example.com/pods (allowed: */builder)')],
    ['ServiceAccount pattern */builder: builder is issued', { signer: podSigner({ serviceAccounts: ['*/builder'] }), pcr: pcrBuilder(withServiceAccount('builder')) },
      issued({ uris: ['spiffe://cluster.local/ns/shop/sa/builder'] })],
    ['a * is a whole part, never a glob: shop/w* matches nothing', { signer: podSigner({ serviceAccounts: ['shop/w*'] }) },
      policyDenied('ServiceAccount "shop/web" is not allowed by signer example.com/pods (allowed: shop/w*)')],
    ['an empty list allows none', { signer: podSigner({ serviceAccounts: [] }) }, policyDenied('ServiceAccount "shop/web" is not allowed by signer example.com/pods (allowed: none)')],
    ['the namespace comes before the ServiceAccount', { signer: podSigner({ serviceAccounts: [] }), pcr: pcrBuilder(inNamespace('bank')) },
      policyDenied('namespace "bank" is not served by signer example.com/pods (allowed: namespaces shop)')],
  ];
  for (const [name, over, expected] of cases) t.strictSame(decide(over), expected, name);
  t.end();
});

void t.test('the ladder: the stub request\'s contents are never the identity', (t) => {
  const ignore = podSigner({ nonEmptyStub: 'ignore' });
  const keyUsage = { oid: '2.5.29.15', critical: true, value: Uint8Array.from([3, 2, 5, 0xa0]).buffer };
  const cases: [string, Partial<PodCertificateInput>, PodCertificateDecision][] = [
    ['an empty stub: issued', { key: podCertificateKey('p256', 'stub', {}) }, issued()],
    ['a stub with a CN: Denied', { key: podCertificateKey('p256', 'stub', { commonName: 'admin' }) },
      policyDenied('the stub PKCS#10 request asks for a subject (CN="admin"); signer example.com/pods takes the identity from the PodCertificateRequest\'s spec and accepts only an empty stub (a key and a signature)')],
    ['a stub with an O and a CN: Denied naming the first', { key: podCertificateKey('p256', 'stub', { organizations: ['system:masters'], commonName: 'x' }) },
      policyDenied('the stub PKCS#10 request asks for a subject (O="system:masters", …); signer example.com/pods takes the identity from the PodCertificateRequest\'s spec and accepts only an empty stub (a key and a signature)')],
    ['a stub with a SAN: Denied', { key: podCertificateKey('p256', 'stub', { uris: ['spiffe://cluster.local/ns/kube-system/sa/admin'] }) },
      policyDenied('the stub PKCS#10 request asks for subjectAltName URI "spiffe://cluster.local/ns/kube-system/sa/admin"; signer example.com/pods takes the identity from the PodCertificateRequest\'s spec and accepts only an empty stub (a key and a signature)')],
    ['a stub with an extension: Denied', { key: podCertificateKey('p256', 'stub', { extensions: [keyUsage] }) },
      policyDenied('the stub PKCS#10 request asks for extension 2.5.29.15; signer example.com/pods takes the identity from the PodCertificateRequest\'s spec and accepts only an empty stub (a key and a signature)')],
    ['nonEmptyStub ignore: a CN and a SAN in the stub, issued for the spec\'s identity only', { signer: ignore, key: podCertificateKey('p256', 'stub', { commonName: 'admin', dns: ['kubernetes.default.svc'] }) }, issued()],
    ['the ServiceAccount comes before the stub', { signer: podSigner({ serviceAccounts: [] }), key: podCertificateKey('p256', 'stub', { commonName: 'admin' }) },
      policyDenied('ServiceAccount "shop/web" is not allowed by signer example.com/pods (allowed: none)')],
  ];
  for (const [name, over, expected] of cases) t.strictSame(decide(over), expected, name);
  t.end();
});

void t.test('the ladder: DNS names from the annotation, under the allowed patterns', (t) => {
  const key = 'example.com/dns-names';
  const signer = podSigner({
    dnsNames: ['{serviceAccountName}.{namespace}.svc'],
    userAnnotations: { dnsNames: { key, allowed: ['*.{namespace}.svc', '*.{namespace}.svc.cluster.local', '{podName}.example.com'] } },
  });
  const where = `unverifiedUserAnnotations["${key}"]`;
  const wildUid = podSigner({ userAnnotations: { dnsNames: { key, allowed: ['{podUID}.{namespace}.pods.example.com', '*.{namespace}.svc'] } } });
  const allowed = '*.shop.svc, *.shop.svc.cluster.local, web-0.example.com';
  const annotated = (value: string, more: Record<string, string> = {}): Partial<PodCertificateInput> => ({ signer, pcr: pcrBuilder(withAnnotations({ [key]: value, ...more })) });
  const names = (...dnsNames: string[]): PodCertificateDecision => issued({ dnsNames: ['web.shop.svc', ...dnsNames] });
  const invalid = (message: string): PodCertificateDecision => deny('InvalidUnverifiedUserAnnotations', `${where} ${message}`);
  const cases: [string, Partial<PodCertificateInput>, PodCertificateDecision][] = [
    ['no annotation: the template names only', { signer }, names()],
    ['two names, trimmed, appended after the template names', annotated(' api.shop.svc.cluster.local , web-0.example.com'), names('api.shop.svc.cluster.local', 'web-0.example.com')],
    ['lowercased, and each name once, the template\'s included', annotated('API.shop.svc,api.shop.svc,web.shop.svc'), names('api.shop.svc')],
    ['two labels under a one-label wildcard: Denied', annotated('a.b.shop.svc'), invalid(`holds DNS name "a.b.shop.svc", which signer example.com/pods does not allow (allowed: ${allowed})`)],
    ['another namespace\'s name: Denied', annotated('api.bank.svc'), invalid(`holds DNS name "api.bank.svc", which signer example.com/pods does not allow (allowed: ${allowed})`)],
    ['another pod\'s name: Denied', annotated('web-1.example.com'), invalid(`holds DNS name "web-1.example.com", which signer example.com/pods does not allow (allowed: ${allowed})`)],
    ['two dots in a row: Denied', annotated('a..shop.svc'), invalid('holds "a..shop.svc", which is not a DNS name (comma-separated DNS names expected)')],
    ['a wildcard is never a name: Denied', annotated('*.shop.svc'), invalid('holds "*.shop.svc", which is not a DNS name (comma-separated DNS names expected)')],
    ['an empty entry: Denied', annotated('api.shop.svc,'), invalid('holds "", which is not a DNS name (comma-separated DNS names expected)')],
    ['an empty value: Denied', annotated(''), invalid('holds "", which is not a DNS name (comma-separated DNS names expected)')],
    ['a label of 64 characters: Denied', annotated(`${'a'.repeat(64)}.shop.svc`), invalid(`holds "${'a'.repeat(64)}.shop.svc", which is not a DNS name (comma-separated DNS names expected)`)],
    ['32 names: issued', annotated(Array.from({ length: 32 }, (_, i) => `n${i}.shop.svc`).join(',')), names(...Array.from({ length: 32 }, (_, i) => `n${i}.shop.svc`))],
    ['33 names: Denied', annotated(Array.from({ length: 33 }, (_, i) => `n${i}.shop.svc`).join(',')), invalid('lists 33 DNS names, more than the 32 this signer accepts')],
    ['a value over 8192 characters: Denied', annotated('a'.repeat(8193)), invalid('is 8193 characters long, more than the 8192 this signer reads')],
    ['a placeholder value is never a wildcard: a podUID of * matches no other pod\'s name',
      { signer: wildUid, pcr: pcrBuilder(withPcrSpec({ podUID: '*' }), withAnnotations({ [key]: 'victim.shop.pods.example.com' })) },
      invalid('holds DNS name "victim.shop.pods.example.com", which signer example.com/pods does not allow (allowed: *.shop.svc)')],
    ['nor more than one label', { signer: wildUid, pcr: pcrBuilder(withPcrSpec({ podUID: 'victim.shop' }), withAnnotations({ [key]: 'victim.shop.shop.pods.example.com' })) },
      invalid('holds DNS name "victim.shop.shop.pods.example.com", which signer example.com/pods does not allow (allowed: *.shop.svc)')],
    ['a podUID that is one label: its own name is allowed', { signer: wildUid, pcr: pcrBuilder(withAnnotations({ [key]: '22222222-2222-2222-2222-222222222222.shop.pods.example.com' })) },
      issued({ dnsNames: ['22222222-2222-2222-2222-222222222222.shop.pods.example.com'] })],
    ['other keys are ignored, however malformed', { signer, pcr: pcrBuilder(withAnnotations({ 'example.com/other': ',,*..' })) }, names()],
    ['no annotation policy: the key is ignored', { pcr: pcrBuilder(withAnnotations({ [key]: 'a..b' })) }, issued()],
    ['the stub comes before the annotation', { ...annotated('a..b'), key: podCertificateKey('p256', 'stub', { commonName: 'x' }) },
      policyDenied('the stub PKCS#10 request asks for a subject (CN="x"); signer example.com/pods takes the identity from the PodCertificateRequest\'s spec and accepts only an empty stub (a key and a signature)')],
  ];
  for (const [name, over, expected] of cases) t.strictSame(decide(over), expected, name);
  t.end();
});

void t.test('the ladder: the Pod check', (t) => {
  const signer = podSigner({ podCheck: true });
  const pod = (uid: string, nodeName: string, serviceAccountName: string): Pod => ({ metadata: { name: 'web-0', namespace: 'shop', uid }, spec: { nodeName, serviceAccountName } });
  const podUID = '22222222-2222-2222-2222-222222222222';
  const cases: [string, Partial<PodCertificateInput>, PodCertificateDecision][] = [
    ['the Pod matches: issued', { signer, pod: pod(podUID, 'worker-1', 'web') }, issued()],
    ['the Pod not read: wait', { signer }, wait('FactMissing', 'the Pod shop/web-0 has not been read, and signer example.com/pods checks it')],
    ['the Pod not found: Failed', { signer, pod: null }, fail('PodMismatch', 'pod shop/web-0 does not exist')],
    ['another uid (a new pod of that name): Failed', { signer, pod: pod('99999999', 'worker-1', 'web') },
      fail('PodMismatch', `pod shop/web-0 has uid "99999999", not spec.podUID "${podUID}"`)],
    ['another node: Failed', { signer, pod: pod(podUID, 'worker-2', 'web') }, fail('PodMismatch', 'pod shop/web-0 has nodeName "worker-2", not spec.nodeName "worker-1"')],
    ['another ServiceAccount: Failed', { signer, pod: pod(podUID, 'worker-1', 'admin') },
      fail('PodMismatch', 'pod shop/web-0 has serviceAccountName "admin", not spec.serviceAccountName "web"')],
    ['not scheduled: Failed', { signer, pod: { metadata: { name: 'web-0', uid: podUID } } }, fail('PodMismatch', 'pod shop/web-0 has nodeName "", not spec.nodeName "worker-1"')],
    ['podCheck off: the Pod is not looked at', { pod: null }, issued()],
    ['the annotation comes before the Pod check',
      { signer: podSigner({ podCheck: true, userAnnotations: { dnsNames: { key: 'k', allowed: ['*.x'] } } }), pcr: pcrBuilder(withAnnotations({ k: 'a..b' })), pod: null },
      deny('InvalidUnverifiedUserAnnotations', 'unverifiedUserAnnotations["k"] holds "a..b", which is not a DNS name (comma-separated DNS names expected)')],
  ];
  for (const [name, over, expected] of cases) t.strictSame(decide(over), expected, name);
  t.end();
});

void t.test('the ladder: the identity, rendered from the spec', (t) => {
  const long = 'a'.repeat(64);
  const notLabel = 'which is not a single DNS label (1–63 lowercase letters, digits or \'-\', starting and ending with a letter or digit)';
  const spiffePod = podSigner({ uris: ['spiffe://{trustDomain}/ns/{namespace}/pod/{podUID}'] });
  const cases: [string, Partial<PodCertificateInput>, PodCertificateDecision][] = [
    ['the default: spiffe://cluster.local/ns/NS/sa/SA and nothing else', {}, issued({ uris: [spiffe] })],
    ['another trust domain', { signer: podSigner({ trustDomain: 'prod.example.org' }) }, issued({ uris: ['spiffe://prod.example.org/ns/shop/sa/web'] })],
    ['DNS templates, every placeholder',
      { signer: podSigner({ dnsNames: ['{serviceAccountName}.{namespace}.svc', '{podName}.{nodeName}.pods.example.com', '{podUID}.uid.example.com'], uris: [] }) },
      issued({ dnsNames: ['web.shop.svc', 'web-0.worker-1.pods.example.com', '22222222-2222-2222-2222-222222222222.uid.example.com'], uris: [] })],
    ['DNS templates render lowercase', { signer: podSigner({ dnsNames: ['{serviceAccountName}.SVC.Example.com'] }) }, issued({ dnsNames: ['web.svc.example.com'] })],
    ['a subject', { signer: podSigner({ subject: { commonName: '{serviceAccountName}', organizations: ['{namespace}', 'pods'] } }) },
      issued({}, { commonName: 'web', organizations: ['shop', 'pods'] })],
    ['a value that is no DNS label: Failed InvalidIdentity', { signer: podSigner({ dnsNames: ['{podName}.{namespace}.svc'] }), pcr: pcrBuilder(withPcrSpec({ podName: 'web_0' })) },
      fail('InvalidIdentity', `the DNS name template "{podName}.{namespace}.svc" cannot be rendered: {podName} is "web_0", ${notLabel}`)],
    ['a value over 63 characters: Failed', { signer: podSigner({ dnsNames: ['{podName}.{namespace}.svc'] }), pcr: pcrBuilder(withPcrSpec({ podName: long })) },
      fail('InvalidIdentity', `the DNS name template "{podName}.{namespace}.svc" cannot be rendered: {podName} is "${long}", ${notLabel}`)],
    ['a ServiceAccount name with a dot cannot name another namespace\'s service: Failed',
      { signer: podSigner({ namespaces: { all: true }, dnsNames: ['{serviceAccountName}.svc.cluster.local'] }), pcr: pcrBuilder(inNamespace('evil'), withServiceAccount('api.shop')) },
      fail('InvalidIdentity', `the DNS name template "{serviceAccountName}.svc.cluster.local" cannot be rendered: {serviceAccountName} is "api.shop", ${notLabel}`)],
    ['a wildcard value: Failed', { signer: podSigner({ dnsNames: ['{podUID}.{namespace}.pods.example.com'] }), pcr: pcrBuilder(withPcrSpec({ podUID: '*' })) },
      fail('InvalidIdentity', `the DNS name template "{podUID}.{namespace}.pods.example.com" cannot be rendered: {podUID} is "*", ${notLabel}`)],
    ['a node name with dots: Failed', { signer: podSigner({ dnsNames: ['{podName}.{nodeName}.{namespace}.example.com'] }), pcr: pcrBuilder(withPcrSpec({ nodeName: 'ip-10-0-0-1.ec2.internal' })) },
      fail('InvalidIdentity', `the DNS name template "{podName}.{nodeName}.{namespace}.example.com" cannot be rendered: {nodeName} is "ip-10-0-0-1.ec2.internal", ${notLabel}`)],
    ['the trust domain may have dots', { signer: podSigner({ trustDomain: 'prod.example.org', dnsNames: ['{serviceAccountName}.{namespace}.{trustDomain}'] }) },
      issued({ dnsNames: ['web.shop.prod.example.org'], uris: ['spiffe://prod.example.org/ns/shop/sa/web'] })],
    ['a value with an escape: Failed, naming the value', { signer: podSigner({ uris: ['spiffe://{trustDomain}/pod/{podName}'] }), pcr: pcrBuilder(withPcrSpec({ podName: 'a%zz' })) },
      fail('InvalidIdentity', 'the URI template "spiffe://{trustDomain}/pod/{podName}" cannot be rendered: {podName} is "a%zz", which holds \'/\', \'?\', \'#\' or \'%\' and would change the URI\'s structure')],
    ['a podUID climbing out of its SPIFFE path: Failed, not a forged ServiceAccount ID', { signer: spiffePod, pcr: pcrBuilder(withPcrSpec({ podUID: 'x/../../../kube-system/sa/admin' })) },
      fail('InvalidIdentity', 'the URI template "spiffe://{trustDomain}/ns/{namespace}/pod/{podUID}" cannot be rendered: {podUID} is "x/../../../kube-system/sa/admin", which holds \'/\', \'?\', \'#\' or \'%\' and would change the URI\'s structure')],
    ['a value of ..: Failed', { signer: spiffePod, pcr: pcrBuilder(withPcrSpec({ podUID: '..' })) },
      fail('InvalidIdentity', 'the URI template "spiffe://{trustDomain}/ns/{namespace}/pod/{podUID}" cannot be rendered: {podUID} is "..", a relative path segment')],
    ['a value of . in any URI: Failed', { signer: podSigner({ uris: ['https://id.example/{podName}'] }), pcr: pcrBuilder(withPcrSpec({ podName: '.' })) },
      fail('InvalidIdentity', 'the URI template "https://id.example/{podName}" cannot be rendered: {podName} is ".", a relative path segment')],
    ['a query in a value of another scheme: Failed', { signer: podSigner({ uris: ['https://id.example/{podName}'] }), pcr: pcrBuilder(withPcrSpec({ podName: 'a?admin=1' })) },
      fail('InvalidIdentity', 'the URI template "https://id.example/{podName}" cannot be rendered: {podName} is "a?admin=1", which holds \'/\', \'?\', \'#\' or \'%\' and would change the URI\'s structure')],
    ['a rendered SPIFFE ID Go reads but SPIFFE refuses: Failed', { signer: spiffePod, pcr: pcrBuilder(withPcrSpec({ podUID: 'a~b' })) },
      fail('InvalidIdentity', 'URI "spiffe://cluster.local/ns/shop/pod/a~b" rendered from the template "spiffe://{trustDomain}/ns/{namespace}/pod/{podUID}" is not a valid URI (as a SPIFFE ID, its path segment "a~b" may hold only letters, digits, \'.\', \'-\' and \'_\')')],
    ['the same value in a URI of another scheme: issued', { signer: podSigner({ uris: ['https://id.example/{namespace}/{podUID}'] }), pcr: pcrBuilder(withPcrSpec({ podUID: 'a~b' })) },
      issued({ uris: ['https://id.example/shop/a~b'] })],
    ['a rendered commonName over 64 characters: Failed', { signer: podSigner({ subject: { commonName: '{podName}.{namespace}' } }), pcr: pcrBuilder(withPcrSpec({ podName: 'a'.repeat(60) })) },
      fail('InvalidIdentity', `commonName "${'a'.repeat(60)}.shop" rendered from the template "{podName}.{namespace}" is longer than 64 characters`)],
    ['a rendered commonName with a control character: Failed', { signer: podSigner({ subject: { commonName: 'pod {podUID}' } }), pcr: pcrBuilder(withPcrSpec({ podUID: 'a\u0007b' })) },
      fail('InvalidIdentity', 'commonName "pod a\\u0007b" rendered from the template "pod {podUID}" contains a control character')],
    ['a rendered organization with a C1 control character: Failed', { signer: podSigner({ subject: { organizations: ['{podUID}'] } }), pcr: pcrBuilder(withPcrSpec({ podUID: 'a\u0085b' })) },
      fail('InvalidIdentity', 'organization "a\u0085b" rendered from the template "{podUID}" contains a control character')],
    ['a rendered organization with a lone surrogate: Failed', { signer: podSigner({ subject: { organizations: ['{namespace}', 'uid {podUID}'] } }), pcr: pcrBuilder(withPcrSpec({ podUID: 'a\ud800' })) },
      fail('InvalidIdentity', 'organization "uid a\\ud800" rendered from the template "uid {podUID}" is not valid Unicode (a lone surrogate)')],
    ['a rendered commonName of 64 characters: issued', { signer: podSigner({ subject: { commonName: '{podUID}' } }), pcr: pcrBuilder(withPcrSpec({ podUID: 'a'.repeat(64) })) },
      issued({}, { commonName: 'a'.repeat(64) })],
    ['the Pod check comes before the identity', { signer: podSigner({ podCheck: true, dnsNames: ['{podName}'] }), pcr: pcrBuilder(withPcrSpec({ podName: 'web_0' })), pod: null },
      fail('PodMismatch', 'pod shop/web_0 does not exist')],
  ];
  for (const [name, over, expected] of cases) t.strictSame(decide(over), expected, name);
  t.end();
});

void t.test('the profile: the signer\'s usages, the lifetime decided, always the chain', (t) => {
  const decision = decide({ signer: podSigner({ usages: ['digital signature', 'client auth'] }) });
  t.strictSame(decision.kind === 'issue' ? decision.profile : undefined, { usages: ['digital signature', 'client auth'], maxDurationMs: 24 * HOUR, includeChain: true });
  const csrSetting = decide({ signer: podSigner({}, { includeChain: false }) });
  t.equal(csrSetting.kind === 'issue' ? csrSetting.profile.includeChain : undefined, true, 'includeChain is a CSR setting: a pod certificate always has its intermediates');
  t.end();
});

void t.test('issued by an intermediate: the chain is the leaf and the intermediate, not the root', async (t) => {
  if (!needTool(t, 'openssl')) return;
  const dir = tempDir();
  const root = makeOpensslCa(dir, 'root', 'p256');
  const keyPath = join(dir, 'intermediate-key.pem');
  const certPath = join(dir, 'intermediate.pem');
  const ext = writeTemp(dir, 'intermediate.ext', 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  must(run('openssl', ['genpkey', '-algorithm', 'ED25519', '-out', keyPath]), 'genpkey');
  must(run('openssl', ['req', '-new', '-key', keyPath, '-subj', '/CN=pods intermediate', '-out', join(dir, 'intermediate.csr')]), 'req');
  must(run('openssl', ['x509', '-req', '-in', join(dir, 'intermediate.csr'), '-CA', root.certPath, '-CAkey', root.keyPath, '-CAcreateserial', '-days', '30', '-extfile', ext, '-out', certPath]), 'x509');
  const intermediatePem = readFileSync(certPath, 'utf8');
  const at = new Date();
  const authority = await loadCertificateAuthority({
    certificate: { name: certPath, bytes: Buffer.from(intermediatePem + root.certPem) }, key: { name: keyPath, bytes: readFileSync(keyPath) },
  }, at);
  const key = podCertificateKey('p256');
  const decision = decidePodCertificate({
    pcr: pcrBuilder(), signer: podSigner(), key, now: at, random: () => 0,
    ca: { notBefore: authority.certificate.notBefore, notAfter: authority.certificate.notAfter },
  });
  if (decision.kind !== 'issue') return t.fail(`issued, not ${decision.kind}`);
  const issued = await issueForKey({
    publicKey: key.publicKey, subject: decision.subject, subjectAltNames: decision.subjectAltNames, profile: decision.profile,
    ca: authority, validity: decision.validity, random: (n) => crypto.getRandomValues(new Uint8Array(n)),
  });
  const blocks = issued.pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g) ?? [];
  t.equal(blocks.length, 2, 'two blocks: the leaf and the intermediate');
  t.equal(blocks[1]?.replace(/\s/g, ''), intermediatePem.replace(/\s/g, ''), 'the second is the intermediate');
  t.notOk(issued.pem.replace(/\s/g, '').includes(root.certPem.replace(/\s/g, '')), 'the root is not in it');
});

void t.test('status: one condition per terminal decision, the issued times as the leaf\'s', (t) => {
  const at = new Date('2026-12-07T13:00:05.900Z');
  const issue = decide({ random: () => 0.999 });
  const pem = '-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n';
  t.strictSame(podCertificateStatus(issue, { pem, serialHex: '0a1b' }, at), {
    conditions: [{ type: 'Issued', status: 'True', reason: 'Issued', message: 'issued by csr-signer, serial 0a1b', lastTransitionTime: '2026-12-07T13:00:05Z' }],
    certificateChain: pem,
    notBefore: '2026-12-07T12:59:00Z',
    notAfter: '2026-12-08T12:59:00Z',
    beginRefreshAt: '2026-12-08T05:46:42Z',
  }, 'Issued: the chain and the decision\'s times, in whole seconds');
  if (issue.kind === 'issue') {
    t.equal(Date.parse('2026-12-08T05:46:42Z'), issue.beginRefreshAt.getTime(), 'beginRefreshAt written as decided');
  }
  t.strictSame(podCertificateStatus(deny('UnsupportedKeyType', 'use keyType ECDSAP256'), undefined, at), {
    conditions: [{ type: 'Denied', status: 'True', reason: 'UnsupportedKeyType', message: 'use keyType ECDSAP256', lastTransitionTime: '2026-12-07T13:00:05Z' }],
  }, 'Denied: the condition and nothing else');
  t.strictSame(podCertificateStatus(fail('PodMismatch', 'pod shop/web-0 does not exist'), undefined, at), {
    conditions: [{ type: 'Failed', status: 'True', reason: 'PodMismatch', message: 'pod shop/web-0 does not exist', lastTransitionTime: '2026-12-07T13:00:05Z' }],
  }, 'Failed: the condition and nothing else');
  t.equal(podCertificateStatus({ kind: 'skip', reason: 'AlreadyIssued' }, undefined, at), undefined, 'skip writes nothing');
  t.equal(podCertificateStatus(wait('CaExpiresTooSoon', 'x'), undefined, at), undefined, 'wait writes nothing');
  t.throws(() => podCertificateStatus(issue, undefined, at), /needs the certificate issued/, 'an issue without its certificate is a bug');
  t.end();
});

void t.test('an RSA 2048 key under a signer of RSA keyTypes: Denied, suggesting RSA3072', (t) => {
  t.strictSame(decide({ key: podCertificateKey('rsa2048'), signer: podSigner({ keyTypes: ['RSA3072', 'RSA4096'] }) }),
    deny('UnsupportedKeyType', 'the RSA 2048-bit key is of no podCertificate keyType: signer example.com/pods accepts RSA3072, RSA4096; use keyType RSA3072'));
  t.end();
});

void t.test('from the spec\'s fields to the decision, with pki\'s key reader', async (t) => {
  const stub = Buffer.from(buildRequest({ key: 'ed25519' })).toString('base64');
  const decideFrom = async (pcr: PodCertificateRequest): Promise<PodCertificateDecision> => {
    const fields = podCertificateKeyFields(pcr);
    const key = fields instanceof CsrSignerError ? fields : await readPodCertificateKey(fields).catch((e: unknown) => {
      if (e instanceof CsrSignerError) return e;
      throw e;
    });
    return decidePodCertificate({ pcr, signer: podSigner(), key, now, ca, random: () => 0 });
  };
  t.strictSame(await decideFrom(pcrBuilder(withPcrSpec({ stubPKCS10Request: stub }))), issued(), 'a stub request (v1, 1.36+): issued');
  const { privateKey, publicKey } = testKey('p256');
  const podUID = '22222222-2222-2222-2222-222222222222';
  const legacy = {
    stubPKCS10Request: '',
    pkixPublicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    proofOfPossession: sign('sha256', Buffer.from(podUID), privateKey).toString('base64'),
  };
  t.strictSame(await decideFrom(pcrBuilder(withPcrSpec(legacy))), issued(), 'pkixPublicKey and proofOfPossession (1.34–1.36): issued');
  t.match(await decideFrom(pcrBuilder(withPcrSpec({ ...legacy, podUID: '99999999-2222-2222-2222-222222222222' }))),
    { kind: 'fail', reason: 'InvalidProofOfPossession' }, 'a proof over another pod\'s UID: Failed');
  const stubOf = (key: 'rsa1024' | 'rsa2048'): PcrModifier => withPcrSpec({ stubPKCS10Request: Buffer.from(buildRequest({ key })).toString('base64') });
  const accepted = 'signer example.com/pods accepts RSA3072, RSA4096, ECDSAP256, ECDSAP384, ECDSAP521, ED25519; use keyType RSA3072';
  t.strictSame(await decideFrom(pcrBuilder(stubOf('rsa2048'))), deny('UnsupportedKeyType', `the RSA 2048-bit key is of no podCertificate keyType: ${accepted}`),
    'an RSA 2048 key, read but of no keyType: Denied with the suggestion');
  t.strictSame(await decideFrom(pcrBuilder(stubOf('rsa1024'))), deny('UnsupportedKeyType', `RSA 1024-bit keys cannot have pod certificates: ${accepted}`),
    'an RSA 1024 key, refused by the key reader: Denied with the suggestion, not Failed');
  const stubDer = Buffer.from(stub, 'base64');
  const tampered = Buffer.from(stubDer);
  tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
  t.match(await decideFrom(pcrBuilder(withPcrSpec({ stubPKCS10Request: tampered.toString('base64') }))), { kind: 'fail', reason: 'InvalidSignature' },
    'a stub whose signature does not verify: Failed InvalidSignature');
  if (needTool(t, 'openssl')) {
    const dir = tempDir();
    must(run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(dir, 'k.pem')]), 'genpkey');
    must(run('openssl', ['req', '-new', '-key', join(dir, 'k.pem'), '-subj', '/', '-sha1', '-outform', 'DER', '-out', join(dir, 'sha1.der')]), 'req -sha1');
    t.match(await decideFrom(pcrBuilder(withPcrSpec({ stubPKCS10Request: readFileSync(join(dir, 'sha1.der')).toString('base64') }))),
      { kind: 'fail', reason: 'UnsupportedSignatureAlgorithm', message: /SHA1/ }, 'a stub signed with SHA-1 (openssl req -sha1): Failed UnsupportedSignatureAlgorithm');
  }
  const oversized = 'A'.repeat(Math.ceil((10_241 * 4) / 3 / 4) * 4);
  t.match(await decideFrom(pcrBuilder(withPcrSpec({ stubPKCS10Request: oversized }))), { kind: 'fail', reason: 'RequestTooLarge' }, 'a key field over its bound: Failed RequestTooLarge');
  t.strictSame(await decideFrom(pcrBuilder(withPcrSpec({ stubPKCS10Request: 'not base64' }))),
    fail('MalformedRequest', 'spec.stubPKCS10Request is not valid base64 (padded standard base64, as the API server writes byte fields)'), 'a field that is not base64: Failed');
});
