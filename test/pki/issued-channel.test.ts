/**
 * The issuance channel: every certificate issued is announced once on
 * `csr-signer:pki:certificate-issued`, with the CA that signed it, whatever path issued
 * it; a refused request announces nothing.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import t from 'tap';
import {
  certificateIssuedChannelName, issueCertificate, parseRequestDer, signRequest,
  type CertificateAuthority, type CertificateIssuedMessage, type IssuedCertificate, type SigningProfile,
} from '../../src/pki/index.js';
import { loadTestCa, makeOpensslCa } from '../helpers/ca.js';
import { buildRequest, caTrueBasicConstraints } from '../helpers/requests.js';
import { needTool, tempDir } from '../helpers/tools.js';

if (!needTool(t, 'openssl')) process.exit(0);

const dir = tempDir();
const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
const profile: SigningProfile = { usages: ['digital signature', 'server auth'], maxDurationMs: 3_600_000 };
const cas = {
  p256: await loadTestCa(makeOpensslCa(dir, 'channel-p256', 'p256')),
  rsa2048: await loadTestCa(makeOpensslCa(dir, 'channel-rsa', 'rsa2048')),
};
const request = buildRequest({ commonName: 'channel.example.com', dns: ['channel.example.com'] });

/** Runs `issue` with a subscriber attached and returns what it published. */
async function announced(issue: () => Promise<unknown>): Promise<CertificateIssuedMessage[]> {
  const seen: CertificateIssuedMessage[] = [];
  const listener = (message: unknown): void => { seen.push(message as CertificateIssuedMessage); };
  subscribe(certificateIssuedChannelName, listener);
  try {
    await issue();
  } finally {
    unsubscribe(certificateIssuedChannelName, listener);
  }
  return seen;
}

type Path = (ca: CertificateAuthority) => Promise<IssuedCertificate>;
const now = new Date();
const paths: [string, Path][] = [
  ['signRequest on the calling thread', (ca) => signRequest(request, profile, ca, { now, random, threadpool: 'never' })],
  ['signRequest on the threadpool', (ca) => signRequest(request, profile, ca, { now, random, threadpool: 'always' })],
  ['issueCertificate on the calling thread', (ca) => issueCertificate({ request: parseRequestDer(request), profile, ca, now, random, threadpool: 'never' })],
  ['issueCertificate on the threadpool', (ca) => issueCertificate({ request: parseRequestDer(request), profile, ca, now, random, threadpool: 'always' })],
];

for (const [name, path] of paths) {
  void t.test(`${name} announces each certificate once, with the CA that signed it`, async (t) => {
    const issued: { der: Uint8Array; ca: CertificateAuthority }[] = [];
    const seen = await announced(async () => {
      for (const ca of [cas.p256, cas.rsa2048, cas.p256]) issued.push({ der: (await path(ca)).der, ca });
    });
    t.equal(seen.length, 3, 'one message per certificate');
    for (const [i, { der, ca }] of issued.entries()) {
      t.same(Buffer.from(seen[i]?.der ?? []), Buffer.from(der), `message ${String(i + 1)} carries the certificate returned`);
      t.same(Buffer.from(seen[i]?.issuerDer ?? []), Buffer.from(ca.certificate.der), `message ${String(i + 1)} carries the CA that signed it`);
    }
  });
}

void t.test('concurrent issues on both paths announce each of their certificates once', async (t) => {
  let results: IssuedCertificate[] = [];
  const seen = await announced(async () => {
    results = await Promise.all(Array.from({ length: 8 }, (_v, i) => (paths[i % paths.length]?.[1] ?? paths[0]![1])(cas.p256)));
  });
  t.same(seen.map((m) => Buffer.from(m.der).toString('hex')).sort(), results.map((r) => Buffer.from(r.der).toString('hex')).sort());
});

void t.test('a refused request and an unknown usage announce nothing', async (t) => {
  const caRequest = buildRequest({ commonName: 'sub-ca', extensions: [{ oid: '2.5.29.19', critical: true, value: caTrueBasicConstraints() }] });
  const seen = await announced(async () => {
    await t.rejects(signRequest(caRequest, profile, cas.p256, { now, random }), { name: 'CsrSignerError', kind: 'CertificateAuthorityRequested' });
    await t.rejects(signRequest(request, { ...profile, usages: ['no such usage'] }, cas.p256, { now, random }));
    await t.rejects(signRequest(Uint8Array.of(0x30, 0x00), profile, cas.p256, { now, random }));
  });
  t.same(seen, []);
});

void t.test('the message holds copies: a subscriber that changes them changes neither the certificate nor the CA', async (t) => {
  let issued: IssuedCertificate | undefined;
  const before = Buffer.from(cas.p256.certificate.der);
  const seen = await announced(async () => { issued = await signRequest(request, profile, cas.p256, { now, random }); });
  seen[0]?.der.fill(0);
  seen[0]?.issuerDer.fill(0);
  t.not(issued?.der[0], 0, 'the returned certificate is untouched');
  t.same(Buffer.from(cas.p256.certificate.der), before, 'the CA certificate is untouched');
});
