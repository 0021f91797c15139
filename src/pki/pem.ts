/** PEM (RFC 7468) decoding that reports what it found, and encoding. */

export interface PemBlock {
  readonly label: string;
  readonly headers: boolean;
  readonly der: Uint8Array<ArrayBuffer>;
}

export class PemError extends Error {
  override readonly name = 'PemError';
}

const blockPattern = /-----BEGIN ([^-\r\n]*)-----\r?\n([\s\S]*?)-----END ([^-\r\n]*)-----/g;
const base64Line = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Every PEM block in `text`, in order. Text outside blocks is ignored, as
 * Go's pem.Decode and openssl do. A block whose END label differs from its
 * BEGIN label, or whose body is not base64, is an error naming the block.
 */
export function decodePem(text: string): PemBlock[] {
  const single = decodeSinglePlainBlock(text);
  if (single !== undefined) return [single];
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(blockPattern)) {
    const [, label = '', body = '', endLabel = ''] = match;
    if (label !== endLabel) throw new PemError(`PEM block "${label}" ends with "END ${endLabel}"`);
    const lines = body.split(/\r?\n/).map((l) => l.trim());
    const headers = lines.some((l) => l.includes(':'));
    const data = lines.filter((l) => l !== '' && !l.includes(':')).join('');
    if (!base64Line.test(data) || data.length % 4 !== 0) {
      throw new PemError(`PEM block "${label}" is not valid base64`);
    }
    blocks.push({ label, headers, der: new Uint8Array(Buffer.from(data, 'base64')) });
  }
  return blocks;
}

const DASHES = '-----';
const BEGIN = '-----BEGIN ';

/**
 * The fast path of decodePem: text holding exactly one block whose body is
 * nothing but base64 lines ending in LF, with no other `-----` anywhere.
 * Whenever the text is anything else (several blocks, headers, spaces, a label
 * mismatch, bad base64), it returns undefined and the general path above
 * decides, with its messages. When it returns a block, the general path would
 * have returned the same single block.
 */
function decodeSinglePlainBlock(text: string): PemBlock | undefined {
  const begin = text.indexOf(DASHES);
  if (begin < 0 || !text.startsWith(BEGIN, begin)) return undefined;
  const labelStart = begin + BEGIN.length;
  const labelEnd = text.indexOf(DASHES, labelStart);
  if (labelEnd < 0) return undefined;
  const label = text.slice(labelStart, labelEnd);
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (c === 0x2d || c === 0x0a || c === 0x0d) return undefined; // '-', LF, CR
  }
  const bodyStart = labelEnd + DASHES.length + 1;
  if (text.charCodeAt(bodyStart - 1) !== 0x0a) return undefined;
  const end = text.indexOf(DASHES, bodyStart);
  if (end < 0) return undefined;
  const endMarker = `-----END ${label}-----`;
  if (!text.startsWith(endMarker, end) || text.includes(DASHES, end + endMarker.length)) return undefined;
  // The body: base64 lines ending in LF, '=' only at the very end. (CRLF goes the general way.)
  const body = text.slice(bodyStart, end);
  if (!plainBody.test(body)) return undefined;
  let characters = body.length;
  for (let lf = body.indexOf('\n'); lf >= 0; lf = body.indexOf('\n', lf + 1)) characters--;
  if (characters % 4 !== 0) return undefined;
  const equals = body.indexOf('=');
  const padding = equals < 0 ? 0 : body.charCodeAt(equals + 1) === 0x3d ? 2 : 1;
  const der = new Uint8Array((characters / 4) * 3 - padding);
  const written = Buffer.from(der.buffer, der.byteOffset, der.byteLength).write(body, 'base64');
  if (written !== der.length) return undefined;
  return { label, headers: false, der };
}

/** Base64 symbols and LFs, then at most two '=' and LFs. */
const plainBody = /^[A-Za-z0-9+/\n]*={0,2}\n*$/;

export function encodePem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let text = `-----BEGIN ${label}-----\n`;
  for (let i = 0; i < b64.length; i += 64) text += `${b64.slice(i, i + 64)}\n`;
  return `${text}-----END ${label}-----\n`;
}

/** A human summary of the blocks found, for error messages: `2 blocks (CERTIFICATE, PRIVATE KEY)`. */
export function describeBlocks(blocks: readonly PemBlock[]): string {
  if (blocks.length === 0) return 'no PEM block';
  const labels = blocks.map((b) => b.label).join(', ');
  return blocks.length === 1 ? `one ${labels} block` : `${blocks.length} blocks (${labels})`;
}

/** True when the bytes are one DER SEQUENCE filling the buffer exactly, which text never is. */
export function looksLikeDer(bytes: Uint8Array): boolean {
  if (bytes[0] !== 0x30 || bytes.length < 2) return false;
  const first = bytes[1] as number;
  if (first < 0x80) return first + 2 === bytes.length;
  const count = first & 0x7f;
  if (count === 0 || count > 4 || bytes.length < 2 + count) return false;
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + (bytes[2 + i] as number);
  return 2 + count + length === bytes.length;
}
