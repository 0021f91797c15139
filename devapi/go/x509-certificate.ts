/**
 * crypto/x509 for status.certificate: x509.ParseCertificates as parser.go reads a
 * certificate (over cryptobyte), and validation.go's validateCertificate around it,
 * reporting Go's error texts. Checked against Go's own x509 on ~12,000 mutated
 * certificates; name constraints are not checked.
 */
import { asn1StringProblem, GoError, goQuote, goQuoteBytes, latin1, Tag } from '../../src/pki/index.js';
import type { AlgorithmIdentifier } from './asn1.js';
import { Reader } from './cryptobyte.js';
import { equalBytes, pemDecode } from './encoding.js';
import { checkSubjectAltNames } from './san.js';
import { parsePublicKey, publicKeyAlgorithms } from './x509-public-key.js';

/** parser.go parseAI. */
function parseAi(r: Reader): AlgorithmIdentifier {
  const algorithm = r.oid();
  if (algorithm === undefined) throw new GoError('x509: malformed OID');
  if (r.empty) return { oid: algorithm, params: new Uint8Array(0) };
  const params = r.element();
  if (!params) throw new GoError('x509: malformed parameters');
  return { oid: algorithm, params: r.buf.subarray(params.start, params.end) };
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
      // Go 1.24's reading: BMPString surrogates pass (the PKI core refuses them, as Go 1.25 does).
      const problem = asn1StringProblem(value.tag, atv.buf.subarray(value.contentStart, value.end), false);
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

/** processExtensions: the checks of the extensions Go decodes (name constraints are not checked here); true for a basicConstraints with cA set. */
function processExtension(id: string, value: Uint8Array): boolean {
  const r = Reader.of(value);
  const fail = (m: string): never => { throw new GoError(`x509: ${m}`); };
  switch (id) {
    case '2.5.29.15': if (!r.bitString()) fail('invalid key usage'); break;
    case '2.5.29.19': {
      const seq = r.read(Tag.sequence) ?? fail('invalid basic constraints a');
      // A well-formed BOOLEAN is tag, length 1, then 0x00 or 0xff (checked by boolean()).
      const isCA = seq.peek(Tag.boolean) && seq.buf[seq.pos + 2] === 0xff;
      if (seq.peek(Tag.boolean) && !seq.boolean()) fail('invalid basic constraints b');
      if (!seq.empty && seq.peek(Tag.integer)) {
        const n = seq.integer();
        if (!n || n.length > 8) fail('invalid basic constraints c');
      }
      return isCA;
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
  return false;
}

/** What crypto/x509.Certificate says about being a CA: IsCA, and BasicConstraintsValid (the extension is present). */
export interface CaFlags {
  readonly isCA: boolean;
  readonly basicConstraintsValid: boolean;
  /** The subject Name, DER (a SEQUENCE), as RawSubject. */
  readonly subject: Uint8Array;
}

/** One certificate as parser.go parseCertificate reads it, from the front of `input`. */
function parseCertificate(input: Reader): CaFlags {
  let flags = { isCA: false, basicConstraintsValid: false };
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
  const rawSubject = tbs.buf.subarray(subject.start, subject.end);
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
        if (seen.has(id)) throw new GoError(`x509: certificate contains duplicate extension with OID ${goQuote(id)}`);
        seen.set(id, value.bytes());
      }
      for (const [id, value] of seen) {
        const isCA = processExtension(id, value);
        if (id === '2.5.29.19') flags = { isCA, basicConstraintsValid: true };
      }
    }
  }
  if (!cert.bitString()) malformed('signature');
  return { ...flags, subject: rawSubject };
}

/** x509.ParseCertificate: exactly one certificate in `der` (Go: "x509: trailing data" otherwise), or a GoError. */
export function parseCertificateDer(der: Uint8Array): CaFlags {
  const input = Reader.of(der);
  const flags = parseCertificate(input);
  if (!input.empty) throw new GoError('x509: trailing data');
  return flags;
}

/** x509.ParseCertificates: the number of certificates in `der`, or Go's error. */
function parseCertificates(der: Uint8Array): number {
  const input = Reader.of(der);
  let count = 0;
  for (; !input.empty; count++) parseCertificate(input);
  return count;
}

/** validation.go validateCertificate: Go's complaint about a status.certificate, or undefined. */
export function certificateError(pem: Uint8Array): string | undefined {
  if (pem.length === 0) return undefined;
  let data = latin1(pem);
  let blocks = 0;
  for (let d = pemDecode(data); d; d = pemDecode(data)) {
    if (d.block.type !== 'CERTIFICATE') return `only CERTIFICATE PEM blocks are allowed, found ${goQuoteBytes(Buffer.from(d.block.type, 'latin1'))}`;
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
