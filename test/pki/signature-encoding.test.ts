/**
 * Signature encodings for keys on a device: ECDSA r‖s → DER (RFC 5480 section 2.2.3, as Go's
 * crypto/ecdsa encodeSignature writes it: INTEGERs minimal, a 0x00 before a high bit) and
 * RSASSA-PKCS1-v1_5's DigestInfo (RFC 8017 section 9.2, note 1), checked against node:crypto.
 */
import { createHash, generateKeyPairSync, privateEncrypt, publicDecrypt, sign, verify } from 'node:crypto';
import t from 'tap';
import { digestInfo, ecdsaRawToDer } from '../../src/pki/index.js';

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

void t.test('ECDSA r‖s to DER: minimal INTEGERs', (t) => {
  const r = `01${'11'.repeat(31)}`;
  const s = `7f${'22'.repeat(31)}`;
  t.equal(toHex(ecdsaRawToDer(hex(r + s))), `3044 0220${r} 0220${s}`.replace(/\s/g, ''), 'no high bit, no leading zero: as is');
  const high = `80${'33'.repeat(31)}`;
  t.equal(toHex(ecdsaRawToDer(hex(high + s))), `3045 022100${high} 0220${s}`.replace(/\s/g, ''), 'high bit: a 0x00 before it');
  const zeros = `0000${'44'.repeat(30)}`;
  t.equal(toHex(ecdsaRawToDer(hex(zeros + s))), `3042 021e${'44'.repeat(30)} 0220${s}`.replace(/\s/g, ''), 'leading zero bytes dropped');
  const zeroThenHigh = `00${'ff'.repeat(31)}`;
  t.equal(toHex(ecdsaRawToDer(hex(r + zeroThenHigh))), `3044 0220${r} 022000${'ff'.repeat(31)}`.replace(/\s/g, ''), 'a zero byte before a high bit stays one zero byte');
  t.equal(toHex(ecdsaRawToDer(hex(`${'00'.repeat(32)}${s}`))), `3025 020100 0220${s}`.replace(/\s/g, ''), 'zero is INTEGER 0');
  // P-521: 66-byte halves, a DER length in long form.
  const p521 = ecdsaRawToDer(hex(`01${'ab'.repeat(65)}01${'cd'.repeat(65)}`));
  t.equal(toHex(p521.subarray(0, 3)), '308188', 'P-521: SEQUENCE with a long-form length (0x88 = 2 × (2 + 66))');
  t.throws(() => ecdsaRawToDer(hex('010203')), /two halves of equal size, not 3 bytes/);
  t.throws(() => ecdsaRawToDer(new Uint8Array(0)), /not 0 bytes/);
  t.end();
});

void t.test('ECDSA r‖s to DER: node:crypto verifies what node:crypto signed as r‖s', (t) => {
  for (const namedCurve of ['prime256v1', 'secp384r1', 'secp521r1']) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
    const hash = { prime256v1: 'sha256', secp384r1: 'sha384', secp521r1: 'sha512' }[namedCurve] as string;
    for (let i = 0; i < 20; i++) {
      const message = Buffer.from(`message ${i}`);
      const raw = sign(hash, message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const der = ecdsaRawToDer(raw);
      t.ok(verify(hash, message, publicKey, der), `${namedCurve} #${i}`);
      t.same(Buffer.from(der), derOf(raw), `${namedCurve} #${i}: the same bytes as an independent encoding`);
    }
  }
  t.end();
});

/** r‖s as DER, written independently of src/ (a second implementation to compare with). */
function derOf(raw: Uint8Array): Buffer {
  const half = raw.length / 2;
  const int = (b: Uint8Array): Buffer => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const v = Buffer.from(b.subarray(i));
    const body = (v[0] as number) & 0x80 ? Buffer.concat([Buffer.of(0), v]) : v;
    return Buffer.concat([Buffer.of(0x02, body.length), body]);
  };
  const body = Buffer.concat([int(raw.subarray(0, half)), int(raw.subarray(half))]);
  return Buffer.concat([body.length < 128 ? Buffer.of(0x30, body.length) : Buffer.of(0x30, 0x81, body.length), body]);
}

void t.test('DigestInfo: the bytes RFC 8017 lists, and what RSA PKCS#1 v1.5 signs', (t) => {
  const digest = createHash('sha256').update('abc').digest();
  t.equal(toHex(digestInfo('sha256', digest)), `3031300d060960864801650304020105000420${digest.toString('hex')}`, 'SHA-256 prefix');
  const d384 = createHash('sha384').update('abc').digest();
  t.equal(toHex(digestInfo('sha384', d384)), `3041300d060960864801650304020205000430${d384.toString('hex')}`, 'SHA-384 prefix');
  const d512 = createHash('sha512').update('abc').digest();
  t.equal(toHex(digestInfo('sha512', d512)), `3051300d060960864801650304020305000440${d512.toString('hex')}`, 'SHA-512 prefix');
  t.throws(() => digestInfo('sha256', d384), /a sha256 digest is 32 bytes, not 48/);

  // A token's CKM_RSA_PKCS pads with PKCS#1 type 1 and applies the private key, as
  // node:crypto's privateEncrypt does: over DigestInfo that is RSASSA-PKCS1-v1_5.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  for (const hash of ['sha256', 'sha384', 'sha512'] as const) {
    const message = Buffer.from(`message for ${hash}`);
    const info = digestInfo(hash, createHash(hash).update(message).digest());
    const signature = privateEncrypt(privateKey, info);
    t.ok(verify(hash, message, publicKey, signature), `${hash}: a signature over DigestInfo verifies as RSASSA-PKCS1-v1_5`);
    t.same(signature, sign(hash, message, privateKey), `${hash}: the same bytes node:crypto signs (PKCS#1 v1.5 is deterministic)`);
    t.same(publicDecrypt(publicKey, signature), Buffer.from(info));
  }
  t.end();
});
