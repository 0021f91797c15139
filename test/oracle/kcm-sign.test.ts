/**
 * The Go oracle's kcm-sign mode reproduces the in-tree signer's published
 * behaviour — the vectors of the upstream tests (kubernetes/kubernetes
 * signer_test.go, authority_test.go, policies_test.go and the integration
 * duration_test.go), numbered as in test/signer/builtin-signers.test.ts — and every
 * certificate it issues parses with Go and verifies against the CA.
 */
import t, { type Test } from 'tap';
import { goParse, kcmSign, type GoFields, type KcmSignInput, type KcmSignOutput } from '../helpers/go-oracle.js';
import { makeOpensslCa, type TestCa } from '../helpers/ca.js';
import { buildRequest, toPem, type RequestSpec } from '../helpers/requests.js';
import { needTool, tempDir } from '../helpers/tools.js';

if (!needTool(t, 'openssl')) process.exit(0);

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const dir = tempDir();
const ecCa = makeOpensslCa(dir, 'kcm-ec', 'p256');
const rsaCa = makeOpensslCa(dir, 'kcm-rsa', 'rsa2048');
const derOf = (pem: string): Buffer => Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
// Whole seconds: certificates carry no fractions, so expected times compare exactly.
const now = new Date(Math.floor(Date.now() / 1000) * 1000);
const at = (offsetMs: number): string => new Date(now.getTime() + offsetMs).toISOString().replace('.000Z', 'Z');

const requests = new Map<string, string>();
const csr = (spec: RequestSpec): string => {
  const key = JSON.stringify(spec);
  let pem = requests.get(key);
  if (pem === undefined) requests.set(key, (pem = toPem('CERTIFICATE REQUEST', buildRequest(spec))));
  return pem;
};

interface Case {
  readonly name: string;
  readonly signerName: string;
  readonly spec: RequestSpec;
  readonly usages: readonly string[];
  readonly expirationSeconds?: number;
  readonly clusterTtlMs?: number;
  readonly ca?: TestCa;
  /** What is expected: a refusal, or fields of the issued certificate. */
  readonly expect: { readonly stage: 'create' | 'validation' | 'sign'; readonly error: string } | { readonly stage: 'issued'; readonly fields: Partial<GoFields> };
}

const node = { commonName: 'system:node:hello-world', organizations: ['system:nodes'] };
const serving = { commonName: 'system:node:testnode', organizations: ['system:nodes'], dns: ['example.com'] };
const client = 'kubernetes.io/kube-apiserver-client';
const kubelet = 'kubernetes.io/kube-apiserver-client-kubelet';
const servingSigner = 'kubernetes.io/kubelet-serving';
const legacy = 'kubernetes.io/legacy-unknown';
const issued = (fields: Partial<GoFields> = {}): Case['expect'] => ({ stage: 'issued', fields });
const refused = (error: string): Case['expect'] => ({ stage: 'validation', error });
const lifetime = (notAfterMs: number): Partial<GoFields> => ({ notBefore: at(-5 * MINUTE), notAfter: at(notAfterMs) });

const cases: Case[] = [
  // Signer behaviour.
  { name: '1: kube-apiserver-client with client auth, digital signature, key encipherment is issued', signerName: client, spec: { commonName: 'hello-world', organizations: ['some-org'] }, usages: ['client auth', 'digital signature', 'key encipherment'], expect: issued({ keyUsage: 1 | 4, extKeyUsage: [2] }) },
  { name: '2: kube-apiserver-client without key encipherment is issued', signerName: client, spec: { commonName: 'hello-world', organizations: ['some-org'] }, usages: ['client auth', 'digital signature'], expect: issued({ keyUsage: 1, extKeyUsage: [2] }) },
  { name: '3: kube-apiserver-client refuses server auth', signerName: client, spec: { commonName: 'hello-world' }, usages: ['server auth', 'client auth', 'digital signature', 'key encipherment'], expect: refused('invalid usage for client certificate: server auth') },
  { name: 'kube-apiserver-client does not take signing for digital signature', signerName: client, spec: { commonName: 'hello-world' }, usages: ['signing', 'client auth'], expect: refused('invalid usage for client certificate: signing') },
  { name: 'kube-apiserver-client requires client auth', signerName: client, spec: { commonName: 'hello-world' }, usages: ['digital signature'], expect: refused('missing required usage for client certificate: client auth') },
  { name: 'kube-apiserver-client copies every kind of SAN', signerName: client, spec: { commonName: 'x', dns: ['a.example'], ips: ['10.0.0.1', '2001:db8::1'], emails: ['a@example.com'], uris: ['spiffe://c/x'] }, usages: ['client auth'], expect: issued({ dnsNames: ['a.example'], ipAddresses: ['10.0.0.1', '2001:db8::1'], emailAddresses: ['a@example.com'], uris: ['spiffe://c/x'] }) },
  { name: '4: kubelet client with the RSA usage set is issued', signerName: kubelet, spec: node, usages: ['client auth', 'digital signature', 'key encipherment'], expect: issued({ keyUsage: 5, extKeyUsage: [2] }) },
  { name: '5: kubelet client without key encipherment is issued', signerName: kubelet, spec: node, usages: ['client auth', 'digital signature'], expect: issued({ keyUsage: 1, extKeyUsage: [2] }) },
  { name: '6: legacy-unknown with an empty subject and no usages gets neither keyUsage nor EKU', signerName: legacy, spec: {}, usages: [], expect: issued({ keyUsage: 0, extKeyUsage: [], subject: { country: [], organization: [], organizationalUnit: [], locality: [], province: [], streetAddress: [], postalCode: [], serialNumber: '', commonName: '', names: [] } }) },
  { name: '7: kubelet-serving with server auth, digital signature, key encipherment is issued', signerName: servingSigner, spec: serving, usages: ['server auth', 'digital signature', 'key encipherment'], expect: issued({ keyUsage: 5, extKeyUsage: [1], dnsNames: ['example.com'] }) },
  { name: '8: kubelet-serving without key encipherment is issued', signerName: servingSigner, spec: serving, usages: ['server auth', 'digital signature'], expect: issued({ keyUsage: 1, extKeyUsage: [1] }) },
  { name: '11: a signer name the controller does not know is signed with no rules, like a custom signer', signerName: 'example.com/sample-name', spec: { commonName: 'anything' }, usages: ['cert sign', 'server auth'], expect: issued({ keyUsage: 32, extKeyUsage: [1], isCA: false }) },
  // The node signers' rules.
  { name: '12: kubelet client with a second organization is refused', signerName: kubelet, spec: { ...node, organizations: ['system:nodes', 'extra'] }, usages: ['client auth', 'digital signature'], expect: refused('subject organization is not system:nodes') },
  { name: '13: kubelet client with a DNS SAN is refused', signerName: kubelet, spec: { ...node, dns: ['a.example'] }, usages: ['client auth', 'digital signature'], expect: refused('DNS subjectAltNames are not allowed') },
  { name: '13: kubelet client with an IP SAN is refused', signerName: kubelet, spec: { ...node, ips: ['10.0.0.1'] }, usages: ['client auth', 'digital signature'], expect: refused('IP subjectAltNames are not allowed') },
  { name: 'kubelet client with an email SAN is refused', signerName: kubelet, spec: { ...node, emails: ['a@example.com'] }, usages: ['client auth', 'digital signature'], expect: refused('Email subjectAltNames are not allowed') },
  { name: 'kubelet client with a URI SAN is refused', signerName: kubelet, spec: { ...node, uris: ['spiffe://c/x'] }, usages: ['client auth', 'digital signature'], expect: refused('URI subjectAltNames are not allowed') },
  { name: '14: kubelet client with CN node1 is refused', signerName: kubelet, spec: { ...node, commonName: 'node1' }, usages: ['client auth', 'digital signature'], expect: refused('subject common name does not begin with system:node:') },
  { name: '15: kubelet client with server auth is refused', signerName: kubelet, spec: node, usages: ['digital signature', 'key encipherment', 'client auth', 'server auth'], expect: refused('usages did not match [client auth digital signature key encipherment]') },
  { name: 'kubelet client checks the common name before the usages', signerName: kubelet, spec: { ...node, commonName: 'node1' }, usages: ['server auth'], expect: refused('subject common name does not begin with system:node:') },
  { name: '16: kubelet-serving without a DNS or IP SAN is refused', signerName: servingSigner, spec: { ...serving, dns: [] }, usages: ['server auth', 'digital signature'], expect: refused('DNS or IP subjectAltName is required') },
  { name: '16: kubelet-serving with only the IP SAN 0.0.0.0 is issued', signerName: servingSigner, spec: { ...serving, dns: [], ips: ['0.0.0.0'] }, usages: ['server auth', 'digital signature'], expect: issued({ dnsNames: [], ipAddresses: ['0.0.0.0'] }) },
  { name: 'kubelet-serving with an email SAN is refused', signerName: servingSigner, spec: { ...serving, emails: ['a@example.com'] }, usages: ['server auth', 'digital signature'], expect: refused('Email subjectAltNames are not allowed') },
  { name: 'kubelet-serving with a URI SAN is refused', signerName: servingSigner, spec: { ...serving, uris: ['spiffe://c/x'] }, usages: ['server auth', 'digital signature'], expect: refused('URI subjectAltNames are not allowed') },
  { name: 'kubelet-serving with another organization is refused', signerName: servingSigner, spec: { ...serving, organizations: ['not-system:nodes'] }, usages: ['server auth', 'digital signature'], expect: refused('subject organization is not system:nodes') },
  { name: '17: kubelet-serving checks the usages before the common name', signerName: servingSigner, spec: { ...serving, commonName: 'notprefixed' }, usages: ['server auth', 'digital signature', 'client auth'], expect: refused('usages did not match [digital signature key encipherment server auth]') },
  { name: 'kubelet-serving with a wrong common name is refused', signerName: servingSigner, spec: { ...serving, commonName: 'notprefixed' }, usages: ['server auth', 'digital signature'], expect: refused('subject common name does not begin with system:node:') },
  // Duration selection, cluster TTL 1 h: short-lived, so NotAfter = now + TTL.
  ...([[1800, 30], [10800, 60], [-60, 10], [599, 10], [600, 10], [3600, 60], [undefined, 60]] as const).map(([seconds, minutes]): Case => ({
    name: `18: expirationSeconds ${String(seconds ?? 'unset')} with a 1 h cluster TTL gives ${String(minutes)} min`, signerName: legacy, spec: { commonName: 'd' }, usages: ['client auth'],
    ...(seconds === undefined ? {} : { expirationSeconds: seconds }), expect: issued(lifetime(minutes * MINUTE)),
  })),
  { name: '19: legacy-unknown with an RSA CA: v3, usages mapped, CA:FALSE without pathLen, backdated start, 1 h end', signerName: legacy, ca: rsaCa, spec: { commonName: 'system:node:k-a-node-s36b', organizations: ['system:nodes'] }, usages: ['signing', 'key encipherment', 'server auth', 'client auth'], expirationSeconds: 10800, expect: issued({ version: 3, keyUsage: 1 | 4, extKeyUsage: [1, 2], basicConstraintsValid: true, isCA: false, maxPathLen: -1, maxPathLenZero: false, signatureAlgorithm: 'SHA256-RSA', publicKeyAlgorithm: 'ECDSA', subjectKeyId: '', ...lifetime(HOUR) }) },
  { name: '21: signing alone gives digitalSignature and no EKU', signerName: legacy, spec: { commonName: 'u' }, usages: ['signing'], expect: issued({ keyUsage: 1, extKeyUsage: [] }) },
  { name: '23: a 24 h TTL is not short-lived: the end is backdated too', signerName: legacy, spec: { commonName: 'u' }, usages: ['client auth'], clusterTtlMs: 24 * HOUR, expect: issued(lifetime(24 * HOUR - 5 * MINUTE)) },
  { name: '25: a URI SAN reaches the certificate unchanged', signerName: legacy, spec: { commonName: 'u', uris: ['help://me@what:8080/where/when?why=true'] }, usages: ['client auth'], expect: issued({ uris: ['help://me@what:8080/where/when?why=true'] }) },
  // Usage mapping.
  { name: '28: a repeated usage appears once', signerName: legacy, spec: { commonName: 'u' }, usages: ['client auth', 'client auth'], expect: issued({ keyUsage: 0, extKeyUsage: [2] }) },
  { name: '29: cert sign and encipher only are bits, with no EKU', signerName: legacy, spec: { commonName: 'u' }, usages: ['cert sign', 'encipher only'], expect: issued({ keyUsage: 32 | 128, extKeyUsage: [] }) },
  { name: '30: EKUs come in Go\'s order, not the request\'s', signerName: legacy, spec: { commonName: 'u' }, usages: ['ocsp signing', 'crl sign', 's/mime', 'content commitment'], expect: issued({ keyUsage: 64 | 2, extKeyUsage: [4, 9] }) },
  { name: 'key agreement is bit 4 and data encipherment bit 3', signerName: legacy, spec: { commonName: 'u' }, usages: ['key agreement', 'data encipherment'], expect: issued({ keyUsage: 16 | 8 }) },
  { name: '31: an unknown usage fails signing', signerName: legacy, spec: { commonName: 'u' }, usages: ['unsupported string'], expect: { stage: 'sign', error: 'unrecognized usage values: ["unsupported string"]' } },
  // End-to-end durations, cluster TTL 24 h (lifetime = NotAfter − NotBefore).
  ...([[undefined, 24 * 60], [86400, 24 * 60], [172800, 24 * 60], [72000, 20 * 60], [36000, 10 * 60], [7200, 125], [1800, 35], [600, 15]] as const).map(([seconds, minutes]): Case => ({
    name: `32/33: kube-apiserver-client, expirationSeconds ${String(seconds ?? 'unset')}, lives ${String(minutes)} min`, signerName: client, spec: { commonName: 'panda' }, usages: ['client auth'],
    clusterTtlMs: 24 * HOUR, ...(seconds === undefined ? {} : { expirationSeconds: seconds }), expect: issued(lifetime(minutes * MINUTE - 5 * MINUTE)),
  })),
];

const inputOf = (c: Case, id: string): KcmSignInput => ({
  id, csr: csr(c.spec), signerName: c.signerName, usages: c.usages, clusterSigningDurationSeconds: (c.clusterTtlMs ?? HOUR) / 1000,
  ...(c.expirationSeconds === undefined ? {} : { expirationSeconds: c.expirationSeconds }), now, caCert: (c.ca ?? ecCa).certPem, caKey: (c.ca ?? ecCa).keyPem,
});

/** Every issued certificate parses with Go and verifies against its CA at `now`. */
async function checkIssued(t: Test, results: readonly KcmSignOutput[], cas: readonly TestCa[]): Promise<void> {
  const certs = results.flatMap((r, i) => (r.stage === 'issued' ? [{ id: r.id, cert: r.cert, issuer: derOf((cas[i] ?? ecCa).certPem), at: now }] : []));
  const parsed = await goParse(certs);
  for (const p of parsed) t.match(p, { ok: true, signature: 'ok', verify: 'ok' }, `${p.id}: Go parses it and it verifies against the CA`);
}

void t.test('kcm-sign reproduces the in-tree signer\'s vectors', async (t) => {
  const results = await kcmSign(cases.map((c, i) => inputOf(c, String(i))));
  for (const [i, c] of cases.entries()) {
    const r = results[i];
    if (c.expect.stage !== 'issued') {
      t.same(r, { id: String(i), ...c.expect }, c.name);
    } else if (r?.stage !== 'issued') {
      t.fail(`${c.name}: not issued: ${JSON.stringify(r)}`);
    } else {
      // Field by field with t.same: t.match would let [] match any list.
      const actual = r.fields as unknown as Record<string, unknown>;
      t.same(Object.fromEntries(Object.keys(c.expect.fields).map((k) => [k, actual[k]])), c.expect.fields, c.name);
    }
  }
  await checkIssued(t, results, cases.map((c) => c.ca ?? ecCa));
});


/** Go's time.Time.String() of a UTC time: "2036-12-05 01:22:53 +0000 UTC". */
const goTime = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000 UTC`;

void t.test('kcm-sign cuts at the CA\'s NotAfter and refuses with an expired CA, as the in-tree policy does', async (t) => {
  const [caParsed] = await goParse([{ id: 'ca', cert: derOf(ecCa.certPem) }]);
  if (!caParsed?.ok) throw new Error('Go cannot parse the test CA');
  const caNotAfter = new Date(caParsed.fields.notAfter);
  const base = { id: '', csr: csr({ commonName: 'late' }), signerName: legacy, usages: ['client auth'], caCert: ecCa.certPem, caKey: ecCa.keyPem };
  const table = [
    { name: '24: a 48 h TTL with the CA ending in 24 h ends with the CA', now: caNotAfter.getTime() - 24 * HOUR, ttl: 48 * HOUR, expect: { stage: 'issued', fields: { notAfter: caParsed.fields.notAfter } } },
    { name: '27: a CA that ends now refuses to sign a certificate that expired in the past', now: caNotAfter.getTime(), ttl: HOUR, expect: { stage: 'sign', error: `refusing to sign a certificate that expired in the past: NotAfter=${goTime(caParsed.fields.notAfter)}` } },
    { name: 'a CA that ended 4 min 59 s ago still gives the same error: the backdated start is before its end', now: caNotAfter.getTime() + 5 * MINUTE - 1000, ttl: HOUR, expect: { stage: 'sign', error: `refusing to sign a certificate that expired in the past: NotAfter=${goTime(caParsed.fields.notAfter)}` } },
    { name: '26: a CA that ended 5 min ago or more has expired', now: caNotAfter.getTime() + 5 * MINUTE, ttl: HOUR, expect: { stage: 'sign', error: `the signer has expired: NotAfter=${goTime(caParsed.fields.notAfter)}` } },
  ];
  const results = await kcmSign(table.map((c, i) => ({ ...base, id: String(i), now: new Date(c.now), clusterSigningDurationSeconds: c.ttl / 1000 })));
  for (const [i, c] of table.entries()) t.match(results[i], { id: String(i), ...c.expect }, c.name);
  const issuedOne = results[0];
  if (issuedOne?.stage === 'issued') {
    const [p] = await goParse([{ id: 'cut', cert: issuedOne.cert, issuer: derOf(ecCa.certPem), at: new Date(table[0]?.now ?? 0) }]);
    t.match(p, { ok: true, signature: 'ok', verify: 'ok' }, 'the cut certificate verifies against the CA');
  }
});

void t.test('kcm-sign refuses at create what the apiserver refuses, and fails signing with a key that is not the CA\'s', async (t) => {
  const good = csr({ commonName: 'c' });
  const der = derOf(good);
  const badSignature = Buffer.from(der);
  badSignature[badSignature.length - 3] = (badSignature[badSignature.length - 3] ?? 0) ^ 0xff;
  const table = [
    { name: '36: garbage is not a CERTIFICATE REQUEST', csr: 'garbage', stage: 'create', error: /^PEM block type must be CERTIFICATE REQUEST$/ },
    { name: 'a certificate is not a CERTIFICATE REQUEST either', csr: ecCa.certPem, stage: 'create', error: /^PEM block type must be CERTIFICATE REQUEST$/ },
    { name: 'a truncated request gets Go\'s parse error', csr: toPem('CERTIFICATE REQUEST', der.subarray(0, der.length - 10)), stage: 'create', error: /^(x509|asn1): / },
    { name: 'a request whose self-signature does not verify gets Go\'s verification error', csr: toPem('CERTIFICATE REQUEST', badSignature), stage: 'create', error: /^x509: ECDSA verification failure$/ },
    { name: 'a CA key that does not belong to the CA certificate fails signing (retried in-tree)', csr: good, caKey: rsaCa.keyPem, stage: 'sign', error: /^tls: private key does not match public key$/ },
  ];
  const results = await kcmSign(table.map((c, i) => ({
    id: String(i), csr: c.csr, signerName: client, usages: ['client auth'], clusterSigningDurationSeconds: 3600, now, caCert: ecCa.certPem, caKey: c.caKey ?? ecCa.keyPem,
  })));
  for (const [i, c] of table.entries()) t.match(results[i], { id: String(i), stage: c.stage, error: c.error }, c.name);
});
