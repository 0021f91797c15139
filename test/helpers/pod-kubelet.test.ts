/**
 * The scripted pod kubelet's own crypto, checked with openssl (an independent
 * implementation) so that the end-to-end tests stand on requests a real kubelet would
 * send: the legacy proof of possession per key type verifies over the pod UID and not over
 * another; the stub request has an empty subject, no attributes and a good self-signature;
 * the credential bundle is the PKCS#8 key, then the chain's certificates without headers.
 */
import t from 'tap';
import { createPublicKey } from 'node:crypto';
import { credentialBundle, podKey, proofOfPossession, stubRequest, type PodKeyType } from './pod-kubelet.js';
import { needTool, run, tempDir, writeTemp } from './tools.js';
import { makeOpensslCa } from './ca.js';

if (!needTool(t, 'openssl')) process.exit(0);

const dir = tempDir('pod-kubelet-');
const UID = '0b1d6e4c-5b7a-4f3e-9d2c-1a2b3c4d5e6f';
const keyTypes: PodKeyType[] = ['ECDSAP256', 'ECDSAP384', 'ECDSAP521', 'ED25519', 'RSA3072'];

/** openssl's verdict on `signature` over `message` by `pub`, as the apiserver verifies a proof of possession (§ the key type). */
function opensslVerifiesProof(keyType: PodKeyType, pub: string, message: string, signature: Buffer): boolean {
  const pubFile = writeTemp(dir, `${keyType}-pub.pem`, pub);
  const msg = writeTemp(dir, `${keyType}-msg`, message);
  const sig = writeTemp(dir, `${keyType}-sig`, signature);
  const args = keyType === 'ED25519'
    ? ['pkeyutl', '-verify', '-pubin', '-inkey', pubFile, '-rawin', '-in', msg, '-sigfile', sig]
    : ['dgst', '-sha256', '-verify', pubFile, '-signature', sig,
      ...(keyType.startsWith('RSA') ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:auto'] : []), msg];
  return run('openssl', args).code === 0;
}

void t.test('the legacy proof of possession verifies over the pod UID, per key type, and not over another UID', (t) => {
  for (const keyType of keyTypes) {
    const key = podKey(keyType);
    const pub = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
    const proof = proofOfPossession(key, UID);
    t.ok(opensslVerifiesProof(keyType, pub, UID, proof), `${keyType}: verifies`);
    t.notOk(opensslVerifiesProof(keyType, pub, `${UID}x`, proof), `${keyType}: not over another UID`);
  }
  const rsa = podKey('RSA3072');
  const pub = createPublicKey(rsa).export({ type: 'spki', format: 'pem' }).toString();
  const pkcs1 = run('openssl', ['dgst', '-sha256', '-verify', writeTemp(dir, 'rsa-pub.pem', pub), '-signature', writeTemp(dir, 'rsa-sig', proofOfPossession(rsa, UID)), writeTemp(dir, 'rsa-msg', UID)]);
  t.not(pkcs1.code, 0, 'RSA: PSS, not PKCS#1 v1.5');
  t.end();
});

void t.test('the stub request: DER, an empty subject, no attributes, self-signed with the key', (t) => {
  for (const keyType of keyTypes) {
    const key = podKey(keyType);
    const der = stubRequest(key);
    const file = writeTemp(dir, `${keyType}.der`, der);
    const r = run('openssl', ['req', '-inform', 'DER', '-in', file, '-verify', '-noout', '-text']);
    t.equal(r.code, 0, `${keyType}: openssl reads it and checks the signature: ${r.stderr}`);
    t.match(r.stdout + r.stderr, /self-signature verify OK/, `${keyType}: self-signature OK`);
    t.match(r.stdout, /Subject:\s*\n/, `${keyType}: empty subject`);
    t.match(r.stdout, /Attributes:\s*\n\s*\(none\)|Attributes:\s*\n\s*a0:00/, `${keyType}: no attributes`);
    const pub = run('openssl', ['req', '-inform', 'DER', '-in', file, '-noout', '-pubkey']).stdout;
    t.equal(pub, createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString(), `${keyType}: for the kubelet's key`);
    const flipped = Buffer.from(der);
    flipped[flipped.length - 2] = (flipped[flipped.length - 2] ?? 0) ^ 1;
    // openssl 3.0's req -verify exits 0 either way: its verdict is in the text.
    const bad = run('openssl', ['req', '-inform', 'DER', '-in', writeTemp(dir, `${keyType}-bad.der`, flipped), '-verify', '-noout']);
    t.notMatch(bad.stdout + bad.stderr, /verify OK/, `${keyType}: a flipped signature byte fails`);
  }
  t.end();
});

void t.test('the credential bundle: the PKCS#8 key block, then each certificate re-encoded, nothing between', (t) => {
  const leaf = makeOpensslCa(dir, 'leaf', 'p256');
  const inter = makeOpensslCa(dir, 'inter', 'p256');
  const key = podKey('ECDSAP256').export({ type: 'pkcs8', format: 'pem' }).toString();
  const chain = `text before\n${leaf.certPem.replace(/\n(?=[^-]*-----END)/, '\n').replace('-----BEGIN CERTIFICATE-----\n', '-----BEGIN CERTIFICATE-----\nHeader: value\n\n')}between\n${inter.certPem}after\n`;
  const bundle = credentialBundle(key, chain);
  const norm = (pem: string): string => pem.replace(/-----[^-]+-----|\s/g, '');
  const blocks = bundle.match(/-----BEGIN ([A-Z ]+)-----\n([A-Za-z0-9+/=\n]+)-----END \1-----\n/g) ?? [];
  t.equal(blocks.join(''), bundle, 'only PEM blocks, no text between them');
  t.same(blocks.map((b) => /BEGIN ([A-Z ]+)/.exec(b)?.[1]), ['PRIVATE KEY', 'CERTIFICATE', 'CERTIFICATE'], 'key first, then the chain in order');
  t.equal(norm(blocks[0] ?? ''), norm(key), 'the key as it was');
  t.equal(norm(blocks[1] ?? ''), norm(leaf.certPem), 'the leaf, without its header');
  t.equal(norm(blocks[2] ?? ''), norm(inter.certPem), 'the intermediate');
  t.ok(blocks.every((b) => b.split('\n').every((l) => l.length <= 64)), '64-column lines, as Go\'s pem.Encode');
  t.end();
});
