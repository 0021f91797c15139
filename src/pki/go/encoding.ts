/**
 * Go's strconv.Quote (what %q prints), as the PKI core quotes a value in an error and as
 * kube-apiserver does. Go strings are bytes: a JS string is taken as its UTF-8 encoding (a
 * lone surrogate becomes U+FFFD, as Go's JSON decoder makes it), a string of raw bytes
 * (latin1) is passed as bytes.
 */

export const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

// ------------------------------------------------------------------ strconv.Quote

/**
 * unicode.IsPrint: categories L, M, N, P, S (and the ASCII space). The runtime's Unicode
 * tables decide, so a character assigned after the Unicode version of the Go build
 * (Go 1.24: 15.0) prints as is here where Go escapes it.
 */
const printableRune = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
const namedEscapes: Readonly<Record<number, string>> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v', 0x22: '\\"', 0x5c: '\\\\' };
const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
const plainAscii = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** utf8.DecodeRune: [rune, width], or [-1, 1] for a byte that starts no valid sequence. */
function decodeRune(b: Uint8Array, i: number): [number, number] {
  const c0 = b[i] as number;
  if (c0 < 0x80) return [c0, 1];
  let size: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (c0 >= 0xc2 && c0 <= 0xdf) size = 2;
  else if (c0 >= 0xe0 && c0 <= 0xef) { size = 3; if (c0 === 0xe0) lo = 0xa0; if (c0 === 0xed) hi = 0x9f; }
  else if (c0 >= 0xf0 && c0 <= 0xf4) { size = 4; if (c0 === 0xf0) lo = 0x90; if (c0 === 0xf4) hi = 0x8f; }
  else return [-1, 1];
  if (i + size > b.length) return [-1, 1];
  const c1 = b[i + 1] as number;
  if (c1 < lo || c1 > hi) return [-1, 1];
  let rune = (c0 & (0xff >> (size + 1))) * 64 + (c1 & 0x3f);
  for (let k = 2; k < size; k++) {
    const c = b[i + k] as number;
    if (c < 0x80 || c > 0xbf) return [-1, 1];
    rune = rune * 64 + (c & 0x3f);
  }
  return [rune, size];
}

/** strconv.Quote of a Go string given as its bytes: invalid UTF-8 bytes print as \xNN. */
export function goQuoteBytes(b: Uint8Array): string {
  let out = '"';
  for (let i = 0; i < b.length;) {
    const [rune, width] = decodeRune(b, i);
    if (rune < 0) out += `\\x${hex(b[i] as number, 2)}`;
    else if (namedEscapes[rune] !== undefined) out += namedEscapes[rune];
    else if (rune >= 0x20 && rune < 0x7f) out += String.fromCharCode(rune);
    else if (rune < 0x20 || rune === 0x7f) out += `\\x${hex(rune, 2)}`;
    else if (printableRune.test(String.fromCodePoint(rune))) out += String.fromCodePoint(rune);
    else out += rune < 0x10000 ? `\\u${hex(rune, 4)}` : `\\U${hex(rune, 8)}`;
    i += width;
  }
  return `${out}"`;
}

/** Go's %q (strconv.Quote) of a string. */
export const goQuote = (s: string): string => (plainAscii.test(s) ? `"${s}"` : goQuoteBytes(Buffer.from(s, 'utf8')));
