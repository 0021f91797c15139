/**
 * CA keys on a real SoftHSM2 token, one token per key type: the PKI core issues through the
 * PKCS#11 provider, and openssl and Go's crypto/x509 (the oracle) verify every certificate
 * against the CA certificate certtool made through the same token. The key never leaves the
 * token: the test asks the token for the secret (CKA_VALUE; an RSA key's private exponent and
 * primes) through pkcs11js itself and must be refused.
 */
import { createRequire } from 'node:module';
import { verify as verifySignature, constants, createHash, X509Certificate } from 'node:crypto';
import t from 'tap';
import { openPkcs11Key, parsePkcs11Uri } from '../../src/hsm/index.js';
import { certificateAuthorityFrom, readCertificateBundle, signRequest, type SigningProfile } from '../../src/pki/index.js';
import { goParse } from '../helpers/go-oracle.js';
import { buildRequest } from '../helpers/requests.js';
import { generateTokenKey, makeSoftToken, makeTokenCa, softhsmTools, type SoftToken, type TokenKeyType } from '../helpers/softhsm.js';
import { needTool, opensslVerify, tempDir } from '../helpers/tools.js';

for (const tool of [...softhsmTools, 'openssl', 'go']) if (!needTool(t, tool)) process.exit(0);

const dir = tempDir('softhsm-sign-');
const types: TokenKeyType[] = ['p256', 'p384', 'p521', 'rsa2048', 'ed25519'];
// Every token before the module is initialised: SoftHSM2 reads its token directory at C_Initialize.
const tokens = new Map<TokenKeyType, SoftToken>(types.map((type) => [type, makeSoftToken({ dir, label: `ca-${type}` })]));
process.env.SOFTHSM2_CONF = (tokens.get('p256') as SoftToken).env.SOFTHSM2_CONF;
const cas = types.map((type) => {
  const token = tokens.get(type) as SoftToken;
  return { type, token, ca: makeTokenCa(token, generateTokenKey(token, type, `key-${type}`, '01'), type) };
});

const profile: SigningProfile = { usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'], maxDurationMs: 86_400_000 };
const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));

interface P11 {
  load(path: string): void;
  C_Initialize(): void;
  C_Finalize(): void;
  close(): void;
  C_GetSlotList(present: boolean): Buffer[];
  C_GetTokenInfo(slot: Buffer): { label: string };
  C_OpenSession(slot: Buffer, flags: number): Buffer;
  C_Login(session: Buffer, user: number, pin: string): void;
  C_FindObjectsInit(session: Buffer, template: { type: number; value?: unknown }[]): void;
  C_FindObjects(session: Buffer, max: number): Buffer[];
  C_FindObjectsFinal(session: Buffer): void;
  C_GetAttributeValue(session: Buffer, object: Buffer, template: { type: number }[]): { type: number; value: Buffer }[];
}

void t.test('each key type signs certificates that openssl and Go verify', async (t) => {
  const goItems: { id: string; cert: Uint8Array; issuer: Uint8Array; at: Date }[] = [];
  for (const { type, token, ca } of cas) {
    const key = await openPkcs11Key({ uri: parsePkcs11Uri(ca.key.uri), module: token.module, pin: token.pin, sessions: 2 });
    t.teardown(() => key.provider.close());
    const expectedKind = type === 'rsa2048' ? { type: 'rsa', bits: 2048 } : type === 'ed25519' ? { type: 'ed25519' }
      : { type: 'ec', curve: { p256: 'P-256', p384: 'P-384', p521: 'P-521' }[type] };
    t.same(key.keyKind, expectedKind, `${type}: the kind read from the token`);
    const certificates = { name: ca.certPath, bytes: Buffer.from(ca.certPem) };
    const bundle = readCertificateBundle(certificates);
    const caPublicKey = new X509Certificate(ca.certPem).publicKey;
    t.ok(key.publicKey?.equals(caPublicKey), `${type}: the public key the token shows is the certificate's`);
    const authority = certificateAuthorityFrom(certificates, bundle, caPublicKey, key.provider, key.keyKind, ca.key.uri, new Date());
    for (const leafKey of ['p256', 'rsa2048'] as const) {
      const issued = await signRequest(buildRequest({ key: leafKey, commonName: `${type}-${leafKey}`, dns: [`${type}.example`] }), profile, authority,
        { now: new Date(), random, expirationSeconds: 3600 });
      const checked = opensslVerify(dir, ca.certPem, issued.pem);
      t.equal(checked.code, 0, `${type} CA, ${leafKey} leaf: openssl verify ${checked.stderr}`);
      goItems.push({ id: `${type}/${leafKey}`, cert: issued.der, issuer: authority.certificate.der, at: new Date() });
    }
  }
  const parsed = await goParse(goItems, { timeoutMs: 120_000 });
  t.equal(parsed.length, goItems.length);
  for (const p of parsed) {
    t.ok(p.ok, `${p.id}: Go parses it`);
    if (!p.ok) continue;
    t.equal(p.signature, 'ok', `${p.id}: Go's CheckSignatureFrom`);
    t.equal(p.verify, 'ok', `${p.id}: Go's Verify`);
  }
});

void t.test('RSASSA-PSS on the token verifies with node:crypto', async (t) => {
  const { token, ca } = cas.find((c) => c.type === 'rsa2048') as (typeof cas)[number];
  const key = await openPkcs11Key({ uri: parsePkcs11Uri(ca.key.uri), module: token.module, pin: token.pin, sessions: 1 });
  t.teardown(() => key.provider.close());
  const message = Buffer.from('a message signed with RSASSA-PSS');
  for (const hash of ['sha256', 'sha384', 'sha512'] as const) {
    const signature = await key.provider.signPss(message, hash);
    const publicKey = key.publicKey;
    if (publicKey === undefined) throw new Error('no RSA public key');
    t.ok(verifySignature(hash, message, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: createHash(hash).digest().length }, signature), `PSS ${hash}`);
    t.notOk(verifySignature(hash, Buffer.from('another message'), { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature), `PSS ${hash} of another message`);
  }
  const ec = cas[0] as (typeof cas)[number];
  await t.rejects(openPkcs11Key({ uri: parsePkcs11Uri(ec.ca.key.uri), module: ec.token.module, pin: ec.token.pin })
    .then(async (k) => {
      try {
        return await k.provider.signPss(message, 'sha256');
      } finally {
        await k.provider.close();
      }
    }), /RSASSA-PSS needs an RSA key/);
});

void t.test('the private keys cannot be read out of the token', (t) => {
  const pkcs11js = createRequire(import.meta.url)('pkcs11js') as { PKCS11: new () => P11 };
  const p11 = new pkcs11js.PKCS11();
  const module = (tokens.get('p256') as SoftToken).module;
  p11.load(module);
  // The providers above are closed, so the module is finalised and this copy initialises it afresh.
  try {
    p11.C_Initialize();
  } catch (error) {
    if (!/CKR_CRYPTOKI_ALREADY_INITIALIZED/.test(String(error))) throw error;
  }
  t.teardown(() => {
    try {
      p11.C_Finalize();
    } catch {
      // The provider's instance may have finalised it.
    }
    p11.close();
  });
  for (const { type, token } of cas) {
    const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === token.label);
    if (slot === undefined) throw new Error(`no slot for ${token.label}`);
    const session = p11.C_OpenSession(slot, 4);
    try {
      p11.C_Login(session, 1, token.pin);
    } catch (error) {
      if (!/CKR_USER_ALREADY_LOGGED_IN/.test(String(error))) throw error;
    }
    p11.C_FindObjectsInit(session, [{ type: 0x0, value: 3 }]);
    const keys = p11.C_FindObjects(session, 10);
    p11.C_FindObjectsFinal(session);
    t.equal(keys.length, 1, `${type}: one private key on the token`);
    const key = keys[0] as Buffer;
    // The secret: CKA_VALUE for EC and Edwards keys, CKA_PRIVATE_EXPONENT and the primes for RSA.
    const secrets = type === 'rsa2048' ? [['CKA_PRIVATE_EXPONENT', 0x123], ['CKA_PRIME_1', 0x124], ['CKA_PRIME_2', 0x125]] as const : [['CKA_VALUE', 0x11]] as const;
    for (const [name, attribute] of secrets) {
      t.throws(() => p11.C_GetAttributeValue(session, key, [{ type: attribute }]), /CKR_ATTRIBUTE_SENSITIVE/, `${type}: ${name} is refused`);
    }
    const [extractable, sensitive] = [0x162, 0x103].map((a) => p11.C_GetAttributeValue(session, key, [{ type: a }])[0]?.value);
    t.same(extractable, Buffer.of(0), `${type}: CKA_EXTRACTABLE is false`);
    t.same(sensitive, Buffer.of(1), `${type}: CKA_SENSITIVE is true`);
  }
  t.end();
});
