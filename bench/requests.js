// A small PKCS#10 builder for the end-to-end benches: CN and one DNS name, a fresh P-256 key,
// ECDSA-SHA256. Shared by bench/signer.js and bench/scale.js.
import { Buffer } from 'node:buffer';
import { generateKeyPairSync, sign } from 'node:crypto';

const derLength = (n) => (n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff]);
const tlv = (tag, ...parts) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag, ...derLength(body.length)]), body]);
};
const hex = (h) => Buffer.from(h.replace(/ /g, ''), 'hex');
const OID_CN = hex('06 03 55 04 03');
const OID_EXTENSION_REQUEST = hex('06 09 2a 86 48 86 f7 0d 01 09 0e');
const OID_SAN = hex('06 03 55 1d 11');
const ECDSA_SHA256 = tlv(0x30, hex('06 08 2a 86 48 ce 3d 04 03 02'));

/** A request for `name` (CN and DNS SAN): { name, pem, spki }. */
export function makeRequest(name) {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const subject = tlv(0x30, tlv(0x31, tlv(0x30, OID_CN, tlv(0x0c, Buffer.from(name)))));
  const san = tlv(0x30, OID_SAN, tlv(0x04, tlv(0x30, tlv(0x82, Buffer.from(name)))));
  const attributes = tlv(0xa0, tlv(0x30, OID_EXTENSION_REQUEST, tlv(0x31, tlv(0x30, san))));
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const info = tlv(0x30, hex('02 01 00'), subject, spki, attributes);
  const der = tlv(0x30, info, ECDSA_SHA256, tlv(0x03, Buffer.from([0]), sign('sha256', info, privateKey)));
  const body = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n');
  return { name, pem: `-----BEGIN CERTIFICATE REQUEST-----\n${body}-----END CERTIFICATE REQUEST-----\n`, spki };
}

/** An approved copy of a CSR object, as an approver's PUT /approval body. */
export const approved = (o, by) => ({
  ...o, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'BenchApprove', message: `approved by ${by}` }] },
});
