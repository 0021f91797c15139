/**
 * Issuing through the PKI core emits no DeprecationWarning on this Node. Node 24 (the
 * image's runtime) deprecates handing a WebCrypto CryptoKey to node:crypto (DEP0203);
 * the CA key is held as a KeyObject for that reason (src/pki/key-provider.ts). Every
 * signing path is run: one call at a time (verify and sign on the calling thread),
 * several in flight (both on libuv's threadpool), and issueForKey (pod certificates),
 * for each key type a CA may have. The signer process is checked the same way, with
 * --throw-deprecation, in test/e2e/deprecations.test.ts.
 */
import { setImmediate } from 'node:timers/promises';
import t from 'tap';
import { issueForKey, readPodCertificateKey, signRequest, type SigningProfile } from '../../src/pki/index.js';
import { noSubjectAltNames } from '../../src/pki/san.js';
import { loadTestCa, makeOpensslCa, type CaKeyType } from '../helpers/ca.js';
import { buildRequest, toPem, type TestKeyType } from '../helpers/requests.js';
import { needTool, tempDir } from '../helpers/tools.js';

if (!needTool(t, 'openssl')) process.exit(0);

/** Every DeprecationWarning this process emits from here on (Node emits each code once per process). */
const deprecations: Error[] = [];
process.on('warning', (w) => {
  if (w.name === 'DeprecationWarning') deprecations.push(w);
});
const described = (): string => deprecations.map((w) => `${(w as NodeJS.ErrnoException).code ?? ''} ${w.stack ?? w.message}`).join('\n');

const dir = tempDir();
const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
const profile: SigningProfile = { usages: ['digital signature', 'key encipherment', 'server auth'], maxDurationMs: 3_600_000 };
const types: [CaKeyType, TestKeyType][] = [['p256', 'p256'], ['p384', 'p384'], ['rsa2048', 'rsa2048'], ['ed25519', 'ed25519']];

for (const [caType, keyType] of types) {
  void t.test(`${caType} CA: signRequest one at a time and 8 in flight, and issueForKey, emit no DeprecationWarning`, async (t) => {
    const ca = await loadTestCa(makeOpensslCa(dir, `ca-${caType}`, caType));
    const pem = toPem('CERTIFICATE REQUEST', buildRequest({ key: keyType, commonName: 'web.example.com', dns: ['web.example.com'] }));
    const sign = (): ReturnType<typeof signRequest> => signRequest(pem, profile, ca, { now: new Date(), random });
    const one = await sign();
    const many = await Promise.all(Array.from({ length: 8 }, sign));
    const { publicKey } = await readPodCertificateKey({ podUID: 'uid', stubPKCS10Request: buildRequest({ key: keyType }) });
    const notBefore = new Date(Math.ceil(ca.certificate.notBefore.getTime() / 1000) * 1000 + 60_000);
    const forKey = await issueForKey({
      publicKey, subject: {}, subjectAltNames: { ...noSubjectAltNames, uris: ['spiffe://cluster.local/ns/shop/sa/web'] },
      profile, ca, validity: { notBefore, notAfter: new Date(notBefore.getTime() + 3_600_000) }, random,
    });
    t.equal(new Set([one, ...many, forKey].map((c) => c.pem)).size, 10, 'ten certificates issued');
    await setImmediate(); // a warning is emitted on the next tick
    t.same(deprecations.map((w) => (w as NodeJS.ErrnoException).code ?? w.message), [], `no DeprecationWarning${deprecations.length > 0 ? `:\n${described()}` : ''}`);
  });
}
