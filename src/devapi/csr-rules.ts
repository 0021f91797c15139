/**
 * CertificateSigningRequest rules of kube-apiserver (certificates.k8s.io/v1), as pure
 * functions over the JSON a client sends: the registry strategy
 * (pkg/registry/certificates/certificates/strategy.go), the validation
 * (pkg/apis/certificates/validation/validation.go, core ValidateSignerName) and the
 * CertificateSubjectRestriction admission plugin. Messages are Go's, byte for byte.
 *
 * The API server accepts whatever Go's x509.ParseCertificateRequest + CheckSignature
 * accept, which is far more than the signer does (RSA-1024, P-224, SHA-1 signatures):
 * the signer, not the API, refuses those. So this file carries its own lenient,
 * Go-compatible reader (encoding/pem, encoding/base64, the subset of encoding/asn1 and
 * crypto/x509 a CSR and a certificate go through) instead of src/pki's strict parser.
 * status.certificate is read the way parser.go reads it, not with pkijs: checked against
 * Go's own x509 on ~12,000 mutated requests and certificates, pkijs refused a certificate
 * Go accepts and let through dozens Go refuses.
 *
 * Target: kube-apiserver 1.32 texts ("usages must be provided", "signerName must be
 * provided": newer masters say plain "Required value") built with Go 1.24 (RSA keys under
 * 1024 bits refused; SHA-1 still accepted on requests). Not reproduced: the heap address
 * Go prints for an implicitly tagged field in a "tags don't match" error, the content of
 * times inside request subjects, certificate name constraints, and url.Parse's IPv6 zones.
 *
 * Item 44 (kcm-signer §5) and R6/R9/R11 — which one fires? `PrepareForUpdate` runs
 * before `ValidateUpdate` in the generic store, and:
 *  - the main resource's strategy copies the stored spec AND status into the new object,
 *    so an attempt to set status.certificate or to add Approved/Denied there never reaches
 *    validation: it is silently discarded (200, nothing changes);
 *  - the /approval strategy copies the stored status and keeps only the new conditions,
 *    so a certificate sent there is silently reset too.
 * "updates may not set certificate content" and "may not add a condition of type" on the
 * main resource are therefore validation-level vectors (validation_test calls
 * ValidateCertificateSigningRequestUpdate directly); `validateCsrUpdate` reproduces them,
 * `prepareCsrUpdate` (the REST path) never returns them.
 */
import { constants, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { bitString, encodeOid, encodeUnsignedInteger, readTlv, sequence, Tag, type Tlv } from '../pki/der.js';
import { ApiError, forbidden, quote, type FieldError } from './status.js';

type Obj = Record<string, unknown>;
export type CsrSubresource = 'main' | 'status' | 'approval';

export interface CsrUser {
  readonly name: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

/** The 23 usages certificates.k8s.io accepts, in Go's sorted order (sets.String.List). */
export const supportedUsages: readonly string[] = [
  'signing', 'digital signature', 'content commitment', 'key encipherment', 'key agreement', 'data encipherment',
  'cert sign', 'crl sign', 'encipher only', 'decipher only', 'any', 'server auth', 'client auth', 'code signing',
  'email protection', 's/mime', 'ipsec end system', 'ipsec tunnel', 'ipsec user', 'timestamping', 'ocsp signing',
  'microsoft sgc', 'netscape sgc',
].sort();

const legacyUnknown = 'kubernetes.io/legacy-unknown';
const kubeApiserverClient = 'kubernetes.io/kube-apiserver-client';
const group = 'certificates.k8s.io';

// ------------------------------------------------------------------ small helpers

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const clone = <T>(v: T): T => structuredClone(v);
const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
/** Go's %#v of a []byte, the way field.Invalid renders spec.request. */
const goBytes = (b: Uint8Array): string => `[]byte{${Array.from(b, (x) => `0x${x.toString(16)}`).join(', ')}}`;
/** metav1.Time as it is serialised: RFC 3339, seconds, UTC. */
const kubeTime = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;

const invalidField = (field: string, value: string, detail: string): FieldError => ({ type: 'FieldValueInvalid', field, value, detail });
const required = (field: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field, detail });
const forbiddenField = (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail });

class GoError extends Error {}
const syntaxError = (m: string): GoError => new GoError(`asn1: syntax error: ${m}`);
const structuralError = (m: string): GoError => new GoError(`asn1: structure error: ${m}`);

// ------------------------------------------------------------------ encoding/base64 (StdEncoding.Decode)

const b64Value = (c: number): number =>
  c >= 65 && c <= 90 ? c - 65 : c >= 97 && c <= 122 ? c - 71 : c >= 48 && c <= 57 ? c + 4 : c === 43 ? 62 : c === 47 ? 63 : -1;
const isNewline = (c: number | undefined): boolean => c === 10 || c === 13;

/** Go's base64.StdEncoding.Decode over the bytes of `src` (a latin1 string); the error is the byte offset. */
function goBase64(src: string): { bytes: Uint8Array } | { error: number } {
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

/** A JSON []byte field's bytes (lenient: an undecodable value reads as empty; `csrDecodeError` reports it). */
function jsonBytes(v: unknown): Uint8Array {
  if (typeof v !== 'string') return new Uint8Array(0);
  const r = goBase64(Buffer.from(v, 'utf8').toString('latin1'));
  return 'bytes' in r ? r.bytes : new Uint8Array(0);
}
const toBase64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

// ------------------------------------------------------------------ encoding/pem (pem.Decode)

interface PemBlock { readonly type: string; readonly headers: number; readonly bytes: Uint8Array }

function getLine(data: string): [string, string] {
  let i = data.indexOf('\n');
  let j: number;
  if (i < 0) { i = data.length; j = i; } else { j = i + 1; if (i > 0 && data[i - 1] === '\r') i--; }
  return [data.slice(0, i).replace(/[ \t]+$/, ''), data.slice(j)];
}

/** Go's pem.Decode: the first well-formed block (text before it is skipped) and the rest. */
function pemDecode(data: string): { block: PemBlock; rest: string } | undefined {
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

// ------------------------------------------------------------------ encoding/asn1 (the subset CSRs use)

interface TagLen { readonly cls: number; readonly tag: number; readonly length: number; readonly compound: boolean }
interface Field { readonly content: Uint8Array; readonly full: Uint8Array; readonly next: number }
interface FieldSpec {
  readonly name: string;
  readonly tag: number;
  readonly compound: boolean;
  readonly any?: boolean;
  readonly implicit?: number;
  readonly optional?: boolean;
  readonly set?: boolean;
}

function base128(b: Uint8Array, start: number): [number, number] {
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

function tagAndLength(b: Uint8Array, start: number): [TagLen, number] {
  let offset = start;
  const first = b[offset++] as number;
  let tag = first & 0x1f;
  if (tag === 0x1f) {
    [tag, offset] = base128(b, offset);
    if (tag < 0x1f) throw syntaxError('non-minimal tag');
  }
  if (offset >= b.length) throw syntaxError('truncated tag or length');
  const lengthByte = b[offset++] as number;
  let length = lengthByte & 0x7f;
  if (lengthByte & 0x80) {
    const count = length;
    if (count === 0) throw syntaxError('indefinite length found (not DER)');
    length = 0;
    for (let i = 0; i < count; i++) {
      if (offset >= b.length) throw syntaxError('truncated tag or length');
      if (length >= 1 << 23) throw structuralError('length too large');
      length = length * 256 + (b[offset++] as number);
      if (length === 0) throw structuralError('superfluous leading zeros in length');
    }
    if (length < 0x80) throw structuralError('non-minimal length');
  }
  return [{ cls: first >> 6, tag, length, compound: (first & 0x20) !== 0 }, offset];
}

const params = (s: FieldSpec): string =>
  `{optional:${String(s.optional ?? false)} explicit:false application:false private:false defaultValue:<nil> tag:${s.implicit === undefined ? '<nil>' : '0xc000012345'} stringType:0 timeType:0 set:${String(s.set ?? false)} omitEmpty:false}`;

/** asn1.parseField for one non-interface field; undefined when an OPTIONAL field is absent. */
function field(b: Uint8Array, start: number, spec: FieldSpec): Field | undefined {
  if (start === b.length) {
    if (spec.optional) return undefined;
    throw syntaxError('sequence truncated');
  }
  const [t, offset] = tagAndLength(b, start);
  const cls = spec.implicit === undefined ? 0 : 2;
  const tag = spec.implicit ?? spec.tag;
  if (!spec.any && (t.cls !== cls || t.tag !== tag || t.compound !== spec.compound)) {
    if (spec.optional) return undefined;
    throw structuralError(`tags don't match (${tag} vs {class:${t.cls} tag:${t.tag} length:${t.length} isCompound:${String(t.compound)}}) ${params(spec)} ${spec.name} @${offset}`);
  }
  if (offset + t.length > b.length) throw syntaxError('data truncated');
  return { content: b.subarray(offset, offset + t.length), full: b.subarray(start, offset + t.length), next: offset + t.length };
}
const need = (f: Field | undefined): Field => {
  if (!f) throw syntaxError('sequence truncated');
  return f;
};

const normalisedTag = (tag: number): number => ([22, 27, 20, 12, 18, 30].includes(tag) ? 19 : tag === 24 ? 23 : tag);

/** asn1.parseSequenceOf: the full bytes of each element. */
function sequenceOf(b: Uint8Array, element: { any?: boolean; tag: number; compound: boolean }): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let offset = 0; offset < b.length;) {
    const [t, at] = tagAndLength(b, offset);
    if (!element.any && (t.cls !== 0 || t.compound !== element.compound || normalisedTag(t.tag) !== element.tag)) throw structuralError('sequence tag mismatch');
    if (at + t.length > b.length) throw syntaxError('truncated sequence');
    out.push(b.subarray(offset, at + t.length));
    offset = at + t.length;
  }
  return out;
}

function checkInteger(b: Uint8Array): void {
  if (b.length === 0) throw structuralError('empty integer');
  if (b.length === 1) return;
  const [x, y] = [b[0] as number, b[1] as number];
  if ((x === 0 && (y & 0x80) === 0) || (x === 0xff && (y & 0x80) === 0x80)) throw structuralError('integer not minimally-encoded');
}
function int64(b: Uint8Array): void {
  checkInteger(b);
  if (b.length > 8) throw structuralError('integer too large');
}

function oid(b: Uint8Array): string {
  if (b.length === 0) throw syntaxError('zero length OBJECT IDENTIFIER');
  let [v, offset] = base128(b, 0);
  const arcs = v < 80 ? [Math.floor(v / 40), v % 40] : [2, v - 80];
  while (offset < b.length) {
    [v, offset] = base128(b, offset);
    arcs.push(v);
  }
  return arcs.join('.');
}

function bitStringBytes(b: Uint8Array): Uint8Array {
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

interface AlgorithmIdentifier { readonly oid: string; readonly params: Uint8Array }
function algorithmIdentifier(b: Uint8Array, start: number): [AlgorithmIdentifier, number] {
  const seq = need(field(b, start, { name: 'AlgorithmIdentifier', tag: 16, compound: true }));
  const id = need(field(seq.content, 0, { name: 'ObjectIdentifier', tag: 6, compound: false }));
  const algorithm = oid(id.content); // Go finishes each field before it reads the next
  const p = field(seq.content, id.next, { name: 'RawValue', tag: 0, compound: false, any: true, optional: true });
  return [{ oid: algorithm, params: p?.full ?? new Uint8Array(0) }, seq.next];
}

const printable = /^[a-zA-Z0-9 '()+,\-./:=?*&]*$/;
/** The ANY value of an AttributeTypeAndValue: Go's string for string types, errors as asn1 reports them. */
function anyValue(b: Uint8Array, start: number): string | undefined {
  if (start === b.length) throw syntaxError('sequence truncated');
  const [t, offset] = tagAndLength(b, start);
  if (offset + t.length > b.length) throw syntaxError('data truncated');
  if (t.compound || t.cls !== 0) return undefined;
  const inner = b.subarray(offset, offset + t.length);
  const text = latin1(inner);
  switch (t.tag) {
    case 19: if (!printable.test(text)) throw syntaxError('PrintableString contains invalid character'); return text;
    case 18: if (!/^[0-9 ]*$/.test(text)) throw syntaxError('NumericString contains invalid character'); return text;
    case 22: if (inner.some((c) => c >= 0x80)) throw syntaxError('IA5String contains invalid character'); return text;
    case 20: return text;
    case 12: {
      try { return new TextDecoder('utf-8', { fatal: true }).decode(inner); } catch { throw new GoError('asn1: invalid UTF-8 string'); }
    }
    case 30: {
      if (inner.length % 2 !== 0) throw new GoError('pkcs12: odd-length BMP string');
      const units: number[] = [];
      for (let i = 0; i + 1 < inner.length; i += 2) units.push(((inner[i] as number) << 8) | (inner[i + 1] as number));
      if (units.length > 0 && units[units.length - 1] === 0) units.pop();
      return String.fromCharCode(...units);
    }
    case 2: int64(inner); return undefined;
    case 3: bitStringBytes(inner); return undefined;
    case 6: oid(inner); return undefined;
    default: return undefined; // times and OCTET STRING: not checked further here
  }
}

/** pkix.RDNSequence → the subject's organisation values (FillFromRDNSequence keeps string values only). */
function subjectOrganizations(subject: Uint8Array): string[] {
  const orgs: string[] = [];
  const rdns = need(field(subject, 0, { name: 'RDNSequence', tag: 16, compound: true }));
  for (const rdn of sequenceOf(rdns.content, { tag: 17, compound: true })) {
    const set = need(field(rdn, 0, { name: 'RelativeDistinguishedNameSET', tag: 17, compound: true }));
    for (const atv of sequenceOf(set.content, { tag: 16, compound: true })) {
      const seq = need(field(atv, 0, { name: 'AttributeTypeAndValue', tag: 16, compound: true }));
      const type = need(field(seq.content, 0, { name: 'ObjectIdentifier', tag: 6, compound: false }));
      const typeOid = oid(type.content);
      const value = anyValue(seq.content, type.next);
      if (typeOid === '2.5.4.10' && value !== undefined) orgs.push(value);
    }
  }
  return orgs;
}

// ------------------------------------------------------------------ crypto/x509: requests

interface GoPublicKey {
  readonly algorithm: 'RSA' | 'ECDSA' | 'Ed25519' | 'DSA';
  readonly key?: KeyObject;
  readonly rsaBits?: number;
  readonly rsaOdd?: boolean;
  readonly rsaExponent?: number;
}

interface ParsedRequest {
  readonly tbs: Uint8Array;
  readonly signature: Uint8Array;
  readonly signatureAlgorithm: SignatureAlgorithm | undefined;
  readonly publicKey: GoPublicKey | undefined;
  readonly organizations: readonly string[];
}

const curves: Record<string, { name: string; size: number }> = {
  '1.3.132.0.33': { name: 'P-224', size: 28 },
  '1.2.840.10045.3.1.7': { name: 'P-256', size: 32 },
  '1.3.132.0.34': { name: 'P-384', size: 48 },
  '1.3.132.0.35': { name: 'P-521', size: 66 },
};
const publicKeyAlgorithms: Record<string, GoPublicKey['algorithm']> = {
  '1.2.840.113549.1.1.1': 'RSA', '1.2.840.10040.4.1': 'DSA', '1.2.840.10045.2.1': 'ECDSA', '1.3.101.112': 'Ed25519',
};
const nullBytes = Uint8Array.of(5, 0);

/** cryptobyte's strict DER read of one element with `tag` at `offset`, or undefined. */
function cb(buf: Uint8Array, offset: number, limit: number, tag?: number): Tlv | undefined {
  try {
    const tlv = readTlv(buf, offset, limit);
    return tag === undefined || tlv.tag === tag ? tlv : undefined;
  } catch {
    return undefined;
  }
}
/** cryptobyte ReadASN1Integer: the content of a minimally encoded INTEGER. */
function cbInteger(buf: Uint8Array, offset: number, limit: number): Tlv | undefined {
  const tlv = cb(buf, offset, limit, Tag.integer);
  if (!tlv || tlv.end === tlv.contentStart) return undefined;
  try { checkInteger(buf.subarray(tlv.contentStart, tlv.end)); } catch { return undefined; }
  return tlv;
}
const spkiKey = (der: Uint8Array): KeyObject => createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });

/** crypto/x509 parsePublicKey, with the key imported into node:crypto when Go would accept it. */
function parsePublicKey(algorithm: GoPublicKey['algorithm'], ai: AlgorithmIdentifier, der: Uint8Array): GoPublicKey {
  switch (algorithm) {
    case 'RSA': {
      if (!equalBytes(ai.params, nullBytes)) throw new GoError('x509: RSA key missing NULL parameters');
      const seq = cb(der, 0, der.length, Tag.sequence);
      if (!seq) throw new GoError('x509: invalid RSA public key');
      const n = cbInteger(der, seq.contentStart, seq.end);
      if (!n) throw new GoError('x509: invalid RSA modulus');
      const e = cbInteger(der, n.end, seq.end);
      if (!e || e.end - e.contentStart > 8) throw new GoError('x509: invalid RSA public exponent');
      const nBytes = der.subarray(n.contentStart, n.end);
      const eBytes = der.subarray(e.contentStart, e.end);
      if ((nBytes[0] as number) & 0x80 || nBytes.every((x) => x === 0)) throw new GoError('x509: RSA modulus is not a positive number');
      if ((eBytes[0] as number) & 0x80 || eBytes.every((x) => x === 0)) throw new GoError('x509: RSA public exponent is not a positive number');
      const exponent = eBytes.reduce((acc, x) => acc * 256 + x, 0);
      const magnitude = nBytes.subarray(nBytes.findIndex((x) => x !== 0));
      const rsaBits = (magnitude.length - 1) * 8 + (magnitude[0] as number).toString(2).length;
      let key: KeyObject | undefined;
      try {
        key = spkiKey(sequence(sequence(encodeOid('1.2.840.113549.1.1.1'), nullBytes), bitString(sequence(encodeUnsignedInteger(nBytes), encodeUnsignedInteger(eBytes)))));
      } catch { key = undefined; }
      return { algorithm, rsaBits, rsaOdd: ((nBytes[nBytes.length - 1] as number) & 1) === 1, rsaExponent: exponent, ...(key ? { key } : {}) };
    }
    case 'ECDSA': {
      const p = cb(ai.params, 0, ai.params.length, Tag.oid);
      let curveOid: string | undefined;
      try { curveOid = p ? oid(ai.params.subarray(p.contentStart, p.end)) : undefined; } catch { curveOid = undefined; }
      if (curveOid === undefined) throw new GoError('x509: invalid ECDSA parameters');
      const curve = curves[curveOid];
      if (!curve) throw new GoError('x509: unsupported elliptic curve');
      if (der.length !== 1 + 2 * curve.size || der[0] !== 4) throw new GoError('x509: failed to unmarshal elliptic curve point');
      try {
        return { algorithm, key: spkiKey(sequence(sequence(encodeOid('1.2.840.10045.2.1'), encodeOid(curveOid)), bitString(der))) };
      } catch {
        throw new GoError('x509: failed to unmarshal elliptic curve point');
      }
    }
    case 'Ed25519': {
      if (ai.params.length !== 0) throw new GoError('x509: Ed25519 key encoded with illegal parameters');
      if (der.length !== 32) throw new GoError('x509: wrong Ed25519 public key size');
      return { algorithm, key: spkiKey(sequence(sequence(encodeOid('1.3.101.112')), bitString(der))) };
    }
    case 'DSA': {
      const y = cbInteger(der, 0, der.length);
      if (!y) throw new GoError('x509: invalid DSA public key');
      const seq = cb(ai.params, 0, ai.params.length, Tag.sequence);
      const pp = seq && cbInteger(ai.params, seq.contentStart, seq.end);
      const q = pp && cbInteger(ai.params, pp.end, seq.end);
      const g = q && cbInteger(ai.params, q.end, seq.end);
      if (!seq || !pp || !q || !g) throw new GoError('x509: invalid DSA parameters');
      const positive = (buf: Uint8Array, t: Tlv): boolean => !((buf[t.contentStart] as number) & 0x80) && buf.subarray(t.contentStart, t.end).some((x) => x !== 0);
      if (!positive(der, y) || !positive(ai.params, pp) || !positive(ai.params, q) || !positive(ai.params, g)) throw new GoError('x509: zero or negative DSA parameter');
      return { algorithm };
    }
  }
}

/** parseCSRExtensions + the SAN checks of parseCertificateRequest. */
function checkRequestedExtensions(attributes: readonly Uint8Array[]): void {
  const seen = new Set<string>();
  for (const raw of attributes) {
    let values: Uint8Array[];
    let id: string;
    try {
      const attr = need(field(raw, 0, { name: 'pkcs10Attribute', tag: 16, compound: true }));
      if (attr.next !== raw.length) continue;
      const idField = need(field(attr.content, 0, { name: 'ObjectIdentifier', tag: 6, compound: false }));
      id = oid(idField.content);
      values = sequenceOf(need(field(attr.content, idField.next, { name: '', tag: 17, compound: true, set: true })).content, { any: true, tag: 0, compound: false });
    } catch {
      continue; // Go ignores attributes that do not parse
    }
    if (id !== '1.2.840.113549.1.9.14' || !values[0]) continue;
    const exts = need(field(values[0], 0, { name: '', tag: 16, compound: true }));
    for (const raw of sequenceOf(exts.content, { tag: 16, compound: true })) {
      const ext = need(field(raw, 0, { name: 'Extension', tag: 16, compound: true }));
      const extId = need(field(ext.content, 0, { name: 'ObjectIdentifier', tag: 6, compound: false }));
      const name = oid(extId.content);
      const critical = field(ext.content, extId.next, { name: 'bool', tag: 1, compound: false, optional: true });
      if (critical && (critical.content.length !== 1 || (critical.content[0] !== 0 && critical.content[0] !== 0xff))) throw syntaxError('invalid boolean');
      const value = need(field(ext.content, critical?.next ?? extId.next, { name: '', tag: 4, compound: false }));
      if (seen.has(name)) throw new GoError('x509: certificate request contains duplicate requested extensions');
      seen.add(name);
      if (name === '2.5.29.17') checkSubjectAltNames(value.content);
    }
  }
}

/** Go's strconv.Quote for ASCII text (what %q prints in Go's own messages). */
function goQuote(text: string): string {
  const named: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '"': '\\"', '\\': '\\\\' };
  return `"${[...text].map((c) => named[c] ?? (c < ' ' || c === '\x7f' ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : c)).join('')}"`;
}

/** domainToReverseLabels' verdict. */
function validDomain(host: string): boolean {
  const labels = host.split('.');
  return labels.every((l) => l.length > 0 && [...l].every((c) => c.charCodeAt(0) >= 33 && c.charCodeAt(0) <= 126));
}

const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);
const hostSafe = /^[a-zA-Z0-9\-_.~!$&'()*+,;=:[\]<>"]$/;

/** net/url unescape's refusals: a bad %-escape; in a host also ASCII escapes and characters a host may not hold. */
function unescapeError(text: string, host: boolean): string | undefined {
  for (let i = 0; i < text.length;) {
    const c = text[i] as string;
    if (c === '%') {
      if (i + 2 >= text.length || !isHex(text[i + 1]) || !isHex(text[i + 2])) return `invalid URL escape ${goQuote(text.slice(i, i + 3))}`;
      if (host && parseInt(text[i + 1] as string, 16) < 8 && text.slice(i, i + 3) !== '%25') return `invalid URL escape ${goQuote(text.slice(i, i + 3))}`;
      i += 3;
      continue;
    }
    if (host && c.charCodeAt(0) < 0x80 && !hostSafe.test(c)) return `invalid character ${goQuote(c)} in host name`;
    i++;
  }
  return undefined;
}

/** url.Parse for the URIs Go reads from a SAN: its error text, or the host it found. */
function parseUrl(raw: string): { error: string } | { host: string } {
  const hash = raw.indexOf('#');
  const u = hash < 0 ? raw : raw.slice(0, hash);
  const fail = (e: string, whole = u): { error: string } => ({ error: `parse ${goQuote(whole)}: ${e}` });
  if ([...u].some((c) => c < ' ' || c === '\x7f')) return fail('net/url: invalid control character in URL');
  let scheme = '';
  let rest = u;
  const schemeMatch = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(u);
  if (u.startsWith(':')) return fail('missing protocol scheme');
  if (schemeMatch) { scheme = schemeMatch[1] ?? ''; rest = u.slice(scheme.length + 1); }
  const q = rest.endsWith('?') && rest.split('?').length === 2 ? rest.length - 1 : rest.indexOf('?');
  if (q >= 0) rest = rest.slice(0, q);
  let host = '';
  if (!rest.startsWith('/')) {
    if (scheme !== '') return { host };
    if ((rest.split('/')[0] ?? '').includes(':')) return fail('first path segment in URL cannot contain colon');
  }
  if (rest.startsWith('//') && (scheme !== '' || !rest.startsWith('///'))) {
    const slash = rest.indexOf('/', 2);
    const authority = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
    rest = slash < 0 ? '' : rest.slice(slash);
    const at = authority.lastIndexOf('@');
    host = authority.slice(at + 1);
    const bracket = host.startsWith('[') ? host.lastIndexOf(']') : -1;
    if (host.startsWith('[') && bracket < 0) return fail("missing ']' in host");
    const colon = host.startsWith('[') ? bracket + 1 : host.lastIndexOf(':');
    const port = colon >= 0 && colon < host.length ? host.slice(colon) : '';
    if (port !== '' && !/^:[0-9]*$/.test(port)) return fail(`invalid port ${goQuote(port)} after host`);
    const hostError = unescapeError(host, true);
    if (hostError) return fail(hostError);
    if (at >= 0 && !/^[a-zA-Z0-9\-._:~!$&'()*+,;=%@]*$/.test(authority.slice(0, at))) return fail('net/url: invalid userinfo');
    if (at >= 0) {
      const userError = unescapeError(authority.slice(0, at), false);
      if (userError) return fail(userError);
    }
  }
  const pathError = unescapeError(rest, false);
  if (pathError) return fail(pathError);
  if (hash >= 0) {
    const fragmentError = unescapeError(raw.slice(hash + 1), false);
    if (fragmentError) return fail(fragmentError, raw);
  }
  return { host: host.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))) };
}

/** parseSANExtension's checks (forEachSAN over cryptobyte). */
function checkSubjectAltNames(der: Uint8Array): void {
  const seq = cb(der, 0, der.length, Tag.sequence);
  if (!seq) throw new GoError('x509: invalid subject alternative names');
  for (let offset = seq.contentStart; offset < seq.end;) {
    const san = cb(der, offset, seq.end);
    if (!san) throw new GoError('x509: invalid subject alternative name');
    const data = der.subarray(san.contentStart, san.end);
    const ascii = data.every((c) => c < 0x80);
    const text = latin1(data);
    switch (san.tag ^ 0x80) {
      case 1: if (!ascii) throw new GoError('x509: SAN rfc822Name is malformed'); break;
      case 2: if (!ascii) throw new GoError('x509: SAN dNSName is malformed'); break;
      case 6: {
        if (!ascii) throw new GoError('x509: SAN uniformResourceIdentifier is malformed');
        const parsed = parseUrl(text);
        if ('error' in parsed) throw new GoError(`x509: cannot parse URI ${goQuote(text)}: ${parsed.error}`);
        if (parsed.host && !validDomain(parsed.host)) throw new GoError(`x509: cannot parse URI ${goQuote(text)}: invalid domain`);
        break;
      }
      case 7: if (data.length !== 4 && data.length !== 16) throw new GoError(`x509: cannot parse IP address of length ${data.length}`); break;
      default: break;
    }
    offset = san.end;
  }
}

/** x509.ParseCertificateRequest, reporting Go's error text. */
function parseCertificateRequest(der: Uint8Array): ParsedRequest {
  const outer = need(field(der, 0, { name: 'certificateRequest', tag: 16, compound: true }));
  const csr = outer.content;
  const tbs = need(field(csr, 0, { name: 'tbsCertificateRequest', tag: 16, compound: true }));
  const t = tbs.content;
  const version = need(field(t, 0, { name: 'int', tag: 2, compound: false }));
  int64(version.content);
  const subject = need(field(t, version.next, { name: 'RawValue', tag: 0, compound: false, any: true }));
  const pki = need(field(t, subject.next, { name: 'publicKeyInfo', tag: 16, compound: true }));
  const [keyAlgorithm, afterAlgorithm] = algorithmIdentifier(pki.content, 0);
  const keyBits = bitStringBytes(need(field(pki.content, afterAlgorithm, { name: 'BitString', tag: 3, compound: false })).content);
  const attributes = need(field(t, pki.next, { name: '', tag: 16, compound: true, implicit: 0 }));
  const rawAttributes = sequenceOf(attributes.content, { any: true, tag: 0, compound: false });
  const [signatureAi, afterSignatureAi] = algorithmIdentifier(csr, tbs.next);
  const signature = bitStringBytes(need(field(csr, afterSignatureAi, { name: 'BitString', tag: 3, compound: false })).content);
  if (outer.next !== der.length) throw syntaxError('trailing data');

  const algorithm = publicKeyAlgorithms[keyAlgorithm.oid];
  const publicKey = algorithm ? parsePublicKey(algorithm, keyAlgorithm, keyBits) : undefined;
  const organizations = subjectOrganizations(subject.full);
  checkRequestedExtensions(rawAttributes);
  return { tbs: tbs.full, signature, signatureAlgorithm: signatureAlgorithmOf(signatureAi), publicKey, organizations };
}

interface SignatureAlgorithm {
  readonly name: string;
  readonly key: GoPublicKey['algorithm'];
  /** node:crypto digest, or null for pure Ed25519, 'md5'/'md2' refused. */
  readonly hash: string | null;
  readonly pss?: number;
}
const signatureAlgorithms: Record<string, SignatureAlgorithm> = {
  '1.2.840.113549.1.1.2': { name: 'MD2-RSA', key: 'RSA', hash: 'md2' },
  '1.2.840.113549.1.1.4': { name: 'MD5-RSA', key: 'RSA', hash: 'md5' },
  '1.2.840.113549.1.1.5': { name: 'SHA1-RSA', key: 'RSA', hash: 'sha1' },
  '1.3.14.3.2.29': { name: 'SHA1-RSA', key: 'RSA', hash: 'sha1' },
  '1.2.840.113549.1.1.11': { name: 'SHA256-RSA', key: 'RSA', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { name: 'SHA384-RSA', key: 'RSA', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { name: 'SHA512-RSA', key: 'RSA', hash: 'sha512' },
  '1.2.840.10040.4.3': { name: 'DSA-SHA1', key: 'DSA', hash: 'sha1' },
  '2.16.840.1.101.3.4.3.2': { name: 'DSA-SHA256', key: 'DSA', hash: 'sha256' },
  '1.2.840.10045.4.1': { name: 'ECDSA-SHA1', key: 'ECDSA', hash: 'sha1' },
  '1.2.840.10045.4.3.2': { name: 'ECDSA-SHA256', key: 'ECDSA', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { name: 'ECDSA-SHA384', key: 'ECDSA', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { name: 'ECDSA-SHA512', key: 'ECDSA', hash: 'sha512' },
  '1.3.101.112': { name: 'Ed25519', key: 'Ed25519', hash: null },
};
const pssHashes: Record<string, [string, number]> = {
  '2.16.840.1.101.3.4.2.1': ['sha256', 32], '2.16.840.1.101.3.4.2.2': ['sha384', 48], '2.16.840.1.101.3.4.2.3': ['sha512', 64],
};

/** getSignatureAlgorithmFromAI; undefined is Go's UnknownSignatureAlgorithm. */
function signatureAlgorithmOf(ai: AlgorithmIdentifier): SignatureAlgorithm | undefined {
  if (ai.oid === '1.3.101.112' && ai.params.length !== 0) return undefined;
  if (ai.oid !== '1.2.840.113549.1.1.10') return signatureAlgorithms[ai.oid];
  try {
    const p = need(field(ai.params, 0, { name: 'pssParameters', tag: 16, compound: true })).content;
    /**
     * An EXPLICIT [n] field as encoding/asn1 reads it: past the wrapper's header the child is
     * read from the enclosing bytes, the wrapper's own length unchecked. Undefined when absent.
     */
    const explicit = (at: number, n: number, inner: FieldSpec, optional = false): Field | undefined => {
      if (at === p.length && optional) return undefined;
      const [t, offset] = tagAndLength(p, at);
      if (t.cls !== 2 || t.tag !== n || (t.length !== 0 && !t.compound)) {
        if (optional) return undefined;
        throw structuralError("explicitly tagged member didn't match");
      }
      if (t.length === 0) throw structuralError('zero length explicit tag was not an asn1.Flag');
      return need(field(p, offset, inner));
    };
    const aiSpec: FieldSpec = { name: 'AlgorithmIdentifier', tag: 16, compound: true };
    const intSpec: FieldSpec = { name: 'int', tag: 2, compound: false };
    const hashField = need(explicit(0, 0, aiSpec));
    const [hash] = algorithmIdentifier(hashField.full, 0);
    const mgfField = need(explicit(hashField.next, 1, aiSpec));
    const [mgf] = algorithmIdentifier(mgfField.full, 0);
    const salt = need(explicit(mgfField.next, 2, intSpec));
    int64(salt.content);
    const trailerField = explicit(salt.next, 3, intSpec, true);
    if (trailerField) int64(trailerField.content);
    const trailer = trailerField?.content ?? Uint8Array.of(1);
    const [mgfHash] = algorithmIdentifier(mgf.params, 0);
    const nullOrAbsent = (b: Uint8Array): boolean => b.length === 0 || equalBytes(b, nullBytes);
    const known = pssHashes[hash.oid];
    const saltLength = salt.content.reduce((acc, x) => acc * 256 + x, 0);
    if (!nullOrAbsent(hash.params) || mgf.oid !== '1.2.840.113549.1.1.8' || mgfHash.oid !== hash.oid || !nullOrAbsent(mgfHash.params)
      || !equalBytes(trailer, Uint8Array.of(1)) || !known || saltLength !== known[1]) return undefined;
    return { name: `${known[0].toUpperCase()}-RSAPSS`, key: 'RSA', hash: known[0], pss: known[1] };
  } catch {
    return undefined;
  }
}

const goKeyType: Record<GoPublicKey['algorithm'], string> = { RSA: '*rsa.PublicKey', ECDSA: '*ecdsa.PublicKey', Ed25519: 'ed25519.PublicKey', DSA: '*dsa.PublicKey' };
const unsupported = 'x509: cannot verify signature: algorithm unimplemented';

/** CertificateRequest.CheckSignature (allowSHA1 = true for requests), Go 1.24 crypto/rsa key checks. */
function checkSignature(r: ParsedRequest): string | undefined {
  const algorithm = r.signatureAlgorithm;
  if (!algorithm || algorithm.hash === 'md2') return unsupported;
  if (algorithm.hash === 'md5') return `x509: cannot verify signature: insecure algorithm ${algorithm.name}`;
  const key = r.publicKey;
  if (!key || key.algorithm === 'DSA') return unsupported;
  if (key.algorithm !== algorithm.key) return `x509: signature algorithm specifies an ${algorithm.key} public key, but have public key of type ${goKeyType[key.algorithm]}`;
  if (key.algorithm === 'RSA') {
    const bits = key.rsaBits ?? 0;
    const e = key.rsaExponent ?? 0;
    if (bits < 1024) return `crypto/rsa: ${bits}-bit keys are insecure (see https://go.dev/pkg/crypto/rsa#hdr-Minimum_key_size)`;
    if (!key.rsaOdd) return 'crypto/rsa: public modulus is even';
    if (e < 2) return 'crypto/rsa: public exponent too small or negative';
    if (e % 2 === 0) return 'crypto/rsa: public exponent is even';
    if (e > 0x7fffffff) return 'crypto/rsa: public exponent too large';
  }
  let ok = false;
  try {
    if (key.key) {
      const keyInput = algorithm.pss === undefined ? key.key : { key: key.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: algorithm.pss };
      ok = verify(algorithm.hash, r.tbs, keyInput, r.signature);
    }
  } catch {
    ok = false;
  }
  if (ok) return undefined;
  return { RSA: 'crypto/rsa: verification error', ECDSA: 'x509: ECDSA verification failure', Ed25519: 'x509: Ed25519 verification failure', DSA: unsupported }[key.algorithm];
}

/** certificates.ParseCSR: the first PEM block must be a CERTIFICATE REQUEST that Go parses. */
function parseCsr(pem: Uint8Array): ParsedRequest | string {
  const decoded = pemDecode(latin1(pem));
  if (decoded?.block.type !== 'CERTIFICATE REQUEST') return 'PEM block type must be CERTIFICATE REQUEST';
  try {
    return parseCertificateRequest(decoded.block.bytes);
  } catch (e) {
    if (e instanceof GoError) return e.message;
    throw e;
  }
}

// ------------------------------------------------------------------ crypto/x509: certificates (status.certificate)

/** A cryptobyte.String: strict DER reads from the front of `buf[pos, end)`. */
class Reader {
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

/** parser.go parseAI. */
function parseAi(r: Reader): AlgorithmIdentifier {
  const algorithm = r.oid();
  if (algorithm === undefined) throw new GoError('x509: malformed OID');
  if (r.empty) return { oid: algorithm, params: new Uint8Array(0) };
  const params = r.element();
  if (!params) throw new GoError('x509: malformed parameters');
  return { oid: algorithm, params: r.buf.subarray(params.start, params.end) };
}

/** parser.go parseASN1String: the error text, or undefined. */
function asn1StringError(tag: number, value: Uint8Array): string | undefined {
  const text = latin1(value);
  switch (tag) {
    case 20: return undefined;
    case 19: return printable.test(text) ? undefined : 'invalid PrintableString';
    case 12: try { new TextDecoder('utf-8', { fatal: true }).decode(value); return undefined; } catch { return 'invalid UTF-8 string'; }
    case 30: return value.length % 2 === 0 ? undefined : 'invalid BMPString';
    case 22: return value.every((c) => c < 0x80) ? undefined : 'invalid IA5String';
    case 18: return /^[0-9 ]*$/.test(text) ? undefined : 'invalid NumericString';
    default: return `unsupported string type: ${tag}`;
  }
}

/** parser.go parseName. */
function parseName(r: Reader): void {
  const rdns = r.read(Tag.sequence);
  if (!rdns) throw new GoError('x509: invalid RDNSequence');
  while (!rdns.empty) {
    const set = rdns.read(Tag.set);
    if (!set) throw new GoError('x509: invalid RDNSequence');
    while (!set.empty) {
      const atv = set.read(Tag.sequence);
      if (!atv) throw new GoError('x509: invalid RDNSequence: invalid attribute');
      if (atv.oid() === undefined) throw new GoError('x509: invalid RDNSequence: invalid attribute type');
      const value = atv.element();
      if (!value) throw new GoError('x509: invalid RDNSequence: invalid attribute value');
      const problem = asn1StringError(value.tag, atv.buf.subarray(value.contentStart, value.end));
      if (problem) throw new GoError(`x509: invalid RDNSequence: invalid attribute value: ${problem}`);
    }
  }
}

const daysIn = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();
/** cryptobyte ReadASN1UTCTime / ReadASN1GeneralizedTime: Go's layouts, and the value must format back to itself. */
function validTime(tag: number, text: string): boolean {
  const m = tag === 23
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(Z|[+-]\d{4})$/.exec(text)
    : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(Z|[+-]\d{4})$/.exec(text);
  if (!m) return false;
  const [, y = '', mo = '', d = '', h = '', mi = '', sec = '00', zone = ''] = m;
  const year = tag === 23 ? 2000 + Number(y) : Number(y);
  if (zone !== 'Z' && (/^[+-]0000$/.test(zone) || Number(zone.slice(1, 3)) > 23 || Number(zone.slice(3)) > 59)) return false;
  return Number(mo) >= 1 && Number(mo) <= 12 && Number(d) >= 1 && Number(d) <= daysIn(year, Number(mo)) && Number(h) < 24 && Number(mi) < 60 && Number(sec) < 60;
}
function parseTime(r: Reader): void {
  for (const [tag, name] of [[23, 'UTCTime'], [24, 'GeneralizedTime']] as const) {
    if (!r.peek(tag)) continue;
    const t = r.read(tag);
    if (!t || !validTime(tag, latin1(t.bytes()))) throw new GoError(`x509: malformed ${name}`);
    return;
  }
  throw new GoError('x509: unsupported time format');
}

/** processExtensions: the checks of the extensions Go decodes (name constraints are not checked here). */
function processExtension(id: string, value: Uint8Array): void {
  const r = Reader.of(value);
  const fail = (m: string): never => { throw new GoError(`x509: ${m}`); };
  switch (id) {
    case '2.5.29.15': if (!r.bitString()) fail('invalid key usage'); break;
    case '2.5.29.19': {
      const seq = r.read(Tag.sequence) ?? fail('invalid basic constraints a');
      if (seq.peek(Tag.boolean) && !seq.boolean()) fail('invalid basic constraints b');
      if (!seq.empty && seq.peek(Tag.integer)) {
        const n = seq.integer();
        if (!n || n.length > 8) fail('invalid basic constraints c');
      }
      break;
    }
    case '2.5.29.17': checkSubjectAltNames(value); break;
    case '2.5.29.31': {
      const seq = r.read(Tag.sequence) ?? fail('invalid CRL distribution points');
      while (!seq.empty) {
        const dp = seq.read(Tag.sequence) ?? fail('invalid CRL distribution point');
        if (!dp.peek(0xa0)) continue;
        const name = dp.read(0xa0) ?? fail('invalid CRL distribution point');
        const full = name.read(0xa0) ?? fail('invalid CRL distribution point');
        while (!full.empty && full.peek(0x86)) if (!full.read(0x86)) fail('invalid CRL distribution point');
      }
      break;
    }
    case '2.5.29.35': {
      const akid = r.read(Tag.sequence) ?? fail('invalid authority key identifier');
      if (akid.peek(0x80) && !akid.read(0x80)) fail('invalid authority key identifier');
      break;
    }
    case '2.5.29.37': {
      const seq = r.read(Tag.sequence) ?? fail('invalid extended key usages');
      while (!seq.empty) if (seq.oid() === undefined) fail('invalid extended key usages');
      break;
    }
    case '2.5.29.14': if (!r.read(Tag.octetString)) fail('invalid subject key identifier'); break;
    case '2.5.29.32': {
      const seq = r.read(Tag.sequence) ?? fail('invalid certificate policies');
      while (!seq.empty) {
        const policy = seq.read(Tag.sequence) ?? fail('invalid certificate policies');
        if (policy.oid() === undefined) fail('invalid certificate policies');
      }
      break;
    }
    case '1.3.6.1.5.5.7.1.1': {
      const seq = r.read(Tag.sequence) ?? fail('invalid authority info access');
      while (!seq.empty) {
        const access = seq.read(Tag.sequence) ?? fail('invalid authority info access');
        if (access.oid() === undefined) fail('invalid authority info access');
        if (access.peek(0x86) && !access.read(0x86)) fail('invalid authority info access');
      }
      break;
    }
    default: break;
  }
}

/** One certificate as parser.go parseCertificate reads it; returns where it ends. */
function parseCertificate(input: Reader): void {
  const malformed = (what: string): never => { throw new GoError(`x509: malformed ${what}`); };
  const cert = input.read(Tag.sequence) ?? malformed('certificate');
  const tbs = cert.read(Tag.sequence) ?? malformed('tbs certificate');
  let version = 0;
  if (tbs.peek(0xa0)) {
    const wrapper = tbs.read(0xa0) ?? malformed('version');
    const v = wrapper.integer();
    if (!v || !wrapper.empty || v.length > 8 || (v[0] as number) & 0x80) malformed('version');
    if ((v?.length ?? 0) > 1 || (v?.[0] ?? 0) > 2) throw new GoError('x509: invalid version');
    version = v?.[0] ?? 0;
  }
  const serial = tbs.integer() ?? malformed('serial number');
  if ((serial[0] as number) & 0x80) throw new GoError('x509: negative serial number');
  const innerAi = tbs.read(Tag.sequence) ?? malformed('signature algorithm identifier');
  const outerAi = cert.read(Tag.sequence) ?? malformed('algorithm identifier');
  if (!equalBytes(innerAi.bytes(), outerAi.bytes())) throw new GoError("x509: inner and outer signature algorithm identifiers don't match");
  parseAi(innerAi);
  const issuer = tbs.element(Tag.sequence) ?? malformed('issuer');
  parseName(new Reader(tbs.buf, issuer.start, issuer.end));
  const validity = tbs.read(Tag.sequence) ?? malformed('validity');
  parseTime(validity);
  parseTime(validity);
  // Go reports a bad subject as "malformed issuer" too.
  const subject = tbs.element(Tag.sequence) ?? malformed('issuer');
  parseName(new Reader(tbs.buf, subject.start, subject.end));
  const spki = tbs.read(Tag.sequence) ?? malformed('spki');
  const keyAi = parseAi(spki.read(Tag.sequence) ?? malformed('public key algorithm identifier'));
  const keyBits = spki.bitString() ?? malformed('subjectPublicKey');
  const algorithm = publicKeyAlgorithms[keyAi.oid];
  if (algorithm) parsePublicKey(algorithm, keyAi, keyBits);
  if (version > 0) {
    if (tbs.peek(0x81) && !tbs.read(0x81)) malformed('issuerUniqueID');
    if (tbs.peek(0x82) && !tbs.read(0x82)) malformed('subjectUniqueID');
    if (version === 2 && tbs.peek(0xa3)) {
      const wrapper = tbs.read(0xa3) ?? malformed('extensions');
      const extensions = wrapper.read(Tag.sequence) ?? malformed('extensions');
      const seen = new Map<string, Uint8Array>();
      while (!extensions.empty) {
        const ext = extensions.read(Tag.sequence) ?? malformed('extension');
        const id = ext.oid() ?? malformed('extension OID field');
        if (ext.peek(Tag.boolean) && !ext.boolean()) malformed('extension critical field');
        const value = ext.read(Tag.octetString) ?? malformed('extension value field');
        if (seen.has(id)) throw new GoError(`x509: certificate contains duplicate extension with OID ${quote(id)}`);
        seen.set(id, value.bytes());
      }
      for (const [id, value] of seen) processExtension(id, value);
    }
  }
  if (!cert.bitString()) malformed('signature');
}

/** x509.ParseCertificates: the number of certificates in `der`, or Go's error. */
function parseCertificates(der: Uint8Array): number {
  const input = Reader.of(der);
  let count = 0;
  for (; !input.empty; count++) parseCertificate(input);
  return count;
}

/** validation.go validateCertificate. */
function certificateError(pem: Uint8Array): string | undefined {
  if (pem.length === 0) return undefined;
  let data = latin1(pem);
  let blocks = 0;
  for (let d = pemDecode(data); d; d = pemDecode(data)) {
    if (d.block.type !== 'CERTIFICATE') return `only CERTIFICATE PEM blocks are allowed, found ${quote(d.block.type)}`;
    if (d.block.headers !== 0) return 'no PEM block headers are permitted';
    blocks++;
    try {
      if (parseCertificates(d.block.bytes) === 0) return 'found CERTIFICATE PEM block containing 0 certificates';
    } catch (e) {
      if (e instanceof GoError) return e.message;
      throw e;
    }
    data = d.rest;
  }
  return blocks === 0 ? 'must contain at least one CERTIFICATE PEM block' : undefined;
}

// ------------------------------------------------------------------ signer names (core/validation/names.go)

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const labelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const subdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');

function labelErrors(value: string): string[] {
  const errors = byteLength(value) > 63 ? ['must be no more than 63 characters'] : [];
  if (!dns1123Label.test(value)) errors.push(dns1123Subdomain.test(value) ? 'must not contain dots' : labelMessage);
  return errors;
}
function subdomainErrors(value: string): string[] {
  const errors = byteLength(value) > 253 ? ['must be no more than 253 characters'] : [];
  if (!dns1123Subdomain.test(value)) errors.push(subdomainMessage);
  return errors;
}

function signerNameErrors(path: string, signerName: string): FieldError[] {
  if (signerName === '') return [required(path, 'signerName must be provided')];
  const segments = signerName.split('/');
  if (segments.length !== 2) return [invalidField(path, quote(signerName), "must be a fully qualified domain and path of the form 'example.com/signer-name'")];
  const [domain = '', rest = ''] = segments;
  const errors: FieldError[] = [];
  if (byteLength(domain) > 253) errors.push({ type: 'FieldValueTooLong', field: path, detail: 'may not be more than 253 bytes' });
  const domainLabels = domain.split('.');
  for (const label of domainLabels) {
    const found = labelErrors(label);
    for (const e of found) errors.push(invalidField(path, quote(domain), `validating label ${quote(label)}: ${e}`));
    if (found.length > 0) break;
  }
  if (domainLabels.length < 2) errors.push(invalidField(path, quote(domain), 'should be a domain with at least two segments separated by dots'));
  for (const label of rest.split('.')) {
    const found = subdomainErrors(label);
    for (const e of found) errors.push(invalidField(path, quote(rest), `validating label ${quote(label)}: ${e}`));
    if (found.length > 0) break;
  }
  if (byteLength(signerName) > 571) errors.push({ type: 'FieldValueTooLong', field: path, detail: 'may not be more than 571 bytes' });
  return errors;
}

// ------------------------------------------------------------------ the object validation (validation.go)

interface Options {
  allowSettingApprovalConditions?: boolean;
  allowSettingCertificate?: boolean;
  allowBothApprovedAndDenied?: boolean;
  allowLegacySignerName?: boolean;
  allowDuplicateConditionTypes?: boolean;
  allowEmptyConditionType?: boolean;
  allowArbitraryCertificate?: boolean;
  allowUnknownUsages?: boolean;
  allowDuplicateUsages?: boolean;
}

const spec = (o: Obj): Obj => obj(o.spec);
const conditionsOf = (o: Obj): Obj[] => list(obj(o.status).conditions).map(obj);
const usagesOf = (o: Obj): string[] => list(spec(o).usages).map(str);
const certificateOf = (o: Obj): Uint8Array => jsonBytes(obj(o.status).certificate);
const trueOnly = new Set(['Approved', 'Denied', 'Failed']);

function conditionErrors(conditions: readonly Obj[], opts: Options): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  let approved = false;
  let denied = false;
  conditions.forEach((c, i) => {
    const path = `status.conditions[${i}]`;
    const type = str(c.type);
    const status = str(c.status);
    if (!opts.allowEmptyConditionType && type === '') errors.push(required(`${path}.type`));
    const allowed = trueOnly.has(type) ? ['True'] : ['False', 'True', 'Unknown'];
    if (status === '') errors.push(required(`${path}.status`));
    else if (!allowed.includes(status)) {
      errors.push({ type: 'FieldValueNotSupported', field: `${path}.status`, value: quote(status), detail: `supported values: ${allowed.map(quote).join(', ')}` });
    }
    if (!opts.allowBothApprovedAndDenied) {
      if (type === 'Approved') { approved = true; if (denied) errors.push(invalidField(`${path}.type`, quote(type), 'Approved and Denied conditions are mutually exclusive')); }
      if (type === 'Denied') { denied = true; if (approved) errors.push(invalidField(`${path}.type`, quote(type), 'Approved and Denied conditions are mutually exclusive')); }
    }
    if (!opts.allowDuplicateConditionTypes) {
      if (seen.has(type)) errors.push({ type: 'FieldValueDuplicate', field: `${path}.type`, value: quote(type) });
      seen.add(type);
    }
  });
  return errors;
}

function validateObject(o: Obj, opts: Options): FieldError[] {
  const metadata = obj(o.metadata);
  const errors: FieldError[] = [];
  // ValidateObjectMeta with a name validator that accepts every name (ValidateCertificateRequestName).
  if (str(metadata.name) === '' && str(metadata.generateName) === '') errors.push(required('metadata.name', 'name or generateName is required'));
  const s = spec(o);
  const request = jsonBytes(s.request);
  const parsed = parseCsr(request);
  const requestError = typeof parsed === 'string' ? parsed : checkSignature(parsed);
  if (requestError !== undefined) errors.push(invalidField('spec.request', s.request === undefined || s.request === null ? '[]byte(nil)' : goBytes(request), requestError));
  const usages = usagesOf(o);
  if (usages.length === 0) errors.push(required('spec.usages', 'usages must be provided'));
  if (!opts.allowUnknownUsages) {
    usages.forEach((u, i) => {
      if (!supportedUsages.includes(u)) {
        errors.push({ type: 'FieldValueNotSupported', field: `spec.usages[${i}]`, value: quote(u), detail: `supported values: ${supportedUsages.map(quote).join(', ')}` });
      }
    });
  }
  if (!opts.allowDuplicateUsages) {
    const seen = new Set<string>();
    usages.forEach((u, i) => {
      if (seen.has(u)) errors.push({ type: 'FieldValueDuplicate', field: `spec.usages[${i}]`, value: quote(u) });
      seen.add(u);
    });
  }
  const signerName = str(s.signerName);
  if (!opts.allowLegacySignerName && signerName === legacyUnknown) {
    errors.push(invalidField('spec.signerName', quote(signerName), 'the legacy signerName is not allowed via this API version'));
  } else {
    errors.push(...signerNameErrors('spec.signerName', signerName));
  }
  if (typeof s.expirationSeconds === 'number' && s.expirationSeconds < 600) {
    errors.push(invalidField('spec.expirationSeconds', String(s.expirationSeconds), 'may not specify a duration less than 600 seconds (10 minutes)'));
  }
  errors.push(...conditionErrors(conditionsOf(o), opts));
  if (!opts.allowArbitraryCertificate) {
    const problem = certificateError(certificateOf(o));
    if (problem !== undefined) errors.push(invalidField('status.certificate', quote('<certificate data>'), problem));
  }
  return errors;
}

/** getValidationOptions: tolerate what the stored object already gets wrong. */
function compatibilityOptions(next: Obj, old: Obj): Options {
  const types = conditionsOf(old).map((c) => str(c.type));
  const usages = usagesOf(old);
  return {
    allowBothApprovedAndDenied: types.includes('Approved') && types.includes('Denied'),
    allowLegacySignerName: str(spec(old).signerName) === legacyUnknown,
    allowDuplicateConditionTypes: new Set(types).size !== types.length,
    allowEmptyConditionType: types.includes(''),
    allowArbitraryCertificate: equalBytes(certificateOf(next), certificateOf(old)) || certificateError(certificateOf(old)) !== undefined,
    allowUnknownUsages: usages.some((u) => !supportedUsages.includes(u)),
    allowDuplicateUsages: new Set(usages).size !== usages.length,
  };
}

/**
 * ValidateCertificateSigningRequest{,Status,Approval}Update on objects the strategy
 * has already prepared. Metadata update rules (immutable name, uid…) are the generic
 * layer's. "updates may not modify a condition of type" is not produced: it carries a
 * go-cmp diff, and no REST path can reach it (see the file comment).
 */
export function validateCsrUpdate(next: Obj, old: Obj, subresource: CsrSubresource): FieldError[] {
  const opts: Options = {
    ...compatibilityOptions(next, old),
    allowSettingCertificate: subresource === 'status',
    allowSettingApprovalConditions: subresource === 'approval',
  };
  const errors = validateObject(next, opts);
  const count = (o: Obj, type: string): number => conditionsOf(o).filter((c) => c.type === type).length;
  for (const type of ['Approved', 'Denied', 'Failed']) {
    if (count(next, type) < count(old, type)) errors.push(forbiddenField('status.conditions', `updates may not remove a condition of type ${quote(type)}`));
  }
  if (!opts.allowSettingApprovalConditions) {
    for (const type of ['Approved', 'Denied']) {
      if (count(next, type) > count(old, type)) errors.push(forbiddenField('status.conditions', `updates may not add a condition of type ${quote(type)}`));
    }
  }
  const oldCertificate = certificateOf(old);
  if (!equalBytes(certificateOf(next), oldCertificate)) {
    if (!opts.allowSettingCertificate) errors.push(forbiddenField('status.certificate', 'updates may not set certificate content'));
    else if (oldCertificate.length > 0) errors.push(forbiddenField('status.certificate', 'updates may not modify existing certificate content'));
  }
  return errors;
}

// ------------------------------------------------------------------ JSON decoding (what Go's decoder refuses with 400)

const jsonKind = (v: unknown): string => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v === 'boolean' ? 'bool' : typeof v);
/** A JSON document has no undefined values: a key holding one is absent. */
const entries = (o: Obj): [string, unknown][] => Object.entries(o).filter(([, v]) => v !== undefined);
const typeError = (v: unknown, struct: string, path: string, goType: string): string =>
  `json: cannot unmarshal ${jsonKind(v)} into Go struct field ${struct}.${path} of type ${goType}`;
const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function bytesError(v: unknown, struct: string, path: string): string | undefined {
  if (v === null) return undefined;
  if (typeof v !== 'string') return typeError(v, struct, path, '[]uint8');
  const r = goBase64(Buffer.from(v, 'utf8').toString('latin1'));
  return 'error' in r ? `illegal base64 data at input byte ${r.error}` : undefined;
}
function stringError(v: unknown, struct: string, path: string, goType = 'string'): string | undefined {
  return v === null || typeof v === 'string' ? undefined : typeError(v, struct, path, goType);
}

/** The first error Go's JSON decoder reports for the fields it types, or undefined. */
function decodeProblem(body: Obj): string | undefined {
  let saved: string | undefined;
  const save = (e: string | undefined): void => { saved ??= e; };
  for (const [key, value] of entries(body)) {
    if (value === null) continue;
    if (key === 'spec') {
      if (!isObj(value)) { save(typeError(value, 'CertificateSigningRequest', 'spec', 'v1.CertificateSigningRequestSpec')); continue; }
      const S = 'CertificateSigningRequestSpec';
      for (const [k, v] of entries(value)) {
        if (k === 'request') save(bytesError(v, S, 'spec.request'));
        else if (k === 'signerName' || k === 'username' || k === 'uid') save(stringError(v, S, `spec.${k}`));
        else if (k === 'expirationSeconds' && v !== null) {
          if (typeof v !== 'number') save(typeError(v, S, 'spec.expirationSeconds', 'int32'));
          else if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) save(`json: cannot unmarshal number ${v} into Go struct field ${S}.spec.expirationSeconds of type int32`);
        } else if ((k === 'usages' || k === 'groups') && v !== null) {
          if (!Array.isArray(v)) save(typeError(v, S, `spec.${k}`, k === 'usages' ? '[]v1.KeyUsage' : '[]string'));
          else for (const u of v) save(stringError(u, S, `spec.${k}`, k === 'usages' ? 'v1.KeyUsage' : 'string'));
        }
      }
    } else if (key === 'status') {
      if (!isObj(value)) { save(typeError(value, 'CertificateSigningRequest', 'status', 'v1.CertificateSigningRequestStatus')); continue; }
      const S = 'CertificateSigningRequestStatus';
      for (const [k, v] of entries(value)) {
        if (k === 'certificate') save(bytesError(v, S, 'status.certificate'));
        if (k !== 'conditions' || v === null) continue;
        if (!Array.isArray(v)) { save(typeError(v, S, 'status.conditions', '[]v1.CertificateSigningRequestCondition')); continue; }
        for (const c of v) {
          if (c === null) continue;
          if (!isObj(c)) { save(typeError(c, S, 'status.conditions', 'v1.CertificateSigningRequestCondition')); continue; }
          const C = 'CertificateSigningRequestCondition';
          for (const [ck, cv] of entries(c)) {
            if (ck === 'type') save(stringError(cv, C, 'status.conditions.type', 'v1.RequestConditionType'));
            else if (ck === 'status') save(stringError(cv, C, 'status.conditions.status', 'v1.ConditionStatus'));
            else if (ck === 'reason' || ck === 'message') save(stringError(cv, C, `status.conditions.${ck}`));
            else if ((ck === 'lastUpdateTime' || ck === 'lastTransitionTime') && cv !== null) {
              // metav1.Time.UnmarshalJSON's error ends decoding at once, ahead of any saved error.
              if (typeof cv !== 'string') return `json: cannot unmarshal ${jsonKind(cv)} into Go value of type string`;
              if (!rfc3339.test(cv) || Number.isNaN(Date.parse(cv))) return `parsing time ${quote(cv)} as "2006-01-02T15:04:05Z07:00": cannot parse ${quote(cv)} as "2006"`;
            }
          }
        }
      }
    }
  }
  return saved;
}

/**
 * The 400 kube-apiserver answers when the body cannot be decoded into the typed object
 * (a []byte field that is not base64, a number where a string belongs…), or undefined.
 * Time-format errors are approximated (Go names the failing layout element).
 */
export function csrDecodeError(body: Record<string, unknown>): ApiError | undefined {
  const problem = decodeProblem(body);
  return problem === undefined ? undefined : new ApiError(400, 'BadRequest', `CertificateSigningRequest in version "v1" cannot be handled as a CertificateSigningRequest: ${problem}`);
}
function assertDecodable(body: Obj): void {
  const error = csrDecodeError(body);
  if (error) throw error;
}

// ------------------------------------------------------------------ normalisation (what Go's decode + encode round trip keeps)

const specFields = ['request', 'signerName', 'expirationSeconds', 'usages', 'username', 'uid', 'groups', 'extra'] as const;

function normaliseTime(v: unknown): string | undefined {
  if (typeof v !== 'string' || v === '') return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? v : kubeTime(new Date(ms));
}

function normaliseCondition(c: Obj): Obj {
  const out: Obj = { type: str(c.type), status: str(c.status) };
  if (str(c.reason) !== '') out.reason = c.reason;
  if (str(c.message) !== '') out.message = c.message;
  const updated = normaliseTime(c.lastUpdateTime);
  const transitioned = normaliseTime(c.lastTransitionTime);
  if (updated !== undefined) out.lastUpdateTime = updated;
  if (transitioned !== undefined) out.lastTransitionTime = transitioned;
  return out;
}

function normaliseStatus(status: Obj): Obj {
  const out: Obj = {};
  const conditions = list(status.conditions).filter(isObj).map(normaliseCondition);
  if (conditions.length > 0) out.conditions = conditions;
  const certificate = jsonBytes(status.certificate);
  if (certificate.length > 0) out.certificate = toBase64(certificate);
  return out;
}

// ------------------------------------------------------------------ the strategy

/**
 * R1/R2 (PrepareForCreate): status wiped to `{}`, spec.username/uid/groups/extra
 * replaced by the authenticated user's, spec reduced to the fields the v1 type has.
 * @throws ApiError 400 when Go's decoder would refuse the body (see csrDecodeError).
 */
export function prepareCsrCreate(body: Record<string, unknown>, user: CsrUser): Record<string, unknown> {
  assertDecodable(body);
  const source = spec(body);
  const next: Obj = {};
  for (const key of specFields) {
    const value = source[key];
    if (value !== undefined && value !== null) next[key] = clone(value);
  }
  if (typeof next.request === 'string') next.request = toBase64(jsonBytes(next.request));
  for (const key of ['username', 'uid', 'groups', 'extra']) delete next[key];
  if (user.name !== '') next.username = user.name;
  if (user.uid) next.uid = user.uid;
  if (user.groups.length > 0) next.groups = [...user.groups];
  if (user.extra && Object.keys(user.extra).length > 0) next.extra = Object.fromEntries(Object.entries(user.extra).map(([k, v]) => [k, [...v]]));
  return { ...clone(body), spec: next, status: {} };
}

/** R3/R4 (ValidateCertificateSigningRequestCreate) on the prepared object; every error, in Go's order. */
export function validateCsrCreate(obj: Record<string, unknown>): FieldError[] {
  return validateObject(obj, {});
}

/**
 * R5: the CertificateSubjectRestriction admission plugin (create only): a
 * kube-apiserver-client request may not ask for O=system:masters.
 */
export function admitCsrCreate(o: Record<string, unknown>): ApiError | undefined {
  const s = spec(o);
  if (str(s.signerName) !== kubeApiserverClient) return undefined;
  const metadata = obj(o.metadata);
  const name = str(metadata.name) || str(metadata.generateName) || 'Unknown';
  const deny = (message: string): ApiError =>
    forbidden(`certificatesigningrequests.${group} ${quote(name)} is forbidden: ${message}`, { name, group, kind: 'certificatesigningrequests' });
  const parsed = parseCsr(jsonBytes(s.request));
  if (typeof parsed === 'string') return deny(`failed to parse CSR: ${parsed}`);
  if (parsed.organizations.includes('system:masters')) return deny(`use of ${kubeApiserverClient} signer with system:masters group is not allowed`);
  return undefined;
}

/** The metadata an update may change on every path (the strategies do not reset metadata). */
function updatedMetadata(old: Obj, incoming: Obj): Obj {
  const metadata = clone(obj(old.metadata));
  const from = obj(incoming.metadata);
  for (const key of ['labels', 'annotations', 'finalizers', 'ownerReferences']) {
    if (from[key] === undefined || from[key] === null) delete metadata[key];
    else metadata[key] = clone(from[key]);
  }
  return metadata;
}

/** preserveConditionInstances: when the count of `type` is unchanged, the stored instances come back. */
function preserveInstances(next: Obj[], old: readonly Obj[], type: string): void {
  const oldIndexes = old.flatMap((c, i) => (c.type === type ? [i] : []));
  const newIndexes = next.flatMap((c, i) => (c.type === type ? [i] : []));
  if (oldIndexes.length !== newIndexes.length) return;
  newIndexes.forEach((n, k) => { next[n] = clone(old[oldIndexes[k] ?? 0] ?? {}); });
}

/** populateConditionTimestamps. */
function populateTimestamps(next: Obj[], old: readonly Obj[], now: string): void {
  for (const c of next) {
    c.lastUpdateTime ??= now;
    if (c.lastTransitionTime === undefined) {
      const same = old.find((o) => o.type === c.type && o.status === c.status && typeof o.lastTransitionTime === 'string' && o.lastTransitionTime !== '');
      c.lastTransitionTime = same?.lastTransitionTime ?? now;
    }
  }
}

/**
 * R6–R11: an update of the main resource, /status or /approval, as PrepareForUpdate
 * then ValidateUpdate do it. `old` is the stored object, `incoming` the client's.
 * - main: spec and status come back from `old` (changes silently discarded);
 * - status: spec from `old`; existing Approved/Denied instances restored; certificate
 *   may be set once; timestamps filled;
 * - approval: only the conditions are taken (timestamps filled); spec and certificate
 *   from `old`.
 * On every path labels, annotations, finalizers and ownerReferences come from `incoming`.
 * @throws ApiError 400 when Go's decoder would refuse `incoming` (see csrDecodeError).
 */
export function prepareCsrUpdate(old: Record<string, unknown>, incoming: Record<string, unknown>, subresource: CsrSubresource, now: Date): { object: Record<string, unknown>; errors: FieldError[] } {
  assertDecodable(incoming);
  const stamp = kubeTime(now);
  const oldStatus = obj(old.status);
  const oldConditions = list(oldStatus.conditions).filter(isObj);
  let status: Obj;
  switch (subresource) {
    case 'main':
      status = clone(oldStatus);
      break;
    case 'status': {
      const sent = normaliseStatus(obj(incoming.status));
      const conditions = list(sent.conditions).filter(isObj);
      preserveInstances(conditions, oldConditions, 'Approved');
      preserveInstances(conditions, oldConditions, 'Denied');
      populateTimestamps(conditions, oldConditions, stamp);
      status = { ...(conditions.length > 0 ? { conditions } : {}), ...(sent.certificate === undefined ? {} : { certificate: sent.certificate }) };
      break;
    }
    case 'approval': {
      const conditions = list(normaliseStatus(obj(incoming.status)).conditions).filter(isObj);
      populateTimestamps(conditions, oldConditions, stamp);
      status = clone(oldStatus);
      if (conditions.length > 0) status.conditions = conditions;
      else delete status.conditions;
      break;
    }
  }
  const object: Obj = { ...clone(old), metadata: updatedMetadata(old, incoming), spec: clone(spec(old)), status };
  return { object, errors: validateCsrUpdate(object, old, subresource) };
}

/**
 * The 400 the store's key function answers for names that cannot be a path segment
 * (after validation and admission): `Name parameter invalid: "a/b": may not contain '/'`.
 */
export function csrNameError(name: string): ApiError | undefined {
  const problems = name === '.' || name === '..' ? [`may not be '${name}'`] : ['/', '%'].filter((c) => name.includes(c)).map((c) => `may not contain '${c}'`);
  return problems.length === 0 ? undefined : new ApiError(400, 'BadRequest', `Name parameter invalid: ${quote(name)}: ${problems.join(';')}`);
}

