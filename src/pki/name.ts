/** X.501 Name: read the attributes out of a DER Name without re-encoding it. */
import { children, content, DerError, readOid, Tag, type Tlv } from './der.js';
import { printable } from './go/asn1.js';
import { goQuoteBytes } from './go/encoding.js';
import { asn1StringProblem } from './go/name.js';
import { Oid } from './oids.js';

export interface NameAttribute {
  readonly oid: string;
  readonly value: string;
  /** The value's string type: its universal tag (0x0c UTF8String, 0x13 PrintableString, 0x14 TeletexString…). */
  readonly tag: number;
}

/** The attributes of a Name, plus the few a signer's rules look at. */
export interface DistinguishedName {
  readonly attributes: readonly NameAttribute[];
  /** The last CN, as Go keeps it; undefined when there is none. */
  readonly commonName: string | undefined;
  readonly organizations: readonly string[];
  readonly organizationalUnits: readonly string[];
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** NumericString (digits and space): Go reads it, the in-tree signer copies it. */
const numericString = 0x12;

const stringTypeNames: Record<number, string> = {
  [Tag.utf8String]: 'UTF8String', [numericString]: 'NumericString', [Tag.printableString]: 'PrintableString', [Tag.teletexString]: 'TeletexString',
  0x15: 'VideotexString', [Tag.ia5String]: 'IA5String', 0x19: 'GraphicString', 0x1a: 'VisibleString', 0x1b: 'GeneralString',
  [Tag.universalString]: 'UniversalString', [Tag.bmpString]: 'BMPString',
};
const describeType = (tag: number): string => stringTypeNames[tag] ?? `value of tag 0x${tag.toString(16)}`;
/** Read aloud: "an IA5String", "a UTF8String", "a UniversalString". */
const article = (type: string): string => (type.startsWith('IA5') ? 'an' : 'a');

/** The first byte a PrintableString may not hold, for the message. */
const notPrintable = (bytes: Uint8Array): string => {
  const bad = bytes.find((b) => !printable.test(String.fromCharCode(b))) ?? 0;
  return bad >= 0x20 && bad < 0x7f ? `'${String.fromCharCode(bad)}'` : `byte 0x${bad.toString(16).padStart(2, '0')}`;
};

/**
 * Go's certificate parser reads six string types and refuses a value it cannot read, and
 * with it the whole certificate (parser.go parseASN1String): nothing it refuses may be
 * copied into a certificate. The message names the attribute, the type and the value.
 */
function checkGoReads(buf: Uint8Array, tlv: Tlv, oid: string): void {
  const bytes = content(buf, tlv);
  const problem = asn1StringProblem(tlv.tag, bytes);
  if (problem === undefined) return;
  const attribute = shortNames[oid] === undefined ? oid : `${shortNames[oid]} (${oid})`;
  const type = describeType(tlv.tag);
  const why = tlv.tag === Tag.printableString ? `${problem}: ${notPrintable(bytes)} is not a PrintableString character` : problem;
  throw new DerError(`attribute ${attribute} is ${article(type)} ${type} holding ${goQuoteBytes(bytes)}, `
    + `which Go's crypto/x509 cannot read in a certificate (${why})`);
}

function decodeString(buf: Uint8Array, tlv: Tlv): string {
  const bytes = content(buf, tlv);
  switch (tlv.tag) {
    case Tag.utf8String:
      try {
        return utf8.decode(bytes);
      } catch {
        throw new DerError('UTF8String is not valid UTF-8');
      }
    case Tag.printableString:
    case Tag.ia5String:
      if (bytes.some((b) => b > 0x7f)) throw new DerError('PrintableString or IA5String holds non-ASCII bytes');
      return latin1.decode(bytes);
    case Tag.teletexString:
      return latin1.decode(bytes);
    case numericString: // digits and spaces, checked by checkGoReads
      return latin1.decode(bytes);
    case Tag.bmpString: {
      if (bytes.length % 2 !== 0) throw new DerError('BMPString has an odd length');
      let out = '';
      for (let i = 0; i < bytes.length; i += 2) out += String.fromCharCode(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
      return out;
    }
    default:
      throw new DerError(`attribute value has unsupported tag 0x${tlv.tag.toString(16)}`);
  }
}

/** Control characters have no place in a certificate name. */
// eslint-disable-next-line no-control-regex
const controlCharacter = /[\u0000-\u001f\u007f-\u009f]/;

/** Parses the Name TLV `name` of `buf`. Throws DerError on a malformed name. */
export function parseName(buf: Uint8Array, name: Tlv): DistinguishedName {
  if (name.tag !== Tag.sequence) throw new DerError('Name is not a SEQUENCE');
  const attributes: NameAttribute[] = [];
  for (const rdn of children(buf, name)) {
    if (rdn.tag !== Tag.set) throw new DerError('RelativeDistinguishedName is not a SET');
    const atvs = children(buf, rdn);
    if (atvs.length === 0) throw new DerError('empty RelativeDistinguishedName');
    for (const atv of atvs) {
      const [type, value, extra] = atv.tag === Tag.sequence ? children(buf, atv) : [];
      if (type === undefined || value === undefined || extra !== undefined) {
        throw new DerError('AttributeTypeAndValue is not a SEQUENCE of type and value');
      }
      const oid = readOid(buf, type, 'attribute type');
      checkGoReads(buf, value, oid);
      const text = decodeString(buf, value);
      if (controlCharacter.test(text)) {
        throw new DerError(`attribute ${oid} contains a control character`);
      }
      attributes.push({ oid, value: text, tag: value.tag });
    }
  }
  // One pass over the attributes (a request is parsed for every certificate).
  let commonName: string | undefined;
  const organizations: string[] = [];
  const organizationalUnits: string[] = [];
  for (const a of attributes) {
    if (a.oid === Oid.commonName) commonName = a.value;
    else if (a.oid === Oid.organization) organizations.push(a.value);
    else if (a.oid === Oid.organizationalUnit) organizationalUnits.push(a.value);
  }
  return { attributes, commonName, organizations, organizationalUnits };
}

const shortNames: Record<string, string> = {
  [Oid.commonName]: 'CN',
  [Oid.country]: 'C',
  [Oid.locality]: 'L',
  [Oid.province]: 'ST',
  [Oid.street]: 'STREET',
  [Oid.organization]: 'O',
  [Oid.organizationalUnit]: 'OU',
  [Oid.serialNumber]: 'SERIALNUMBER',
  [Oid.postalCode]: 'POSTALCODE',
  [Oid.emailAddress]: 'emailAddress',
};

/** A readable one-line rendering, e.g. `CN=node-1,O=system:nodes`. For messages only. */
export const formatName = (dn: DistinguishedName): string =>
  dn.attributes.map((a) => `${shortNames[a.oid] ?? a.oid}=${a.value}`).join(',');
