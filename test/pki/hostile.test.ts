/**
 * The hostile corpus (test/fixtures/hostile/, see its README): every request gets its
 * specific permanent error and nothing is signed; the two that ask for extensions a
 * leaf must not carry are issued without them; every hostile CA file pair is refused
 * with its own error kind.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pkijs from 'pkijs';
import t from 'tap';
import { catalogue, isCsrSignerError, type ErrorName } from '../../src/errors.js';
import { loadCertificateAuthority, signRequest, type CertificateAuthority, type IssuedCertificate, type SigningProfile, parseRequest } from '../../src/pki/index.js';
import { decide } from '../../src/signer/decide.js';
import { approved, csrBuilder, signerConfig, withRawRequest, withSigner, withUsages } from '../helpers/csr.js';
import { needTool, opensslVerify, tempDir } from '../helpers/tools.js';

const hostile = join(import.meta.dirname, '..', 'fixtures', 'hostile');
const caFixtures = join(import.meta.dirname, '..', 'fixtures', 'ca');
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
const leaf: SigningProfile = { usages: ['digital signature', 'key encipherment', 'server auth'], maxDurationMs: 3_600_000 };
/** What `expected.json` says of a request that is accepted: its requested extensions are dropped. */
const ISSUED = 'Issued';

async function testCa(): Promise<CertificateAuthority> {
  const read = (name: string): { name: string; bytes: Buffer } => ({ name, bytes: readFileSync(join(caFixtures, name)) });
  return await loadCertificateAuthority({ certificate: read('ca-ec.pem'), key: read('ca-ec-key.pem') }, new Date());
}

async function attempt(bytes: Uint8Array, ca: CertificateAuthority): Promise<{ issued?: IssuedCertificate; error?: unknown }> {
  try {
    return { issued: await signRequest(bytes, leaf, ca, { now: new Date(), random }) };
  } catch (error) {
    return { error };
  }
}

void t.test('every hostile request gets its specific, permanent error and nothing is signed', async (t) => {
  const expected = readJson<Record<string, string>>(join(hostile, 'expected.json'));
  const files = readdirSync(hostile).filter((f) => /\.(pem|der)$/.test(f));
  t.same(files.sort(), Object.keys(expected).sort(), 'expected.json covers every fixture');
  t.ok(files.length >= 60, `${files.length} hostile requests`);
  const ca = await testCa();
  for (const [file, kind] of Object.entries(expected)) {
    if (kind === ISSUED) continue;
    const { issued, error } = await attempt(readFileSync(join(hostile, file)), ca);
    t.equal(issued, undefined, `${file}: nothing is signed`);
    t.ok(isCsrSignerError(error), `${file}: a CsrSignerError, not ${String(error)}`);
    t.match(error, { kind, permanent: true }, `${file}: ${kind}`);
  }
});

void t.test('through the signer\'s decision, every hostile request is Failed with its kind\'s reason, for a built-in and a custom signer', async (t) => {
  const expected = readJson<Record<string, string>>(join(hostile, 'expected.json'));
  // kube-apiserver-client has no subject or SAN rules, so only the request itself decides;
  // the custom signer's policy (allowCA: false) refuses CA requests as PolicyViolation.
  const signers = [signerConfig('kubernetes.io/kube-apiserver-client'), signerConfig('example.com/serving')];
  for (const signer of signers) {
    for (const [file, kind] of Object.entries(expected)) {
      const csr = csrBuilder(withSigner(signer.name), withUsages('client auth'), approved(),
        withRawRequest(readFileSync(join(hostile, file)).toString('base64')));
      const decision = await decide(csr, signer, parseRequest);
      if (kind === ISSUED) {
        t.equal(decision.kind, 'issue', `${signer.name}, ${file}: issued`);
        continue;
      }
      const reason = kind === 'CertificateAuthorityRequested' && signer.policy !== undefined ? 'PolicyViolation' : catalogue[kind as ErrorName].reason;
      t.match(decision, { kind: 'fail', reason }, `${signer.name}, ${file}: Failed, ${reason}`);
    }
  }
});

/** Each extension of a certificate: OID → { critical, value (hex) }. */
function extensionsOf(der: Uint8Array): Map<string, { critical: boolean; hex: string }> {
  const cert = pkijs.Certificate.fromBER(Uint8Array.from(der));
  return new Map((cert.extensions ?? []).map((e) => [e.extnID, { critical: e.critical, hex: Buffer.from(e.extnValue.valueBlock.valueHexView).toString('hex') }]));
}

void t.test('requested name constraints and extra extensions are dropped, not copied, and the certificate holds only the signer\'s own', async (t) => {
  const ca = await testCa();
  const caSki = extensionsOf(ca.certificate.der).get('2.5.29.14')?.hex;
  const dir = needTool(t, 'openssl') ? tempDir() : undefined;
  for (const file of ['name-constraints.pem', 'extra-extensions.pem']) {
    const { issued, error } = await attempt(readFileSync(join(hostile, file)), ca);
    if (issued === undefined) {
      t.fail(`${file}: issued, not ${String(error)}`);
      continue;
    }
    const extensions = extensionsOf(issued.der);
    t.same([...extensions.keys()].sort(), ['2.5.29.14', '2.5.29.15', '2.5.29.17', '2.5.29.19', '2.5.29.35', '2.5.29.37'],
      `${file}: only SKI, keyUsage, SAN, basicConstraints, AKI and EKU`);
    t.equal(extensions.get('2.5.29.19')?.hex, '3000', `${file}: basicConstraints CA:FALSE`);
    // digitalSignature + keyEncipherment (bits 0 and 2): not the requested keyCertSign + cRLSign.
    t.equal(extensions.get('2.5.29.15')?.hex, '030205a0', `${file}: keyUsage from the profile`);
    // serverAuth only: not the requested anyExtendedKeyUsage.
    t.equal(extensions.get('2.5.29.37')?.hex, '300a06082b06010505070301', `${file}: extKeyUsage from the profile`);
    t.not(extensions.get('2.5.29.14')?.hex, `0414${'ab'.repeat(20)}`, `${file}: the subject key id is computed, not the requested one`);
    t.match(extensions.get('2.5.29.35')?.hex, new RegExp(`^30168014${(caSki ?? 'missing').slice(4)}$`), `${file}: the authority key id is the CA's`);
    const dnsName = Buffer.from(file.replace('.pem', '.example.com'), 'latin1');
    const san = Buffer.concat([Buffer.from([0x30, dnsName.length + 2, 0x82, dnsName.length]), dnsName]).toString('hex');
    t.equal(extensions.get('2.5.29.17')?.hex, san, `${file}: the one requested DNS name`);
    if (dir !== undefined) {
      const verified = opensslVerify(dir, readFileSync(join(caFixtures, 'ca-ec.pem'), 'utf8'), issued.pem);
      t.equal(verified.code, 0, `${file}: openssl verifies the certificate: ${verified.stdout}${verified.stderr}`);
    }
  }
});

interface CaCase { readonly certificate: string; readonly key: string; readonly passphrase?: string; readonly kind: string }

void t.test('every hostile CA file pair is refused with its own error kind, naming the file', async (t) => {
  const cases = readJson<Record<string, CaCase>>(join(hostile, 'ca', 'expected.json'));
  t.ok(Object.keys(cases).length >= 15, `${Object.keys(cases).length} CA cases`);
  const read = (name: string): { name: string; bytes: Buffer } => ({ name, bytes: readFileSync(join(hostile, 'ca', name)) });
  for (const [what, c] of Object.entries(cases)) {
    let error: unknown;
    try {
      await loadCertificateAuthority({ certificate: read(c.certificate), key: read(c.key), ...(c.passphrase === undefined ? {} : { passphrase: c.passphrase }) }, new Date());
    } catch (e) {
      error = e;
    }
    t.ok(isCsrSignerError(error), `${what}: a CsrSignerError, not ${String(error)}`);
    t.match(error, { kind: c.kind, permanent: false }, `${what}: ${c.kind}`);
    const named = c.kind.startsWith('CaKey') || c.kind === 'CaUnsupportedKey' ? c.key : c.certificate;
    t.match((error as Error | undefined)?.message, named, `${what}: the message names ${named}`);
  }
  const good = await loadCertificateAuthority({ certificate: read('ca.pem'), key: read('ca-key.pem') }, new Date());
  t.ok(good, 'control: the good CA and key of that directory load');
  const decrypted = await loadCertificateAuthority({ certificate: read('ca.pem'), key: read('ca-key-traditional-encrypted.pem'), passphrase: 'correct horse' }, new Date());
  t.ok(decrypted, 'control: the traditional encrypted key loads with the right passphrase');
});
