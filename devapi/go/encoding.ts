/**
 * Go's byte-level encodings as kube-apiserver meets them, beside strconv.Quote (src/pki):
 * encoding/base64's StdEncoding.Decode (a JSON []byte field), encoding/pem's Decode, and
 * %#v of a []byte. A string of raw bytes is a latin1 string.
 */

export const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
/** Go's %#v of a []byte, the way field.Invalid renders spec.request. */
export const goBytes = (b: Uint8Array): string => `[]byte{${Array.from(b, (x) => `0x${x.toString(16)}`).join(', ')}}`;
export const toBase64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

// ------------------------------------------------------------------ encoding/base64 (StdEncoding.Decode)

const b64Value = (c: number): number =>
  c >= 65 && c <= 90 ? c - 65 : c >= 97 && c <= 122 ? c - 71 : c >= 48 && c <= 57 ? c + 4 : c === 43 ? 62 : c === 47 ? 63 : -1;
const isNewline = (c: number | undefined): boolean => c === 10 || c === 13;
/** Padded base64 with nothing Go would skip or refuse: Buffer's decoder gives Go's bytes. */
const canonicalBase64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Go's base64.StdEncoding.Decode over the bytes of `src` (a latin1 string); the error is the byte offset. */
export function goBase64(src: string): { bytes: Uint8Array } | { error: number } {
  // Go skips \r and \n wherever they are: without them, a canonical text decodes the same.
  const compact = src.includes('\n') || src.includes('\r') ? src.replace(/[\r\n]/g, '') : src;
  if (canonicalBase64.test(compact)) return { bytes: Buffer.from(compact, 'base64') };
  const out: number[] = [];
  let si = 0;
  while (si < src.length) {
    const dbuf = [0, 0, 0, 0];
    let dlen = 4;
    let trailing: number | undefined;
    for (let j = 0; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return { bytes: Uint8Array.from(out) };
        return { error: si - j };
      }
      const c = src.charCodeAt(si++);
      const v = b64Value(c);
      if (v >= 0) { dbuf[j] = v; continue; }
      if (isNewline(c)) { j--; continue; }
      if (c !== 61 || j < 2) return { error: si - 1 };
      if (j === 2) {
        while (si < src.length && isNewline(src.charCodeAt(si))) si++;
        if (si === src.length) return { error: src.length };
        if (src.charCodeAt(si) !== 61) return { error: si - 1 };
        si++;
      }
      while (si < src.length && isNewline(src.charCodeAt(si))) si++;
      if (si < src.length) trailing = si;
      dlen = j;
      break;
    }
    const val = ((dbuf[0] ?? 0) << 18) | ((dbuf[1] ?? 0) << 12) | ((dbuf[2] ?? 0) << 6) | (dbuf[3] ?? 0);
    out.push(...[(val >> 16) & 0xff, (val >> 8) & 0xff, val & 0xff].slice(0, dlen - 1));
    if (trailing !== undefined) return { error: trailing };
  }
  return { bytes: Uint8Array.from(out) };
}

/** Anything but printable ASCII and whitespace (for those the UTF-8 bytes are the UTF-16 units). */
const nonAscii = /[^\x20-\x7e\t\n\r]/;
/** goBase64 over the bytes Go sees in a JSON string: its UTF-8. */
export const goBase64Json = (v: string): ReturnType<typeof goBase64> => goBase64(nonAscii.test(v) ? Buffer.from(v, 'utf8').toString('latin1') : v);

/** A JSON []byte field's bytes (lenient: an undecodable value reads as empty; `csrDecodeError` reports it). */
export function jsonBytes(v: unknown): Uint8Array {
  if (typeof v !== 'string') return new Uint8Array(0);
  const r = goBase64Json(v);
  return 'bytes' in r ? r.bytes : new Uint8Array(0);
}

// ------------------------------------------------------------------ encoding/pem (pem.Decode)

export interface PemBlock { readonly type: string; readonly headers: number; readonly bytes: Uint8Array }

function getLine(data: string): [string, string] {
  let i = data.indexOf('\n');
  let j: number;
  if (i < 0) { i = data.length; j = i; } else { j = i + 1; if (i > 0 && data[i - 1] === '\r') i--; }
  return [data.slice(0, i).replace(/[ \t]+$/, ''), data.slice(j)];
}

/** Go's pem.Decode over a latin1 string: the first well-formed block (text before it is skipped) and the rest. */
export function pemDecode(data: string): { block: PemBlock; rest: string } | undefined {
  let rest = data;
  for (;;) {
    if (rest.startsWith('-----BEGIN ')) rest = rest.slice(11);
    else {
      const at = rest.indexOf('\n-----BEGIN ');
      if (at < 0) return undefined;
      rest = rest.slice(at + 12);
    }
    let typeLine: string;
    [typeLine, rest] = getLine(rest);
    if (!typeLine.endsWith('-----')) continue;
    typeLine = typeLine.slice(0, -5);
    const headers = new Set<string>();
    for (;;) {
      if (rest.length === 0) return undefined;
      const [line, next] = getLine(rest);
      const colon = line.indexOf(':');
      if (colon < 0) break;
      headers.add(line.slice(0, colon).trim());
      rest = next;
    }
    let endIndex: number;
    let endTrailerIndex: number;
    if (headers.size === 0 && rest.startsWith('-----END ')) { endIndex = 0; endTrailerIndex = 9; }
    else { endIndex = rest.indexOf('\n-----END '); endTrailerIndex = endIndex + 10; }
    if (endIndex < 0) continue;
    const trailer = rest.slice(endTrailerIndex);
    const trailerLength = typeLine.length + 5;
    if (trailer.length < trailerLength) continue;
    const endLine = trailer.slice(0, trailerLength);
    if (!endLine.startsWith(typeLine) || !endLine.endsWith('-----')) continue;
    if (getLine(trailer.slice(trailerLength))[0].length !== 0) continue;
    const decoded = goBase64(rest.slice(0, endIndex).replace(/[ \t]/g, ''));
    if (!('bytes' in decoded)) continue;
    return { block: { type: typeLine, headers: headers.size, bytes: decoded.bytes }, rest: getLine(rest.slice(endIndex + 9))[1] };
  }
}
