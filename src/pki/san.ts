/** subjectAltName: GeneralNames decoding (from a request) and encoding (into a certificate). */
import { csrError } from '../errors.js';
import { asciiBytes, children, content, contextPrimitive, DerError, encode, readWhole, sequence, Tag } from './der.js';
import { uriProblem } from './go/san.js';

export interface SubjectAltNames {
  readonly dnsNames: readonly string[];
  readonly emailAddresses: readonly string[];
  /** Canonical text: dotted IPv4, or RFC 5952 IPv6. */
  readonly ipAddresses: readonly string[];
  readonly uris: readonly string[];
}

export const noSubjectAltNames: SubjectAltNames = { dnsNames: [], emailAddresses: [], ipAddresses: [], uris: [] };

export const countSubjectAltNames = (s: SubjectAltNames): number =>
  s.dnsNames.length + s.emailAddresses.length + s.ipAddresses.length + s.uris.length;

const GeneralName = { rfc822Name: 1, dnsName: 2, uri: 6, ipAddress: 7 } as const;
const unsupportedNames: Record<number, string> = {
  0: 'otherName',
  3: 'x400Address',
  4: 'directoryName',
  5: 'ediPartyName',
  8: 'registeredID',
};

const latin1 = new TextDecoder('latin1');

function ia5(bytes: Uint8Array, kind: string): string {
  if (bytes.length === 0) throw new DerError(`empty ${kind}`);
  for (const b of bytes) {
    if (b < 0x21 || b > 0x7e) {
      throw new DerError(`${kind} contains byte 0x${b.toString(16).padStart(2, '0')}, which is not printable ASCII`);
    }
  }
  return latin1.decode(bytes);
}

/** RFC 1035: a DNS name has at most 253 characters in text form. */
export const MAX_DNS_NAME = 253;
/** RFC 1035 section 2.3.4, RFC 5280 section 4.2.1.6 (the preferred name syntax): a label has at most 63. */
const MAX_DNS_LABEL = 63;
const DOT = 0x2e;

/**
 * ia5 for a dNSName, measuring its labels in the same pass. A name with a
 * label over 63 characters is refused naming that label; a name over 253
 * characters is left to the length check (checkNameLengths in csr.ts), which
 * refuses it whatever its labels, so the message here stays short.
 */
function dnsName(bytes: Uint8Array): string {
  const length = bytes.length;
  if (length === 0) throw new DerError('empty DNS name');
  let labelStart = 0;
  let longStart = -1;
  let longEnd = 0;
  for (let i = 0; i <= length; i++) {
    const b = i === length ? DOT : bytes[i] as number;
    if (b === DOT) {
      if (i - labelStart > MAX_DNS_LABEL && longStart < 0) { longStart = labelStart; longEnd = i; }
      labelStart = i + 1;
    } else if (b < 0x21 || b > 0x7e) {
      throw new DerError(`DNS name contains byte 0x${b.toString(16).padStart(2, '0')}, which is not printable ASCII`);
    }
  }
  const name = latin1.decode(bytes);
  if (longStart >= 0 && length <= MAX_DNS_NAME) throw csrError('DnsLabelTooLong', name, name.slice(longStart, longEnd));
  return name;
}

/**
 * ia5 for a uniformResourceIdentifier, which Go also parses with url.Parse and whose
 * host it checks (parseSANExtension): a URI it refuses makes the whole certificate
 * unreadable to it, so it is refused here naming the URI and Go's reason.
 */
function uri(bytes: Uint8Array): string {
  const text = ia5(bytes, 'URI');
  const problem = uriProblem(text);
  if (problem !== undefined) throw new DerError(`URI ${JSON.stringify(text)} is one Go's crypto/x509 cannot read (${problem})`);
  return text;
}

/** Formats 4 or 16 address bytes as text. */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0] as number}.${bytes[1] as number}.${bytes[2] as number}.${bytes[3] as number}`;
  if (bytes.length !== 16) throw new DerError(`IP address of ${bytes.length} bytes (must be 4 or 16)`);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
  // RFC 5952: compress the longest run (length >= 2) of zero groups, the first one on ties.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Parses text IPv4 or IPv6 into 4 or 16 bytes; undefined when it is neither. */
export function parseIp(text: string): Uint8Array | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    return parts.every((p) => p <= 255) ? Uint8Array.from(parts) : undefined;
  }
  if (!/^[0-9a-fA-F:]+$/.test(text) || text.split('::').length > 2) return undefined;
  const [head = '', tail] = text.split('::');
  const split = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const left = split(head);
  const right = tail === undefined ? [] : split(tail);
  const missing = 8 - left.length - right.length;
  if ((tail === undefined && missing !== 0) || (tail !== undefined && missing < 1)) return undefined;
  const groups = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right];
  if (groups.some((g) => g.length === 0 || g.length > 4)) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const n = parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  });
  return out;
}

/**
 * What decodeSubjectAltNames read, kept with the object it returned: the names
 * as they were then (to notice any later change to the arrays), each IP
 * address's bytes, and the extension's own DER when re-encoding would give
 * exactly those bytes (names already in Go's order). encodeSubjectAltNames
 * uses them only while the names are unchanged.
 */
interface Decoded {
  readonly dnsNames: readonly string[];
  readonly emailAddresses: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly uris: readonly string[];
  readonly ipBytes: readonly Uint8Array[];
  readonly der: Uint8Array | undefined;
}
const decoded = new WeakMap<SubjectAltNames, Decoded>();

const sameList = (a: readonly string[], b: readonly string[]): boolean => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

/** Decodes the extnValue of a subjectAltName extension (a GeneralNames SEQUENCE). */
export function decodeSubjectAltNames(value: Uint8Array): SubjectAltNames {
  const root = readWhole(value, Tag.sequence, 'subjectAltName');
  const dnsNames: string[] = [];
  const emailAddresses: string[] = [];
  const ipAddresses: string[] = [];
  const ipBytes: Uint8Array[] = [];
  const uris: string[] = [];
  // Go writes DNS (rank 0), email (1), IP (2), URI (3): are these already in that order?
  let rank = 0;
  let goOrder = true;
  for (const name of children(value, root)) {
    const bytes = content(value, name);
    let nameRank: number;
    switch (name.tag) {
      case contextPrimitive(GeneralName.dnsName): dnsNames.push(dnsName(bytes)); nameRank = 0; break;
      case contextPrimitive(GeneralName.rfc822Name): emailAddresses.push(ia5(bytes, 'email address')); nameRank = 1; break;
      case contextPrimitive(GeneralName.uri): uris.push(uri(bytes)); nameRank = 3; break;
      case contextPrimitive(GeneralName.ipAddress): ipAddresses.push(formatIp(bytes)); ipBytes.push(bytes); nameRank = 2; break;
      default: {
        const kind = unsupportedNames[name.tag & 0x1f] ?? `tag 0x${name.tag.toString(16)}`;
        throw new DerError(`${kind} names are not supported`);
      }
    }
    if (nameRank < rank) goOrder = false;
    rank = nameRank;
  }
  if (dnsNames.length + emailAddresses.length + ipAddresses.length + uris.length === 0) {
    throw new DerError('the extension holds no names');
  }
  const names: SubjectAltNames = { dnsNames, emailAddresses, ipAddresses, uris };
  // The reader accepts only minimal DER, and every name's bytes come back unchanged from its
  // text (printable ASCII; IP bytes through formatIp and parseIp), so in Go's order the
  // encoding of these names is `value` itself.
  decoded.set(names, {
    dnsNames: dnsNames.slice(), emailAddresses: emailAddresses.slice(), ipAddresses: ipAddresses.slice(), uris: uris.slice(),
    ipBytes, der: goOrder ? value : undefined,
  });
  return names;
}

/** Encodes GeneralNames in Go's order: DNS, email, IP, URI. */
export function encodeSubjectAltNames(names: SubjectAltNames): Uint8Array {
  const der = subjectAltNamesDer(names);
  return der === decoded.get(names)?.der ? der.slice() : der;
}

/**
 * encodeSubjectAltNames, except that for names straight from the decoder the
 * result may be the request's own bytes: read it, never modify it.
 */
export function subjectAltNamesDer(names: SubjectAltNames): Uint8Array {
  const known = decoded.get(names);
  const unchanged = known !== undefined && sameList(names.dnsNames, known.dnsNames) && sameList(names.emailAddresses, known.emailAddresses)
    && sameList(names.ipAddresses, known.ipAddresses) && sameList(names.uris, known.uris);
  if (unchanged && known.der !== undefined) return known.der;
  const parts: Uint8Array[] = [];
  for (const n of names.dnsNames) parts.push(encode(contextPrimitive(GeneralName.dnsName), asciiBytes(n)));
  for (const n of names.emailAddresses) parts.push(encode(contextPrimitive(GeneralName.rfc822Name), asciiBytes(n)));
  names.ipAddresses.forEach((n, i) => {
    const bytes = unchanged ? known.ipBytes[i] : parseIp(n);
    if (!bytes) throw new DerError(`not an IP address: ${n}`);
    parts.push(encode(contextPrimitive(GeneralName.ipAddress), bytes));
  });
  for (const n of names.uris) parts.push(encode(contextPrimitive(GeneralName.uri), asciiBytes(n)));
  return sequence(...parts);
}
