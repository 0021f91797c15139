/**
 * The attribute values of an X.501 Name as crypto/x509's certificate parser reads them
 * (parser.go parseName → parseASN1String), with its error texts. A certificate whose
 * subject or issuer holds a value refused here is refused whole by x509.ParseCertificate,
 * so nothing Kubernetes runs can use it.
 *
 * Stricter than the request parser (encoding/asn1 into a pkix.RDNSequence), which keeps
 * a value of an unknown type (a UniversalString, say) as nil instead of refusing it: a
 * request Go accepts can still carry a subject no certificate may copy.
 */
import { printable } from './asn1.js';
import { latin1 } from './encoding.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The universal tags of the six string types parseASN1String reads. */
export const goStringTags = { utf8: 12, numeric: 18, printable: 19, teletex: 20, ia5: 22, bmp: 30 } as const;

/**
 * A BMPString code unit Go 1.25 refuses (golang/go#71862): a surrogate (UTF-16's, not
 * UCS-2's) or a permanent noncharacter. Go 1.24 and earlier read them as UTF-16.
 */
export const isRefusedBmpUnit = (unit: number): boolean =>
  (unit >= 0xd800 && unit <= 0xdfff) || unit === 0xfffe || unit === 0xffff || (unit >= 0xfdd0 && unit <= 0xfdef);

/**
 * parseASN1String's verdict on a value with universal tag `tag` and content `value`:
 * its error text, or undefined when Go reads it. `ucs2` applies Go 1.25's BMPString
 * rule (the PKI core does, so that every Go version reads what it issues).
 */
export function asn1StringProblem(tag: number, value: Uint8Array, ucs2 = true): string | undefined {
  switch (tag) {
    case goStringTags.teletex: return undefined;
    case goStringTags.printable: return printable.test(latin1(value)) ? undefined : 'invalid PrintableString';
    case goStringTags.utf8:
      try {
        utf8.decode(value);
        return undefined;
      } catch {
        return 'invalid UTF-8 string';
      }
    case goStringTags.bmp: {
      if (value.length % 2 !== 0) return 'invalid BMPString';
      if (!ucs2) return undefined;
      // Go strips one NUL terminator before it looks at the code units.
      const end = value.length >= 2 && value[value.length - 1] === 0 && value[value.length - 2] === 0 ? value.length - 2 : value.length;
      for (let i = 0; i < end; i += 2) {
        if (isRefusedBmpUnit(((value[i] as number) << 8) | (value[i + 1] as number))) return 'invalid BMPString';
      }
      return undefined;
    }
    case goStringTags.ia5: return value.every((c) => c < 0x80) ? undefined : 'invalid IA5String';
    case goStringTags.numeric: return /^[0-9 ]*$/.test(latin1(value)) ? undefined : 'invalid NumericString';
    default: return `unsupported string type: ${tag}`;
  }
}
