/**
 * No certificate leaves csr-signer unless Go's crypto/x509 would parse it: every request
 * whose bytes we would copy into a certificate Go cannot read is refused, naming the field,
 * the value and Go's reason. Each refusal is checked against devapi's port of Go's
 * x509.ParseCertificateRequest (itself checked against Go) or, where only the certificate
 * parser refuses, against its parseASN1String; each has a control that the core accepts.
 */
import { generateKeyPairSync } from 'node:crypto';
import t from 'tap';
import { isCsrSignerError } from '../../src/errors.js';
import { parseCsr } from '../../devapi/go/x509-request.js';
import { encode, encodeOid, Tag } from '../../src/pki/der.js';
import { asn1StringProblem } from '../../src/pki/go/name.js';
import { parseRequestDer } from '../../src/pki/index.js';
import {
  extensionRequest, rawExtension, rawName, rawRequest, rawRsaSpki, rawSans, text, uriSan, type RawRequest,
} from '../helpers/der-build.js';
import { toPem } from '../helpers/requests.js';

const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const san = (sans: Uint8Array): Uint8Array => extensionRequest(rawExtension('2.5.29.17', sans));
const cn = (tag: number, value: Uint8Array): Uint8Array => rawName(['2.5.4.3', tag, value]);
const org = (tag: number, value: Uint8Array): Uint8Array => rawName(['2.5.4.10', tag, value]);
const bmp = (...units: number[]): Uint8Array => Uint8Array.from(units.flatMap((u) => [u >> 8, u & 0xff]));

/** What the core does with a request: undefined when it parses, else "Reason: message". */
function coreVerdict(der: Uint8Array): string | undefined {
  try {
    parseRequestDer(der);
    return undefined;
  } catch (e) {
    if (isCsrSignerError(e) && e.permanent) return `${e.reason}: ${e.message}`;
    throw e;
  }
}
/** devapi's port of Go's ParseCertificateRequest: undefined when Go parses the request, else Go's error text. */
const goRequestVerdict = (der: Uint8Array): string | undefined => {
  const parsed = parseCsr(Buffer.from(toPem('CERTIFICATE REQUEST', der)));
  return typeof parsed === 'string' ? parsed : undefined;
};

interface Case {
  readonly name: string;
  readonly request: RawRequest;
  /** The core's refusal ("Reason: message"), or undefined when it issues. */
  readonly refused?: RegExp;
  /** Where Go refuses it: the request parser (devapi's port says so), or only a certificate holding it. */
  readonly go?: RegExp | { readonly certificate: readonly [tag: number, value: Uint8Array] };
}

const cases: readonly Case[] = [
  // ---- URI subjectAltNames: url.Parse and the host's labels (domainToReverseLabels)
  { name: 'a URI whose host has an empty label (a..b) is refused', request: { privateKey: p256, attributes: san(uriSan('https://a..b/x')) },
    refused: /^InvalidSubjectAltName: .*URI "https:\/\/a\.\.b\/x" is one Go's crypto\/x509 cannot read \(invalid domain\)/, go: /invalid domain/ },
  { name: 'a URI whose host starts with a dot is refused', request: { privateKey: p256, attributes: san(uriSan('https://.a/')) },
    refused: /^InvalidSubjectAltName: .*invalid domain/, go: /invalid domain/ },
  { name: 'a URI whose host ends with a dot is refused', request: { privateKey: p256, attributes: san(uriSan('https://a.b./')) },
    refused: /^InvalidSubjectAltName: .*invalid domain/, go: /invalid domain/ },
  { name: 'a URI with a bad %-escape in its path is refused', request: { privateKey: p256, attributes: san(uriSan('https://a/%zz')) },
    refused: /^InvalidSubjectAltName: .*"https:\/\/a\/%zz".*invalid URL escape "%zz"/, go: /invalid URL escape "%zz"/ },
  { name: 'a URI with a truncated %-escape is refused', request: { privateKey: p256, attributes: san(uriSan('spiffe://td/ns/%4')) },
    refused: /^InvalidSubjectAltName: .*invalid URL escape "%4"/, go: /invalid URL escape/ },
  { name: 'a URI with an escaped ASCII letter in its host is refused', request: { privateKey: p256, attributes: san(uriSan('https://%41.b/')) },
    refused: /^InvalidSubjectAltName: .*invalid URL escape "%41"/, go: /invalid URL escape "%41"/ },
  { name: 'a URI with a port that is not a number is refused', request: { privateKey: p256, attributes: san(uriSan('https://a.b:x/')) },
    refused: /^InvalidSubjectAltName: .*invalid port ":x" after host/, go: /invalid port/ },
  { name: 'a URI starting with a colon is refused', request: { privateKey: p256, attributes: san(uriSan(':a')) },
    refused: /^InvalidSubjectAltName: .*missing protocol scheme/, go: /missing protocol scheme/ },
  { name: 'a bad %-escape in the fragment of an opaque URI (urn:a#%zz) is refused', request: { privateKey: p256, attributes: san(uriSan('urn:a#%zz')) },
    refused: /^InvalidSubjectAltName: .*invalid URL escape/, go: /invalid URL escape/ },
  { name: 'a URI with a port, query and fragment is accepted', request: { privateKey: p256, attributes: san(uriSan('https://a.b:8443/x?y=1#z')) } },
  { name: 'a SPIFFE ID is accepted', request: { privateKey: p256, attributes: san(uriSan('spiffe://cluster.local/ns/default/sa/web')) } },
  { name: 'a URN is accepted', request: { privateKey: p256, attributes: san(uriSan('urn:uuid:0b5b6e3c-1b0e-4a6f-9a53-2c4a0f7e2f0c')) } },
  { name: 'an escaped space in a URI path is accepted', request: { privateKey: p256, attributes: san(uriSan('https://a.b/x%20y')) } },

  // ---- other subjectAltNames Go reads (already refused before, kept as the class's guard)
  { name: 'an email address with a non-ASCII byte is refused', request: { privateKey: p256, attributes: san(rawSans([1, text('\xe9@a.b')])) },
    refused: /^InvalidSubjectAltName: /, go: /SAN rfc822Name is malformed/ },
  { name: 'a DNS name with a non-ASCII byte is refused', request: { privateKey: p256, attributes: san(rawSans([2, text('\xe9.a')])) },
    refused: /^InvalidSubjectAltName: /, go: /SAN dNSName is malformed/ },
  { name: 'an IP address of 5 bytes is refused', request: { privateKey: p256, attributes: san(rawSans([7, Uint8Array.of(1, 2, 3, 4, 5)])) },
    refused: /^InvalidSubjectAltName: .*5 bytes/, go: /cannot parse IP address of length 5/ },
  { name: 'an IP address of 8 bytes (a name constraint, not an address) is refused', request: { privateKey: p256, attributes: san(rawSans([7, new Uint8Array(8)])) },
    refused: /^InvalidSubjectAltName: .*8 bytes/, go: /cannot parse IP address of length 8/ },

  // ---- subject attribute values: parser.go parseASN1String
  { name: "a PrintableString holding '_' is refused", request: { privateKey: p256, subject: cn(Tag.printableString, text('node_1')) },
    refused: /^InvalidSubject: .*attribute CN \(2\.5\.4\.3\) is a PrintableString holding "node_1".*invalid PrintableString: '_' is not a PrintableString character/,
    go: /PrintableString contains invalid character/ },
  { name: "a PrintableString holding '@' is refused", request: { privateKey: p256, subject: org(Tag.printableString, text('ops@example')) },
    refused: /^InvalidSubject: .*attribute O \(2\.5\.4\.10\) is a PrintableString holding "ops@example".*'@'/, go: /PrintableString contains invalid character/ },
  { name: "a PrintableString holding '*' and '&' (which Go tolerates) is accepted", request: { privateKey: p256, subject: cn(Tag.printableString, text('*.a & b')) } },
  { name: 'an IA5String with a non-ASCII byte is refused', request: { privateKey: p256, subject: cn(Tag.ia5String, text('caf\xe9')) },
    refused: /^InvalidSubject: .*IA5String holding "caf\\xe9".*invalid IA5String/, go: /IA5String contains invalid character/ },
  { name: 'a UTF8String that is not UTF-8 is refused', request: { privateKey: p256, subject: cn(Tag.utf8String, Uint8Array.of(0x61, 0xc3)) },
    refused: /^InvalidSubject: .*UTF8String holding "a\\xc3".*invalid UTF-8 string/, go: /invalid UTF-8/ },
  { name: 'a UniversalString is refused: Go reads the request but no certificate holding it', request: { privateKey: p256, subject: cn(Tag.universalString, Uint8Array.of(0, 0, 0, 0x61)) },
    refused: /^InvalidSubject: .*a UniversalString holding .*unsupported string type: 28/, go: { certificate: [Tag.universalString, Uint8Array.of(0, 0, 0, 0x61)] } },
  { name: 'a VisibleString is refused', request: { privateKey: p256, subject: cn(0x1a, text('a')) },
    refused: /^InvalidSubject: .*a VisibleString holding "a".*unsupported string type: 26/, go: { certificate: [0x1a, text('a')] } },
  { name: 'a GeneralString is refused', request: { privateKey: p256, subject: cn(0x1b, text('a')) },
    refused: /^InvalidSubject: .*GeneralString/, go: { certificate: [0x1b, text('a')] } },
  { name: 'an INTEGER as an attribute value is refused', request: { privateKey: p256, subject: cn(Tag.integer, Uint8Array.of(1)) },
    refused: /^InvalidSubject: .*unsupported string type: 2/, go: { certificate: [Tag.integer, Uint8Array.of(1)] } },
  { name: 'a BMPString holding a lone surrogate is refused (Go 1.25 refuses it)', request: { privateKey: p256, subject: cn(Tag.bmpString, bmp(0x61, 0xd800)) },
    refused: /^InvalidSubject: .*BMPString.*invalid BMPString/, go: { certificate: [Tag.bmpString, bmp(0x61, 0xd800)] } },
  { name: 'a BMPString holding a noncharacter is refused', request: { privateKey: p256, subject: cn(Tag.bmpString, bmp(0xfffe)) },
    refused: /^InvalidSubject: .*invalid BMPString/, go: { certificate: [Tag.bmpString, bmp(0xfffe)] } },
  { name: 'a BMPString of an odd length is refused', request: { privateKey: p256, subject: cn(Tag.bmpString, Uint8Array.of(0, 0x61, 0)) },
    refused: /^InvalidSubject: .*invalid BMPString/, go: /odd-length BMP string/ },
  { name: 'a BMPString of the Basic Multilingual Plane is accepted', request: { privateKey: p256, subject: cn(Tag.bmpString, bmp(0x63, 0x61, 0x66, 0xe9)) } },
  { name: 'a TeletexString with Latin-1 bytes is accepted (Go reads any TeletexString)', request: { privateKey: p256, subject: cn(Tag.teletexString, text('caf\xe9')) } },
  { name: 'a NumericString serialNumber of digits and spaces is accepted (Go reads it; the in-tree signer copies it)',
    request: { privateKey: p256, subject: rawName(['2.5.4.5', 0x12, text('0123 456')], ['2.5.4.3', Tag.utf8String, text('n')]) } },
  { name: 'a NumericString holding a letter is refused, as Go refuses it',
    request: { privateKey: p256, subject: rawName(['2.5.4.5', 0x12, text('12a')]) },
    refused: /^InvalidSubject: .*NumericString holding "12a".*invalid NumericString/, go: /NumericString contains invalid character/ },
  { name: 'an attribute type with an arc over 2^31-1 is refused', request: { privateKey: p256, subject: rawName([`2.5.4.${2 ** 31}`, Tag.utf8String, text('a')]) },
    refused: /^InvalidSubject: .*larger than 2\^31-1/, go: /base 128 integer too large/ },

  // ---- the public key: parsePublicKey
  { name: 'an RSA key whose AlgorithmIdentifier lacks the NULL parameters is refused', request: { privateKey: rsa, spki: rawRsaSpki(rsa) },
    refused: /^InvalidPublicKey: .*RSA key's AlgorithmIdentifier has no parameters.*missing NULL parameters/, go: /RSA key missing NULL parameters/ },
  { name: 'an RSA key whose NULL parameters have content is refused', request: { privateKey: rsa, spki: rawRsaSpki(rsa, { params: Uint8Array.of(5, 1, 0) }) },
    refused: /^InvalidPublicKey: .*parameters other than NULL/, go: /RSA key missing NULL parameters/ },
  { name: 'an RSA key with an OID as parameters is refused', request: { privateKey: rsa, spki: rawRsaSpki(rsa, { params: encodeOid('1.2.3') }) },
    refused: /^InvalidPublicKey: .*parameters other than NULL/, go: /RSA key missing NULL parameters/ },
  { name: 'an RSA modulus with a superfluous leading zero is refused', request: { privateKey: rsa, spki: rawRsaSpki(rsa, { params: encode(Tag.null), nPrefix: Uint8Array.of(0) }) },
    refused: /^InvalidPublicKey: .*RSA modulus is not a minimally encoded INTEGER/, go: /invalid RSA modulus/ },
  { name: 'an RSA exponent with a superfluous leading zero is refused', request: { privateKey: rsa, spki: rawRsaSpki(rsa, { params: encode(Tag.null), ePrefix: Uint8Array.of(0) }) },
    refused: /^InvalidPublicKey: .*RSA public exponent is not a minimally encoded INTEGER/, go: /invalid RSA public exponent/ },
  { name: 'an RSA key with NULL parameters and minimal integers is accepted', request: { privateKey: rsa, spki: rawRsaSpki(rsa, { params: encode(Tag.null) }) } },

  // ---- the request's structure: what encoding/asn1 refuses
  { name: 'a request without its attributes field is refused', request: { privateKey: p256, attributes: null },
    refused: /^MalformedRequest: .*attributes field .* is missing/, go: /sequence truncated/ },
  { name: 'an extension whose critical field is an INTEGER is refused',
    request: { privateKey: p256, attributes: extensionRequest(rawExtension('2.5.29.17', uriSan('https://a.b/'), encode(Tag.integer, Uint8Array.of(1)))) },
    refused: /^MalformedRequest: .*not a DER BOOLEAN/, go: /tags don't match/ },
  { name: 'an extension whose critical BOOLEAN is 0x01, not DER, is refused',
    request: { privateKey: p256, attributes: extensionRequest(rawExtension('1.2.3.4', Uint8Array.of(5, 0), Uint8Array.of(1, 1, 1))) },
    refused: /^MalformedRequest: .*not a DER BOOLEAN/, go: /invalid boolean/ },
  { name: 'an unknown critical extension is accepted (Go reads it; it is not copied)',
    request: { privateKey: p256, attributes: extensionRequest(rawExtension('1.2.3.4', Uint8Array.of(5, 0), Uint8Array.of(1, 1, 0xff))) } },
  { name: 'an extension requested twice is refused',
    request: { privateKey: p256, attributes: extensionRequest(rawExtension('1.2.3.4', Uint8Array.of(5, 0)), rawExtension('1.2.3.4', Uint8Array.of(5, 0))) },
    refused: /^MalformedRequest: .*requested twice/, go: /duplicate requested extensions/ },
  { name: 'an extension OID with an arc over 2^31-1 is refused',
    request: { privateKey: p256, attributes: extensionRequest(rawExtension(`1.2.${2 ** 31}`, Uint8Array.of(5, 0))) },
    refused: /^MalformedRequest: .*larger than 2\^31-1/, go: /base 128 integer too large/ },
];

void t.test('the core refuses what Go cannot read, naming the field, the value and Go\'s reason', (t) => {
  for (const c of cases) {
    const der = rawRequest(c.request);
    const verdict = coreVerdict(der);
    if (c.refused === undefined) {
      t.equal(verdict, undefined, c.name);
      if (c.go === undefined) t.equal(goRequestVerdict(der), undefined, `${c.name}: so does Go`);
      continue;
    }
    t.match(verdict ?? 'issued', c.refused, c.name);
    if (c.go instanceof RegExp) t.match(goRequestVerdict(der) ?? 'accepted', c.go, `${c.name}: Go refuses the request`);
    else if (c.go) {
      t.equal(goRequestVerdict(der), undefined, `${c.name}: Go reads the request`);
      t.ok(asn1StringProblem(...c.go.certificate), `${c.name}: but not a certificate holding it`);
    }
  }
  t.end();
});

void t.test('a colon in the first path segment of a URI without a scheme is a scheme to Go, and accepted', (t) => {
  // "a:b" parses as scheme "a", opaque "b": Go reads it, so the core does too.
  t.equal(goRequestVerdict(rawRequest({ privateKey: p256, attributes: san(uriSan('a:b')) })), undefined);
  t.end();
});

void t.test('every refusal is one line and the same for the threadpool parser', async (t) => {
  const { parseRequestDerAsync } = await import('../../src/pki/index.js');
  for (const c of cases.filter((x) => x.refused)) {
    const der = rawRequest(c.request);
    const sync = coreVerdict(der) ?? '';
    t.notMatch(sync, /\n/, `${c.name}: one line`);
    const async = await parseRequestDerAsync(der).then(() => '', (e: unknown) => (isCsrSignerError(e) ? `${e.reason}: ${e.message}` : String(e)));
    t.equal(async, sync, `${c.name}: same on the threadpool`);
  }
  t.end();
});
