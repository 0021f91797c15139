/**
 * golang.org/x/crypto/cryptobyte as crypto/x509's parser.go uses it: strict DER reads
 * that answer "no" (undefined) instead of an error, parser.go choosing the message.
 */
import { bitStringBytes, cb, checkInteger, oid, Tag, type Tlv } from '../../src/pki/index.js';

/** cryptobyte ReadASN1Integer: the content of a minimally encoded INTEGER. */
export function cbInteger(buf: Uint8Array, offset: number, limit: number): Tlv | undefined {
  const tlv = cb(buf, offset, limit, Tag.integer);
  if (!tlv || tlv.end === tlv.contentStart) return undefined;
  try { checkInteger(buf.subarray(tlv.contentStart, tlv.end)); } catch { return undefined; }
  return tlv;
}

/** A cryptobyte.String: strict DER reads from the front of `buf[pos, end)`. */
export class Reader {
  constructor(readonly buf: Uint8Array, public pos: number, readonly end: number) {}
  static of(bytes: Uint8Array): Reader { return new Reader(bytes, 0, bytes.length); }
  get empty(): boolean { return this.pos >= this.end; }
  peek(tag: number): boolean { return this.pos < this.end && this.buf[this.pos] === tag; }
  /** ReadASN1Element / ReadAnyASN1Element: the whole element, as a Tlv. */
  element(tag?: number): Tlv | undefined {
    const tlv = cb(this.buf, this.pos, this.end, tag);
    if (tlv) this.pos = tlv.end;
    return tlv;
  }
  /** ReadASN1: a reader over the element's content. */
  read(tag: number): Reader | undefined {
    const tlv = this.element(tag);
    return tlv && new Reader(this.buf, tlv.contentStart, tlv.end);
  }
  bytes(): Uint8Array { return this.buf.subarray(this.pos, this.end); }
  oid(): string | undefined {
    const r = this.read(Tag.oid);
    if (!r || r.empty) return undefined;
    try { return oid(r.bytes()); } catch { return undefined; }
  }
  integer(): Uint8Array | undefined {
    const tlv = cbInteger(this.buf, this.pos, this.end);
    if (tlv) this.pos = tlv.end;
    return tlv && this.buf.subarray(tlv.contentStart, tlv.end);
  }
  boolean(): boolean {
    const r = this.read(Tag.boolean);
    return !!r && r.end - r.pos === 1 && (r.buf[r.pos] === 0 || r.buf[r.pos] === 0xff);
  }
  /** ReadASN1BitString, right-aligned. */
  bitString(): Uint8Array | undefined {
    const r = this.read(Tag.bitString);
    if (!r || r.empty) return undefined;
    try { return bitStringBytes(r.bytes()); } catch { return undefined; }
  }
}
