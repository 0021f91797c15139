/**
 * The readers of Go's encoding/asn1 that the PKI core applies to what it issues (base 128
 * numbers, OBJECT IDENTIFIER, BIT STRING, INTEGER, PrintableString), with asn1's error texts.
 * devapi's request parser (asn1.Unmarshal into crypto/x509's structs) is built on these.
 */

/** An error whose message is Go's own text. */
export class GoError extends Error {}
export const syntaxError = (m: string): GoError => new GoError(`asn1: syntax error: ${m}`);
export const structuralError = (m: string): GoError => new GoError(`asn1: structure error: ${m}`);

/** A base 128 number (a tag or an OID arc) at `start`: [value, offset after it]. */
export function base128(b: Uint8Array, start: number): [number, number] {
  let value = 0;
  let offset = start;
  for (let shifted = 0; offset < b.length; shifted++) {
    if (shifted === 5) throw structuralError('base 128 integer too large');
    const c = b[offset] as number;
    if (shifted === 0 && c === 0x80) throw syntaxError('integer is not minimally encoded');
    value = value * 128 + (c & 0x7f);
    offset++;
    if ((c & 0x80) === 0) {
      if (value > 0x7fffffff) throw structuralError('base 128 integer too large');
      return [value, offset];
    }
  }
  throw syntaxError('truncated base 128 integer');
}

export function checkInteger(b: Uint8Array): void {
  if (b.length === 0) throw structuralError('empty integer');
  if (b.length === 1) return;
  const [x, y] = [b[0] as number, b[1] as number];
  if ((x === 0 && (y & 0x80) === 0) || (x === 0xff && (y & 0x80) === 0x80)) throw structuralError('integer not minimally-encoded');
}
export function oid(b: Uint8Array): string {
  if (b.length === 0) throw syntaxError('zero length OBJECT IDENTIFIER');
  let [v, offset] = base128(b, 0);
  const arcs = v < 80 ? [Math.floor(v / 40), v % 40] : [2, v - 80];
  while (offset < b.length) {
    [v, offset] = base128(b, offset);
    arcs.push(v);
  }
  return arcs.join('.');
}

export function bitStringBytes(b: Uint8Array): Uint8Array {
  const padding = b[0];
  if (padding === undefined) throw syntaxError('zero length BIT STRING');
  if (padding > 7 || (b.length === 1 && padding > 0) || ((b[b.length - 1] as number) & ((1 << padding) - 1)) !== 0) {
    throw syntaxError('invalid padding bits in BIT STRING');
  }
  const bytes = b.subarray(1);
  if (padding === 0 || bytes.length === 0) return bytes;
  // BitString.RightAlign
  const shift = padding;
  const out = new Uint8Array(bytes.length);
  out[0] = (bytes[0] as number) >> shift;
  for (let i = 1; i < bytes.length; i++) out[i] = (((bytes[i - 1] as number) << (8 - shift)) | ((bytes[i] as number) >> shift)) & 0xff;
  return out;
}

export const printable = /^[a-zA-Z0-9 '()+,\-./:=?*&]*$/;
