/**
 * The subset of Go's encoding/asn1 (asn1.Unmarshal into the structs crypto/x509 uses for
 * a request) that a CertificateSigningRequest goes through, with asn1's error texts. The
 * readers it shares with the PKI core (base 128, OBJECT IDENTIFIER, BIT STRING, INTEGER,
 * PrintableString) come from src/pki, so both read a value the same way.
 */
import { base128, bitStringBytes, checkInteger, GoError, latin1, oid, printable, structuralError, syntaxError } from '../../src/pki/index.js';

interface TagLen { readonly cls: number; readonly tag: number; readonly length: number; readonly compound: boolean }
export interface Field { readonly content: Uint8Array; readonly full: Uint8Array; readonly next: number }
export interface FieldSpec {
  readonly name: string;
  readonly tag: number;
  readonly compound: boolean;
  readonly any?: boolean;
  readonly implicit?: number;
  readonly optional?: boolean;
  readonly set?: boolean;
}

export function tagAndLength(b: Uint8Array, start: number): [TagLen, number] {
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
export function field(b: Uint8Array, start: number, spec: FieldSpec): Field | undefined {
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
export const need = (f: Field | undefined): Field => {
  if (!f) throw syntaxError('sequence truncated');
  return f;
};

const normalisedTag = (tag: number): number => ([22, 27, 20, 12, 18, 30].includes(tag) ? 19 : tag === 24 ? 23 : tag);

/** asn1.parseSequenceOf: the full bytes of each element. */
export function sequenceOf(b: Uint8Array, element: { any?: boolean; tag: number; compound: boolean }): Uint8Array[] {
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

export function int64(b: Uint8Array): void {
  checkInteger(b);
  if (b.length > 8) throw structuralError('integer too large');
}

export interface AlgorithmIdentifier { readonly oid: string; readonly params: Uint8Array }
export function algorithmIdentifier(b: Uint8Array, start: number): [AlgorithmIdentifier, number] {
  const seq = need(field(b, start, { name: 'AlgorithmIdentifier', tag: 16, compound: true }));
  const id = need(field(seq.content, 0, { name: 'ObjectIdentifier', tag: 6, compound: false }));
  const algorithm = oid(id.content); // Go finishes each field before it reads the next
  const p = field(seq.content, id.next, { name: 'RawValue', tag: 0, compound: false, any: true, optional: true });
  return [{ oid: algorithm, params: p?.full ?? new Uint8Array(0) }, seq.next];
}

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

/**
 * pkix.RDNSequence → the subject's common name and organisation values, as
 * pkix.Name.FillFromRDNSequence keeps them: string values only, the last CN wins, every O in order.
 */
export function subjectNames(subject: Uint8Array): { commonName: string; organizations: string[] } {
  let commonName = '';
  const organizations: string[] = [];
  const rdns = need(field(subject, 0, { name: 'RDNSequence', tag: 16, compound: true }));
  for (const rdn of sequenceOf(rdns.content, { tag: 17, compound: true })) {
    const set = need(field(rdn, 0, { name: 'RelativeDistinguishedNameSET', tag: 17, compound: true }));
    for (const atv of sequenceOf(set.content, { tag: 16, compound: true })) {
      const seq = need(field(atv, 0, { name: 'AttributeTypeAndValue', tag: 16, compound: true }));
      const type = need(field(seq.content, 0, { name: 'ObjectIdentifier', tag: 6, compound: false }));
      const typeOid = oid(type.content);
      const value = anyValue(seq.content, type.next);
      if (value === undefined) continue;
      if (typeOid === '2.5.4.10') organizations.push(value);
      if (typeOid === '2.5.4.3') commonName = value;
    }
  }
  return { commonName, organizations };
}

/** pkix.RDNSequence → the subject's organisation values (FillFromRDNSequence keeps string values only). */
export const subjectOrganizations = (subject: Uint8Array): string[] => subjectNames(subject).organizations;
