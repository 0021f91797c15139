/**
 * A small, strict DER reader and writer.
 *
 * The hot path of issuance never builds an object tree: it walks the request's
 * bytes once, keeps offsets into them, and splices the pieces it needs (subject,
 * public key) into the certificate as they are. asn1js/pkijs stay on the cold
 * path (CA loading) and in tests as an independent parser.
 */

import { Oid } from './oids.js';

export class DerError extends Error {
  override readonly name = 'DerError';
}

/** One tag-length-value, as offsets into the buffer it was read from. */
export interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

export const Tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  teletexString: 0x14,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  universalString: 0x1c,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
} as const;

/** Context-specific tags: `[n]` constructed (EXPLICIT or IMPLICIT SEQUENCE) and primitive. */
export const contextConstructed = (n: number): number => 0xa0 | n;
export const contextPrimitive = (n: number): number => 0x80 | n;

/** Reads one TLV at `offset`, which must end at or before `limit`. */
export function readTlv(buf: Uint8Array, offset: number, limit: number = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError(`truncated at byte ${offset}`);
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`high tag numbers are not supported (byte ${offset})`);
  let length = buf[offset + 1] as number;
  let contentStart = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0) throw new DerError(`indefinite length is not DER (byte ${offset})`);
    if (count > 4) throw new DerError(`length of ${count} bytes is too large (byte ${offset})`);
    if (contentStart + count > limit) throw new DerError(`truncated length at byte ${offset}`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buf[contentStart + i] as number);
    if (length < 0x80 || (count > 1 && buf[contentStart] === 0)) {
      throw new DerError(`length is not minimally encoded (byte ${offset})`);
    }
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > limit) throw new DerError(`element at byte ${offset} claims ${length} bytes but only ${limit - contentStart} remain`);
  return { tag, start: offset, contentStart, end };
}

/** Reads one TLV that must carry `tag`. */
export function expectTlv(buf: Uint8Array, offset: number, limit: number, tag: number, what: string): Tlv {
  const tlv = readTlv(buf, offset, limit);
  if (tlv.tag !== tag) {
    throw new DerError(`${what}: expected tag 0x${hex2(tag)}, found 0x${hex2(tlv.tag)} (byte ${offset})`);
  }
  return tlv;
}

/** The direct children of a constructed TLV; they must fill it exactly. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let offset = parent.contentStart;
  while (offset < parent.end) {
    const child = readTlv(buf, offset, parent.end);
    out.push(child);
    offset = child.end;
  }
  return out;
}

/** Reads a whole buffer as exactly one TLV with no trailing bytes. */
export function readWhole(buf: Uint8Array, tag: number, what: string): Tlv {
  const tlv = expectTlv(buf, 0, buf.length, tag, what);
  if (tlv.end !== buf.length) throw new DerError(`${what}: ${buf.length - tlv.end} trailing bytes after the end`);
  return tlv;
}

export const slice = (buf: Uint8Array, tlv: Tlv): Uint8Array => buf.subarray(tlv.start, tlv.end);
export const content = (buf: Uint8Array, tlv: Tlv): Uint8Array => buf.subarray(tlv.contentStart, tlv.end);

/** The largest OBJECT IDENTIFIER arc (sub-identifier) Go reads. */
const MAX_GO_OID_ARC = 0x7fffffff;

/** Decodes an OBJECT IDENTIFIER's content to dotted form. */
export function decodeOid(bytes: Uint8Array): string {
  if (bytes.length === 0) throw new DerError('empty OBJECT IDENTIFIER');
  let dotted = '';
  let value = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (value === 0 && b === 0x80) throw new DerError('OBJECT IDENTIFIER arc is not minimally encoded');
    value = value * 128 + (b & 0x7f);
    // Go's readers (encoding/asn1 and cryptobyte alike) refuse an arc over 2^31-1, so a
    // request, name or certificate holding one is unreadable to every Kubernetes component.
    if (value > MAX_GO_OID_ARC) throw new DerError("an OBJECT IDENTIFIER arc is larger than 2^31-1, the largest Go's crypto/x509 reads");
    if ((b & 0x80) === 0) {
      if (dotted === '') {
        const first = value < 40 ? 0 : value < 80 ? 1 : 2;
        dotted = `${first}.${value - first * 40}`;
      } else {
        dotted += `.${value}`;
      }
      value = 0;
    } else if (i === bytes.length - 1) {
      throw new DerError('OBJECT IDENTIFIER is truncated');
    }
  }
  return dotted;
}

/** Reads an OID TLV at a known position. */
export function readOid(buf: Uint8Array, tlv: Tlv, what: string): string {
  if (tlv.tag !== Tag.oid) throw new DerError(`${what}: expected an OBJECT IDENTIFIER, found tag 0x${hex2(tlv.tag)}`);
  return knownOidAt(buf, tlv.contentStart, tlv.end) ?? decodeOid(content(buf, tlv));
}

/**
 * The OIDs of oids.ts by their content bytes, so that reading one of them allocates nothing: a
 * request holds about ten OIDs and is read for every certificate. decodeOid gives the same text
 * for these bytes (test/pki/fast-paths.test.ts checks every entry); any other OID is decoded as it comes,
 * so what a request holds never grows this table.
 */
const knownOids = new Map<number, { readonly bytes: Uint8Array; readonly dotted: string }[]>();

const oidHash = (buf: Uint8Array, start: number, end: number): number => {
  let h = end - start;
  for (let i = start; i < end; i++) h = (Math.imul(h, 31) + (buf[i] as number)) | 0;
  return h;
};

function knownOidAt(buf: Uint8Array, start: number, end: number): string | undefined {
  const candidates = knownOids.get(oidHash(buf, start, end));
  if (candidates === undefined) return undefined;
  for (const known of candidates) {
    if (known.bytes.length !== end - start) continue;
    let i = 0;
    while (i < known.bytes.length && known.bytes[i] === buf[start + i]) i++;
    if (i === known.bytes.length) return known.dotted;
  }
  return undefined;
}

/** The dotted OIDs knownOidAt answers for, each with its content bytes. */
export function knownOidEntries(): { readonly bytes: Uint8Array; readonly dotted: string }[] {
  return [...knownOids.values()].flat().map(({ bytes, dotted }) => ({ bytes: bytes.slice(), dotted }));
}

/** The content of a BIT STRING that has no unused bits (keys, signatures). */
export function bitStringBytes(buf: Uint8Array, tlv: Tlv, what: string): Uint8Array {
  if (tlv.tag !== Tag.bitString) throw new DerError(`${what}: expected a BIT STRING`);
  if (tlv.end - tlv.contentStart < 1 || buf[tlv.contentStart] !== 0) {
    throw new DerError(`${what}: BIT STRING has unused bits`);
  }
  return buf.subarray(tlv.contentStart + 1, tlv.end);
}

// ---------------------------------------------------------------- writer

/** Bytes of a DER length field for `length` (1 to 5). */
export const lengthSize = (length: number): number =>
  length < 0x80 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : length < 0x1000000 ? 4 : 5;

/** Bytes of a whole TLV whose content is `length` bytes long. */
export const tlvSize = (length: number): number => 1 + lengthSize(length) + length;

/** Writes a tag and a minimal DER length at `offset`; returns the offset just after them. */
export function writeHeader(out: Uint8Array, offset: number, tag: number, length: number): number {
  out[offset++] = tag;
  if (length < 0x80) {
    out[offset++] = length;
    return offset;
  }
  const count = lengthSize(length) - 1;
  out[offset++] = 0x80 | count;
  for (let i = count - 1; i >= 0; i--) out[offset++] = Math.floor(length / 2 ** (8 * i)) & 0xff;
  return offset;
}

/** Encodes one TLV whose content is the concatenation of `parts`. */
export function encode(tag: number, ...parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(tlvSize(size));
  let offset = writeHeader(out, 0, tag, size);
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export const sequence = (...parts: readonly Uint8Array[]): Uint8Array => encode(Tag.sequence, ...parts);

export function encodeOid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const [a, b, ...rest] = arcs;
  if (a === undefined || b === undefined || arcs.some((n) => !Number.isSafeInteger(n) || n < 0)) {
    throw new DerError(`invalid OBJECT IDENTIFIER ${dotted}`);
  }
  const bytes: number[] = [];
  for (const arc of [a * 40 + b, ...rest]) {
    const group: number[] = [arc & 0x7f];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) group.unshift(0x80 | (n & 0x7f));
    bytes.push(...group);
  }
  return encode(Tag.oid, Uint8Array.from(bytes));
}

const oidCache = new Map<string, Uint8Array>();

/**
 * encodeOid, remembered: for the fixed OIDs the issuer writes on every
 * certificate. The result is shared, so callers must not modify it.
 */
export function cachedOid(dotted: string): Uint8Array {
  let encoded = oidCache.get(dotted);
  if (encoded === undefined) {
    encoded = encodeOid(dotted);
    if (oidCache.size < 1024) oidCache.set(dotted, encoded);
  }
  return encoded;
}

/** A non-negative INTEGER from its big-endian magnitude. */
export function encodeUnsignedInteger(magnitude: Uint8Array): Uint8Array {
  if (magnitude.length === 0) return encode(Tag.integer, Uint8Array.of(0));
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  // A leading 0x00 keeps a magnitude whose top bit is set positive. Written in one buffer (a serial per certificate).
  const sign = ((magnitude[i] as number) & 0x80) === 0 ? 0 : 1;
  const size = sign + magnitude.length - i;
  const out = new Uint8Array(tlvSize(size));
  let at = writeHeader(out, 0, Tag.integer, size);
  if (sign === 1) out[at++] = 0;
  for (; i < magnitude.length; i++) out[at++] = magnitude[i] as number;
  return out;
}

export const octetString = (bytes: Uint8Array): Uint8Array => encode(Tag.octetString, bytes);
export const bitString = (bytes: Uint8Array, unusedBits = 0): Uint8Array =>
  encode(Tag.bitString, Uint8Array.of(unusedBits), bytes);

const ascii = new TextEncoder();
export const asciiBytes = (text: string): Uint8Array => ascii.encode(text);

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export const equalBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((v, i) => v === b[i]);

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

for (const dotted of new Set(Object.values(Oid))) {
  const encoded = encodeOid(dotted);
  const bytes = encoded.subarray(2); // every known OID is shorter than 128 bytes: a two-byte header
  const h = oidHash(bytes, 0, bytes.length);
  const list = knownOids.get(h) ?? [];
  list.push({ bytes, dotted });
  knownOids.set(h, list);
}
