/**
 * The subject key of a PodCertificateRequest, in each form and for each key type, with
 * the proof of possession kube-apiserver's ValidatePodCertificateRequestCreate checks:
 * Ed25519 over the podUID bytes, ECDSA over their SHA-256 (ASN.1 DER), RSA-PSS with
 * SHA-256 and any salt length. Proofs are made by node:crypto and by the openssl binary
 * (for signatures node cannot make: ECDSA of the unhashed bytes); stub requests by pkijs.
 */
import { constants, createHash, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { CsrSignerError } from '../../src/errors.js';
import { readPodCertificateKey, type PodCertificateKeyFields } from '../../src/pki/index.js';
import { buildRequest, testKey, toPem, type TestKeyType } from '../helpers/requests.js';
import { needTool, run, tempDir, writeTemp } from '../helpers/tools.js';

if (!needTool(t, 'openssl')) process.exit(0);

const podUID = '4f1c0b9e-2d7a-4c55-9a43-6b1e0f3d2a77';
const message = Buffer.from(podUID, 'ascii');
const spki = (key: KeyObject): Uint8Array => new Uint8Array(key.export({ type: 'spki', format: 'der' }));

/** The proof a kubelet writes: what kube-apiserver verifies. */
function goodProof(type: TestKeyType, saltLength: number = constants.RSA_PSS_SALTLEN_MAX_SIGN): Uint8Array {
  const { privateKey } = testKey(type);
  if (type === 'ed25519') return sign(null, message, privateKey);
  if (type.startsWith('rsa')) return sign('sha256', message, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
  return sign('sha256', message, { key: privateKey, dsaEncoding: 'der' });
}

const legacy = (type: TestKeyType, proof: Uint8Array, uid = podUID): PodCertificateKeyFields =>
  ({ podUID: uid, pkixPublicKey: spki(testKey(type).publicKey), proofOfPossession: proof });

/** Rejects with the catalogue error `kind`; returns it for more checks. */
async function refusal(t: Test, fields: PodCertificateKeyFields, kind: string): Promise<CsrSignerError | undefined> {
  try {
    await readPodCertificateKey(fields);
    t.fail(`expected ${kind}, got a key`);
    return undefined;
  } catch (e) {
    t.ok(e instanceof CsrSignerError, `a CsrSignerError: ${String(e)}`);
    if (!(e instanceof CsrSignerError)) return undefined;
    t.equal(e.kind, kind, e.message);
    t.ok(e.permanent, 'permanent');
    t.match(e.reason, /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/, 'the reason is a valid condition reason');
    t.notMatch(e.message, /\n/, 'one line');
    return e;
  }
}

const keyTypes: [TestKeyType, string][] = [
  ['rsa3072', 'RSA3072'], ['rsa4096', 'RSA4096'], ['p256', 'ECDSAP256'], ['p384', 'ECDSAP384'], ['p521', 'ECDSAP521'], ['ed25519', 'ED25519'],
];

void t.test('the legacy form: every key type the API accepts, with the proof the apiserver verifies', async (t) => {
  for (const [type, keyType] of keyTypes) {
    const key = await readPodCertificateKey(legacy(type, goodProof(type)));
    t.equal(key.form, 'proof-of-possession', type);
    t.equal(key.keyType, keyType, type);
    t.equal(key.stub, undefined, `${type}: no stub`);
    t.same(Buffer.from(key.publicKey.spki), Buffer.from(spki(testKey(type).publicKey)), `${type}: the key is the pkixPublicKey`);
  }
});

void t.test('RSA-PSS proofs verify with any salt length (rsa.VerifyPSS with nil options)', async (t) => {
  for (const salt of [0, 32, constants.RSA_PSS_SALTLEN_MAX_SIGN]) {
    const key = await readPodCertificateKey(legacy('rsa3072', goodProof('rsa3072', salt)));
    t.equal(key.keyType, 'RSA3072', `salt ${salt}`);
  }
});

void t.test('proofs made the wrong way are refused as ProofOfPossessionInvalid, naming the key', async (t) => {
  const dir = tempDir();
  const ecRaw = (type: TestKeyType): Uint8Array => {
    // openssl pkeyutl signs its input as the digest: ECDSA over the podUID bytes, unhashed.
    const keyFile = writeTemp(dir, `${type}.pem`, testKey(type).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const input = writeTemp(dir, 'uid.bin', message);
    const out = join(dir, `${type}.sig`);
    const r = run('openssl', ['pkeyutl', '-sign', '-inkey', keyFile, '-in', input, '-out', out]);
    if (r.code !== 0) throw new Error(r.stderr);
    return new Uint8Array(readFileSync(out));
  };
  const cases: [string, PodCertificateKeyFields, string][] = [
    ['RSA 3072 with PKCS#1 v1.5 (the KEP\'s old text)', legacy('rsa3072', sign('sha256', message, testKey('rsa3072').privateKey)), 'RSA 3072-bit'],
    ['RSA 4096 PSS with SHA-384', legacy('rsa4096', sign('sha384', message, { key: testKey('rsa4096').privateKey, padding: constants.RSA_PKCS1_PSS_PADDING })), 'RSA 4096-bit'],
    ['Ed25519 over the SHA-256 of podUID', legacy('ed25519', sign(null, createHash('sha256').update(message).digest(), testKey('ed25519').privateKey)), 'Ed25519'],
    ['ECDSA P-256 in IEEE P1363 form (r||s), not ASN.1', legacy('p256', sign('sha256', message, { key: testKey('p256').privateKey, dsaEncoding: 'ieee-p1363' })), 'ECDSA P-256'],
    ['a proof for another pod', legacy('p384', goodProof('p384'), 'another-pod-uid'), 'ECDSA P-384'],
    ['a proof by another key', { ...legacy('p256', goodProof('p256')), pkixPublicKey: spki(testKey('p384').publicKey) }, 'ECDSA P-384'],
    ['garbage bytes', legacy('ed25519', new Uint8Array(64).fill(1)), 'Ed25519'],
  ];
  for (const type of ['p256', 'p384', 'p521'] as const) cases.push([`ECDSA ${type} over the podUID bytes unhashed`, legacy(type, ecRaw(type)), `ECDSA P-${type.slice(1)}`]);
  for (const [name, fields, key] of cases) {
    await t.test(name, async (t) => {
      const error = await refusal(t, fields, 'ProofOfPossessionInvalid');
      t.match(error?.message, `with the ${key} key of spec.pkixPublicKey`);
      t.equal(error?.reason, 'InvalidProofOfPossession');
    });
  }
});

void t.test('a flipped bit in a good proof is refused, for every key type', async (t) => {
  for (const [type] of keyTypes) {
    const proof = Uint8Array.from(goodProof(type));
    proof[proof.length - 5] = (proof[proof.length - 5] as number) ^ 0x01;
    await refusal(t, legacy(type, proof), 'ProofOfPossessionInvalid');
  }
});

void t.test('an RSA 2048 key reads with no keyType (the decision denies it); keys of no API type are refused', async (t) => {
  const key = await readPodCertificateKey(legacy('rsa2048', goodProof('rsa2048')));
  t.equal(key.keyType, undefined);
  t.equal(key.publicKey.kind.type, 'rsa');
  const small = await refusal(t, legacy('rsa1024', goodProof('rsa1024')), 'PodCertificateKeyUnsupported');
  t.match(small?.message, /^RSA 1024-bit keys cannot have pod certificates; use a keyType of RSA3072, RSA4096, ECDSAP256/);
  t.equal(small?.reason, 'UnsupportedKeyType');
});

void t.test('a pkixPublicKey that is not a SubjectPublicKeyInfo is InvalidPublicKey', async (t) => {
  const e = await refusal(t, { podUID, pkixPublicKey: Uint8Array.of(1, 2, 3), proofOfPossession: Uint8Array.of(1) }, 'InvalidPublicKey');
  t.match(e?.message, 'spec.pkixPublicKey is not a DER SubjectPublicKeyInfo');
  const trailing = Uint8Array.from([...spki(testKey('p256').publicKey), 0]);
  const t2 = await refusal(t, { podUID, pkixPublicKey: trailing, proofOfPossession: goodProof('p256') }, 'InvalidPublicKey');
  t.match(t2?.message, '1 trailing bytes');
});

void t.test('the stub form: a PKCS#10 request of each key type, its self-signature the proof', async (t) => {
  for (const [type, keyType] of keyTypes) {
    const der = buildRequest({ key: type, pss: type.startsWith('rsa') });
    const key = await readPodCertificateKey({ podUID, stubPKCS10Request: der });
    t.equal(key.form, 'stub', type);
    t.equal(key.keyType, keyType, type);
    t.same(Buffer.from(key.publicKey.spki), Buffer.from(spki(testKey(type).publicKey)), `${type}: the request's key`);
    t.same(key.stub?.subject.attributes, [], `${type}: the stub is empty, as the kubelet makes it`);
  }
  const withContent = await readPodCertificateKey({ podUID, stubPKCS10Request: buildRequest({ key: 'p256', commonName: 'admin', dns: ['evil.example'] }) });
  t.equal(withContent.stub?.subject.commonName, 'admin', 'a non-empty stub is read; the decision decides what to do with it');
  t.same(withContent.stub?.subjectAltNames.dnsNames, ['evil.example']);
  const rsa2048 = await readPodCertificateKey({ podUID, stubPKCS10Request: buildRequest({ key: 'rsa2048' }) });
  t.equal(rsa2048.keyType, undefined, 'RSA 2048 in a stub: no keyType');
});

void t.test('a stub with a bad signature, in PEM, or malformed is refused', async (t) => {
  const der = buildRequest({ key: 'ed25519' });
  const flipped = Uint8Array.from(der);
  flipped[flipped.length - 3] = (flipped[flipped.length - 3] as number) ^ 0x01;
  await refusal(t, { podUID, stubPKCS10Request: flipped }, 'InvalidSignature');
  const pem = await refusal(t, { podUID, stubPKCS10Request: Buffer.from(toPem('CERTIFICATE REQUEST', der)) }, 'PodCertificateStubNotDer');
  t.match(pem?.message, 'holds PEM text');
  await refusal(t, { podUID, stubPKCS10Request: Buffer.from(`\n  ${toPem('CERTIFICATE REQUEST', der)}`) }, 'PodCertificateStubNotDer');
  await refusal(t, { podUID, stubPKCS10Request: der.subarray(0, der.length - 1) }, 'MalformedRequest');
  const small = await refusal(t, { podUID, stubPKCS10Request: buildRequest({ key: 'rsa1024' }) }, 'PodCertificateKeyUnsupported');
  t.match(small?.message, /^RSA 1024-bit keys cannot have pod certificates/);
});

void t.test('exactly one form: both, neither, or half of the legacy pair is refused naming what was found', async (t) => {
  const stub = buildRequest({ key: 'p256' });
  const pair = legacy('p256', goodProof('p256'));
  const cases: [string, PodCertificateKeyFields, string][] = [
    ['both forms', { ...pair, stubPKCS10Request: stub }, 'found only stubPKCS10Request and pkixPublicKey and proofOfPossession'],
    ['the stub and a proof', { podUID, stubPKCS10Request: stub, proofOfPossession: goodProof('p256') }, 'found only stubPKCS10Request and proofOfPossession'],
    ['neither', { podUID }, 'found none of them'],
    ['all empty (an empty field is unset)', { podUID, stubPKCS10Request: new Uint8Array(0), pkixPublicKey: new Uint8Array(0), proofOfPossession: new Uint8Array(0) }, 'found none of them'],
    ['a key without its proof', { podUID, pkixPublicKey: pair.pkixPublicKey as Uint8Array }, 'found only pkixPublicKey'],
    ['a key with an empty proof', { podUID, pkixPublicKey: pair.pkixPublicKey as Uint8Array, proofOfPossession: new Uint8Array(0) }, 'found only pkixPublicKey'],
    ['a proof without its key', { podUID, proofOfPossession: goodProof('p256') }, 'found only proofOfPossession'],
  ];
  for (const [name, fields, found] of cases) {
    const e = await refusal(t, fields, 'PodCertificateKeyForm');
    t.equal(e?.message, `exactly one of stubPKCS10Request or pkixPublicKey with proofOfPossession must be set; ${found}`, name);
  }
  t.ok((await readPodCertificateKey({ ...pair, stubPKCS10Request: new Uint8Array(0) })).publicKey, 'an empty stub beside the pair is unset');
});

void t.test('fields over 10240 bytes are refused before anything is parsed', async (t) => {
  const big = new Uint8Array(10241).fill(0x30);
  const at = new Uint8Array(10240).fill(0x30);
  for (const [field, fields] of [
    ['pkixPublicKey', { podUID, pkixPublicKey: big, proofOfPossession: goodProof('p256') }],
    ['proofOfPossession', { ...legacy('p256', big) }],
    ['stubPKCS10Request', { podUID, stubPKCS10Request: big }],
  ] as const) {
    const e = await refusal(t, fields, 'PodCertificateFieldTooLarge');
    t.equal(e?.message, `spec.${field} is 10241 bytes, more than the limit of 10240 bytes`);
  }
  // At the limit the size is fine and the contents are what is wrong.
  await refusal(t, { podUID, stubPKCS10Request: at }, 'MalformedRequest');
  await refusal(t, legacy('p256', at), 'ProofOfPossessionInvalid');
});

void t.test('the request limits apply to the stub too', async (t) => {
  const der = buildRequest({ key: 'p256', dns: ['a.example', 'b.example'] });
  const e = await readPodCertificateKey({ podUID, stubPKCS10Request: der }, { maxBytes: 64 * 1024, maxSubjectAltNames: 1 }).catch((error: unknown) => error);
  t.equal(e instanceof CsrSignerError ? e.kind : e, 'TooManySubjectAltNames');
});
