/**
 * crypto/x509 for a certificate request: x509.ParseCertificateRequest and
 * CertificateRequest.CheckSignature as certificates.ParseCSR and the validation call
 * them, reporting Go's error texts.
 */
import { constants, verify } from 'node:crypto';
import { bitStringBytes, GoError, latin1, oid, structuralError, syntaxError } from '../../src/pki/index.js';
import { type AlgorithmIdentifier, algorithmIdentifier, field, type Field, type FieldSpec, int64, need, sequenceOf, subjectOrganizations, tagAndLength } from './asn1.js';
import { equalBytes, pemDecode } from './encoding.js';
import { checkSubjectAltNames } from './san.js';
import { nullBytes, parsePublicKey, publicKeyAlgorithms, type GoKeyAlgorithm, type GoPublicKey } from './x509-public-key.js';

export interface ParsedRequest {
  readonly tbs: Uint8Array;
  readonly signature: Uint8Array;
  readonly signatureAlgorithm: SignatureAlgorithm | undefined;
  readonly publicKey: GoPublicKey | undefined;
  readonly organizations: readonly string[];
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

export interface SignatureAlgorithm {
  readonly name: string;
  readonly key: GoKeyAlgorithm;
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

const goKeyType: Record<GoKeyAlgorithm, string> = { RSA: '*rsa.PublicKey', ECDSA: '*ecdsa.PublicKey', Ed25519: 'ed25519.PublicKey', DSA: '*dsa.PublicKey' };
const unsupported = 'x509: cannot verify signature: algorithm unimplemented';

/** CertificateRequest.CheckSignature (allowSHA1 = true for requests), Go 1.24 crypto/rsa key checks. */
/** The checks Go makes before verifying; undefined when the signature itself is what remains to check. */
function precheck(r: ParsedRequest): string | undefined {
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
  return undefined;
}

const failure = (r: ParsedRequest): string | undefined =>
  r.publicKey ? { RSA: 'crypto/rsa: verification error', ECDSA: 'x509: ECDSA verification failure', Ed25519: 'x509: Ed25519 verification failure', DSA: unsupported }[r.publicKey.algorithm] : unsupported;

function verifyInput(r: ParsedRequest): Parameters<typeof verify>[2] | undefined {
  const keyObject = r.publicKey?.key();
  if (!keyObject || !r.signatureAlgorithm) return undefined;
  return r.signatureAlgorithm.pss === undefined ? keyObject : { key: keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: r.signatureAlgorithm.pss };
}

/** CertificateRequest.CheckSignature: undefined when it verifies, else Go's error text. */
export function checkSignature(r: ParsedRequest): string | undefined {
  const refused = precheck(r);
  if (refused !== undefined) return refused;
  let ok = false;
  try {
    const input = verifyInput(r);
    ok = input !== undefined && verify(r.signatureAlgorithm?.hash ?? null, r.tbs, input, r.signature);
  } catch {
    ok = false;
  }
  return ok ? undefined : failure(r);
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

/** x509.ParseCertificateRequest of DER bytes (no PEM), reporting Go's error text. */
export function parseCsrDer(der: Uint8Array): ParsedRequest | string {
  try {
    return parseCertificateRequest(der);
  } catch (e) {
    if (e instanceof GoError) return e.message;
    throw e;
  }
}

/** certificates.ParseCSR: the first PEM block must be a CERTIFICATE REQUEST that Go parses. */
export function parseCsr(pem: Uint8Array): ParsedRequest | string {
  const decoded = pemDecode(latin1(pem));
  if (decoded?.block.type !== 'CERTIFICATE REQUEST') return 'PEM block type must be CERTIFICATE REQUEST';
  try {
    return parseCertificateRequest(decoded.block.bytes);
  } catch (e) {
    if (e instanceof GoError) return e.message;
    throw e;
  }
}
